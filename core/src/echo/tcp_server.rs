//! The TCP echo server: many clients at once, full duplex, any volume.
//!
//! Bytes move from a socket's receive buffer to its transmit buffer only as
//! far as the transmit buffer has room, so a client that sends without
//! reading fills its own buffers and is throttled by TCP's window
//! (back-pressure), never by dropping a byte, and never slows anyone else.

use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use super::{EchoEvents, stream_event};
use crate::net::guard::Guard;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// Bytes copied per step from receive to transmit buffer (a stack-free
/// scratch array inside the server). RAM: 1 KiB.
pub const CHUNK: usize = 1024;

/// A TCP echo server with up to `N` simultaneous clients.
///
/// RAM: 1 KiB scratch + 16 × 48 bytes of events + the [`TcpPool`], plus the
/// sockets' buffers (two per client, sized by the caller).
pub struct TcpEchoServer<const N: usize> {
    pool: TcpPool<N>,
    /// Events for the caller to drain.
    pub events: EchoEvents,
    chunk: [u8; CHUNK],
}

impl<const N: usize> TcpEchoServer<N> {
    /// A server on `port`; `idle_timeout` aborts clients that move nothing.
    pub fn new(port: u16, idle_timeout: Option<Duration>) -> Self {
        Self {
            pool: TcpPool::new(port, idle_timeout),
            events: EchoEvents::new(),
            chunk: [0; CHUNK],
        }
    }

    /// Sets what the pool does against hostile peers (see [`Guard`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.pool.set_guard(guard);
    }

    /// Adds one socket (one more simultaneous client). Nagle is turned off:
    /// an echo should come back at once, not wait for the previous ACK.
    pub fn add_socket<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        mut socket: tcp::Socket<'b>,
    ) -> Result<(), PoolFull> {
        socket.set_nagle_enabled(false);
        self.pool.add(sockets, socket).map(|_| ())
    }

    /// The pool, for its size and activity.
    pub fn pool(&self) -> &TcpPool<N> {
        &self.pool
    }
}

/// Moves what fits from receive to transmit buffer; closes after the client
/// closed and everything went back.
fn echo(socket: &mut tcp::Socket<'_>, conn: &mut Conn, chunk: &mut [u8], now: Instant) {
    loop {
        let room = socket.send_capacity() - socket.send_queue();
        let n = room.min(chunk.len());
        if n == 0 || !socket.can_recv() || !socket.may_send() {
            break;
        }
        let got = socket.recv_slice(&mut chunk[..n]).unwrap_or(0);
        if got == 0 {
            break;
        }
        // Cannot come short: `room` bytes are free and we are the only writer.
        let sent = socket.send_slice(&chunk[..got]).unwrap_or(0);
        conn.bytes_in += got as u64;
        conn.bytes_out += sent as u64;
        conn.touch(now);
    }
    if !socket.may_recv() && socket.recv_queue() == 0 {
        conn.close(socket);
    }
}

struct Echo<'a> {
    chunk: &'a mut [u8],
    events: &'a mut EchoEvents,
    now: Instant,
}

impl ConnHandler for Echo<'_> {
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn) {
        echo(socket, conn, self.chunk, self.now);
    }

    fn event(&mut self, event: PoolEvent) {
        self.events.push(stream_event(event, |c| c.bytes_out));
    }
}

impl<const N: usize> Service for TcpEchoServer<N> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut handler = Echo {
            chunk: &mut self.chunk,
            events: &mut self.events,
            now,
        };
        self.pool.poll(net, now, &mut handler);
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        self.pool.poll_at()
    }
}
