//! The files the file server sends: a table built into the image (they stay
//! in flash; serving one costs no RAM beyond the socket's buffers).

use minnow::file::store::StaticFiles;

/// The default file: what a request that is not `GET NAME` gets (the notes'
/// client sends `Hello server!`).
pub const DEFAULT: &str = "hello.txt";

const HELLO: &[u8] = b"Hello from Minnow, running as firmware on an Arm Cortex-M4 \
(QEMU mps2-an386) with an SMSC LAN9118 Ethernet controller.\n";

/// 1 MiB of the test harness's pseudo-random bytes (see `build.rs`): for
/// hash checks and the download benchmark.
const RANDOM_1M: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/random-1m.bin"));

/// `(name, bytes)`; names follow the core's rules (`minnow::file::name`).
pub const TABLE: &[(&str, &[u8])] = &[
    (DEFAULT, HELLO),
    ("random-1m.bin", RANDOM_1M),
    ("empty", b""),
];

/// The store the file server reads.
pub fn store() -> StaticFiles<'static> {
    StaticFiles::new(TABLE, Some(DEFAULT))
}
