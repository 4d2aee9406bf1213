//! The boards' standard service sizes (the QEMU images'; the NUCLEO-F429ZI
//! scales them up): every RAM figure of their services, as core's
//! configuration values. A board's `sizes` module takes these
//! (`pub use minnow_firmware::sizes::*;`) and defines again only what it
//! sizes differently; its `main.rs` gathers them into [`crate::Sizes`].
//! Plain constants with no board dependency, so a host program (the chat
//! benchmark) compiles this same file to report the boards' figures
//! (`#[path]`), rather than parsing it.

use minnow::file::request::MAX_REQUEST;
use minnow::file::server::FileTimers;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, TcpSizing, TimeConfig, UdpSizing,
};
use minnow::time::sntp_client::SntpTimers;
use smoltcp::time::Duration;

/// The notes' time server (ctime text, port 9999): one client at a time,
/// like the notes' iterative server.
pub const TIME_SOCKETS: usize = 1;
/// TCP echo (port 12345): simultaneous clients.
pub const ECHO_SOCKETS: usize = 2;
/// The largest UDP datagram echoed (the IPv4 payload of a 1500-byte MTU).
pub const MAX_DATAGRAM: usize = 1472;
/// File transfer (port 60000): simultaneous downloads.
pub const FILE_SOCKETS: usize = 2;
/// Chat room (port 9009): members.
pub const CHAT_SOCKETS: usize = 3;
/// The longest chat line taken whole.
pub const CHAT_LINE: usize = 512;
/// Discard (port 9, only with `--features discard` and `MINNOW_SERVICES`
/// naming it): simultaneous clients.
pub const DISCARD_SOCKETS: usize = 2;

/// The notes' time server.
pub const TIME: TimeConfig = TimeConfig::ctime(
    minnow::time::DEFAULT_PORT,
    TcpSizing {
        sockets: TIME_SOCKETS,
        rx: 64,
        tx: 64,
    },
    Duration::from_secs(10),
);

/// TCP and UDP echo.
pub const ECHO: EchoConfig = EchoConfig {
    port: minnow::echo::DEFAULT_PORT,
    tcp: TcpSizing {
        sockets: ECHO_SOCKETS,
        rx: 2048,
        tx: 2048,
    },
    // One full-size datagram each way (or up to four smaller ones).
    udp: UdpSizing {
        packets: 4,
        bytes: 1536,
    },
    idle_timeout: Some(Duration::from_secs(300)),
};

/// File transfer.
pub const FILE: FileConfig = FileConfig {
    port: minnow::file::DEFAULT_PORT,
    // The receive buffer holds a request; the transmit buffer is
    // what a download has in flight.
    tcp: TcpSizing {
        sockets: FILE_SOCKETS,
        rx: MAX_REQUEST + 64,
        tx: 6144,
    },
    timers: FileTimers::DEFAULT,
};

/// The chat room.
pub const CHAT: ChatConfig = ChatConfig {
    port: minnow::chat::DEFAULT_PORT,
    places: CHAT_SOCKETS,
    rx: CHAT_LINE,
    queue: 1024,
    stall: Duration::from_secs(10),
    overflow: 1,
    overflow_buffer: 16,
    idle_timeout: Some(Duration::from_secs(600)),
    raw: false,
};

/// RFC 863 discard.
pub const DISCARD: DiscardConfig = DiscardConfig {
    port: minnow::discard::DEFAULT_PORT,
    tcp: TcpSizing {
        sockets: DISCARD_SOCKETS,
        rx: 2048,
        tx: 64,
    },
    udp: UdpSizing {
        packets: 4,
        bytes: 1536,
    },
    idle_timeout: Some(Duration::from_secs(300)),
};

/// SNTP: two 48-byte datagrams each way.
pub const SNTP_UDP: UdpSizing = UdpSizing {
    packets: 2,
    bytes: 128,
};

/// SNTP timers.
pub const SNTP_TIMERS: SntpTimers = SntpTimers::DEFAULT;

/// The boot mail's one connection (only with `MINNOW_SMTP`): the receive
/// buffer takes the server's replies, the transmit buffer is what the
/// message has in flight.
pub const MAIL: TcpSizing = TcpSizing {
    sockets: 1,
    rx: 256,
    tx: 768,
};
