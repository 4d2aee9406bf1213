//! Which datagrams a UDP server that answers everything (echo, RFC 868
//! time) must not answer, so that it cannot be used to reflect or amplify
//! traffic: a spoofed datagram "from" another echo server would otherwise
//! bounce between the two for ever, and one sent to a broadcast address
//! would have every host answer its victim.

use smoltcp::iface::Interface;
use smoltcp::wire::{IpAddress, IpEndpoint};

/// Source ports of services that answer whatever reaches them (echo,
/// daytime, chargen, time, DNS, NTP): a datagram from one is a reflection.
pub const REFLECTING_PORTS: [u16; 6] = [7, 13, 19, 37, 53, 123];

/// Why a datagram gets no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswerable {
    /// Sent to a broadcast or multicast address.
    ToGroup,
    /// From port 0, a broadcast, multicast or unspecified address.
    BadSource,
    /// From a reflecting service's port, or from this service's own port.
    FromServicePort,
}

/// Whether a datagram from `from` to `to` (`None`: not known) may be
/// answered by the service on `own_port` of `iface`.
pub fn check(
    iface: &Interface,
    from: IpEndpoint,
    to: Option<IpAddress>,
    own_port: u16,
) -> Result<(), Unanswerable> {
    if to.is_some_and(|a| is_group(iface, a)) {
        return Err(Unanswerable::ToGroup);
    }
    if from.port == 0 || from.addr.is_unspecified() || is_group(iface, from.addr) {
        return Err(Unanswerable::BadSource);
    }
    if from.port == own_port || REFLECTING_PORTS.contains(&from.port) {
        return Err(Unanswerable::FromServicePort);
    }
    Ok(())
}

/// A broadcast (limited or directed to one of `iface`'s subnets) or
/// multicast address.
fn is_group(iface: &Interface, addr: IpAddress) -> bool {
    if addr.is_multicast() || addr.is_broadcast() {
        return true;
    }
    iface.ip_addrs().iter().any(|cidr| match cidr {
        smoltcp::wire::IpCidr::Ipv4(c) => c.broadcast().map(IpAddress::Ipv4) == Some(addr),
        #[allow(unreachable_patterns)]
        _ => false,
    })
}
