//! Echo: the notes' clients against Minnow's servers, Minnow's clients
//! against the notes' server, and the hostile cases.

use std::time::Duration;

use minnow_tests::scenarios::{self, echo_client};
use minnow_tests::{NETS, Netns, minnow_bin, peer, sha256_hex};

const T: Duration = Duration::from_secs(60);

#[test]
fn notes_echo_client_one_megabyte_over_ipv4_and_ipv6() {
    scenarios::echo_one_megabyte(&Netns::new(), &[]);
}

#[test]
fn notes_udp_echo_client_over_ipv4_and_ipv6() {
    let ns = Netns::new();
    let _server = ns.serve(&[]);
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let mut cmd = ns.command("python3");
        cmd.arg(peer("udp_echo_client.py"))
            .args([host, "12345", "50"]);
        let out = ns.run(cmd, T);
        out.assert_success("udp_echo_client.py");
        assert!(
            out.stdout.contains("50/50 datagrams echoed"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn eight_echo_clients_at_once() {
    let ns = Netns::new();
    let _server = ns.serve(&[]);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let mut cmd = ns.command("python3");
            let host = if i % 2 == 0 {
                Netns::MINNOW_V4
            } else {
                Netns::MINNOW_V6
            };
            cmd.arg(peer("echo_client.py"))
                .args([host, "12345", "300000"]);
            ns.spawn(cmd)
        })
        .collect();
    for mut h in handles {
        let status = h.wait(T).expect("echo client still running");
        assert!(status.success(), "{} {}", h.stdout(), h.stderr());
        assert!(h.stdout().contains("echoed 300000 bytes intact"));
    }
}

#[test]
fn minnow_echo_client_against_notes_server_tcp() {
    let ns = Netns::new();
    let _peer = ns.spawn_peer("echo_server.py", &[Netns::HOST_V4, "12345"]);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let input = std::env::temp_dir().join(format!("minnow-echo-in-{}", std::process::id()));
    std::fs::write(&input, &data).unwrap();
    for net in NETS {
        let mut cmd = ns.command("sh");
        cmd.arg("-c").arg(format!(
            "{} echo 192.0.2.1:12345 --net {net} < {}",
            minnow_bin().display(),
            input.display()
        ));
        let out = ns.run(cmd, T);
        out.assert_success(&format!("minnow echo --net {net}"));
        assert_eq!(out.stdout_bytes.len(), data.len(), "{net}");
        assert_eq!(sha256_hex(&out.stdout_bytes), sha256_hex(&data), "{net}");
    }
    let _ = std::fs::remove_file(&input);
}

#[test]
fn minnow_echo_client_udp_against_kernel_udp_echo() {
    let ns = Netns::new();
    let script = r#"
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('2001:db8::1', 12345))
import sys; print('ready', file=sys.stderr, flush=True)
while True:
    d, a = s.recvfrom(65535); s.sendto(d, a)
"#;
    let mut srv = ns.command("python3");
    srv.args(["-c", script]);
    let _srv = ns.spawn_ready(srv, "ready", Duration::from_secs(20));
    for net in NETS {
        let mut cmd = ns.command("sh");
        cmd.arg("-c").arg(format!(
            "printf 'one\\ntwo\\nthree\\n' | {} echo --udp '[2001:db8::1]:12345' --net {net}",
            minnow_bin().display()
        ));
        let out = ns.run(cmd, T);
        out.assert_success(&format!("minnow echo --udp --net {net}"));
        assert_eq!(out.stdout, "one\ntwo\nthree\n", "{net}");
    }
}

/// Runs a Python scenario against Minnow's echo server in the namespace.
fn scenario(ns: &Netns, what: &str, script: &str) {
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]);
    ns.run(cmd, T).assert_success(what);
}

#[test]
fn silent_and_flooding_clients_do_not_stall_others() {
    let ns = Netns::new();
    let _server = ns.serve(&[]);
    scenario(
        &ns,
        "silent + flood + normal",
        r#"
import os, socket, time
silent = socket.create_connection(('192.0.2.2', 12345), timeout=10)
flood = socket.create_connection(('192.0.2.2', 12345), timeout=10)
flood.setblocking(False)
sent = bytearray()
block = os.urandom(65536)
deadline = time.time() + 10
# Send without reading until both directions are full (back-pressure).
stalled = 0
while time.time() < deadline and stalled < 20:
    try:
        n = flood.send(block)
        sent += block[:n]; stalled = 0
    except BlockingIOError:
        stalled += 1; time.sleep(0.05)
assert len(sent) > 100000, len(sent)
# Meanwhile a normal client is served at once.
other = socket.create_connection(('192.0.2.2', 12345), timeout=10)
other.sendall(b'still here'); assert other.recv(100) == b'still here'
other.close()
# Now the flooder reads: every byte it sent comes back, in order.
flood.setblocking(True); flood.settimeout(20)
flood.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    c = flood.recv(1 << 20)
    if not c: break
    got += c
assert got == sent, (len(got), len(sent))
silent.close()
print('ok', len(sent))
"#,
    );
}

