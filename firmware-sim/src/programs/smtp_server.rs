//! The simulated SMTP server: a small state machine on one TCP socket that
//! speaks as much RFC 5321 as core's client uses. A 220 greeting; EHLO
//! with SIZE, 8BITMIME and (when configured) AUTH PLAIN LOGIN, or HELO;
//! AUTH, required before MAIL when configured; MAIL FROM with SIZE= and
//! BODY=; RCPT TO, refusing the configured addresses with 550; DATA until
//! `.` CRLF, dot-stuffing undone, the message stored (up to the SIZE
//! limit); RSET, NOOP, QUIT. No TLS, no pipelining.
//!
//! [`SmtpMachine`] is the protocol, sans-IO; [`SmtpServer`] moves its bytes
//! through a smoltcp socket; [`SmtpNode`] is the node's program, which
//! hands every stored message to a checker.

use std::fmt;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::mime_read;
use crate::node::{NodeCtx, Program};
use crate::payload::human;
use crate::sockets::tcp_socket;
use minnow::service::{Net, Service};

/// Longest command line, CRLF included (RFC 5321 4.5.3.1.4).
pub const MAX_COMMAND: usize = 512;
/// Longest text line of a message, CRLF included (RFC 5321 4.5.3.1.6).
pub const MAX_TEXT_LINE: usize = 1000;
/// Most recipients of one message.
const MAX_RECIPIENTS: usize = 100;

/// How the server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServerConfig {
    /// Its name in the greeting and the EHLO reply.
    pub hostname: String,
    /// Largest message, bytes (advertised as `SIZE`).
    pub size_limit: usize,
    /// With a user name and password: AUTH PLAIN and LOGIN are offered and
    /// required before MAIL.
    pub auth: Option<(String, String)>,
    /// Recipients refused with 550.
    pub refuse: Vec<String>,
    /// A connection with nothing from the client for this long is closed
    /// (421).
    pub idle: Duration,
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The client's address.
    pub peer: IpEndpoint,
    /// The name it gave in EHLO or HELO.
    pub helo: String,
    /// The user it authenticated as.
    pub user: Option<String>,
    /// MAIL FROM.
    pub from: String,
    /// The accepted RCPT TO addresses, in order.
    pub recipients: Vec<String>,
    /// MAIL FROM's `SIZE=`.
    pub declared_size: Option<u64>,
    /// The longest line, CRLF included.
    pub longest_line: usize,
    /// The message, dot-stuffing undone, without the final `.` CRLF.
    pub bytes: Vec<u8>,
}

/// What the server did, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpServed {
    /// A client connected.
    Connected(IpEndpoint),
    /// AUTH succeeded.
    Authenticated {
        /// The user.
        user: String,
        /// PLAIN or LOGIN.
        mechanism: &'static str,
    },
    /// AUTH failed (wrong credentials or undecodable).
    AuthFailed,
    /// A recipient was refused.
    Refused(String),
    /// A message was stored (its number).
    Stored(usize),
    /// A message was refused at its end (too big).
    TooBig(usize),
    /// The connection ended in the middle of a transaction.
    Aborted(IpEndpoint),
    /// The connection ended.
    Closed(IpEndpoint),
    /// Nothing came for the idle time: closed with 421.
    IdleTimeout(IpEndpoint),
}

impl fmt::Display for SmtpServed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpServed::Connected(p) => write!(f, "smtp: {p} connected"),
            SmtpServed::Authenticated { user, mechanism } => {
                write!(f, "smtp: authenticated {user:?} (AUTH {mechanism})")
            }
            SmtpServed::AuthFailed => write!(f, "smtp: authentication failed"),
            SmtpServed::Refused(r) => write!(f, "smtp: refused recipient <{r}> (550)"),
            SmtpServed::Stored(n) => write!(f, "smtp: stored message {n}"),
            SmtpServed::TooBig(n) => write!(f, "smtp: refused a message of {n}+ bytes (552)"),
            SmtpServed::Aborted(p) => write!(f, "smtp: {p} went away mid-transaction"),
            SmtpServed::Closed(p) => write!(f, "smtp: {p} closed"),
            SmtpServed::IdleTimeout(p) => write!(f, "smtp: {p} idle, closed (421)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Command,
    /// AUTH PLAIN without an initial response: the next line is it.
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword(String),
    Data,
    /// QUIT answered (or the connection is given up): nothing more is read.
    Closing,
}

