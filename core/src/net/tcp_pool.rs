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
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::net::guard::Guard;

/// Two handshakes of one client this far apart are a resent SYN (the
/// client's retransmission timeout is a second at least, RFC 6298); closer
/// together, the wire duplicated it.
const RESENT_SYN: Duration = Duration::from_millis(500);

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

#[derive(Debug)]
struct Slot<S> {
    handle: SocketHandle,
    conn: Option<Conn<S>>,
    /// Since when the socket has been in SYN-RECEIVED (not yet a `conn`).
    half_open: Option<Instant>,
    /// Aborted by the pool this poll: it listens again on the next one,
    /// after its RST has gone out.
    resting: bool,
}

/// Up to `N` sockets listening on one port, each connection with state
/// `S`. RAM: `N` × (about 64 bytes + `size_of::<S>()`) here, plus each
/// socket's buffers (given by the caller to [`TcpPool::add`]).
#[derive(Debug)]
pub struct TcpPool<const N: usize, S = ()> {
    port: u16,
    idle_timeout: Option<Duration>,
    guard: Guard,
    /// Sockets in SYN-RECEIVED at the last poll.
    half_open: usize,
    /// When a half-open socket is next due to be recycled.
    handshake_due: Option<Instant>,
    /// Free sockets listen (see [`TcpPool::set_accepting`]).
    accepting: bool,
    slots: heapless::Vec<Slot<S>, N>,
}

impl<const N: usize, S: Default> TcpPool<N, S> {
    /// An empty pool for `port`. `idle_timeout`: abort a connection on which
    /// nothing moved for that long (`None`: never).
    pub const fn new(port: u16, idle_timeout: Option<Duration>) -> Self {
        Self {
            port,
            idle_timeout,
            guard: Guard::DEFAULT,
            half_open: 0,
            handshake_due: None,
            accepting: true,
            slots: heapless::Vec::new(),
        }
    }

    /// Sets the idle timeout (`None`: never).
    pub fn set_idle_timeout(&mut self, idle_timeout: Option<Duration>) {
        self.idle_timeout = idle_timeout;
    }

