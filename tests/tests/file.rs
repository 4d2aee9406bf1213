//! File transfer: the notes' client against Minnow's server, Minnow's client
//! against the notes' server, every size boundary, hostile requests and
//! clients, each checked by SHA-256.

use std::path::Path;
use std::time::Duration;

use minnow_tests::scenarios::{self, FILE_SIZES as SIZES, file_client, files, serve_files};
use minnow_tests::{NETS, Netns, Proc, TempDir, minnow_bin, peer, sha256_file, sha256_hex};

const T: Duration = Duration::from_secs(120);

#[test]
fn notes_file_client_gets_default_and_named_files_of_every_size() {
    scenarios::file_every_size(&Netns::new(), &[]);
}

#[test]
fn minnow_get_against_notes_file_server_every_size() {
    let ns = Netns::new();
    let dir = files();
    let out = TempDir::new("minnow-out");
    for (i, size) in SIZES.iter().enumerate() {
        let name = format!("f{size}.bin");
        let port = (60000 + i).to_string();
        let src = dir.join(&name);
        let _server = ns.spawn_peer(
            "file_server.py",
            &[Netns::HOST_V4, &port, src.to_str().unwrap()],
        );
        for net in NETS {
            let got = out.join(format!("{name}.{net}"));
            let mut cmd = ns.command(minnow_bin());
            cmd.args([
                "get",
                &format!("192.0.2.1:{port}"),
                "-o",
                got.to_str().unwrap(),
                "--net",
                net,
            ]);
            let run = ns.run(cmd, T);
            run.assert_success(&format!("{name} --net {net}"));
            assert!(
                run.stdout.contains(&format!("received {size} bytes")),
                "{net}: {}",
                run.stdout
            );
            assert_eq!(sha256_file(&got), sha256_file(&src), "{name} --net {net}");
            assert!(!Path::new(&format!("{}.part", got.display())).exists());
        }
    }
}

#[test]
fn one_gibibyte_generated_on_the_fly() {
    let ns = Netns::new();
    let dir = TempDir::new("minnow-big");
    let big = dir.join("big.bin");
    // Generated here, never committed: 1 GiB of a cheap pseudo-random stream.
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&block).unwrap();
        }
    }
    std::fs::write(dir.join("hello.txt"), b"hi\n").unwrap();
    let _server = serve_files(&ns, dir.path(), &["--file-buffer", "262144"]);
    let got = dir.join("got.bin");
    let run = file_client(&ns, Netns::MINNOW_V4, &got, Some("GET big.bin"));
    run.assert_success("1 GiB download");
    assert!(run.stdout.contains("(1073741824 bytes)"), "{}", run.stdout);
    assert_eq!(sha256_file(&got), sha256_file(&big));
}

#[test]
fn eight_downloads_at_once() {
    let ns = Netns::new();
    let dir = files();
    let out = TempDir::new("minnow-out");
    // Eight downloads from one address: all eight sockets may be its.
    let _server = serve_files(&ns, dir.path(), &["--per-source", "8"]);
    let procs: Vec<(Proc, std::path::PathBuf)> = (0..8)
        .map(|i| {
            let got = out.join(format!("dl{i}"));
            let mut cmd = ns.command("python3");
            cmd.arg(peer("file_client.py")).args([
                Netns::MINNOW_V4,
                "60000",
                got.to_str().unwrap(),
                "GET f10485760.bin",
            ]);
            (ns.spawn(cmd), got)
        })
        .collect();
    let want = sha256_file(&dir.join("f10485760.bin"));
    for (mut p, got) in procs {
        let status = p.wait(T).expect("download still running");
        assert!(status.success(), "{}", p.dump());
        assert_eq!(sha256_file(&got), want);
    }
}

