//! An optional cap on how many datagrams a UDP server that answers
//! everything (echo, RFC 868 time) answers each source address per second,
//! so that a stream of datagrams forged "from" a victim gets it at most
//! that many answers, whatever the stream's rate.
//!
//! A token bucket per source, for the [`SOURCES`] sources seen last: a
//! source not in the table takes the place of the one heard from longest
//! ago, with a full bucket. A victim whose address is being forged is heard
//! from all the time and keeps its place; a flood from more sources than
//! the table holds is limited per datagram by nothing here, only by the
//! server's buffers (see [`crate::net::reflect`] for what is never
//! answered at all).

use smoltcp::time::Instant;
use smoltcp::wire::IpAddress;

/// Sources the limiter tracks at once.
pub const SOURCES: usize = 8;

/// Answers per source: `per_second` on average, `burst` at once. RAM: 4
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRate {
    /// Answers a second to one source address (at least 1).
    pub per_second: u16,
    /// Answers one source may have at once (at least 1).
    pub burst: u16,
}

/// One tracked source: its bucket in thousandths of an answer. The address
/// is kept folded to 32 bits (two IPv6 sources that fold alike share a
/// bucket: a limit shared, nothing answered more) and the time in
/// milliseconds, wrapping: a board's RAM is scarce.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// The folded address; 0: an empty place.
    key: u32,
    millis: u32,
    at_ms: u32,
}

/// The limiter the service set keeps for its UDP echo and RFC 868 servers
/// together. RAM: 8 buckets of 12 bytes, 96 bytes, and the rate.
#[derive(Debug)]
pub struct SourceRate {
    rate: Option<UdpRate>,
    buckets: [Bucket; SOURCES],
}

impl Default for SourceRate {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Bucket {
    const EMPTY: Self = Self {
        key: 0,
        millis: 0,
        at_ms: 0,
    };
}

impl UdpRate {
    /// A full bucket, in thousandths of an answer.
    fn full(self) -> u32 {
        u32::from(self.burst.max(1)) * 1000
    }
}

/// `addr` in 32 bits, never 0.
fn key(addr: IpAddress) -> u32 {
    let folded = match addr {
        IpAddress::Ipv4(a) => u32::from_be_bytes(a.octets()),
        #[cfg(feature = "ipv6")]
        IpAddress::Ipv6(a) => a.octets().chunks(4).fold(0u32, |k, c| {
            k.rotate_left(7) ^ u32::from_be_bytes([c[0], c[1], c[2], c[3]])
        }),
    };
    folded.max(1)
}

impl SourceRate {
    /// A limiter at `rate` (`None`: every datagram is answered).
    pub const fn new(rate: Option<UdpRate>) -> Self {
        Self {
            rate,
            buckets: [Bucket::EMPTY; SOURCES],
        }
    }

    /// Sets the rate and forgets every source, in place.
    pub fn set_rate(&mut self, rate: Option<UdpRate>) {
        self.rate = rate;
        self.buckets = [Bucket::EMPTY; SOURCES];
    }

    /// The rate in force.
    pub fn rate(&self) -> Option<UdpRate> {
        self.rate
    }

    /// Whether a datagram from `addr` at `now` may be answered; counts it
    /// if so.
    pub fn allow(&mut self, addr: IpAddress, now: Instant) -> bool {
        let Some(rate) = self.rate else {
            return true;
        };
        let full = rate.full();
        let (k, now_ms) = (key(addr), now.total_millis() as u32);
        let age = |b: &Bucket| now_ms.wrapping_sub(b.at_ms);
        let i = match self.buckets.iter().position(|b| b.key == k) {
            Some(i) => i,
            None => {
                // A free place, else the source heard from longest ago.
                let i = self
                    .buckets
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, b)| if b.key == 0 { u32::MAX } else { age(b) })
                    .map_or(0, |(i, _)| i);
                self.buckets[i] = Bucket {
                    key: k,
                    millis: full,
                    at_ms: now_ms,
                };
                i
            }
        };
        let b = &mut self.buckets[i];
        // Thousandths of an answer earned: per_second per 1,000 ms.
        let earned = u64::from(age(b)).saturating_mul(u64::from(rate.per_second.max(1)));
        b.millis = u64::from(b.millis)
            .saturating_add(earned)
            .min(u64::from(full)) as u32;
        b.at_ms = now_ms;
        if b.millis >= 1000 {
            b.millis -= 1000;
            true
        } else {
            false
        }
    }

    /// Gives back the answer [`Self::allow`] counted for `addr`, when the
    /// datagram could not be answered yet (no room to send: it is tried
    /// again).
    pub fn refund(&mut self, addr: IpAddress) {
        let Some(rate) = self.rate else {
            return;
        };
        let full = rate.full();
        let k = key(addr);
        if let Some(b) = self.buckets.iter_mut().find(|b| b.key == k) {
            b.millis = (b.millis + 1000).min(full);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::time::Duration;
    use smoltcp::wire::Ipv4Address;

    fn addr(i: u8) -> IpAddress {
        IpAddress::Ipv4(Ipv4Address::new(192, 0, 2, i))
    }

    fn answered(r: &mut SourceRate, a: IpAddress, n: usize, now: Instant) -> usize {
        (0..n).filter(|_| r.allow(a, now)).count()
    }

    #[test]
    fn without_a_rate_everything_is_answered() {
        let mut r = SourceRate::new(None);
        assert_eq!(answered(&mut r, addr(1), 10_000, Instant::ZERO), 10_000);
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let rate = UdpRate {
            per_second: 10,
            burst: 5,
        };
        let mut r = SourceRate::new(Some(rate));
        let t0 = Instant::from_secs(100);
        assert_eq!(answered(&mut r, addr(1), 100, t0), 5);
        // 10 a second: one per 100 ms, never more than the burst.
        assert_eq!(
            answered(&mut r, addr(1), 100, t0 + Duration::from_millis(99)),
            0
        );
        assert_eq!(
            answered(&mut r, addr(1), 100, t0 + Duration::from_millis(100)),
            1
        );
        assert_eq!(
            answered(&mut r, addr(1), 100, t0 + Duration::from_secs(60)),
            5
        );
        // Over 10 s of a flood, at most burst + 10 s x 10.
        let mut n = 0;
        for ms in 0..10_000 {
            n += answered(&mut r, addr(1), 1, t0 + Duration::from_millis(70_000 + ms));
        }
        assert!((100..=105).contains(&n), "{n}");
        // Another source is not held back by the first.
        assert_eq!(
            answered(&mut r, addr(2), 100, t0 + Duration::from_secs(80)),
            5
        );
    }

    #[test]
    fn a_busy_source_keeps_its_place_against_new_ones() {
        let rate = UdpRate {
            per_second: 1,
            burst: 1,
        };
        let mut r = SourceRate::new(Some(rate));
        let t0 = Instant::from_secs(10);
        assert!(r.allow(addr(1), t0));
        // Fewer new sources than the table holds, each after the victim's
        // last datagram: the victim's empty bucket is not forgotten.
        for i in 0..(SOURCES as u8 - 1) {
            let t = t0 + Duration::from_millis(u64::from(i) + 1);
            assert!(!r.allow(addr(1), t));
            assert!(r.allow(addr(100 + i), t));
        }
        assert!(!r.allow(addr(1), t0 + Duration::from_millis(500)));
        // One more than the table holds pushes out the quietest.
        for i in 0..SOURCES as u8 {
            assert!(r.allow(addr(200 + i), t0 + Duration::from_millis(600)));
        }
        assert!(r.allow(addr(1), t0 + Duration::from_millis(601)));
    }
}
