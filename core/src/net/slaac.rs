//! Reports what IPv6 stateless autoconfiguration did. smoltcp does the
//! work itself once [`crate::net::NetConfig::slaac`] is set (router
//! solicitations from the link-local address, an address for each prefix a
//! router advertises, the default route through it, all expiring with their
//! lifetimes); this watches the interface and says when the address or
//! router changes, as the DHCP client does for IPv4.

use smoltcp::iface::Interface;
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpCidr, Ipv6Address, Ipv6Cidr};

use crate::service::{EventQueue, Net, Service};

/// What autoconfiguration gave: an address and the router it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoconf {
    /// The address formed from an advertised prefix and the MAC.
    pub address: Ipv6Cidr,
    /// The default router, while its advertisement is valid.
    pub router: Option<Ipv6Address>,
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
            events: EventQueue::new(),
        }
    }

    /// The address and router in use.
    pub fn current(&self) -> Option<Autoconf> {
        self.current
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
        let now = address.map(|address| Autoconf { address, router });
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
