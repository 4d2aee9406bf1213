//! The board: Minnow's firmware image (`firmware-sim/mps2`) booted in QEMU's
//! `mps2-an386` (Cortex-M4F + LAN9118) on a TAP device inside a namespace,
//! with the notes' peers against it: time (clock set by SNTP), echo over TCP
//! and UDP, file transfer with a hash check, a three-client chat, and the
//! mail the board sends at boot (to aiosmtpd in the repository's peers/smtp_sink.py,
//! the stored message parsed with Python's email package).
//!
//! The image is built once per test process by `minnow_tests::board`
//! (`cargo build --release` in `firmware-sim/mps2`, as 192.0.2.2/24 and
//! 2001:db8::2/64 with SNTP from 192.0.2.1 and mail to 192.0.2.1:2525; env
//! `MINNOW_BOARD_ELF` names a prebuilt image instead). Every test's board
//! mails at boot; where no SMTP server listens it logs the refusal and
//! serves on. A missing `qemu-system-arm` fails these tests: it is never a
//! skip.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minnow_tests::board::{BOOT, MAIL_FROM, MAIL_TO, SMTP_PORT, boot, boot_elf, build_variant};
use minnow_tests::mail::{envelope, parse_eml, smtp_sink, stored};
use minnow_tests::{Netns, Proc, TempDir, random_bytes, sha256_file, sha256_hex};

const T: Duration = Duration::from_secs(60);
/// `random-1m.bin` in the image's file table (see firmware-sim/mps2/build.rs).
const RANDOM_FILE: &str = "random-1m.bin";
const RANDOM_LEN: usize = 1 << 20;
const RANDOM_SEED: u64 = 0x6d6e77;
/// The subject the image writes (firmware-sim/mps2/src/mail.rs).
const MAIL_SUBJECT: &str = "Hello from the Minnow board";

/// An SNTP server on 192.0.2.1:123 that says it is Tue Apr 4 14:07:31 2017.
const SNTP_SERVER: &str = r#"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.1', 123))
OFF = 2208988800
fake = 1491314851.0
def ts(t):
    return struct.pack('!II', int(t) + OFF, int((t % 1) * 2**32))
while True:
    req, addr = s.recvfrom(100)
    hdr = struct.pack('!BBbb', (4 << 3) | 4, 1, 4, -20) + b'\0' * 8 + b'GPS\0'
    s.sendto(hdr + ts(fake) + req[40:48] + ts(fake) + ts(fake), addr)
"#;

fn run_peer(ns: &Netns, script: &str, args: &[&str]) -> minnow_tests::RunOutput {
    ns.run(ns.peer_command(script, args), T)
}

#[test]
fn board_sets_its_clock_by_sntp_and_serves_time_and_echo() {
    let ns = Netns::new();
    let mut sntp = ns.command("python3");
    sntp.args(["-c", SNTP_SERVER]);
    let _sntp = ns.spawn(sntp);
    std::thread::sleep(Duration::from_millis(300));
    let board = boot(&ns);
    assert!(
        board.wait_for_stdout("sntp: clock set to 1491314851", T),
        "{}",
        board.dump()
    );
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let out = run_peer(&ns, "time_client.py", &[host, "9999"]);
        out.assert_success("time_client.py against the board");
        assert!(
            out.stdout
                .starts_with("The time got from the server is Tue Apr  4 14:07:3"),
            "{}",
            out.stdout
        );
    }
    let out = run_peer(
        &ns,
        "echo_client.py",
        &[Netns::MINNOW_V4, "12345", "1000000"],
    );
    out.assert_success("echo_client.py 1 MB over IPv4");
    assert!(
        out.stdout.contains("echoed 1000000 bytes intact"),
        "{}",
        out.stdout
    );
    let out = run_peer(
        &ns,
        "echo_client.py",
        &[Netns::MINNOW_V6, "12345", "300000"],
    );
    out.assert_success("echo_client.py over IPv6");
    assert!(
        out.stdout.contains("echoed 300000 bytes intact"),
        "{}",
        out.stdout
    );
    // Both echo sockets at once.
    let pair: Vec<Proc> = [Netns::MINNOW_V4, Netns::MINNOW_V6]
        .iter()
        .map(|h| ns.spawn(ns.peer_command("echo_client.py", &[h, "12345", "200000"])))
        .collect();
    for mut p in pair {
        let status = p.wait(T).expect("echo client still running");
        assert!(status.success(), "{}", p.dump());
        assert!(
            p.stdout().contains("echoed 200000 bytes intact"),
            "{}",
            p.dump()
        );
    }
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let out = run_peer(&ns, "udp_echo_client.py", &[host, "12345", "50"]);
        out.assert_success("udp_echo_client.py against the board");
        assert!(
            out.stdout.contains("50/50 datagrams echoed"),
            "{}",
            out.stdout
        );
    }
    assert!(
        board.wait_for_stdout("closed 192.0.2.1:", T) && board.stdout().contains("sent time"),
        "{}",
        board.dump()
    );
}

