//! A writer for classic libpcap capture files (the `.pcap` format that
//! tcpdump, tshark and Wireshark read).
//!
//! The file is written little-endian with the microsecond magic
//! `0xa1b2c3d4`, version 2.4, snaplen 65535 and link type 1 (Ethernet).
//!
//! Output goes through an internal [`BufWriter`] and is flushed after every
//! record, so a capture of a process that is killed is readable up to the
//! last complete frame. Each frame therefore costs one `write(2)` (record
//! header and frame data are coalesced in the buffer).

use std::io::{self, BufWriter, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Magic number of a microsecond-resolution pcap file.
pub const PCAP_MAGIC: u32 = 0xa1b2_c3d4;
/// Largest number of bytes of one frame stored in the file.
pub const SNAPLEN: u32 = 65535;
/// Link-layer header type: Ethernet (`LINKTYPE_ETHERNET`).
pub const LINKTYPE_ETHERNET: u32 = 1;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// Writes Ethernet frames to a classic pcap stream.
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (magic `0xa1b2c3d4`, microsecond timestamps,
    /// version 2.4, snaplen 65535, link type 1 = Ethernet) and flushes it.
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(RECORD_HEADER_LEN + SNAPLEN as usize, out);
        let mut header = [0u8; GLOBAL_HEADER_LEN];
        header[0..4].copy_from_slice(&PCAP_MAGIC.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
        header[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
        // thiszone (i32) = 0 and sigfigs (u32) = 0: bytes 8..16 stay zero.
        header[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        out.flush()?;
        Ok(Self { out })
    }

    /// Appends one record stamped with the current wall-clock time
    /// ([`SystemTime::now`], seconds and microseconds since the Unix epoch),
    /// then flushes. The stored length is `min(frame.len(), 65535)`, the
    /// original length is `frame.len()`.
    pub fn write_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        self.write_frame_at(since_epoch, frame)
    }

    /// Like [`write_frame`](Self::write_frame) with an explicit timestamp,
    /// given as the time since the Unix epoch (seconds are truncated to 32
    /// bits as the format requires, microseconds are rounded down).
    pub fn write_frame_at(&mut self, since_epoch: Duration, frame: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let cap_len = orig_len.min(SNAPLEN);
        let mut header = [0u8; RECORD_HEADER_LEN];
        header[0..4].copy_from_slice(&(since_epoch.as_secs() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&since_epoch.subsec_micros().to_le_bytes());
        header[8..12].copy_from_slice(&cap_len.to_le_bytes());
        header[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(&frame[..cap_len as usize])?;
        self.flush()
    }

    /// Flushes buffered records to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    #[cfg(test)]
    pub fn into_inner(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, // magic, little-endian
        0x02, 0x00, 0x04, 0x00, // version 2.4
        0x00, 0x00, 0x00, 0x00, // thiszone
        0x00, 0x00, 0x00, 0x00, // sigfigs
        0xff, 0xff, 0x00, 0x00, // snaplen 65535
        0x01, 0x00, 0x00, 0x00, // linktype 1 (Ethernet)
    ];

    #[test]
    fn global_header_bytes() {
        let w = PcapWriter::new(Vec::new()).unwrap();
        assert_eq!(w.into_inner().unwrap(), HEADER);
    }

    #[test]
    fn record_bytes() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let frame = [0xaa, 0xbb, 0xcc, 0xdd, 0xee];
        w.write_frame_at(Duration::new(0x0102_0304, 123_456_789), &frame)
            .unwrap();
        let out = w.into_inner().unwrap();
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[0x04, 0x03, 0x02, 0x01]); // ts_sec
        expected.extend_from_slice(&123_456u32.to_le_bytes()); // ts_usec
        expected.extend_from_slice(&[5, 0, 0, 0]); // incl_len
        expected.extend_from_slice(&[5, 0, 0, 0]); // orig_len
        expected.extend_from_slice(&frame);
        assert_eq!(out, expected);
    }

    #[test]
    fn records_are_flushed_without_drop() {
        // The writer flushes after each record: the bytes reach the inner
        // writer even though the PcapWriter is still alive.
        let mut sink = Vec::new();
        {
            let mut w = PcapWriter::new(&mut sink).unwrap();
            w.write_frame(&[1, 2, 3]).unwrap();
            assert_eq!(w.out.get_ref().len(), 24 + 16 + 3);
            std::mem::forget(w); // no Drop, no final flush
        }
        assert_eq!(sink.len(), 24 + 16 + 3);
        assert_eq!(&sink[24 + 8..24 + 16], &[3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&sink[24 + 16..], &[1, 2, 3]);
    }

    #[test]
    fn snaplen_truncation() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let frame: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        w.write_frame_at(Duration::from_secs(7), &frame).unwrap();
        let out = w.into_inner().unwrap();
        assert_eq!(out.len(), 24 + 16 + 65535);
        let rec = &out[24..40];
        assert_eq!(&rec[0..4], &7u32.to_le_bytes());
        assert_eq!(&rec[4..8], &0u32.to_le_bytes());
        assert_eq!(&rec[8..12], &65535u32.to_le_bytes());
        assert_eq!(&rec[12..16], &70_000u32.to_le_bytes());
        assert_eq!(&out[40..], &frame[..65535]);
    }

    #[test]
    fn timestamp_is_current_time() {
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_frame(&[0; 60]).unwrap();
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let out = w.into_inner().unwrap();
        let secs = u64::from(u32::from_le_bytes(out[24..28].try_into().unwrap()));
        let usecs = u32::from_le_bytes(out[28..32].try_into().unwrap());
        assert!(before <= secs && secs <= after);
        assert!(usecs < 1_000_000);
    }
}
