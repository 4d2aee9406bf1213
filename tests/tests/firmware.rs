//! The boards: Minnow's firmware images booted in QEMU on a TAP device
//! inside a namespace, with the notes' peers against them: time (clock set
//! by SNTP), echo over TCP and UDP, file transfer with a hash check, a
//! three-client chat, DHCP from dnsmasq, and on the board that mails at
//! boot, the message (to aiosmtpd in the repository's peers/smtp_sink.py,
//! the stored message parsed with Python's email package).
//!
//! Every test body takes a [`Board`] and runs on each board it applies to:
//! the lists at the end make `mps2::NAME` (QEMU `mps2-an386`, Cortex-M4F +
//! LAN9118, `firmware-sim/mps2`) and `lm3s6965::NAME` (QEMU
//! `lm3s6965evb`, Cortex-M3 + the Stellaris Ethernet MAC,
//! `firmware-sim/lm3s6965`). The mail, feature-variant and defmt tests run
//! on the mps2 image only (the LM3S6965's image has no mail: it does not
//! fit its code budget; the variants test the shared firmware crate, once),
//! the bad-frame and link tests on the LM3S6965's (its driver's).
//!
//! Each image is built once per test process by `minnow_tests::board`
//! (`cargo build --release` in its folder, as 192.0.2.2/24 and
//! 2001:db8::2/64 with SNTP from 192.0.2.1 and (mps2) mail to
//! 192.0.2.1:2525; env `MINNOW_BOARD_ELF`, `MINNOW_LM3S6965_ELF` name
//! prebuilt images instead). The mps2 board mails at boot in every test;
//! where no SMTP server listens it logs the refusal and serves on. A missing
//! `qemu-system-arm` fails these tests: it is never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use minnow_tests::board::{BOOT, MAIL_FROM, MAIL_TO, SMTP_PORT};
use minnow_tests::dhcp::{dnsmasq, leased_address};
use minnow_tests::mail::{envelope, parse_eml, smtp_sink, stored};
use minnow_tests::radvd;
use minnow_tests::{
    BOARD_FILE_SEED, Board, Netns, Proc, TempDir, random_bytes, sha256_file, sha256_hex,
};

const T: Duration = Duration::from_secs(60);
/// The subject the image writes (firmware-sim/firmware/src/mail.rs).
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

/// The SNTP server above, started and given a moment to bind.
fn sntp_server(ns: &Netns) -> Proc {
    let mut sntp = ns.command("python3");
    sntp.args(["-c", SNTP_SERVER]);
    let p = ns.spawn(sntp);
    std::thread::sleep(Duration::from_millis(300));
    p
}

