//! Helpers for the mail tests (`tests/mail.rs`, `tests/firmware.rs`): the
//! `smtp_sink.py` peer, the messages it stores (`NNNN.eml` with an envelope
//! `NNNN.json` beside each) and a summary of a stored message as Python's
//! email package reads it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{Netns, Proc};

/// Starts `smtp_sink.py` inside `ns` on 192.0.2.1:`port`, storing into
/// `maildir`, with `extra` options (`--tls-cert`, `--auth`, `--reject-rcpt`, ...);
/// waits up to 20 s for its `ready` line and panics with its output otherwise.
pub fn smtp_sink(ns: &Netns, port: u16, maildir: &Path, extra: &[&str]) -> Proc {
    let port = port.to_string();
    let mut args = vec![Netns::HOST_V4, port.as_str(), maildir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let p = ns.spawn(ns.peer_command("smtp_sink.py", &args));
    assert!(
        p.wait_for_stdout("ready", Duration::from_secs(20)),
        "smtp_sink.py: {}",
        p.dump()
    );
    p
}

/// The stored messages (`NNNN.eml`) in `maildir`, in order; none if it does not exist.
pub fn stored(maildir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(maildir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The envelope `smtp_sink.py` stored beside `eml` (`NNNN.json`: `mail_from`,
/// `rcpt_tos`, `tls`, `auth`).
pub fn envelope(eml: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(eml.with_extension("json")).unwrap()).unwrap()
}

/// Parses a stored message with Python's email package: a JSON summary of the
/// decoded headers (`subject`, `from`, `to`, `cc`, `date`, `message_id`,
/// `mime_version`), the top-level `type`, every `defects` entry, and every leaf
/// part (`type`, `filename`, `disposition`, `sha256`, `len`, and `text` for
/// text parts, with CRLF line ends as LF). Panics if Python fails.
pub fn parse_eml(eml: &Path) -> serde_json::Value {
    let script = r#"
import email, email.policy, hashlib, json, sys
with open(sys.argv[1], 'rb') as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
parts = []
for part in msg.walk():
    if part.is_multipart():
        continue
    payload = part.get_payload(decode=True) or b''
    parts.append({
        'type': part.get_content_type(),
        'filename': part.get_filename(),
        'disposition': part.get_content_disposition(),
        'sha256': hashlib.sha256(payload).hexdigest(),
        'len': len(payload),
        # Text travels in canonical form (CRLF line ends, RFC 2045); compare as LF.
        'text': payload.decode('utf-8', 'replace').replace('\r\n', '\n') if part.get_content_maintype() == 'text' else None,
    })
print(json.dumps({
    'subject': str(msg['subject']),
    'from': str(msg['from']),
    'to': str(msg['to']),
    'cc': str(msg['cc']) if msg['cc'] else None,
    'date': str(msg['date']),
    'message_id': str(msg['message-id']),
    'mime_version': str(msg['mime-version']),
    'type': msg.get_content_type(),
    'defects': [str(d) for d in msg.defects] + [str(d) for p in msg.walk() for d in p.defects],
    'parts': parts,
}))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(eml)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "parsing {}: {}",
        eml.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An SMTP server that gives up in the middle of a message: it accepts
/// MAIL, RCPT and DATA (after STARTTLS with `tls = Some((cert, key))`),
/// reads `after` bytes of the message, answers `reply` (a whole line, CRLF
/// included) and then keeps reading until the client goes. Listens on
/// 192.0.2.1:`port` inside `ns`, prints `ready`, and at the end `read N`:
/// the message bytes it received in all.
pub fn early_reply_server(
    ns: &Netns,
    port: u16,
    tls: Option<(&str, &str)>,
    after: usize,
    reply: &str,
) -> Proc {
    let script = r#"
import socket, ssl, sys, time
host, port, after, reply = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cert = sys.argv[5:7]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(1)
print("ready", flush=True)
conn, _ = ls.accept()
pending = b""
def line():
    global pending
    while b"\r\n" not in pending:
        chunk = conn.recv(4096)
        if not chunk:
            sys.exit("closed before a command")
        pending += chunk
    l, pending = pending.split(b"\r\n", 1)
    return l
conn.sendall(b"220 mx\r\n")
line()
conn.sendall(b"250-mx\r\n250-STARTTLS\r\n250 SIZE 100000000\r\n" if cert else b"250-mx\r\n250 SIZE 100000000\r\n")
if cert:
    assert line() == b"STARTTLS"
    conn.sendall(b"220 go ahead\r\n")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    conn = ctx.wrap_socket(conn, server_side=True)
    line()
    conn.sendall(b"250 mx\r\n")
for _ in range(2):
    line()
    conn.sendall(b"250 ok\r\n")
assert line() == b"DATA"
conn.sendall(b"354 go\r\n")
got = len(pending)
while got < after:
    chunk = conn.recv(65536)
    if not chunk:
        break
    got += len(chunk)
conn.sendall(reply.encode("latin-1"))
conn.settimeout(30)
start = time.monotonic()
try:
    while time.monotonic() - start < 30:
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += len(chunk)
except (OSError, ssl.SSLError):
    pass
print(f"read {got}", flush=True)
"#;
    let mut cmd = ns.command(crate::python3());
    let port = port.to_string();
    let after = after.to_string();
    cmd.args(["-c", script, Netns::HOST_V4, &port, &after, reply])
        .env("PYTHONUNBUFFERED", "1");
    if let Some((cert, key)) = tls {
        cmd.args([cert, key]);
    }
    let p = ns.spawn(cmd);
    assert!(
        p.wait_for_stdout("ready", Duration::from_secs(20)),
        "early_reply_server: {}",
        p.dump()
    );
    p
}
