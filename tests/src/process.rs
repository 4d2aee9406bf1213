//! Child processes: long-running ones ([`Proc`]) and run-to-completion ones ([`RunOutput`]).
//!
//! Every process here is a direct child of the test process; it is only ever
//! signalled by its own PID while it is still unreaped, so a PID can never
//! have been reused by someone else's process.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(10);
/// How long to wait for a pipe's end after its process exited (a grandchild may hold it open).
const DRAIN: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One captured output stream, filled by a background thread.
#[derive(Default)]
pub(crate) struct Captured {
    buf: Mutex<Vec<u8>>,
    eof: AtomicBool,
}

impl Captured {
    fn start(mut src: impl Read + Send + 'static, label: String) -> Arc<Captured> {
        let cap = Arc::new(Captured::default());
        let c = Arc::clone(&cap);
        let verbose = std::env::var_os("MINNOW_TEST_VERBOSE").is_some_and(|v| v != "0");
        thread::Builder::new()
            .name(format!("capture {label}"))
            .spawn(move || {
                let mut chunk = [0u8; 16 * 1024];
                loop {
                    match src.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            if verbose {
                                for line in String::from_utf8_lossy(&chunk[..n]).lines() {
                                    eprintln!("[{label}] {line}");
                                }
                            }
                            lock(&c.buf).extend_from_slice(&chunk[..n]);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                c.eof.store(true, Ordering::SeqCst);
            })
            .expect("minnow-tests: spawning a capture thread");
        cap
    }

    fn bytes(&self) -> Vec<u8> {
        lock(&self.buf).clone()
    }

    fn string(&self) -> String {
        String::from_utf8_lossy(&lock(&self.buf)).into_owned()
    }

    fn contains(&self, needle: &[u8], from: &mut usize) -> bool {
        let buf = lock(&self.buf);
        if needle.is_empty() {
            return true;
        }
        let start = (*from).min(buf.len());
        let found = buf[start..].windows(needle.len()).any(|w| w == needle);
        *from = buf.len().saturating_sub(needle.len() - 1);
        found
    }

    fn wait_eof(&self, limit: Duration) {
        let end = Instant::now() + limit;
        while !self.eof.load(Ordering::SeqCst) && Instant::now() < end {
            thread::sleep(POLL);
        }
    }
}

/// The child and what is known about its exit; shared between a [`Proc`] and its `Netns`.
pub(crate) struct ChildState {
    child: Child,
    status: Option<ExitStatus>,
}

impl ChildState {
    fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Ok(Some(st)) = self.child.try_wait()
        {
            self.status = Some(st);
        }
        self.status
    }

    /// SIGKILL by PID (the child is unreaped, so the PID is still ours), then reap it.
    pub(crate) fn kill(&mut self) -> Option<ExitStatus> {
        if self.poll().is_none() {
            let _ = self.child.kill();
            match self.child.wait() {
                Ok(st) => self.status = Some(st),
                Err(e) => eprintln!(
                    "minnow-tests: waiting for killed pid {}: {e}",
                    self.child.id()
                ),
            }
        }
        self.status
    }
}

/// State shared between a [`Proc`] and the namespace that spawned it.
pub(crate) struct ProcShared {
    pub(crate) desc: String,
    pub(crate) pid: u32,
    pub(crate) state: Mutex<ChildState>,
}

impl ProcShared {
    pub(crate) fn exited(&self) -> bool {
        lock(&self.state).poll().is_some()
    }

    pub(crate) fn kill(&self) {
        lock(&self.state).kill();
    }
}

/// A long-running process inside a namespace, with stdout and stderr captured.
///
/// Killed (SIGKILL by PID, then reaped) when dropped, and when its `Netns` is dropped.
pub struct Proc {
    shared: Arc<ProcShared>,
    stdin: Option<ChildStdin>,
    out: Arc<Captured>,
    err: Arc<Captured>,
}

/// Spawns `cmd` with piped stdin/stdout/stderr and capture threads.
pub(crate) fn spawn_proc(cmd: &mut Command) -> Proc {
    let desc = format!("{cmd:?}");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("minnow-tests: could not spawn {desc}: {e}"));
    let pid = child.id();
    let stdin = child.stdin.take();
    let short = short_name(cmd, pid);
    let out = Captured::start(
        child.stdout.take().expect("piped stdout"),
        format!("{short} out"),
    );
    let err = Captured::start(
        child.stderr.take().expect("piped stderr"),
        format!("{short} err"),
    );
    Proc {
        shared: Arc::new(ProcShared {
            desc,
            pid,
            state: Mutex::new(ChildState {
                child,
                status: None,
            }),
        }),
        stdin,
        out,
        err,
    }
}

