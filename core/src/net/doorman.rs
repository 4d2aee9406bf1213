//! The part of a [`crate::net::TcpPool`] that applies its [`Guard`] to
//! handshakes. It knows nothing of the service's per-connection state, so
//! the image holds one copy of it for every pool, not one per pool type.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpAddress;

use crate::net::guard::Guard;

/// Two handshakes of one client this far apart are a resent SYN (the
/// client's retransmission timeout is a second at least, RFC 6298); closer
/// together, the wire duplicated it.
const RESENT_SYN: Duration = Duration::from_millis(500);

/// What the pool keeps of each socket, whatever the service. RAM: about
/// 32 bytes.
#[derive(Debug)]
pub(crate) struct Head {
    pub handle: SocketHandle,
    /// The socket carries a connection the service knows.
    pub live: bool,
    /// Since when the socket has been in SYN-RECEIVED (not yet live).
    pub half_open: Option<Instant>,
    /// Aborted by the pool this poll: it listens again on the next one,
    /// after its RST has gone out.
    pub resting: bool,
}

/// The pool's port, guard and whether free sockets listen.
#[derive(Debug)]
pub(crate) struct Doorman {
    pub port: u16,
    pub guard: Guard,
    pub accepting: bool,
}

/// What [`Doorman::check`] found.
pub(crate) struct Handshakes {
    /// Sockets in SYN-RECEIVED.
    pub waiting: usize,
    /// When a half-open socket is next due to be recycled.
    pub due: Option<Instant>,
}

fn syn_received(sockets: &SocketSet<'_>, h: &Head) -> bool {
    !h.live && sockets.get::<tcp::Socket>(h.handle).state() == tcp::State::SynReceived
}

/// Sockets (half-open or connected) held by `addr`.
pub(crate) fn held_by(heads: &[Head], sockets: &SocketSet<'_>, addr: IpAddress) -> usize {
    heads
        .iter()
        .filter(|h| {
            let s = sockets.get::<tcp::Socket>(h.handle);
            s.is_active() && s.remote_endpoint().is_some_and(|e| e.addr == addr)
        })
        .count()
}

/// A free socket that does not listen yet (its connection over, not
/// aborted by the pool this poll).
fn waits_to_listen(sockets: &SocketSet<'_>, head: &Head) -> bool {
    !head.live && !head.resting && !sockets.get::<tcp::Socket>(head.handle).is_open()
}

/// Sockets listening now.
fn listening(heads: &[Head], sockets: &SocketSet<'_>) -> usize {
    heads
        .iter()
        .filter(|h| sockets.get::<tcp::Socket>(h.handle).state() == tcp::State::Listen)
        .count()
}

