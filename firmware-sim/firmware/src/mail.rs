//! Mail from the board: one message at boot, composed by the core's MIME
//! [`Composer`] and sent by its [`MailSender`] over plain SMTP to the server
//! `MINNOW_SMTP` names (see `build.rs`).
//!
//! The message: From `MINNOW_MAIL_FROM`, To `MINNOW_MAIL_TO`, the board's
//! short text ([`crate::Board::MAIL_TEXT`]) and its file table's default
//! file ([`Files::default`], `hello.txt`) attached, read from flash through
//! a [`SliceReader`]. It goes out once the interface has an address of the
//! server's family and the clock is set by SNTP (or [`CLOCK_WAIT`] after
//! that without SNTP's answer: the message is then dated 1970). The outcome is logged: accepted, each
//! refused recipient, or the failure with its stage and the server's reply.
//!
//! RAM: the [`MailSender`] (SMTP session 2.8 KiB, 512 bytes of TLS
//! staging, the composer 440 bytes), built in place in a static of its own
//! when the message goes out (built on the stack and moved, it took three
//! copies of its 3.9 KiB there), a socket slot and the socket's buffers
//! (the board's [`crate::Sizes::mail`]). Nothing grows with the message:
//! the attachment is streamed from flash 57 bytes at a time.

use minnow::WallClock;
use minnow::file::store::SliceReader;
use minnow::mail::mime::{Address, Attachment, Composer, Envelope, MessageId, TextEncoding};
use minnow::mail::sender::{Connect, MailSender};
use minnow::mail::smtp::session::{
    BadArgument, Security, SmtpConfig, SmtpEvent, SmtpSession, SmtpTimeouts,
};
use minnow::mail::tls::NoTls;
use minnow::service::{Net, Service};
use smoltcp::iface::SocketHandle;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpEndpoint};
use static_cell::StaticCell;

use crate::board::Files;
use crate::{log, netconfig};

/// How long to wait for SNTP's first answer before sending undated (1970).
pub const CLOCK_WAIT: Duration = Duration::from_secs(10);
/// Connect timeout (the SMTP stages have RFC 5321's own).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The subject.
pub const SUBJECT: &str = "Hello from the Minnow board";
/// The attachment's content type.
const ATTACHMENT_TYPE: &str = "text/plain";

const FROM: Address<'static> = Address {
    name: netconfig::MAIL_FROM.0,
    addr: netconfig::MAIL_FROM.1,
};
const TO: [Address<'static>; 1] = [Address {
    name: netconfig::MAIL_TO.0,
    addr: netconfig::MAIL_TO.1,
}];
const RECIPIENTS: [&str; 1] = [netconfig::MAIL_TO.1];

/// The message as a byte stream.
type Message = Composer<'static, SliceReader<'static>>;
/// The SMTP client with its message.
type Sender = MailSender<'static, NoTls, Message>;

/// Where [`MailSender::connect`] writes the client: straight into this
/// static (see [`StaticCell::init_with`]), not onto the stack.
static SENDER: StaticCell<Result<Sender, BadArgument>> = StaticCell::new();
/// The attachment list the composer borrows for good.
pub type Attachments = [Attachment<'static, SliceReader<'static>>; 1];

/// RAM of the SMTP client (in its static), its SMTP session and the
/// composer, for the size report.
pub fn sizes() -> (usize, usize, usize) {
    (
        core::mem::size_of::<Result<Sender, BadArgument>>(),
        core::mem::size_of::<SmtpSession<'static>>(),
        core::mem::size_of::<Message>(),
    )
}

/// The attachment list (placed in a static by the caller): the default file.
pub fn attachments(files: &Files) -> Attachments {
    let data = files
        .table
        .iter()
        .find(|(name, _)| *name == files.default)
        .map_or(&b""[..], |(_, data)| data);
    [Attachment {
        filename: files.default,
        content_type: ATTACHMENT_TYPE,
        source: SliceReader::new(data),
    }]
}

enum State {
    /// Waiting for an address, then for the clock (since the instant the
    /// address was there).
    Waiting { addressed_at: Option<Instant> },
    /// The transaction runs (`announced`: the boot log has said so).
    Sending { announced: bool },
    /// The outcome is logged (or the message could not be made).
    Done,
}

/// The boot mail: waits, composes, sends, logs.
pub struct Mailer {
    state: State,
    server: IpEndpoint,
    handle: SocketHandle,
    local_port: u16,
    clock: &'static WallClock,
    seed: u64,
    /// The text part.
    text: &'static [u8],
    attachments: Option<&'static mut Attachments>,
    /// The message's date (0: the clock was unset).
    date: u64,
    sender: Option<&'static mut Sender>,
}

impl Mailer {
    /// A mailer for `server` on socket `handle` (already in the set).
    pub fn new(
        server: IpEndpoint,
        handle: SocketHandle,
        local_port: u16,
        clock: &'static WallClock,
        seed: u64,
        text: &'static [u8],
        attachments: &'static mut Attachments,
    ) -> Self {
        Self {
            state: State::Waiting { addressed_at: None },
            server,
            handle,
            local_port,
            clock,
            seed,
            text,
            attachments: Some(attachments),
            date: 0,
            sender: None,
        }
    }

