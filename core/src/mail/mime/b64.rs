//! Base64 in 76-column lines (RFC 2045 section 6.8), fed from an
//! `embedded-io` [`Read`] source or byte by byte.
//!
//! Each full line is 57 input bytes → 76 characters + CRLF; only the last
//! line may be shorter (and carries the `=` padding). Short reads from the
//! source are carried over: a line is written only when 57 bytes have
//! arrived or the source has ended, however the source splits its data.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use embedded_io::Read;

/// Input bytes per full line.
pub const LINE_INPUT: usize = 57;
/// Characters per full line, CRLF excluded.
pub const LINE_CHARS: usize = 76;
/// Bytes of a full line with its CRLF.
pub const LINE_OUTPUT: usize = LINE_CHARS + 2;

/// Standard base64 (with `=` padding) of `input` into `out`, as the
/// engine's `encode_slice` writes it; returns the characters written, or 0
/// (and writes nothing) if `out` is too small. The one call site of the
/// engine, and always with one 3-byte group (`internal_encode`): its
/// general code (an unrolled loop for long inputs, the padding) stays out
/// of the firmware image. A short last group goes in with zero bytes added,
/// whose characters then become `=` (the characters before them are the
/// same either way).
#[inline(never)]
pub fn encode(input: &[u8], out: &mut [u8]) -> usize {
    let len = input.len().div_ceil(3) * 4;
    let Some(out) = out.get_mut(..len) else {
        return 0;
    };
    for (k, quad) in out.chunks_exact_mut(4).enumerate() {
        let group = input.get(3 * k..).unwrap_or(&[]);
        let at = |i: usize| group.get(i).copied().unwrap_or(0);
        STANDARD.internal_encode(&[at(0), at(1), at(2)], quad);
        for c in quad.iter_mut().skip(group.len().min(3) + 1) {
            *c = b'=';
        }
    }
    len
}

/// Encodes up to [`LINE_INPUT`] bytes as one line followed by CRLF.
/// Returns the number of bytes written (0 for empty input; bytes past
/// [`LINE_INPUT`] are ignored).
pub fn encode_line(input: &[u8], out: &mut [u8; LINE_OUTPUT]) -> usize {
    let input = input.get(..LINE_INPUT).unwrap_or(input);
    if input.is_empty() {
        return 0;
    }
    let (text, _) = out.split_at_mut(LINE_CHARS);
    // 57 bytes need exactly 76 characters: this cannot fail.
    let n = encode(input, text);
    let mut line = out.iter_mut().skip(n);
    for b in [b'\r', b'\n'] {
        if let Some(slot) = line.next() {
            *slot = b;
        }
    }
    n + 2
}

/// The line accumulator. RAM: 59 bytes (57 of input, a length, an end flag).
#[derive(Debug, Clone, Copy)]
pub struct B64Lines {
    acc: [u8; LINE_INPUT],
    len: u8,
    eof: bool,
}

impl Default for B64Lines {
    fn default() -> Self {
        Self::new()
    }
}

impl B64Lines {
    /// An empty accumulator.
    pub const fn new() -> Self {
        Self {
            acc: [0; LINE_INPUT],
            len: 0,
            eof: false,
        }
    }

    /// Reads from `src` until a line is complete or `src` ends, then writes
    /// that line into `out`. Returns its length, 0 once everything has been
    /// written. A source returning more than it was asked for is clamped,
    /// never a panic. On a source error the bytes read so far are kept, so
    /// a retry continues where it stopped.
    pub fn next_line<R: Read>(
        &mut self,
        src: &mut R,
        out: &mut [u8; LINE_OUTPUT],
    ) -> Result<usize, R::Error> {
        while !self.eof && usize::from(self.len) < LINE_INPUT {
            let start = usize::from(self.len);
            let Some(room) = self.acc.get_mut(start..) else {
                break;
            };
            let asked = room.len();
            let n = src.read(room)?.min(asked);
            if n == 0 {
                self.eof = true;
            } else {
                self.len = (start + n) as u8;
            }
        }
        Ok(self.take_line(out))
    }

