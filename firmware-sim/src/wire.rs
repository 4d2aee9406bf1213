//! The virtual Ethernet segment: a switch joining every node, which delays,
//! rate-limits, loses, duplicates, reorders and corrupts frames as its
//! [`Faults`] say, all drawn from one seeded generator.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;

use crate::faults::Faults;
use crate::rng::Rng;

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// The node with the frame's destination MAC.
    One(usize),
    /// Every node but the sender (broadcast and multicast).
    AllBut(usize),
}

impl Dest {
    /// Whether node `node` receives a frame sent to `self`.
    pub fn includes(self, node: usize) -> bool {
        match self {
            Dest::One(n) => n == node,
            Dest::AllBut(n) => n != node,
        }
    }
}

/// A frame arriving at its destination.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When it arrives.
    pub at: Instant,
    /// Send order on the wire: ties at one instant are delivered in this order.
    pub seq: u64,
    /// The sending node.
    pub from: usize,
    /// Who receives it.
    pub to: Dest,
    /// The bytes as they arrive (possibly corrupted).
    pub frame: Vec<u8>,
}

impl PartialEq for Delivery {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Delivery {}

impl PartialOrd for Delivery {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Delivery {
    /// Reversed, so that [`BinaryHeap`] pops the earliest delivery first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// What happened on the wire, counted per frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Frames the nodes transmitted.
    pub sent: u64,
    /// Bytes the nodes transmitted.
    pub sent_bytes: u64,
    /// Frames delivered (a broadcast counts once, a duplicate twice).
    pub delivered: u64,
    /// Frames lost.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Frames held back so that later ones overtook them.
    pub reordered: u64,
    /// Frames delivered with a flipped bit.
    pub corrupted: u64,
    /// Frames to a MAC address no node has.
    pub unroutable: u64,
}

/// Preamble, start delimiter and inter-frame gap: bytes of wire time every
/// frame costs beyond its own.
const WIRE_OVERHEAD: usize = 20;
/// The FCS the MAC appends (not in the frames smoltcp hands over).
const FCS: usize = 4;
/// The shortest frame on the wire, FCS included.
const MIN_FRAME: usize = 64;

/// The segment. Frames wait in a queue ordered by arrival time, then by
/// send order, so a run never depends on anything but the seed.
pub struct Wire {
    faults: Faults,
    rng: Rng,
    macs: Vec<EthernetAddress>,
    port_free: Vec<Instant>,
    queue: BinaryHeap<Delivery>,
    seq: u64,
    stats: WireStats,
}

impl Wire {
    /// An empty segment with these faults, drawing from `rng`.
    pub fn new(faults: Faults, rng: Rng) -> Self {
        Self {
            faults,
            rng,
            macs: Vec::new(),
            port_free: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            stats: WireStats::default(),
        }
    }

    /// Plugs in a node with `mac`; returns its port number.
    pub fn attach(&mut self, mac: EthernetAddress) -> usize {
        self.macs.push(mac);
        self.port_free.push(Instant::ZERO);
        self.macs.len() - 1
    }

    /// The faults in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The counters so far.
    pub fn stats(&self) -> WireStats {
        self.stats
    }

    /// Frames still in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    fn route(&self, from: usize, frame: &[u8]) -> Option<Dest> {
        let dst = EthernetAddress::from_bytes(frame.get(..6)?);
        if dst.is_broadcast() || dst.is_multicast() {
            return Some(Dest::AllBut(from));
        }
        self.macs
            .iter()
            .position(|m| *m == dst)
            .filter(|&n| n != from)
            .map(Dest::One)
    }

    /// How long `len` bytes take on a port.
    fn serialisation(&self, len: usize) -> Duration {
        if self.faults.bandwidth_bps == 0 {
            return Duration::ZERO;
        }
        let bits = ((len + FCS).max(MIN_FRAME) + WIRE_OVERHEAD) as u128 * 8;
        let bps = u128::from(self.faults.bandwidth_bps);
        Duration::from_micros((bits * 1_000_000).div_ceil(bps) as u64)
    }

    fn jitter(&mut self) -> Duration {
        Duration::from_micros(self.rng.upto(self.faults.jitter.total_micros()))
    }

    fn push(&mut self, at: Instant, from: usize, to: Dest, frame: Vec<u8>) {
        self.seq += 1;
        self.queue.push(Delivery {
            at,
            seq: self.seq,
            from,
            to,
            frame,
        });
    }

