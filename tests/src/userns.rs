//! Rootless mode: an ordinary user's test process becomes root of its own
//! user namespace, so namespaces, TAP devices, QEMU and dnsmasq work without
//! sudo and the harness runs the same commands (`ip netns ...`) either way.
//!
//! The move happens before `main`, from `.init_array`, because unshare(2)
//! refuses `CLONE_NEWUSER` once a process has threads, and libtest starts
//! them before any test runs. The process gets new user, mount and network
//! namespaces: the mount namespace holds a private tmpfs on `/run` (so
//! `ip netns add` can create `/run/netns`, which an ordinary user cannot on
//! the host), and the network namespace keeps the test process itself off
//! the host's network. Nothing of it outlives the test process.
//!
//! uid 0 inside is the user outside. With `newuidmap`/`newgidmap` (Debian's
//! `uidmap`) and a range in `/etc/subuid` and `/etc/subgid` (what `useradd`
//! gives), uids 1..=65535 inside map to that range, so a test can still drop
//! to `nobody` (65534); without them only uid 0 exists inside.
//!
//! As root nothing happens here: namespaces are made with `ip netns` on the host.
//! `MINNOW_TEST_USERNS=0` turns rootless mode off (to see the tests' message
//! for a system that refuses user namespaces).
//!
//! The unsafe calls here are plain system calls (fork, pipe, unshare, mount,
//! getpwuid) made while the process has one thread, on buffers this code owns.

use std::ffi::CString;
use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// How this process makes its namespaces.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Started as root: `ip netns` on the host.
    Root,
    /// Root inside a user namespace of its own; the text says how uids are mapped.
    Rootless(String),
    /// Not root, and no user namespace could be made: why.
    Refused(String),
}

static MODE: OnceLock<Mode> = OnceLock::new();

// Runs before main while the process has one thread (see the module docs).
#[used]
#[unsafe(link_section = ".init_array")]
static ENTER_AT_START: extern "C" fn() = enter_at_start;

extern "C" fn enter_at_start() {
    // SAFETY: geteuid has no preconditions.
    let mode = if unsafe { libc::geteuid() } == 0 {
        Mode::Root
    } else if std::env::var_os("MINNOW_TEST_USERNS").is_some_and(|v| v == "0") {
        Mode::Refused("disabled by MINNOW_TEST_USERNS=0".into())
    } else {
        match enter() {
            Ok(how) => Mode::Rootless(how),
            Err(why) => Mode::Refused(why),
        }
    };
    let _ = MODE.set(mode);
    // Once per test binary, before libtest captures output: which path was taken.
    eprintln!("minnow-tests: {}", describe());
}

/// The mode chosen at start.
pub(crate) fn mode() -> &'static Mode {
    // The reference keeps the `.init_array` entry linked into every binary that asks.
    std::hint::black_box(&ENTER_AT_START);
    MODE.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            Mode::Root
        } else {
            Mode::Refused("the start-up hook did not run".into())
        }
    })
}

/// One line saying which path was taken, for the test log.
pub(crate) fn describe() -> String {
    match mode() {
        Mode::Root => "running as root: namespaces made with `ip netns` on the host".into(),
        Mode::Rootless(how) => format!(
            "rootless: root of a user namespace of its own ({how}); namespaces made with `ip netns` inside it"
        ),
        Mode::Refused(why) => format!("not root, and user namespaces are refused here: {why}"),
    }
}

fn enter() -> Result<String, String> {
    let uid = unsafe { libc::getuid() };
    let gid = unsafe { libc::getgid() };
    let flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWNET;
    let how = match subordinate_ids(uid, gid) {
        Some((subuid, subgid)) => unshare_with_helpers(flags, uid, gid, subuid, subgid)?,
        None => {
            unshare_plain(flags, uid, gid)?;
            format!("uid {uid} is uid 0 inside, no other uid (no newuidmap or /etc/subuid range)")
        }
    };
    private_run().map_err(|e| {
        format!("in the new user namespace, mounting a private /run failed: {e} (is it refused by a security module?)")
    })?;
    Ok(how)
}

/// unshare(2) and the one-uid maps an unprivileged process may write itself.
fn unshare_plain(flags: libc::c_int, uid: u32, gid: u32) -> Result<(), String> {
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(format!(
            "unshare(CLONE_NEWUSER): {}",
            io::Error::last_os_error()
        ));
    }
    write_own_maps(uid, gid)
}

fn write_own_maps(uid: u32, gid: u32) -> Result<(), String> {
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("writing {file}: {e}"))
    };
    // The kernel lets an unprivileged process write gid_map only after setgroups is denied.
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))
}

