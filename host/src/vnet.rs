//! The virtio-net header a TAP device opened with `IFF_VNET_HDR` puts in
//! front of every frame, and the checksum work that goes with it.
//!
//! With `TUNSETOFFLOAD` the kernel hands over TCP super-frames (up to 64 KiB,
//! `gso_type` TCPV4/TCPV6) whose TCP checksum holds only the pseudo-header
//! sum (`VIRTIO_NET_HDR_F_NEEDS_CSUM`), and it accepts the same from us: it
//! cuts our super-frames into MSS-sized segments and completes checksums
//! only where a packet really leaves the host (a local socket trusts a
//! partial checksum, so nobody sums the payload at all).
//!
//! Layout (native endianness, as tun uses unless told otherwise): flags u8,
//! gso_type u8, hdr_len u16, gso_size u16, csum_start u16, csum_offset u16.

/// Length of `struct virtio_net_hdr`, set explicitly with `TUNSETVNETHDRSZ`.
pub const HDR_LEN: usize = 10;

/// The checksum at `csum_start + csum_offset` holds only the pseudo-header sum.
pub const F_NEEDS_CSUM: u8 = 1;
/// The kernel already verified the checksum.
pub const F_DATA_VALID: u8 = 2;

pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;
pub const GSO_TCPV6: u8 = 4;
/// Flag bit of `gso_type`: the segments carry ECN CWR.
pub const GSO_ECN: u8 = 0x80;

const ETH_LEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const PROTO_TCP: u8 = 6;
#[cfg(test)]
const PROTO_UDP: u8 = 17;
/// Offset of the checksum inside a TCP header.
const TCP_CSUM_OFFSET: usize = 16;

/// A parsed `virtio_net_hdr`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    pub flags: u8,
    pub gso_type: u8,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    pub fn parse(b: &[u8]) -> Self {
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Self {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    pub fn write(&self, b: &mut [u8]) {
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
    }
}

/// One's-complement sum of `data` added to `sum`, not folded. Big-endian
/// 16-bit words; an odd last byte is padded with zero.
pub fn sum(mut sum: u64, data: &[u8]) -> u64 {
    // Four bytes at a time into a 64-bit accumulator: the carries are folded
    // once at the end instead of per word.
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        sum += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
    }
    let rest = chunks.remainder();
    let mut i = 0;
    while i + 1 < rest.len() {
        sum += u64::from(u16::from_be_bytes([rest[i], rest[i + 1]]));
        i += 2;
    }
    if i < rest.len() {
        sum += u64::from(rest[i]) << 8;
    }
    sum
}

/// Folds a sum to 16 bits (not complemented).
pub fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Where a frame's transport header is: its protocol, offset in the frame,
/// its length (header and payload), and the pseudo-header sum without the
/// length and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L4 {
    pub proto: u8,
    pub offset: usize,
    pub len: usize,
    addr_sum: u64,
    pub ipv6: bool,
}

impl L4 {
    /// The pseudo-header sum for this segment (addresses, protocol, length).
    pub fn pseudo_sum(&self) -> u64 {
        self.addr_sum + u64::from(self.proto) + self.len as u64
    }
}

/// Finds the transport header of an Ethernet frame carrying IPv4 or IPv6
/// (IPv6 extension headers hop-by-hop, routing and destination options are
/// stepped over). `None` for anything else, a fragment, or a frame shorter
/// than its headers say.
pub fn l4(frame: &[u8]) -> Option<L4> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(ETH_LEN..)?;
    match ethertype {
        ETHERTYPE_IPV4 => {
            let ihl = usize::from(*ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            // More fragments, or an offset: not a whole transport segment.
            if ihl < 20 || total < ihl || total > ip.len() || frag & 0x3fff != 0 {
                return None;
            }
            Some(L4 {
                proto: ip[9],
                offset: ETH_LEN + ihl,
                len: total - ihl,
                addr_sum: sum(0, &ip[12..20]),
                ipv6: false,
            })
        }
        ETHERTYPE_IPV6 => {
            let payload = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            if 40 + payload > ip.len() {
                return None;
            }
            let mut next = ip[6];
            let mut off = 40;
            // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
            while matches!(next, 0 | 43 | 60) {
                let len = (usize::from(*ip.get(off + 1)?) + 1) * 8;
                next = *ip.get(off)?;
                off += len;
            }
            if off > 40 + payload || next == 44 {
                return None;
            }
            Some(L4 {
                proto: next,
                offset: ETH_LEN + off,
                len: 40 + payload - off,
                addr_sum: sum(0, &ip[8..40]),
                ipv6: true,
            })
        }
        _ => None,
    }
}

