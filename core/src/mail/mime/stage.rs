//! The composer's staging buffer: one rendered piece of output (a header
//! token, a boundary line, an encoded body line) waiting to be copied out.

/// Staging bytes. Every piece the composer stages is at most 125 bytes
/// (a folded, quoted display name of 60 characters, all escaped); body
/// lines are at most 78.
pub(crate) const STAGE: usize = 128;

/// RAM: [`STAGE`] + 2 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage {
    buf: [u8; STAGE],
    len: u8,
    pos: u8,
}

impl Stage {
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; STAGE],
            len: 0,
            pos: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.pos = 0;
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub(crate) fn room(&self) -> usize {
        STAGE - self.len()
    }

    /// Appends `bytes`. The composer's bounds make overflow impossible; if
    /// it ever happened the excess would be dropped (a debug build stops).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= self.room(), "stage overflow");
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    /// The free tail, for encoders that write in place; then [`Self::grow`].
    pub(crate) fn tail(&mut self) -> &mut [u8] {
        self.buf.get_mut(usize::from(self.len)..).unwrap_or(&mut [])
    }

    /// Counts `n` bytes written into [`Self::tail`].
    pub(crate) fn grow(&mut self, n: usize) {
        self.len = self.len().saturating_add(n).min(STAGE) as u8;
    }

    /// `v` as 16 lower-case hex digits.
    pub(crate) fn push_hex16(&mut self, v: u64) {
        for shift in (0..16).rev() {
            let nibble = ((v >> (shift * 4)) & 0xf) as u8;
            let c = if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + nibble - 10
            };
            self.push(&[c]);
        }
    }

    /// `v` in decimal.
    pub(crate) fn push_dec(&mut self, v: u64) {
        let mut digits = [0u8; 20];
        self.push(crate::mail::decimal(v, &mut digits));
    }

    /// `bytes` in base64 (no line breaks; at most 90 bytes fit).
    pub(crate) fn push_base64(&mut self, bytes: &[u8]) {
        let n = super::b64::encode(bytes, self.tail());
        debug_assert!(bytes.is_empty() || n > 0, "stage overflow");
        self.grow(n);
    }

    /// Copies the unread bytes into `out`; returns how many.
    pub(crate) fn drain(&mut self, out: &mut [u8]) -> usize {
        let pending = self
            .buf
            .get(usize::from(self.pos)..usize::from(self.len))
            .unwrap_or(&[]);
        let n = pending.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), pending.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos = self.pos.saturating_add(n as u8);
        n
    }

    #[cfg(test)]
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len()).unwrap_or(&[])
    }
}