    /// The server, for the boot log.
    pub fn server(&self) -> IpEndpoint {
        self.server
    }

    /// Whether the interface has an address to reach the server from.
    fn addressed(&self, net: &Net<'_, '_>) -> bool {
        net.iface
            .ip_addrs()
            .iter()
            .any(|cidr| match (cidr.address(), self.server.addr) {
                (IpAddress::Ipv4(_), IpAddress::Ipv4(_)) => true,
                (IpAddress::Ipv6(a), IpAddress::Ipv6(_)) => !a.is_unspecified(),
                _ => false,
            })
    }

    /// Composes the message and connects. Not inlined: its frame is not
    /// part of every later poll's.
    #[inline(never)]
    fn start(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let Some(attachments) = self.attachments.take() else {
            self.state = State::Done;
            return;
        };
        let date = self.clock.unix_secs(now).unwrap_or(0);
        self.date = date;
        let domain = netconfig::MAIL_DOMAIN;
        let envelope = Envelope {
            from: FROM,
            to: &TO,
            cc: &[],
            subject: SUBJECT,
            date_unix: date,
            message_id: MessageId {
                unique: self.seed ^ date,
                domain,
            },
        };
        // Multipart, so the text goes quoted-printable whatever it holds.
        let text = Some((SliceReader::new(self.text), TextEncoding::QuotedPrintable));
        let message = match Composer::new(envelope, text, None, attachments, self.seed) {
            Ok(m) => m,
            Err(_) => {
                // build.rs checked the addresses; nothing else can fail.
                log!("mail: the composer refused the message's header");
                self.state = State::Done;
                return;
            }
        };
        let cfg = SmtpConfig {
            helo: domain,
            from: FROM.addr,
            recipients: &RECIPIENTS,
            credentials: None,
            mechanism: None,
            security: Security::None,
            allow_plaintext_auth: false,
            size: None,
            timeouts: SmtpTimeouts::default(),
        };
        let to = Connect {
            handle: self.handle,
            server: self.server,
            local_port: self.local_port,
            timeout: CONNECT_TIMEOUT,
        };
        let sender = SENDER.init_with(|| MailSender::connect(net, to, cfg, NoTls, message, now));
        match sender {
            Ok(sender) => {
                self.sender = Some(sender);
                self.state = State::Sending { announced: false };
            }
            Err(_) => {
                log!("mail: the SMTP client refused the From or To address");
                self.state = State::Done;
            }
        }
    }

    /// Logs the start, refused recipients and, once, the outcome. Not
    /// inlined: inlined into `main` it cost about 360 bytes more .text.
    #[inline(never)]
    pub fn report(&mut self) {
        let Some(sender) = self.sender.as_deref_mut() else {
            return;
        };
        if let State::Sending { announced } = &mut self.state
            && !*announced
        {
            *announced = true;
            if self.date == 0 {
                log!("mail: clock unset: the message is dated 1970");
            }
            log!(
                "mail: sending \"{}\" from {} to {} via {}",
                SUBJECT,
                FROM.addr,
                RECIPIENTS[0],
                self.server
            );
        }
        while let Some(SmtpEvent::RecipientRefused { index, reply }) = sender.session().events.pop()
        {
            log!(
                "mail: recipient {} refused: {}",
                RECIPIENTS.get(index).copied().unwrap_or("?"),
                reply
            );
        }
        if !matches!(self.state, State::Sending { .. }) || !sender.is_done() {
            return;
        }
        self.state = State::Done;
        match sender.session().outcome() {
            Some(Ok(accepted)) => log!(
                "mail: accepted for {} recipient(s): {}",
                accepted.recipients,
                accepted.reply
            ),
            Some(Err(e)) => log!("mail: failed: {}", e),
            None => log!("mail: failed: the session ended without an outcome"),
        }
    }
}

impl Service for Mailer {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        match self.state {
            State::Waiting { addressed_at } => {
                let Some(since) = addressed_at.or_else(|| self.addressed(net).then_some(now))
                else {
                    return;
                };
                self.state = State::Waiting {
                    addressed_at: Some(since),
                };
                let clock_ready = netconfig::SNTP.is_none() || self.clock.is_set();
                if clock_ready || now >= since + CLOCK_WAIT {
                    self.start(net, now);
                }
            }
            State::Sending { .. } => {
                if let Some(s) = self.sender.as_deref_mut() {
                    s.poll(net, now);
                }
            }
            State::Done => {}
        }
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        match self.state {
            State::Waiting {
                addressed_at: Some(since),
            } => Some(since + CLOCK_WAIT),
            State::Waiting { addressed_at: None } => None,
            State::Sending { .. } => self.sender.as_deref().and_then(|s| s.poll_at(now)),
            State::Done => None,
        }
    }
}
