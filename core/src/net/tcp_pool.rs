//! A pool of TCP sockets listening on one port, so that a server serves
//! several clients at once and keeps listening while others are connected.
//!
//! smoltcp lets several sockets listen on the same port; a SYN goes to the
//! first one in `Listen`. Each pool socket carries one connection at a time
//! and listens again as soon as that connection is over. With every socket
//! busy, smoltcp answers a new SYN with RST: the extra client is refused at
//! once (it may retry), and the connected ones notice nothing.
//!
//! The pool's [`Guard`] keeps hostile peers from holding it: half-open
//! sockets are recycled after the handshake timeout, and at once (oldest
//! first) when fewer than its reserve still listen; one source address
//! holds at most its share; established connections get TCP keep-alive.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::net::doorman::{Doorman, Head, held_by};
use crate::net::guard::Guard;
use crate::service::Net;

/// What the pool knows of one live connection, with the service's own
/// state `S` for it (an explicit enum, e.g. the file server's
/// `AwaitRequest`, `Sending(file)`, `Sent`, `Refusing`). RAM: about 56
/// bytes + `size_of::<S>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn<S = ()> {
    /// The client's address and port.
    pub peer: IpEndpoint,
    /// When the connection was first seen established.
    pub opened: Instant,
    /// When a byte last moved (the idle timeout counts from here).
    pub last_active: Instant,
    /// Bytes taken from the client.
    pub bytes_in: u64,
    /// Bytes queued to the client.
    pub bytes_out: u64,
    /// The service has closed its side (a later `Closed` socket state is
    /// then a normal end, not a reset).
    pub closing: bool,
    /// Which pool socket carries it (0..N): an index for state that must
    /// outlive the connection (the chat room's leave notices).
    pub slot: usize,
    /// The service's state for this connection; `S::default()` when it
    /// opens, dropped when it ends.
    pub state: S,
}

impl<S> Conn<S> {
    /// Records that bytes moved at `now`.
    pub fn touch(&mut self, now: Instant) {
        self.last_active = now;
    }

    /// Closes our side once: sends FIN after what is queued.
    pub fn close(&mut self, socket: &mut tcp::Socket<'_>) {
        if !self.closing {
            socket.close();
            self.closing = true;
        }
    }
}

/// Whether the peer's FIN has arrived on `socket` (bytes may still wait to
/// be read: smoltcp's `may_recv` stays true while they do).
pub fn peer_closed(socket: &tcp::Socket<'_>) -> bool {
    matches!(
        socket.state(),
        tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
    )
}

/// The pool already holds its `N` sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFull;

impl core::fmt::Display for PoolFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the socket pool is full")
    }
}

/// What a service does with its pool's connections.
pub trait ConnHandler<S = ()> {
    /// Moves bytes on one live connection.
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<S>);
    /// A connection began or ended.
    fn event(&mut self, event: PoolEvent<'_, S>);
}

/// How a connection began or ended, reported by [`TcpPool::poll`]. An
/// ended connection comes by value: its state ends with it.
#[derive(Debug, PartialEq, Eq)]
pub enum PoolEvent<'a, S = ()> {
    /// A client connected (the state is `S::default()`; the handler may
    /// set it).
    Opened(&'a mut Conn<S>),
    /// The connection ended after the service closed its side.
    Closed(Conn<S>),
    /// The connection ended without the service closing it: the client reset
    /// it, or smoltcp gave up retransmitting.
    Reset(Conn<S>),
    /// Nothing moved for the idle timeout: the pool aborted the connection.
    IdleTimeout(Conn<S>),
    /// The client's address already held its share of the pool (see
    /// [`Guard::per_source`]): the pool reset the new connection.
    OverShare(Conn<S>),
}

/// Up to `N` sockets listening on one port, each connection with state
/// `S`. RAM: `N` × (about 64 bytes + `size_of::<S>()`) here, plus each
/// socket's buffers (given by the caller to [`TcpPool::add`]).
#[derive(Debug)]
pub struct TcpPool<const N: usize, S = ()> {
    /// The port, the guard, and whether free sockets listen (see
    /// [`TcpPool::set_accepting`]).
    door: Doorman,
    idle_timeout: Option<Duration>,
    /// Sockets in SYN-RECEIVED at the last poll.
    half_open: usize,
    /// When a half-open socket is next due to be recycled.
    handshake_due: Option<Instant>,
    heads: heapless::Vec<Head, N>,
    /// The connection on each socket, beside its head.
    conns: heapless::Vec<Option<Conn<S>>, N>,
}

