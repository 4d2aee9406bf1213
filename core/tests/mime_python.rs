//! The composer's messages read back by Python's `email` package
//! (`policy.default`): decoded headers, content types, file names, and
//! every leaf part's decoded bytes compared with what went in.
//!
//! Needs `python3` on PATH (nothing else, no root). Each case is written to
//! a temporary directory as `msg.eml`, a manifest (`expect.tsv`, strings in
//! hex so nothing needs escaping) and one file of expected bytes per part.
//! Set `MINNOW_KEEP_MIME=1` to keep the directory for a look.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use embedded_io::Read;
use minnow::mail::mime::{
    Address, Attachment, Composer, Envelope, MessageId, TextEncoding, TextScanner, choose,
};

const CHECK: &str = r#"
import email, email.policy, pathlib, sys

def unhex(s):
    return bytes.fromhex(s).decode("utf-8")

def parse_file(path):
    # Reads through a text wrapper with universal newlines: CRLF -> LF.
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)

def parse_bytes(path):
    # Keeps the CRLFs.
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

failures = []
cases = [(c, how) for c in sorted(pathlib.Path(sys.argv[1]).iterdir()) for how in ("file", "bytes")]
for case, how in cases:
    msg = (parse_file if how == "file" else parse_bytes)(case / "msg.eml")
    def fail(what):
        failures.append(f"{case.name} ({how}): {what}")
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    want_parts = []
    want_lists = {"to": [], "cc": []}
    for line in (case / "expect.tsv").read_text().splitlines():
        kind, *args = line.split("\t")
        if kind == "subject":
            got = msg["subject"]
            if str(got) != unhex(args[0]):
                fail(f"subject {str(got)!r} != {unhex(args[0])!r}")
        elif kind == "top":
            if msg.get_content_type() != args[0]:
                fail(f"top type {msg.get_content_type()}")
        elif kind == "from":
            a = msg["from"].addresses
            if len(a) != 1 or a[0].display_name != unhex(args[0]) or a[0].addr_spec != unhex(args[1]):
                fail(f"from {a!r}")
        elif kind in ("to", "cc"):
            want_lists[kind].append((unhex(args[0]), unhex(args[1])))
        elif kind == "part":
            want_parts.append(args)
        elif kind == "header":
            if str(msg[args[0]]) != unhex(args[1]):
                fail(f"{args[0]}: {str(msg[args[0]])!r}")
    for kind, want in want_lists.items():
        got = [(a.display_name, a.addr_spec) for a in msg[kind].addresses] if msg[kind] else []
        if got != want:
            fail(f"{kind} {got!r} != {want!r}")
    if len(leaves) != len(want_parts):
        fail(f"{len(leaves)} parts, expected {len(want_parts)}")
    for i, (part, (ctype, fname, expect)) in enumerate(zip(leaves, want_parts)):
        if part.get_content_type() != ctype:
            fail(f"part {i} type {part.get_content_type()} != {ctype}")
        want_name = None if fname == "-" else unhex(fname)
        if part.get_filename() != want_name:
            fail(f"part {i} filename {part.get_filename()!r} != {want_name!r}")
        if want_name is not None and part.get_content_disposition() != "attachment":
            fail(f"part {i} disposition {part.get_content_disposition()}")
        data = part.get_payload(decode=True)
        want = (case / expect).read_bytes()
        if how == "file" and want_name is None:
            # message_from_binary_file turned the message's CRLFs into LF,
            # so text sent as 7bit/8bit/QP decodes with LF (base64 keeps
            # the CRLFs it encodes): compare text line ends loosely there.
            data, want = data.replace(b"\r\n", b"\n"), want.replace(b"\r\n", b"\n")
        if data != want:
            fail(f"part {i} bytes differ: {len(data)} vs {len(want)}: {data[:80]!r} / {want[:80]!r}")
        if ctype.startswith("text/") and want_name is None:
            if part.get_content_charset() != "utf-8":
                fail(f"part {i} charset {part.get_content_charset()}")
            if part.get_content().replace("\r\n", "\n") != want.decode("utf-8").replace("\r\n", "\n"):
                fail(f"part {i} get_content differs")
    for part in msg.walk():
        if part.defects:
            fail(f"defects {part.defects!r}")
        for name, value in part.items():
            if getattr(value, "defects", None):
                fail(f"header {name} defects {value.defects!r}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok:", len(cases), "parses of", len(cases) // 2, "messages")
"#;

fn hex(s: &str) -> String {
    s.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Line breaks as the composer sends text: CRLF.
fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if text.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

struct Case<'c> {
    name: &'c str,
    from: Address<'c>,
    to: &'c [Address<'c>],
    cc: &'c [Address<'c>],
    subject: &'c str,
    text: Option<&'c [u8]>,
    html: Option<&'c [u8]>,
    /// (file name, content type, bytes)
    atts: Vec<(&'c str, &'c str, Vec<u8>)>,
    eight_bit_mime: bool,
}

