//! SNTPv4 (RFC 4330) client side: the 48-byte request, reply validation and
//! the clock arithmetic. No sockets here; see
//! [`sntp_client`](super::sntp_client) for the service.
//!
//! NTP timestamps are 64 bits: seconds since 1900-01-01 00:00 UTC and a
//! 32-bit binary fraction of a second. The seconds wrap on 2036-02-07
//! 06:28:16 UTC; RFC 4330 section 3 tells the eras apart by the top bit.

use core::fmt::{self, Write as _};

use super::rfc868::UNIX_TO_1900_OFFSET;

/// Length of an SNTP packet without extension fields or authenticator.
pub const PACKET_LEN: usize = 48;
/// The NTP/SNTP UDP port.
pub const NTP_PORT: u16 = 123;

/// One NTP era: 2^32 seconds.
const ERA: u64 = 1 << 32;
const MICROS: u64 = 1_000_000;

/// Byte offsets of the packet fields this module reads or writes.
const REFERENCE_ID: usize = 12;
const ORIGINATE: usize = 24;
const RECEIVE: usize = 32;
const TRANSMIT: usize = 40;

/// Client request first byte: LI = 0, VN = 4, Mode = 3 (client).
const REQUEST_HEADER: u8 = 0x23;
const MODE_SERVER: u8 = 4;
const LEAP_ALARM: u8 = 3;
const MAX_STRATUM: u8 = 15;

/// A 64-bit NTP timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NtpTimestamp {
    /// Seconds since 1900-01-01 00:00 UTC, modulo 2^32.
    pub seconds: u32,
    /// Fraction of a second in units of 2^-32 s.
    pub fraction: u32,
}

impl NtpTimestamp {
    /// The timestamp of `micros` microseconds since 1970-01-01 UTC, the
    /// fraction rounded to the nearest unit.
    ///
    /// Seconds wrap modulo 2^32 like NTP time itself (era 1 from 2036-02-07).
    pub fn from_unix_micros(micros: u64) -> Self {
        let secs = micros / MICROS;
        let us = micros % MICROS;
        // Wrapping in u64 then truncating is exact modulo 2^32.
        let seconds = secs.wrapping_add(UNIX_TO_1900_OFFSET) as u32;
        // us < 10^6, so us << 32 < 2^52 and the rounded quotient < 2^32.
        let fraction = (((us << 32) + MICROS / 2) / MICROS) as u32;
        Self { seconds, fraction }
    }

    /// Microseconds since 1970-01-01 UTC, the fraction rounded to the
    /// nearest microsecond.
    ///
    /// `None` for the zero timestamp (NTP's "unknown") and for era-0 times
    /// before 1970. As in RFC 4330 section 3: if the top bit of `seconds` is
    /// set the time is in era 0 (1968..2036, counted from 1900); if clear,
    /// in era 1 (2036..2104, counted from 2036-02-07 06:28:16 UTC).
    pub fn to_unix_micros(&self) -> Option<u64> {
        if self.is_zero() {
            return None;
        }
        let seconds = u64::from(self.seconds);
        let unix_secs = if self.seconds & 0x8000_0000 != 0 {
            seconds.checked_sub(UNIX_TO_1900_OFFSET)?
        } else {
            seconds + ERA - UNIX_TO_1900_OFFSET
        };
        // Rounding may give 10^6 µs; adding it to the seconds carries it.
        let us = (u64::from(self.fraction) * MICROS + (1 << 31)) >> 32;
        // unix_secs < 2^33, so neither step can overflow.
        Some(unix_secs * MICROS + us)
    }

    /// Whether both halves are zero (NTP's "time unknown").
    pub fn is_zero(&self) -> bool {
        self.seconds == 0 && self.fraction == 0
    }

    /// The 8 big-endian bytes as sent on the wire.
    pub fn to_bytes(&self) -> [u8; 8] {
        let [s0, s1, s2, s3] = self.seconds.to_be_bytes();
        let [f0, f1, f2, f3] = self.fraction.to_be_bytes();
        [s0, s1, s2, s3, f0, f1, f2, f3]
    }

