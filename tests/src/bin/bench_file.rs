//! The file-transfer benchmark (issue 3): downloading one big file from
//! Minnow's file server over the TAP device, beside raw smoltcp on the same
//! TAP device and the Linux kernel over a veth pair, side by side in one run
//! (the machines are shared and noisy, so the ratios matter more than the
//! figures); then the server's peak memory for a small and a huge download.
//!
//! ```sh
//! sudo MINNOW_TEST_RELEASE=1 cargo run --release -p minnow-tests --bin bench-file -- \
//!     [--bytes N] [--repeat R] [--only ROW,...] [--rss-sizes 1M,1G] [--no-rss]
//! ```
//!
//! Every row is measured in `--repeat` interleaved rounds (default 3: the
//! machines are shared), and the table shows the best and the median; the
//! server's CPU time per byte is the figure other load moves least.
//!
//! Servers, each sending the same `--bytes` file (default 256 MiB) as the
//! answer to the notes' request `Hello server!`:
//!
//! - `minnow serve --files DIR --default big.bin` on the TAP device (and a
//!   tuned row with `--file-buffer 262144`);
//! - raw smoltcp on the same TAP device, the method of smoltcp's
//!   `examples/benchmark.rs` (smoltcp's own `TunTapInterface`, `phy::wait`,
//!   bare TCP sockets reading the file into their transmit buffers, the same
//!   1 KiB / 64 KiB buffers as Minnow's file sockets): this binary's
//!   `raw-server` mode;
//! - the Linux kernel in a second namespace joined by a veth pair: the notes'
//!   `file_server.py`, and a Python `socket.sendfile` server (the kernel
//!   copies page cache to socket, so it is the kernel's best).
//!
//! Clients, in the namespace that holds the TAP device: a Rust std
//! `TcpStream` reading 256 KiB at a time and comparing every byte with the
//! file (C speed, in this process); `socat` to `/dev/null` (its byte count
//! from its `-d -d -d` log); the notes' `file_client.py` writing to
//! `/dev/null`. MB/s = 10^6 bytes of file per second; the external clients'
//! time runs from spawn to exit (process start-up included: a few ms).
//!
//! Memory: a fresh `minnow serve` per size (default 1 MiB and 1 GiB, files
//! made on the fly in a temporary folder and removed), `VmHWM` from
//! `/proc/PID/status` once ready and after the download.
//!
//! Network safety: all traffic stays inside the namespaces created here,
//! addresses come from 192.0.2.0/24 only, every run is bounded in time, and
//! processes are killed by PID (the harness does so on drop).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use minnow_tests::bench::raw::{MAX_SECS as RAW_MAX_SECS, READY as RAW_READY};
use minnow_tests::bench::{
    self, Measured, VETH_SERVER_V4, best_median, cpu_secs, fmt_best_median, load_note, minnow_note,
    parse_size, run_measured, runq_wait_secs, size_name, status_kib, stop, thread_cpu_secs,
    verdict, veth_pair, wait_listening,
};
use minnow_tests::{Netns, Proc, TempDir, minnow_bin, peer, python3, random_bytes};

/// The notes' file port.
const PORT: u16 = 60000;
/// The file every server sends (Minnow's `--default`).
const FILE_NAME: &str = "big.bin";
/// What every client sends: the notes' request (Minnow answers it with the default file),
/// with a line end: without one Minnow waits for a 500 ms pause (the request may be split
/// across segments), which would be timed as transfer; the notes' server ignores it.
const REQUEST: &[u8] = b"Hello server!\n";
/// Minnow's file sockets by default (`--file-buffer`; the receive side holds a request).
const FILE_TX: usize = 65536;
const FILE_RX: usize = 1024;
/// Sockets of the raw server (downloads in a row while earlier ones sit in TIME-WAIT).
const RAW_SOCKETS: usize = 8;

/// The Rust client's read buffer.
const READ_BUF: usize = 256 * 1024;
/// Period of the file's byte pattern: not a multiple of any buffer size, so a
/// dropped, repeated or reordered block shows up.
const PATTERN_PERIOD: usize = (1 << 20) + 4093;
const PATTERN_SEED: u64 = 0x6d6e_7746;
/// No byte for this long fails a download.
const STALL: Duration = Duration::from_secs(10);
/// The longest one download may take.
const LIMIT: Duration = Duration::from_secs(180);

/// The `socket.sendfile` server (the kernel copies the file; Python only accepts).
const SENDFILE_PY: &str = r#"
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(5)
print("listening", flush=True)
while True:
    conn, _ = s.accept()
    try:
        conn.recv(1024)
        with open(path, "rb") as f:
            conn.sendfile(f)
    except OSError as e:
        print("error:", e, flush=True)
    conn.close()
