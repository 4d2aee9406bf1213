//! What a board image is made of at compile time: its service sizes
//! ([`Sizes`], every RAM figure of its services), the service configuration
//! they give with the build's `MINNOW_*` settings ([`service_config`]), and
//! the statics that hold every buffer ([`Memory`], declared by [`image!`](crate::image!)).
//!
//! The statics must be in the board crate: their lengths come from the
//! board's sizes, and Rust has no generic statics. [`image!`](crate::image!) declares them
//! from one `Sizes` constant, with lengths from the same `const fn`s the
//! services are built from, so the RAM report, the statics and what is
//! built cannot disagree, and the linker checks the total against the
//! board's `memory.x`.

use minnow::file::store::StaticFiles;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, ServiceConfig, ServiceSet, SntpConfig,
    TcpSizing, TimeConfig, UdpSizing,
};
use minnow::time::sntp_client::SntpTimers;
use smoltcp::iface::SocketStorage;
use smoltcp::socket::udp;
use static_cell::StaticCell;

use crate::netconfig;
use crate::set::ServiceSetOps;

/// A board's service sizes: plain core configuration values.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// The notes' time server.
    pub time: TimeConfig,
    /// TCP and UDP echo.
    pub echo: EchoConfig,
    /// The largest UDP datagram echoed.
    pub max_datagram: usize,
    /// File transfer.
    pub file: FileConfig,
    /// The chat room.
    pub chat: ChatConfig,
    /// The longest chat line taken whole.
    pub chat_line: usize,
    /// RFC 863 discard (only with `--features discard` and `MINNOW_SERVICES`).
    pub discard: DiscardConfig,
    /// The SNTP client's timers.
    pub sntp_timers: SntpTimers,
    /// Its UDP socket.
    pub sntp_udp: UdpSizing,
    /// The boot mail's one connection (only with `MINNOW_SMTP`): the receive
    /// buffer takes the server's replies as they come (the SMTP session
    /// parses them as a stream); the transmit buffer is what the message has
    /// in flight. `sockets` is ignored.
    pub mail: TcpSizing,
}

/// Every service of the image: `sizes`, each service on when
/// `MINNOW_SERVICES` names it (and its feature compiles it in).
pub const fn service_config(sizes: &Sizes) -> ServiceConfig {
    ServiceConfig {
        time: if netconfig::TIME {
            Some(sizes.time)
        } else {
            None
        },
        echo: if netconfig::ECHO {
            Some(sizes.echo)
        } else {
            None
        },
        file: if netconfig::FILE {
            Some(sizes.file)
        } else {
            None
        },
        chat: if netconfig::CHAT {
            Some(sizes.chat)
        } else {
            None
        },
        discard: if netconfig::DISCARD {
            Some(sizes.discard)
        } else {
            None
        },
        sntp: match netconfig::SNTP {
            Some(server) => Some(SntpConfig {
                server,
                timers: sizes.sntp_timers,
                udp: sizes.sntp_udp,
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
    }
}

/// Mail: one connection to the SMTP server, only with `MINNOW_SMTP`.
pub const MAIL_SOCKETS: usize = if netconfig::MAIL { 1 } else { 0 };

/// Every socket: the services' and the mail's.
pub const fn sockets(sizes: &Sizes) -> usize {
    service_config(sizes).sockets() + MAIL_SOCKETS
}

/// Bytes of every socket buffer.
pub const fn buffer_bytes(sizes: &Sizes) -> usize {
    service_config(sizes).buffer_bytes() + MAIL_SOCKETS * (sizes.mail.rx + sizes.mail.tx)
}

/// UDP packet metadata entries.
pub const fn udp_metadata(sizes: &Sizes) -> usize {
    service_config(sizes).udp_metadata()
}

/// The discard pool's capacity: none unless discard is built and named.
pub const fn discard_pool(sizes: &Sizes) -> usize {
    if netconfig::DISCARD {
        sizes.discard.tcp.sockets
    } else {
        0
    }
}

/// The service set with a board's capacities (core's const parameters, in
/// its order: echo, time, file and chat connections, chat line, datagram,
/// discard connections). [`image!`](crate::image!) fills them in from the board's sizes.
pub type Set<
    const ECHO: usize,
    const TIME: usize,
    const FILE: usize,
    const CHAT: usize,
    const LINE: usize,
    const DGRAM: usize,
    const DISCARD: usize,
> = ServiceSet<'static, StaticFiles<'static>, ECHO, TIME, FILE, CHAT, LINE, DGRAM, DISCARD>;

/// The image's statics, handed out once at boot, each initialised by the
/// loader (the buffers and the set in `.bss`; the metadata and the slots,
/// whose empty values are not all zeros, in `.data`): none is built on the
/// stack and copied.
pub struct Memory<S: 'static> {
    /// Every socket buffer.
    pub buffers: &'static mut [u8],
    /// Every UDP packet metadata entry.
    pub udp_metadata: &'static mut [udp::PacketMetadata],
    /// One socket slot per socket.
    pub sockets: &'static mut [SocketStorage<'static>],
    /// The service set, filled in place at boot.
    pub set: &'static StaticCell<S>,
}

/// A board image's compile-time half: its sizes, the set they make, and the
/// statics. Implemented by [`image!`](crate::image!).
pub trait Image: 'static {
    /// The board's service sizes.
    const SIZES: Sizes;
    /// The configuration the services are built from (the seed is set at boot).
    const CONFIG: ServiceConfig = service_config(&Self::SIZES);
    /// The service set with the board's capacities.
    type Set: ServiceSetOps;
    /// The statics. Panics if called twice (each is taken once).
    fn memory() -> Memory<Self::Set>;
}

/// `image!(Type = SIZES)`: implements [`Image`] for the board's `Type` with
/// the sizes `SIZES` (a [`Sizes`] constant), declaring the statics.
#[macro_export]
macro_rules! image {
    ($board:ty = $sizes:path) => {
        impl $crate::Image for $board {
            const SIZES: $crate::Sizes = $sizes;
            type Set = $crate::Set<
                { $sizes.echo.tcp.sockets },
                { $sizes.time.tcp.sockets },
                { $sizes.file.tcp.sockets },
                { $sizes.chat.places },
                { $sizes.chat_line },
                { $sizes.max_datagram },
                { $crate::discard_pool(&$sizes) },
            >;

            fn memory() -> $crate::Memory<Self::Set> {
                use $crate::__private::{
                    ConstStaticCell, PacketMetadata, SocketStorage, StaticCell,
                };
                const BYTES: usize = $crate::buffer_bytes(&$sizes);
                const UDP: usize = $crate::udp_metadata(&$sizes);
                const SOCKETS: usize = $crate::sockets(&$sizes);
                static BUFFERS: ConstStaticCell<[u8; BYTES]> = ConstStaticCell::new([0; BYTES]);
                static UDP_METADATA: ConstStaticCell<[PacketMetadata; UDP]> =
                    ConstStaticCell::new([PacketMetadata::EMPTY; UDP]);
                static SOCKET_STORAGE: ConstStaticCell<[SocketStorage<'static>; SOCKETS]> =
                    ConstStaticCell::new([SocketStorage::EMPTY; SOCKETS]);
                static SET: StaticCell<<$board as $crate::Image>::Set> = StaticCell::new();
                $crate::Memory {
                    buffers: &mut BUFFERS.take()[..],
                    udp_metadata: &mut UDP_METADATA.take()[..],
                    sockets: &mut SOCKET_STORAGE.take()[..],
                    set: &SET,
                }
            }
        }
    };
}
