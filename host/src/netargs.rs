//! The network options every `minnow` command shares, and turning them into
//! a running stack.

use std::fs::File;
use std::net::IpAddr;

use clap::Args;
use minnow::net::NetConfig;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};

use crate::error::Error;
use crate::pcap::PcapWriter;
use crate::runtime::Runtime;
use crate::tap::{TapDevice, TapError};

/// Minnow's side of the TAP link when no --ip is given.
pub const DEFAULT_IPS: [&str; 2] = ["192.0.2.2/24", "2001:db8::2/64"];

#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// TAP interface to attach to (created if missing; needs root or CAP_NET_ADMIN).
    #[arg(long, default_value = "tap0", env = "MINNOW_TAP")]
    pub tap: String,
    /// Minnow's address with prefix, IPv4 and/or IPv6 [default: 192.0.2.2/24 and 2001:db8::2/64].
    #[arg(long = "ip", value_name = "CIDR", env = "MINNOW_IP")]
    pub ips: Vec<String>,
    /// Default gateway, IPv4 and/or IPv6.
    #[arg(long = "gateway", value_name = "IP")]
    pub gateways: Vec<IpAddr>,
    /// Get the IPv4 address, gateway and DNS server by DHCPv4.
    #[arg(long)]
    pub dhcp: bool,
    /// DNS server for host names.
    #[arg(long, value_name = "IP")]
    pub dns: Option<IpAddr>,
    /// Minnow's Ethernet address.
    #[arg(long, default_value = "02:00:00:00:00:02", env = "MINNOW_MAC")]
    pub mac: String,
    /// Link MTU in bytes (IP packet size; the TAP device on the Linux side should match).
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u16).range(576..=9000))]
    pub mtu: u16,
    /// Record every frame to this pcap file (tshark/Wireshark read it).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<String>,
}

fn to_ip(addr: IpAddr) -> IpAddress {
    match addr {
        IpAddr::V4(a) => IpAddress::Ipv4(a),
        IpAddr::V6(a) => IpAddress::Ipv6(a),
    }
}

impl NetArgs {
    /// The stack configuration these options describe.
    pub fn config(&self) -> Result<NetConfig, Error> {
        let mac: EthernetAddress = self.mac.parse().map_err(|_| {
            Error::Usage(format!(
                "--mac {}: not an Ethernet address like 02:00:00:00:00:02",
                self.mac
            ))
        })?;
        let mut cfg = NetConfig::new(mac);
        cfg.dhcp = self.dhcp;
        let given: Vec<&str> = if self.ips.is_empty() {
            if self.dhcp {
                vec![DEFAULT_IPS[1]]
            } else {
                DEFAULT_IPS.to_vec()
            }
        } else {
            self.ips.iter().map(String::as_str).collect()
        };
        for text in given {
            let cidr: IpCidr = text.parse().map_err(|_| {
                Error::Usage(format!(
                    "--ip {text}: not an address with prefix like 192.0.2.2/24"
                ))
            })?;
            match cidr {
                IpCidr::Ipv4(c) if cfg.ipv4.is_none() => cfg.ipv4 = Some(c),
                IpCidr::Ipv6(c) if cfg.ipv6.is_none() => cfg.ipv6 = Some(c),
                _ => {
                    return Err(Error::Usage(format!(
                        "--ip {text}: at most one IPv4 and one IPv6 address"
                    )));
                }
            }
        }
        for gw in &self.gateways {
            match gw {
                IpAddr::V4(a) => cfg.gateway_v4 = Some(*a),
                IpAddr::V6(a) => cfg.gateway_v6 = Some(*a),
            }
        }
        cfg.dns_server = self.dns.map(to_ip);
        cfg.random_seed = random_seed();
        Ok(cfg)
    }

    /// Opens the TAP device (and the pcap file) and builds the stack.
    pub fn runtime(&self, max_sockets: usize) -> Result<Runtime, Error> {
        let cfg = self.config()?;
        let mut device =
            TapDevice::open(&self.tap, usize::from(self.mtu)).map_err(|e| match e {
                TapError::PermissionDenied { .. } => Error::NoPermission(e.to_string()),
                TapError::NameTooLong { .. } => Error::Usage(e.to_string()),
                _ => Error::Failed(e.to_string()),
            })?;
        if let Some(path) = &self.pcap {
            let file = File::create(path).map_err(|e| format!("--pcap {path}: {e}"))?;
            let writer = PcapWriter::new(file).map_err(|e| format!("--pcap {path}: {e}"))?;
            device.set_pcap(writer);
        }
        Runtime::new(device, &cfg, max_sockets)
    }
}

/// A seed for ISNs and ports, different at every start.
pub fn random_seed() -> u64 {
    let mut buf = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_err()
    {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return t.as_nanos() as u64 ^ u64::from(std::process::id());
    }
    u64::from_le_bytes(buf)
}
