//! Mail: Minnow's SMTP client against a real SMTP server (the notes'
//! smtplib world, here aiosmtpd in the repository's peers/smtp_sink.py), with a CA
//! and certificates made by the test. Every stored message is parsed with
//! Python's email package and compared with what was sent.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use minnow_tests::mail::{early_reply_server, envelope, parse_eml, smtp_sink, stored};
use minnow_tests::{NETS, Netns, Proc, RunOutput, TempDir, minnow_bin, random_bytes, sha256_hex};

const T: Duration = Duration::from_secs(180);

/// A CA and two server certificates (for `smtp.test` and `other.test`).
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = TempDir::new("minnow-pki");
        let sh = format!(
            r#"set -e
cd {d}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Minnow Test CA" 2>/dev/null
for name in smtp.test other.test; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name" 2>/dev/null
  printf "subjectAltName=DNS:$name\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" > $name.ext
  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $name.pem -days 2 -extfile $name.ext 2>/dev/null
done"#,
            d = dir.path().display()
        );
        let status = Command::new("sh")
            .arg("-c")
            .arg(sh)
            .status()
            .expect("openssl");
        assert!(
            status.success(),
            "openssl could not make the test certificates"
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }
}

/// Runs `minnow mail ARGS` inside `ns`.
fn mail(ns: &Netns, args: &[&str]) -> RunOutput {
    ns.run(mail_command(ns, args), T)
}

/// Runs `minnow mail ARGS` inside `ns` with `input` on its stdin.
fn mail_with_stdin(ns: &Netns, args: &[&str], input: &[u8]) -> RunOutput {
    ns.run_with_stdin(mail_command(ns, args), input, T)
}

fn mail_command(ns: &Netns, args: &[&str]) -> Command {
    let mut cmd = ns.command(minnow_bin());
    cmd.arg("mail").args(args);
    cmd
}

/// Asserts that `minnow mail` exited with status `code` (1: failed, 69:
/// refused by the server), showing its stderr otherwise.
#[track_caller]
fn assert_exit(out: &RunOutput, code: i32) {
    assert_eq!(
        out.status.and_then(|s| s.code()),
        Some(code),
        "{}",
        out.stderr
    );
}

/// smtp_sink.py on 192.0.2.1:`port` with STARTTLS, presenting the
/// certificate `NAME.pem` (and `NAME.key`) of `pki`, plus `extra` options.
fn tls_sink(ns: &Netns, pki: &Pki, port: u16, maildir: &Path, name: &str, extra: &[&str]) -> Proc {
    let (cert, key) = (
        pki.path(&format!("{name}.pem")),
        pki.path(&format!("{name}.key")),
    );
    let mut args = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    args.extend_from_slice(extra);
    smtp_sink(ns, port, maildir, &args)
}

const BASE: [&str; 6] = [
    "--server",
    "192.0.2.1:2525",
    "--from",
    "Minnow <minnow@test>",
    "--to",
    "you@test",
];

#[test]
fn plain_text_html_and_alternative() {
    let ns = Netns::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let _sink = smtp_sink(&ns, 2525, &maildir, &[]);
    let text = work.join("body.txt");
    std::fs::write(&text, "Hello from Minnow.\nSecond line.\n").unwrap();
    let html = work.join("body.html");
    // The notes' HTML example.
    std::fs::write(
        &html,
        "<b>This is HTML message.</b>\n<h1>This is headline.</h1>\n",
    )
    .unwrap();
    let t = text.to_str().unwrap();
    let h = html.to_str().unwrap();
    for (i, extra) in [
        vec!["--text", t],
        vec!["--html", h],
        vec!["--text", t, "--html", h],
    ]
    .into_iter()
    .enumerate()
    {
        let mut args = BASE.to_vec();
        args.extend(["--subject", "Test mail"]);
        args.extend(extra.iter());
        mail(&ns, &args).assert_success("minnow mail");
        let emls = stored(&maildir);
        assert_eq!(emls.len(), i + 1);
        let m = parse_eml(&emls[i]);
        assert_eq!(m["subject"], "Test mail");
        assert_eq!(m["from"], "Minnow <minnow@test>");
        assert_eq!(m["to"], "you@test");
        assert_eq!(m["mime_version"], "1.0");
        assert!(m["message_id"].as_str().unwrap().starts_with('<'));
        assert_eq!(m["defects"].as_array().unwrap().len(), 0, "{m}");
        let parts = m["parts"].as_array().unwrap();
        match i {
            0 => {
                assert_eq!(m["type"], "text/plain");
                assert_eq!(parts[0]["text"], "Hello from Minnow.\nSecond line.\n");
            }
            1 => {
                assert_eq!(m["type"], "text/html");
                assert!(
                    parts[0]["text"]
                        .as_str()
                        .unwrap()
                        .contains("<h1>This is headline.</h1>")
                );
            }
            _ => {
                assert_eq!(m["type"], "multipart/alternative");
                assert_eq!(parts[0]["type"], "text/plain");
                assert_eq!(parts[1]["type"], "text/html");
            }
        }
        let env = envelope(&emls[i]);
        assert_eq!(env["mail_from"], "minnow@test");
        assert_eq!(env["rcpt_tos"], serde_json::json!(["you@test"]));
    }
}