/// What to do with a frame the kernel handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rx {
    /// Give it to smoltcp.
    Accept,
    /// Its TCP checksum is wrong: drop it.
    BadChecksum,
    /// The header does not fit the frame (points outside it, or claims a
    /// super-frame the frame is not): drop it, for this reason.
    Malformed(&'static str),
}

/// Splits a read from the TAP device into its virtio-net header and the
/// frame behind it; `None` if the read is shorter than the header.
pub fn split_rx(read: &mut [u8]) -> Option<(VnetHdr, &mut [u8])> {
    if read.len() < HDR_LEN {
        return None;
    }
    let (h, frame) = read.split_at_mut(HDR_LEN);
    Some((VnetHdr::parse(h), frame))
}

/// Prepares a received frame for smoltcp, which does not verify TCP
/// checksums while offload is on (see [`crate::tap`]):
///
/// - a partial checksum (`F_NEEDS_CSUM`) of TCP is left alone: the data
///   comes from this host's memory and summing 64 KiB to check it would
///   find nothing; one of another protocol (UDP) is completed, since
///   smoltcp checks those;
/// - `F_DATA_VALID`: the kernel checked it;
/// - no flag (a frame from a raw socket, say): the TCP checksum is
///   verified here.
///
/// A super-frame (`gso_type` TCPV4/TCPV6) must be a whole TCP segment of
/// that IP version with a nonzero `gso_size`, or it is [`Rx::Malformed`];
/// smoltcp takes it whole, as one segment.
pub fn accept_rx(hdr: &VnetHdr, frame: &mut [u8]) -> Rx {
    match hdr.gso_type & !GSO_ECN {
        GSO_NONE => {}
        gso @ (GSO_TCPV4 | GSO_TCPV6) => {
            let Some(l) = l4(frame) else {
                return Rx::Malformed("a super-frame without a whole IP packet");
            };
            if l.proto != PROTO_TCP || l.len < 20 || l.ipv6 != (gso == GSO_TCPV6) {
                return Rx::Malformed("a super-frame that is not TCP of its IP version");
            }
            if hdr.gso_size == 0 {
                return Rx::Malformed("a super-frame with segment size 0");
            }
        }
        _ => return Rx::Malformed("an unknown segmentation type"),
    }
    if hdr.flags & F_NEEDS_CSUM != 0 {
        let start = usize::from(hdr.csum_start);
        let at = start + usize::from(hdr.csum_offset);
        if at + 2 > frame.len() {
            return Rx::Malformed("a partial checksum outside the frame");
        }
        if l4(frame).is_some_and(|l| l.proto == PROTO_TCP && l.offset == start) {
            return Rx::Accept;
        }
        let s = sum(0, &frame[start..]);
        let c = !fold(s);
        // 0 and 0xffff are the same in one's complement; UDP reserves 0.
        let c = if c == 0 { 0xffff } else { c };
        frame[at..at + 2].copy_from_slice(&c.to_be_bytes());
        return Rx::Accept;
    }
    if hdr.flags & F_DATA_VALID != 0 {
        return Rx::Accept;
    }
    match l4(frame) {
        Some(l) if l.proto == PROTO_TCP => {
            let seg = &frame[l.offset..l.offset + l.len];
            if fold(sum(l.pseudo_sum(), seg)) == 0xffff {
                Rx::Accept
            } else {
                Rx::BadChecksum
            }
        }
        _ => Rx::Accept,
    }
}

