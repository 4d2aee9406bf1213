//! The SNTP client (RFC 4330): sets the [`WallClock`] from a server and keeps
//! it in step.
//!
//! It sends a request, waits for the reply that echoes its own transmit
//! timestamp (a reply that does not, or that comes from elsewhere, is
//! ignored: spoofing and stale replies cannot set the clock), retries with a
//! doubling back-off while it gets no good answer, and re-syncs at a fixed
//! interval once it has one.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::sntp::{self, NtpTimestamp, SntpError};
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
    /// The reply failed a check of RFC 4330.
    Invalid(SntpError),
}

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
}

/// An SNTP client for one server. RAM: about 100 bytes + 8 × 40 bytes of
/// events, plus the socket's buffers (two 48-byte datagrams each way suffice).
pub struct SntpClient<'c> {
    handle: SocketHandle,
    server: IpEndpoint,
    clock: &'c WallClock,
    timers: SntpTimers,
    state: State,
    retry: Duration,
    nonce: u64,
    /// Events for the caller to drain.
    pub events: EventQueue<SntpEvent, 8>,
}

impl<'c> SntpClient<'c> {
    /// Binds `socket` to `local_port`, adds it to the set; the first request
    /// goes out on the first poll. `seed` makes request timestamps hard to
    /// guess while the clock is unset.
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
            nonce: seed | 1,
            events: EventQueue::new(),
        })
    }

    /// The transmit timestamp of the next request: the clock's time when set,
    /// else an unpredictable value (RFC 4330 lets a client without a clock
    /// send any value; the server echoes it back as the originate time).
    fn transmit_stamp(&mut self, now: Instant) -> NtpTimestamp {
        // xorshift64: cheap and good enough to make blind spoofing a guess.
        self.nonce ^= self.nonce << 13;
        self.nonce ^= self.nonce >> 7;
        self.nonce ^= self.nonce << 17;
        let micros = match self.clock.unix_micros(now) {
            Some(us) => us ^ (self.nonce & 0x3ff),
            None => self.nonce >> 16,
        };
        let stamp = NtpTimestamp::from_unix_micros(micros);
        if stamp.is_zero() {
            NtpTimestamp::from_unix_micros(1)
        } else {
            stamp
        }
    }

    fn fail(&mut self, now: Instant) {
        let retry_in = self.retry;
        self.retry = if self.retry * 2 > self.timers.max_retry {
            self.timers.max_retry
        } else {
            self.retry * 2
        };
        self.state = State::Idle {
            next: now + retry_in,
        };
        self.events.push(SntpEvent::Timeout { retry_in });
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
                Ok(reply) => {
                    let rtt = now - sent_at;
                    if let Some(unix_us) = sntp::server_time_micros(&reply, rtt.total_micros()) {
                        self.clock.set_unix_micros(unix_us, now);
                        self.retry = self.timers.min_retry;
                        self.state = State::Idle {
                            next: now + self.timers.resync,
                        };
                        self.events.push(SntpEvent::Synced {
                            unix_secs: unix_us / 1_000_000,
                            rtt,
                        });
                    }
                }
                Err(e) => self.events.push(SntpEvent::Ignored {
                    from,
                    reason: Rejected::Invalid(e),
                }),
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
        Some(match self.state {
            State::Idle { next } => next,
            State::Waiting { deadline, .. } => deadline,
        })
    }
}
