//! A pool of TCP sockets listening on one port, so that a server serves
//! several clients at once and keeps listening while others are connected.
//!
//! smoltcp lets several sockets listen on the same port; a SYN goes to the
//! first one in `Listen`. Each pool socket carries one connection at a time
//! and listens again as soon as that connection is over. With every socket
//! busy, smoltcp answers a new SYN with RST: the extra client is refused at
//! once (it may retry), and the connected ones notice nothing.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

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
}

#[derive(Debug)]
struct Slot<S> {
    handle: SocketHandle,
    conn: Option<Conn<S>>,
}

/// Up to `N` sockets listening on one port, each connection with state
/// `S`. RAM: `N` × (about 64 bytes + `size_of::<S>()`) here, plus each
/// socket's buffers (given by the caller to [`TcpPool::add`]).
#[derive(Debug)]
pub struct TcpPool<const N: usize, S = ()> {
    port: u16,
    idle_timeout: Option<Duration>,
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
            accepting: true,
            slots: heapless::Vec::new(),
        }
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
        let _ = self.slots.push(Slot { handle, conn: None });
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

    /// Steps every socket: reports connections that began or ended to
    /// `handler`, lets it serve each live connection, aborts idle ones, and
    /// makes every free socket listen again.
    pub fn poll(
        &mut self,
        sockets: &mut SocketSet<'_>,
        now: Instant,
        handler: &mut impl ConnHandler<S>,
    ) {
        // smoltcp gives a SYN to the first matching socket in set order, so a
        // duplicated SYN would open a second half-connection on a listening
        // socket placed before the one in SYN-RECEIVED for that client. A
        // freed socket therefore waits to listen again until no later one is
        // in SYN-RECEIVED (one round trip at most).
        let last_syn_received = self
            .slots
            .iter()
            .rposition(|s| sockets.get::<tcp::Socket>(s.handle).state() == tcp::State::SynReceived);
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let socket = sockets.get_mut::<tcp::Socket>(slot.handle);
            let state = socket.state();
            if slot.conn.is_none()
                && socket.is_active()
                && state != tcp::State::SynReceived
                && let Some(peer) = socket.remote_endpoint()
            {
                let conn = slot.conn.insert(Conn {
                    peer,
                    opened: now,
                    last_active: now,
                    bytes_in: 0,
                    bytes_out: 0,
                    closing: false,
                    slot: index,
                    state: S::default(),
                });
                crate::diag::debug!("tcp/{}: {} connected", self.port, peer);
                handler.event(PoolEvent::Opened(conn));
            }
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
                    if let Some(conn) = slot.conn.take() {
                        crate::diag::debug!("tcp/{}: {} idle, aborted", self.port, conn.peer);
                        handler.event(PoolEvent::IdleTimeout(conn));
                    }
                }
            }
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

    /// The earliest idle-timeout deadline of the live connections.
    pub fn poll_at(&self) -> Option<Instant> {
        let timeout = self.idle_timeout?;
        self.slots
            .iter()
            .filter_map(|s| s.conn.as_ref().map(|c| c.last_active + timeout))
            .min()
    }
}