"#;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    /// `minnow serve --files DIR --default big.bin EXTRA` on the TAP device.
    Minnow { extra: &'static [&'static str] },
    /// This binary's `raw-server` on the TAP device.
    Raw,
    /// The notes' `file_server.py` in the kernel namespace (veth).
    NotesPy,
    /// A Python `socket.sendfile` server in the kernel namespace (veth).
    Sendfile,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Minnow { extra: [] } => "Minnow serve (64 KiB file buffer)",
            Server::Minnow { extra: [_, _] } => "Minnow serve --file-buffer 262144",
            Server::Minnow { .. } => "Minnow serve --no-echo --no-time --no-chat",
            Server::Raw => "raw smoltcp (64 KiB tx buffer)",
            Server::NotesPy => "Linux kernel, file_server.py",
            Server::Sendfile => "Linux kernel, Python sendfile",
        }
    }

    fn link(self) -> &'static str {
        match self {
            Server::Minnow { .. } | Server::Raw => "TAP",
            Server::NotesPy | Server::Sendfile => "veth",
        }
    }

    fn addr(self) -> &'static str {
        match self {
            Server::Minnow { .. } | Server::Raw => Netns::MINNOW_V4,
            Server::NotesPy | Server::Sendfile => VETH_SERVER_V4,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Client {
    /// Rust std `TcpStream` in this process, every byte compared.
    Rust,
    /// `socat -b 262144 - TCP:...` with stdout to /dev/null.
    Socat,
    /// The notes' `file_client.py`, writing to /dev/null.
    NotesPy,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Rust => "Rust std (checked)",
            Client::Socat => "socat > /dev/null",
            Client::NotesPy => "file_client.py",
        }
    }
}

struct Spec {
    key: &'static str,
    server: Server,
    client: Client,
}

const MINNOW: Server = Server::Minnow { extra: &[] };
const MINNOW_BUF: Server = Server::Minnow {
    extra: &["--file-buffer", "262144"],
};
/// The file server alone: 8 sockets in the set instead of about 300.
const MINNOW_ALONE: Server = Server::Minnow {
    extra: &["--no-echo", "--no-time", "--no-chat"],
};

/// The rows, grouped by server (each server is started once per round for its clients).
const ROWS: &[Spec] = &[
    Spec {
        key: "minnow-rust",
        server: MINNOW,
        client: Client::Rust,
    },
    Spec {
        key: "minnow-socat",
        server: MINNOW,
        client: Client::Socat,
    },
    Spec {
        key: "minnow-py",
        server: MINNOW,
        client: Client::NotesPy,
    },
    Spec {
        key: "raw-rust",
        server: Server::Raw,
        client: Client::Rust,
    },
    Spec {
        key: "raw-socat",
        server: Server::Raw,
        client: Client::Socat,
    },
    Spec {
        key: "raw-py",
        server: Server::Raw,
        client: Client::NotesPy,
    },
    Spec {
        key: "kpy-rust",
        server: Server::NotesPy,
        client: Client::Rust,
    },
    Spec {
        key: "kpy-socat",
        server: Server::NotesPy,
        client: Client::Socat,
    },
    Spec {
        key: "kpy-py",
        server: Server::NotesPy,
        client: Client::NotesPy,
    },
    Spec {
        key: "sendfile-rust",
        server: Server::Sendfile,
        client: Client::Rust,
    },
    Spec {
        key: "sendfile-socat",
        server: Server::Sendfile,
        client: Client::Socat,
    },
    Spec {
        key: "sendfile-py",
        server: Server::Sendfile,
        client: Client::NotesPy,
    },
    Spec {
        key: "minnow-buf-rust",
        server: MINNOW_BUF,
        client: Client::Rust,
    },
    Spec {
        key: "minnow-alone-rust",
        server: MINNOW_ALONE,
        client: Client::Rust,
    },
];

fn usage() -> ! {
    eprintln!(
        "usage: bench-file [--bytes N[K|M|G]] [--repeat R] [--only ROW,...] [--rss-sizes N,N,...] [--no-rss]\n\
         \x20      bench-file raw-server --tap NAME --file PATH [--port PORT] [--tx-buffer BYTES]\n\
         Run as root: it creates network namespaces and TAP devices. Rows:"
    );
    for s in ROWS {
        eprintln!(
            "  {:<16} {} [{}] <- {}",
            s.key,
            s.server.name(),
            s.server.link(),
            s.client.name()
        );
    }
    std::process::exit(2)
}

