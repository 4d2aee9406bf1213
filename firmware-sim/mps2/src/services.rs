//! The board's services: core's [`ServiceSet`] built from one `const`
//! [`ServiceConfig`] ([`CONFIG`]), whose own arithmetic sizes every static
//! buffer below, so the RAM report, the statics and what is built cannot
//! disagree. `MINNOW_SERVICES` (see `build.rs`) chooses which services the
//! configuration names; the board's Cargo features (mapped to `minnow`'s)
//! choose which are compiled in, so a service left out costs no `.text`.
//!
//! Mail (`MINNOW_SMTP`, see [`crate::mail`]) is the one client: its socket
//! and buffers exist only in an image built with a server to mail.

use minnow::WallClock;
use minnow::file::request::MAX_REQUEST;
use minnow::file::server::FileTimers;
use minnow::file::store::StaticFiles;
use minnow::net::{Arena, Stack};
use minnow::service::Service;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, ServiceConfig, ServiceSet, SntpConfig,
    TcpSizing, TimeConfig, UdpSizing,
};
use minnow::time::sntp_client::SntpTimers;
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;
use static_cell::{ConstStaticCell, StaticCell};

use crate::mail::{self, Mailer};
use crate::{files, log, netconfig};

// ---- sizing: every RAM figure of the image is here -------------------------

/// The notes' time server (ctime text, port 9999): one client at a time,
/// like the notes' iterative server.
pub const TIME_SOCKETS: usize = 1;
/// TCP echo (port 12345): simultaneous clients.
pub const ECHO_SOCKETS: usize = 2;
/// The largest UDP datagram echoed (the IPv4 payload of a 1500-byte MTU).
pub const MAX_DATAGRAM: usize = 1472;
/// File transfer (port 60000): simultaneous downloads.
pub const FILE_SOCKETS: usize = 2;
/// Chat room (port 9009): members.
pub const CHAT_SOCKETS: usize = 3;
/// The longest chat line taken whole.
const CHAT_LINE: usize = 512;
/// Discard (port 9, only with `--features discard` and `MINNOW_SERVICES`
/// naming it): simultaneous clients.
pub const DISCARD_SOCKETS: usize = if netconfig::DISCARD { 2 } else { 0 };

/// Every service of the image.
pub const CONFIG: ServiceConfig = ServiceConfig {
    time: if netconfig::TIME {
        Some(TimeConfig {
            port: minnow::time::DEFAULT_PORT,
            daytime: false,
            rfc868: false,
            tcp: TcpSizing {
                sockets: TIME_SOCKETS,
                rx: 64,
                tx: 64,
            },
            udp: UdpSizing {
                packets: 0,
                bytes: 0,
            },
            linger: Duration::from_secs(10),
        })
    } else {
        None
    },
    echo: if netconfig::ECHO {
        Some(EchoConfig {
            port: minnow::echo::DEFAULT_PORT,
            tcp: TcpSizing {
                sockets: ECHO_SOCKETS,
                rx: 2048,
                tx: 2048,
            },
            // One full-size datagram each way (or up to four smaller ones).
            udp: UdpSizing {
                packets: 4,
                bytes: 1536,
            },
            idle_timeout: Some(Duration::from_secs(300)),
        })
    } else {
        None
    },
    file: if netconfig::FILE {
        Some(FileConfig {
            port: minnow::file::DEFAULT_PORT,
            // The receive buffer holds a request; the transmit buffer is
            // what a download has in flight.
            tcp: TcpSizing {
                sockets: FILE_SOCKETS,
                rx: MAX_REQUEST + 64,
                tx: 6144,
            },
            timers: FileTimers::DEFAULT,
        })
    } else {
        None
    },
    chat: if netconfig::CHAT {
        Some(ChatConfig {
            port: minnow::chat::DEFAULT_PORT,
            places: CHAT_SOCKETS,
            rx: CHAT_LINE,
            queue: 1024,
            stall: Duration::from_secs(10),
            overflow: 1,
            overflow_buffer: 16,
        })
    } else {
        None
    },
    discard: if netconfig::DISCARD {
        Some(DiscardConfig {
            port: minnow::discard::DEFAULT_PORT,
            tcp: TcpSizing {
                sockets: DISCARD_SOCKETS,
                rx: 2048,
                tx: 64,
            },
            udp: UdpSizing {
                packets: 4,
                bytes: 1536,
            },
            idle_timeout: Some(Duration::from_secs(300)),
        })
    } else {
        None
    },
    sntp: match netconfig::SNTP {
        // Two 48-byte datagrams each way.
        Some(server) => Some(SntpConfig {
            server,
            timers: SntpTimers::DEFAULT,
            udp: UdpSizing {
                packets: 2,
                bytes: 128,
            },
        }),
        None => None,
    },
    dhcp: netconfig::DHCP,
    seed: 0,
};

