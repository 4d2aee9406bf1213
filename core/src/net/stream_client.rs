//! The generic TCP stream client every Minnow client builds on (echo like
//! `nc`, chat, file download): the caller feeds bytes in and takes bytes
//! out; it never blocks and never buffers beyond its socket.

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::net::pipe::{Pipe, PipeClient, poll_on_socket};
use crate::net::tcp_client::{ClientState, TcpClient};
use crate::service::{Net, Service};

/// A TCP client that moves bytes both ways: [`StreamClient::write`] queues
/// what fits in the socket, [`StreamClient::read`] takes what arrived, and
/// [`StreamClient::finish`] sends FIN after everything queued. The
/// `*_pipe` forms do the same over a pipe its owner drives
/// ([`StreamClient::detached`]).
#[derive(Debug)]
pub struct StreamClient {
    conn: TcpClient,
    finish_requested: bool,
    finished: bool,
    /// Bytes were read since the last poll (for the receive timeout).
    moved: bool,
}

impl StreamClient {
    /// Connects socket `handle` (already in the set) to `remote`. With a
    /// `recv_timeout`, the connection fails when nothing arrives for that
    /// long while the caller keeps up with reading.
    pub fn connect(
        net: &mut Net<'_, '_>,
        handle: SocketHandle,
        remote: IpEndpoint,
        local_port: u16,
        now: Instant,
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> Self {
        Self::over(TcpClient::connect(
            net,
            handle,
            remote,
            local_port,
            now,
            connect_timeout,
            recv_timeout,
        ))
    }

    /// A client over a pipe to `remote` that its owner opens and drives.
    pub fn detached(
        remote: IpEndpoint,
        now: Instant,
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> Self {
        Self::over(TcpClient::detached(
            remote,
            now,
            connect_timeout,
            recv_timeout,
        ))
    }

    fn over(conn: TcpClient) -> Self {
        Self {
            conn,
            finish_requested: false,
            finished: false,
            moved: false,
        }
    }

    /// Where the connection stands.
    pub fn state(&self) -> ClientState {
        self.conn.state()
    }

    /// Queues as much of `data` as the socket takes; returns how much.
    /// Nothing is taken before the connection is up or after [`Self::finish`].
    pub fn write(&mut self, net: &mut Net<'_, '_>, data: &[u8]) -> usize {
        match self.conn.handle() {
            Some(h) => self.write_pipe(net.sockets.get_mut::<tcp::Socket>(h), data),
            None => 0,
        }
    }

    /// [`Self::write`] over `pipe`.
    pub fn write_pipe(&mut self, pipe: &mut dyn Pipe, data: &[u8]) -> usize {
        if self.finish_requested || !pipe.may_send() {
            return 0;
        }
        pipe.send_slice(data)
    }

    /// Whether the socket has room for more bytes now.
    pub fn can_write(&self, net: &mut Net<'_, '_>) -> bool {
        match self.conn.handle() {
            Some(h) => self.can_write_pipe(net.sockets.get::<tcp::Socket>(h)),
            None => false,
        }
    }

    /// [`Self::can_write`] over `pipe`.
    pub fn can_write_pipe(&self, pipe: &dyn Pipe) -> bool {
        !self.finish_requested && pipe.can_send()
    }

    /// Takes received bytes into `out`; returns how many.
    pub fn read(&mut self, net: &mut Net<'_, '_>, out: &mut [u8]) -> usize {
        match self.conn.handle() {
            Some(h) => self.read_pipe(net.sockets.get_mut::<tcp::Socket>(h), out),
            None => 0,
        }
    }

    /// [`Self::read`] over `pipe`.
    pub fn read_pipe(&mut self, pipe: &mut dyn Pipe, out: &mut [u8]) -> usize {
        let n = pipe.recv_slice(out);
        self.moved |= n > 0;
        n
    }

    /// Sends FIN once everything queued so far has gone.
    pub fn finish(&mut self) {
        self.finish_requested = true;
    }
}

impl PipeClient for StreamClient {
    fn drive(&mut self, pipe: &mut dyn Pipe, now: Instant) {
        let open = matches!(
            self.conn.state(),
            ClientState::Connected | ClientState::PeerClosed
        );
        if self.finish_requested && !self.finished && open {
            pipe.close();
            self.finished = true;
        }
        // Unread bytes mean the caller is slow, not the network.
        if core::mem::take(&mut self.moved) || pipe.recv_queue() > 0 {
            self.conn.touch(now);
        }
        self.conn.update(pipe, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        // Bytes read since the last poll may have been followed by the
        // server's FIN: poll again at once so PeerClosed is seen now.
        if self.moved {
            return Some(now);
        }
        self.conn.poll_at()
    }

    fn connection(&mut self) -> &mut TcpClient {
        &mut self.conn
    }
}

impl Service for StreamClient {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let handle = self.conn.handle();
        poll_on_socket(self, handle, net, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        PipeClient::poll_at(self, now)
    }
}