struct Opts {
    bytes: u64,
    repeat: usize,
    only: Option<Vec<String>>,
    rss_sizes: Vec<u64>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("raw-server") {
        raw::main(&args[1..]);
        return;
    }
    let mut o = Opts {
        bytes: 256 << 20,
        repeat: 3,
        only: None,
        rss_sizes: vec![1 << 20, 1 << 30],
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--bytes" => o.bytes = parse_size(&val()).unwrap_or_else(|| usage()),
            "--repeat" => o.repeat = val().parse().unwrap_or_else(|_| usage()),
            "--rss-sizes" => {
                o.rss_sizes = val()
                    .split(',')
                    .map(|s| parse_size(s).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--no-rss" => o.rss_sizes.clear(),
            "--only" => {
                let keys: Vec<String> = val().split(',').map(str::to_string).collect();
                if let Some(bad) = keys.iter().find(|k| !ROWS.iter().any(|s| s.key == *k)) {
                    eprintln!("bench-file: unknown row {bad:?}");
                    usage();
                }
                o.only = Some(keys);
            }
            _ => usage(),
        }
    }
    if o.bytes == 0
        || o.bytes > 4 << 30
        || !(1..=10).contains(&o.repeat)
        || o.rss_sizes.iter().any(|&s| s == 0 || s > 4 << 30)
    {
        usage();
    }
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    bench(&o);
}

// ---------------------------------------------------------------- the file

/// The file's pattern: byte `i` of the file is `pattern[i % PATTERN_PERIOD]`;
/// the slice is one period plus a read buffer long, so any read compares
/// with one contiguous slice.
fn pattern() -> Vec<u8> {
    let base = random_bytes(PATTERN_PERIOD, PATTERN_SEED);
    let mut p = base.clone();
    p.extend_from_slice(&base[..READ_BUF]);
    p
}

/// Writes `len` bytes of the pattern to `path`.
fn write_file(path: &Path, len: u64, pattern: &[u8]) {
    let mut f = io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    );
    let mut done = 0u64;
    while done < len {
        let off = (done % PATTERN_PERIOD as u64) as usize;
        let n = (len - done).min((PATTERN_PERIOD - off) as u64) as usize;
        f.write_all(&pattern[off..off + n])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        done += n as u64;
    }
    f.flush()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

// ---------------------------------------------------------------- clients

/// One download.
struct Download {
    bytes: u64,
    secs: f64,
    /// The client's CPU time.
    client_cpu: f64,
}

impl Download {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e6
    }
}

/// Connects, retrying while refused (briefly: every server here listens already).
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(1)))?;
                return Ok(s);
            }
            Err(e) if Instant::now() < end && e.kind() == io::ErrorKind::ConnectionRefused => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The Rust client: sends the request and reads to the end, comparing every
/// byte with the pattern. Run on a thread inside the client namespace.
fn rust_download(addr: SocketAddr, len: u64, pattern: &[u8]) -> Result<Download, String> {
    let cpu0 = thread_cpu_secs();
    let start = Instant::now();
    let mut sock = connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    sock.write_all(REQUEST)
        .map_err(|e| format!("request: {e}"))?;
    let mut buf = vec![0u8; READ_BUF];
    let mut got = 0u64;
    let mut last = Instant::now();
    loop {
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let off = (got % PATTERN_PERIOD as u64) as usize;
                if buf[..n] != pattern[off..off + n] {
                    return Err(format!("the file differs near byte {got}"));
                }
                got += n as u64;
                if got > len {
                    return Err(format!("more bytes ({got}) than the file has ({len})"));
                }
                last = Instant::now();
            }
            Err(e) if bench::is_transient(&e) => {}
            Err(e) => return Err(format!("read after {got} bytes: {e}")),
        }
        if last.elapsed() >= STALL {
            return Err(format!("no byte for {STALL:?} after {got} bytes"));
        }
        if start.elapsed() >= LIMIT {
            return Err(format!("time limit {LIMIT:?} reached after {got} bytes"));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if got != len {
        return Err(format!("{got} of {len} bytes arrived"));
    }
    Ok(Download {
        bytes: got,
        secs,
        client_cpu: thread_cpu_secs() - cpu0,
    })
}

