//! Cutting a client's byte stream into the pieces the room broadcasts: a
//! line ends with `\n`; a line longer than the bound goes out in
//! bound-sized pieces; what is left when the client closes goes out as is.
//! Bytes pass through unchanged, UTF-8 or not.

/// How many of the bytes `pending` (the start of what a client sent, at most
/// `bound` of them) form the next piece, or `None` to wait for more.
/// `closed`: the client sent FIN, so no more bytes will come.
pub fn next_piece(pending: &[u8], bound: usize, closed: bool) -> Option<usize> {
    let window = pending.get(..bound.min(pending.len())).unwrap_or(pending);
    if let Some(i) = window.iter().position(|&b| b == b'\n') {
        return Some(i + 1);
    }
    if bound > 0 && window.len() >= bound {
        return Some(bound);
    }
    (closed && !window.is_empty()).then_some(window.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_pieces_and_leftovers() {
        assert_eq!(next_piece(b"hello\nworld", 1024, false), Some(6));
        assert_eq!(next_piece(b"\n", 1024, false), Some(1));
        assert_eq!(next_piece(b"partial", 1024, false), None);
        assert_eq!(next_piece(b"partial", 1024, true), Some(7));
        assert_eq!(next_piece(b"", 1024, true), None);
        assert_eq!(next_piece(&[b'x'; 10], 4, false), Some(4));
        assert_eq!(next_piece(b"abcd\n", 4, false), Some(4));
        assert_eq!(next_piece(b"abc\n", 4, false), Some(4));
        assert_eq!(next_piece(&[0xff, 0xfe, b'\n'], 8, false), Some(3));
    }
}
