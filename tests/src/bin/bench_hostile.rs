//! The hostile-network benchmark (issue 11): how long a legitimate client
//! waits to be served (connect, one byte echoed back) before, during and
//! after each attack, and whether a UDP echo can be made a reflector, for
//! four servers side by side in one run:
//! - Minnow, `minnow serve` on a TAP device (release build, unless
//!   `MINNOW_TEST_RELEASE=0`);
//! - the board: Minnow's firmware image in QEMU's mps2-an386 on a TAP
//!   device (`minnow_tests::board`, the firmware tests' image, built with
//!   `MINNOW_PER_SOURCE=4`);
//! - lwIP 2.1 (Debian's liblwip, raw API) on a TAP device (`minnow_tests::lwip`);
//! - the Linux kernel: the notes' `echo_server.py` on a veth.
//!
//! ```sh
//! cargo run --release -p minnow-tests --bin bench-hostile -- [--tries N] [--only board]
//! ```
//!
//! Each server is up only while its own column is measured, in namespaces
//! of its own: the three TAP servers at 192.0.2.2/24 with the client and
//! the attackers on the Linux side (192.0.2.1); the kernel at 192.0.2.130/25
//! behind a veth from a client namespace (192.0.2.129/25).
//!
//! Attacks, from Python raw sockets in the client's namespace
//! (`tests/src/raw_packets.py`), with sources on the server's own link
//! that nobody owns (so SYN-ACKs go nowhere and no RST comes back):
//! - `half-open`: 50 SYNs from one address (192.0.2.77 on the TAP links,
//!   192.0.2.200 on the veth), then silence;
//! - `flood`: 200 SYN/s from spoofed addresses (192.0.2.100-249 on the TAP
//!   links, 192.0.2.131-254 on the veth's /25) for as long as the clients
//!   during it are measured;
//! - `UDP reflection`: 5 datagrams to the UDP echo (port 12345) forged from
//!   192.0.2.7 port 7 (RFC 862's echo) and 5 from 192.0.2.7 port 12345 (the
//!   service's own port), the pattern of a datagram bouncing between two
//!   echo services; 192.0.2.7 is an address of the Linux side with sockets
//!   on both ports, so every reply the server sends is counted. Beforehand
//!   5 ordinary datagrams from that address must be echoed (and its
//!   Ethernet address is then known to the server). The kernel column has
//!   no UDP echo (the notes' peers have none): n/a.
//!
//! Each TCP cell: the median and the worst of `--tries` (default 10)
//! clients, 0.3 s apart, and how many were not served within 5 s (and why).
//!
//! Network safety: all traffic stays inside namespaces this program
//! creates, addresses from 192.0.2.0/24 only, every attack is bounded in
//! count and time, processes are killed by PID when the namespaces drop.

use std::time::Duration;

use minnow_tests::bench::{VETH_SERVER_V4, veth_pair, wait_listening};
use minnow_tests::{Netns, Proc, RAW_PACKETS_PY, board, lwip};

/// The echo port of every server, TCP and UDP.
const PORT: &str = "12345";
/// Spoofed datagrams per source port in the reflection row.
const REFLECT_TRIES: usize = 5;

/// Clients measured by Python: connect, one byte there and back; prints
/// one line per client, the seconds or `failed`.
const CLIENT: &str = r#"
import socket, sys, time
host, tries = sys.argv[1], int(sys.argv[2])
for _ in range(tries):
    t = time.monotonic()
    try:
        s = socket.create_connection((host, 12345), timeout=5)
        s.settimeout(5); s.sendall(b'x')
        ok = s.recv(1) == b'x'; s.close()
        print('%.4f' % (time.monotonic() - t) if ok else 'failed: no echo', flush=True)
    except OSError as e:
        print('failed: %s' % e.__class__.__name__, flush=True)
    time.sleep(0.3)
"#;

/// 50 half-open connections from one address.
const HALF_OPEN: &str = r#"
dst, src = sys.argv[1], sys.argv[2]
for i in range(50):
    send(syn(src, dst, 20000 + i, 12345), dst)
"#;

/// 200 SYN/s from spoofed sources `prefix.lo`..=`prefix.hi` for at most
/// `secs` (killed by PID once the clients during it are measured).
const FLOOD: &str = r#"
dst, prefix, lo, hi, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
end = time.time() + secs
while time.time() < end:
    src = '%s.%d' % (prefix, random.randint(lo, hi))
    send(syn(src, dst, random.randint(1024, 65535), 12345), dst)
    time.sleep(1 / 200)
"#;

