//! The clients over the operating system's own sockets (`--net os`): no
//! TAP device and no root, the same core machines. [`OsPipe`] puts a
//! non-blocking kernel TCP socket behind bounded buffers shaped like a
//! smoltcp socket's, so core's clients cannot tell the difference.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant as StdInstant;

use minnow::net::endpoint::{Host, parse_host_port};
use minnow::net::pipe::{Pipe, PipeClient, PipeState};
use minnow::net::tcp_client::ClientError;
use nix::poll::PollFlags;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::error::{Error, Result};
use crate::link::{Link, Sleeper, sleep_on};
use crate::runtime::stop_flag;

/// Turns `text` (HOST[:PORT]) into socket addresses with the system's
/// resolver (/etc/hosts, DNS as the OS is set up).
pub fn resolve(text: &str, default_port: u16) -> Result<SocketAddr> {
    let (host, port) =
        parse_host_port(text, default_port).map_err(|e| Error::Usage(format!("{text}: {e}")))?;
    match host {
        Host::Addr(a) => Ok(SocketAddr::new(IpAddr::from(a), port)),
        Host::Name(name) => (name, port)
            .to_socket_addrs()
            .map_err(|e| Error::Failed(format!("{name}: {e}")))?
            .next()
            .ok_or_else(|| Error::Failed(format!("{name}: the resolver gave no address"))),
    }
}

/// The endpoint core's clients name in their messages.
pub fn endpoint(addr: SocketAddr) -> IpEndpoint {
    IpEndpoint::new(addr.ip().into(), addr.port())
}

