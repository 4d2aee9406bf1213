//! Time: the notes' client against Minnow's servers, Minnow's client against
//! the notes' server, RFC 868, SNTP, and replies that are not a time.

use std::time::Duration;

use minnow_tests::scenarios::{self, ctime_client};
use minnow_tests::{NETS, Netns, minnow_bin, peer};

const T: Duration = Duration::from_secs(30);

#[test]
fn notes_time_client_gets_ctime_over_ipv4_and_ipv6() {
    scenarios::time_over_both_families(&Netns::new(), &[]);
}

#[test]
fn ctime_matches_python_for_the_same_second() {
    let ns = Netns::new();
    let _server = ns.serve(&[]);
    // Python reads Minnow's reply and compares with its own ctime of now (UTC).
    let script = r#"
import socket, time, sys, os
os.environ['TZ'] = 'UTC'; time.tzset()
for _ in range(5):
    before = time.time()
    s = socket.create_connection(('192.0.2.2', 9999), timeout=10)
    data = b''
    while True:
        c = s.recv(100)
        if not c: break
        data += c
    after = time.time()
    cands = {(time.ctime(t) + '\r\n').encode() for t in (before, after)}
    if data in cands:
        print('match', data); sys.exit(0)
sys.exit('no match: %r vs %r' % (data, cands))
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]);
    ns.run(cmd, T)
        .assert_success("ctime byte-for-byte against Python");
}

#[test]
fn minnow_time_client_against_notes_server() {
    let ns = Netns::new();
    let _peer = ns.spawn_peer("time_server.py", &[Netns::HOST_V4, "9999"]);
    for net in NETS {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(["time", "192.0.2.1:9999", "--net", net]);
        let out = ns.run(cmd, T);
        out.assert_success(&format!("minnow time --net {net}"));
        let line = out.stdout.trim_end();
        assert_eq!(line.len(), 24, "{net}: {line:?}");
        let mut check = ns.command("python3");
        check.args([
            "-c",
            "import sys,time; time.strptime(sys.argv[1], '%a %b %d %H:%M:%S %Y')",
            line,
        ]);
        ns.run(check, T)
            .assert_success("python parses minnow's output as ctime");
    }
}

#[test]
fn minnow_time_client_over_ipv6() {
    let ns = Netns::new();
    let _peer = ns.spawn_peer("time_server.py", &[Netns::HOST_V6, "9999"]);
    for net in NETS {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(["time", "[2001:db8::1]:9999", "--net", net]);
        let out = ns.run(cmd, T);
        out.assert_success(&format!("minnow time --net {net} over IPv6"));
        assert_eq!(out.stdout.trim_end().len(), 24, "{net}: {}", out.stdout);
    }
}

#[test]
fn minnow_time_client_refuses_a_reply_that_is_not_ctime() {
    let ns = Netns::new();
    let script = r#"
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('192.0.2.1', 9999)); s.listen(5)
while True:
    c, _ = s.accept(); c.sendall(b'hello, not a time\r\n'); c.close()
"#;
    let mut srv = ns.command("python3");
    srv.args(["-c", script]);
    let _srv = ns.spawn(srv);
    ns.wait_tcp(Netns::HOST_V4, 9999, T);
    for net in NETS {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(["time", "192.0.2.1", "--net", net]);
        let out = ns.run(cmd, T);
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(1),
            "{net}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("not a ctime line"),
            "{net}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("hello, not a time"),
            "{net}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{net}: {}", out.stdout);
    }
}

