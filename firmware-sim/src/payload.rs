//! Deterministic test data: a byte stream that is a pure function of a seed
//! and a position, so a receiver checks what arrives without a copy of what
//! was sent.

use sha2::{Digest, Sha256};

use crate::rng::mix;

/// Fills `out` with the stream `seed` from byte `offset` on.
pub fn fill(seed: u64, offset: u64, out: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < out.len() {
        let word = mix(seed ^ mix(pos / 8)).to_le_bytes();
        let skip = (pos % 8) as usize;
        let n = (8 - skip).min(out.len() - i);
        out[i..i + n].copy_from_slice(&word[skip..skip + n]);
        i += n;
        pos += n as u64;
    }
}

/// `len` bytes of the stream `seed`.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0; len];
    fill(seed, 0, &mut v);
    v
}

/// Checks arriving bytes against the stream `seed`, and hashes them.
pub struct StreamCheck {
    seed: u64,
    received: u64,
    mismatch: Option<u64>,
    sha: Sha256,
    scratch: Vec<u8>,
}

impl StreamCheck {
    /// Expects the stream `seed` from its start.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            received: 0,
            mismatch: None,
            sha: Sha256::new(),
            scratch: Vec::new(),
        }
    }

    /// Checks and hashes the next bytes.
    pub fn feed(&mut self, got: &[u8]) {
        self.scratch.resize(got.len(), 0);
        fill(self.seed, self.received, &mut self.scratch);
        if self.mismatch.is_none()
            && let Some(i) = got.iter().zip(&self.scratch).position(|(a, b)| a != b)
        {
            self.mismatch = Some(self.received + i as u64);
        }
        self.sha.update(got);
        self.received += got.len() as u64;
    }

    /// Bytes received.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The offset of the first wrong byte, if any.
    pub fn mismatch(&self) -> Option<u64> {
        self.mismatch
    }

    /// SHA-256 of what arrived.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha.clone().finalize().into()
    }
}

/// SHA-256 of the first `len` bytes of the stream `seed`.
pub fn stream_sha256(seed: u64, len: u64) -> [u8; 32] {
    let mut sha = Sha256::new();
    let mut buf = [0u8; 4096];
    let mut pos = 0;
    while pos < len {
        let n = (len - pos).min(buf.len() as u64) as usize;
        fill(seed, pos, &mut buf[..n]);
        sha.update(&buf[..n]);
        pos += n as u64;
    }
    sha.finalize().into()
}

/// `n` bytes in binary units: `512 B`, `64 KiB`, `1.5 MiB`.
pub fn human(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 if n.is_multiple_of(1024) => format!("{} KiB", n / 1024),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ if n.is_multiple_of(1_048_576) => format!("{} MiB", n / 1_048_576),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_at_any_offset_match_the_whole() {
        let whole = bytes(9, 100);
        for start in 0..20 {
            let mut part = vec![0; 37];
            fill(9, start, &mut part);
            assert_eq!(part, whole[start as usize..start as usize + 37]);
        }
        assert_ne!(bytes(9, 16), bytes(10, 16));
    }

    #[test]
    fn check_finds_the_first_wrong_byte_and_hashes() {
        let mut data = bytes(3, 5000);
        let mut ok = StreamCheck::new(3);
        for piece in data.chunks(333) {
            ok.feed(piece);
        }
        assert_eq!(ok.mismatch(), None);
        assert_eq!(ok.sha256(), stream_sha256(3, 5000));
        data[4321] ^= 4;
        let mut bad = StreamCheck::new(3);
        for piece in data.chunks(1000) {
            bad.feed(piece);
        }
        assert_eq!(bad.mismatch(), Some(4321));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(65536), "64 KiB");
        assert_eq!(human(1_048_576), "1 MiB");
        assert_eq!(human(1536), "1.5 KiB");
    }
}
