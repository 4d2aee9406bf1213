//! Minnow's service core.
//!
//! The classic services of the course notes "Python Network Programming"
//! (echo, time, and more to come), written once as `no_std`, allocation-free,
//! poll-driven state machines over [smoltcp] sockets. The same code runs on a
//! Linux TAP interface (`minnow-host`), as firmware, and in the deterministic
//! simulator (`minnow-sim`).
//!
//! Layers, top to bottom:
//! - protocol machines ([`time::ctime`], [`time::sntp`], [`time::rfc868`]):
//!   bytes in, bytes out, no sockets;
//! - services ([`echo`], [`time`]): own smoltcp sockets and implement
//!   [`Service`];
//! - [`net`]: building the interface from a [`net::NetConfig`], DHCPv4, DNS,
//!   listening socket pools and the poll loop's deadline arithmetic, shared
//!   by every runtime.
#![no_std]
#![forbid(unsafe_code)]

pub mod chat;
pub mod clock;
mod diag;
pub mod discard;
pub mod echo;
pub mod file;
pub mod mail;
pub mod net;
pub mod service;
pub mod services;
pub mod time;

pub use clock::WallClock;
pub use service::{EventQueue, Service};