/// `program#pid` for log prefixes, skipping an `ip netns exec NAME` wrapper.
fn short_name(cmd: &Command, pid: u32) -> String {
    let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
    let prog = if args.len() >= 4 && args[0] == "netns" && args[1] == "exec" {
        // Prefer the script name for interpreters (python3 script.py ...).
        let p = &args[3];
        match args.get(4) {
            Some(s) if p.contains("python") => s.to_string(),
            _ => p.to_string(),
        }
    } else {
        cmd.get_program().to_string_lossy().into_owned()
    };
    let base = prog.rsplit('/').next().unwrap_or(&prog).to_string();
    format!("{base}#{pid}")
}

impl Proc {
    pub(crate) fn shared(&self) -> Arc<ProcShared> {
        Arc::clone(&self.shared)
    }

    /// The process ID (that of the program itself: `ip netns exec` execs it).
    pub fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// The command line it was started with (Debug form).
    pub fn command_line(&self) -> &str {
        &self.shared.desc
    }

    /// Everything it wrote to stdout so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        self.out.string()
    }

    /// Everything it wrote to stderr so far (lossy UTF-8).
    pub fn stderr(&self) -> String {
        self.err.string()
    }

    /// Everything it wrote to stdout so far, as bytes.
    pub fn stdout_bytes(&self) -> Vec<u8> {
        self.out.bytes()
    }

    /// Everything it wrote to stderr so far, as bytes.
    pub fn stderr_bytes(&self) -> Vec<u8> {
        self.err.bytes()
    }

    fn wait_for(&self, cap: &Captured, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut from = 0;
        loop {
            if cap.contains(needle.as_bytes(), &mut from) {
                return true;
            }
            if self.try_status().is_some() {
                cap.wait_eof(DRAIN);
                return cap.contains(needle.as_bytes(), &mut from);
            }
            if Instant::now() >= end {
                return false;
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until stderr contains `needle`; false on timeout or if the process exited without printing it.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> bool {
        self.wait_for(&self.err, needle, timeout)
    }

    /// Waits until stdout contains `needle`; false on timeout or if the process exited without printing it.
    pub fn wait_for_stdout(&self, needle: &str, timeout: Duration) -> bool {
        self.wait_for(&self.out, needle, timeout)
    }

    /// Like [`Proc::wait_for_stderr`] but panics with [`Proc::dump`] if `needle` does not appear.
    pub fn expect_stderr(&self, needle: &str, timeout: Duration) {
        if !self.wait_for_stderr(needle, timeout) {
            panic!(
                "minnow-tests: {needle:?} did not appear on stderr within {timeout:?}\n{}",
                self.dump()
            );
        }
    }

    /// Like [`Proc::wait_for_stdout`] but panics with [`Proc::dump`] if `needle` does not appear.
    pub fn expect_stdout(&self, needle: &str, timeout: Duration) {
        if !self.wait_for_stdout(needle, timeout) {
            panic!(
                "minnow-tests: {needle:?} did not appear on stdout within {timeout:?}\n{}",
                self.dump()
            );
        }
    }

    /// Writes all of `bytes` to its stdin and flushes; panics if stdin was closed or the write fails.
    pub fn write_stdin(&mut self, bytes: &[u8]) {
        let desc = &self.shared.desc;
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("minnow-tests: stdin of {desc} is already closed"));
        if let Err(e) = stdin.write_all(bytes).and_then(|()| stdin.flush()) {
            panic!(
                "minnow-tests: writing to stdin of {desc}: {e}\n{}",
                self.dump()
            );
        }
    }

    /// Closes its stdin (the process sees end of file); no-op if already closed.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_status(&self) -> Option<ExitStatus> {
        lock(&self.shared.state).poll()
    }

    /// True while the process has not exited.
    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Waits up to `timeout` for it to exit; `None` means it is still running.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status() {
                self.out.wait_eof(DRAIN);
                self.err.wait_eof(DRAIN);
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            thread::sleep(POLL);
        }
    }

    /// Sends signal `sig` (e.g. `libc::SIGTERM`) by PID if it is still running; returns whether it was sent.
    pub fn signal(&self, sig: i32) -> bool {
        let mut st = lock(&self.shared.state);
        // Unreaped (status None after poll) means the PID still names our child.
        if st.poll().is_some() {
            return false;
        }
        let pid = libc::pid_t::try_from(self.shared.pid).expect("pid fits pid_t");
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, sig) == 0 }
    }

    /// Kills it (SIGKILL by PID) and reaps it; no-op if it already exited.
    pub fn kill(&mut self) {
        self.shared.kill();
        self.stdin = None;
    }

    /// A readable report: command line, PID, status, stdout and stderr so far.
    pub fn dump(&self) -> String {
        let status = match self.try_status() {
            Some(st) => st.to_string(),
            None => "still running".to_string(),
        };
        format_dump(
            &self.shared.desc,
            &format!("pid {}, {status}", self.shared.pid),
            &self.stdout(),
            &self.stderr(),
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stdin = None;
        self.shared.kill();
    }
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proc")
            .field("pid", &self.shared.pid)
            .field("command", &self.shared.desc)
            .finish_non_exhaustive()
    }
}