    /// Reads the 8 big-endian bytes of the wire format.
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        let [s0, s1, s2, s3, f0, f1, f2, f3] = bytes;
        Self {
            seconds: u32::from_be_bytes([s0, s1, s2, s3]),
            fraction: u32::from_be_bytes([f0, f1, f2, f3]),
        }
    }
}

/// A server reply that passed [`parse_reply`]'s checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// Leap indicator, 0..=2 (3, unsynchronised, is rejected).
    pub leap: u8,
    /// Version, 3 or 4.
    pub version: u8,
    /// Stratum, 1..=15.
    pub stratum: u8,
    /// T1 as the server echoed it: equal to the request's transmit time.
    pub originate: NtpTimestamp,
    /// T2: when the server received the request (server clock).
    pub receive: NtpTimestamp,
    /// T3: when the server sent the reply (server clock).
    pub transmit: NtpTimestamp,
}

/// Why a packet is not an acceptable reply to our request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SntpError {
    /// Shorter than [`PACKET_LEN`].
    TooShort,
    /// Mode is not 4 (server); the mode found.
    WrongMode(u8),
    /// Version is not 3 or 4; the version found.
    BadVersion(u8),
    /// Leap indicator 3: the server's clock is not synchronised.
    Unsynchronized,
    /// Stratum 0: a kiss-o'-death; the four-character code (e.g. `RATE`,
    /// `DENY`) from the reference id.
    KissOfDeath([u8; 4]),
    /// Stratum above 15; the stratum found.
    BadStratum(u8),
    /// The originate timestamp does not echo our transmit timestamp: a
    /// stale, duplicate or spoofed reply.
    WrongOrigin,
    /// The server's transmit timestamp is zero.
    ZeroTransmit,
    /// The server's receive timestamp is zero.
    ZeroReceive,
    /// A valid reply whose time is more than a second off the clock, not
    /// (yet) confirmed by a second reply: the clock is left alone. The
    /// offset from the clock, whole seconds (positive: the server is ahead).
    Disagrees {
        /// The reply's offset from the clock, truncated to seconds.
        offset_secs: i64,
    },
}

impl fmt::Display for SntpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => write!(f, "the packet is shorter than {PACKET_LEN} bytes"),
            Self::WrongMode(mode) => write!(f, "the packet has mode {mode}, not 4 (server)"),
            Self::BadVersion(v) => write!(f, "the packet has version {v}, not 3 or 4"),
            Self::Unsynchronized => f.write_str("the server's clock is not synchronised"),
            Self::KissOfDeath(code) => {
                f.write_str("the server sent a kiss-o'-death (")?;
                for &b in code {
                    // The code comes off the wire: show only printable ASCII.
                    let c = if b.is_ascii_graphic() {
                        char::from(b)
                    } else {
                        '?'
                    };
                    f.write_char(c)?;
                }
                // What the client does about it (see `Kiss`), so that the
                // one event every runtime prints says it.
                f.write_str(match Kiss::from_code(*code) {
                    Kiss::Rate => "): asking it less often",
                    Kiss::Deny => "): no longer asking it",
                    Kiss::Other => ")",
                })
            }
            Self::BadStratum(s) => write!(f, "the server has stratum {s}, above 15"),
            Self::WrongOrigin => {
                f.write_str("the reply does not echo our request's transmit timestamp")
            }
            Self::ZeroTransmit => f.write_str("the reply's transmit timestamp is zero"),
            Self::ZeroReceive => f.write_str("the reply's receive timestamp is zero"),
            Self::Disagrees { offset_secs } => write!(
                f,
                "its time is {offset_secs} s off the clock; waiting for a second reply to agree"
            ),
        }
    }
}

/// What a kiss-o'-death asks of the client (RFC 5905 section 7.4, RFC 4330
/// section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kiss {
    /// `RATE`: poll less often.
    Rate,
    /// `DENY` or `RSTR`: access refused; stop using this server.
    Deny,
    /// Any other code: informational; the reply is simply not used.
    Other,
}

impl Kiss {
    /// The meaning of a reference-id kiss code.
    pub fn from_code(code: [u8; 4]) -> Self {
        match &code {
            b"RATE" => Self::Rate,
            b"DENY" | b"RSTR" => Self::Deny,
            _ => Self::Other,
        }
    }
}

