//! One SMTP transaction as a state machine: greeting, EHLO (HELO when EHLO
//! is refused), STARTTLS and EHLO again, AUTH PLAIN or LOGIN, MAIL FROM,
//! RCPT TO for each recipient, DATA with the message streamed through the
//! dot-stuffer, and QUIT. Every failure names its stage and the server's
//! reply. Credentials are never sent without TLS unless allowed.

use embedded_io::Read;
use smoltcp::time::{Duration, Instant};

use super::caps::Capabilities;
use super::reply::{Parsed, Reply, ReplyError, ReplyParser};
use crate::mail::dot::DotStuffer;
use crate::mail::mime::b64;
use crate::service::EventQueue;

/// Longest user name or password, bytes.
pub const MAX_CREDENTIAL: usize = 255;
/// Longest address, bytes (RFC 5321 4.5.3.1.3).
pub const MAX_ADDRESS: usize = 256;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain TCP throughout.
    None,
    /// Plain TCP, then STARTTLS before anything else (port 587). A server
    /// without STARTTLS is an error.
    StartTls,
    /// TLS from the first byte (port 465): the runtime starts TLS first.
    Implicit,
}

/// A user name and password for AUTH.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// User name.
    pub user: &'a str,
    /// Password.
    pub password: &'a str,
}

/// An AUTH mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanism {
    /// RFC 4616: one command with `\0user\0password` in base64.
    Plain,
    /// The user name and the password in two base64 answers.
    Login,
}

/// The RFC 5321 4.5.3.2 timeouts, each configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpTimeouts {
    /// Waiting for the greeting (5 min).
    pub greeting: Duration,
    /// Waiting for replies to EHLO, STARTTLS, AUTH, MAIL, RCPT (5 min).
    pub command: Duration,
    /// Waiting for the 354 after DATA (2 min).
    pub data_start: Duration,
    /// Between two blocks of message data going out (3 min).
    pub data_block: Duration,
    /// Waiting for the reply after the final `.` (10 min).
    pub data_end: Duration,
}

impl Default for SmtpTimeouts {
    fn default() -> Self {
        Self {
            greeting: Duration::from_secs(300),
            command: Duration::from_secs(300),
            data_start: Duration::from_secs(120),
            data_block: Duration::from_secs(180),
            data_end: Duration::from_secs(600),
        }
    }
}

/// What to send, to whom, how.
#[derive(Debug, Clone, Copy)]
pub struct SmtpConfig<'a> {
    /// Our name for EHLO/HELO.
    pub helo: &'a str,
    /// The envelope sender.
    pub from: &'a str,
    /// Every recipient (To, Cc and Bcc).
    pub recipients: &'a [&'a str],
    /// AUTH, if any.
    pub credentials: Option<Credentials<'a>>,
    /// Use this mechanism (it must be offered); `None`: PLAIN if offered,
    /// else LOGIN.
    pub mechanism: Option<AuthMechanism>,
    /// Plain, STARTTLS or implicit TLS.
    pub security: Security,
    /// Send credentials over an unencrypted connection (off by default).
    pub allow_plaintext_auth: bool,
    /// The message's size in bytes, for `SIZE=` (when known).
    pub size: Option<u64>,
    /// Timeouts.
    pub timeouts: SmtpTimeouts,
}

/// Where a transaction stands or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Opening the connection.
    Connect,
    /// TLS (implicit or after STARTTLS).
    Tls,
    /// The server's greeting.
    Greeting,
    /// EHLO or HELO.
    Ehlo,
    /// STARTTLS.
    StartTls,
    /// AUTH.
    Auth,
    /// MAIL FROM.
    MailFrom,
    /// RCPT TO.
    RcptTo,
    /// DATA and the message.
    Data,
    /// QUIT.
    Quit,
}

impl Stage {
    /// The stage's name, as [`Display`](core::fmt::Display) writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Tls => "TLS",
            Stage::Greeting => "greeting",
            Stage::Ehlo => "EHLO",
            Stage::StartTls => "STARTTLS",
            Stage::Auth => "AUTH",
            Stage::MailFrom => "MAIL FROM",
            Stage::RcptTo => "RCPT TO",
            Stage::Data => "DATA",
            Stage::Quit => "QUIT",
        }
    }
}

