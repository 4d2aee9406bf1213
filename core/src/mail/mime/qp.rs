//! Streaming quoted-printable encoder (RFC 2045 section 6.7).
//!
//! - Printable ASCII but `=` (0x21..=0x7E) and SPACE/TAB go as they are;
//!   every other byte (`=`, controls, 0x7F and above) becomes `=XX` with
//!   upper-case hex.
//! - CRLF, bare LF and bare CR are line breaks, written as CRLF ("hard"
//!   breaks; a decoder gives CRLF back).
//! - A SPACE or TAB just before a line break, or at the very end, is
//!   encoded (`=20`, `=09`) so transports that strip trailing white space
//!   cannot change the text.
//! - Lines are at most 76 characters: a longer line is cut with a soft
//!   break `=` CRLF, never inside an `=XX`.
//! - Text that does not end with a line break ends with a soft break, so
//!   the encoded body always ends with CRLF and decodes to exactly the
//!   input (no extra line break).
//!
//! The output never contains `=_`, which MIME boundaries rely on (see the
//! [module docs](super)).

/// Room `out` must have for one [`QpEncoder::push`] or
/// [`QpEncoder::finish`] call.
pub const MAX_STEP: usize = 16;

/// Longest encoded line before a soft break, the `=` excluded (76 with it).
const LINE: usize = 75;