/// unshare(2), then newuidmap/newgidmap run from outside (a forked child, since
/// they must write the maps of a process in a namespace they are not in).
fn unshare_with_helpers(
    flags: libc::c_int,
    uid: u32,
    gid: u32,
    subuid: (u32, u32),
    subgid: (u32, u32),
) -> Result<String, String> {
    let mut fds = [0; 2];
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        unshare_plain(flags, uid, gid)?;
        return Ok(format!(
            "uid {uid} is uid 0 inside (pipe failed, no other uid)"
        ));
    }
    let parent = unsafe { libc::getpid() };
    let child = unsafe { libc::fork() };
    if child == 0 {
        // The child: wait for the parent's unshare, map it, report by exit status.
        unsafe { libc::close(fds[1]) };
        let mut go = [0u8; 1];
        let n = unsafe { libc::read(fds[0], go.as_mut_ptr().cast(), 1) };
        let ok = n == 1
            && go[0] == b'1'
            && map_with("newuidmap", parent, uid, subuid)
            && map_with("newgidmap", parent, gid, subgid);
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    unsafe { libc::close(fds[0]) };
    let unshared = if child > 0 {
        unsafe { libc::unshare(flags) }
    } else {
        -1
    };
    let err = io::Error::last_os_error();
    let go = if unshared == 0 { b"1" } else { b"0" };
    let mut mapped = false;
    if child > 0 {
        unsafe { libc::write(fds[1], go.as_ptr().cast(), 1) };
        let mut status = 0;
        unsafe { libc::waitpid(child, &mut status, 0) };
        mapped = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    }
    unsafe { libc::close(fds[1]) };
    if child < 0 {
        unshare_plain(flags, uid, gid)?;
        return Ok(format!(
            "uid {uid} is uid 0 inside (fork failed, no other uid)"
        ));
    }
    if unshared != 0 {
        return Err(format!("unshare(CLONE_NEWUSER): {err}"));
    }
    if mapped {
        // Leave the host's supplementary groups behind (they would show as nogroup).
        unsafe { libc::setgroups(0, std::ptr::null()) };
        return Ok(format!(
            "uid {uid} is uid 0 inside, uids 1-{} map to {}.. by newuidmap",
            subuid.1, subuid.0
        ));
    }
    // The helpers failed: fall back to the one-uid maps, if the kernel still takes them.
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    if uid_map.trim().is_empty() {
        write_own_maps(uid, gid)?;
        Ok(format!(
            "uid {uid} is uid 0 inside, no other uid (newuidmap failed)"
        ))
    } else {
        Err("newuidmap mapped the uids but newgidmap failed".into())
    }
}

/// Runs `helper PID 0 OUTER 1 1 START COUNT`; true on success.
fn map_with(helper: &str, pid: libc::pid_t, outer: u32, (start, count): (u32, u32)) -> bool {
    Command::new(helper)
        .args([pid.to_string(), "0".into(), outer.to_string(), "1".into()])
        .args(["1".to_string(), start.to_string(), count.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// This user's first ranges in /etc/subuid and /etc/subgid (start, count), capped
/// at 65535 ids, when newuidmap and newgidmap exist too.
fn subordinate_ids(uid: u32, gid: u32) -> Option<((u32, u32), (u32, u32))> {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|dir| dir.join(name).is_file()))
    };
    if !on_path("newuidmap") || !on_path("newgidmap") {
        return None;
    }
    let name = user_name(uid);
    let find = |file: &str, id: u32| -> Option<(u32, u32)> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|line| {
            let mut f = line.trim().split(':');
            let who = f.next()?;
            let start: u32 = f.next()?.parse().ok()?;
            let count: u32 = f.next()?.parse().ok()?;
            let mine = who == id.to_string() || name.as_deref() == Some(who);
            (mine && count > 0).then_some((start, count.min(65535)))
        })
    };
    // The group file names the user's name or the group's id.
    Some((
        find("/etc/subuid", uid)?,
        find("/etc/subgid", gid).or_else(|| find("/etc/subgid", uid))?,
    ))
}

fn user_name(uid: u32) -> Option<String> {
    // Single-threaded here, so getpwuid's static buffer is safe to read.
    let pw = unsafe { libc::getpwuid(uid) };
    if pw.is_null() {
        return std::env::var("USER").ok();
    }
    let name = unsafe { std::ffi::CStr::from_ptr((*pw).pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// A private, empty tmpfs on /run with /run/netns in it (see the module docs).
fn private_run() -> io::Result<()> {
    let c = |s: &str| CString::new(s).expect("no NUL");
    let none = std::ptr::null::<libc::c_char>();
    // Mounts made here must not propagate back to the host's namespace.
    let root = c("/");
    if unsafe {
        libc::mount(
            none,
            root.as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    let (tmpfs, run, opts) = (c("tmpfs"), c("/run"), c("mode=0755"));
    let flags = libc::MS_NOSUID | libc::MS_NODEV;
    if unsafe {
        libc::mount(
            tmpfs.as_ptr(),
            run.as_ptr(),
            tmpfs.as_ptr(),
            flags,
            opts.as_ptr().cast(),
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    std::fs::create_dir(Path::new("/run/netns"))
}
