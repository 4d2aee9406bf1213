//! The chat room's texts, byte for byte as the notes' server writes them
//! with Python's `%` formatting and `str()` of an address tuple:
//!
//! - join: `[192.0.2.1:40000] entered our chatting room\n`
//! - message prefix: `\r[('192.0.2.1', 40000)] ` (then the message bytes)
//! - leave: `Client (192.0.2.1, 40000) is offline\n`
//!
//! IPv6 addresses print as Python prints them (`2001:db8::1`, no brackets).

use core::fmt::Write;
use smoltcp::wire::IpEndpoint;

/// Room for the longest text: an IPv6 address (45 bytes) and a port.
pub const MAX_NOTICE: usize = 96;

/// A formatted notice or prefix.
pub type Notice = heapless::String<MAX_NOTICE>;

fn render(args: core::fmt::Arguments<'_>) -> Notice {
    let mut text = Notice::new();
    // Cannot overflow: the longest address and port fit in MAX_NOTICE.
    let _ = text.write_fmt(args);
    text
}

/// `[IP:PORT] entered our chatting room\n`
pub fn joined(peer: IpEndpoint) -> Notice {
    render(format_args!(
        "[{}:{}] entered our chatting room\n",
        peer.addr, peer.port
    ))
}

/// `\r[('IP', PORT)] ` — what precedes each message (or piece of one).
pub fn prefix(peer: IpEndpoint) -> Notice {
    render(format_args!("\r[('{}', {})] ", peer.addr, peer.port))
}

/// `Client (IP, PORT) is offline\n`
pub fn left(peer: IpEndpoint) -> Notice {
    render(format_args!(
        "Client ({}, {}) is offline\n",
        peer.addr, peer.port
    ))
}

/// `room full\n`, to a client that finds every place taken.
pub const ROOM_FULL: &[u8] = b"room full\n";

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{IpAddress, Ipv6Address};

    fn v4() -> IpEndpoint {
        IpEndpoint::new(IpAddress::v4(127, 0, 0, 1), 48953)
    }

    #[test]
    fn matches_the_notes_transcript() {
        assert_eq!(
            joined(v4()).as_str(),
            "[127.0.0.1:48953] entered our chatting room\n"
        );
        assert_eq!(prefix(v4()).as_str(), "\r[('127.0.0.1', 48953)] ");
        assert_eq!(
            left(v4()).as_str(),
            "Client (127.0.0.1, 48953) is offline\n"
        );
    }

    #[test]
    fn ipv6_as_python_writes_it() {
        let p = IpEndpoint::new(
            IpAddress::Ipv6(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            5000,
        );
        assert_eq!(
            joined(p).as_str(),
            "[2001:db8::1:5000] entered our chatting room\n"
        );
        assert_eq!(prefix(p).as_str(), "\r[('2001:db8::1', 5000)] ");
        assert_eq!(left(p).as_str(), "Client (2001:db8::1, 5000) is offline\n");
        let long = IpEndpoint::new(
            IpAddress::Ipv6(Ipv6Address::new(
                0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            )),
            65535,
        );
        assert!(prefix(long).ends_with(", 65535)] "));
        assert!(joined(long).ends_with("room\n"));
    }
}
