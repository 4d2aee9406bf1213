//! The MIME composer: an RFC 5322 + MIME message (text, HTML, attachments)
//! produced as a byte stream, sans-IO and without allocation.
//!
//! [`Composer`] implements [`embedded_io::Read`]: the SMTP layer pulls the
//! message from it chunk by chunk, and the composer pulls each body and
//! attachment from its own `Read` source the same way. Nothing is held
//! whole; the composer's RAM is fixed (see [`Composer`]), so a 1 GiB
//! attachment costs what a 1 KiB one does.
//!
//! Layout of the module:
//! - [`header`]: addresses, the envelope, validation, RFC 2047 encoded
//!   words, the RFC 5322 date;
//! - [`scan`]: the text profile of a body and [`choose`], which picks its
//!   transfer encoding;
//! - [`crlf`]: line-break normalisation to CRLF;
//! - [`qp`]: the streaming quoted-printable encoder;
//! - [`b64`]: base64 in 76-column lines from a `Read` source;
//! - [`composer`]: the message structure and the `Read` implementation.
//!
//! Structure of a message:
//! - text only: `text/plain; charset=utf-8`;
//! - HTML only: `text/html; charset=utf-8`;
//! - text and HTML: `multipart/alternative` (text first);
//! - any attachment: `multipart/mixed`: the body part (text, HTML or the
//!   alternative) first, then each attachment in base64 with
//!   `Content-Disposition: attachment`.
//!
//! Boundaries start with `=_`, a pair that neither quoted-printable (it
//! writes `=` only before two hex digits or a line break) nor base64 (its
//! alphabet has no `_`) can produce, and every text part of a multipart
//! message is quoted-printable or base64; so no line of content can ever be
//! taken for a boundary, whatever the content.

pub mod b64;
pub mod composer;
pub mod crlf;
pub mod header;
pub mod qp;
pub mod scan;
mod stage;
#[cfg(test)]
mod tests;

pub use composer::{Attachment, Composer};
pub use header::{Address, Envelope, MessageId};
pub use scan::{TextProfile, TextScanner, choose};

use core::fmt;

use embedded_io::ErrorKind;

/// The longest line RFC 5322 allows, CRLF excluded.
pub const MAX_LINE: usize = 998;

/// A body's Content-Transfer-Encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// `7bit`: ASCII only, no NUL, lines of at most 998 bytes.
    SevenBit,
    /// `8bit`: any byte but NUL, lines of at most 998 bytes; needs a server
    /// that announced 8BITMIME.
    EightBit,
    /// `quoted-printable`: readable ASCII, every other byte as `=XX`, lines
    /// of at most 76 characters.
    QuotedPrintable,
    /// `base64`, in lines of 76 characters.
    Base64,
}

impl TextEncoding {
    /// The `Content-Transfer-Encoding` value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SevenBit => "7bit",
            Self::EightBit => "8bit",
            Self::QuotedPrintable => "quoted-printable",
            Self::Base64 => "base64",
        }
    }
}

/// The header field or attachment a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The `From` address (name or address).
    From,
    /// The `To` address at this index.
    To(usize),
    /// The `Cc` address at this index.
    Cc(usize),
    /// The subject.
    Subject,
    /// The Message-ID domain.
    MessageId,
    /// The attachment at this index (file name or content type).
    Attachment(usize),
}

/// Why a message cannot be composed.
///
/// Every variant but [`BodyNeedsEncoding`](Self::BodyNeedsEncoding) and
/// [`Source`](Self::Source) comes from [`Composer::new`], before any byte is
/// produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeError {
    /// A CR or LF in a header value, address, display name, file name or
    /// content type: refused, since it could add header fields.
    HeaderInjection(Field),
    /// Another control character (NUL, ESC, DEL...; TAB is allowed) in
    /// header text.
    ControlCharacter(Field),
    /// An address is not a plain ASCII `local@domain` (dot-atom local part,
    /// a domain name or `[literal]`, at most 254 bytes).
    InvalidAddress(Field),
    /// The Message-ID domain is not a domain name or `[literal]`.
    InvalidMessageId,
    /// The attachment's content type is not `type/subtype` (RFC 2045
    /// tokens, no parameters, at most 255 bytes).
    InvalidContentType(usize),
    /// The attachment's file name is empty, longer than 255 bytes, or holds
    /// `/` or `\`.
    InvalidFilename(usize),
    /// The date is past 9999-12-31 23:59:59 UTC.
    DateOutOfRange,
    /// No text, no HTML and no attachment.
    NoContent,
    /// A 7bit or 8bit body turned out not to fit its encoding (an 8-bit byte
    /// in 7bit, a NUL, or a line over 998 bytes). Scan the body with
    /// [`TextScanner`] and pick the encoding with [`choose`] to avoid it.
    /// Found while streaming: the output so far is cut.
    BodyNeedsEncoding,
    /// A body or attachment source failed to read, with its error's kind.
    /// The output so far is cut.
    Source(ErrorKind),
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeaderInjection(field) => {
                write!(f, "CR or LF in a header field ({field:?})")
            }
            Self::ControlCharacter(field) => {
                write!(f, "control character in a header field ({field:?})")
            }
            Self::InvalidAddress(field) => write!(f, "invalid mail address ({field:?})"),
            Self::InvalidMessageId => f.write_str("invalid Message-ID domain"),
            Self::InvalidContentType(i) => write!(f, "attachment {i}: invalid content type"),
            Self::InvalidFilename(i) => write!(f, "attachment {i}: invalid file name"),
            Self::DateOutOfRange => f.write_str("date past the year 9999"),
            Self::NoContent => f.write_str("no text, HTML or attachment"),
            Self::BodyNeedsEncoding => {
                f.write_str("body does not fit 7bit/8bit (8-bit byte, NUL or line over 998 bytes)")
            }
            Self::Source(kind) => write!(f, "body source failed: {kind:?}"),
        }
    }
}

impl core::error::Error for ComposeError {}

impl embedded_io::Error for ComposeError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Source(kind) => *kind,
            Self::BodyNeedsEncoding => ErrorKind::InvalidData,
            _ => ErrorKind::InvalidInput,
        }
    }
}
