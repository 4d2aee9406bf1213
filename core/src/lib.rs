//! Minnow's service core.
//!
//! The classic services of the course notes "Python Network Programming",
//! written once as `no_std`, allocation-free, poll-driven state machines over
//! [smoltcp] sockets. The same code runs on a Linux TAP interface
//! (`minnow-host`), as firmware on a board, and in the deterministic
//! simulator (`minnow-sim`).
//!
//! # The services
//! - [`time`]: the notes' time server (ctime text, port 9999), RFC 867
//!   daytime (13) and RFC 868 binary time (37, TCP and UDP); the SNTP client
//!   that sets the [`WallClock`]; the time client.
//! - [`echo`]: TCP and UDP echo (RFC 862, the notes' port 12345).
//! - [`file`](mod@file): file transfer (port 60000): `GET name` or the default file.
//! - [`chat`]: the notes' chat room (port 9009): join and leave notices,
//!   bounded queues, slow readers dropped.
//! - [`mail`]: the SMTP client with MIME composition (text, HTML,
//!   attachments), STARTTLS or implicit TLS through [`mail::tls::TlsSession`],
//!   AUTH PLAIN and LOGIN.
//! - [`discard`]: RFC 863 discard (port 9), a sink for throughput tests.
//! - [`net`]: the [`net::Stack`] every runtime polls, DHCPv4, DNS, pools of
//!   listening sockets, the stream client, socket memory.
//!
//! # Layers, top to bottom
//! - protocol machines (e.g. [`time::ctime`], [`time::sntp`],
//!   [`mail::smtp::session`]): bytes in, bytes out, no sockets;
//! - services: own smoltcp sockets and implement [`Service`];
//! - [`services`]: one [`services::ServiceConfig`] builds every configured
//!   service into a [`services::ServiceSet`], whose events are one
//!   [`services::Event`] type with the same words on every runtime;
//! - [`net::Stack`]: interface + sockets + ports + the one poll step. A
//!   runtime keeps only its `phy::Device`, its clock and how it sleeps.
//!
//! # Bring your own device
//! Anything that implements smoltcp's `phy::Device` carries Minnow. Here the
//! device is smoltcp's loopback and the sockets' memory is leaked from the
//! heap; a board gives static arrays to a [`net::Arena`] instead, sized by
//! the same configuration's [`services::ServiceConfig::buffer_bytes`].
//!
//! ```
//! use minnow::WallClock;
//! use minnow::file::store::StaticFiles;
//! use minnow::net::{Arena, NetConfig, Stack};
//! use minnow::services::{EchoConfig, ServiceConfig, ServiceSet, TcpSizing, UdpSizing};
//! use smoltcp::iface::{SocketSet, SocketStorage};
//! use smoltcp::phy::{Loopback, Medium};
//! use smoltcp::socket::udp::PacketMetadata;
//! use smoltcp::time::Instant;
//! use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};
//!
//! // Which services, how many sockets, how big: one value.
//! let config = ServiceConfig {
//!     echo: Some(EchoConfig {
//!         port: 7,
//!         tcp: TcpSizing { sockets: 2, rx: 1024, tx: 1024 },
//!         udp: UdpSizing { packets: 4, bytes: 1500 },
//!         idle_timeout: None,
//!     }),
//!     ..ServiceConfig::NONE
//! };
//! // Memory for exactly that (on a board: statics of these sizes).
//! let bytes = Box::leak(vec![0u8; config.buffer_bytes()].into_boxed_slice());
//! let meta = Box::leak(vec![PacketMetadata::EMPTY; config.udp_metadata()].into_boxed_slice());
//! let slots: &'static mut [SocketStorage<'static>] =
//!     Box::leak((0..config.sockets()).map(|_| SocketStorage::EMPTY).collect());
//! let mut alloc = Arena::new(bytes, meta);
//!
//! // The device and the stack on it.
//! let mut device = Loopback::new(Medium::Ethernet);
//! let mut net = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 1]));
//! net.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
//! let mut stack = Stack::new(&net, &mut device, SocketSet::new(slots), Instant::ZERO);
//!
//! // The services (const capacities: echo 2, UDP datagrams up to 1500 bytes).
//! let clock = WallClock::new();
//! let mut set: ServiceSet<'_, StaticFiles<'static>, 2, 1, 1, 1, 64, 1500, 1> = ServiceSet::new();
//! set.build(&config, &mut stack, &mut alloc, &clock, None).unwrap();
//!
//! // The loop: poll, print what happened, sleep until `next` or a frame.
//! let now = Instant::from_millis(1);
//! let next = set.poll(&mut stack, &mut device, &mut alloc, &mut [], now);
//! while let Some(event) = set.pop_event() {
//!     println!("{event}"); // "ready"
//! }
//! assert!(next.is_none() || next >= Some(now));
//! ```
#![no_std]
#![forbid(unsafe_code)]

pub mod chat;
pub mod clock;
mod diag;
pub mod discard;
pub mod echo;
pub mod escape;
pub mod file;
pub mod mail;
pub mod net;
pub mod service;
pub mod services;
pub mod time;

pub use clock::WallClock;
pub use service::{EventQueue, Service};
