//! The service set: every service a [`ServiceConfig`] names, built once,
//! polled as one [`Service`], its events drained as one [`Event`] stream.
//!
//! Pool capacities are const parameters (so the board pays RAM only for
//! the sockets it has); the numbers of sockets actually used come from the
//! configuration and must not exceed them ([`BuildError::Capacity`]).

// With a service's feature off, some of the plumbing for it is unused.
#![cfg_attr(
    not(all(
        feature = "echo",
        feature = "time",
        feature = "daytime",
        feature = "rfc868",
        feature = "file",
        feature = "chat",
        feature = "discard"
    )),
    allow(unused_mut, unused_variables, unused_imports, dead_code)
)]

use smoltcp::iface::SocketSet;
use smoltcp::phy::Device;
use smoltcp::time::Instant;

use super::config::ServiceConfig;
use super::event::{Event, Transport};
use crate::clock::WallClock;
use crate::file::store::FileStore;
#[cfg(feature = "dhcp")]
use crate::net::dhcp::{DhcpClient, DhcpEvent};
use crate::net::guard::Guard;
#[cfg(feature = "slaac")]
use crate::net::slaac::SlaacWatch;
#[cfg(feature = "udp-rate")]
use crate::net::source_rate::SourceRate;
use crate::net::stack::Stack;
use crate::net::storage::{OutOfMemory, SocketAlloc};
use crate::service::{Net, Service};
use crate::time::sntp_client::SntpClient;

#[cfg(feature = "chat")]
use crate::chat::server::ChatServer;
#[cfg(feature = "discard")]
use crate::discard::{tcp_server::TcpDiscardServer, udp_server::UdpDiscardServer};
#[cfg(feature = "echo")]
use crate::echo::{tcp_server::TcpEchoServer, udp_server::UdpEchoServer};
#[cfg(feature = "file")]
use crate::file::server::FileServer;
#[cfg(feature = "rfc868")]
use crate::time::udp_server::UdpTimeServer;
#[cfg(feature = "time")]
use crate::time::{TimeFormat, server::TcpTimeServer};

/// The set's UDP limiter for a server's [`serve`](crate::echo::udp_server::UdpEchoServer::serve),
/// or none where the `udp-rate` feature is off.
macro_rules! limiter {
    ($set:expr) => {{
        #[cfg(feature = "udp-rate")]
        let limit = Some(&mut $set.udp_rate);
        #[cfg(not(feature = "udp-rate"))]
        let limit = None;
        limit
    }};
}

/// Why a set could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildError {
    /// The socket allocator ran out of memory.
    Memory(OutOfMemory),
    /// A UDP port could not be bound (0, or already bound in this set).
    Bind {
        /// The service.
        service: &'static str,
        /// The port.
        port: u16,
    },
    /// The configuration asks for more sockets than the set's capacity.
    Capacity {
        /// The service.
        service: &'static str,
        /// Sockets asked for.
        asked: usize,
        /// The set's capacity for it.
        max: usize,
    },
    /// A file service was configured without a store to serve.
    NoStore,
    /// The configuration names a service this build leaves out (a Cargo
    /// feature of `minnow` is off).
    NotBuilt(&'static str),
}

impl From<OutOfMemory> for BuildError {
    fn from(e: OutOfMemory) -> Self {
        BuildError::Memory(e)
    }
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::Memory(e) => e.fmt(f),
            BuildError::Bind { service, port } => {
                write!(f, "{service}: cannot bind UDP port {port}")
            }
            BuildError::Capacity {
                service,
                asked,
                max,
            } => write!(f, "{service}: {asked} sockets asked, at most {max}"),
            BuildError::NoStore => f.write_str("file: no folder or file table to serve"),
            BuildError::NotBuilt(s) => write!(f, "{s}: not built into this image"),
        }
    }
}

fn check(service: &'static str, asked: usize, max: usize) -> Result<(), BuildError> {
    if asked > max {
        Err(BuildError::Capacity {
            service,
            asked,
            max,
        })
    } else {
        Ok(())
    }
}