#[test]
fn board_time_server_closes_without_a_time_until_the_clock_is_set() {
    let ns = Netns::new();
    let board = boot(&ns);
    let out = run_peer(&ns, "time_client.py", &[Netns::MINNOW_V4, "9999"]);
    assert!(
        !out.success(),
        "got a time from an unset clock: {}",
        out.stdout
    );
    assert!(
        out.stdout.trim_end() == "The time got from the server is",
        "{}",
        out.stdout
    );
    assert!(
        board.wait_for_stdout("clock not set", T),
        "{}",
        board.dump()
    );
    // Without SNTP's answer the mail goes out undated after a short wait,
    // and with no SMTP server listening the refusal is logged.
    assert!(
        board.wait_for_stdout("mail: failed: greeting: the connection was lost\n", T),
        "{}",
        board.dump()
    );
    assert!(
        board
            .stdout()
            .contains("mail: clock unset: the message is dated 1970"),
        "{}",
        board.dump()
    );
}

#[test]
fn board_sends_files_byte_for_byte() {
    let ns = Netns::new();
    let board = boot(&ns);
    let dir = TempDir::new("board-files");
    let want = sha256_hex(&random_bytes(RANDOM_LEN, RANDOM_SEED));
    let get = format!("GET {RANDOM_FILE}");
    for (i, host) in [Netns::MINNOW_V4, Netns::MINNOW_V6].iter().enumerate() {
        let path = dir.join(format!("random-{i}.bin"));
        let file = path.to_str().unwrap();
        let out = run_peer(&ns, "file_client.py", &[host, "60000", file, &get]);
        out.assert_success("file_client.py GET random-1m.bin");
        assert!(
            out.stdout.contains(&format!("({RANDOM_LEN} bytes)")),
            "{}",
            out.stdout
        );
        assert_eq!(sha256_file(&path), want, "{host}: downloaded file differs");
    }
    // Two downloads at once (the image has two file sockets).
    let paths: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("both-{i}.bin"))).collect();
    let both: Vec<Proc> = paths
        .iter()
        .map(|p| {
            let args = [Netns::MINNOW_V4, "60000", p.to_str().unwrap(), get.as_str()];
            ns.spawn(ns.peer_command("file_client.py", &args))
        })
        .collect();
    for (mut p, path) in both.into_iter().zip(&paths) {
        let status = p.wait(T).expect("file client still running");
        assert!(status.success(), "{}", p.dump());
        assert_eq!(sha256_file(path), want, "concurrent download differs");
    }
    // The notes' request gets the default file.
    let hello = dir.join("hello.txt");
    let out = run_peer(
        &ns,
        "file_client.py",
        &[Netns::MINNOW_V4, "60000", hello.to_str().unwrap()],
    );
    out.assert_success("file_client.py with the notes' request");
    let text = std::fs::read_to_string(&hello).unwrap();
    assert!(text.starts_with("Hello from Minnow"), "{text:?}");
    // An unknown name gets the ERR line.
    let nope = dir.join("nope");
    let out = run_peer(
        &ns,
        "file_client.py",
        &[
            Netns::MINNOW_V4,
            "60000",
            nope.to_str().unwrap(),
            "GET nope",
        ],
    );
    out.assert_success("file_client.py GET nope");
    assert_eq!(std::fs::read(&nope).unwrap(), b"ERR not found\n");
    assert!(
        board.wait_for_stdout(&format!("sent {RANDOM_LEN} bytes to"), T),
        "{}",
        board.dump()
    );
}