/// One SMTP connection, sans-IO: bytes in with [`SmtpMachine::input`],
/// replies out in [`SmtpMachine::out`].
#[derive(Debug)]
pub struct SmtpMachine {
    cfg: SmtpServerConfig,
    peer: IpEndpoint,
    phase: Phase,
    helo: Option<String>,
    extended: bool,
    user: Option<String>,
    from: Option<String>,
    declared: Option<u64>,
    recipients: Vec<String>,
    line: Vec<u8>,
    overlong: bool,
    data: Vec<u8>,
    too_big: bool,
    longest_line: usize,
    stored: usize,
    /// Replies waiting to be sent.
    pub out: Vec<u8>,
    /// What happened, for the caller to drain.
    pub events: Vec<SmtpServed>,
    /// Messages accepted, for the caller to drain.
    pub received: Vec<Received>,
}

impl SmtpMachine {
    /// A connection from `peer`: the greeting is queued.
    pub fn new(cfg: SmtpServerConfig, peer: IpEndpoint) -> Self {
        let mut m = Self {
            cfg,
            peer,
            phase: Phase::Command,
            helo: None,
            extended: false,
            user: None,
            from: None,
            declared: None,
            recipients: Vec::new(),
            line: Vec::new(),
            overlong: false,
            data: Vec::new(),
            too_big: false,
            longest_line: 0,
            stored: 0,
            out: Vec::new(),
            events: vec![SmtpServed::Connected(peer)],
            received: Vec::new(),
        };
        let greeting = format!("220 {} ESMTP minnow-sim", m.cfg.hostname);
        m.reply(&greeting);
        m
    }

    /// Whether the connection should close once [`SmtpMachine::out`] is sent.
    pub fn closing(&self) -> bool {
        self.phase == Phase::Closing
    }

    /// Whether a transaction (MAIL FROM onwards) is open.
    pub fn in_transaction(&self) -> bool {
        self.from.is_some() || self.phase == Phase::Data
    }

