//! Echo (TCP and UDP, port 7) and the notes' time server (port 9999) on a
//! Linux TAP interface: all an embedder writes around Minnow's core.
//!
//! Opening a TAP device needs root (or CAP_NET_ADMIN, or a device made
//! beforehand for your user). The interface must be up before traffic
//! comes: smoltcp's `TunTapInterface` panics on a failed write, such as
//! EIO from a TAP that is down (this program only answers, so it sends
//! nothing before that). With 192.0.2.0/24, a documentation range:
//! ```text
//! sudo ip tuntap add dev tap0 mode tap user $USER
//! sudo ip addr add 192.0.2.1/24 dev tap0 && sudo ip link set tap0 up
//! cargo run -p minnow --example tap_echo_time -- tap0
//! echo hello | nc -q1 192.0.2.2 7; nc 192.0.2.2 9999
//! ```
use std::os::fd::AsRawFd;
use std::time::{Instant as StdInstant, SystemTime, UNIX_EPOCH};

use minnow::WallClock;
use minnow::file::store::StaticFiles;
use minnow::net::{Arena, NetConfig, Stack, wait_duration};
use minnow::services::{EchoConfig, ServiceConfig, ServiceSet, TcpSizing, TimeConfig, UdpSizing};
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::{Medium, TunTapInterface, wait};
use smoltcp::socket::udp::PacketMetadata;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};

/// Echo's and time's TCP sockets: four clients each at once.
const TCP: TcpSizing = TcpSizing {
    sockets: 4,
    rx: 4096,
    tx: 4096,
};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "tap0".into());
    let mut device = TunTapInterface::new(&name, Medium::Ethernet).unwrap_or_else(|e| {
        eprintln!("{name}: {e} (a TAP device needs root or CAP_NET_ADMIN)");
        std::process::exit(1)
    });
    let config = ServiceConfig {
        echo: Some(EchoConfig {
            port: 7,
            tcp: TCP,
            udp: UdpSizing {
                packets: 8,
                bytes: 4096,
            },
            idle_timeout: Some(Duration::from_secs(60)),
        }),
        time: Some(TimeConfig::ctime(9999, TCP, Duration::from_secs(10))),
        ..ServiceConfig::NONE
    };
    // Socket memory sized by the configuration, as a board's statics are.
    let mut bytes = vec![0u8; config.buffer_bytes()];
    let mut meta = vec![PacketMetadata::EMPTY; config.udp_metadata()];
    let mut slots: Vec<_> = (0..config.sockets())
        .map(|_| SocketStorage::EMPTY)
        .collect();
    let mut alloc = Arena::new(&mut bytes, &mut meta);

    let mut net = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
    net.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
    net.random_seed = unix_micros(); // a new ISN and port sequence each start
    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as i64);
    let mut stack = Stack::new(&net, &mut device, SocketSet::new(&mut slots[..]), now());

    let clock = WallClock::new();
    // Capacities: 4 echo and 4 time connections (file, chat, discard unused).
    let mut set: ServiceSet<'_, StaticFiles<'static>, 4, 4, 1, 1, 64, 4096, 1> = ServiceSet::new();
    if let Err(e) = set.build(&config, &mut stack, &mut alloc, &clock, None) {
        eprintln!("building the services: {e}");
        std::process::exit(1)
    }
    println!("{} on 192.0.2.2 over {name}", set.listening());
    loop {
        clock.set_unix_micros(unix_micros(), now()); // the OS clock, each turn
        let next = set.poll(&mut stack, &mut device, &mut alloc, &mut [], now());
        while let Some(event) = set.pop_event() {
            println!("{event}");
        }
        // Sleep until the deadline or a frame (at most a second).
        let sleep = wait_duration(now(), next, Duration::from_secs(1));
        if let Err(e) = wait(device.as_raw_fd(), Some(sleep)) {
            eprintln!("{name}: {e}");
            std::process::exit(1)
        }
    }
}

fn unix_micros() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| d.as_micros() as u64)
}