/// Sum of socat's `transferred N bytes from A to B` log lines.
fn socat_bytes(log: &str) -> u64 {
    log.lines()
        .filter_map(|l| {
            let rest = l.split_once("transferred ")?.1;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum()
}

/// An external client (socat or file_client.py) run to completion in `ns`.
fn external_download(ns: &Netns, client: Client, addr: &str, len: u64) -> Result<Download, String> {
    let port = PORT.to_string();
    let (cmd, stdin) = match client {
        Client::Socat => {
            let mut cmd = ns.command("sh");
            // -t: after our request's EOF, wait for the whole file (not socat's 0.5 s);
            // -d -d -d: one `transferred N bytes` line per read, counted below.
            cmd.args([
                "-c",
                "exec socat -d -d -d -b 262144 -t 60 - TCP:\"$1\":\"$2\" > /dev/null",
                "sh",
                addr,
                &port,
            ]);
            (cmd, REQUEST)
        }
        Client::NotesPy => {
            let mut cmd = ns.command(python3());
            cmd.arg(peer("file_client.py"))
                .args([addr, &port, "/dev/null"])
                .arg(std::str::from_utf8(REQUEST).unwrap());
            (cmd, &b""[..])
        }
        Client::Rust => unreachable!("not an external client"),
    };
    let m: Measured = run_measured(cmd, stdin, LIMIT);
    if !m.ok() {
        return Err(m.dump(client.name()));
    }
    let got = match client {
        // Our request went out through socat too.
        Client::Socat => socat_bytes(&m.stderr).saturating_sub(REQUEST.len() as u64),
        _ => m
            .stdout
            .split_once("file (")
            .and_then(|(_, r)| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(0),
    };
    if got != len {
        return Err(format!(
            "{}: {got} of {len} bytes arrived\n{}",
            client.name(),
            m.dump(client.name())
        ));
    }
    Ok(Download {
        bytes: got,
        secs: m.wall.as_secs_f64(),
        client_cpu: m.cpu,
    })
}

// ---------------------------------------------------------------- servers

/// A running server and the process whose CPU time counts.
struct Running {
    proc: Proc,
}

fn start_server(
    client_ns: &Netns,
    server_ns: &Netns,
    server: Server,
    dir: &Path,
    file: &Path,
) -> Running {
    let proc = match server {
        Server::Minnow { extra } => {
            let d = dir.to_str().unwrap();
            let mut args = vec!["--files", d, "--default", FILE_NAME, "--idle-timeout", "60"];
            args.extend_from_slice(extra);
            client_ns.serve(&args)
        }
        Server::Raw => {
            let exe = std::env::current_exe().expect("bench-file: current_exe");
            let mut cmd = client_ns.command(exe);
            cmd.args(["raw-server", "--tap", Netns::TAP]);
            cmd.args(["--file", file.to_str().unwrap()]);
            cmd.args(["--port", &PORT.to_string()]);
            cmd.args(["--tx-buffer", &FILE_TX.to_string()]);
            client_ns.spawn_ready(cmd, RAW_READY, Duration::from_secs(10))
        }
        Server::NotesPy => {
            let port = PORT.to_string();
            server_ns.spawn_peer(
                "file_server.py",
                &[VETH_SERVER_V4, &port, file.to_str().unwrap()],
            )
        }
        Server::Sendfile => {
            let mut cmd = server_ns.command(python3());
            cmd.args(["-c", SENDFILE_PY, VETH_SERVER_V4, &PORT.to_string()]);
            cmd.arg(file);
            let p = server_ns.spawn(cmd);
            wait_listening(&p, PORT);
            p
        }
    };
    Running { proc }
}

// ---------------------------------------------------------------- rows

struct Sample {
    dl: Result<Download, String>,
    /// Server CPU seconds during the download.
    server_cpu: Option<f64>,
    /// Seconds the server waited for a CPU (runnable) during the download.
    server_wait: Option<f64>,
}

struct Row {
    spec: &'static Spec,
    samples: Vec<Sample>,
    notes: Vec<String>,
}

impl Row {
    fn mb_per_s(&self) -> Option<(f64, f64)> {
        let mut v = Vec::new();
        for s in &self.samples {
            v.push(s.dl.as_ref().ok()?.mb_per_s());
        }
        best_median(&v)
    }

    /// The median over the samples of the server's CPU ns per file byte.
    fn ns_per_byte(&self) -> Option<f64> {
        let mut v: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| Some(s.server_cpu? * 1e9 / s.dl.as_ref().ok()?.bytes as f64))
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        (!v.is_empty()).then(|| v[v.len() / 2])
    }

    /// Of the best sample: server CPU ns per file byte; server CPU, server
    /// run-queue wait and client CPU as shares of the download's wall time.
    fn cpu(&self) -> [Option<f64>; 4] {
        let best = self
            .samples
            .iter()
            .filter_map(|s| Some((s.dl.as_ref().ok()?, s)))
            .max_by(|a, b| a.0.mb_per_s().total_cmp(&b.0.mb_per_s()));
        match best {
            Some((d, s)) => [
                s.server_cpu.map(|c| c * 1e9 / d.bytes as f64),
                s.server_cpu.map(|c| c / d.secs),
                s.server_wait.map(|c| c / d.secs),
                Some(d.client_cpu / d.secs),
            ],
            None => [None; 4],
        }
    }
}

fn bench(o: &Opts) {
    minnow_tests::require_root();
    let bin = minnow_bin();
    eprintln!("bench-file: minnow binary {}", bin.display());
    let load_before = load_note();
    let want = |key: &str| {
        o.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|k| k == key))
    };

    let client = Netns::new();
    let server = Netns::new();
    veth_pair(&client, &server);

    let dir = TempDir::new("bench-file");
    let file = dir.join(FILE_NAME);
    let pattern = pattern();
    eprintln!(
        "bench-file: writing {} to {}",
        size_name(o.bytes),
        file.display()
    );
    write_file(&file, o.bytes, &pattern);

    let mut rows: Vec<Row> = ROWS
        .iter()
        .filter(|s| want(s.key))
        .map(|spec| Row {
            spec,
            samples: Vec::new(),
            notes: Vec::new(),
        })
        .collect();
    // Servers in first-row order.
    let mut servers: Vec<Server> = Vec::new();
    for r in &rows {
        if !servers.contains(&r.spec.server) {
            servers.push(r.spec.server);
        }
    }
    for round in 1..=o.repeat {
        for &srv in &servers {
            eprintln!(
                "bench-file: round {round}/{}: {} [{}]",
                o.repeat,
                srv.name(),
                srv.link()
            );
            let running = start_server(&client, &server, srv, dir.path(), &file);
            let addr: SocketAddr = format!("{}:{PORT}", srv.addr()).parse().unwrap();
            for row in rows.iter_mut().filter(|r| r.spec.server == srv) {
                let pid = running.proc.pid();
                let cpu0 = cpu_secs(pid);
                let wait0 = runq_wait_secs(pid);
                let dl = match row.spec.client {
                    Client::Rust => client.enter(|| rust_download(addr, o.bytes, &pattern)),
                    c => external_download(&client, c, srv.addr(), o.bytes),
                };
                let cpu1 = cpu_secs(pid);
                let wait1 = runq_wait_secs(pid);
                match &dl {
                    Ok(d) => eprintln!(
                        "bench-file:   {:<20} {:>8.1} MB/s",
                        row.spec.client.name(),
                        d.mb_per_s()
                    ),
                    Err(e) => eprintln!("bench-file:   {}: FAILED: {e}", row.spec.client.name()),
                }
                row.samples.push(Sample {
                    dl,
                    server_cpu: cpu0.zip(cpu1).map(|(a, b)| b - a),
                    server_wait: wait0.zip(wait1).map(|(a, b)| b - a),
                });
                if !running.proc.is_running() {
                    eprintln!(
                        "bench-file: the server exited during the run\n{}",
                        running.proc.dump()
                    );
                    break;
                }
            }
            let p = stop(running.proc);
            if let Some(note) = minnow_note(&p)
                && let Some(row) = rows.iter_mut().find(|r| r.spec.server == srv)
            {
                row.notes = vec![format!("last round: {note}")];
            }
        }
    }
    let load_after = load_note();
    // The big file goes before the memory part writes its own.
    drop(dir);

    let rss = memory(&client, &o.rss_sizes, &pattern);

    print_table(&rows, o, &load_before, &load_after);
    print_ratios(&rows);
    print_memory(&rss);
}

