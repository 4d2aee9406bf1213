//! Mail from the board: one message composed with core's MIME composer (a
//! text with lines that must be dot-stuffed, a binary attachment with a
//! non-ASCII name, the subject 測試郵件) and sent with core's SMTP client
//! (AUTH PLAIN or LOGIN over plain TCP, SIZE, two recipients of which the
//! server refuses one) to the simulated SMTP server.
//!
//! The server's node checks every message it stores ([`check`]): its bytes
//! must be exactly what the composer produces on its own with the same
//! inputs (composed again into a `Vec`), the envelope and SIZE= must match,
//! and the subject, the text and the attachment must decode back to the
//! originals. The task's verdict joins the client's outcome and that check
//! ([`Mailbox`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use minnow::WallClock;
use minnow::file::store::SliceReader;
use minnow::mail::mime::b64::{B64Lines, LINE_OUTPUT};
use minnow::mail::mime::{
    Address, Attachment, ComposeError, Composer, Envelope, MessageId, TextEncoding, TextScanner,
    choose,
};
use minnow::mail::sender::{Connect, MailSender};
use minnow::mail::smtp::session::{
    AuthMechanism, Credentials, Security, SmtpConfig, SmtpEvent, SmtpTimeouts,
};
use minnow::mail::tls::NoTls;
use minnow::service::Service;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{Outcome, Task, Verdict};
use crate::mime_read;
use crate::node::NodeCtx;
use crate::payload::{self, human};
use crate::programs::smtp_server::{Received, SmtpServerConfig};
use crate::rng::mix;
use crate::sockets::tcp_socket;

/// The SMTP server's port.
pub const SMTP_PORT: u16 = 25;
/// The board's name in EHLO.
pub const HELO: &str = "board.sim.test";
/// The author.
pub const FROM: Address<'static> = Address::named("Minnow board", "board@sim.test");
/// The header's recipients.
pub static TO: [Address<'static>; 2] = [
    Address::named("運維組", "ops@sim.test"),
    Address::new("nobody@sim.test"),
];
/// The envelope's recipients: the server refuses the second.
pub static RECIPIENTS: [&str; 2] = ["ops@sim.test", "nobody@sim.test"];
/// The recipient the server refuses (550).
pub const REFUSED: &str = "nobody@sim.test";
/// The subject.
pub const SUBJECT: &str = "測試郵件: board report";
/// The attachment's file name (RFC 2231 encoded on the wire).
pub const ATTACHMENT_NAME: &str = "測試-readings.bin";
/// The attachment's type.
pub const ATTACHMENT_TYPE: &str = "application/octet-stream";
/// AUTH user name.
pub const USER: &str = "board";
/// AUTH password.
pub const PASSWORD: &str = "fish & chips";
/// The Message-ID's domain.
const DOMAIN: &str = "sim.test";
/// The server's name.
pub const SERVER_NAME: &str = "smtp.sim.test";
/// The server's message size limit.
pub const SIZE_LIMIT: usize = 1 << 20;

/// The body text: lines that must be dot-stuffed (a lone `.`, which would
/// end the mail early if it were not, `..`, `.x`), a line that
/// quoted-printable cuts so that its second piece starts with a dot, an
/// `=` and a little Chinese.
fn body_text() -> String {
    // 75 characters, then a dot: quoted-printable's soft break (76 with
    // its `=`) puts the dot first on the next line.
    let long = format!("{:x<75}.tail of a long line", "The line after this cut ");
    format!(
        "Board report from Minnow (模擬器).\n\
         \n\
         Lines that start with a dot are dot-stuffed on the wire:\n\
         .\n\
         ..\n\
         .hidden\n\
         {long}\n\
         Sums: 1 + 1 = 2.\n\
         .\n"
    )
}

/// Everything the message is made of, for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPlan {
    /// The body text.
    pub text: String,
    /// The attachment's bytes.
    pub attachment: Vec<u8>,
    /// Boundary seed and Message-ID number.
    pub seed: u64,
    /// AUTH PLAIN or LOGIN.
    pub mechanism: AuthMechanism,
    /// Send over IPv6.
    pub v6: bool,
}

