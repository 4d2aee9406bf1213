//! SMTP replies (RFC 5321 4.2): `250-first line`, `250 last line`, each at
//! most 512 bytes with its CRLF. The parser takes bytes as they arrive and
//! yields whole replies; anything malformed or overlong is an error, never
//! a panic and never a guess.

/// Longest reply line, CRLF included (RFC 5321 4.5.3.1.5).
pub const MAX_LINE: usize = 512;
/// Reply text kept for messages (the first line's, cut to this length).
pub const MAX_TEXT: usize = 128;

/// A whole reply: its code and the text of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The first line's text, cut to [`MAX_TEXT`] bytes (lossy UTF-8).
    pub text: heapless::String<MAX_TEXT>,
}

impl Reply {
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

impl core::fmt::Display for Reply {
    /// `554 text`, the text's control characters escaped: it comes from the
    /// server and is printed on terminals and logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.code, crate::escape::Escaped(&self.text))
    }
}

/// Why a reply could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// A line longer than [`MAX_LINE`] bytes.
    LineTooLong,
    /// A line that does not start with three digits and ` `, `-` or CRLF.
    Malformed,
    /// A multi-line reply whose lines carry different codes.
    CodeMismatch,
}

impl core::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ReplyError::LineTooLong => "a reply line is longer than 512 bytes",
            ReplyError::Malformed => "a reply line does not start with a three-digit code",
            ReplyError::CodeMismatch => "a multi-line reply changes its code",
        })
    }
}

/// One line of a reply, as [`ReplyParser::push`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The code.
    pub code: u16,
    /// The text after the code and separator, without CRLF.
    pub text: &'a [u8],
    /// The last line of the reply.
    pub last: bool,
}

/// Parses a code and separator from one line (without its CRLF).
pub fn parse_line(line: &[u8]) -> Result<Line<'_>, ReplyError> {
    let digits = line.get(..3).ok_or(ReplyError::Malformed)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&digits[0]) {
        return Err(ReplyError::Malformed);
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    let (last, text) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, line.get(4..).unwrap_or(&[])),
        Some(b'-') => (false, line.get(4..).unwrap_or(&[])),
        Some(_) => return Err(ReplyError::Malformed),
    };
    Ok(Line { code, text, last })
}

/// Collects reply lines from a byte stream. RAM: 512 + 140 bytes.
#[derive(Debug)]
pub struct ReplyParser {
    line: heapless::Vec<u8, MAX_LINE>,
    /// `line` holds a finished line that was handed out.
    handed_out: bool,
    first: Option<Reply>,
}