/// Fills in the virtio-net header for a frame smoltcp wrote, and the frame's
/// TCP checksum field with the pseudo-header sum (smoltcp leaves it zero
/// while offload is on): the kernel completes it, once, where it is needed.
/// `gso_size`: smoltcp asked for segmentation into segments of this many
/// payload bytes. Returns the header; a frame that is not TCP gets none
/// (smoltcp computed its checksums).
pub fn prepare_tx(frame: &mut [u8], gso_size: Option<u16>) -> VnetHdr {
    let Some(l) = l4(frame).filter(|l| l.proto == PROTO_TCP && l.len >= 20) else {
        return VnetHdr::default();
    };
    let at = l.offset + TCP_CSUM_OFFSET;
    frame[at..at + 2].copy_from_slice(&fold(l.pseudo_sum()).to_be_bytes());
    let mut hdr = VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: GSO_NONE,
        hdr_len: 0,
        gso_size: 0,
        csum_start: l.offset as u16,
        csum_offset: TCP_CSUM_OFFSET as u16,
    };
    let tcp_hdr = usize::from(frame[l.offset + 12] >> 4) * 4;
    if let Some(size) = gso_size
        && l.len > tcp_hdr + usize::from(size)
    {
        hdr.gso_type = if l.ipv6 { GSO_TCPV6 } else { GSO_TCPV4 };
        hdr.gso_size = size;
        hdr.hdr_len = (l.offset + tcp_hdr) as u16;
    }
    hdr
}