#[test]
fn three_attachments_including_twenty_mebibytes() {
    let ns = Netns::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let _sink = smtp_sink(&ns, 2525, &maildir, &[]);
    let files = [
        ("small.txt", random_bytes(0, 1)),
        ("report 報告.pdf", random_bytes(12345, 2)),
        ("big.bin", random_bytes(20 << 20, 3)),
    ];
    let mut args: Vec<String> = BASE.iter().map(|s| s.to_string()).collect();
    args.extend(["--subject".into(), "attachments".into(), "--text".into()]);
    let body = work.join("b.txt");
    std::fs::write(&body, "see attached\n").unwrap();
    args.push(body.to_str().unwrap().into());
    for (name, data) in &files {
        let p = work.join(name);
        std::fs::write(&p, data).unwrap();
        args.extend(["--attach".into(), p.to_str().unwrap().into()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    mail(&ns, &refs).assert_success("three attachments");
    let m = parse_eml(&stored(&maildir)[0]);
    assert_eq!(m["type"], "multipart/mixed");
    let parts = m["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 4, "{m}");
    assert_eq!(parts[0]["text"], "see attached\n");
    for (part, (name, data)) in parts[1..].iter().zip(&files) {
        assert_eq!(part["filename"], *name);
        assert_eq!(part["sha256"], sha256_hex(data), "{name}");
    }
}

#[test]
fn chinese_subject_and_body_and_lines_starting_with_dots() {
    let ns = Netns::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let _sink = smtp_sink(&ns, 2525, &maildir, &[]);
    let body = "這是一封測試郵件。\n.leading dot\n..two dots\n.\nend\n";
    let text = work.join("zh.txt");
    std::fs::write(&text, body).unwrap();
    let mut args = BASE.to_vec();
    args.extend([
        "--subject",
        "測試郵件",
        "--text",
        text.to_str().unwrap(),
        "--cc",
        "網友 <cc@test>",
    ]);
    mail(&ns, &args).assert_success("chinese mail");
    let m = parse_eml(&stored(&maildir)[0]);
    assert_eq!(m["subject"], "測試郵件");
    assert_eq!(m["cc"], "網友 <cc@test>");
    assert_eq!(m["parts"][0]["text"], body);
    let env = envelope(&stored(&maildir)[0]);
    assert_eq!(env["rcpt_tos"], serde_json::json!(["you@test", "cc@test"]));
}

/// `minnow mail` with STARTTLS to smtp.test on port 2587 as alice, the text on stdin.
fn tls_args<'a>(password_file: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![
        "--server",
        "192.0.2.1:2587",
        "--starttls",
        "--tls-name",
        "smtp.test",
        "--ca",
        ca,
        "--user",
        "alice",
        "--password-file",
        password_file,
        "--from",
        "alice@test",
        "--to",
        "bob@test",
        "--subject",
        "secure",
        "--text",
        "-",
    ]
}

#[test]
fn starttls_with_auth_plain_and_login_and_a_wrong_password() {
    let ns = Netns::new();
    let pki = Pki::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let ca = pki.path("ca.pem");
    let _sink = tls_sink(
        &ns,
        &pki,
        2587,
        &maildir,
        "smtp.test",
        &["--auth", "alice:s3cret", "--require-tls"],
    );
    let good = work.join("good");
    std::fs::write(&good, "s3cret\n").unwrap();
    let bad = work.join("bad");
    std::fs::write(&bad, "wrong\n").unwrap();
    let g = good.to_str().unwrap();
    // PLAIN (preferred when offered), then LOGIN when asked for; on
    // Minnow's stack and over the OS's sockets.
    let runs = NETS
        .iter()
        .flat_map(|net| [(None, *net), (Some("login"), *net)]);
    for (i, (mech, net)) in runs.enumerate() {
        let mut args = tls_args(g, &ca);
        if let Some(m) = mech {
            args.extend(["--auth-mechanism", m]);
        }
        args.extend(["--net", net]);
        mail_with_stdin(&ns, &args, b"over TLS\n")
            .assert_success(&format!("STARTTLS + AUTH --net {net}"));
        let eml = &stored(&maildir)[i];
        let env = envelope(eml);
        assert_eq!(env["tls"], true, "{net}");
        assert_eq!(env["auth"], "alice", "{net}");
        assert_eq!(parse_eml(eml)["parts"][0]["text"], "over TLS\n", "{net}");
    }
    for net in NETS {
        let mut args = tls_args(bad.to_str().unwrap(), &ca);
        args.extend(["--net", net]);
        let out = mail_with_stdin(&ns, &args, b"x\n");
        assert_exit(&out, 69);
        assert!(
            out.stderr.contains("AUTH") && out.stderr.contains("535"),
            "{net}: {}",
            out.stderr
        );
    }
    assert_eq!(stored(&maildir).len(), 4);
}

#[test]
fn a_certificate_for_the_wrong_name_is_refused_before_auth() {
    let ns = Netns::new();
    let pki = Pki::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let ca = pki.path("ca.pem");
    let sink = tls_sink(
        &ns,
        &pki,
        2587,
        &maildir,
        "other.test",
        &["--auth", "alice:s3cret"],
    );
    let pw = work.join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let out = mail_with_stdin(&ns, &tls_args(pw.to_str().unwrap(), &ca), b"x\n");
    assert_exit(&out, 1);
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);
    assert!(stored(&maildir).is_empty());
    assert!(!sink.stderr().contains("AUTH"), "{}", sink.stderr());
}

#[test]
fn a_server_that_requires_tls_and_credentials_without_tls() {
    let ns = Netns::new();
    let pki = Pki::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let _sink = tls_sink(&ns, &pki, 2525, &maildir, "smtp.test", &["--require-tls"]);
    let mut args = BASE.to_vec();
    args.extend(["--subject", "no tls", "--text", "/dev/null"]);
    let out = mail(&ns, &args);
    assert_exit(&out, 69);
    assert!(
        out.stderr.contains("MAIL FROM") && out.stderr.contains("530"),
        "{}",
        out.stderr
    );
    // Credentials are never sent in the clear unless allowed.
    let pw = work.join("pw");
    std::fs::write(&pw, "x\n").unwrap();
    args.extend(["--user", "alice", "--password-file", pw.to_str().unwrap()]);
    let out = mail(&ns, &args);
    assert_exit(&out, 1);
    assert!(out.stderr.contains("without TLS"), "{}", out.stderr);
    assert!(stored(&maildir).is_empty());
}

#[test]
fn one_refused_recipient_among_three() {
    let ns = Netns::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let _sink = smtp_sink(&ns, 2525, &maildir, &["--reject-rcpt", "nobody@test"]);
    let mut args = BASE.to_vec();
    args.extend([
        "--to",
        "nobody@test",
        "--cc",
        "third@test",
        "--subject",
        "three",
        "--text",
        "/dev/null",
    ]);
    let out = mail(&ns, &args);
    out.assert_success("partial delivery");
    assert!(
        out.stderr.contains("nobody@test") && out.stderr.contains("550"),
        "{}",
        out.stderr
    );
    let env = envelope(&stored(&maildir)[0]);
    assert_eq!(
        env["rcpt_tos"],
        serde_json::json!(["you@test", "third@test"])
    );
}

#[test]
fn header_injection_is_refused_before_anything_is_sent() {
    let ns = Netns::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    let sink = smtp_sink(&ns, 2525, &maildir, &[]);
    let mut args = BASE.to_vec();
    args.extend(["--subject", "hi\r\nBcc: victim@test", "--text", "/dev/null"]);
    let out = mail(&ns, &args);
    assert_exit(&out, 1);
    assert!(stored(&maildir).is_empty());
    assert!(
        !sink.stderr().contains("EHLO"),
        "nothing may reach the server: {}",
        sink.stderr()
    );
}

#[test]
fn implicit_tls_on_its_own_port() {
    let ns = Netns::new();
    let pki = Pki::new();
    let work = TempDir::new("minnow-mail");
    let maildir = work.join("maildir");
    std::fs::create_dir_all(&maildir).unwrap();
    // aiosmtpd with TLS from the first byte (smtp_sink.py only does STARTTLS).
    let script = r#"
import asyncio, os, ssl, sys
from aiosmtpd.controller import Controller
cert, key, maildir = sys.argv[1:4]
class Store:
    async def handle_DATA(self, server, session, envelope):
        with open(os.path.join(maildir, '0001.eml'), 'wb') as f:
            f.write(envelope.original_content or envelope.content)
        return '250 stored'
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Store(), hostname='192.0.2.1', port=2465, ssl_context=ctx)
c.start()
print('ready', flush=True)
asyncio.new_event_loop().run_forever()
"#;
    let mut cmd = ns.command("python3");
    cmd.args([
        "-c",
        script,
        &pki.path("smtp.test.pem"),
        &pki.path("smtp.test.key"),
        maildir.to_str().unwrap(),
    ]);
    let server = ns.spawn(cmd);
    assert!(
        server.wait_for_stdout("ready", Duration::from_secs(20)),
        "{}",
        server.dump()
    );
    let ca = pki.path("ca.pem");
    let args = [
        "--server",
        "192.0.2.1:2465",
        "--tls",
        "--tls-name",
        "smtp.test",
        "--ca",
        &ca,
        "--from",
        "a@test",
        "--to",
        "b@test",
        "--subject",
        "implicit",
        "--text",
        "/dev/null",
    ];
    let out = mail(&ns, &args);
    out.assert_success("implicit TLS");
    assert!(out.stdout.contains("250 stored"), "{}", out.stdout);
    assert_eq!(parse_eml(&stored(&maildir)[0])["subject"], "implicit");
    // `--tls` is the old name, kept with a warning (swaks's --tls is STARTTLS).
    assert!(
        out.stderr.contains("old name of --implicit-tls"),
        "{}",
        out.stderr
    );
    let mut renamed = args.to_vec();
    renamed[2] = "--implicit-tls";
    for net in NETS {
        let mut args = renamed.clone();
        args.extend(["--net", net]);
        let out = mail(&ns, &args);
        out.assert_success(&format!("--implicit-tls --net {net}"));
        assert!(!out.stderr.contains("old name"), "{}", out.stderr);
        assert!(out.stdout.contains("250 stored"), "{net}: {}", out.stdout);
    }
}