/// Mail: one connection to the SMTP server, only with `MINNOW_SMTP`. The
/// receive buffer takes replies as they come (the SMTP session parses them
/// as a stream); the transmit buffer is what the message has in flight.
pub const MAIL_SOCKETS: usize = if netconfig::MAIL { 1 } else { 0 };
const MAIL_RX: usize = 256;
const MAIL_TX: usize = 768;

/// Every socket: the services' and the mail's.
const SOCKETS: usize = CONFIG.sockets() + MAIL_SOCKETS;
/// Bytes of every socket buffer.
const BUFFER_BYTES: usize = CONFIG.buffer_bytes() + MAIL_SOCKETS * (MAIL_RX + MAIL_TX);
/// UDP packet metadata entries.
const UDP_META: usize = CONFIG.udp_metadata();

/// The service set with the board's capacities.
type BoardSet = ServiceSet<
    'static,
    StaticFiles<'static>,
    ECHO_SOCKETS,
    TIME_SOCKETS,
    FILE_SOCKETS,
    CHAT_SOCKETS,
    CHAT_LINE,
    MAX_DATAGRAM,
    DISCARD_SOCKETS,
>;

// The statics below are zero-initialised in .bss (no stack copy at boot).
static BUFFERS: ConstStaticCell<[u8; BUFFER_BYTES]> = ConstStaticCell::new([0; BUFFER_BYTES]);
static UDP_METADATA: ConstStaticCell<[udp::PacketMetadata; UDP_META]> =
    ConstStaticCell::new([udp::PacketMetadata::EMPTY; UDP_META]);
