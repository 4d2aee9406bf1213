//! Whole-message tests: structure, headers, folding, decoding back.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use embedded_io::{ErrorKind, ErrorType, Read};

use super::*;

// ---- sources ----------------------------------------------------------

/// Hands out at most `step` bytes per read; fails at `fail_at` if set.
#[derive(Debug, Clone)]
struct Src {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail_at: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SrcError;

impl core::fmt::Display for SrcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("source error")
    }
}
impl core::error::Error for SrcError {}
impl embedded_io::Error for SrcError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BrokenPipe
    }
}

impl Src {
    fn new(data: &[u8]) -> Self {
        Self {
            data: data.to_vec(),
            pos: 0,
            step: usize::MAX,
            fail_at: None,
        }
    }
    fn step(mut self, step: usize) -> Self {
        self.step = step;
        self
    }
}

impl ErrorType for Src {
    type Error = SrcError;
}

impl Read for Src {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SrcError> {
        if self.fail_at.is_some_and(|f| self.pos >= f) {
            return Err(SrcError);
        }
        let end = self.fail_at.unwrap_or(usize::MAX).min(self.data.len());
        let n = buf.len().min(self.step).min(end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

// ---- composing --------------------------------------------------------

const TO: [Address<'static>; 2] = [
    Address::named("學文", "hwtseng@nchu.edu.tw"),
    Address::new("second@example.com"),
];
const CC: [Address<'static>; 1] = [Address::named("Smith, John", "john@example.org")];

fn envelope(subject: &'static str) -> Envelope<'static> {
    Envelope {
        from: Address::named("Hsteng", "hwtseng@cs.nchu.edu.tw"),
        to: &TO,
        cc: &CC,
        subject,
        date_unix: 1_491_314_851,
        message_id: MessageId {
            unique: 0x0123_4567_89ab_cdef,
            domain: "cs.nchu.edu.tw",
        },
    }
}

/// Reads a composer to its end with reads of `chunk` bytes.
fn read_all<R: Read>(mut c: Composer<'_, R>, chunk: usize) -> Result<Vec<u8>, ComposeError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = c.read(&mut buf)?;
        if n == 0 {
            assert!(c.is_done());
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

struct Spec<'s> {
    env: Envelope<'static>,
    text: Option<(&'s [u8], TextEncoding)>,
    html: Option<(&'s [u8], TextEncoding)>,
    atts: Vec<(&'s str, &'s str, Vec<u8>)>,
}

fn compose(spec: &Spec<'_>, chunk: usize, step: usize) -> Result<Vec<u8>, ComposeError> {
    let mut atts: Vec<Attachment<'_, Src>> = spec
        .atts
        .iter()
        .map(|(name, ct, data)| Attachment {
            filename: name,
            content_type: ct,
            source: Src::new(data).step(step),
        })
        .collect();
    let c = Composer::new(
        spec.env,
        spec.text.map(|(t, e)| (Src::new(t).step(step), e)),
        spec.html.map(|(t, e)| (Src::new(t).step(step), e)),
        &mut atts,
        0xfeed_f00d,
    )?;
    read_all(c, chunk)
}

// ---- a small MIME reader for the checks --------------------------------

/// Checks CRLF-only line ends and the 998 limit; returns the lines.
fn lines_ok(msg: &[u8]) -> Vec<&[u8]> {
    assert!(msg.ends_with(b"\r\n"), "message must end with CRLF");
    for (i, &b) in msg.iter().enumerate() {
        if b == b'\r' {
            assert_eq!(msg.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
        if b == b'\n' {
            assert!(i > 0 && msg[i - 1] == b'\r', "bare LF at {i}");
        }
    }
    let lines: Vec<&[u8]> = msg[..msg.len() - 2].split(|&b| b == b'\n').collect();
    for line in &lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(line.len() <= MAX_LINE, "line of {} bytes", line.len());
    }
    lines
}

/// Headers (name lower-cased, value unfolded and trimmed) and the body.
fn split(entity: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match entity.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => (&entity[..p + 2], &entity[p + 4..]),
        None if entity.starts_with(b"\r\n") => (&entity[..0], &entity[2..]),
        None => panic!("no blank line after the headers"),
    };
    let head = std::str::from_utf8(head).expect("headers are ASCII");
    assert!(head.is_ascii());
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split_terminator("\r\n") {
        if line.starts_with(' ') || line.starts_with('\t') {
            fields
                .last_mut()
                .expect("continuation first")
                .1
                .push_str(line);
        } else {
            let (name, value) = line.split_once(':').expect("field name");
            assert!(
                !name.is_empty() && !name.contains(' '),
                "bad field {line:?}"
            );
            fields.push((name.to_ascii_lowercase(), value.to_string()));
        }
    }
    for f in fields.iter_mut() {
        f.1 = f.1.trim().to_string();
    }
    (fields, body)
}

fn field<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k == name).then(|| v.trim_matches('"').to_string())
    })
}

/// The parts of a multipart body (RFC 2046: the CRLF before a delimiter
/// belongs to it).
fn parts<'m>(body: &'m [u8], boundary: &str) -> Vec<&'m [u8]> {
    let open = format!("--{boundary}\r\n");
    let next = format!("\r\n--{boundary}\r\n");
    let close = format!("\r\n--{boundary}--");
    assert!(body.starts_with(open.as_bytes()), "first delimiter");
    let mut rest = &body[open.len()..];
    let mut out = Vec::new();
    loop {
        let find = |pat: &str| rest.windows(pat.len()).position(|w| w == pat.as_bytes());
        match (find(&next), find(&close)) {
            (Some(n), Some(c)) if n < c => {
                out.push(&rest[..n]);
                rest = &rest[n + next.len()..];
            }
            (_, Some(c)) => {
                out.push(&rest[..c]);
                let epilogue = &rest[c + close.len()..];
                assert!(epilogue.is_empty() || epilogue == b"\r\n", "epilogue");
                return out;
            }
            _ => panic!("no close delimiter"),
        }
    }
}

/// Decodes a part body by its Content-Transfer-Encoding.
fn decode(cte: &str, body: &[u8]) -> Vec<u8> {
    match cte {
        "7bit" | "8bit" => body.to_vec(),
        "base64" => {
            let joined: Vec<u8> = body
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .inspect(|l| assert!(l.len() <= 76))
                .flatten()
                .copied()
                .collect();
            b64_decode(&joined).expect("valid base64")
        }
        "quoted-printable" => {
            let mut out = vec![0u8; body.len()];
            let n = qp::tests::decode(body, &mut out);
            out.truncate(n);
            out
        }
        other => panic!("unknown encoding {other}"),
    }
}

/// Decodes a header value made of RFC 2047 encoded words and plain words.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, word) in value.split(' ').enumerate() {
        let ew = word
            .strip_prefix("=?UTF-8?B?")
            .and_then(|w| w.strip_suffix("?="));
        if let Some(b64) = ew {
            assert!(word.len() <= 75, "encoded word of {}", word.len());
            let bytes = b64_decode(b64.as_bytes()).expect("base64 in word");
            let s = String::from_utf8(bytes).expect("whole characters per word");
            if i > 0 && !prev_encoded {
                out.push(' ');
            }
            out.push_str(&s);
            prev_encoded = true;
        } else {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
            prev_encoded = false;
        }
    }
    out
}

