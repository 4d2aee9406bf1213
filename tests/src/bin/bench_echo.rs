//! The echo benchmark: Minnow's TCP echo server against raw smoltcp and the
//! Linux kernel, side by side in one run (the machines are shared and noisy,
//! so the ratios matter more than the figures).
//!
//! ```sh
//! sudo cargo run --release -p minnow-tests --bin bench-echo -- [--bytes N] [--seconds S] [--repeat R]
//! ```
//!
//! Every server runs in a network namespace this program creates; the client
//! (std `TcpStream`, `TCP_NODELAY`, a writer and a reader thread) runs on a
//! thread inside the client namespace. Two measurements per server:
//!
//! - throughput: stream `--bytes` (default 256 MiB) through the echo and read
//!   it back; every byte is compared with what was sent; MB/s = 10^6 bytes of
//!   payload per second, each way;
//! - round trips: write 1 byte, read it back, repeat for `--seconds` (default 3).
//!
//! Servers: `minnow serve` (release build, unless `MINNOW_TEST_RELEASE=0`) on
//! the TAP device, with default and tuned options; a minimal raw smoltcp echo
//! loop in the manner of smoltcp's `examples/benchmark.rs` on the same TAP
//! device (this binary's `raw-server` mode); and, for the kernel, a second
//! namespace joined by a veth pair running `socat ... PIPE`, a Rust std echo
//! and the notes' `echo_server.py`. With `--repeat R` the rows are measured
//! in R interleaved rounds (so a burst of load elsewhere on the machine hits
//! them alike), and the table shows the best and the median.
//!
//! Network safety: all traffic stays inside the namespaces created here,
//! addresses come from 192.0.2.0/24 only, every run is bounded in time, and
//! servers are killed by PID (the harness does so on drop).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use minnow_tests::bench::raw::{MAX_SECS as RAW_MAX_SECS, READY as RAW_READY};
use minnow_tests::bench::{
    VETH_SERVER_V4, fmt_best_median, is_transient, minnow_note, stop, veth_pair, wait_listening,
};
use minnow_tests::{Netns, Proc, READY_LINE, READY_TIMEOUT, minnow_bin, random_bytes};

/// The echo port of every server under test.
const PORT: u16 = 12345;
/// Socket buffers of Minnow's echo sockets by default, and of the raw server.
const DEFAULT_BUFFER: usize = 65536;

/// Writer chunk and reader buffer of the streaming client.
const WRITE_CHUNK: usize = 64 * 1024;
const READ_BUF: usize = 256 * 1024;
/// Period of the data pattern: not a multiple of any buffer size, so a
/// dropped, repeated or reordered block shows up in the comparison.
const PATTERN_PERIOD: usize = (1 << 20) + 4093;
/// No progress for this long fails a measurement.
const STALL: Duration = Duration::from_secs(10);
/// The longest one stream measurement may take.
const STREAM_LIMIT: Duration = Duration::from_secs(120);

/// What serves the echo in one row.
#[derive(Clone, Copy)]
enum Server {
    /// `minnow serve --mtu MTU EXTRA` on the TAP device (TAP MTU set to match);
    /// `bin`: another `minnow` binary than the harness's build (A/B comparisons).
    Minnow {
        mtu: u32,
        extra: &'static [&'static str],
        bin: Option<&'static str>,
    },
    /// This binary's `raw-server` on the TAP device.
    Raw { mtu: u32 },
    /// `socat -b 4096 TCP-LISTEN:PORT,fork PIPE` in the kernel namespace.
    Socat,
    /// Rust std echo threads in the kernel namespace.
    RustStd,
    /// The notes' `echo_server.py` in the kernel namespace.
    Python,
}

struct Spec {
    /// For `--only`.
    key: &'static str,
    name: &'static str,
    server: Server,
}

