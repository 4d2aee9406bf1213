//! RFC 863 discard: every byte and datagram a client sends is thrown away.
//! A sink for throughput tests; off unless asked for.
//!
//! - [`tcp_server::TcpDiscardServer`]: many clients at once; reads whatever
//!   arrives, closes after the client closes.
//! - [`udp_server::UdpDiscardServer`]: counts and drops datagrams; it never
//!   answers, so it can reflect nothing.

pub mod tcp_server;
pub mod udp_server;

/// RFC 863's port.
pub const DEFAULT_PORT: u16 = 9;

/// What the TCP discard server reports: the echo server's events, `bytes`
/// counting what was taken (and thrown away).
pub type DiscardEvent = crate::echo::EchoEvent;

/// Queued discard events. RAM: 8 × 40 bytes.
pub type DiscardEvents = crate::service::EventQueue<DiscardEvent, 8>;