/// base64 decoding without `alloc` in the crate: decode into a Vec.
pub(crate) fn b64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; input.len() / 4 * 3 + 3];
    let n = STANDARD.decode_slice(input, &mut out).ok()?;
    out.truncate(n);
    Some(out)
}

fn normalized(text: &[u8]) -> Vec<u8> {
    let mut c = crlf::Crlf::new();
    let mut out = Vec::new();
    for &b in text {
        out.extend_from_slice(c.push(b).as_slice());
    }
    out.extend_from_slice(c.finish().as_slice());
    out
}

fn header_lines(msg: &[u8]) -> Vec<String> {
    let end = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    std::str::from_utf8(&msg[..end])
        .unwrap()
        .split_terminator("\r\n")
        .map(String::from)
        .collect()
}

const TEXT: &[u8] = "學文您好:\nthis is test msg from hsteng \n\n測試郵件 = ok\n".as_bytes();
const HTML: &[u8] = b"This is an e-mail message to be sent in HTML format\r\n\
<b>This is HTML message.</b>\r\n<h1>This is headline.</h1>\r\n";

// ---- headers ------------------------------------------------------------

#[test]
fn chinese_subject_round_trips() {
    let spec = Spec {
        env: envelope("測試郵件"),
        text: Some((b"x", TextEncoding::SevenBit)),
        html: None,
        atts: vec![],
    };
    let msg = compose(&spec, 4096, 4096).unwrap();
    lines_ok(&msg);
    let (fields, body) = split(&msg);
    let subject = field(&fields, "subject").unwrap();
    assert_eq!(subject, "=?UTF-8?B?5ris6Kmm6YO15Lu2?=");
    assert_eq!(decode_words(subject), "測試郵件");
    assert_eq!(
        field(&fields, "date"),
        Some("Tue, 04 Apr 2017 14:07:31 +0000")
    );
    assert_eq!(
        field(&fields, "message-id"),
        Some("<0123456789abcdef.1491314851@cs.nchu.edu.tw>")
    );
    assert_eq!(field(&fields, "mime-version"), Some("1.0"));
    assert_eq!(
        field(&fields, "from"),
        Some("Hsteng <hwtseng@cs.nchu.edu.tw>")
    );
    let to = field(&fields, "to").unwrap();
    assert_eq!(
        to,
        "=?UTF-8?B?5a245paH?= <hwtseng@nchu.edu.tw>, second@example.com"
    );
    assert_eq!(
        field(&fields, "cc"),
        Some("\"Smith, John\" <john@example.org>")
    );
    assert_eq!(
        field(&fields, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(field(&fields, "content-transfer-encoding"), Some("7bit"));
    assert_eq!(body, b"x\r\n");
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "from",
            "to",
            "cc",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
            "content-transfer-encoding"
        ]
    );
}