/// The rows, in run order.
const ROWS: &[Spec] = &[
    Spec {
        key: "minnow",
        name: "Minnow serve (defaults, 64 KiB buffers)",
        server: Server::Minnow {
            mtu: 1500,
            extra: &[],
            bin: None,
        },
    },
    Spec {
        key: "minnow-no-offload",
        name: "Minnow serve --no-offload (plain frames)",
        server: Server::Minnow {
            mtu: 1500,
            extra: &["--no-offload"],
            bin: None,
        },
    },
    Spec {
        key: "raw",
        name: "raw smoltcp (64 KiB buffers)",
        server: Server::Raw { mtu: 1500 },
    },
    Spec {
        key: "socat",
        name: "Linux kernel, socat -b 4096 PIPE",
        server: Server::Socat,
    },
    Spec {
        key: "rust",
        name: "Linux kernel, Rust std echo threads",
        server: Server::RustStd,
    },
    Spec {
        key: "python",
        name: "Linux kernel, echo_server.py",
        server: Server::Python,
    },
    Spec {
        key: "minnow-echo",
        name: "Minnow serve --no-time --no-chat",
        server: Server::Minnow {
            mtu: 1500,
            extra: &["--no-time", "--no-chat"],
            bin: None,
        },
    },
    Spec {
        key: "minnow-buf",
        name: "Minnow serve --tcp-buffer 262144",
        server: Server::Minnow {
            mtu: 1500,
            extra: &["--tcp-buffer", "262144"],
            bin: None,
        },
    },
    Spec {
        key: "minnow-jumbo",
        name: "Minnow serve --mtu 9000",
        server: Server::Minnow {
            mtu: 9000,
            extra: &[],
            bin: None,
        },
    },
    Spec {
        key: "minnow-jumbo-buf",
        name: "Minnow serve --mtu 9000 --tcp-buffer 262144",
        server: Server::Minnow {
            mtu: 9000,
            extra: &["--tcp-buffer", "262144"],
            bin: None,
        },
    },
    Spec {
        key: "raw-jumbo",
        name: "raw smoltcp (64 KiB buffers)",
        server: Server::Raw { mtu: 9000 },
    },
];

impl Spec {
    fn link(&self) -> String {
        match self.server {
            Server::Minnow { mtu, .. } | Server::Raw { mtu } => format!("TAP, MTU {mtu}"),
            Server::Socat | Server::RustStd | Server::Python => "veth".into(),
        }
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-echo [--bytes N[K|M|G]] [--seconds S] [--python-bytes N] [--repeat R]\n\
         \x20                 [--only ROW,...] [--minnow-args '[@BIN] ARGS' (an extra row; repeatable)]\n\
         \x20      bench-echo raw-server [--tap NAME] [--buffer BYTES] [--port PORT]\n\
         Run as root: it creates network namespaces and TAP devices. Rows:"
    );
    for s in ROWS {
        eprintln!("  {:<17} {} [{}]", s.key, s.name, s.link());
    }
    std::process::exit(2)
}

struct Opts {
    bytes: u64,
    seconds: f64,
    /// Bytes streamed through `echo_server.py` (default: `bytes`).
    python_bytes: Option<u64>,
    /// Run only these rows (keys of [`ROWS`]).
    only: Option<Vec<String>>,
    /// Rounds: every row is measured this many times, interleaved.
    repeat: u32,
    /// Extra rows: `minnow serve` with these arguments (`--minnow-args`).
    custom: Vec<&'static Spec>,
}

/// A row for `minnow serve ARGS` (its `--mtu`, if any, also sets the TAP's).
fn custom_spec(args: &str) -> &'static Spec {
    let mut words: Vec<&'static str> = Vec::new();
    let mut mtu = 1500;
    let mut bin = None;
    let mut it = args.split_whitespace();
    while let Some(w) = it.next() {
        if let Some(path) = w.strip_prefix('@') {
            bin = Some(&*Box::leak(path.to_string().into_boxed_str()));
        } else if w == "--mtu" {
            mtu = it
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or_else(|| usage());
        } else {
            words.push(Box::leak(w.to_string().into_boxed_str()));
        }
    }
    let name = format!("Minnow serve {}", args.trim());
    Box::leak(Box::new(Spec {
        key: "custom",
        name: Box::leak(name.into_boxed_str()),
        server: Server::Minnow {
            mtu,
            extra: Box::leak(words.into_boxed_slice()),
            bin,
        },
    }))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("raw-server") {
        raw::main(&args[1..]);
        return;
    }
    let mut opts = Opts {
        bytes: 256 << 20,
        seconds: 3.0,
        python_bytes: None,
        only: None,
        repeat: 1,
        custom: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--bytes" => opts.bytes = size_arg(&val()),
            "--seconds" => opts.seconds = val().parse().unwrap_or_else(|_| usage()),
            "--python-bytes" => opts.python_bytes = Some(size_arg(&val())),
            "--repeat" => opts.repeat = val().parse().unwrap_or_else(|_| usage()),
            "--minnow-args" => opts.custom.push(custom_spec(&val())),
            "--only" => {
                let keys: Vec<String> = val().split(',').map(str::to_string).collect();
                // `custom`: the --minnow-args rows (always run) and none of the others.
                let known = |k: &String| k == "custom" || ROWS.iter().any(|s| s.key == *k);
                if let Some(bad) = keys.iter().find(|k| !known(k)) {
                    eprintln!("bench-echo: unknown row {bad:?}");
                    usage();
                }
                opts.only = Some(keys);
            }
            _ => usage(),
        }
    }
    if opts.bytes == 0
        || opts.python_bytes == Some(0)
        || opts.seconds <= 0.0
        || opts.seconds > 60.0
        || !(1..=10).contains(&opts.repeat)
    {
        usage();
    }
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    bench(&opts);
}

