//! The chat benchmark (issue 4): 64 clients in one room, Minnow's chat server
//! on the TAP device beside the notes' `chat_server.py` on the Linux kernel
//! (a veth pair to a second namespace), side by side in one run: messages
//! delivered per second, latency from send to the last receiver, every
//! message counted at every receiver; then RAM per client.
//!
//! ```sh
//! sudo MINNOW_TEST_RELEASE=1 cargo run --release -p minnow-tests --bin bench-chat -- \
//!     [--clients N] [--messages M] [--window W] [--rate R] [--paced-seconds S] [--repeat R]
//! ```
//!
//! The clients live in this process (sockets made inside the client
//! namespace, then a sender on the main thread and one poll(2) reader
//! thread). They join one by one (each join is seen by the first client
//! before the next joins), then two phases run:
//!
//! - load: every client sends `--messages` lines (default 200) as fast as
//!   the room takes them, with at most `--window` (default 4) of its own
//!   lines not yet received by all the others (a closed loop, so queues stay
//!   bounded and latency means something); deliveries/s = copies received
//!   / time from the first send to the last copy;
//! - paced: `--rate` lines per second in all (default 500, round robin over
//!   the clients) for `--paced-seconds` (default 2): latency at a load both
//!   servers carry.
//!
//! A line is `M PHASE SENDER SEQ SEND_NS`; latency = when the last of the
//! other N-1 clients read it - SEND_NS (one clock, this process). Each
//! receiver reassembles each sender's bytes between `\r[('IP', PORT)] `
//! prefixes (the notes' server forwards whatever one `recv(4096)` returned,
//! which may end inside a line) and checks that every sender's lines arrive
//! complete and in order: lost, duplicated or misordered lines are counted.
//!
//! RAM per client: on the host, `minnow serve`'s `VmHWM` growth over the run
//! / N; on the firmware, computed from `firmware-sim/mps2/src/services.rs`'s
//! chat buffer sizes and core's documented per-member sizes.
//!
//! Network safety: all traffic stays inside the namespaces created here,
//! addresses come from 192.0.2.0/24 only, every phase is bounded in time,
//! and processes are killed by PID (the harness does so on drop).

#[path = "../bench_kit.rs"]
mod bench_kit;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bench_kit::{
    VETH_SERVER_V4, cpu_secs, load_note, self_cpu_secs, status_kib, stop, veth_pair, verdict,
};
use minnow_tests::{Netns, Proc, minnow_bin, workspace_root};

/// The notes' chat port (Minnow's default too).
const PORT: u16 = 9009;
/// No delivery for this long ends a phase (what is missing then counts as lost).
const STALL: Duration = Duration::from_secs(10);
/// The longest a phase may take.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    /// `minnow serve` (defaults: 256 places, 32 KiB queue per member) on the TAP device.
    Minnow,
    /// The notes' `chat_server.py` in the kernel namespace.
    NotesPy,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Minnow => "Minnow serve (chat defaults)",
            Server::NotesPy => "Linux kernel, chat_server.py",
        }
    }

    fn link(self) -> &'static str {
        match self {
            Server::Minnow => "TAP",
            Server::NotesPy => "veth",
        }
    }

    fn addr(self) -> SocketAddr {
        let ip = match self {
            Server::Minnow => Netns::MINNOW_V4,
            Server::NotesPy => VETH_SERVER_V4,
        };
        SocketAddr::new(ip.parse().unwrap(), PORT)
    }
}

const SERVERS: [Server; 2] = [Server::Minnow, Server::NotesPy];

struct Opts {
    clients: usize,
    messages: usize,
    window: usize,
    rate: f64,
    paced_seconds: f64,
    repeat: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-chat [--clients N] [--messages M] [--window W] [--rate R] [--paced-seconds S] [--repeat R]\n\
         Run as root: it creates network namespaces and TAP devices."
    );
    std::process::exit(2)
}