#[test]
fn subjects_fold_and_decode() {
    let long_ascii = "Sending Attachement with a rather long subject line that has to be \
                      folded somewhere because it goes on and on and on past seventy-eight \
                      columns of text";
    let long_cjk = "這是一個很長的中文主旨,用來測試編碼字在七十五個字元內折行,而且絕不能把一個 UTF-8 \
                    字元切成兩半 🦀🦀🦀 喔";
    let cases = [
        long_ascii,
        long_cjk,
        "",
        "testing",
        " leading space",
        "trailing space ",
        "double  space",
        "tab\there",
        "looks =?UTF-8?B?5ris?= encoded",
        "mixed ASCII and 測試 text",
        &*"w".repeat(200),
        &*"🦀".repeat(60),
    ];
    for subject in cases {
        let subject: &'static str = std::boxed::Box::leak(subject.to_string().into_boxed_str());
        let spec = Spec {
            env: envelope(subject),
            text: Some((b"x", TextEncoding::SevenBit)),
            html: None,
            atts: vec![],
        };
        let msg = compose(&spec, 7, 3).unwrap();
        lines_ok(&msg);
        let headers = header_lines(&msg);
        let start = headers
            .iter()
            .position(|l| l.starts_with("Subject:"))
            .unwrap();
        let mut value = headers[start]["Subject:".len()..].to_string();
        for line in &headers[start + 1..] {
            if !line.starts_with(' ') {
                break;
            }
            assert!(
                line.len() <= 76,
                "{subject:?}: folded line of {}",
                line.len()
            );
            assert!(line.trim() != "", "whitespace-only line");
            value.push_str(line);
        }
        assert!(
            headers[start].len() <= 80,
            "first line {:?}",
            headers[start]
        );
        // Unfolding: drop the CRLFs (already gone), then the one space
        // after the colon.
        let value = value.strip_prefix(' ').unwrap_or(&value);
        let plain = header::subject_is_plain(subject);
        let folded: Vec<&String> = headers[start..]
            .iter()
            .take_while(|l| l.starts_with("Subject:") || l.starts_with(' '))
            .collect();
        for line in &folded {
            assert!(line.len() <= 76, "{line:?}");
        }
        if plain {
            assert_eq!(value, subject, "plain subject kept as is");
            assert!(!value.contains("=?"));
            // Greedy folding: each fold is where the next word would pass
            // column 76.
            for pair in folded.windows(2) {
                let next_word = pair[1][1..].split(' ').next().unwrap();
                assert!(pair[0].len() + 1 + next_word.len() > 76, "{pair:?}");
            }
        } else {
            assert_eq!(decode_words(value), subject);
        }
    }
    assert!(header::subject_is_plain(long_ascii));
    assert!(!header::subject_is_plain(long_cjk));
}