/// `N`, `NK`, `NM`, `NG` (binary units); the usage text otherwise.
fn size_arg(text: &str) -> u64 {
    minnow_tests::bench::parse_size(text).unwrap_or_else(|| usage())
}

/// One measurement of one row.
struct Sample {
    stream: Result<Stream, String>,
    rtt: Result<Rtt, String>,
    /// CPU time the server process used during the stream.
    server_cpu_ns: Option<u64>,
    /// Counters seen during the run (frames, drops).
    notes: Vec<String>,
}

/// One row's samples, one per round.
struct Row {
    spec: &'static Spec,
    name: String,
    samples: Vec<Sample>,
}

impl Row {
    /// The best and the median of the successful samples of `f`; `None` if any failed.
    fn stats(&self, f: impl Fn(&Sample) -> Result<f64, String>) -> Option<(f64, f64)> {
        let mut v = Vec::new();
        for s in &self.samples {
            v.push(f(s).ok()?);
        }
        minnow_tests::bench::best_median(&v)
    }

    fn mb_per_s(&self) -> Option<(f64, f64)> {
        self.stats(|s| {
            s.stream
                .as_ref()
                .map(Stream::mb_per_s)
                .map_err(Clone::clone)
        })
    }

    /// Server CPU nanoseconds per byte echoed, and the server's CPU load
    /// during the stream (1.0 = one core), of the sample with the best throughput.
    fn cpu(&self) -> Option<(f64, f64)> {
        let best = self
            .samples
            .iter()
            .filter_map(|s| Some((s.stream.as_ref().ok()?, s.server_cpu_ns?)))
            .max_by(|a, b| a.0.mb_per_s().total_cmp(&b.0.mb_per_s()))?;
        let (st, ns) = best;
        Some((ns as f64 / st.bytes as f64, ns as f64 / 1e9 / st.secs))
    }

    fn rtt_per_s(&self) -> Option<(f64, f64)> {
        self.stats(|s| s.rtt.as_ref().map(Rtt::per_s).map_err(Clone::clone))
    }
}

struct Stream {
    bytes: u64,
    secs: f64,
}

impl Stream {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e6
    }
}

struct Rtt {
    count: u64,
    secs: f64,
}

impl Rtt {
    fn per_s(&self) -> f64 {
        self.count as f64 / self.secs
    }
}

// ---------------------------------------------------------------- clients

/// Connects, retrying while refused (a single-socket server re-listens only
/// after its previous connection is fully closed).
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(1)))?;
                s.set_write_timeout(Some(STALL))?;
                return Ok(s);
            }
            Err(e) if Instant::now() < end && e.kind() == io::ErrorKind::ConnectionRefused => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Streams `bytes` through the echo at `addr` (writer and reader threads) and
