//! The SMTP client (RFC 5321), sans-IO: [`session::SmtpSession`] takes the
//! server's bytes and produces the client's, including the message itself,
//! dot-stuffed, streamed from any `embedded-io` source.

pub mod caps;
pub mod reply;
pub mod session;

pub use session::{
    AuthMechanism, BadArgument, Credentials, Security, SmtpConfig, SmtpError, SmtpSession, Stage,
};