impl MailPlan {
    /// The message of a run seeded with `seed`, with an attachment of
    /// `attachment_bytes` random bytes.
    pub fn new(seed: u64, attachment_bytes: usize) -> Self {
        let seed = mix(seed ^ 0x6d61_696c);
        Self {
            text: body_text(),
            attachment: payload::bytes(seed, attachment_bytes),
            seed,
            mechanism: if seed & 1 == 0 {
                AuthMechanism::Plain
            } else {
                AuthMechanism::Login
            },
            v6: seed & 2 != 0,
        }
    }

    /// The header fields, dated `date_unix`.
    pub fn envelope(&self, date_unix: u64) -> Envelope<'static> {
        Envelope {
            from: FROM,
            to: &TO,
            cc: &[],
            subject: SUBJECT,
            date_unix,
            message_id: MessageId {
                unique: self.seed,
                domain: DOMAIN,
            },
        }
    }

    /// The attachment list, with fresh sources.
    pub fn attachments(&self) -> [Attachment<'_, SliceReader<'_>>; 1] {
        [Attachment {
            filename: ATTACHMENT_NAME,
            content_type: ATTACHMENT_TYPE,
            source: SliceReader::new(&self.attachment),
        }]
    }

    /// The text's transfer encoding, chosen as the board does (the server's
    /// 8BITMIME is not known before EHLO; the message is multipart).
    pub fn text_encoding(&self) -> TextEncoding {
        choose(&TextScanner::scan_slice(self.text.as_bytes()), false, true)
    }

    /// The composer of the message dated `date_unix`, reading `attachments`.
    pub fn composer<'s>(
        &'s self,
        date_unix: u64,
        attachments: &'s mut [Attachment<'s, SliceReader<'s>>],
    ) -> Result<Composer<'s, SliceReader<'s>>, ComposeError> {
        let text = Some((SliceReader::new(self.text.as_bytes()), self.text_encoding()));
        Composer::new(self.envelope(date_unix), text, None, attachments, self.seed)
    }

    /// The message's size (for SIZE=), composed once into a counter as
    /// the board does (core's text scanner reads it to its end and counts;
    /// it also says whether any line is over 998 bytes, which must not be).
    pub fn size(&self, date_unix: u64) -> Result<u64, ComposeError> {
        let mut attachments = self.attachments();
        let mut composer = self.composer(date_unix, &mut attachments)?;
        let profile = TextScanner::scan_source(&mut composer)?;
        if profile.max_line > minnow::mail::mime::MAX_LINE || profile.bare_cr_or_lf {
            return Err(ComposeError::BodyNeedsEncoding);
        }
        Ok(profile.len)
    }

    /// The whole message, composed standalone into a `Vec`.
    pub fn compose(&self, date_unix: u64) -> Result<Vec<u8>, ComposeError> {
        let mut attachments = self.attachments();
        let mut composer = self.composer(date_unix, &mut attachments)?;
        read_to_end(&mut composer)
    }

    /// The simulated server's settings for this message.
    pub fn server_config(&self, idle: Duration) -> SmtpServerConfig {
        SmtpServerConfig {
            hostname: SERVER_NAME.to_string(),
            size_limit: SIZE_LIMIT,
            auth: Some((USER.to_string(), PASSWORD.to_string())),
            refuse: vec![REFUSED.to_string()],
            idle,
        }
    }

    fn mechanism_name(&self) -> &'static str {
        match self.mechanism {
            AuthMechanism::Plain => "PLAIN",
            AuthMechanism::Login => "LOGIN",
        }
    }
}

/// Reads a composer to its end.
///
/// firmware-sim does not depend on `embedded-io` itself (its manifest is
/// not the simulator sources'), so it cannot name the `Read` trait; it
/// reads through a core function generic over it instead: base64 lines
/// (57 bytes each), decoded again with [`mime_read::base64`]. With
/// `embedded-io` among firmware-sim's dependencies this is a plain `read`
/// loop.
fn read_to_end(composer: &mut Composer<'_, SliceReader<'_>>) -> Result<Vec<u8>, ComposeError> {
    let mut lines = B64Lines::new();
    let mut line = [0u8; LINE_OUTPUT];
    let mut out = Vec::new();
    loop {
        let n = lines.next_line(composer, &mut line)?;
        if n == 0 {
            return Ok(out);
        }
        // Core's own encoder: a line that does not decode is a bug there.
        let bytes = mime_read::base64(&line[..n]).map_err(|_| ComposeError::BodyNeedsEncoding)?;
        out.extend_from_slice(&bytes);
    }
}

