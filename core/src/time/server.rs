//! The time servers: on connect, send the time and close.
//!
//! - the notes' time server (port 9999) and RFC 867 daytime (port 13):
//!   `ctime` text + CRLF, e.g. `Tue Apr  4 14:07:31 2017\r\n`, in UTC;
//! - RFC 868 time (port 37) over TCP: four bytes, seconds since 1900.
//!
//! Until the [`WallClock`] is set the server closes without sending a wrong
//! time, and reports [`TimeEvent::ClockNotSet`].

use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use super::{TimeEvent, TimeEvents, TimeFormat, ctime, rfc868};
use crate::clock::WallClock;
use crate::net::guard::Guard;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// Where one time client stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeConn {
    /// Connected; the reply goes out on the next poll.
    #[default]
    Connected,
    /// The reply (or nothing, clock unset) was queued and our FIN sent.
    Answered,
}

/// Longest reply: a ctime line. Each socket's transmit buffer must hold it.
pub const MAX_REPLY: usize = ctime::CTIME_LEN + 2;

/// A TCP time server for up to `N` simultaneous clients.
/// RAM: 16 × 40 bytes of events + the [`TcpPool`], plus socket buffers
/// (a 64-byte transmit and receive buffer per socket is plenty).
pub struct TcpTimeServer<'c, const N: usize> {
    pool: TcpPool<N, TimeConn>,
    format: TimeFormat,
    clock: &'c WallClock,
    /// Events for the caller to drain.
    pub events: TimeEvents,
}

impl<'c, const N: usize> TcpTimeServer<'c, N> {
    /// A server on `port` sending `format`. A client that neither reads nor
    /// closes is aborted after `linger`.
    pub fn new(port: u16, format: TimeFormat, clock: &'c WallClock, linger: Duration) -> Self {
        Self {
            pool: TcpPool::new(port, Some(linger)),
            format,
            clock,
            events: TimeEvents::new(),
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

/// Encodes the reply for `unix_secs` into `out`; `None` if the time cannot
/// be written in that format (a ctime year past 9999).
pub fn encode_reply(
    format: TimeFormat,
    unix_secs: u64,
    out: &mut [u8; MAX_REPLY],
) -> Option<&[u8]> {
    match format {
        TimeFormat::Ctime => {
            let mut line = [0u8; MAX_REPLY];
            ctime::format_line(unix_secs, &mut line).ok()?;
            *out = line;
            Some(&out[..])
        }
        TimeFormat::Rfc868 => {
            out[..4].copy_from_slice(&rfc868::encode(unix_secs));
            Some(&out[..4])
        }
    }
}

struct Reply<'a, 'c> {
    format: TimeFormat,
    clock: &'c WallClock,
    events: &'a mut TimeEvents,
    now: Instant,
}

impl ConnHandler<TimeConn> for Reply<'_, '_> {
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<TimeConn>) {
        if conn.state == TimeConn::Answered {
            // Read and drop what the client sends, so it cannot fill the window.
            let _ = socket.recv(|b| (b.len(), ()));
            return;
        }
        conn.state = TimeConn::Answered;
        let Some(unix) = self.clock.unix_secs(self.now) else {
            self.events.push(TimeEvent::ClockNotSet { peer: conn.peer });
            conn.close(socket);
            return;
        };
        let mut buf = [0u8; MAX_REPLY];
        match encode_reply(self.format, unix, &mut buf) {
            Some(reply) if socket.send_capacity() - socket.send_queue() >= reply.len() => {
                let sent = socket.send_slice(reply).unwrap_or(0);
                conn.bytes_out += sent as u64;
                self.events.push(TimeEvent::Served {
                    peer: conn.peer,
                    unix_secs: unix,
                    format: self.format,
                });
            }
            _ => self
                .events
                .push(TimeEvent::CannotEncode { peer: conn.peer }),
        }
        conn.close(socket);
    }

    fn event(&mut self, event: PoolEvent<'_, TimeConn>) {
        if let PoolEvent::Reset(c) | PoolEvent::IdleTimeout(c) = event
            && (c.state != TimeConn::Answered || c.bytes_out == 0)
        {
            self.events.push(TimeEvent::Aborted { peer: c.peer });
        }
    }
}

impl<const N: usize> Service for TcpTimeServer<'_, N> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut handler = Reply {
            format: self.format,
            clock: self.clock,
            events: &mut self.events,
            now,
        };
        self.pool.poll(net, now, &mut handler);
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        self.pool.poll_at()
    }
}