    /// Takes the client's bytes (all of them; after QUIT they are dropped).
    pub fn input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.phase == Phase::Closing {
                return;
            }
            let limit = if self.phase == Phase::Data {
                self.cfg.size_limit + 3
            } else {
                MAX_COMMAND
            };
            if self.line.len() < limit {
                self.line.push(b);
            } else if b != b'\n' {
                self.overlong = true;
            }
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                let overlong = std::mem::take(&mut self.overlong);
                self.on_line(line, overlong);
            }
        }
    }

    /// Nothing came for the idle time: 421, then close.
    pub fn idle_timeout(&mut self) {
        self.events.push(SmtpServed::IdleTimeout(self.peer));
        let text = format!("421 4.4.2 {} idle too long, closing", self.cfg.hostname);
        self.reply(&text);
        self.phase = Phase::Closing;
    }

    /// The connection ended (FIN or reset): a half-done transaction is lost.
    pub fn connection_lost(&mut self) {
        self.events.push(if self.in_transaction() {
            SmtpServed::Aborted(self.peer)
        } else {
            SmtpServed::Closed(self.peer)
        });
        self.phase = Phase::Closing;
    }

    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn reset(&mut self) {
        self.from = None;
        self.declared = None;
        self.recipients.clear();
    }

    fn on_line(&mut self, line: Vec<u8>, overlong: bool) {
        if self.phase == Phase::Data {
            self.data_line(&line, overlong);
            return;
        }
        let Some(text) = line.strip_suffix(b"\r\n") else {
            self.reply("500 5.5.2 lines end with CRLF");
            return;
        };
        if overlong {
            self.reply("500 5.5.2 line too long");
            return;
        }
        let text = String::from_utf8_lossy(text).into_owned();
        match std::mem::replace(&mut self.phase, Phase::Command) {
            Phase::AuthPlain => self.auth_plain(&text),
            Phase::AuthLoginUser => match decode_text(&text) {
                Some(user) => {
                    self.phase = Phase::AuthLoginPassword(user);
                    self.reply("334 UGFzc3dvcmQ6");
                }
                None => self.auth_failed(&text),
            },
            Phase::AuthLoginPassword(user) => match decode_text(&text) {
                Some(password) => self.auth_check(user, password, "LOGIN"),
                None => self.auth_failed(&text),
            },
            _ => self.command(&text),
        }
    }

    fn data_line(&mut self, line: &[u8], overlong: bool) {
        if line == b".\r\n" && !overlong {
            self.end_of_data();
            return;
        }
        self.longest_line = self.longest_line.max(line.len() + usize::from(overlong));
        // Dot-stuffing undone (RFC 5321 4.5.2).
        let line = line.strip_prefix(b".").unwrap_or(line);
        if overlong || self.data.len() + line.len() > self.cfg.size_limit {
            self.too_big = true;
        } else {
            self.data.extend_from_slice(line);
        }
    }

    fn end_of_data(&mut self) {
        self.phase = Phase::Command;
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.too_big) {
            self.events.push(SmtpServed::TooBig(data.len()));
            self.reply("552 5.3.4 message size exceeds fixed maximum message size");
        } else {
            self.stored += 1;
            self.received.push(Received {
                peer: self.peer,
                helo: self.helo.clone().unwrap_or_default(),
                user: self.user.clone(),
                from: self.from.clone().unwrap_or_default(),
                recipients: self.recipients.clone(),
                declared_size: self.declared,
                longest_line: self.longest_line,
                bytes: data,
            });
            self.events.push(SmtpServed::Stored(self.stored));
            let text = format!("250 2.0.0 ok: queued as {}", self.stored);
            self.reply(&text);
        }
        self.longest_line = 0;
        self.reset();
    }

    fn command(&mut self, text: &str) {
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v, a.trim()),
            None => (text, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if arg.is_empty() => self.reply("501 5.5.4 a domain, please"),
            "EHLO" => {
                self.reset();
                self.helo = Some(arg.to_string());
                self.extended = true;
                let mut lines = vec![
                    format!("{} greets {arg}", self.cfg.hostname),
                    format!("SIZE {}", self.cfg.size_limit),
                    "8BITMIME".to_string(),
                ];
                if self.cfg.auth.is_some() {
                    lines.push("AUTH PLAIN LOGIN".to_string());
                }
                lines.push("HELP".to_string());
                let last = lines.len() - 1;
                for (i, l) in lines.iter().enumerate() {
                    let text = format!("250{}{l}", if i == last { ' ' } else { '-' });
                    self.reply(&text);
                }
            }
            "HELO" => {
                self.reset();
                self.helo = Some(arg.to_string());
                self.extended = false;
                let text = format!("250 {}", self.cfg.hostname);
                self.reply(&text);
            }
            "AUTH" => self.auth(arg),
            "MAIL" => self.mail(arg),
            "RCPT" => self.rcpt(arg),
            "DATA" if !arg.is_empty() => self.reply("501 5.5.4 DATA takes no argument"),
            "DATA" if self.recipients.is_empty() => self.reply("503 5.5.1 no valid recipients"),
            "DATA" => {
                self.phase = Phase::Data;
                self.data.clear();
                self.reply("354 end data with <CR><LF>.<CR><LF>");
            }
            "RSET" => {
                self.reset();
                self.reply("250 2.0.0 ok");
            }
            "NOOP" => self.reply("250 2.0.0 ok"),
            "HELP" => self.reply("214 2.0.0 see RFC 5321"),
            "VRFY" => self.reply("252 2.5.0 cannot verify, will try"),
            "QUIT" => {
                let text = format!("221 2.0.0 {} closing", self.cfg.hostname);
                self.reply(&text);
                self.events.push(SmtpServed::Closed(self.peer));
                self.phase = Phase::Closing;
            }
            _ => self.reply("502 5.5.1 command not recognised"),
        }
    }

    fn auth(&mut self, arg: &str) {
        if self.cfg.auth.is_none() {
            return self.reply("502 5.5.1 no AUTH here");
        }
        if !self.extended {
            return self.reply("503 5.5.1 EHLO first");
        }
        if self.user.is_some() {
            return self.reply("503 5.5.1 already authenticated");
        }
        if self.in_transaction() {
            return self.reply("503 5.5.1 not during a transaction");
        }
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, i)) => (m, Some(i.trim())),
            None => (arg, None),
        };
        match (mechanism.to_ascii_uppercase().as_str(), initial) {
            ("PLAIN", Some(response)) => self.auth_plain(response),
            ("PLAIN", None) => {
                self.phase = Phase::AuthPlain;
                self.reply("334 ");
            }
            ("LOGIN", Some(user)) => match decode_text(user) {
                Some(user) => {
                    self.phase = Phase::AuthLoginPassword(user);
                    self.reply("334 UGFzc3dvcmQ6");
                }
                None => self.auth_failed(user),
            },
            ("LOGIN", None) => {
                self.phase = Phase::AuthLoginUser;
                self.reply("334 VXNlcm5hbWU6");
            }
            _ => self.reply("504 5.5.4 unrecognised authentication type"),
        }
    }

    /// `\0user\0password` (RFC 4616), base64.
    fn auth_plain(&mut self, response: &str) {
        let decoded = mime_read::base64(response.as_bytes())
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok());
        let parts: Option<Vec<String>> = decoded.map(|d| d.split('\0').map(String::from).collect());
        match parts.as_deref() {
            Some([_authzid, user, password]) => {
                self.auth_check(user.clone(), password.clone(), "PLAIN")
            }
            _ => self.auth_failed(response),
        }
    }

    fn auth_check(&mut self, user: String, password: String, mechanism: &'static str) {
        let ok = self
            .cfg
            .auth
            .as_ref()
            .is_some_and(|(u, p)| *u == user && *p == password);
        if ok {
            self.events.push(SmtpServed::Authenticated {
                user: user.clone(),
                mechanism,
            });
            self.user = Some(user);
            self.reply("235 2.7.0 authentication successful");
        } else {
            self.events.push(SmtpServed::AuthFailed);
            self.reply("535 5.7.8 authentication credentials invalid");
        }
    }

    fn auth_failed(&mut self, response: &str) {
        if response == "*" {
            self.reply("501 5.0.0 authentication cancelled");
        } else {
            self.events.push(SmtpServed::AuthFailed);
            self.reply("501 5.5.2 cannot decode the response");
        }
    }

    fn mail(&mut self, arg: &str) {
        if self.helo.is_none() {
            return self.reply("503 5.5.1 EHLO or HELO first");
        }
        if self.cfg.auth.is_some() && self.user.is_none() {
            return self.reply("530 5.7.0 authentication required");
        }
        if self.from.is_some() {
            return self.reply("503 5.5.1 nested MAIL command");
        }
        let Some((from, params)) = path(arg, "FROM:") else {
            return self.reply("501 5.5.4 syntax: MAIL FROM:<address>");
        };
        let mut declared = None;
        for p in params.split_whitespace() {
            let (key, value) = p.split_once('=').unwrap_or((p, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" if self.extended => match value.parse::<u64>() {
                    Ok(n) if n > self.cfg.size_limit as u64 => {
                        return self.reply("552 5.3.4 message size exceeds fixed limit");
                    }
                    Ok(n) => declared = Some(n),
                    Err(_) => return self.reply("501 5.5.4 bad SIZE"),
                },
                "BODY" if self.extended && ["7BIT", "8BITMIME"].contains(&value) => {}
                _ => return self.reply("555 5.5.4 parameter not recognised"),
            }
        }
        self.from = Some(from);
        self.declared = declared;
        self.reply("250 2.1.0 sender ok");
    }

    fn rcpt(&mut self, arg: &str) {
        if self.from.is_none() {
            return self.reply("503 5.5.1 MAIL first");
        }
        let Some((to, params)) = path(arg, "TO:") else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>");
        };
        if !params.is_empty() {
            return self.reply("555 5.5.4 parameter not recognised");
        }
        if to.is_empty() {
            return self.reply("501 5.1.3 an empty recipient");
        }
        if self.recipients.len() == MAX_RECIPIENTS {
            return self.reply("452 4.5.3 too many recipients");
        }
        if self.cfg.refuse.iter().any(|r| r.eq_ignore_ascii_case(&to)) {
            let text = format!("550 5.1.1 <{to}>: no such user here");
            self.events.push(SmtpServed::Refused(to));
            return self.reply(&text);
        }
        self.recipients.push(to);
        self.reply("250 2.1.5 recipient ok");
    }
}

