//! The UDP echo server: each datagram goes back to its sender, unchanged.
//!
//! A datagram is taken from the receive buffer only once its copy fits in
//! the transmit buffer, so a burst is delayed, not dropped, by the server.
//! (A datagram larger than the receive buffer never reaches the server:
//! smoltcp drops it on arrival, as a kernel drops one larger than SO_RCVBUF.)
//! Datagrams that could make it a reflector ([`crate::net::reflect`]) are
//! dropped unanswered and counted.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;

use super::{EchoEvent, EchoEvents};
use crate::net::reflect;
use crate::net::source_rate::SourceRate;
use crate::service::{Net, Service};

/// A UDP echo server. `MAX` is the largest datagram it echoes; a longer one
/// is dropped and reported. RAM: `MAX` bytes of scratch + 16 × 48 bytes of
/// events, plus the socket's buffers (sized by the caller).
pub struct UdpEchoServer<const MAX: usize> {
    handle: SocketHandle,
    /// Events for the caller to drain.
    pub events: EchoEvents,
    scratch: [u8; MAX],
    /// A datagram is waiting for room in the transmit buffer.
    backlog: bool,
    port: u16,
    unanswered: u64,
}

impl<const MAX: usize> UdpEchoServer<MAX> {
    /// Binds `socket` to `port` and adds it to the set.
    pub fn new<'b>(
        sockets: &mut SocketSet<'b>,
        mut socket: udp::Socket<'b>,
        port: u16,
    ) -> Result<Self, udp::BindError> {
        socket.bind(port)?;
        Ok(Self {
            handle: sockets.add(socket),
            events: EchoEvents::new(),
            scratch: [0; MAX],
            backlog: false,
            port,
            unanswered: 0,
        })
    }

    /// Datagrams dropped unanswered so far: sent to a broadcast or
    /// multicast address, from a port or address no echo may answer, or
    /// beyond its source's rate ([`Self::serve`]).
    pub fn unanswered(&self) -> u64 {
        self.unanswered
    }
}

impl<const MAX: usize> UdpEchoServer<MAX> {
    /// [`Service::poll`], answering each source no more than `limit` allows
    /// (the service set's one limiter for its UDP servers; `None`: no
    /// limit). Datagrams beyond it are dropped and counted in
    /// [`Self::unanswered`].
    pub fn serve(
        &mut self,
        net: &mut Net<'_, '_>,
        now: Instant,
        mut limit: Option<&mut SourceRate>,
    ) {
        let iface = &*net.iface;
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        self.backlog = false;
        loop {
            let (len, meta) = match socket.peek_slice(&mut self.scratch) {
                Ok((len, meta)) => (len, *meta),
                Err(udp::RecvError::Truncated) => {
                    if let Ok((_, meta)) = socket.recv() {
                        self.events.push(EchoEvent::DatagramDropped {
                            peer: meta.endpoint,
                        });
                    }
                    continue;
                }
                Err(udp::RecvError::Exhausted) => break,
            };
            if reflect::check(iface, meta.endpoint, meta.local_address, self.port).is_err()
                || limit
                    .as_deref_mut()
                    .is_some_and(|l| !l.allow(meta.endpoint.addr, now))
            {
                let _ = socket.recv();
                self.unanswered += 1;
                continue;
            }
            let reply = udp::UdpMetadata {
                endpoint: meta.endpoint,
                local_address: meta.local_address,
                meta: Default::default(),
            };
            match socket.send_slice(&self.scratch[..len], reply) {
                Ok(()) => {
                    let _ = socket.recv();
                }
                Err(udp::SendError::BufferFull) => {
                    // Tried again on the next poll, and counted then.
                    if let Some(l) = limit.as_deref_mut() {
                        l.refund(meta.endpoint.addr);
                    }
                    self.backlog = true;
                    break;
                }
                Err(udp::SendError::Unaddressable) => {
                    // Port 0 or an unspecified source: nowhere to answer.
                    let _ = socket.recv();
                }
            }
        }
    }
}

impl<const MAX: usize> Service for UdpEchoServer<MAX> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        self.serve(net, now, None);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        crate::net::runner::backlog_retry(self.backlog, now)
    }
}
