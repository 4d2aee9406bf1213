//! The board: one node running every core server, as the firmware does,
//! with its wall clock set by core's SNTP client from the simulated SNTP
//! server, and (optionally) one mail to the simulated SMTP server once that
//! clock is set. Every service event goes to the timeline.

use std::rc::Rc;

use minnow::WallClock;
use minnow::chat::server::OVERFLOW_SOCKETS;
use minnow::file::server::FileTimers;
use minnow::file::store::StaticFiles;
use minnow::net::Stack;
use minnow::net::guard::Guard;
use minnow::net::runner::earliest;
use minnow::service::Service;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, ServiceConfig, ServiceSet, SntpConfig,
    TcpSizing, TimeConfig, UdpSizing,
};
use minnow::time::sntp_client::SntpTimers;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::node::{NodeCtx, Program};
use crate::sockets::Owned;
use crate::tasks::chat::Room;
use crate::tasks::{Outcome, Task, Verdict, describe};

/// Most simultaneous TCP echo clients.
pub const MAX_ECHO: usize = 64;
/// Most simultaneous downloads.
pub const MAX_FILE: usize = 16;
/// Most simultaneous time clients.
pub const MAX_TIME: usize = 8;
/// Most chat room members.
pub const MAX_CHAT: usize = 64;
/// Longest chat line piece.
pub const CHAT_LINE: usize = 1024;
/// Largest UDP echo datagram.
pub const MAX_DATAGRAM: usize = 2048;

/// Ports and sizes of the board's servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardConfig {
    /// The SNTP server that sets the clock.
    pub sntp_server: IpEndpoint,
    /// Seed of the SNTP client's request stamps.
    pub seed: u64,
    /// Simultaneous TCP echo clients (at most [`MAX_ECHO`]).
    pub echo_sockets: usize,
    /// Simultaneous downloads (at most [`MAX_FILE`]).
    pub file_sockets: usize,
    /// Simultaneous time clients (at most [`MAX_TIME`]).
    pub time_sockets: usize,
    /// Chat room places (at most [`MAX_CHAT`]).
    pub chat_sockets: usize,
    /// Each chat member's outgoing queue (its socket's transmit buffer).
    pub chat_queue: usize,
    /// Each TCP echo socket's buffers, each way.
    pub echo_buffer: usize,
    /// Each file socket's transmit buffer.
    pub file_buffer: usize,
    /// Timers of the SNTP client.
    pub sntp_timers: SntpTimers,
    /// Also run RFC 863 discard (TCP and UDP).
    pub discard: bool,
}

impl BoardConfig {
    /// Room for `clients` clients of each server, SNTP from `sntp_server`.
    pub fn for_clients(clients: usize, sntp_server: IpEndpoint, seed: u64) -> Self {
        Self {
            sntp_server,
            seed,
            echo_sockets: clients.clamp(2, MAX_ECHO),
            file_sockets: clients.clamp(2, MAX_FILE),
            time_sockets: clients.clamp(2, MAX_TIME),
            // Two places beyond the clients: the guard's reserve, so that
            // clients joining together never look like a SYN flood.
            chat_sockets: (clients + 2).clamp(2, MAX_CHAT),
            chat_queue: 8 * 1024,
            echo_buffer: 16 * 1024,
            file_buffer: 16 * 1024,
            sntp_timers: SntpTimers {
                reply_timeout: Duration::from_secs(1),
                min_retry: Duration::from_secs(1),
                max_retry: Duration::from_secs(8),
                resync: Duration::from_secs(3600),
            },
            discard: false,
        }
    }
}

impl BoardConfig {
    /// The board's services as core's one configuration value.
    pub fn services(&self) -> ServiceConfig {
        ServiceConfig {
            echo: Some(EchoConfig {
                port: minnow::echo::DEFAULT_PORT,
                tcp: TcpSizing {
                    sockets: self.echo_sockets.min(MAX_ECHO),
                    rx: self.echo_buffer,
                    tx: self.echo_buffer,
                },
                udp: UdpSizing {
                    packets: 32,
                    bytes: 32 * 1024,
                },
                idle_timeout: Some(Duration::from_secs(300)),
            }),
            time: Some(TimeConfig::ctime(
                minnow::time::DEFAULT_PORT,
                TcpSizing {
                    sockets: self.time_sockets.min(MAX_TIME),
                    rx: 64,
                    tx: 64,
                },
                Duration::from_secs(10),
            )),
            file: Some(FileConfig {
                port: minnow::file::DEFAULT_PORT,
                tcp: TcpSizing {
                    sockets: self.file_sockets.min(MAX_FILE),
                    rx: 1024,
                    tx: self.file_buffer,
                },
                timers: FileTimers::DEFAULT,
            }),
            chat: Some(ChatConfig {
                port: minnow::chat::DEFAULT_PORT,
                places: self.chat_sockets.min(MAX_CHAT),
                rx: CHAT_LINE * 2,
                queue: self.chat_queue,
                stall: Duration::from_secs(30),
                overflow: OVERFLOW_SOCKETS,
                overflow_buffer: 64,
                idle_timeout: None,
                raw: false,
            }),
            discard: self.discard.then_some(DiscardConfig {
                port: minnow::discard::DEFAULT_PORT,
                tcp: TcpSizing {
                    sockets: self.echo_sockets.min(MAX_ECHO),
                    rx: self.echo_buffer,
                    tx: 64,
                },
                udp: UdpSizing {
                    packets: 8,
                    bytes: 8 * 1024,
                },
                idle_timeout: Some(Duration::from_secs(300)),
            }),
            sntp: Some(SntpConfig {
                server: self.sntp_server,
                timers: self.sntp_timers,
                udp: UdpSizing {
                    packets: 4,
                    bytes: 256,
                },
            }),
            dhcp: false,
            slaac: false,
            seed: self.seed,
            // The simulated wires lose up to 30% each way: smoltcp's SYN-ACK
            // backoff can then take minutes (134 s for seed 0's chat), and a
            // passive chat client whose handshake the board gave up would
            // wait for ever.
            guard: Guard {
                handshake_timeout: Duration::from_secs(300),
                ..Guard::DEFAULT
            },
        }
    }
}

