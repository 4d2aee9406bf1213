//! Network namespaces with TAP devices, created and destroyed by the harness.
//!
//! Safety rules kept here: every device, address and process lives inside a
//! namespace this harness created; addresses only from 192.0.2.0/24 and
//! 2001:db8::/32; processes are killed only by the PID of our own children
//! (or of processes found inside our own namespaces at teardown).

use std::borrow::BorrowMut;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use crate::paths::{minnow_bin, peer, python3};
use crate::process::{Proc, ProcShared, RunOutput, run_to_completion, spawn_proc};
use crate::userns;

/// Prefix of every namespace this harness creates.
const PREFIX: &str = "mnw-";
static NEXT_NS: AtomicUsize = AtomicUsize::new(0);

/// How long [`Netns::serve`] waits for `minnow: ready`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`Netns::spawn_peer`] waits for a peer's port.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(10);
/// The line Minnow prints on stderr once its sockets are listening.
pub const READY_LINE: &str = "minnow: ready";

/// True if the effective user is root (also inside the user namespace of rootless mode).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Which way this process makes namespaces: as root, or rootless in a user namespace of its own.
pub fn namespace_mode() -> String {
    userns::describe()
}

/// Panics with a clear message unless root, here or in rootless mode's user namespace
/// (tests that need namespaces must fail, never skip).
#[track_caller]
pub fn require_root() {
    if !is_root() {
        panic!(
            "minnow-tests: this test needs network namespaces and TAP devices, so root or a user \
             namespace, and has neither: it runs as uid {} and {}. Allow unprivileged user \
             namespaces (Debian, Ubuntu and Fedora do by default), or run the tests as root. \
             Failing rather than skipping.",
            // SAFETY: as above.
            unsafe { libc::geteuid() },
            userns::describe()
        );
    }
}

fn require_tools() {
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "minnow-tests: `ip -V` failed ({}): {}; install iproute2",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "minnow-tests: the `ip` command (iproute2) is needed but could not be run: {e}; install iproute2"
        ),
    }
    if !Path::new("/dev/net/tun").exists() {
        panic!(
            "minnow-tests: /dev/net/tun does not exist; TAP devices need the tun driver (modprobe tun)"
        );
    }
    let tun = c"/dev/net/tun";
    // SAFETY: access(2) on a NUL-terminated path; no memory is written.
    if unsafe { libc::access(tun.as_ptr(), libc::R_OK | libc::W_OK) } != 0 {
        panic!(
            "minnow-tests: /dev/net/tun cannot be opened for reading and writing ({}; {}). \
             Stock Debian and Ubuntu make it mode 0666 (`chmod 0666 /dev/net/tun` as root), or run the tests as root.",
            io::Error::last_os_error(),
            userns::describe()
        );
    }
}

/// Runs `ip ARGS` on the host (only ever for `netns` sub-commands or `-n OURS`); returns the output.
fn ip_raw(args: &[&str]) -> std::process::Output {
    ip_try(args)
        .unwrap_or_else(|e| panic!("minnow-tests: could not run `ip {}`: {e}", args.join(" ")))
}

/// Like [`ip_raw`] but never panics (for teardown): failures are logged to stderr.
fn ip_quiet(args: &[&str]) -> Option<std::process::Output> {
    match ip_try(args) {
        Ok(out) if out.status.success() => Some(out),
        Ok(out) => {
            eprintln!(
                "minnow-tests: `ip {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("minnow-tests: could not run `ip {}`: {e}", args.join(" "));
            None
        }
    }
}

fn ip_try(args: &[&str]) -> io::Result<std::process::Output> {
    Command::new("ip").args(args).output()
}

fn netns_file(name: &str) -> PathBuf {
    let run = Path::new("/run/netns").join(name);
    if run.exists() {
        run
    } else {
        Path::new("/var/run/netns").join(name)
    }
}

fn pids_in(name: &str) -> Vec<libc::pid_t> {
    let Some(out) = ip_quiet(&["netns", "pids", name]) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|&p: &libc::pid_t| p > 1 && p as u32 != std::process::id())
        .collect()
}

