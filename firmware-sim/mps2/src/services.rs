//! The board's services: core's [`ServiceSet`] built from one `const`
//! [`ServiceConfig`] ([`CONFIG`], from the sizes in [`crate::sizes`]), whose
//! own arithmetic sizes every static
//! buffer below, so the RAM report, the statics and what is built cannot
//! disagree. `MINNOW_SERVICES` (see `build.rs`) chooses which services the
//! configuration names; the board's Cargo features (mapped to `minnow`'s)
//! choose which are compiled in, so a service left out costs no `.text`.
//!
//! Mail (`MINNOW_SMTP`, see [`crate::mail`]) is the one client: its socket
//! and buffers exist only in an image built with a server to mail.

use minnow::WallClock;
use minnow::file::store::StaticFiles;
use minnow::net::{Arena, Stack};
use minnow::service::Service;
use minnow::services::{LogLimit, ServiceConfig, ServiceSet, SntpConfig, Verdict};
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::IpEndpoint;
use static_cell::{ConstStaticCell, StaticCell};

use crate::mail::{self, Mailer};
use crate::sizes::{
    self, CHAT_LINE, CHAT_SOCKETS, ECHO_SOCKETS, FILE_SOCKETS, MAX_DATAGRAM, TIME_SOCKETS,
};
use crate::{files, log, netconfig};

/// Every service of the image: the sizes of [`sizes`], each service on when
/// `MINNOW_SERVICES` names it (and its feature compiles it in).
pub const CONFIG: ServiceConfig = ServiceConfig {
    time: if netconfig::TIME {
        Some(sizes::TIME)
    } else {
        None
    },
    echo: if netconfig::ECHO {
        Some(sizes::ECHO)
    } else {
        None
    },
    file: if netconfig::FILE {
        Some(sizes::FILE)
    } else {
        None
    },
    chat: if netconfig::CHAT {
        Some(sizes::CHAT)
    } else {
        None
    },
    discard: if netconfig::DISCARD {
        Some(sizes::DISCARD)
    } else {
        None
    },
    sntp: match netconfig::SNTP {
        Some(server) => Some(SntpConfig {
            server,
            timers: sizes::SNTP_TIMERS,
            udp: sizes::SNTP_UDP,
        }),
        None => None,
    },
    dhcp: netconfig::DHCP,
    #[cfg(feature = "slaac")]
    slaac: netconfig::SLAAC,
    seed: 0,
    guard: minnow::net::guard::Guard {
        per_source: netconfig::PER_SOURCE,
        ..minnow::net::guard::Guard::DEFAULT
    },
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

/// The discard pool's capacity: none unless discard is built and named.
const DISCARD_POOL: usize = if netconfig::DISCARD {
    sizes::DISCARD_SOCKETS
} else {
    0
};

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
    DISCARD_POOL,
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
    /// So that a flood cannot keep the UART busy.
    log_limit: LogLimit,
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
        Self {
            set,
            mail,
            alloc,
            log_limit: LogLimit::DEFAULT,
        }
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
    pub fn report(&mut self, now: Instant) {
        while let Some(e) = self.set.pop_event() {
            match self.log_limit.admit(now) {
                Verdict::Drop => continue,
                Verdict::PrintAfter(n) => log!("({} more events not shown: over 50 a second)", n),
                Verdict::Print => {}
            }
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