/// checks that exactly the same bytes come back.
fn stream(addr: SocketAddr, bytes: u64, limit: Duration) -> Result<Stream, String> {
    // `pattern[i] == pattern[i % PERIOD]` for every index, so any read of up
    // to READ_BUF bytes compares with one contiguous slice.
    let base = random_bytes(PATTERN_PERIOD, bytes ^ 0x6d6e_7700);
    let mut pattern = base.clone();
    pattern.extend_from_slice(&base[..READ_BUF.max(WRITE_CHUNK)]);
    let pattern = &pattern[..];

    let sock = connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let writer_sock = sock.try_clone().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let deadline = start + limit;
    thread::scope(|s| {
        let writer = s.spawn(move || -> Result<(), String> {
            let mut w = writer_sock;
            let mut sent = 0u64;
            while sent < bytes {
                let off = (sent % PATTERN_PERIOD as u64) as usize;
                let n = (bytes - sent).min(WRITE_CHUNK as u64) as usize;
                w.write_all(&pattern[off..off + n])
                    .map_err(|e| format!("write after {sent} bytes: {e}"))?;
                sent += n as u64;
            }
            w.shutdown(Shutdown::Write)
                .map_err(|e| format!("shutdown: {e}"))
        });
        let mut r = &sock;
        let mut buf = vec![0u8; READ_BUF];
        let mut got = 0u64;
        let mut last_progress = Instant::now();
        let result = loop {
            match r.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    let off = (got % PATTERN_PERIOD as u64) as usize;
                    if buf[..n] != pattern[off..off + n] {
                        break Err(format!("echoed data differs near byte {got}"));
                    }
                    got += n as u64;
                    if got > bytes {
                        break Err(format!("more bytes came back ({got}) than were sent"));
                    }
                    last_progress = Instant::now();
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => break Err(format!("read after {got} bytes: {e}")),
            }
            let now = Instant::now();
            if now >= deadline {
                break Err(format!("time limit {limit:?} reached after {got} bytes"));
            }
            if now - last_progress >= STALL {
                break Err(format!("no progress for {STALL:?} after {got} bytes"));
            }
        };
        let secs = start.elapsed().as_secs_f64();
        // Unblocks the writer if it is stuck; harmless after a clean end.
        let _ = sock.shutdown(Shutdown::Both);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err("writer panicked".into()));
        result?;
        written?;
        if got != bytes {
            return Err(format!("{got} of {bytes} bytes came back"));
        }
        Ok(Stream { bytes: got, secs })
    })
}

