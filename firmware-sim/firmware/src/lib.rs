//! The firmware main every board image shares: Minnow's services on a
//! Cortex-M board with an Ethernet controller, `no_std`, no allocator.
//!
//! A board crate (`firmware-sim/mps2`, `firmware-sim/lm3s6965`, both booted
//! in QEMU; `firmware-sim/nucleo-f429zi`, a physical board, build-only) holds only
//! what is its own: its Ethernet driver, its clock, its UART, its memory
//! map (`memory.x`), its service sizes and its files. It implements
//! [`Board`] (run time: driver, clock, wait) and, through [`image!`](crate::image!),
//! [`Image`] (compile time: sizes and the statics they fill), brings its
//! hardware up, hands its UART to [`log::set_sink`] and calls [`run()`].
//! Everything else is here, the same on every board: the service set and
//! its wiring ([`services`]), the loop ([`run()`]), the log lines ([`mod@log`]),
//! the boot mail ([`mail`]), the panic handler, and the network settings
//! chosen at build time ([`netconfig`], from `MINNOW_*`, see `build.rs`).
//!
//! No unsafe code: register access is the boards' business.
#![no_std]
#![forbid(unsafe_code)]

pub mod board;
pub mod image;
pub mod log;
pub mod mail;
pub mod run;
pub mod services;
pub mod set;
pub mod sizes;

pub use board::{Board, Files};
pub use image::{
    Image, Memory, Set, Sizes, buffer_bytes, discard_pool, service_config, sockets, udp_metadata,
};
pub use run::run;

// defmt's global logger: frames over semihosting (feature `defmt`).
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

/// The network settings chosen at build time (`MINNOW_*`, see `build.rs`).
pub mod netconfig {
    #[allow(unused_imports)]
    use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};
    include!(concat!(env!("OUT_DIR"), "/netconfig.rs"));
}

/// What [`image!`](crate::image!) expands to needs, under this crate's name.
#[doc(hidden)]
pub mod __private {
    pub use smoltcp::iface::SocketStorage;
    pub use smoltcp::socket::udp::PacketMetadata;
    pub use static_cell::{ConstStaticCell, StaticCell};
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    log!("panic: {}", info);
    loop {
        cortex_m::asm::wfi();
    }
}
