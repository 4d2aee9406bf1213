//! The network options every `minnow` command shares, and turning them into
//! a running stack.

use std::fs::{File, OpenOptions};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;

use clap::{Args, ValueEnum};
use minnow::net::NetConfig;
use minnow::net::tcp_client::ClientError;
use smoltcp::socket::tcp;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, IpEndpoint};

use crate::clients::resolve;
use crate::embassy_tap::EmbassyTap;
use crate::error::Error;
use crate::link::{Datagrams, Link, TapDatagrams, TapLink};
use crate::os_link::{self, OsDatagrams, OsLink};
use crate::pcap::PcapWriter;
use crate::privileges::{Role, RunAs};
use crate::runtime::{Runtime, tcp_socket, udp_socket};
use crate::tap::{TapDevice, TapError};

/// Minnow's side of the TAP link when no --ip is given.
pub const DEFAULT_IPS: [&str; 2] = ["192.0.2.2/24", "2001:db8::2/64"];
/// The TAP device when no --tap is given.
pub const DEFAULT_TAP: &str = "tap0";

/// Which network a client command runs over.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetKind {
    /// Minnow's own TCP/IP stack on a TAP device (root or a user namespace).
    Tap,
    /// The operating system's TCP/UDP sockets: no TAP, no root.
    Os,
}

#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// Network for a client: Minnow's stack on a TAP device, or the OS's sockets
    /// [default: tap when --tap or MINNOW_TAP is given or running as root, else os].
    #[arg(long, value_enum, value_name = "NET")]
    pub net: Option<NetKind>,
    /// TAP interface to attach to (created if missing; needs root or CAP_NET_ADMIN) [default: tap0].
    #[arg(long, env = "MINNOW_TAP")]
    pub tap: Option<String>,
    /// Minnow's address with prefix, IPv4 and/or IPv6 [default: 192.0.2.2/24 and 2001:db8::2/64].
    #[arg(long = "ip", value_name = "CIDR", env = "MINNOW_IP")]
    pub ips: Vec<String>,
    /// Default gateway, IPv4 and/or IPv6.
    #[arg(long = "gateway", value_name = "IP")]
    pub gateways: Vec<IpAddr>,
    /// Get the IPv4 address, gateway and DNS server by DHCPv4.
    #[arg(long)]
    pub dhcp: bool,
    /// Get an IPv6 address and the default router from router advertisements
    /// (stateless autoconfiguration; the address is the advertised prefix and
    /// the MAC's EUI-64).
    #[arg(long)]
    pub slaac: bool,
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
    /// Plain frames on the TAP device: no virtio-net header, no checksum or
    /// segmentation offload (by default the kernel hands over and takes
    /// 64 KiB TCP super-frames with partial checksums, where it can).
    #[arg(long)]
    pub no_offload: bool,
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
        cfg.slaac = self.slaac;
        // Without --ip, the defaults of the families not configured otherwise.
        let given: Vec<&str> = if self.ips.is_empty() {
            DEFAULT_IPS
                .iter()
                .zip([self.dhcp, self.slaac])
                .filter(|(_, automatic)| !automatic)
                .map(|(ip, _)| *ip)
                .collect()
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
        cfg.check()
            .map_err(|e| Error::Usage(format!("--ip/--slaac: {e}")))?;
        Ok(cfg)
    }

    /// The network a client runs over: `--net`, else TAP when a device is
    /// named or the user is root (tests, the demo), else the OS's sockets.
    pub fn kind(&self) -> NetKind {
        self.net
            .unwrap_or_else(|| default_kind(self.tap.is_some(), nix::unistd::geteuid().is_root()))
    }

    /// Refuses the options that only mean something on Minnow's stack.
    fn check_os(&self) -> Result<(), Error> {
        let tap_only = [
            (self.dhcp, "--dhcp"),
            (self.slaac, "--slaac"),
            (self.dns.is_some(), "--dns"),
            (!self.gateways.is_empty(), "--gateway"),
            (self.pcap.is_some(), "--pcap"),
            (self.no_offload, "--no-offload"),
        ];
        match tap_only.iter().find(|(given, _)| *given) {
            Some((_, flag)) => Err(Error::Usage(format!(
                "{flag} is for Minnow's own stack (--net tap); over the OS's sockets the OS's \
                 addresses, routes and resolver apply"
            ))),
            None => Ok(()),
        }
    }

    /// Opens a TCP connection to `server` (HOST[:PORT]) on the chosen
    /// network, with `buffers` (receive, transmit) bytes: the link, still
    /// connecting, and the server's endpoint.
    pub fn connect(
        &self,
        server: &str,
        default_port: u16,
        (rx, tx): (usize, usize),
    ) -> Result<(Box<dyn Link>, IpEndpoint), Error> {
        if self.kind() == NetKind::Os {
            self.check_os()?;
            let addr = os_link::resolve(server, default_port)?;
            let link = OsLink::connect(addr, (rx, tx))?;
            return Ok((Box::new(link), os_link::endpoint(addr)));
        }
        let mut rt = self.runtime(4, &RunAs::decide(Role::Client)?)?;
        let remote = resolve(&mut rt, self, server, default_port)?;
        let handle = rt.stack.sockets.add(tcp_socket(rx, tx));
        let port = rt.stack.ports.next_port();
        let net = rt.net();
        net.sockets
            .get_mut::<tcp::Socket>(handle)
            .connect(net.iface.context(), remote, port)
            .map_err(|_| Error::client(remote, ClientError::Unaddressable))?;
        Ok((Box::new(TapLink::new(rt, handle)), remote))
    }

    /// A UDP socket for datagrams to `server` on the chosen network.
    pub fn datagrams(
        &self,
        server: &str,
        default_port: u16,
    ) -> Result<(Box<dyn Datagrams>, IpEndpoint), Error> {
        if self.kind() == NetKind::Os {
            self.check_os()?;
            let addr = os_link::resolve(server, default_port)?;
            return Ok((
                Box::new(OsDatagrams::connect(addr)?),
                os_link::endpoint(addr),
            ));
        }
        let mut rt = self.runtime(4, &RunAs::decide(Role::Client)?)?;
        let remote = resolve(&mut rt, self, server, default_port)?;
        let port = rt.stack.ports.next_port();
        let client = minnow::echo::client::DatagramClient::new(
            &mut rt.net(),
            udp_socket(64, 65536),
            remote,
            port,
        )
        .map_err(|e| format!("udp: {e}"))?;
        Ok((Box::new(TapDatagrams::new(rt, client)), remote))
    }

    /// The TAP device's name.
    pub fn tap_name(&self) -> &str {
        self.tap.as_deref().unwrap_or(DEFAULT_TAP)
    }

    /// Opens the TAP device (and the pcap file), builds the stack, then
    /// gives up root as `run_as` says (see `privileges`): nothing from the
    /// network is parsed before.
    pub fn runtime(&self, max_sockets: usize, run_as: &RunAs) -> Result<Runtime, Error> {
        if self.net == Some(NetKind::Os) {
            return Err(Error::Usage(
                "this runs on Minnow's own stack and needs a TAP device: leave out --net os".into(),
            ));
        }
        let cfg = self.config()?;
        let mut device = TapDevice::open(self.tap_name(), usize::from(self.mtu), !self.no_offload)
            .map_err(tap_error)?;
        if let Some(path) = &self.pcap {
            let file = create_capture(path, run_as)?;
            let writer = PcapWriter::new(file).map_err(|e| format!("--pcap {path}: {e}"))?;
            device.set_pcap(writer);
        }
        let rt = Runtime::new(device, &cfg, max_sockets)?;
        run_as.apply()?;
        Ok(rt)
    }

    /// The services' runtime on the TAP device through embassy-net-tuntap
    /// (`minnow serve --driver embassy-tuntap`); the interface's own MTU
    /// applies, and there is no capture. Root is given up as in
    /// [`NetArgs::runtime`].
    pub fn embassy_runtime(
        &self,
        max_sockets: usize,
        run_as: &RunAs,
    ) -> Result<Runtime<EmbassyTap>, Error> {
        if self.net == Some(NetKind::Os) {
            return Err(Error::Usage(
                "--driver embassy-tuntap runs on a TAP device: leave out --net os".into(),
            ));
        }
        if self.pcap.is_some() {
            return Err(Error::Usage(
                "--pcap records what Minnow's own TAP device carries: use it with --driver tap"
                    .into(),
            ));
        }
        let name = self.tap_name();
        if name.is_empty() || name.contains('%') {
            return Err(Error::Usage(format!(
                "--tap {name:?}: --driver embassy-tuntap needs the interface's full name"
            )));
        }
        let cfg = self.config()?;
        // Errors are the driver's to report, just below.
        let _ = crate::tap::reset_offload(name);
        let device = EmbassyTap::open(name, cfg.mac).map_err(tap_error)?;
        let rt = Runtime::new(device, &cfg, max_sockets)?;
        run_as.apply()?;
        Ok(rt)
    }
}