/// Write one byte, read it back, for `seconds`.
fn round_trips(addr: SocketAddr, seconds: f64) -> Result<Rtt, String> {
    let mut sock = connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let limit = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut count = 0u64;
    let mut b = [0u8; 1];
    let result = loop {
        let out = [count as u8 ^ 0x5a];
        if let Err(e) = sock.write_all(&out) {
            break Err(format!("write after {count} round trips: {e}"));
        }
        let t = Instant::now();
        let read = loop {
            match sock.read(&mut b) {
                Ok(n) => break Ok(n),
                Err(e) if is_transient(&e) && t.elapsed() < STALL => {}
                Err(e) => break Err(e),
            }
        };
        match read {
            Ok(1) if b == out => count += 1,
            Ok(1) => break Err(format!("wrong byte back after {count} round trips")),
            Ok(_) => break Err(format!("EOF after {count} round trips")),
            Err(e) => break Err(format!("read after {count} round trips: {e}")),
        }
        if start.elapsed() >= limit {
            break Ok(());
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let _ = sock.shutdown(Shutdown::Both);
    result.map(|()| Rtt { count, secs })
}

/// CPU time process `pid` has used so far (`/proc/PID/schedstat`, nanoseconds).
fn cpu_ns(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Both measurements against `addr` from inside `client_ns`, after a short
/// warm-up; `server_pid`'s CPU time is measured over the stream.
fn measure(
    client_ns: &Netns,
    addr: SocketAddr,
    bytes: u64,
    server_pid: Option<u32>,
    o: &Opts,
) -> Sample {
    let mut cpu = None;
    let (stream, rtt) = client_ns.enter(|| {
        // Warm-up: neighbour discovery, first connection, the server's paths.
        if let Err(e) = stream(addr, 1 << 20, Duration::from_secs(20)) {
            let err = format!("warm-up: {e}");
            return (Err(err.clone()), Err(err));
        }
        let rtt = round_trips(addr, o.seconds);
        match &rtt {
            Ok(r) => eprintln!("bench-echo:   {:.0} round trips/s", r.per_s()),
            Err(e) => eprintln!("bench-echo:   round trips: {e}"),
        }
        let cpu_before = server_pid.and_then(cpu_ns);
        let st = stream(addr, bytes, STREAM_LIMIT);
        let cpu_after = server_pid.and_then(cpu_ns);
        match &st {
            Ok(r) => eprintln!("bench-echo:   {:.1} MB/s", r.mb_per_s()),
            Err(e) => eprintln!("bench-echo:   stream: {e}"),
        }
        if let (Some(a), Some(b)) = (cpu_before, cpu_after) {
            cpu = Some(b.saturating_sub(a));
        }
        (st, rtt)
    });
    Sample {
        stream,
        rtt,
        server_cpu_ns: cpu,
        notes: Vec::new(),
    }
}

// ---------------------------------------------------------------- servers

fn set_tap_mtu(ns: &Netns, mtu: u32) {
    ns.ip(&["link", "set", Netns::TAP, "mtu", &mtu.to_string()]);
}

/// The Linux side's counters of `tap0`: frames sent to the server, dropped
/// on the way there (the TAP queue was full), frames received from the server,
/// dropped on arrival.
fn tap_counters(ns: &Netns) -> [u64; 4] {
    let text =
        ns.enter(|| std::fs::read_to_string("/proc/thread-self/net/dev").unwrap_or_default());
    for line in text.lines() {
        if let Some((name, rest)) = line.split_once(':')
            && name.trim() == Netns::TAP
        {
            let v: Vec<u64> = rest
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            if v.len() >= 12 {
                // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit.
                return [v[9], v[11], v[1], v[3]];
            }
        }
    }
    [0; 4]
}

fn tap_note(before: [u64; 4], after: [u64; 4]) -> String {
    let d: Vec<u64> = (0..4).map(|i| after[i].saturating_sub(before[i])).collect();
    format!(
        "Linux tap0: {} frames to the server ({} dropped: queue full), {} from it ({} dropped)",
        d[0], d[1], d[2], d[3]
    )
}

/// Measures one server on the TAP device: Minnow or the raw smoltcp loop.
fn tap_sample(ns: &Netns, server: Server, bytes: u64, o: &Opts) -> Sample {
    let (mtu, proc) = match server {
        Server::Minnow { mtu, extra, bin } => {
            set_tap_mtu(ns, mtu);
            let mtu_s = mtu.to_string();
            let mut args = vec!["--mtu", mtu_s.as_str(), "--idle-timeout", "60"];
            args.extend_from_slice(extra);
            let proc = match bin {
                None => ns.serve(&args),
                Some(bin) => {
                    let mut cmd = ns.command(bin);
                    cmd.args(["serve", "--tap", Netns::TAP]);
                    cmd.args(["--ip", Netns::MINNOW_V4_CIDR, "--ip", Netns::MINNOW_V6_CIDR]);
                    cmd.args(&args);
                    ns.spawn_ready(cmd, READY_LINE, READY_TIMEOUT)
                }
            };
            (mtu, proc)
        }
        Server::Raw { mtu } => {
            set_tap_mtu(ns, mtu);
            let exe = std::env::current_exe().expect("bench-echo: current_exe");
            let mut cmd = ns.command(exe);
            cmd.args(["raw-server", "--tap", Netns::TAP]);
            cmd.args(["--buffer", &DEFAULT_BUFFER.to_string()]);
            cmd.args(["--port", &PORT.to_string()]);
            (mtu, ns.spawn_ready(cmd, RAW_READY, Duration::from_secs(10)))
        }
        _ => unreachable!("not a TAP server"),
    };
    let _ = mtu;
    let addr = SocketAddr::new(Netns::MINNOW_V4.parse().unwrap(), PORT);
    let before = tap_counters(ns);
    let mut sample = measure(ns, addr, bytes, Some(proc.pid()), o);
    let after = tap_counters(ns);
    if !proc.is_running() {
        eprintln!(
            "bench-echo: the server exited during the run\n{}",
            proc.dump()
        );
    }
    let proc = stop(proc);
    set_tap_mtu(ns, 1500);
    sample.notes.push(tap_note(before, after));
    if matches!(server, Server::Minnow { .. }) {
        sample.notes.push(minnow_note(&proc).unwrap_or_default());
    }
    sample
}

/// Measures a kernel echo server already started as `proc` in the server namespace.
fn kernel_sample(client: &Netns, proc: Proc, bytes: u64, o: &Opts) -> Sample {
    wait_listening(&proc, PORT);
    let addr = SocketAddr::new(VETH_SERVER_V4.parse().unwrap(), PORT);
    // socat forks a child per connection: its parent's CPU time says nothing.
    let pid = proc.command_line().contains("python").then(|| proc.pid());
    let sample = measure(client, addr, bytes, pid, o);
    if !proc.is_running() {
        eprintln!(
            "bench-echo: the server exited during the run\n{}",
            proc.dump()
        );
    }
    stop(proc);
    sample
}

/// A C-speed kernel echo without socat's pipe: Rust std echo threads (one per
/// connection, 64 KiB reads, `TCP_NODELAY`) listening inside `server`.
fn rust_std_sample(client: &Netns, server: &Netns, bytes: u64, o: &Opts) -> Sample {
    let listener = server
        .listen_tcp((VETH_SERVER_V4, PORT))
        .expect("bench-echo: binding the Rust echo server");
    listener.set_nonblocking(true).unwrap();
    let stop = AtomicBool::new(false);
    let addr = SocketAddr::new(VETH_SERVER_V4.parse().unwrap(), PORT);
    thread::scope(|s| {
        s.spawn(|| {
            thread::scope(|conns| {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((c, _)) = listener.accept() else {
                        thread::sleep(Duration::from_millis(1));
                        continue;
                    };
                    let stop = &stop;
                    conns.spawn(move || echo_conn(c, stop));
                }
            });
        });
        let sample = measure(client, addr, bytes, None, o);
        stop.store(true, Ordering::Relaxed);
        sample
    })
}

fn echo_conn(mut c: TcpStream, stop: &AtomicBool) {
    let _ = c.set_nonblocking(false);
    let _ = c.set_nodelay(true);
    let _ = c.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if c.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if is_transient(&e) => {}
            Err(_) => break,
        }
    }
    let _ = c.shutdown(Shutdown::Both);
}

