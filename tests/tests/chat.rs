//! Chat: the notes' clients in Minnow's room, Minnow's client in the notes'
//! room, many clients, slow readers, a full room, long lines, resets.

use std::time::Duration;

use minnow_tests::scenarios;
use minnow_tests::{NETS, Netns, client_addr};

const T: Duration = Duration::from_secs(90);

#[test]
fn three_notes_clients_reproduce_the_transcript() {
    scenarios::chat_transcript(&Netns::new(), &[]);
}

#[test]
fn ipv6_members_are_written_as_python_writes_them() {
    let ns = Netns::new();
    let _server = ns.serve(&[]);
    let a = ns.spawn(ns.peer_command("chat_client.py", &[Netns::MINNOW_V6, "9009"]));
    assert!(a.wait_for_stdout("You can start", T));
    let mut b = ns.spawn(ns.peer_command("chat_client.py", &[Netns::MINNOW_V6, "9009"]));
    assert!(b.wait_for_stdout("You can start", T));
    assert!(a.wait_for_stdout("[2001:db8::1:", T), "{}", a.dump());
    b.write_stdin(b"hello six\n");
    assert!(a.wait_for_stdout("\r[('2001:db8::1', ", T), "{}", a.dump());
    assert!(a.wait_for_stdout(")] hello six\n", T), "{}", a.dump());
}

#[test]
fn minnow_chat_client_in_the_notes_room() {
    for net in NETS {
        let ns = Netns::new();
        let me_ip = client_addr(net);
        let mut room = ns.spawn_peer("chat_server.py", &[Netns::HOST_V4, "9009"]);
        let mut other = ns.spawn(ns.peer_command("chat_client.py", &[Netns::HOST_V4, "9009"]));
        assert!(other.wait_for_stdout("You can start", T));
        let mut me = ns.spawn(ns.minnow_command(&["chat", "192.0.2.1:9009", "--net", net]));
        assert!(
            me.wait_for_stdout(
                "Connected to remote host. You can start sending messages\n",
                T
            ),
            "{net}: {}",
            me.dump()
        );
        assert!(
            other.wait_for_stdout(&format!("[{me_ip}:"), T),
            "{net}: {}",
            other.dump()
        );
        me.write_stdin(b"hello from minnow\n");
        assert!(
            other.wait_for_stdout(&format!("\r[('{me_ip}', "), T),
            "{net}: {}",
            other.dump()
        );
        assert!(
            other.wait_for_stdout(")] hello from minnow\n", T),
            "{net}: {}",
            other.dump()
        );
        other.write_stdin("你好, minnow\n".as_bytes());
        assert!(
            me.wait_for_stdout(")] 你好, minnow\n", T),
            "{net}: {}",
            me.dump()
        );
        // The server goes away: the client says so and exits 0.
        room.kill();
        let status = me.wait(T).expect("minnow chat still running");
        assert!(status.success(), "{net}: {}", me.dump());
        assert!(
            me.stdout().ends_with("\nDisconnected from chat server\n"),
            "{net}: {}",
            me.dump()
        );
        other.kill();
    }
}

/// Runs a Python scenario inside the namespace against Minnow's room.
fn scenario(ns: &Netns, what: &str, script: &str, args: &[&str]) -> String {
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]).args(args);
    let out = ns.run(cmd, T);
    out.assert_success(what);
    out.stdout
}

const MANY: &str = r#"
import re, selectors, socket, sys, time
N, M = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(N):
    s = socket.create_connection(('192.0.2.2', 9009), timeout=10)
    socks.append(s)
time.sleep(1.0)
ports = {s.getsockname()[1]: i for i, s in enumerate(socks)}
sel = selectors.DefaultSelector()
bufs = [b''] * N
for i, s in enumerate(socks):
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
out = [[f'c{i} m{j} {"x" * (j % 40)}\n'.encode() for j in range(M)] for i in range(N)]
sent = [0] * N
got = [[[] for _ in range(N)] for _ in range(N)]   # got[receiver][sender] = list of j
total = [0] * N
deadline = time.time() + 60
want = (N - 1) * M
pat = re.compile(rb"\r\[\('192\.0\.2\.1', (\d+)\)\] c(\d+) m(\d+) x*\n")
while time.time() < deadline and min(total) < want:
    for i, s in enumerate(socks):
        if sent[i] < M:
            try:
                s.send(out[i][sent[i]]); sent[i] += 1
            except BlockingIOError:
                pass
    for key, _ in sel.select(timeout=0.01):
        i = key.data
        try:
            data = key.fileobj.recv(65536)
        except BlockingIOError:
            continue
        bufs[i] += data
        while True:
            m = pat.search(bufs[i])
            if not m: break
            port, sender, j = int(m.group(1)), int(m.group(2)), int(m.group(3))
            assert ports[port] == sender, (port, sender)
            got[i][sender].append(j); total[i] += 1
            bufs[i] = bufs[i][m.end():]
for i in range(N):
    assert total[i] == want, (i, total[i], want)
    for k in range(N):
        if k != i:
            assert got[i][k] == list(range(M)), (i, k, got[i][k][:10])
