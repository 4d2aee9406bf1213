//! Whole exchanges between `minnow serve` and the notes' clients, each
//! parametrized by the extra `minnow serve` options (`&[]` for the default
//! TAP device, `["--driver", "embassy-tuntap"]` for the embassy-net driver),
//! so that every way of running the services passes the same checks. Each
//! panics with the processes' output when a check fails.

use std::path::Path;
use std::time::Duration;

use crate::{Netns, Proc, RunOutput, TempDir, peer, random_bytes, sha256_file};

/// Time limits of the scenarios' clients.
const TIME_T: Duration = Duration::from_secs(30);
const ECHO_T: Duration = Duration::from_secs(60);
const FILE_T: Duration = Duration::from_secs(120);
const CHAT_T: Duration = Duration::from_secs(90);

/// `minnow serve` with `driver`'s options, then `extra`.
fn serve(ns: &Netns, driver: &[&str], extra: &[&str]) -> Proc {
    let args: Vec<&str> = driver.iter().chain(extra).copied().collect();
    ns.serve(&args)
}

/// The notes' time client against `host:port`; its output.
pub fn ctime_client(ns: &Netns, host: &str, port: &str) -> String {
    let mut cmd = ns.command("python3");
    cmd.arg(peer("time_client.py")).args([host, port]);
    let out = ns.run(cmd, TIME_T);
    out.assert_success("time_client.py against minnow");
    out.stdout
}

/// The notes' time client gets a ctime line over IPv4 and IPv6, and RFC 867
/// daytime on port 13.
pub fn time_over_both_families(ns: &Netns, driver: &[&str]) {
    let server = serve(ns, driver, &["--daytime"]);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let out = ctime_client(ns, host, "9999");
        assert!(out.starts_with("The time got from the server is "), "{out}");
        let got = out
            .trim_start_matches("The time got from the server is ")
            .trim_end();
        assert_eq!(got.len(), 24, "{got:?}");
    }
    let out = ctime_client(ns, Netns::MINNOW_V4, "13");
    assert!(out.contains(':'), "{out}");
    assert!(
        server.wait_for_stderr("sent time", TIME_T),
        "{}",
        server.stderr()
    );
}

/// The notes' echo client sending `bytes` to `host:12345`.
pub fn echo_client(ns: &Netns, host: &str, bytes: usize) -> RunOutput {
    let mut cmd = ns.command("python3");
    cmd.arg(peer("echo_client.py"))
        .args([host, "12345", &bytes.to_string()]);
    ns.run(cmd, ECHO_T)
}

/// One megabyte through the TCP echo server over IPv4 and IPv6, compared
/// byte for byte by the client.
pub fn echo_one_megabyte(ns: &Netns, driver: &[&str]) {
    let server = serve(ns, driver, &[]);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let out = echo_client(ns, host, 1_000_000);
        out.assert_success("echo_client.py 1 MB");
        assert!(
            out.stdout.contains("echoed 1000000 bytes intact"),
            "{}",
            out.stdout
        );
    }
    assert!(
        server.wait_for_stderr("after 1000000 bytes", ECHO_T),
        "{}",
        server.stderr()
    );
}

/// The sizes of [`files`]: empty, one byte, around a kilobyte, 10 MiB.
pub const FILE_SIZES: [usize; 6] = [0, 1, 1023, 1024, 1025, 10 << 20];

/// A folder with one file per size (`f<size>.bin`) and `hello.txt`.
pub fn files() -> TempDir {
    let dir = TempDir::new("minnow-files");
    for (i, size) in FILE_SIZES.iter().enumerate() {
        std::fs::write(
            dir.join(format!("f{size}.bin")),
            random_bytes(*size, i as u64 + 1),
        )
        .unwrap();
    }
    std::fs::write(dir.join("hello.txt"), b"Hello from Minnow's file server\n").unwrap();
    dir
}

/// `minnow serve --files DIR --default hello.txt EXTRA`.
pub fn serve_files(ns: &Netns, dir: &Path, extra: &[&str]) -> Proc {
    let d = dir.to_str().unwrap();
    let mut args = vec!["--files", d, "--default", "hello.txt"];
    args.extend_from_slice(extra);
    ns.serve(&args)
}

/// The notes' file client against `host:60000`, saving to `out`, with
/// `request` (else the default file).
pub fn file_client(ns: &Netns, host: &str, out: &Path, request: Option<&str>) -> RunOutput {
    let mut cmd = ns.command("python3");
    cmd.arg(peer("file_client.py"))
        .args([host, "60000", out.to_str().unwrap()]);
    if let Some(r) = request {
        cmd.arg(r);
    }
    ns.run(cmd, FILE_T)
}