#[test]
fn long_address_lists_fold() {
    let names = [
        "Alice",
        "Bob Smith",
        "Ça Va",
        "測試郵件的收件人名字很長很長很長很長很長很長很長",
        "Q. Public",
    ];
    let owned: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                names[i % names.len()].to_string(),
                format!("user{i}@example{i}.com"),
            )
        })
        .collect();
    let to: Vec<Address<'_>> = owned
        .iter()
        .enumerate()
        .map(|(i, (n, a))| {
            if i % 3 == 2 {
                Address::new(a)
            } else {
                Address::named(n, a)
            }
        })
        .collect();
    let mut env = envelope("list");
    let to_static: &'static [Address<'static>] = std::boxed::Box::leak(
        to.iter()
            .map(|a| Address {
                name: a
                    .name
                    .map(|n| &*std::boxed::Box::leak(n.to_string().into_boxed_str())),
                addr: std::boxed::Box::leak(a.addr.to_string().into_boxed_str()),
            })
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    env.to = to_static;
    env.cc = &[];
    let spec = Spec {
        env,
        text: Some((b"x", TextEncoding::SevenBit)),
        html: None,
        atts: vec![],
    };
    for chunk in [1, 13, 4096] {
        let msg = compose(&spec, chunk, 5).unwrap();
        lines_ok(&msg);
        for line in header_lines(&msg) {
            assert!(line.len() <= 76, "{line:?}");
        }
        let (fields, _) = split(&msg);
        assert!(field(&fields, "cc").is_none(), "empty Cc is left out");
        let value = field(&fields, "to").unwrap();
        // Split the unfolded list at the commas after each '>' or address.
        let entries: Vec<&str> = value.split(", ").collect();
        assert_eq!(entries.len(), to.len());
        for (entry, a) in entries.iter().zip(&to) {
            match a.name {
                Some(name) => {
                    let (n, addr) = entry.rsplit_once(' ').unwrap();
                    assert_eq!(addr, format!("<{}>", a.addr));
                    let n = n.trim_matches('"');
                    let decoded = if n.starts_with("=?") {
                        decode_words(n)
                    } else {
                        n.to_string()
                    };
                    assert_eq!(decoded, name);
                }
                None => assert_eq!(*entry, a.addr),
            }
        }
    }
}

#[test]
fn longest_header_tokens_stay_under_998() {
    let local = "l".repeat(64);
    let domain = format!("{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(61));
    let id_domain = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    assert!(header::is_domain(&id_domain) && id_domain.len() == 253);
    let addr: &'static str = std::boxed::Box::leak(format!("{local}@{domain}").into_boxed_str());
    assert_eq!(addr.len(), 254);
    assert!(header::is_addr_spec(addr));
    let quoted_name: &'static str = std::boxed::Box::leak("\"\\".repeat(30).into_boxed_str());
    let to: &'static [Address<'static>] = std::boxed::Box::leak(
        vec![
            Address::named(quoted_name, addr),
            Address::new(addr),
            Address::named(
                &*std::boxed::Box::leak("名".repeat(500).into_boxed_str()),
                addr,
            ),
        ]
        .into_boxed_slice(),
    );
    let mut env = envelope(std::boxed::Box::leak("字".repeat(1000).into_boxed_str()));
    env.to = to;
    env.from = Address::named(quoted_name, addr);
    env.message_id.domain = std::boxed::Box::leak(id_domain.into_boxed_str());
    env.message_id.unique = u64::MAX;
    env.date_unix = 253_402_300_799;
    let long_name = "檔".repeat(85);
    let plain_name = "p".repeat(200);
    let spec = Spec {
        env,
        text: None,
        html: None,
        atts: vec![
            (&long_name, "application/octet-stream", vec![1, 2, 3]),
            (&plain_name, "text/plain", vec![]),
        ],
    };
    let msg = compose(&spec, 1, 1).unwrap();
    let lines = lines_ok(&msg);
    let longest = lines.iter().map(|l| l.len()).max().unwrap();
    assert!(longest <= 998);
    assert_eq!(msg, compose(&spec, 4096, 4096).unwrap());
}

// ---- validation -----------------------------------------------------------

