//! Integration-test harness for Minnow.
//!
//! Everything network-related happens inside network namespaces that the
//! harness creates ([`Netns`]) and deletes on drop; addresses come only from
//! 192.0.2.0/24 and 2001:db8::/32; processes are killed only by PID.
//!
//! ```no_run
//! use std::time::Duration;
//! use minnow_tests::Netns;
//!
//! let ns = Netns::new(); // root, or rootless in a user namespace; panics (fails) otherwise
//! let _minnow = ns.serve(&[]); // waits for `minnow: ready`
//! ns.run_peer("echo_client.py", &[Netns::MINNOW_V4, "7", "100000"], Duration::from_secs(30))
//!     .assert_success("echo through Minnow");
//! ```

/// The two networks Minnow's clients run over (`minnow CMD --net NET`):
/// Minnow's own stack on the namespace's TAP device, and the kernel's
/// sockets inside the namespace. Client tests run each way.
pub const NETS: [&str; 2] = ["tap", "os"];

/// The address a Minnow client in the test namespace connects from:
/// Minnow's own on the TAP, the Linux side's when it uses the kernel.
pub fn client_addr(net: &str) -> &'static str {
    if net == "os" {
        Netns::HOST_V4
    } else {
        Netns::MINNOW_V4
    }
}

/// Python that builds IPv4 packets by hand (SYNs, UDP datagrams from any
/// source address) and sends them on a raw socket: `send(pkt, dst)`,
/// `syn(src, dst, sport, dport)`, `udp(src, dst, sport, dport, data)`.
pub const RAW_PACKETS_PY: &str = include_str!("raw_packets.py");

/// Helpers shared by the benchmark programs (`src/bin/bench_*.rs`).
pub mod bench;
/// The firmware images in QEMU: [`Board`], built and booted per board.
pub mod board;
/// dnsmasq as the namespace's DHCP and DNS server.
pub mod dhcp;
/// lwIP 2.1 as a reference peer on a TAP device (`tests/lwip/lwip_peer.c`).
pub mod lwip;
/// Helpers for the mail tests: `smtp_sink.py`, stored messages, Python's view of them.
pub mod mail;
mod netns;
mod paths;
mod process;
/// radvd's router advertisements for SLAAC tests.
pub mod radvd;
/// End-to-end exchanges with the notes' clients, for every way of running `minnow serve`.
pub mod scenarios;
mod userns;
mod util;

pub use board::{BOARD_FILE_SEED, Board, BoardBuild};
pub use netns::{
    Netns, PEER_TIMEOUT, READY_LINE, READY_TIMEOUT, is_root, namespace_mode, require_root,
};
pub use paths::{minnow_bin, peer, peers_dir, python3, target_dir, workspace_root};
pub use process::{Proc, RunOutput};
pub use util::{TempDir, random_bytes, sha256_file, sha256_hex};
