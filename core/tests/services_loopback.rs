//! Whole services on smoltcp's loopback device, on a virtual clock: the
//! server and the client of each service in one interface, byte for byte.

use minnow::WallClock;
use minnow::echo::EchoEvent;
use minnow::echo::client::DatagramClient;
use minnow::echo::tcp_server::TcpEchoServer;
use minnow::echo::udp_server::UdpEchoServer;
use minnow::net::NetConfig;
use minnow::net::Stack;
use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::{ClientError, ClientState};
use minnow::service::{Net, Service};
use minnow::time::client::{TimeClient, TimeClientError};
use minnow::time::server::TcpTimeServer;
use minnow::time::sntp::SntpError;
use minnow::time::sntp_client::{Rejected, SntpClient, SntpEvent, SntpTimers};
use minnow::time::udp_server::UdpTimeServer;
use minnow::time::{TimeEvent, TimeFormat};
use smoltcp::iface::SocketSet;
use smoltcp::phy::{Loopback, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};

const LOCAL: IpAddress = IpAddress::Ipv4(Ipv4Address::new(127, 0, 0, 1));

struct Bench {
    dev: Loopback,
    stack: Stack<'static>,
    now: Instant,
}

fn tcp_socket(size: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; size]),
        tcp::SocketBuffer::new(vec![0; size]),
    )
}

fn udp_socket() -> udp::Socket<'static> {
    udp::Socket::new(
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16384]),
        udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 16], vec![0; 16384]),
    )
}

impl Bench {
    fn new() -> Self {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 1]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(127, 0, 0, 1), 8));
        cfg.random_seed = 7;
        let stack = Stack::new(&cfg, &mut dev, SocketSet::new(vec![]), Instant::ZERO);
        Self {
            dev,
            stack,
            now: Instant::ZERO,
        }
    }

    fn net(&mut self) -> Net<'_, 'static> {
        self.stack.net()
    }

    /// One step; the virtual clock jumps to the next deadline (at most 10 ms).
    fn step(&mut self, services: &mut [&mut dyn Service]) {
        let next = self.stack.poll(&mut self.dev, services, self.now);
        let cap = self.now + Duration::from_millis(10);
        self.now = match next {
            Some(t) if t > self.now && t < cap => t,
            Some(t) if t <= self.now => self.now + Duration::from_micros(1),
            _ => cap,
        };
    }
}