/// Every service of a node.
///
/// Const parameters: the most TCP connections of echo (`ECHO`), of each
/// time port (`TIME`), of file transfer (`FILE`), of chat members (`CHAT`)
/// and of discard (`DISCARD`); the longest chat line taken whole (`LINE`)
/// and the longest UDP echo datagram (`DGRAM`). RAM: the services' own
/// structs (their docs give each one's cost; `size_of` gives the total),
/// plus the socket buffers, which come from the [`SocketAlloc`].
pub struct ServiceSet<
    'c,
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> {
    #[cfg(feature = "dhcp")]
    dhcp: Option<DhcpClient>,
    #[cfg(feature = "slaac")]
    slaac: Option<SlaacWatch>,
    sntp: Option<SntpClient<'c>>,
    #[cfg(feature = "time")]
    time: Option<TcpTimeServer<'c, TIME>>,
    #[cfg(feature = "daytime")]
    daytime: Option<TcpTimeServer<'c, TIME>>,
    #[cfg(feature = "rfc868")]
    rfc868: Option<(TcpTimeServer<'c, TIME>, UdpTimeServer<'c>)>,
    #[cfg(feature = "echo")]
    echo: Option<(TcpEchoServer<ECHO>, UdpEchoServer<DGRAM>)>,
    #[cfg(feature = "file")]
    file: Option<FileServer<F, FILE>>,
    #[cfg(not(feature = "file"))]
    file: core::marker::PhantomData<F>,
    #[cfg(feature = "chat")]
    chat: Option<ChatServer<CHAT, LINE>>,
    /// The chat members' buffers, for the sockets added as the room fills.
    #[cfg(feature = "chat")]
    chat_buffers: (usize, usize),
    #[cfg(feature = "discard")]
    discard: Option<(TcpDiscardServer<DISCARD>, UdpDiscardServer)>,
    /// Answers per source address for the UDP echo and RFC 868 servers
    /// together (`Guard::udp_rate`; one table, so a victim counts the
    /// answers of both).
    #[cfg(feature = "udp-rate")]
    udp_rate: SourceRate,
    ports: Ports,
    /// `Ready` is due (at build without DHCP, on the lease with it).
    ready_due: bool,
    ready_told: bool,
}

/// The ports of the servers, for event text. RAM: 10 bytes.
// A port is unread when its service's feature is off.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, Default)]
struct Ports {
    echo: u16,
    time: u16,
    file: u16,
    chat: u16,
    discard: u16,
}