    /// Sets the limits against hostile peers (default [`Guard::DEFAULT`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.guard = guard;
    }

    /// The limits in force.
    pub fn guard(&self) -> Guard {
        self.guard
    }

    /// The port the pool listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Adds a socket to the set and the pool and starts listening. When the
    /// pool already holds `N` sockets the socket is dropped and nothing changes.
    pub fn add<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        socket: tcp::Socket<'b>,
    ) -> Result<SocketHandle, PoolFull> {
        if self.slots.is_full() {
            return Err(PoolFull);
        }
        let handle = sockets.add(socket);
        // Cannot fail: checked for room above.
        let _ = self.slots.push(Slot {
            handle,
            conn: None,
            half_open: None,
            resting: false,
        });
        if self.accepting {
            let _ = sockets.get_mut::<tcp::Socket>(handle).listen(self.port);
        }
        Ok(handle)
    }

    /// Number of sockets in the pool.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the pool holds no socket.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether free sockets listen. A pool that stops accepting closes its
    /// listening sockets at once; connections in progress go on.
    pub fn set_accepting(&mut self, sockets: &mut SocketSet<'_>, accepting: bool) {
        self.accepting = accepting;
        if !accepting {
            for slot in self.slots.iter().filter(|s| s.conn.is_none()) {
                let socket = sockets.get_mut::<tcp::Socket>(slot.handle);
                if socket.state() == tcp::State::Listen {
                    socket.close();
                }
            }
        }
    }

    /// Number of sockets carrying a connection.
    pub fn active(&self) -> usize {
        self.slots.iter().filter(|s| s.conn.is_some()).count()
    }

    /// Number of sockets in SYN-RECEIVED at the last poll: not free, not
    /// yet a connection.
    pub fn half_open(&self) -> usize {
        self.half_open
    }

    /// Sockets (half-open or connected) held by `addr`.
    fn held_by(&self, sockets: &SocketSet<'_>, addr: IpAddress) -> usize {
        self.slots
            .iter()
            .filter(|s| {
                let socket = sockets.get::<tcp::Socket>(s.handle);
                socket.is_active() && socket.remote_endpoint().is_some_and(|e| e.addr == addr)
            })
            .count()
    }

    /// Recycles half-open sockets, before the connections are served: those
    /// past the handshake timeout, duplicates of another socket's handshake
    /// (a retransmitted SYN that reached a listener placed earlier in the
    /// set), those beyond their address's share, and then the oldest while
    /// fewer than the reserve listen. Recycling is silent: a spoofed source
    /// gets nothing, a real client's retransmitted SYN finds a listener.
    fn guard_handshakes(&mut self, sockets: &mut SocketSet<'_>, now: Instant) {
        let cap = self.guard.source_cap(self.slots.len());
        let mut recycle: heapless::Vec<usize, N> = heapless::Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let socket = sockets.get::<tcp::Socket>(slot.handle);
            if slot.conn.is_some() || socket.state() != tcp::State::SynReceived {
                continue;
            }
            let since = slot.half_open.unwrap_or(now);
            let Some(peer) = socket.remote_endpoint() else {
                continue;
            };
            let expired = now >= since + self.guard.handshake_timeout;
            // A second handshake for the same client: its SYN came again and
            // a listener placed earlier in the set took it. The client will
            // answer the SYN-ACK that reached it first: the older one when
            // the wire duplicated its SYN (two copies close together), the
            // newer one when it sent its SYN again after its retransmission
            // timeout (a second at least) because no SYN-ACK came. A
            // handshake of a client already connected always goes.
            let duplicate = self.slots.iter().enumerate().any(|(j, other)| {
                let o = sockets.get::<tcp::Socket>(other.handle);
                if j == i || !o.is_active() || o.remote_endpoint() != Some(peer) {
                    return false;
                }
                if other.conn.is_some() {
                    return true;
                }
                // New in SYN-RECEIVED this poll: since now.
                let theirs = other.half_open.unwrap_or(now);
                if theirs > since || (theirs == since && j > i) {
                    // The other is newer: this one goes if the SYN was resent.
                    theirs >= since + RESENT_SYN
                } else {
                    // The other is older: this one goes if it is a copy.
                    since < theirs + RESENT_SYN
                }
            });
            let over_share = self.held_by(sockets, peer.addr) > cap && {
                // The newest of that address's half-open sockets goes first.
                !self.slots.iter().any(|o| {
                    o.conn.is_none()
                        && o.half_open.is_some_and(|t| t > since)
                        && sockets
                            .get::<tcp::Socket>(o.handle)
                            .remote_endpoint()
                            .is_some_and(|e| e.addr == peer.addr)
                })
            };
            if expired || duplicate || over_share {
                let _ = recycle.push(i);
            }
        }
        for &i in &recycle {
            self.recycle(sockets, i);
        }
        // Under a flood, keep the reserve listening: the oldest half-open
        // sockets go, once older than the flood age (a burst of real
        // clients gets its round trips). A flood is more handshakes waiting
        // than the reserve: one or two are slow clients (a lost SYN-ACK)
        // and keep their sockets. At least one socket is always left for
        // handshakes.
        let reserve = self.guard.reserve.min(self.slots.len().saturating_sub(1));
        let flood_age = self.guard.flood_age;
        while self.accepting && self.listening(sockets) < reserve {
            let mut waiting = self.slots.iter().enumerate().filter(|(_, s)| {
                s.conn.is_none()
                    && sockets.get::<tcp::Socket>(s.handle).state() == tcp::State::SynReceived
            });
            let count = waiting.clone().count();
            let oldest = waiting
                .by_ref()
                .filter(|(_, s)| s.half_open.is_some_and(|t| now >= t + flood_age))
                .min_by_key(|(_, s)| s.half_open)
                .map(|(i, _)| i);
            match oldest {
                Some(i) if count > reserve => self.recycle(sockets, i),
                _ => break,
            }
        }
        self.half_open = 0;
        for slot in self.slots.iter_mut() {
            let syn = sockets.get::<tcp::Socket>(slot.handle).state() == tcp::State::SynReceived;
            if slot.conn.is_none() && syn {
                slot.half_open.get_or_insert(now);
                self.half_open += 1;
            } else {
                slot.half_open = None;
            }
        }
        // Next due: a handshake timeout; or, while the reserve is short and
        // others wait, the flood age of the youngest not yet old enough.
        let short = self.accepting && self.listening(sockets) < reserve && self.half_open > reserve;
        self.handshake_due = self
            .slots
            .iter()
            .filter_map(|s| s.half_open)
            .flat_map(|t| {
                let aged = (short && t + flood_age > now).then_some(t + flood_age);
                [Some(t + self.guard.handshake_timeout), aged]
            })
            .flatten()
            .min();
    }

    /// Drops slot `i`'s half-open socket without a word and listens again.
    fn recycle(&mut self, sockets: &mut SocketSet<'_>, i: usize) {
        if let Some(slot) = self.slots.get_mut(i) {
            let socket = sockets.get_mut::<tcp::Socket>(slot.handle);
            crate::diag::debug!(
                "tcp/{}: half-open from {:?} recycled",
                self.port,
                socket.remote_endpoint()
            );
            socket.abort();
            slot.half_open = None;
            if self.accepting {
                // listen() forgets the peer, so no RST leaves for it.
                let _ = socket.listen(self.port);
            }
        }
    }

    /// Sockets listening now.
    fn listening(&self, sockets: &SocketSet<'_>) -> usize {
        self.slots
            .iter()
            .filter(|s| sockets.get::<tcp::Socket>(s.handle).state() == tcp::State::Listen)
            .count()
    }

    /// Steps every socket: reports connections that began or ended to
    /// `handler`, lets it serve each live connection, aborts idle ones, and
    /// makes every free socket listen again.
    pub fn poll(
        &mut self,
        sockets: &mut SocketSet<'_>,
        now: Instant,
        handler: &mut impl ConnHandler<S>,
    ) {
        self.guard_handshakes(sockets, now);
        let cap = self.guard.source_cap(self.slots.len());
        // smoltcp gives a SYN to the first listening socket in set order, so
        // a client's repeated SYN would open a second handshake on a
        // listener placed before the one in SYN-RECEIVED for it. A freed
        // socket therefore waits to listen again until no later one is in
        // SYN-RECEIVED (a round trip, or until the guard recycles it).
        let last_syn_received = self
            .slots
            .iter()
            .rposition(|s| sockets.get::<tcp::Socket>(s.handle).state() == tcp::State::SynReceived);
        for index in 0..self.slots.len() {
            let handle = self.slots[index].handle;
            let (state, peer, opening) = {
                let socket = sockets.get::<tcp::Socket>(handle);
                let state = socket.state();
                let opening = self.slots[index].conn.is_none()
                    && socket.is_active()
                    && state != tcp::State::SynReceived;
                (state, socket.remote_endpoint(), opening)
            };
            if opening && let Some(peer) = peer {
                // Counted with this one: over the share means reset at once.
                let over_share = self.held_by(sockets, peer.addr) > cap;
                let slot = &mut self.slots[index];
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
                    crate::diag::debug!("tcp/{}: {} over its share, reset", self.port, peer);
                    // Its RST leaves with this poll's egress; listen next time.
                    socket.abort();
                    slot.resting = true;
                    handler.event(PoolEvent::OverShare(conn));
                    continue;
                }
                socket.set_keep_alive(self.guard.keep_alive);
                let conn = slot.conn.insert(conn);
                crate::diag::debug!("tcp/{}: {} connected", self.port, peer);
                handler.event(PoolEvent::Opened(conn));
            }
            let slot = &mut self.slots[index];
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if let Some(conn) = slot.conn.as_mut() {
                let over = matches!(state, tcp::State::Closed | tcp::State::TimeWait);
                if !over {
                    handler.serve(socket, conn);
                }
                let idle_expired = self
                    .idle_timeout
                    .is_some_and(|t| now >= conn.last_active + t);
                if over || !socket.is_open() {
                    if let Some(conn) = slot.conn.take() {
                        crate::diag::debug!(
                            "tcp/{}: {} {} after {} bytes in, {} out",
                            self.port,
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
                    slot.resting = true;
                    if let Some(conn) = slot.conn.take() {
                        crate::diag::debug!("tcp/{}: {} idle, aborted", self.port, conn.peer);
                        handler.event(PoolEvent::IdleTimeout(conn));
                    }
                    continue;
                }
            }
            // Aborted on an earlier poll: its RST has gone out since.
            slot.resting = false;
            let later_handshake = last_syn_received.is_some_and(|j| j > index);
            if self.accepting && slot.conn.is_none() && !socket.is_open() && !later_handshake {
                // Also ends TIME-WAIT early: this side has nothing left to
                // send, and a free socket is worth more than a late FIN.
                let _ = socket.listen(self.port);
            }
        }
    }

    /// The socket of pool slot `slot`.
    pub fn handle(&self, slot: usize) -> Option<SocketHandle> {
        self.slots.get(slot).map(|s| s.handle)
    }

    /// The connection on pool slot `slot`, for a service that drives the
    /// sockets itself (e.g. to broadcast across them).
    pub fn conn_mut(&mut self, slot: usize) -> Option<&mut Conn<S>> {
        self.slots.get_mut(slot).and_then(|s| s.conn.as_mut())
    }

    /// The live connections.
    pub fn conns(&self) -> impl Iterator<Item = &Conn<S>> {
        self.slots.iter().filter_map(|s| s.conn.as_ref())
    }

    /// The earliest deadline: a resting socket to listen again, a
    /// handshake timing out, a live connection's idle timeout.
    pub fn poll_at(&self) -> Option<Instant> {
        let handshakes = self.handshake_due;
        let resting = self
            .slots
            .iter()
            .any(|s| s.resting)
            .then_some(Instant::ZERO);
        let idle = self.idle_timeout.and_then(|timeout| {
            self.slots
                .iter()
                .filter_map(|s| s.conn.as_ref().map(|c| c.last_active + timeout))
                .min()
        });
        crate::net::runner::earliest(crate::net::runner::earliest(handshakes, resting), idle)
    }
}
