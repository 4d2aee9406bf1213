//! Build script: puts `memory.x` where the linker finds it. The network
//! settings (`MINNOW_*`) are read by the shared firmware crate's build
//! script (`../firmware/build.rs`).

use std::env;
use std::fs;
use std::path::PathBuf;

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
}
