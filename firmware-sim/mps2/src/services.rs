//! Every core service on the board: sizing, construction, the poll list and
//! the event log, as `host/src/serve.rs` wires them on Linux.
//!
//! Adding a service is a few short steps, each marked `// + service` below:
//! its sizing constants, a field, its construction in [`Services::new`]
//! (under a `netconfig` flag from `MINNOW_SERVICES`, see `build.rs`), a push
//! in [`Services::poll`] and its events in [`Services::report`].
//!
//! Mail (`MINNOW_SMTP`, see [`crate::mail`]) is the one client: its socket
//! and buffers exist only in an image built with a server to mail.

use minnow::chat::ChatEvent;
use minnow::chat::server::ChatServer;
use minnow::echo::tcp_server::TcpEchoServer;
use minnow::echo::udp_server::UdpEchoServer;
use minnow::echo::{self, EchoEvent};
use minnow::file::FileEvent;
use minnow::file::server::{FileServer, FileTimers};
use minnow::file::store::StaticFiles;
use minnow::net::dhcp::{DhcpClient, DhcpEvent};
use minnow::net::poll_once;
use minnow::net::tcp_client::EphemeralPorts;
use minnow::net::tcp_pool::TcpPool;
use minnow::service::Service;
use minnow::time::server::TcpTimeServer;
use minnow::time::sntp_client::{SntpClient, SntpEvent, SntpTimers};
use minnow::time::{self, TimeEvent, TimeFormat};
use minnow::{WallClock, chat, file};
use smoltcp::iface::{Interface, SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::{tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;
use static_cell::ConstStaticCell;

use crate::mail::{self, Mailer};
use crate::{files, log, netconfig};

// ---- sizing: every RAM figure of the image is here -------------------------

/// The notes' time server (ctime text, port 9999): one client at a time,
/// like the notes' iterative server.
pub const TIME_SOCKETS: usize = 1;
const TIME_RX: usize = 64;
const TIME_TX: usize = 64;

/// TCP echo (port 12345): simultaneous clients.
pub const ECHO_SOCKETS: usize = 2;
const ECHO_RX: usize = 2048;
const ECHO_TX: usize = 2048;

/// UDP echo: the largest datagram echoed (the IPv4 payload of a 1500-byte
/// MTU) and the socket's buffers: each holds one datagram of that size (or
/// up to four smaller ones).
pub const MAX_DATAGRAM: usize = 1472;
const ECHO_UDP_PACKETS: usize = 4;
const ECHO_UDP_BYTES: usize = 1536;

/// File transfer (port 60000): simultaneous downloads. The transmit buffer
/// is what a download has in flight; the receive buffer holds a request.
pub const FILE_SOCKETS: usize = 2;
const FILE_RX: usize = file::request::MAX_REQUEST + 64;
const FILE_TX: usize = 6144;

/// Chat room (port 9009): members, the longest line taken whole, and each
/// member's outgoing queue. One more socket answers `room full`.
pub const CHAT_SOCKETS: usize = 3;
const CHAT_LINE: usize = 512;
const CHAT_RX: usize = CHAT_LINE;
const CHAT_TX: usize = 1024;
const CHAT_OVERFLOW: usize = 1;
const CHAT_OVERFLOW_BUF: usize = 16;

/// SNTP: two 48-byte datagrams each way.
const SNTP_PACKETS: usize = 2;
const SNTP_BYTES: usize = 128;

/// Mail: one connection to the SMTP server, only with `MINNOW_SMTP`. The
/// receive buffer takes replies as they come (the SMTP session parses them
/// as a stream, so a long EHLO answer needs no room for itself); the
/// transmit buffer is what the message has in flight.
pub const MAIL_SOCKETS: usize = if netconfig::MAIL { 1 } else { 0 };
const MAIL_RX: usize = 256;
const MAIL_TX: usize = 768;

// + service: its sizing here.

/// TCP sockets in all (the figure the RAM budget is stated for).
pub const TCP_SOCKETS: usize =
    TIME_SOCKETS + ECHO_SOCKETS + FILE_SOCKETS + CHAT_SOCKETS + MAIL_SOCKETS;
/// Every socket: the TCP ones, chat's overflow, UDP echo, SNTP, DHCP.
const SOCKETS: usize = TCP_SOCKETS + CHAT_OVERFLOW + 3;

/// Bytes of every socket buffer.
const BUFFER_BYTES: usize = TIME_SOCKETS * (TIME_RX + TIME_TX)
    + ECHO_SOCKETS * (ECHO_RX + ECHO_TX)
    + FILE_SOCKETS * (FILE_RX + FILE_TX)
    + CHAT_SOCKETS * (CHAT_RX + CHAT_TX)
    + CHAT_OVERFLOW * 2 * CHAT_OVERFLOW_BUF
    + MAIL_SOCKETS * (MAIL_RX + MAIL_TX)
    + 2 * ECHO_UDP_BYTES
    + 2 * SNTP_BYTES;
/// UDP packet metadata entries.
const UDP_META: usize = 2 * ECHO_UDP_PACKETS + 2 * SNTP_PACKETS;

// The statics below are zero-initialised in .bss (no stack copy at boot).
static BUFFERS: ConstStaticCell<[u8; BUFFER_BYTES]> = ConstStaticCell::new([0; BUFFER_BYTES]);
static UDP_METADATA: ConstStaticCell<[udp::PacketMetadata; UDP_META]> =
    ConstStaticCell::new([udp::PacketMetadata::EMPTY; UDP_META]);
static SOCKET_STORAGE: ConstStaticCell<[SocketStorage<'static>; SOCKETS]> =
    ConstStaticCell::new([SocketStorage::EMPTY; SOCKETS]);

/// Hands out disjoint pieces of one static array, at boot.
struct Arena<T: 'static> {
    rest: &'static mut [T],
}

impl<T> Arena<T> {
    fn take(&mut self, n: usize) -> &'static mut [T] {
        let rest = core::mem::take(&mut self.rest);
        assert!(
            n <= rest.len(),
            "arena too small: sizing constants disagree"
        );
        let (piece, rest) = rest.split_at_mut(n);
        self.rest = rest;
        piece
    }
}

struct Pools {
    bytes: Arena<u8>,
    meta: Arena<udp::PacketMetadata>,
}

impl Pools {
    fn tcp(&mut self, rx: usize, tx: usize) -> tcp::Socket<'static> {
        tcp::Socket::new(
            tcp::SocketBuffer::new(self.bytes.take(rx)),
            tcp::SocketBuffer::new(self.bytes.take(tx)),
        )
    }

    fn udp(&mut self, packets: usize, bytes: usize) -> udp::Socket<'static> {
        let rx = udp::PacketBuffer::new(self.meta.take(packets), self.bytes.take(bytes));
        let tx = udp::PacketBuffer::new(self.meta.take(packets), self.bytes.take(bytes));
        udp::Socket::new(rx, tx)
    }
}

