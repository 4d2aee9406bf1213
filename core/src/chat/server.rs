//! The chat room server.
//!
//! Lines are broadcast in the order the server takes them, to every other
//! member, each line written whole into each member's transmit buffer (the
//! member's outgoing queue, bounded by that buffer's size). A line is taken
//! from its sender only once every recipient has room for it, so a member
//! that reads slowly delays the room briefly instead of losing lines; a
//! member whose queue stays full for the stall timeout has stopped reading
//! and is disconnected, and the others get its offline notice (an IRC
//! server's send-queue limit). Nobody else ever loses a line.

use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::framing::next_piece;
use super::notice::{self, ROOM_FULL};
use super::{ChatEvent, ChatEvents};
use crate::net::runner::earliest;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// Pieces one member may send per poll before the others get their turn.
const BUDGET: usize = 16;

/// Sockets that answer `room full` (see [`ChatServer::add_overflow_socket`]).
pub const OVERFLOW_SOCKETS: usize = 2;

/// Free member sockets a growing room keeps listening.
pub const SPARE: usize = 8;

/// A member of the room (one per pool socket). RAM: about 80 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Member {
    /// Connected and in the room.
    live: bool,
    /// The member's address.
    peer: Option<IpEndpoint>,
    /// Joined; the others were not told yet.
    join_pending: bool,
    /// Left; the others were not told yet (kept apart from `peer`: the
    /// socket may already carry a new member).
    leave_pending: Option<IpEndpoint>,
    /// Since when this member's queue has blocked a broadcast.
    stalled_since: Option<Instant>,
    /// Blocked a broadcast during this poll.
    blocked: bool,
}

impl Member {
    /// The member is gone: the others are told, unless they never heard of
    /// it joining.
    fn leave(&mut self, peer: IpEndpoint) {
        self.live = false;
        self.stalled_since = None;
        if !self.join_pending {
            self.leave_pending = Some(peer);
        }
        self.join_pending = false;
    }
}

/// The room: up to `N` members, lines cut at `L` bytes.
///
/// RAM: `L` bytes of scratch, `N` × about 80 bytes of members, the pools
/// and 32 × 48 bytes of events, plus each socket's buffers: the transmit
/// buffer is the member's outgoing queue (e.g. 4 KiB on a board), and the
/// receive buffer must hold at least `L` bytes.
pub struct ChatServer<const N: usize, const L: usize = 1024> {
    pool: TcpPool<N>,
    /// The overflow sockets; the state says whether `room full` was sent.
    overflow: TcpPool<OVERFLOW_SOCKETS, bool>,
    members: [Member; N],
    scratch: [u8; L],
    stall: Duration,
    /// Work is left that needs no packet to proceed.
    more: bool,
    /// Places in the room (at most `N`): sockets may be added as it fills.
    room: usize,
    /// Events for the caller to drain.
    pub events: ChatEvents,
}

/// Tracks joins and leaves as the pool reports them.
struct Lifecycle<'a, const N: usize> {
    members: &'a mut [Member; N],
    events: &'a mut ChatEvents,
}

impl<const N: usize> ConnHandler for Lifecycle<'_, N> {
    fn serve(&mut self, _socket: &mut tcp::Socket<'_>, _conn: &mut Conn) {}

    fn event(&mut self, event: PoolEvent) {
        match event {
            PoolEvent::Opened(c) => {
                self.members[c.slot] = Member {
                    live: true,
                    peer: Some(c.peer),
                    join_pending: true,
                    leave_pending: self.members[c.slot].leave_pending,
                    ..Member::default()
                };
                self.events.push(ChatEvent::Joined { peer: c.peer });
            }
            PoolEvent::Closed(c) | PoolEvent::Reset(c) | PoolEvent::IdleTimeout(c) => {
                let m = &mut self.members[c.slot];
                if m.live {
                    m.leave(c.peer);
                    self.events.push(ChatEvent::Left { peer: c.peer });
                }
            }
        }
    }
}

/// Answers `room full` and closes.
struct Refuse<'a> {
    events: &'a mut ChatEvents,
}

impl ConnHandler<bool> for Refuse<'_> {
    fn serve(&mut self, socket: &mut tcp::Socket<'_>, conn: &mut Conn<bool>) {
        if !conn.state {
            conn.state = true;
            let _ = socket.send_slice(ROOM_FULL);
            conn.close(socket);
            self.events.push(ChatEvent::RoomFull { peer: conn.peer });
        }
        let _ = socket.recv(|b| (b.len(), ()));
    }

    fn event(&mut self, _event: PoolEvent<'_, bool>) {}
}

