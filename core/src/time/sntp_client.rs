//! The SNTP client (RFC 4330): sets the [`WallClock`] from a server and keeps
//! it in step.
//!
//! It sends a request, waits for the reply that echoes its own transmit
//! timestamp (a reply that does not, or that comes from elsewhere, is
//! ignored: spoofing and stale replies cannot set the clock), retries with a
//! doubling back-off while it gets no good answer, and re-syncs at a fixed
//! interval once it has one.
//!
//! Against a hostile network or an unwilling server:
//!
//! - Transmit timestamps are fully random (SipHash-2-4 keyed by the seed,
//!   over a counter and the request's monotonic time), never the clock: a
//!   request reveals nothing of the clock, and an off-path spoofer must
//!   guess 64 bits to have a reply accepted.
//! - Kiss-o'-death (RFC 4330 section 8, RFC 5905 section 7.4), believed only
//!   when it echoes our transmit timestamp: `RATE` doubles every delay the
//!   client schedules (up to ×[`MAX_SLOWDOWN`]), `DENY` and `RSTR` stop it
//!   for good ([`SntpClient::refused`]). Both are reported as
//!   [`SntpEvent::Ignored`] whose text says what the client does.
//! - Once the clock is set, a reply moves it only if it *agrees*: its offset
//!   from the clock is within [`AGREE_US`] (1 s, so it confirms the last
//!   setting, which the clock carries), or within [`AGREE_US`] of the
//!   previous reply's offset. A reply that disagrees is held as a candidate
//!   and the client asks again after `min_retry`; one wild reply, spoofed or
//!   from a server with a bad moment, never steps the clock.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use core::hash::Hasher as _;

use super::sntp::{self, Kiss, NtpTimestamp, SntpError};
use crate::clock::WallClock;
use crate::service::{EventQueue, Net, Service};

/// Timers of the SNTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SntpTimers {
    /// How long to wait for a reply.
    pub reply_timeout: Duration,
    /// First retry delay after a failure; doubles up to `max_retry`.
    pub min_retry: Duration,
    /// Longest retry delay.
    pub max_retry: Duration,
    /// Re-sync interval after a success.
    pub resync: Duration,
}

impl SntpTimers {
    /// 3 s reply timeout, retries from 2 s to 64 s, re-sync every hour.
    pub const DEFAULT: Self = Self {
        reply_timeout: Duration::from_secs(3),
        min_retry: Duration::from_secs(2),
        max_retry: Duration::from_secs(64),
        resync: Duration::from_secs(3600),
    };
}

impl Default for SntpTimers {
    /// [`SntpTimers::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a datagram did not set the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// It came from another address or port than the server's.
    WrongSource,
    /// The reply failed a check of RFC 4330, was a kiss-o'-death, or its
    /// time disagreed with the clock (`SntpError::Disagrees`).
    Invalid(SntpError),
}

/// Two offsets (a reply's from the clock, or two replies') agree when they
/// differ by at most this: 1 s, in microseconds. Far above the jitter of a
/// LAN or the Internet and the drift of a crystal over the hour between
/// syncs, far below any step worth an attack.
pub const AGREE_US: i64 = 1_000_000;

/// The most a run of `RATE` kisses slows the client: every delay ×16
/// (re-sync every 16 h with the default timers).
pub const MAX_SLOWDOWN: u32 = 16;

/// The key half that is not the seed (SipHash takes 128 bits; the seed gives
/// the secret 64, this only separates SNTP's use of the seed from others').
const STAMP_KEY: u64 = 0x736e_7470_7374_616d;

/// What the SNTP client reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SntpEvent {
    /// The clock was set.
    Synced {
        /// The time set, Unix seconds.
        unix_secs: u64,
        /// Round trip of the exchange.
        rtt: Duration,
    },
    /// A datagram was ignored.
    Ignored {
        /// Who sent it.
        from: IpEndpoint,
        /// Why.
        reason: Rejected,
    },
    /// No good reply in time; will retry after `retry_in`.
    Timeout {
        /// Delay before the next request.
        retry_in: Duration,
    },
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Next request at this time.
    Idle { next: Instant },
    /// Request sent; waiting until `deadline`.
    Waiting {
        sent: NtpTimestamp,
        sent_at: Instant,
        deadline: Instant,
    },
    /// The server sent `DENY` or `RSTR`: no more requests, ever.
    Refused,
}

