//! The smoltcp glue of the SMTP client: one TCP connection, the SMTP
//! session, an optional TLS session between them, and the message source.

use embedded_io::Read;
use smoltcp::iface::SocketHandle;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::smtp::session::{BadArgument, Failure, Security, SmtpConfig, SmtpSession, Stage};
use super::tls::{TlsError, TlsSession};
use crate::net::pipe::{Pipe, PipeClient, poll_on_socket};
use crate::net::runner::earliest;
use crate::net::tcp_client::{ClientState, TcpClient};
use crate::service::{Net, Service};

/// Where and how a [`MailSender`] connects. RAM: about 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect {
    /// The socket, already in the set.
    pub handle: SocketHandle,
    /// The SMTP server.
    pub server: IpEndpoint,
    /// The local port.
    pub local_port: u16,
    /// Give up when the server does not answer within this.
    pub timeout: Duration,
}

/// Sends one message. RAM: the [`SmtpSession`] (about 2.2 KiB) + 512 bytes
/// of TLS staging + the TLS session and the source, plus the socket's
/// buffers.
pub struct MailSender<'a, T: TlsSession, R: Read> {
    conn: TcpClient,
    smtp: SmtpSession<'a>,
    tls: T,
    tls_on: bool,
    security: Security,
    source: R,
    staging: [u8; 512],
    closed: bool,
    tls_error: Option<TlsError>,
}

impl<'a, T: TlsSession, R: Read> MailSender<'a, T, R> {
    /// Connects as `to` says and prepares the session for `cfg`, with
    /// `tls` for STARTTLS or implicit TLS and the message from `source`.
    pub fn connect(
        net: &mut Net<'_, '_>,
        to: Connect,
        cfg: SmtpConfig<'a>,
        tls: T,
        source: R,
        now: Instant,
    ) -> Result<Self, BadArgument> {
        let smtp = SmtpSession::new(cfg, now)?;
        let conn = TcpClient::connect(
            net,
            to.handle,
            to.server,
            to.local_port,
            now,
            to.timeout,
            None,
        );
        Ok(Self::over(conn, smtp, cfg.security, tls, source))
    }

    /// As [`Self::connect`], over a pipe to `server` that its owner opens
    /// and drives (an operating-system socket on a host).
    pub fn detached(
        server: IpEndpoint,
        timeout: Duration,
        cfg: SmtpConfig<'a>,
        tls: T,
        source: R,
        now: Instant,
    ) -> Result<Self, BadArgument> {
        let smtp = SmtpSession::new(cfg, now)?;
        let conn = TcpClient::detached(server, now, timeout, None);
        Ok(Self::over(conn, smtp, cfg.security, tls, source))
    }

    fn over(conn: TcpClient, smtp: SmtpSession<'a>, security: Security, tls: T, source: R) -> Self {
        Self {
            conn,
            smtp,
            tls,
            tls_on: false,
            security,
            source,
            staging: [0; 512],
            closed: false,
            tls_error: None,
        }
    }