#[test]
fn tcp_echo_returns_every_byte_in_order() {
    let mut b = Bench::new();
    let mut server = TcpEchoServer::<4>::new(7, None);
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(4096))
        .unwrap();
    let h = b.stack.sockets.add(tcp_socket(4096));
    let now = b.now;
    let mut client = StreamClient::connect(
        &mut b.net(),
        h,
        IpEndpoint::new(LOCAL, 7),
        50000,
        now,
        Duration::from_secs(5),
        None,
    );
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 256) as u8).collect();
    let (mut sent, mut got) = (0, Vec::new());
    let mut buf = [0u8; 1500];
    for _ in 0..200_000 {
        b.step(&mut [&mut server, &mut client]);
        if client.state() == ClientState::Connected && sent < data.len() {
            sent += client.write(&mut b.net(), &data[sent..]);
            if sent == data.len() {
                client.finish();
            }
        }
        loop {
            let n = client.read(&mut b.net(), &mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if client.state() == ClientState::PeerClosed {
            break;
        }
    }
    assert_eq!(client.state(), ClientState::PeerClosed);
    assert_eq!(got, data);
    for _ in 0..10 {
        b.step(&mut [&mut server, &mut client]);
    }
    let events: Vec<_> = core::iter::from_fn(|| server.events.pop()).collect();
    assert!(
        matches!(events[0], EchoEvent::Connected { .. }),
        "{events:?}"
    );
    assert!(
        events.contains(&EchoEvent::Closed {
            peer: IpEndpoint::new(LOCAL, 50000),
            bytes: 200_000
        }),
        "{events:?}"
    );
}

#[test]
fn a_full_pool_refuses_and_keeps_serving() {
    let mut b = Bench::new();
    let mut server = TcpEchoServer::<1>::new(7, None);
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(1024))
        .unwrap();
    assert!(
        server
            .add_socket(&mut b.stack.sockets, tcp_socket(1024))
            .is_err(),
        "N=1 holds one socket"
    );
    let (h1, h2) = (
        b.stack.sockets.add(tcp_socket(1024)),
        b.stack.sockets.add(tcp_socket(1024)),
    );
    let now = b.now;
    let remote = IpEndpoint::new(LOCAL, 7);
    let mut c1 = StreamClient::connect(
        &mut b.net(),
        h1,
        remote,
        50001,
        now,
        Duration::from_secs(5),
        None,
    );
    for _ in 0..50 {
        b.step(&mut [&mut server, &mut c1]);
    }
    assert_eq!(c1.state(), ClientState::Connected);
    let now = b.now;
    let mut c2 = StreamClient::connect(
        &mut b.net(),
        h2,
        remote,
        50002,
        now,
        Duration::from_secs(5),
        None,
    );
    for _ in 0..50 {
        b.step(&mut [&mut server, &mut c1, &mut c2]);
    }
    assert_eq!(c2.state(), ClientState::Failed(ClientError::Refused));
    assert_eq!(c1.write(&mut b.net(), b"still"), 5);
    let mut buf = [0u8; 16];
    let mut got = 0;
    for _ in 0..50 {
        b.step(&mut [&mut server, &mut c1]);
        got += c1.read(&mut b.net(), &mut buf[got..]);
    }
    assert_eq!(&buf[..got], b"still");
}

#[test]
fn udp_echo_returns_each_datagram() {
    let mut b = Bench::new();
    let mut server = UdpEchoServer::<2048>::new(&mut b.stack.sockets, udp_socket(), 7).unwrap();
    let mut net = b.net();
    let mut client =
        DatagramClient::new(&mut net, udp_socket(), IpEndpoint::new(LOCAL, 7), 40000).unwrap();
    let msgs: Vec<Vec<u8>> = (1..20).map(|i| vec![i as u8; i * 70]).collect();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for m in &msgs {
        assert!(client.send(&mut b.net(), m));
        for _ in 0..5 {
            b.step(&mut [&mut server]);
            while let Some(n) = client.recv(&mut b.net(), &mut buf) {
                got.push(buf[..n].to_vec());
            }
        }
    }
    assert_eq!(got, msgs);
}

#[test]
fn udp_echo_with_a_rate_answers_a_source_its_burst_then_its_rate() {
    use minnow::net::source_rate::{SourceRate, UdpRate};
    /// The echo server with a limiter, as the service set runs it.
    struct Limited(UdpEchoServer<2048>, SourceRate);
    impl Service for Limited {
        fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
            self.0.serve(net, now, Some(&mut self.1));
        }
        fn poll_at(&self, now: Instant) -> Option<Instant> {
            self.0.poll_at(now)
        }
    }
    let mut b = Bench::new();
    let rate = UdpRate {
        per_second: 4,
        burst: 4,
    };
    let mut server = Limited(
        UdpEchoServer::<2048>::new(&mut b.stack.sockets, udp_socket(), 7).unwrap(),
        SourceRate::new(Some(rate)),
    );
    let mut client =
        DatagramClient::new(&mut b.net(), udp_socket(), IpEndpoint::new(LOCAL, 7), 40000).unwrap();
    let mut buf = [0u8; 64];
    // A burst of 12, then 12 more 1.2 s later (the clock moves by the
    // steps' deadlines, at most 10 ms each; 4 a second refill the burst in
    // a second): 4 echoes of each.
    let mut echoed = Vec::new();
    for round in 0..2u8 {
        let start = b.now;
        for i in 0..12u8 {
            assert!(client.send(&mut b.net(), &[round, i]));
        }
        while b.now < start + Duration::from_millis(200) {
            b.step(&mut [&mut server]);
            while let Some(n) = client.recv(&mut b.net(), &mut buf) {
                echoed.push(buf[..n].to_vec());
            }
        }
        while b.now < start + Duration::from_millis(1200) {
            b.step(&mut [&mut server]);
        }
    }
    let expected: Vec<Vec<u8>> = (0..2u8)
        .flat_map(|r| (0..4u8).map(move |i| vec![r, i]))
        .collect();
    assert_eq!(echoed, expected);
    assert_eq!(server.0.unanswered(), 16);
}