/// Sends raw request bytes from Python and returns what the server sent back.
fn raw_request(ns: &Netns, request_hex: &str, shutdown: bool) -> Vec<u8> {
    let script = r#"
import socket, sys
s = socket.create_connection(('192.0.2.2', 60000), timeout=30)
s.sendall(bytes.fromhex(sys.argv[1]))
if sys.argv[2] == '1':
    s.shutdown(socket.SHUT_WR)
data = b''
while True:
    c = s.recv(65536)
    if not c: break
    data += c
sys.stdout.buffer.write(data)
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script, request_hex, if shutdown { "1" } else { "0" }]);
    let run = ns.run(cmd, T);
    run.assert_success("raw request");
    run.stdout_bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn traversal_and_bad_names_are_refused() {
    let ns = Netns::new();
    let dir = files();
    let outside = TempDir::new("minnow-secret");
    std::fs::write(outside.join("secret"), b"top secret").unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), dir.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.join("linkdir")).unwrap();
    let _server = serve_files(&ns, dir.path(), &[]);
    let long = format!("GET {}\n", "a".repeat(250));
    let requests: Vec<Vec<u8>> = vec![
        b"GET ../etc/passwd\n".to_vec(),
        b"GET /etc/passwd\n".to_vec(),
        b"GET %2e%2e/%2e%2e/etc/passwd\n".to_vec(),
        b"GET f1.bin\0.txt\n".to_vec(),
        b"GET a/../../x\n".to_vec(),
        b"GET link\n".to_vec(),
        b"GET linkdir/secret\n".to_vec(),
        b"GET \xff\xfe\n".to_vec(),
        long.into_bytes(),
        b"GET nope.bin\n".to_vec(),
    ];
    for req in &requests {
        assert_eq!(
            raw_request(&ns, &hex(req), false),
            b"ERR not found\n",
            "{:?}",
            String::from_utf8_lossy(req)
        );
    }
}

#[test]
fn empty_overlong_binary_and_silent_requests() {
    let ns = Netns::new();
    let dir = files();
    let _server = serve_files(&ns, dir.path(), &["--file-request-timeout", "2"]);
    let hello = b"Hello from Minnow's file server\n".to_vec();
    // Empty: FIN with no byte gets the default file, as the notes' server does.
    assert_eq!(raw_request(&ns, "", true), hello);
    // Binary garbage is "anything else": the default file.
    assert_eq!(raw_request(&ns, "00ff10fe", false), hello);
    // Overlong without a line end.
    assert_eq!(
        raw_request(&ns, &hex(&[b'x'; 400]), false),
        b"ERR request too long\n"
    );
    // Silent: nothing within the request timeout.
    assert_eq!(raw_request(&ns, "", false), b"ERR timeout\n");
}

#[test]
fn vanishing_and_non_reading_clients_do_not_stall_others() {
    let ns = Netns::new();
    let dir = files();
    let out = TempDir::new("minnow-out");
    let server = serve_files(&ns, dir.path(), &[]);
    let script = r#"
import socket, struct, time
# A client that never reads, and one that resets mid-transfer.
stuck = socket.create_connection(('192.0.2.2', 60000), timeout=10)
stuck.sendall(b'GET f10485760.bin\n')
gone = socket.create_connection(('192.0.2.2', 60000), timeout=10)
gone.sendall(b'GET f10485760.bin\n')
gone.recv(1000)
gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
gone.close()
time.sleep(60)
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]);
    let _bad = ns.spawn(cmd);
    assert!(
        server.wait_for_stderr("went away", T),
        "{}",
        server.stderr()
    );
    let got = out.join("ok.bin");
    file_client(&ns, Netns::MINNOW_V4, &got, Some("GET f10485760.bin"))
        .assert_success("download beside bad clients");
    assert_eq!(sha256_file(&got), sha256_file(&dir.join("f10485760.bin")));
}

#[test]
fn minnow_get_keeps_partial_data_on_reset_and_timeout() {
    let ns = Netns::new();
    let out = TempDir::new("minnow-out");
    // A server that sends 100000 bytes then resets, or then stalls.
    let script = r#"
import socket, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('192.0.2.1', port)); s.listen(5)
while True:
    c, _ = s.accept()
    if not c.recv(1024):
        continue  # the harness's readiness probe
    c.sendall(b'z' * 100000)
    time.sleep(0.5)
    if mode == 'reset':
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        c.close()
    else:
        time.sleep(30)