fn main() {
    let mut o = Opts {
        clients: 64,
        messages: 200,
        window: 4,
        rate: 500.0,
        paced_seconds: 2.0,
        repeat: 1,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage());
        match a.as_str() {
            "--clients" => o.clients = val().parse().unwrap_or_else(|_| usage()),
            "--messages" => o.messages = val().parse().unwrap_or_else(|_| usage()),
            "--window" => o.window = val().parse().unwrap_or_else(|_| usage()),
            "--rate" => o.rate = val().parse().unwrap_or_else(|_| usage()),
            "--paced-seconds" => o.paced_seconds = val().parse().unwrap_or_else(|_| usage()),
            "--repeat" => o.repeat = val().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if !(2..=250).contains(&o.clients)
        || !(1..=100_000).contains(&o.messages)
        || o.window == 0
        || !(1.0..=100_000.0).contains(&o.rate)
        || !(0.1..=30.0).contains(&o.paced_seconds)
        || !(1..=10).contains(&o.repeat)
    {
        usage();
    }
    if std::env::var_os("MINNOW_TEST_RELEASE").is_none() {
        // SAFETY: still single-threaded: no other thread reads the environment.
        unsafe { std::env::set_var("MINNOW_TEST_RELEASE", "1") };
    }
    bench(&o);
}

// ---------------------------------------------------------------- clock

/// Nanoseconds since the benchmark's start (one clock for senders and readers).
fn now_ns(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

// ---------------------------------------------------------------- a client connection

/// What a client has received, reassembled per sender.
struct Conn {
    /// This client's index.
    me: usize,
    sock: TcpStream,
    /// Received bytes not parsed yet (an incomplete prefix).
    pending: Vec<u8>,
    /// Whose bytes come now: an index into `partial` (0: no prefix seen yet).
    cur: usize,
    /// The `\r[...] ` prefixes seen, to `partial` indexes.
    keys: HashMap<Vec<u8>, usize>,
    /// Each sender's incomplete line.
    partial: Vec<Vec<u8>>,
    joins: usize,
    leaves: usize,
    /// Lines that were neither a message nor a notice.
    unknown: usize,
    /// Per phase and sender, the last sequence number received (or -1).
    last_seq: Vec<i64>,
    /// The server closed this connection.
    eof: bool,
}

/// A message line, parsed.
struct Msg {
    phase: usize,
    sender: usize,
    seq: usize,
    sent_ns: u64,
}

fn parse_msg(line: &[u8]) -> Option<Msg> {
    let text = std::str::from_utf8(line.strip_prefix(b"M ")?).ok()?;
    let mut f = text.split_whitespace().map(|w| w.parse::<u64>());
    let mut next = || f.next()?.ok();
    Some(Msg {
        phase: next()? as usize,
        sender: next()? as usize,
        seq: next()? as usize,
        sent_ns: next()?,
    })
}

impl Conn {
    fn new(me: usize, sock: TcpStream, senders: usize) -> Conn {
        Conn {
            me,
            sock,
            pending: Vec::new(),
            cur: 0,
            keys: HashMap::new(),
            partial: vec![Vec::new()],
            joins: 0,
            leaves: 0,
            unknown: 0,
            last_seq: vec![-1; 2 * senders],
            eof: false,
        }
    }

    /// Parses `data`, calling `on_msg` for each complete message line.
    fn feed(&mut self, data: &[u8], on_msg: &mut impl FnMut(&mut Conn, Msg)) {
        self.pending.extend_from_slice(data);
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            if rest.is_empty() {
                break;
            }
            if rest[0] == b'\r' {
                // A prefix: `\r[('IP', PORT)] `.
                if rest.len() < 2 {
                    break;
                }
                if rest[1] != b'[' {
                    // Not a prefix: the bytes belong to the current sender.
                    self.unknown += 1;
                    at += 1;
                    continue;
                }
                let Some(end) = rest.windows(2).position(|w| w == b"] ") else {
                    break;
                };
                let key = rest[2..end].to_vec();
                let n = self.keys.len() + 1;
                self.cur = *self.keys.entry(key).or_insert(n);
                if self.partial.len() <= self.cur {
                    self.partial.resize(self.cur + 1, Vec::new());
                }
                at += end + 2;
                continue;
            }
            let len = rest.iter().position(|&b| b == b'\r').unwrap_or(rest.len());
            let cur = self.cur;
            let mut part = std::mem::take(&mut self.partial[cur]);
            part.extend_from_slice(&rest[..len]);
            at += len;
            let mut start = 0;
            while let Some(i) = part[start..].iter().position(|&b| b == b'\n') {
                let line = &part[start..start + i];
                if let Some(m) = parse_msg(line) {
                    on_msg(self, m);
                } else if contains(line, b"entered our chatting room") {
                    self.joins += 1;
                } else if contains(line, b"is offline") {
                    self.leaves += 1;
                } else {
                    self.unknown += 1;
                }
                start += i + 1;
            }
            part.drain(..start);
            self.partial[cur] = part;
        }
        self.pending.drain(..at);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

