//! What a server offers in its EHLO reply.

/// Capabilities from the EHLO reply (RFC 5321 4.1.1.1 and extensions).
/// RAM: 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `SIZE`, with the server's limit (0: no limit stated).
    pub size: Option<u64>,
    /// `8BITMIME`.
    pub eight_bit_mime: bool,
    /// `SMTPUTF8`.
    pub smtputf8: bool,
    /// `PIPELINING`.
    pub pipelining: bool,
    /// `STARTTLS`.
    pub starttls: bool,
    /// `AUTH PLAIN`.
    pub auth_plain: bool,
    /// `AUTH LOGIN`.
    pub auth_login: bool,
}

impl Capabilities {
    /// Records one EHLO line (after the first, which names the server).
    pub fn add_line(&mut self, text: &[u8]) {
        let mut words = text
            .split(|&b| b == b' ' || b == b'=')
            .filter(|w| !w.is_empty());
        let Some(keyword) = words.next() else { return };
        let is = |name: &str| keyword.eq_ignore_ascii_case(name.as_bytes());
        if is("SIZE") {
            let limit = words.next().and_then(parse_u64).unwrap_or(0);
            self.size = Some(limit);
        } else if is("8BITMIME") {
            self.eight_bit_mime = true;
        } else if is("SMTPUTF8") {
            self.smtputf8 = true;
        } else if is("PIPELINING") {
            self.pipelining = true;
        } else if is("STARTTLS") {
            self.starttls = true;
        } else if is("AUTH") {
            for mech in words {
                self.auth_plain |= mech.eq_ignore_ascii_case(b"PLAIN");
                self.auth_login |= mech.eq_ignore_ascii_case(b"LOGIN");
            }
        }
    }
}

/// `w` as `u64`, accepting what `str::parse::<u64>` accepts (ASCII digits,
/// an optional leading `+`, no overflow); a small loop instead of the
/// standard library's general parser.
fn parse_u64(w: &[u8]) -> Option<u64> {
    let digits = w.strip_prefix(b"+").unwrap_or(w);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_u64_agrees_with_str_parse() {
        for w in [
            "",
            "+",
            "-",
            "0",
            "+0",
            "-0",
            "007",
            "+42",
            "++1",
            "1+",
            "12a",
            " 1",
            "1 ",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "+18446744073709551615",
            "٣",
            "1_000",
        ] {
            assert_eq!(parse_u64(w.as_bytes()), w.parse::<u64>().ok(), "{w:?}");
        }
        assert_eq!(parse_u64(b"\xff1"), None);
    }

    #[test]
    fn reads_the_usual_lines() {
        let mut c = Capabilities::default();
        for line in [
            &b"SIZE 33554432"[..],
            b"8BITMIME",
            b"smtputf8",
            b"PIPELINING",
            b"STARTTLS",
            b"AUTH LOGIN PLAIN",
            b"HELP",
        ] {
            c.add_line(line);
        }
        assert_eq!(c.size, Some(33_554_432));
        assert!(
            c.eight_bit_mime
                && c.smtputf8
                && c.pipelining
                && c.starttls
                && c.auth_plain
                && c.auth_login
        );
        let mut old = Capabilities::default();
        old.add_line(b"AUTH=LOGIN");
        old.add_line(b"SIZE");
        assert!(old.auth_login && !old.auth_plain);
        assert_eq!(old.size, Some(0));
        let mut junk = Capabilities::default();
        junk.add_line(b"");
        junk.add_line(b"SIZE nonsense");
        assert_eq!(junk.size, Some(0));
    }
}