"#;
    for (mode, port, extra, net) in [
        ("reset", "60001", vec![], "tap"),
        ("stall", "60002", vec!["--timeout", "2"], "tap"),
        ("reset", "60003", vec![], "os"),
        ("stall", "60004", vec!["--timeout", "2"], "os"),
    ] {
        let mut cmd = ns.command("python3");
        cmd.args(["-c", script, mode, port]);
        let _srv = ns.spawn(cmd);
        assert!(ns.wait_tcp(
            Netns::HOST_V4,
            port.parse().unwrap(),
            Duration::from_secs(10)
        ));
        let got = out.join(format!("{mode}.{net}"));
        let mut cmd = ns.command(minnow_bin());
        cmd.args([
            "get",
            &format!("192.0.2.1:{port}"),
            "x",
            "-o",
            got.to_str().unwrap(),
            "--net",
            net,
        ])
        .args(&extra);
        let run = ns.run(cmd, T);
        assert_eq!(
            run.status.and_then(|s| s.code()),
            Some(1),
            "{mode} {net}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("incomplete"),
            "{mode} {net}: {}",
            run.stderr
        );
        assert!(
            !got.exists(),
            "{mode} {net}: a truncated file must not look complete"
        );
        let part = std::fs::read(format!("{}.part", got.display())).unwrap();
        assert_eq!(
            sha256_hex(&part),
            sha256_hex(&[b'z'; 100000]),
            "{mode} {net}"
        );
    }
}

#[test]
fn minnow_get_reports_a_missing_file() {
    let ns = Netns::new();
    let dir = files();
    let out = TempDir::new("minnow-out");
    // Minnow to Minnow: the server on tap0 in 192.0.2.0/26, the client on a
    // second TAP in 192.0.2.64/26, Linux routing between them.
    let d = dir.path().to_str().unwrap();
    let _server = ns.minnow(&[
        "serve",
        "--tap",
        "tap0",
        "--ip",
        "192.0.2.2/26",
        "--gateway",
        "192.0.2.1",
        "--files",
        d,
        "--default",
        "hello.txt",
    ]);
    let client = ns.routed_second_link();
    let got = out.join("hello");
    let mut cmd = ns.command(minnow_bin());
    cmd.args(["get", "192.0.2.2", "-o", got.to_str().unwrap()])
        .args(client);
    ns.run(cmd, T)
        .assert_success("minnow get from minnow serve");
    assert_eq!(
        std::fs::read(&got).unwrap(),
        b"Hello from Minnow's file server\n"
    );
    let got = out.join("x");
    let mut cmd = ns.command(minnow_bin());
    cmd.args([
        "get",
        "192.0.2.2",
        "missing.bin",
        "-o",
        got.to_str().unwrap(),
    ])
    .args(client);
    let run = ns.run(cmd, T);
    // 69: the server refused.
    assert_eq!(
        run.status.and_then(|s| s.code()),
        Some(69),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    assert!(!got.exists());
}

/// Runs a Python script inside the namespace; its stdout.
fn python(ns: &Netns, script: &str, args: &[&str]) -> String {
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]).args(args);
    let run = ns.run(cmd, T);
    run.assert_success("python client");
    run.stdout
}

#[test]
fn a_thousand_requests_while_a_folder_and_a_symlink_swap_leak_nothing_from_outside() {
    let ns = Netns::new();
    let dir = files();
    let outside = TempDir::new("minnow-secret");
    std::fs::write(outside.join("data"), b"SECRET-OUTSIDE").unwrap();
    std::fs::create_dir(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/data"), b"inside").unwrap();
    let _server = serve_files(&ns, dir.path(), &[]);
    // Another process keeps putting the folder and a symlink to the outside
    // folder in turn at `swap`.
    let swapper = r#"
import os, sys
d, out = sys.argv[1], sys.argv[2]
os.chdir(d)
while True:
    os.rename('real', 'swap'); os.rename('swap', 'real')
    os.symlink(out, 'swap'); os.unlink('swap')
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", swapper, dir.path().to_str().unwrap()])
        .arg(outside.path());
    let _swapper = ns.spawn(cmd);
    let client = r#"
import socket
inside = refused = leaked = other = 0
for i in range(1000):
    s = socket.create_connection(('192.0.2.2', 60000), timeout=30)
    s.sendall(b'GET swap/data\n')
    data = b''
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
    s.close()
    if b'SECRET' in data: leaked += 1
    elif data == b'inside': inside += 1
    elif data == b'ERR not found\n': refused += 1
    else: other += 1
print(inside, refused, leaked, other)
"#;
    let out = python(&ns, client, &[]);
    let counts: Vec<u32> = out.split_whitespace().map(|n| n.parse().unwrap()).collect();
    let [inside, refused, leaked, other] = counts[..] else {
        panic!("{out}")
    };
    eprintln!("swap race: {inside} served from inside, {refused} refused");
    assert_eq!((leaked, other), (0, 0), "{out}");
    assert_eq!(inside + refused, 1000, "{out}");
    // The race did happen: both outcomes were seen.
    assert!(inside > 0 && refused > 0, "{out}");
}

/// A device node in `dir`: `mknod` as root; where a user namespace refuses
/// device nodes (rootless mode), /dev/null bind-mounted on a file there,
/// which the test's private mount namespace allows. Either way the server
/// opens a character device.
fn plant_device(dir: &Path) -> &'static str {
    let path = dir.join("null");
    let made = std::process::Command::new("mknod")
        .arg(&path)
        .args(["c", "1", "3"])
        .output()
        .expect("run mknod");
    if made.status.success() {
        return "mknod";
    }
    std::fs::write(&path, b"not a device").unwrap();
    let bound = std::process::Command::new("mount")
        .args(["--bind", "/dev/null"])
        .arg(&path)
        .output()
        .expect("run mount");
    assert!(
        bound.status.success(),
        "neither mknod ({}) nor a bind mount ({}) made a device node",
        String::from_utf8_lossy(&made.stderr),
        String::from_utf8_lossy(&bound.stderr)
    );
    "bind mount of /dev/null"
}