impl<
    'c,
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> Default for ServiceSet<'c, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
    'c,
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> ServiceSet<'c, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>
{
    /// A set with no service. `const`, so a board can place it in a static
    /// and [`ServiceSet::build`] fills it in place, one service at a time
    /// (the stack then holds one service under construction, not all).
    pub const fn new() -> Self {
        Self {
            #[cfg(feature = "dhcp")]
            dhcp: None,
            #[cfg(feature = "slaac")]
            slaac: None,
            sntp: None,
            #[cfg(feature = "time")]
            time: None,
            #[cfg(feature = "daytime")]
            daytime: None,
            #[cfg(feature = "rfc868")]
            rfc868: None,
            #[cfg(feature = "echo")]
            echo: None,
            #[cfg(feature = "file")]
            file: None,
            #[cfg(not(feature = "file"))]
            file: core::marker::PhantomData,
            #[cfg(feature = "chat")]
            chat: None,
            #[cfg(feature = "chat")]
            chat_buffers: (0, 0),
            #[cfg(feature = "discard")]
            discard: None,
            #[cfg(feature = "udp-rate")]
            udp_rate: SourceRate::new(None),
            ports: Ports {
                echo: 0,
                time: 0,
                file: 0,
                chat: 0,
                discard: 0,
            },
            ready_due: false,
            ready_told: false,
        }
    }

    /// Builds every service `config` names on `stack`, with socket buffers
    /// from `alloc`; `clock` is the wall clock the time servers read and
    /// SNTP sets, `files` what the file server serves.
    ///
    /// The socket set needs [`ServiceConfig::sockets`] free slots (smoltcp
    /// panics when a fixed-size set overflows). Inlined where it can be: a
    /// board's `config` is a constant, and what it leaves out folds away.
    #[inline(always)]
    pub fn build<'s>(
        &mut self,
        config: &ServiceConfig,
        stack: &mut Stack<'s>,
        alloc: &mut impl SocketAlloc<'s>,
        clock: &'c WallClock,
        files: Option<F>,
    ) -> Result<(), BuildError> {
        let sockets = &mut stack.sockets;
        #[cfg(feature = "udp-rate")]
        self.udp_rate.set_rate(config.guard.udp_rate);
        #[cfg(not(feature = "udp-rate"))]
        if config.guard.udp_rate.is_some() {
            return Err(BuildError::NotBuilt("udp-rate"));
        }
        if let Some(_c) = config.time {
            #[cfg(not(feature = "time"))]
            return Err(BuildError::NotBuilt("time"));
            #[cfg(feature = "time")]
            {
                check("time", _c.tcp.sockets, TIME)?;
                self.ports.time = _c.port;
                let mut server = |port, format| -> Result<TcpTimeServer<'c, TIME>, BuildError> {
                    let mut s = TcpTimeServer::new(port, format, clock, _c.linger);
                    s.set_guard(short_lived(config.guard));
                    for _ in 0.._c.tcp.sockets {
                        let socket = alloc.tcp(_c.tcp.rx, _c.tcp.tx)?;
                        // Cannot fail: checked against TIME above.
                        let _ = s.add_socket(sockets, socket);
                    }
                    Ok(s)
                };
                self.time = Some(server(_c.port, TimeFormat::Ctime)?);
                if _c.daytime {
                    #[cfg(not(feature = "daytime"))]
                    return Err(BuildError::NotBuilt("daytime"));
                    #[cfg(feature = "daytime")]
                    {
                        self.daytime = Some(server(crate::time::DAYTIME_PORT, TimeFormat::Ctime)?);
                    }
                }
                if _c.rfc868 {
                    #[cfg(not(feature = "rfc868"))]
                    return Err(BuildError::NotBuilt("rfc868"));
                    #[cfg(feature = "rfc868")]
                    {
                        let port = crate::time::RFC868_PORT;
                        let tcp = server(port, TimeFormat::Rfc868)?;
                        let socket = alloc.udp(_c.udp.packets, _c.udp.bytes)?;
                        let udp =
                            UdpTimeServer::new(sockets, socket, port, clock).map_err(|_| {
                                BuildError::Bind {
                                    service: "time",
                                    port,
                                }
                            })?;
                        self.rfc868 = Some((tcp, udp));
                    }
                }
            }
        }
        if let Some(_c) = config.echo {
            #[cfg(not(feature = "echo"))]
            return Err(BuildError::NotBuilt("echo"));
            #[cfg(feature = "echo")]
            {
                check("echo", _c.tcp.sockets, ECHO)?;
                self.ports.echo = _c.port;
                let mut tcp = TcpEchoServer::new(_c.port, _c.idle_timeout);
                tcp.set_guard(short_lived(config.guard));
                for _ in 0.._c.tcp.sockets {
                    let _ = tcp.add_socket(sockets, alloc.tcp(_c.tcp.rx, _c.tcp.tx)?);
                }
                let socket = alloc.udp(_c.udp.packets, _c.udp.bytes)?;
                let udp =
                    UdpEchoServer::new(sockets, socket, _c.port).map_err(|_| BuildError::Bind {
                        service: "echo",
                        port: _c.port,
                    })?;
                self.echo = Some((tcp, udp));
            }
        }
        if let Some(_c) = config.file {
            #[cfg(not(feature = "file"))]
            return Err(BuildError::NotBuilt("file"));
            #[cfg(feature = "file")]
            {
                check("file", _c.tcp.sockets, FILE)?;
                let store = files.ok_or(BuildError::NoStore)?;
                self.ports.file = _c.port;
                let mut server = FileServer::new(_c.port, store, _c.timers);
                server.set_guard(short_lived(config.guard));
                for _ in 0.._c.tcp.sockets {
                    let _ = server.add_socket(sockets, alloc.tcp(_c.tcp.rx, _c.tcp.tx)?);
                }
                self.file = Some(server);
            }
        }
        #[cfg(not(feature = "file"))]
        drop(files);
        if let Some(_c) = config.chat {
            #[cfg(not(feature = "chat"))]
            return Err(BuildError::NotBuilt("chat"));
            #[cfg(feature = "chat")]
            {
                use crate::chat::server::OVERFLOW_SOCKETS;
                check("chat", _c.places, CHAT)?;
                check("chat overflow", _c.overflow, OVERFLOW_SOCKETS)?;
                self.ports.chat = _c.port;
                self.chat_buffers = (_c.rx, _c.queue);
                let mut room = ChatServer::new(_c.port, _c.stall);
                room.set_guard(config.guard);
                room.set_idle_timeout(_c.idle_timeout);
                room.set_raw(_c.raw);
                // The room grows its sockets as members come (see
                // ChatServer::wants_socket): a few spare ones listen now.
                room.set_room(_c.places);
                while room.wants_socket() {
                    let _ = room.add_socket(sockets, alloc.tcp(_c.rx, _c.queue)?);
                }
                for _ in 0.._c.overflow {
                    let b = _c.overflow_buffer;
                    let _ = room.add_overflow_socket(sockets, alloc.tcp(b, b)?);
                }
                self.chat = Some(room);
            }
        }
        if let Some(_c) = config.discard {
            #[cfg(not(feature = "discard"))]
            return Err(BuildError::NotBuilt("discard"));
            #[cfg(feature = "discard")]
            {
                check("discard", _c.tcp.sockets, DISCARD)?;
                self.ports.discard = _c.port;
                let mut tcp = TcpDiscardServer::new(_c.port, _c.idle_timeout);
                tcp.set_guard(short_lived(config.guard));
                for _ in 0.._c.tcp.sockets {
                    let _ = tcp.add_socket(sockets, alloc.tcp(_c.tcp.rx, _c.tcp.tx)?);
                }
                let socket = alloc.udp(_c.udp.packets, _c.udp.bytes)?;
                let udp = UdpDiscardServer::new(sockets, socket, _c.port).map_err(|_| {
                    BuildError::Bind {
                        service: "discard",
                        port: _c.port,
                    }
                })?;
                self.discard = Some((tcp, udp));
            }
        }
        if let Some(c) = config.sntp {
            let socket = alloc.udp(c.udp.packets, c.udp.bytes)?;
            let port = stack.ports.next_port();
            let client = SntpClient::new(
                &mut stack.sockets,
                socket,
                port,
                c.server,
                clock,
                c.timers,
                config.seed,
            )
            .map_err(|_| BuildError::Bind {
                service: "sntp",
                port,
            })?;
            self.sntp = Some(client);
        }
        #[cfg(feature = "dhcp")]
        if config.dhcp {
            self.dhcp = Some(DhcpClient::new(&mut stack.sockets));
        }
        #[cfg(feature = "slaac")]
        if config.slaac {
            self.slaac = Some(SlaacWatch::new(&stack.iface));
        }
        #[cfg(feature = "dhcp")]
        {
            self.ready_due = !config.dhcp;
        }
        #[cfg(not(feature = "dhcp"))]
        {
            self.ready_due = true;
        }
        Ok(())
    }

    /// One step of the node's loop: `stack` polls the interface, this set
    /// and then `extra` (the runtime's own clients), and the chat room gets
    /// the sockets it asks for. Returns the next deadline.
    pub fn poll<'s, D: Device + ?Sized>(
        &mut self,
        stack: &mut Stack<'s>,
        device: &mut D,
        alloc: &mut impl SocketAlloc<'s>,
        extra: &mut [&mut dyn Service],
        now: Instant,
    ) -> Option<Instant> {
        let next = stack.poll(device, &mut (&mut *self, extra), now);
        // Set before smoltcp applies the advertisement's address (next
        // step), so one event reports both.
        #[cfg(feature = "slaac")]
        if let Some(watch) = self.slaac.as_mut() {
            watch.set_dns(stack.gate.advertised_dns());
        }
        if self.grow(&mut stack.sockets, alloc) {
            Some(now)
        } else {
            next
        }
    }

    /// Adds member sockets while the chat room asks for them and memory
    /// lasts; returns whether it added any.
    fn grow<'s>(
        &mut self,
        _sockets: &mut SocketSet<'s>,
        _alloc: &mut impl SocketAlloc<'s>,
    ) -> bool {
        let mut grew = false;
        #[cfg(feature = "chat")]
        if let Some(room) = self.chat.as_mut() {
            let (rx, tx) = self.chat_buffers;
            while room.wants_socket() {
                // Out of memory: the room stays at the places it has.
                let Ok(socket) = _alloc.tcp(rx, tx) else {
                    crate::diag::warning!("chat: no memory for another member socket");
                    break;
                };
                let _ = room.add_socket(_sockets, socket);
                grew = true;
            }
        }
        grew
    }

    /// The next event any service reports, oldest first within a service.
    #[inline(never)]
    pub fn pop_event(&mut self) -> Option<Event> {
        #[cfg(feature = "dhcp")]
        if let Some(d) = self.dhcp.as_mut()
            && let Some(e) = d.events.pop()
        {
            if matches!(e, DhcpEvent::Configured(_)) && !self.ready_told {
                self.ready_due = true;
            }
            return Some(Event::Dhcp(e));
        }
        #[cfg(feature = "slaac")]
        if let Some(e) = self.slaac.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::Slaac(e));
        }
        if self.ready_due && !self.ready_told {
            self.ready_told = true;
            return Some(Event::Ready);
        }
        if let Some(e) = self.sntp.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::Sntp(e));
        }
        let p = self.ports;
        #[cfg(feature = "time")]
        if let Some(event) = self.time.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::Time {
                transport: Transport::Tcp,
                port: p.time,
                event,
            });
        }
        #[cfg(feature = "daytime")]
        if let Some(event) = self.daytime.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::Time {
                transport: Transport::Tcp,
                port: crate::time::DAYTIME_PORT,
                event,
            });
        }
        #[cfg(feature = "rfc868")]
        if let Some((tcp, udp)) = self.rfc868.as_mut() {
            let port = crate::time::RFC868_PORT;
            if let Some(event) = tcp.events.pop() {
                return Some(Event::Time {
                    transport: Transport::Tcp,
                    port,
                    event,
                });
            }
            if let Some(event) = udp.events.pop() {
                return Some(Event::Time {
                    transport: Transport::Udp,
                    port,
                    event,
                });
            }
        }
        #[cfg(feature = "echo")]
        if let Some((tcp, udp)) = self.echo.as_mut() {
            if let Some(event) = tcp.events.pop() {
                return Some(Event::Echo {
                    transport: Transport::Tcp,
                    port: p.echo,
                    event,
                });
            }
            if let Some(event) = udp.events.pop() {
                return Some(Event::Echo {
                    transport: Transport::Udp,
                    port: p.echo,
                    event,
                });
            }
        }
        #[cfg(feature = "file")]
        if let Some(event) = self.file.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::File {
                port: p.file,
                event,
            });
        }
        #[cfg(feature = "chat")]
        if let Some(event) = self.chat.as_mut().and_then(|s| s.events.pop()) {
            return Some(Event::Chat {
                port: p.chat,
                event,
            });
        }
        #[cfg(feature = "discard")]
        if let Some(event) = self.discard.as_mut().and_then(|(s, _)| s.events.pop()) {
            return Some(Event::Discard {
                port: p.discard,
                event,
            });
        }
        None
    }

    /// What the set serves, for a startup line: `echo tcp+udp/12345, time
    /// tcp/9999, ...` (`nothing` when empty).
    pub fn listening(&self) -> Listening<'_, 'c, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD> {
        Listening(self)
    }

    /// The chat room's members in the room now (0 without a room).
    pub fn chat_members(&self) -> usize {
        #[cfg(feature = "chat")]
        if let Some(room) = &self.chat {
            return room.members();
        }
        0
    }

    /// The UDP discard server's datagram and byte counts.
    #[cfg(feature = "discard")]
    pub fn discarded_datagrams(&self) -> Option<(u64, u64)> {
        self.discard.as_ref().map(|(_, udp)| udp.counts())
    }

    /// UDP datagrams the echo and RFC 868 servers dropped unanswered so
    /// that they could not reflect them (see [`crate::net::reflect`]).
    pub fn unanswered_datagrams(&self) -> u64 {
        #[allow(unused_mut)]
        let mut n = 0;
        #[cfg(feature = "echo")]
        if let Some((_, udp)) = &self.echo {
            n += udp.unanswered();
        }
        #[cfg(feature = "rfc868")]
        if let Some((_, udp)) = &self.rfc868 {
            n += udp.unanswered();
        }
        n
    }

    /// RAM of the set's structs, each service's apart (0 when not built),
    /// for a size report. Socket buffers and slots are not included.
    pub fn ram(&self) -> SetRam {
        #[allow(unused_mut)]
        let mut ram = SetRam {
            whole: core::mem::size_of_val(self),
            ..SetRam::default()
        };
        #[cfg(feature = "time")]
        {
            ram.time = core::mem::size_of_val(&self.time);
        }
        #[cfg(feature = "echo")]
        {
            ram.echo = core::mem::size_of_val(&self.echo);
        }
        #[cfg(feature = "file")]
        {
            ram.file = core::mem::size_of_val(&self.file);
        }
        #[cfg(feature = "chat")]
        {
            ram.chat = core::mem::size_of_val(&self.chat);
        }
        ram
    }
}

