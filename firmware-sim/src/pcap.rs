//! A capture of the virtual wire in classic pcap format (magic `a1b2c3d4`,
//! microsecond timestamps, link type 1 = Ethernet), stamped with virtual
//! time, for tshark and Wireshark.
//!
//! The simulator writes each frame when it arrives, as its receivers see
//! it: a lost frame is absent, a duplicate appears twice, a corrupted one
//! as corrupted (tshark flags its checksum when asked to check).
//!
//! (The host has its own writer in `host/src/pcap.rs`; both are small
//! enough that a shared crate is not yet worth it.)

use std::io::{self, BufWriter, Write};

/// Writes Ethernet frames to a pcap stream.
pub struct PcapWriter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header: version 2.4, snaplen 65535, Ethernet.
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = BufWriter::new(out);
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        header[16..20].copy_from_slice(&65535u32.to_le_bytes());
        header[20..24].copy_from_slice(&1u32.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out })
    }

    /// Appends one frame seen at `unix_micros`.
    pub fn write_frame(&mut self, unix_micros: u64, frame: &[u8]) -> io::Result<()> {
        let len = frame.len().min(65535);
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&((unix_micros / 1_000_000) as u32).to_le_bytes());
        record[4..8].copy_from_slice(&((unix_micros % 1_000_000) as u32).to_le_bytes());
        record[8..12].copy_from_slice(&(len as u32).to_le_bytes());
        record[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(&frame[..len])
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_bytes() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_frame(3_000_123, &[9, 8, 7]).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&out[20..24], &[1, 0, 0, 0]);
        assert_eq!(&out[24..28], &3u32.to_le_bytes());
        assert_eq!(&out[28..32], &123u32.to_le_bytes());
        assert_eq!(&out[32..40], &[3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&out[40..], &[9, 8, 7]);
    }
}
