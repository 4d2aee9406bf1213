//! The MIME composer on arbitrary header text, bodies, attachments, source
//! chunking and read sizes. It must never panic; when construction
//! succeeds, the message must have CRLF-only line ends, no line over 998
//! bytes, exactly the expected header fields (no injected ones), exactly
//! the expected boundary lines, and the same bytes however it is read.
//!
//! Run: `cargo +nightly fuzz run compose -- -max_total_time=60`

#![no_main]

use embedded_io::{ErrorType, Read};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use minnow::mail::mime::{
    Address, Attachment, ComposeError, Composer, Envelope, MessageId, TextEncoding, TextScanner,
    choose,
};

/// Valid addresses, picked by index so the fuzzer reaches composition
/// often; arbitrary text tests validation.
const ADDRS: [&str; 6] = [
    "hwtseng@cs.nchu.edu.tw",
    "a@b",
    "user@[192.0.2.1]",
    "first.last+tag@example.com",
    "o'brien@x-y.example",
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
];

#[derive(Debug, Arbitrary)]
enum Addr {
    Known(u8),
    Text(String),
}

impl Addr {
    fn get(&self) -> &str {
        match self {
            Addr::Known(i) => ADDRS[usize::from(*i) % ADDRS.len()],
            Addr::Text(s) => s,
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Mailbox {
    name: Option<String>,
    addr: Addr,
}

#[derive(Debug, Arbitrary)]
enum Enc {
    /// Scan and `choose`, as the SMTP layer does: must never fail.
    Chosen,
    Given(u8),
}

#[derive(Debug, Arbitrary)]
struct Att {
    filename: String,
    /// Index into a list of valid types, or text.
    content_type: Result<u8, String>,
    data: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    from: Mailbox,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    subject: String,
    date: u64,
    unique: u64,
    domain: Option<String>,
    text: Option<(Vec<u8>, Enc)>,
    html: Option<(Vec<u8>, Enc)>,
    atts: Vec<Att>,
    eight_bit_mime: bool,
    seed: u64,
    read_size: u8,
    step: u8,
}

/// An infallible source handing out at most `step` bytes per read.
struct Src<'d> {
    data: &'d [u8],
    step: usize,
}

impl ErrorType for Src<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Src<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

const TYPES: [&str; 3] = ["application/octet-stream", "text/plain", "image/png"];

fn encoding(body: &[u8], enc: &Enc, eight: bool, multipart: bool) -> TextEncoding {
    match enc {
        Enc::Chosen => choose(&TextScanner::scan_slice(body), eight, multipart),
        Enc::Given(i) => [
            TextEncoding::SevenBit,
            TextEncoding::EightBit,
            TextEncoding::QuotedPrintable,
            TextEncoding::Base64,
        ][usize::from(*i) % 4],
    }
}

fn mailbox(m: &Mailbox) -> Address<'_> {
    Address {
        name: m.name.as_deref(),
        addr: m.addr.get(),
    }
}

fn compose<'a>(input: &'a Input, read_size: usize, step: usize) -> Result<Vec<u8>, ComposeError> {
    let to: Vec<Address<'_>> = input.to.iter().map(mailbox).collect();
    let cc: Vec<Address<'_>> = input.cc.iter().map(mailbox).collect();
    let env = Envelope {
        from: mailbox(&input.from),
        to: &to,
        cc: &cc,
        subject: &input.subject,
        date_unix: input.date % 300_000_000_000,
        message_id: MessageId {
            unique: input.unique,
            domain: input.domain.as_deref().unwrap_or("example.com"),
        },
    };
    let multipart = (input.text.is_some() && input.html.is_some()) || !input.atts.is_empty();
    let part = |p: &'a Option<(Vec<u8>, Enc)>| -> Option<(Src<'a>, TextEncoding)> {
        p.as_ref().map(|(body, enc)| {
            (
                Src { data: body, step },
                encoding(body, enc, input.eight_bit_mime, multipart),
            )
        })
    };
    let mut atts: Vec<Attachment<'_, Src<'_>>> = input
        .atts
        .iter()
        .map(|a| Attachment {
            filename: &a.filename,
            content_type: match &a.content_type {
                Ok(i) => TYPES[usize::from(*i) % TYPES.len()],
                Err(s) => s,
            },
            source: Src { data: &a.data, step },
        })
        .collect();
    let header_texts = || {
        let boxes = std::iter::once(&input.from).chain(&input.to).chain(&input.cc);
        boxes
            .flat_map(|m| [m.name.as_deref().unwrap_or(""), m.addr.get()])
            .chain([input.subject.as_str(), env.message_id.domain])
            .chain(input.atts.iter().map(|a| a.filename.as_str()))
            .chain(input.atts.iter().filter_map(|a| a.content_type.as_ref().err().map(|s| s.as_str())))
            .any(|s| s.contains(['\r', '\n']))
    };
    let mut c = match Composer::new(env, part(&input.text), part(&input.html), &mut atts, input.seed)
    {
        Ok(c) => c,
        Err(e) => {
            if header_texts() {
                assert!(matches!(e, ComposeError::HeaderInjection(_)), "{e:?}");
            }
            return Err(e);
        }
    };
    assert!(!header_texts(), "CR/LF in a header text was accepted");
    let mut out = Vec::new();
    let mut buf = vec![0u8; read_size];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert_eq!(e, ComposeError::BodyNeedsEncoding);
                assert!(!multipart, "7bit/8bit must not be used in multipart");
                let chosen = |p: &Option<(Vec<u8>, Enc)>| matches!(p, None | Some((_, Enc::Chosen)));
                assert!(
                    !(chosen(&input.text) && chosen(&input.html)),
                    "an encoding from choose() failed"
                );
                assert_eq!(c.read(&mut buf), Err(e), "errors are sticky");
                return Err(e);
            }
        }
    }
}

