//! Text from the network, made safe to print: a peer must not be able to
//! write escape sequences to a user's terminal or a board's UART log
//! (clear the screen, retitle the window, fake earlier output).

use core::fmt;

/// Displays a string with every control character except TAB escaped:
/// C0 (`\x1b` for ESC, `\r`, `\n`), DEL and the C1 range, written as
/// `\xNN` (`\u{NN}` for C1, which some terminals also obey). Everything
/// else, backslashes included, is written as is. RAM: one reference.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for run in self
            .0
            .split_inclusive(|c: char| c.is_control() && c != '\t')
        {
            let mut chars = run.chars();
            match chars.next_back() {
                Some(c) if c.is_control() && c != '\t' => {
                    f.write_str(chars.as_str())?;
                    let n = u32::from(c);
                    if n < 0x80 {
                        write!(f, "\\x{n:02x}")?;
                    } else {
                        write!(f, "\\u{{{n:x}}}")?;
                    }
                }
                _ => f.write_str(run)?,
            }
        }
        Ok(())
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
        assert_eq!(shown("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(shown("back\\slash"), "back\\slash");
        assert_eq!(shown(""), "");
    }
}
