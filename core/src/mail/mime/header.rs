//! Header material: addresses, the envelope, validation, RFC 2047 encoded
//! words, RFC 2231 parameter values and the RFC 5322 date.
//!
//! Every header line the composer writes is folded (CRLF SP) to at most 76
//! characters where white space allows, and can never exceed 998: the only
//! unbreakable tokens are an address (at most 254 bytes, checked), a plain
//! subject word or display-name atom (at most 76, otherwise encoded), a
//! quoted display name or a piece of one between spaces (at most 60
//! characters before escaping, otherwise encoded), an encoded word (at
//! most 75), a plain file name (at most 200, otherwise RFC 2231) and a
//! content type (at most 255).

use crate::time::ctime;

use super::stage::Stage;
use super::{ComposeError, Field};

/// Target length of a folded header line (RFC 2047's limit for lines with
/// encoded words; RFC 5322 asks for 78).
pub(crate) const FOLD: usize = 76;
/// Longest address (RFC 5321's 256-byte path less the angle brackets).
pub const MAX_ADDR: usize = 254;
/// Longest ASCII display name written as it is (else encoded words).
pub(crate) const NAME_PLAIN_MAX: usize = 60;
/// Longest subject word written as it is (else the subject is encoded).
pub(crate) const SUBJECT_WORD_MAX: usize = 76;
/// Longest file name written as a plain quoted string (else RFC 2231).
pub(crate) const FILENAME_PLAIN_MAX: usize = 200;
/// Longest file name accepted, in bytes.
pub const MAX_FILENAME: usize = 255;
/// Longest content type accepted, in bytes.
pub const MAX_CONTENT_TYPE: usize = 255;
/// Length of an RFC 5322 date as written: `Tue, 04 Apr 2017 14:07:31 +0000`.
pub const DATE_LEN: usize = 31;

/// A mailbox: an optional display name and an address.
///
/// The address must be plain ASCII `local@domain`: a dot-atom local part
/// (at most 64 bytes, no `=?`), a domain name or `[literal]`, at most 254
/// bytes in all. The name may be any text but CR, LF and other controls
/// (TAB is fine). Printable ASCII names go as they are, quoted when they
/// hold specials such as `,` or `.` (`"Smith, John" <j@example.com>`),
/// folded at spaces when long; other names as RFC 2047 encoded words, e.g.
/// `=?UTF-8?B?5a245paH?= <hwtseng@nchu.edu.tw>` (one word for names up to
/// 45 bytes). An empty name counts as none.
///
/// RAM: 16 bytes on a 32-bit target (32 on 64-bit), both strings borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address<'a> {
    /// Display name.
    pub name: Option<&'a str>,
    /// `local@domain`.
    pub addr: &'a str,
}

impl<'a> Address<'a> {
    /// An address without a display name.
    pub const fn new(addr: &'a str) -> Self {
        Self { name: None, addr }
    }

    /// An address with a display name.
    pub const fn named(name: &'a str, addr: &'a str) -> Self {
        Self {
            name: Some(name),
            addr,
        }
    }

    /// The display name, `None` if absent or empty.
    pub(crate) fn display_name(&self) -> Option<&'a str> {
        self.name.filter(|n| !n.is_empty())
    }

    fn check_injection(&self, field: Field) -> Result<(), ComposeError> {
        check_injection(self.addr, field)?;
        check_injection(self.name.unwrap_or(""), field)
    }

    fn check_rest(&self, field: Field) -> Result<(), ComposeError> {
        check_controls(self.addr, field)?;
        check_controls(self.name.unwrap_or(""), field)?;
        if is_addr_spec(self.addr) {
            Ok(())
        } else {
            Err(ComposeError::InvalidAddress(field))
        }
    }

    /// Checks the address and name as the composer does; `field` names
    /// them in the error.
    pub fn validate(&self, field: Field) -> Result<(), ComposeError> {
        self.check_injection(field)?;
        self.check_rest(field)
    }
}

/// The Message-ID: written `<{unique:016x}.{date_unix}@{domain}>`.
///
/// RAM: 8 bytes + a `&str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageId<'a> {
    /// A number unique to this message (random, or a counter).
    pub unique: u64,
    /// The sender's domain (a domain name or `[literal]`).
    pub domain: &'a str,
}

