//! A client's one connection, whichever network carries it: Minnow's own
//! stack on a TAP device ([`TapLink`]) or the operating system's sockets
//! ([`crate::os_link::OsLink`]). The commands run core's client machines
//! ([`PipeClient`]) through [`Link`] and never ask which it is.

use std::os::fd::{AsFd, BorrowedFd};

use minnow::echo::client::DatagramClient;
use minnow::net::pipe::{Pipe, PipeClient, poll_on_socket};
use minnow::net::{earliest, wait_duration};
use minnow::service::{Net, Service};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::runtime::Runtime;

/// The longest a loop sleeps without a deadline: a heartbeat for its own
/// checks (device errors, the OS clock).
pub const MAX_SLEEP: Duration = Duration::from_millis(1000);

/// poll(2) on `fd` for `flags`, and on `extra` for input, from `now` until
/// `deadline` (at most [`MAX_SLEEP`]). Returns whether `extra` is readable
/// (or hung up).
pub fn sleep_on(
    fd: BorrowedFd<'_>,
    flags: PollFlags,
    now: Instant,
    deadline: Option<Instant>,
    extra: Option<BorrowedFd<'_>>,
) -> std::io::Result<bool> {
    let wait = wait_duration(now, deadline, MAX_SLEEP);
    // Round up: waking a little late is harmless, spinning is not.
    let ms = wait.total_micros().div_ceil(1000).min(i32::MAX as u64) as i32;
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    let mut fds = [
        PollFd::new(fd, flags),
        PollFd::new(extra.unwrap_or(fd), PollFlags::POLLIN),
    ];
    let watched = if extra.is_some() { 2 } else { 1 };
    match nix::poll::poll(&mut fds[..watched], timeout) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(extra.is_some()
        && fds[1].revents().is_some_and(|r| {
            r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
        }))
}

/// What one turn of a client loop decided (see [`run_until`]).
pub enum Turn<T> {
    /// Finished with this value.
    Done(T),
    /// Step again at this deadline, or when the network has news.
    Wait(Option<Instant>),
    /// As `Wait`, or when standard input is readable.
    WaitInput(Option<Instant>),
}

/// A loop's clock and sleep: the TAP runtime, or an OS socket.
pub trait Sleeper {
    /// Monotonic time since the start.
    fn now(&self) -> Instant;
    /// Whether SIGINT or SIGTERM arrived.
    fn stopped(&self) -> bool;
    /// Sleeps until the network has news, `extra` is readable, or
    /// `deadline`. Returns whether `extra` is readable (or hung up).
    fn wait(
        &mut self,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> std::io::Result<bool>;
}

/// The one loop every client runs: `turn` steps the network and looks at
/// the client's state; between turns the loop sleeps until the deadline
/// `turn` gave, network news, or (for [`Turn::WaitInput`]) readable
/// standard input, whose readiness the next turn is told. Gives up at
/// `limit` ([`Error::Timeout`] with its words) and on SIGINT or SIGTERM
/// ([`Error::Interrupted`]).
pub fn run_until<S: Sleeper + ?Sized, T>(
    s: &mut S,
    limit: Option<(Instant, &str)>,
    mut turn: impl FnMut(&mut S, bool) -> Result<Turn<T>>,
) -> Result<T> {
    let stdin = std::io::stdin();
    let mut input = false;
    loop {
        let (deadline, watch) = match turn(s, input)? {
            Turn::Done(value) => return Ok(value),
            Turn::Wait(at) => (at, false),
            Turn::WaitInput(at) => (at, true),
        };
        if s.stopped() {
            return Err(Error::Interrupted);
        }
        if let Some((at, what)) = limit
            && s.now() >= at
        {
            return Err(Error::Timeout(what.to_string()));
        }
        let deadline = earliest(deadline, limit.map(|(at, _)| at));
        let fd = stdin.as_fd();
        input = s
            .wait(deadline, watch.then_some(fd))
            .map_err(|e| format!("poll: {e}"))?;
    }
}

/// One client connection and the network under it.
pub trait Link: Sleeper {
    /// Moves bytes between the network and the connection's buffers and
    /// runs `client` once over them; returns when to step again.
    fn step(&mut self, client: &mut dyn PipeClient) -> Option<Instant>;
    /// The connection's buffers, for reading and writing between steps.
    fn pipe(&mut self) -> &mut dyn Pipe;
    /// Lets final segments (our FIN, the last ACK) leave before the
    /// process ends.
    fn flush(&mut self);
}

/// A client's connection `C` on Minnow's own stack over a TAP device.
pub struct Tap<C> {
    rt: Runtime,
    conn: C,
}

impl<C> Tap<C> {
    /// `conn` (a TCP socket already connecting, or a bound UDP client) on `rt`.
    pub fn new(rt: Runtime, conn: C) -> Self {
        Self { rt, conn }
    }
}

/// A TCP connection on the TAP: its socket.
pub type TapLink = Tap<SocketHandle>;
/// Datagrams on the TAP: the UDP client.
pub type TapDatagrams = Tap<DatagramClient>;

/// A pipe client on the TAP link's socket, as the stack polls services.
struct OnSocket<'a> {
    handle: SocketHandle,
    client: &'a mut dyn PipeClient,
}

impl Service for OnSocket<'_> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        poll_on_socket(self.client, Some(self.handle), net, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        self.client.poll_at(now)
    }
}

impl<C> Sleeper for Tap<C> {
    fn now(&self) -> Instant {
        self.rt.now()
    }

    fn stopped(&self) -> bool {
        self.rt.stopped()
    }

    fn wait(
        &mut self,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> std::io::Result<bool> {
        self.rt.wait(deadline, extra)
    }
}

impl Link for TapLink {
    fn step(&mut self, client: &mut dyn PipeClient) -> Option<Instant> {
        let handle = self.conn;
        self.rt.step(&mut [&mut OnSocket { handle, client }])
    }

    fn pipe(&mut self) -> &mut dyn Pipe {
        self.rt.stack.sockets.get_mut::<tcp::Socket>(self.conn)
    }

    fn flush(&mut self) {
        self.rt.flush();
    }
}

/// Datagrams to one server and back (`minnow echo --udp`), on either
/// network.
pub trait Datagrams: Sleeper {
    /// Moves frames; returns when to step again.
    fn step(&mut self) -> Option<Instant>;
    /// Queues one datagram; `false` when there is no room now.
    fn send(&mut self, datagram: &[u8]) -> Result<bool>;
    /// The next datagram from the server, if one is here.
    fn recv(&mut self, out: &mut [u8]) -> Result<Option<usize>>;
}

impl Datagrams for TapDatagrams {
    fn step(&mut self) -> Option<Instant> {
        self.rt.step(&mut [])
    }

    fn send(&mut self, datagram: &[u8]) -> Result<bool> {
        Ok(self.conn.send(&mut self.rt.net(), datagram))
    }

    fn recv(&mut self, out: &mut [u8]) -> Result<Option<usize>> {
        Ok(self.conn.recv(&mut self.rt.net(), out))
    }
}
