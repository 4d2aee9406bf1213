//! File transfer, as in the notes: the client sends one request, the server
//! streams a file and closes; end of file is the connection's end.
//!
//! - `GET <name>` asks for a named file; anything else (the notes send
//!   `Hello server!`) gets the server's default file;
//! - an unknown or refused name gets `ERR not found\n` (or another `ERR`
//!   line) and a close.

pub mod name;
pub mod reply;
pub mod request;
pub mod server;
pub mod store;

use smoltcp::wire::IpEndpoint;

/// The notes' file port.
pub const DEFAULT_PORT: u16 = 60000;

/// What the file server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEvent {
    /// A download started.
    Sending {
        /// The client.
        peer: IpEndpoint,
        /// Whether the default file was asked for (else a named file).
        default: bool,
    },
    /// Every byte of the file was queued and the connection closed cleanly.
    Sent {
        /// The client.
        peer: IpEndpoint,
        /// Bytes sent.
        bytes: u64,
    },
    /// The request was refused with an `ERR` line.
    Refused {
        /// The client.
        peer: IpEndpoint,
        /// Why.
        reason: reply::ErrReply,
    },
    /// The client went away (reset or idle timeout) mid-transfer.
    Aborted {
        /// The client.
        peer: IpEndpoint,
        /// Bytes queued before.
        bytes: u64,
    },
    /// Reading the file failed mid-transfer: the connection was reset so the
    /// client cannot mistake a short file for a whole one.
    ReadFailed {
        /// The client.
        peer: IpEndpoint,
        /// Bytes queued before.
        bytes: u64,
    },
}

/// Queued file events. RAM: 16 × 48 bytes.
pub type FileEvents = crate::service::EventQueue<FileEvent, 16>;