#[test]
fn board_chat_room_with_three_notes_clients() {
    let ns = Netns::new();
    let board = boot(&ns);
    let mut clients: Vec<Proc> = Vec::new();
    for i in 0..3 {
        let p = ns.spawn(ns.peer_command("chat_client.py", &[Netns::MINNOW_V4, "9009"]));
        assert!(
            p.wait_for_stdout("You can start sending messages", T),
            "{}",
            p.dump()
        );
        // Joins in order: wait until the board saw this one.
        let end = std::time::Instant::now() + T;
        while board.stdout().matches(" joined").count() < i + 1 {
            assert!(std::time::Instant::now() < end, "{}", board.dump());
            std::thread::sleep(Duration::from_millis(20));
        }
        clients.push(p);
    }
    let ports: Vec<u16> = board
        .stdout()
        .lines()
        .filter_map(|l| l.strip_suffix(" joined")?.rsplit(':').next()?.parse().ok())
        .collect();
    assert_eq!(ports.len(), 3, "{}", board.dump());
    // The first member heard of the other two, in the notes' words.
    for port in &ports[1..] {
        let line = format!("[192.0.2.1:{port}] entered our chatting room\n");
        assert!(
            clients[0].wait_for_stdout(&line, T),
            "{}",
            clients[0].dump()
        );
    }
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_stdin(format!("hello from client {}\n", i + 1).as_bytes());
        std::thread::sleep(Duration::from_millis(200));
    }
    for (i, c) in clients.iter().enumerate() {
        for (j, port) in ports.iter().enumerate() {
            let line = format!("\r[('192.0.2.1', {port})] hello from client {}\n", j + 1);
            if i == j {
                assert!(
                    !c.stdout().contains(&line),
                    "echoed to its sender: {}",
                    c.dump()
                );
            } else {
                assert!(
                    c.wait_for_stdout(&line, T),
                    "client {}: {}",
                    i + 1,
                    c.dump()
                );
            }
        }
    }
    // The third member leaves; the others are told.
    clients[2].close_stdin();
    assert!(
        clients[2].wait(T).is_some_and(|s| s.success()),
        "{}",
        clients[2].dump()
    );
    let offline = format!("Client (192.0.2.1, {}) is offline\n", ports[2]);
    for c in &clients[..2] {
        assert!(c.wait_for_stdout(&offline, T), "{}", c.dump());
    }
    assert!(board.wait_for_stdout(" left", T), "{}", board.dump());
}

/// The SNTP server above, started and given a moment to bind.
fn sntp_server(ns: &Netns) -> Proc {
    let mut sntp = ns.command("python3");
    sntp.args(["-c", SNTP_SERVER]);
    let p = ns.spawn(sntp);
    std::thread::sleep(Duration::from_millis(300));
    p
}