#[test]
fn a_ca_certificate_as_the_servers_own_is_explained_or_pinned_and_the_password_comes_from_stdin_or_env()
 {
    let ns = Netns::new();
    let pki = Pki::new();
    let maildir = TempDir::new("maildir");
    // The server presents the CA's own certificate (what `openssl req -x509` makes).
    let sink = tls_sink(
        &ns,
        &pki,
        2587,
        maildir.path(),
        "ca",
        &["--require-tls", "--auth", "alice:s3cret"],
    );
    let (ca, other) = (pki.path("ca.pem"), pki.path("other.test.pem"));
    let base = [
        "--server",
        "192.0.2.1:2587",
        "--starttls",
        "--tls-name",
        "smtp.test",
        "--user",
        "alice",
        "--from",
        "alice@test",
        "--to",
        "bob@test",
        "--text",
        "/dev/null",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>, stdin: &[u8], env: Option<&str>| {
        let mut cmd = ns.command(minnow_bin());
        cmd.arg("mail").args(&args);
        if let Some(p) = env {
            cmd.env("MINNOW_SMTP_PASSWORD", p);
        }
        ns.run_with_stdin(cmd, stdin, T)
    };
    // Trusting it as a CA: refused, with what to do.
    let out = run(
        with(&["--ca", &ca, "--password-file", "-"]),
        b"s3cret\n",
        None,
    );
    assert_exit(&out, 1);
    assert!(
        out.stderr.contains("itself a CA certificate"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--pin-cert"), "{}", out.stderr);
    // Pinned, the password on standard input.
    let out = run(
        with(&["--pin-cert", &ca, "--password-file", "-"]),
        b"s3cret\n",
        None,
    );
    out.assert_success("--pin-cert with the password on stdin");
    // Pinned, the password from the environment.
    let out = run(with(&["--pin-cert", &ca]), b"", Some("s3cret"));
    out.assert_success("--pin-cert with MINNOW_SMTP_PASSWORD");
    // Another certificate pinned: refused before AUTH.
    let out = run(with(&["--pin-cert", &other]), b"", Some("s3cret"));
    assert_exit(&out, 1);
    assert!(out.stderr.contains("certificate"), "{}", out.stderr);
    // No password anywhere and no terminal: a usage error, nothing sent.
    let out = run(with(&["--pin-cert", &ca]), b"", None);
    assert_exit(&out, 2);
    assert!(
        out.stderr.contains("MINNOW_SMTP_PASSWORD"),
        "{}",
        out.stderr
    );
    // Never from an argument.
    let out = run(
        with(&["--pin-cert", &ca, "--password", "s3cret"]),
        b"",
        None,
    );
    assert_exit(&out, 2);
    assert_eq!(stored(maildir.path()).len(), 2, "{}", sink.stderr());
}

/// A server that answers 554 (with an ESC sequence in its text) after 1 MiB
/// of a message with a 20 MiB attachment: `minnow mail` stops sending at
/// once, exits 69 and prints the reply with the ESC escaped; over plain TCP
/// and over STARTTLS.
#[test]
fn an_early_554_in_the_middle_of_a_large_message_stops_it() {
    let ns = Netns::new();
    let pki = Pki::new();
    let work = TempDir::new("minnow-mail");
    let big = work.join("big.bin");
    std::fs::write(&big, random_bytes(20 << 20, 9)).unwrap();
    let (cert, key, ca) = (
        pki.path("smtp.test.pem"),
        pki.path("smtp.test.key"),
        pki.path("ca.pem"),
    );
    let reply = "554 5.3.4 \x1b[2Jtoo much\r\n";
    for (port, tls) in [(2525u16, false), (2587, true)] {
        let mut server = early_reply_server(
            &ns,
            port,
            tls.then_some((cert.as_str(), key.as_str())),
            1 << 20,
            reply,
        );
        let server_arg = format!("192.0.2.1:{port}");
        let mut args = vec![
            "--server",
            &server_arg,
            "--from",
            "me@test",
            "--to",
            "you@test",
            "--attach",
            big.to_str().unwrap(),
        ];
        if tls {
            args.extend(["--starttls", "--tls-name", "smtp.test", "--ca", &ca]);
        }
        let out = mail(&ns, &args);
        let what = if tls { "STARTTLS" } else { "plain" };
        assert_exit(&out, 69);
        assert!(
            out.stderr.contains("554 5.3.4 \\x1b[2Jtoo much"),
            "{what}: {}",
            out.stderr
        );
        assert!(
            !out.stderr_bytes.contains(&0x1b) && !out.stdout_bytes.contains(&0x1b),
            "{what}: an ESC reached the terminal"
        );
        assert!(
            out.elapsed < Duration::from_secs(10),
            "{what}: took {:?}",
            out.elapsed
        );
        server.wait(Duration::from_secs(40));
        let read: usize = server
            .stdout()
            .lines()
            .find_map(|l| l.strip_prefix("read ")?.parse().ok())
            .unwrap_or_else(|| panic!("{what}: {}", server.dump()));
        // The message is 27 MiB in base64; what came after the reply is
        // what was in flight (socket buffers and windows), not the rest.
        assert!(
            (1 << 20..6 << 20).contains(&read),
            "{what}: the server read {read} bytes"
        );
    }
}
