//! The SYN gate (core/src/net/syn_gate.rs) on a scripted wire: SYNs that
//! arrive in one batch beyond a pool's listeners are held back and handed
//! over once the pool has freed a socket, never refused with RST; a closed
//! port still is.

use std::collections::VecDeque;

use minnow::echo::tcp_server::TcpEchoServer;
use minnow::net::syn_gate::HOLD;
use minnow::net::{NetConfig, Stack};
use minnow::service::Service;
use smoltcp::iface::SocketSet;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpProtocol, Ipv4Address, Ipv4Cidr, Ipv4Packet, Ipv4Repr, TcpControl,
    TcpPacket, TcpRepr, TcpSeqNumber,
};

const OURS: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const THEIRS: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
const SERVER: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const PORT: u16 = 12345;

/// Frames in (read by the stack in one batch), frames out (recorded).
#[derive(Default)]
struct Wire {
    inbox: VecDeque<Vec<u8>>,
    outbox: Vec<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.push(frame);
        r
    }
}

impl Device for Wire {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.inbox.pop_front()?;
        Some((Rx(frame), Tx(&mut self.outbox)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.outbox))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

fn ethernet(ethertype: EthernetProtocol, len: usize, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let eth = EthernetRepr {
        src_addr: THEIRS,
        dst_addr: OURS,
        ethertype,
    };
    let mut frame = vec![0; eth.buffer_len() + len];
    let mut f = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.emit(&mut f);
    fill(f.payload_mut());
    frame
}

/// An ARP request from `src`, so the stack knows where to answer it.
fn arp(src: Ipv4Address) -> Vec<u8> {
    let repr = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: THEIRS,
        source_protocol_addr: src,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: SERVER,
    };
    ethernet(EthernetProtocol::Arp, repr.buffer_len(), |p| {
        repr.emit(&mut ArpPacket::new_unchecked(p))
    })
}

fn syn(src: Ipv4Address, src_port: u16, dst_port: u16) -> Vec<u8> {
    segment(src, src_port, dst_port, TcpControl::Syn, None)
}

/// A segment from `src` with sequence number 1000 (1001 after the SYN),
/// acknowledging `ack` if given.
fn segment(
    src: Ipv4Address,
    src_port: u16,
    dst_port: u16,
    control: TcpControl,
    ack: Option<TcpSeqNumber>,
) -> Vec<u8> {
    let seq = if control == TcpControl::Syn {
        1000
    } else {
        1001
    };
    let tcp = TcpRepr {
        src_port,
        dst_port,
        control,
        seq_number: TcpSeqNumber(seq),
        ack_number: ack,
        window_len: 64240,
        window_scale: None,
        max_seg_size: Some(1460),
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: SERVER,
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: 64,
    };
    let caps = smoltcp::phy::ChecksumCapabilities::default();
    ethernet(
        EthernetProtocol::Ipv4,
        ip.buffer_len() + tcp.buffer_len(),
        |p| {
            let mut packet = Ipv4Packet::new_unchecked(p);
            ip.emit(&mut packet, &caps);
            tcp.emit(
                &mut TcpPacket::new_unchecked(packet.payload_mut()),
                &IpAddress::Ipv4(src),
                &IpAddress::Ipv4(SERVER),
                &caps,
            );
        },
    )
}

/// What the stack sent: (destination, SYN-ACK?, RST?) of each TCP segment.
fn segments(out: &[Vec<u8>]) -> Vec<(Ipv4Address, bool, bool)> {
    out.iter()
        .filter_map(|f| {
            let eth = EthernetFrame::new_checked(&f[..]).ok()?;
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
            Some((ip.dst_addr(), tcp.syn() && tcp.ack(), tcp.rst()))
        })
        .collect()
}

/// The sequence number of the last SYN-ACK to `dst` in `out`.
fn synack_seq(out: &[Vec<u8>], dst: Ipv4Address) -> Option<TcpSeqNumber> {
    out.iter().rev().find_map(|f| {
        let eth = EthernetFrame::new_checked(&f[..]).ok()?;
        let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
        let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
        (ip.dst_addr() == dst && tcp.syn() && tcp.ack()).then(|| tcp.seq_number())
    })
}