#[test]
fn cr_and_lf_are_refused_in_every_field() {
    for bad in ["\r", "\n", "\r\n", "x\r\nBcc: victim@example.com"] {
        let inject = |s: &str| -> &'static str {
            std::boxed::Box::leak(format!("ok{bad}{s}").into_boxed_str())
        };
        type Case = (Envelope<'static>, Vec<(&'static str, &'static str)>, Field);
        let mut cases: Vec<Case> = vec![];
        let base = envelope("subject");
        let mut e = base;
        e.from.name = Some(inject("name"));
        cases.push((e, vec![], Field::From));
        let mut e = base;
        e.from.addr = inject("a@b.c");
        cases.push((e, vec![], Field::From));
        let mut e = base;
        e.to = std::boxed::Box::leak(
            vec![Address::new("a@b.c"), Address::named(inject("n"), "x@y.z")].into_boxed_slice(),
        );
        cases.push((e, vec![], Field::To(1)));
        let mut e = base;
        e.to = std::boxed::Box::leak(vec![Address::new(inject("x@y.z"))].into_boxed_slice());
        cases.push((e, vec![], Field::To(0)));
        let mut e = base;
        e.cc = std::boxed::Box::leak(vec![Address::new(inject("x@y.z"))].into_boxed_slice());
        cases.push((e, vec![], Field::Cc(0)));
        let mut e = base;
        e.subject = inject("subject");
        cases.push((e, vec![], Field::Subject));
        let mut e = base;
        e.message_id.domain = inject("example.com");
        cases.push((e, vec![], Field::MessageId));
        cases.push((
            base,
            vec![("a.txt", "text/plain"), (inject("f.txt"), "text/plain")],
            Field::Attachment(1),
        ));
        cases.push((
            base,
            vec![(inject("f.txt"), "text/plain")],
            Field::Attachment(0),
        ));
        cases.push((
            base,
            vec![("f.txt", inject("text/plain"))],
            Field::Attachment(0),
        ));
        for (env, atts, field) in cases {
            let mut atts: Vec<Attachment<'_, Src>> = atts
                .iter()
                .map(|(f, c)| Attachment {
                    filename: f,
                    content_type: c,
                    source: Src::new(b"data"),
                })
                .collect();
            let r = Composer::new(
                env,
                Some((Src::new(b"body"), TextEncoding::SevenBit)),
                None,
                &mut atts,
                1,
            );
            assert_eq!(r.err(), Some(ComposeError::HeaderInjection(field)));
        }
    }
    // Injection is reported even when another field is also invalid.
    let mut e = envelope("s\r\n");
    e.from.addr = "not an address";
    let r = Composer::<Src>::new(
        e,
        Some((Src::new(b""), TextEncoding::SevenBit)),
        None,
        &mut [],
        1,
    );
    assert_eq!(r.err(), Some(ComposeError::HeaderInjection(Field::Subject)));
}

#[test]
fn other_validation_errors() {
    let text = || Some((Src::new(b""), TextEncoding::SevenBit));
    let mut e = envelope("s");
    e.from.addr = "a b@c";
    assert_eq!(
        Composer::new(e, text(), None, &mut [], 1).err(),
        Some(ComposeError::InvalidAddress(Field::From))
    );
    let mut e = envelope("s\0");
    assert_eq!(
        Composer::new(e, text(), None, &mut [], 1).err(),
        Some(ComposeError::ControlCharacter(Field::Subject))
    );
    e = envelope("s");
    e.message_id.domain = "bad domain";
    assert_eq!(
        Composer::new(e, text(), None, &mut [], 1).err(),
        Some(ComposeError::InvalidMessageId)
    );
    e = envelope("s");
    e.date_unix = u64::MAX;
    assert_eq!(
        Composer::new(e, text(), None, &mut [], 1).err(),
        Some(ComposeError::DateOutOfRange)
    );
    assert_eq!(
        Composer::<Src>::new(envelope("s"), None, None, &mut [], 1).err(),
        Some(ComposeError::NoContent)
    );
    let mut atts = [Attachment {
        filename: "a/b",
        content_type: "text/plain",
        source: Src::new(b""),
    }];
    assert_eq!(
        Composer::new(envelope("s"), None, None, &mut atts, 1).err(),
        Some(ComposeError::InvalidFilename(0))
    );
    let mut atts = [Attachment {
        filename: "ab",
        content_type: "text",
        source: Src::new(b""),
    }];
    assert_eq!(
        Composer::new(envelope("s"), None, None, &mut atts, 1).err(),
        Some(ComposeError::InvalidContentType(0))
    );
    assert!(envelope("s").validate().is_ok());
    assert!(Address::named("x\ty", "a@b").validate(Field::From).is_ok());
}

// ---- structures -------------------------------------------------------------

fn check_text_part(entity: &[u8], ct: &str, input: &[u8]) {
    let (fields, body) = split(entity);
    assert_eq!(
        field(&fields, "content-type").unwrap(),
        format!("{ct}; charset=utf-8")
    );
    let cte = field(&fields, "content-transfer-encoding").unwrap();
    assert_eq!(decode(cte, body), normalized(input), "{ct} body");
}

#[test]
fn text_only() {
    for enc in [
        TextEncoding::SevenBit,
        TextEncoding::QuotedPrintable,
        TextEncoding::Base64,
    ] {
        let input: &[u8] = b"Hello.\nThis is a test msg from hsteng \n\n.\nlast line, no newline";
        let spec = Spec {
            env: envelope("testing"),
            text: Some((input, enc)),
            html: None,
            atts: vec![],
        };
        let msg = compose(&spec, 100, 7).unwrap();
        lines_ok(&msg);
        if enc == TextEncoding::SevenBit {
            // 7bit gets a final CRLF; QP and base64 decode exactly.
            let mut want = input.to_vec();
            want.extend_from_slice(b"\r\n");
            check_text_part(&msg, "text/plain", &want);
        } else {
            check_text_part(&msg, "text/plain", input);
        }
    }
    let chinese = Spec {
        env: envelope("測試郵件"),
        text: Some((TEXT, TextEncoding::EightBit)),
        html: None,
        atts: vec![],
    };
    let msg = compose(&chinese, 4096, 4096).unwrap();
    lines_ok(&msg);
    check_text_part(&msg, "text/plain", TEXT);
}

