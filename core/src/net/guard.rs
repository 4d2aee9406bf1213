//! How a pool of listening sockets defends itself on an open network: the
//! limits a [`crate::net::TcpPool`] applies to half-open connections, idle
//! peers and greedy source addresses.
//!
//! smoltcp keeps a socket in SYN-RECEIVED for as long as it retransmits its
//! SYN-ACK, and answers a SYN that finds no listening socket with RST. A
//! few spoofed SYNs could therefore hold every socket of a pool and have
//! every real client refused. The pool recycles half-open sockets (oldest
//! first, silently, as Linux drops from its SYN backlog) so that some
//! socket always listens, and caps what one address may hold.

use smoltcp::time::Duration;

use crate::net::source_rate::UdpRate;

/// The limits of one pool (and of the UDP servers' answers). RAM: 48 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// A socket still in SYN-RECEIVED after this long is recycled.
    pub handshake_timeout: Duration,
    /// Sockets kept listening while others are half-open: when fewer
    /// listen, the oldest half-open ones are recycled (at most the pool's
    /// size less one, so that a handshake always has a socket).
    pub reserve: usize,
    /// How old a half-open socket must be before the reserve may recycle
    /// it: several LAN round trips, so that a burst of real clients
    /// completes its handshakes, and short enough that a flood's sockets
    /// turn over faster than its SYNs arrive (16 sockets in 20 ms: 800
    /// SYN/s).
    pub flood_age: Duration,
    /// TCP keep-alive on established connections (the service set gives it
    /// to the chat room, whose members stay for hours; the other services'
    /// connections are short and have idle timeouts): a peer that restarted
    /// and forgot the connection answers a probe with RST, which frees the
    /// socket. (A peer that vanished silently is left to the idle timeout:
    /// smoltcp's own timeout does not count the answers to its probes.)
    /// `None`: off.
    pub keep_alive: Option<Duration>,
    /// The most sockets (half-open or connected) one source address may
    /// hold in the pool; `0`: half the pool's sockets (at least one).
    pub per_source: usize,
    /// Answers the UDP echo and RFC 868 servers give one source address
    /// ([`crate::net::source_rate`]); `None`: no limit.
    pub udp_rate: Option<UdpRate>,
}

impl Guard {
    /// Five seconds for a handshake (a real client answers a SYN-ACK
    /// within a round trip), two listeners in reserve, keep-alive every
    /// 60 s, half a pool per address.
    pub const DEFAULT: Self = Self {
        handshake_timeout: Duration::from_secs(5),
        reserve: 2,
        flood_age: Duration::from_millis(20),
        keep_alive: Some(Duration::from_secs(60)),
        per_source: 0,
        udp_rate: None,
    };

    /// The per-address cap for a pool of `sockets` sockets.
    pub const fn source_cap(&self, sockets: usize) -> usize {
        if self.per_source > 0 {
            self.per_source
        } else if sockets >= 2 {
            sockets / 2
        } else {
            1
        }
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_pool_per_address_unless_set() {
        let g = Guard::DEFAULT;
        assert_eq!(g.source_cap(16), 8);
        assert_eq!(g.source_cap(3), 1);
        assert_eq!(g.source_cap(1), 1);
        let g = Guard {
            per_source: 5,
            ..Guard::DEFAULT
        };
        assert_eq!(g.source_cap(16), 5);
    }
}
