//! The wall clock: Unix time on top of the runtime's monotonic [`Instant`].
//!
//! A board has no real-time clock, so wall time is unknown until something
//! sets it (the SNTP client, or the host from its OS clock). Services that
//! need it ask [`WallClock::unix_micros`] and get `None` until then.

use core::cell::Cell;
use smoltcp::time::Instant;

/// Unix time as an offset from the monotonic clock. RAM: 24 bytes.
///
/// Interior mutability ([`Cell`]) lets the SNTP client set it while the time
/// servers hold shared references, without locks or unsafe code.
#[derive(Debug, Default)]
pub struct WallClock {
    /// Unix microseconds minus monotonic microseconds, once set.
    offset_us: Cell<Option<i64>>,
    /// When it was last set, on the monotonic clock.
    set_at: Cell<Option<Instant>>,
}

impl WallClock {
    /// A clock that is not set.
    pub const fn new() -> Self {
        Self {
            offset_us: Cell::new(None),
            set_at: Cell::new(None),
        }
    }

    /// Sets the clock: at monotonic time `now` it is `unix_us` microseconds
    /// past the Unix epoch.
    pub fn set_unix_micros(&self, unix_us: u64, now: Instant) {
        let unix = i64::try_from(unix_us).unwrap_or(i64::MAX);
        self.offset_us
            .set(Some(unix.saturating_sub(now.total_micros())));
        self.set_at.set(Some(now));
    }

    /// Unix microseconds at monotonic time `now`, or `None` if never set
    /// (or `now` lies before the epoch by that offset).
    pub fn unix_micros(&self, now: Instant) -> Option<u64> {
        let offset = self.offset_us.get()?;
        u64::try_from(now.total_micros().checked_add(offset)?).ok()
    }

    /// Unix seconds at `now`, or `None` if never set.
    pub fn unix_secs(&self, now: Instant) -> Option<u64> {
        self.unix_micros(now).map(|us| us / 1_000_000)
    }

    /// Whether the clock has been set.
    pub fn is_set(&self) -> bool {
        self.offset_us.get().is_some()
    }

    /// When the clock was last set (monotonic), if ever.
    pub fn set_at(&self) -> Option<Instant> {
        self.set_at.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_until_set_then_follows_monotonic_time() {
        let c = WallClock::new();
        assert_eq!(c.unix_secs(Instant::from_secs(5)), None);
        c.set_unix_micros(1_491_314_851_000_000, Instant::from_secs(5));
        assert!(c.is_set());
        assert_eq!(c.unix_secs(Instant::from_secs(5)), Some(1_491_314_851));
        assert_eq!(c.unix_secs(Instant::from_secs(65)), Some(1_491_314_911));
        assert_eq!(c.set_at(), Some(Instant::from_secs(5)));
    }
}
