//! Helpers shared by the benchmark programs (`src/bin/bench_{echo,file,chat,mail,board}.rs`):
//! the veth pair to a kernel-server namespace, `/proc` readings (CPU time,
//! run-queue wait, memory, listening sockets), stopping a server, Minnow's
//! stats line, sizes on the command line, measured child processes and the
//! best / median figures of the report tables.
//!
//! Network safety, as in the rest of the harness: every address is in
//! 192.0.2.0/24, every process runs inside a namespace the benchmark created,
//! every run is bounded in time, and processes are signalled only by the PID
//! of our own unreaped children.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Netns, Proc};

/// The veth pair between the client namespace (the one with `tap0`) and the
/// kernel-server namespace: a /25 inside the TAP's /24 (the more specific route wins).
pub const VETH_CLIENT: &str = "vbench0";
pub const VETH_SERVER: &str = "vbench1";
pub const VETH_CLIENT_CIDR: &str = "192.0.2.129/25";
pub const VETH_SERVER_CIDR: &str = "192.0.2.130/25";
pub const VETH_SERVER_V4: &str = "192.0.2.130";

/// Joins `client` and `server` by a veth pair (created in `client`, its peer moved into `server`).
pub fn veth_pair(client: &Netns, server: &Netns) {
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
}

/// `N`, `NK`, `NM`, `NG` (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let (num, mult) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// `1 MiB`, `256 MiB`, `1 GiB`, `1000 bytes`.
pub fn size_name(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// CPU time (user + system, every thread) process `pid` has used so far, from
/// `/proc/PID/stat` (clock-tick resolution, usually 10 ms).
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks as f64 / if hz > 0 { hz as f64 } else { 100.0 })
}

/// Time every thread of process `pid` has spent waiting on a run queue
/// (runnable, but another task had the CPU), seconds, from
/// `/proc/PID/task/*/schedstat` (threads that exited no longer count).
pub fn runq_wait_secs(pid: u32) -> Option<f64> {
    let mut total = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = t.ok()?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        total += text.split_whitespace().nth(1)?.parse::<u64>().ok()?;
    }
    Some(total as f64 / 1e9)
}

/// CPU time of this process's calling thread so far.
pub fn thread_cpu_secs() -> f64 {
    rusage_secs(libc::RUSAGE_THREAD)
}

/// CPU time of this whole process (every thread) so far.
pub fn self_cpu_secs() -> f64 {
    rusage_secs(libc::RUSAGE_SELF)
}

fn rusage_secs(who: i32) -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// A `/proc/PID/status` field in KiB (`VmHWM`: peak resident set; `VmRSS`: now).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The machine's load average and CPU count, for the table's header.
pub fn load_note() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpus} CPUs, load average {}", load.join(" "))
}