/// The reflection row: `n` ordinary datagrams from `src` (must be echoed),
/// then `n` forged from `src` port 7 and `n` from `src` port 12345; counts
/// what reaches the sockets on `src` ports 7 and 12345 within a second.
const REFLECT: &str = r#"
dst, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
victims = {}
for port in (7, 12345):
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    v.bind((src, port)); v.setblocking(False); victims[port] = v
ordinary = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ordinary.bind((src, 0)); ordinary.settimeout(0.5)
echoed = set()
for i in range(n):
    ordinary.sendto(b'ping %d' % i, (dst, 12345))
    time.sleep(0.1)
end = time.time() + 3
while len(echoed) < n and time.time() < end:
    try:
        echoed.add(ordinary.recv(100))
    except socket.timeout:
        pass
echoed = len(echoed & {b'ping %d' % i for i in range(n)})
for i in range(n):
    for port in victims:
        send(udp(src, dst, port, 12345, b'reflect %d' % i), dst)
    time.sleep(0.02)
time.sleep(1)
def count(v):
    k = 0
    while True:
        try:
            v.recv(2048); k += 1
        except BlockingIOError:
            return k
print('%d/%d from port 7, %d/%d from port 12345 (ordinary: %d/%d echoed)'
      % (count(victims[7]), n, count(victims[12345]), n, echoed, n))
"#;

#[derive(Clone, Copy)]
enum Kind {
    Minnow,
    Board,
    Lwip,
    Kernel,
}

/// One server under test: what it is and how attackers reach it.
struct Target {
    name: &'static str,
    kind: Kind,
    addr: &'static str,
    /// An address on the server's link that nobody owns.
    spoof_one: &'static str,
    /// Flood sources: `192.0.2.lo` ..= `192.0.2.hi`, on the server's link, owned by nobody.
    flood: (u8, u8),
    /// The Linux-side address the reflection row forges (and listens on), if the server has a UDP echo.
    reflect_from: Option<&'static str>,
}

const TAP_SPOOF: &str = "192.0.2.77";
const TAP_FLOOD: (u8, u8) = (100, 249);
const TAP_REFLECT: Option<&str> = Some("192.0.2.7");

const TARGETS: [Target; 4] = [
    Target {
        name: "Minnow serve (TAP)",
        kind: Kind::Minnow,
        addr: Netns::MINNOW_V4,
        spoof_one: TAP_SPOOF,
        flood: TAP_FLOOD,
        reflect_from: TAP_REFLECT,
    },
    Target {
        name: "board: QEMU mps2-an386 (TAP)",
        kind: Kind::Board,
        addr: Netns::MINNOW_V4,
        spoof_one: TAP_SPOOF,
        flood: TAP_FLOOD,
        reflect_from: TAP_REFLECT,
    },
    Target {
        name: "lwIP 2.1 raw API (TAP)",
        kind: Kind::Lwip,
        addr: Netns::MINNOW_V4,
        spoof_one: TAP_SPOOF,
        flood: TAP_FLOOD,
        reflect_from: TAP_REFLECT,
    },
    Target {
        name: "Linux kernel, echo_server.py (veth)",
        kind: Kind::Kernel,
        addr: VETH_SERVER_V4,
        spoof_one: "192.0.2.200",
        // The server's /25 less the two veth ends (.129, .130).
        flood: (131, 254),
        reflect_from: None,
    },
];

/// A running server: the namespace its clients and attackers run in, and
/// everything to drop (processes first) when its column is done.
struct Up {
    client: Netns,
    _procs: Vec<Proc>,
    _server: Option<Netns>,
}

fn start(target: &Target) -> Up {
    let client = Netns::new();
    let (procs, server) = match target.kind {
        Kind::Minnow => (vec![client.serve(&[])], None),
        Kind::Board => (vec![board::boot(&client)], None),
        Kind::Lwip => (vec![lwip::start(&client)], None),
        Kind::Kernel => {
            let server = Netns::new();
            veth_pair(&client, &server);
            let kernel =
                server.spawn(server.peer_command("echo_server.py", &[VETH_SERVER_V4, PORT]));
            wait_listening(&kernel, PORT.parse().unwrap());
            (vec![kernel], Some(server))
        }
    };
    Up {
        client,
        _procs: procs,
        _server: server,
    }
}

/// Median, worst and failures of one cell, as printed.
fn summary(lines: &str) -> String {
    let mut times: Vec<f64> = lines
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let failures: Vec<&str> = lines
        .lines()
        .filter_map(|l| l.trim().strip_prefix("failed: "))
        .collect();
    let failed = failures.len();
    times.sort_by(f64::total_cmp);
    if times.is_empty() {
        return format!("none served ({})", reasons(&failures));
    }
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let fail = if failed > 0 {
        format!(", {failed} not served ({})", reasons(&failures))
    } else {
        String::new()
    };
    format!("{:.1} ms / {:.1} ms{fail}", median * 1e3, worst * 1e3)
}