/// `FROM:<address> params` (the keyword case-insensitive, spaces allowed
/// after the colon): the address and the parameters.
fn path(arg: &str, keyword: &str) -> Option<(String, String)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start().strip_prefix('<')?;
    let (address, params) = rest.split_once('>')?;
    Some((address.to_string(), params.trim().to_string()))
}

/// A base64 AUTH answer as text.
fn decode_text(b64: &str) -> Option<String> {
    String::from_utf8(mime_read::base64(b64.as_bytes()).ok()?).ok()
}

/// The server on one socket: one connection at a time, listening again
/// when it ends.
pub struct SmtpServer {
    handle: SocketHandle,
    port: u16,
    cfg: SmtpServerConfig,
    conn: Option<SmtpMachine>,
    last_input: Instant,
    /// What happened, for the caller to drain.
    pub events: Vec<SmtpServed>,
    /// Messages accepted, for the caller to drain.
    pub received: Vec<Received>,
}

impl SmtpServer {
    /// Listens on `port` with a socket added to `sockets`.
    pub fn new(sockets: &mut SocketSet<'static>, port: u16, cfg: SmtpServerConfig) -> Self {
        let mut socket = tcp_socket(16 * 1024, 4096);
        // A fresh socket listens on any non-zero port.
        let _ = socket.listen(port);
        Self {
            handle: sockets.add(socket),
            port,
            cfg,
            conn: None,
            last_input: Instant::ZERO,
            events: Vec::new(),
            received: Vec::new(),
        }
    }