#[test]
fn board_mails_a_message_with_an_attachment_at_boot() {
    let ns = Netns::new();
    let dir = TempDir::new("board-mail");
    let maildir = dir.join("maildir");
    let _sink = smtp_sink(&ns, SMTP_PORT, &maildir, &[]);
    let _sntp = sntp_server(&ns);
    let board = boot(&ns);
    assert!(
        board.wait_for_stdout(
            "mail: accepted for 1 recipient(s): 250 2.0.0 Message accepted for delivery\n",
            T
        ),
        "{}",
        board.dump()
    );
    let log = board.stdout();
    // The mail waited for the clock.
    let synced = log.find("sntp: clock set to 1491314851").expect(&log);
    let sending = log.find("mail: sending").expect(&log);
    assert!(synced < sending, "{log}");
    assert!(
        log.contains(&format!(
            "mail: sending \"{MAIL_SUBJECT}\" from board@minnow.test to tester@minnow.test via 192.0.2.1:{SMTP_PORT}"
        )),
        "{log}"
    );

    // aiosmtpd wrote the message before it answered 250.
    let emls = stored(&maildir);
    assert_eq!(emls.len(), 1, "{emls:?}");
    let m = parse_eml(&emls[0]);
    assert_eq!(m["subject"], MAIL_SUBJECT, "{m}");
    assert_eq!(m["from"], MAIL_FROM, "{m}");
    assert_eq!(m["to"], MAIL_TO, "{m}");
    assert_eq!(m["mime_version"], "1.0", "{m}");
    assert_eq!(m["type"], "multipart/mixed", "{m}");
    assert!(
        m["date"]
            .as_str()
            .unwrap()
            .starts_with("Tue, 04 Apr 2017 14:07:"),
        "dated by the SNTP clock: {m}"
    );
    let mid = m["message_id"].as_str().unwrap();
    assert!(
        mid.starts_with('<') && mid.ends_with("@minnow.test>"),
        "{m}"
    );
    assert_eq!(m["defects"].as_array().unwrap().len(), 0, "{m}");
    let parts = m["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{m}");
    assert_eq!(parts[0]["type"], "text/plain", "{m}");
    let text = parts[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Hello from Minnow, running as firmware on an Arm Cortex-M4 (QEMU mps2-an386).\n\n"
        ) && text.contains("the attachment is hello.txt from the board's file table.\n"),
        "{text:?}"
    );

    // The attachment is the file table's hello.txt, byte for byte: the same
    // file the board's file server sends.
    let att = &parts[1];
    assert_eq!(att["filename"], "hello.txt", "{m}");
    assert_eq!(att["disposition"], "attachment", "{m}");
    assert_eq!(att["type"], "text/plain", "{m}");
    let hello = dir.join("hello.txt");
    let out = run_peer(
        &ns,
        "file_client.py",
        &[
            Netns::MINNOW_V4,
            "60000",
            hello.to_str().unwrap(),
            "GET hello.txt",
        ],
    );
    out.assert_success("file_client.py GET hello.txt");
    let bytes = std::fs::read(&hello).unwrap();
    assert!(bytes.starts_with(b"Hello from Minnow"), "{bytes:?}");
    assert_eq!(att["len"], bytes.len(), "{m}");
    assert_eq!(att["sha256"], sha256_hex(&bytes), "{m}");

    let env = envelope(&emls[0]);
    assert_eq!(env["mail_from"], "board@minnow.test", "{env}");
    assert_eq!(
        env["rcpt_tos"],
        serde_json::json!(["tester@minnow.test"]),
        "{env}"
    );
    assert_eq!(env["tls"], false, "{env}");
}

#[test]
fn board_logs_a_refused_recipient_with_the_servers_reply() {
    let ns = Netns::new();
    let dir = TempDir::new("board-mail");
    let maildir = dir.join("maildir");
    let _sink = smtp_sink(
        &ns,
        SMTP_PORT,
        &maildir,
        &["--reject-rcpt", "tester@minnow.test"],
    );
    let _sntp = sntp_server(&ns);
    let board = boot(&ns);
    assert!(
        board.wait_for_stdout("mail: failed: RCPT TO: every recipient was refused\n", T),
        "{}",
        board.dump()
    );
    assert!(
        board.stdout().contains(
            "mail: recipient tester@minnow.test refused: 550 5.1.1 mailbox unavailable\n"
        ),
        "{}",
        board.dump()
    );
    assert!(stored(&maildir).is_empty(), "a message was stored");
    // The board serves on.
    let out = run_peer(&ns, "time_client.py", &[Netns::MINNOW_V4, "9999"]);
    out.assert_success("time_client.py after the refused mail");
}