/// SIGKILLs every process inside namespace `name` (all of them were started by this harness).
fn kill_pids_in(name: &str) {
    for pid in pids_in(name) {
        eprintln!("minnow-tests: killing leftover pid {pid} in namespace {name}");
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Deletes namespaces `mnw-<pid>-<n>` left by earlier test processes that no longer exist.
fn cleanup_stale() {
    let Some(out) = ip_quiet(&["netns", "list"]) else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(Ok(pid)) = rest.split('-').next().map(str::parse::<u32>) else {
            continue;
        };
        // Runs before this process creates any namespace, so one named with our own PID is stale too.
        if pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        eprintln!("minnow-tests: removing stale namespace {name} (its test process {pid} is gone)");
        kill_pids_in(name);
        ip_quiet(&["netns", "del", name]);
    }
}

/// Panics unless `cidr` is `ADDR/LEN` inside 192.0.2.0/24 or 2001:db8::/32.
fn check_cidr(cidr: &str) -> IpAddr {
    let (addr, len) = cidr
        .split_once('/')
        .unwrap_or_else(|| panic!("minnow-tests: {cidr:?} is not ADDR/PREFIXLEN"));
    let addr: IpAddr = addr
        .parse()
        .unwrap_or_else(|e| panic!("minnow-tests: {cidr:?}: bad address: {e}"));
    let len: u8 = len
        .parse()
        .unwrap_or_else(|e| panic!("minnow-tests: {cidr:?}: bad prefix length: {e}"));
    check_addr(addr);
    let min = if addr.is_ipv4() { 24 } else { 32 };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    assert!(
        (min..=max).contains(&len),
        "minnow-tests: {cidr:?}: prefix length must be {min}..={max} to stay inside the documentation ranges"
    );
    addr
}

/// Panics unless `addr` is inside 192.0.2.0/24 or 2001:db8::/32 (the only addresses tests may use).
fn check_addr(addr: IpAddr) {
    let ok = match addr {
        IpAddr::V4(a) => a.octets()[..3] == [192, 0, 2],
        IpAddr::V6(a) => a.segments()[..2] == [0x2001, 0x0db8],
    };
    assert!(
        ok,
        "minnow-tests: address {addr} is outside 192.0.2.0/24 and 2001:db8::/32; tests may use only those"
    );
}

/// A network namespace with one TAP device `tap0` for Minnow, removed (with everything in it) on drop.
///
/// Linux side of `tap0`: [`Netns::HOST_V4`]/24 and [`Netns::HOST_V6`]/64;
/// Minnow is given [`Netns::MINNOW_V4`]/24 and [`Netns::MINNOW_V6`]/64.
pub struct Netns {
    name: String,
    taps: Mutex<Vec<String>>,
    procs: Mutex<Vec<Arc<ProcShared>>>,
}

impl Netns {
    /// Linux-side IPv4 address of `tap0`.
    pub const HOST_V4: &str = "192.0.2.1";
    /// Linux-side IPv6 address of `tap0`.
    pub const HOST_V6: &str = "2001:db8::1";
    /// Minnow-side IPv4 address (given to Minnow with `--ip`).
    pub const MINNOW_V4: &str = "192.0.2.2";
    /// Minnow-side IPv6 address (given to Minnow with `--ip`).
    pub const MINNOW_V6: &str = "2001:db8::2";
    /// Linux-side IPv4 address of `tap0` with its prefix.
    pub const HOST_V4_CIDR: &str = "192.0.2.1/24";
    /// Linux-side IPv6 address of `tap0` with its prefix.
    pub const HOST_V6_CIDR: &str = "2001:db8::1/64";
    /// Minnow-side IPv4 address with its prefix.
    pub const MINNOW_V4_CIDR: &str = "192.0.2.2/24";
    /// Minnow-side IPv6 address with its prefix.
    pub const MINNOW_V6_CIDR: &str = "2001:db8::2/64";
    /// The TAP device created by [`Netns::new`].
    pub const TAP: &str = "tap0";

    /// Creates namespace `mnw-<pid>-<n>` with `lo` up, IPv6 DAD off, and `tap0` up with the host addresses.
    ///
    /// As an ordinary user this happens inside the test process's own user namespace (rootless mode).
    /// Panics with a clear message if neither root nor rootless, if `ip` or `/dev/net/tun` is missing, or if a step fails.
    #[track_caller]
    pub fn new() -> Netns {
        require_root();
        require_tools();
        static STALE: Once = Once::new();
        STALE.call_once(cleanup_stale);

        let n = NEXT_NS.fetch_add(1, Ordering::SeqCst);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        let add = ip_raw(&["netns", "add", &name]);
        if !add.status.success() {
            panic!(
                "minnow-tests: `ip netns add {name}` failed ({}): {}",
                add.status,
                String::from_utf8_lossy(&add.stderr).trim()
            );
        }
        // From here on, a panic drops `ns`, which deletes the namespace.
        let ns = Netns {
            name,
            taps: Mutex::new(Vec::new()),
            procs: Mutex::new(Vec::new()),
        };
        ns.ip(&["link", "set", "lo", "up"]);
        // Before any device exists, so `default` applies to the TAP devices too.
        let sysctl = "for k in all default; do \
             echo 0 > /proc/sys/net/ipv6/conf/$k/disable_ipv6 && \
             echo 0 > /proc/sys/net/ipv6/conf/$k/accept_dad || exit 1; \
             done";
        ns.run(
            ns.command("sh").args(["-c", sysctl]),
            Duration::from_secs(10),
        )
        .assert_success("disabling IPv6 DAD inside the namespace");
        ns.add_tap(Self::TAP, &[Self::HOST_V4_CIDR, Self::HOST_V6_CIDR]);
        ns
    }

    /// The namespace's name (for `ip -n NAME ...` / `ip netns exec NAME ...`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME ARGS` (inside this namespace only); panics on failure, returns stdout.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        let out = ip_raw(&full);
        if !out.status.success() {
            panic!(
                "minnow-tests: `ip {}` failed ({}): {}",
                full.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a persistent TAP device `name` (up) with the given Linux-side CIDRs, e.g. for a second Minnow.
    ///
    /// CIDRs must lie in 192.0.2.0/24 or 2001:db8::/32; IPv6 ones are added with `nodad`.
    #[track_caller]
    pub fn add_tap(&self, name: &str, cidrs: &[&str]) {
        assert!(
            !name.is_empty() && name.len() <= 15 && !name.contains(['/', ' ']),
            "minnow-tests: bad interface name {name:?} (1..=15 chars, no '/' or spaces)"
        );
        for cidr in cidrs {
            check_cidr(cidr);
        }
        self.ip(&["tuntap", "add", "dev", name, "mode", "tap"]);
        lock(&self.taps).push(name.to_string());
        for cidr in cidrs {
            if cidr.contains(':') {
                self.ip(&["addr", "add", cidr, "dev", name, "nodad"]);
            } else {
                self.ip(&["addr", "add", cidr, "dev", name]);
            }
        }
        self.ip(&["link", "set", name, "up"]);
    }

    /// The second link of a two-link layout: TAP `tap1` with the Linux side
    /// at 192.0.2.65/26, forwarding on, so that a Minnow on tap0 in
    /// 192.0.2.0/26 and one on tap1 in 192.0.2.64/26 reach each other
    /// through Linux. Returns the second Minnow's options (address,
    /// gateway, MAC) after `--tap tap1`.
    #[track_caller]
    pub fn routed_second_link(&self) -> [&'static str; 8] {
        self.add_tap("tap1", &["192.0.2.65/26"]);
        self.run(
            self.command("sysctl")
                .args(["-qw", "net.ipv4.ip_forward=1"]),
            Duration::from_secs(10),
        )
        .assert_success("sysctl net.ipv4.ip_forward=1");
        [
            "--tap",
            "tap1",
            "--ip",
            "192.0.2.66/26",
            "--gateway",
            "192.0.2.65",
            "--mac",
            "02:00:00:00:00:03",
        ]
    }

    /// A `Command` that runs `program` inside the namespace (`ip netns exec NAME program`); add args as usual.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        // A shell opened by `scripts/demo.sh shell` sets these for Minnow's clients; tests name their own.
        for var in ["MINNOW_TAP", "MINNOW_IP", "MINNOW_MAC"] {
            cmd.env_remove(var);
        }
        // Tests run by `sudo` must not make every minnow drop to the sudo
        // user (who cannot write the tests' root-owned folders); the tests
        // that check that drop set these themselves.
        for var in ["SUDO_UID", "SUDO_GID", "SUDO_USER"] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// A `Command` running `python3 peers/SCRIPT ARGS` inside the namespace, unbuffered.
    pub fn peer_command(&self, script: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(python3());
        cmd.arg(peer(script))
            .args(args)
            .env("PYTHONUNBUFFERED", "1");
        cmd
    }

    /// A `Command` running the `minnow` binary (built on first use) with `args` inside the namespace.
    pub fn minnow_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(minnow_bin());
        cmd.args(args).env("RUST_BACKTRACE", "1");
        cmd
    }

    /// Calls `f` with `cmd` if it already runs inside this namespace, else with a copy rewrapped so it does.
    fn inside<R>(&self, cmd: &mut Command, f: impl FnOnce(&mut Command) -> R) -> R {
        let args: Vec<&OsStr> = cmd.get_args().collect();
        let already = cmd.get_program() == "ip"
            && args.len() >= 4
            && args[0] == "netns"
            && args[1] == "exec"
            && args[2] == self.name.as_str();
        if already {
            return f(cmd);
        }
        let mut wrapped = self.command(cmd.get_program());
        wrapped.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        f(&mut wrapped)
    }

    /// Runs `cmd` inside the namespace to completion (stdin empty); kills it by PID at `timeout`.
    ///
    /// A `cmd` not made by [`Netns::command`] is rewrapped to run inside the namespace.
    /// Takes a `Command` or `&mut Command` (so `ns.run(ns.command("x").arg("y"), t)` works).
    pub fn run(&self, mut cmd: impl BorrowMut<Command>, timeout: Duration) -> RunOutput {
        self.inside(cmd.borrow_mut(), |c| run_to_completion(c, None, timeout))
    }

    /// Like [`Netns::run`] but feeds `input` to the command's stdin, then closes it.
    pub fn run_with_stdin(
        &self,
        mut cmd: impl BorrowMut<Command>,
        input: &[u8],
        timeout: Duration,
    ) -> RunOutput {
        self.inside(cmd.borrow_mut(), |c| {
            run_to_completion(c, Some(input.to_vec()), timeout)
        })
    }

    /// Runs the peer `peers/SCRIPT ARGS` to completion inside the namespace.
    pub fn run_peer(&self, script: &str, args: &[&str], timeout: Duration) -> RunOutput {
        self.run(self.peer_command(script, args), timeout)
    }

    /// Spawns a long-running process inside the namespace, stdin piped and stdout/stderr captured.
    ///
    /// Killed (SIGKILL by PID) when the returned [`Proc`] or this `Netns` is dropped.
    /// Takes a `Command` or `&mut Command`; one not made by [`Netns::command`] is rewrapped.
    pub fn spawn(&self, mut cmd: impl BorrowMut<Command>) -> Proc {
        let proc = self.inside(cmd.borrow_mut(), spawn_proc);
        let mut procs = lock(&self.procs);
        procs.retain(|p| !p.exited());
        procs.push(proc.shared());
        proc
    }

    /// Spawns `cmd` and waits up to `timeout` for `needle` on its stderr; panics with its output otherwise.
    #[track_caller]
    pub fn spawn_ready(
        &self,
        cmd: impl BorrowMut<Command>,
        needle: &str,
        timeout: Duration,
    ) -> Proc {
        let proc = self.spawn(cmd);
        if !proc.wait_for_stderr(needle, timeout) {
            let why = if proc.is_running() {
                format!("did not print {needle:?} on stderr within {timeout:?}")
            } else {
                format!("exited without printing {needle:?} on stderr")
            };
            panic!("minnow-tests: {why}\n{}", proc.dump());
        }
        proc
    }

    /// Spawns `minnow serve --tap tap0 --ip 192.0.2.2/24 --ip 2001:db8::2/64 EXTRA` and waits for `minnow: ready`.
    #[track_caller]
    pub fn serve(&self, extra_args: &[&str]) -> Proc {
        let mut args = vec![
            "serve",
            "--tap",
            Self::TAP,
            "--ip",
            Self::MINNOW_V4_CIDR,
            "--ip",
            Self::MINNOW_V6_CIDR,
        ];
        args.extend_from_slice(extra_args);
        self.minnow(&args)
    }

    /// Spawns `minnow ARGS` (full argument list, e.g. for a second TAP device) and waits for `minnow: ready`.
    #[track_caller]
    pub fn minnow(&self, args: &[&str]) -> Proc {
        let cmd = self.minnow_command(args);
        self.spawn_ready(cmd, READY_LINE, READY_TIMEOUT)
    }

    /// Spawns the peer server `peers/SCRIPT ARGS` and waits until it listens.
    ///
    /// With `ARGS = HOST PORT ...`, waits (up to 10 s) until the peer has a listening TCP
    /// socket on PORT (a bound UDP socket if the script's name contains `udp`), read from
    /// its `/proc/PID/net` tables, so no probe connection reaches the peer. Panics with
    /// the peer's output if it exits or never listens.
    #[track_caller]
    pub fn spawn_peer(&self, script: &str, args: &[&str]) -> Proc {
        let proc = self.spawn(self.peer_command(script, args));
        let port = args.get(1).and_then(|p| p.parse::<u16>().ok());
        if let Some(port) = port {
            let udp = script.contains("udp");
            let end = Instant::now() + PEER_TIMEOUT;
            loop {
                if socket_listening(proc.pid(), port, udp) {
                    break;
                }
                if !proc.is_running() {
                    panic!(
                        "minnow-tests: peer {script} exited before listening on port {port}\n{}",
                        proc.dump()
                    );
                }
                if Instant::now() >= end {
                    panic!(
                        "minnow-tests: peer {script} did not listen on port {port} within {PEER_TIMEOUT:?}\n{}",
                        proc.dump()
                    );
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        proc
    }

    /// Runs `f` on a fresh thread that has joined this namespace (setns), returning its result.
    ///
    /// Sockets created in `f` belong to the namespace and stay usable from any thread afterwards.
    pub fn enter<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = netns_file(&self.name);
        let file = File::open(&path)
            .unwrap_or_else(|e| panic!("minnow-tests: cannot open {}: {e}", path.display()));
        let result = thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns on a valid fd; it changes only this (fresh) thread's network namespace.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    panic!(
                        "minnow-tests: setns into {} failed: {}",
                        self.name,
                        io::Error::last_os_error()
                    );
                }
                f()
            })
            .join()
        });
        result.unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Opens a TCP connection from inside the namespace (address must be a documentation address).
    pub fn connect_tcp(
        &self,
        addr: impl ToSocketAddrs,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        let addr = one_addr(addr)?;
        self.enter(|| TcpStream::connect_timeout(&addr, timeout))
    }

    /// Binds a TCP listener inside the namespace (address must be a documentation address).
    pub fn listen_tcp(&self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addr = one_addr(addr)?;
        self.enter(|| TcpListener::bind(addr))
    }

    /// Binds a UDP socket inside the namespace (address must be a documentation address).
    pub fn bind_udp(&self, addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addr = one_addr(addr)?;
        self.enter(|| UdpSocket::bind(addr))
    }

    /// Retries a TCP connect to `host:port` from inside the namespace until it succeeds or `timeout` passes.
    ///
    /// The successful probe connection is closed at once (the server sees a connect and EOF).
    pub fn wait_tcp(&self, host: &str, port: u16, timeout: Duration) -> bool {
        let ip: IpAddr = host
            .parse()
            .unwrap_or_else(|e| panic!("minnow-tests: wait_tcp: bad host {host:?}: {e}"));
        check_addr(ip);
        let addr = SocketAddr::new(ip, port);
        let end = Instant::now() + timeout;
        self.enter(|| {
            loop {
                let left = end.saturating_duration_since(Instant::now());
                let attempt = left.clamp(Duration::from_millis(1), Duration::from_millis(500));
                if TcpStream::connect_timeout(&addr, attempt).is_ok() {
                    return true;
                }
                if Instant::now() >= end {
                    return false;
                }
                thread::sleep(Duration::from_millis(50));
            }
        })
    }
}

