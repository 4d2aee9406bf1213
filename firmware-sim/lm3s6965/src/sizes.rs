//! The board's service sizes: the QEMU boards' standard ones
//! (`minnow_firmware::sizes`) but the echo's; `main.rs` gathers them into
//! the firmware crate's `Sizes`.
//!
//! The chip has 64 KiB of SRAM for everything, stack included (`memory.x`).
//! The services are those of the mps2 image, at its sizes but one: the TCP
//! echo's receive buffer, since the advertised window never exceeds one
//! segment here (the chip's 2 KiB RX FIFO, see `stellaris_enet`). RAM,
//! stack included: 57.3 KiB (58,688 B) without mail, the default, as mail's
//! code (27 KiB) does not fit the image's 128 KiB code budget (with it the
//! image has 132 KiB of code); 62.6 KiB (64,104 B) with it (`MINNOW_SMTP`).

use minnow::services::{EchoConfig, TcpSizing};
use minnow_firmware::sizes as standard;
pub use minnow_firmware::sizes::*;

/// TCP and UDP echo: the standard sizes, but a receive buffer of a segment
/// and a bit, as the window is one segment at most.
pub const ECHO: EchoConfig = EchoConfig {
    tcp: TcpSizing {
        rx: 1536,
        ..standard::ECHO.tcp
    },
    ..standard::ECHO
};