print('all', N * want, 'lines delivered in per-sender order')
"#;

#[test]
fn sixty_four_clients_a_hundred_lines_each_everyone_gets_everything_in_order() {
    let ns = Netns::new();
    let server = ns.serve(&[]);
    let out = scenario(&ns, "64 x 100", MANY, &["64", "100"]);
    assert!(out.contains("all 403200 lines delivered"), "{out}");
    assert!(
        !server.stderr().contains("stopped reading"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_nobody_loses_a_line() {
    let ns = Netns::new();
    let server = ns.serve(&["--chat-queue", "8192", "--chat-stall-ms", "500"]);
    let script = r#"
import socket, time
stuck = socket.create_connection(('192.0.2.2', 9009), timeout=10)   # never reads
stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
a = socket.create_connection(('192.0.2.2', 9009), timeout=30)
b = socket.create_connection(('192.0.2.2', 9009), timeout=30)
time.sleep(0.5)
line = b'y' * 200 + b'\n'
n = 2000
import threading
def send():
    for _ in range(n):
        a.sendall(line)
t = threading.Thread(target=send); t.start()
got = b''
stuck_port = stuck.getsockname()[1]
want = n * (len(line) + len(b"\r[('192.0.2.1', %d)] " % a.getsockname()[1]))
offline = b'Client (192.0.2.1, %d) is offline\n' % stuck_port
deadline = time.time() + 60
while time.time() < deadline:
    got += b.recv(1 << 20)
    body = got.replace(offline, b'')
    body = body[body.index(b'\r'):] if b'\r' in body else b''
    if len(body) >= want and offline in got:
        break
t.join()
assert offline in got, got[-200:]
body = got.replace(offline, b'')
body = body[body.index(b'\r'):]
assert len(body) == want, (len(body), want)
print('ok')
"#;
    scenario(&ns, "slow reader", script, &[]);
    assert!(
        server.stderr().contains("stopped reading: disconnected"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_full_room_refuses_the_next_client_and_the_others_notice_nothing() {
    let ns = Netns::new();
    // Both members come from one address: let it hold the whole room.
    let _server = ns.serve(&["--chat-members", "2", "--per-source", "2"]);
    let script = r#"
import socket, time
a = socket.create_connection(('192.0.2.2', 9009), timeout=10)
b = socket.create_connection(('192.0.2.2', 9009), timeout=10)
time.sleep(0.3)
c = socket.create_connection(('192.0.2.2', 9009), timeout=10)
assert c.recv(100) == b'room full\n'
assert c.recv(100) == b''
time.sleep(0.3)
a.settimeout(0.5)
first = a.recv(1000)
assert first.endswith(b'entered our chatting room\n') and first.count(b'\n') == 1, first
try:
    more = a.recv(1000)
    raise SystemExit('a heard about the refused client: %r' % more)
except socket.timeout:
    pass
b.sendall(b'still here\n')
a.settimeout(5)
assert a.recv(1000).endswith(b'] still here\n')
print('ok')
"#;
    scenario(&ns, "room full", script, &[]);
}

#[test]
fn long_lines_partial_lines_binary_bytes_and_resets() {
    let ns = Netns::new();
    // Every byte value, controls included, relayed as the notes' server
    // does (tests/hostile.rs checks the default, which replaces controls).
    let _server = ns.serve(&["--chat-raw"]);
    let script = r#"
import socket, struct, time
a = socket.create_connection(('192.0.2.2', 9009), timeout=10)
b = socket.create_connection(('192.0.2.2', 9009), timeout=10)
time.sleep(0.3)
a.settimeout(5)
a.recv(1000)   # b's join notice
pb = b"\r[('192.0.2.1', %d)] " % b.getsockname()[1]
def read_exactly(n):
    data = b''
    while len(data) < n:
        data += a.recv(n - len(data))
    return data
# 3000 bytes and a newline: pieces of 1024, 1024, 953.
long = bytes(range(256)).replace(b'\n', b'.') * 11
long = long[:3000] + b'\n'
b.sendall(long)
want = pb + long[:1024] + pb + long[1024:2048] + pb + long[2048:]
got = read_exactly(len(want))
assert got == want, (len(got), got[:80])
# A partial line, then a clean close: the piece first, then the notice.
b.sendall(b'no newline')
time.sleep(0.2)
b.close()
want = pb + b'no newline' + b'Client (192.0.2.1, %d) is offline\n' % int(pb.split(b', ')[1].split(b')')[0])
got = read_exactly(len(want))
assert got == want, got
# A client that resets: the others get its offline notice.
c = socket.create_connection(('192.0.2.2', 9009), timeout=10)
cport = c.getsockname()[1]
time.sleep(0.3)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
want = b'[192.0.2.1:%d] entered our chatting room\n' % cport + b'Client (192.0.2.1, %d) is offline\n' % cport
got = read_exactly(len(want))
assert got == want, got
print('ok')
"#;
    scenario(&ns, "long, partial, reset", script, &[]);
}