#[test]
fn udp_echo_answers_no_service_port_and_no_broadcast() {
    let mut b = Bench::new();
    let mut server = UdpEchoServer::<2048>::new(&mut b.stack.sockets, udp_socket(), 7).unwrap();
    let mut buf = [0u8; 64];
    // From a reflecting service's port, and from the server's own: dropped.
    for port in [7, 13, 19, 37, 53, 123] {
        let mut client =
            DatagramClient::new(&mut b.net(), udp_socket(), IpEndpoint::new(LOCAL, 7), port)
                .unwrap();
        assert!(client.send(&mut b.net(), b"bounce"));
        for _ in 0..5 {
            b.step(&mut [&mut server]);
        }
        assert_eq!(
            client.recv(&mut b.net(), &mut buf),
            None,
            "from port {port}"
        );
    }
    assert_eq!(server.unanswered(), 6);
    // An ordinary port still gets its echo.
    let mut client =
        DatagramClient::new(&mut b.net(), udp_socket(), IpEndpoint::new(LOCAL, 7), 40001).unwrap();
    assert!(client.send(&mut b.net(), b"hello"));
    for _ in 0..5 {
        b.step(&mut [&mut server]);
    }
    assert_eq!(client.recv(&mut b.net(), &mut buf), Some(5));
    assert_eq!(server.unanswered(), 6);
}

fn ask_time(
    b: &mut Bench,
    server: &mut dyn Service,
    port: u16,
    format: TimeFormat,
) -> Result<u64, TimeClientError> {
    let h = b.stack.sockets.add(tcp_socket(256));
    let now = b.now;
    let local_port = b.stack.ports.next_port();
    let mut client = TimeClient::connect(
        &mut b.net(),
        h,
        IpEndpoint::new(LOCAL, port),
        local_port,
        format,
        now,
        Duration::from_secs(5),
    );
    for _ in 0..1000 {
        b.step(&mut [server, &mut client]);
        if let Some(outcome) = client.outcome() {
            // Let both sides finish closing before the socket goes.
            for _ in 0..20 {
                b.step(&mut [server, &mut client]);
            }
            b.stack.sockets.remove(h);
            return outcome.map(|r| r.unix_secs);
        }
    }
    panic!("no outcome");
}

#[test]
fn time_servers_send_the_clock_or_nothing() {
    let mut b = Bench::new();
    let clock = WallClock::new();
    let mut ctime =
        TcpTimeServer::<2>::new(9999, TimeFormat::Ctime, &clock, Duration::from_secs(10));
    ctime
        .add_socket(&mut b.stack.sockets, tcp_socket(64))
        .unwrap();
    let mut bin = TcpTimeServer::<2>::new(37, TimeFormat::Rfc868, &clock, Duration::from_secs(10));
    bin.add_socket(&mut b.stack.sockets, tcp_socket(64))
        .unwrap();

    assert_eq!(
        ask_time(&mut b, &mut ctime, 9999, TimeFormat::Ctime),
        Err(TimeClientError::Empty)
    );
    assert!(matches!(
        ctime.events.pop(),
        Some(TimeEvent::ClockNotSet { .. })
    ));

    clock.set_unix_micros(1_491_314_851_000_000, b.now);
    let t = ask_time(&mut b, &mut ctime, 9999, TimeFormat::Ctime).unwrap();
    assert!((1_491_314_851..1_491_314_853).contains(&t), "{t}");
    let t = ask_time(&mut b, &mut bin, 37, TimeFormat::Rfc868).unwrap();
    assert!((1_491_314_851..1_491_314_853).contains(&t), "{t}");
    // The wrong format is an error, not a time.
    assert_eq!(
        ask_time(&mut b, &mut bin, 37, TimeFormat::Ctime),
        Err(TimeClientError::NotCtime)
    );
    assert_eq!(
        ask_time(&mut b, &mut ctime, 9999, TimeFormat::Rfc868),
        Err(TimeClientError::NotRfc868)
    );
}