/// Writes `parts` to every live member but `exclude`, or to none: members
/// without room are marked blocked and `false` is returned.
fn broadcast<const N: usize>(
    sockets: &mut SocketSet<'_>,
    pool: &TcpPool<N>,
    members: &mut [Member; N],
    exclude: usize,
    parts: &[&[u8]],
) -> bool {
    let need: usize = parts.iter().map(|p| p.len()).sum();
    let mut fits = true;
    for (slot, m) in members.iter_mut().enumerate() {
        if !m.live || slot == exclude {
            continue;
        }
        let Some(handle) = pool.handle(slot) else {
            continue;
        };
        let s = sockets.get::<tcp::Socket>(handle);
        if s.send_capacity() - s.send_queue() < need {
            m.blocked = true;
            fits = false;
        }
    }
    if !fits {
        return false;
    }
    for (slot, m) in members.iter().enumerate() {
        if !m.live || slot == exclude {
            continue;
        }
        if let Some(handle) = pool.handle(slot) {
            let s = sockets.get_mut::<tcp::Socket>(handle);
            for part in parts {
                // Fits: checked above, and this service is the only writer.
                let _ = s.send_slice(part);
            }
        }
    }
    true
}

impl<const N: usize, const L: usize> ChatServer<N, L> {
    /// A room on `port`; a member whose queue stays full for `stall` is
    /// disconnected.
    pub fn new(port: u16, stall: Duration) -> Self {
        Self {
            pool: TcpPool::new(port, None),
            overflow: TcpPool::new(port, Some(Duration::from_secs(5))),
            members: [Member::default(); N],
            scratch: [0; L],
            stall,
            more: false,
            room: N,
            events: ChatEvents::new(),
        }
    }

    /// Sets the room's size (at most `N`). With fewer member sockets than
    /// places, the caller adds sockets as [`ChatServer::wants_socket`] asks,
    /// so an empty room of 256 costs a few sockets, not 256 (smoltcp walks
    /// every socket on every pass).
    pub fn set_room(&mut self, room: usize) {
        self.room = room.min(N);
    }

    /// Whether the room would like one more member socket: fewer than
    /// [`SPARE`] are free to accept, and the room has places left for them.
    pub fn wants_socket(&self) -> bool {
        self.pool.len() < self.room && self.pool.len() - self.pool.active() < SPARE
    }

    /// Every place is taken: only then do the overflow sockets listen.
    fn is_full(&self) -> bool {
        self.pool.len() >= self.room && self.pool.active() >= self.pool.len()
    }

