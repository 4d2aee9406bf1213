//! embassy-net-driver's capabilities in smoltcp's words.

use embassy_net_driver::{Capabilities, Checksum};
use smoltcp::phy::{self, ChecksumCapabilities, DeviceCapabilities, Medium};

/// A standard Ethernet frame without its FCS: 1500 bytes of IP and the
/// 14-byte header. What a driver reporting a frame size below
/// [`MIN_FRAME`] (the default `Capabilities` says 0) is taken to carry.
pub const ETHERNET_FRAME: usize = 1514;
/// The smallest frame size passed on: a 576-byte IP packet (the least every
/// IPv4 host must take) and the Ethernet header. Below it smoltcp's MTU
/// arithmetic would underflow.
pub const MIN_FRAME: usize = 576 + 14;
/// The largest frame size passed on: a 65535-byte IP packet and the
/// Ethernet header.
pub const MAX_FRAME: usize = 65535 + 14;
/// The largest burst passed on, in frames: more is no limit in practice,
/// and keeps smoltcp's window arithmetic (burst × segment) within a `u32`.
pub const MAX_BURST: usize = 4096;

/// The frame size (Ethernet header included, FCS not) that the adapter
/// reports for `caps` and holds received frames to.
pub fn frame_limit(caps: &Capabilities) -> usize {
    match caps.max_transmission_unit {
        n if n < MIN_FRAME => ETHERNET_FRAME,
        n => n.min(MAX_FRAME),
    }
}

fn checksum(c: Checksum) -> phy::Checksum {
    match c {
        Checksum::Both => phy::Checksum::Both,
        Checksum::Rx => phy::Checksum::Rx,
        Checksum::Tx => phy::Checksum::Tx,
        Checksum::None => phy::Checksum::None,
    }
}

/// smoltcp's capabilities for a driver's: medium Ethernet, the frame size
/// of [`frame_limit`], the burst size capped at 1..=[`MAX_BURST`], and each
/// protocol's checksum duty as the driver states it (`Both`: the stack
/// computes and verifies; `Rx`/`Tx`: only that direction; `None`: the
/// hardware does both).
pub fn capabilities(caps: &Capabilities) -> DeviceCapabilities {
    let mut out = DeviceCapabilities::default();
    out.medium = Medium::Ethernet;
    out.max_transmission_unit = frame_limit(caps);
    out.max_burst_size = caps.max_burst_size.map(|n| n.clamp(1, MAX_BURST));
    let c = &caps.checksum;
    let mut sums = ChecksumCapabilities::default();
    sums.ipv4 = checksum(c.ipv4);
    sums.udp = checksum(c.udp);
    sums.tcp = checksum(c.tcp);
    sums.icmpv4 = checksum(c.icmpv4);
    sums.icmpv6 = checksum(c.icmpv6);
    out.checksum = sums;
    out
}
