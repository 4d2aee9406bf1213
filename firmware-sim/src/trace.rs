//! The trace hash: SHA-256 over every delivered frame with its delivery
//! time and destination. Two runs with one seed print the same hash, byte
//! for byte, or the simulator is not deterministic.

use sha2::{Digest, Sha256};
use smoltcp::time::Instant;

use crate::wire::Dest;

/// A running hash of the deliveries.
#[derive(Clone, Default)]
pub struct Trace {
    hasher: Sha256,
    frames: u64,
    bytes: u64,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one delivery: time (µs), destination, length and bytes.
    pub fn record(&mut self, at: Instant, to: Dest, frame: &[u8]) {
        let (tag, node) = match to {
            Dest::One(n) => (0u8, n),
            Dest::AllBut(n) => (1u8, n),
        };
        self.hasher.update(at.total_micros().to_le_bytes());
        self.hasher.update([tag]);
        self.hasher.update((node as u64).to_le_bytes());
        self.hasher.update((frame.len() as u64).to_le_bytes());
        self.hasher.update(frame);
        self.frames += 1;
        self.bytes += frame.len() as u64;
    }

    /// Frames recorded.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes recorded.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The hash so far, as 64 hex digits.
    pub fn hex(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_destination_and_bytes_all_count() {
        let base = {
            let mut t = Trace::new();
            t.record(Instant::from_micros(5), Dest::One(1), b"abc");
            t.hex()
        };
        for (at, to, frame) in [
            (6, Dest::One(1), &b"abc"[..]),
            (5, Dest::One(2), b"abc"),
            (5, Dest::AllBut(1), b"abc"),
            (5, Dest::One(1), b"abd"),
        ] {
            let mut t = Trace::new();
            t.record(Instant::from_micros(at), to, frame);
            assert_ne!(t.hex(), base);
        }
        assert_eq!(base.len(), 64);
    }
}