fn write_case(dir: &Path, case: &Case<'_>) {
    let dir = dir.join(case.name);
    std::fs::create_dir_all(&dir).unwrap();
    let multipart = (case.text.is_some() && case.html.is_some()) || !case.atts.is_empty();
    let encoding = |t: &[u8]| choose(&TextScanner::scan_slice(t), case.eight_bit_mime, multipart);
    let mut atts: Vec<Attachment<'_, &[u8]>> = case
        .atts
        .iter()
        .map(|(f, c, d)| Attachment {
            filename: f,
            content_type: c,
            source: d.as_slice(),
        })
        .collect();
    let env = Envelope {
        from: case.from,
        to: case.to,
        cc: case.cc,
        subject: case.subject,
        date_unix: 1_491_314_851,
        message_id: MessageId {
            unique: 42,
            domain: "cs.nchu.edu.tw",
        },
    };
    let mut composer = Composer::new(
        env,
        case.text.map(|t| (t, encoding(t))),
        case.html.map(|h| (h, encoding(h))),
        &mut atts,
        0x5eed,
    )
    .unwrap();
    let mut msg = Vec::new();
    let mut buf = [0u8; 300];
    loop {
        let n = composer.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        msg.extend_from_slice(&buf[..n]);
    }
    std::fs::write(dir.join("msg.eml"), &msg).unwrap();

    let mut expect = String::new();
    writeln!(expect, "subject\t{}", hex(case.subject)).unwrap();
    writeln!(
        expect,
        "from\t{}\t{}",
        hex(case.from.name.unwrap_or("")),
        hex(case.from.addr)
    )
    .unwrap();
    for (kind, list) in [("to", case.to), ("cc", case.cc)] {
        for a in list {
            writeln!(
                expect,
                "{kind}\t{}\t{}",
                hex(a.name.unwrap_or("")),
                hex(a.addr)
            )
            .unwrap();
        }
    }
    let top = if !case.atts.is_empty() {
        "multipart/mixed"
    } else if case.text.is_some() && case.html.is_some() {
        "multipart/alternative"
    } else if case.html.is_some() {
        "text/html"
    } else {
        "text/plain"
    };
    writeln!(expect, "top\t{top}").unwrap();
    writeln!(
        expect,
        "header\tdate\t{}",
        hex("Tue, 04 Apr 2017 14:07:31 +0000")
    )
    .unwrap();
    let mut part = 0;
    let mut add_part = |expect: &mut String, ctype: &str, fname: Option<&str>, bytes: &[u8]| {
        let file = format!("part{part}.bin");
        std::fs::write(dir.join(&file), bytes).unwrap();
        let fname = fname.map(hex).unwrap_or_else(|| "-".into());
        writeln!(expect, "part\t{ctype}\t{fname}\t{file}").unwrap();
        part += 1;
    };
    for (body, ctype) in [(case.text, "text/plain"), (case.html, "text/html")] {
        if let Some(body) = body {
            let mut want = crlf(body);
            // 7bit/8bit (single part only) end with the message's CRLF.
            let raw = matches!(
                encoding(body),
                TextEncoding::SevenBit | TextEncoding::EightBit
            );
            if raw && !want.is_empty() && !want.ends_with(b"\r\n") {
                want.extend_from_slice(b"\r\n");
            }
            add_part(&mut expect, ctype, None, &want);
        }
    }
    for (f, c, d) in &case.atts {
        add_part(&mut expect, c, Some(f), d);
    }
    std::fs::write(dir.join("expect.tsv"), expect).unwrap();
}

