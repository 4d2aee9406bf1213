//! What the virtual wire does to frames: delay, rate limit, and faults.

use core::fmt;
use smoltcp::time::Duration;

use crate::rng::Rng;

/// Timing and fault rates of the virtual Ethernet. Probabilities are per
/// frame, from 0 to 1, each drawn independently from the run's seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// One-way delay every frame gets after it is serialised.
    pub latency: Duration,
    /// Extra delay, uniform from zero to this, per frame (frames may then
    /// arrive out of order on their own).
    pub jitter: Duration,
    /// Bits per second of each node's port (a switch: every sender
    /// serialises its own frames at this rate); 0: unlimited.
    pub bandwidth_bps: u64,
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame arrives twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by [`Faults::reorder_delay`],
    /// so that the frames sent after it overtake it.
    pub reorder: f64,
    /// How long a reordered frame is held back.
    pub reorder_delay: Duration,
    /// Probability that one random bit of a frame is flipped on the way.
    /// The receiver gets it as if its MAC did not check the FCS: only the
    /// IPv4 header, TCP and UDP checksums stand between it and a service.
    pub corrupt: f64,
}

impl Faults {
    /// A perfect wire: no delay, no rate limit, no faults.
    pub const fn none() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            bandwidth_bps: 0,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            corrupt: 0.0,
        }
    }

    /// A random wire for `seed`, as the property tests draw them: latency
    /// 0.05 to 5 ms, jitter up to 2 ms, unlimited or 1, 10 or 100 Mbit/s,
    /// loss up to 30%, duplication up to 10%, reordering up to 20% (by 1 to
    /// 20 ms), corruption up to 5%.
    pub fn random(seed: u64) -> Self {
        let mut r = Rng::derive(seed, 0xfa017);
        Self {
            latency: Duration::from_micros(r.range(50, 5_000)),
            jitter: Duration::from_micros(r.range(0, 2_000)),
            bandwidth_bps: [0, 1_000_000, 10_000_000, 100_000_000][r.upto(3) as usize],
            loss: r.unit() * 0.30,
            duplicate: r.unit() * 0.10,
            reorder: r.unit() * 0.20,
            reorder_delay: Duration::from_micros(r.range(1_000, 20_000)),
            corrupt: r.unit() * 0.05,
        }
    }

    /// The same timing with every fault rate set to zero.
    pub fn without_faults(self) -> Self {
        Self {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            corrupt: 0.0,
            ..self
        }
    }
}

impl Default for Faults {
    /// A small, busy LAN: 10 Mbit/s ports, 0.5 ms latency with 0.2 ms of
    /// jitter, 1% loss, 0.5% duplicates, 1% reordered by 3 ms, 0.2% corrupt.
    fn default() -> Self {
        Self {
            latency: Duration::from_micros(500),
            jitter: Duration::from_micros(200),
            bandwidth_bps: 10_000_000,
            loss: 0.01,
            duplicate: 0.005,
            reorder: 0.01,
            reorder_delay: Duration::from_millis(3),
            corrupt: 0.002,
        }
    }
}

/// `x` with at most `places` decimals, trailing zeros dropped.
fn short(x: f64, places: usize) -> String {
    let text = format!("{x:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn ms(d: Duration) -> String {
    short(d.total_micros() as f64 / 1000.0, 3)
}

fn pct(p: f64) -> String {
    short(p * 100.0, 2)
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "latency {} ms + jitter {} ms, ",
            ms(self.latency),
            ms(self.jitter)
        )?;
        if self.bandwidth_bps == 0 {
            f.write_str("unlimited bandwidth, ")?;
        } else {
            write!(f, "{} Mbit/s, ", short(self.bandwidth_bps as f64 / 1e6, 3))?;
        }
        write!(
            f,
            "loss {}%, duplicate {}%, reorder {}% (by {} ms), corrupt {}%",
            pct(self.loss),
            pct(self.duplicate),
            pct(self.reorder),
            ms(self.reorder_delay),
            pct(self.corrupt)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_short_numbers() {
        let text = Faults::default().to_string();
        assert_eq!(
            text,
            "latency 0.5 ms + jitter 0.2 ms, 10 Mbit/s, loss 1%, duplicate 0.5%, \
             reorder 1% (by 3 ms), corrupt 0.2%"
        );
        let random = Faults::random(7).to_string();
        assert!(!random.contains("0000"), "{random}");
    }
}