/// The message's header fields.
///
/// `To` and `Cc` are written only when not empty (a message for Bcc
/// recipients only has neither). The date is seconds since 1970 UTC,
/// written in UTC (`+0000`). The subject may be any text but CR, LF and
/// other controls (TAB is fine): ASCII stays as it is, folded at spaces;
/// anything else (non-ASCII, TAB, a word over 76 characters, leading,
/// trailing or doubled spaces, or a `=?` that a reader could take for an
/// encoded word) makes the whole subject RFC 2047 encoded words, so it
/// arrives exactly as given.
///
/// RAM: 64 bytes on a 32-bit target (112 on 64-bit); the strings and
/// address lists are borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The author.
    pub from: Address<'a>,
    /// Primary recipients.
    pub to: &'a [Address<'a>],
    /// Copied recipients.
    pub cc: &'a [Address<'a>],
    /// The subject.
    pub subject: &'a str,
    /// Seconds since 1970-01-01 00:00:00 UTC (at most year 9999).
    pub date_unix: u64,
    /// The Message-ID.
    pub message_id: MessageId<'a>,
}

impl Envelope<'_> {
    /// Checks every field: first every text for CR/LF
    /// ([`ComposeError::HeaderInjection`]), then controls, address syntax,
    /// the Message-ID domain and the date.
    pub fn validate(&self) -> Result<(), ComposeError> {
        self.check_injection()?;
        self.check_rest()
    }

    pub(crate) fn check_injection(&self) -> Result<(), ComposeError> {
        self.from.check_injection(Field::From)?;
        for (i, a) in self.to.iter().enumerate() {
            a.check_injection(Field::To(i))?;
        }
        for (i, a) in self.cc.iter().enumerate() {
            a.check_injection(Field::Cc(i))?;
        }
        check_injection(self.subject, Field::Subject)?;
        check_injection(self.message_id.domain, Field::MessageId)
    }

    pub(crate) fn check_rest(&self) -> Result<(), ComposeError> {
        self.from.check_rest(Field::From)?;
        for (i, a) in self.to.iter().enumerate() {
            a.check_rest(Field::To(i))?;
        }
        for (i, a) in self.cc.iter().enumerate() {
            a.check_rest(Field::Cc(i))?;
        }
        check_controls(self.subject, Field::Subject)?;
        check_controls(self.message_id.domain, Field::MessageId)?;
        if !is_domain(self.message_id.domain) {
            return Err(ComposeError::InvalidMessageId);
        }
        format_date(self.date_unix, &mut [0; DATE_LEN])
    }
}

/// CR or LF anywhere: [`ComposeError::HeaderInjection`].
pub(crate) fn check_injection(s: &str, field: Field) -> Result<(), ComposeError> {
    if s.bytes().any(|b| b == b'\r' || b == b'\n') {
        Err(ComposeError::HeaderInjection(field))
    } else {
        Ok(())
    }
}

/// Another C0 control (TAB aside) or DEL: [`ComposeError::ControlCharacter`].
pub(crate) fn check_controls(s: &str, field: Field) -> Result<(), ComposeError> {
    if s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        Err(ComposeError::ControlCharacter(field))
    } else {
        Ok(())
    }
}

/// RFC 5322 `atext`.
pub(crate) const fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        )
}

/// Whether `s` holds the two bytes `pair` next to each other (a byte
/// window: smaller in the image than `str::contains`' substring search).
pub(crate) fn has_pair(s: &str, pair: [u8; 2]) -> bool {
    s.as_bytes().windows(2).any(|w| w == pair)
}

/// Whether every word of `s` (between single spaces) is at most `max` bytes.
fn words_fit(s: &str, max: usize) -> bool {
    s.as_bytes().split(|&b| b == b' ').all(|w| w.len() <= max)
}

fn is_dot_atom(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !has_pair(s, *b"..")
        && s.bytes().all(|b| is_atext(b) || b == b'.')
}

/// Whether `addr` is an address the composer accepts: ASCII
/// `local@domain`, dot-atom local part of at most 64 bytes without `=?`,
/// a domain per [`is_domain`], at most [`MAX_ADDR`] bytes.
pub fn is_addr_spec(addr: &str) -> bool {
    let Some(at) = addr.bytes().rposition(|b| b == b'@') else {
        return false;
    };
    let (Some(local), Some(domain)) = (addr.get(..at), addr.get(at + 1..)) else {
        return false;
    };
    addr.len() <= MAX_ADDR
        && is_dot_atom(local, 64)
        && !has_pair(local, *b"=?")
        && is_domain(domain)
}

