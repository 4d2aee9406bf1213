//! Cutting a client's byte stream into the pieces the room broadcasts: a
//! line ends with `\n`; a line longer than the bound goes out in
//! bound-sized pieces; what is left when the client closes goes out as is.
//! Bytes pass through unchanged, UTF-8 or not, except for the terminal
//! controls [`neutralise`] replaces.

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

/// What a control byte becomes in relayed text.
pub const REPLACEMENT: u8 = b'?';

/// Replaces, in place, the bytes of a piece that would let one member
/// write on the others' terminals: C0 controls other than TAB and the
/// piece's closing line end (`\n`, or `\r\n`), and DEL. Without them no
/// member can return to the start of a line to forge another member's
/// `[('IP', PORT)]` prefix or a join or offline notice, nor send ESC
/// sequences to everyone. UTF-8 text is untouched (its bytes are all
/// 0x80 or above). Returns how many bytes were replaced.
pub fn neutralise(piece: &mut [u8]) -> usize {
    let len = piece.len();
    let mut replaced = 0;
    for (i, b) in piece.iter_mut().enumerate() {
        let line_end = (*b == b'\n' && i + 1 == len) || (*b == b'\r' && i + 2 == len);
        if (*b < 0x20 && *b != b'\t' && !line_end) || *b == 0x7f {
            *b = REPLACEMENT;
            replaced += 1;
        }
    }
    // A lone CR before the end is only a line end when LF follows it.
    if len >= 2 && piece[len - 2] == b'\r' && piece[len - 1] != b'\n' {
        piece[len - 2] = REPLACEMENT;
        replaced += 1;
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_replaced_but_text_tabs_and_line_ends_stay() {
        let mut forged = *b"hi\r[('10.0.0.9', 4444)] fake\n";
        assert_eq!(neutralise(&mut forged), 1);
        assert_eq!(&forged, b"hi?[('10.0.0.9', 4444)] fake\n");
        let mut esc = *b"\x1b[2J\x1b]0;title\x07\x7f\tok\r\n";
        assert_eq!(neutralise(&mut esc), 4);
        assert_eq!(&esc, b"?[2J?]0;title??\tok\r\n");
        let mut utf8 = "你好 ok\n".as_bytes().to_vec();
        assert_eq!(neutralise(&mut utf8), 0);
        assert_eq!(utf8, "你好 ok\n".as_bytes());
        // A piece cut at the bound, or left at close, has no line end.
        let mut cut = *b"ab\r\x00";
        assert_eq!(neutralise(&mut cut), 2);
        assert_eq!(&cut, b"ab??");
        let mut inner = *b"a\nb\n";
        neutralise(&mut inner);
        assert_eq!(&inner, b"a?b\n");
    }

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