fn sample(client: &Netns, server: &Netns, spec: &Spec, o: &Opts) -> Sample {
    let python_bytes = o.python_bytes.unwrap_or(o.bytes);
    match spec.server {
        s @ (Server::Minnow { .. } | Server::Raw { .. }) => tap_sample(client, s, o.bytes, o),
        Server::Socat => {
            // `-b 4096`: socat's default 8 KiB blocks can deadlock PIPE under a
            // full-duplex stream: its blocking write into the (nearly full) pipe
            // waits for room only its own read of that pipe would make. A write of
            // at most PIPE_BUF bytes into a pipe that select() calls writable
            // cannot block.
            let mut cmd = server.command("socat");
            cmd.args(["-b", "4096"]);
            cmd.arg(format!(
                "TCP-LISTEN:{PORT},bind={VETH_SERVER_V4},reuseaddr,fork"
            ));
            cmd.arg("PIPE");
            kernel_sample(client, server.spawn(cmd), o.bytes, o)
        }
        Server::RustStd => rust_std_sample(client, server, o.bytes, o),
        Server::Python => {
            let port = PORT.to_string();
            let py = server.spawn_peer("echo_server.py", &[VETH_SERVER_V4, &port]);
            kernel_sample(client, py, python_bytes, o)
        }
    }
}

fn bench(o: &Opts) {
    minnow_tests::require_root();
    let bin = minnow_bin();
    eprintln!("bench-echo: minnow binary {}", bin.display());
    let python_bytes = o.python_bytes.unwrap_or(o.bytes);
    let want = |key: &str| {
        o.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|k| k == key))
    };

    let client = Netns::new();
    let server = Netns::new();
    veth_pair(&client, &server);

    let mut rows: Vec<Row> = ROWS
        .iter()
        .filter(|s| want(s.key))
        .chain(o.custom.iter().copied())
        .map(|spec| Row {
            spec,
            name: match spec.server {
                Server::Python if python_bytes != o.bytes => {
                    format!("{} ({} MiB)", spec.name, python_bytes >> 20)
                }
                _ => spec.name.to_string(),
            },
            samples: Vec::new(),
        })
        .collect();
    for round in 1..=o.repeat {
        for row in rows.iter_mut() {
            eprintln!(
                "bench-echo: round {round}/{}: {} [{}]",
                o.repeat,
                row.name,
                row.spec.link()
            );
            row.samples.push(sample(&client, &server, row.spec, o));
        }
    }
    print_table(&rows, o);
    print_ratios(&rows);
}

