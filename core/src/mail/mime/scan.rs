//! What a text body holds, and which transfer encoding it needs.
//!
//! Scan a body once with [`TextScanner`] (chunk by chunk, no buffering),
//! then [`choose`] its [`TextEncoding`] from the [`TextProfile`] and what the
//! server offers. The composer streams the body a second time.

use embedded_io::Read;

use super::{MAX_LINE, TextEncoding};

/// What a scanned text holds. Line lengths count bytes between line breaks
/// (CRLF, bare LF or bare CR), breaks excluded: the lines the composer
/// writes once it has turned every break into CRLF.
///
/// RAM: 24 bytes on a 32-bit target (32 on 64-bit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextProfile {
    /// A byte ≥ 0x80 (UTF-8 beyond ASCII, or binary).
    pub eight_bit: bool,
    /// The longest line, in bytes.
    pub max_line: usize,
    /// A NUL byte.
    pub has_nul: bool,
    /// A CR without LF after it, or an LF without CR before it (the composer
    /// turns both into CRLF).
    pub bare_cr_or_lf: bool,
    /// Bytes scanned.
    pub len: u64,
    /// Bytes ≥ 0x80 among them.
    pub high_bytes: u64,
}

/// The streaming scanner. RAM: 32 bytes on a 32-bit target (48 on
/// 64-bit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextScanner {
    profile: TextProfile,
    line: usize,
    prev_cr: bool,
}

impl TextScanner {
    /// A scanner at the start of a text.
    pub const fn new() -> Self {
        Self {
            profile: TextProfile {
                eight_bit: false,
                max_line: 0,
                has_nul: false,
                bare_cr_or_lf: false,
                len: 0,
                high_bytes: 0,
            },
            line: 0,
            prev_cr: false,
        }
    }

    /// Scans the next chunk of the text.
    pub fn feed(&mut self, chunk: &[u8]) {
        let p = &mut self.profile;
        p.len = p.len.saturating_add(chunk.len() as u64);
        for &b in chunk {
            if core::mem::replace(&mut self.prev_cr, false) {
                if b == b'\n' {
                    continue;
                }
                p.bare_cr_or_lf = true;
            }
            match b {
                b'\r' => {
                    p.max_line = p.max_line.max(self.line);
                    self.line = 0;
                    self.prev_cr = true;
                }
                b'\n' => {
                    p.bare_cr_or_lf = true;
                    p.max_line = p.max_line.max(self.line);
                    self.line = 0;
                }
                _ => {
                    self.line = self.line.saturating_add(1);
                    if b >= 0x80 {
                        p.eight_bit = true;
                        p.high_bytes = p.high_bytes.saturating_add(1);
                    } else if b == 0 {
                        p.has_nul = true;
                    }
                }
            }
        }
    }

    /// The profile of everything fed so far, the last line included.
    pub fn finish(&self) -> TextProfile {
        let mut p = self.profile;
        p.max_line = p.max_line.max(self.line);
        if self.prev_cr {
            p.bare_cr_or_lf = true;
        }
        p
    }

    /// Scans a whole slice.
    pub fn scan_slice(text: &[u8]) -> TextProfile {
        let mut s = Self::new();
        s.feed(text);
        s.finish()
    }

    /// Reads `src` to its end, 64 bytes at a time (64 bytes of stack).
    pub fn scan_source<R: Read>(src: &mut R) -> Result<TextProfile, R::Error> {
        let mut s = Self::new();
        let mut buf = [0u8; 64];
        loop {
            let n = src.read(&mut buf)?;
            if n == 0 {
                return Ok(s.finish());
            }
            s.feed(buf.get(..n).unwrap_or(&buf));
        }
    }
}