/// What one reply does to the clock.
enum Verdict {
    /// Set the clock to this (Unix microseconds now).
    Step(u64),
    /// Hold this offset until a second reply agrees.
    Hold(i64),
}

/// An SNTP client for one server. RAM: about 120 bytes + 8 × 40 bytes of
/// events, plus the socket's buffers (two 48-byte datagrams each way suffice).
pub struct SntpClient<'c> {
    handle: SocketHandle,
    server: IpEndpoint,
    clock: &'c WallClock,
    timers: SntpTimers,
    state: State,
    retry: Duration,
    /// Every delay is multiplied by this: 1, doubled by each `RATE` kiss up
    /// to [`MAX_SLOWDOWN`].
    slowdown: u32,
    /// A reply's offset from the clock (µs) that disagreed, waiting for a
    /// second one to confirm it.
    candidate: Option<i64>,
    /// SipHash key for the transmit timestamps: the seed.
    key: u64,
    /// Requests sent, SipHash's input with the time.
    count: u64,
    /// Events for the caller to drain.
    pub events: EventQueue<SntpEvent, 8>,
}

impl<'c> SntpClient<'c> {
    /// Binds `socket` to `local_port`, adds it to the set; the first request
    /// goes out on the first poll. `seed` keys the random transmit
    /// timestamps: give it as much entropy as the runtime has.
    pub fn new<'b>(
        sockets: &mut SocketSet<'b>,
        mut socket: udp::Socket<'b>,
        local_port: u16,
        server: IpEndpoint,
        clock: &'c WallClock,
        timers: SntpTimers,
        seed: u64,
    ) -> Result<Self, udp::BindError> {
        socket.bind(local_port)?;
        Ok(Self {
            handle: sockets.add(socket),
            server,
            clock,
            timers,
            state: State::Idle {
                next: Instant::ZERO,
            },
            retry: timers.min_retry,
            slowdown: 1,
            candidate: None,
            key: seed,
            count: 0,
            events: EventQueue::new(),
        })
    }

    /// Whether the server refused us with a `DENY` or `RSTR` kiss: the
    /// client has stopped and the clock is no longer kept in step.
    pub fn refused(&self) -> bool {
        matches!(self.state, State::Refused)
    }

    /// The transmit timestamp of the next request: 64 random bits (RFC 4330
    /// lets a client send any value; the server only echoes it back), never
    /// zero. `now` adds the timing jitter of the network to the seed's
    /// entropy, which matters on a board without a random source.
    fn transmit_stamp(&mut self, now: Instant) -> NtpTimestamp {
        self.count = self.count.wrapping_add(1);
        // SipHash-2-4 is core's one keyed PRF: outputs do not reveal the key,
        // so one observed request does not predict the next (xorshift would).
        #[allow(deprecated)]
        let mut h = core::hash::SipHasher::new_with_keys(self.key, STAMP_KEY);
        h.write_u64(self.count);
        h.write_i64(now.total_micros());
        let r = h.finish();
        NtpTimestamp {
            seconds: (r >> 32) as u32,
            fraction: (r as u32).max(1),
        }
    }

    /// Idle until `delay` (scaled by the `RATE` slowdown) from `now`.
    fn idle(&mut self, now: Instant, delay: Duration) -> Duration {
        let delay = delay * self.slowdown;
        self.state = State::Idle { next: now + delay };
        delay
    }

    /// No usable reply: back off, doubling up to `max_retry`.
    fn fail(&mut self, now: Instant) {
        let retry_in = self.idle(now, self.retry);
        self.retry = (self.retry * 2).min(self.timers.max_retry);
        self.events.push(SntpEvent::Timeout { retry_in });
    }

    /// What a kiss-o'-death from the server does to the schedule.
    fn kissed(&mut self, code: [u8; 4], now: Instant) {
        match Kiss::from_code(code) {
            Kiss::Deny => self.state = State::Refused,
            Kiss::Rate => {
                self.slowdown = (self.slowdown * 2).min(MAX_SLOWDOWN);
                self.retry = self.timers.max_retry;
                self.idle(now, self.retry);
            }
            // Informational: wait for the timeout as if nothing came.
            Kiss::Other => {}
        }
    }

    /// Whether the server's time `server_us` may set the clock now.
    fn judge(&self, server_us: u64, now: Instant) -> Verdict {
        let Some(local_us) = self.clock.unix_micros(now) else {
            return Verdict::Step(server_us); // the first sync
        };
        let offset = (server_us as i64).saturating_sub(local_us as i64);
        let agrees = |with: i64| offset.saturating_sub(with).unsigned_abs() <= AGREE_US as u64;
        if agrees(0) || self.candidate.is_some_and(agrees) {
            Verdict::Step(server_us)
        } else {
            Verdict::Hold(offset)
        }
    }

    /// A reply that passed every check.
    fn answered(&mut self, reply: &sntp::Reply, sent_at: Instant, now: Instant) {
        let rtt = now - sent_at;
        let Some(unix_us) = sntp::server_time_micros(reply, rtt.total_micros()) else {
            return;
        };
        match self.judge(unix_us, now) {
            Verdict::Step(unix_us) => {
                self.clock.set_unix_micros(unix_us, now);
                self.candidate = None;
                self.retry = self.timers.min_retry;
                self.idle(now, self.timers.resync);
                self.events.push(SntpEvent::Synced {
                    unix_secs: unix_us / 1_000_000,
                    rtt,
                });
            }
            Verdict::Hold(offset) => {
                self.candidate = Some(offset);
                self.idle(now, self.timers.min_retry);
                self.events.push(SntpEvent::Ignored {
                    from: self.server,
                    reason: Rejected::Invalid(SntpError::Disagrees {
                        offset_secs: offset / 1_000_000,
                    }),
                });
            }
        }
    }
}

