//! The client side of one TCP connection: connect with a timeout, then tell
//! a clean end (FIN) from a refusal, a reset or a timeout.

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::net::pipe::{Pipe, PipeState};
use crate::service::Net;

/// Why a client connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientError {
    /// No route or no source address for the remote address.
    Unaddressable,
    /// The server answered the SYN with a reset: nothing listens there.
    Refused,
    /// No answer to the SYN within the connect timeout.
    ConnectTimeout,
    /// The connection was reset (or smoltcp gave up retransmitting).
    Reset,
    /// Nothing arrived for the receive timeout.
    Timeout,
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ClientError::Unaddressable => {
                "no route to the server (check its address and the default gateway)"
            }
            ClientError::Refused => "connection refused",
            ClientError::ConnectTimeout => "connection timed out",
            ClientError::Reset => "connection reset",
            ClientError::Timeout => "timed out waiting for data",
        })
    }
}

/// Where a client connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// SYN sent, no answer yet.
    Connecting,
    /// Established; bytes may flow.
    Connected,
    /// The server closed its side (FIN) and everything it sent has been read.
    PeerClosed,
    /// Failed; the connection is gone.
    Failed(ClientError),
}

/// One client connection: over a socket the caller added to the set
/// ([`TcpClient::connect`]), or over a pipe its owner drives
/// ([`TcpClient::detached`]). RAM: about 64 bytes (plus the buffers).
#[derive(Debug)]
pub struct TcpClient {
    handle: Option<SocketHandle>,
    remote: IpEndpoint,
    state: ClientState,
    connect_deadline: Instant,
    recv_timeout: Option<Duration>,
    last_active: Instant,
}

impl TcpClient {
    /// Starts connecting socket `handle` to `remote` from `local_port`.
    pub fn connect(
        net: &mut Net<'_, '_>,
        handle: SocketHandle,
        remote: IpEndpoint,
        local_port: u16,
        now: Instant,
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> Self {
        let socket = net.sockets.get_mut::<tcp::Socket>(handle);
        let state = match socket.connect(net.iface.context(), remote, local_port) {
            Ok(()) => ClientState::Connecting,
            Err(_) => ClientState::Failed(ClientError::Unaddressable),
        };
        Self {
            handle: Some(handle),
            remote,
            state,
            connect_deadline: now + connect_timeout,
            recv_timeout,
            last_active: now,
        }
    }

    /// A client whose connection to `remote` its owner opens and drives
    /// over a [`Pipe`] of its own (an operating-system socket on a host).
    pub fn detached(
        remote: IpEndpoint,
        now: Instant,
        connect_timeout: Duration,
        recv_timeout: Option<Duration>,
    ) -> Self {
        Self {
            handle: None,
            remote,
            state: ClientState::Connecting,
            connect_deadline: now + connect_timeout,
            recv_timeout,
            last_active: now,
        }
    }

    /// The socket this client uses; `None` when detached.
    pub fn handle(&self) -> Option<SocketHandle> {
        self.handle
    }

    /// The server.
    pub fn remote(&self) -> IpEndpoint {
        self.remote
    }

    /// Where the connection stands (as of the last [`TcpClient::update`]).
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Records that bytes moved, for the receive timeout.
    pub fn touch(&mut self, now: Instant) {
        self.last_active = now;
    }

    /// Records a failure its owner saw before any byte moved (a host's
    /// connect(2) that failed at once).
    pub fn fail(&mut self, error: ClientError) {
        self.state = ClientState::Failed(error);
    }

    /// Follows the pipe's state and the timers.
    pub fn update(&mut self, socket: &mut dyn Pipe, now: Instant) -> ClientState {
        let pipe_state = socket.pipe_state();
        self.state = match self.state {
            ClientState::Connecting => match pipe_state {
                PipeState::Connecting if now >= self.connect_deadline => {
                    socket.abort();
                    ClientState::Failed(ClientError::ConnectTimeout)
                }
                PipeState::Connecting => ClientState::Connecting,
                PipeState::Closed => ClientState::Failed(ClientError::Refused),
                PipeState::Open => {
                    self.last_active = now;
                    ClientState::Connected
                }
            },
            ClientState::Connected | ClientState::PeerClosed => {
                if !socket.may_recv() && socket.recv_queue() == 0 {
                    // FIN seen: in FIN-WAIT/CLOSING/TIME-WAIT/LAST-ACK/CLOSE-WAIT
                    // the peer closed cleanly; a reset lands in CLOSED first.
                    match pipe_state {
                        PipeState::Closed if self.state == ClientState::Connected => {
                            ClientState::Failed(ClientError::Reset)
                        }
                        _ => ClientState::PeerClosed,
                    }
                } else if pipe_state == PipeState::Closed {
                    ClientState::Failed(ClientError::Reset)
                } else if self
                    .recv_timeout
                    .is_some_and(|t| now >= self.last_active + t)
                {
                    socket.abort();
                    ClientState::Failed(ClientError::Timeout)
                } else {
                    ClientState::Connected
                }
            }
            failed @ ClientState::Failed(_) => failed,
        };
        self.state
    }

    /// When [`TcpClient::update`] must run again even without traffic.
    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            ClientState::Connecting => Some(self.connect_deadline),
            ClientState::Connected => self.recv_timeout.map(|t| self.last_active + t),
            _ => None,
        }
    }
}

/// Ephemeral local ports (49152..=65535, RFC 6335), starting from a seeded
/// point so that two boots do not reuse the same port sequence. RAM: 2 bytes.
#[derive(Debug, Clone, Copy)]
pub struct EphemeralPorts {
    next: u16,
}

impl EphemeralPorts {
    const FIRST: u16 = 49152;
    const COUNT: u16 = 16384;

    /// Starts at a port derived from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self {
            next: Self::FIRST + (seed % Self::COUNT as u64) as u16,
        }
    }

    /// The next port, wrapping within the range.
    pub fn next_port(&mut self) -> u16 {
        let port = self.next;
        self.next = if port == u16::MAX {
            Self::FIRST
        } else {
            port + 1
        };
        port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_ports_stay_in_range_and_wrap() {
        let mut p = EphemeralPorts::new(u64::MAX);
        for _ in 0..40000 {
            let port = p.next_port();
            assert!(port >= 49152);
        }
        let mut p = EphemeralPorts::new(16383);
        assert_eq!(p.next_port(), 65535);
        assert_eq!(p.next_port(), 49152);
    }
}