impl core::fmt::Display for Stage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transaction failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server refused (its reply).
    Rejected(Reply),
    /// The server's reply could not be parsed.
    BadReply(ReplyError),
    /// No reply within the stage's timeout.
    Timeout,
    /// The connection closed, was refused or reset.
    ConnectionLost,
    /// TLS was required but the server does not offer STARTTLS.
    NoStartTls,
    /// Bytes followed the STARTTLS reply before TLS (a known injection).
    DataAfterStartTls,
    /// TLS failed (handshake, certificate, or record error).
    TlsFailed,
    /// Credentials would go over plain TCP (pass allow_plaintext_auth).
    PlaintextAuthRefused,
    /// The server offers neither AUTH PLAIN nor LOGIN.
    NoAuthMechanism,
    /// The message is larger than the server's SIZE limit.
    TooLarge {
        /// Our size.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// Every recipient was refused; nothing was sent.
    AllRecipientsRefused,
    /// An address needs SMTPUTF8 and the server does not offer it.
    NeedsSmtpUtf8,
    /// An address or credential is too long or contains CR/LF.
    BadArgument,
    /// Reading the message failed.
    Source,
}

/// A failure and the stage it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpError {
    /// The stage.
    pub stage: Stage,
    /// What went wrong.
    pub failure: Failure,
}

impl core::fmt::Display for SmtpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Plain `write_str` calls where the text is fixed: cheaper in the
        // firmware image than `write!`, and the same output.
        f.write_str(self.stage.as_str())?;
        f.write_str(": ")?;
        let text = match &self.failure {
            Failure::Rejected(r) => {
                f.write_str("the server replied ")?;
                return write!(f, "{r}");
            }
            Failure::BadReply(e) => return write!(f, "{e}"),
            Failure::TooLarge { size, limit } => {
                return write!(
                    f,
                    "the message ({size} bytes) exceeds the server's limit ({limit})"
                );
            }
            Failure::Timeout => "no reply in time",
            Failure::ConnectionLost => "the connection was lost",
            Failure::NoStartTls => "the server does not offer STARTTLS",
            Failure::DataAfterStartTls => "the server sent data after its STARTTLS reply",
            Failure::TlsFailed => "TLS failed",
            Failure::PlaintextAuthRefused => {
                "refusing to send credentials without TLS (use STARTTLS or TLS, or allow plaintext auth)"
            }
            Failure::NoAuthMechanism => {
                "the server does not offer the AUTH mechanism (PLAIN or LOGIN)"
            }
            Failure::AllRecipientsRefused => "every recipient was refused",
            Failure::NeedsSmtpUtf8 => {
                "a non-ASCII address needs SMTPUTF8, which the server does not offer"
            }
            Failure::BadArgument => "an address or credential is too long or contains CR/LF",
            Failure::Source => "reading the message failed",
        };
        f.write_str(text)
    }
}

/// An address or credential is empty, too long, or contains CR, LF or NUL;
/// or there is no recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadArgument;

impl core::fmt::Display for BadArgument {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("an address or credential is empty, too long or contains CR/LF, or there is no recipient")
    }
}

/// What the session reports besides its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpEvent {
    /// One recipient was refused; the mail goes to the others.
    RecipientRefused {
        /// Its index in [`SmtpConfig::recipients`].
        index: usize,
        /// The server's reply.
        reply: Reply,
    },
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The server's reply to the final `.`.
    pub reply: Reply,
    /// Recipients accepted.
    pub recipients: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    /// Waiting for the runtime to finish the TLS handshake.
    TlsHandshake,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword,
    AuthLoginDone,
    MailFrom,
    Rcpt(usize),
    Data,
    Sending,
    DataEnd,
    Quit,
    Done,
    /// Stopped in the middle of the message (an early reply, a timeout, the
    /// source failing): nothing more may go out, not even QUIT, which the
    /// server would read as message text. The runtime drops the connection.
    Cut,
}

/// Bytes of message read ahead of the dot-stuffer. RAM: this many bytes.
const CHUNK: usize = 256;

/// One SMTP transaction. RAM: about 2.2 KiB (reply parser 650 bytes,
/// command buffer 1 KiB, message chunk 256 bytes, events 4 × 150 bytes).
pub struct SmtpSession<'a> {
    cfg: SmtpConfig<'a>,
    state: State,
    secure: bool,
    caps: Capabilities,
    parser: ReplyParser,
    out: heapless::Vec<u8, 1024>,
    out_sent: usize,
    deadline: Option<Instant>,
    accepted: usize,
    /// Lines of the current reply seen so far.
    reply_lines: usize,
    stuffer: DotStuffer,
    chunk: [u8; CHUNK],
    chunk_len: usize,
    chunk_pos: usize,
    outcome: Option<Result<Accepted, SmtpError>>,
    /// Events for the caller to drain.
    pub events: EventQueue<SmtpEvent, 4>,
}

