//! Line-break normalisation: CRLF, bare LF and bare CR all become CRLF.
//!
//! Text bodies are sent in MIME canonical form (RFC 2045 section 6.8:
//! line breaks are CRLF before any encoding), so a receiver decodes every
//! line break of a text part as CRLF.

/// Output of one [`Crlf`] step: at most 3 bytes. RAM: 4 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Out {
    bytes: [u8; 3],
    len: u8,
}

impl Out {
    pub(crate) const EMPTY: Self = Self {
        bytes: [0; 3],
        len: 0,
    };
    const CRLF: Self = Self {
        bytes: [b'\r', b'\n', 0],
        len: 2,
    };

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// The streaming normaliser. RAM: 1 byte (a CR waiting for its LF).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crlf {
    pending_cr: bool,
}

impl Crlf {
    /// A normaliser at the start of a text.
    pub const fn new() -> Self {
        Self { pending_cr: false }
    }

    /// Feeds one byte; returns what it lets out (0 to 3 bytes).
    pub fn push(&mut self, b: u8) -> Out {
        let was_cr = core::mem::replace(&mut self.pending_cr, false);
        match (was_cr, b) {
            (true, b'\n') => Out::CRLF,
            (true, b'\r') => {
                self.pending_cr = true;
                Out::CRLF
            }
            (true, other) => Out {
                bytes: [b'\r', b'\n', other],
                len: 3,
            },
            (false, b'\r') => {
                self.pending_cr = true;
                Out::EMPTY
            }
            (false, b'\n') => Out::CRLF,
            (false, other) => Out {
                bytes: [other, 0, 0],
                len: 1,
            },
        }
    }

    /// Ends the text: a CR left at the very end becomes CRLF.
    pub fn finish(&mut self) -> Out {
        if core::mem::replace(&mut self.pending_cr, false) {
            Out::CRLF
        } else {
            Out::EMPTY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], out: &mut [u8]) -> usize {
        let mut c = Crlf::new();
        let mut n = 0;
        for &b in input {
            for &o in c.push(b).as_slice() {
                out[n] = o;
                n += 1;
            }
        }
        for &o in c.finish().as_slice() {
            out[n] = o;
            n += 1;
        }
        n
    }

    #[test]
    fn every_break_becomes_crlf() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a", b"a"),
            (b"a\r\nb", b"a\r\nb"),
            (b"a\nb", b"a\r\nb"),
            (b"a\rb", b"a\r\nb"),
            (b"\r", b"\r\n"),
            (b"\n\n", b"\r\n\r\n"),
            (b"\r\r\n", b"\r\n\r\n"),
            (b"\r\r", b"\r\n\r\n"),
            (b"\n\r", b"\r\n\r\n"),
            (b"x\r\n\r\ny\r", b"x\r\n\r\ny\r\n"),
        ];
        for (input, want) in cases {
            let mut out = [0u8; 64];
            let n = run(input, &mut out);
            assert_eq!(&out[..n], *want, "input {input:?}");
        }
    }
}