/// Sends 100,000 bytes to discard over TCP and datagrams over UDP; nothing
/// may come back.
const DISCARD_CLIENT: &str = r#"
import socket, sys
host = sys.argv[1]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.create_connection((host, 9), timeout=30)
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""
u = socket.socket(fam, socket.SOCK_DGRAM)
u.settimeout(0.5)
for i in range(20):
    u.sendto(b"d" * 100, (host, 9))
try:
    print("answered", u.recv(100)); sys.exit(1)
except socket.timeout:
    print("discarded quietly")
"#;

#[test]
fn board_built_with_discard_and_log_takes_streams_and_logs_through_the_facade() {
    let elf = build_variant(&["discard", "log"], Some("echo,discard"))
        .unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let board = boot_elf(&ns, &elf);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let mut cmd = ns.command("python3");
        cmd.args(["-c", DISCARD_CLIENT, host]);
        let out = ns.run(cmd, T);
        out.assert_success("discard client against the board");
        assert!(out.stdout.contains("discarded quietly"), "{}", out.dump());
    }
    assert!(
        board.wait_for_stdout("after 100000 bytes\n", T),
        "{}",
        board.dump()
    );
    let log = board.stdout();
    assert_eq!(
        log.matches("minnow: discard tcp/9: closed ").count(),
        2,
        "{log}"
    );
    // Core's own record through the log facade, on the same UART.
    assert!(
        log.contains("minnow: minnow::net::tcp_pool: tcp/9: 192.0.2.1:"),
        "{log}"
    );
    // The services it was not built with are not there.
    assert!(log.contains("no time tcp/9999"), "{log}");
}

#[test]
fn board_built_with_defmt_logs_core_records_over_semihosting() {
    let elf =
        build_variant(&["defmt"], Some("echo")).unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let dir = TempDir::new("defmt");
    let uart = dir.path().join("uart.log");
    // The UART to a file; QEMU's stdout carries the semihosting output: the
    // defmt frames.
    let mut cmd = ns.command("qemu-system-arm");
    cmd.args(["-M", "mps2-an386", "-display", "none", "-monitor", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-serial")
        .arg(format!("file:{}", uart.display()))
        .arg("-kernel")
        .arg(&elf)
        .args([
            "-nic",
            "tap,ifname=tap0,script=no,downscript=no,model=lan9118",
        ]);
    let mut board = ns.spawn(cmd);
    let read = || std::fs::read_to_string(&uart).unwrap_or_default();
    let until = std::time::Instant::now() + BOOT;
    while !read().contains("minnow: ready") && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(read().contains("minnow: ready"), "{}", read());
    let out = run_peer(&ns, "echo_client.py", &[Netns::MINNOW_V4, "12345", "10000"]);
    assert!(out.success(), "{}\nboard: {}", out.dump(), read());
    let until = std::time::Instant::now() + T;
    while !read().contains("after 10000 bytes") && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    board.kill();
    let frames = dir.path().join("defmt.bin");
    std::fs::write(&frames, board.stdout_bytes()).expect("write the defmt frames");
    let decoded = Command::new("defmt-print")
        .arg("-e")
        .arg(&elf)
        .stdin(std::fs::File::open(&frames).expect("open the frames"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "minnow-tests: defmt-print is needed to decode the board's defmt frames and could \
                 not be run ({e}); install it (cargo install defmt-print; scripts/test.sh does). \
                 Failing rather than skipping."
            )
        });
    let text = String::from_utf8_lossy(&decoded.stdout);
    // Core's own record, through defmt.
    assert!(
        text.contains("tcp/12345: 192.0.2.1:") && text.contains(" connected"),
        "decoded: {text}\nstderr: {}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    assert!(text.contains("after 10000 bytes in, 10000 out"), "{text}");
}