// ---------------------------------------------------------------- report

fn print_table(rows: &[Row], o: &Opts) {
    println!();
    println!(
        "Echo benchmark: stream {} MiB each way (checked byte for byte), 1-byte round trips for {} s{}.",
        o.bytes >> 20,
        o.seconds,
        if o.repeat > 1 {
            format!("; {} interleaved rounds, best / median", o.repeat)
        } else {
            String::new()
        }
    );
    println!(
        "MB/s = 10^6 payload bytes/s each way. Client: Rust std TcpStream, TCP_NODELAY, writer + reader threads."
    );
    let w = if o.repeat > 1 { 17 } else { 9 };
    println!(
        "Server CPU: the server process's CPU time while streaming, per byte echoed, and as a share of one core."
    );
    println!(
        "{:<44} {:<14} {:>w$} {:>w$} {:>7} {:>10} {:>8}",
        "server", "link", "MB/s", "round trips/s", "µs/rt", "CPU ns/B", "CPU %"
    );
    println!("{}", "-".repeat(44 + 14 + 2 * w + 7 + 10 + 8 + 6));
    for r in rows {
        let rt = r.rtt_per_s();
        let us = rt.map_or("-".into(), |(best, _)| format!("{:.1}", 1e6 / best));
        let (cpu_b, cpu_pct) = r.cpu().map_or(("-".into(), "-".into()), |(nb, load)| {
            (format!("{nb:.2}"), format!("{:.0}", load * 100.0))
        });
        println!(
            "{:<44} {:<14} {:>w$} {:>w$} {:>7} {:>10} {:>8}",
            r.name,
            r.spec.link(),
            fmt_best_median(r.mb_per_s(), 1, o.repeat as usize),
            fmt_best_median(rt, 0, o.repeat as usize),
            us,
            cpu_b,
            cpu_pct
        );
    }
    println!();
    for r in rows {
        let label = format!("{} [{}]", r.name, r.spec.link());
        for (i, s) in r.samples.iter().enumerate() {
            if let Err(e) = &s.stream {
                println!("  {label} round {}: stream FAILED: {e}", i + 1);
            }
            if let Err(e) = &s.rtt {
                println!("  {label} round {}: round trips FAILED: {e}", i + 1);
            }
        }
        // The last round's counters.
        if let Some(s) = r.samples.last() {
            for n in s.notes.iter().filter(|n| !n.is_empty()) {
                println!("  {label}: {n}");
            }
        }
    }
}

fn find<'a>(rows: &'a [Row], key: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.spec.key == key)
}

/// Prints `a / b` of the best figures (and of the medians), against `target`.
fn ratio(
    what: &str,
    a: Option<&Row>,
    b: Option<&Row>,
    f: impl Fn(&Row) -> Option<(f64, f64)>,
    target: Option<f64>,
) {
    let (Some(a), Some(b)) = (a, b) else {
        return; // A row left out with --only.
    };
    let (Some((ab, am)), Some((bb, bm))) = (f(a), f(b)) else {
        println!("{what:<52} n/a (a measurement failed)");
        return;
    };
    let r = ab / bb;
    let medians = if a.samples.len() > 1 {
        format!("  (medians: {:.2})", am / bm)
    } else {
        String::new()
    };
    let verdict = match target {
        Some(t) if r >= t => format!("  target >= {t}: met"),
        Some(t) => format!("  target >= {t}: MISSED"),
        None => String::new(),
    };
    println!("{what:<52} {r:>6.2}{medians}{verdict}");
}

