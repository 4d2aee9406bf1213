//! What a scenario runs.

use smoltcp::time::Duration;

use crate::faults::Faults;

/// Which tasks the clients run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Every service: client `k` runs the `k mod 4`th script (TCP echo,
    /// download, UDP echo, default file and a refused name), each with a
    /// time query, then every client (the first 64: the room's places)
    /// joins the chat room; the board sends
    /// a mail to the simulated SMTP server. The scripts are listed in
    /// [`super::plan::tasks_for`].
    Every,
    /// TCP echo only.
    Echo,
    /// The chat room only (the many-node benchmark; at most 64 members).
    Chat,
    /// RFC 863 discard only: the board runs discard (off in the other
    /// mixes) and each client sends it `echo_bytes`.
    Discard,
}

/// Sizes of the transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Bytes each TCP echo client sends (and must get back).
    pub echo_bytes: u64,
    /// Datagrams each UDP echo client sends.
    pub datagrams: u32,
    /// Largest UDP echo datagram.
    pub datagram_max: usize,
    /// Size of the board's `big.bin`.
    pub file_bytes: usize,
    /// Lines each chat member sends.
    pub chat_lines: u32,
    /// Size of the board's mail attachment.
    pub mail_bytes: usize,
}

impl Default for Workload {
    /// 1 MiB of echo, 32 datagrams up to 1400 bytes, a 512 KiB file, 5
    /// chat lines per member, a mail with a 32 KiB attachment.
    fn default() -> Self {
        Self {
            echo_bytes: 1 << 20,
            datagrams: 32,
            datagram_max: 1400,
            file_bytes: 512 * 1024,
            chat_lines: 5,
            mail_bytes: 32 * 1024,
        }
    }
}

impl Workload {
    /// Small transfers for many seeds: 8 KiB echo, 4 datagrams, a 6 KiB
    /// file, 3 chat lines per member, a 1 KiB mail attachment.
    pub fn small() -> Self {
        Self {
            echo_bytes: 8 * 1024,
            datagrams: 4,
            datagram_max: 1000,
            file_bytes: 6 * 1024,
            chat_lines: 3,
            mail_bytes: 1024,
        }
    }
}

/// One scenario run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// What the wire does.
    pub faults: Faults,
    /// Client nodes (the board and the SNTP server, and with every service
    /// the SMTP server, come on top).
    pub clients: usize,
    /// Which tasks they run.
    pub mix: Mix,
    /// How much they move.
    pub workload: Workload,
    /// A client task fails when nothing moves for this long.
    pub timeout: Duration,
    /// Pause between one client's tasks.
    pub pause: Duration,
    /// Stop at this virtual time even if clients are not done.
    pub time_limit: Duration,
    /// Stop after this many simulator steps (a guard against a node that
    /// asks to be polled forever).
    pub max_steps: u64,
}

impl Default for ScenarioConfig {
    /// Seed 1, the default faults, 4 clients running every service.
    fn default() -> Self {
        Self {
            seed: 1,
            faults: Faults::default(),
            clients: 4,
            mix: Mix::Every,
            workload: Workload::default(),
            timeout: Duration::from_secs(60),
            pause: Duration::from_millis(100),
            time_limit: Duration::from_secs(1800),
            max_steps: 50_000_000,
        }
    }
}

impl ScenarioConfig {
    /// Every service with small transfers: cheap enough for hundreds of seeds.
    pub fn small(seed: u64, faults: Faults) -> Self {
        Self {
            seed,
            faults,
            workload: Workload::small(),
            ..Self::default()
        }
    }

    /// `clients` chat members sending `lines` lines each.
    pub fn chat_room(seed: u64, clients: usize, lines: u32) -> Self {
        Self {
            seed,
            clients,
            mix: Mix::Chat,
            workload: Workload {
                chat_lines: lines,
                ..Workload::default()
            },
            ..Self::default()
        }
    }

    /// `clients` TCP echo clients moving `bytes` each.
    pub fn echo_crowd(seed: u64, clients: usize, bytes: u64) -> Self {
        Self {
            seed,
            clients,
            mix: Mix::Echo,
            workload: Workload {
                echo_bytes: bytes,
                ..Workload::default()
            },
            ..Self::default()
        }
    }
}