/// Bytes of a [`ServiceSet`]'s parts (see [`ServiceSet::ram`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetRam {
    /// The ctime time server.
    pub time: usize,
    /// TCP and UDP echo.
    pub echo: usize,
    /// The file server.
    pub file: usize,
    /// The chat room.
    pub chat: usize,
    /// The whole set (the above, the others, SNTP, DHCP and bookkeeping).
    pub whole: usize,
}

impl<
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> Service for ServiceSet<'_, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>
{
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        #[cfg(feature = "dhcp")]
        self.dhcp.poll(net, now);
        #[cfg(feature = "slaac")]
        self.slaac.poll(net, now);
        self.sntp.poll(net, now);
        #[cfg(feature = "time")]
        self.time.poll(net, now);
        #[cfg(feature = "daytime")]
        self.daytime.poll(net, now);
        #[cfg(feature = "rfc868")]
        if let Some((tcp, udp)) = self.rfc868.as_mut() {
            tcp.poll(net, now);
            udp.serve(net, now, limiter!(self));
        }
        #[cfg(feature = "echo")]
        if let Some((tcp, udp)) = self.echo.as_mut() {
            tcp.poll(net, now);
            udp.serve(net, now, limiter!(self));
        }
        #[cfg(feature = "file")]
        self.file.poll(net, now);
        #[cfg(feature = "chat")]
        self.chat.poll(net, now);
        #[cfg(feature = "discard")]
        if let Some((tcp, udp)) = self.discard.as_mut() {
            tcp.poll(net, now);
            udp.poll(net, now);
        }
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        use crate::net::runner::earliest;
        let mut next = self.sntp.poll_at(now);
        #[cfg(feature = "dhcp")]
        {
            next = earliest(next, self.dhcp.poll_at(now));
        }
        #[cfg(feature = "time")]
        {
            next = earliest(next, self.time.poll_at(now));
        }
        #[cfg(feature = "daytime")]
        {
            next = earliest(next, self.daytime.poll_at(now));
        }
        #[cfg(feature = "rfc868")]
        if let Some((tcp, udp)) = &self.rfc868 {
            next = earliest(next, earliest(tcp.poll_at(now), udp.poll_at(now)));
        }
        #[cfg(feature = "echo")]
        if let Some((tcp, udp)) = &self.echo {
            next = earliest(next, earliest(tcp.poll_at(now), udp.poll_at(now)));
        }
        #[cfg(feature = "file")]
        {
            next = earliest(next, self.file.poll_at(now));
        }
        #[cfg(feature = "chat")]
        {
            next = earliest(next, self.chat.poll_at(now));
        }
        #[cfg(feature = "discard")]
        if let Some((tcp, udp)) = &self.discard {
            next = earliest(next, earliest(tcp.poll_at(now), udp.poll_at(now)));
        }
        next
    }
}