/// Whether `d` is a domain name (labels of letters, digits and inner `-`,
/// 1 to 63 bytes each, at most 253 bytes) or a literal such as
/// `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
pub fn is_domain(d: &str) -> bool {
    if d.len() > 253 {
        return false;
    }
    if let Some(inner) = d.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b':');
    }
    !d.is_empty()
        && d.as_bytes().split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-')
                && label
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        })
}

/// Writes `unix_secs` as an RFC 5322 date in UTC:
/// `Tue, 04 Apr 2017 14:07:31 +0000`.
pub fn format_date(unix_secs: u64, out: &mut [u8; DATE_LEN]) -> Result<(), ComposeError> {
    let mut c = [0u8; ctime::CTIME_LEN];
    // "Tue Apr  4 14:07:31 2017"
    ctime::format(unix_secs, &mut c).map_err(|_| ComposeError::DateOutOfRange)?;
    let day_tens = if c[8] == b' ' { b'0' } else { c[8] };
    *out = [
        c[0], c[1], c[2], b',', b' ', day_tens, c[9], b' ', c[4], c[5], c[6], b' ', c[20], c[21],
        c[22], c[23], b' ', c[11], c[12], c[13], c[14], c[15], c[16], c[17], c[18], b' ', b'+',
        b'0', b'0', b'0', b'0',
    ];
    Ok(())
}

/// How a display name is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameForm {
    /// Atoms separated by single spaces, as they are, folded at the spaces.
    Atoms,
    /// One quoted string with `"` and `\` escaped (at most 60 characters).
    Quoted,
    /// A longer quoted string, folded at its (single) spaces.
    QuotedSplit,
    /// RFC 2047 encoded words.
    Encoded,
}

/// Picks the form that a reader (RFC 5322, and Python's `email`) gives
/// back exactly:
/// - printable ASCII (and TAB) without `=?` (which readers, Python's
///   included, may decode even inside quotes): atoms if it is atoms and
///   single spaces, else a quoted string (whose white space readers keep);
/// - anything else: encoded words. A name of at most 45 bytes is always
///   one encoded word (the reader's result is then exact); a longer name
///   needs several, and Python's reader (unlike RFC 2047) puts a space
///   between adjacent encoded words in a display name. Python also
///   collapses runs of white space decoded from an encoded word.
pub(crate) fn name_form(name: &str) -> NameForm {
    // TAB is fine in a quoted string (readers keep it; from an encoded
    // word Python makes it a space).
    if !name
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) || b == b'\t')
        || has_pair(name, *b"=?")
    {
        return NameForm::Encoded;
    }
    let single_spaced = !name.starts_with(' ') && !name.ends_with(' ') && !has_pair(name, *b"  ");
    if single_spaced
        && name.bytes().all(|b| is_atext(b) || b == b' ')
        && words_fit(name, SUBJECT_WORD_MAX)
    {
        NameForm::Atoms
    } else if name.len() <= NAME_PLAIN_MAX {
        NameForm::Quoted
    } else if single_spaced && words_fit(name, QUOTED_PIECE_MAX) {
        NameForm::QuotedSplit
    } else {
        NameForm::Encoded
    }
}

/// Longest piece (between spaces) of a folded quoted name.
pub(crate) const QUOTED_PIECE_MAX: usize = 40;

/// Writes `piece` quoted-string style (`"` and `\` escaped), with the
/// opening and closing quotes if asked.
pub(crate) fn push_quoted(piece: &str, open: bool, close: bool, out: &mut Stage) {
    if open {
        out.push(b"\"");
    }
    for b in piece.bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b"\\");
        }
        out.push(&[b]);
    }
    if close {
        out.push(b"\"");
    }
}

/// Length of [`push_quoted`]'s output.
pub(crate) fn quoted_len(piece: &str, open: bool, close: bool) -> usize {
    usize::from(open)
        + usize::from(close)
        + piece.len()
        + piece.bytes().filter(|&b| b == b'"' || b == b'\\').count()
}

/// Whether the subject can go as plain folded text (see [`Envelope`]).
pub(crate) fn subject_is_plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !has_pair(s, *b"=?")
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !has_pair(s, *b"  ")
        && words_fit(s, SUBJECT_WORD_MAX)
}

/// `=?UTF-8?B?` + `?=`.
const EW_OVERHEAD: usize = 12;
/// Most bytes in one encoded word: 45 → 60 base64 characters → a 72
/// character word (RFC 2047 allows 75).
pub(crate) const EW_MAX_BYTES: usize = 45;