fn one_addr(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let addr = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
    check_addr(addr.ip());
    Ok(addr)
}

/// Whether process `pid`'s namespace has a TCP socket listening on `port` (or a UDP socket bound to it).
fn socket_listening(pid: u32, port: u16, udp: bool) -> bool {
    let (files, state) = if udp {
        (["udp", "udp6"], "07")
    } else {
        (["tcp", "tcp6"], "0A")
    };
    files.iter().any(|f| {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{f}")) else {
            return false;
        };
        text.lines().skip(1).any(|line| {
            let mut cols = line.split_whitespace();
            let local = cols.nth(1).unwrap_or("");
            let st = cols.nth(1).unwrap_or("");
            let lport = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            st == state && lport == Some(port)
        })
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Netns {
    /// Same as [`Netns::new`].
    fn default() -> Self {
        Netns::new()
    }
}

impl std::fmt::Debug for Netns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netns")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // 1. Our own children, by PID (SIGKILL, then reaped).
        for p in lock(&self.procs).drain(..) {
            p.kill();
        }
        // 2. Anything else inside our namespace (e.g. a peer's own children).
        kill_pids_in(&self.name);
        // 3. Our TAP devices, then the namespace itself.
        for tap in lock(&self.taps).drain(..) {
            ip_quiet(&["-n", &self.name, "link", "del", &tap]);
        }
        ip_quiet(&["netns", "del", &self.name]);
    }
}