// ---------------------------------------------------------------- memory

struct Rss {
    size: u64,
    rss_ready_kib: Option<u64>,
    ready_kib: Option<u64>,
    after_kib: Option<u64>,
    rss_after_kib: Option<u64>,
    dl: Result<Download, String>,
}

/// For each size: a fresh `minnow serve` serving a file of that size, one download, `VmHWM` before and after.
fn memory(ns: &Netns, sizes: &[u64], pattern: &[u8]) -> Vec<Rss> {
    let mut out = Vec::new();
    for &size in sizes {
        let dir = TempDir::new("bench-file-rss");
        let path = dir.join(FILE_NAME);
        eprintln!("bench-file: memory: writing {}", size_name(size));
        write_file(&path, size, pattern);
        let d = dir.path().to_str().unwrap();
        let proc = ns.serve(&["--files", d, "--default", FILE_NAME]);
        // Let the first polls settle before the baseline.
        thread::sleep(Duration::from_millis(200));
        let pid = proc.pid();
        let rss_ready_kib = status_kib(pid, "VmRSS");
        let ready_kib = status_kib(pid, "VmHWM");
        let addr: SocketAddr = format!("{}:{PORT}", Netns::MINNOW_V4).parse().unwrap();
        let dl = ns.enter(|| rust_download(addr, size, pattern));
        match &dl {
            Ok(d) => eprintln!("bench-file:   {:.1} MB/s", d.mb_per_s()),
            Err(e) => eprintln!("bench-file:   FAILED: {e}"),
        }
        // The server closes after the last byte; give it a moment to finish.
        thread::sleep(Duration::from_millis(200));
        let after_kib = status_kib(pid, "VmHWM");
        let rss_after_kib = status_kib(pid, "VmRSS");
        stop(proc);
        out.push(Rss {
            size,
            rss_ready_kib,
            ready_kib,
            after_kib,
            rss_after_kib,
            dl,
        });
    }
    out
}

