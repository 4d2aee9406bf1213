//! The board's service sizes: every RAM figure of its services is here, as
//! core's configuration values, and the Ethernet DMA's rings; `main.rs`
//! gathers the services' into the firmware crate's `Sizes`.
//!
//! The chip has 192 KiB of SRAM for the statics and 64 KiB of CCM for the
//! stack (`memory.x`), three times the QEMU boards' 64 KiB in all, so the
//! services are the mps2 image's with more room: twice the connections
//! (time, echo, file, discard), a chat room of 8, windows of 4 KiB for echo
//! and 8 KiB in flight per download. What the statics add up to is in the
//! size report (`scripts/board.sh --board nucleo-f429zi --size`); the linker
//! holds them to the SRAM.

use minnow::file::request::MAX_REQUEST;
use minnow::file::server::FileTimers;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, TcpSizing, TimeConfig, UdpSizing,
};
use minnow::time::sntp_client::SntpTimers;
use smoltcp::time::Duration;

/// Ethernet DMA transmit descriptors, each with a 1,514-byte frame buffer:
/// also the burst smoltcp sends before the MAC has to catch up.
pub const ETH_TX_FRAMES: usize = 8;
/// Ethernet DMA receive descriptors, each with a 1,536-byte frame buffer:
/// frames that can land between two polls (two full echo windows of
/// segments and some).
pub const ETH_RX_FRAMES: usize = 8;

/// The notes' time server (ctime text, port 9999).
pub const TIME_SOCKETS: usize = 2;
/// TCP echo (port 12345): simultaneous clients.
pub const ECHO_SOCKETS: usize = 4;
/// The largest UDP datagram echoed (the IPv4 payload of a 1500-byte MTU).
pub const MAX_DATAGRAM: usize = 1472;
/// File transfer (port 60000): simultaneous downloads.
pub const FILE_SOCKETS: usize = 4;
/// Chat room (port 9009): members.
pub const CHAT_SOCKETS: usize = 8;
/// The longest chat line taken whole.
pub const CHAT_LINE: usize = 512;
/// Discard (port 9, only with `--features discard` and `MINNOW_SERVICES`
/// naming it): simultaneous clients.
pub const DISCARD_SOCKETS: usize = 4;

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
        rx: 4096,
        tx: 4096,
    },
    // Two full-size datagrams each way (or up to eight smaller ones).
    udp: UdpSizing {
        packets: 8,
        bytes: 3072,
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
        tx: 8192,
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
        rx: 4096,
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
    tx: 1536,
};