/// Writes a client request: LI = 0, VN = 4, Mode = 3, every other field
/// zero except the transmit timestamp, which the server echoes back as the
/// originate timestamp.
pub fn encode_request(transmit: NtpTimestamp, out: &mut [u8; PACKET_LEN]) {
    *out = [0; PACKET_LEN];
    out[0] = REQUEST_HEADER;
    for (o, b) in out.iter_mut().skip(TRANSMIT).zip(transmit.to_bytes()) {
        *o = b;
    }
}

/// Checks that `packet` is a usable server reply to the request whose
/// transmit timestamp was `sent`.
///
/// Checks, in order: length (bytes past [`PACKET_LEN`], i.e. extension
/// fields or an authenticator, are ignored), mode 4, version 3 or 4,
/// originate equal to `sent`, stratum not 0 (kiss-o'-death, whatever the
/// leap indicator), leap indicator not 3, stratum at most 15, then non-zero
/// transmit and receive timestamps.
pub fn parse_reply(packet: &[u8], sent: NtpTimestamp) -> Result<Reply, SntpError> {
    let Some(p) = packet.first_chunk::<PACKET_LEN>() else {
        return Err(SntpError::TooShort);
    };
    let [header, stratum, ..] = *p;
    let leap = header >> 6;
    let version = (header >> 3) & 0b111;
    let mode = header & 0b111;
    if mode != MODE_SERVER {
        return Err(SntpError::WrongMode(mode));
    }
    if !matches!(version, 3 | 4) {
        return Err(SntpError::BadVersion(version));
    }
    // The origin check comes before anything is believed, the kiss code
    // included: a kiss-o'-death stops or slows the client, so only one that
    // echoes our (random) transmit time may do it.
    let originate = NtpTimestamp::from_bytes(bytes_at(p, ORIGINATE));
    if originate != sent {
        return Err(SntpError::WrongOrigin);
    }
    // Before the leap check: servers send kisses with LI 3 (ntpd does).
    if stratum == 0 {
        return Err(SntpError::KissOfDeath(bytes_at(p, REFERENCE_ID)));
    }
    if leap == LEAP_ALARM {
        return Err(SntpError::Unsynchronized);
    }
    if stratum > MAX_STRATUM {
        return Err(SntpError::BadStratum(stratum));
    }
    let receive = NtpTimestamp::from_bytes(bytes_at(p, RECEIVE));
    let transmit = NtpTimestamp::from_bytes(bytes_at(p, TRANSMIT));
    if transmit.is_zero() {
        return Err(SntpError::ZeroTransmit);
    }
    if receive.is_zero() {
        return Err(SntpError::ZeroReceive);
    }
    Ok(Reply {
        leap,
        version,
        stratum,
        originate,
        receive,
        transmit,
    })
}

/// The local clock's offset from the server's, in microseconds (positive:
/// the local clock is behind), per RFC 4330 section 5:
/// `((T2 - T1) + (T3 - T4)) / 2`.
///
/// `t1_sent_unix_us` and `t4_received_unix_us` are the local times the
/// request left and the reply arrived. `None` if a timestamp does not
/// convert or the arithmetic overflows.
pub fn clock_offset_micros(
    reply: &Reply,
    t1_sent_unix_us: u64,
    t4_received_unix_us: u64,
) -> Option<i64> {
    let t1 = i64::try_from(t1_sent_unix_us).ok()?;
    let t2 = i64::try_from(reply.receive.to_unix_micros()?).ok()?;
    let t3 = i64::try_from(reply.transmit.to_unix_micros()?).ok()?;
    let t4 = i64::try_from(t4_received_unix_us).ok()?;
    let sum = t2.checked_sub(t1)?.checked_add(t3.checked_sub(t4)?)?;
    Some(sum / 2)
}

/// The server's time now, in microseconds since 1970: its transmit time
/// plus half the round trip, for a client that has no clock yet. `None` if
/// the transmit time does not convert or the sum overflows.
pub fn server_time_micros(reply: &Reply, rtt_us: u64) -> Option<u64> {
    reply.transmit.to_unix_micros()?.checked_add(rtt_us / 2)
}

