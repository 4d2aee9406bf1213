//! The file server: one request, then the file streams through the socket
//! as its transmit buffer frees up, then a close.
//!
//! Memory per download is the socket's two buffers and one open-file
//! handle: the file is read straight into the socket's transmit buffer, so
//! a 1 GiB file costs what a 1 KiB one does.

use embedded_io::Read;
use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use super::reply::ErrReply;
use super::request::{self, Request};
use super::store::{FileStore, OpenError};
use super::{FileEvent, FileEvents};
use crate::net::guard::Guard;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// Where one download stands.
#[derive(Debug)]
pub enum FileConn<F> {
    /// Waiting for the request (up to its newline, bound, a pause, a
    /// half-close or the timeout). The bytes stay in the socket's receive
    /// buffer until then; `seen` is how many had arrived at the last poll,
    /// so a new one restarts the pause (`Conn::last_active` is its time).
    AwaitRequest {
        /// Request bytes received so far.
        seen: usize,
    },
    /// Streaming the open file.
    Sending(F),
    /// Every byte queued; closing.
    Sent,
    /// An ERR line queued, or the file failed: closing.
    Refusing,
}

impl<F> Default for FileConn<F> {
    /// A new connection: no request byte yet.
    fn default() -> Self {
        FileConn::AwaitRequest { seen: 0 }
    }
}

/// Timers of the file server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTimers {
    /// How long a client may take to send its request.
    pub request: Duration,
    /// Abort a download on which nothing moved for this long (a client that
    /// stopped reading).
    pub stall: Duration,
    /// A request without a line end is whole once no byte came for this
    /// long: the notes' client sends `GET name` with none and waits. Longer
    /// than a retransmission (Linux's least RTO is 200 ms), so a request
    /// split across segments is still read whole.
    pub pause: Duration,
}

impl FileTimers {
    /// 10 s for the request, 60 s of stall, 500 ms of pause.
    pub const DEFAULT: Self = Self {
        request: Duration::from_secs(10),
        stall: Duration::from_secs(60),
        pause: Duration::from_millis(500),
    };
}

impl Default for FileTimers {
    /// [`FileTimers::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A file server for up to `N` simultaneous downloads from store `S`.
///
/// RAM: the [`TcpPool`] (each connection's state a [`FileConn`] holding
/// the open file) and 16 × 48 bytes of events, plus the sockets' buffers (each transmit buffer must
/// hold at least 32 bytes for an ERR line; the receive buffer at least
/// [`request::MAX_REQUEST`] + 1 bytes to tell an overlong request).
pub struct FileServer<S: FileStore, const N: usize> {
    pool: TcpPool<N, FileConn<S::File>>,
    store: S,
    timers: FileTimers,
    /// Events for the caller to drain.
    pub events: FileEvents,
}

impl<S: FileStore, const N: usize> FileServer<S, N> {
    /// A server on `port` serving `store`.
    pub fn new(port: u16, store: S, timers: FileTimers) -> Self {
        Self {
            pool: TcpPool::new(port, Some(timers.stall)),
            store,
            timers,
            events: FileEvents::new(),
        }
    }

    /// Sets what the pool does against hostile peers (see [`Guard`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.pool.set_guard(guard);
    }

    /// Adds one socket (one more simultaneous download).
    pub fn add_socket<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        socket: tcp::Socket<'b>,
    ) -> Result<(), PoolFull> {
        self.pool.add(sockets, socket).map(|_| ())
    }

    /// Number of downloads in progress.
    pub fn active(&self) -> usize {
        self.pool.active()
    }
}

/// What a request leads to.
enum Answer<F> {
    Send(F, bool),
    Refuse(ErrReply),
}

fn answer<S: FileStore>(store: &mut S, bytes: &[u8]) -> Answer<S::File> {
    let (name, default) = match request::parse(bytes) {
        Err(request::BadRequest::TooLong) => return Answer::Refuse(ErrReply::TooLong),
        // A refused name is reported like a missing one: nothing to probe.
        Err(request::BadRequest::Name(_)) => return Answer::Refuse(ErrReply::NotFound),
        Ok((Request::Named(name), _)) => (name, false),
        Ok((Request::Default, _)) => match store.default_name() {
            Some(name) => (name, true),
            None => return Answer::Refuse(ErrReply::NoDefault),
        },
    };
    // Copy the name out of the socket buffer's borrow before opening.
    let mut owned = heapless::String::<{ super::name::MAX_NAME }>::new();
    if owned.push_str(name).is_err() {
        return Answer::Refuse(ErrReply::NotFound);
    }
    match store.open(&owned) {
        Ok(file) => Answer::Send(file, default),
        Err(OpenError::NotFound | OpenError::Io) => Answer::Refuse(ErrReply::NotFound),
    }
}

/// When a request is decided, from what has arrived so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Not whole yet: wait for more, a pause, a half-close or the timeout.
    Wait,
    /// Answer what arrived.
    Answer,
    /// Nothing arrived in time.
    Timeout,
}

impl Decision {
    /// `received`: the bytes so far; `closed`: the client half-closed;
    /// `paused`: no new byte for the pause; `timed_out`: the request
    /// timeout passed.
    fn of(received: &[u8], closed: bool, paused: bool, timed_out: bool) -> Self {
        // A FIN, even before any byte, is a whole (maybe empty) request, as
        // for the notes' server that sends the file whatever its one recv()
        // returned.
        if request::is_complete(received) || closed || paused {
            Decision::Answer
        } else if timed_out && received.is_empty() {
            Decision::Timeout
        } else if timed_out {
            Decision::Answer
        } else {
            Decision::Wait
        }
    }
}

struct Handler<'a, S: FileStore> {
    store: &'a mut S,
    events: &'a mut FileEvents,
    timers: FileTimers,
    now: Instant,
}