fn print_ratios(rows: &[Row]) {
    let tput = Row::mb_per_s;
    let rts = Row::rtt_per_s;
    let minnow = find(rows, "minnow");
    println!();
    println!("Ratios (same run, best figures):");
    ratio(
        "Minnow / raw smoltcp, throughput",
        minnow,
        find(rows, "raw"),
        tput,
        Some(0.9),
    );
    ratio(
        "Minnow / raw smoltcp, round trips",
        minnow,
        find(rows, "raw"),
        rts,
        None,
    );
    let socat = find(rows, "socat");
    ratio(
        "Minnow / kernel (socat), round trips",
        minnow,
        socat,
        rts,
        Some(0.8),
    );
    ratio(
        "Minnow / kernel (socat), throughput",
        minnow,
        socat,
        tput,
        None,
    );
    let rust = find(rows, "rust");
    ratio(
        "Minnow / kernel (Rust std echo), round trips",
        minnow,
        rust,
        rts,
        None,
    );
    ratio(
        "Minnow / kernel (Rust std echo), throughput",
        minnow,
        rust,
        tput,
        None,
    );
    let py = find(rows, "python");
    ratio(
        "Minnow / echo_server.py, throughput",
        minnow,
        py,
        tput,
        None,
    );
    ratio(
        "Minnow / echo_server.py, round trips",
        minnow,
        py,
        rts,
        None,
    );
    let echo_only = find(rows, "minnow-echo");
    ratio(
        "Minnow echo only / defaults, throughput",
        echo_only,
        minnow,
        tput,
        None,
    );
    ratio(
        "Minnow echo only / raw smoltcp, throughput",
        echo_only,
        find(rows, "raw"),
        tput,
        None,
    );
    let tuning = [
        (
            "minnow-buf",
            "Minnow 256 KiB buffers / defaults, throughput",
        ),
        ("minnow-jumbo", "Minnow MTU 9000 / defaults, throughput"),
        (
            "minnow-jumbo-buf",
            "Minnow MTU 9000 + 256 KiB / defaults, throughput",
        ),
    ];
    for (key, what) in tuning {
        ratio(what, find(rows, key), minnow, tput, None);
    }
    ratio(
        "Minnow / raw smoltcp at MTU 9000, throughput",
        find(rows, "minnow-jumbo"),
        find(rows, "raw-jumbo"),
        tput,
        None,
    );
}

// ---------------------------------------------------------------- raw smoltcp server

/// A minimal smoltcp echo server on a TAP device, the method of smoltcp's
/// `examples/benchmark.rs`: smoltcp's own `TunTapInterface`, `phy::wait`,
/// one TCP socket re-listening after each connection.
mod raw {
    use std::time::{Duration as StdDuration, Instant as StdInstant};

    use minnow_tests::bench::raw;
    use smoltcp::iface::SocketSet;
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant;

    use super::{DEFAULT_BUFFER, PORT, RAW_MAX_SECS, RAW_READY, usage};

    pub fn main(args: &[String]) {
        let mut tap = "tap0".to_string();
        let mut buffer = DEFAULT_BUFFER;
        let mut port = PORT;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || it.next().cloned().unwrap_or_else(|| usage());
            match a.as_str() {
                "--tap" => tap = val(),
                "--buffer" => buffer = val().parse().unwrap_or_else(|_| usage()),
                "--port" => port = val().parse().unwrap_or_else(|_| usage()),
                _ => usage(),
            }
        }
        let (mut device, mut iface, fd) = raw::interface(&tap, true);
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buffer]),
            tcp::SocketBuffer::new(vec![0; buffer]),
        );
        // As Minnow's echo sockets.
        socket.set_nagle_enabled(false);
        let mut sockets = SocketSet::new(vec![]);
        let handle = sockets.add(socket);
        sockets.get_mut::<tcp::Socket>(handle).listen(port).unwrap();
        let mut scratch = vec![0u8; buffer];
        let end = StdInstant::now() + StdDuration::from_secs(RAW_MAX_SECS);
        eprintln!(
            "{RAW_READY} on {tap} (mtu {})",
            smoltcp::phy::Device::capabilities(&device).max_transmission_unit
        );
        while StdInstant::now() < end {
            let timestamp = Instant::now();
            iface.poll(timestamp, &mut device, &mut sockets);

            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if !socket.is_open() {
                socket.listen(port).unwrap();
            }
            while socket.can_recv() && socket.may_send() {
                let room = socket.send_capacity() - socket.send_queue();
                if room == 0 {
                    break;
                }
                let n = socket.recv_slice(&mut scratch[..room]).unwrap_or(0);
                if n == 0 {
                    break;
                }
                socket.send_slice(&scratch[..n]).unwrap();
            }
            if socket.state() == tcp::State::CloseWait && socket.recv_queue() == 0 {
                socket.close();
            }

            raw::wait(fd, &mut iface, timestamp, &sockets);
        }
        eprintln!("raw-server: time limit reached, exiting");
    }
}