/// The default file, then every size of [`files`] by name over IPv4 and
/// IPv6, each compared with the original by SHA-256.
pub fn file_every_size(ns: &Netns, driver: &[&str]) {
    let dir = files();
    let out = TempDir::new("minnow-out");
    let _server = serve_files(ns, dir.path(), driver);
    let got = out.join("default");
    file_client(ns, Netns::MINNOW_V4, &got, None).assert_success("default file");
    assert_eq!(
        std::fs::read(&got).unwrap(),
        b"Hello from Minnow's file server\n"
    );
    for size in FILE_SIZES {
        let name = format!("f{size}.bin");
        let got = out.join(&name);
        let host = if size % 2 == 0 {
            Netns::MINNOW_V4
        } else {
            Netns::MINNOW_V6
        };
        let run = file_client(ns, host, &got, Some(&format!("GET {name}")));
        run.assert_success(&name);
        assert!(
            run.stdout.contains(&format!("({size} bytes)")),
            "{}",
            run.stdout
        );
        assert_eq!(sha256_file(&got), sha256_file(&dir.join(&name)), "{name}");
    }
}

/// The port of each `[IP:PORT] entered our chatting room` line for `ip`.
fn join_ports(text: &str, ip: &str) -> Vec<u16> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix(&format!("[{ip}:"))?
                .strip_suffix("] entered our chatting room")
        })
        .map(|p| p.parse().unwrap())
        .collect()
}

/// Three of the notes' chat clients join, speak and one leaves: each sees
/// the others' joins, lines and the leaving in the order the notes show.
pub fn chat_transcript(ns: &Netns, driver: &[&str]) {
    let server = serve(ns, driver, &[]);
    let mut clients: Vec<_> = (0..3)
        .map(|i| {
            let p = ns.spawn(ns.peer_command("chat_client.py", &[Netns::MINNOW_V4, "9009"]));
            assert!(
                p.wait_for_stdout("You can start sending messages", CHAT_T),
                "{}",
                p.dump()
            );
            // Joins in order: wait until the server saw this one (the
            // client prints its line once its ACK is sent, which may be
            // before the server has read it).
            let start = std::time::Instant::now();
            while server.stderr().matches(" joined").count() < i + 1 && start.elapsed() < CHAT_T {
                std::thread::sleep(Duration::from_millis(20));
            }
            let seen = server.stderr().matches(" joined").count();
            assert_eq!(seen, i + 1, "{}", server.stderr());
            p
        })
        .collect();
    // Client 1 is told of 2 and 3 before anyone speaks.
    assert!(
        clients[0].wait_for_stdout("entered our chatting room\n[", CHAT_T),
        "{}",
        clients[0].dump()
    );
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_stdin(format!("client {}\n", i + 1).as_bytes());
        std::thread::sleep(Duration::from_millis(300));
    }
    let ports: Vec<u16> = server
        .stderr()
        .lines()
        .filter_map(|l| l.strip_suffix(" joined")?.rsplit(':').next()?.parse().ok())
        .collect();
    assert_eq!(ports.len(), 3);
    // Client 3 leaves (its stdin ends; it lingers 1 s, then closes).
    clients[2].close_stdin();
    assert!(clients[2].wait(CHAT_T).is_some_and(|s| s.success()));
    let offline = format!("Client (192.0.2.1, {}) is offline\n", ports[2]);
    for c in &clients[..2] {
        assert!(c.wait_for_stdout(&offline, CHAT_T), "{}", c.dump());
    }
    let line = |port: u16, text: &str| format!("\r[('192.0.2.1', {port})] {text}\n");
    let c1 = clients[0].stdout();
    assert_eq!(
        join_ports(&c1, "192.0.2.1"),
        vec![ports[1], ports[2]],
        "{c1:?}"
    );
    assert!(c1.contains(&line(ports[1], "client 2")), "{c1:?}");
    assert!(c1.contains(&line(ports[2], "client 3")), "{c1:?}");
    assert!(
        !c1.contains("client 1\n"),
        "a sender does not get its own line: {c1:?}"
    );
    let c2 = clients[1].stdout();
    assert_eq!(join_ports(&c2, "192.0.2.1"), vec![ports[2]], "{c2:?}");
    assert!(c2.contains(&line(ports[0], "client 1")), "{c2:?}");
    let c3 = clients[2].stdout();
    assert!(join_ports(&c3, "192.0.2.1").is_empty(), "{c3:?}");
    assert!(c3.contains(&line(ports[0], "client 1")), "{c3:?}");
    assert!(c3.contains(&line(ports[1], "client 2")), "{c3:?}");
    // The notices come in the order the notes show: join, messages, offline.
    let i_join = c1.find("entered").unwrap();
    let i_msg = c1.find("client 2").unwrap();
    let i_off = c1.find("is offline").unwrap();
    assert!(i_join < i_msg && i_msg < i_off, "{c1:?}");
}