fn temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("minnow-mime-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn python_email_reads_what_we_compose() {
    // Fails, never skips, without python3: the check is the point.
    assert!(
        Command::new("python3")
            .arg("-c")
            .arg("1")
            .status()
            .is_ok_and(|s| s.success()),
        "this test needs python3 on PATH"
    );
    let text: &[u8] =
        "學文您好:\n\n this is test msg from hsteng \n\n測試郵件 = ok.\n.\nFrom the notes\n"
            .as_bytes();
    let html: &[u8] = b"This is an e-mail message to be sent in HTML format\n\
                        <br/><b>This is HTML message.</b>\n<h1>This is headline.</h1>\n";
    let ascii: &[u8] = b"This is a test email to send an attachement.\r\nno final newline";
    let long_line = "x".repeat(2000);
    let long_subject = "長".repeat(200);
    let binary: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let to = [
        Address::named("hwtseng", "hwtseng@nchu.edu.tw"),
        Address::named("學文 曾", "student@cs.nchu.edu.tw"),
        Address::new("plain@example.com"),
    ];
    let cc = [
        Address::named("Smith, John \"JJ\"", "john@example.org"),
        Address::named("  spaced  out  ", "spaced@example.org"),
        Address::named(
            "A very long display name that keeps going well past the sixty character limit",
            "long@example.org",
        ),
        Address::named(
            "Another long name, with a comma, and \"quotes\", folded at its spaces if need be",
            "quoted@example.org",
        ),
        Address::named("國立中興大學資訊工程學系曾學文", "fifteen@example.org"),
        Address::named("an =?UTF-8?B?5ris?= look-alike", "odd@example.org"),
        Address::named("tab\tinside", "tab@example.org"),
    ];
    let from = Address::named("Hsteng", "hwtseng@cs.nchu.edu.tw");
    let base = |name| Case {
        name,
        from,
        to: &to,
        cc: &[],
        subject: "testing",
        text: None,
        html: None,
        atts: vec![],
        eight_bit_mime: false,
    };
    let cases = vec![
        Case {
            subject: "測試郵件",
            text: Some(text),
            ..base("01-text-chinese")
        },
        Case {
            subject: "測試郵件",
            text: Some(text),
            eight_bit_mime: true,
            ..base("02-text-8bit")
        },
        Case {
            subject: "SMTP HTML e-mail test",
            html: Some(html),
            ..base("03-html")
        },
        Case {
            subject: "alternative 測試",
            text: Some(text),
            html: Some(html),
            cc: &cc,
            ..base("04-alternative")
        },
        Case {
            subject: "Sending Attachement",
            text: Some(ascii),
            html: Some(html),
            cc: &cc,
            atts: vec![
                ("test.txt", "text/plain", ascii.to_vec()),
                (
                    "測試報告 2017 年 4 月 期末專題 附件 很長很長的檔名.pdf",
                    "application/pdf",
                    binary.clone(),
                ),
                (
                    "quote \"me\" please.bin",
                    "application/octet-stream",
                    vec![],
                ),
            ],
            ..base("05-mixed-three-attachments")
        },
        Case {
            subject: "attachments only",
            atts: vec![(
                "a.bin",
                "application/octet-stream",
                binary[..57 * 10].to_vec(),
            )],
            ..base("06-attachment-only")
        },
        Case {
            subject: " leading, trailing and  double spaces, tab\t=?UTF-8?B?5ris?= and a very long \
                      subject that needs folding across several lines of the header 🦀 ",
            text: Some(long_line.as_bytes()),
            ..base("07-odd-subject-long-line")
        },
        Case {
            subject: "",
            text: Some(b""),
            ..base("08-empty")
        },
        Case {
            subject: &long_subject,
            text: Some(b"bare\rCR and \x00 NUL \xff\xfe"),
            html: Some(b"<p>x</p>"),
            ..base("09-binaryish-text")
        },
    ];
    let dir = temp_dir();
    for case in &cases {
        write_case(&dir, case);
    }
    // 09's text is not valid UTF-8: compare bytes but not get_content.
    let script = CHECK.replace(
        "if ctype.startswith(\"text/\") and want_name is None:",
        "if ctype.startswith(\"text/\") and want_name is None and not case.name.startswith(\"09\"):",
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python email check failed (messages kept in {}):\n{stdout}\n{stderr}",
        dir.display()
    );
    println!("{stdout}");
    if std::env::var_os("MINNOW_KEEP_MIME").is_some() {
        println!("messages kept in {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
}
