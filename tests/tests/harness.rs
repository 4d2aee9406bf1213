//! Self-tests of the harness: namespaces, TAP devices, processes, peers (kernel stack only, no Minnow).

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use minnow_tests::{Netns, Proc, TempDir, peer, python3, random_bytes, sha256_file, sha256_hex};

const T: Duration = Duration::from_secs(30);

/// `ip netns list` on the host (read-only).
fn netns_list() -> String {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(out.status.success(), "ip netns list failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn listed(name: &str) -> bool {
    netns_list()
        .lines()
        .any(|l| l.split_whitespace().next() == Some(name))
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn namespace_has_tap0_with_host_addresses() {
    let ns = Netns::new();
    assert!(ns.name().starts_with("mnw-"), "{}", ns.name());
    let out = Command::new("ip")
        .args(["-n", ns.name(), "addr", "show", "tap0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("inet 192.0.2.1/24"), "{text}");
    assert!(text.contains("inet6 2001:db8::1/64"), "{text}");
    assert!(!text.contains("tentative"), "DAD should be off: {text}");
    // lo is up, and only lo and tap0 exist.
    let links = ns.ip(&["-o", "link", "show"]);
    assert_eq!(links.lines().count(), 2, "{links}");
    assert!(links.contains("lo: <LOOPBACK,UP"), "{links}");
}

#[test]
fn echo_peer_roundtrip_and_teardown() {
    let ns = Netns::new();
    let name = ns.name().to_string();
    assert!(listed(&name), "{name} not in ip netns list");

    let v4 = ns.spawn_peer("echo_server.py", &[Netns::HOST_V4, "12345"]);
    let v6 = ns.spawn_peer("echo_server.py", &[Netns::HOST_V6, "12346"]);
    // `ip netns exec` execs, so the PID is the python interpreter running the peer.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", v4.pid())).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("echo_server.py"),
        "{cmdline:?}"
    );

    let cmd = ns.command(python3());
    let mut cmd = cmd;
    cmd.arg(peer("echo_client.py"))
        .args([Netns::HOST_V4, "12345", "100000"]);
    let out = ns.run(cmd, T);
    out.assert_success("echo_client over IPv4");
    assert!(
        out.stdout.contains("echoed 100000 bytes intact"),
        "{}",
        out.dump()
    );

    ns.run_peer("echo_client.py", &[Netns::HOST_V6, "12346", "50000"], T)
        .assert_success("echo_client over IPv6");
    assert!(v4.wait_for_stdout("Connected by", T), "{}", v4.dump());

    let (p4, p6) = (v4.pid(), v6.pid());
    assert!(pid_alive(p4) && pid_alive(p6));
    // Dropping the namespace kills its processes even while their Procs are alive.
    drop(ns);
    assert!(!listed(&name), "{name} still listed:\n{}", netns_list());
    assert!(!pid_alive(p4), "echo server {p4} survived the namespace");
    assert!(!pid_alive(p6), "echo server {p6} survived the namespace");
    assert!(!v4.is_running());
    drop((v4, v6));
}

#[test]
fn two_namespaces_coexist_and_are_isolated() {
    let a = Netns::new();
    let b = Netns::new();
    assert_ne!(a.name(), b.name());
    assert!(listed(a.name()) && listed(b.name()));
    // Same address and port in both: no conflict.
    let _sa = a.spawn_peer("echo_server.py", &[Netns::HOST_V4, "12345"]);
    let _sb = b.spawn_peer("echo_server.py", &[Netns::HOST_V4, "12345"]);
    a.run_peer("echo_client.py", &[Netns::HOST_V4, "12345", "1000"], T)
        .assert_success("echo in a");
    b.run_peer("echo_client.py", &[Netns::HOST_V4, "12345", "1000"], T)
        .assert_success("echo in b");
}

#[test]
fn proc_drop_kills_and_run_times_out() {
    let ns = Netns::new();
    let sleeper = ns.spawn(ns.command("sleep").arg("300"));
    let pid = sleeper.pid();
    assert!(sleeper.is_running());
    drop(sleeper);
    assert!(!pid_alive(pid), "sleep {pid} survived its Proc");

    let start = Instant::now();
    let out = ns.run(ns.command("sleep").arg("300"), Duration::from_millis(300));
    assert!(out.timed_out() && !out.success(), "{}", out.dump());
    assert!(start.elapsed() < Duration::from_secs(5));

    ns.run(ns.command("sh").args(["-c", "exit 3"]), T)
        .assert_failure("exit 3");
}

#[test]
fn plain_commands_are_wrapped_into_the_namespace() {
    let ns = Netns::new();
    // Not made with ns.command(): run() must still execute it inside the namespace.
    let mut cmd = Command::new("ip");
    cmd.args(["-o", "link", "show"]).env("MINNOW_X", "1");
    let out = ns.run(cmd, T);
    out.assert_success("ip link inside");
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.dump());
    assert!(out.stdout.contains("tap0"), "{}", out.dump());
    let env = ns.run(
        Command::new("printenv")
            .arg("MINNOW_X")
            .env("MINNOW_X", "yes"),
        T,
    );
    assert_eq!(env.stdout.trim(), "yes", "{}", env.dump());
}

#[test]
fn proc_stdin_stdout_and_stderr() {
    let ns = Netns::new();
    let mut cat: Proc = ns.spawn(ns.command("sh").args(["-c", "echo started >&2; cat"]));
    assert!(cat.wait_for_stderr("started", T), "{}", cat.dump());
    cat.write_stdin(b"hello\n");
    assert!(cat.wait_for_stdout("hello", T), "{}", cat.dump());
    cat.close_stdin();
    let st = cat.wait(T).expect("cat exits at EOF");
    assert!(st.success());
    assert_eq!(cat.stdout(), "hello\n");
    // Exited without printing: returns false at once, not after the timeout.
    let start = Instant::now();
    assert!(!cat.wait_for_stdout("never", T));
    assert!(start.elapsed() < Duration::from_secs(5));

    let out = ns.run_with_stdin(ns.command("cat"), b"abc", T);
    out.assert_success("cat");
    assert_eq!(out.stdout_bytes, b"abc");
}

#[test]
fn spawn_ready_waits_for_the_line_and_reports_early_exit() {
    let ns = Netns::new();
    let p = ns.spawn_ready(
        ns.command("sh")
            .args(["-c", "sleep 0.2; echo 'minnow: ready' >&2; sleep 300"]),
        "minnow: ready",
        T,
    );
    assert!(p.is_running());
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ns.spawn_ready(
            ns.command("sh").args(["-c", "echo boom >&2; exit 1"]),
            "minnow: ready",
            T,
        )
    }))
    .expect_err("must panic");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("exited without printing") && msg.contains("boom"),
        "{msg}"
    );
}

