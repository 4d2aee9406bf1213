//! Time services: the notes' ctime server (and RFC 867 daytime), RFC 868
//! binary time over TCP and UDP, an SNTP client that sets the
//! [`WallClock`](crate::WallClock), and a time client.

pub mod client;
pub mod ctime;
pub mod rfc868;
pub mod server;
pub mod sntp;
pub mod sntp_client;
pub mod udp_server;

use smoltcp::wire::IpEndpoint;

/// The notes' time port.
pub const DEFAULT_PORT: u16 = 9999;
/// RFC 867 daytime.
pub const DAYTIME_PORT: u16 = 13;
/// RFC 868 time.
pub const RFC868_PORT: u16 = 37;

/// What a time server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `ctime` text + CRLF (the notes' server, RFC 867 daytime).
    Ctime,
    /// Four bytes, seconds since 1900 (RFC 868).
    Rfc868,
}

/// What the time services report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeEvent {
    /// A client got the time.
    Served {
        /// The client.
        peer: IpEndpoint,
        /// The time sent.
        unix_secs: u64,
        /// How it was written.
        format: TimeFormat,
    },
    /// A client came before the clock was set: closed without a reply.
    ClockNotSet {
        /// The client.
        peer: IpEndpoint,
    },
    /// The time cannot be written in the format (a ctime year past 9999).
    CannotEncode {
        /// The client.
        peer: IpEndpoint,
    },
    /// A connection ended by reset or timeout before the reply went out.
    Aborted {
        /// The client.
        peer: IpEndpoint,
    },
}

/// Queued time events. RAM: 16 × 48 bytes.
pub type TimeEvents = crate::service::EventQueue<TimeEvent, 16>;