/// The encoder. RAM: 3 bytes (column, a held white-space byte, a held CR).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QpEncoder {
    col: u8,
    /// A SPACE or TAB whose encoding depends on what follows; 0 if none.
    ws: u8,
    cr: bool,
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` may appear as itself (white space aside).
const fn literal(b: u8) -> bool {
    matches!(b, 0x21..=0x3C | 0x3E..=0x7E)
}

struct W<'o> {
    out: &'o mut [u8],
    n: usize,
}

impl W<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.out.get_mut(self.n) {
                *slot = b;
                self.n += 1;
            }
        }
    }
}

impl QpEncoder {
    /// An encoder at the start of a text.
    pub const fn new() -> Self {
        Self {
            col: 0,
            ws: 0,
            cr: false,
        }
    }

    /// Encodes one input byte into `out`, which must have room for
    /// [`MAX_STEP`] bytes (what does not fit is dropped, never a panic).
    /// Returns the number of bytes written (often 0: white space and CR wait
    /// for the next byte).
    pub fn push(&mut self, b: u8, out: &mut [u8]) -> usize {
        let mut w = W { out, n: 0 };
        if core::mem::replace(&mut self.cr, false) {
            // CRLF, or a bare CR: a line break either way.
            self.hard_break(&mut w);
            if b == b'\n' {
                return w.n;
            }
        }
        match b {
            b'\r' => self.cr = true,
            b'\n' => self.hard_break(&mut w),
            b' ' | b'\t' => {
                self.flush_ws_literal(&mut w);
                self.ws = b;
            }
            _ => {
                self.flush_ws_literal(&mut w);
                if literal(b) {
                    self.token(&mut w, &[b]);
                } else {
                    self.token(&mut w, &encode(b));
                }
            }
        }
        w.n
    }

    /// Ends the text into `out` (room: [`MAX_STEP`]). Returns the number of
    /// bytes written. The encoder is then ready for a new text.
    pub fn finish(&mut self, out: &mut [u8]) -> usize {
        let mut w = W { out, n: 0 };
        if core::mem::replace(&mut self.cr, false) {
            self.hard_break(&mut w);
        }
        self.flush_ws_encoded(&mut w);
        if self.col > 0 {
            w.put(b"=\r\n");
        }
        *self = Self::new();
        w.n
    }

    fn token(&mut self, w: &mut W<'_>, t: &[u8]) {
        if usize::from(self.col) + t.len() > LINE {
            w.put(b"=\r\n");
            self.col = 0;
        }
        w.put(t);
        // t is at most 3 bytes and col at most LINE: no overflow.
        self.col = self.col.saturating_add(t.len() as u8);
    }

    fn flush_ws_literal(&mut self, w: &mut W<'_>) {
        let ws = core::mem::replace(&mut self.ws, 0);
        if ws != 0 {
            self.token(w, &[ws]);
        }
    }

    fn flush_ws_encoded(&mut self, w: &mut W<'_>) {
        let ws = core::mem::replace(&mut self.ws, 0);
        if ws != 0 {
            self.token(w, &encode(ws));
        }
    }

    fn hard_break(&mut self, w: &mut W<'_>) {
        self.flush_ws_encoded(w);
        w.put(b"\r\n");
        self.col = 0;
    }
}

fn encode(b: u8) -> [u8; 3] {
    [b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes `input` whole, feeding it one byte at a time.
    pub(crate) fn encode_all(input: &[u8], out: &mut [u8]) -> usize {
        let mut e = QpEncoder::new();
        let mut n = 0;
        let mut step = [0u8; MAX_STEP];
        for &b in input {
            let k = e.push(b, &mut step);
            out[n..n + k].copy_from_slice(&step[..k]);
            n += k;
        }
        let k = e.finish(&mut step);
        out[n..n + k].copy_from_slice(&step[..k]);
        n + k
    }

    /// A strict decoder for the tests: hard breaks give CRLF.
    pub(crate) fn decode(input: &[u8], out: &mut [u8]) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < input.len() {
            match input[i] {
                b'=' if input[i + 1] == b'\r' => {
                    assert_eq!(input[i + 2], b'\n', "soft break must be =CRLF");
                    i += 3;
                }
                b'=' => {
                    let hex = |c: u8| HEX.iter().position(|&h| h == c).expect("upper hex") as u8;
                    out[n] = hex(input[i + 1]) << 4 | hex(input[i + 2]);
                    n += 1;
                    i += 3;
                }
                b => {
                    out[n] = b;
                    n += 1;
                    i += 1;
                }
            }
        }
        n
    }

    fn check_lines(enc: &[u8]) {
        for line in enc.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(line.len() <= 76, "line of {}: {:?}", line.len(), line);
            assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"));
        }
        assert!(!enc.windows(2).any(|w| w == b"=_"));
        for (i, &b) in enc.iter().enumerate() {
            if b == b'\n' {
                assert_eq!(enc[i - 1], b'\r');
            }
            if b == b'\r' {
                assert_eq!(enc[i + 1], b'\n');
            }
        }
    }

    fn enc(input: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec![0u8; input.len() * 4 + 16];
        let n = encode_all(input, &mut out);
        out.truncate(n);
        check_lines(&out);
        out
    }

    extern crate std;

    #[test]
    fn vectors() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"abc\r\n", b"abc\r\n"),
            (b"abc", b"abc=\r\n"),
            (b"a=b\r\n", b"a=3Db\r\n"),
            (b"=_\r\n", b"=3D_\r\n"),
            (b"trailing \r\n", b"trailing=20\r\n"),
            (b"tab\t\r\n", b"tab=09\r\n"),
            (b"two  \r\n", b"two =20\r\n"),
            (b"end ", b"end=20=\r\n"),
            (b"in between ok\r\n", b"in between ok\r\n"),
            (b"caf\xc3\xa9\r\n", b"caf=C3=A9\r\n"),
            (b"\x00\x7f\xff\r\n", b"=00=7F=FF\r\n"),
            (b"lf\nonly\n", b"lf\r\nonly\r\n"),
            (b"cr\ronly\r", b"cr\r\nonly\r\n"),
            (b"\r\n\r\n", b"\r\n\r\n"),
            (b" \r\n", b"=20\r\n"),
            // RFC 2045's example of a hex-encoded byte.
            (b"\x0c", b"=0C=\r\n"),
        ];
        for (input, want) in cases {
            let got = enc(input);
            assert_eq!(
                got,
                *want,
                "input {:?}: got {:?}",
                input,
                std::string::String::from_utf8_lossy(&got)
            );
        }
    }

    #[test]
    fn long_lines_get_soft_breaks() {
        // 75 characters fit a line as they are.
        let line75 = [b'x'; 75];
        let mut input = line75.to_vec();
        input.extend_from_slice(b"\r\n");
        assert_eq!(enc(&input), input);
        // 76 need a soft break after 75.
        let input = [b'y'; 76];
        let got = enc(&input);
        let mut want = [b'y'; 75].to_vec();
        want.extend_from_slice(b"=\r\ny=\r\n");
        assert_eq!(got, want);
        // An =XX never straddles a soft break.
        let mut input = [b'z'; 74].to_vec();
        input.push(b'=');
        let got = enc(&input);
        let mut want = [b'z'; 74].to_vec();
        want.extend_from_slice(b"=\r\n=3D=\r\n");
        assert_eq!(got, want);
    }

    #[test]
    fn round_trip() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for len in 0..600 {
            let mut input = std::vec![0u8; len];
            for b in input.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Bias toward text, spaces and line breaks.
                *b = match seed % 8 {
                    0 => b' ',
                    1 => b'\n',
                    2 => (seed >> 8) as u8,
                    3 => b'\r',
                    _ => b'a' + (seed >> 16) as u8 % 26,
                };
            }
            let encoded = enc(&input);
            let mut dec = std::vec![0u8; encoded.len()];
            let n = decode(&encoded, &mut dec);
            // The decoded text is the input with line breaks as CRLF.
            let mut norm = std::vec::Vec::new();
            let mut c = crate::mail::mime::crlf::Crlf::new();
            for &b in &input {
                norm.extend_from_slice(c.push(b).as_slice());
            }
            norm.extend_from_slice(c.finish().as_slice());
            assert_eq!(&dec[..n], &norm[..], "len {len}");
        }
    }

    #[test]
    fn short_out_never_panics() {
        let mut e = QpEncoder::new();
        let mut tiny = [0u8; 1];
        for b in 0..=255u8 {
            e.push(b, &mut tiny);
            e.push(b, &mut []);
        }
        e.finish(&mut []);
    }
}
