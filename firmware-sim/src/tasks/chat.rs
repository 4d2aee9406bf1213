//! A chat room member: joins the board's room, waits until every member is
//! in, sends its lines, and reads everyone else's. Every text that arrives
//! is parsed as the notes' server writes it and checked: each sender's
//! lines arrive whole, once, in the order sent; the order across senders
//! is checked between members afterwards ([`crate::scenario::report`]).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::str::FromStr;

use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::ClientState;
use minnow::service::Service;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpEndpoint};

use super::{Outcome, Task, Verdict};
use crate::node::NodeCtx;
use crate::rng::mix;

/// What the chat members know of the room as a whole: a test oracle the
/// board and the members share (the simulation is single-threaded).
#[derive(Debug, Default)]
pub struct Room {
    /// Members the server has in the room now (the board updates it).
    pub members: Cell<usize>,
    /// Members that may still join (a member that cannot connect leaves
    /// the count, so the others do not wait for it).
    pub expected: Cell<usize>,
}

/// One member of the room, as the others know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its number in the room's roster (its lines' seed).
    pub index: u32,
    /// Its name, the first word of its lines.
    pub name: String,
    /// The address it connects from.
    pub addr: IpAddress,
}

/// Line `n` of member `index` in a room seeded with `seed`: its name, its
/// number, then 0 to 120 letters, and `\n`.
pub fn line(seed: u64, member: &Member, n: u32) -> String {
    let mut out = String::new();
    line_into(seed, member, n, &mut out);
    out
}

/// [`line`] written over `out`: a member checks every line it hears
/// against this, so the buffer is reused rather than a string made each time.
pub fn line_into(seed: u64, member: &Member, n: u32, out: &mut String) {
    use std::fmt::Write as _;
    let h = mix(seed ^ (u64::from(member.index) << 32) ^ u64::from(n));
    out.clear();
    let _ = write!(out, "{} #{n} ", member.name);
    out.extend((0..h % 121).map(|i| char::from(b'a' + (mix(h ^ i) % 26) as u8)));
    out.push('\n');
}

/// Pause between two lines of one member.
const GAP: Duration = Duration::from_millis(20);
/// How often a member waiting for the room looks at the count.
const WAIT_CHECK: Duration = Duration::from_millis(100);

/// The chat task.
pub struct Chat {
    me: Member,
    others: Vec<Member>,
    lines: u32,
    seed: u64,
    remote: IpEndpoint,
    timeout: Duration,
    room: Rc<Room>,
    conn: Option<(StreamClient, SocketHandle)>,
    local: Option<IpEndpoint>,
    joined: bool,
    /// Something but "room full" came from the server.
    joined_room: bool,
    counted_out: bool,
    talking: bool,
    sent: u32,
    out: Vec<u8>,
    next_line_at: Instant,
    inbox: Vec<u8>,
    next_from: Vec<u32>,
    left: Vec<bool>,
    order: Vec<(u32, u32)>,
    heard_bytes: u64,
    last_progress: Instant,
    buf: Vec<u8>,
    /// The other members by their address as the server writes it.
    by_addr: HashMap<String, usize>,
    /// The line expected next, built here (see [`line_into`]).
    want: String,
    started: Instant,
}

impl Chat {
    /// Member `me` of a room of `me` and `others`, at `remote`; each member
    /// sends `lines` lines. Fails when nothing moves for `timeout` once the
    /// room talks.
    pub fn new(
        me: Member,
        others: Vec<Member>,
        lines: u32,
        seed: u64,
        remote: IpEndpoint,
        timeout: Duration,
        room: Rc<Room>,
    ) -> Self {
        let n = others.len();
        let mut by_addr = HashMap::new();
        for (i, m) in others.iter().enumerate() {
            by_addr.entry(m.addr.to_string()).or_insert(i);
        }
        Self {
            by_addr,
            want: String::new(),
            me,
            others,
            lines,
            seed,
            remote,
            timeout,
            room,
            conn: None,
            local: None,
            joined: false,
            joined_room: false,
            counted_out: false,
            talking: false,
            sent: 0,
            out: Vec::new(),
            next_line_at: Instant::ZERO,
            inbox: Vec::new(),
            next_from: vec![0; n],
            left: vec![false; n],
            order: Vec::new(),
            heard_bytes: 0,
            last_progress: Instant::ZERO,
            buf: vec![0; 4096],
            started: Instant::ZERO,
        }
    }