// ---------------------------------------------------------------- report

fn print_table(rows: &[Row], o: &Opts, load_before: &str, load_after: &str) {
    println!();
    println!(
        "File download benchmark: one {} file (`Hello server!` -> the default file), each download checked{}.",
        size_name(o.bytes),
        if o.repeat > 1 {
            format!("; {} interleaved rounds, best / median", o.repeat)
        } else {
            String::new()
        }
    );
    println!(
        "MB/s = 10^6 file bytes/s. Server CPU time during the download (/proc/PID/stat, 10 ms ticks) per file byte,"
    );
    println!(
        "CPU% = CPU time / the download's wall time (100 = one core); srv runq% = time the server was runnable but"
    );
    println!(
        "waited for a CPU (/proc/PID/task/*/schedstat) / wall time: other work on the machine. Figures of the best sample."
    );
    println!("Machine: {load_before} before, {load_after} after.");
    let w = if o.repeat > 1 { 15 } else { 8 };
    println!(
        "{:<44} {:<5} {:<19} {:>w$} {:>9} {:>9} {:>9} {:>9}",
        "server", "link", "client", "MB/s", "srv ns/B", "srv CPU%", "srv runq%", "cli CPU%"
    );
    println!("{}", "-".repeat(44 + 5 + 19 + w + 4 * 9 + 7));
    for r in rows {
        let [nsb, scpu, swait, ccpu] = r.cpu();
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.0}", v * 100.0));
        println!(
            "{:<44} {:<5} {:<19} {:>w$} {:>9} {:>9} {:>9} {:>9}",
            r.spec.server.name(),
            r.spec.server.link(),
            r.spec.client.name(),
            fmt_best_median(r.mb_per_s(), 1, o.repeat),
            nsb.map_or("-".into(), |v| format!("{v:.2}")),
            pct(scpu),
            pct(swait),
            pct(ccpu)
        );
    }
    for r in rows {
        for (i, s) in r.samples.iter().enumerate() {
            if let Err(e) = &s.dl {
                println!(
                    "  {} <- {} round {}: FAILED: {}",
                    r.spec.server.name(),
                    r.spec.client.name(),
                    i + 1,
                    e.lines().next().unwrap_or("")
                );
            }
        }
        for n in &r.notes {
            println!("  {}: {n}", r.spec.server.name());
        }
    }
}

fn find<'a>(rows: &'a [Row], key: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.spec.key == key)
}

fn ratio(what: &str, a: &str, b: &str, rows: &[Row], target: Option<f64>) {
    let (Some(a), Some(b)) = (find(rows, a), find(rows, b)) else {
        return;
    };
    let (Some((ab, am)), Some((bb, bm))) = (a.mb_per_s(), b.mb_per_s()) else {
        println!("{what:<58} n/a (a download failed)");
        return;
    };
    let r = ab / bb;
    let medians = if a.samples.len() > 1 {
        format!("  (medians: {:.2})", am / bm)
    } else {
        String::new()
    };
    let t = target.map_or(String::new(), |t| {
        format!("  target >= {t}: {}", verdict(r, t))
    });
    println!("{what:<58} {r:>6.2}{medians}{t}");
}

/// `b`'s server CPU per byte over `a`'s (above 1: `a` needs less CPU per byte).
fn cpu_ratio(what: &str, a: &str, b: &str, rows: &[Row], target: Option<f64>) {
    let (Some(a), Some(b)) = (find(rows, a), find(rows, b)) else {
        return;
    };
    let (Some(x), Some(y)) = (a.ns_per_byte(), b.ns_per_byte()) else {
        println!("{what:<58} n/a");
        return;
    };
    let r = y / x;
    let t = target.map_or(String::new(), |t| {
        format!("  target >= {t}: {}", verdict(r, t))
    });
    println!(
        "{what:<58} {r:>6.2}  ({} {x:.2} vs {} {y:.2} ns/B){t}",
        a.spec.key, b.spec.key
    );
}