#[test]
fn rfc868_over_udp() {
    let mut b = Bench::new();
    let clock = WallClock::new();
    let mut server = UdpTimeServer::new(&mut b.stack.sockets, udp_socket(), 37, &clock).unwrap();
    let mut client = DatagramClient::new(
        &mut b.net(),
        udp_socket(),
        IpEndpoint::new(LOCAL, 37),
        40001,
    )
    .unwrap();
    let mut buf = [0u8; 16];
    assert!(client.send(&mut b.net(), b""));
    for _ in 0..20 {
        b.step(&mut [&mut server]);
    }
    assert_eq!(
        client.recv(&mut b.net(), &mut buf),
        None,
        "no reply while the clock is unset"
    );
    clock.set_unix_micros(0, b.now);
    assert!(client.send(&mut b.net(), b"x"));
    for _ in 0..20 {
        b.step(&mut [&mut server]);
    }
    assert_eq!(client.recv(&mut b.net(), &mut buf), Some(4));
    assert_eq!(
        u32::from_be_bytes(buf[..4].try_into().unwrap()),
        2_208_988_800
    );
}

/// A test SNTP server on the loopback interface: answers each request with
/// `reply(request) -> Option<[u8; 48]>`.
struct FakeNtp<F: FnMut(&[u8]) -> Option<[u8; 48]>> {
    handle: smoltcp::iface::SocketHandle,
    reply: F,
}

impl<F: FnMut(&[u8]) -> Option<[u8; 48]>> Service for FakeNtp<F> {
    fn poll(&mut self, net: &mut Net<'_, '_>, _now: Instant) {
        let s = net.sockets.get_mut::<udp::Socket>(self.handle);
        let mut buf = [0u8; 128];
        while let Ok((n, meta)) = s.recv_slice(&mut buf) {
            if let Some(r) = (self.reply)(&buf[..n]) {
                s.send_slice(&r, meta.endpoint).unwrap();
            }
        }
    }
    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        None
    }
}

fn ntp_reply(req: &[u8], mode: u8, transmit_secs: u32, echo_origin: bool) -> [u8; 48] {
    let mut r = [0u8; 48];
    r[0] = (4 << 3) | mode;
    r[1] = 2; // stratum
    r[32..36].copy_from_slice(&transmit_secs.to_be_bytes()); // receive
    if echo_origin {
        r[24..32].copy_from_slice(&req[40..48]);
    }
    r[40..44].copy_from_slice(&transmit_secs.to_be_bytes());
    r
}

fn run_sntp(reply: impl FnMut(&[u8]) -> Option<[u8; 48]>) -> (WallClock, Vec<SntpEvent>) {
    let (clock, events, _) = run_sntp_for(1000, reply);
    (clock, events)
}