/// Bytes in `buf[start..end]`, moved to the front when the tail is full.
struct Buffer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl Buffer {
    fn new(len: usize) -> Self {
        Self {
            buf: vec![0; len].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn len(&self) -> usize {
        self.end - self.start
    }

    fn is_full(&self) -> bool {
        self.len() == self.buf.len()
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// The free room at the tail, after compacting if that makes more.
    fn room(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    fn fill(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }
}

/// How a kernel socket's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// connect(2) in progress.
    Connecting,
    /// Connected; bytes move.
    Open,
    /// Refused, reset, aborted or failed.
    Closed,
}

/// A kernel TCP socket seen as a [`Pipe`]: receive and transmit buffers of
/// fixed size, filled and drained by [`OsPipe::pump`].
pub struct OsPipe {
    stream: TcpStream,
    conn: Conn,
    rx: Buffer,
    tx: Buffer,
    /// The peer's FIN was read.
    fin: bool,
    /// Our side asked to close; FIN goes once `tx` is empty.
    closing: bool,
    /// shutdown(SHUT_WR) is done.
    shut: bool,
    /// Why the connection failed, when the kernel said.
    failure: Option<io::Error>,
}

impl OsPipe {
    /// Starts a non-blocking connect to `addr` with `rx`/`tx` bytes of buffer.
    pub fn connect(addr: SocketAddr, (rx, tx): (usize, usize)) -> io::Result<Self> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_tcp_nodelay(true)?;
        let conn = match socket.connect(&addr.into()) {
            Ok(()) => Conn::Open,
            Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => Conn::Connecting,
            Err(e) => return Err(e),
        };
        Ok(Self {
            stream: socket.into(),
            conn,
            rx: Buffer::new(rx),
            tx: Buffer::new(tx),
            fin: false,
            closing: false,
            shut: false,
            failure: None,
        })
    }

    fn fail(&mut self, e: io::Error) {
        self.conn = Conn::Closed;
        self.failure = Some(e);
    }

    /// Moves bytes between the kernel and the buffers without blocking,
    /// and follows a connect in progress.
    pub fn pump(&mut self) {
        if self.conn == Conn::Connecting {
            match self.stream.take_error() {
                Ok(Some(e)) | Err(e) => self.fail(e),
                Ok(None) if self.stream.peer_addr().is_ok() => self.conn = Conn::Open,
                Ok(None) => return,
            }
        }
        if self.conn != Conn::Open {
            return;
        }
        while !self.fin {
            let room = self.rx.room();
            if room.is_empty() {
                break;
            }
            match self.stream.read(room) {
                Ok(0) => self.fin = true,
                Ok(n) => self.rx.fill(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
        }
        while self.tx.len() > 0 {
            match self.stream.write(self.tx.data()) {
                Ok(n) => self.tx.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.fail(e);
                    return;
                }
            }
        }
        if self.closing && !self.shut && self.tx.len() == 0 {
            self.shut = true;
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

impl Watched for OsPipe {
    fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    fn interest(&self) -> PollFlags {
        let mut flags = PollFlags::empty();
        match self.conn {
            Conn::Connecting => flags |= PollFlags::POLLOUT,
            Conn::Open => {
                if self.tx.len() > 0 {
                    flags |= PollFlags::POLLOUT;
                }
                if !self.fin && !self.rx.is_full() {
                    flags |= PollFlags::POLLIN;
                }
            }
            Conn::Closed => {}
        }
        flags
    }
}

impl OsPipe {
    /// The connect failure as core's clients name it, when it is not the
    /// refusal or reset the pipe's state already shows.
    fn client_error(&self) -> Option<ClientError> {
        let e = self.failure.as_ref()?;
        match e.raw_os_error() {
            Some(nix::libc::EHOSTUNREACH | nix::libc::ENETUNREACH | nix::libc::EADDRNOTAVAIL) => {
                Some(ClientError::Unaddressable)
            }
            Some(nix::libc::ETIMEDOUT) if self.conn == Conn::Closed => {
                Some(ClientError::ConnectTimeout)
            }
            _ => None,
        }
    }
}

impl Pipe for OsPipe {
    fn pipe_state(&self) -> PipeState {
        match self.conn {
            Conn::Connecting => PipeState::Connecting,
            Conn::Open => PipeState::Open,
            Conn::Closed => PipeState::Closed,
        }
    }
    fn may_recv(&self) -> bool {
        (self.conn == Conn::Open && !self.fin) || self.rx.len() > 0
    }
    fn may_send(&self) -> bool {
        self.conn == Conn::Open && !self.closing
    }
    fn can_recv(&self) -> bool {
        self.rx.len() > 0
    }
    fn can_send(&self) -> bool {
        self.may_send() && !self.tx.is_full()
    }
    fn recv_queue(&self) -> usize {
        self.rx.len()
    }
    fn recv_with(&mut self, take: &mut dyn FnMut(&[u8]) -> usize) -> usize {
        let data = self.rx.data();
        if data.is_empty() {
            return 0;
        }
        let n = take(data).min(data.len());
        self.rx.consume(n);
        n
    }
    fn send_with(&mut self, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> usize {
        if !self.may_send() {
            return 0;
        }
        let room = self.tx.room();
        if room.is_empty() {
            return 0;
        }
        let n = fill(room).min(room.len());
        self.tx.fill(n);
        n
    }
    fn close(&mut self) {
        self.closing = true;
    }
    fn abort(&mut self) {
        // SO_LINGER 0: close(2) sends RST, as smoltcp's abort does.
        let _ = SockRef::from(&self.stream).set_linger(Some(std::time::Duration::ZERO));
        let _ = self.stream.shutdown(Shutdown::Both);
        self.conn = Conn::Closed;
    }
}

/// The clock and the stop flag of an OS-socket loop.
struct Clock {
    start: StdInstant,
    stop: Arc<AtomicBool>,
}

impl Clock {
    fn new() -> Result<Self> {
        Ok(Self {
            start: StdInstant::now(),
            stop: stop_flag()?,
        })
    }

    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as i64)
    }

    /// [`sleep_on`] `fd` for `flags` and `extra`, until `deadline`.
    fn sleep(
        &self,
        fd: BorrowedFd<'_>,
        flags: PollFlags,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> io::Result<bool> {
        sleep_on(fd, flags, self.now(), deadline, extra)
    }
}

/// What a loop over OS sockets waits on: a socket and what it wants.
pub trait Watched {
    /// The socket.
    fn fd(&self) -> BorrowedFd<'_>;
    /// What poll(2) should wait for on it.
    fn interest(&self) -> PollFlags;
}

/// A client's socket `S` over the operating system's network, with the
/// loop's clock.
pub struct Os<S> {
    io: S,
    clock: Clock,
}

impl<S> Os<S> {
    fn new(io: S) -> Result<Self> {
        Ok(Self {
            io,
            clock: Clock::new()?,
        })
    }
}

/// One TCP connection over the OS's sockets.
pub type OsLink = Os<OsPipe>;
/// UDP datagrams to one server over the OS's sockets.
pub type OsDatagrams = Os<UdpOs>;

impl OsLink {
    /// Starts connecting to `addr` with the given buffer sizes.
    pub fn connect(addr: SocketAddr, buffers: (usize, usize)) -> Result<Self> {
        Os::new(OsPipe::connect(addr, buffers).map_err(|e| connect_error(addr, e))?)
    }
}

impl<S: Watched> Sleeper for Os<S> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn stopped(&self) -> bool {
        self.clock.stop.load(Ordering::Relaxed)
    }

    fn wait(
        &mut self,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> io::Result<bool> {
        self.clock
            .sleep(self.io.fd(), self.io.interest(), deadline, extra)
    }
}

/// A connect(2) that failed at once, with the exit code its kind deserves.
fn connect_error(addr: SocketAddr, e: io::Error) -> Error {
    let text = format!("{addr}: {e}");
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Error::Refused(text),
        io::ErrorKind::PermissionDenied => Error::NoPermission(text),
        _ => Error::Failed(text),
    }
}

impl Link for OsLink {
    fn step(&mut self, client: &mut dyn PipeClient) -> Option<Instant> {
        self.io.pump();
        if let Some(e) = self.io.client_error() {
            client.connection().fail(e);
        }
        let now = self.now();
        client.drive(&mut self.io, now);
        self.io.pump();
        client.poll_at(now)
    }

    fn pipe(&mut self) -> &mut dyn Pipe {
        &mut self.io
    }

    fn flush(&mut self) {
        // What is still buffered goes out before the socket closes; the
        // kernel sends FIN and retransmits on its own after that.
        let until = self.now() + Duration::from_secs(1);
        while self.io.tx.len() > 0 && self.io.conn == Conn::Open && self.now() < until {
            if self.wait(Some(until), None).is_err() {
                break;
            }
            self.io.pump();
        }
    }
}

/// A connected UDP socket (`minnow echo --udp`): only the server's
/// datagrams come back.
pub struct UdpOs {
    socket: UdpSocket,
    /// The last send would have blocked: wait for room.
    blocked: bool,
}

impl OsDatagrams {
    /// A socket connected to `addr`.
    pub fn connect(addr: SocketAddr) -> Result<Self> {
        let local: SocketAddr = match addr {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).map_err(|e| format!("udp: {e}"))?;
        socket.connect(addr).map_err(|e| connect_error(addr, e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| format!("udp: {e}"))?;
        Os::new(UdpOs {
            socket,
            blocked: false,
        })
    }
}

impl Watched for UdpOs {
    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn interest(&self) -> PollFlags {
        if self.blocked {
            PollFlags::POLLIN | PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        }
    }
}

impl crate::link::Datagrams for OsDatagrams {
    fn step(&mut self) -> Option<Instant> {
        None
    }

    fn send(&mut self, datagram: &[u8]) -> Result<bool> {
        match self.io.socket.send(datagram) {
            Ok(_) => {
                self.io.blocked = false;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.io.blocked = true;
                Ok(false)
            }
            // An ICMP port unreachable for an earlier datagram: the kernel
            // reports it on the next call; nothing listens there.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err(Error::Refused(format!("udp: {e}")))
            }
            Err(e) => Err(Error::Failed(format!("udp: {e}"))),
        }
    }

    fn recv(&mut self, out: &mut [u8]) -> Result<Option<usize>> {
        match self.io.socket.recv(out) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err(Error::Refused(format!("udp: {e}")))
            }
            Err(e) => Err(Error::Failed(format!("udp: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_keeps_bytes_in_order_across_compaction() {
        let mut b = Buffer::new(8);
        b.room()[..6].copy_from_slice(b"abcdef");
        b.fill(6);
        b.consume(4);
        assert_eq!(b.data(), b"ef");
        // Two bytes of tail room; full tail moves the rest to the front.
        assert_eq!(b.room().len(), 2);
        b.room()[..2].copy_from_slice(b"gh");
        b.fill(2);
        assert_eq!(b.room().len(), 4);
        assert_eq!(b.data(), b"efgh");
        b.consume(10);
        assert_eq!(b.len(), 0);
        assert_eq!(b.room().len(), 8);
    }
}
