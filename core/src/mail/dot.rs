//! The DATA stream transform (RFC 5321 4.5.2): every line ends in CRLF
//! (bare CR and bare LF become CRLF) and a line starting with `.` gets one
//! more `.`, so no content can end the mail early. Streaming: any chunking
//! of the input gives the same output.

/// Streaming CRLF normaliser and dot-stuffer. RAM: 2 bytes.
#[derive(Debug, Clone, Copy)]
pub struct DotStuffer {
    line_start: bool,
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// The end of the DATA stream when the last line is complete.
pub const END_OF_DATA: &[u8] = b".\r\n";

impl DotStuffer {
    /// At the start of the message.
    pub const fn new() -> Self {
        Self {
            line_start: true,
            after_cr: false,
        }
    }

    /// Transforms as much of `input` as fits in `out` (each input byte needs
    /// up to 2 output bytes). Returns (input bytes used, output bytes written).
    pub fn push(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let (mut used, mut written) = (0, 0);
        for &b in input {
            if out.len() - written < 2 {
                break;
            }
            used += 1;
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue; // the CRLF was written with the CR
                }
            }
            match b {
                b'\r' | b'\n' => {
                    out[written] = b'\r';
                    out[written + 1] = b'\n';
                    written += 2;
                    self.line_start = true;
                    self.after_cr = b == b'\r';
                }
                b'.' if self.line_start => {
                    out[written] = b'.';
                    out[written + 1] = b'.';
                    written += 2;
                    self.line_start = false;
                }
                _ => {
                    out[written] = b;
                    written += 1;
                    self.line_start = false;
                }
            }
        }
        (used, written)
    }

    /// The bytes that end the DATA stream: CRLF if the last line is open,
    /// then `.` CRLF. At most 5 bytes.
    pub fn finish(&self) -> &'static [u8] {
        if self.line_start {
            END_OF_DATA
        } else {
            b"\r\n.\r\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuff(input: &[u8], chunk: usize) -> heapless::Vec<u8, 512> {
        let mut d = DotStuffer::new();
        let mut result = heapless::Vec::new();
        let mut out = [0u8; 7];
        for piece in input.chunks(chunk.max(1)) {
            let mut rest = piece;
            while !rest.is_empty() {
                let (used, written) = d.push(rest, &mut out);
                result.extend_from_slice(&out[..written]).unwrap();
                rest = &rest[used..];
            }
        }
        result.extend_from_slice(d.finish()).unwrap();
        result
    }

    #[test]
    fn stuffs_dots_and_normalises_line_ends_in_any_chunking() {
        let input = b".start\nmid.dle\r\n..two\r.\rlast";
        let want = b"..start\r\nmid.dle\r\n...two\r\n..\r\nlast\r\n.\r\n";
        for chunk in 1..=input.len() {
            assert_eq!(&stuff(input, chunk)[..], &want[..], "chunk {chunk}");
        }
    }

    #[test]
    fn a_lone_dot_line_cannot_end_the_mail() {
        assert_eq!(&stuff(b"a\r\n.\r\nb\r\n", 3)[..], b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(&stuff(b"", 1)[..], b".\r\n");
        assert_eq!(&stuff(b"\r\n\r\n", 1)[..], b"\r\n\r\n.\r\n");
    }
}