/// `steps` steps of at most 10 ms against `reply`; the clock, the events
/// and whether the client ended refused.
fn run_sntp_for(
    steps: usize,
    reply: impl FnMut(&[u8]) -> Option<[u8; 48]>,
) -> (WallClock, Vec<SntpEvent>, bool) {
    let mut b = Bench::new();
    let clock = WallClock::new();
    let mut ntp = FakeNtp {
        handle: {
            let mut s = udp_socket();
            s.bind(123).unwrap();
            b.stack.sockets.add(s)
        },
        reply,
    };
    let timers = SntpTimers {
        reply_timeout: Duration::from_secs(1),
        min_retry: Duration::from_secs(1),
        max_retry: Duration::from_secs(4),
        resync: Duration::from_secs(60),
    };
    let mut client = SntpClient::new(
        &mut b.stack.sockets,
        udp_socket(),
        40123,
        IpEndpoint::new(LOCAL, 123),
        &clock,
        timers,
        99,
    )
    .unwrap();
    let mut events = Vec::new();
    for _ in 0..steps {
        b.step(&mut [&mut ntp, &mut client]);
        events.extend(core::iter::from_fn(|| client.events.pop()));
    }
    let refused = client.refused();
    if refused {
        assert_eq!(client.poll_at(b.now), None, "a refused client sleeps");
    }
    drop(client);
    (clock, events, refused)
}

const T2017: u32 = 3_700_303_651; // 1491314851 + 2208988800

#[test]
fn sntp_sets_the_clock_from_a_good_reply() {
    let (clock, events) = run_sntp(|req| Some(ntp_reply(req, 4, T2017, true)));
    assert!(clock.is_set(), "{events:?}");
    assert!(
        matches!(
            events[0],
            SntpEvent::Synced {
                unix_secs: 1_491_314_851,
                ..
            }
        ),
        "{events:?}"
    );
}

#[test]
fn sntp_ignores_wrong_mode_wrong_origin_and_zero_transmit() {
    for (name, mode, secs, origin) in [
        ("mode 3", 3, T2017, true),
        ("origin", 4, T2017, false),
        ("zero", 4, 0, true),
    ] {
        let (clock, events) = run_sntp(|req| Some(ntp_reply(req, mode, secs, origin)));
        assert!(!clock.is_set(), "{name}: {events:?}");
        assert!(
            events.iter().any(|e| matches!(
                e,
                SntpEvent::Ignored {
                    reason: Rejected::Invalid(_),
                    ..
                }
            )),
            "{name}: {events:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, SntpEvent::Timeout { .. })),
            "{name}: retries: {events:?}"
        );
    }
}

#[test]
fn sntp_retries_when_the_server_is_silent() {
    let (clock, events) = run_sntp(|_| None);
    assert!(!clock.is_set());
    let timeouts = events
        .iter()
        .filter(|e| matches!(e, SntpEvent::Timeout { .. }))
        .count();
    assert!(timeouts >= 2, "{events:?}");
}

fn download(b: &mut Bench, server: &mut dyn Service, request: &[u8]) -> (Vec<u8>, ClientState) {
    download_split(b, server, &[request], Duration::ZERO)
}