    fn outcome(&self, verdict: Verdict, got: String, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = got;
        o.bytes = self.heard_bytes;
        o.ends.extend(self.local);
        o.sequence = self.order.clone();
        o
    }

    fn member_at(&self, addr: &str) -> Option<usize> {
        if let Some(&i) = self.by_addr.get(addr) {
            return Some(i);
        }
        // Not as the server writes addresses: whatever else parses to one.
        let addr = IpAddress::from_str(addr).ok()?;
        self.others.iter().position(|m| m.addr == addr)
    }

    /// Checks one text from the server (without its `\n`).
    fn take(&mut self, record: &[u8]) -> Result<(), String> {
        // Valid UTF-8, as the server's text is, needs no copy.
        let text = match std::str::from_utf8(record) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(record),
        };
        let bad = || format!("unexpected text from the server: {text:?}");
        if let Some(rest) = text.strip_prefix("\r[('") {
            let (addr, rest) = rest.split_once("', ").ok_or_else(bad)?;
            let (_port, body) = rest.split_once(")] ").ok_or_else(bad)?;
            let i = self.member_at(addr).ok_or_else(bad)?;
            line_into(
                self.seed,
                &self.others[i],
                self.next_from[i],
                &mut self.want,
            );
            let want = &self.want;
            if want.strip_suffix('\n') != Some(body) {
                let name = &self.others[i].name;
                return Err(format!(
                    "from {name}: got {body:?}, expected line #{} {want:?}",
                    self.next_from[i]
                ));
            }
            self.order.push((self.others[i].index, self.next_from[i]));
            self.heard_bytes += want.len() as u64;
            self.next_from[i] += 1;
            Ok(())
        } else if let Some(rest) = text.strip_prefix("Client (") {
            let (addr, _) = rest.split_once(", ").ok_or_else(bad)?;
            let i = self.member_at(addr).ok_or_else(bad)?;
            self.left[i] = true;
            Ok(())
        } else if text.starts_with('[') && text.ends_with("] entered our chatting room") {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Whether every other member's lines came (or it left).
    fn heard_all(&self) -> bool {
        self.next_from
            .iter()
            .zip(&self.left)
            .all(|(&n, &left)| n == self.lines || left)
    }

    fn talk(&mut self, ctx: &mut NodeCtx<'_>) {
        let Some((client, _)) = self.conn.as_mut() else {
            return;
        };
        if !self.talking || client.state() != ClientState::Connected {
            return;
        }
        loop {
            if self.out.is_empty() {
                if self.sent == self.lines || ctx.now < self.next_line_at {
                    return;
                }
                self.out = line(self.seed, &self.me, self.sent).into_bytes();
                self.sent += 1;
                let jitter = mix(self.seed ^ u64::from(self.sent)) % 10;
                self.next_line_at = ctx.now + GAP + Duration::from_millis(jitter);
            }
            let n = client.write(&mut ctx.net(), &self.out);
            self.out.drain(..n);
            if !self.out.is_empty() {
                return;
            }
        }
    }
}

impl Task for Chat {
    fn name(&self) -> String {
        format!("chat, {} lines to {} others", self.lines, self.others.len())
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        self.last_progress = ctx.now;
        let (client, handle, local) =
            ctx.connect_stream(self.remote, (16 * 1024, 4096), self.timeout, None);
        self.local = local;
        self.conn = Some((client, handle));
    }

