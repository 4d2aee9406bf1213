//! The byte pipe a client protocol machine runs over: a smoltcp TCP socket
//! on Minnow's own stack, or (on a host) a socket of the operating system
//! behind buffers of the same shape. The clients ([`TimeClient`],
//! [`StreamClient`], [`MailSender`]) only ever touch this trait, so one
//! machine serves both.
//!
//! [`TimeClient`]: crate::time::client::TimeClient
//! [`StreamClient`]: crate::net::stream_client::StreamClient
//! [`MailSender`]: crate::mail::sender::MailSender

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use crate::net::tcp_client::TcpClient;
use crate::service::Net;

/// Where a pipe's connection stands, as a client needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeState {
    /// The connection is being set up (SYN sent, no answer yet).
    Connecting,
    /// Established, or closing with bytes possibly still to read.
    Open,
    /// Gone: refused, reset, or never opened.
    Closed,
}

/// A connected byte stream with bounded buffers both ways. Every call is
/// non-blocking. Object-safe, so a host can hand out `&mut dyn Pipe`.
pub trait Pipe {
    /// Where the connection stands.
    fn pipe_state(&self) -> PipeState;
    /// Whether the peer may still send (no FIN received yet).
    fn may_recv(&self) -> bool;
    /// Whether this side may still send (open, not closed by us).
    fn may_send(&self) -> bool;
    /// Whether received bytes wait to be read.
    fn can_recv(&self) -> bool;
    /// Whether the transmit buffer has room.
    fn can_send(&self) -> bool;
    /// How many received bytes wait to be read.
    fn recv_queue(&self) -> usize;
    /// Lends the received bytes (possibly only the first contiguous part)
    /// to `take`, which returns how many it consumed.
    fn recv_with(&mut self, take: &mut dyn FnMut(&[u8]) -> usize) -> usize;
    /// Lends free transmit room (possibly only part of it) to `fill`, which
    /// returns how many bytes it wrote.
    fn send_with(&mut self, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> usize;
    /// Sends FIN once everything queued has gone.
    fn close(&mut self);
    /// Drops the connection at once (RST where the transport has one).
    fn abort(&mut self);

    /// Copies received bytes into `out`; returns how many.
    fn recv_slice(&mut self, out: &mut [u8]) -> usize {
        let mut total = 0;
        while total < out.len() {
            let room = &mut out[total..];
            let n = self.recv_with(&mut |b| {
                let n = b.len().min(room.len());
                room[..n].copy_from_slice(&b[..n]);
                n
            });
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }

    /// Queues as much of `data` as fits; returns how much.
    fn send_slice(&mut self, data: &[u8]) -> usize {
        let mut total = 0;
        while total < data.len() {
            let rest = &data[total..];
            let n = self.send_with(&mut |b| {
                let n = b.len().min(rest.len());
                b[..n].copy_from_slice(&rest[..n]);
                n
            });
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }
}

impl Pipe for tcp::Socket<'_> {
    fn pipe_state(&self) -> PipeState {
        match self.state() {
            tcp::State::SynSent | tcp::State::SynReceived => PipeState::Connecting,
            tcp::State::Closed | tcp::State::Listen => PipeState::Closed,
            _ => PipeState::Open,
        }
    }
    fn may_recv(&self) -> bool {
        tcp::Socket::may_recv(self)
    }
    fn may_send(&self) -> bool {
        tcp::Socket::may_send(self)
    }
    fn can_recv(&self) -> bool {
        tcp::Socket::can_recv(self)
    }
    fn can_send(&self) -> bool {
        tcp::Socket::can_send(self)
    }
    fn recv_queue(&self) -> usize {
        tcp::Socket::recv_queue(self)
    }
    fn recv_with(&mut self, take: &mut dyn FnMut(&[u8]) -> usize) -> usize {
        self.recv(|b| {
            let n = take(b).min(b.len());
            (n, n)
        })
        .unwrap_or(0)
    }
    fn send_with(&mut self, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> usize {
        self.send(|b| {
            let n = fill(b).min(b.len());
            (n, n)
        })
        .unwrap_or(0)
    }
    fn close(&mut self) {
        tcp::Socket::close(self);
    }
    fn abort(&mut self) {
        tcp::Socket::abort(self);
    }
}

/// A client protocol machine that runs over any [`Pipe`]: what a host
/// drives over an operating-system socket, and what
/// [`poll_on_socket`] drives over a smoltcp socket.
pub trait PipeClient {
    /// Reads what the pipe holds, writes what fits, advances the state.
    fn drive(&mut self, pipe: &mut dyn Pipe, now: Instant);
    /// When [`PipeClient::drive`] must run again even without traffic.
    fn poll_at(&self, now: Instant) -> Option<Instant>;
    /// The connection's state and timers (for an owner that learns of a
    /// failure the pipe cannot show, such as no route to the server).
    fn connection(&mut self) -> &mut TcpClient;
}

/// One [`crate::service::Service::poll`] of a pipe client whose connection
/// is the TCP socket `handle` of `net`. A client without a socket of its
/// own (`None`: its owner drives it over another pipe) is left alone.
pub fn poll_on_socket(
    client: &mut dyn PipeClient,
    handle: Option<SocketHandle>,
    net: &mut Net<'_, '_>,
    now: Instant,
) {
    if let Some(handle) = handle {
        let socket = net.sockets.get_mut::<tcp::Socket>(handle);
        client.drive(socket, now);
        keep_fin_alive(socket);
    }
}

/// How long a socket whose FIN is unacknowledged may send nothing before it
/// sends the FIN again: smoltcp's minimum retransmission timeout.
pub const FIN_RETRY: Duration = Duration::from_secs(1);

/// Keeps a sent FIN retransmitting. smoltcp (0.14, as its master) loses it
/// when three duplicate ACKs arrive while only the FIN is unacknowledged (a
/// peer that dropped it, as smoltcp does a FIN on a segment whose data it
/// already has): its fast retransmit has no data to resend, sends nothing,
/// and stops the retransmission timer, so the connection hangs in
/// FIN-WAIT-1, CLOSING or LAST-ACK. Its next segment of any kind carries the
/// FIN again; a keep-alive timer is the one public way to make it send one.
/// A client's socket has no keep-alive otherwise, so it is cleared again once
/// the FIN is acknowledged.
pub fn keep_fin_alive(socket: &mut tcp::Socket<'_>) {
    let fin_unacked = matches!(
        socket.state(),
        tcp::State::FinWait1 | tcp::State::Closing | tcp::State::LastAck
    );
    let keep_alive = fin_unacked.then_some(FIN_RETRY);
    if socket.keep_alive() != keep_alive {
        socket.set_keep_alive(keep_alive);
    }
}