/// `ConnectionRefusedError ×2, TimeoutError`: each reason once, with its count.
fn reasons(failures: &[&str]) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for f in failures {
        match seen.iter_mut().find(|(r, _)| r == f) {
            Some((_, n)) => *n += 1,
            None => seen.push((f, 1)),
        }
    }
    seen.iter()
        .map(|(r, n)| {
            if *n > 1 {
                format!("{r} ×{n}")
            } else {
                r.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn measure(ns: &Netns, target: &Target, tries: usize) -> String {
    let mut cmd = ns.command("python3");
    cmd.args(["-c", CLIENT, target.addr, &tries.to_string()]);
    // Every client gives up after 5 s, and sleeps 0.3 s.
    let limit = Duration::from_secs_f64(tries as f64 * 5.5 + 30.0);
    let out = ns.run(cmd, limit);
    summary(&out.stdout)
}

fn attack(ns: &Netns, body: &str, args: &[&str]) -> Proc {
    let mut cmd = ns.command("python3");
    cmd.arg("-c")
        .arg(format!("{RAW_PACKETS_PY}\n{body}"))
        .args(args);
    ns.spawn(cmd)
}

fn reflection(ns: &Netns, target: &Target) -> String {
    let Some(src) = target.reflect_from else {
        return "n/a (no UDP echo)".into();
    };
    ns.ip(&["addr", "add", &format!("{src}/24"), "dev", Netns::TAP]);
    let mut cmd = ns.command("python3");
    cmd.arg("-c")
        .arg(format!("{RAW_PACKETS_PY}\n{REFLECT}"))
        .args([target.addr, src, &REFLECT_TRIES.to_string()]);
    let out = ns.run(cmd, Duration::from_secs(60));
    if !out.success() {
        return format!("failed: {}", out.stderr.trim().replace('\n', " "));
    }
    out.stdout.trim().to_string()
}

/// Every row of one target's column, the server up only meanwhile.
fn column(target: &Target, tries: usize) -> Vec<String> {
    let up = start(target);
    let ns = &up.client;
    let mut cells = vec![measure(ns, target, tries)];

    let mut a = attack(ns, HALF_OPEN, &[target.addr, target.spoof_one]);
    let _ = a.wait(Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    cells.push(measure(ns, target, tries));
    std::thread::sleep(Duration::from_secs(6));
    cells.push(measure(ns, target, tries));

    // The flood outlasts the clients during it (each gives up after 5 s),
    // and is stopped (by PID) once they are done.
    let bound = (tries as f64 * 5.5 + 10.0).to_string();
    let (lo, hi) = (target.flood.0.to_string(), target.flood.1.to_string());
    let mut a = attack(ns, FLOOD, &[target.addr, "192.0.2", &lo, &hi, &bound]);
    std::thread::sleep(Duration::from_secs(2));
    cells.push(measure(ns, target, tries));
    a.kill();
    std::thread::sleep(Duration::from_secs(1));
    cells.push(measure(ns, target, tries));

    cells.push(reflection(ns, target));
    cells
}

fn main() {
    let mut tries = 10usize;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--tries", Some(n)) => tries = n.parse().expect("--tries N"),
            ("--only", Some(word)) => only = Some(word.to_lowercase()),
            _ => {
                eprintln!(
                    "usage: bench-hostile [--tries N] [--only WORD (a column whose name has it)]"
                );
                std::process::exit(2);
            }
        }
    }
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| {
            only.as_ref()
                .is_none_or(|w| t.name.to_lowercase().contains(w))
        })
        .collect();
    minnow_tests::require_root();
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    // Built before any server is up, so no build competes with a measurement.
    let _ = board::image();
    let _ = lwip::binary();
    let _ = minnow_tests::minnow_bin();

    let columns: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            eprintln!("bench-hostile: measuring {}", t.name);
            column(t, tries)
        })
        .collect();
    let labels = [
        "no attack".to_string(),
        "50 half-open from one address".into(),
        "  6 s later".into(),
        "SYN flood, 200/s spoofed".into(),
        "  1 s after it".into(),
        format!(
            "UDP echo replies to {REFLECT_TRIES} forged from port 7, from port 12345 (reflection)"
        ),
    ];
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    println!(
        "| client served (median / worst of {tries}) | {} |",
        names.join(" | ")
    );
    println!("|{}", " --- |".repeat(names.len() + 1));
    for (i, label) in labels.iter().enumerate() {
        let cells: Vec<&str> = columns.iter().map(|c| c[i].as_str()).collect();
        println!("| {label} | {} |", cells.join(" | "));
    }
}