    fn service(&mut self) -> Option<&mut dyn Service> {
        self.conn.as_mut().map(|(c, _)| c as &mut dyn Service)
    }

    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome> {
        let now = ctx.now;
        let (mut client, handle) = self.conn.take()?;
        let state = client.state();
        if self.joined && !self.talking && now >= self.last_progress + WAIT_CHECK {
            self.last_progress = now;
        }
        if state == ClientState::Connected && !self.joined {
            self.joined = true;
            ctx.log(format!(
                "chat: joined from {}",
                self.local.map_or(String::new(), |l| l.to_string())
            ));
        }
        if !self.talking && self.joined && self.room.members.get() >= self.room.expected.get() {
            self.talking = true;
            self.last_progress = now;
        }
        loop {
            let n = client.read(&mut ctx.net(), &mut self.buf);
            if n == 0 {
                break;
            }
            self.last_progress = now;
            self.inbox.extend_from_slice(&self.buf[..n]);
        }
        self.conn = Some((client, handle));
        let mut refused = false;
        // Records are read in place; what they took is dropped once, after.
        let mut inbox = std::mem::take(&mut self.inbox);
        let mut start = 0;
        while let Some(len) = inbox[start..].iter().position(|&b| b == b'\n') {
            let record = &inbox[start..start + len];
            start += len + 1;
            if !self.joined_room && record == b"room full" {
                // The server's refusal, before any other text.
                refused = true;
                break;
            }
            if let Err(why) = self.take(record) {
                ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
                return Some(self.outcome(Verdict::Corrupt(why.clone()), why, now));
            }
            self.joined_room = true;
        }
        inbox.drain(..start);
        self.inbox = inbox;
        self.talk(ctx);
        let gone = || -> Vec<&str> {
            self.others
                .iter()
                .zip(self.next_from.iter().zip(&self.left))
                .filter(|(_, (n, left))| **left && **n < self.lines)
                .map(|(m, _)| m.name.as_str())
                .collect()
        };
        let fail = |why: String| Some((Verdict::Failed(why.clone()), why));
        let verdict = match state {
            _ if refused => {
                ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
                fail("the server said: room full".to_string())
            }
            ClientState::Failed(e) => fail(format!(
                "{e} after {} of {} lines heard",
                self.order.len(),
                self.lines as usize * self.others.len()
            )),
            ClientState::PeerClosed => fail("the server closed the connection".to_string()),
            _ if self.talking
                && self.sent == self.lines
                && self.out.is_empty()
                && self.heard_all() =>
            {
                // Leave: FIN after the last line; the others get the notice.
                ctx.stack.sockets.get_mut::<tcp::Socket>(handle).close();
                let gone = gone();
                if gone.is_empty() {
                    let heard = self.order.len();
                    Some((
                        Verdict::Ok,
                        format!("{heard} lines from {} others, in order", self.others.len()),
                    ))
                } else {
                    fail(format!(
                        "left before sending every line: {}",
                        gone.join(", ")
                    ))
                }
            }
            _ if self.talking && now >= self.last_progress + self.timeout => fail(format!(
                "nothing for {} s; heard {} of {} lines",
                self.timeout.secs(),
                self.order.len(),
                self.lines as usize * self.others.len()
            )),
            _ => None,
        };
        let (verdict, text) = verdict?;
        // Whoever ends before the room talks must not keep the others waiting.
        if !self.counted_out {
            self.counted_out = true;
            self.room
                .expected
                .set(self.room.expected.get().saturating_sub(1));
        }
        Some(self.outcome(verdict, text, now))
    }

    fn poll_at(&self) -> Option<Instant> {
        let conn = self
            .conn
            .as_ref()
            .and_then(|(c, _)| c.poll_at(Instant::ZERO));
        let talk = (self.talking && self.sent < self.lines).then_some(self.next_line_at);
        let stall = self.talking.then_some(self.last_progress + self.timeout);
        // Waiting for the room: look at the count now and then.
        let wait = (self.joined && !self.talking).then_some(self.last_progress + WAIT_CHECK);
        [conn, talk, stall, wait].into_iter().flatten().min()
    }
}
