//! The board benchmark: Minnow's firmware image on a QEMU board (`--board
//! mps2`, the default: mps2-an386, Cortex-M4F + LAN9118; `--board
//! lm3s6965`: lm3s6965evb, Cortex-M3 + the Stellaris Ethernet MAC; on a TAP
//! device) beside the host adapter (`minnow serve` on a TAP device), in one
//! run, as a table.
//!
//! ```sh
//! sudo cargo run --release -p minnow-tests --bin bench-board -- [--board NAME] [--seconds S] [--bytes N] [--repeat R]
//! ```
//!
//! Rows: TCP echo round trips per second (1 byte, `TCP_NODELAY`, for
//! `--seconds`, default 2), UDP echo round trips per second (64-byte
//! datagrams), TCP echo throughput (`--bytes`, default 4 MiB, streamed
//! through the echo and compared byte for byte), and file download
//! throughput (the board's test file: mps2's 1 MiB `random-1m.bin`, the
//! LM3S6965's 64 KiB `random-64k.bin`, hash-checked). Each row is measured
//! `--repeat` times (default 3), board and host interleaved; the table shows
//! the best. MB/s are 10^6 bytes of payload per second.
//!
//! The image is the firmware tests' (`minnow_tests::board`: `cargo build
//! --release` in the board's folder, 192.0.2.2/24 + 2001:db8::2/64), or
//! taken from env `MINNOW_BOARD_ELF` (mps2) or `MINNOW_LM3S6965_ELF`.
//! Network safety: each server lives in a namespace this program creates
//! (192.0.2.0/24 only), the clients run inside them, every measurement is
//! bounded in time, and processes are killed by PID when the namespaces drop.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use minnow_tests::{BOARD_FILE_SEED, Board, Netns, TempDir, random_bytes, sha256_hex};

/// No single measurement may take longer than this.
const LIMIT: Duration = Duration::from_secs(60);

struct Args {
    board: Board,
    seconds: f64,
    bytes: usize,
    repeat: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        board: Board::Mps2,
        seconds: 2.0,
        bytes: 4 << 20,
        repeat: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .unwrap_or_else(|| die(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--board" => {
                let name = value("--board");
                args.board =
                    Board::from_name(&name).unwrap_or_else(|| die("--board: mps2 or lm3s6965"))
            }
            "--seconds" => {
                args.seconds = value("--seconds")
                    .parse()
                    .unwrap_or_else(|_| die("--seconds: a number"))
            }
            "--bytes" => {
                args.bytes = value("--bytes")
                    .parse()
                    .unwrap_or_else(|_| die("--bytes: a number"))
            }
            "--repeat" => {
                args.repeat = value("--repeat")
                    .parse()
                    .unwrap_or_else(|_| die("--repeat: a number"))
            }
            "-h" | "--help" => {
                println!(
                    "usage: bench-board [--board mps2|lm3s6965] [--seconds S] [--bytes N] [--repeat R]"
                );
                std::process::exit(0);
            }
            other => die(&format!("unknown argument {other}")),
        }
    }
    if !(0.1..=30.0).contains(&args.seconds) || args.bytes == 0 || args.bytes > 64 << 20 {
        die("--seconds must be 0.1..=30 and --bytes 1..=64 MiB");
    }
    args.repeat = args.repeat.clamp(1, 10);
    args
}

fn die(msg: &str) -> ! {
    eprintln!("bench-board: {msg}");
    std::process::exit(2);
}