/// Whether `pid`'s namespace has a TCP socket listening on `port` (from /proc, no probe connection).
pub fn listening(pid: u32, port: u16) -> bool {
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

/// Waits (up to 10 s) until `proc` listens on `port`; panics with its output otherwise.
pub fn wait_listening(proc: &Proc, port: u16) {
    let end = Instant::now() + Duration::from_secs(10);
    while !listening(proc.pid(), port) {
        assert!(
            proc.is_running() && Instant::now() < end,
            "bench: server did not listen on port {port}\n{}",
            proc.dump()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Stops a server by PID (SIGTERM, then SIGKILL after 3 s) and waits for it.
pub fn stop(mut p: Proc) -> Proc {
    p.signal(libc::SIGTERM);
    if p.wait(Duration::from_secs(3)).is_none() {
        p.kill();
    }
    p
}

/// What Minnow's device counted (its `stopped; tap0: ...` line), if it printed one.
pub fn minnow_note(p: &Proc) -> Option<String> {
    p.stderr().lines().find_map(|l| {
        l.split_once("stopped; ")
            .map(|(_, s)| format!("Minnow {s}"))
    })
}

/// How a process run by [`run_measured`] went.
pub struct Measured {
    /// Exit code; `None` if killed (by a signal or at the time limit).
    pub code: Option<i32>,
    pub timed_out: bool,
    /// From spawn to exit.
    pub wall: Duration,
    /// User + system CPU time (wait4's rusage, so every thread of it).
    pub cpu: f64,
    /// Peak resident set, KiB: the last `VmHWM` read while it ran (sampled
    /// every few milliseconds; the high-water mark only grows, so the last
    /// reading is the peak up to a few milliseconds before exit).
    pub hwm_kib: Option<u64>,
    /// Time it was runnable but waited for a CPU (every thread), the last
    /// reading of `/proc/PID/task/*/schedstat` while it ran.
    pub runq_wait: Option<f64>,
    /// wait4's `ru_maxrss`, KiB (includes `ip netns exec` before its exec,
    /// a few MiB; hence the sampled `VmHWM` above).
    pub maxrss_kib: u64,
    pub stdout: String,
    pub stderr: String,
}

impl Measured {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A short account for error messages.
    pub fn dump(&self, what: &str) -> String {
        format!(
            "{what}: exit {:?}{} after {:.2} s\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            if self.timed_out {
                " (TIMED OUT, killed)"
            } else {
                ""
            },
            self.wall.as_secs_f64(),
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Runs `cmd` (made by `Netns::command`, so it runs inside a namespace) to
/// completion with `stdin` fed to it, measuring wall time, CPU time and peak
/// memory; kills it (SIGKILL by its PID, still unreaped) at `limit`.
// The child is reaped by wait4 (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn run_measured(mut cmd: Command, stdin: &[u8], limit: Duration) -> Measured {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("bench: could not spawn {what}: {e}"));
    let pid = child.id();
    let input = stdin.to_vec();
    let mut sin = child.stdin.take().expect("piped stdin");
    let feeder = thread::spawn(move || {
        let _ = sin.write_all(&input);
    });
    let drain = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let mut hwm = None;
    let mut runq_wait = None;
    let mut timed_out = false;
    // SAFETY (all libc calls below): plain syscalls on our own child's PID,
    // which stays ours until wait4 reaps it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0i32;
    let pid_t = pid as libc::pid_t;
    loop {
        let r = unsafe { libc::wait4(pid_t, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid_t {
            break;
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("bench: wait4({pid}): {e}");
        }
        if let Some(h) = status_kib(pid, "VmHWM") {
            hwm = Some(h);
        }
        if let Some(w) = runq_wait_secs(pid) {
            runq_wait = Some(w);
        }
        if start.elapsed() >= limit {
            timed_out = true;
            unsafe { libc::kill(pid_t, libc::SIGKILL) };
            let r = unsafe { libc::wait4(pid_t, &mut status, 0, &mut ru) };
            assert_eq!(r, pid_t, "bench: reaping killed pid {pid}");
            break;
        }
        thread::sleep(Duration::from_millis(2));
    }
    let wall = start.elapsed();
    let _ = feeder.join();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        timed_out,
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        hwm_kib: hwm,
        runq_wait,
        maxrss_kib: ru.ru_maxrss as u64,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Whether a read or write error only means "nothing yet" (a socket timeout
/// or an interrupted call), so the caller should try again.
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The median of `v`; `None` if empty.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The best (largest) and the median of `v`; `None` if empty.
pub fn best_median(v: &[f64]) -> Option<(f64, f64)> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return None;
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((v[n - 1], median))
}

/// `best` alone after one round, `best / median` after several.
pub fn fmt_best_median(v: Option<(f64, f64)>, decimals: usize, rounds: usize) -> String {
    match v {
        None => "FAILED".into(),
        Some((b, _)) if rounds <= 1 => format!("{b:.decimals$}"),
        Some((b, m)) => format!("{b:.decimals$} / {m:.decimals$}"),
    }
}

/// `value` against a lower bound: `met` or `MISSED`.
pub fn verdict(value: f64, target: f64) -> &'static str {
    if value >= target { "met" } else { "MISSED" }
}

/// Pieces of the raw smoltcp reference servers (`bench-echo raw-server`,
/// `bench-file raw-server`): smoltcp's own TAP device and interface, with
/// nothing of Minnow in between.
pub mod raw {
    use std::os::fd::{AsRawFd, RawFd};

    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Medium, TunTapInterface, wait as phy_wait};
    use smoltcp::time::{Duration, Instant};
    use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

    /// Printed by a `raw-server` once it listens.
    pub const READY: &str = "raw-server: ready";
    /// A raw server exits by itself after this long (it is killed by PID long before).
    pub const MAX_SECS: u64 = 900;

    /// Opens TAP `tap` and an interface on it with the same MAC and addresses
    /// as `minnow serve` (so the kernel's neighbour cache stays right):
    /// 192.0.2.2/24, and 2001:db8::2/64 too if `v6`. Also returns the TAP's fd.
    pub fn interface(tap: &str, v6: bool) -> (TunTapInterface, Interface, RawFd) {
        let mut device = TunTapInterface::new(tap, Medium::Ethernet)
            .unwrap_or_else(|e| panic!("raw-server: opening TAP {tap}: {e}"));
        let fd = device.as_raw_fd();
        let mut config = Config::new(EthernetAddress([0x02, 0, 0, 0, 0, 0x02]).into());
        config.random_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let mut iface = Interface::new(config, &mut device, Instant::now());
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::v4(192, 0, 2, 2), 24))
                .unwrap();
            if v6 {
                a.push(IpCidr::new(
                    IpAddress::v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
                    64,
                ))
                .unwrap();
            }
        });
        (device, iface, fd)
    }

    /// Sleeps on the TAP's `fd` until smoltcp next wants a poll (at most 1 s).
    pub fn wait(fd: RawFd, iface: &mut Interface, timestamp: Instant, sockets: &SocketSet<'_>) {
        match iface.poll_at(timestamp, sockets) {
            Some(poll_at) if timestamp < poll_at => {
                phy_wait(fd, Some(poll_at - timestamp)).expect("wait error");
            }
            Some(_) => (),
            None => {
                phy_wait(fd, Some(Duration::from_millis(1000))).expect("wait error");
            }
        }
    }
}
