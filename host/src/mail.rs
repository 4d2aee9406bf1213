//! `minnow mail`: compose a message (text, HTML, attachments) and send it
//! over SMTP with core's client on the smoltcp stack: plain, STARTTLS
//! (`--starttls`, port 587) or implicit TLS (`--implicit-tls`, port 465), AUTH PLAIN
//! or LOGIN. Exit 0 only when the server accepted the message.

use std::fs::File;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use minnow::mail::mime::{
    Address, Attachment, Composer, Envelope, MessageId, TextEncoding, TextProfile,
};
use minnow::mail::sender::MailSender;
use minnow::mail::smtp::session::{
    AuthMechanism, Credentials, Failure, Security, SmtpConfig, SmtpEvent, SmtpTimeouts,
};
use minnow::mail::tls::NoTls;
use minnow::net::endpoint::{Host, parse_host_port};
use smoltcp::time::Duration;

use crate::error::Error;
use crate::link::{Link, Turn, run_until};
use crate::netargs::NetArgs;
use crate::tls::{RustlsSession, roots};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mechanism {
    Plain,
    Login,
}

#[derive(Args, Debug)]
pub struct MailArgs {
    /// SMTP server, HOST[:PORT] (default port 25; 587 with --starttls; 465 with --implicit-tls).
    #[arg(long)]
    pub server: String,
    /// Upgrade to TLS with STARTTLS before anything else (what swaks calls --tls).
    #[arg(long, conflicts_with_all = ["implicit_tls", "tls"])]
    pub starttls: bool,
    /// TLS from the first byte (implicit TLS, "SMTPS", port 465).
    #[arg(long, visible_alias = "tls-on-connect")]
    pub implicit_tls: bool,
    /// The old name of --implicit-tls; kept, with a warning, since swaks's
    /// --tls means STARTTLS.
    #[arg(long, hide = true)]
    pub tls: bool,
    /// Trust these CA certificates (PEM) instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Trust exactly this certificate (PEM) as the server's own, whoever
    /// issued it (a self-signed server): its name and dates are not checked.
    #[arg(long, value_name = "FILE", conflicts_with = "ca")]
    pub pin_cert: Option<PathBuf>,
    /// The name the server's certificate must carry [default: the server's host name].
    #[arg(long, value_name = "NAME")]
    pub tls_name: Option<String>,
    /// User name for AUTH. The password comes from --password-file, else
    /// MINNOW_SMTP_PASSWORD, else a prompt on the terminal; never from an
    /// argument.
    #[arg(long)]
    pub user: Option<String>,
    /// File holding the password (its first line); `-` reads standard input.
    #[arg(long, value_name = "FILE", requires = "user")]
    pub password_file: Option<PathBuf>,
    /// Force an AUTH mechanism [default: PLAIN if offered, else LOGIN].
    #[arg(long, value_enum)]
    pub auth_mechanism: Option<Mechanism>,
    /// Allow sending credentials over an unencrypted connection.
    #[arg(long)]
    pub allow_plaintext_auth: bool,
    /// Sender: `addr@example` or `Name <addr@example>`.
    #[arg(long)]
    pub from: String,
    /// Recipient (repeatable).
    #[arg(long, required = true)]
    pub to: Vec<String>,
    /// Copy recipient (repeatable).
    #[arg(long)]
    pub cc: Vec<String>,
    /// Blind copy recipient (repeatable; in the envelope only).
    #[arg(long)]
    pub bcc: Vec<String>,
    /// Subject (UTF-8; non-ASCII is RFC 2047-encoded).
    #[arg(long, default_value = "")]
    pub subject: String,
    /// Plain-text body from FILE, or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub text: Option<String>,
    /// HTML body from FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Attach FILE (repeatable).
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Our name in EHLO.
    #[arg(long, default_value = "minnow.localdomain")]
    pub helo: String,
    /// Connect timeout, seconds (SMTP stage timeouts are RFC 5321's).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=crate::serve::MAX_SECS))]
    pub timeout: u64,
    #[command(flatten)]
    pub net: NetArgs,
}

/// A message source: a file or stdin, read through embedded-io.
pub enum Source {
    /// Buffered: the composer reads 57 bytes per base64 line.
    File(std::io::BufReader<File>),
    Stdin(std::io::Stdin),
}

impl embedded_io::ErrorType for Source {
    type Error = std::io::Error;
}

impl embedded_io::Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        use std::io::Read;
        loop {
            let r = match self {
                Source::File(f) => f.read(buf),
                Source::Stdin(s) => s.read(buf),
            };
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

/// The parts of one message, opened.
struct Parts<'a> {
    text: Option<(Source, TextEncoding)>,
    html: Option<(Source, TextEncoding)>,
    attachments: Vec<Attachment<'a, Source>>,
}

fn open(path: &Path) -> Result<Source, Error> {
    File::open(path)
        .map(|f| Source::File(std::io::BufReader::with_capacity(1 << 16, f)))
        .map_err(|e| Error::Failed(format!("{}: {e}", path.display())))
}

