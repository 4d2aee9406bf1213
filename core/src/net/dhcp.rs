//! DHCPv4 on smoltcp's dhcpv4 socket: applies each lease to the interface
//! (address, default route) and reports it, with its DNS server, as an event.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{Ipv4Address, Ipv4Cidr};

use super::config::set_ipv4;
use crate::service::{EventQueue, Net, Service};

/// A DHCP lease as applied to the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The address and prefix.
    pub address: Ipv4Cidr,
    /// The default gateway, if the server named one.
    pub router: Option<Ipv4Address>,
    /// The first DNS server the server named.
    pub dns_server: Option<Ipv4Address>,
}

/// What the DHCP client reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpEvent {
    /// A lease was obtained or changed; the interface already uses it.
    Configured(Lease),
    /// The lease was lost; the IPv4 address was removed.
    Deconfigured,
}

/// The DHCPv4 client. RAM: the dhcpv4 socket (about 600 bytes inside the
/// socket set) + 4 × 24 bytes of events.
pub struct DhcpClient {
    handle: SocketHandle,
    lease: Option<Lease>,
    /// Events for the caller to drain.
    pub events: EventQueue<DhcpEvent, 4>,
}

impl DhcpClient {
    /// Adds a dhcpv4 socket to the set; discovery starts on the first poll.
    pub fn new(sockets: &mut SocketSet<'_>) -> Self {
        Self {
            handle: sockets.add(dhcpv4::Socket::new()),
            lease: None,
            events: EventQueue::new(),
        }
    }

    /// The current lease.
    pub fn lease(&self) -> Option<Lease> {
        self.lease
    }
}

impl Service for DhcpClient {
    fn poll(&mut self, net: &mut Net<'_, '_>, _now: Instant) {
        let socket = net.sockets.get_mut::<dhcpv4::Socket>(self.handle);
        match socket.poll() {
            None => {}
            Some(dhcpv4::Event::Configured(config)) => {
                let lease = Lease {
                    address: config.address,
                    router: config.router,
                    dns_server: config.dns_servers.first().copied(),
                };
                set_ipv4(net.iface, Some(lease.address));
                let routes = net.iface.routes_mut();
                routes.remove_default_ipv4_route();
                if let Some(router) = lease.router {
                    let _ = routes.add_default_ipv4_route(router);
                }
                self.lease = Some(lease);
                self.events.push(DhcpEvent::Configured(lease));
            }
            Some(dhcpv4::Event::Deconfigured) => {
                set_ipv4(net.iface, None);
                net.iface.routes_mut().remove_default_ipv4_route();
                self.lease = None;
                self.events.push(DhcpEvent::Deconfigured);
            }
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        // The dhcpv4 socket's timers are in the interface's poll_at.
        None
    }
}