const FIELDS: [&str; 9] = [
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding",
];

fn check(input: &Input, msg: &[u8]) {
    assert!(msg.ends_with(b"\r\n"));
    for (i, &b) in msg.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(msg.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && msg[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
    let lines: Vec<&[u8]> = msg[..msg.len() - 2].split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    for l in &lines {
        assert!(l.len() <= 998, "line of {} bytes", l.len());
    }
    // The top-level header: only the expected fields, each at most once.
    let end = lines.iter().position(|l| l.is_empty()).expect("blank line after the header");
    let mut seen = [0usize; FIELDS.len()];
    for l in &lines[..end] {
        if l.first() == Some(&b' ') {
            assert!(l.iter().any(|&b| b != b' ' && b != b'\t'), "whitespace-only line");
            continue;
        }
        let name = l.split(|&b| b == b':').next().unwrap();
        let k = FIELDS.iter().position(|f| f.as_bytes() == name).unwrap_or_else(|| {
            panic!("unexpected header line {:?}", String::from_utf8_lossy(l))
        });
        seen[k] += 1;
        assert!(l.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)), "non-ASCII header");
    }
    assert_eq!(seen[1], usize::from(!input.to.is_empty()));
    assert_eq!(seen[2], usize::from(!input.cc.is_empty()));
    for (k, n) in seen.iter().enumerate() {
        if k != 1 && k != 2 && k != 8 {
            assert_eq!(*n, 1, "{} appears {n} times", FIELDS[k]);
        }
    }
    // Boundary lines: exactly the composer's own.
    let alt = input.text.is_some() && input.html.is_some();
    let mixed = !input.atts.is_empty();
    let body_part = input.text.is_some() || input.html.is_some();
    let mixed_lines = lines.iter().filter(|l| l.starts_with(b"--=_mixed_")).count();
    let alt_lines = lines.iter().filter(|l| l.starts_with(b"--=_alt_")).count();
    let want_mixed = if mixed { usize::from(body_part) + input.atts.len() + 1 } else { 0 };
    assert_eq!(mixed_lines, want_mixed);
    assert_eq!(alt_lines, if alt { 3 } else { 0 });
    // In a multipart message no body line may look like a boundary; a
    // single part has no boundary, and its body may hold any line.
    if alt || mixed {
        assert!(!lines.iter().any(|l| l.starts_with(b"--=_") && !l.starts_with(b"--=_mixed_") && !l.starts_with(b"--=_alt_")));
    }
}

fuzz_target!(|input: Input| {
    let read_size = usize::from(input.read_size).max(1);
    let step = usize::from(input.step).max(1);
    let first = compose(&input, read_size, step);
    if let Ok(msg) = &first {
        check(&input, msg);
    }
    // Any other read and source chunking gives the same bytes.
    let again = compose(&input, 4096, 4096);
    match (&first, &again) {
        (Ok(a), Ok(b)) => assert!(a == b, "output depends on read sizes"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("{first:?} vs {again:?}"),
    }
});