/// `N` bytes of `p` from `at`; bytes past the end stay zero (the callers'
/// offsets are constants inside the packet, so that never happens).
fn bytes_at<const N: usize>(p: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(p.iter().skip(at)) {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2017-04-04 14:07:31.25 UTC.
    const SENT: NtpTimestamp = NtpTimestamp {
        seconds: 3_700_303_651,
        fraction: 0x4000_0000,
    };

    fn stamp(unix_us: u64) -> NtpTimestamp {
        NtpTimestamp::from_unix_micros(unix_us)
    }

    fn packet(
        header: u8,
        stratum: u8,
        reference: [u8; 4],
        originate: NtpTimestamp,
        receive: NtpTimestamp,
        transmit: NtpTimestamp,
    ) -> [u8; PACKET_LEN] {
        let mut p = [0u8; PACKET_LEN];
        p[0] = header;
        p[1] = stratum;
        p[2] = 6; // poll
        p[3] = 0xec; // precision
        p[12..16].copy_from_slice(&reference);
        p[16..24].copy_from_slice(&stamp(1_491_314_000_000_000).to_bytes());
        p[24..32].copy_from_slice(&originate.to_bytes());
        p[32..40].copy_from_slice(&receive.to_bytes());
        p[40..48].copy_from_slice(&transmit.to_bytes());
        p
    }

    /// LI 0, VN 4, mode 4, stratum 2, times 100 ms after SENT.
    fn good() -> [u8; PACKET_LEN] {
        let t2 = stamp(1_491_314_851_350_000);
        let t3 = stamp(1_491_314_851_350_100);
        packet(0x24, 2, *b"GPS\0", SENT, t2, t3)
    }

    #[test]
    fn request_encoding() {
        let mut out = [0xaau8; PACKET_LEN];
        encode_request(SENT, &mut out);
        assert_eq!(out[0], 0x23);
        assert_eq!(&out[40..48], &SENT.to_bytes());
        assert_eq!(&out[40..48], &[0xdc, 0x8e, 0x27, 0x23, 0x40, 0, 0, 0]);
        assert!(out[1..40].iter().all(|&b| b == 0));
    }

    #[test]
    fn good_reply_parses() {
        let reply = parse_reply(&good(), SENT).unwrap();
        assert_eq!(reply.leap, 0);
        assert_eq!(reply.version, 4);
        assert_eq!(reply.stratum, 2);
        assert_eq!(reply.originate, SENT);
        assert_eq!(reply.receive, stamp(1_491_314_851_350_000));
        assert_eq!(reply.transmit, stamp(1_491_314_851_350_100));
        // Version 3, leap 1 and 2, stratum 15 and trailing bytes are fine.
        let mut p = good();
        p[0] = 0x5c; // LI 1, VN 3, mode 4
        p[1] = 15;
        assert_eq!(parse_reply(&p, SENT).unwrap().version, 3);
        p[0] = 0xa4; // LI 2, VN 4, mode 4
        assert_eq!(parse_reply(&p, SENT).unwrap().leap, 2);
        let mut long = [0u8; PACKET_LEN + 20];
        long[..PACKET_LEN].copy_from_slice(&good());
        assert_eq!(parse_reply(&long, SENT), Ok(reply));
    }

    #[test]
    fn rejections() {
        let good = good();
        let with = |f: &dyn Fn(&mut [u8; PACKET_LEN])| {
            let mut p = good;
            f(&mut p);
            parse_reply(&p, SENT)
        };
        assert_eq!(parse_reply(&[], SENT), Err(SntpError::TooShort));
        assert_eq!(parse_reply(&good[..47], SENT), Err(SntpError::TooShort));
        assert_eq!(with(&|p| p[0] = 0x23), Err(SntpError::WrongMode(3)));
        assert_eq!(with(&|p| p[0] = 0x25), Err(SntpError::WrongMode(5)));
        assert_eq!(with(&|p| p[0] = 0x14), Err(SntpError::BadVersion(2)));
        assert_eq!(with(&|p| p[0] = 0x2c), Err(SntpError::BadVersion(5)));
        assert_eq!(with(&|p| p[0] = 0xe4), Err(SntpError::Unsynchronized));
        assert_eq!(
            with(&|p| {
                p[1] = 0;
                p[12..16].copy_from_slice(b"RATE");
            }),
            Err(SntpError::KissOfDeath(*b"RATE"))
        );
        assert_eq!(with(&|p| p[1] = 16), Err(SntpError::BadStratum(16)));
        assert_eq!(with(&|p| p[1] = 255), Err(SntpError::BadStratum(255)));
        assert_eq!(with(&|p| p[31] ^= 1), Err(SntpError::WrongOrigin));
        assert_eq!(
            parse_reply(&good, stamp(1_491_314_851_250_001)),
            Err(SntpError::WrongOrigin)
        );
        assert_eq!(with(&|p| p[40..48].fill(0)), Err(SntpError::ZeroTransmit));
        assert_eq!(with(&|p| p[32..40].fill(0)), Err(SntpError::ZeroReceive));
    }

    #[test]
    fn kiss_of_death() {
        let kiss = |header: u8, code: &[u8; 4], origin: NtpTimestamp| {
            let zero = NtpTimestamp {
                seconds: 0,
                fraction: 0,
            };
            parse_reply(&packet(header, 0, *code, origin, zero, zero), SENT)
        };
        // ntpd sends its kisses with LI 3 and zero timestamps: still a kiss.
        assert_eq!(
            kiss(0xe4, b"DENY", SENT),
            Err(SntpError::KissOfDeath(*b"DENY"))
        );
        assert_eq!(
            kiss(0x24, b"RSTR", SENT),
            Err(SntpError::KissOfDeath(*b"RSTR"))
        );
        // One that does not echo our transmit time is not believed.
        let other = stamp(1_491_314_851_250_001);
        assert_eq!(kiss(0xe4, b"DENY", other), Err(SntpError::WrongOrigin));
        assert_eq!(Kiss::from_code(*b"RATE"), Kiss::Rate);
        assert_eq!(Kiss::from_code(*b"DENY"), Kiss::Deny);
        assert_eq!(Kiss::from_code(*b"RSTR"), Kiss::Deny);
        assert_eq!(Kiss::from_code(*b"INIT"), Kiss::Other);
        assert_eq!(Kiss::from_code(*b"rate"), Kiss::Other);
    }

    #[test]
    fn timestamp_conversions() {
        let epoch = stamp(0);
        assert_eq!(
            epoch,
            NtpTimestamp {
                seconds: 2_208_988_800,
                fraction: 0
            }
        );
        assert_eq!(epoch.to_unix_micros(), Some(0));
        assert_eq!(stamp(500_000).fraction, 0x8000_0000);
        let half = NtpTimestamp {
            seconds: 2_208_988_800,
            fraction: 0x8000_0000,
        };
        assert_eq!(half.to_unix_micros(), Some(500_000));
        // Era 1: 2040-01-01 00:00 UTC is 2_208_988_800 s after 1970.
        let y2040 = NtpTimestamp {
            seconds: 123_010_304,
            fraction: 0,
        };
        assert_eq!(stamp(2_208_988_800 * MICROS), y2040);
        assert_eq!(y2040.to_unix_micros(), Some(2_208_988_800 * MICROS));
        // The era boundary, 2036-02-07 06:28:16 UTC.
        let era1 = (ERA - UNIX_TO_1900_OFFSET) * MICROS;
        assert_eq!(stamp(era1 - 1).seconds, u32::MAX);
        assert_eq!(stamp(era1 - 1).to_unix_micros(), Some(era1 - 1));
        assert_eq!(stamp(era1 + 1).seconds, 0);
        assert_eq!(stamp(era1 + 1).to_unix_micros(), Some(era1 + 1));
        // Zero is "unknown"; era-0 times before 1970 are not representable.
        assert!(stamp(era1).is_zero());
        assert_eq!(stamp(era1).to_unix_micros(), None);
        let y1969 = NtpTimestamp {
            seconds: 2_208_988_799,
            fraction: 0,
        };
        assert_eq!(y1969.to_unix_micros(), None);
        // The largest fraction rounds up into the next second.
        let top = NtpTimestamp {
            seconds: 2_208_988_800,
            fraction: u32::MAX,
        };
        assert_eq!(top.to_unix_micros(), Some(MICROS));
        // Bytes round trip.
        assert_eq!(NtpTimestamp::from_bytes(SENT.to_bytes()), SENT);
        // Micros round trip exactly across both eras.
        let mut us = 1u64;
        while us < 4_000_000_000 * MICROS {
            assert_eq!(stamp(us).to_unix_micros(), Some(us), "{us}");
            us = us * 3 + 7_919;
        }
    }

    #[test]
    fn offset_worked_example() {
        // Server clock 2.5 s ahead, 20 ms each way, 1 ms in the server.
        let t1 = 1_700_000_000_000_000u64;
        let t2 = t1 + 20_000 + 2_500_000;
        let t3 = t2 + 1_000;
        let t4 = t1 + 41_000;
        let reply = Reply {
            leap: 0,
            version: 4,
            stratum: 1,
            originate: stamp(t1),
            receive: stamp(t2),
            transmit: stamp(t3),
        };
        assert_eq!(clock_offset_micros(&reply, t1, t4), Some(2_500_000));
        // A local clock ahead gives a negative offset.
        assert_eq!(
            clock_offset_micros(&reply, t1 + 3_000_000, t4 + 3_000_000),
            Some(-500_000)
        );
        assert_eq!(clock_offset_micros(&reply, u64::MAX, t4), None);
        let unknown = Reply {
            receive: NtpTimestamp {
                seconds: 0,
                fraction: 0,
            },
            ..reply
        };
        assert_eq!(clock_offset_micros(&unknown, t1, t4), None);
        // No clock: transmit time plus half the 41 ms round trip.
        assert_eq!(server_time_micros(&reply, 41_000), Some(t3 + 20_500));
        // rtt / 2 < 2^63 and transmit < 2^53: the sum always fits.
        assert_eq!(
            server_time_micros(&reply, u64::MAX),
            Some(t3 + u64::MAX / 2)
        );
        let no_transmit = Reply {
            transmit: unknown.receive,
            ..reply
        };
        assert_eq!(server_time_micros(&no_transmit, 41_000), None);
    }

    #[test]
    fn display_kiss_code() {
        struct Buf([u8; 128], usize);
        impl fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.1 + s.len();
                self.0
                    .get_mut(self.1..end)
                    .ok_or(fmt::Error)?
                    .copy_from_slice(s.as_bytes());
                self.1 = end;
                Ok(())
            }
        }
        let text = |e: SntpError| {
            let mut buf = Buf([0; 128], 0);
            write!(buf, "{e}").unwrap();
            buf
        };
        let t = text(SntpError::KissOfDeath(*b"RA\0E"));
        assert_eq!(&t.0[..t.1], b"the server sent a kiss-o'-death (RA?E)");
        let t = text(SntpError::KissOfDeath(*b"RATE"));
        assert_eq!(
            &t.0[..t.1],
            b"the server sent a kiss-o'-death (RATE): asking it less often"
        );
        let t = text(SntpError::KissOfDeath(*b"RSTR"));
        assert_eq!(
            &t.0[..t.1],
            b"the server sent a kiss-o'-death (RSTR): no longer asking it"
        );
    }

    #[test]
    fn no_panic_on_arbitrary_input() {
        let mut pattern = [0u8; 60];
        for (i, b) in pattern.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0x24;
        }
        for len in 0..=pattern.len() {
            let _ = parse_reply(&pattern[..len], SENT);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..500 {
            let mut p = [0u8; PACKET_LEN];
            for chunk in p.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            // Half the time, make it pass the header checks to reach the rest.
            if next() & 1 == 0 {
                p[0] = 0x24;
                p[1] = 1;
                p[24..32].copy_from_slice(&SENT.to_bytes());
            }
            if let Ok(reply) = parse_reply(&p, SENT) {
                let _ = clock_offset_micros(&reply, next(), next());
                let _ = server_time_micros(&reply, next());
            }
            let ts = NtpTimestamp::from_bytes(p[40..48].try_into().unwrap());
            let _ = ts.to_unix_micros();
            let _ = NtpTimestamp::from_unix_micros(next()).to_unix_micros();
        }
    }
}
