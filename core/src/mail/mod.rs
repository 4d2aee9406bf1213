//! Sending mail as the notes do with smtplib, but streaming and on a board:
//! the SMTP client ([`smtp`]), the DATA transform ([`dot`]), the TLS seam
//! ([`tls`]), the smoltcp glue ([`sender`]) and the MIME composer ([`mime`]).

pub mod dot;
pub mod mime;
pub mod sender;
pub mod smtp;
pub mod tls;
