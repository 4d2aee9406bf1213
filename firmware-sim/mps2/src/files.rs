//! The files the file server sends (they stay in flash), and the boot
//! mail's text, which says which board sent it.

use minnow_firmware::Files;

/// The default file: what a request that is not `GET NAME` gets (the notes'
/// client sends `Hello server!`), and the boot mail's attachment.
const DEFAULT: &str = "hello.txt";

const HELLO: &[u8] = b"Hello from Minnow, running as firmware on an Arm Cortex-M4 \
(QEMU mps2-an386) with an SMSC LAN9118 Ethernet controller.\n";

/// 1 MiB of the test harness's pseudo-random bytes (see `build.rs`): for
/// hash checks and the download benchmark.
const RANDOM_1M: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/random-1m.bin"));

/// The file table.
pub const FILES: Files = Files {
    table: &[
        (DEFAULT, HELLO),
        ("random-1m.bin", RANDOM_1M),
        ("empty", b""),
    ],
    default: DEFAULT,
};

/// The boot mail's text part.
pub const MAIL_TEXT: &[u8] = b"Hello from Minnow, running as firmware on an Arm Cortex-M4 \
(QEMU mps2-an386).\n\nThis message was composed on the board by Minnow's MIME composer \
and sent by its SMTP client over smoltcp; the attachment is hello.txt from the board's \
file table.\n";