/// Splits `Name <addr>` or `addr`.
fn address(text: &str) -> Address<'_> {
    match (text.rfind('<'), text.ends_with('>')) {
        (Some(i), true) => {
            let name = text[..i].trim();
            Address {
                name: (!name.is_empty()).then_some(name),
                addr: &text[i + 1..text.len() - 1],
            }
        }
        _ => Address {
            name: None,
            addr: text.trim(),
        },
    }
}

/// Picks a transfer encoding for a body file by reading it once.
fn profile(path: &Path) -> Result<TextProfile, Error> {
    use std::io::Read;
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut scan = minnow::mail::mime::TextScanner::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        scan.feed(&buf[..n]);
    }
    Ok(scan.finish())
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("txt") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("zip") => "application/zip",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

pub fn run(args: MailArgs) -> Result<(), Error> {
    // Everything the message needs is checked before the network is touched.
    if args.text.is_none() && args.html.is_none() && args.attach.is_empty() {
        return Err("nothing to send: give --text, --html or --attach".into());
    }
    if args.tls {
        eprintln!(
            "minnow mail: --tls is the old name of --implicit-tls (TLS from the first byte); \
             for STARTTLS, what swaks calls --tls, use --starttls"
        );
    }
    let password = match &args.user {
        Some(_) => Some(password(&args)?),
        None => None,
    };
    let from = address(&args.from);
    let to: Vec<Address> = args.to.iter().map(|t| address(t)).collect();
    let cc: Vec<Address> = args.cc.iter().map(|t| address(t)).collect();
    let bcc: Vec<Address> = args.bcc.iter().map(|t| address(t)).collect();
    let recipients: Vec<&str> = to.iter().chain(&cc).chain(&bcc).map(|a| a.addr).collect();
    let filenames: Vec<String> = args
        .attach
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let seed = crate::netargs::random_seed();
    let helo_domain = from
        .addr
        .rsplit('@')
        .next()
        .unwrap_or("localdomain")
        .to_string();
    let envelope = Envelope {
        from,
        to: &to,
        cc: &cc,
        subject: &args.subject,
        date_unix: unix,
        message_id: MessageId {
            unique: seed,
            domain: &helo_domain,
        },
    };
    let multipart =
        args.attach.len() + usize::from(args.text.is_some()) + usize::from(args.html.is_some()) > 1;
    let text_path = args
        .text
        .as_deref()
        .filter(|t| *t != "-")
        .map(PathBuf::from);
    let text_enc = match (&args.text, &text_path) {
        (Some(_), Some(p)) => Some(minnow::mail::mime::choose(&profile(p)?, false, multipart)),
        // stdin cannot be read twice: quoted-printable is always safe.
        (Some(_), None) => Some(TextEncoding::QuotedPrintable),
        _ => None,
    };
    let html_enc = match &args.html {
        Some(p) => Some(minnow::mail::mime::choose(&profile(p)?, false, multipart)),
        None => None,
    };
    let types: Vec<&str> = args.attach.iter().map(|p| content_type(p)).collect();
    // Fresh sources, opened once to count the size and once to send.
    let open_parts = |stdin_ok: bool| -> Result<Option<Parts<'_>>, Error> {
        let text = match (&args.text, &text_path, text_enc) {
            (Some(_), Some(p), Some(e)) => Some((open(p)?, e)),
            (Some(_), None, Some(e)) if stdin_ok => Some((Source::Stdin(std::io::stdin()), e)),
            (Some(_), None, _) => return Ok(None),
            _ => None,
        };
        let html = match (&args.html, html_enc) {
            (Some(p), Some(e)) => Some((open(p)?, e)),
            _ => None,
        };
        let mut attachments = Vec::new();
        for ((path, name), ct) in args.attach.iter().zip(&filenames).zip(&types) {
            attachments.push(Attachment {
                filename: name,
                content_type: ct,
                source: open(path)?,
            });
        }
        Ok(Some(Parts {
            text,
            html,
            attachments,
        }))
    };
    // Count the message's size (for SIZE=) when every part can be read twice.
    let size = match open_parts(false)? {
        Some(mut parts) => {
            let mut c = Composer::new(
                envelope,
                parts.text,
                parts.html,
                &mut parts.attachments,
                seed,
            )
            .map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 65536];
            let mut total = 0u64;
            loop {
                let n = embedded_io::Read::read(&mut c, &mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break Some(total);
                }
                total += n as u64;
            }
        }
        None => None,
    };
    let mut parts = open_parts(true)?.ok_or("cannot open the message parts")?;
    let composer = Composer::new(
        envelope,
        parts.text,
        parts.html,
        &mut parts.attachments,
        seed,
    )
    .map_err(|e| e.to_string())?;

    let security = if args.implicit_tls || args.tls {
        Security::Implicit
    } else if args.starttls {
        Security::StartTls
    } else {
        Security::None
    };
    let default_port = match security {
        Security::Implicit => 465,
        Security::StartTls => 587,
        Security::None => 25,
    };
    let (host, _) = parse_host_port(&args.server, default_port)
        .map_err(|e| format!("--server {}: {e}", args.server))?;
    let tls_name = match (&args.tls_name, host) {
        (Some(n), _) => n.clone(),
        (None, Host::Name(n)) => n.to_string(),
        (None, Host::Addr(a)) => a.to_string(),
    };
    let credentials = match (&args.user, &password) {
        (Some(user), Some(password)) => Some(Credentials { user, password }),
        _ => None,
    };
    let cfg = SmtpConfig {
        helo: &args.helo,
        from: envelope.from.addr,
        recipients: &recipients,
        credentials,
        mechanism: args.auth_mechanism.map(|m| match m {
            Mechanism::Plain => AuthMechanism::Plain,
            Mechanism::Login => AuthMechanism::Login,
        }),
        security,
        allow_plaintext_auth: args.allow_plaintext_auth,
        size,
        timeouts: SmtpTimeouts::default(),
    };
    let tls = match security {
        Security::None => None,
        _ => Some(match &args.pin_cert {
            Some(cert) => RustlsSession::pinned(cert, &tls_name)?,
            None => RustlsSession::new(roots(args.ca.as_deref())?, &tls_name)?,
        }),
    };

    let (mut link, server) = args
        .net
        .connect(&args.server, default_port, (65536, 65536))?;
    let now = link.now();
    let timeout = Duration::from_secs(args.timeout);
    match tls {
        Some(tls) => {
            let mut sender = MailSender::detached(server, timeout, cfg, tls, composer, now)
                .map_err(|e| e.to_string())?;
            send(&mut *link, &mut sender, &recipients)
        }
        None => {
            let mut sender = MailSender::detached(server, timeout, cfg, NoTls, composer, now)
                .map_err(|e| e.to_string())?;
            send(&mut *link, &mut sender, &recipients)
        }
    }
}