    /// Adds one member socket (one more place in the room). Nagle is
    /// turned off on it.
    pub fn add_socket<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        mut socket: tcp::Socket<'b>,
    ) -> Result<(), PoolFull> {
        // Lines go out whole and at once: Nagle would hold a line back until
        // the previous one is ACKed, which with delayed ACKs is ~40 ms.
        socket.set_nagle_enabled(false);
        self.pool.add(sockets, socket).map(|_| ())
    }

    /// Adds a socket that tells clients the room is full (a 64-byte buffer
    /// each way is enough). These listen only while every place is taken.
    /// At most [`OVERFLOW_SOCKETS`].
    pub fn add_overflow_socket<'b>(
        &mut self,
        sockets: &mut SocketSet<'b>,
        socket: tcp::Socket<'b>,
    ) -> Result<(), PoolFull> {
        self.overflow.add(sockets, socket)?;
        let full = self.is_full();
        self.overflow.set_accepting(sockets, full);
        Ok(())
    }

    /// Members in the room.
    pub fn members(&self) -> usize {
        self.members.iter().filter(|m| m.live).count()
    }

    /// Disconnects members that stopped reading.
    fn drop_stalled(&mut self, sockets: &mut SocketSet<'_>, now: Instant) {
        for (slot, m) in self.members.iter_mut().enumerate() {
            let expired = m.stalled_since.is_some_and(|t| now >= t + self.stall);
            if !(m.live && expired) {
                continue;
            }
            if let (Some(handle), Some(peer)) = (self.pool.handle(slot), m.peer) {
                sockets.get_mut::<tcp::Socket>(handle).abort();
                m.leave(peer);
                self.events.push(ChatEvent::DroppedSlowReader { peer });
            }
        }
    }

    /// Delivers pending leave and join notices; `false` if one is blocked.
    fn notices(&mut self, sockets: &mut SocketSet<'_>) -> bool {
        for slot in 0..N {
            if let Some(peer) = self.members[slot].leave_pending {
                let text = notice::left(peer);
                if !broadcast(
                    sockets,
                    &self.pool,
                    &mut self.members,
                    slot,
                    &[text.as_bytes()],
                ) {
                    return false;
                }
                self.members[slot].leave_pending = None;
            }
        }
        for slot in 0..N {
            let m = self.members[slot];
            if let (true, true, Some(peer)) = (m.live, m.join_pending, m.peer) {
                let text = notice::joined(peer);
                if !broadcast(
                    sockets,
                    &self.pool,
                    &mut self.members,
                    slot,
                    &[text.as_bytes()],
                ) {
                    return false;
                }
                self.members[slot].join_pending = false;
            }
        }
        true
    }

    /// Broadcasts members' lines, up to [`BUDGET`] pieces each, round robin.
    fn lines(&mut self, sockets: &mut SocketSet<'_>) {
        for slot in 0..N {
            let m = self.members[slot];
            let (true, false, Some(peer), Some(handle)) =
                (m.live, m.join_pending, m.peer, self.pool.handle(slot))
            else {
                continue;
            };
            let prefix = notice::prefix(peer);
            for taken in 0..=BUDGET {
                let socket = sockets.get_mut::<tcp::Socket>(handle);
                // FIN seen (may_recv stays true while unread bytes remain).
                let closed = matches!(
                    socket.state(),
                    tcp::State::CloseWait
                        | tcp::State::LastAck
                        | tcp::State::Closing
                        | tcp::State::TimeWait
                );
                let n = socket.peek_slice(&mut self.scratch).unwrap_or(0);
                let Some(len) = next_piece(&self.scratch[..n], L, closed) else {
                    if closed && n == 0 {
                        // The member left cleanly: every line is out, then its notice.
                        socket.close();
                        if let Some(conn) = self.pool.conn_mut(slot) {
                            conn.closing = true;
                        }
                        self.members[slot].leave(peer);
                        self.events.push(ChatEvent::Left { peer });
                        self.more = true;
                    }
                    break;
                };
                if taken == BUDGET {
                    self.more = true;
                    break;
                }
                let piece = &self.scratch[..len];
                if !broadcast(
                    sockets,
                    &self.pool,
                    &mut self.members,
                    slot,
                    &[prefix.as_bytes(), piece],
                ) {
                    return;
                }
                let socket = sockets.get_mut::<tcp::Socket>(handle);
                let mut left = len;
                while left > 0 {
                    match socket.recv(|b| {
                        let k = b.len().min(left);
                        (k, k)
                    }) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => left -= k,
                    }
                }
            }
        }
    }
}

impl<const N: usize, const L: usize> Service for ChatServer<N, L> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut lifecycle = Lifecycle {
            members: &mut self.members,
            events: &mut self.events,
        };
        self.pool.poll(net.sockets, now, &mut lifecycle);
        let full = self.is_full();
        self.overflow.set_accepting(net.sockets, full);
        let mut refuse = Refuse {
            events: &mut self.events,
        };
        self.overflow.poll(net.sockets, now, &mut refuse);

        self.drop_stalled(net.sockets, now);
        self.more = false;
        for m in self.members.iter_mut() {
            m.blocked = false;
        }
        if self.notices(net.sockets) {
            self.lines(net.sockets);
        }
        for m in self.members.iter_mut() {
            if !m.blocked || !m.live {
                m.stalled_since = None;
            } else if m.stalled_since.is_none() {
                m.stalled_since = Some(now);
            }
        }
        // Notices that became due during this poll go out on the next one,
        // unless a full queue holds everything up (the stall timer then).
        let blocked = self.members.iter().any(|m| m.blocked);
        let due = self
            .members
            .iter()
            .any(|m| m.leave_pending.is_some() || (m.live && m.join_pending));
        if due && !blocked {
            self.more = true;
        }
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        let stall = self
            .members
            .iter()
            .filter_map(|m| m.stalled_since.map(|t| t + self.stall))
            .min();
        let more = self.more.then_some(now);
        earliest(
            earliest(stall, more),
            earliest(self.pool.poll_at(), self.overflow.poll_at()),
        )
    }
}