/// Moves a value into a static of its own (in .bss) and returns it for good:
/// each service is built on the stack once and copied there, so the boot's
/// stack peak is one service, not all of them.
macro_rules! place {
    ($t:ty, $e:expr) => {{
        static CELL: static_cell::StaticCell<$t> = static_cell::StaticCell::new();
        CELL.init($e)
    }};
}

/// The socket set, on the static storage.
pub fn socket_set() -> SocketSet<'static> {
    SocketSet::new(&mut SOCKET_STORAGE.take()[..])
}

/// Every service of the image. RAM: see `--size` in `scripts/board.sh`.
///
/// A service that `MINNOW_SERVICES` leaves out (see `build.rs`) is `None`,
/// and every use of it is behind its constant flag, so its code is dropped
/// from the image: that is how the size report measures each service's cost.
pub struct Services {
    dhcp: Option<DhcpClient>,
    sntp: Option<SntpClient<'static>>,
    time: Option<&'static mut TcpTimeServer<'static, TIME_SOCKETS>>,
    echo_tcp: Option<&'static mut TcpEchoServer<ECHO_SOCKETS>>,
    echo_udp: Option<&'static mut UdpEchoServer<MAX_DATAGRAM>>,
    file: Option<&'static mut FileServer<StaticFiles<'static>, FILE_SOCKETS>>,
    chat: Option<&'static mut ChatServer<CHAT_SOCKETS, CHAT_LINE>>,
    mail: Option<&'static mut Mailer>,
    // + service: its field here (an optional `&'static mut`, see `place!`).
    ready: bool,
}

