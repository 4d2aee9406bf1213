//! The notes' chat room: every line a client sends reaches every other
//! client, with join and leave notices, hardened for many clients and slow
//! readers. See [`server::ChatServer`] and the texts in [`notice`].

pub mod framing;
pub mod notice;
pub mod server;

use smoltcp::wire::IpEndpoint;

/// The notes' chat port.
pub const DEFAULT_PORT: u16 = 9009;

/// What the chat room reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatEvent {
    /// A client joined.
    Joined {
        /// The client.
        peer: IpEndpoint,
    },
    /// A client left (closed or reset).
    Left {
        /// The client.
        peer: IpEndpoint,
    },
    /// A client stopped reading: its queue stayed full past the stall
    /// timeout, so it was disconnected.
    DroppedSlowReader {
        /// The client.
        peer: IpEndpoint,
    },
    /// A client found the room full and was told so.
    RoomFull {
        /// The client.
        peer: IpEndpoint,
    },
    /// A client's address already held its share of the room: the new
    /// connection was reset.
    OverShare {
        /// The client.
        peer: IpEndpoint,
    },
}

/// Queued chat events. RAM: 32 × 48 bytes.
pub type ChatEvents = crate::service::EventQueue<ChatEvent, 32>;