impl<const N: usize, S: Default> TcpPool<N, S> {
    /// An empty pool for `port`. `idle_timeout`: abort a connection on which
    /// nothing moved for that long (`None`: never).
    pub const fn new(port: u16, idle_timeout: Option<Duration>) -> Self {
        Self {
            door: Doorman {
                port,
                guard: Guard::DEFAULT,
                accepting: true,
            },
            idle_timeout,
            half_open: 0,
            handshake_due: None,
            heads: heapless::Vec::new(),
            conns: heapless::Vec::new(),
        }
    }

    /// Sets the idle timeout (`None`: never).
    pub fn set_idle_timeout(&mut self, idle_timeout: Option<Duration>) {
        self.idle_timeout = idle_timeout;
    }

    /// Sets the limits against hostile peers (default [`Guard::DEFAULT`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.door.guard = guard;
    }

    /// The limits in force.
    pub fn guard(&self) -> Guard {
        self.door.guard
    }

    /// The port the pool listens on.
    pub fn port(&self) -> u16 {
        self.door.port
    }

    /// Adds a socket to the set and the pool and starts listening. When the
    /// pool already holds `N` sockets the socket is dropped and nothing changes.
    pub fn add<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        socket: tcp::Socket<'b>,
    ) -> Result<SocketHandle, PoolFull> {
        if self.heads.is_full() {
            return Err(PoolFull);
        }
        let handle = sockets.add(socket);
        // Cannot fail: checked for room above.
        let _ = self.heads.push(Head {
            handle,
            live: false,
            half_open: None,
            resting: false,
        });
        let _ = self.conns.push(None);
        if self.door.accepting {
            let _ = sockets
                .get_mut::<tcp::Socket>(handle)
                .listen(self.door.port);
        }
        Ok(handle)
    }

    /// Number of sockets in the pool.
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    /// Whether the pool holds no socket.
    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Whether free sockets listen. A pool that stops accepting closes its
    /// listening sockets at once; connections in progress go on.
    pub fn set_accepting(&mut self, sockets: &mut SocketSet<'_>, accepting: bool) {
        self.door.accepting = accepting;
        if !accepting {
            for head in self.heads.iter().filter(|h| !h.live) {
                let socket = sockets.get_mut::<tcp::Socket>(head.handle);
                if socket.state() == tcp::State::Listen {
                    socket.close();
                }
            }
        }
    }

    /// Number of sockets carrying a connection.
    pub fn active(&self) -> usize {
        self.heads.iter().filter(|h| h.live).count()
    }

    /// Number of sockets in SYN-RECEIVED at the last poll: not free, not
    /// yet a connection.
    pub fn half_open(&self) -> usize {
        self.half_open
    }

    /// Steps every socket: reports connections that began or ended to
    /// `handler`, lets it serve each live connection, aborts idle ones, and
    /// makes every free socket listen again.
    pub fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant, handler: &mut impl ConnHandler<S>) {
        let sockets = &mut *net.sockets;
        let found = self.door.check(&mut self.heads, sockets, now);
        self.half_open = found.waiting;
        self.handshake_due = found.due;
        let (port, accepting) = (self.door.port, self.door.accepting);
        let cap = self.door.guard.source_cap(self.heads.len());
        // smoltcp gives a SYN to the first listening socket in set order, so
        // a client's repeated SYN would open a second handshake on a
        // listener placed before the one in SYN-RECEIVED for it. A freed
        // socket therefore waits to listen again until no later one is in
        // SYN-RECEIVED (a round trip, or until the guard recycles it).
        let last_syn_received = self
            .heads
            .iter()
            .rposition(|h| sockets.get::<tcp::Socket>(h.handle).state() == tcp::State::SynReceived);
        for index in 0..self.heads.len() {
            let handle = self.heads[index].handle;
            let (state, peer, opening) = {
                let socket = sockets.get::<tcp::Socket>(handle);
                let state = socket.state();
                let opening = !self.heads[index].live
                    && socket.is_active()
                    && state != tcp::State::SynReceived;
                (state, socket.remote_endpoint(), opening)
            };
            // Counted with this one: over the share means reset at once.
            let over_share =
                opening && peer.is_some_and(|p| held_by(&self.heads, sockets, p.addr) > cap);
            let head = &mut self.heads[index];
            let slot = &mut self.conns[index];
            if opening && let Some(peer) = peer {
                let socket = sockets.get_mut::<tcp::Socket>(handle);
                let conn = Conn {
                    peer,
                    opened: now,
                    last_active: now,
                    bytes_in: 0,
                    bytes_out: 0,
                    closing: false,
                    slot: index,
                    state: S::default(),
                };
                if over_share {
                    crate::diag::debug!("tcp/{}: {} over its share, reset", port, peer);
                    // Its RST leaves with this poll's egress; listen next time.
                    socket.abort();
                    head.resting = true;
                    handler.event(PoolEvent::OverShare(conn));
                    continue;
                }
                socket.set_keep_alive(self.door.guard.keep_alive);
                head.live = true;
                let conn = slot.insert(conn);
                crate::diag::debug!("tcp/{}: {} connected", port, peer);
                handler.event(PoolEvent::Opened(conn));
            }
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if let Some(conn) = slot.as_mut() {
                let over = matches!(state, tcp::State::Closed | tcp::State::TimeWait);
                if !over {
                    handler.serve(socket, conn);
                }
                let idle_expired = self
                    .idle_timeout
                    .is_some_and(|t| now >= conn.last_active + t);
                if over || !socket.is_open() {
                    head.live = false;
                    if let Some(conn) = slot.take() {
                        crate::diag::debug!(
                            "tcp/{}: {} {} after {} bytes in, {} out",
                            port,
                            conn.peer,
                            if conn.closing { "closed" } else { "reset" },
                            conn.bytes_in,
                            conn.bytes_out
                        );
                        handler.event(if conn.closing {
                            PoolEvent::Closed(conn)
                        } else {
                            PoolEvent::Reset(conn)
                        });
                    }
                } else if idle_expired {
                    socket.abort();
                    head.live = false;
                    head.resting = true;
                    if let Some(conn) = slot.take() {
                        crate::diag::debug!("tcp/{}: {} idle, aborted", port, conn.peer);
                        handler.event(PoolEvent::IdleTimeout(conn));
                    }
                    continue;
                }
            }
            // Aborted on an earlier poll: its RST has gone out since.
            head.resting = false;
            let later_handshake = last_syn_received.is_some_and(|j| j > index);
            if accepting && !head.live && !socket.is_open() && !later_handshake {
                // Also ends TIME-WAIT early: this side has nothing left to
                // send, and a free socket is worth more than a late FIN.
                let _ = socket.listen(port);
            }
        }
    }

    /// The socket of pool slot `slot`.
    pub fn handle(&self, slot: usize) -> Option<SocketHandle> {
        self.heads.get(slot).map(|h| h.handle)
    }

    /// The connection on pool slot `slot`, for a service that drives the
    /// sockets itself (e.g. to broadcast across them).
    pub fn conn_mut(&mut self, slot: usize) -> Option<&mut Conn<S>> {
        self.conns.get_mut(slot).and_then(Option::as_mut)
    }

    /// The live connections.
    pub fn conns(&self) -> impl Iterator<Item = &Conn<S>> {
        self.conns.iter().filter_map(Option::as_ref)
    }

    /// The earliest deadline: a resting socket to listen again, a
    /// handshake timing out, a live connection's idle timeout.
    pub fn poll_at(&self) -> Option<Instant> {
        let handshakes = self.handshake_due;
        let resting = self
            .heads
            .iter()
            .any(|h| h.resting)
            .then_some(Instant::ZERO);
        let idle = self.idle_timeout.and_then(|timeout| {
            self.conns
                .iter()
                .filter_map(|c| c.as_ref().map(|c| c.last_active + timeout))
                .min()
        });
        crate::net::runner::earliest(crate::net::runner::earliest(handshakes, resting), idle)
    }
}
