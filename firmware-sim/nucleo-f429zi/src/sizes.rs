//! The board's service sizes: the QEMU boards' standard ones
//! (`minnow_firmware::sizes`), scaled up, and the Ethernet DMA's rings;
//! `main.rs` gathers the services' into the firmware crate's `Sizes`.
//!
//! The chip has 192 KiB of SRAM for the statics and 64 KiB of CCM for the
//! stack (`memory.x`), three times the QEMU boards' 64 KiB in all, so the
//! services are theirs with more room: twice the connections (time, echo,
//! file, discard), a chat room of 8, echo windows of 4 KiB, 8 KiB in flight
//! per download, and a boot mail with 1.5 KiB in flight. Unchanged: the
//! chat line and queue, the largest datagram, SNTP. What the statics add
//! up to is in the size report (`scripts/board.sh --board nucleo-f429zi
//! --size`); the linker holds them to the SRAM.

use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, TcpSizing, TimeConfig, UdpSizing,
};
use minnow_firmware::sizes as standard;
pub use minnow_firmware::sizes::{CHAT_LINE, MAX_DATAGRAM, SNTP_TIMERS, SNTP_UDP};

/// Ethernet DMA transmit descriptors, each with a 1,514-byte frame buffer:
/// also the burst smoltcp sends before the MAC has to catch up.
pub const ETH_TX_FRAMES: usize = 8;
/// Ethernet DMA receive descriptors, each with a 1,536-byte frame buffer:
/// the frames that can land between two polls (two echo windows' worth).
pub const ETH_RX_FRAMES: usize = 8;

/// The notes' time server (ctime text, port 9999): two clients at a time.
pub const TIME: TimeConfig = TimeConfig {
    tcp: TcpSizing {
        sockets: 2,
        ..standard::TIME.tcp
    },
    ..standard::TIME
};

/// TCP and UDP echo (port 12345): four clients, 4 KiB each way, and two
/// full-size datagrams each way (or up to eight smaller ones).
pub const ECHO: EchoConfig = EchoConfig {
    tcp: TcpSizing {
        sockets: 4,
        rx: 4096,
        tx: 4096,
    },
    udp: UdpSizing {
        packets: 8,
        bytes: 3072,
    },
    ..standard::ECHO
};

/// File transfer (port 60000): four downloads, 8 KiB in flight each.
pub const FILE: FileConfig = FileConfig {
    tcp: TcpSizing {
        sockets: 4,
        tx: 8192,
        ..standard::FILE.tcp
    },
    ..standard::FILE
};

/// The chat room (port 9009): eight members.
pub const CHAT: ChatConfig = ChatConfig {
    places: 8,
    ..standard::CHAT
};

/// RFC 863 discard (port 9, only with `--features discard` and
/// `MINNOW_SERVICES` naming it): four clients, 4 KiB windows.
pub const DISCARD: DiscardConfig = DiscardConfig {
    tcp: TcpSizing {
        sockets: 4,
        rx: 4096,
        ..standard::DISCARD.tcp
    },
    ..standard::DISCARD
};

/// The boot mail's one connection (only with `MINNOW_SMTP`): the server's
/// replies in, 1.5 KiB of the message in flight.
pub const MAIL: TcpSizing = TcpSizing {
    tx: 1536,
    ..standard::MAIL
};