impl Default for ReplyParser {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`ReplyParser::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Need more bytes.
    Pending,
    /// A line that is not the last one (for EHLO capabilities).
    Line(Line<'a>),
    /// The last line: the whole reply.
    Done(Reply, Line<'a>),
}

impl ReplyParser {
    /// An empty parser.
    pub const fn new() -> Self {
        Self {
            line: heapless::Vec::new(),
            handed_out: false,
            first: None,
        }
    }

    /// Whether a reply is partly received.
    pub fn in_progress(&self) -> bool {
        (!self.line.is_empty() && !self.handed_out) || self.first.is_some()
    }

    /// Feeds bytes until one line completes. Returns how many bytes were
    /// used and what they made; call again with the rest.
    // Not inlined: smaller in the firmware image (measured).
    #[inline(never)]
    pub fn push<'s>(&'s mut self, input: &[u8]) -> (usize, Result<Parsed<'s>, ReplyError>) {
        if core::mem::take(&mut self.handed_out) {
            self.line.clear();
        }
        let mut used = 0;
        let mut complete = false;
        for &b in input {
            used += 1;
            if self.line.push(b).is_err() {
                self.line.clear();
                self.first = None;
                return (used, Err(ReplyError::LineTooLong));
            }
            if b == b'\n' {
                complete = true;
                break;
            }
        }
        if !complete {
            return (used, Ok(Parsed::Pending));
        }
        // Take the line out, without its CRLF (a bare LF is tolerated).
        let len = self.line.len();
        let end = if len >= 2 && self.line[len - 2] == b'\r' {
            len - 2
        } else {
            len - 1
        };
        self.line.truncate(end);
        let parsed = match parse_line(&self.line) {
            Ok(l) => l,
            Err(e) => {
                self.line.clear();
                self.first = None;
                return (used, Err(e));
            }
        };
        if let Some(first) = &self.first {
            if first.code != parsed.code {
                self.line.clear();
                self.first = None;
                return (used, Err(ReplyError::CodeMismatch));
            }
        } else {
            let mut text = heapless::String::new();
            for ch in core::str::from_utf8(parsed.text)
                .unwrap_or("(not UTF-8)")
                .chars()
            {
                if text.push(ch).is_err() {
                    break;
                }
            }
            self.first = Some(Reply {
                code: parsed.code,
                text,
            });
        }
        // The returned line borrows self.line until the next push.
        self.handed_out = true;
        let last = parsed.last;
        let code = parsed.code;
        let text_start = if self.line.len() > 3 {
            4
        } else {
            self.line.len()
        };
        let line = Line {
            code,
            text: self.line.get(text_start..).unwrap_or(&[]),
            last,
        };
        if last {
            let reply = self.first.take().unwrap_or(Reply {
                code,
                text: heapless::String::new(),
            });
            (used, Ok(Parsed::Done(reply, line)))
        } else {
            (used, Ok(Parsed::Line(line)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &mut ReplyParser, mut input: &[u8]) -> heapless::Vec<(u16, bool), 8> {
        let mut seen = heapless::Vec::new();
        while !input.is_empty() {
            let (used, r) = p.push(input);
            input = &input[used..];
            match r.unwrap() {
                Parsed::Pending => {}
                Parsed::Line(l) => seen.push((l.code, false)).unwrap(),
                Parsed::Done(reply, _) => seen.push((reply.code, true)).unwrap(),
            }
        }
        seen
    }

    #[test]
    fn single_and_multi_line_replies_in_any_chunking() {
        let mut p = ReplyParser::new();
        assert_eq!(&feed(&mut p, b"220 ready\r\n")[..], &[(220, true)]);
        let ehlo = b"250-mail.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n";
        for chunk in 1..ehlo.len() {
            let mut p = ReplyParser::new();
            let mut all = heapless::Vec::<(u16, bool), 8>::new();
            for piece in ehlo.chunks(chunk) {
                all.extend(feed(&mut p, piece));
            }
            assert_eq!(
                &all[..],
                &[(250, false), (250, false), (250, true)],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn the_first_line_text_is_kept() {
        let mut p = ReplyParser::new();
        let (_, r) = p.push(b"535 5.7.8 Authentication credentials invalid\r\n");
        match r.unwrap() {
            Parsed::Done(reply, _) => {
                assert_eq!(reply.code, 535);
                assert_eq!(
                    reply.text.as_str(),
                    "5.7.8 Authentication credentials invalid"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_replies_are_errors() {
        let mut p = ReplyParser::new();
        assert_eq!(p.push(b"hello\r\n").1, Err(ReplyError::Malformed));
        assert_eq!(p.push(b"25 x\r\n").1, Err(ReplyError::Malformed));
        assert_eq!(p.push(b"250x\r\n").1, Err(ReplyError::Malformed));
        assert_eq!(p.push(b"650 x\r\n").1, Err(ReplyError::Malformed));
        let mut p = ReplyParser::new();
        let _ = p.push(b"250-a\r\n");
        assert_eq!(p.push(b"251 b\r\n").1, Err(ReplyError::CodeMismatch));
        let mut p = ReplyParser::new();
        let long = [b'a'; MAX_LINE + 1];
        let mut res = Ok(Parsed::Pending);
        let mut input = &long[..];
        let _ = p.push(b"250 ");
        while !input.is_empty() {
            let (used, r) = p.push(input);
            input = &input[used..];
            if r.is_err() {
                res = r.map(|_| Parsed::Pending);
                break;
            }
        }
        assert_eq!(res, Err(ReplyError::LineTooLong));
        // The limit counts the CRLF: 510 bytes + CRLF is fine.
        let mut p = ReplyParser::new();
        let mut ok = [b'a'; MAX_LINE];
        ok[..4].copy_from_slice(b"250 ");
        ok[MAX_LINE - 2] = b'\r';
        ok[MAX_LINE - 1] = b'\n';
        assert!(matches!(p.push(&ok).1, Ok(Parsed::Done(..))));
    }
}