    fn drain(&mut self) {
        if let Some(m) = self.conn.as_mut() {
            self.events.append(&mut m.events);
            self.received.append(&mut m.received);
        }
    }
}

impl Service for SmtpServer {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let socket = net.sockets.get_mut::<tcp::Socket>(self.handle);
        if !socket.is_open() {
            // Closed, reset, or TIME-WAIT: the connection is over.
            if let Some(m) = self.conn.as_mut()
                && !m.closing()
            {
                m.connection_lost();
            }
            self.drain();
            self.conn = None;
            let _ = socket.listen(self.port);
            return;
        }
        if self.conn.is_none() && socket.may_send() {
            let peer = socket
                .remote_endpoint()
                .unwrap_or(IpEndpoint::new(smoltcp::wire::IpAddress::v4(0, 0, 0, 0), 0));
            self.conn = Some(SmtpMachine::new(self.cfg.clone(), peer));
            self.last_input = now;
        }
        let Some(m) = self.conn.as_mut() else {
            return;
        };
        let mut got = false;
        while socket.can_recv() {
            match socket.recv(|b| {
                m.input(b);
                (b.len(), b.len())
            }) {
                Ok(n) if n > 0 => got = true,
                _ => break,
            }
        }
        if got {
            self.last_input = now;
        }
        if !m.closing() {
            if !socket.may_recv() {
                // The client closed its side (everything it sent was read).
                m.connection_lost();
            } else if now >= self.last_input + self.cfg.idle {
                m.idle_timeout();
            }
        }
        if !m.out.is_empty() && socket.can_send() {
            let n = socket.send_slice(&m.out).unwrap_or(0);
            m.out.drain(..n);
        }
        if m.closing() && m.out.is_empty() {
            socket.close();
        }
        self.drain();
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        self.conn
            .as_ref()
            .filter(|m| !m.closing())
            .map(|_| self.last_input + self.cfg.idle)
    }
}

/// Checks a stored message; `Ok` says what checked out, `Err` what did not.
pub type Checker<'a> = Box<dyn FnMut(&Received) -> Result<String, String> + 'a>;

/// The SMTP server node's program.
pub struct SmtpNode<'a> {
    server: SmtpServer,
    check: Checker<'a>,
}

impl<'a> SmtpNode<'a> {
    /// Serves SMTP on `port`; every stored message goes to `check`.
    pub fn new(
        net: &mut Net<'_, 'static>,
        port: u16,
        cfg: SmtpServerConfig,
        check: Checker<'a>,
    ) -> Self {
        Self {
            server: SmtpServer::new(net.sockets, port, cfg),
            check,
        }
    }
}

