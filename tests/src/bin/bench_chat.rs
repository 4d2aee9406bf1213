//! The chat benchmark (issue 4): 64 clients in one room, Minnow's chat server
//! on the TAP device beside the notes' `chat_server.py` on the Linux kernel
//! (a veth pair to a second namespace), side by side in one run: messages
//! delivered per second, latency from send to the last receiver, every
//! message counted at every receiver; then RAM per client.
//!
//! ```sh
//! sudo MINNOW_TEST_RELEASE=1 cargo run --release -p minnow-tests --bin bench-chat -- \
//!     [--clients N] [--messages M] [--window W] [--rate R] [--paced-seconds S] [--repeat R] [--quickack]
//! ```
//!
//! Each server is measured in `--repeat` interleaved rounds (default 3). With
//! `--quickack` the clients set TCP_QUICKACK after every read (no delayed
//! ACKs), which shows how much of the latency is a server's Nagle algorithm
//! waiting for the clients' delayed ACKs.
//!
//! The clients live in this process (sockets made inside the client
//! namespace, then a sender on the main thread and one poll(2) reader
//! thread). They join one by one (each join is seen by the first client
//! before the next joins), then two phases run:
//!
//! - load: every client sends `--messages` lines (default 500) as fast as
//!   the room takes them, with at most `--window` (default 16) of its own
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
//! / N; on the firmware, computed from the board's own sizes
//! (`firmware-sim/firmware/src/sizes.rs`, compiled in here) and core's types.
//!
//! Network safety: all traffic stays inside the namespaces created here,
//! addresses come from 192.0.2.0/24 only, every phase is bounded in time,
//! and processes are killed by PID (the harness does so on drop).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use minnow_tests::bench::{
    self, VETH_SERVER_V4, cpu_secs, load_note, runq_wait_secs, self_cpu_secs, status_kib, stop,
    verdict, veth_pair,
};
use minnow_tests::{Netns, Proc, minnow_bin};

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
    /// Set TCP_QUICKACK after every read (acknowledge at once, no delayed ACK).
    quickack: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench-chat [--clients N] [--messages M] [--window W] [--rate R] [--paced-seconds S] [--repeat R] [--quickack]\n\
         Run as root: it creates network namespaces and TAP devices."
    );
    std::process::exit(2)
}

