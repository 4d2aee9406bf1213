//! The stack every runtime drives: one interface, its sockets, the local
//! ports for client connections, and the one poll step.
//!
//! In the spirit of embassy-net's Stack/Runner split, a runtime keeps only
//! what is its own: the `phy::Device`, the clock and how it sleeps. Each turn
//! of its loop is `stack.poll(device, services, now)`, then a sleep until the
//! returned deadline or a frame.

#[cfg(doc)]
use smoltcp::iface::SocketStorage;
use smoltcp::iface::{Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpEndpoint};

use super::config::NetConfig;
use super::runner::earliest;
use super::storage::{OutOfMemory, SocketAlloc};
use super::syn_gate::SynGate;
use super::tcp_client::EphemeralPorts;
use crate::net::stream_client::StreamClient;
use crate::service::{Net, Service};

/// Interface + sockets + ephemeral ports + SYN gate. RAM: the [`Interface`]
/// (about 2.8 KiB with 64 neighbour entries, 1.5 KiB with 32), the socket set's storage
/// (given by the caller: one [`SocketStorage`] slot per socket), 2 bytes of
/// ports and the gate's 720 bytes.
pub struct Stack<'s> {
    /// The smoltcp interface.
    pub iface: Interface,
    /// Every socket of every service on the interface.
    pub sockets: SocketSet<'s>,
    /// Local ports for client connections.
    pub ports: EphemeralPorts,
    /// Holds back the SYNs that would find no listener of their pool.
    pub gate: SynGate,
}

impl<'s> Stack<'s> {
    /// Builds the interface from `config` on `device`; `sockets` is an
    /// empty set on the caller's storage (`SocketSet::new(&mut slots[..])`
    /// with one [`SocketStorage`] slot per socket, or `SocketSet::new(vec![])`
    /// where the set may grow).
    pub fn new<D: Device + ?Sized>(
        config: &NetConfig,
        device: &mut D,
        sockets: SocketSet<'s>,
        now: Instant,
    ) -> Self {
        Self::with_interface(config.build(device, now), sockets, config.random_seed)
    }

    /// A stack on an interface built elsewhere; `seed` starts the
    /// ephemeral ports and keys the SYN gate.
    pub fn with_interface(iface: Interface, sockets: SocketSet<'s>, seed: u64) -> Self {
        Self {
            iface,
            sockets,
            ports: EphemeralPorts::new(seed),
            gate: SynGate::new(seed),
        }
    }

    /// The interface and sockets, as services see them.
    pub fn net(&mut self) -> Net<'_, 's> {
        Net {
            iface: &mut self.iface,
            sockets: &mut self.sockets,
        }
    }

    /// One step of the loop: the interface moves frames, then `services`
    /// move bytes. Returns when the loop must step again at the latest
    /// (`None`: only when a frame arrives).
    ///
    /// When a service has just queued bytes (an echo, say), they are sent in
    /// this step rather than the next: one step per echo instead of two,
    /// sparing a second read of the device and a second pass of every
    /// service. The sockets are polled at the same `now`, so no timer fires
    /// that had not fired in this step already.
    pub fn poll<D, S>(&mut self, device: &mut D, services: &mut S, now: Instant) -> Option<Instant>
    where
        D: Device + ?Sized,
        S: Service + ?Sized,
    {
        // What `Interface::poll` does, spelled out so that the egress pass
        // below is the same code, not a second copy of it in the image.
        self.iface.poll_maintenance(now);
        self.gate.prepare(&self.sockets, now);
        // A SYN parked now ends the batch: the services free a socket for it.
        while self
            .iface
            .poll_ingress_single(now, &mut self.gate.on(device), &mut self.sockets)
            != PollIngressSingleResult::None
            && !self.gate.parked_now()
        {}
        self.egress(device, now);
        services.poll(&mut self.net(), now);
        let next = self.deadline(&*services, now);
        if next.is_none_or(|at| at > now) {
            return next;
        }
        self.egress(device, now);
        self.deadline(&*services, now)
    }

    /// Sends what the sockets have queued, until they have nothing more.
    fn egress<D: Device + ?Sized>(&mut self, device: &mut D, now: Instant) {
        // One pass sends at most one packet per socket.
        while self.iface.poll_egress(now, device, &mut self.sockets)
            == PollResult::SocketStateChanged
        {}
    }

    fn deadline<S: Service + ?Sized>(&mut self, services: &S, now: Instant) -> Option<Instant> {
        earliest(
            earliest(self.iface.poll_at(now, &self.sockets), self.gate.poll_at()),
            services.poll_at(now),
        )
    }

    /// A new TCP socket with `rx`/`tx` bytes of buffer from `alloc`,
    /// connecting to `remote` from the next ephemeral port: the generic
    /// stream client every TCP client uses. Returns it with its socket and
    /// the local endpoint (`None` without an address of `remote`'s family).
    pub fn connect_stream(
        &mut self,
        alloc: &mut impl SocketAlloc<'s>,
        remote: IpEndpoint,
        (rx, tx): (usize, usize),
        now: Instant,
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> Result<(StreamClient, SocketHandle, Option<IpEndpoint>), OutOfMemory> {
        let handle = self.sockets.add(alloc.tcp(rx, tx)?);
        let port = self.ports.next_port();
        let local = self
            .local_addr_for(remote.addr)
            .map(|a| IpEndpoint::new(a, port));
        let client = StreamClient::connect(
            &mut self.net(),
            handle,
            remote,
            port,
            now,
            connect_timeout,
            recv_timeout,
        );
        Ok((client, handle, local))
    }

    /// This node's address of the same family as `peer`.
    pub fn local_addr_for(&self, peer: IpAddress) -> Option<IpAddress> {
        self.iface
            .ip_addrs()
            .iter()
            .map(|c| c.address())
            .find(|a| core::mem::discriminant(a) == core::mem::discriminant(&peer))
    }
}
