//! Build script: puts `memory.x` where the linker finds it, and writes the
//! image's test file. The network settings (`MINNOW_*`) are read by the
//! shared firmware crate's build script (`../firmware/build.rs`).

use std::env;
use std::fs;
use std::path::PathBuf;

#[path = "../firmware/build/random_file.rs"]
mod random_file;

/// `random-1m.bin` in the image's file table: 1 MiB that a test can rebuild
/// with `minnow_tests::random_bytes(1 << 20, 0x6d6e77)` to check a download.
const RANDOM_FILE_LEN: usize = 1 << 20;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // cortex-m-rt's linker script (it includes memory.x). Here rather than in
    // .cargo/config.toml's rustflags, so that a RUSTFLAGS in the environment
    // cannot drop it.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        // defmt's format strings live in a section its linker script places.
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../firmware/build/random_file.rs");
    random_file::write(&out.join("random-1m.bin"), RANDOM_FILE_LEN);
}