/// Sends the request in `parts`, `gap` apart, and reads the reply.
fn download_split(
    b: &mut Bench,
    server: &mut dyn Service,
    parts: &[&[u8]],
    gap: Duration,
) -> (Vec<u8>, ClientState) {
    let h = b.stack.sockets.add(tcp_socket(2048));
    let now = b.now;
    let port = b.stack.ports.next_port();
    let mut client = StreamClient::connect(
        &mut b.net(),
        h,
        IpEndpoint::new(LOCAL, 60000),
        port,
        now,
        Duration::from_secs(5),
        None,
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 700];
    let mut next = 0;
    let mut due = b.now;
    for _ in 0..100_000 {
        b.step(&mut [server, &mut client]);
        if next < parts.len() && client.state() == ClientState::Connected && b.now >= due {
            let part = parts[next];
            assert_eq!(client.write(&mut b.net(), part), part.len());
            next += 1;
            due = b.now + gap;
        }
        loop {
            let n = client.read(&mut b.net(), &mut buf);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if matches!(
            client.state(),
            ClientState::PeerClosed | ClientState::Failed(_)
        ) {
            break;
        }
    }
    client.finish();
    for _ in 0..20 {
        b.step(&mut [server, &mut client]);
    }
    b.stack.sockets.remove(h);
    (got, client.state())
}

#[test]
fn file_server_streams_named_and_default_files_and_refuses_bad_names() {
    use minnow::file::FileEvent;
    use minnow::file::server::{FileServer, FileTimers};
    use minnow::file::store::StaticFiles;
    let big: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let table: Vec<(&str, &[u8])> =
        vec![("hello.txt", b"hello\n"), ("big.bin", &big), ("empty", b"")];
    let mut b = Bench::new();
    let mut server = FileServer::<_, 2>::new(
        60000,
        StaticFiles::new(&table, Some("hello.txt")),
        FileTimers::default(),
    );
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(1024))
        .unwrap();
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(1024))
        .unwrap();

    assert_eq!(
        download(&mut b, &mut server, b"Hello server!"),
        (b"hello\n".to_vec(), ClientState::PeerClosed)
    );
    assert_eq!(download(&mut b, &mut server, b"GET big.bin\n").0, big);
    assert_eq!(download(&mut b, &mut server, b"GET empty").0, b"");
    for bad in [
        &b"GET ../x\n"[..],
        b"GET /etc/passwd",
        b"GET nope",
        b"GET a\0b\n",
    ] {
        assert_eq!(
            download(&mut b, &mut server, bad).0,
            b"ERR not found\n",
            "{bad:?}"
        );
    }
    assert_eq!(
        download(&mut b, &mut server, &[b'x'; 300]).0,
        b"ERR request too long\n"
    );
    let events: Vec<_> = core::iter::from_fn(|| server.events.pop()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, FileEvent::Sent { bytes: 100_000, .. })),
        "{events:?}"
    );
}

#[test]
fn file_server_reads_a_split_request_whole() {
    use minnow::file::server::{FileServer, FileTimers};
    use minnow::file::store::StaticFiles;
    let table: [(&str, &[u8]); 3] = [("na", b"wrong"), ("name", b"right"), ("d", b"default")];
    let mut b = Bench::new();
    let mut server = FileServer::<_, 1>::new(
        60000,
        StaticFiles::new(&table, Some("d")),
        FileTimers::DEFAULT,
    );
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(1024))
        .unwrap();
    // `GET na`, 200 ms (a retransmission), then `me\n`: the whole name.
    let parts: [&[u8]; 2] = [b"GET na", b"me\n"];
    let got = download_split(&mut b, &mut server, &parts, Duration::from_millis(200));
    assert_eq!(got.0, b"right");
    // The notes' client: no line end, then a pause.
    let started = b.now;
    assert_eq!(download(&mut b, &mut server, b"GET name").0, b"right");
    assert!(
        b.now - started >= FileTimers::DEFAULT.pause,
        "{:?}",
        b.now - started
    );
    let parts: [&[u8]; 2] = [b"Hel", b"lo server!"];
    let got = download_split(&mut b, &mut server, &parts, Duration::from_millis(100));
    assert_eq!(got.0, b"default");
}

#[test]
fn file_server_times_out_a_silent_client() {
    use minnow::file::server::{FileServer, FileTimers};
    use minnow::file::store::StaticFiles;
    let table: [(&str, &[u8]); 1] = [("a", b"x")];
    let mut b = Bench::new();
    let timers = FileTimers {
        request: Duration::from_secs(2),
        ..FileTimers::DEFAULT
    };
    let mut server = FileServer::<_, 1>::new(60000, StaticFiles::new(&table, None), timers);
    server
        .add_socket(&mut b.stack.sockets, tcp_socket(1024))
        .unwrap();
    let (got, state) = download(&mut b, &mut server, b"");
    assert_eq!(got, b"ERR timeout\n");
    assert_eq!(state, ClientState::PeerClosed);
    // No default file: the greeting is refused with its own ERR line.
    assert_eq!(
        download(&mut b, &mut server, b"Hello").0,
        b"ERR no default file\n"
    );
}