fn print_ratios(rows: &[Row]) {
    println!();
    println!(
        "Server CPU per byte (median of the rounds; the figure least moved by other load on the machine):"
    );
    cpu_ratio(
        "raw smoltcp / Minnow defaults, CPU per byte",
        "minnow-rust",
        "raw-rust",
        rows,
        Some(0.9),
    );
    cpu_ratio(
        "raw smoltcp / Minnow file server alone, CPU per byte",
        "minnow-alone-rust",
        "raw-rust",
        rows,
        Some(0.9),
    );
    println!();
    println!("Ratios (same run, best figures):");
    ratio(
        "Minnow / raw smoltcp, Rust client",
        "minnow-rust",
        "raw-rust",
        rows,
        Some(0.9),
    );
    ratio(
        "Minnow / raw smoltcp, socat client",
        "minnow-socat",
        "raw-socat",
        rows,
        Some(0.9),
    );
    ratio(
        "Minnow / raw smoltcp, file_client.py",
        "minnow-py",
        "raw-py",
        rows,
        None,
    );
    ratio(
        "Minnow / kernel file_server.py, Rust client",
        "minnow-rust",
        "kpy-rust",
        rows,
        None,
    );
    ratio(
        "Minnow / kernel file_server.py, socat client",
        "minnow-socat",
        "kpy-socat",
        rows,
        None,
    );
    ratio(
        "Minnow / kernel file_server.py, file_client.py",
        "minnow-py",
        "kpy-py",
        rows,
        None,
    );
    ratio(
        "Minnow / kernel sendfile, Rust client",
        "minnow-rust",
        "sendfile-rust",
        rows,
        None,
    );
    ratio(
        "Minnow / kernel sendfile, socat client",
        "minnow-socat",
        "sendfile-socat",
        rows,
        None,
    );
    ratio(
        "Minnow --file-buffer 262144 / defaults, Rust client",
        "minnow-buf-rust",
        "minnow-rust",
        rows,
        None,
    );
    ratio(
        "Minnow file server alone / defaults, Rust client",
        "minnow-alone-rust",
        "minnow-rust",
        rows,
        None,
    );
    ratio(
        "Minnow file server alone / raw smoltcp, Rust client",
        "minnow-alone-rust",
        "raw-rust",
        rows,
        None,
    );
}

fn print_memory(rss: &[Rss]) {
    if rss.is_empty() {
        return;
    }
    println!();
    println!(
        "Server memory per download: a fresh `minnow serve --files DIR --default {FILE_NAME}` per size, one download"
    );
    println!(
        "(Rust client, checked); VmHWM = peak resident set from /proc/PID/status. A download's sockets have"
    );
    println!(
        "{} KiB of transmit + {} KiB of receive buffer (--file-buffer); the file is read straight into the",
        FILE_TX / 1024,
        FILE_RX / 1024
    );
    println!("transmit buffer (core/src/file/server.rs), so there is no separate chunk buffer.");
    println!(
        "{:<8} {:>8} {:>14} {:>14} {:>14} {:>14} {:>14}",
        "file", "MB/s", "VmRSS ready", "VmHWM ready", "VmRSS after", "VmHWM after", "growth"
    );
    println!("{}", "-".repeat(8 + 8 + 5 * 14 + 6));
    let kib = |v: Option<u64>| v.map_or("-".into(), |v| format!("{v} KiB"));
    for r in rss {
        // What the download added: the peak after it over the resident set before it.
        let growth = r
            .rss_ready_kib
            .zip(r.after_kib)
            .map(|(a, b)| b as i64 - a as i64);
        println!(
            "{:<8} {:>8} {:>14} {:>14} {:>14} {:>14} {:>14}",
            size_name(r.size),
            r.dl.as_ref()
                .map_or("FAILED".into(), |d| format!("{:.1}", d.mb_per_s())),
            kib(r.rss_ready_kib),
            kib(r.ready_kib),
            kib(r.rss_after_kib),
            kib(r.after_kib),
            growth.map_or("-".into(), |g| format!("{g:+} KiB")),
        );
        if let Err(e) = &r.dl {
            println!("  {}: FAILED: {}", size_name(r.size), e);
        }
    }
    // Flat: no download raised the peak over the resident set it started from by more
    // than its own buffers, whatever the file's size.
    let buffers = ((FILE_TX + FILE_RX) / 1024) as i64;
    let growths: Vec<Option<i64>> = rss
        .iter()
        .map(|r| {
            r.rss_ready_kib
                .zip(r.after_kib)
                .map(|(a, b)| b as i64 - a as i64)
        })
        .collect();
    let text: Vec<String> = rss
        .iter()
        .zip(&growths)
        .map(|(r, g)| {
            format!(
                "{} {}",
                size_name(r.size),
                g.map_or("-".into(), |g| format!("{g:+} KiB"))
            )
        })
        .collect();
    let flat = growths.iter().all(|g| g.is_some_and(|g| g <= buffers));
    println!(
        "What a download adds to the server's peak: {}; flat (each within one download's {buffers} KiB of buffers): {}",
        text.join(", "),
        if flat { "yes" } else { "NO" }
    );
    if let (Some(first), Some(last)) = (rss.first(), rss.last())
        && rss.len() > 1
        && let (Some(a), Some(b), Some(ra), Some(rb)) = (
            first.after_kib,
            last.after_kib,
            first.rss_ready_kib,
            last.rss_ready_kib,
        )
    {
        println!(
            "Peak with the {} file / with the {} file: {:.3}x ({:+} KiB; the two fresh servers differed by {:+} KiB before any download)",
            size_name(last.size),
            size_name(first.size),
            b as f64 / a as f64,
            b as i64 - a as i64,
            rb as i64 - ra as i64
        );
    }
}

