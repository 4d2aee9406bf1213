//! lwIP 2.1 as a reference peer: `tests/lwip/lwip_peer.c`, built against
//! Debian's `liblwip-dev` with `cc` on first use (into
//! `<target>/lwip/lwip_peer`), run on a TAP device inside a namespace.
//!
//! It serves lwIP's raw (callback) TCP API: echo on tcp/12345
//! ([`ECHO_PORT`]), a source on tcp/12346 ([`SOURCE_PORT`]: send a decimal
//! byte count and a newline, get that many bytes of [`pattern`], then the
//! close), and UDP echo on udp/12345 that answers every datagram. The
//! options are those Debian compiled the library with (its lwipopts.h):
//! TCP_MSS 1460, a 64 KiB window and send buffer, PCBs from malloc (no
//! fixed limit on connections); see the C file's header. A missing
//! `liblwip-dev` or `cc` fails: never a skip.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::{Netns, Proc, target_dir, workspace_root};

/// TCP and UDP echo.
pub const ECHO_PORT: u16 = 12345;
/// The source: a count line in, that many bytes of [`pattern`] out.
pub const SOURCE_PORT: u16 = 12346;
/// What the peer prints on stdout once it listens.
pub const READY: &str = "lwip_peer: ready";
/// The peer's MAC address (the same as `minnow serve`'s default).
pub const MAC: &str = "02:00:00:00:00:02";
/// How long the peer runs at most (it exits by itself; killed by PID long before).
pub const MAX_SECS: u64 = 900;

/// Bytes `offset..offset + len` of the source's stream: byte `i` is `i % 251`.
pub fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64)
        .map(|i| (i % 251) as u8)
        .collect()
}

/// The peer's binary, built once per process (panics with the reason if it cannot be).
pub fn binary() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(build) {
        Ok(p) => p.clone(),
        Err(e) => panic!("minnow-tests: {e}"),
    }
}

fn build() -> Result<PathBuf, String> {
    let header = "/usr/include/lwip/lwip/tcp.h";
    if !std::path::Path::new(header).is_file() {
        return Err(format!(
            "the lwIP peer needs Debian's liblwip-dev ({header} is missing); install it \
             (apt-get install liblwip-dev; scripts/test.sh does). Failing rather than skipping."
        ));
    }
    let src = workspace_root().join("tests/lwip/lwip_peer.c");
    let dir = target_dir().join("lwip");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let out = dir.join("lwip_peer");
    // Built under a name of our own, then renamed: other test processes may run the old one.
    let tmp = dir.join(format!("lwip_peer.{}", std::process::id()));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut cmd = Command::new(&cc);
    cmd.args(["-O2", "-Wall", "-Werror", "-I/usr/include/lwip", "-o"])
        .arg(&tmp)
        .arg(&src)
        .args(["-llwip", "-lpthread"]);
    let result = cmd.output().map_err(|e| {
        format!(
            "the lwIP peer is compiled with {cc:?}, which could not be run ({e}); install a C \
             compiler (apt-get install gcc). Failing rather than skipping."
        )
    })?;
    if !result.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "compiling the lwIP peer failed ({cmd:?}, {}):\n{}",
            result.status,
            String::from_utf8_lossy(&result.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("renaming to {}: {e}", out.display()))?;
    Ok(out)
}

/// Starts the peer on TAP `tap` (already in `ns`, as [`Netns::add_tap`]
/// makes it) as `cidr`, e.g. `192.0.2.2/24`, and waits for it to listen.
#[track_caller]
pub fn start_on(ns: &Netns, tap: &str, cidr: &str) -> Proc {
    let mut cmd = ns.command(binary());
    cmd.args([tap, cidr, MAC, &MAX_SECS.to_string()]);
    let peer = ns.spawn(cmd);
    assert!(
        peer.wait_for_stdout(READY, Duration::from_secs(10)),
        "minnow-tests: the lwIP peer did not start:\n{}",
        peer.dump()
    );
    peer
}

/// Starts the peer where `minnow serve` would be: on the namespace's `tap0`
/// as [`Netns::MINNOW_V4`]/24 (IPv4 only).
#[track_caller]
pub fn start(ns: &Netns) -> Proc {
    start_on(ns, Netns::TAP, Netns::MINNOW_V4_CIDR)
}