impl Program for SmtpNode<'_> {
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
        let next = ctx.step(&mut [&mut self.server]);
        // Only the timeline hears of what follows: the sockets stay as stepped.
        ctx.settled = true;
        for e in self.server.events.drain(..) {
            ctx.log(e.to_string());
        }
        for r in std::mem::take(&mut self.server.received) {
            let text = match (self.check)(&r) {
                Ok(what) => format!(
                    "smtp: message from <{}> for {} ({}): {what}",
                    r.from,
                    r.recipients.join(", "),
                    human(r.bytes.len() as u64)
                ),
                Err(why) => format!("smtp: message from <{}>: WRONG: {why}", r.from),
            };
            ctx.log(text);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::mail::{self, MailPlan};
    use minnow::file::store::SliceReader;
    use minnow::mail::smtp::session::{
        AuthMechanism, Credentials, Failure, Security, SmtpConfig, SmtpEvent, SmtpSession,
        SmtpTimeouts, Stage,
    };

    fn peer() -> IpEndpoint {
        IpEndpoint::new(smoltcp::wire::IpAddress::v4(192, 0, 2, 2), 50000)
    }

    fn server() -> SmtpServerConfig {
        MailPlan::new(1, 10).server_config(Duration::from_secs(300))
    }

    fn client(mechanism: AuthMechanism, size: u64) -> SmtpConfig<'static> {
        SmtpConfig {
            helo: mail::HELO,
            from: mail::FROM.addr,
            recipients: &mail::RECIPIENTS,
            credentials: Some(Credentials {
                user: mail::USER,
                password: mail::PASSWORD,
            }),
            mechanism: Some(mechanism),
            security: Security::None,
            allow_plaintext_auth: true,
            size: Some(size),
            timeouts: SmtpTimeouts::default(),
        }
    }

    /// Core's client and the server, bytes moved `chunk` at a time each way
    /// (the client writes message data only into at least 5 bytes of room,
    /// so it gets that much).
    fn converse<'a>(
        cfg: SmtpConfig<'a>,
        message: &'a [u8],
        server: SmtpServerConfig,
        chunk: usize,
    ) -> (SmtpSession<'a>, SmtpMachine) {
        let now = Instant::ZERO;
        let mut s = SmtpSession::new(cfg, now).unwrap();
        let mut m = SmtpMachine::new(server, peer());
        let mut src = SliceReader::new(message);
        let mut buf = vec![0u8; chunk.max(5)];
        for _ in 0..100_000 {
            while !m.out.is_empty() {
                let n = chunk.min(m.out.len());
                let used = s.handle_input(&m.out[..n], now);
                m.out.drain(..used);
                if used == 0 {
                    break;
                }
            }
            loop {
                let n = s.poll_transmit(&mut buf, &mut src, now);
                if n == 0 {
                    break;
                }
                for piece in buf[..n].chunks(chunk) {
                    m.input(piece);
                }
            }
            if s.is_finished() && m.out.is_empty() {
                return (s, m);
            }
        }
        panic!("the conversation did not end");
    }

    #[test]
    fn core_client_delivers_the_composed_message_intact() {
        let plan = MailPlan::new(7, 2000);
        let message = plan.compose(1_491_314_851).unwrap();
        for mechanism in [AuthMechanism::Plain, AuthMechanism::Login] {
            for chunk in [1, 2, 3, 7, 64, 512, 4096] {
                let cfg = client(mechanism, message.len() as u64);
                let (mut s, m) = converse(cfg, &message, server(), chunk);
                let accepted = s.outcome().unwrap().as_ref().unwrap();
                assert_eq!(accepted.recipients, 1);
                assert_eq!(accepted.reply.code, 250);
                assert!(matches!(
                    s.events.pop(),
                    Some(SmtpEvent::RecipientRefused { index: 1, ref reply }) if reply.code == 550
                ));
                assert!(m.closing(), "QUIT answered");
                let [got] = &m.received[..] else {
                    panic!("{} messages", m.received.len())
                };
                assert_eq!(got.bytes, message, "chunk {chunk}");
                assert_eq!(got.declared_size, Some(message.len() as u64));
                assert_eq!(got.user.as_deref(), Some(mail::USER));
                mail::check(&plan, 1_491_314_851, got).unwrap();
            }
        }
    }

    #[test]
    fn refusals_are_reported_by_the_client() {
        let message = b"Subject: x\r\n\r\nhello\r\n";
        // Wrong password.
        let mut bad = server();
        bad.auth = Some((mail::USER.into(), "other".into()));
        let (s, m) = converse(client(AuthMechanism::Login, 21), message, bad, 5);
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.stage, Stage::Auth);
        assert!(matches!(&err.failure, Failure::Rejected(r) if r.code == 535));
        assert!(m.received.is_empty());
        // Too big for the server's SIZE.
        let mut small = server();
        small.size_limit = 10;
        let (s, _) = converse(client(AuthMechanism::Plain, 21), message, small, 64);
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(
            err.failure,
            Failure::TooLarge {
                size: 21,
                limit: 10
            }
        );
        // Bigger than announced: refused at the end with 552.
        let mut small = server();
        small.size_limit = 15;
        let (s, m) = converse(client(AuthMechanism::Plain, 12), message, small, 64);
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.stage, Stage::Data);
        assert!(matches!(&err.failure, Failure::Rejected(r) if r.code == 552));
        assert_eq!(m.events.last(), Some(&SmtpServed::Closed(peer())));
        // Every recipient refused: no DATA.
        let mut all = server();
        all.refuse.push(mail::RECIPIENTS[0].into());
        let (s, m) = converse(client(AuthMechanism::Plain, 21), message, all, 64);
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.failure, Failure::AllRecipientsRefused);
        assert!(m.received.is_empty());
    }

    fn say(m: &mut SmtpMachine, line: &str) -> String {
        m.out.clear();
        m.input(line.as_bytes());
        String::from_utf8(std::mem::take(&mut m.out)).unwrap()
    }

    #[test]
    fn commands_in_the_wrong_order_or_shape_are_refused() {
        let mut m = SmtpMachine::new(server(), peer());
        assert!(String::from_utf8_lossy(&m.out).starts_with("220 smtp.sim.test "));
        assert!(say(&mut m, "MAIL FROM:<a@b>\r\n").starts_with("503 "));
        assert!(say(&mut m, "EHLO\r\n").starts_with("501 "));
        let ehlo = say(&mut m, "ehlo me\r\n");
        assert!(ehlo.contains("250-SIZE 1048576\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n"));
        assert!(ehlo.ends_with("250 HELP\r\n"));
        assert!(say(&mut m, "MAIL FROM:<a@b>\r\n").starts_with("530 "));
        assert!(say(&mut m, "AUTH CRAM-MD5\r\n").starts_with("504 "));
        assert!(say(&mut m, "AUTH PLAIN\r\n").starts_with("334 "));
        assert!(say(&mut m, "*\r\n").starts_with("501 "));
        // \0board\0fish & chips
        assert!(say(&mut m, "AUTH PLAIN AGJvYXJkAGZpc2ggJiBjaGlwcw==\r\n").starts_with("235 "));
        assert!(say(&mut m, "RCPT TO:<a@b>\r\n").starts_with("503 "));
        assert!(say(&mut m, "MAIL FROM:<a@b> SIZE=2000000\r\n").starts_with("552 "));
        assert!(say(&mut m, "MAIL FROM:<a@b> FOO=1\r\n").starts_with("555 "));
        assert!(say(&mut m, "MAIL FROM:<a@b> BODY=8BITMIME SIZE=5\r\n").starts_with("250 "));
        assert!(say(&mut m, "DATA\r\n").starts_with("503 "));
        assert!(say(&mut m, "RCPT TO:<nobody@sim.test>\r\n").starts_with("550 "));
        assert!(say(&mut m, "RCPT TO: <x@y>\r\n").starts_with("250 "));
        assert!(say(&mut m, "DATA\r\n").starts_with("354 "));
        assert_eq!(say(&mut m, "..a\r\n.\r\n"), "250 2.0.0 ok: queued as 1\r\n");
        assert_eq!(m.received[0].bytes, b".a\r\n");
        assert_eq!(m.received[0].recipients, ["x@y"]);
        assert!(say(&mut m, "NOOP\r\n").starts_with("250 "));
        assert!(say(&mut m, "BOGUS\r\n").starts_with("502 "));
        assert!(say(&mut m, &format!("NOOP {}\r\n", "x".repeat(600))).starts_with("500 "));
        assert!(say(&mut m, "NOOP\n").starts_with("500 "));
        assert!(say(&mut m, "QUIT\r\n").starts_with("221 "));
        assert!(m.closing());
        assert_eq!(say(&mut m, "NOOP\r\n"), "");
    }
}