// ---------------------------------------------------------------- raw smoltcp server

/// A minimal smoltcp file server on a TAP device, the method of smoltcp's
/// `examples/benchmark.rs` (its own `TunTapInterface`, `phy::wait`): a few
/// TCP sockets listening on one port; after a request's first bytes, the
/// file is read straight into the socket's transmit buffer, then the socket
/// closes.
mod raw {
    use std::fs::File;
    use std::io::Read;
    use std::time::{Duration as StdDuration, Instant as StdInstant};

    use minnow_tests::bench::raw;
    use smoltcp::iface::{SocketHandle, SocketSet};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant;

    use super::{FILE_RX, FILE_TX, PORT, RAW_MAX_SECS, RAW_READY, RAW_SOCKETS, usage};

    enum Stage {
        Waiting,
        Sending(File),
        Done,
    }

    pub fn main(args: &[String]) {
        let mut tap = "tap0".to_string();
        let mut path = None;
        let mut port = PORT;
        let mut tx = FILE_TX;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || it.next().cloned().unwrap_or_else(|| usage());
            match a.as_str() {
                "--tap" => tap = val(),
                "--file" => path = Some(val()),
                "--port" => port = val().parse().unwrap_or_else(|_| usage()),
                "--tx-buffer" => tx = val().parse().unwrap_or_else(|_| usage()),
                _ => usage(),
            }
        }
        let path = path.unwrap_or_else(|| usage());
        let (mut device, mut iface, fd) = raw::interface(&tap, false);
        let mut sockets = SocketSet::new(vec![]);
        let mut conns: Vec<(SocketHandle, Stage)> = (0..RAW_SOCKETS)
            .map(|_| {
                let mut s = tcp::Socket::new(
                    tcp::SocketBuffer::new(vec![0; FILE_RX]),
                    tcp::SocketBuffer::new(vec![0; tx]),
                );
                s.listen(port).unwrap();
                (sockets.add(s), Stage::Waiting)
            })
            .collect();
        let end = StdInstant::now() + StdDuration::from_secs(RAW_MAX_SECS);
        eprintln!("{RAW_READY} on {tap}, port {port}, {path}");
        while StdInstant::now() < end {
            let timestamp = Instant::now();
            iface.poll(timestamp, &mut device, &mut sockets);

            for (handle, stage) in conns.iter_mut() {
                let socket = sockets.get_mut::<tcp::Socket>(*handle);
                if !socket.is_open() {
                    socket.listen(port).unwrap();
                    *stage = Stage::Waiting;
                    continue;
                }
                if let Stage::Waiting = stage {
                    // The request's first bytes (or its FIN) start the file, as in file_server.py.
                    let asked = if socket.can_recv() {
                        let _ = socket.recv(|b| (b.len(), ()));
                        true
                    } else {
                        socket.state() == tcp::State::CloseWait
                    };
                    if asked {
                        let f =
                            File::open(&path).unwrap_or_else(|e| panic!("raw-server: {path}: {e}"));
                        *stage = Stage::Sending(f);
                    }
                }
                if let Stage::Sending(file) = stage {
                    // Drain what the client may still send.
                    if socket.can_recv() {
                        let _ = socket.recv(|b| (b.len(), ()));
                    }
                    let mut eof = false;
                    while socket.can_send() {
                        let n = socket
                            .send(|buf| {
                                let n = file.read(buf).unwrap_or(0);
                                (n, n)
                            })
                            .unwrap_or(0);
                        if n == 0 {
                            eof = true;
                            break;
                        }
                    }
                    if eof {
                        socket.close();
                        *stage = Stage::Done;
                    }
                }
            }

            raw::wait(fd, &mut iface, timestamp, &sockets);
        }
        eprintln!("raw-server: time limit reached, exiting");
    }
}
