//! The adapter against [`FakeDriver`]: as a `phy::Device`, and under
//! Minnow's `Stack::poll`.

use std::string::ToString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};
use std::vec;
use std::vec::Vec;

use embassy_net_driver::{Capabilities, Checksum, HardwareAddress as DriverAddress, LinkState};
use minnow::net::{NetConfig, Stack};
use minnow::service::Service;
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::phy::{self, Device, Medium, RxToken as _, TxToken as _};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, HardwareAddress, IpEndpoint, Ipv4Address, Ipv4Cidr,
};

use crate::fake::{FakeDriver, MAC};
use crate::{DriverDevice, ETHERNET_FRAME, MAX_BURST, MAX_FRAME, NotEthernet, capabilities};

const OUR_IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const PEER_IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x11]);

fn device() -> DriverDevice<FakeDriver> {
    DriverDevice::new(FakeDriver::new()).unwrap()
}

/// Minnow's stack on `device`, at 192.0.2.2/24.
fn stack<'s>(
    device: &mut DriverDevice<FakeDriver>,
    slots: &'s mut [SocketStorage<'s>],
) -> Stack<'s> {
    let mut net = NetConfig::new(device.ethernet_address());
    net.ipv4 = Some(Ipv4Cidr::new(OUR_IP, 24));
    Stack::new(&net, device, SocketSet::new(slots), Instant::ZERO)
}

fn poll(stack: &mut Stack<'_>, device: &mut DriverDevice<FakeDriver>, ms: i64) {
    let mut none: [&mut dyn Service; 0] = [];
    stack.poll(device, &mut none[..], Instant::from_millis(ms));
}

/// An ARP request from the peer for our address, padded to `len` bytes.
fn arp_request(len: usize) -> Vec<u8> {
    let eth = EthernetRepr {
        src_addr: PEER_MAC,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EthernetProtocol::Arp,
    };
    let arp = ArpRepr::EthernetIpv4 {
        operation: ArpOperation::Request,
        source_hardware_addr: PEER_MAC,
        source_protocol_addr: PEER_IP,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: OUR_IP,
    };
    let mut buf = vec![0; len.max(eth.buffer_len() + arp.buffer_len())];
    let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
    eth.emit(&mut frame);
    arp.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
    buf
}

/// Whether `frame` is our ARP reply to the peer.
fn is_arp_reply(frame: &[u8]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return false;
    };
    let Ok(arp) = ArpPacket::new_checked(eth.payload()).and_then(|p| ArpRepr::parse(&p)) else {
        return false;
    };
    eth.src_addr() == EthernetAddress(MAC)
        && arp
            == ArpRepr::EthernetIpv4 {
                operation: ArpOperation::Reply,
                source_hardware_addr: EthernetAddress(MAC),
                source_protocol_addr: OUR_IP,
                target_hardware_addr: PEER_MAC,
                target_protocol_addr: PEER_IP,
            }
}

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn frames_pass_both_ways_byte_exact() {
    let mut dev = device();
    let frame: Vec<u8> = (0..=255u8).cycle().take(1514).collect();
    dev.driver_mut().rx.push_back(frame.clone());
    let (rx, _tx) = dev.receive(Instant::ZERO).expect("a frame is waiting");
    assert_eq!(rx.consume(|got| got.to_vec()), frame);

    let out: Vec<u8> = (0..60u8).rev().collect();
    let tx = dev.transmit(Instant::ZERO).expect("room to send");
    tx.consume(out.len(), |buf| buf.copy_from_slice(&out));
    assert_eq!(dev.driver().sent, vec![out]);
}

#[test]
fn no_frame_is_none_and_the_callers_waker_is_the_one_armed() {
    let count = Arc::new(Counter(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut dev = DriverDevice::with_waker(FakeDriver::new(), waker).unwrap();
    assert!(dev.receive(Instant::ZERO).is_none());
    let armed = dev
        .driver_mut()
        .waker
        .take()
        .expect("receive armed a waker");
    armed.wake();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);

    // The no-op waker of `new` (waking it does nothing), and a later replacement.
    let mut dev = device();
    assert!(dev.receive(Instant::ZERO).is_none());
    dev.driver_mut().waker.take().unwrap().wake();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    dev.set_waker(Waker::from(Arc::clone(&count)));
    dev.driver_mut().tx_room = 0;
    assert!(dev.transmit(Instant::ZERO).is_none());
    dev.driver_mut().waker.take().unwrap().wake();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
}

#[test]
fn a_full_transmit_queue_is_none_and_the_datagram_waits_in_its_socket() {
    let mut dev = device();
    dev.driver_mut().tx_room = 0;
    let mut slots = [SocketStorage::EMPTY; 1];
    let (mut rx_meta, mut rx_bytes) = ([udp::PacketMetadata::EMPTY; 1], [0u8; 64]);
    let (mut tx_meta, mut tx_bytes) = ([udp::PacketMetadata::EMPTY; 1], [0u8; 64]);
    let mut stack = stack(&mut dev, &mut slots);
    let mut socket = udp::Socket::new(
        udp::PacketBuffer::new(&mut rx_meta[..], &mut rx_bytes[..]),
        udp::PacketBuffer::new(&mut tx_meta[..], &mut tx_bytes[..]),
    );
    socket.bind(5000).unwrap();
    let to = IpEndpoint::new(Ipv4Address::BROADCAST.into(), 9);
    socket.send_slice(b"kept, not lost", to).unwrap();
    let handle = stack.sockets.add(socket);

    assert!(dev.transmit(Instant::ZERO).is_none());
    poll(&mut stack, &mut dev, 1);
    assert!(dev.driver().sent.is_empty());
    let queued = stack.sockets.get::<udp::Socket>(handle).send_queue();
    assert_eq!(queued, b"kept, not lost".len());

    dev.driver_mut().tx_room = 1;
    poll(&mut stack, &mut dev, 2);
    let sent = &dev.driver().sent;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].ends_with(b"kept, not lost"), "{:?}", sent[0]);
    assert_eq!(stack.sockets.get::<udp::Socket>(handle).send_queue(), 0);
}

