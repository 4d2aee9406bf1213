//! Building the smoltcp [`Interface`] from one configuration, the same on
//! every runtime.

use smoltcp::iface::{Config, Interface};
use smoltcp::phy::Device;
use smoltcp::time::Instant;
#[cfg(feature = "dns")]
use smoltcp::wire::IpAddress;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};
#[cfg(feature = "ipv6")]
use smoltcp::wire::{Ipv6Address, Ipv6Cidr};

/// How a node gets onto the network. RAM: about 90 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// The Ethernet address of this node.
    pub mac: EthernetAddress,
    /// A static IPv4 address; ignored when `dhcp` is set.
    pub ipv4: Option<Ipv4Cidr>,
    /// A static IPv6 address.
    #[cfg(feature = "ipv6")]
    pub ipv6: Option<Ipv6Cidr>,
    /// The IPv4 default gateway (static configuration).
    pub gateway_v4: Option<Ipv4Address>,
    /// The IPv6 default gateway.
    #[cfg(feature = "ipv6")]
    pub gateway_v6: Option<Ipv6Address>,
    /// IPv6 stateless autoconfiguration: a link-local address from the MAC
    /// (EUI-64), router solicitations, then an address of each prefix the
    /// router advertises and the default route through it.
    #[cfg(feature = "slaac")]
    pub slaac: bool,
    /// Get the IPv4 address, gateway and DNS server from DHCPv4.
    #[cfg(feature = "dhcp")]
    pub dhcp: bool,
    /// A DNS server for client host names (DHCP may provide one too).
    #[cfg(feature = "dns")]
    pub dns_server: Option<IpAddress>,
    /// Seed for smoltcp's ISNs and ephemeral ports: give each boot a new one.
    pub random_seed: u64,
}

/// The configuration asks for more addresses than smoltcp's interface
/// holds (its `iface-max-addr-count-N` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyAddresses {
    /// Addresses the configuration needs.
    pub needed: usize,
    /// Addresses the interface holds.
    pub room: usize,
}

impl core::fmt::Display for TooManyAddresses {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the configuration needs {} addresses and smoltcp holds {} \
             (its iface-max-addr-count feature)",
            self.needed, self.room
        )
    }
}

impl NetConfig {
    /// A configuration with only a MAC address: no addresses, no DHCP.
    pub const fn new(mac: EthernetAddress) -> Self {
        Self {
            mac,
            ipv4: None,
            #[cfg(feature = "ipv6")]
            ipv6: None,
            gateway_v4: None,
            #[cfg(feature = "ipv6")]
            gateway_v6: None,
            #[cfg(feature = "slaac")]
            slaac: false,
            #[cfg(feature = "dhcp")]
            dhcp: false,
            #[cfg(feature = "dns")]
            dns_server: None,
            random_seed: 0,
        }
    }

    /// Whether DHCPv4 gives the IPv4 address (never without the feature).
    pub const fn uses_dhcp(&self) -> bool {
        #[cfg(feature = "dhcp")]
        return self.dhcp;
        #[cfg(not(feature = "dhcp"))]
        false
    }

    /// Whether SLAAC configures IPv6 (never without the feature).
    pub const fn uses_slaac(&self) -> bool {
        #[cfg(feature = "slaac")]
        return self.slaac;
        #[cfg(not(feature = "slaac"))]
        false
    }

    /// Addresses the interface will hold at most: IPv4 (static or leased),
    /// a static IPv6, and with SLAAC the link-local and one autoconfigured.
    pub const fn addresses(&self) -> usize {
        let mut n = (self.ipv4.is_some() || self.uses_dhcp()) as usize;
        #[cfg(feature = "ipv6")]
        {
            n += self.ipv6.is_some() as usize;
        }
        if self.uses_slaac() {
            n += 2;
        }
        n
    }

    /// Whether the interface can hold every address of the configuration.
    pub const fn check(&self) -> Result<(), TooManyAddresses> {
        let room = smoltcp::config::IFACE_MAX_ADDR_COUNT;
        let needed = self.addresses();
        if needed > room {
            return Err(TooManyAddresses { needed, room });
        }
        Ok(())
    }