#[test]
fn a_fifo_and_a_device_are_refused_at_once_and_others_are_served() {
    let ns = Netns::new();
    let dir = files();
    mkfifo(&dir.join("fifo"));
    let how = plant_device(dir.path());
    eprintln!("device node by {how}");
    let _server = serve_files(&ns, dir.path(), &[]);
    let client = r#"
import socket, sys, time
def get(req):
    s = socket.create_connection(('192.0.2.2', 60000), timeout=30)
    s.sendall(req)
    data = b''
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
    return data
# A download held open meanwhile: the server must keep moving it.
held = socket.create_connection(('192.0.2.2', 60000), timeout=30)
held.sendall(b'GET f10485760.bin\n')
first = held.recv(65536)
for name in sys.argv[1:]:
    t = time.monotonic()
    data = get(b'GET ' + name.encode() + b'\n')
    print(name, round(time.monotonic() - t, 3), data.hex())
rest = len(first)
while True:
    c = held.recv(1 << 20)
    if not c: break
    rest += len(c)
print('held', rest)
"#;
    let out = python(&ns, client, &["fifo", "null", "hello.txt", "fifo"]);
    let hello = hex(b"Hello from Minnow's file server\n");
    let refused = hex(b"ERR not found\n");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 5, "{out}");
    for (line, want) in lines[..4]
        .iter()
        .zip([&refused, &refused, &hello, &refused])
    {
        assert_eq!(line[2], want.as_str(), "{out}");
        let secs: f64 = line[1].parse().unwrap();
        assert!(secs < 1.0, "{} took {secs} s: {out}", line[0]);
    }
    assert_eq!(lines[4], ["held", "10485760"], "{out}");
    if how != "mknod" {
        let _ = std::process::Command::new("umount")
            .arg(dir.join("null"))
            .status();
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

#[test]
fn split_requests_are_read_whole_and_dot_files_refused() {
    let ns = Netns::new();
    let dir = files();
    std::fs::write(dir.join("na"), b"the wrong file").unwrap();
    std::fs::write(dir.join("name"), b"the right file").unwrap();
    std::fs::write(dir.join(".secret"), b"hidden").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/.htpasswd"), b"hidden").unwrap();
    let _server = serve_files(&ns, dir.path(), &[]);
    // Each argument: the request's parts, separated by '|', sent 200 ms apart.
    let client = r#"
import socket, sys, time
for req in sys.argv[1:]:
    s = socket.create_connection(('192.0.2.2', 60000), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, part in enumerate(req.split('|')):
        if i: time.sleep(0.2)
        s.sendall(part.encode())
    data = b''
    while True:
        c = s.recv(65536)
        if not c: break
        data += c
    print(data.hex())
"#;
    let out = python(
        &ns,
        client,
        &[
            "GET na|me\n",
            "G|ET n|ame\n",
            "GET name",
            "Hello |server!",
            "GET .secret\n",
            "GET sub/.htpasswd\n",
        ],
    );
    let right = hex(b"the right file");
    let hello = hex(b"Hello from Minnow's file server\n");
    let refused = hex(b"ERR not found\n");
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(
        got,
        [&right, &right, &right, &hello, &refused, &refused],
        "{out}"
    );
}
