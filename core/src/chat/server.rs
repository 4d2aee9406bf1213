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
//!
//! Fairness: members take turns, each poll starting where the last one
//! stopped, so low slots cannot starve high ones; and the stall clock is a
//! leaky bucket of the time a member held the room up, so a member that
//! drains its queue now and then still cannot pace everyone. Relayed text
//! has its terminal controls replaced ([`super::framing::neutralise`])
//! unless the room is raw, as the notes' server is.

use smoltcp::iface::SocketSet;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::framing::{neutralise, next_piece};
use super::notice::{self, ROOM_FULL};
use super::{ChatEvent, ChatEvents};
use crate::net::guard::Guard;
use crate::net::runner::earliest;
use crate::net::tcp_pool::{Conn, ConnHandler, PoolEvent, PoolFull, TcpPool};
use crate::service::{Net, Service};

/// Pieces one member may send per poll before the others get their turn.
const BUDGET: usize = 16;

/// Sockets that answer `room full` (see [`ChatServer::add_overflow_socket`]).
pub const OVERFLOW_SOCKETS: usize = 2;

/// Free member sockets a growing room keeps listening.
pub const SPARE: usize = 8;

/// How much slower a member's held-up time leaks away than it builds up:
/// a member that holds the room up more than a fifth of the time is
/// eventually dropped.
const LAG_LEAK: u64 = 4;

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
    /// How long this member has held the room up, less a quarter of the
    /// time it has not (see [`LAG_LEAK`]).
    lag: Duration,
    /// Blocked a broadcast during the last poll.
    blocked: bool,
}

impl Member {
    /// The member is gone: the others are told, unless they never heard of
    /// it joining.
    fn leave(&mut self, peer: IpEndpoint) {
        self.live = false;
        self.lag = Duration::ZERO;
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
    /// The slot whose turn it is to send first.
    turn: usize,
    /// When the room was last polled (for the members' lag).
    last_poll: Option<Instant>,
    /// Relay bytes as they come, controls included (the notes' server).
    raw: bool,
    /// The limits against hostile peers, before the room's share is set.
    guard: Guard,
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
            PoolEvent::OverShare(c) => {
                self.events.push(ChatEvent::OverShare { peer: c.peer });
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
            turn: 0,
            last_poll: None,
            raw: false,
            guard: Guard::DEFAULT,
            events: ChatEvents::new(),
        }
    }

    /// Relays members' bytes unchanged, terminal controls included, as the
    /// notes' server does (default: replaced, see [`neutralise`]).
    pub fn set_raw(&mut self, raw: bool) {
        self.raw = raw;
    }

    /// Disconnects a member that sends nothing for `idle` (`None`: never;
    /// keep-alive still finds members that vanished).
    pub fn set_idle_timeout(&mut self, idle: Option<Duration>) {
        self.pool.set_idle_timeout(idle);
    }

    /// Sets the limits against hostile peers; a `per_source` of 0 means
    /// half the room's places.
    pub fn set_guard(&mut self, guard: Guard) {
        self.guard = guard;
        self.apply_guard();
    }

    fn apply_guard(&mut self) {
        let mut g = self.guard;
        if g.per_source == 0 {
            g.per_source = g.source_cap(self.room);
        }
        self.pool.set_guard(g);
    }

    /// Sets the room's size (at most `N`). With fewer member sockets than
    /// places, the caller adds sockets as [`ChatServer::wants_socket`] asks,
    /// so an empty room of 256 costs a few sockets, not 256 (smoltcp walks
    /// every socket on every pass).
    pub fn set_room(&mut self, room: usize) {
        self.room = room.min(N);
        self.apply_guard();
    }

    /// Whether the room would like one more member socket: fewer than
    /// [`SPARE`] are free to accept, and the room has places left for them.
    pub fn wants_socket(&self) -> bool {
        let free = self.pool.len() - self.pool.active() - self.pool.half_open();
        self.pool.len() < self.room && free < SPARE
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

    /// Adds the time since the last poll to the lag of members that held
    /// the room up during it, leaks it from the others, and disconnects
    /// members whose lag reached the stall timeout.
    fn drop_stalled(&mut self, sockets: &mut SocketSet<'_>, now: Instant) {
        let elapsed = self.last_poll.map_or(Duration::ZERO, |t| now - t);
        self.last_poll = Some(now);
        for (slot, m) in self.members.iter_mut().enumerate() {
            m.lag = if m.blocked && m.live {
                m.lag + elapsed
            } else {
                let leak = elapsed.total_micros() / LAG_LEAK;
                Duration::from_micros(m.lag.total_micros().saturating_sub(leak))
            };
            if !(m.live && m.lag >= self.stall) {
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

    /// Broadcasts members' lines, up to [`BUDGET`] pieces each, round
    /// robin: starting with the member whose turn it is, and when a full
    /// queue stops the round, that member starts the next one.
    fn lines(&mut self, sockets: &mut SocketSet<'_>) {
        let first = self.turn % N.max(1);
        for slot in (first..N).chain(0..first) {
            let m = self.members[slot];
            let (true, false, Some(peer), Some(handle)) =
                (m.live, m.join_pending, m.peer, self.pool.handle(slot))
            else {
                continue;
            };
            // Rendered once a piece is there: most polls find none, and
            // the room walks every member on each.
            let mut prefix = None;
            for taken in 0..=BUDGET {
                let socket = sockets.get_mut::<tcp::Socket>(handle);
                let closed = crate::net::tcp_pool::peer_closed(socket);
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
                if !self.raw {
                    neutralise(&mut self.scratch[..len]);
                }
                let piece = &self.scratch[..len];
                let prefix = prefix.get_or_insert_with(|| notice::prefix(peer));
                if !broadcast(
                    sockets,
                    &self.pool,
                    &mut self.members,
                    slot,
                    &[prefix.as_bytes(), piece],
                ) {
                    self.turn = slot;
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
        // A whole round went by: the next one starts one member later.
        self.turn = (first + 1) % N.max(1);
    }
}

impl<const N: usize, const L: usize> Service for ChatServer<N, L> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut lifecycle = Lifecycle {
            members: &mut self.members,
            events: &mut self.events,
        };
        self.pool.poll(net, now, &mut lifecycle);
        let full = self.is_full();
        self.overflow.set_accepting(net.sockets, full);
        let mut refuse = Refuse {
            events: &mut self.events,
        };
        self.overflow.poll(net, now, &mut refuse);

        self.drop_stalled(net.sockets, now);
        self.more = false;
        for m in self.members.iter_mut() {
            m.blocked = false;
        }
        if self.notices(net.sockets) {
            self.lines(net.sockets);
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
        // A member holding the room up reaches the stall timeout then.
        let stall = self
            .members
            .iter()
            .filter(|m| m.live && m.blocked)
            .map(|m| now + (self.stall - m.lag.min(self.stall)))
            .min();
        let more = self.more.then_some(now);
        earliest(
            earliest(stall, more),
            earliest(self.pool.poll_at(), self.overflow.poll_at()),
        )
    }
}