fn sets_its_clock_by_sntp_and_serves_time_and_echo(board: Board) {
    let ns = Netns::new();
    let _sntp = sntp_server(&ns);
    let board = board.boot(&ns);
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

fn time_server_closes_without_a_time_until_the_clock_is_set(board: Board) {
    let ns = Netns::new();
    let mails = board.mails();
    let board = board.boot(&ns);
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
    if !mails {
        return;
    }
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

fn sends_files_byte_for_byte(board: Board) {
    let ns = Netns::new();
    let (random_file, random_len) = board.random_file();
    let board = board.boot(&ns);
    let dir = TempDir::new("board-files");
    let want = sha256_hex(&random_bytes(random_len, BOARD_FILE_SEED));
    let get = format!("GET {random_file}");
    for (i, host) in [Netns::MINNOW_V4, Netns::MINNOW_V6].iter().enumerate() {
        let path = dir.join(format!("random-{i}.bin"));
        let file = path.to_str().unwrap();
        let out = run_peer(&ns, "file_client.py", &[host, "60000", file, &get]);
        out.assert_success("file_client.py GET the random file");
        assert!(
            out.stdout.contains(&format!("({random_len} bytes)")),
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
        board.wait_for_stdout(&format!("sent {random_len} bytes to"), T),
        "{}",
        board.dump()
    );
}

fn chat_room_with_three_notes_clients(board: Board) {
    let ns = Netns::new();
    let board = board.boot(&ns);
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

fn mails_a_message_with_an_attachment_at_boot(board: Board) {
    assert!(board.mails(), "{board:?}: its image does not mail");
    let ns = Netns::new();
    let dir = TempDir::new("board-mail");
    let maildir = dir.join("maildir");
    let _sink = smtp_sink(&ns, SMTP_PORT, &maildir, &[]);
    let _sntp = sntp_server(&ns);
    let board = board.boot(&ns);
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

fn logs_a_refused_recipient_with_the_servers_reply(board: Board) {
    assert!(board.mails(), "{board:?}: its image does not mail");
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
    let board = board.boot(&ns);
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

fn built_with_discard_and_log_takes_streams_and_logs_through_the_facade(board: Board) {
    let elf = board
        .build_variant(&["discard", "log"], Some("echo,discard"), None, None)
        .unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let board = board.boot_elf(&ns, &elf);
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

fn built_with_defmt_logs_core_records_over_semihosting(board: Board) {
    let elf = board
        .build_variant(&["defmt"], Some("echo"), None, None)
        .unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let dir = TempDir::new("defmt");
    let uart = dir.path().join("uart.log");
    // The UART to a file; QEMU's stdout carries the semihosting output: the
    // defmt frames.
    let mut cmd = board.qemu_with(&ns, &elf, &format!("file:{}", uart.display()), "none");
    cmd.args(["-semihosting-config", "enable=on,target=native"]);
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

fn gets_its_address_by_dhcp_and_serves_on_it(board: Board) {
    let elf = board
        .build_variant(&[], None, Some("dhcp"), Some("dhcp"))
        .unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let _dns = dnsmasq(&ns);
    let _sntp = sntp_server(&ns);
    // `ready` comes with the lease.
    let board = board.boot_elf(&ns, &elf);
    let log = board.stdout();
    let addr = leased_address(&log);
    assert!(addr.starts_with("192.0.2.1"), "{addr}\n{log}");
    assert!(log.contains("router 192.0.2.1 dns 192.0.2.1"), "{log}");
    assert!(
        log.find("dhcp address") < log.find("minnow: ready"),
        "ready before the lease: {log}"
    );
    serves_time_and_echo_at(&ns, &board, &addr, "the leased address");
}

fn gets_an_ipv6_address_by_slaac_and_serves_on_it(board: Board) {
    let elf = board
        .build_slaac()
        .unwrap_or_else(|e| panic!("minnow-tests: {e}"));
    let ns = Netns::new();
    let dir = TempDir::new("board-slaac");
    let router = radvd::start(&ns, &dir);
    let _sntp = sntp_server(&ns);
    let board = board.boot_elf(&ns, &elf);
    assert!(
        // The line's end: the UART may have written only part of it.
        board.wait_for_stdout(&format!(" dns {}", radvd::DNS), T),
        "{}\n--- radvd\n{}",
        board.dump(),
        router.stderr()
    );
    let log = board.stdout();
    // `2001:db8:5:0:...`: Rust writes a single zero group out.
    let prefix = format!("slaac address {}:", radvd::PREFIX.trim_end_matches("::"));
    assert!(log.contains(&prefix), "{log}");
    assert!(log.contains("/64 router fe80::"), "{log}");
    let addr = radvd::autoconfigured(&log).expect("the slaac line's address");
    serves_time_and_echo_at(&ns, &board, &addr, "the autoconfigured address");
}

/// Once the clock is set by SNTP, the notes' time client gets the SNTP
/// server's time from `addr` and the echo client 100,000 bytes back intact.
fn serves_time_and_echo_at(ns: &Netns, board: &Proc, addr: &str, what: &str) {
    assert!(
        board.wait_for_stdout("sntp: clock set to 1491314851", T),
        "{}",
        board.dump()
    );
    let out = run_peer(ns, "time_client.py", &[addr, "9999"]);
    out.assert_success(&format!("time_client.py against {what}"));
    assert!(
        out.stdout
            .starts_with("The time got from the server is Tue Apr  4 14:07:3"),
        "{}",
        out.stdout
    );
    let out = run_peer(ns, "echo_client.py", &[addr, "12345", "100000"]);
    out.assert_success(&format!("echo_client.py against {what}"));
    assert!(
        out.stdout.contains("echoed 100000 bytes intact"),
        "{}",
        out.stdout
    );
}

/// Sends Ethernet frames of the given lengths (header included) from the
/// Linux side of `tap0` to QEMU's default NIC address, type 0x88B5 (local
/// experimental), zero payload.
const RAW_FRAMES: &str = r#"
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("tap0", 0))
dst, src = bytes.fromhex("525400123456"), bytes.fromhex("020000000001")
for n in map(int, sys.argv[1:]):
    s.send(dst + src + b"\x88\xb5" + bytes(n - 14))
print("sent", len(sys.argv) - 1)
"#;

/// Sends one monitor command over QEMU's monitor socket.
fn monitor(path: &Path, command: &str) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(path)
        .unwrap_or_else(|e| panic!("QEMU monitor {}: {e}", path.display()));
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(format!("{command}\n").as_bytes()).unwrap();
    // The monitor echoes the command and prompts again once it ran.
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&seen);
        if text.matches("(qemu)").count() >= 2 {
            return;
        }
    }
    panic!(
        "QEMU monitor: no prompt after {command:?}: {}",
        String::from_utf8_lossy(&seen)
    );
}

/// The driver's defined behaviour for bad input and a missing link: a frame
/// longer than its 1514-byte buffer is read out and dropped, one too long
/// for the controller's FIFO is reported by it as an overrun (QEMU's model
/// refuses frames over 2041 bytes so), both counted on the UART; with the
/// link down (QEMU's `set_link`) the board loses frames like a port without
/// a cable, and serves again once it is back. The board serves throughout.
fn drops_oversized_frames_and_survives_a_link_outage(board: Board) {
    let ns = Netns::new();
    let dir = TempDir::new("board-link");
    let mon = dir.join("monitor");
    let cmd = board.qemu_with(
        &ns,
        &board.image(),
        "stdio",
        &format!("unix:{},server=on,wait=off", mon.display()),
    );
    let board = board.boot_command(&ns, cmd);
    assert!(
        board
            .stdout()
            .contains("enet: mac 52-54-00-12-34-56, link unknown (no PHY answers on MII)"),
        "{}",
        board.dump()
    );
    // Room on the Linux side for frames longer than Ethernet's.
    ns.ip(&["link", "set", Netns::TAP, "mtu", "4000"]);
    let mut cmd = ns.command("python3");
    cmd.args(["-c", RAW_FRAMES, "1800", "3000"]);
    ns.run(cmd, T).assert_success("sending oversized frames");
    assert!(
        board.wait_for_stdout(
            "enet: dropped 1 frames over 1514 B (last 1800 B), 0 runts, 0 RX FIFO resets; the controller reported 1 RX FIFO overruns",
            T
        ),
        "{}",
        board.dump()
    );
    let out = run_peer(&ns, "echo_client.py", &[Netns::MINNOW_V4, "12345", "20000"]);
    out.assert_success("echo after the oversized frames");

    // No link: nothing gets through, and the board does not mind.
    monitor(&mon, "set_link net0 off");
    let mut cmd = ns.peer_command("time_client.py", &[Netns::MINNOW_V4, "9999"]);
    cmd.env("PYTHONUNBUFFERED", "1");
    let out = ns.run(cmd, Duration::from_secs(3));
    assert!(!out.success(), "served with the link down: {}", out.dump());
    monitor(&mon, "set_link net0 on");
    let out = run_peer(&ns, "echo_client.py", &[Netns::MINNOW_V4, "12345", "20000"]);
    out.assert_success("echo once the link is back");
    assert!(
        out.stdout.contains("echoed 20000 bytes intact"),
        "{}",
        out.stdout
    );
    assert!(!board.stdout().contains("panic"), "{}", board.dump());
}

/// Each name, a test of that body on one board: `mps2::NAME`, `lm3s6965::NAME`.
macro_rules! tests_on {
    ($board:ident, $value:expr, [$($test:ident),* $(,)?]) => {
        mod $board {
            use minnow_tests::Board;
            $(
                #[test]
                fn $test() {
                    super::$test($value)
                }
            )*
        }
    };
}

tests_on!(
    mps2,
    Board::Mps2,
    [
        sets_its_clock_by_sntp_and_serves_time_and_echo,
        time_server_closes_without_a_time_until_the_clock_is_set,
        sends_files_byte_for_byte,
        chat_room_with_three_notes_clients,
        gets_its_address_by_dhcp_and_serves_on_it,
        gets_an_ipv6_address_by_slaac_and_serves_on_it,
        mails_a_message_with_an_attachment_at_boot,
        logs_a_refused_recipient_with_the_servers_reply,
        built_with_discard_and_log_takes_streams_and_logs_through_the_facade,
        built_with_defmt_logs_core_records_over_semihosting,
    ]
);

tests_on!(
    lm3s6965,
    Board::Lm3s6965,
    [
        sets_its_clock_by_sntp_and_serves_time_and_echo,
        time_server_closes_without_a_time_until_the_clock_is_set,
        sends_files_byte_for_byte,
        chat_room_with_three_notes_clients,
        gets_its_address_by_dhcp_and_serves_on_it,
        gets_an_ipv6_address_by_slaac_and_serves_on_it,
        drops_oversized_frames_and_survives_a_link_outage,
    ]
);
