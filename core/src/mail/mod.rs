//! Sending mail as the notes do with smtplib, but streaming and on a board:
//! the SMTP client ([`smtp`]), the DATA transform ([`dot`]), the TLS seam
//! ([`tls`]), the smoltcp glue ([`sender`]) and the MIME composer ([`mime`]).

pub mod dot;
pub mod mime;
pub mod sender;
pub mod smtp;
pub mod tls;

/// `v` in decimal, written at the end of `digits`; returns the digits.
/// One small routine for the MIME composer and the SMTP session (cheaper
/// in the firmware image than `core::fmt`).
pub(crate) fn decimal(v: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    let mut v = v;
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    digits.get(i..).unwrap_or(&[])
}