/// Completes a partial checksum in a copy of the frame (for the capture
/// file, which should show what the wire carries).
pub fn completed(hdr: &VnetHdr, frame: &[u8]) -> Option<Vec<u8>> {
    if hdr.flags & F_NEEDS_CSUM == 0 {
        return None;
    }
    let start = usize::from(hdr.csum_start);
    let at = start + usize::from(hdr.csum_offset);
    if at + 2 > frame.len() {
        return None;
    }
    let mut copy = frame.to_vec();
    let c = !fold(sum(0, &copy[start..]));
    copy[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with IPv4 (or IPv6) and a TCP segment of `payload`,
    /// its checksum complete.
    fn tcp_frame(ipv6: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        let tcp_len = 20 + payload.len();
        if ipv6 {
            f.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            ip.extend_from_slice(&[PROTO_TCP, 64]);
            ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
            ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb9].repeat(4));
            f.extend_from_slice(&ip);
        } else {
            f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
            ip.extend_from_slice(&[0, 1, 0x40, 0, 64, PROTO_TCP, 0, 0]);
            ip.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
            f.extend_from_slice(&ip);
        }
        let mut tcp = vec![0u8; 20];
        tcp[0..4].copy_from_slice(&[0x30, 0x39, 0xc0, 0x00]);
        tcp[12] = 5 << 4;
        tcp[13] = 0x18;
        tcp.extend_from_slice(payload);
        f.extend_from_slice(&tcp);
        let l = l4(&f).unwrap();
        let c = !fold(sum(l.pseudo_sum(), &f[l.offset..]));
        f[l.offset + 16..l.offset + 18].copy_from_slice(&c.to_be_bytes());
        f
    }

    #[test]
    fn sum_matches_rfc1071_example() {
        // RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(0, &data)), 0xddf2);
        assert_eq!(
            fold(sum(0, &data[..7])),
            fold(sum(0, &[0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0]))
        );
    }

    #[test]
    fn header_round_trips() {
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            hdr_len: 54,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        let mut b = [0u8; HDR_LEN];
        h.write(&mut b);
        assert_eq!(VnetHdr::parse(&b), h);
    }

    #[test]
    fn tx_partial_checksum_completes_to_the_real_one() {
        for ipv6 in [false, true] {
            let payload: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
            let good = tcp_frame(ipv6, &payload);
            let mut f = good.clone();
            let l = l4(&f).unwrap();
            // What smoltcp writes with TCP checksums off.
            f[l.offset + 16..l.offset + 18].copy_from_slice(&[0, 0]);
            let h = prepare_tx(&mut f, Some(1000));
            assert_eq!(h.flags, F_NEEDS_CSUM);
            assert_eq!(h.gso_type, if ipv6 { GSO_TCPV6 } else { GSO_TCPV4 });
            assert_eq!((h.gso_size, usize::from(h.hdr_len)), (1000, l.offset + 20));
            assert_eq!(usize::from(h.csum_start), l.offset);
            // What the kernel does: sum from csum_start, store the complement.
            assert_eq!(completed(&h, &f).unwrap(), good, "ipv6 {ipv6}");
        }
    }

    #[test]
    fn small_segment_is_not_gso() {
        let mut f = tcp_frame(false, b"hello");
        let h = prepare_tx(&mut f, Some(1460));
        assert_eq!((h.flags, h.gso_type), (F_NEEDS_CSUM, GSO_NONE));
        let h = prepare_tx(&mut f, None);
        assert_eq!(h.gso_type, GSO_NONE);
    }

    #[test]
    fn rx_verifies_unflagged_tcp_and_trusts_partial() {
        let good = tcp_frame(false, b"payload bytes");
        let none = VnetHdr::default();
        assert_eq!(accept_rx(&none, &mut good.clone()), Rx::Accept);
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(accept_rx(&none, &mut bad.clone()), Rx::BadChecksum);
        let valid = VnetHdr {
            flags: F_DATA_VALID,
            ..none
        };
        assert_eq!(accept_rx(&valid, &mut bad.clone()), Rx::Accept);
        let l = l4(&good).unwrap();
        let partial = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: l.offset as u16,
            csum_offset: 16,
            ..none
        };
        assert_eq!(accept_rx(&partial, &mut bad), Rx::Accept);
        let out_of_range = VnetHdr {
            csum_start: 60000,
            ..partial
        };
        assert!(matches!(
            accept_rx(&out_of_range, &mut good.clone()),
            Rx::Malformed(_)
        ));
    }

    #[test]
    fn rx_completes_partial_udp() {
        // A UDP datagram whose checksum holds the pseudo-header sum.
        let mut f = tcp_frame(false, b"datagram");
        f[14 + 9] = PROTO_UDP;
        let l = l4(&f).unwrap();
        let udp_len = (l.len as u16).to_be_bytes();
        f[l.offset + 4..l.offset + 6].copy_from_slice(&udp_len);
        let pseudo = fold(l.pseudo_sum());
        f[l.offset + 6..l.offset + 8].copy_from_slice(&pseudo.to_be_bytes());
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: l.offset as u16,
            csum_offset: 6,
            ..VnetHdr::default()
        };
        assert_eq!(accept_rx(&h, &mut f), Rx::Accept);
        assert_eq!(fold(sum(l.pseudo_sum(), &f[l.offset..])), 0xffff);
    }

    #[test]
    fn fragments_and_short_frames_have_no_l4() {
        let mut f = tcp_frame(false, b"x");
        f[14 + 6] = 0x20; // more fragments
        assert!(l4(&f).is_none());
        assert!(l4(&f[..20]).is_none());
        assert!(l4(&[]).is_none());
    }

    #[test]
    fn short_reads_have_no_header() {
        assert!(split_rx(&mut []).is_none());
        assert!(split_rx(&mut [0; HDR_LEN - 1]).is_none());
        let mut read = [0u8; HDR_LEN];
        let (h, frame) = split_rx(&mut read).unwrap();
        assert_eq!(h, VnetHdr::default());
        assert!(frame.is_empty());
        // An empty frame behind a header that claims a partial checksum.
        let mut read = [0u8; HDR_LEN];
        read[0] = F_NEEDS_CSUM;
        let (h, frame) = split_rx(&mut read).unwrap();
        assert!(matches!(accept_rx(&h, frame), Rx::Malformed(_)));
    }

    #[test]
    fn partial_checksum_bounds() {
        let good = tcp_frame(false, b"0123456789");
        let n = good.len() as u16;
        let base = VnetHdr {
            flags: F_NEEDS_CSUM,
            ..VnetHdr::default()
        };
        // The checksum's two bytes must lie inside the frame: the last
        // position that fits, one past it, and sums that would overflow u16.
        for (start, offset, ok) in [
            (n - 2, 0, true),
            (n - 1, 0, false),
            (n, 0, false),
            (0, n - 1, false),
            (u16::MAX, u16::MAX, false),
            (34, u16::MAX, false),
        ] {
            let h = VnetHdr {
                csum_start: start,
                csum_offset: offset,
                ..base
            };
            let r = accept_rx(&h, &mut good.clone());
            assert_eq!(r == Rx::Accept, ok, "start {start} offset {offset}: {r:?}");
        }
    }

    #[test]
    fn bogus_super_frames_are_malformed() {
        let payload = vec![0x5a; 4000];
        let v4 = tcp_frame(false, &payload);
        let v6 = tcp_frame(true, &payload);
        let gso = |gso_type, gso_size| VnetHdr {
            gso_type,
            gso_size,
            hdr_len: 54,
            ..VnetHdr::default()
        };
        // Sane ones pass (ECN flag included).
        assert_eq!(
            accept_rx(&gso(GSO_TCPV4, 1448), &mut v4.clone()),
            Rx::Accept
        );
        assert_eq!(
            accept_rx(&gso(GSO_TCPV4 | GSO_ECN, 1448), &mut v4.clone()),
            Rx::Accept
        );
        assert_eq!(
            accept_rx(&gso(GSO_TCPV6, 1428), &mut v6.clone()),
            Rx::Accept
        );
        let bad = |h: VnetHdr, f: &[u8]| matches!(accept_rx(&h, &mut f.to_vec()), Rx::Malformed(_));
        // Wrong IP version for the type, zero segment size, unknown type.
        assert!(bad(gso(GSO_TCPV6, 1448), &v4));
        assert!(bad(gso(GSO_TCPV4, 1448), &v6));
        assert!(bad(gso(GSO_TCPV4, 0), &v4));
        assert!(bad(gso(3, 1448), &v4)); // GSO_UDP: never asked for
        assert!(bad(gso(5, 1448), &v4)); // UDP_L4: never asked for
        // The IP length claims more than the read holds (truncated super-frame).
        assert!(bad(gso(GSO_TCPV4, 1448), &v4[..v4.len() - 1]));
        assert!(bad(gso(GSO_TCPV6, 1428), &v6[..v6.len() - 100]));
        // IPv4 length field larger than 64 KiB cannot be; an IPv6 payload
        // length of 0xffff behind a short frame.
        let mut huge6 = v6.clone();
        huge6[14 + 4..14 + 6].copy_from_slice(&[0xff, 0xff]);
        assert!(bad(gso(GSO_TCPV6, 1428), &huge6));
        // A header-length byte below 20 (IHL 4), or above the total length.
        let mut ihl = v4.clone();
        ihl[14] = 0x44;
        assert!(bad(gso(GSO_TCPV4, 1448), &ihl));
        let mut ihl = v4.clone();
        ihl[14] = 0x4f;
        ihl[14 + 2..14 + 4].copy_from_slice(&40u16.to_be_bytes());
        assert!(bad(gso(GSO_TCPV4, 1448), &ihl));
        // Not TCP.
        let mut udp = v4.clone();
        udp[14 + 9] = PROTO_UDP;
        assert!(bad(gso(GSO_TCPV4, 1448), &udp));
        // Only headers, cut anywhere: never a panic.
        for cut in 0..80 {
            for h in [
                gso(GSO_TCPV4, 1448),
                gso(GSO_TCPV6, 1428),
                VnetHdr::default(),
            ] {
                let _ = accept_rx(&h, &mut v4[..cut.min(v4.len())].to_vec());
                let _ = accept_rx(&h, &mut v6[..cut.min(v6.len())].to_vec());
            }
        }
    }

    #[test]
    fn ipv6_extension_headers_past_the_end_are_no_l4() {
        let mut f = tcp_frame(true, b"abc");
        // Next header hop-by-hop, and its length byte says 255 * 8 bytes.
        f[14 + 6] = 0;
        f[14 + 40 + 1] = 255;
        assert!(l4(&f).is_none());
        // A hop-by-hop header chain that ends exactly at the frame's end.
        f[14 + 40 + 1] = 0;
        f[14 + 40] = 59; // no next header
        let l = l4(&f).unwrap();
        assert_eq!(l.len, f.len() - l.offset);
    }

    #[test]
    fn prepare_tx_leaves_non_tcp_and_short_frames_alone() {
        let mut udp = tcp_frame(false, b"x");
        udp[14 + 9] = PROTO_UDP;
        let before = udp.clone();
        assert_eq!(prepare_tx(&mut udp, Some(100)), VnetHdr::default());
        assert_eq!(udp, before);
        // Every cut short of the whole 54-byte frame (whose IP length then
        // says more than there is).
        for cut in 0..54 {
            let mut f = tcp_frame(false, b"")[..cut].to_vec();
            assert_eq!(prepare_tx(&mut f, Some(100)), VnetHdr::default());
        }
    }
}