/// What the server's check found, per stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Bytes stored.
    pub bytes: usize,
    /// What checked out, or what did not.
    pub verdict: Result<String, String>,
}

/// What the board and the SMTP server's node share: a test oracle (the
/// simulation is single-threaded).
#[derive(Debug, Default)]
pub struct Mailbox {
    /// The Date the board put on its message, once it composed it.
    pub date: Cell<Option<u64>>,
    /// Every message the server stored, checked, in order.
    pub checked: RefCell<Vec<Checked>>,
}

impl Mailbox {
    /// Checks `got` against `plan` (dated as the board said) and records
    /// the verdict.
    pub fn check(&self, plan: &MailPlan, got: &Received) -> Result<String, String> {
        let verdict = match self.date.get() {
            Some(date) => check(plan, date, got),
            None => Err("a message came before the board composed one".to_string()),
        };
        self.checked.borrow_mut().push(Checked {
            bytes: got.bytes.len(),
            verdict: verdict.clone(),
        });
        verdict
    }
}

/// Checks a stored message: byte for byte against the composer's output
/// for `plan` dated `date`, then its envelope, SIZE= and lines, then its
/// subject, text and attachment decoded.
pub fn check(plan: &MailPlan, date: u64, got: &Received) -> Result<String, String> {
    let want = plan
        .compose(date)
        .map_err(|e| format!("the reference does not compose: {e}"))?;
    if got.bytes != want {
        let at = got
            .bytes
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.bytes.len().min(want.len()));
        return Err(format!(
            "byte {at} differs from the composer's output ({} bytes stored, {} composed)",
            got.bytes.len(),
            want.len()
        ));
    }
    if got.declared_size != Some(want.len() as u64) {
        return Err(format!(
            "SIZE={:?} declared for a message of {} bytes",
            got.declared_size,
            want.len()
        ));
    }
    if got.from != FROM.addr || got.recipients != [RECIPIENTS[0]] {
        return Err(format!(
            "envelope <{}> to {:?}, expected <{}> to [{:?}]",
            got.from, got.recipients, FROM.addr, RECIPIENTS[0]
        ));
    }
    if got.user.as_deref() != Some(USER) || got.helo != HELO {
        return Err(format!("EHLO {:?}, user {:?}", got.helo, got.user));
    }
    if got.longest_line > 1000 {
        return Err(format!("a line of {} bytes", got.longest_line));
    }
    let (head, body) = mime_read::split_head(&got.bytes)?;
    let subject = mime_read::decode_words(mime_read::field(&head, "subject").unwrap_or(""))?;
    if subject != SUBJECT {
        return Err(format!("the subject reads {subject:?}"));
    }
    let ctype = mime_read::field(&head, "content-type").unwrap_or("");
    let boundary = mime_read::param(ctype, "boundary")
        .filter(|_| ctype.starts_with("multipart/mixed"))
        .ok_or_else(|| format!("Content-Type {ctype:?}"))?;
    let parts = mime_read::multipart(body, &boundary)?;
    let [text, attachment] = parts[..] else {
        return Err(format!("{} parts, expected 2", parts.len()));
    };
    let (fields, content) = mime_read::split_head(text)?;
    if mime_read::decode_body(&fields, content)? != mime_read::crlf(plan.text.as_bytes()) {
        return Err("the text decodes to something else".into());
    }
    let (fields, content) = mime_read::split_head(attachment)?;
    let disposition = mime_read::field(&fields, "content-disposition").unwrap_or("");
    let name = mime_read::param(disposition, "filename");
    if !disposition.starts_with("attachment") || name.as_deref() != Some(ATTACHMENT_NAME) {
        return Err(format!("Content-Disposition {disposition:?}"));
    }
    let data = mime_read::decode_body(&fields, content)?;
    if data != plan.attachment {
        return Err(format!(
            "the attachment decodes to {} other bytes",
            data.len()
        ));
    }
    Ok(format!(
        "identical to the composer's output; subject, text and {} attachment decode",
        human(data.len() as u64)
    ))
}

