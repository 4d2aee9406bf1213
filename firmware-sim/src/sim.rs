//! The simulator: nodes on one [`Wire`], one virtual clock, and the event
//! loop. Time jumps straight to the next frame arrival or node deadline, so
//! a 60-second timeout costs no more wall time than a 60-microsecond one.

use std::io::Write;

use minnow::net::Stack;
use minnow::net::runner::earliest;
use smoltcp::time::{Duration, Instant};

use crate::faults::Faults;
use crate::node::{Node, NodeSpec, Program};
use crate::pcap::PcapWriter;
use crate::rng::{Rng, mix};
use crate::tcp_stats::TcpStats;
use crate::timeline::Timeline;
use crate::trace::Trace;
use crate::wire::{Delivery, Dest, Wire};

/// Why [`Sim::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// No node is busy any more.
    Done,
    /// Nothing is in flight and no node has a deadline.
    Idle,
    /// Virtual time reached the limit.
    TimeLimit,
    /// The step budget ran out (a node asking to be polled forever).
    StepLimit,
}

/// A capture of the wire and the epoch its virtual time starts at.
struct Capture {
    writer: PcapWriter<Box<dyn Write>>,
    epoch_us: u64,
    error: Option<std::io::Error>,
}

/// Nodes on a virtual Ethernet, stepped on one virtual clock.
pub struct Sim<'a> {
    seed: u64,
    now: Instant,
    nodes: Vec<Node<'a>>,
    wire: Wire,
    trace: Trace,
    tcp: TcpStats,
    timeline: Timeline,
    capture: Option<Capture>,
    steps: u64,
}

/// Random stream numbers: the wire's, then one per node.
const WIRE_STREAM: u64 = 1;
const NODE_STREAM: u64 = 1000;

impl<'a> Sim<'a> {
    /// An empty segment; every random choice derives from `seed`.
    pub fn new(seed: u64, faults: Faults) -> Self {
        Self {
            seed,
            now: Instant::ZERO,
            nodes: Vec::new(),
            wire: Wire::new(faults, Rng::derive(seed, WIRE_STREAM)),
            trace: Trace::new(),
            tcp: TcpStats::new(),
            timeline: Timeline::new(),
            capture: None,
            steps: 0,
        }
    }

    /// Captures every delivered frame to `out` as pcap, virtual time 0
    /// being `epoch_unix_us`.
    pub fn capture(&mut self, out: Box<dyn Write>, epoch_unix_us: u64) -> std::io::Result<()> {
        self.capture = Some(Capture {
            writer: PcapWriter::new(out)?,
            epoch_us: epoch_unix_us,
            error: None,
        });
        Ok(())
    }

