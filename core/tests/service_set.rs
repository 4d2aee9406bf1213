//! A whole service set on smoltcp's loopback device, built from one
//! configuration, its sockets from a static-style arena: what a board does.

use minnow::WallClock;
use minnow::file::server::FileTimers;
use minnow::file::store::StaticFiles;
use minnow::net::tcp_client::ClientState;
use minnow::net::{Arena, NetConfig, Stack};
use minnow::service::Service;
use minnow::services::{
    BuildError, DiscardConfig, EchoConfig, FileConfig, ServiceConfig, ServiceSet, TcpSizing,
    TimeConfig, UdpSizing,
};
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::{Loopback, Medium};
use smoltcp::socket::udp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};

const LOCAL: IpAddress = IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1));
const FILES: &[(&str, &[u8])] = &[("hello.txt", b"hello\n")];

type Set<'c> = ServiceSet<'c, StaticFiles<'static>, 2, 1, 2, 1, 256, 1500, 2>;

fn config() -> ServiceConfig {
    let tcp = TcpSizing {
        sockets: 2,
        rx: 4096,
        tx: 4096,
    };
    let udp = UdpSizing {
        packets: 4,
        bytes: 2048,
    };
    ServiceConfig {
        echo: Some(EchoConfig {
            port: 7,
            tcp,
            udp,
            idle_timeout: None,
        }),
        time: Some(TimeConfig {
            port: 13,
            daytime: false,
            rfc868: false,
            tcp: TcpSizing {
                sockets: 1,
                rx: 64,
                tx: 64,
            },
            udp: UdpSizing {
                packets: 0,
                bytes: 0,
            },
            linger: Duration::from_secs(1),
        }),
        file: Some(FileConfig {
            port: 60000,
            tcp,
            timers: FileTimers::DEFAULT,
        }),
        discard: Some(DiscardConfig {
            port: 9,
            tcp: TcpSizing {
                sockets: 2,
                rx: 4096,
                tx: 64,
            },
            udp,
            idle_timeout: None,
        }),
        ..ServiceConfig::NONE
    }
}

struct Node {
    dev: Loopback,
    stack: Stack<'static>,
    now: Instant,
}

impl Node {
    fn new(slots: usize) -> Self {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 1]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(127, 0, 0, 1), 8));
        let storage: &'static mut [SocketStorage<'static>] =
            Box::leak((0..slots).map(|_| SocketStorage::EMPTY).collect());
        let stack = Stack::new(
            &cfg,
            &mut dev,
            SocketSet::new(&mut storage[..]),
            Instant::ZERO,
        );
        Self {
            dev,
            stack,
            now: Instant::ZERO,
        }
    }
}

/// An arena of exactly the bytes `config` asks for (plus `extra`).
fn arena(config: &ServiceConfig, extra: usize) -> Arena<'static> {
    let bytes = Box::leak(vec![0u8; config.buffer_bytes() + extra].into_boxed_slice());
    let meta =
        Box::leak(vec![udp::PacketMetadata::EMPTY; config.udp_metadata()].into_boxed_slice());
    Arena::new(bytes, meta)
}

#[test]
fn one_config_sizes_and_builds_every_service_and_events_read_the_same() {
    let config = config();
    // 2 echo + udp, 1 time, 2 file, 2 discard + udp, and one client socket.
    assert_eq!(config.sockets(), 9);
    let mut node = Node::new(config.sockets() + 1);
    let mut alloc = arena(&config, 0);
    let clock: &'static WallClock = Box::leak(Box::new(WallClock::new()));
    let mut set: Box<Set<'static>> = Box::default();
    set.build(
        &config,
        &mut node.stack,
        &mut alloc,
        clock,
        Some(StaticFiles::new(FILES, Some("hello.txt"))),
    )
    .unwrap();
    // The arena was sized by the same configuration: nothing left over.
    assert_eq!(alloc.bytes_left(), 0);
    assert_eq!(
        set.listening().to_string(),
        "echo tcp+udp/7, time tcp/13, file tcp/60000, discard tcp+udp/9"
    );

    // A client sends 100,000 bytes to discard and closes.
    let mut owned = arena(&ServiceConfig::NONE, 16384);
    let (mut client, _, local) = node
        .stack
        .connect_stream(
            &mut owned,
            IpEndpoint::new(LOCAL, 9),
            (8192, 8192),
            node.now,
            Duration::from_secs(5),
            None,
        )
        .unwrap();
    let port = local.unwrap().port;
    let data = vec![0x5a; 100_000];
    let mut sent = 0;
    let mut lines = Vec::new();
    for _ in 0..20_000 {
        let next = set.poll(
            &mut node.stack,
            &mut node.dev,
            &mut alloc,
            &mut [&mut client as &mut dyn Service],
            node.now,
        );
        while let Some(e) = set.pop_event() {
            lines.push(e.to_string());
        }
        if client.state() == ClientState::Connected && sent < data.len() {
            sent += client.write(&mut node.stack.net(), &data[sent..]);
            if sent == data.len() {
                client.finish();
            }
        }
        if lines.iter().any(|l| l.contains("closed")) {
            break;
        }
        node.now = match next {
            Some(t) if t > node.now => t.min(node.now + Duration::from_millis(10)),
            _ => node.now + Duration::from_micros(100),
        };
    }
    assert_eq!(lines[0], "ready", "{lines:?}");
    assert_eq!(
        lines[1..],
        [
            format!("discard tcp/9: connected 127.0.0.1:{port}"),
            format!("discard tcp/9: closed 127.0.0.1:{port} after 100000 bytes"),
        ],
        "{lines:?}"
    );
}

#[test]
fn a_config_beyond_the_capacity_or_the_memory_is_refused_with_its_reason() {
    let clock = WallClock::new();
    let mut too_many = config();
    too_many.echo.as_mut().unwrap().tcp.sockets = 3;
    let mut node = Node::new(16);
    let mut alloc = arena(&too_many, 0);
    let mut set: Box<Set<'_>> = Box::default();
    let err = set
        .build(&too_many, &mut node.stack, &mut alloc, &clock, None)
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::Capacity {
            service: "echo",
            asked: 3,
            max: 2
        }
    );
    assert_eq!(err.to_string(), "echo: 3 sockets asked, at most 2");

    // One byte short of what the configuration needs.
    let config = config();
    let bytes = Box::leak(vec![0u8; config.buffer_bytes() - 1].into_boxed_slice());
    let meta = Box::leak(vec![udp::PacketMetadata::EMPTY; 64].into_boxed_slice());
    let mut node = Node::new(16);
    let mut set: Box<Set<'_>> = Box::default();
    let err = set
        .build(
            &config,
            &mut node.stack,
            &mut Arena::new(bytes, meta),
            &clock,
            Some(StaticFiles::new(FILES, None)),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "no memory left for socket buffers");

    // A file service with nothing to serve.
    let mut node = Node::new(16);
    let mut set: Box<Set<'_>> = Box::default();
    let err = set
        .build(
            &config,
            &mut node.stack,
            &mut arena(&config, 0),
            &clock,
            None,
        )
        .unwrap_err();
    assert_eq!(err, BuildError::NoStore);
}

#[test]
fn exactly_the_sockets_the_config_counts() {
    let config = config();
    let mut node = Node::new(config.sockets());
    let clock = WallClock::new();
    let mut set: Box<Set<'_>> = Box::default();
    set.build(
        &config,
        &mut node.stack,
        &mut arena(&config, 0),
        &clock,
        Some(StaticFiles::new(FILES, None)),
    )
    .unwrap();
    assert_eq!(node.stack.sockets.iter().count(), config.sockets());
}
