//! The C/Python `ctime` text layout, always in UTC:
//! `Tue Apr  4 14:07:31 2017` (24 bytes, the day padded with a space).
//!
//! Dates use Howard Hinnant's `civil_from_days` / `days_from_civil`
//! algorithms (proleptic Gregorian calendar, no leap seconds).

use core::fmt;

/// Length of a `ctime` text without a line ending.
pub const CTIME_LEN: usize = 24;

/// The last second `ctime` can write: 9999-12-31 23:59:59 UTC.
const MAX_UNIX_SECS: u64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;

/// Indexed by weekday, 0 = Sunday.
const WEEKDAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];

/// Indexed by month - 1.
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Why a time cannot be written or read as `ctime` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtimeError {
    /// The year is outside 1970..=9999 (the four-digit layout and Unix time).
    YearOutOfRange,
    /// The text is not in the 24-byte `ctime` layout.
    Malformed,
}

impl fmt::Display for CtimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::YearOutOfRange => "the year is outside the range 1970 to 9999",
            Self::Malformed => "the text is not a ctime date like \"Tue Apr  4 14:07:31 2017\"",
        })
    }
}

/// A date and time read from `ctime` text, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctime {
    /// Year, 1970..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=60 (60 is a leap second).
    pub second: u8,
    /// Day of the week as written, 0 = Sunday (not checked against the date).
    pub weekday: u8,
}

impl Ctime {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    ///
    /// A leap second (`:60`) counts as the first second of the next minute,
    /// as POSIX time does. Fields out of their documented ranges (only
    /// possible when the struct is built by hand) give an unspecified value,
    /// never a panic; dates before 1970 give 0.
    pub fn to_unix(&self) -> u64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let secs = days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        u64::try_from(secs).unwrap_or(0)
    }
}

/// Writes `unix_secs` as `ctime` text, e.g. `Tue Apr  4 14:07:31 2017`.
///
/// Years past 9999 do not fit the layout: `Err(CtimeError::YearOutOfRange)`.
pub fn format(unix_secs: u64, out: &mut [u8; CTIME_LEN]) -> Result<(), CtimeError> {
    if unix_secs > MAX_UNIX_SECS {
        return Err(CtimeError::YearOutOfRange);
    }
    let days = unix_secs / SECS_PER_DAY;
    let rem = unix_secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[((days + 4) % 7) as usize];
    let month = MONTHS[((month + 11) % 12) as usize];
    let (hour, minute, second) = (rem / 3_600, rem / 60 % 60, rem % 60);
    let day_tens = if day < 10 { b' ' } else { digit(day / 10) };
    *out = [
        weekday[0],
        weekday[1],
        weekday[2],
        b' ',
        month[0],
        month[1],
        month[2],
        b' ',
        day_tens,
        digit(day),
        b' ',
        digit(hour / 10),
        digit(hour),
        b':',
        digit(minute / 10),
        digit(minute),
        b':',
        digit(second / 10),
        digit(second),
        b' ',
        digit(year / 1_000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
    ];
    Ok(())
}

/// [`format`] followed by `\r\n`, as the time and daytime servers send it.
pub fn format_line(unix_secs: u64, out: &mut [u8; CTIME_LEN + 2]) -> Result<(), CtimeError> {
    let mut text = [0u8; CTIME_LEN];
    format(unix_secs, &mut text)?;
    for (o, b) in out.iter_mut().zip(text.iter().chain(b"\r\n")) {
        *o = *b;
    }
    Ok(())
}

/// Reads `ctime` text: exactly the 24-byte layout, optionally followed by
/// `\r\n` or `\n`.
///
/// Names are case-sensitive, a day below 10 must be space-padded (` 4`, not
/// `04`), and the day must exist in that month. The weekday is returned as
/// written, not checked against the date. Years before 1970 are
/// `Err(CtimeError::YearOutOfRange)` since [`Ctime::to_unix`] cannot express
/// them.
pub fn parse(text: &[u8]) -> Result<Ctime, CtimeError> {
    let body = text
        .strip_suffix(b"\r\n")
        .or_else(|| text.strip_suffix(b"\n"))
        .unwrap_or(text);
    let t: &[u8; CTIME_LEN] = body.try_into().map_err(|_| CtimeError::Malformed)?;
    let [
        w0,
        w1,
        w2,
        b' ',
        m0,
        m1,
        m2,
        b' ',
        d0,
        d1,
        b' ',
        h0,
        h1,
        b':',
        n0,
        n1,
        b':',
        s0,
        s1,
        b' ',
        y0,
        y1,
        y2,
        y3,
    ] = *t
    else {
        return Err(CtimeError::Malformed);
    };
    let weekday = name_index(&WEEKDAYS, [w0, w1, w2])?;
    let month = name_index(&MONTHS, [m0, m1, m2])? + 1;
    let day = match d0 {
        b' ' => match num(&[d1])? {
            0 => return Err(CtimeError::Malformed),
            d => d,
        },
        _ => match num(&[d0, d1])? {
            d if d < 10 => return Err(CtimeError::Malformed),
            d => d,
        },
    };
    let hour = num(&[h0, h1])?;
    let minute = num(&[n0, n1])?;
    let second = num(&[s0, s1])?;
    let year = num(&[y0, y1, y2, y3])?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(CtimeError::Malformed);
    }
    if year < 1970 {
        return Err(CtimeError::YearOutOfRange);
    }
    if day > days_in_month(year, month) {
        return Err(CtimeError::Malformed);
    }
    // All values were range-checked above, so the narrowing cannot fail.
    let narrow = |v: u32| u8::try_from(v).map_err(|_| CtimeError::Malformed);
    Ok(Ctime {
        year: u16::try_from(year).map_err(|_| CtimeError::Malformed)?,
        month: narrow(month)?,
        day: narrow(day)?,
        hour: narrow(hour)?,
        minute: narrow(minute)?,
        second: narrow(second)?,
        weekday: narrow(weekday)?,
    })
}