/// How many bytes of `text` (whole UTF-8 characters) fit an encoded word of
/// at most `room` characters. 0 if not even one character fits.
pub(crate) fn ew_take(text: &str, room: usize) -> usize {
    let b64 = room.saturating_sub(EW_OVERHEAD) / 4;
    let mut n = (b64 * 3).min(EW_MAX_BYTES).min(text.len());
    while n > 0 && !text.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Length of the encoded word for `n` bytes.
pub(crate) const fn ew_len(n: usize) -> usize {
    EW_OVERHEAD + n.div_ceil(3) * 4
}

/// Writes `=?UTF-8?B?...?=` for `chunk` (at most [`EW_MAX_BYTES`]).
pub(crate) fn push_encoded_word(chunk: &[u8], out: &mut Stage) {
    out.push(b"=?UTF-8?B?");
    out.push_base64(chunk.get(..EW_MAX_BYTES).unwrap_or(chunk));
    out.push(b"?=");
}

/// Whether the file name can go as `filename="..."`.
pub(crate) fn filename_is_plain(s: &str) -> bool {
    s.len() <= FILENAME_PLAIN_MAX
        && s.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
        && !has_pair(s, *b"=?")
}

/// RFC 2231 `attribute-char`: sent as it is in an extended value.
const fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'&'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        )
}

/// Characters of `bytes` percent-encoded.
pub(crate) fn pct_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| if is_attr_char(b) { 1 } else { 3 })
        .sum()
}

/// How many bytes of `text` (whole characters) percent-encode into at most
/// `max` characters; at least one character when `max` ≥ 12.
pub(crate) fn pct_take(text: &str, max: usize) -> usize {
    let mut used = 0;
    let mut taken = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let cost = pct_len(text.as_bytes().get(i..end).unwrap_or(&[]));
        if used + cost > max {
            break;
        }
        used += cost;
        taken = end;
    }
    taken
}

/// Writes `bytes` percent-encoded.
pub(crate) fn push_pct(bytes: &[u8], out: &mut Stage) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_attr_char(b) {
            out.push(&[b]);
        } else {
            out.push(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
    }
}