#[test]
fn clients_beyond_the_pool_are_refused_and_the_others_keep_working() {
    let ns = Netns::new();
    // Every client comes from one address: let it hold the whole pool.
    let _server = ns.serve(&["--echo-sockets", "2", "--per-source", "2"]);
    scenario(
        &ns,
        "pool of 2",
        r#"
import socket, time
a = socket.create_connection(('192.0.2.2', 12345), timeout=10)
b = socket.create_connection(('192.0.2.2', 12345), timeout=10)
a.sendall(b'a'); assert a.recv(10) == b'a'
b.sendall(b'b'); assert b.recv(10) == b'b'
try:
    c = socket.create_connection(('192.0.2.2', 12345), timeout=5)
    c.sendall(b'c')
    r = c.recv(10)
    raise SystemExit('third client was served: %r' % r)
except (ConnectionRefusedError, ConnectionResetError):
    pass
a.sendall(b'still'); assert a.recv(10) == b'still'
a.close()
time.sleep(0.5)
c = socket.create_connection(('192.0.2.2', 12345), timeout=10)
c.sendall(b'now'); assert c.recv(10) == b'now'
print('ok')
"#,
    );
}

#[test]
fn oversized_udp_datagram_is_dropped_and_service_continues() {
    let ns = Netns::new();
    let server = ns.serve(&["--udp-buffer", "1024"]);
    scenario(
        &ns,
        "oversized datagram",
        r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b'x' * 1400, ('192.0.2.2', 12345))
try:
    d, _ = s.recvfrom(2000)
    raise SystemExit('oversized datagram echoed: %d' % len(d))
except socket.timeout:
    pass
s.sendto(b'small', ('192.0.2.2', 12345))
d, _ = s.recvfrom(2000)
assert d == b'small', d
print('ok')
"#,
    );
    assert!(!server.stderr().contains("panicked"));
}

#[test]
fn idle_client_is_aborted_after_the_idle_timeout() {
    let ns = Netns::new();
    let server = ns.serve(&["--idle-timeout", "1"]);
    scenario(
        &ns,
        "idle timeout",
        r#"
import socket, time
s = socket.create_connection(('192.0.2.2', 12345), timeout=10)
time.sleep(2.5)
try:
    s.sendall(b'late')
    r = s.recv(10)
    assert r == b'', r
except (ConnectionResetError, BrokenPipeError):
    pass
print('ok')
"#,
    );
    assert!(
        server.wait_for_stderr("idle timeout", T),
        "{}",
        server.stderr()
    );
}

#[test]
fn discard_takes_a_megabyte_and_datagrams_and_answers_nothing() {
    let ns = Netns::new();
    let server = ns.serve(&["--discard"]);
    // Sends 1 MB over TCP, reads until EOF (must be empty), then 50
    // datagrams over UDP, and checks that nothing comes back.
    let script = r#"
import socket, sys
host = sys.argv[1]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.create_connection((host, 9), timeout=30)
s.sendall(b"x" * 1000000)
s.shutdown(socket.SHUT_WR)
back = s.recv(1)
assert back == b"", back
u = socket.socket(fam, socket.SOCK_DGRAM)
u.settimeout(0.5)
for i in range(50):
    u.sendto(b"d" * 100, (host, 9))
try:
    print("answered", u.recv(100))
    sys.exit(1)
except socket.timeout:
    print("discarded quietly")
"#;
    for host in [Netns::MINNOW_V4, Netns::MINNOW_V6] {
        let mut cmd = ns.command("python3");
        cmd.args(["-c", script, host]);
        let out = ns.run(cmd, T);
        out.assert_success("discard client");
        assert!(out.stdout.contains("discarded quietly"), "{}", out.dump());
    }
    assert!(
        server.wait_for_stderr("discard tcp/9: closed", T),
        "{}",
        server.stderr()
    );
    let text = server.stderr();
    assert_eq!(text.matches("after 1000000 bytes").count(), 2, "{text}");
    assert!(server.signal(libc::SIGTERM), "{text}");
    assert!(
        server.wait_for_stderr("discard udp/9: discarded 100 datagrams, 10000 bytes", T),
        "{}",
        server.stderr()
    );
}

#[test]
fn verbose_logs_connections_and_smoltcp_and_quiet_logs_nothing() {
    let ns = Netns::new();
    // -v: core's debug records (each connection); -vvv: smoltcp's own too.
    let server = ns.serve(&["-vvv"]);
    let out = echo_client(&ns, Netns::MINNOW_V4, 10_000);
    out.assert_success("echo_client.py");
    assert!(
        server.wait_for_stderr("after 10000 bytes in, 10000 out", T),
        "{}",
        server.stderr()
    );
    let text = server.stderr();
    assert!(text.contains("minnow: tcp/12345: 192.0.2.1:"), "{text}");
    assert!(text.contains(" connected\n"), "{text}");
    assert!(text.contains("minnow: smoltcp::"), "{text}");
    drop(server);

    // -q: errors only, so not even `ready`; the server still serves.
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["serve", "-q", "--tap", "tap0"]);
    let quiet = ns.spawn(cmd);
    assert!(ns.wait_tcp(Netns::MINNOW_V4, 12345, T));
    echo_client(&ns, Netns::MINNOW_V4, 10_000).assert_success("echo_client.py, -q");
    assert!(quiet.signal(libc::SIGTERM));
    let mut quiet = quiet;
    quiet.wait(T).expect("minnow serve -q still running");
    assert_eq!(quiet.stderr(), "", "-q printed lines");
}
