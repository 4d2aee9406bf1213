//! The TCP discard server: reads and drops, so the sender's window never
//! closes and its throughput is the stack's, not an application's.

use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use super::DiscardEvents;
use crate::echo::stream_event;
use crate::net::guard::Guard;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// A TCP discard server with up to `N` simultaneous clients.
///
/// RAM: 8 × 40 bytes of events + the [`TcpPool`], plus each socket's
/// buffers (only the receive buffer matters: nothing is ever sent).
pub struct TcpDiscardServer<const N: usize> {
    pool: TcpPool<N>,
    /// Events for the caller to drain.
    pub events: DiscardEvents,
}

impl<const N: usize> TcpDiscardServer<N> {
    /// A server on `port`; `idle_timeout` aborts clients that send nothing.
    pub fn new(port: u16, idle_timeout: Option<Duration>) -> Self {
        Self {
            pool: TcpPool::new(port, idle_timeout),
            events: DiscardEvents::new(),
        }
    }

    /// Sets what the pool does against hostile peers (see [`Guard`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.pool.set_guard(guard);
    }

    /// Adds one socket (one more simultaneous client).
    pub fn add_socket<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        socket: tcp::Socket<'b>,
    ) -> Result<(), PoolFull> {
        self.pool.add(sockets, socket).map(|_| ())
    }
}

struct Discard<'a> {
    events: &'a mut DiscardEvents,
    now: Instant,
}

impl ConnHandler for Discard<'_> {
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn) {
        let got = socket.recv(|b| (b.len(), b.len())).unwrap_or(0);
        if got > 0 {
            conn.bytes_in += got as u64;
            conn.touch(self.now);
        }
        if !socket.may_recv() && socket.recv_queue() == 0 {
            conn.close(socket);
        }
    }

    fn event(&mut self, event: PoolEvent) {
        self.events.push(stream_event(event, |c| c.bytes_in));
    }
}

impl<const N: usize> Service for TcpDiscardServer<N> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut handler = Discard {
            events: &mut self.events,
            now,
        };
        self.pool.poll(net, now, &mut handler);
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        self.pool.poll_at()
    }
}