#[test]
fn minnow_time_client_reports_refused_connection() {
    let ns = Netns::new();
    for net in NETS {
        let mut cmd = ns.command(minnow_bin());
        cmd.args(["time", "192.0.2.1:9999", "--net", net]);
        let out = ns.run(cmd, T);
        // 69: refused by the peer (sysexits' EX_UNAVAILABLE).
        assert_eq!(
            out.status.and_then(|s| s.code()),
            Some(69),
            "{net}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("refused"), "{net}: {}", out.stderr);
    }
}

#[test]
fn rfc868_over_tcp_and_udp_and_minnow_client_reads_it() {
    let ns = Netns::new();
    let _server = ns.serve(&["--rfc868"]);
    let script = r#"
import socket, struct, time, sys
OFF = 2208988800
s = socket.create_connection(('192.0.2.2', 37), timeout=10)
data = b''
while True:
    c = s.recv(100)
    if not c: break
    data += c
assert len(data) == 4, data
t = struct.unpack('!I', data)[0] - OFF
assert abs(t - time.time()) < 5, (t, time.time())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
u.sendto(b'', ('192.0.2.2', 37))
d, _ = u.recvfrom(100)
assert len(d) == 4 and abs(struct.unpack('!I', d)[0] - OFF - time.time()) < 5, d
print('ok')
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]);
    ns.run(cmd, T).assert_success("RFC 868 from python");
}

/// A small SNTP server for the namespace: `mode` picks good or broken replies.
const SNTP_SERVER: &str = r#"
import socket, struct, sys, time
mode = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('192.0.2.1', 123))
import sys; print('ready', file=sys.stderr, flush=True)
OFF = 2208988800
def ts(t):
    return struct.pack('!II', int(t) + OFF, int((t % 1) * 2**32))
while True:
    req, addr = s.recvfrom(100)
    origin = req[40:48]
    fake = 1491314851.0   # Tue Apr  4 14:07:31 2017: a time no test clock has
    li_vn_mode = (0 << 6) | (4 << 3) | 4
    if mode == 'wrong-mode': li_vn_mode = (4 << 3) | 3
    if mode == 'wrong-origin': origin = b'\x01' * 8
    xmit = ts(fake)
    if mode == 'zero-transmit': xmit = b'\0' * 8
    reply = struct.pack('!BBbb', li_vn_mode, 1, 4, -20) + b'\0' * 8 + b'GPS\0' + ts(fake) + origin + ts(fake) + xmit
    s.sendto(reply, addr)
"#;

#[test]
fn sntp_sets_the_clock_and_time_server_serves_it() {
    let ns = Netns::new();
    let mut srv = ns.command("python3");
    srv.args(["-c", SNTP_SERVER, "good"]);
    let _sntp = ns.spawn_ready(srv, "ready", Duration::from_secs(20));
    let server = ns.serve(&["--sntp", "192.0.2.1"]);
    assert!(
        server.wait_for_stderr("sntp: clock set to 1491314851", T),
        "{}",
        server.stderr()
    );
    let out = ctime_client(&ns, Netns::MINNOW_V4, "9999");
    assert!(out.contains("Tue Apr  4 14:07:3"), "{out}");
}

#[test]
fn spoofed_or_malformed_sntp_replies_never_set_the_clock() {
    for mode in ["wrong-mode", "wrong-origin", "zero-transmit"] {
        let ns = Netns::new();
        let mut srv = ns.command("python3");
        srv.args(["-c", SNTP_SERVER, mode]);
        let _sntp = ns.spawn_ready(srv, "ready", Duration::from_secs(20));
        let server = ns.serve(&["--sntp", "192.0.2.1"]);
        assert!(
            server.wait_for_stderr("sntp: ignored", T),
            "{mode}: {}",
            server.stderr()
        );
        // The time server closes without a time: the notes' client gets nothing and fails.
        let mut cmd = ns.command("python3");
        cmd.arg(peer("time_client.py"))
            .args([Netns::MINNOW_V4, "9999"]);
        let out = ns.run(cmd, T);
        assert!(!out.success(), "{mode}: {}", out.stdout);
        assert!(
            server.wait_for_stderr("clock not set", T),
            "{mode}: {}",
            server.stderr()
        );
        assert!(
            !server.stderr().contains("clock set to"),
            "{mode}: {}",
            server.stderr()
        );
    }
}
