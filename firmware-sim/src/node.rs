//! A simulated node: a network card, a smoltcp interface with its sockets,
//! and a [`Program`] (the services and clients it runs).

use minnow::net::runner::earliest;
use minnow::net::stream_client::StreamClient;
use minnow::net::{NetConfig, Stack};
use minnow::service::{Net, Service};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr,
};

use crate::device::SimDevice;
use crate::sockets::Owned;
use crate::tasks::Outcome;
use crate::timeline::Timeline;

/// What a node runs. The simulator polls it whenever a frame arrives or a
/// deadline it gave comes; it must call [`NodeCtx::step`] once per poll
/// (which polls the interface and its services), then may move bytes.
pub trait Program {
    /// One poll; returns when the program needs the next poll at the latest
    /// (the interface's own timers are added by the simulator).
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant>;

    /// Whether the program still has work of its own (a client with tasks
    /// left). The run ends when no node is busy.
    fn busy(&self) -> bool {
        false
    }

    /// What the program's tasks came to; tasks not finished at `now` are
    /// reported as failures.
    fn outcomes(&self, _now: Instant) -> Vec<Outcome> {
        Vec::new()
    }
}

/// Where a node sits on the segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Its name in the timeline and summary.
    pub name: String,
    /// Its Ethernet address.
    pub mac: EthernetAddress,
    /// Its IPv4 address and prefix.
    pub ipv4: Ipv4Cidr,
    /// Its IPv6 address and prefix.
    pub ipv6: Ipv6Cidr,
}

impl NodeSpec {
    /// Node number `n` (1..=250) on 192.0.2.0/24 and 2001:db8::/64:
    /// MAC 02:00:00:00:00:n, addresses 192.0.2.n and 2001:db8::n.
    pub fn numbered(name: &str, n: u8) -> Self {
        Self {
            name: name.to_string(),
            mac: EthernetAddress([2, 0, 0, 0, 0, n]),
            ipv4: Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, n), 24),
            ipv6: Ipv6Cidr::new(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n.into()), 64),
        }
    }

    /// The IPv4 address.
    pub fn v4(&self) -> IpAddress {
        IpAddress::Ipv4(self.ipv4.address())
    }

    /// The IPv6 address.
    pub fn v6(&self) -> IpAddress {
        IpAddress::Ipv6(self.ipv6.address())
    }
}

/// What a program sees while it is polled.
pub struct NodeCtx<'n> {
    /// Virtual time.
    pub now: Instant,
    /// The node's name.
    pub name: &'n str,
    /// The interface, its sockets and local ports.
    pub stack: &'n mut Stack<'static>,
    /// The network card (for programs that poll a service set themselves).
    pub(crate) device: &'n mut SimDevice,
    timeline: &'n mut Timeline,
    /// Whether the program has polled the stack in this poll.
    pub(crate) stepped: bool,
    /// Set by a program that left its sockets as its step did: the
    /// deadline the step returned then already holds the interface's own,
    /// and the node need not walk every socket again for it.
    pub(crate) settled: bool,
}

impl NodeCtx<'_> {
    /// Polls the interface, then `services`, with core's [`Stack::poll`];
    /// returns its deadline.
    pub fn step(&mut self, services: &mut [&mut dyn Service]) -> Option<Instant> {
        self.stepped = true;
        self.stack.poll(self.device, services, self.now)
    }

    /// The interface and sockets as services see them.
    pub fn net(&mut self) -> Net<'_, 'static> {
        self.stack.net()
    }

    /// Adds a line to the timeline.
    pub fn log(&mut self, text: String) {
        self.timeline.push(self.now, self.name, text);
    }

    /// A new TCP socket with `rx`/`tx` bytes of buffer, connecting to
    /// `remote` from the next ephemeral port (core's
    /// [`Stack::connect_stream`] on owned buffers). Returns the client, its
    /// socket, and the local endpoint (for the timeline and checks).
    pub fn connect_stream(
        &mut self,
        remote: IpEndpoint,
        buffers: (usize, usize),
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> (StreamClient, SocketHandle, Option<IpEndpoint>) {
        let now = self.now;
        let connecting = self.stack.connect_stream(
            &mut Owned,
            remote,
            buffers,
            now,
            connect_timeout,
            recv_timeout,
        );
        // Owned buffers never run out.
        connecting.unwrap_or_else(|_| unreachable!("owned socket buffers"))
    }

    /// This node's address of the same family as `peer`.
    pub fn local_addr_for(&self, peer: IpAddress) -> Option<IpAddress> {
        self.stack.local_addr_for(peer)
    }
}

/// A node on the segment.
pub struct Node<'a> {
    /// Where it sits.
    pub spec: NodeSpec,
    /// Its network card.
    pub device: SimDevice,
    stack: Stack<'static>,
    program: Box<dyn Program + 'a>,
    wake: Option<Instant>,
    polls: u64,
}

impl<'a> Node<'a> {
    /// Builds the node's interface from `spec` (static addresses, smoltcp
    /// seeded with `seed`) and its program with `make`, which may add sockets.
    pub fn new(
        spec: NodeSpec,
        seed: u64,
        make: impl FnOnce(&mut Stack<'static>) -> Box<dyn Program + 'a>,
    ) -> Self {
        let mut device = SimDevice::default();
        let mut config = NetConfig::new(spec.mac);
        config.ipv4 = Some(spec.ipv4);
        config.ipv6 = Some(spec.ipv6);
        config.random_seed = seed;
        let mut stack = Stack::new(
            &config,
            &mut device,
            SocketSet::new(Vec::new()),
            Instant::ZERO,
        );
        let program = make(&mut stack);
        Self {
            spec,
            device,
            stack,
            program,
            wake: Some(Instant::ZERO),
            polls: 0,
        }
    }

    /// When the node next needs a poll.
    pub fn wake(&self) -> Option<Instant> {
        self.wake
    }

    /// Asks for a poll at `at` (a frame arrived).
    pub fn wake_at(&mut self, at: Instant) {
        self.wake = earliest(self.wake, Some(at));
    }

    /// How many times the node was polled.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// The program.
    pub fn program(&self) -> &(dyn Program + 'a) {
        self.program.as_ref()
    }

    /// Polls the program (and through it the interface) at `now`; the frames
    /// it sent are left in [`Node::device`]'s transmit queue.
    pub fn poll(&mut self, now: Instant, timeline: &mut Timeline) {
        self.polls += 1;
        let mut ctx = NodeCtx {
            now,
            name: &self.spec.name,
            stack: &mut self.stack,
            device: &mut self.device,
            timeline,
            stepped: false,
            settled: false,
        };
        let mut next = self.program.poll(&mut ctx);
        if !ctx.stepped {
            next = earliest(next, ctx.step(&mut []));
        } else if !ctx.settled {
            // What the program wrote after its step goes out on the next poll.
            next = earliest(next, self.stack.iface.poll_at(now, &self.stack.sockets));
        }
        let soonest = now + Duration::from_micros(1);
        self.wake = next.map(|t| t.max(soonest));
    }
}