#[test]
fn html_only() {
    let spec = Spec {
        env: envelope("SMTP HTML e-mail test"),
        text: None,
        html: Some((HTML, TextEncoding::SevenBit)),
        atts: vec![],
    };
    let msg = compose(&spec, 64, 64).unwrap();
    lines_ok(&msg);
    check_text_part(&msg, "text/html", HTML);
}

#[test]
fn text_and_html_are_alternatives() {
    let spec = Spec {
        env: envelope("alt"),
        text: Some((TEXT, TextEncoding::EightBit)),
        html: Some((HTML, TextEncoding::SevenBit)),
        atts: vec![],
    };
    let msg = compose(&spec, 4096, 4096).unwrap();
    lines_ok(&msg);
    let (fields, body) = split(&msg);
    let ct = field(&fields, "content-type").unwrap();
    assert!(ct.starts_with("multipart/alternative;"));
    assert!(field(&fields, "content-transfer-encoding").is_none());
    let boundary = param(ct, "boundary").unwrap();
    assert_eq!(boundary, "=_alt_00000000feedf00d");
    let p = parts(body, &boundary);
    assert_eq!(p.len(), 2);
    check_text_part(p[0], "text/plain", TEXT);
    check_text_part(p[1], "text/html", HTML);
    // 7bit/8bit became quoted-printable in the multipart.
    for part in &p {
        let (f, _) = split(part);
        assert_eq!(
            field(&f, "content-transfer-encoding"),
            Some("quoted-printable")
        );
    }
}

fn attachment_data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn check_mixed(
    msg: &[u8],
    text: Option<&[u8]>,
    html: Option<&[u8]>,
    atts: &[(&str, &str, Vec<u8>)],
) {
    lines_ok(msg);
    let (fields, body) = split(msg);
    let ct = field(&fields, "content-type").unwrap();
    assert!(ct.starts_with("multipart/mixed;"), "{ct}");
    let boundary = param(ct, "boundary").unwrap();
    let p = parts(body, &boundary);
    let body_parts = usize::from(text.is_some() || html.is_some());
    assert_eq!(p.len(), body_parts + atts.len());
    match (text, html) {
        (Some(t), Some(h)) => {
            let (f, inner) = split(p[0]);
            let alt = field(&f, "content-type").unwrap();
            assert!(alt.starts_with("multipart/alternative;"));
            let b = param(alt, "boundary").unwrap();
            assert!(!b.starts_with(&boundary) && !boundary.starts_with(&b));
            let q = parts(inner, &b);
            assert_eq!(q.len(), 2);
            check_text_part(q[0], "text/plain", t);
            check_text_part(q[1], "text/html", h);
        }
        (Some(t), None) => check_text_part(p[0], "text/plain", t),
        (None, Some(h)) => check_text_part(p[0], "text/html", h),
        (None, None) => {}
    }
    for (part, (name, ct, data)) in p[body_parts..].iter().zip(atts) {
        let (f, b) = split(part);
        let got_ct = field(&f, "content-type").unwrap();
        assert_eq!(got_ct.split(';').next().unwrap(), *ct);
        assert_eq!(field(&f, "content-transfer-encoding"), Some("base64"));
        let disp = field(&f, "content-disposition").unwrap();
        assert!(disp.starts_with("attachment;"));
        assert_eq!(filename_of(disp, "filename"), *name);
        assert_eq!(filename_of(got_ct, "name"), *name);
        assert_eq!(decode("base64", b), *data, "attachment {name}");
    }
}

