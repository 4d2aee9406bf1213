//! Echo (RFC 862): every byte and every datagram goes back unchanged.
//! The notes' port is 12345 (TCP and UDP); RFC 862's is 7.

pub mod client;
pub mod tcp_server;
pub mod udp_server;

use smoltcp::wire::IpEndpoint;

use crate::net::tcp_pool::{Conn, PoolEvent};

/// The notes' echo port.
pub const DEFAULT_PORT: u16 = 12345;
/// RFC 862's echo port.
pub const RFC862_PORT: u16 = 7;

/// What the echo servers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoEvent {
    /// A TCP client connected.
    Connected {
        /// The client.
        peer: IpEndpoint,
    },
    /// A TCP client closed and got every byte back.
    Closed {
        /// The client.
        peer: IpEndpoint,
        /// Bytes echoed.
        bytes: u64,
    },
    /// A TCP connection was reset (by the client, or smoltcp gave up).
    Reset {
        /// The client.
        peer: IpEndpoint,
        /// Bytes echoed before.
        bytes: u64,
    },
    /// A TCP connection moved nothing for the idle timeout and was aborted.
    IdleTimeout {
        /// The client.
        peer: IpEndpoint,
        /// Bytes echoed before.
        bytes: u64,
    },
    /// A client's address already held its share of the pool: the new
    /// connection was reset.
    OverShare {
        /// The client.
        peer: IpEndpoint,
    },
    /// A datagram was longer than the server's scratch buffer and dropped.
    DatagramDropped {
        /// The sender.
        peer: IpEndpoint,
    },
}

/// Queued echo events. RAM: 16 × 48 bytes.
pub type EchoEvents = crate::service::EventQueue<EchoEvent, 16>;

/// A pool's report as an [`EchoEvent`], with `bytes` (echoed, or for
/// discard taken) counted by `bytes`.
pub(crate) fn stream_event<S>(event: PoolEvent<'_, S>, bytes: fn(&Conn<S>) -> u64) -> EchoEvent {
    match event {
        PoolEvent::Opened(c) => EchoEvent::Connected { peer: c.peer },
        PoolEvent::Closed(c) => EchoEvent::Closed {
            peer: c.peer,
            bytes: bytes(&c),
        },
        PoolEvent::Reset(c) => EchoEvent::Reset {
            peer: c.peer,
            bytes: bytes(&c),
        },
        PoolEvent::IdleTimeout(c) => EchoEvent::IdleTimeout {
            peer: c.peer,
            bytes: bytes(&c),
        },
        PoolEvent::OverShare(c) => EchoEvent::OverShare { peer: c.peer },
    }
}