#[test]
fn the_link_state_is_the_drivers() {
    let mut dev = device();
    assert!(dev.link_state() == LinkState::Up);
    assert!(dev.is_link_up());
    dev.driver_mut().link = LinkState::Down;
    assert!(dev.link_state() == LinkState::Down);
    assert!(!dev.is_link_up());
}

#[test]
fn a_frame_over_the_drivers_size_is_dropped_and_the_next_one_served() {
    let mut dev = device();
    dev.driver_mut().caps.max_transmission_unit = 600;
    let mut slots = [SocketStorage::EMPTY; 1];
    let mut stack = stack(&mut dev, &mut slots);
    // The same request twice: once padded past the frame size, once not.
    dev.driver_mut().rx.push_back(arp_request(601));
    poll(&mut stack, &mut dev, 1);
    assert!(dev.driver().rx.is_empty(), "the frame was taken");
    assert!(dev.driver().sent.is_empty(), "and not answered");
    dev.driver_mut().rx.push_back(arp_request(600));
    poll(&mut stack, &mut dev, 2);
    let sent = &dev.driver().sent;
    assert_eq!(sent.len(), 1);
    assert!(is_arp_reply(&sent[0]), "{:?}", sent[0]);
}

#[test]
fn the_hardware_address_is_the_interfaces() {
    let mut dev = device();
    assert_eq!(dev.ethernet_address(), EthernetAddress(MAC));
    assert_eq!(
        dev.hardware_address(),
        HardwareAddress::Ethernet(EthernetAddress(MAC))
    );
    let mut slots = [SocketStorage::EMPTY; 1];
    let stack = stack(&mut dev, &mut slots);
    assert_eq!(stack.iface.hardware_addr(), dev.hardware_address());
}

#[test]
fn a_driver_without_an_ethernet_address_is_refused() {
    for address in [DriverAddress::Ip, DriverAddress::Ieee802154([1; 8])] {
        let mut driver = FakeDriver::new();
        driver.address = address;
        let err = DriverDevice::new(driver).err().expect("refused");
        assert_eq!(err, NotEthernet(address));
        assert!(err.to_string().contains("not an Ethernet address"));
    }
}

#[test]
fn capabilities_map_one_to_one_within_smoltcps_range() {
    let mut caps = Capabilities::default();
    caps.max_transmission_unit = 9014;
    caps.max_burst_size = Some(4);
    caps.checksum.ipv4 = Checksum::None;
    caps.checksum.udp = Checksum::Rx;
    caps.checksum.tcp = Checksum::Tx;
    caps.checksum.icmpv4 = Checksum::Both;
    caps.checksum.icmpv6 = Checksum::None;
    let got = capabilities(&caps);
    assert_eq!(got.medium, Medium::Ethernet);
    assert_eq!(got.max_transmission_unit, 9014);
    assert_eq!(got.ip_mtu(), 9000);
    assert_eq!(got.max_burst_size, Some(4));
    let c = &got.checksum;
    assert!(matches!(c.ipv4, phy::Checksum::None));
    assert!(matches!(c.udp, phy::Checksum::Rx));
    assert!(matches!(c.tcp, phy::Checksum::Tx));
    assert!(matches!(c.icmpv4, phy::Checksum::Both));
    assert!(matches!(c.icmpv6, phy::Checksum::None));

    // What smoltcp's arithmetic would trip on: no size, absurd sizes.
    caps.max_transmission_unit = 0;
    caps.max_burst_size = Some(0);
    let got = capabilities(&caps);
    assert_eq!(got.max_transmission_unit, ETHERNET_FRAME);
    assert_eq!(got.max_burst_size, Some(1));
    caps.max_transmission_unit = usize::MAX;
    caps.max_burst_size = Some(usize::MAX);
    let got = capabilities(&caps);
    assert_eq!(got.max_transmission_unit, MAX_FRAME);
    assert_eq!(got.max_burst_size, Some(MAX_BURST));
    caps.max_burst_size = None;
    assert_eq!(capabilities(&caps).max_burst_size, None);

    // The device reports the driver's.
    let mut dev = device();
    dev.driver_mut().caps.max_transmission_unit = 1280 + 14;
    assert_eq!(dev.capabilities().max_transmission_unit, 1294);
}