#[test]
fn a_full_room_answers_room_full_and_a_freed_place_is_taken_again() {
    use minnow::chat::server::ChatServer;
    let mut b = Bench::new();
    let mut room = ChatServer::<4, 64>::new(9009, Duration::from_secs(2));
    room.set_room(2);
    // Every client here comes from one address: let it fill the room.
    room.set_guard(minnow::net::guard::Guard {
        per_source: 3,
        ..minnow::net::guard::Guard::DEFAULT
    });
    while room.wants_socket() {
        room.add_socket(&mut b.stack.sockets, tcp_socket(1024))
            .unwrap();
    }
    room.add_overflow_socket(&mut b.stack.sockets, tcp_socket(64))
        .unwrap();
    let remote = IpEndpoint::new(LOCAL, 9009);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let h = b.stack.sockets.add(tcp_socket(1024));
        let now = b.now;
        let port = b.stack.ports.next_port();
        clients.push(StreamClient::connect(
            &mut b.net(),
            h,
            remote,
            port,
            now,
            Duration::from_secs(5),
            None,
        ));
        for _ in 0..30 {
            let mut services: Vec<&mut dyn Service> = vec![&mut room];
            services.extend(clients.iter_mut().map(|c| c as &mut dyn Service));
            b.step(&mut services);
        }
    }
    assert_eq!(room.members(), 2);
    let mut buf = [0u8; 64];
    let n = clients[2].read(&mut b.net(), &mut buf);
    assert_eq!(&buf[..n], b"room full\n");
    // The first member heard of the second joining, and of nothing else.
    let n = clients[0].read(&mut b.net(), &mut buf);
    assert!(
        buf[..n].ends_with(b"entered our chatting room\n"),
        "{:?}",
        &buf[..n]
    );
    assert_eq!(buf[..n].iter().filter(|&&c| c == b'\n').count(), 1);
    // Then it leaves, and its place is free again.
    clients[0].finish();
    for _ in 0..30 {
        let mut services: Vec<&mut dyn Service> = vec![&mut room];
        services.extend(clients.iter_mut().map(|c| c as &mut dyn Service));
        b.step(&mut services);
    }
    assert_eq!(clients[2].state(), ClientState::PeerClosed);
    assert_eq!(room.members(), 1);
    let h = b.stack.sockets.add(tcp_socket(1024));
    let (now, port) = (b.now, b.stack.ports.next_port());
    let mut late = StreamClient::connect(
        &mut b.net(),
        h,
        remote,
        port,
        now,
        Duration::from_secs(5),
        None,
    );
    for _ in 0..30 {
        b.step(&mut [&mut room, &mut late]);
    }
    assert_eq!(room.members(), 2);
    assert_eq!(late.state(), ClientState::Connected);
}

/// A kiss-o'-death answering `req`: LI 3 and stratum 0 as ntpd sends them.
fn ntp_kiss(req: &[u8], code: &[u8; 4], echo_origin: bool) -> [u8; 48] {
    let mut r = [0u8; 48];
    r[0] = 0xe4;
    r[12..16].copy_from_slice(code);
    if echo_origin {
        r[24..32].copy_from_slice(&req[40..48]);
    }
    r
}

fn kissed(e: &SntpEvent, code: &[u8; 4]) -> bool {
    matches!(e, SntpEvent::Ignored { reason: Rejected::Invalid(SntpError::KissOfDeath(c)), .. } if c == code)
}

#[test]
fn sntp_stops_asking_a_server_that_denies_or_restricts() {
    for code in [b"DENY", b"RSTR"] {
        let mut requests = 0;
        let (clock, events, refused) = run_sntp_for(3000, |req| {
            requests += 1;
            Some(ntp_kiss(req, code, true))
        });
        assert!(refused && !clock.is_set(), "{events:?}");
        assert_eq!(requests, 1, "no request after the kiss: {events:?}");
        assert!(events.iter().any(|e| kissed(e, code)), "{events:?}");
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, SntpEvent::Timeout { .. })),
            "{events:?}"
        );
    }
}

