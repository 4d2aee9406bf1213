//! The board images' test file, for their build scripts (`#[path]`-included
//! there: a build script cannot depend on a `no_std` library's code).
//!
//! Each board serves pseudo-random bytes that a test rebuilds with
//! `minnow_tests::random_bytes(len, SEED)` to check a download's hash; only
//! the length differs between boards (what their flash holds).

use std::fs;
use std::path::Path;

/// The seed every board's file uses.
pub const SEED: u64 = 0x6d6e77;

/// Writes `len` bytes of the test harness's generator to `path`.
pub fn write(path: &Path, len: usize) {
    fs::write(path, random_bytes(len, SEED))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The test harness's generator (xorshift64*), byte for byte.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    if x == 0 {
        x = 1;
    }
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}