/// Picks the transfer encoding of a text body.
///
/// - `7bit` if the text is ASCII without NUL and no line is over 998 bytes;
/// - `8bit` if the server announced 8BITMIME, there is no NUL and no line
///   is over 998 bytes;
/// - otherwise `base64` when it is shorter: text with a NUL, or with more
///   than one byte in six ≥ 0x80 (quoted-printable writes such a byte as 3
///   characters, so Chinese text, 3 bytes per character, would triple;
///   base64 costs 4/3 whatever the bytes);
/// - otherwise `quoted-printable`, which keeps ASCII readable.
///
/// `in_multipart`: in a multipart message (text + HTML, or attachments)
/// text parts are never `7bit`/`8bit` but quoted-printable (or base64 as
/// above). Those two encodings cannot produce the `=_` that every boundary
/// holds, so no line of text can ever end a part early, whatever the text;
/// raw 7bit/8bit text could. [`Composer`](super::Composer) applies the same
/// rule to an encoding it is given.
pub fn choose(profile: &TextProfile, server_8bitmime: bool, in_multipart: bool) -> TextEncoding {
    let fits_lines = profile.max_line <= MAX_LINE && !profile.has_nul;
    if !in_multipart && fits_lines {
        if !profile.eight_bit {
            return TextEncoding::SevenBit;
        }
        if server_8bitmime {
            return TextEncoding::EightBit;
        }
    }
    if profile.has_nul || profile.high_bytes.saturating_mul(6) > profile.len {
        TextEncoding::Base64
    } else {
        TextEncoding::QuotedPrintable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TextEncoding::*;

    #[test]
    fn profiles() {
        let p = TextScanner::scan_slice(b"hello\r\nworld\r\n");
        assert_eq!(
            p,
            TextProfile {
                max_line: 5,
                len: 14,
                ..TextProfile::default()
            }
        );
        assert!(TextScanner::scan_slice(b"a\nb").bare_cr_or_lf);
        assert!(TextScanner::scan_slice(b"a\rb").bare_cr_or_lf);
        assert!(TextScanner::scan_slice(b"a\r").bare_cr_or_lf);
        assert!(!TextScanner::scan_slice(b"a\r\n").bare_cr_or_lf);
        assert!(TextScanner::scan_slice(b"a\0").has_nul);
        let p = TextScanner::scan_slice("測試郵件".as_bytes());
        assert!(p.eight_bit);
        assert_eq!(p.high_bytes, 12);
        assert_eq!(p.max_line, 12);
        assert_eq!(TextScanner::scan_slice(b"ab\r\r\ncde").max_line, 3);
    }

    #[test]
    fn split_chunks_agree() {
        let text = b"line one\r\nline\rtwo\n\r\nthree \xe6\xb8\xac\0 end\r";
        let whole = TextScanner::scan_slice(text);
        for cut in 0..text.len() {
            let mut s = TextScanner::new();
            s.feed(&text[..cut]);
            s.feed(&text[cut..]);
            assert_eq!(s.finish(), whole, "cut {cut}");
        }
        let mut one = TextScanner::new();
        for b in text {
            one.feed(core::slice::from_ref(b));
        }
        assert_eq!(one.finish(), whole);
        let mut src: &[u8] = text;
        assert_eq!(TextScanner::scan_source(&mut src).unwrap(), whole);
    }

    #[test]
    fn choices() {
        let ascii = TextScanner::scan_slice(b"plain text\r\n");
        assert_eq!(choose(&ascii, false, false), SevenBit);
        assert_eq!(choose(&ascii, true, false), SevenBit);
        assert_eq!(choose(&ascii, true, true), QuotedPrintable);

        let accents = TextScanner::scan_slice("Ça va très bien, merci.\r\n".as_bytes());
        assert_eq!(choose(&accents, false, false), QuotedPrintable);
        assert_eq!(choose(&accents, true, false), EightBit);
        assert_eq!(choose(&accents, true, true), QuotedPrintable);

        let chinese = TextScanner::scan_slice("學文您好: 測試郵件\r\n".as_bytes());
        assert_eq!(choose(&chinese, false, false), Base64);
        assert_eq!(choose(&chinese, true, false), EightBit);
        assert_eq!(choose(&chinese, true, true), Base64);

        let mut long = [b'x'; 1000];
        long[998] = b'\n';
        assert_eq!(
            choose(&TextScanner::scan_slice(&long), true, false),
            SevenBit
        );
        let long = [b'x'; 999];
        let p = TextScanner::scan_slice(&long);
        assert_eq!(p.max_line, 999);
        assert_eq!(choose(&p, true, false), QuotedPrintable);

        let nul = TextScanner::scan_slice(b"a\0b");
        assert_eq!(choose(&nul, true, false), Base64);
        let empty = TextScanner::scan_slice(b"");
        assert_eq!(choose(&empty, false, false), SevenBit);
        assert_eq!(choose(&empty, false, true), QuotedPrintable);
    }
}