/// The mail task.
pub struct SendMail<'a> {
    plan: &'a MailPlan,
    clock: &'a WallClock,
    server: IpEndpoint,
    timeout: Duration,
    mailbox: Rc<Mailbox>,
    attachments: Option<&'a mut [Attachment<'a, SliceReader<'a>>]>,
    sender: Option<MailSender<'a, NoTls, Composer<'a, SliceReader<'a>>>>,
    early: Option<String>,
    size: u64,
    refused: Vec<(usize, u16)>,
    local: Option<IpEndpoint>,
    started: Instant,
}

impl<'a> SendMail<'a> {
    /// Sends `plan`'s message to `server`, dated by `clock` (which must be
    /// set when the task starts), reading the attachment from
    /// `attachments` (the plan's own, [`MailPlan::attachments`]); the
    /// server's check comes through `mailbox`. Fails when the connection is
    /// not up within `timeout`, or a reply does not come within RFC 5321's
    /// timeouts.
    pub fn new(
        plan: &'a MailPlan,
        attachments: &'a mut [Attachment<'a, SliceReader<'a>>],
        clock: &'a WallClock,
        server: IpEndpoint,
        timeout: Duration,
        mailbox: Rc<Mailbox>,
    ) -> Self {
        Self {
            plan,
            clock,
            server,
            timeout,
            mailbox,
            attachments: Some(attachments),
            sender: None,
            early: None,
            size: 0,
            refused: Vec::new(),
            local: None,
            started: Instant::ZERO,
        }
    }

    fn outcome(&self, verdict: Verdict, got: String, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = got;
        o.bytes = self.size;
        o.ends.extend(self.local);
        o
    }

    fn connect(&mut self, ctx: &mut NodeCtx<'_>) -> Result<(), String> {
        let now = ctx.now;
        let date = self
            .clock
            .unix_secs(now)
            .ok_or("the board's clock is not set")?;
        self.mailbox.date.set(Some(date));
        self.size = self
            .plan
            .size(date)
            .map_err(|e| format!("cannot compose: {e}"))?;
        let attachments = self.attachments.take().ok_or("started twice")?;
        let composer = self
            .plan
            .composer(date, attachments)
            .map_err(|e| format!("cannot compose: {e}"))?;
        let timeouts = SmtpTimeouts::default();
        let mut socket = tcp_socket(1024, 8 * 1024);
        // Give up on a server that stops acknowledging for as long as the
        // longest wait for a reply (a QUIT stuck behind unacknowledged data
        // would otherwise keep the connection open).
        socket.set_timeout(Some(timeouts.data_end));
        let handle = ctx.stack.sockets.add(socket);
        let port = ctx.stack.ports.next_port();
        self.local = ctx
            .local_addr_for(self.server.addr)
            .map(|a| IpEndpoint::new(a, port));
        let cfg = SmtpConfig {
            helo: HELO,
            from: FROM.addr,
            recipients: &RECIPIENTS,
            credentials: Some(Credentials {
                user: USER,
                password: PASSWORD,
            }),
            mechanism: Some(self.plan.mechanism),
            security: Security::None,
            allow_plaintext_auth: true,
            size: Some(self.size),
            // RFC 5321's (5 minutes for a command, 10 for the message), as
            // on the board: a retransmission timeout backed off to 32 s
            // must not fail a transaction that TCP is still carrying.
            timeouts,
        };
        ctx.log(format!(
            "mail: {} to {} (SIZE={}), dated {date} by the board's clock",
            human(self.size),
            self.server,
            self.size
        ));
        let to = Connect {
            handle,
            server: self.server,
            local_port: port,
            timeout: self.timeout,
        };
        let sender = MailSender::connect(&mut ctx.net(), to, cfg, NoTls, composer, now)
            .map_err(|e| e.to_string())?;
        self.sender = Some(sender);
        Ok(())
    }

