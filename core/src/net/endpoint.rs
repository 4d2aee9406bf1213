//! `HOST[:PORT]` as users type it: `192.0.2.1`, `192.0.2.1:9999`,
//! `2001:db8::1`, `[2001:db8::1]:9999`, `time.example:13`.

use core::fmt;
use core::str::FromStr;
#[cfg(feature = "ipv6")]
use smoltcp::wire::Ipv6Address;
use smoltcp::wire::{IpAddress, Ipv4Address};

/// Where a client connects: an address, or a name for DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// An IPv4 or IPv6 literal.
    Addr(IpAddress),
    /// A host name to resolve.
    Name(&'a str),
}

/// Why a `HOST[:PORT]` text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointError {
    /// Nothing before the port.
    EmptyHost,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// `[` without a matching `]`, or a bracketed text that is not IPv6.
    BadBrackets,
    /// A name with characters no host name has, or longer than 253 bytes.
    BadName,
    /// An IPv6 address, and this build has no IPv6 (core's `ipv6` feature).
    NoIpv6,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndpointError::EmptyHost => "no host given",
            EndpointError::BadPort => "the port must be a number from 1 to 65535",
            EndpointError::BadBrackets => {
                "an IPv6 address in brackets must look like [2001:db8::1]:PORT"
            }
            EndpointError::BadName => "not an IP address or a valid host name",
            EndpointError::NoIpv6 => "an IPv6 address, and IPv6 is not built in",
        })
    }
}

fn parse_port(text: &str) -> Result<u16, EndpointError> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(EndpointError::BadPort),
        Ok(p) => Ok(p),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Parses `HOST[:PORT]`, using `default_port` when no port is given. A bare
/// IPv6 address (more than one colon, no brackets) takes the default port.
pub fn parse_host_port(text: &str, default_port: u16) -> Result<(Host<'_>, u16), EndpointError> {
    #[cfg(feature = "ipv6")]
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']').ok_or(EndpointError::BadBrackets)?;
        let addr = Ipv6Address::from_str(inner).map_err(|_| EndpointError::BadBrackets)?;
        let port = match after {
            "" => default_port,
            p => parse_port(p.strip_prefix(':').ok_or(EndpointError::BadBrackets)?)?,
        };
        return Ok((Host::Addr(IpAddress::Ipv6(addr)), port));
    }
    #[cfg(feature = "ipv6")]
    if text.matches(':').count() > 1 {
        let addr = Ipv6Address::from_str(text).map_err(|_| EndpointError::BadName)?;
        return Ok((Host::Addr(IpAddress::Ipv6(addr)), default_port));
    }
    #[cfg(not(feature = "ipv6"))]
    if text.starts_with('[') || text.matches(':').count() > 1 {
        return Err(EndpointError::NoIpv6);
    }
    let (host, port) = match text.split_once(':') {
        Some((h, p)) => (h, parse_port(p)?),
        None => (text, default_port),
    };
    if host.is_empty() {
        return Err(EndpointError::EmptyHost);
    }
    if let Ok(v4) = Ipv4Address::from_str(host) {
        return Ok((Host::Addr(IpAddress::Ipv4(v4)), port));
    }
    if valid_name(host) {
        Ok((Host::Name(host), port))
    } else {
        Err(EndpointError::BadName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ipv6")]
    #[test]
    fn parses_every_form() {
        let v4 = IpAddress::Ipv4(Ipv4Address::new(192, 0, 2, 1));
        let v6 = IpAddress::Ipv6(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        assert_eq!(
            parse_host_port("192.0.2.1", 9999),
            Ok((Host::Addr(v4), 9999))
        );
        assert_eq!(
            parse_host_port("192.0.2.1:13", 9999),
            Ok((Host::Addr(v4), 13))
        );
        assert_eq!(parse_host_port("2001:db8::1", 7), Ok((Host::Addr(v6), 7)));
        assert_eq!(
            parse_host_port("[2001:db8::1]:37", 7),
            Ok((Host::Addr(v6), 37))
        );
        assert_eq!(parse_host_port("[2001:db8::1]", 7), Ok((Host::Addr(v6), 7)));
        assert_eq!(
            parse_host_port("time.test:13", 7),
            Ok((Host::Name("time.test"), 13))
        );
    }

    #[cfg(not(feature = "ipv6"))]
    #[test]
    fn an_ipv6_address_is_refused_without_ipv6() {
        assert_eq!(
            parse_host_port("[2001:db8::1]:7", 7),
            Err(EndpointError::NoIpv6)
        );
        assert_eq!(
            parse_host_port("2001:db8::1", 7),
            Err(EndpointError::NoIpv6)
        );
    }

    #[cfg(feature = "ipv6")]
    #[test]
    fn refuses_bad_input() {
        assert_eq!(parse_host_port("", 7), Err(EndpointError::EmptyHost));
        assert_eq!(parse_host_port(":7", 7), Err(EndpointError::EmptyHost));
        assert_eq!(parse_host_port("h:0", 7), Err(EndpointError::BadPort));
        assert_eq!(parse_host_port("h:65536", 7), Err(EndpointError::BadPort));
        assert_eq!(parse_host_port("h:x", 7), Err(EndpointError::BadPort));
        assert_eq!(
            parse_host_port("[2001:db8::1", 7),
            Err(EndpointError::BadBrackets)
        );
        assert_eq!(
            parse_host_port("[nope]:1", 7),
            Err(EndpointError::BadBrackets)
        );
        assert_eq!(
            parse_host_port("[2001:db8::1]x", 7),
            Err(EndpointError::BadBrackets)
        );
        assert_eq!(parse_host_port("a b", 7), Err(EndpointError::BadName));
        assert_eq!(parse_host_port("1:2:zz", 7), Err(EndpointError::BadName));
    }
}