#[test]
fn sntp_ignores_a_kiss_that_does_not_echo_its_request() {
    let mut requests = 0;
    let (_, events, refused) = run_sntp_for(1000, |req| {
        requests += 1;
        Some(ntp_kiss(req, b"DENY", false))
    });
    assert!(!refused, "{events:?}");
    assert!(requests >= 3, "it kept asking: {requests}");
    assert!(!events.iter().any(|e| kissed(e, b"DENY")), "{events:?}");
}

#[test]
fn sntp_slows_down_when_told_rate() {
    // Timers: retries 1..4 s. Silent, it asks at 0, 2, 5, 10, 15, 20, 25 s;
    // with RATE every delay doubles per kiss from 4 s: 0, 8, 24 s.
    let mut silent = 0;
    run_sntp_for(3000, |_| {
        silent += 1;
        None
    });
    let mut rated = 0;
    let (clock, events, refused) = run_sntp_for(3000, |req| {
        rated += 1;
        Some(ntp_kiss(req, b"RATE", true))
    });
    assert!(!refused && !clock.is_set());
    assert_eq!((silent, rated), (7, 3), "{events:?}");
    assert_eq!(events.iter().filter(|e| kissed(e, b"RATE")).count(), 3);
}

#[test]
fn sntp_steps_a_set_clock_only_when_two_replies_agree() {
    // Resync every 60 s, confirmations after 1 s. Replies: the first sets
    // the clock; then 100 s ahead (held), 300 s ahead (disagrees with the
    // held one: held instead), 300 s ahead again (agrees: stepped), then
    // what the clock reads (agrees with the clock itself: stepped).
    let mut n = 0u32;
    let ahead = [0, 100, 300, 300, 300];
    let elapsed = [0, 60, 61, 62, 122];
    let (clock, events, _) = run_sntp_for(13_000, |req| {
        let i = n as usize;
        n += 1;
        let secs = T2017 + elapsed.get(i)? + ahead.get(i)?;
        Some(ntp_reply(req, 4, secs, true))
    });
    let synced: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            SntpEvent::Synced { unix_secs, .. } => Some(*unix_secs),
            _ => None,
        })
        .collect();
    let t = u64::from(T2017 - 2_208_988_800);
    assert_eq!(synced, [t, t + 62 + 300, t + 122 + 300], "{events:?}");
    let held: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            SntpEvent::Ignored {
                reason: Rejected::Invalid(SntpError::Disagrees { offset_secs }),
                ..
            } => Some(*offset_secs),
            _ => None,
        })
        .collect();
    assert_eq!(held, [99, 299], "{events:?}");
    assert!(clock.is_set());
}

#[test]
fn sntp_transmit_stamps_are_random_not_the_clock() {
    let mut with_clock = Vec::new();
    // The clock is set by the first reply (then re-sync after 60 s); every
    // later request times out and is retried.
    run_sntp_for(20_000, |req| {
        with_clock.push(u64::from_be_bytes(req[40..48].try_into().unwrap()));
        (with_clock.len() == 1).then(|| ntp_reply(req, 4, T2017, true))
    });
    assert!(with_clock.len() >= 5, "{with_clock:x?}");
    let mut sorted = with_clock.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), with_clock.len(), "no repeats");
    // Once the clock reads 2017, no stamp is within a day of it: they do not
    // carry the clock.
    for s in &with_clock[1..] {
        let secs = (s >> 32) as u32;
        assert!(secs.abs_diff(T2017) > 86_400, "{s:x}");
    }
    // Half the bits differ between consecutive stamps, on average.
    let flips: u32 = with_clock
        .windows(2)
        .map(|w| (w[0] ^ w[1]).count_ones())
        .sum();
    let mean = flips / (with_clock.len() as u32 - 1);
    assert!((20..=44).contains(&mean), "{mean} bits flip");
}
