//! The request: one line, at most [`MAX_REQUEST`] bytes.
//!
//! A request ends at its first `\n`. The notes' client sends `Hello server!`
//! (or `GET name`) with no line end and waits, so a request without one is
//! also whole when the client half-closes, pauses (the server's
//! `FileTimers::pause`) or lets the request timeout pass; the server decides
//! that ([`is_complete`] only knows the bytes). `GET <name>` names a file,
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

/// Whether `received` already holds a whole request, whatever comes next: a
/// line end, or more than [`MAX_REQUEST`] bytes (an overlong request, refused
/// by [`parse`]). A request split across segments (`GET na`, then `me\n`)
/// is not whole after its first part.
pub fn is_complete(received: &[u8]) -> bool {
    received.len() > MAX_REQUEST || received.contains(&b'\n')
}

/// Parses a whole request (see [`is_complete`]). Returns the request and how many bytes
/// it used (the rest is ignored).
pub fn parse(request: &[u8]) -> Result<(Request<'_>, usize), BadRequest> {
    let (line, used) = match request.iter().position(|&b| b == b'\n') {
        Some(i) if i < MAX_REQUEST => (&request[..i], i + 1),
        Some(_) => return Err(BadRequest::TooLong),
        None if request.len() > MAX_REQUEST => return Err(BadRequest::TooLong),
        None => (request, request.len()),
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
    fn a_request_is_whole_at_its_line_end_or_bound() {
        assert!(!is_complete(b""));
        assert!(!is_complete(b"GET na"));
        assert!(is_complete(b"GET name\n"));
        assert!(!is_complete(b"Hello server!"));
        assert!(!is_complete(&[b'x'; MAX_REQUEST]));
        assert!(is_complete(&[b'x'; MAX_REQUEST + 1]));
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
