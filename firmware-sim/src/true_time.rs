//! The true time of the simulated world: what the simulated SNTP server
//! says, and what time answers are checked against.

use smoltcp::time::Instant;

/// Tue Apr  4 14:07:31 2017 UTC, the time in the notes' example output.
pub const NOTES_EPOCH_UNIX_SECS: u64 = 1_491_314_851;

/// Unix time at virtual time zero; it runs with the virtual clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrueTime {
    /// Unix microseconds at virtual time zero.
    pub epoch_unix_us: u64,
}

impl Default for TrueTime {
    /// Starts at [`NOTES_EPOCH_UNIX_SECS`].
    fn default() -> Self {
        Self {
            epoch_unix_us: NOTES_EPOCH_UNIX_SECS * 1_000_000,
        }
    }
}

impl TrueTime {
    /// Unix microseconds at virtual time `now`.
    pub fn unix_micros(&self, now: Instant) -> u64 {
        self.epoch_unix_us + now.total_micros().max(0) as u64
    }

    /// Unix seconds at virtual time `now`.
    pub fn unix_secs(&self, now: Instant) -> u64 {
        self.unix_micros(now) / 1_000_000
    }
}