/// What a [`ServiceSet`] serves, as text (see [`ServiceSet::listening`]).
pub struct Listening<
    'a,
    'c,
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
>(&'a ServiceSet<'c, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>);

impl<
    F: FileStore,
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> core::fmt::Display for Listening<'_, '_, F, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let set = self.0;
        let p = set.ports;
        let mut first = true;
        #[cfg(feature = "echo")]
        if set.echo.is_some() {
            item(f, &mut first, "echo", "tcp+udp", p.echo)?;
        }
        #[cfg(feature = "time")]
        if set.time.is_some() {
            item(f, &mut first, "time", "tcp", p.time)?;
        }
        #[cfg(feature = "daytime")]
        if set.daytime.is_some() {
            item(f, &mut first, "daytime", "tcp", crate::time::DAYTIME_PORT)?;
        }
        #[cfg(feature = "rfc868")]
        if set.rfc868.is_some() {
            item(
                f,
                &mut first,
                "rfc868 time",
                "tcp+udp",
                crate::time::RFC868_PORT,
            )?;
        }
        #[cfg(feature = "file")]
        if set.file.is_some() {
            item(f, &mut first, "file", "tcp", p.file)?;
        }
        #[cfg(feature = "chat")]
        if set.chat.is_some() {
            item(f, &mut first, "chat", "tcp", p.chat)?;
        }
        #[cfg(feature = "discard")]
        if set.discard.is_some() {
            item(f, &mut first, "discard", "tcp+udp", p.discard)?;
        }
        if first {
            f.write_str("nothing")?;
        }
        Ok(())
    }
}

/// One entry of [`Listening`]'s list.
fn item(
    f: &mut core::fmt::Formatter<'_>,
    first: &mut bool,
    name: &str,
    transport: &str,
    port: u16,
) -> core::fmt::Result {
    let sep = if *first { "" } else { ", " };
    *first = false;
    write!(f, "{sep}{name} {transport}/{port}")
}

/// The guard of a service whose connections are short (echo, time, file,
/// discard): they have idle timeouts, so no keep-alive.
#[allow(dead_code)]
fn short_lived(guard: Guard) -> Guard {
    Guard {
        keep_alive: None,
        ..guard
    }
}