impl Service for SntpClient<'_> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let mut packet = [0u8; sntp::PACKET_LEN + 16];
        loop {
            let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
            let (len, from) = match socket.recv_slice(&mut packet) {
                Ok((len, meta)) => (len, meta.endpoint),
                Err(udp::RecvError::Truncated) => continue,
                Err(udp::RecvError::Exhausted) => break,
            };
            let State::Waiting { sent, sent_at, .. } = self.state else {
                continue;
            };
            if from != self.server {
                let reason = Rejected::WrongSource;
                self.events.push(SntpEvent::Ignored { from, reason });
                continue;
            }
            match sntp::parse_reply(&packet[..len], sent) {
                Ok(reply) => self.answered(&reply, sent_at, now),
                Err(e) => {
                    if let SntpError::KissOfDeath(code) = e {
                        self.kissed(code, now);
                    }
                    self.events.push(SntpEvent::Ignored {
                        from,
                        reason: Rejected::Invalid(e),
                    });
                }
            }
        }
        match self.state {
            State::Idle { next } if now >= next => {
                let stamp = self.transmit_stamp(now);
                let mut request = [0u8; sntp::PACKET_LEN];
                sntp::encode_request(stamp, &mut request);
                let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
                match socket.send_slice(&request, self.server) {
                    Ok(()) => {
                        self.state = State::Waiting {
                            sent: stamp,
                            sent_at: now,
                            deadline: now + self.timers.reply_timeout,
                        };
                    }
                    Err(_) => self.fail(now),
                }
            }
            State::Waiting { deadline, .. } if now >= deadline => self.fail(now),
            _ => {}
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        match self.state {
            State::Idle { next } => Some(next),
            State::Waiting { deadline, .. } => Some(deadline),
            State::Refused => None,
        }
    }
}