#[test]
fn rust_sockets_inside_the_namespace() {
    let ns = Netns::new();
    let _echo = ns.spawn_peer("echo_server.py", &[Netns::HOST_V4, "12345"]);
    assert!(ns.wait_tcp(Netns::HOST_V4, 12345, T));
    assert!(!ns.wait_tcp(Netns::HOST_V4, 12399, Duration::from_millis(300)));
    let mut s = ns
        .connect_tcp((Netns::HOST_V4, 12345), Duration::from_secs(5))
        .unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");

    let u1 = ns.bind_udp((Netns::HOST_V6, 0)).unwrap();
    let u2 = ns.bind_udp((Netns::HOST_V6, 0)).unwrap();
    u1.send_to(b"dgram", u2.local_addr().unwrap()).unwrap();
    u2.set_read_timeout(Some(T)).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = u2.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"dgram");
}

#[test]
fn file_peer_and_hashes() {
    let ns = Netns::new();
    let dir = TempDir::new("file");
    let data = random_bytes(300_000, 7);
    assert_eq!(data, random_bytes(300_000, 7));
    let src = dir.join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let _srv = ns.spawn_peer(
        "file_server.py",
        &[Netns::HOST_V6, "12347", src.to_str().unwrap()],
    );
    let dst = dir.join("dst.bin");
    ns.run_peer(
        "file_client.py",
        &[Netns::HOST_V6, "12347", dst.to_str().unwrap()],
        T,
    )
    .assert_success("file_client");
    assert_eq!(sha256_file(&dst), sha256_hex(&data));
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
#[should_panic(expected = "outside 192.0.2.0/24")]
fn addresses_outside_documentation_ranges_are_refused() {
    let ns = Netns::new();
    ns.add_tap("tap1", &["10.0.0.1/24"]);
}

#[test]
fn second_tap_device() {
    let ns = Netns::new();
    ns.add_tap("tap1", &["192.0.2.129/25", "2001:db8:1::1/64"]);
    let text = ns.ip(&["addr", "show", "tap1"]);
    assert!(text.contains("inet 192.0.2.129/25"), "{text}");
    assert!(text.contains("inet6 2001:db8:1::1/64"), "{text}");
}

#[test]
fn serve_starts_minnow_inside_the_namespace() {
    let ns = Netns::new();
    let mut minnow = ns.serve(&[]);
    assert!(
        minnow.stderr().contains("minnow: ready"),
        "{}",
        minnow.dump()
    );
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", minnow.pid())).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("minnow serve --tap tap0 --ip 192.0.2.2/24 --ip 2001:db8::2/64"),
        "{cmdline}"
    );
    let pid = minnow.pid();
    minnow.kill();
    assert!(!pid_alive(pid));
}
