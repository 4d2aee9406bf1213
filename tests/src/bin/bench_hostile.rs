//! The hostile-network benchmark (issue 11): how long a legitimate client
//! waits to be served (connect, one byte echoed back) before, during and
//! after each attack, for Minnow on the TAP device and, side by side in the
//! same run, for the Linux kernel (the notes' `echo_server.py` on a veth).
//!
//! ```sh
//! cargo run --release -p minnow-tests --bin bench-hostile -- [--tries N]
//! ```
//!
//! Attacks, from Python raw sockets in the client namespace
//! (`tests/src/raw_packets.py`), with sources nobody in the namespaces owns
//! (so SYN-ACKs go nowhere and no RST comes back):
//! - `half-open`: 50 SYNs from one address, then silence;
//! - `flood`: 200 SYN/s from 150 spoofed addresses for the whole measurement.
//!
//! Each cell: the median and the worst of `--tries` (default 10) clients,
//! 0.3 s apart, and how many were not served within 5 s. Not yet measured
//! here: the board in QEMU and lwIP 2.1 (see the issue).
//!
//! Network safety: all traffic stays inside two namespaces this program
//! creates, addresses from 192.0.2.0/24 only, every attack is bounded in
//! count and time, processes are killed by PID when the namespaces drop.

use std::time::Duration;

use minnow_tests::bench::{VETH_SERVER_V4, veth_pair, wait_listening};
use minnow_tests::{Netns, RAW_PACKETS_PY};

/// The echo port of both servers.
const PORT: &str = "12345";

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

/// 200 SYN/s from spoofed sources `prefix.100`..`prefix.249` for `secs`.
const FLOOD: &str = r#"
dst, prefix, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + secs
while time.time() < end:
    src = '%s.%d' % (prefix, random.randint(100, 249))
    send(syn(src, dst, random.randint(1024, 65535), 12345), dst)
    time.sleep(1 / 200)
"#;

/// One server under test: where it is and how attackers reach it.
struct Target {
    name: &'static str,
    addr: &'static str,
    /// An address on the server's link that nobody owns.
    spoof_one: &'static str,
    /// The first three octets of spoofed flood sources on that link.
    spoof_prefix: &'static str,
}

const TARGETS: [Target; 2] = [
    Target {
        name: "Minnow serve (TAP)",
        addr: Netns::MINNOW_V4,
        spoof_one: "192.0.2.77",
        spoof_prefix: "192.0.2",
    },
    Target {
        name: "Linux kernel, echo_server.py (veth)",
        addr: VETH_SERVER_V4,
        spoof_one: "192.0.2.200",
        spoof_prefix: "192.0.2",
    },
];

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
        return format!("none served ({})", failures.join(", "));
    }
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let fail = if failed > 0 {
        format!(", {failed} not served ({})", failures.join(", "))
    } else {
        String::new()
    };
    format!("{:.1} ms / {:.1} ms{fail}", median * 1e3, worst * 1e3)
}

fn measure(ns: &Netns, target: &Target, tries: usize) -> String {
    let mut cmd = ns.command("python3");
    cmd.args(["-c", CLIENT, target.addr, &tries.to_string()]);
    let out = ns.run(cmd, Duration::from_secs(120));
    summary(&out.stdout)
}

fn attack(ns: &Netns, body: &str, args: &[&str]) -> minnow_tests::Proc {
    let mut cmd = ns.command("python3");
    cmd.arg("-c")
        .arg(format!("{RAW_PACKETS_PY}\n{body}"))
        .args(args);
    ns.spawn(cmd)
}

fn main() {
    let mut tries = 10usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--tries", Some(n)) => tries = n.parse().expect("--tries N"),
            _ => {
                eprintln!("usage: bench-hostile [--tries N]");
                std::process::exit(2);
            }
        }
    }
    let client = Netns::new();
    let server = Netns::new();
    veth_pair(&client, &server);
    let _minnow = client.serve(&[]);
    let kernel = server.spawn(server.peer_command("echo_server.py", &[VETH_SERVER_V4, PORT]));
    wait_listening(&kernel, PORT.parse().unwrap());
    let flood_secs = (tries as f64 * 0.35 + 4.0).to_string();

    println!(
        "| client served (median / worst of {tries}) | {} | {} |",
        TARGETS[0].name, TARGETS[1].name
    );
    println!("| --- | --- | --- |");
    let row = |label: &str, cells: Vec<String>| {
        println!("| {label} | {} | {} |", cells[0], cells[1]);
    };
    row(
        "no attack",
        TARGETS.iter().map(|t| measure(&client, t, tries)).collect(),
    );
    let mut during = Vec::new();
    let mut after = Vec::new();
    for t in &TARGETS {
        let mut a = attack(&client, HALF_OPEN, &[t.addr, t.spoof_one]);
        let _ = a.wait(Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(200));
        during.push(measure(&client, t, tries));
        std::thread::sleep(Duration::from_secs(6));
        after.push(measure(&client, t, tries));
    }
    row("50 half-open from one address", during);
    row("  6 s later", after);
    let mut during = Vec::new();
    let mut after = Vec::new();
    for t in &TARGETS {
        let mut a = attack(&client, FLOOD, &[t.addr, t.spoof_prefix, &flood_secs]);
        std::thread::sleep(Duration::from_secs(2));
        during.push(measure(&client, t, tries));
        let _ = a.wait(Duration::from_secs(120));
        std::thread::sleep(Duration::from_secs(1));
        after.push(measure(&client, t, tries));
    }
    row("SYN flood, 200/s spoofed", during);
    row("  after it", after);
}