fn source(i: u8) -> Ipv4Address {
    Ipv4Address::new(192, 0, 2, 100 + i)
}

struct Bench {
    wire: Wire,
    stack: Stack<'static>,
    now: Instant,
}

impl Bench {
    fn new() -> Self {
        let mut wire = Wire::default();
        let mut cfg = NetConfig::new(OURS);
        cfg.ipv4 = Some(Ipv4Cidr::new(SERVER, 24));
        let stack = Stack::new(&cfg, &mut wire, SocketSet::new(vec![]), Instant::ZERO);
        Self {
            wire,
            stack,
            now: Instant::ZERO,
        }
    }

    fn echo<const N: usize>(&mut self) -> TcpEchoServer<N> {
        let mut server = TcpEchoServer::<N>::new(PORT, None);
        for _ in 0..N {
            let socket = tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; 1024]),
                tcp::SocketBuffer::new(vec![0; 1024]),
            );
            server.add_socket(&mut self.stack.sockets, socket).unwrap();
        }
        server
    }

    /// Steps until the wire is read and the stack has nothing due now (a
    /// parked SYN is due now).
    fn settle(&mut self, service: &mut dyn Service) {
        for _ in 0..1000 {
            let next = self.stack.poll(
                &mut self.wire,
                &mut [service as &mut dyn Service][..],
                self.now,
            );
            if next.is_none_or(|t| t > self.now) && self.wire.inbox.is_empty() {
                return;
            }
        }
        panic!("the stack keeps asking for another step");
    }

    /// A bench with an echo pool of `N` sockets that knows the MACs of the
    /// first `sources` addresses (so that it answers them at once).
    fn with_echo<const N: usize>(sources: u8) -> (Self, TcpEchoServer<N>) {
        let mut b = Self::new();
        let mut echo = b.echo::<N>();
        b.settle(&mut echo);
        for i in 0..sources {
            b.wire.inbox.push_back(arp(source(i)));
        }
        b.settle(&mut echo);
        b.sent();
        (b, echo)
    }

    /// Steps the clock a millisecond at a time for `span`.
    fn run_for(&mut self, span: Duration, service: &mut dyn Service) {
        let end = self.now + span;
        while self.now < end {
            self.now += Duration::from_millis(1);
            self.settle(service);
        }
    }

    fn sent(&mut self) -> Vec<(Ipv4Address, bool, bool)> {
        segments(&std::mem::take(&mut self.wire.outbox))
    }
}

#[test]
fn a_syn_beyond_the_listeners_of_its_batch_is_held_back_not_refused() {
    let (mut b, mut echo) = Bench::with_echo::<2>(3);
    // Three SYNs in one batch, two listeners: the third has none.
    for i in 0..3 {
        b.wire.inbox.push_back(syn(source(i), 40000, PORT));
    }
    b.settle(&mut echo);
    let sent = b.sent();
    assert!(sent.iter().all(|&(_, _, rst)| !rst), "refused: {sent:?}");
    assert_eq!(
        sent.iter().filter(|s| s.1).count(),
        2,
        "two SYN-ACKs: {sent:?}"
    );
    assert!(!sent.iter().any(|s| s.0 == source(2)), "{sent:?}");
    assert!(b.stack.gate.has_parked());
    // Held, while the two handshakes (never answered: a flood) age: once
    // the oldest is the flood age old, the pool recycles it and the held
    // SYN, still within its hold, gets the socket.
    b.run_for(HOLD, &mut echo);
    let sent = b.sent();
    assert!(
        sent.contains(&(source(2), true, false)),
        "no SYN-ACK to the third client: {sent:?}"
    );
    assert!(sent.iter().all(|&(_, _, rst)| !rst), "refused: {sent:?}");
    assert_eq!(b.stack.gate.dropped(), 0);
    assert!(!b.stack.gate.has_parked());
}

