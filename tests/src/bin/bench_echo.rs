//! The echo benchmark: Minnow's TCP echo server against raw smoltcp and the
//! Linux kernel, side by side in one run (the machines are shared and noisy,
//! so the ratios matter more than the figures).
//!
//! ```sh
//! sudo cargo run --release -p minnow-tests --bin bench-echo -- [--bytes N] [--seconds S]
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
//! the TAP device, with default and tuned buffers and MTU; a minimal raw
//! smoltcp echo loop in the manner of smoltcp's `examples/benchmark.rs` on the
//! same TAP device (this binary's `raw-server` mode); and, for the kernel, a
//! second namespace joined by a veth pair running `socat ... PIPE` and the
//! notes' `echo_server.py`.
//!
//! Network safety: all traffic stays inside the namespaces created here,
//! addresses come from 192.0.2.0/24 only, every run is bounded in time, and
//! servers are killed by PID (the harness does so on drop).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use minnow_tests::{Netns, Proc, minnow_bin, random_bytes};

/// The echo port of every server under test.
const PORT: u16 = 12345;
/// The veth pair between the client namespace and the kernel-server namespace
/// (a /25 inside the TAP's /24: the more specific route wins).
const VETH_CLIENT: &str = "vbench0";
const VETH_SERVER: &str = "vbench1";
const VETH_CLIENT_CIDR: &str = "192.0.2.129/25";
const VETH_SERVER_CIDR: &str = "192.0.2.130/25";
const VETH_SERVER_V4: &str = "192.0.2.130";
/// Printed by `raw-server` once it listens.
const RAW_READY: &str = "raw-server: ready";
/// The raw server exits by itself after this long (it is killed by PID long before).
const RAW_MAX_SECS: u64 = 900;
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

fn usage() -> ! {
    eprintln!(
        "usage: bench-echo [--bytes N] [--seconds S] [--python-bytes N]\n\
         \x20      bench-echo raw-server [--tap NAME] [--buffer BYTES] [--port PORT]\n\
         Run as root: it creates network namespaces and TAP devices."
    );
    std::process::exit(2)
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
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--bytes" => opts.bytes = parse_size(&val()),
            "--seconds" => opts.seconds = val().parse().unwrap_or_else(|_| usage()),
            "--python-bytes" => opts.python_bytes = Some(parse_size(&val())),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if opts.bytes == 0 || opts.seconds <= 0.0 || opts.seconds > 60.0 {
        usage();
    }
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    bench(&opts);
}

/// `N`, `NK`, `NM`, `NG` (binary units).
fn parse_size(text: &str) -> u64 {
    let (num, mult) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    num.parse::<u64>().unwrap_or_else(|_| usage()) * mult
}

struct Opts {
    bytes: u64,
    seconds: f64,
    python_bytes: Option<u64>,
}

/// One server's figures.
struct Row {
    name: String,
    link: String,
    stream: Result<Stream, String>,
    rtt: Result<Rtt, String>,
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
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
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
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) && t.elapsed() < STALL => {}
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

/// Both measurements against `addr`, from inside `client_ns`, after a short warm-up.
fn measure(
    client_ns: &Netns,
    name: &str,
    link: &str,
    addr: SocketAddr,
    bytes: u64,
    o: &Opts,
) -> Row {
    eprintln!("bench-echo: {name} ({link}) at {addr} ...");
    let limit = Duration::from_secs(120);
    let (stream, rtt) = client_ns.enter(|| {
        // Warm-up: neighbour discovery, first connection, the server's paths.
        if let Err(e) = stream(addr, 1 << 20, Duration::from_secs(20)) {
            let err = format!("warm-up: {e}");
            return (Err(err.clone()), Err(err));
        }
        let rtt = round_trips(addr, o.seconds);
        let st = stream(addr, bytes, limit);
        (st, rtt)
    });
    Row {
        name: name.into(),
        link: link.into(),
        stream,
        rtt,
    }
}

// ---------------------------------------------------------------- servers

