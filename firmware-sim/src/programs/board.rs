//! The board: one node running every core server, as the firmware does,
//! with its wall clock set by core's SNTP client from the simulated SNTP
//! server, and (optionally) one mail to the simulated SMTP server once that
//! clock is set. Every service event goes to the timeline.

use std::rc::Rc;

use minnow::WallClock;
use minnow::chat::ChatEvent;
use minnow::chat::server::ChatServer;
use minnow::echo::EchoEvent;
use minnow::echo::tcp_server::TcpEchoServer;
use minnow::echo::udp_server::UdpEchoServer;
use minnow::file::FileEvent;
use minnow::file::server::{FileServer, FileTimers};
use minnow::file::store::StaticFiles;
use minnow::net::runner::earliest;
use minnow::service::{Net, Service};
use minnow::time::server::TcpTimeServer;
use minnow::time::sntp_client::{SntpClient, SntpEvent, SntpTimers};
use minnow::time::{TimeEvent, TimeFormat, ctime};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::node::{NodeCtx, Program};
use crate::sockets::{tcp_socket, udp_socket};
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
/// The board's local port for SNTP.
const SNTP_LOCAL_PORT: u16 = 50123;

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
            chat_sockets: clients.clamp(2, MAX_CHAT),
            chat_queue: 8 * 1024,
            echo_buffer: 16 * 1024,
            file_buffer: 16 * 1024,
            sntp_timers: SntpTimers {
                reply_timeout: Duration::from_secs(1),
                min_retry: Duration::from_secs(1),
                max_retry: Duration::from_secs(8),
                resync: Duration::from_secs(3600),
            },
        }
    }
}

/// A task the board runs itself (the mail), once its clock is set.
struct OwnTask<'a> {
    task: Box<dyn Task + 'a>,
    started: Option<Instant>,
    outcome: Option<Outcome>,
}

/// The board's servers: ctime time, TCP and UDP echo, files, chat; SNTP
/// client; and a mail to send.
pub struct Board<'a> {
    clock: &'a WallClock,
    room: Rc<Room>,
    chat: ChatServer<MAX_CHAT, CHAT_LINE>,
    sntp: SntpClient<'a>,
    time: TcpTimeServer<'a, MAX_TIME>,
    echo_tcp: TcpEchoServer<MAX_ECHO>,
    echo_udp: UdpEchoServer<MAX_DATAGRAM>,
    file: FileServer<StaticFiles<'a>, MAX_FILE>,
    mail: Option<OwnTask<'a>>,
}