/// ASCII digit of `v % 10`.
fn digit(v: u64) -> u8 {
    // `v % 10` is below 10, so the cast is exact.
    b'0' + (v % 10) as u8
}

/// Decimal value of all-digit `bytes` (at most 4 here, so no overflow).
fn num(bytes: &[u8]) -> Result<u32, CtimeError> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u32::from(b - b'0'))
        } else {
            Err(CtimeError::Malformed)
        }
    })
}

fn name_index<const N: usize>(names: &[&[u8; 3]; N], name: [u8; 3]) -> Result<u32, CtimeError> {
    names
        .iter()
        .position(|n| **n == name)
        .and_then(|i| u32::try_from(i).ok())
        .ok_or(CtimeError::Malformed)
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month 1..=12, day 1..=31) of days since 1970-01-01 (Hinnant).
/// Unsigned is enough: only dates from 1970 on are formatted.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date (Hinnant). Signed and Euclidean so
/// that any `u16`/`u8` inputs stay in range without panicking.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(secs: u64) -> [u8; CTIME_LEN] {
        let mut out = [0u8; CTIME_LEN];
        format(secs, &mut out).unwrap();
        out
    }

    /// Zeller's congruence, independent of the code under test; 0 = Sunday.
    fn zeller(year: u32, month: u32, day: u32) -> u32 {
        let (y, m) = if month < 3 {
            (year - 1, month + 12)
        } else {
            (year, month)
        };
        let (k, j) = (y % 100, y / 100);
        let h = (day + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7; // 0 = Saturday
        (h + 6) % 7
    }

    /// Unix seconds of a date by counting days, independent of Hinnant.
    fn unix_of(year: u32, month: u32, day: u32) -> u64 {
        let mut days = 0u64;
        for y in 1970..year {
            days += if is_leap(y) { 366 } else { 365 };
        }
        for m in 1..month {
            days += u64::from(days_in_month(year, m));
        }
        (days + u64::from(day) - 1) * 86_400
    }

    #[test]
    fn known_values() {
        assert_eq!(&text_of(0), b"Thu Jan  1 00:00:00 1970");
        assert_eq!(&text_of(1_491_314_851), b"Tue Apr  4 14:07:31 2017");
        assert_eq!(&text_of(951_782_400), b"Tue Feb 29 00:00:00 2000");
        assert_eq!(&text_of(253_402_300_799), b"Fri Dec 31 23:59:59 9999");
        let mut out = [0u8; CTIME_LEN];
        assert_eq!(
            format(253_402_300_800, &mut out),
            Err(CtimeError::YearOutOfRange)
        );
        assert_eq!(format(u64::MAX, &mut out), Err(CtimeError::YearOutOfRange));
    }

    #[test]
    fn format_line_appends_crlf() {
        let mut out = [0u8; CTIME_LEN + 2];
        format_line(1_491_314_851, &mut out).unwrap();
        assert_eq!(&out, b"Tue Apr  4 14:07:31 2017\r\n");
        assert_eq!(
            format_line(u64::MAX, &mut out),
            Err(CtimeError::YearOutOfRange)
        );
    }

    #[test]
    fn every_month_of_2023() {
        for month in 1..=12u32 {
            for day in [1u32, 15] {
                let text = text_of(unix_of(2023, month, day));
                assert_eq!(&text[0..3], WEEKDAYS[zeller(2023, month, day) as usize]);
                assert_eq!(&text[4..7], MONTHS[month as usize - 1]);
                let want_day: &[u8] = if day == 1 { b" 1" } else { b"15" };
                assert_eq!(&text[8..10], want_day);
                assert_eq!(&text[11..], b"00:00:00 2023");
            }
        }
    }

    #[test]
    fn every_weekday() {
        // 2024-01-07 was a Sunday.
        let names = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
        for (i, name) in names.iter().enumerate() {
            let day = 7 + i as u32;
            assert_eq!(zeller(2024, 1, day), i as u32);
            let text = text_of(unix_of(2024, 1, day) + 12 * 3_600);
            assert_eq!(&text[0..3], *name);
            assert_eq!(parse(&text).unwrap().weekday, i as u8);
        }
    }

    #[test]
    fn every_day_of_january_2024() {
        for day in 1..=31u32 {
            let text = text_of(unix_of(2024, 1, day));
            let d = day as u8;
            if day < 10 {
                assert_eq!(text[8], b' ');
                assert_eq!(text[9], b'0' + d);
            } else {
                assert_eq!(text[8], b'0' + d / 10);
                assert_eq!(text[9], b'0' + d % 10);
            }
            assert_eq!(&text[0..3], WEEKDAYS[zeller(2024, 1, day) as usize]);
            assert_eq!(parse(&text).unwrap().day, d);
        }
    }

    #[test]
    fn round_trip() {
        let end = unix_of(2100, 1, 1);
        let mut secs = 0u64;
        while secs < end {
            let text = text_of(secs);
            let parsed = parse(&text).unwrap();
            assert_eq!(parsed.to_unix(), secs, "{:?}", core::str::from_utf8(&text));
            secs += 86_399 * 7 + 13;
        }
        for secs in [MAX_UNIX_SECS, MAX_UNIX_SECS - 86_400 * 366, 4_107_542_400] {
            assert_eq!(parse(&text_of(secs)).unwrap().to_unix(), secs);
        }
    }

    #[test]
    fn parse_fields_and_line_endings() {
        let want = Ctime {
            year: 2017,
            month: 4,
            day: 4,
            hour: 14,
            minute: 7,
            second: 31,
            weekday: 2,
        };
        assert_eq!(parse(b"Tue Apr  4 14:07:31 2017"), Ok(want));
        assert_eq!(parse(b"Tue Apr  4 14:07:31 2017\r\n"), Ok(want));
        assert_eq!(parse(b"Tue Apr  4 14:07:31 2017\n"), Ok(want));
        // Leap second: accepted, counts as the next minute's first second.
        let leap = parse(b"Sat Dec 31 23:59:60 2016").unwrap();
        assert_eq!(leap.second, 60);
        assert_eq!(leap.to_unix(), 1_483_228_800);
        // The weekday is not checked against the date.
        assert_eq!(parse(b"Mon Apr  4 14:07:31 2017").unwrap().weekday, 1);
    }

    #[test]
    fn parse_rejections() {
        let bad: &[&[u8]] = &[
            b"",
            b"\r\n",
            b"hello\r\n",
            b"Tue Apr  4 14:07:31 201",
            b"Tue Apr  4 14:07:31 20177",
            b"Tue Apr  4 14:07:31 2017 ",
            b" Tue Apr  4 14:07:31 2017",
            b"Tue Apr  4 14:07:31 2017\r",
            b"Tue Apr  4 14:07:31 2017\n\r",
            b"Tue Apr  4 14:07:31 2017\r\n\r\n",
            b"Tue Apr  4 14:07:31 2017\n\n",
            b"tue Apr  4 14:07:31 2017",
            b"Tue apr  4 14:07:31 2017",
            b"TUE APR  4 14:07:31 2017",
            b"Tus Apr  4 14:07:31 2017",
            b"Tue Apx  4 14:07:31 2017",
            b"Tue Apr 04 14:07:31 2017",
            b"Tue Apr 4  14:07:31 2017",
            b"Tue Apr  0 14:07:31 2017",
            b"Tue Apr 00 14:07:31 2017",
            b"Tue Apr 32 14:07:31 2017",
            b"Tue Apr 31 14:07:31 2017",
            b"Tue Feb 29 14:07:31 2017",
            b"Tue Feb 29 14:07:31 1900",
            b"Tue Apr  4 24:07:31 2017",
            b"Tue Apr  4 14:60:31 2017",
            b"Tue Apr  4 14:07:61 2017",
            b"Tue Apr  4 14-07-31 2017",
            b"Tue Apr  4 1a:07:31 2017",
            b"Tue Apr  4 14:07:31 20x7",
            b"Tue Apr  4 14:07:31 -017",
            b"Tue\tApr  4 14:07:31 2017",
            b"Tue Apr \x004 14:07:31 2017",
            b"Tue Apr  4 14:07:31 2017\xff",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{:?}", text);
        }
        assert_eq!(
            parse(b"Thu Jan  1 00:00:00 1969"),
            Err(CtimeError::YearOutOfRange)
        );
        assert_eq!(
            parse(b"Tue Apr 04 14:07:31 2017"),
            Err(CtimeError::Malformed)
        );
        assert_eq!(parse(b"Tue Feb 29 00:00:00 2000").unwrap().day, 29);
    }

    #[test]
    fn parse_survives_every_single_byte_change() {
        let good = *b"Tue Apr  4 14:07:31 2017\r\n";
        for i in 0..good.len() {
            for b in 0..=255u8 {
                let mut text = good;
                text[i] = b;
                for len in [i, i + 1, text.len()] {
                    if let Ok(t) = parse(&text[..len]) {
                        assert!((1970..=9999).contains(&t.year));
                        assert!(t.second <= 60 && t.hour <= 23 && t.minute <= 59);
                        let _ = t.to_unix();
                    }
                }
            }
        }
    }

    #[test]
    fn to_unix_never_panics_on_hand_built_values() {
        for (year, month, day) in [(0, 0, 0), (u16::MAX, u8::MAX, u8::MAX), (1969, 12, 31)] {
            let t = Ctime {
                year,
                month,
                day,
                hour: u8::MAX,
                minute: u8::MAX,
                second: u8::MAX,
                weekday: u8::MAX,
            };
            let _ = t.to_unix();
        }
        let before = Ctime {
            year: 1969,
            month: 12,
            day: 31,
            hour: 0,
            minute: 0,
            second: 0,
            weekday: 3,
        };
        assert_eq!(before.to_unix(), 0);
    }

    #[test]
    fn display_is_a_sentence() {
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
        for e in [CtimeError::YearOutOfRange, CtimeError::Malformed] {
            let mut buf = Buf([0; 128], 0);
            fmt::write(&mut buf, format_args!("{e}")).unwrap();
            assert!(buf.1 > 10);
        }
    }
}