static SOCKET_STORAGE: ConstStaticCell<[SocketStorage<'static>; SOCKETS]> =
    ConstStaticCell::new([SocketStorage::EMPTY; SOCKETS]);
/// Filled in place by [`ServiceSet::build`], one service at a time.
static SET: StaticCell<BoardSet> = StaticCell::new();

/// Moves a value into a static of its own (in .bss) and returns it for good.
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

/// The board's services and its boot mail.
pub struct Services {
    set: &'static mut BoardSet,
    mail: Option<&'static mut Mailer>,
    /// Socket memory (all of it handed out at boot; the chat room takes
    /// none later, as every place has its socket).
    alloc: Arena<'static>,
}

impl Services {
    /// Builds every service on `stack`, with buffers from the statics.
    ///
    /// Not inlined: its frame is not part of every later poll's.
    #[inline(never)]
    pub fn new(stack: &mut Stack<'static>, clock: &'static WallClock, seed: u64) -> Self {
        let mut alloc = Arena::new(&mut BUFFERS.take()[..], &mut UDP_METADATA.take()[..]);
        let set = SET.init_with(BoardSet::new);
        let config = ServiceConfig { seed, ..CONFIG };
        // Cannot fail: every size comes from CONFIG (a static string keeps
        // the error's formatting code out of the image).
        if set
            .build(&config, stack, &mut alloc, clock, Some(files::store()))
            .is_err()
        {
            panic!("services: CONFIG disagrees with the statics");
        }
        let mail = netconfig::SMTP
            .filter(|_| netconfig::MAIL)
            .map(|server: IpEndpoint| {
                let Ok(socket) = minnow::net::SocketAlloc::tcp(&mut alloc, MAIL_RX, MAIL_TX) else {
                    panic!("mail: BUFFER_BYTES too small");
                };
                let handle = stack.sockets.add(socket);
                let attachments = place!(mail::Attachments, mail::attachments());
                place!(
                    Mailer,
                    Mailer::new(
                        server,
                        handle,
                        stack.ports.next_port(),
                        clock,
                        seed,
                        attachments
                    )
                )
            });
        Self { set, mail, alloc }
    }

    /// The boot log's list of services.
    pub fn describe(&self) {
        let on = |c: bool| if c { "" } else { "no " };
        log!(
            "services: {}time tcp/{} ({} socket), {}echo tcp+udp/{} ({} sockets), {}file tcp/{} ({} files, {} sockets), {}chat tcp/{} ({} members); sntp {}; mail {}",
            on(CONFIG.time.is_some()),
            minnow::time::DEFAULT_PORT,
            TIME_SOCKETS,
            on(CONFIG.echo.is_some()),
            minnow::echo::DEFAULT_PORT,
            ECHO_SOCKETS,
            on(CONFIG.file.is_some()),
            minnow::file::DEFAULT_PORT,
            files::TABLE.len(),
            FILE_SOCKETS,
            on(CONFIG.chat.is_some()),
            minnow::chat::DEFAULT_PORT,
            CHAT_SOCKETS,
            if CONFIG.sntp.is_some() {
                "on"
            } else {
                "off (clock unset)"
            },
            MailTo(self.mail.as_deref()),
        );
        if netconfig::DISCARD {
            log!(
                "services: discard tcp+udp/{}",
                minnow::discard::DEFAULT_PORT
            );
        }
    }

    /// RAM of the service structs (their sockets' buffers and slots apart).
    pub fn ram(&self) -> usize {
        core::mem::size_of_val(&*self.set) + self.mail.as_deref().map_or(0, core::mem::size_of_val)
    }

    /// Logs the RAM each part takes, for the size report.
    pub fn log_ram(&self) {
        use core::mem::size_of;
        let ram = self.set.ram();
        log!(
            "ram: service structs: time {} B, echo tcp+udp {} B, file {} B, chat {} B, whole set with sntp+dhcp {} B",
            ram.time,
            ram.echo,
            ram.file,
            ram.chat,
            ram.whole,
        );
        if netconfig::MAIL {
            let (sender, session, composer) = mail::sizes();
            log!(
                "ram: mail: mailer {} B + SMTP client {} B (SMTP session {} B, composer {} B) + attachment list {} B + socket slot {} B + buffers {} B",
                self.mail.as_deref().map_or(0, core::mem::size_of_val),
                sender,
                session,
                composer,
                size_of::<mail::Attachments>(),
                size_of::<SocketStorage<'static>>(),
                MAIL_RX + MAIL_TX,
            );
        }
        log!(
            "ram: {} sockets: slots {} B ({} B each), buffers {} B ({} B unused), udp metadata {} B",
            SOCKETS,
            SOCKETS * size_of::<SocketStorage<'static>>(),
            size_of::<SocketStorage<'static>>(),
            BUFFER_BYTES,
            self.alloc.bytes_left(),
            UDP_META * size_of::<udp::PacketMetadata>(),
        );
    }

    /// One loop step: the interface, the services, the mail. Returns the
    /// next deadline.
    pub fn poll<D: Device + ?Sized>(
        &mut self,
        stack: &mut Stack<'static>,
        device: &mut D,
        now: Instant,
    ) -> Option<Instant> {
        match self.mail.as_deref_mut() {
            Some(m) if netconfig::MAIL => self.set.poll(
                stack,
                device,
                &mut self.alloc,
                &mut [m as &mut dyn Service],
                now,
            ),
            _ => self.set.poll(stack, device, &mut self.alloc, &mut [], now),
        }
    }

    /// Logs what the services report.
    pub fn report(&mut self) {
        while let Some(e) = self.set.pop_event() {
            log!("{}", e);
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
