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
//! Anything that implements smoltcp's `phy::Device` carries Minnow: a
//! board's Ethernet MAC, a Linux TAP interface (`examples/tap_echo_time.rs`
//! in this crate, about 60 lines), any embassy-net driver through the
//! `minnow-embassy` adapter crate, or smoltcp's loopback as below. The
//! embedder brings five things, and Minnow needs nothing else:
//! - the device;
//! - a monotonic clock: a smoltcp `Instant` for every step;
//! - socket memory: a [`net::SocketAlloc`], e.g. a [`net::Arena`] over two
//!   static arrays sized by the configuration's
//!   [`services::ServiceConfig::buffer_bytes`] and
//!   [`services::ServiceConfig::udp_metadata`], and one `SocketStorage` slot
//!   per socket ([`services::ServiceConfig::sockets`]);
//! - the wall time: a [`WallClock`] set from an RTC or the OS
//!   ([`WallClock::set_unix_micros`]), or by SNTP
//!   ([`services::ServiceConfig::sntp`]);
//! - the sleep between steps: [`services::ServiceSet::poll`] returns the
//!   latest time to step again (`None`: only when a frame arrives); sleep
//!   until then or until the device has a frame.
//!
//! The example serves echo and time, and queries both from clients on the
//! same stack: the device is smoltcp's loopback, and the memory is leaked
//! from the heap where a board would give statics.
//!
//! ```
//! use minnow::WallClock;
//! use minnow::echo::client::DatagramClient;
//! use minnow::file::store::StaticFiles;
//! use minnow::net::{Arena, NetConfig, Stack};
//! use minnow::services::{EchoConfig, ServiceConfig, ServiceSet, TcpSizing, TimeConfig, UdpSizing};
//! use minnow::time::{TimeFormat, client::TimeClient};
//! use smoltcp::iface::{SocketSet, SocketStorage};
//! use smoltcp::phy::{Loopback, Medium};
//! use smoltcp::socket::{tcp, udp};
//! use smoltcp::time::{Duration, Instant};
//! use smoltcp::wire::{EthernetAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};
//!
//! // Which services, how many sockets, how big: one value.
//! let tcp = TcpSizing { sockets: 1, rx: 1024, tx: 1024 };
//! let config = ServiceConfig {
//!     echo: Some(EchoConfig {
//!         port: 7,
//!         tcp,
//!         udp: UdpSizing { packets: 4, bytes: 1500 },
//!         idle_timeout: None,
//!     }),
//!     time: Some(TimeConfig::ctime(9999, tcp, Duration::from_secs(1))),
//!     ..ServiceConfig::NONE
//! };
//! // Memory for exactly that (on a board: statics of these sizes), and
//! // two more socket slots for the clients below.
//! let bytes = Box::leak(vec![0u8; config.buffer_bytes()].into_boxed_slice());
//! let meta = Box::leak(vec![udp::PacketMetadata::EMPTY; config.udp_metadata()].into_boxed_slice());
//! let slots: &'static mut [SocketStorage<'static>] =
//!     Box::leak((0..config.sockets() + 2).map(|_| SocketStorage::EMPTY).collect());
//! let mut alloc = Arena::new(bytes, meta);
//!
//! // The device and the stack on it.
//! let mut device = Loopback::new(Medium::Ethernet);
//! let mut net = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 1]));
//! net.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
//! let mut stack = Stack::new(&net, &mut device, SocketSet::new(slots), Instant::ZERO);
//!
//! // The wall time (an RTC's, say): 2017-04-04 14:07:31 UTC.
//! let clock = WallClock::new();
//! clock.set_unix_micros(1_491_314_851_000_000, Instant::ZERO);
//!
//! // The services. Const capacities: at most 1 echo, time, file and chat
//! // connection, chat lines of 64 bytes, echo datagrams of 1500, 1 discard.
//! let mut set: ServiceSet<'_, StaticFiles<'static>, 1, 1, 1, 1, 64, 1500, 1> = ServiceSet::new();
//! set.build(&config, &mut stack, &mut alloc, &clock, None).unwrap();
//!
//! // Two clients on the same stack: a datagram to echo, a time query.
//! let me = Ipv4Address::new(192, 0, 2, 2).into();
//! let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 1], vec![0; 64]);
//! let socket = udp::Socket::new(buffer(), buffer());
//! let to_echo = IpEndpoint::new(me, 7);
//! let mut echo = DatagramClient::new(&mut stack.net(), socket, to_echo, 40000).unwrap();
//! assert!(echo.send(&mut stack.net(), b"hello"));
//! let socket = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; 64]), tcp::SocketBuffer::new(vec![0; 64]));
//! let handle = stack.sockets.add(socket);
//! let to_time = IpEndpoint::new(me, 9999);
//! let timeout = Duration::from_secs(5);
//! let mut time =
//!     TimeClient::connect(&mut stack.net(), handle, to_time, 40001, TimeFormat::Ctime, Instant::ZERO, timeout);
//!
//! // The loop: step, print the events, sleep until `next` or a frame
//! // (here the clock just moves on a millisecond).
//! let (mut now, mut echoed, mut len) = (Instant::ZERO, [0u8; 64], None);
//! while len.is_none() || time.outcome().is_none() {
//!     now += Duration::from_millis(1);
//!     assert!(now < Instant::from_secs(5), "no reply");
//!     let next = set.poll(&mut stack, &mut device, &mut alloc, &mut [&mut time], now);
//!     while let Some(event) = set.pop_event() {
//!         println!("{event}"); // "ready", "echo udp/7: ...", "time tcp/9999: ..."
//!     }
//!     len = len.or_else(|| echo.recv(&mut stack.net(), &mut echoed));
//!     let _sleep_until = next;
//! }
//! assert_eq!(&echoed[..len.unwrap()], b"hello");
//! let reply = time.outcome().unwrap().unwrap();
//! assert_eq!(reply.bytes(), b"Tue Apr  4 14:07:31 2017\r\n");
//! assert_eq!(reply.unix_secs, 1_491_314_851);
//! ```
//!
//! # Cargo features
//! Each service of the set is a feature, all on by default: `echo`,
//! `time`, `daytime`, `rfc868`, `file`, `chat`, `discard`. A build without
//! one leaves out its code and RAM; [`services::ServiceSet::build`] then
//! refuses a configuration naming it ([`services::BuildError::NotBuilt`]).
//! Diagnostics go through `log` or `defmt` (at most one), off by default.
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