#[test]
fn a_burst_from_one_address_does_not_crowd_out_the_next_client_of_its_batch() {
    let (mut b, mut echo) = Bench::with_echo::<4>(2);
    // 50 half-open from one address, then a real client, in one batch.
    for i in 0..50 {
        b.wire.inbox.push_back(syn(source(0), 20000 + i, PORT));
    }
    b.wire.inbox.push_back(syn(source(1), 40000, PORT));
    b.settle(&mut echo);
    let sent = b.sent();
    assert!(
        sent.contains(&(source(1), true, false)),
        "the second address got no SYN-ACK: {sent:?}"
    );
    assert!(
        !sent.iter().any(|&(dst, _, rst)| rst && dst == source(1)),
        "the second address was refused: {sent:?}"
    );
}

#[test]
fn a_syn_to_a_port_nobody_listens_on_is_still_refused() {
    let (mut b, mut echo) = Bench::with_echo::<2>(1);
    b.wire.inbox.push_back(syn(source(0), 40000, PORT + 1));
    b.settle(&mut echo);
    assert_eq!(b.sent(), vec![(source(0), false, true)]);
    assert_eq!(b.stack.gate.dropped(), 0);
}

#[test]
fn a_syn_held_past_the_hold_is_dropped_silently() {
    // One socket: the pool keeps it for the handshake it has, so nothing
    // is freed for the second SYN.
    let (mut b, mut echo) = Bench::with_echo::<1>(2);
    b.wire.inbox.push_back(syn(source(0), 40000, PORT));
    b.wire.inbox.push_back(syn(source(1), 40000, PORT));
    b.settle(&mut echo);
    assert!(b.stack.gate.has_parked());
    b.run_for(HOLD + Duration::from_millis(2), &mut echo);
    let sent = b.sent();
    assert!(!sent.iter().any(|s| s.0 == source(1)), "{sent:?}");
    assert_eq!(b.stack.gate.dropped(), 1);
    assert!(!b.stack.gate.has_parked());
}

#[test]
fn a_newer_syn_takes_the_place_of_a_held_one() {
    let (mut b, mut echo) = Bench::with_echo::<2>(4);
    for i in 0..2 {
        b.wire.inbox.push_back(syn(source(i), 20000, PORT));
    }
    b.settle(&mut echo);
    // Held, then replaced a millisecond later by another client's SYN.
    b.now += Duration::from_millis(1);
    b.wire.inbox.push_back(syn(source(2), 40000, PORT));
    b.settle(&mut echo);
    b.now += Duration::from_millis(1);
    b.wire.inbox.push_back(syn(source(3), 40000, PORT));
    b.settle(&mut echo);
    assert_eq!(b.stack.gate.dropped(), 1);
    b.run_for(HOLD, &mut echo);
    let sent = b.sent();
    assert!(sent.contains(&(source(3), true, false)), "{sent:?}");
    assert!(!sent.iter().any(|s| s.0 == source(2)), "{sent:?}");
    assert!(sent.iter().all(|&(_, _, rst)| !rst), "refused: {sent:?}");
}

