//! Any [embassy-net-driver] [`Driver`](embassy_net_driver::Driver) (0.2)
//! as a [smoltcp] `phy::Device` (0.14), so that Minnow's poll loop
//! (`minnow::net::Stack::poll`) runs on the drivers written for embassy-net:
//! Ethernet MACs of HALs, Wi-Fi chips, a Linux TAP (`embassy-net-tuntap`).
//!
//! `no_std`, no allocation, no `unsafe`; the adapter adds no buffer of its
//! own (frames stay in the driver's).
//!
//! What it maps:
//! - frames both ways, byte for byte; no received frame, or no transmit
//!   room, is `None` (smoltcp keeps an unsent packet in its socket);
//! - the driver's frame size, burst size and checksum duties
//!   ([`capabilities`]), medium Ethernet;
//! - the hardware address ([`DriverDevice::ethernet_address`],
//!   [`DriverDevice::hardware_address`]) and the link state
//!   ([`DriverDevice::link_state`]), which smoltcp itself has no place for;
//! - the driver's `Context`: a [`core::task::Waker`] of the caller's, or the
//!   no-op one for a loop that sleeps on something else.
//!
//! A frame longer than the driver's stated frame size is dropped; a driver
//! stating a frame size below [`MIN_FRAME`] (the default `Capabilities`
//! says 0) is taken to carry standard Ethernet frames ([`ETHERNET_FRAME`]).
//!
//! # Example: a board's loop
//! ```
//! use embassy_net_driver::Driver;
//! use minnow::net::{NetConfig, Stack};
//! use minnow::service::Service;
//! use minnow_embassy::DriverDevice;
//! use smoltcp::iface::{SocketSet, SocketStorage};
//! use smoltcp::time::Instant;
//! use smoltcp::wire::{Ipv4Address, Ipv4Cidr};
//!
//! /// Runs `services` on `driver` for ever; `clock` is the board's
//! /// monotonic time, `sleep_until` its low-power wait (for an interrupt
//! /// or the deadline).
//! fn serve<'s, D: Driver>(
//!     driver: D,
//!     services: &mut dyn Service,
//!     slots: &'s mut [SocketStorage<'s>],
//!     clock: impl Fn() -> Instant,
//!     sleep_until: impl Fn(Option<Instant>),
//! ) {
//!     let Ok(mut device) = DriverDevice::new(driver) else {
//!         return; // not an Ethernet driver
//!     };
//!     let mut net = NetConfig::new(device.ethernet_address());
//!     net.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
//!     let mut stack = Stack::new(&net, &mut device, SocketSet::new(slots), clock());
//!     loop {
//!         let next = if device.is_link_up() {
//!             stack.poll(&mut device, services, clock())
//!         } else {
//!             None // nothing goes out while the cable is out
//!         };
//!         sleep_until(next);
//!     }
//! }
//! ```
//!
//! [embassy-net-driver]: https://docs.rs/embassy-net-driver/0.2
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

mod caps;
mod device;
mod tokens;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub use caps::{ETHERNET_FRAME, MAX_BURST, MAX_FRAME, MIN_FRAME, capabilities, frame_limit};
pub use device::{DriverDevice, NotEthernet};
pub use tokens::{RxToken, TxToken};

/// The driver crate this adapter is built against (0.2), for naming its
/// types without a dependency of one's own.
pub use embassy_net_driver;