impl<S: FileStore> Handler<'_, S> {
    fn take_request(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<FileConn<S::File>>) {
        let FileConn::AwaitRequest { seen } = &mut conn.state else {
            return;
        };
        // Copied out, not taken: the socket's buffer holds the request
        // until it is whole (one byte past the bound tells an overlong one).
        let mut buf = [0u8; request::MAX_REQUEST + 1];
        let n = socket.peek_slice(&mut buf).unwrap_or(0);
        let received = &buf[..n];
        if n > *seen {
            *seen = n;
            conn.last_active = self.now;
        }
        let timed_out = self.now >= conn.opened + self.timers.request;
        // The client's FIN came: nothing more will arrive.
        let closed = crate::net::tcp_pool::peer_closed(socket);
        let answer = match Decision::of(
            received,
            closed,
            n > 0 && self.now >= conn.last_active + self.timers.pause,
            timed_out,
        ) {
            Decision::Wait => return,
            Decision::Answer => answer(self.store, received),
            Decision::Timeout => Answer::Refuse(ErrReply::Timeout),
        };
        // The request and whatever followed it are dropped.
        let _ = socket.recv(|b| (b.len(), ()));
        conn.touch(self.now);
        match answer {
            Answer::Send(file, default) => {
                conn.state = FileConn::Sending(file);
                self.events.push(FileEvent::Sending {
                    peer: conn.peer,
                    default,
                });
                self.stream(socket, conn);
            }
            Answer::Refuse(reason) => {
                let _ = socket.send_slice(reason.line());
                conn.state = FileConn::Refusing;
                conn.close(socket);
                self.events.push(FileEvent::Refused {
                    peer: conn.peer,
                    reason,
                });
            }
        }
    }

    fn stream(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<FileConn<S::File>>) {
        let FileConn::Sending(file) = &mut conn.state else {
            return;
        };
        while socket.can_send() {
            let read = socket.send(|buf| match file.read(buf) {
                Ok(n) => (n, Ok(n)),
                Err(_) => (0, Err(())),
            });
            match read {
                Ok(Ok(0)) => {
                    conn.state = FileConn::Sent;
                    conn.close(socket);
                    return;
                }
                Ok(Ok(n)) => {
                    conn.bytes_out += n as u64;
                    conn.last_active = self.now;
                }
                Ok(Err(())) | Err(_) => {
                    socket.abort();
                    self.events.push(FileEvent::ReadFailed {
                        peer: conn.peer,
                        bytes: conn.bytes_out,
                    });
                    conn.state = FileConn::Refusing;
                    return;
                }
            }
        }
    }
}

impl<S: FileStore> ConnHandler<FileConn<S::File>> for Handler<'_, S> {
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<FileConn<S::File>>) {
        match conn.state {
            FileConn::AwaitRequest { .. } => self.take_request(socket, conn),
            FileConn::Sending(_) => {
                // What the client sends after its request is read and dropped.
                let _ = socket.recv(|b| (b.len(), ()));
                self.stream(socket, conn);
            }
            _ => {
                let _ = socket.recv(|b| (b.len(), ()));
            }
        }
    }

    fn event(&mut self, event: PoolEvent<'_, FileConn<S::File>>) {
        match event {
            PoolEvent::Opened(_) | PoolEvent::OverShare(_) => {}
            PoolEvent::Closed(c) if matches!(c.state, FileConn::Sent) => {
                self.events.push(FileEvent::Sent {
                    peer: c.peer,
                    bytes: c.bytes_out,
                });
            }
            // A download cut short (the open file is dropped with its state).
            PoolEvent::Closed(c) | PoolEvent::Reset(c) | PoolEvent::IdleTimeout(c) => {
                if matches!(c.state, FileConn::Sending(_) | FileConn::Sent) {
                    self.events.push(FileEvent::Aborted {
                        peer: c.peer,
                        bytes: c.bytes_out,
                    });
                }
            }
        }
    }
}

impl<S: FileStore, const N: usize> Service for FileServer<S, N> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut handler = Handler {
            store: &mut self.store,
            events: &mut self.events,
            timers: self.timers,
            now,
        };
        self.pool.poll(net, now, &mut handler);
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        let request = self
            .pool
            .conns()
            .filter_map(|c| match c.state {
                FileConn::AwaitRequest { seen: 0 } => Some(c.opened + self.timers.request),
                FileConn::AwaitRequest { .. } => {
                    Some((c.last_active + self.timers.pause).min(c.opened + self.timers.request))
                }
                _ => None,
            })
            .min();
        crate::net::runner::earliest(self.pool.poll_at(), request)
    }
}

#[cfg(test)]
mod tests {
    use super::Decision;

    #[test]
    fn a_request_is_decided_at_its_line_end_a_pause_a_close_or_the_timeout() {
        let of = Decision::of;
        // `GET na` then `me\n`: the first part alone is not decided.
        assert_eq!(of(b"GET na", false, false, false), Decision::Wait);
        assert_eq!(of(b"GET name\n", false, false, false), Decision::Answer);
        // The notes' client: no line end, then it waits.
        assert_eq!(of(b"GET name", false, true, false), Decision::Answer);
        assert_eq!(of(b"Hello server!", true, false, false), Decision::Answer);
        assert_eq!(of(b"Hello", false, false, true), Decision::Answer);
        assert_eq!(of(&[b'x'; 300], false, false, false), Decision::Answer);
        // An empty request: a FIN is one, silence is a timeout.
        assert_eq!(of(b"", true, false, false), Decision::Answer);
        assert_eq!(of(b"", false, false, false), Decision::Wait);
        assert_eq!(of(b"", false, false, true), Decision::Timeout);
    }
}
