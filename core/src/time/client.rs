//! The time client: connect, read the reply until the server closes, check
//! it. A reply that is not what the format says is an error, never a time.

use smoltcp::iface::SocketHandle;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{TimeFormat, ctime, rfc868};
use crate::net::pipe::{Pipe, PipeClient, poll_on_socket};
use crate::net::tcp_client::{ClientError, ClientState, TcpClient};
use crate::service::{Net, Service};

/// The longest reply accepted: a ctime line with room for slack.
pub const MAX_REPLY: usize = 64;

/// A time the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeReply {
    /// Unix seconds.
    pub unix_secs: u64,
    /// The reply's bytes (ctime text with its line end, or RFC 868's four).
    pub raw: [u8; MAX_REPLY],
    /// How many bytes of `raw` were received.
    pub len: usize,
}

impl TimeReply {
    /// The bytes the server sent.
    pub fn bytes(&self) -> &[u8] {
        self.raw.get(..self.len).unwrap_or(&[])
    }
}

/// Why the time client failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeClientError {
    /// The connection failed.
    Connection(ClientError),
    /// More than [`MAX_REPLY`] bytes: not a time server.
    TooLong,
    /// The server closed without sending anything (its clock may be unset).
    Empty,
    /// The reply is not ctime text.
    NotCtime,
    /// The reply is not four bytes.
    NotRfc868,
}

impl core::fmt::Display for TimeClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TimeClientError::Connection(e) => write!(f, "{e}"),
            TimeClientError::TooLong => write!(
                f,
                "the reply is longer than {MAX_REPLY} bytes: not a time server"
            ),
            TimeClientError::Empty => f.write_str("the server closed without sending a time"),
            TimeClientError::NotCtime => {
                f.write_str("the reply is not a ctime line like 'Tue Apr  4 14:07:31 2017'")
            }
            TimeClientError::NotRfc868 => f.write_str("the reply is not 4 bytes of RFC 868 time"),
        }
    }
}

/// One time query over TCP. RAM: about 160 bytes plus the socket's buffers.
pub struct TimeClient {
    conn: TcpClient,
    format: TimeFormat,
    buf: [u8; MAX_REPLY],
    len: usize,
    outcome: Option<Result<TimeReply, TimeClientError>>,
}

impl TimeClient {
    /// Connects socket `handle` to a time server at `remote`; the whole
    /// exchange must finish within `timeout`.
    pub fn connect(
        net: &mut Net<'_, '_>,
        handle: SocketHandle,
        remote: IpEndpoint,
        local_port: u16,
        format: TimeFormat,
        now: Instant,
        timeout: Duration,
    ) -> Self {
        Self::over(
            TcpClient::connect(net, handle, remote, local_port, now, timeout, Some(timeout)),
            format,
        )
    }

    /// A query over a pipe to `remote` that its owner opens and drives.
    pub fn detached(
        remote: IpEndpoint,
        format: TimeFormat,
        now: Instant,
        timeout: Duration,
    ) -> Self {
        Self::over(
            TcpClient::detached(remote, now, timeout, Some(timeout)),
            format,
        )
    }

    fn over(conn: TcpClient, format: TimeFormat) -> Self {
        Self {
            conn,
            format,
            buf: [0; MAX_REPLY],
            len: 0,
            outcome: None,
        }
    }

    /// The result, once there is one.
    pub fn outcome(&self) -> Option<Result<TimeReply, TimeClientError>> {
        self.outcome
    }

    /// The bytes received so far (for error messages).
    pub fn received(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn check(&self) -> Result<TimeReply, TimeClientError> {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        if bytes.is_empty() {
            return Err(TimeClientError::Empty);
        }
        let unix_secs = match self.format {
            TimeFormat::Ctime => ctime::parse(bytes)
                .map_err(|_| TimeClientError::NotCtime)?
                .to_unix(),
            TimeFormat::Rfc868 => rfc868::decode(bytes).map_err(|_| TimeClientError::NotRfc868)?,
        };
        Ok(TimeReply {
            unix_secs,
            raw: self.buf,
            len: self.len,
        })
    }
}

impl PipeClient for TimeClient {
    fn drive(&mut self, socket: &mut dyn Pipe, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        while socket.can_recv() {
            let Some(room) = self.buf.get_mut(self.len..).filter(|r| !r.is_empty()) else {
                socket.abort();
                self.outcome = Some(Err(TimeClientError::TooLong));
                return;
            };
            let got = socket.recv_slice(room);
            if got == 0 {
                break;
            }
            self.len += got;
            self.conn.touch(now);
        }
        self.outcome = match self.conn.update(socket, now) {
            ClientState::PeerClosed => {
                socket.close();
                Some(self.check())
            }
            ClientState::Failed(e) => Some(Err(TimeClientError::Connection(e))),
            _ => None,
        };
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        if self.outcome.is_some() {
            None
        } else {
            self.conn.poll_at()
        }
    }

    fn connection(&mut self) -> &mut TcpClient {
        &mut self.conn
    }
}

impl Service for TimeClient {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let handle = self.conn.handle();
        poll_on_socket(self, handle, net, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        PipeClient::poll_at(self, now)
    }
}
