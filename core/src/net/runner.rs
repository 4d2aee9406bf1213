//! The poll loop's deadline arithmetic, shared by the host, the simulator
//! and the firmware (the step itself is [`super::stack::Stack::poll`]).

use smoltcp::time::{Duration, Instant};

/// How soon a service whose transmit buffer was full looks again. Room
/// usually appears as soon as the interface sends, but a datagram waiting
/// for address resolution can hold the buffer for a second: a short pause
/// covers both without spinning.
pub const BACKLOG_RETRY: Duration = Duration::from_millis(1);

/// The deadline of a service that has work waiting for transmit room.
pub fn backlog_retry(backlog: bool, now: Instant) -> Option<Instant> {
    backlog.then(|| now + BACKLOG_RETRY)
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a < b { a } else { b }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// How long the loop may sleep at `now` before `deadline`, capped at `max`
/// (so a runtime still wakes for its own housekeeping). Zero when due.
pub fn wait_duration(now: Instant, deadline: Option<Instant>, max: Duration) -> Duration {
    match deadline {
        Some(at) if at <= now => Duration::ZERO,
        Some(at) => {
            let d = at - now;
            if d < max { d } else { max }
        }
        None => max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_picks_the_first_deadline() {
        let a = Some(Instant::from_millis(5));
        let b = Some(Instant::from_millis(3));
        assert_eq!(earliest(a, b), b);
        assert_eq!(earliest(a, None), a);
        assert_eq!(earliest(None, b), b);
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn wait_is_zero_when_due_and_capped_otherwise() {
        let now = Instant::from_millis(100);
        let max = Duration::from_millis(1000);
        assert_eq!(
            wait_duration(now, Some(Instant::from_millis(90)), max),
            Duration::ZERO
        );
        assert_eq!(
            wait_duration(now, Some(Instant::from_millis(150)), max),
            Duration::from_millis(50)
        );
        assert_eq!(wait_duration(now, Some(Instant::from_secs(60)), max), max);
        assert_eq!(wait_duration(now, None, max), max);
    }
}