/// The simulated board's service set.
type BoardServices<'a> = ServiceSet<
    'a,
    StaticFiles<'a>,
    MAX_ECHO,
    MAX_TIME,
    MAX_FILE,
    MAX_CHAT,
    CHAT_LINE,
    MAX_DATAGRAM,
    MAX_ECHO,
>;

/// A task the board runs itself (the mail), once its clock is set.
struct OwnTask<'a> {
    task: Box<dyn Task + 'a>,
    started: Option<Instant>,
    outcome: Option<Outcome>,
}

/// The board: core's service set (ctime time, TCP and UDP echo, files,
/// chat, SNTP client) and a mail to send.
pub struct Board<'a> {
    clock: &'a WallClock,
    room: Rc<Room>,
    set: Box<BoardServices<'a>>,
    mail: Option<OwnTask<'a>>,
}

impl<'a> Board<'a> {
    /// Builds the services on `stack`; `clock` is the board's wall clock,
    /// `files` what the file server serves; the chat room's size is
    /// published to `room`. `mail`, if any, starts once the clock is set.
    pub fn new(
        stack: &mut Stack<'static>,
        config: &BoardConfig,
        clock: &'a WallClock,
        files: StaticFiles<'a>,
        room: Rc<Room>,
        mail: Option<Box<dyn Task + 'a>>,
    ) -> Self {
        let mut set: Box<BoardServices<'a>> = Box::default();
        // The configuration stays within the set's capacities (clamped
        // above), and owned buffers never run out.
        set.build(&config.services(), stack, &mut Owned, clock, Some(files))
            .expect("board services");
        Self {
            clock,
            room,
            set,
            mail: mail.map(|task| OwnTask {
                task,
                started: None,
                outcome: None,
            }),
        }
    }

    /// The board's wall clock.
    pub fn clock(&self) -> &WallClock {
        self.clock
    }
}

impl Program for Board<'_> {
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
        let mut extra: Vec<&mut dyn Service> = Vec::new();
        let mail = self.mail.as_mut().filter(|m| m.outcome.is_none());
        if let Some(s) = mail.and_then(|m| m.task.service()) {
            extra.push(s);
        }
        ctx.stepped = true;
        let mut next = self
            .set
            .poll(ctx.stack, ctx.device, &mut Owned, &mut extra, ctx.now);
        drop(extra);
        self.room.members.set(self.set.chat_members());
        while let Some(e) = self.set.pop_event() {
            ctx.log(e.to_string());
        }
        // Without a mail to drive, nothing touches a socket after the step.
        ctx.settled = true;
        if let Some(m) = self.mail.as_mut().filter(|m| m.outcome.is_none()) {
            ctx.settled = false;
            if m.started.is_none() && self.clock.unix_secs(ctx.now).is_some() {
                ctx.log(format!("{}: start", m.task.name()));
                m.task.start(ctx);
                m.started = Some(ctx.now);
            }
            if m.started.is_some()
                && let Some(outcome) = m.task.drive(ctx)
            {
                ctx.log(describe(&outcome));
                m.outcome = Some(outcome);
            } else if m.started.is_some() {
                next = earliest(next, m.task.poll_at());
            }
        }
        next
    }

    fn busy(&self) -> bool {
        self.mail.as_ref().is_some_and(|m| m.outcome.is_none())
    }

    fn outcomes(&self, now: Instant) -> Vec<Outcome> {
        let Some(m) = &self.mail else {
            return Vec::new();
        };
        if let Some(o) = &m.outcome {
            return vec![o.clone()];
        }
        let why = "not finished when the simulation stopped".to_string();
        let mut o = Outcome::new(
            m.task.name(),
            Verdict::Failed(why.clone()),
            m.started.unwrap_or(now),
            now,
        );
        o.got = why;
        vec![o]
    }
}