/// How a TAP device that would not open is reported.
fn tap_error(e: TapError) -> Error {
    match e {
        TapError::PermissionDenied { .. } => Error::NoPermission(e.to_string()),
        TapError::NameTooLong { .. } => Error::Usage(e.to_string()),
        _ => Error::Failed(e.to_string()),
    }
}

/// A new capture file: created exclusively (an existing file, or a symlink
/// planted there, is refused rather than written over or through), mode
/// 0600 (it holds every byte of the traffic), and given to the user the
/// process is about to become, so they can read what they asked for.
fn create_capture(path: &str, run_as: &RunAs) -> Result<File, Error> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Failed(format!(
                "--pcap {path}: already exists; a capture is never written over an existing \
                 file or through a symlink: remove it or name a new file"
            )),
            _ => Error::Failed(format!("--pcap {path}: {e}")),
        })?;
    if let Some((uid, gid)) = run_as.owner() {
        nix::unistd::fchown(std::os::fd::AsRawFd::as_raw_fd(&file), Some(uid), Some(gid))
            .map_err(|e| format!("--pcap {path}: giving it to uid {uid}: {e}"))?;
    }
    Ok(file)
}

impl NetArgs {}

/// The network when `--net` is not given: a named TAP device or root means
/// Minnow's stack (what tests and the demo's shell have); an ordinary user
/// with no TAP device gets the OS's sockets, which need no privilege.
fn default_kind(tap_named: bool, root: bool) -> NetKind {
    if tap_named || root {
        NetKind::Tap
    } else {
        NetKind::Os
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_user_without_a_tap_gets_the_os_sockets() {
        assert_eq!(default_kind(false, false), NetKind::Os);
        assert_eq!(default_kind(true, false), NetKind::Tap);
        assert_eq!(default_kind(false, true), NetKind::Tap);
        assert_eq!(default_kind(true, true), NetKind::Tap);
    }
}