/// 200 SYN/s from forged sources (1..=40, never repeated) on a pool of 2
/// for `span` ms, one every 5 ms. The real client (source 0, the same
/// sequence number each time, as a retransmission has) sends a SYN from
/// each of `at` (ms into the flood) on, right after a flood SYN, when
/// every socket has just been taken: the gate holds that flood SYN and the
/// last SYN-ACK went out at most 5 ms ago, so no socket is freed before
/// the next flood SYN. Returns, for each of its SYNs, whether a SYN-ACK
/// came before the next.
fn flood_with_client(b: &mut Bench, echo: &mut dyn Service, span: u64, at: &[u64]) -> Vec<bool> {
    let mut served = vec![false; at.len()];
    let mut client_syns = 0;
    let mut last_synack = 0;
    for ms in 0..span {
        let mut sent = Vec::new();
        if ms % 5 == 0 {
            let k = ms / 5;
            let src = source(1 + (k % 40) as u8);
            b.wire.inbox.push_back(syn(src, 20000 + k as u16, PORT));
            b.settle(echo);
            sent = b.sent();
            let taken = b.stack.gate.has_parked() && ms <= last_synack + 5;
            if client_syns < at.len() && ms >= at[client_syns] && taken {
                b.wire.inbox.push_back(syn(source(0), 40000, PORT));
                client_syns += 1;
            }
        }
        b.now += Duration::from_millis(1);
        b.settle(echo);
        sent.extend(b.sent());
        if sent.iter().any(|s| s.1) {
            last_synack = ms;
        }
        if client_syns > 0 {
            served[client_syns - 1] |= sent.contains(&(source(0), true, false));
        }
    }
    assert_eq!(client_syns, at.len(), "the client's SYNs were not all sent");
    served
}

#[test]
fn a_retransmitted_syn_outranks_the_flood_for_the_next_socket() {
    let (mut b, mut echo) = Bench::with_echo::<2>(41);
    // The first SYN meets a pool whose sockets the flood holds and is
    // replaced by the flood SYN behind it; the retransmission a second
    // later is recognised and keeps its place until a socket is freed.
    let served = flood_with_client(&mut b, &mut echo, 1500, &[200, 1200]);
    assert_eq!(served, vec![false, true], "first SYN, retransmission");
    assert!(b.stack.gate.dropped() > 50, "{}", b.stack.gate.dropped());
}

#[test]
fn a_syn_the_gate_has_forgotten_is_not_a_retry() {
    use minnow::net::syn_gate::RETRY_MEMORY;
    let (mut b, mut echo) = Bench::with_echo::<2>(41);
    // 3 x RETRY_MEMORY flood SYNs between the two, of which the pool (about
    // 100 sockets a second) takes at most half: the gate remembered more
    // than RETRY_MEMORY others since, so it is replaced as a first SYN is.
    let late = 200 + 3 * 5 * RETRY_MEMORY as u64;
    let served = flood_with_client(&mut b, &mut echo, late + 300, &[200, late]);
    assert_eq!(served, vec![false, false]);
}

#[test]
fn a_freed_socket_behind_a_flood_handshake_listens_within_the_flood_age() {
    use minnow::net::guard::Guard;
    let (mut b, mut echo) = Bench::with_echo::<2>(3);
    // A client connects (first socket), a flood SYN takes the second, then
    // the client resets its connection: the first socket is free but waits
    // to listen behind the later handshake, so nothing listens.
    b.wire.inbox.push_back(syn(source(0), 40000, PORT));
    b.settle(&mut echo);
    let out = std::mem::take(&mut b.wire.outbox);
    let isn = synack_seq(&out, source(0)).expect("no SYN-ACK to the client");
    let ack = Some(isn + 1);
    b.wire
        .inbox
        .push_back(segment(source(0), 40000, PORT, TcpControl::None, ack));
    b.wire.inbox.push_back(syn(source(1), 20000, PORT));
    b.settle(&mut echo);
    b.now += Duration::from_millis(1);
    b.wire
        .inbox
        .push_back(segment(source(0), 40000, PORT, TcpControl::Rst, ack));
    b.settle(&mut echo);
    assert!(
        b.sent().contains(&(source(1), true, false)),
        "the flood SYN took no socket"
    );
    // The flood's handshake is recycled at the flood age, not at the
    // handshake timeout: a new client is answered within its hold.
    b.run_for(Guard::DEFAULT.flood_age, &mut echo);
    b.wire.inbox.push_back(syn(source(2), 40001, PORT));
    b.settle(&mut echo);
    b.run_for(HOLD, &mut echo);
    let sent = b.sent();
    assert!(
        sent.contains(&(source(2), true, false)),
        "no SYN-ACK to the next client: {sent:?}"
    );
    assert_eq!(b.stack.gate.dropped(), 0);
}