    /// The SMTP session (outcome, events, capabilities).
    pub fn session(&mut self) -> &mut SmtpSession<'a> {
        &mut self.smtp
    }

    /// The TLS error behind a [`Failure::TlsFailed`], if any.
    pub fn tls_error(&self) -> Option<TlsError> {
        self.tls_error
    }

    /// The TLS session (e.g. for its detailed error on the host).
    pub fn tls(&self) -> &T {
        &self.tls
    }

    /// Whether the message went out or failed and the connection is closed.
    pub fn is_done(&self) -> bool {
        self.closed
    }

    fn tls_failed(&mut self, e: TlsError) {
        self.tls_error = Some(e);
        self.smtp.connection_failed(true);
    }

    fn start_tls(&mut self) {
        self.tls_on = true;
        if let Err(e) = self.tls.start() {
            self.tls_failed(e);
        }
    }

    fn input(&mut self, socket: &mut dyn Pipe, now: Instant) {
        if !self.tls_on {
            let smtp = &mut self.smtp;
            while socket.can_recv() {
                if socket.recv_with(&mut |b| smtp.handle_input(b, now)) == 0 {
                    break;
                }
            }
            if self.smtp.wants_tls() {
                if socket.recv_queue() > 0 {
                    self.smtp
                        .abort(now, Stage::StartTls, Failure::DataAfterStartTls);
                } else {
                    self.start_tls();
                }
            }
            return;
        }
        // Plaintext is taken after each run of ciphertext, so what waits
        // inside the TLS session stays within one read's worth (rustls
        // refuses more ciphertext once 16 KiB of plaintext wait unread).
        while socket.can_recv() {
            let was_handshaking = self.tls.is_handshaking();
            match move_ciphertext(socket, &mut self.tls, Direction::In) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return self.tls_failed(e),
            }
            if was_handshaking && !self.tls.is_handshaking() && self.security == Security::StartTls
            {
                self.smtp.tls_established(now);
            }
            if let Err(e) = self.read_plain(now) {
                return self.tls_failed(e);
            }
        }
    }

    /// Hands every plaintext byte the TLS session holds to the SMTP session.
    fn read_plain(&mut self, now: Instant) -> Result<(), TlsError> {
        loop {
            match self.tls.read_plain(&mut self.staging)? {
                0 => return Ok(()),
                n => self.smtp.handle_input(&self.staging[..n], now),
            };
        }
    }

    fn output(&mut self, socket: &mut dyn Pipe, now: Instant) {
        if !self.tls_on {
            let (smtp, source) = (&mut self.smtp, &mut self.source);
            while socket.can_send() {
                if socket.send_with(&mut |b| smtp.poll_transmit(b, source, now)) == 0 {
                    break;
                }
            }
            return;
        }
        // Plaintext only while no ciphertext waits: the socket's buffer is
        // the only queue, nothing piles up inside the TLS session.
        while !self.tls.is_handshaking() && !self.tls.wants_write() {
            let n = self
                .smtp
                .poll_transmit(&mut self.staging, &mut self.source, now);
            if n == 0 {
                break;
            }
            let mut taken = 0;
            while taken < n {
                match self.tls.write_plain(&self.staging[taken..n]) {
                    Ok(k) if k > 0 => taken += k,
                    // With nothing queued the session always takes 512
                    // bytes; refusing them would lose message text.
                    Ok(_) => return self.tls_failed(TlsError::Protocol),
                    Err(e) => return self.tls_failed(e),
                }
            }
        }
        while self.tls.wants_write() && socket.can_send() {
            match move_ciphertext(socket, &mut self.tls, Direction::Out) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return self.tls_failed(e),
            }
        }
    }
}

/// Which way [`move_ciphertext`] moves records.
#[derive(Clone, Copy)]
enum Direction {
    /// From the pipe into the TLS session.
    In,
    /// From the TLS session out to the pipe.
    Out,
}

/// Moves one contiguous run of ciphertext between the pipe and `tls`;
/// returns how many bytes moved.
fn move_ciphertext<T: TlsSession>(
    pipe: &mut dyn Pipe,
    tls: &mut T,
    way: Direction,
) -> Result<usize, TlsError> {
    let mut failed = None;
    let mut record = |r: Result<usize, TlsError>| {
        r.unwrap_or_else(|e| {
            failed = Some(e);
            0
        })
    };
    let moved = match way {
        Direction::In => pipe.recv_with(&mut |b| record(tls.read_tls(b))),
        Direction::Out => pipe.send_with(&mut |b| record(tls.write_tls(b))),
    };
    failed.map_or(Ok(moved), Err)
}

impl<T: TlsSession, R: Read> PipeClient for MailSender<'_, T, R> {
    fn drive(&mut self, socket: &mut dyn Pipe, now: Instant) {
        if self.closed {
            return;
        }
        match self.conn.update(socket, now) {
            ClientState::Connecting => return,
            ClientState::Failed(_) => {
                self.smtp.connection_failed(false);
                self.closed = true;
                return;
            }
            ClientState::Connected | ClientState::PeerClosed => {}
        }
        if self.security == Security::Implicit && !self.tls_on {
            self.start_tls();
        }
        self.input(socket, now);
        self.smtp.handle_timeout(now);
        self.output(socket, now);
        let drained = !self.tls_on || !self.tls.wants_write();
        if self.smtp.cut_short() {
            // Stopped mid-message: what is queued is message text nobody
            // will read; reset now so the outcome is reported at once.
            socket.abort();
            self.closed = true;
        } else if self.smtp.is_finished() && drained {
            if self.tls_on {
                self.tls.close();
                self.output(socket, now);
            }
            socket.close();
            self.closed = true;
        } else if self.conn.state() == ClientState::PeerClosed && self.smtp.outcome().is_none() {
            self.smtp.connection_failed(false);
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        if self.closed {
            return None;
        }
        earliest(self.conn.poll_at(), self.smtp.poll_at())
    }

    fn connection(&mut self) -> &mut TcpClient {
        &mut self.conn
    }
}

impl<T: TlsSession, R: Read> Service for MailSender<'_, T, R> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let handle = self.conn.handle();
        poll_on_socket(self, handle, net, now);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        PipeClient::poll_at(self, now)
    }
}