/// Reads `param` back: plain, RFC 2231 single, or continuations.
fn filename_of(value: &str, name: &str) -> String {
    if let Some(v) = param(value, name) {
        return v;
    }
    let mut bytes = Vec::new();
    let mut pieces: Vec<(usize, String)> = Vec::new();
    for p in value.split(';').skip(1) {
        let (k, v) = p.trim().split_once('=').unwrap();
        if k == format!("{name}*") {
            pieces.push((0, v.to_string()));
        } else if let Some(n) = k
            .strip_prefix(&format!("{name}*"))
            .and_then(|r| r.strip_suffix('*'))
        {
            pieces.push((n.parse().unwrap(), v.to_string()));
        }
    }
    pieces.sort();
    for (i, (n, v)) in pieces.iter().enumerate() {
        assert_eq!(*n, i);
        let v = if i == 0 {
            v.strip_prefix("UTF-8''").unwrap()
        } else {
            v.as_str()
        };
        let mut it = v.bytes();
        while let Some(b) = it.next() {
            if b == b'%' {
                let h: String = [it.next().unwrap() as char, it.next().unwrap() as char]
                    .iter()
                    .collect();
                bytes.push(u8::from_str_radix(&h, 16).unwrap());
            } else {
                bytes.push(b);
            }
        }
        // Each piece holds whole characters.
        assert!(core::str::from_utf8(&bytes).is_ok());
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn text_html_and_three_attachments() {
    let atts = vec![
        (
            "test.txt",
            "text/plain",
            b"This is a test email to send an attachement.\n".to_vec(),
        ),
        (
            "測試報告 2017 年 4 月 附件 很長的檔名.pdf",
            "application/pdf",
            attachment_data(10_000, 7),
        ),
        (
            "empty \"quoted\" name.bin",
            "application/octet-stream",
            vec![],
        ),
    ];
    let spec = Spec {
        env: envelope("Sending Attachement"),
        text: Some((TEXT, TextEncoding::QuotedPrintable)),
        html: Some((HTML, TextEncoding::Base64)),
        atts,
    };
    let reference = compose(&spec, 4096, 4096).unwrap();
    check_mixed(&reference, Some(TEXT), Some(HTML), &spec.atts);
    for (chunk, step) in [(1, 1), (3, 2), (77, 57), (78, 58), (1000, 1)] {
        assert_eq!(
            compose(&spec, chunk, step).unwrap(),
            reference,
            "chunk {chunk} step {step}"
        );
    }
}

#[test]
fn every_structure_with_attachments() {
    let atts = vec![(
        "a.bin",
        "application/octet-stream",
        attachment_data(57 * 3, 1),
    )];
    for (text, html) in [
        (None, None),
        (Some(TEXT), None),
        (None, Some(HTML)),
        (Some(TEXT), Some(HTML)),
    ] {
        let spec = Spec {
            env: envelope("mixed"),
            text: text.map(|t| (t, TextEncoding::SevenBit)),
            html: html.map(|h| (h, TextEncoding::EightBit)),
            atts: atts.clone(),
        };
        let msg = compose(&spec, 500, 500).unwrap();
        check_mixed(&msg, text, html, &atts);
    }
}

#[test]
fn content_cannot_fake_a_boundary() {
    // Text made of the delimiter lines the composer will use.
    let evil: &[u8] = b"--=_mixed_00000000feedf00d\r\n--=_alt_00000000feedf00d--\r\n--=_mixed_00000000feedf00d--\r\n";
    let spec = Spec {
        env: envelope("evil"),
        text: Some((evil, TextEncoding::SevenBit)),
        html: Some((evil, TextEncoding::EightBit)),
        atts: vec![("evil.txt", "text/plain", evil.to_vec())],
    };
    let msg = compose(&spec, 4096, 4096).unwrap();
    check_mixed(&msg, Some(evil), Some(evil), &spec.atts);
    let delimiters = lines_ok(&msg)
        .iter()
        .filter(|l| l.starts_with(b"--=_"))
        .count();
    // mixed: open, next, close; alt: open, next, close.
    assert_eq!(delimiters, 6);
}

// ---- bodies -------------------------------------------------------------------

#[test]
fn seven_and_eight_bit_bodies_are_checked() {
    let cases: &[(&[u8], TextEncoding)] = &[
        ("é".as_bytes(), TextEncoding::SevenBit),
        (b"a\0b", TextEncoding::EightBit),
        (&[b'x'; 999], TextEncoding::EightBit),
    ];
    for (body, enc) in cases {
        let spec = Spec {
            env: envelope("s"),
            text: Some((body, *enc)),
            html: None,
            atts: vec![],
        };
        assert_eq!(
            compose(&spec, 4096, 4096),
            Err(ComposeError::BodyNeedsEncoding)
        );
    }
    let mut line = vec![b'x'; 998];
    line.extend_from_slice(b"\nnext");
    let spec = Spec {
        env: envelope("s"),
        text: Some((&line, TextEncoding::SevenBit)),
        html: None,
        atts: vec![],
    };
    assert!(compose(&spec, 4096, 4096).is_ok());
}

#[test]
fn source_errors_are_reported_and_sticky() {
    let mut atts = [Attachment {
        filename: "a.bin",
        content_type: "application/octet-stream",
        source: Src {
            data: vec![0; 500],
            pos: 0,
            step: 100,
            fail_at: Some(200),
        },
    }];
    let mut c = Composer::new(envelope("s"), None, None, &mut atts, 1).unwrap();
    let mut buf = [0u8; 64];
    let err = loop {
        match c.read(&mut buf) {
            Ok(0) => panic!("should fail"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(err, ComposeError::Source(ErrorKind::BrokenPipe));
    assert_eq!(embedded_io::Error::kind(&err), ErrorKind::BrokenPipe);
    assert_eq!(c.read(&mut buf), Err(err));
    assert!(!c.is_done());
}

#[test]
fn multipart_replaces_7bit_and_8bit() {
    let mut atts = [Attachment {
        filename: "a",
        content_type: "a/b",
        source: Src::new(b""),
    }];
    let c = Composer::new(
        envelope("s"),
        Some((Src::new(b""), TextEncoding::SevenBit)),
        Some((Src::new(b""), TextEncoding::Base64)),
        &mut atts,
        1,
    )
    .unwrap();
    assert!(c.is_multipart());
    assert_eq!(c.text_encoding(), Some(TextEncoding::QuotedPrintable));
    assert_eq!(c.html_encoding(), Some(TextEncoding::Base64));
    let c = Composer::new(
        envelope("s"),
        Some((Src::new(b""), TextEncoding::EightBit)),
        None,
        &mut [],
        1,
    )
    .unwrap();
    assert!(!c.is_multipart());
    assert_eq!(c.text_encoding(), Some(TextEncoding::EightBit));
}

#[test]
fn empty_bodies() {
    for enc in [
        TextEncoding::SevenBit,
        TextEncoding::EightBit,
        TextEncoding::QuotedPrintable,
        TextEncoding::Base64,
    ] {
        let spec = Spec {
            env: envelope("empty"),
            text: Some((b"", enc)),
            html: None,
            atts: vec![],
        };
        let msg = compose(&spec, 10, 10).unwrap();
        lines_ok(&msg);
        assert!(msg.ends_with(b"\r\n\r\n"));
        check_text_part(&msg, "text/plain", b"");
    }
    let spec = Spec {
        env: envelope("empty"),
        text: Some((b"", TextEncoding::QuotedPrintable)),
        html: Some((b"", TextEncoding::QuotedPrintable)),
        atts: vec![("e", "a/b", vec![])],
    };
    let msg = compose(&spec, 10, 10).unwrap();
    check_mixed(&msg, Some(b""), Some(b""), &spec.atts);
}

#[test]
fn choose_then_compose_never_fails() {
    let bodies: [&[u8]; 5] = [TEXT, HTML, b"a\0b\rc\nd", &[b'y'; 3000], &[0xff; 100]];
    for body in bodies {
        for eight in [false, true] {
            for multipart in [false, true] {
                let enc = choose(&TextScanner::scan_slice(body), eight, multipart);
                let spec = Spec {
                    env: envelope("c"),
                    text: Some((body, enc)),
                    html: None,
                    atts: if multipart {
                        vec![("f", "a/b", vec![1])]
                    } else {
                        vec![]
                    },
                };
                let msg = compose(&spec, 333, 17).unwrap();
                if multipart {
                    check_mixed(&msg, Some(body), None, &spec.atts);
                } else {
                    lines_ok(&msg);
                    let (f, b) = split(&msg);
                    let cte = field(&f, "content-transfer-encoding").unwrap();
                    let mut want = normalized(body);
                    if matches!(cte, "7bit" | "8bit") && !want.ends_with(b"\r\n") {
                        want.extend_from_slice(b"\r\n");
                    }
                    assert_eq!(decode(cte, b), want);
                }
            }
        }
    }
}

#[test]
fn zero_length_reads_and_done() {
    let mut c = Composer::new(
        envelope("s"),
        Some((Src::new(b"hi"), TextEncoding::SevenBit)),
        None,
        &mut [],
        1,
    )
    .unwrap();
    assert_eq!(c.read(&mut []), Ok(0));
    assert!(!c.is_done());
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap();
    assert!(n > 0);
    assert!(buf[..n].ends_with(b"\r\n\r\nhi\r\n"));
    assert_eq!(c.read(&mut buf), Ok(0));
    assert_eq!(c.read(&mut buf), Ok(0));
    assert!(c.is_done());
}

#[test]
fn ram() {
    let size = core::mem::size_of::<Composer<'static, &'static [u8]>>();
    std::println!("Composer<&[u8]>: {size} bytes");
    assert!(size < 1024);
}