/// Writes 1 byte, reads it back, for `secs`. Round trips per second.
fn tcp_round_trips(ns: &Netns, secs: f64) -> f64 {
    let addr: SocketAddr = format!("{}:12345", Netns::MINNOW_V4).parse().unwrap();
    let mut s = ns
        .connect_tcp(addr, Duration::from_secs(5))
        .expect("connect echo");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (start, mut n) = (Instant::now(), 0u64);
    let mut b = [0u8; 1];
    while start.elapsed().as_secs_f64() < secs {
        s.write_all(&[n as u8]).expect("echo write");
        s.read_exact(&mut b).expect("echo read");
        assert_eq!(b[0], n as u8, "echo returned a wrong byte");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// One 64-byte datagram at a time, for `secs`. Round trips per second.
fn udp_round_trips(ns: &Netns, secs: f64) -> f64 {
    let s: UdpSocket = ns
        .bind_udp(format!("{}:0", Netns::HOST_V4))
        .expect("bind udp");
    s.connect(format!("{}:12345", Netns::MINNOW_V4)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let (start, mut n, mut lost) = (Instant::now(), 0u64, 0u64);
    let mut buf = [0u8; 128];
    while start.elapsed().as_secs_f64() < secs {
        let msg = [(n % 251) as u8; 64];
        s.send(&msg).expect("udp send");
        match s.recv(&mut buf) {
            Ok(64) if buf[..64] == msg => n += 1,
            _ => lost += 1,
        }
        assert!(lost < 100, "UDP echo: too many datagrams lost");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Streams `bytes` through the TCP echo (writer thread + reader), checks
/// them. MB/s each way.
fn tcp_throughput(ns: &Netns, bytes: usize) -> f64 {
    let addr: SocketAddr = format!("{}:12345", Netns::MINNOW_V4).parse().unwrap();
    let s = ns
        .connect_tcp(addr, Duration::from_secs(5))
        .expect("connect echo");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let data = random_bytes(bytes, bytes as u64);
    let start = Instant::now();
    let mut w = s.try_clone().unwrap();
    let sent = data.clone();
    let writer = thread::spawn(move || {
        for chunk in sent.chunks(16 * 1024) {
            w.write_all(chunk).expect("echo write");
        }
        let _ = w.shutdown(Shutdown::Write);
    });
    let mut got = Vec::with_capacity(bytes);
    let mut r = s;
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < bytes {
        assert!(start.elapsed() < LIMIT, "echo stream took too long");
        let n = r.read(&mut buf).expect("echo read");
        assert!(n > 0, "echo closed early after {} bytes", got.len());
        got.extend_from_slice(&buf[..n]);
    }
    let secs = start.elapsed().as_secs_f64();
    writer.join().unwrap();
    assert!(got == data, "echoed bytes differ");
    bytes as f64 / secs / 1e6
}

/// Downloads `name`, checks its hash. MB/s.
fn file_download(ns: &Netns, name: &str, len: usize, want: &str) -> f64 {
    let addr: SocketAddr = format!("{}:60000", Netns::MINNOW_V4).parse().unwrap();
    let start = Instant::now();
    let mut s = ns
        .connect_tcp(addr, Duration::from_secs(5))
        .expect("connect file");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {name}\n").as_bytes()).unwrap();
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        assert!(start.elapsed() < LIMIT, "download took too long");
        let n = s.read(&mut buf).expect("file read");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(sha256_hex(&got), want, "downloaded file differs");
    got.len() as f64 / secs / 1e6
}

fn main() {
    let args = parse_args();
    minnow_tests::require_root();
    let elf = args.board.image();
    let (name, len) = args.board.random_file();
    let data = random_bytes(len, BOARD_FILE_SEED);
    let want = sha256_hex(&data);
    let files = TempDir::new("bench-board");
    std::fs::write(files.join(name), &data).unwrap();

    let board_ns = Netns::new();
    let _board = args.board.boot_elf(&board_ns, &elf);
    let host_ns = Netns::new();
    let dir = files.path().to_str().unwrap();
    let _host = host_ns.serve(&["--files", dir]);

    type Measure<'a> = Box<dyn Fn(&Netns) -> f64 + 'a>;
    let rows: Vec<(&str, &str, Measure)> = vec![
        (
            "TCP echo round trips, 1 byte",
            "/s",
            Box::new(|ns| tcp_round_trips(ns, args.seconds)),
        ),
        (
            "UDP echo round trips, 64 bytes",
            "/s",
            Box::new(|ns| udp_round_trips(ns, args.seconds)),
        ),
        (
            "TCP echo throughput",
            "MB/s",
            Box::new(|ns| tcp_throughput(ns, args.bytes)),
        ),
        (
            "file download (the board's test file)",
            "MB/s",
            Box::new(|ns| file_download(ns, name, len, &want)),
        ),
    ];
    println!(
        "| measurement (best of {}) | board: QEMU {} + {} | host adapter: minnow serve | board / host |",
        args.repeat,
        args.board.machine(),
        args.board.nic_model()
    );
    println!("| --- | ---: | ---: | ---: |");
    for (name, unit, measure) in &rows {
        let (mut board, mut host) = (0f64, 0f64);
        for _ in 0..args.repeat {
            board = board.max(measure(&board_ns));
            host = host.max(measure(&host_ns));
        }
        println!(
            "| {name} | {board:.1} {unit} | {host:.1} {unit} | {:.3} |",
            board / host
        );
    }
}
