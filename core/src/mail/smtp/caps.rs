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
            let limit = words
                .next()
                .and_then(|w| core::str::from_utf8(w).ok())
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::*;

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