/// Checks an attachment's file name and content type.
pub(crate) fn check_attachment(
    filename: &str,
    content_type: &str,
    index: usize,
) -> Result<(), ComposeError> {
    check_controls(filename, Field::Attachment(index))?;
    check_controls(content_type, Field::Attachment(index))?;
    if filename.is_empty()
        || filename.len() > MAX_FILENAME
        || filename.bytes().any(|b| b == b'/' || b == b'\\')
    {
        return Err(ComposeError::InvalidFilename(index));
    }
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    let slash = content_type.bytes().position(|b| b == b'/');
    let split = slash.and_then(|i| Some((content_type.get(..i)?, content_type.get(i + 1..)?)));
    match split {
        Some((ty, sub)) if content_type.len() <= MAX_CONTENT_TYPE && token(ty) && token(sub) => {
            Ok(())
        }
        _ => Err(ComposeError::InvalidContentType(index)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let mut d = [0u8; DATE_LEN];
        format_date(1_491_314_851, &mut d).unwrap();
        assert_eq!(&d, b"Tue, 04 Apr 2017 14:07:31 +0000");
        format_date(0, &mut d).unwrap();
        assert_eq!(&d, b"Thu, 01 Jan 1970 00:00:00 +0000");
        format_date(253_402_300_799, &mut d).unwrap();
        assert_eq!(&d, b"Fri, 31 Dec 9999 23:59:59 +0000");
        assert_eq!(
            format_date(253_402_300_800, &mut d),
            Err(ComposeError::DateOutOfRange)
        );
        format_date(951_782_400 + 86_399, &mut d).unwrap();
        assert_eq!(&d, b"Tue, 29 Feb 2000 23:59:59 +0000");
    }

    #[test]
    fn addresses() {
        for good in [
            "a@b",
            "hwtseng@cs.nchu.edu.tw",
            "first.last+tag@example.com",
            "o'brien@example.org",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "x@localhost",
            "a_b-c@x-y.example",
        ] {
            assert!(is_addr_spec(good), "{good}");
        }
        let long_local = "a".repeat(65) + "@example.com";
        let long = "a@".to_string() + &"b.".repeat(130) + "c";
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a b@c",
            "a@b c",
            "<a@b>",
            "a,b@c",
            "a@b,c",
            ".a@b",
            "a.@b",
            "a..b@c",
            "a@-b",
            "a@b-",
            "a@b..c",
            "a@.b",
            "a@b.",
            "\"q\"@b",
            "測試@example.com",
            "a@例子.com",
            "=?utf-8?q?x?=@b",
            "a@[]",
            "a@[1.2.3.4",
            long_local.as_str(),
            long.as_str(),
        ] {
            assert!(!is_addr_spec(bad), "{bad}");
        }
    }

    extern crate std;
    use std::string::ToString;

    #[test]
    fn name_forms() {
        assert_eq!(name_form("John Smith"), NameForm::Atoms);
        assert_eq!(name_form("O'Brien"), NameForm::Atoms);
        assert_eq!(name_form(&"n".repeat(76)), NameForm::Atoms);
        assert_eq!(name_form("n ".repeat(100).trim_end()), NameForm::Atoms);
        assert_eq!(name_form("Smith, John"), NameForm::Quoted);
        assert_eq!(name_form("J. \"Q\" Public"), NameForm::Quoted);
        assert_eq!(name_form(" lead"), NameForm::Quoted);
        assert_eq!(name_form("two  spaces"), NameForm::Quoted);
        assert_eq!(name_form(&"n".repeat(77)), NameForm::Encoded);
        assert_eq!(
            name_form("n, ".repeat(30).trim_end()),
            NameForm::QuotedSplit
        );
        assert_eq!(name_form(&"n.".repeat(30)), NameForm::Quoted);
        assert_eq!(name_form(&"n.".repeat(31)), NameForm::Encoded);
        assert_eq!(name_form(&"n, ".repeat(30)), NameForm::Encoded);
        assert_eq!(name_form("學文"), NameForm::Encoded);
        assert_eq!(name_form("=?x?="), NameForm::Encoded);
        assert_eq!(name_form("tab\there"), NameForm::Quoted);
        assert_eq!(name_form("tab\there 測"), NameForm::Encoded);
        assert_eq!(quoted_len("a\"b\\c", true, true), 9);
        assert_eq!(quoted_len("a\"b\\c", false, true), 8);
        let mut s = Stage::new();
        push_quoted("a\"b\\c", true, true, &mut s);
        assert_eq!(s.as_slice(), b"\"a\\\"b\\\\c\"");
    }

    #[test]
    fn encoded_words_never_split_characters() {
        let text = "測試郵件";
        // 3-byte characters: 45 bytes fit a full word, 12 of them here.
        assert_eq!(ew_take(text, 75), 12);
        assert_eq!(ew_take(text, 12 + 4), 3);
        assert_eq!(ew_take(text, 12 + 3), 0);
        assert_eq!(ew_take("a測", 12 + 4), 1);
        assert_eq!(ew_take("ab", 0), 0);
        let long = "x".repeat(100);
        assert_eq!(ew_take(&long, 75), EW_MAX_BYTES);
        assert_eq!(ew_len(45), 72);
        let mut s = Stage::new();
        push_encoded_word(text.as_bytes(), &mut s);
        assert_eq!(s.as_slice(), b"=?UTF-8?B?5ris6Kmm6YO15Lu2?=");
    }

    #[test]
    fn percent_encoding() {
        assert_eq!(pct_take("測試.txt", 18), 6);
        assert_eq!(pct_take("測試.txt", 17), 3);
        assert_eq!(pct_take("測試.txt", 8), 0);
        assert_eq!(pct_take("a b", 3), 1);
        let mut s = Stage::new();
        push_pct("測 a'%*\"x.pdf".as_bytes(), &mut s);
        assert_eq!(s.as_slice(), b"%E6%B8%AC%20a%27%25%2A%22x.pdf");
        assert_eq!(pct_len("測 a".as_bytes()), 13);
    }

    #[test]
    fn attachments() {
        assert!(check_attachment("a.pdf", "application/pdf", 0).is_ok());
        assert!(check_attachment("測試.txt", "text/plain", 0).is_ok());
        assert!(check_attachment("q\"uote.txt", "text/plain", 0).is_ok());
        assert_eq!(
            check_attachment("", "text/plain", 1),
            Err(ComposeError::InvalidFilename(1))
        );
        assert_eq!(
            check_attachment("../x", "text/plain", 1),
            Err(ComposeError::InvalidFilename(1))
        );
        assert_eq!(
            check_attachment("a\0b", "text/plain", 2),
            Err(ComposeError::ControlCharacter(Field::Attachment(2)))
        );
        for bad in [
            "text",
            "text/",
            "/plain",
            "text/plain; charset=x",
            "te xt/plain",
            "a/b/c",
        ] {
            assert_eq!(
                check_attachment("a", bad, 3),
                Err(ComposeError::InvalidContentType(3)),
                "{bad}"
            );
        }
    }
}
