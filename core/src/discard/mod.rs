//! RFC 863 discard: every byte and datagram a client sends is thrown away.
//! A sink for throughput tests; off unless asked for.
//!
//! - [`tcp_server::TcpDiscardServer`]: many clients at once; reads whatever
//!   arrives, closes after the client closes.
//! - [`udp_server::UdpDiscardServer`]: counts and drops datagrams; it never
//!   answers, so it can reflect nothing.

pub mod tcp_server;
pub mod udp_server;

use smoltcp::wire::IpEndpoint;

/// RFC 863's port.
pub const DEFAULT_PORT: u16 = 9;

/// What a discard server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscardEvent {
    /// A TCP client connected.
    Connected {
        /// The client.
        peer: IpEndpoint,
    },
    /// A TCP client closed; everything it sent was read.
    Closed {
        /// The client.
        peer: IpEndpoint,
        /// Bytes discarded.
        bytes: u64,
    },
    /// A TCP connection was reset (by the client, or smoltcp gave up).
    Reset {
        /// The client.
        peer: IpEndpoint,
        /// Bytes discarded before.
        bytes: u64,
    },
    /// A TCP connection moved nothing for the idle timeout and was aborted.
    IdleTimeout {
        /// The client.
        peer: IpEndpoint,
        /// Bytes discarded before.
        bytes: u64,
    },
}

/// Queued discard events. RAM: 8 × 40 bytes.
pub type DiscardEvents = crate::service::EventQueue<DiscardEvent, 8>;