    /// Builds the interface: hardware address, static addresses and routes.
    /// With `dhcp`, the IPv4 address comes later from [`crate::net::dhcp`];
    /// with `slaac`, the IPv6 ones from router advertisements. A
    /// configuration that fails [`NetConfig::check`] gets the addresses
    /// that fit, in that order, and no SLAAC.
    pub fn build<D: Device + ?Sized>(&self, device: &mut D, now: Instant) -> Interface {
        let mut config = Config::new(HardwareAddress::Ethernet(self.mac));
        config.random_seed = self.random_seed;
        // smoltcp solicits routers from the link-local address and would
        // stop at once without one: SLAAC only with room for it.
        #[cfg(feature = "slaac")]
        {
            config.slaac = self.slaac && self.check().is_ok();
        }
        let mut iface = Interface::new(config, device, now);
        iface.update_ip_addrs(|addrs| {
            if let (Some(v4), false) = (self.ipv4, self.uses_dhcp()) {
                let _ = addrs.push(IpCidr::Ipv4(v4));
            }
            #[cfg(feature = "ipv6")]
            if let Some(v6) = self.ipv6 {
                let _ = addrs.push(IpCidr::Ipv6(v6));
            }
            #[cfg(feature = "slaac")]
            if self.slaac && self.check().is_ok() {
                let _ = addrs.push(IpCidr::Ipv6(link_local(self.mac)));
            }
        });
        if let (Some(gw), false) = (self.gateway_v4, self.uses_dhcp()) {
            let _ = iface.routes_mut().add_default_ipv4_route(gw);
        }
        #[cfg(feature = "ipv6")]
        if let Some(gw) = self.gateway_v6 {
            let _ = iface.routes_mut().add_default_ipv6_route(gw);
        }
        iface
    }
}

/// The link-local address of `mac` (fe80::/64 with its modified EUI-64,
/// RFC 4291 appendix A).
#[cfg(feature = "slaac")]
pub fn link_local(mac: EthernetAddress) -> Ipv6Cidr {
    let m = mac.0;
    let mut a = [0u8; 16];
    a[..2].copy_from_slice(&[0xfe, 0x80]);
    a[8..].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    Ipv6Cidr::new(Ipv6Address::from_octets(a), 64)
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

    /// 192.0.2.2/24 and 2001:db8::2/64.
    #[cfg(feature = "ipv6")]
    fn dual_stack() -> NetConfig {
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
        cfg.ipv6 = Some(Ipv6Cidr::new(
            Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
            64,
        ));
        cfg
    }

    #[cfg(feature = "ipv6")]
    #[test]
    fn static_config_sets_addresses_and_routes() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = dual_stack();
        cfg.gateway_v4 = Some(Ipv4Address::new(192, 0, 2, 1));
        let mut iface = cfg.build(&mut dev, Instant::ZERO);
        assert_eq!(iface.ipv4_addr(), Some(Ipv4Address::new(192, 0, 2, 2)));
        assert!(iface.ipv6_addr().is_some());
        assert!(iface.routes().get_default_ipv4_route().is_some());
        set_ipv4(&mut iface, None);
        assert_eq!(iface.ipv4_addr(), None);
        assert!(iface.ipv6_addr().is_some());
    }

    #[cfg(feature = "dhcp")]
    #[test]
    fn dhcp_config_leaves_ipv4_unset() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([2, 0, 0, 0, 0, 2]));
        cfg.ipv4 = Some(Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, 2), 24));
        cfg.dhcp = true;
        let iface = cfg.build(&mut dev, Instant::ZERO);
        assert_eq!(iface.ipv4_addr(), None);
    }

    #[cfg(feature = "slaac")]
    #[test]
    fn slaac_adds_the_eui64_link_local_address_when_there_is_room() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = NetConfig::new(EthernetAddress([0x02, 0, 0x5e, 0x10, 0x20, 0x30]));
        cfg.slaac = true;
        cfg.dhcp = true;
        let iface = cfg.build(&mut dev, Instant::ZERO);
        let ll = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0x5eff, 0xfe10, 0x2030);
        assert_eq!(iface.ip_addrs(), &[IpCidr::Ipv6(Ipv6Cidr::new(ll, 64))]);
        assert_eq!(cfg.addresses(), 3);
        assert_eq!(cfg.check(), Ok(()));
    }

    #[cfg(feature = "slaac")]
    #[test]
    fn every_address_is_counted_against_smoltcps_room() {
        let mut dev = Loopback::new(Medium::Ethernet);
        let mut cfg = dual_stack();
        cfg.slaac = true;
        assert_eq!(cfg.addresses(), 4);
        let room = smoltcp::config::IFACE_MAX_ADDR_COUNT;
        let fits = cfg.check().is_ok();
        assert_eq!(fits, room >= 4, "{:?}", cfg.check());
        let iface = cfg.build(&mut dev, Instant::ZERO);
        // Without room, no link-local address: SLAAC stays off.
        let link_local = iface.ip_addrs().iter().any(|a| match a {
            IpCidr::Ipv6(c) => c.address().is_unicast_link_local(),
            _ => false,
        });
        assert_eq!(link_local, fits);
    }
}