/// The AUTH password: `--password-file FILE|-`, else `MINNOW_SMTP_PASSWORD`,
/// else a prompt on the terminal (not echoed).
fn password(args: &MailArgs) -> Result<String, Error> {
    let first_line = |text: String| text.lines().next().unwrap_or("").to_string();
    match &args.password_file {
        Some(p) if p.as_os_str() == "-" => {
            if args.text.as_deref() == Some("-") {
                return Err(Error::Usage(
                    "--password-file - and --text - both read standard input: give one a file"
                        .into(),
                ));
            }
            let mut text = String::new();
            std::io::stdin()
                .read_line(&mut text)
                .map_err(|e| format!("password from standard input: {e}"))?;
            Ok(first_line(text))
        }
        Some(p) => std::fs::read_to_string(p)
            .map(first_line)
            .map_err(|e| Error::Failed(format!("{}: {e}", p.display()))),
        None => match std::env::var("MINNOW_SMTP_PASSWORD") {
            Ok(p) => Ok(p),
            Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                rpassword::prompt_password("SMTP password: ")
                    .map_err(|e| Error::Failed(format!("password prompt: {e}")))
            }
            Err(_) => Err(Error::Usage(
                "--user needs a password: --password-file FILE (or - for standard input), \
                 MINNOW_SMTP_PASSWORD, or a terminal to ask on"
                    .into(),
            )),
        },
    }
}

/// A TLS session's own words for its last error, for the user.
trait TlsDetail {
    fn detail(&self) -> Option<String>;
}

impl TlsDetail for RustlsSession {
    fn detail(&self) -> Option<String> {
        self.last_error.clone()
    }
}

impl TlsDetail for NoTls {
    fn detail(&self) -> Option<String> {
        None
    }
}

/// Runs the sender to its end and reports the outcome.
fn send<T: minnow::mail::tls::TlsSession + TlsDetail, R: embedded_io::Read>(
    link: &mut dyn Link,
    sender: &mut MailSender<'_, T, R>,
    recipients: &[&str],
) -> Result<(), Error> {
    run_until(link, None, |link, _| {
        Ok(if sender.is_done() {
            Turn::Done(())
        } else {
            Turn::Wait(link.step(sender))
        })
    })?;
    link.flush();
    report(sender, recipients)
}

fn report<T: minnow::mail::tls::TlsSession + TlsDetail, R: embedded_io::Read>(
    sender: &mut MailSender<'_, T, R>,
    recipients: &[&str],
) -> Result<(), Error> {
    while let Some(SmtpEvent::RecipientRefused { index, reply }) = sender.session().events.pop() {
        eprintln!(
            "minnow mail: recipient {} refused: {reply}",
            recipients.get(index).copied().unwrap_or("?")
        );
    }
    let detail = sender.tls().detail();
    match sender.session().outcome() {
        Some(Ok(accepted)) => {
            println!(
                "accepted for {} recipient(s): {}",
                accepted.recipients, accepted.reply
            );
            Ok(())
        }
        Some(Err(e)) => {
            let text = match detail {
                Some(d) => format!("{e}: {d}"),
                None => e.to_string(),
            };
            Err(match e.failure {
                Failure::Rejected(_) => Error::Refused(text),
                Failure::Timeout => Error::Timeout(text),
                _ => Error::Failed(text),
            })
        }
        None => Err("the session ended without an outcome".into()),
    }
}