impl<'a> Board<'a> {
    /// Adds every server's sockets to `net`; `clock` is the board's wall
    /// clock, `files` what the file server serves; the chat room's size is
    /// published to `room`. `mail`, if any, starts once the clock is set.
    pub fn new(
        net: &mut Net<'_, 'static>,
        config: &BoardConfig,
        clock: &'a WallClock,
        files: StaticFiles<'a>,
        room: Rc<Room>,
        mail: Option<Box<dyn Task + 'a>>,
    ) -> Self {
        let sockets = &mut *net.sockets;
        // Binding fresh sockets to fixed non-zero ports cannot fail, and the
        // pools are sized above every count the config allows.
        let sntp = SntpClient::new(
            sockets,
            udp_socket(4, 512),
            SNTP_LOCAL_PORT,
            config.sntp_server,
            clock,
            config.sntp_timers,
            config.seed,
        )
        .expect("SNTP port");
        let mut time = TcpTimeServer::new(
            minnow::time::DEFAULT_PORT,
            TimeFormat::Ctime,
            clock,
            Duration::from_secs(10),
        );
        for _ in 0..config.time_sockets.min(MAX_TIME) {
            let _ = time.add_socket(sockets, tcp_socket(64, 64));
        }
        let mut echo_tcp =
            TcpEchoServer::new(minnow::echo::DEFAULT_PORT, Some(Duration::from_secs(300)));
        for _ in 0..config.echo_sockets.min(MAX_ECHO) {
            let b = config.echo_buffer;
            let _ = echo_tcp.add_socket(sockets, tcp_socket(b, b));
        }
        let echo_udp = UdpEchoServer::new(
            sockets,
            udp_socket(32, 32 * 1024),
            minnow::echo::DEFAULT_PORT,
        )
        .expect("UDP echo port");
        let mut file = FileServer::new(minnow::file::DEFAULT_PORT, files, FileTimers::default());
        for _ in 0..config.file_sockets.min(MAX_FILE) {
            let _ = file.add_socket(sockets, tcp_socket(1024, config.file_buffer));
        }
        let mut chat = ChatServer::new(minnow::chat::DEFAULT_PORT, Duration::from_secs(30));
        // Every place has its socket from the start (as on the board); the
        // room is as big as that, so the overflow sockets answer "room
        // full" once every place is taken.
        let places = config.chat_sockets.min(MAX_CHAT);
        chat.set_room(places);
        for _ in 0..places {
            let _ = chat.add_socket(sockets, tcp_socket(CHAT_LINE * 2, config.chat_queue));
        }
        for _ in 0..2 {
            let _ = chat.add_overflow_socket(sockets, tcp_socket(64, 64));
        }
        Self {
            clock,
            room,
            chat,
            sntp,
            time,
            echo_tcp,
            echo_udp,
            file,
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

    fn report(&mut self, ctx: &mut NodeCtx<'_>) {
        while let Some(e) = self.sntp.events.pop() {
            ctx.log(sntp_text(e));
        }
        while let Some(e) = self.time.events.pop() {
            ctx.log(time_text(e));
        }
        while let Some(e) = self.echo_tcp.events.pop() {
            ctx.log(echo_text(e));
        }
        while let Some(e) = self.echo_udp.events.pop() {
            ctx.log(echo_text(e));
        }
        while let Some(e) = self.file.events.pop() {
            ctx.log(file_text(e));
        }
        while let Some(e) = self.chat.events.pop() {
            ctx.log(chat_text(e));
        }
    }
}

fn ctime_text(unix_secs: u64) -> String {
    let mut text = [0u8; ctime::CTIME_LEN];
    match ctime::format(unix_secs, &mut text) {
        Ok(()) => String::from_utf8_lossy(&text).into_owned(),
        Err(_) => format!("{unix_secs} s"),
    }
}

fn sntp_text(e: SntpEvent) -> String {
    match e {
        SntpEvent::Synced { unix_secs, rtt } => format!(
            "sntp: clock set to '{}' (round trip {:.3} ms)",
            ctime_text(unix_secs),
            rtt.total_micros() as f64 / 1000.0
        ),
        SntpEvent::Ignored { from, reason } => format!("sntp: ignored {from}: {reason:?}"),
        SntpEvent::Timeout { retry_in } => {
            format!("sntp: no reply; asking again in {} s", retry_in.secs())
        }
    }
}

fn time_text(e: TimeEvent) -> String {
    match e {
        TimeEvent::Served {
            peer, unix_secs, ..
        } => {
            format!("time: sent '{}' to {peer}", ctime_text(unix_secs))
        }
        TimeEvent::ClockNotSet { peer } => {
            format!("time: {peer} asked before the clock was set: closed without a time")
        }
        TimeEvent::CannotEncode { peer } => format!("time: cannot write the time for {peer}"),
        TimeEvent::Aborted { peer } => format!("time: {peer} went away before the reply"),
    }
}

fn echo_text(e: EchoEvent) -> String {
    match e {
        EchoEvent::Connected { peer } => format!("echo: {peer} connected"),
        EchoEvent::Closed { peer, bytes } => format!("echo: {peer} closed, {bytes} bytes echoed"),
        EchoEvent::Reset { peer, bytes } => {
            format!("echo: {peer} reset after {bytes} bytes")
        }
        EchoEvent::IdleTimeout { peer, bytes } => {
            format!("echo: {peer} idle, aborted after {bytes} bytes")
        }
        EchoEvent::DatagramDropped { peer } => {
            format!("echo: a datagram from {peer} was too long, dropped")
        }
    }
}

fn file_text(e: FileEvent) -> String {
    match e {
        FileEvent::Sending { peer, default } => format!(
            "file: sending {} to {peer}",
            if default {
                "the default file"
            } else {
                "a named file"
            }
        ),
        FileEvent::Sent { peer, bytes } => format!("file: sent {bytes} bytes to {peer}"),
        FileEvent::Refused { peer, reason } => format!(
            "file: refused {peer}: {}",
            String::from_utf8_lossy(reason.line()).trim_end()
        ),
        FileEvent::Aborted { peer, bytes } => {
            format!("file: {peer} went away after {bytes} bytes")
        }
        FileEvent::ReadFailed { peer, bytes } => {
            format!("file: read failed after {bytes} bytes to {peer}: reset")
        }
    }
}

fn chat_text(e: ChatEvent) -> String {
    match e {
        ChatEvent::Joined { peer } => format!("chat: {peer} joined"),
        ChatEvent::Left { peer } => format!("chat: {peer} left"),
        ChatEvent::DroppedSlowReader { peer } => {
            format!("chat: {peer} stopped reading: disconnected")
        }
        ChatEvent::RoomFull { peer } => format!("chat: room full for {peer}"),
    }
}

impl Program for Board<'_> {
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
        let mut services: Vec<&mut dyn Service> = vec![
            &mut self.sntp,
            &mut self.time,
            &mut self.echo_tcp,
            &mut self.echo_udp,
            &mut self.file,
            &mut self.chat,
        ];
        let mail = self.mail.as_mut().filter(|m| m.outcome.is_none());
        if let Some(s) = mail.and_then(|m| m.task.service()) {
            services.push(s);
        }
        let mut next = ctx.step(&mut services);
        self.room.members.set(self.chat.members());
        self.report(ctx);
        if let Some(m) = self.mail.as_mut().filter(|m| m.outcome.is_none()) {
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
