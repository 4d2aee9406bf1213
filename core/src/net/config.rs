//! Building the smoltcp [`Interface`] from one configuration, the same on
//! every runtime.

use smoltcp::iface::{Config, Interface};
use smoltcp::phy::Device;
use smoltcp::time::Instant;
use smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address, Ipv4Cidr, Ipv6Address,
    Ipv6Cidr,
};

/// How a node gets onto the network. RAM: about 80 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// The Ethernet address of this node.
    pub mac: EthernetAddress,
    /// A static IPv4 address; ignored when `dhcp` is set.
    pub ipv4: Option<Ipv4Cidr>,
    /// A static IPv6 address.
    pub ipv6: Option<Ipv6Cidr>,
    /// The IPv4 default gateway (static configuration).
    pub gateway_v4: Option<Ipv4Address>,
    /// The IPv6 default gateway.
    pub gateway_v6: Option<Ipv6Address>,
    /// Get the IPv4 address, gateway and DNS server from DHCPv4.
    pub dhcp: bool,
    /// A DNS server for client host names (DHCP may provide one too).
    pub dns_server: Option<IpAddress>,
    /// Seed for smoltcp's ISNs and ephemeral ports: give each boot a new one.
    pub random_seed: u64,
}

impl NetConfig {
    /// A configuration with only a MAC address: no addresses, no DHCP.
    pub const fn new(mac: EthernetAddress) -> Self {
        Self {
            mac,
            ipv4: None,
            ipv6: None,
            gateway_v4: None,
            gateway_v6: None,
            dhcp: false,
            dns_server: None,
            random_seed: 0,
        }
    }

    /// Builds the interface: hardware address, static addresses and routes.
    /// With `dhcp`, the IPv4 address comes later from [`crate::net::dhcp`].
    pub fn build<D: Device + ?Sized>(&self, device: &mut D, now: Instant) -> Interface {
        let mut config = Config::new(HardwareAddress::Ethernet(self.mac));
        config.random_seed = self.random_seed;
        let mut iface = Interface::new(config, device, now);
        iface.update_ip_addrs(|addrs| {
            if let (Some(v4), false) = (self.ipv4, self.dhcp) {
                // Capacity is at least 2 (smoltcp's IFACE_MAX_ADDR_COUNT).
                let _ = addrs.push(IpCidr::Ipv4(v4));
            }
            if let Some(v6) = self.ipv6 {
                let _ = addrs.push(IpCidr::Ipv6(v6));
            }
        });
        if let (Some(gw), false) = (self.gateway_v4, self.dhcp) {
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        if let Some(gw) = self.gateway_v6 {
            let _ = iface.routes_mut().add_default_ipv6_route(gw);
        }
        iface
    }
}

/// Replaces the interface's IPv4 address (DHCP lease gained, changed or lost),
/// keeping every IPv6 address.
pub fn set_ipv4(iface: &mut Interface, cidr: Option<Ipv4Cidr>) {
    iface.update_ip_addrs(|addrs| {
        addrs.retain(|a| !matches!(a, IpCidr::Ipv4(_)));
        if let Some(cidr) = cidr {
            // IPv4 goes first so it is the preferred source for IPv4 peers;
            // on overflow the config had more addresses than smoltcp holds.
            let _ = addrs.insert(0, IpCidr::Ipv4(cidr));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::phy::{Loopback, Medium};

    #[test]
    fn static_config_sets_addresses_and_routes() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
        cfg.ipv6 = Some(Ipv6Cidr::new(
            Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
            64,
        ));
        cfg.gateway_v4 = Some(Ipv4Address::new(192, 0, 2, 1));
        let mut iface = cfg.build(&mut dev, Instant::ZERO);
        assert_eq!(iface.ipv4_addr(), Some(Ipv4Address::new(192, 0, 2, 2)));
        assert!(iface.ipv6_addr().is_some());
        assert!(iface.routes().get_default_ipv4_route().is_some());
        set_ipv4(&mut iface, None);
        assert_eq!(iface.ipv4_addr(), None);
        assert!(iface.ipv6_addr().is_some());
    }

    #[test]
    fn dhcp_config_leaves_ipv4_unset() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
        cfg.dhcp = true;
        let iface = cfg.build(&mut dev, Instant::ZERO);
        assert_eq!(iface.ipv4_addr(), None);
    }
}