    /// Adds a node; `make` builds its program and may add sockets. Returns
    /// the node's index.
    pub fn add_node(
        &mut self,
        spec: NodeSpec,
        make: impl FnOnce(&mut Stack<'static>) -> Box<dyn Program + 'a>,
    ) -> usize {
        let index = self.nodes.len();
        let seed = mix(self.seed ^ mix(NODE_STREAM + index as u64));
        self.wire.attach(spec.mac);
        self.nodes.push(Node::new(spec, seed, make));
        index
    }

    /// Virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The nodes, in the order they were added.
    pub fn nodes(&self) -> &[Node<'a>] {
        &self.nodes
    }

    /// The wire.
    pub fn wire(&self) -> &Wire {
        &self.wire
    }

    /// The trace hash of the deliveries so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// TCP counters from the wire.
    pub fn tcp(&self) -> &TcpStats {
        &self.tcp
    }

    /// What the nodes reported.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Loop iterations so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Ends the capture: flushes it and returns the first write error.
    pub fn finish_capture(&mut self) -> std::io::Result<()> {
        let Some(capture) = self.capture.take() else {
            return Ok(());
        };
        if let Some(e) = capture.error {
            return Err(e);
        }
        capture.writer.finish()?.flush()
    }

    /// When the next thing happens: a frame arrives or a node's deadline.
    pub fn next_event(&self) -> Option<Instant> {
        self.nodes
            .iter()
            .fold(self.wire.next_at(), |t, n| earliest(t, n.wake()))
    }

    fn deliver(&mut self, d: Delivery) {
        self.trace.record(d.at, d.to, &d.frame);
        if let Some(c) = self.capture.as_mut()
            && c.error.is_none()
        {
            let at = c.epoch_us + d.at.total_micros() as u64;
            if let Err(e) = c.writer.write_frame(at, &d.frame) {
                c.error = Some(e);
            }
        }
        match d.to {
            // Unicast, nearly every frame: straight to its node, no copy.
            Dest::One(i) => {
                if let Some(node) = self.nodes.get_mut(i) {
                    node.device.rx.push_back(d.frame);
                    node.wake_at(d.at);
                }
            }
            Dest::AllBut(from) => {
                for (i, node) in self.nodes.iter_mut().enumerate() {
                    if i != from {
                        node.device.rx.push_back(d.frame.clone());
                        node.wake_at(d.at);
                    }
                }
            }
        }
    }

    /// Advances to the next event and handles everything due then: frames
    /// arrive, due nodes are polled in index order, their frames go on the
    /// wire. Returns `false` when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let Some(t) = self.next_event() else {
            return false;
        };
        self.step_to(t);
        true
    }

    /// [`Sim::step`] with the next event already known to be at `t`.
    fn step_to(&mut self, t: Instant) {
        self.steps += 1;
        self.now = self.now.max(t);
        let now = self.now;
        while let Some(d) = self.wire.pop_due(now) {
            self.deliver(d);
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].wake().is_some_and(|w| w <= now) {
                let node = &mut self.nodes[i];
                node.poll(now, &mut self.timeline);
                for frame in node.device.tx.drain(..) {
                    self.tcp.observe(&frame);
                    self.wire.send(i, frame, now);
                }
            }
        }
    }

    /// Steps until no node is busy, virtual time would pass `limit`, or
    /// `max_steps` steps have run.
    pub fn run(&mut self, limit: Duration, max_steps: u64) -> RunEnd {
        let limit = Instant::ZERO + limit;
        loop {
            if !self.nodes.iter().any(|n| n.program().busy()) {
                return RunEnd::Done;
            }
            if self.steps >= max_steps {
                return RunEnd::StepLimit;
            }
            match self.next_event() {
                None => return RunEnd::Idle,
                Some(t) if t > limit => {
                    self.now = limit;
                    return RunEnd::TimeLimit;
                }
                Some(t) => self.step_to(t),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeCtx;

    /// Wakes every `period` until `until`, counting its polls.
    struct Sleeper {
        period: Duration,
        until: Instant,
        polls: u32,
    }

    impl Program for Sleeper {
        fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
            self.polls += 1;
            ctx.step(&mut []);
            (ctx.now < self.until).then_some(ctx.now + self.period)
        }

        fn busy(&self) -> bool {
            true
        }
    }

    #[test]
    fn an_hour_of_timeouts_costs_a_few_steps() {
        let mut sim = Sim::new(1, Faults::default());
        sim.add_node(NodeSpec::numbered("sleeper", 1), |_| {
            Box::new(Sleeper {
                period: Duration::from_secs(600),
                until: Instant::from_secs(3600),
                polls: 0,
            })
        });
        let end = sim.run(Duration::from_secs(7200), 1000);
        assert_eq!(end, RunEnd::Idle);
        assert_eq!(sim.now(), Instant::from_secs(3600));
        assert_eq!(sim.steps(), 7);
        assert_eq!(sim.nodes()[0].polls(), 7);
    }

    #[test]
    fn the_time_limit_stops_a_busy_node() {
        let mut sim = Sim::new(1, Faults::none());
        sim.add_node(NodeSpec::numbered("sleeper", 1), |_| {
            Box::new(Sleeper {
                period: Duration::from_secs(1),
                until: Instant::from_secs(1_000_000),
                polls: 0,
            })
        });
        assert_eq!(sim.run(Duration::from_secs(10), 1000), RunEnd::TimeLimit);
        assert_eq!(sim.now(), Instant::from_secs(10));
        let mut sim2 = Sim::new(1, Faults::none());
        sim2.add_node(NodeSpec::numbered("sleeper", 1), |_| {
            Box::new(Sleeper {
                period: Duration::from_secs(1),
                until: Instant::from_secs(1_000_000),
                polls: 0,
            })
        });
        assert_eq!(sim2.run(Duration::from_secs(100), 5), RunEnd::StepLimit);
    }
}