fn format_dump(cmd: &str, status: &str, stdout: &str, stderr: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "=== command: {cmd}");
    let _ = writeln!(s, "=== status: {status}");
    let _ = writeln!(s, "=== stdout ({} bytes):", stdout.len());
    let _ = writeln!(s, "{}", stdout.trim_end());
    let _ = writeln!(s, "=== stderr ({} bytes):", stderr.len());
    let _ = writeln!(s, "{}", stderr.trim_end());
    let _ = write!(s, "=== end");
    s
}

/// The result of running a command to completion (or to its timeout).
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The command line (Debug form).
    pub command: String,
    /// Exit status; `None` if it timed out and was killed.
    pub status: Option<ExitStatus>,
    /// Standard output, lossy UTF-8.
    pub stdout: String,
    /// Standard error, lossy UTF-8.
    pub stderr: String,
    /// Standard output, raw bytes.
    pub stdout_bytes: Vec<u8>,
    /// Standard error, raw bytes.
    pub stderr_bytes: Vec<u8>,
    /// Wall-clock time from spawn to exit (or kill).
    pub elapsed: Duration,
}

impl RunOutput {
    /// True if it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// True if it was still running at the timeout (and was killed).
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// Panics with a readable dump (command, status, stdout, stderr) unless it exited with status 0.
    #[track_caller]
    pub fn assert_success(&self, what: &str) -> &Self {
        if !self.success() {
            panic!("minnow-tests: {what}: command failed\n{}", self.dump());
        }
        self
    }

    /// Panics with a readable dump unless it exited (not timed out) with a non-zero status.
    #[track_caller]
    pub fn assert_failure(&self, what: &str) -> &Self {
        if self.success() || self.timed_out() {
            panic!(
                "minnow-tests: {what}: expected the command to exit with failure\n{}",
                self.dump()
            );
        }
        self
    }

    /// A readable report: command, status, stdout and stderr.
    pub fn dump(&self) -> String {
        let status = match self.status {
            Some(st) => format!("{st} after {:?}", self.elapsed),
            None => format!("TIMED OUT after {:?} (killed)", self.elapsed),
        };
        format_dump(&self.command, &status, &self.stdout, &self.stderr)
    }
}

/// Runs `cmd` to completion with optional stdin bytes; kills it (by PID) at `timeout`.
pub(crate) fn run_to_completion(
    cmd: &mut Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
) -> RunOutput {
    let command = format!("{cmd:?}");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("minnow-tests: could not spawn {command}: {e}"));
    let pid = child.id();
    let short = short_name(cmd, pid);
    let out = Captured::start(
        child.stdout.take().expect("piped stdout"),
        format!("{short} out"),
    );
    let err = Captured::start(
        child.stderr.take().expect("piped stderr"),
        format!("{short} err"),
    );
    if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
        // A separate thread, so a child that does not read cannot block us; EPIPE is ignored.
        thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let mut state = ChildState {
        child,
        status: None,
    };
    let end = start + timeout;
    let status = loop {
        if let Some(st) = state.poll() {
            break Some(st);
        }
        if Instant::now() >= end {
            state.kill();
            break None;
        }
        thread::sleep(POLL);
    };
    let elapsed = start.elapsed();
    out.wait_eof(DRAIN);
    err.wait_eof(DRAIN);
    let stdout_bytes = out.bytes();
    let stderr_bytes = err.bytes();
    RunOutput {
        command,
        status,
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
        stdout_bytes,
        stderr_bytes,
        elapsed,
    }
}
