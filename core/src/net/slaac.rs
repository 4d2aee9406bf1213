//! Reports what IPv6 stateless autoconfiguration did. smoltcp does the
//! work itself once [`crate::net::NetConfig::slaac`] is set (router
//! solicitations from the link-local address, an address for each prefix a
//! router advertises, the default route through it, all expiring with their
//! lifetimes); this watches the interface and says when the address or
//! router changes, as the DHCP client does for IPv4. smoltcp ignores the
//! advertisements' DNS servers (RDNSS, RFC 8106): [`advertised_dns`] finds
//! them in the frames the stack's SYN gate sees anyway.

use smoltcp::iface::Interface;
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpAddress, IpCidr, IpProtocol, Ipv6Address, Ipv6Cidr,
    Ipv6Packet,
};

use crate::service::{EventQueue, Net, Service};

/// What autoconfiguration gave: an address, the router it came from and
/// the DNS server it advertised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoconf {
    /// The address formed from an advertised prefix and the MAC.
    pub address: Ipv6Cidr,
    /// The default router, while its advertisement is valid.
    pub router: Option<Ipv6Address>,
    /// The first recursive DNS server of the last advertisement that named
    /// one.
    pub dns: Option<Ipv6Address>,
}

/// What the watcher reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaacEvent {
    /// An address (or a new router) was configured; the interface uses it.
    Configured(Autoconf),
    /// The advertised lifetimes ran out: no autoconfigured address left.
    Deconfigured,
}

/// Watches the interface's autoconfigured address. RAM: about 40 bytes
/// + 2 × 40 bytes of events.
pub struct SlaacWatch {
    /// The static IPv6 address, which is not autoconfigured.
    fixed: Option<Ipv6Cidr>,
    current: Option<Autoconf>,
    dns: Option<Ipv6Address>,
    /// Events for the caller to drain.
    pub events: EventQueue<SlaacEvent, 2>,
}

impl SlaacWatch {
    /// A watcher of `iface` before any advertisement arrived: its global
    /// IPv6 address now, if any, is the static one.
    pub fn new(iface: &Interface) -> Self {
        Self {
            fixed: global(iface, None),
            current: None,
            dns: None,
            events: EventQueue::new(),
        }
    }

    /// The address and router in use.
    pub fn current(&self) -> Option<Autoconf> {
        self.current
    }

    /// The DNS server routers advertise (from [`advertised_dns`]); a change
    /// is reported with the address on the next poll.
    pub fn set_dns(&mut self, dns: Option<Ipv6Address>) {
        self.dns = dns;
    }
}

impl Service for SlaacWatch {
    fn poll(&mut self, net: &mut Net<'_, '_>, _now: Instant) {
        let address = global(net.iface, self.fixed);
        let router = net
            .iface
            .routes()
            .get_default_ipv6_route()
            .and_then(|r| match r.via_router {
                IpAddress::Ipv6(a) => Some(a),
                #[allow(unreachable_patterns)]
                _ => None,
            });
        let dns = self.dns;
        let now = address.map(|address| Autoconf {
            address,
            router,
            dns,
        });
        if now == self.current {
            return;
        }
        self.current = now;
        self.events.push(match now {
            Some(a) => SlaacEvent::Configured(a),
            None => SlaacEvent::Deconfigured,
        });
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        // The lifetimes are smoltcp's timers, in the interface's poll_at.
        None
    }
}

/// The interface's first IPv6 address that is neither link-local nor `but`.
fn global(iface: &Interface, but: Option<Ipv6Cidr>) -> Option<Ipv6Cidr> {
    iface.ip_addrs().iter().find_map(|a| match a {
        IpCidr::Ipv6(c) if Some(*c) != but && !c.address().is_unicast_link_local() => Some(*c),
        _ => None,
    })
}

/// ICMPv6 message type of a router advertisement.
const ROUTER_ADVERT: u8 = 134;
/// Neighbour-discovery option type of recursive DNS servers (RFC 8106).
const RDNSS: u8 = 25;

/// The first DNS server in an Ethernet frame that is a router
/// advertisement with an RDNSS option of non-zero lifetime; `None` for any
/// other frame (malformed ones included).
pub fn advertised_dns(frame: &[u8]) -> Option<Ipv6Address> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv6 {
        return None;
    }
    let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
    // Neighbour discovery is only valid with hop limit 255 (RFC 4861).
    if ip.next_header() != IpProtocol::Icmpv6 || ip.hop_limit() != 255 {
        return None;
    }
    let icmp = ip.payload();
    // Type, code, checksum, hop limit, flags, router lifetime, reachable
    // time, retransmission timer: 16 bytes, then options.
    if icmp.first() != Some(&ROUTER_ADVERT) {
        return None;
    }
    let mut options = icmp.get(16..)?;
    while let [kind, len, ..] = *options {
        let bytes = usize::from(len) * 8;
        let option = options.get(..bytes).filter(|_| bytes > 0)?;
        // Type, length, reserved (2), lifetime (4), then addresses.
        if kind == RDNSS && bytes >= 24 && option[4..8] != [0; 4] {
            let octets: [u8; 16] = option[8..24].try_into().ok()?;
            return Some(Ipv6Address::from_octets(octets));
        }
        options = &options[bytes..];
    }
    None
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// A router advertisement from fe80::1 with a prefix option and then,
    /// if `lifetime` is given, an RDNSS option naming 2001:db8:5::53.
    fn advert(lifetime: Option<[u8; 4]>) -> Vec<u8> {
        let mut icmp = vec![ROUTER_ADVERT, 0, 0, 0, 64, 0, 0x07, 0x08];
        icmp.extend([0; 8]);
        // Prefix information (type 3, 32 bytes).
        icmp.extend([3, 4, 64, 0xc0]);
        icmp.extend([0; 28]);
        if let Some(l) = lifetime {
            icmp.extend([RDNSS, 3, 0, 0]);
            icmp.extend(l);
            icmp.extend(Ipv6Address::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, 0x53).octets());
        }
        let mut frame = vec![0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
        frame.extend([0x60, 0, 0, 0]);
        frame.extend((icmp.len() as u16).to_be_bytes());
        frame.extend([58, 255]);
        frame.extend(Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).octets());
        frame.extend(Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 1).octets());
        frame.extend(icmp);
        frame
    }

    #[test]
    fn finds_the_dns_server_of_an_advertisement() {
        let dns = Ipv6Address::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, 0x53);
        assert_eq!(advertised_dns(&advert(Some([0, 0, 0x0e, 0x10]))), Some(dns));
        // Withdrawn (lifetime 0), absent, or cut short: none.
        assert_eq!(advertised_dns(&advert(Some([0; 4]))), None);
        assert_eq!(advertised_dns(&advert(None)), None);
        let frame = advert(Some([0, 0, 0x0e, 0x10]));
        for len in 0..frame.len() {
            assert_eq!(advertised_dns(&frame[..len]), None, "{len}");
        }
        // An option of length 0 would never end: refused.
        let mut looping = advert(None);
        let n = looping.len();
        looping[n - 31] = 0;
        assert_eq!(advertised_dns(&looping), None);
    }
}