    /// Adds one byte; true when a full line is waiting for
    /// [`take_line`](Self::take_line) (further bytes are then dropped).
    pub fn push(&mut self, b: u8) -> bool {
        if let Some(slot) = self.acc.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
        self.is_full()
    }

    /// Whether 57 bytes are waiting.
    pub fn is_full(&self) -> bool {
        usize::from(self.len) >= LINE_INPUT
    }

    /// Writes the waiting bytes (a full line, or the last short one) into
    /// `out` and empties the accumulator. Returns the length, 0 if nothing
    /// was waiting.
    pub fn take_line(&mut self, out: &mut [u8; LINE_OUTPUT]) -> usize {
        let len = usize::from(core::mem::replace(&mut self.len, 0));
        encode_line(self.acc.get(..len).unwrap_or(&[]), out)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    /// Returns at most `step` bytes per read.
    struct Trickle<'d> {
        data: &'d [u8],
        step: usize,
    }

    impl embedded_io::ErrorType for Trickle<'_> {
        type Error = core::convert::Infallible;
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn encode_all(data: &[u8], step: usize) -> Vec<u8> {
        let mut src = Trickle { data, step };
        let mut lines = B64Lines::new();
        let mut out = Vec::new();
        let mut line = [0u8; LINE_OUTPUT];
        loop {
            let n = lines.next_line(&mut src, &mut line).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&line[..n]);
        }
        out
    }

    #[test]
    fn encode_matches_the_engine_with_padding_and_refuses_short_output() {
        use base64::Engine;
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..=data.len() {
            let input = &data[..len];
            let mut want = [0u8; 280];
            let n = STANDARD.encode_slice(input, &mut want).unwrap();
            let mut got = [b'#'; 280];
            assert_eq!(encode(input, &mut got), n, "len {len}");
            assert_eq!(&got[..n], &want[..n], "len {len}");
            assert!(got[n..].iter().all(|&b| b == b'#'));
            if n > 0 {
                let mut short = [b'#'; 280];
                assert_eq!(encode(input, &mut short[..n - 1]), 0);
                assert!(short.iter().all(|&b| b == b'#'));
            }
        }
    }

    #[test]
    fn lines_are_76_columns_and_decode_back() {
        for len in 0..200usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            for step in [1, 2, 56, 57, 58, 1000] {
                let out = encode_all(&data, step);
                let text = std::str::from_utf8(&out).unwrap();
                let lines: Vec<&str> = text.split_terminator("\r\n").collect();
                assert_eq!(lines.len(), len.div_ceil(57), "len {len} step {step}");
                for (i, line) in lines.iter().enumerate() {
                    if i + 1 < lines.len() {
                        assert_eq!(line.len(), 76);
                    } else {
                        assert!(line.len() <= 76 && line.len() % 4 == 0);
                    }
                    assert!(!line.contains('_') && !line.contains('\n'));
                }
                assert!(len == 0 || text.ends_with("\r\n"));
                let joined: std::string::String = lines.concat();
                assert_eq!(
                    crate::mail::mime::tests::b64_decode(joined.as_bytes()).unwrap(),
                    data
                );
            }
        }
    }

    #[test]
    fn push_and_take() {
        let mut lines = B64Lines::new();
        let mut out = [0u8; LINE_OUTPUT];
        for i in 0..56 {
            assert!(!lines.push(i));
        }
        assert!(lines.push(56));
        assert!(lines.push(99), "stays full, extra byte dropped");
        assert_eq!(lines.take_line(&mut out), LINE_OUTPUT);
        assert_eq!(lines.take_line(&mut out), 0);
        assert_eq!(encode_line(b"", &mut out), 0);
        assert_eq!(encode_line(b"Man", &mut out), 6);
        assert_eq!(&out[..6], b"TWFu\r\n");
    }

    /// A source that claims more bytes than asked for.
    struct Liar;
    impl embedded_io::ErrorType for Liar {
        type Error = core::convert::Infallible;
    }
    impl Read for Liar {
        fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(usize::MAX)
        }
    }

    #[test]
    fn lying_source_never_panics() {
        let mut lines = B64Lines::new();
        let mut out = [0u8; LINE_OUTPUT];
        assert_eq!(lines.next_line(&mut Liar, &mut out).unwrap(), LINE_OUTPUT);
    }
}
