//! Text from the network, made safe to print: a peer must not be able to
//! write escape sequences to a user's terminal or a board's UART log
//! (clear the screen, retitle the window, fake earlier output).

use core::fmt;

/// Displays a string with every control character except TAB escaped as
/// `\xNN`: C0 (`\x1b` for ESC, `\x0d`, `\x0a`), DEL and the C1 range
/// (`\x9b`; some terminals obey C1 too). Everything else, backslashes
/// included, is written as is. RAM: one reference.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| c.is_control() && c != '\t') {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\0');
            // Control characters are all below U+00A0: two hex digits.
            let n = usize::from(c as u8);
            let esc = [b'\\', b'x', HEX[n >> 4], HEX[n & 15]];
            f.write_str(core::str::from_utf8(&esc).unwrap_or("?"))?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    fn shown(s: &str) -> heapless::String<128> {
        let mut out = heapless::String::new();
        write!(out, "{}", Escaped(s)).unwrap();
        out
    }

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(shown("plain text é 測試"), "plain text é 測試");
        assert_eq!(shown("\x1b[2Jgone"), "\\x1b[2Jgone");
        assert_eq!(shown("a\tb\r\nc\0\x7f"), "a\tb\\x0d\\x0ac\\x00\\x7f");
        assert_eq!(shown("\u{9b}2J é\u{85}"), "\\x9b2J é\\x85");
        assert_eq!(shown("back\\slash"), "back\\slash");
        assert_eq!(shown(""), "");
    }
}
