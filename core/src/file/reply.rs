//! The server's `ERR` lines, and how a client tells one from a file.
//!
//! The notes' protocol has no status: the bytes until the close are the
//! file. Minnow's server answers a refused request with one short line
//! `ERR <reason>\n`; a client that sent `GET` treats a whole reply that is
//! exactly such a line as an error (a file whose entire content is an ERR
//! line is the one thing this protocol cannot carry).

/// Why the server refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrReply {
    /// No such file (or a name that is refused: the server does not say which).
    NotFound,
    /// The request was longer than allowed.
    TooLong,
    /// No request within the request timeout.
    Timeout,
    /// The server has no default file.
    NoDefault,
}

impl ErrReply {
    /// The line sent to the client.
    pub fn line(&self) -> &'static [u8] {
        match self {
            ErrReply::NotFound => b"ERR not found\n",
            ErrReply::TooLong => b"ERR request too long\n",
            ErrReply::Timeout => b"ERR timeout\n",
            ErrReply::NoDefault => b"ERR no default file\n",
        }
    }
}

/// Longest ERR line a client recognises.
pub const MAX_ERR_LINE: usize = 128;

/// If `whole_reply` is one `ERR ...\n` line, its text after `ERR `.
pub fn as_error(whole_reply: &[u8]) -> Option<&str> {
    if whole_reply.len() > MAX_ERR_LINE {
        return None;
    }
    let text = whole_reply.strip_prefix(b"ERR ")?.strip_suffix(b"\n")?;
    if text.contains(&b'\n') {
        return None;
    }
    core::str::from_utf8(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_err_line_is_recognised() {
        for e in [
            ErrReply::NotFound,
            ErrReply::TooLong,
            ErrReply::Timeout,
            ErrReply::NoDefault,
        ] {
            assert!(as_error(e.line()).is_some(), "{e:?}");
        }
        assert_eq!(as_error(b"ERR not found\n"), Some("not found"));
    }

    #[test]
    fn files_are_not_errors() {
        assert_eq!(as_error(b""), None);
        assert_eq!(as_error(b"ERR not found"), None);
        assert_eq!(as_error(b"ERR a\nERR b\n"), None);
        assert_eq!(as_error(b"hello\n"), None);
        let mut long = [b'x'; 200];
        long[..4].copy_from_slice(b"ERR ");
        long[199] = b'\n';
        assert_eq!(as_error(&long), None);
    }
}
