//! A bound on how many event lines a runtime prints, so that a flood of
//! datagrams or connections cannot flood stderr or a board's UART (and
//! the time spent writing them): a burst is printed whole, then lines are
//! counted instead of printed until the window ends, and the count is
//! reported once.

use smoltcp::time::{Duration, Instant};

/// What to do with one event line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Print it.
    Print,
    /// Print it, after a line saying this many were left out before it.
    PrintAfter(u32),
    /// Leave it out (it is counted).
    Drop,
}

/// At most `burst` lines per `window`. RAM: 24 bytes.
#[derive(Debug, Clone, Copy)]
pub struct LogLimit {
    window: Duration,
    burst: u32,
    started: Option<Instant>,
    printed: u32,
    dropped: u32,
}

impl LogLimit {
    /// `burst` lines per `window`.
    pub const fn new(burst: u32, window: Duration) -> Self {
        Self {
            window,
            burst,
            started: None,
            printed: 0,
            dropped: 0,
        }
    }

    /// The host's and the board's: 50 lines a second.
    pub const DEFAULT: Self = Self::new(50, Duration::from_secs(1));

    /// Whether the line of an event at `now` is printed.
    pub fn admit(&mut self, now: Instant) -> Verdict {
        let fresh = self.started.is_none_or(|t| now >= t + self.window);
        if fresh {
            self.started = Some(now);
            self.printed = 0;
        }
        if self.printed >= self.burst {
            self.dropped = self.dropped.saturating_add(1);
            return Verdict::Drop;
        }
        self.printed += 1;
        match core::mem::take(&mut self.dropped) {
            0 => Verdict::Print,
            n => Verdict::PrintAfter(n),
        }
    }

    /// Lines left out and not yet reported (for a last line at exit).
    pub fn pending(&self) -> u32 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_counts_then_the_count_once() {
        let mut l = LogLimit::new(3, Duration::from_secs(1));
        let t = Instant::from_secs(10);
        let v: heapless::Vec<Verdict, 8> = (0..5).map(|_| l.admit(t)).collect();
        assert_eq!(
            &v[..],
            &[
                Verdict::Print,
                Verdict::Print,
                Verdict::Print,
                Verdict::Drop,
                Verdict::Drop
            ]
        );
        assert_eq!(l.pending(), 2);
        assert_eq!(
            l.admit(t + Duration::from_millis(1000)),
            Verdict::PrintAfter(2)
        );
        assert_eq!(l.admit(t + Duration::from_millis(1001)), Verdict::Print);
        assert_eq!(l.pending(), 0);
    }
}
