//! The request: one line or one segment, at most [`MAX_REQUEST`] bytes.
//!
//! The notes' client sends `Hello server!` with no line end and the notes'
//! server reads once; so a request ends at the first `\n`, or with the bytes
//! of the first read when they hold no `\n`. `GET <name>` names a file,
//! anything else asks for the default file.

use super::name::{self, BadName};

/// Longest request, bytes.
pub const MAX_REQUEST: usize = 256;

/// What a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// The server's default file.
    Default,
    /// A named file (already checked by [`name::validate`]).
    Named(&'a str),
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRequest {
    /// More than [`MAX_REQUEST`] bytes without a line end.
    TooLong,
    /// `GET` with a name that is refused.
    Name(BadName),
}

/// Parses the bytes of a first read. Returns the request and how many bytes
/// it used (the rest is ignored).
pub fn parse(first: &[u8]) -> Result<(Request<'_>, usize), BadRequest> {
    let (line, used) = match first.iter().position(|&b| b == b'\n') {
        Some(i) if i < MAX_REQUEST => (&first[..i], i + 1),
        Some(_) => return Err(BadRequest::TooLong),
        None if first.len() > MAX_REQUEST => return Err(BadRequest::TooLong),
        None => (first, first.len()),
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.strip_prefix(b"GET ") {
        Some(raw) => Ok((
            Request::Named(name::validate(raw).map_err(BadRequest::Name)?),
            used,
        )),
        None => Ok((Request::Default, used)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_greeting_asks_for_the_default_file() {
        assert_eq!(parse(b"Hello server!"), Ok((Request::Default, 13)));
        assert_eq!(parse(b""), Ok((Request::Default, 0)));
        assert_eq!(parse(&[0, 1, 2, 0xff]), Ok((Request::Default, 4)));
        assert_eq!(parse(b"get x\n"), Ok((Request::Default, 6)));
    }

    #[test]
    fn get_names_a_file_with_or_without_line_end() {
        assert_eq!(parse(b"GET a.txt"), Ok((Request::Named("a.txt"), 9)));
        assert_eq!(parse(b"GET a.txt\n"), Ok((Request::Named("a.txt"), 10)));
        assert_eq!(
            parse(b"GET a.txt\r\nmore"),
            Ok((Request::Named("a.txt"), 11))
        );
    }

    #[test]
    fn bad_requests() {
        assert_eq!(
            parse(b"GET ../x\n"),
            Err(BadRequest::Name(BadName::Traversal))
        );
        assert_eq!(parse(b"GET \n"), Err(BadRequest::Name(BadName::Empty)));
        assert_eq!(
            parse(b"GET a\0b"),
            Err(BadRequest::Name(BadName::ControlChar))
        );
        assert_eq!(parse(&[b'x'; MAX_REQUEST + 1]), Err(BadRequest::TooLong));
        let mut long = [b'x'; MAX_REQUEST + 5];
        long[MAX_REQUEST + 2] = b'\n';
        assert_eq!(parse(&long), Err(BadRequest::TooLong));
        assert!(parse(&[b'x'; MAX_REQUEST]).is_ok());
    }
}
