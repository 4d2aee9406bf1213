//! The board's service sizes: the QEMU boards' standard ones
//! (`minnow_firmware::sizes`), unchanged. RAM, stack included: 63.5 KiB
//! (65,052 B) with mail; `main.rs` gathers them into the firmware crate's
//! `Sizes`.

pub use minnow_firmware::sizes::*;