fn clean(text: &str, max: usize) -> bool {
    text.len() <= max && !text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

impl<'a> SmtpSession<'a> {
    /// A session for `cfg`, started at `now` (the greeting timeout runs from
    /// here; with implicit TLS the runtime completes the handshake first).
    /// Arguments are checked before anything is sent.
    // Not inlined (nor `on_reply`): smaller in the firmware image (measured).
    #[inline(never)]
    pub fn new(cfg: SmtpConfig<'a>, now: Instant) -> Result<Self, BadArgument> {
        let bad = BadArgument;
        let addresses_ok = clean(cfg.from, MAX_ADDRESS)
            && clean(cfg.helo, 255)
            && !cfg.recipients.is_empty()
            && cfg
                .recipients
                .iter()
                .all(|r| clean(r, MAX_ADDRESS) && !r.is_empty());
        let creds_ok = cfg
            .credentials
            .is_none_or(|c| clean(c.user, MAX_CREDENTIAL) && clean(c.password, MAX_CREDENTIAL));
        if !addresses_ok || !creds_ok {
            return Err(bad);
        }
        Ok(Self {
            cfg,
            state: State::Greeting,
            secure: cfg.security == Security::Implicit,
            caps: Capabilities::default(),
            parser: ReplyParser::new(),
            out: heapless::Vec::new(),
            out_sent: 0,
            deadline: Some(now + cfg.timeouts.greeting),
            accepted: 0,
            reply_lines: 0,
            stuffer: DotStuffer::new(),
            chunk: [0; CHUNK],
            chunk_len: 0,
            chunk_pos: 0,
            outcome: None,
            events: EventQueue::new(),
        })
    }

    /// The result, once there is one.
    pub fn outcome(&self) -> Option<&Result<Accepted, SmtpError>> {
        self.outcome.as_ref()
    }

    /// The server's capabilities (after EHLO).
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// The runtime must start TLS now (the server said yes to STARTTLS).
    pub fn wants_tls(&self) -> bool {
        self.state == State::TlsHandshake
    }

    /// Whether the session has nothing left to send or wait for.
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some() && self.out_sent >= self.out.len()
    }

    /// The runtime finished the TLS handshake after STARTTLS: EHLO again.
    pub fn tls_established(&mut self, now: Instant) {
        self.secure = true;
        if self.state == State::TlsHandshake {
            self.caps = Capabilities::default();
            self.command(
                now,
                State::Ehlo,
                Stage::Ehlo,
                &[b"EHLO ", self.cfg.helo.as_bytes()],
            );
        }
    }

    /// The runtime stops the session (e.g. bytes after the STARTTLS reply).
    pub fn abort(&mut self, now: Instant, stage: Stage, failure: Failure) {
        self.fail(now, stage, failure);
        // Nothing more goes out on a connection that cannot be trusted.
        self.out.clear();
        self.out_sent = 0;
    }

    /// The connection or TLS failed underneath.
    pub fn connection_failed(&mut self, tls: bool) {
        if self.outcome.is_none() {
            let stage = if tls { Stage::Tls } else { self.stage() };
            let failure = if tls {
                Failure::TlsFailed
            } else {
                Failure::ConnectionLost
            };
            self.outcome = Some(Err(SmtpError { stage, failure }));
            self.state = State::Done;
        }
    }

    fn stage(&self) -> Stage {
        match self.state {
            State::Greeting => Stage::Greeting,
            State::Ehlo | State::Helo => Stage::Ehlo,
            State::StartTls => Stage::StartTls,
            State::TlsHandshake => Stage::Tls,
            State::AuthPlain
            | State::AuthLoginUser
            | State::AuthLoginPassword
            | State::AuthLoginDone => Stage::Auth,
            State::MailFrom => Stage::MailFrom,
            State::Rcpt(_) => Stage::RcptTo,
            State::Data | State::Sending | State::DataEnd | State::Cut => Stage::Data,
            State::Quit | State::Done => Stage::Quit,
        }
    }

    /// Queues a command (parts joined, CRLF added) and waits in `state`.
    fn command(&mut self, now: Instant, state: State, stage: Stage, parts: &[&[u8]]) {
        self.out.clear();
        self.out_sent = 0;
        let ok = parts.iter().all(|p| self.out.extend_from_slice(p).is_ok())
            && self.out.extend_from_slice(b"\r\n").is_ok();
        if !ok {
            self.fail(now, stage, Failure::BadArgument);
            return;
        }
        self.state = state;
        let t = &self.cfg.timeouts;
        let wait = match state {
            State::Data => t.data_start,
            _ => t.command,
        };
        self.deadline = Some(now + wait);
    }

    /// Records a failure and says QUIT politely, or, in the middle of the
    /// message, stops short ([`Self::cut_short`]).
    fn fail(&mut self, now: Instant, stage: Stage, failure: Failure) {
        if self.outcome.is_none() {
            self.outcome = Some(Err(SmtpError { stage, failure }));
        }
        self.out.clear();
        self.out_sent = 0;
        if matches!(self.state, State::Sending | State::Cut) {
            self.state = State::Cut;
            self.deadline = None;
            return;
        }
        let _ = self.out.extend_from_slice(b"QUIT\r\n");
        self.state = State::Done;
        self.deadline = Some(now + self.cfg.timeouts.command);
    }

    /// Whether the session stopped in the middle of the message (a reply
    /// came while it was being sent, e.g. an early 552 or 554; or a
    /// timeout, or the source failed): the runtime must drop the connection
    /// at once rather than close it after what is queued, which is message
    /// text the server will not read.
    pub fn cut_short(&self) -> bool {
        self.state == State::Cut
    }

    /// Takes the server's bytes; returns how many were used. After the
    /// reply to STARTTLS, bytes are left unused: the runtime must check that
    /// none follow (see [`Failure::DataAfterStartTls`]).
    pub fn handle_input(&mut self, mut input: &[u8], now: Instant) -> usize {
        let total = input.len();
        while !input.is_empty() {
            match self.state {
                // Done: anything more (the reply to QUIT) is read and dropped.
                State::Done | State::Cut => return total,
                // Nothing is expected now; the bytes wait.
                State::TlsHandshake => return total - input.len(),
                // While the message goes out a reply is still read: a server
                // may give up early (552, 554), and that stops the transfer.
                _ => {}
            }
            let (used, parsed) = self.parser.push(input);
            input = &input[used..];
            match parsed {
                Err(e) => {
                    let stage = self.stage();
                    self.fail(now, stage, Failure::BadReply(e));
                    return total;
                }
                Ok(Parsed::Pending) => {}
                Ok(Parsed::Line(line)) => {
                    // EHLO: the first line names the server, the others are capabilities.
                    if self.state == State::Ehlo && self.reply_lines > 0 {
                        self.caps.add_line(line.text);
                    }
                    self.reply_lines += 1;
                }
                Ok(Parsed::Done(reply, line)) => {
                    if self.state == State::Ehlo && self.reply_lines > 0 {
                        self.caps.add_line(line.text);
                    }
                    self.reply_lines = 0;
                    self.on_reply(reply, now);
                }
            }
        }
        total
    }

    /// Moves on after a whole reply.
    #[inline(never)]
    fn on_reply(&mut self, reply: Reply, now: Instant) {
        let stage = self.stage();
        let code = reply.code;
        match self.state {
            State::Greeting if code == 220 => self.hello(now, false),
            State::Ehlo if reply.is_positive() => self.after_ehlo(now),
            State::Ehlo if (500..600).contains(&code) => self.hello(now, true),
            State::Helo if reply.is_positive() => self.after_ehlo(now),
            State::StartTls if code == 220 => {
                self.state = State::TlsHandshake;
                self.deadline = Some(now + self.cfg.timeouts.command);
            }
            State::AuthPlain | State::AuthLoginDone if code == 235 => self.mail_from(now),
            State::AuthLoginUser if code == 334 => self.auth_login_step(now, true),
            State::AuthLoginPassword if code == 334 => self.auth_login_step(now, false),
            State::MailFrom if reply.is_positive() => self.rcpt(now, 0),
            State::Rcpt(i) => {
                if reply.is_positive() {
                    self.accepted += 1;
                } else {
                    self.events
                        .push(SmtpEvent::RecipientRefused { index: i, reply });
                }
                self.rcpt(now, i + 1);
            }
            State::Data if code == 354 => {
                self.state = State::Sending;
                self.out.clear();
                self.out_sent = 0;
                self.deadline = Some(now + self.cfg.timeouts.data_block);
            }
            State::DataEnd if reply.is_positive() => {
                self.outcome = Some(Ok(Accepted {
                    reply,
                    recipients: self.accepted,
                }));
                self.command(now, State::Quit, Stage::Quit, &[b"QUIT"]);
            }
            State::Quit => {
                self.state = State::Done;
                self.deadline = None;
            }
            _ => self.fail(now, stage, Failure::Rejected(reply)),
        }
    }

    fn hello(&mut self, now: Instant, fallback: bool) {
        let (verb, state): (&[u8], State) = if fallback {
            (b"HELO ", State::Helo)
        } else {
            (b"EHLO ", State::Ehlo)
        };
        self.caps = Capabilities::default();
        self.command(now, state, Stage::Ehlo, &[verb, self.cfg.helo.as_bytes()]);
    }

    fn after_ehlo(&mut self, now: Instant) {
        let wants_tls = self.cfg.security == Security::StartTls;
        if wants_tls && !self.secure {
            if self.caps.starttls {
                self.command(now, State::StartTls, Stage::StartTls, &[b"STARTTLS"]);
            } else {
                self.fail(now, Stage::StartTls, Failure::NoStartTls);
            }
            return;
        }
        let Some(creds) = self.cfg.credentials else {
            self.mail_from(now);
            return;
        };
        let plain = self.caps.auth_plain && self.cfg.mechanism != Some(AuthMechanism::Login);
        let login = self.caps.auth_login && self.cfg.mechanism != Some(AuthMechanism::Plain);
        if !self.secure && !self.cfg.allow_plaintext_auth {
            self.fail(now, Stage::Auth, Failure::PlaintextAuthRefused);
        } else if plain {
            // \0user\0password, base64 (RFC 4616).
            let mut raw = heapless::Vec::<u8, { 2 * MAX_CREDENTIAL + 2 }>::new();
            let _ = raw.push(0);
            let _ = raw.extend_from_slice(creds.user.as_bytes());
            let _ = raw.push(0);
            let _ = raw.extend_from_slice(creds.password.as_bytes());
            let mut b64 = [0u8; 4 * (2 * MAX_CREDENTIAL + 2).div_ceil(3)];
            let n = b64::encode(&raw, &mut b64);
            self.command(
                now,
                State::AuthPlain,
                Stage::Auth,
                &[b"AUTH PLAIN ", &b64[..n]],
            );
        } else if login {
            self.command(now, State::AuthLoginUser, Stage::Auth, &[b"AUTH LOGIN"]);
        } else {
            self.fail(now, Stage::Auth, Failure::NoAuthMechanism);
        }
    }

    /// AUTH LOGIN: the user name after the first 334, the password after the second.
    fn auth_login_step(&mut self, now: Instant, user: bool) {
        let Some(creds) = self.cfg.credentials else {
            return;
        };
        let secret = if user { creds.user } else { creds.password };
        let mut b64 = [0u8; 4 * MAX_CREDENTIAL.div_ceil(3)];
        let n = b64::encode(secret.as_bytes(), &mut b64);
        let next = if user {
            State::AuthLoginPassword
        } else {
            State::AuthLoginDone
        };
        self.command(now, next, Stage::Auth, &[&b64[..n]]);
    }

    fn mail_from(&mut self, now: Instant) {
        let ascii = self.cfg.from.is_ascii() && self.cfg.recipients.iter().all(|r| r.is_ascii());
        if !ascii && !self.caps.smtputf8 {
            self.fail(now, Stage::MailFrom, Failure::NeedsSmtpUtf8);
            return;
        }
        let mut digits = [0u8; 20];
        let mut size_text: &[u8] = b"";
        let mut size_key: &[u8] = b"";
        if let (Some(limit), Some(size)) = (self.caps.size, self.cfg.size) {
            if limit > 0 && size > limit {
                self.fail(now, Stage::MailFrom, Failure::TooLarge { size, limit });
                return;
            }
            size_key = b" SIZE=";
            size_text = crate::mail::decimal(size, &mut digits);
        }
        let utf8: &[u8] = if ascii { b"" } else { b" SMTPUTF8" };
        let from = self.cfg.from.as_bytes();
        self.command(
            now,
            State::MailFrom,
            Stage::MailFrom,
            &[b"MAIL FROM:<", from, b">", size_key, size_text, utf8],
        );
    }

    /// RCPT TO for recipient `i`, or DATA (or the end) after the last.
    fn rcpt(&mut self, now: Instant, i: usize) {
        if let Some(rcpt) = self.cfg.recipients.get(i) {
            self.command(
                now,
                State::Rcpt(i),
                Stage::RcptTo,
                &[b"RCPT TO:<", rcpt.as_bytes(), b">"],
            );
        } else if self.accepted == 0 {
            self.fail(now, Stage::RcptTo, Failure::AllRecipientsRefused);
        } else {
            self.command(now, State::Data, Stage::Data, &[b"DATA"]);
        }
    }

    /// Writes what is due into `out`: a command, or message bytes taken
    /// from `source` and dot-stuffed. Returns bytes written.
    pub fn poll_transmit<R: Read>(
        &mut self,
        out: &mut [u8],
        source: &mut R,
        now: Instant,
    ) -> usize {
        if self.out_sent < self.out.len() {
            let pending = &self.out[self.out_sent..];
            let n = pending.len().min(out.len());
            out[..n].copy_from_slice(&pending[..n]);
            self.out_sent += n;
            return n;
        }
        if self.state != State::Sending {
            return 0;
        }
        let mut written = 0;
        while out.len() - written >= 5 {
            if self.chunk_pos == self.chunk_len {
                match source.read(&mut self.chunk) {
                    Ok(0) => {
                        let end = self.stuffer.finish();
                        out[written..written + end.len()].copy_from_slice(end);
                        written += end.len();
                        self.state = State::DataEnd;
                        self.deadline = Some(now + self.cfg.timeouts.data_end);
                        return written;
                    }
                    Ok(n) => {
                        self.chunk_len = n.min(CHUNK);
                        self.chunk_pos = 0;
                    }
                    Err(_) => {
                        // The message is cut: reset rather than end it with a `.`.
                        self.fail(now, Stage::Data, Failure::Source);
                        return written;
                    }
                }
            }
            let (used, n) = self.stuffer.push(
                &self.chunk[self.chunk_pos..self.chunk_len],
                &mut out[written..],
            );
            self.chunk_pos += used;
            written += n;
        }
        if written > 0 {
            self.deadline = Some(now + self.cfg.timeouts.data_block);
        }
        written
    }

    /// Whether message bytes are waiting to be produced (the runtime should
    /// poll again when the socket has room).
    pub fn sending(&self) -> bool {
        self.state == State::Sending || self.out_sent < self.out.len()
    }

    /// When the current wait times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fails the stage whose reply did not come in time.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            if self.state == State::Done || self.state == State::Quit {
                self.state = State::Done;
                self.deadline = None;
                return;
            }
            let stage = self.stage();
            self.fail(now, stage, Failure::Timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::store::SliceReader;

    /// Plays a server: for each step, the command the client must send
    /// (prefix) and the reply. Returns what the client sent after the
    /// script ran out, and the outcome.
    fn play<'a>(
        cfg: SmtpConfig<'a>,
        message: &'a [u8],
        script: &[(&str, &str)],
    ) -> (heapless::Vec<u8, 4096>, SmtpSession<'a>) {
        let now = Instant::ZERO;
        let mut s = SmtpSession::new(cfg, now).unwrap();
        let mut src = SliceReader::new(message);
        let mut sent: heapless::Vec<u8, 4096> = heapless::Vec::new();
        for (expect, reply) in script {
            let mut buf = [0u8; 64];
            loop {
                let n = s.poll_transmit(&mut buf, &mut src, now);
                if n == 0 {
                    break;
                }
                sent.extend_from_slice(&buf[..n]).unwrap();
            }
            let text = core::str::from_utf8(&sent).unwrap();
            assert!(
                text.starts_with(expect),
                "expected {expect:?}, client sent {text:?}"
            );
            sent.clear();
            if expect.starts_with("STARTTLS") && reply.starts_with("220") {
                s.handle_input(reply.as_bytes(), now);
                assert!(s.wants_tls());
                s.tls_established(now);
                continue;
            }
            assert_eq!(s.handle_input(reply.as_bytes(), now), reply.len());
        }
        let mut buf = [0u8; 64];
        loop {
            let n = s.poll_transmit(&mut buf, &mut src, now);
            if n == 0 {
                break;
            }
            sent.extend_from_slice(&buf[..n]).unwrap();
        }
        (sent, s)
    }

    fn cfg<'a>(recipients: &'a [&'a str]) -> SmtpConfig<'a> {
        SmtpConfig {
            helo: "minnow.test",
            from: "me@test",
            recipients,
            credentials: None,
            mechanism: None,
            security: Security::None,
            allow_plaintext_auth: false,
            size: Some(9),
            timeouts: SmtpTimeouts::default(),
        }
    }

    #[test]
    fn a_whole_transaction_with_size_and_dot_stuffing() {
        let (sent, s) = play(
            cfg(&["a@test", "b@test"]),
            b".hi\nthere",
            &[
                ("", "220 mx ready\r\n"),
                (
                    "EHLO minnow.test\r\n",
                    "250-mx\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
                ),
                ("MAIL FROM:<me@test> SIZE=9\r\n", "250 ok\r\n"),
                ("RCPT TO:<a@test>\r\n", "250 ok\r\n"),
                ("RCPT TO:<b@test>\r\n", "550 no such user\r\n"),
                ("DATA\r\n", "354 go\r\n"),
                ("..hi\r\nthere\r\n.\r\n", "250 queued as 1\r\n"),
                ("QUIT\r\n", "221 bye\r\n"),
            ],
        );
        assert!(sent.is_empty());
        let outcome = s.outcome().unwrap().as_ref().unwrap();
        assert_eq!(outcome.recipients, 1);
        assert_eq!(outcome.reply.text.as_str(), "queued as 1");
        let mut s = s;
        assert!(matches!(
            s.events.pop(),
            Some(SmtpEvent::RecipientRefused { index: 1, .. })
        ));
    }

    #[test]
    fn helo_when_ehlo_is_refused_and_no_data_when_every_recipient_is() {
        let (sent, s) = play(
            cfg(&["a@test"]),
            b"x",
            &[
                ("", "220 old\r\n"),
                ("EHLO", "502 what\r\n"),
                ("HELO minnow.test\r\n", "250 hi\r\n"),
                ("MAIL FROM:<me@test>\r\n", "250 ok\r\n"),
                ("RCPT TO:<a@test>\r\n", "550 no\r\n"),
            ],
        );
        assert_eq!(&sent[..], b"QUIT\r\n");
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(
            (err.stage, &err.failure),
            (Stage::RcptTo, &Failure::AllRecipientsRefused)
        );
    }

    #[test]
    fn starttls_then_auth_plain_and_login() {
        let mut c = cfg(&["a@test"]);
        c.security = Security::StartTls;
        c.credentials = Some(Credentials {
            user: "user",
            password: "pass",
        });
        let (_, s) = play(
            c,
            b"x",
            &[
                ("", "220 mx\r\n"),
                ("EHLO", "250-mx\r\n250 STARTTLS\r\n"),
                ("STARTTLS\r\n", "220 go ahead\r\n"),
                ("EHLO minnow.test\r\n", "250-mx\r\n250 AUTH PLAIN LOGIN\r\n"),
                ("AUTH PLAIN AHVzZXIAcGFzcw==\r\n", "235 ok\r\n"),
                ("MAIL FROM:<me@test>\r\n", "250 ok\r\n"),
            ],
        );
        assert!(s.outcome().is_none());
        let mut c = cfg(&["a@test"]);
        c.security = Security::Implicit;
        c.credentials = Some(Credentials {
            user: "user",
            password: "pass",
        });
        let (_, s) = play(
            c,
            b"x",
            &[
                ("", "220 mx\r\n"),
                ("EHLO", "250-mx\r\n250 AUTH LOGIN\r\n"),
                ("AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n"),
                ("dXNlcg==\r\n", "334 UGFzc3dvcmQ6\r\n"),
                ("cGFzcw==\r\n", "535 5.7.8 bad credentials\r\n"),
            ],
        );
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.stage, Stage::Auth);
        assert!(matches!(&err.failure, Failure::Rejected(r) if r.code == 535));
    }

    #[test]
    fn credentials_never_go_out_in_the_clear() {
        let mut c = cfg(&["a@test"]);
        c.credentials = Some(Credentials {
            user: "user",
            password: "pass",
        });
        let (sent, s) = play(
            c,
            b"x",
            &[("", "220 mx\r\n"), ("EHLO", "250-mx\r\n250 AUTH PLAIN\r\n")],
        );
        assert_eq!(&sent[..], b"QUIT\r\n");
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::PlaintextAuthRefused
        );
        let mut c = cfg(&["a@test"]);
        c.security = Security::StartTls;
        let (_, s) = play(c, b"x", &[("", "220 mx\r\n"), ("EHLO", "250 mx\r\n")]);
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::NoStartTls
        );
    }

    #[test]
    fn size_limit_timeouts_and_bad_arguments() {
        let (_, s) = play(
            cfg(&["a@test"]),
            b"x",
            &[("", "220 mx\r\n"), ("EHLO", "250-mx\r\n250 SIZE 5\r\n")],
        );
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::TooLarge { size: 9, limit: 5 }
        );
        let mut s = SmtpSession::new(cfg(&["a@test"]), Instant::ZERO).unwrap();
        s.handle_timeout(Instant::from_secs(299));
        assert!(s.outcome().is_none());
        s.handle_timeout(Instant::from_secs(300));
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(
            (err.stage, &err.failure),
            (Stage::Greeting, &Failure::Timeout)
        );
        assert!(SmtpSession::new(cfg(&["a@test\r\nRCPT TO:<evil@x>"]), Instant::ZERO).is_err());
        assert!(SmtpSession::new(cfg(&[]), Instant::ZERO).is_err());
        let mut c = cfg(&["a@test"]);
        c.from = "me@test\n";
        assert!(SmtpSession::new(c, Instant::ZERO).is_err());
    }

    #[test]
    fn garbage_and_overlong_replies_fail_the_stage() {
        let (_, s) = play(
            cfg(&["a@test"]),
            b"x",
            &[("", "220 mx\r\n"), ("EHLO", "hello there\r\n")],
        );
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.stage, Stage::Ehlo);
        let mut s = SmtpSession::new(cfg(&["a@test"]), Instant::ZERO).unwrap();
        let long = [b'2'; 600];
        s.handle_input(&long, Instant::ZERO);
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::BadReply(ReplyError::LineTooLong)
        );
    }

    /// A session that has had `354` to DATA and sent the first bytes of
    /// `message`.
    fn mid_message(message: &[u8]) -> (SmtpSession<'_>, SliceReader<'_>) {
        let now = Instant::ZERO;
        let mut s = SmtpSession::new(cfg(&["a@test"]), now).unwrap();
        let mut src = SliceReader::new(message);
        let mut buf = [0u8; 64];
        for reply in ["220 mx\r\n", "250 mx\r\n", "250 ok\r\n", "250 ok\r\n"] {
            while s.poll_transmit(&mut buf, &mut src, now) > 0 {}
            s.handle_input(reply.as_bytes(), now);
        }
        while s.poll_transmit(&mut buf, &mut src, now) > 0 {}
        s.handle_input(b"354 go\r\n", now);
        assert!(s.poll_transmit(&mut buf, &mut src, now) > 0);
        assert!(s.sending() && !s.cut_short());
        (s, src)
    }

    #[test]
    fn an_early_reply_stops_the_message_without_quit() {
        let message = [b'x'; 10_000];
        let (mut s, mut src) = mid_message(&message);
        let now = Instant::ZERO;
        let reply = b"554 5.3.4 message too big\r\n";
        assert_eq!(s.handle_input(reply, now), reply.len());
        assert!(s.cut_short() && s.is_finished());
        let err = s.outcome().unwrap().as_ref().unwrap_err();
        assert_eq!(err.stage, Stage::Data);
        let Failure::Rejected(r) = &err.failure else {
            panic!("{err:?}");
        };
        assert_eq!((r.code, r.text.as_str()), (554, "5.3.4 message too big"));
        // Nothing more: no message bytes, no QUIT, no timer.
        let mut buf = [0u8; 64];
        assert_eq!(s.poll_transmit(&mut buf, &mut src, now), 0);
        assert_eq!(s.poll_at(), None);
        assert_eq!(s.handle_input(b"221 bye\r\n", now), 9);
    }

    #[test]
    fn a_timeout_or_a_failing_source_mid_message_stops_without_quit() {
        let message = [b'x'; 10_000];
        let (mut s, mut src) = mid_message(&message);
        let late = s.poll_at().unwrap();
        s.handle_timeout(late);
        assert!(s.cut_short());
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::Timeout
        );
        assert_eq!(s.poll_transmit(&mut [0u8; 64], &mut src, late), 0);

        struct Broken;
        impl embedded_io::ErrorType for Broken {
            type Error = embedded_io::ErrorKind;
        }
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
                Err(embedded_io::ErrorKind::Other)
            }
        }
        let (mut s, _) = mid_message(&message[..64]);
        // What was read before goes out; then the read fails.
        while s.poll_transmit(&mut [0u8; 64], &mut Broken, Instant::ZERO) > 0 {}
        assert!(s.cut_short());
        assert_eq!(
            s.outcome().unwrap().as_ref().unwrap_err().failure,
            Failure::Source
        );
    }
}
