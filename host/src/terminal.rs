//! Bytes from the network on a person's terminal: a peer must not be able
//! to move the cursor, clear the screen, retitle the window or forge what
//! looks like another member's line. Pipes get the bytes unchanged.

/// What a control byte is shown as.
const SHOWN_AS: u8 = b'?';

/// Copies `bytes` into `out` for a terminal: C0 controls and DEL become
/// `?`, except TAB, LF, and a CR at the start of a line (the notes' chat
/// server begins each relayed message with one, to write over the
/// `[Me] ` prompt) or right before LF. `line_start` carries whether the
/// previous call ended a line.
pub fn sanitise(bytes: &[u8], line_start: &mut bool, out: &mut Vec<u8>) {
    for (i, &b) in bytes.iter().enumerate() {
        let keep = match b {
            b'\t' | b'\n' => true,
            b'\r' => *line_start || bytes.get(i + 1) == Some(&b'\n'),
            0x00..=0x1f | 0x7f => false,
            _ => true,
        };
        out.push(if keep { b } else { SHOWN_AS });
        *line_start = b == b'\n' || (b == b'\r' && *line_start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(parts: &[&[u8]]) -> Vec<u8> {
        let (mut out, mut start) = (Vec::new(), true);
        for p in parts {
            sanitise(p, &mut start, &mut out);
        }
        out
    }

    #[test]
    fn escapes_are_shown_and_the_prompt_overwrite_kept() {
        assert_eq!(
            shown(&[b"\r[('192.0.2.1', 5)] hi\x1b[2J\x07\n"]),
            b"\r[('192.0.2.1', 5)] hi?[2J?\n"
        );
        // A CR in the middle of a line would let text overwrite the prefix.
        assert_eq!(shown(&[b"a\rforged\n"]), b"a?forged\n");
        // Across reads: a line ending in one read, CR starting the next.
        assert_eq!(shown(&[b"one\n", b"\rtwo\r\n"]), b"one\n\rtwo\r\n");
        assert_eq!(shown(&["你好\t\x7f".as_bytes()]), "你好\t?".as_bytes());
    }
}