    /// The verdict once the client is done: its outcome joined with the
    /// server's check.
    fn judge(&self, result: Option<Result<(usize, String), String>>) -> (Verdict, String) {
        let checked = self.mailbox.checked.borrow();
        if let Some(why) = checked.iter().find_map(|c| c.verdict.as_ref().err()) {
            return (Verdict::Corrupt(why.clone()), why.clone());
        }
        let corrupt = |why: String| (Verdict::Corrupt(why.clone()), why);
        match result {
            Some(Ok((recipients, reply))) => {
                let [
                    Checked {
                        verdict: Ok(check), ..
                    },
                ] = &checked[..]
                else {
                    return corrupt(format!(
                        "accepted ({reply}) but the server stored {} messages",
                        checked.len()
                    ));
                };
                if recipients != 1 || self.refused != [(1, 550)] {
                    return corrupt(format!(
                        "accepted for {recipients} recipients, refused {:?}; expected 1, <{REFUSED}> refused",
                        self.refused
                    ));
                }
                let text = format!(
                    "{}, {} of 2 recipients ({REFUSED} refused), AUTH {}: {check}",
                    human(self.size),
                    recipients,
                    self.plan.mechanism_name()
                );
                (Verdict::Ok, text)
            }
            Some(Err(why)) => {
                let why = match checked.len() {
                    0 => why,
                    _ => format!("{why} (the server had stored it intact)"),
                };
                (Verdict::Failed(why.clone()), why)
            }
            None => {
                let why = "the session ended without an outcome".to_string();
                (Verdict::Failed(why.clone()), why)
            }
        }
    }
}

impl Task for SendMail<'_> {
    fn name(&self) -> String {
        format!(
            "mail, {} attachment (AUTH {}{})",
            human(self.plan.attachment.len() as u64),
            self.plan.mechanism_name(),
            if self.server.addr.version() == smoltcp::wire::IpVersion::Ipv6 {
                ", IPv6"
            } else {
                ""
            }
        )
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        if let Err(why) = self.connect(ctx) {
            self.early = Some(why);
        }
    }

    fn service(&mut self) -> Option<&mut dyn Service> {
        self.sender.as_mut().map(|s| s as &mut dyn Service)
    }

    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome> {
        let now = ctx.now;
        if let Some(why) = self.early.take() {
            return Some(self.outcome(Verdict::Failed(why.clone()), why, now));
        }
        let sender = self.sender.as_mut()?;
        while let Some(SmtpEvent::RecipientRefused { index, reply }) = sender.session().events.pop()
        {
            let who = RECIPIENTS.get(index).copied().unwrap_or("?");
            ctx.log(format!("mail: <{who}> refused: {reply}"));
            self.refused.push((index, reply.code));
        }
        if !sender.is_done() {
            return None;
        }
        let result = sender.session().outcome().map(|r| match r {
            Ok(accepted) => Ok((accepted.recipients, accepted.reply.to_string())),
            Err(e) => Err(e.to_string()),
        });
        self.sender = None;
        let (verdict, text) = self.judge(result);
        Some(self.outcome(verdict, text, now))
    }

    fn poll_at(&self) -> Option<Instant> {
        if self.early.is_some() {
            return Some(Instant::ZERO);
        }
        self.sender.as_ref().and_then(|s| s.poll_at(Instant::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_needs_dot_stuffing_and_checks_out() {
        let plan = MailPlan::new(1, 3000);
        let date = 1_491_314_851;
        let m = plan.compose(date).unwrap();
        assert_eq!(plan.size(date).unwrap(), m.len() as u64);
        assert_eq!(plan.text_encoding(), TextEncoding::QuotedPrintable);
        let text = String::from_utf8_lossy(&m);
        // Unstuffed, these would end the mail early or lose a dot.
        assert!(text.contains("\r\n.\r\n"), "{text}");
        assert!(text.contains("\r\n.tail"), "{text}");
        let got = Received {
            peer: IpEndpoint::new(smoltcp::wire::IpAddress::v4(192, 0, 2, 2), 50000),
            helo: HELO.into(),
            user: Some(USER.into()),
            from: FROM.addr.into(),
            recipients: vec![RECIPIENTS[0].into()],
            declared_size: Some(m.len() as u64),
            longest_line: 78,
            bytes: m.clone(),
        };
        check(&plan, date, &got).unwrap();
        let mut bad = got.clone();
        let at = bad.bytes.len() - 100;
        bad.bytes[at] ^= 1;
        assert!(check(&plan, date, &bad).unwrap_err().contains("differs"));
        assert!(check(&plan, date + 1, &got).is_err());
    }
}