fn main() {
    let mut o = Opts {
        clients: 64,
        messages: 500,
        window: 16,
        rate: 500.0,
        paced_seconds: 2.0,
        repeat: 3,
        quickack: false,
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
            "--quickack" => o.quickack = true,
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

// ---------------------------------------------------------------- phases

/// What the sender sees of a phase (the reader updates it).
struct Progress {
    /// Messages received by all the others, per sender.
    done: Vec<AtomicUsize>,
    done_total: AtomicUsize,
    /// The reader has stopped (every message delivered, a stall, or an error).
    reader_done: AtomicBool,
    /// The sender failed: the reader stops.
    abort: AtomicBool,
}

impl Progress {
    fn new(senders: usize) -> Progress {
        Progress {
            done: (0..senders).map(|_| AtomicUsize::new(0)).collect(),
            done_total: AtomicUsize::new(0),
            reader_done: AtomicBool::new(false),
            abort: AtomicBool::new(false),
        }
    }
}

/// The reader's record of a phase.
struct Tally {
    /// 1: load, 2: paced.
    id: usize,
    senders: usize,
    /// Messages per sender.
    per: usize,
    /// Per message (`sender * per + seq`): copies received, when the last was
    /// read, when it was sent.
    count: Vec<u16>,
    last_ns: Vec<u64>,
    sent_ns: Vec<u64>,
    /// Lines out of order, repeated, one's own, or the server closing.
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    fn new(id: usize, senders: usize, per: usize) -> Tally {
        Tally {
            id,
            senders,
            per,
            count: vec![0; senders * per],
            last_ns: vec![0; senders * per],
            sent_ns: vec![0; senders * per],
            errors: 0,
            first_error: None,
        }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }

    /// Records one received line at client `c`; true if it was the message's last copy.
    fn record(&mut self, c: &mut Conn, m: Msg, t: u64, progress: &Progress) -> bool {
        let n = self.senders;
        if m.phase != self.id || m.sender >= n || m.seq >= self.per {
            self.error(format!(
                "client {}: a line from another phase or out of range (phase {}, sender {}, seq {})",
                c.me, m.phase, m.sender, m.seq
            ));
            return false;
        }
        if m.sender == c.me {
            self.error(format!("client {}: got its own line back", c.me));
            return false;
        }
        let slot = (self.id - 1) * n + m.sender;
        let due = c.last_seq[slot] + 1;
        if m.seq as i64 != due {
            self.error(format!(
                "client {}: from sender {}: line {} where {due} was due",
                c.me, m.sender, m.seq
            ));
        }
        c.last_seq[slot] = c.last_seq[slot].max(m.seq as i64);
        let i = m.sender * self.per + m.seq;
        self.count[i] += 1;
        self.last_ns[i] = self.last_ns[i].max(t);
        self.sent_ns[i] = m.sent_ns;
        match (self.count[i] as usize).cmp(&(n - 1)) {
            std::cmp::Ordering::Equal => {
                progress.done[m.sender].fetch_add(1, Ordering::Release);
                progress.done_total.fetch_add(1, Ordering::Release);
                true
            }
            std::cmp::Ordering::Greater => {
                self.error(format!(
                    "line {}/{} received more than {} times",
                    m.sender,
                    m.seq,
                    n - 1
                ));
                false
            }
            std::cmp::Ordering::Less => false,
        }
    }
}

/// The reader: polls every connection, parses, records; returns when every
/// message reached every other client, on a stall, at the limit, or on abort.
fn read_phase(
    conns: &mut [Conn],
    tally: &mut Tally,
    progress: &Progress,
    base: Instant,
    sender: &thread::Thread,
    quickack: bool,
) {
    let total = tally.senders * tally.per;
    let mut fds: Vec<libc::pollfd> = conns
        .iter()
        .map(|c| libc::pollfd {
            fd: if c.eof { -1 } else { c.sock.as_raw_fd() },
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let mut last_progress = start;
    while progress.done_total.load(Ordering::Acquire) < total
        && !progress.abort.load(Ordering::Relaxed)
    {
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 50) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                tally.error(format!("poll: {e}"));
                break;
            }
            continue;
        }
        let mut completed = false;
        for (i, fd) in fds.iter_mut().enumerate() {
            if fd.revents == 0 {
                continue;
            }
            fd.revents = 0;
            let c = &mut conns[i];
            match c.sock.read(&mut buf) {
                Ok(0) => {
                    c.eof = true;
                    fd.fd = -1;
                    tally.error(format!("client {i}: the server closed the connection"));
                }
                Ok(k) => {
                    let t = now_ns(base);
                    if quickack {
                        quick_ack(&c.sock);
                    }
                    c.feed(&buf[..k], &mut |c, m| {
                        completed |= tally.record(c, m, t, progress);
                    });
                    last_progress = Instant::now();
                }
                Err(e) if bench::is_transient(&e) => {}
                Err(e) => {
                    fd.fd = -1;
                    tally.error(format!("client {i}: read: {e}"));
                }
            }
        }
        if completed {
            sender.unpark();
        }
        if last_progress.elapsed() >= STALL || start.elapsed() >= PHASE_LIMIT {
            break;
        }
    }
    progress.reader_done.store(true, Ordering::Release);
    sender.unpark();
}

/// Asks Linux to acknowledge what arrives at once (TCP_QUICKACK lasts only
/// until the stack falls back to delayed ACKs, so it is set after every read).
fn quick_ack(sock: &TcpStream) {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt with a valid fd and a pointer to a c_int of the given size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn line(phase: usize, sender: usize, seq: usize, t: u64) -> String {
    format!("M {phase} {sender} {seq} {t}\n")
}

/// Load: every client sends `per` lines, at most `window` of its own not yet
/// received by all the others. Returns when its first line went out.
fn send_load(
    writers: &[TcpStream],
    progress: &Progress,
    per: usize,
    window: usize,
    base: Instant,
) -> Result<u64, String> {
    let n = writers.len();
    let mut sent = vec![0usize; n];
    let mut first = None;
    loop {
        let mut all = true;
        let mut moved = false;
        for (c, mut w) in writers.iter().enumerate() {
            while sent[c] < per && sent[c] - progress.done[c].load(Ordering::Acquire) < window {
                let t = now_ns(base);
                w.write_all(line(1, c, sent[c], t).as_bytes())
                    .map_err(|e| format!("client {c}: write: {e}"))?;
                first.get_or_insert(t);
                sent[c] += 1;
                moved = true;
            }
            all &= sent[c] == per;
        }
        if all || progress.reader_done.load(Ordering::Acquire) {
            break;
        }
        if !moved {
            thread::park_timeout(Duration::from_millis(5));
        }
    }
    first.ok_or_else(|| "nothing was sent".into())
}

/// Paced: line k goes out at `k / rate` seconds, from client `k % n`.
fn send_paced(writers: &[TcpStream], per: usize, rate: f64, base: Instant) -> Result<u64, String> {
    let n = writers.len();
    let start = Instant::now();
    let first = now_ns(base);
    for k in 0..n * per {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        let (c, seq) = (k % n, k / n);
        let t = now_ns(base);
        (&writers[c])
            .write_all(line(2, c, seq, t).as_bytes())
            .map_err(|e| format!("client {c}: write: {e}"))?;
    }
    Ok(first)
}

/// What a phase measured.
struct PhaseResult {
    messages: usize,
    /// Copies received (at most N-1 per message).
    delivered: usize,
    /// Messages some client never received.
    lost: usize,
    errors: usize,
    first_error: Option<String>,
    /// From the first send to the last copy read.
    secs: f64,
    /// Send to last receiver, ms, per fully delivered message, sorted.
    lat_ms: Vec<f64>,
    server_cpu: Option<f64>,
    /// Seconds the server was runnable but waited for a CPU.
    server_wait: Option<f64>,
    client_cpu: f64,
}

impl PhaseResult {
    fn deliveries_per_s(&self) -> f64 {
        self.delivered as f64 / self.secs
    }

    fn messages_per_s(&self) -> f64 {
        (self.messages - self.lost) as f64 / self.secs
    }

    fn pct(&self, p: f64) -> Option<f64> {
        let n = self.lat_ms.len();
        (n > 0).then(|| self.lat_ms[((n as f64 * p).ceil() as usize).clamp(1, n) - 1])
    }
}

enum Kind {
    Load { window: usize },
    Paced { rate: f64 },
}

/// What every phase of a round shares.
struct Ctx {
    /// The clock of the send and arrival times.
    base: Instant,
    server_pid: u32,
    quickack: bool,
}

fn run_phase(
    conns: &mut [Conn],
    writers: &[TcpStream],
    id: usize,
    per: usize,
    kind: Kind,
    ctx: &Ctx,
) -> PhaseResult {
    let n = conns.len();
    let progress = Progress::new(n);
    let mut tally = Tally::new(id, n, per);
    let Ctx {
        base,
        server_pid,
        quickack,
    } = *ctx;
    let cpu0 = cpu_secs(server_pid);
    let wait0 = runq_wait_secs(server_pid);
    let ccpu0 = self_cpu_secs();
    let me = thread::current();
    let first = thread::scope(|s| {
        let reader = s.spawn(|| read_phase(conns, &mut tally, &progress, base, &me, quickack));
        let r = match kind {
            Kind::Load { window } => send_load(writers, &progress, per, window, base),
            Kind::Paced { rate } => send_paced(writers, per, rate, base),
        };
        if r.is_err() {
            progress.abort.store(true, Ordering::Relaxed);
        }
        reader.join().expect("bench-chat: the reader panicked");
        r
    });
    let server_cpu = cpu0.zip(cpu_secs(server_pid)).map(|(a, b)| b - a);
    let server_wait = wait0.zip(runq_wait_secs(server_pid)).map(|(a, b)| b - a);
    let client_cpu = self_cpu_secs() - ccpu0;
    let first = match first {
        Ok(t) => t,
        Err(e) => {
            tally.error(e);
            0
        }
    };
    let mut lat_ms = Vec::new();
    let mut delivered = 0;
    let mut lost = 0;
    let mut last = first;
    for i in 0..n * per {
        let c = (tally.count[i] as usize).min(n - 1);
        delivered += c;
        if c == n - 1 {
            lat_ms.push(tally.last_ns[i].saturating_sub(tally.sent_ns[i]) as f64 / 1e6);
        } else {
            lost += 1;
        }
        last = last.max(tally.last_ns[i]);
    }
    lat_ms.sort_by(|a, b| a.total_cmp(b));
    PhaseResult {
        messages: n * per,
        delivered,
        lost,
        errors: tally.errors,
        first_error: tally.first_error,
        secs: (last.saturating_sub(first) as f64 / 1e9).max(1e-9),
        lat_ms,
        server_cpu,
        server_wait,
        client_cpu,
    }
}

// ---------------------------------------------------------------- joining

/// Reads `c` until it has seen `want` join notices.
fn wait_joins(c: &mut Conn, want: usize, limit: Duration) -> Result<(), String> {
    let end = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    while c.joins < want {
        if Instant::now() >= end {
            return Err(format!(
                "client {} saw {} of {want} join notices within {limit:?}",
                c.me, c.joins
            ));
        }
        match c.sock.read(&mut buf) {
            Ok(0) => return Err(format!("client {}: the server closed the connection", c.me)),
            Ok(k) => c.feed(&buf[..k], &mut |_, _| {}),
            Err(e) if bench::is_transient(&e) => {}
            Err(e) => return Err(format!("client {}: read: {e}", c.me)),
        }
    }
    Ok(())
}

/// Connects `n` clients one by one from inside `ns`: each join is seen by
/// client 0 before the next client connects; then every client has seen
/// the joins after its own.
fn join_all(ns: &Netns, addr: SocketAddr, n: usize) -> Result<Vec<Conn>, String> {
    ns.enter(|| {
        let mut conns: Vec<Conn> = Vec::with_capacity(n);
        for j in 0..n {
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .map_err(|e| format!("client {j}: connect {addr}: {e}"))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .map_err(|e| e.to_string())?;
            s.set_write_timeout(Some(STALL))
                .map_err(|e| e.to_string())?;
            conns.push(Conn::new(j, s, n));
            if j > 0 {
                wait_joins(&mut conns[0], j, Duration::from_secs(10))?;
            }
        }
        for (i, c) in conns.iter_mut().enumerate() {
            wait_joins(c, n - 1 - i, Duration::from_secs(10))?;
        }
        Ok(conns)
    })
}

// ---------------------------------------------------------------- one server

struct Round {
    load: Result<PhaseResult, String>,
    paced: Result<PhaseResult, String>,
    /// Minnow only: `VmHWM` KiB once ready, with every client joined, after both phases.
    hwm: Option<[Option<u64>; 3]>,
    /// Minnow only: `VmRSS` KiB once ready.
    rss_ready: Option<u64>,
    /// Join, leave and unknown lines seen by all clients.
    notices: (usize, usize, usize),
}

fn start_server(client: &Netns, server: &Netns, which: Server) -> Proc {
    match which {
        Server::Minnow => client.serve(&["--idle-timeout", "60"]),
        Server::NotesPy => {
            server.spawn_peer("chat_server.py", &[VETH_SERVER_V4, &PORT.to_string()])
        }
    }
}

fn round(client: &Netns, server: &Netns, which: Server, o: &Opts, base: Instant) -> Round {
    let proc = start_server(client, server, which);
    let pid = proc.pid();
    thread::sleep(Duration::from_millis(200));
    let hwm_ready = status_kib(pid, "VmHWM");
    let rss_ready = status_kib(pid, "VmRSS");
    let n = o.clients;
    let mut out = Round {
        load: Err("not run".into()),
        paced: Err("not run".into()),
        hwm: None,
        rss_ready: None,
        notices: (0, 0, 0),
    };
    match join_all(client, which.addr(), n) {
        Err(e) => {
            out.load = Err(format!("joining: {e}"));
            out.paced = Err("joining failed".into());
        }
        Ok(mut conns) => {
            let hwm_joined = status_kib(pid, "VmHWM");
            let ctx = Ctx {
                base,
                server_pid: pid,
                quickack: o.quickack,
            };
            let writers: Vec<TcpStream> = conns
                .iter()
                .map(|c| c.sock.try_clone().expect("bench-chat: dup socket"))
                .collect();
            let load = run_phase(
                &mut conns,
                &writers,
                1,
                o.messages,
                Kind::Load { window: o.window },
                &ctx,
            );
            eprintln!(
                "bench-chat:   load: {:.0} deliveries/s, {} lost, {} errors",
                load.deliveries_per_s(),
                load.lost,
                load.errors
            );
            out.load = Ok(load);
            let per = ((o.rate * o.paced_seconds / n as f64).ceil() as usize).max(1);
            let paced = run_phase(
                &mut conns,
                &writers,
                2,
                per,
                Kind::Paced { rate: o.rate },
                &ctx,
            );
            eprintln!(
                "bench-chat:   paced: p50 {:.2} ms, p99 {:.2} ms, {} lost, {} errors",
                paced.pct(0.5).unwrap_or(f64::NAN),
                paced.pct(0.99).unwrap_or(f64::NAN),
                paced.lost,
                paced.errors
            );
            out.paced = Ok(paced);
            if which == Server::Minnow {
                out.hwm = Some([hwm_ready, hwm_joined, status_kib(pid, "VmHWM")]);
                out.rss_ready = rss_ready;
            }
            out.notices = conns.iter().fold((0, 0, 0), |a, c| {
                (a.0 + c.joins, a.1 + c.leaves, a.2 + c.unknown)
            });
        }
    }
    if !proc.is_running() {
        eprintln!(
            "bench-chat: the server exited during the run\n{}",
            proc.dump()
        );
    }
    stop(proc);
    out
}

// ---------------------------------------------------------------- the benchmark

fn bench(o: &Opts) {
    minnow_tests::require_root();
    let bin = minnow_bin();
    eprintln!("bench-chat: minnow binary {}", bin.display());
    let load_before = load_note();
    let client = Netns::new();
    let server = Netns::new();
    veth_pair(&client, &server);
    // The room's memory at rest: `minnow serve --no-chat` beside the defaults' (in the rounds).
    let no_chat_rss = {
        let p = client.serve(&["--no-chat"]);
        thread::sleep(Duration::from_millis(300));
        let rss = status_kib(p.pid(), "VmRSS");
        stop(p);
        rss
    };
    let base = Instant::now();
    let mut rounds: Vec<(Server, Round)> = Vec::new();
    for r in 1..=o.repeat {
        for which in SERVERS {
            eprintln!(
                "bench-chat: round {r}/{}: {} [{}], {} clients",
                o.repeat,
                which.name(),
                which.link(),
                o.clients
            );
            rounds.push((which, round(&client, &server, which, o, base)));
        }
    }
    let load_after = load_note();
    report(o, &rounds, &load_before, &load_after, no_chat_rss);
}

// ---------------------------------------------------------------- report

/// Per server and phase: the figures of every round (failed rounds apart).
fn phase_rows(
    rounds: &[(Server, Round)],
    which: Server,
    pick: fn(&Round) -> &Result<PhaseResult, String>,
) -> Vec<&PhaseResult> {
    rounds
        .iter()
        .filter(|(s, _)| *s == which)
        .filter_map(|(_, r)| pick(r).as_ref().ok())
        .collect()
}

fn print_phase(
    title: &str,
    rounds: &[(Server, Round)],
    o: &Opts,
    pick: fn(&Round) -> &Result<PhaseResult, String>,
) {
    println!();
    println!("{title}");
    let many = o.repeat > 1;
    let w = if many { 17 } else { 9 };
    println!(
        "{:<30} {:<5} {:>w$} {:>w$} {:>8} {:>8} {:>6} {:>7} {:>9} {:>9} {:>10}",
        "server",
        "link",
        "messages/s",
        "deliveries/s",
        "p50 ms",
        "p99 ms",
        "lost",
        "errors",
        "srv CPU%",
        "srv runq%",
        "bench CPU%"
    );
    println!(
        "{}",
        "-".repeat(30 + 5 + 2 * w + 8 + 8 + 6 + 7 + 9 + 9 + 10 + 10)
    );
    for which in SERVERS {
        let rs = phase_rows(rounds, which, pick);
        let failed = rounds
            .iter()
            .filter(|(s, r)| *s == which && pick(r).is_err())
            .count();
        if rs.is_empty() {
            println!("{:<30} {:<5} FAILED", which.name(), which.link());
            continue;
        }
        let bm = |f: fn(&PhaseResult) -> f64| {
            let v: Vec<f64> = rs.iter().map(|r| f(r)).collect();
            bench::fmt_best_median(bench::best_median(&v), 0, o.repeat)
        };
        let med = |f: &dyn Fn(&PhaseResult) -> Option<f64>| {
            bench::median(rs.iter().filter_map(|r| f(r)).collect())
                .map_or("-".into(), |v| format!("{v:.2}"))
        };
        let cpu = |f: &dyn Fn(&PhaseResult) -> Option<f64>| {
            bench::median(rs.iter().filter_map(|r| f(r)).collect())
                .map_or("-".into(), |v| format!("{:.0}", v * 100.0))
        };
        println!(
            "{:<30} {:<5} {:>w$} {:>w$} {:>8} {:>8} {:>6} {:>7} {:>9} {:>9} {:>10}",
            which.name(),
            which.link(),
            bm(PhaseResult::messages_per_s),
            bm(PhaseResult::deliveries_per_s),
            med(&|r| r.pct(0.5)),
            med(&|r| r.pct(0.99)),
            rs.iter().map(|r| r.lost).sum::<usize>(),
            rs.iter().map(|r| r.errors).sum::<usize>() + failed,
            cpu(&|r| r.server_cpu.map(|c| c / r.secs)),
            cpu(&|r| r.server_wait.map(|c| c / r.secs)),
            cpu(&|r| Some(r.client_cpu / r.secs)),
        );
    }
    for (which, r) in rounds {
        match pick(r) {
            Err(e) => println!("  {}: FAILED: {e}", which.name()),
            Ok(p) => {
                if let Some(e) = &p.first_error {
                    println!("  {}: first error: {e}", which.name());
                }
            }
        }
    }
}

fn best(
    rounds: &[(Server, Round)],
    which: Server,
    pick: fn(&Round) -> &Result<PhaseResult, String>,
) -> Option<(f64, f64)> {
    let v: Vec<f64> = phase_rows(rounds, which, pick)
        .iter()
        .map(|r| r.deliveries_per_s())
        .collect();
    bench::best_median(&v)
}

fn report(
    o: &Opts,
    rounds: &[(Server, Round)],
    load_before: &str,
    load_after: &str,
    no_chat_rss: Option<u64>,
) {
    let n = o.clients;
    let paced_per = ((o.rate * o.paced_seconds / n as f64).ceil() as usize).max(1);
    println!();
    println!(
        "Chat benchmark: {n} clients in one room (one process: a sender thread and a poll(2) reader thread){}.",
        if o.repeat > 1 {
            format!(
                "; {} interleaved rounds: best / median of the rates, medians of the latencies",
                o.repeat
            )
        } else {
            String::new()
        }
    );
    println!(
        "A delivery = one client reading one line of another; latency = send to the last of the {} receivers.",
        n - 1
    );
    println!(
        "lost = lines some client never got; errors = lines out of order, repeated or echoed, or a closed connection."
    );
    println!(
        "srv CPU% / srv runq%: the server's CPU time / time runnable but waiting for a CPU, over the phase's time;"
    );
    println!("bench CPU%: this process (the 64 clients), likewise (100 = one core).");
    println!("Machine: {load_before} before, {load_after} after.");
    print_phase(
        &format!(
            "Load: {} lines per client ({} in all), at most {} of each client's lines in flight:",
            o.messages,
            n * o.messages,
            o.window
        ),
        rounds,
        o,
        |r| &r.load,
    );
    print_phase(
        &format!(
            "Paced: {} lines/s in all, round robin, {} per client ({} in all):",
            o.rate,
            paced_per,
            n * paced_per
        ),
        rounds,
        o,
        |r| &r.paced,
    );

    println!();
    println!("Ratios (same run):");
    let (m, p) = (
        best(rounds, Server::Minnow, |r| &r.load),
        best(rounds, Server::NotesPy, |r| &r.load),
    );
    let lost: usize = rounds
        .iter()
        .filter(|(s, _)| *s == Server::Minnow)
        .map(|(_, r)| {
            [&r.load, &r.paced]
                .iter()
                .map(|x| x.as_ref().map_or(1, |p| p.lost + p.errors))
                .sum::<usize>()
        })
        .sum();
    match (m, p) {
        (Some((mb, mm)), Some((pb, pm))) => {
            let r = mb / pb;
            println!(
                "{:<56} {r:>6.2}{}  target >= 1.0: {}; Minnow lost or misdelivered lines: {lost} ({})",
                "Minnow / chat_server.py, deliveries/s under load",
                if o.repeat > 1 {
                    format!("  (medians: {:.2})", mm / pm)
                } else {
                    String::new()
                },
                verdict(r, 1.0),
                if lost == 0 { "met" } else { "MISSED" }
            );
        }
        _ => println!("Minnow / chat_server.py, deliveries/s under load: n/a (a phase failed)"),
    }
    let lat = |which: Server, p: f64| {
        bench::median(
            phase_rows(rounds, which, |r| &r.paced)
                .iter()
                .filter_map(|r| r.pct(p))
                .collect(),
        )
    };
    for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
        if let (Some(a), Some(b)) = (lat(Server::Minnow, p), lat(Server::NotesPy, p)) {
            println!(
                "{:<56} {:>6.2}",
                format!("Minnow / chat_server.py, paced latency {label} (lower is better)"),
                a / b
            );
        }
    }
    let notices: Vec<String> = rounds
        .iter()
        .map(|(s, r)| {
            format!(
                "{}: {}/{}/{}",
                s.link(),
                r.notices.0,
                r.notices.1,
                r.notices.2
            )
        })
        .collect();
    println!(
        "Join/leave/other lines seen by the clients, per round (join expected: {}): {}",
        n * (n - 1) / 2,
        notices.join(", ")
    );
    ram(o, rounds, no_chat_rss);
}

// ---------------------------------------------------------------- RAM per client

fn ram(o: &Opts, rounds: &[(Server, Round)], no_chat_rss: Option<u64>) {
    let n = o.clients as f64;
    println!();
    println!("RAM per client:");
    for (_, r) in rounds.iter().filter(|(s, _)| *s == Server::Minnow) {
        let (Some([Some(ready), Some(joined), Some(after)]), Some(rss)) = (r.hwm, r.rss_ready)
        else {
            continue;
        };
        println!(
            "  host, measured (minnow serve, --chat-members 256, --chat-queue 32768, 4 KiB receive buffers):"
        );
        if let Some(base) = no_chat_rss {
            println!(
                "    VmRSS once ready {rss} KiB, {base} KiB with --no-chat: the empty room costs {:+} KiB;",
                rss as i64 - base as i64
            );
        }
        println!(
            "    VmHWM {joined} KiB with {} joined: {:+.1} KiB per joined client; {after} KiB after both phases: {:+.1} KiB per client.",
            o.clients,
            (joined as f64 - ready as f64) / n,
            (after as f64 - ready as f64) / n
        );
        break;
    }
    firmware_ram();
}

/// The board's service sizes: the very file the firmware compiles.
#[path = "../../../firmware-sim/firmware/src/sizes.rs"]
#[allow(dead_code)]
mod board_sizes;

/// The chat RAM of the board image, from its own sizes and core's types.
fn firmware_ram() {
    use minnow::chat::server::ChatServer;
    use minnow::net::tcp_pool::TcpPool;
    use std::mem::size_of;
    const L: usize = board_sizes::CHAT_LINE;
    let chat = board_sizes::CHAT;
    let (rx, tx, members) = (chat.rx, chat.queue, chat.places);
    // One more place in the room: the member state and its pool entry.
    let member = size_of::<ChatServer<2, L>>() - size_of::<ChatServer<1, L>>();
    let entry = size_of::<TcpPool<2>>() - size_of::<TcpPool<1>>();
    let slot = size_of::<smoltcp::iface::SocketStorage<'static>>();
    let total = rx + tx + member + slot;
    println!(
        "  firmware, computed: {total} B per member = receive buffer {rx} B + outgoing queue (transmit buffer) {tx} B"
    );
    println!(
        "    (firmware-sim/firmware/src/sizes.rs) + member state and pool entry {member} B (of which pool entry {entry} B)"
    );
    println!(
        "    + socket slot {slot} B (size_of on this 64-bit host: an upper bound for the 32-bit board). The image has {members} places: {} B for its room's members.",
        members * total
    );
}