impl Doorman {
    /// Recycles half-open sockets, before the connections are served: those
    /// past the handshake timeout, duplicates of another socket's handshake
    /// (a client's SYN that reached a listener placed earlier in the set),
    /// those beyond their address's share, and then the oldest while fewer
    /// than the reserve listen. Recycling is silent: a spoofed source gets
    /// nothing, a real client's retransmitted SYN finds a listener.
    pub fn check(
        &self,
        heads: &mut [Head],
        sockets: &mut SocketSet<'_>,
        now: Instant,
    ) -> Handshakes {
        let cap = self.guard.source_cap(heads.len());
        for i in 0..heads.len() {
            if !syn_received(sockets, &heads[i]) {
                continue;
            }
            let since = heads[i].half_open.unwrap_or(now);
            let Some(peer) = sockets
                .get::<tcp::Socket>(heads[i].handle)
                .remote_endpoint()
            else {
                continue;
            };
            let expired = now >= since + self.guard.handshake_timeout;
            // The client answers the SYN-ACK that reached it first: the older
            // one when the wire duplicated its SYN (two copies close
            // together), the newer one when it sent its SYN again after its
            // retransmission timeout because no SYN-ACK came. A handshake of
            // a client already connected always goes.
            let duplicate = heads.iter().enumerate().any(|(j, other)| {
                let o = sockets.get::<tcp::Socket>(other.handle);
                if j == i || !o.is_active() || o.remote_endpoint() != Some(peer) {
                    return false;
                }
                if other.live {
                    return true;
                }
                // New in SYN-RECEIVED this poll: since now.
                let theirs = other.half_open.unwrap_or(now);
                if theirs > since || (theirs == since && j > i) {
                    theirs >= since + RESENT_SYN
                } else {
                    since < theirs + RESENT_SYN
                }
            });
            // Over its address's share: the newest of that address's
            // half-open sockets goes first.
            let over_share = held_by(heads, sockets, peer.addr) > cap
                && !heads.iter().any(|o| {
                    !o.live
                        && o.half_open.is_some_and(|t| t > since)
                        && sockets
                            .get::<tcp::Socket>(o.handle)
                            .remote_endpoint()
                            .is_some_and(|e| e.addr == peer.addr)
                });
            if expired || duplicate || over_share {
                self.recycle(&mut heads[i], sockets);
            }
        }
        // Under a flood, keep the reserve listening: the oldest half-open
        // sockets go, once older than the flood age (a burst of real clients
        // gets its round trips). A flood is more handshakes waiting than the
        // reserve: one or two are slow clients (a lost SYN-ACK) and keep
        // their sockets. At least one socket is always left for handshakes.
        // A free socket that waits to listen behind a later handshake (see
        // `TcpPool::poll`) counts with the handshakes: that one holds two
        // sockets, and in a pool of two nothing would listen until its
        // handshake timeout.
        let reserve = self.guard.reserve.min(heads.len().saturating_sub(1));
        let flood_age = self.guard.flood_age;
        while self.accepting && listening(heads, sockets) < reserve {
            let count = heads
                .iter()
                .filter(|h| syn_received(sockets, h) || waits_to_listen(sockets, h))
                .count();
            let oldest = heads
                .iter()
                .enumerate()
                .filter(|(_, h)| syn_received(sockets, h))
                .filter(|(_, h)| h.half_open.is_some_and(|t| now >= t + flood_age))
                .min_by_key(|(_, h)| h.half_open)
                .map(|(i, _)| i);
            match oldest {
                Some(i) if count > reserve => self.recycle(&mut heads[i], sockets),
                _ => break,
            }
        }
        let mut waiting = 0;
        for h in heads.iter_mut() {
            if syn_received(sockets, h) {
                h.half_open.get_or_insert(now);
                waiting += 1;
            } else {
                h.half_open = None;
            }
        }
        // Next due: a handshake timeout; or, while the reserve is short and
        // others wait, the flood age of the youngest not yet old enough.
        let queued = waiting + heads.iter().filter(|h| waits_to_listen(sockets, h)).count();
        let short = self.accepting && listening(heads, sockets) < reserve && queued > reserve;
        let due = heads
            .iter()
            .filter_map(|h| h.half_open)
            .flat_map(|t| {
                let aged = (short && t + flood_age > now).then_some(t + flood_age);
                [Some(t + self.guard.handshake_timeout), aged]
            })
            .flatten()
            .min();
        Handshakes { waiting, due }
    }

    /// Drops a half-open socket without a word and listens again.
    fn recycle(&self, head: &mut Head, sockets: &mut SocketSet<'_>) {
        let socket = sockets.get_mut::<tcp::Socket>(head.handle);
        crate::diag::debug!(
            "tcp/{}: half-open from {:?} recycled",
            self.port,
            socket.remote_endpoint()
        );
        socket.abort();
        head.half_open = None;
        // The set keeps a socket's "waiting for this neighbour" silence (up
        // to a second, for a spoofed source nobody answers ARP for) across
        // listen(): the next client's SYN-ACK would wait it out (800 ms
        // measured). Taken out and put back, the socket starts afresh.
        let taken = sockets.remove(head.handle);
        head.handle = sockets.add(taken);
        if self.accepting {
            // listen() forgets the peer, so no RST leaves for it.
            let _ = sockets
                .get_mut::<tcp::Socket>(head.handle)
                .listen(self.port);
        }
    }
}