    /// Node `from` transmits `frame` at `now`: it leaves once the port has
    /// sent what was queued before it, then meets the faults.
    pub fn send(&mut self, from: usize, mut frame: Vec<u8>, now: Instant) {
        self.stats.sent += 1;
        self.stats.sent_bytes += frame.len() as u64;
        let start = now.max(self.port_free[from]);
        let done = start + self.serialisation(frame.len());
        self.port_free[from] = done;
        let Some(to) = self.route(from, &frame) else {
            self.stats.unroutable += 1;
            return;
        };
        if self.rng.chance(self.faults.loss) {
            self.stats.lost += 1;
            return;
        }
        let mut at = done + self.faults.latency + self.jitter();
        if self.rng.chance(self.faults.reorder) {
            at += self.faults.reorder_delay;
            self.stats.reordered += 1;
        }
        if self.rng.chance(self.faults.corrupt) && !frame.is_empty() {
            let bit = self.rng.upto(frame.len() as u64 * 8 - 1);
            frame[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.stats.corrupted += 1;
        }
        if self.rng.chance(self.faults.duplicate) {
            let again = at + Duration::from_micros(1) + self.jitter();
            self.stats.duplicated += 1;
            self.push(again, from, to, frame.clone());
        }
        self.push(at, from, to, frame);
    }

    /// When the next frame arrives, if any is in flight.
    pub fn next_at(&self) -> Option<Instant> {
        self.queue.peek().map(|d| d.at)
    }

    /// The next frame arriving at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Delivery> {
        if self.queue.peek()?.at > now {
            return None;
        }
        let d = self.queue.pop()?;
        self.stats.delivered += 1;
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(dst: [u8; 6], len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[..6].copy_from_slice(&dst);
        f
    }

    fn wire(faults: Faults) -> Wire {
        let mut w = Wire::new(faults, Rng::new(3));
        for i in 1..=3 {
            w.attach(EthernetAddress([2, 0, 0, 0, 0, i]));
        }
        w
    }

    #[test]
    fn routes_unicast_broadcast_and_drops_unknown() {
        let mut w = wire(Faults::none());
        w.send(0, frame([2, 0, 0, 0, 0, 2], 60), Instant::ZERO);
        w.send(0, frame([0xff; 6], 60), Instant::ZERO);
        w.send(0, frame([2, 0, 0, 0, 0, 9], 60), Instant::ZERO);
        let a = w.pop_due(Instant::ZERO).unwrap();
        let b = w.pop_due(Instant::ZERO).unwrap();
        assert_eq!((a.to, b.to), (Dest::One(1), Dest::AllBut(0)));
        assert!(w.pop_due(Instant::ZERO).is_none());
        assert_eq!(w.stats().unroutable, 1);
    }

    #[test]
    fn bandwidth_serialises_each_port_and_latency_adds() {
        let mut f = Faults::none();
        f.bandwidth_bps = 8_000_000; // one byte per microsecond
        f.latency = Duration::from_micros(100);
        let mut w = wire(f);
        let to = [2, 0, 0, 0, 0, 2];
        w.send(0, frame(to, 1496), Instant::ZERO); // 1500 + 20 bytes on the wire
        w.send(0, frame(to, 1496), Instant::ZERO);
        w.send(2, frame(to, 1496), Instant::ZERO); // another port: no wait
        let times: Vec<i64> = std::iter::from_fn(|| w.pop_due(Instant::from_secs(1)))
            .map(|d| d.at.total_micros())
            .collect();
        assert_eq!(times, vec![1620, 1620, 3140]);
    }

    #[test]
    fn every_fault_happens_at_its_rate() {
        let mut f = Faults::none();
        f.loss = 0.2;
        f.duplicate = 0.1;
        f.reorder = 0.1;
        f.corrupt = 0.1;
        let mut w = wire(f);
        for i in 0..10_000 {
            w.send(0, frame([2, 0, 0, 0, 0, 2], 100), Instant::from_micros(i));
        }
        let s = w.stats();
        let near = |n: u64, rate: f64, of: u64| {
            (n as f64 - rate * of as f64).abs() < 0.2 * rate * of as f64
        };
        assert!(near(s.lost, 0.2, 10_000), "{s:?}");
        assert!(near(s.duplicated, 0.1, 8_000), "{s:?}");
        assert!(near(s.reordered, 0.1, 8_000), "{s:?}");
        assert!(near(s.corrupted, 0.1, 8_000), "{s:?}");
        assert_eq!(w.in_flight() as u64, 10_000 - s.lost + s.duplicated);
    }
}
