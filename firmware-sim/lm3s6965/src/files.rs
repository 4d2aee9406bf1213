//! The files the file server sends (they stay in flash), and the boot
//! mail's text, which says which board sent it.

use minnow_firmware::Files;

/// The default file: what a request that is not `GET NAME` gets (the notes'
/// client sends `Hello server!`), and the boot mail's attachment.
const DEFAULT: &str = "hello.txt";

const HELLO: &[u8] = b"Hello from Minnow, running as firmware on a TI Stellaris LM3S6965 \
(Arm Cortex-M3, QEMU lm3s6965evb) with its on-chip Ethernet controller.\n";

/// 64 KiB of the test harness's pseudo-random bytes (see `build.rs`): for
/// hash checks. The chip's 256 KiB of flash holds the code too.
const RANDOM_64K: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/random-64k.bin"));

/// The file table.
pub const FILES: Files = Files {
    table: &[
        (DEFAULT, HELLO),
        ("random-64k.bin", RANDOM_64K),
        ("empty", b""),
    ],
    default: DEFAULT,
};

/// The boot mail's text part.
pub const MAIL_TEXT: &[u8] = b"Hello from Minnow, running as firmware on a TI Stellaris \
LM3S6965 (Arm Cortex-M3, QEMU lm3s6965evb).\n\nThis message was composed on the board by \
Minnow's MIME composer and sent by its SMTP client over smoltcp; the attachment is \
hello.txt from the board's file table.\n";
