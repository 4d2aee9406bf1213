//! RFC 868 time protocol: the time as a 32-bit big-endian count of seconds
//! since 1900-01-01 00:00:00 UTC.
//!
//! 32 bits run out on 2036-02-07 06:28:16 UTC, when the count wraps to 0.
//! This module reads values that would fall before 1970 as the next era
//! (2036-02-07 up to 2106), so it works until 2106.

use core::fmt;

/// Seconds from 1900-01-01 to 1970-01-01 (RFC 868: 2,208,988,800 is
/// 1970-01-01 00:00:00 GMT).
pub const UNIX_TO_1900_OFFSET: u64 = 2_208_988_800;

/// One RFC 868 era: 2^32 seconds.
const ERA: u64 = 1 << 32;

/// Why bytes are not an RFC 868 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfc868Error {
    /// Not exactly four bytes.
    WrongLength,
}

impl fmt::Display for Rfc868Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength => f.write_str("an RFC 868 time must be exactly 4 bytes"),
        }
    }
}

/// The four bytes RFC 868 sends for `unix_secs`.
///
/// Wraps modulo 2^32 like RFC 868 time itself: from 2036-02-07 06:28:16
/// UTC the count restarts at 0 (era 1), which [`decode`] undoes.
pub fn encode(unix_secs: u64) -> [u8; 4] {
    // 2^64 is a multiple of 2^32, so wrapping in u64 then truncating is exact.
    (unix_secs.wrapping_add(UNIX_TO_1900_OFFSET) as u32).to_be_bytes()
}

/// Unix seconds from the four bytes of an RFC 868 reply.
///
/// A value below [`UNIX_TO_1900_OFFSET`] (before 1970 in era 0) is taken
/// as era 1, i.e. 2^32 seconds later (2036-02-07 06:28:16 UTC or after):
/// no server today sends a pre-1970 time, so this keeps decoding right
/// until 2106.
pub fn decode(bytes: &[u8]) -> Result<u64, Rfc868Error> {
    let bytes: [u8; 4] = bytes.try_into().map_err(|_| Rfc868Error::WrongLength)?;
    let value = u64::from(u32::from_be_bytes(bytes));
    Ok(if value >= UNIX_TO_1900_OFFSET {
        value - UNIX_TO_1900_OFFSET
    } else {
        value + ERA - UNIX_TO_1900_OFFSET
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix time of 2036-02-07 06:28:16 UTC, where era 1 starts.
    const ERA1_UNIX: u64 = ERA - UNIX_TO_1900_OFFSET;

    #[test]
    fn rfc_examples() {
        // RFC 868: 2,208,988,800 = 1970-01-01; 2,398,291,200 = 1976-01-01.
        assert_eq!(encode(0), 2_208_988_800u32.to_be_bytes());
        assert_eq!(decode(&2_208_988_800u32.to_be_bytes()), Ok(0));
        assert_eq!(decode(&2_398_291_200u32.to_be_bytes()), Ok(189_302_400));
        assert_eq!(encode(189_302_400), 2_398_291_200u32.to_be_bytes());
        // 0 (1900-01-01 in era 0) is read as the start of era 1.
        assert_eq!(decode(&[0, 0, 0, 0]), Ok(ERA1_UNIX));
        assert_eq!(ERA1_UNIX, 2_085_978_496);
        // RFC 868: 2,524,521,600 = 1980-01-01; 2,629,584,000 = 1983-05-01.
        assert_eq!(decode(&2_524_521_600u32.to_be_bytes()), Ok(315_532_800));
        assert_eq!(decode(&2_629_584_000u32.to_be_bytes()), Ok(420_595_200));
        // 2017-04-04 14:07:31.
        assert_eq!(encode(1_491_314_851), [0xdc, 0x8e, 0x27, 0x23]);
    }

    #[test]
    fn round_trip() {
        let mut secs = 0u64;
        while secs < ERA1_UNIX + ERA - UNIX_TO_1900_OFFSET {
            assert_eq!(decode(&encode(secs)), Ok(secs));
            secs += 9_999_991;
        }
        for secs in [0, 1, ERA1_UNIX - 1, ERA1_UNIX, ERA1_UNIX + 1, ERA - 1] {
            assert_eq!(decode(&encode(secs)), Ok(secs));
        }
    }

    #[test]
    fn wrong_lengths() {
        for len in [0usize, 1, 3, 5, 8] {
            let bytes = [0u8; 8];
            assert_eq!(decode(&bytes[..len]), Err(Rfc868Error::WrongLength));
        }
    }

    #[test]
    fn era_rollover() {
        assert_eq!(encode(ERA1_UNIX - 1), [0xff, 0xff, 0xff, 0xff]);
        assert_eq!(encode(ERA1_UNIX), [0, 0, 0, 0]);
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff]), Ok(ERA1_UNIX - 1));
        assert_eq!(decode(&[0, 0, 0, 1]), Ok(ERA1_UNIX + 1));
        // The last era-1 value is the second before 1970 + 2^32 s (2106).
        let last = (UNIX_TO_1900_OFFSET as u32 - 1).to_be_bytes();
        assert_eq!(decode(&last), Ok(ERA - 1));
        // Encoding wraps rather than panicking for any input.
        assert_eq!(
            encode(u64::MAX),
            (u64::MAX.wrapping_add(UNIX_TO_1900_OFFSET) as u32).to_be_bytes()
        );
        assert_eq!(encode(ERA), encode(0));
    }
}