fn must<T, E: core::fmt::Debug>(what: &str, r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

fn size<T>(service: &Option<&'static mut T>) -> usize {
    service.as_deref().map_or(0, core::mem::size_of_val)
}

impl Services {
    /// Builds every service on `sockets`, with buffers from the statics.
    ///
    /// Not inlined: each service is built in this frame and moved to its
    /// static, and inlined into `main` that frame (6.6 KiB) stayed
    /// reserved under every later poll.
    #[inline(never)]
    pub fn new(sockets: &mut SocketSet<'static>, clock: &'static WallClock, seed: u64) -> Self {
        let mut p = Pools {
            bytes: Arena {
                rest: &mut BUFFERS.take()[..],
            },
            meta: Arena {
                rest: &mut UDP_METADATA.take()[..],
            },
        };
        let mut ports = EphemeralPorts::new(seed);
        let linger = Duration::from_secs(10);

        let time = netconfig::TIME.then(|| {
            let time = place!(
                TcpTimeServer<'static, TIME_SOCKETS>,
                TcpTimeServer::new(time::DEFAULT_PORT, TimeFormat::Ctime, clock, linger)
            );
            for _ in 0..TIME_SOCKETS {
                must("time", time.add_socket(sockets, p.tcp(TIME_RX, TIME_TX)));
            }
            time
        });
        let echo_tcp = netconfig::ECHO.then(|| {
            let idle = Some(Duration::from_secs(300));
            let echo_tcp = place!(
                TcpEchoServer<ECHO_SOCKETS>,
                TcpEchoServer::new(echo::DEFAULT_PORT, idle)
            );
            for _ in 0..ECHO_SOCKETS {
                let s = p.tcp(ECHO_RX, ECHO_TX);
                must("echo", echo_tcp.add_socket(sockets, s));
            }
            echo_tcp
        });
        let echo_udp = netconfig::ECHO.then(|| {
            let s = p.udp(ECHO_UDP_PACKETS, ECHO_UDP_BYTES);
            place!(
                UdpEchoServer<MAX_DATAGRAM>,
                must(
                    "udp echo",
                    UdpEchoServer::new(sockets, s, echo::DEFAULT_PORT)
                )
            )
        });
        let file = netconfig::FILE.then(|| {
            let file = place!(
                FileServer<StaticFiles<'static>, FILE_SOCKETS>,
                FileServer::new(file::DEFAULT_PORT, files::store(), FileTimers::default())
            );
            for _ in 0..FILE_SOCKETS {
                must("file", file.add_socket(sockets, p.tcp(FILE_RX, FILE_TX)));
            }
            file
        });
        let chat = netconfig::CHAT.then(|| {
            let chat = place!(
                ChatServer<CHAT_SOCKETS, CHAT_LINE>,
                ChatServer::new(chat::DEFAULT_PORT, Duration::from_secs(10))
            );
            for _ in 0..CHAT_SOCKETS {
                must("chat", chat.add_socket(sockets, p.tcp(CHAT_RX, CHAT_TX)));
            }
            for _ in 0..CHAT_OVERFLOW {
                let s = p.tcp(CHAT_OVERFLOW_BUF, CHAT_OVERFLOW_BUF);
                must("chat", chat.add_overflow_socket(sockets, s));
            }
            chat
        });
        let mail = netconfig::SMTP
            .filter(|_| netconfig::MAIL)
            .map(|server: IpEndpoint| {
                let handle = sockets.add(p.tcp(MAIL_RX, MAIL_TX));
                let attachments = place!(mail::Attachments, mail::attachments());
                place!(
                    Mailer,
                    Mailer::new(server, handle, ports.next_port(), clock, seed, attachments)
                )
            });
        // + service: its construction here.
        let sntp = netconfig::SNTP.map(|server: IpEndpoint| {
            must(
                "sntp",
                SntpClient::new(
                    sockets,
                    p.udp(SNTP_PACKETS, SNTP_BYTES),
                    ports.next_port(),
                    server,
                    clock,
                    SntpTimers::default(),
                    seed,
                ),
            )
        });
        let dhcp = netconfig::DHCP.then(|| DhcpClient::new(sockets));
        Self {
            dhcp,
            sntp,
            time,
            echo_tcp,
            echo_udp,
            file,
            chat,
            mail,
            ready: false,
        }
    }

    /// The boot log's list of services.
    pub fn describe(&self) {
        log!(
            "services: {}time tcp/{} ({} socket), {}echo tcp+udp/{} ({} sockets), {}file tcp/{} ({} files, {} sockets), {}chat tcp/{} ({} members); sntp {}; mail {}",
            if self.time.is_some() { "" } else { "no " },
            time::DEFAULT_PORT,
            TIME_SOCKETS,
            if self.echo_tcp.is_some() { "" } else { "no " },
            echo::DEFAULT_PORT,
            ECHO_SOCKETS,
            if self.file.is_some() { "" } else { "no " },
            file::DEFAULT_PORT,
            files::TABLE.len(),
            FILE_SOCKETS,
            if self.chat.is_some() { "" } else { "no " },
            chat::DEFAULT_PORT,
            CHAT_SOCKETS,
            if self.sntp.is_some() {
                "on"
            } else {
                "off (clock unset)"
            },
            MailTo(self.mail.as_deref()),
        );
    }

    /// RAM of the service structs (their sockets' buffers and slots apart).
    pub fn ram(&self) -> usize {
        core::mem::size_of_val(self)
            + size(&self.time)
            + size(&self.echo_tcp)
            + size(&self.echo_udp)
            + size(&self.file)
            + size(&self.chat)
            + size(&self.mail)
    }

    /// Logs the RAM each part takes, for the size report.
    pub fn log_ram(&self) {
        use core::mem::{size_of, size_of_val};
        log!(
            "ram: service structs: time {} B, echo tcp {} B, echo udp {} B, file {} B, chat {} B, mail {} B, sntp+dhcp+list {} B",
            size(&self.time),
            size(&self.echo_tcp),
            size(&self.echo_udp),
            size(&self.file),
            size(&self.chat),
            size(&self.mail),
            size_of_val(self),
        );
        if netconfig::MAIL {
            let (sender, session, composer) = mail::sizes();
            log!(
                "ram: mail: mailer {} B + SMTP client {} B (SMTP session {} B, composer {} B) + attachment list {} B + socket slot {} B + buffers {} B",
                size(&self.mail),
                sender,
                session,
                composer,
                size_of::<mail::Attachments>(),
                size_of::<SocketStorage<'static>>(),
                MAIL_RX + MAIL_TX,
            );
        }
        log!(
            "ram: {} sockets ({} TCP): slots {} B ({} B each), buffers {} B, udp metadata {} B",
            SOCKETS,
            TCP_SOCKETS,
            SOCKETS * size_of::<SocketStorage<'static>>(),
            size_of::<SocketStorage<'static>>(),
            BUFFER_BYTES,
            UDP_META * size_of::<udp::PacketMetadata>(),
        );
        log!(
            "ram: each extra TCP connection: socket slot {} B + pool entry {} B + its rx/tx buffers (echo {} B, file {} B, chat {} B + member {} B, time {} B)",
            size_of::<SocketStorage<'static>>(),
            size_of::<TcpPool<2>>() - size_of::<TcpPool<1>>(),
            ECHO_RX + ECHO_TX,
            FILE_RX + FILE_TX,
            CHAT_RX + CHAT_TX,
            (size_of::<ChatServer<2, CHAT_LINE>>() - size_of::<ChatServer<1, CHAT_LINE>>())
                .saturating_sub(size_of::<TcpPool<2>>() - size_of::<TcpPool<1>>()),
            TIME_RX + TIME_TX,
        );
    }

    /// One loop step: the interface, then every service. Returns the next
    /// deadline.
    pub fn poll<D: Device + ?Sized>(
        &mut self,
        iface: &mut Interface,
        device: &mut D,
        sockets: &mut SocketSet<'static>,
        now: Instant,
    ) -> Option<Instant> {
        let mut list: heapless::Vec<&mut dyn Service, 10> = heapless::Vec::new();
        if let Some(d) = self.dhcp.as_mut() {
            let _ = list.push(d);
        }
        if let Some(s) = self.sntp.as_mut() {
            let _ = list.push(s);
        }
        if netconfig::TIME
            && let Some(s) = self.time.as_deref_mut()
        {
            let _ = list.push(s);
        }
        if netconfig::ECHO
            && let Some(s) = self.echo_tcp.as_deref_mut()
        {
            let _ = list.push(s);
        }
        if netconfig::ECHO
            && let Some(s) = self.echo_udp.as_deref_mut()
        {
            let _ = list.push(s);
        }
        if netconfig::FILE
            && let Some(s) = self.file.as_deref_mut()
        {
            let _ = list.push(s);
        }
        if netconfig::CHAT
            && let Some(s) = self.chat.as_deref_mut()
        {
            let _ = list.push(s);
        }
        if netconfig::MAIL
            && let Some(s) = self.mail.as_deref_mut()
        {
            let _ = list.push(s);
        }
        // + service: push it here (and raise the list's capacity if full).
        poll_once(iface, device, sockets, &mut list, now)
    }

    /// Logs what the services report; says `ready` once addressed.
    pub fn report(&mut self) {
        if !self.ready && self.dhcp.is_none() {
            self.ready = true;
            log!("ready");
        }
        if netconfig::TIME
            && let Some(s) = self.time.as_deref_mut()
        {
            while let Some(e) = s.events.pop() {
                log_time(e);
            }
        }
        if netconfig::ECHO
            && let Some(s) = self.echo_tcp.as_deref_mut()
        {
            while let Some(e) = s.events.pop() {
                log_echo("tcp", e);
            }
        }
        if netconfig::ECHO
            && let Some(s) = self.echo_udp.as_deref_mut()
        {
            while let Some(e) = s.events.pop() {
                log_echo("udp", e);
            }
        }
        if netconfig::FILE
            && let Some(s) = self.file.as_deref_mut()
        {
            while let Some(e) = s.events.pop() {
                log_file(e);
            }
        }
        if netconfig::CHAT
            && let Some(s) = self.chat.as_deref_mut()
        {
            while let Some(e) = s.events.pop() {
                log_chat(e);
            }
        }
        // + service: drain its events here.
        if let Some(s) = self.sntp.as_mut() {
            while let Some(e) = s.events.pop() {
                match e {
                    SntpEvent::Synced { unix_secs, rtt } => log!(
                        "sntp: clock set to {} (round trip {} ms)",
                        unix_secs,
                        rtt.total_millis()
                    ),
                    SntpEvent::Ignored { from, reason } => {
                        log!("sntp: ignored a datagram from {}: {:?}", from, reason)
                    }
                    SntpEvent::Timeout { retry_in } => {
                        log!("sntp: no valid reply, retrying in {} s", retry_in.secs())
                    }
                }
            }
        }
        if let Some(d) = self.dhcp.as_mut() {
            while let Some(e) = d.events.pop() {
                match e {
                    DhcpEvent::Configured(lease) => {
                        match lease.router {
                            Some(r) => log!("dhcp address {} router {}", lease.address, r),
                            None => log!("dhcp address {} router none", lease.address),
                        }
                        if !self.ready {
                            self.ready = true;
                            log!("ready");
                        }
                    }
                    DhcpEvent::Deconfigured => log!("dhcp lease lost"),
                }
            }
        }
        // Last, so that its lines follow the SNTP and DHCP lines that led
        // to them.
        if netconfig::MAIL
            && let Some(s) = self.mail.as_deref_mut()
        {
            s.report();
        }
    }
}

fn log_echo(proto: &str, e: EchoEvent) {
    let port = echo::DEFAULT_PORT;
    match e {
        EchoEvent::Connected { peer } => log!("echo {}/{}: connected {}", proto, port, peer),
        EchoEvent::Closed { peer, bytes } => {
            log!(
                "echo {}/{}: closed {} after {} bytes",
                proto,
                port,
                peer,
                bytes
            )
        }
        EchoEvent::Reset { peer, bytes } => {
            log!(
                "echo {}/{}: reset by {} after {} bytes",
                proto,
                port,
                peer,
                bytes
            )
        }
        EchoEvent::IdleTimeout { peer, bytes } => log!(
            "echo {}/{}: idle timeout {} after {} bytes, aborted",
            proto,
            port,
            peer,
            bytes
        ),
        EchoEvent::DatagramDropped { peer } => {
            log!(
                "echo {}/{}: datagram from {} too long, dropped",
                proto,
                port,
                peer
            )
        }
    }
}

fn log_time(e: TimeEvent) {
    let port = time::DEFAULT_PORT;
    match e {
        TimeEvent::Served {
            peer, unix_secs, ..
        } => log!("time tcp/{}: sent time {} to {}", port, unix_secs, peer),
        TimeEvent::ClockNotSet { peer } => {
            log!(
                "time tcp/{}: clock not set: closed {} without a time",
                port,
                peer
            )
        }
        TimeEvent::CannotEncode { peer } => {
            log!("time tcp/{}: time not representable: closed {}", port, peer)
        }
        TimeEvent::Aborted { peer } => {
            log!("time tcp/{}: {} went away before the reply", port, peer)
        }
    }
}

fn log_file(e: FileEvent) {
    let port = file::DEFAULT_PORT;
    match e {
        FileEvent::Sending { peer, default } => log!(
            "file tcp/{}: sending {} file to {}",
            port,
            if default { "the default" } else { "a named" },
            peer
        ),
        FileEvent::Sent { peer, bytes } => {
            log!("file tcp/{}: sent {} bytes to {}", port, bytes, peer)
        }
        FileEvent::Refused { peer, reason } => {
            let line = core::str::from_utf8(reason.line()).unwrap_or("ERR");
            log!("file tcp/{}: refused {}: {}", port, peer, line.trim_end())
        }
        FileEvent::Aborted { peer, bytes } => {
            log!(
                "file tcp/{}: {} went away after {} bytes",
                port,
                peer,
                bytes
            )
        }
        FileEvent::ReadFailed { peer, bytes } => log!(
            "file tcp/{}: read error after {} bytes to {}: reset",
            port,
            bytes,
            peer
        ),
    }
}

fn log_chat(e: ChatEvent) {
    let port = chat::DEFAULT_PORT;
    match e {
        ChatEvent::Joined { peer } => log!("chat tcp/{}: {} joined", port, peer),
        ChatEvent::Left { peer } => log!("chat tcp/{}: {} left", port, peer),
        ChatEvent::DroppedSlowReader { peer } => {
            log!("chat tcp/{}: {} stopped reading: disconnected", port, peer)
        }
        ChatEvent::RoomFull { peer } => log!("chat tcp/{}: room full: refused {}", port, peer),
    }
}

/// The boot log's word on mail: `to SERVER` or `off`.
struct MailTo<'a>(Option<&'a Mailer>);

impl core::fmt::Display for MailTo<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(m) => write!(f, "to {} at boot", m.server()),
            None => f.write_str("off (no MINNOW_SMTP)"),
        }
    }
}