/// Whether `pid`'s namespace has a TCP socket listening on `port` (from /proc, no probe connection).
fn listening(pid: u32, port: u16) -> bool {
    ["tcp", "tcp6"].iter().any(|f| {
        std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                let lport = cols
                    .get(1)
                    .and_then(|l| l.rsplit_once(':'))
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
                cols.get(3) == Some(&"0A") && lport == Some(port)
            })
        })
    })
}

fn wait_listening(proc: &Proc, port: u16) {
    let end = Instant::now() + Duration::from_secs(10);
    while !listening(proc.pid(), port) {
        assert!(
            proc.is_running() && Instant::now() < end,
            "bench-echo: server did not listen on port {port}\n{}",
            proc.dump()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn set_tap_mtu(ns: &Netns, mtu: u32) {
    ns.ip(&["link", "set", Netns::TAP, "mtu", &mtu.to_string()]);
}

/// Stops a server by PID (SIGTERM, then SIGKILL) and waits for it.
fn stop(mut p: Proc) {
    p.signal(libc::SIGTERM);
    if p.wait(Duration::from_secs(3)).is_none() {
        p.kill();
    }
}

fn minnow_row(ns: &Netns, name: &str, mtu: u32, extra: &[&str], bytes: u64, o: &Opts) -> Row {
    set_tap_mtu(ns, mtu);
    let mtu_s = mtu.to_string();
    let mut args = vec!["--mtu", mtu_s.as_str(), "--no-time", "--idle-timeout", "60"];
    args.extend_from_slice(extra);
    let server = ns.serve(&args);
    let addr = SocketAddr::new(Netns::MINNOW_V4.parse().unwrap(), PORT);
    let row = measure(ns, name, &format!("TAP, MTU {mtu}"), addr, bytes, o);
    if !server.is_running() {
        eprintln!(
            "bench-echo: minnow exited during the run\n{}",
            server.dump()
        );
    }
    stop(server);
    set_tap_mtu(ns, 1500);
    row
}

fn raw_row(ns: &Netns, mtu: u32, bytes: u64, o: &Opts) -> Row {
    set_tap_mtu(ns, mtu);
    let exe = std::env::current_exe().expect("bench-echo: current_exe");
    let mut cmd = ns.command(exe);
    cmd.args([
        "raw-server",
        "--tap",
        Netns::TAP,
        "--buffer",
        &DEFAULT_BUFFER.to_string(),
        "--port",
        &PORT.to_string(),
    ]);
    let server = ns.spawn_ready(cmd, RAW_READY, Duration::from_secs(10));
    let addr = SocketAddr::new(Netns::MINNOW_V4.parse().unwrap(), PORT);
    let row = measure(
        ns,
        "raw smoltcp (64 KiB buffers)",
        &format!("TAP, MTU {mtu}"),
        addr,
        bytes,
        o,
    );
    if !server.is_running() {
        eprintln!(
            "bench-echo: raw-server exited during the run\n{}",
            server.dump()
        );
    }
    stop(server);
    set_tap_mtu(ns, 1500);
    row
}

fn bench(o: &Opts) {
    minnow_tests::require_root();
    let bin = minnow_bin();
    eprintln!("bench-echo: minnow binary {}", bin.display());
    let python_bytes = o.python_bytes.unwrap_or(o.bytes);

    let client = Netns::new();
    let server = Netns::new();
    // The veth pair: created inside the client namespace, its peer moved into the server one.
    client.ip(&[
        "link",
        "add",
        VETH_CLIENT,
        "type",
        "veth",
        "peer",
        "name",
        VETH_SERVER,
        "netns",
        server.name(),
    ]);
    client.ip(&["addr", "add", VETH_CLIENT_CIDR, "dev", VETH_CLIENT]);
    client.ip(&["link", "set", VETH_CLIENT, "up"]);
    server.ip(&["addr", "add", VETH_SERVER_CIDR, "dev", VETH_SERVER]);
    server.ip(&["link", "set", VETH_SERVER, "up"]);

    let mut rows = Vec::new();
    let b = o.bytes;
    rows.push(minnow_row(
        &client,
        "Minnow serve (64 KiB buffers)",
        1500,
        &[],
        b,
        o,
    ));
    rows.push(raw_row(&client, 1500, b, o));
    let kernel_addr = SocketAddr::new(VETH_SERVER_V4.parse().unwrap(), PORT);
    {
        let mut cmd = server.command("socat");
        cmd.args([
            &format!("TCP-LISTEN:{PORT},bind={VETH_SERVER_V4},reuseaddr,fork"),
            "PIPE",
        ]);
        let socat = server.spawn(cmd);
        wait_listening(&socat, PORT);
        rows.push(measure(
            &client,
            "Linux kernel, socat PIPE",
            "veth",
            kernel_addr,
            b,
            o,
        ));
        stop(socat);
    }
    {
        let py = server.spawn_peer("echo_server.py", &[VETH_SERVER_V4, &PORT.to_string()]);
        let name = if python_bytes == b {
            "Linux kernel, echo_server.py".to_string()
        } else {
            format!("Linux kernel, echo_server.py ({} MiB)", python_bytes >> 20)
        };
        rows.push(measure(
            &client,
            &name,
            "veth",
            kernel_addr,
            python_bytes,
            o,
        ));
        stop(py);
    }
    rows.push(minnow_row(
        &client,
        "Minnow serve --tcp-buffer 262144",
        1500,
        &["--tcp-buffer", "262144"],
        b,
        o,
    ));
    rows.push(minnow_row(
        &client,
        "Minnow serve --mtu 9000",
        9000,
        &[],
        b,
        o,
    ));
    rows.push(minnow_row(
        &client,
        "Minnow serve --mtu 9000 --tcp-buffer 262144",
        9000,
        &["--tcp-buffer", "262144"],
        b,
        o,
    ));
    rows.push(raw_row(&client, 9000, b, o));

    print_table(&rows, o);
    print_ratios(&rows);
}

// ---------------------------------------------------------------- report

fn print_table(rows: &[Row], o: &Opts) {
    println!();
    println!(
        "Echo benchmark: stream {} MiB each way (checked byte for byte), 1-byte round trips for {} s; \
         MB/s = 10^6 payload bytes/s each way. Client: Rust std TcpStream, TCP_NODELAY, writer + reader threads.",
        o.bytes >> 20,
        o.seconds
    );
    println!(
        "{:<46} {:<14} {:>10} {:>9} {:>14} {:>8}",
        "server", "link", "MB/s", "MiB", "round trips/s", "µs/rt"
    );
    println!("{}", "-".repeat(46 + 14 + 10 + 9 + 14 + 8 + 5));
    for r in rows {
        let (mbs, mib) = match &r.stream {
            Ok(s) => (format!("{:.1}", s.mb_per_s()), format!("{}", s.bytes >> 20)),
            Err(_) => ("FAILED".into(), "-".into()),
        };
        let (rts, us) = match &r.rtt {
            Ok(t) => (
                format!("{:.0}", t.per_s()),
                format!("{:.1}", 1e6 / t.per_s()),
            ),
            Err(_) => ("FAILED".into(), "-".into()),
        };
        println!(
            "{:<46} {:<14} {:>10} {:>9} {:>14} {:>8}",
            r.name, r.link, mbs, mib, rts, us
        );
    }
    for r in rows {
        if let Err(e) = &r.stream {
            println!("  {}: stream: {e}", r.name);
        }
        if let Err(e) = &r.rtt {
            println!("  {}: round trips: {e}", r.name);
        }
    }
}

fn find<'a>(rows: &'a [Row], name: &str, link: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.name.starts_with(name) && r.link == link)
}

fn ratio(
    what: &str,
    a: Option<&Row>,
    b: Option<&Row>,
    f: impl Fn(&Row) -> Option<f64>,
    target: Option<f64>,
) {
    let (Some(x), Some(y)) = (a.and_then(&f), b.and_then(&f)) else {
        println!("{what:<58} n/a (a measurement failed)");
        return;
    };
    let r = x / y;
    let verdict = match target {
        Some(t) if r >= t => format!("  (target >= {t}: met)"),
        Some(t) => format!("  (target >= {t}: MISSED)"),
        None => String::new(),
    };
    println!("{what:<58} {r:>6.2}{verdict}");
}

fn print_ratios(rows: &[Row]) {
    let tput = |r: &Row| r.stream.as_ref().ok().map(Stream::mb_per_s);
    let rts = |r: &Row| r.rtt.as_ref().ok().map(Rtt::per_s);
    let tap = "TAP, MTU 1500";
    let jumbo = "TAP, MTU 9000";
    let minnow = find(rows, "Minnow serve (64 KiB", tap);
    let raw = find(rows, "raw smoltcp", tap);
    let socat = find(rows, "Linux kernel, socat", "veth");
    let py = find(rows, "Linux kernel, echo_server.py", "veth");
    println!();
    println!("Ratios (same run):");
    ratio(
        "Minnow / raw smoltcp, throughput",
        minnow,
        raw,
        tput,
        Some(0.9),
    );
    ratio("Minnow / raw smoltcp, round trips", minnow, raw, rts, None);
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
    let big = find(rows, "Minnow serve --tcp-buffer 262144", tap);
    ratio(
        "Minnow 256 KiB buffers / 64 KiB, throughput",
        big,
        minnow,
        tput,
        None,
    );
    let jumbo_minnow = find(rows, "Minnow serve --mtu 9000", jumbo);
    ratio(
        "Minnow MTU 9000 / MTU 1500, throughput",
        jumbo_minnow,
        minnow,
        tput,
        None,
    );
    let jumbo_big = find(rows, "Minnow serve --mtu 9000 --tcp-buffer", jumbo);
    ratio(
        "Minnow MTU 9000 + 256 KiB / default, throughput",
        jumbo_big,
        minnow,
        tput,
        None,
    );
    let jumbo_raw = find(rows, "raw smoltcp", jumbo);
    ratio(
        "Minnow / raw smoltcp at MTU 9000, throughput",
        jumbo_minnow,
        jumbo_raw,
        tput,
        None,
    );
}

// ---------------------------------------------------------------- raw smoltcp server

/// A minimal smoltcp echo server on a TAP device, the method of smoltcp's
/// `examples/benchmark.rs`: smoltcp's own `TunTapInterface`, `phy::wait`,
/// one TCP socket re-listening after each connection.
mod raw {
    use std::os::fd::AsRawFd;
    use std::time::{Duration as StdDuration, Instant as StdInstant};

    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Medium, TunTapInterface, wait as phy_wait};
    use smoltcp::socket::tcp;
    use smoltcp::time::{Duration, Instant};
    use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

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
        let mut device = TunTapInterface::new(&tap, Medium::Ethernet)
            .unwrap_or_else(|e| panic!("raw-server: opening TAP {tap}: {e}"));
        let fd = device.as_raw_fd();
        // The same MAC and addresses as `minnow serve`, so the kernel's neighbour cache stays right.
        let mut config = Config::new(EthernetAddress([0x02, 0, 0, 0, 0, 0x02]).into());
        config.random_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let mut iface = Interface::new(config, &mut device, Instant::now());
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::v4(192, 0, 2, 2), 24))
                .unwrap();
            a.push(IpCidr::new(
                IpAddress::v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
                64,
            ))
            .unwrap();
        });
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

            match iface.poll_at(timestamp, &sockets) {
                Some(poll_at) if timestamp < poll_at => {
                    phy_wait(fd, Some(poll_at - timestamp)).expect("wait error");
                }
                Some(_) => (),
                None => {
                    phy_wait(fd, Some(Duration::from_millis(1000))).expect("wait error");
                }
            }
        }
        eprintln!("raw-server: time limit reached, exiting");
    }
}
