//! One configuration value for every service a node runs: which services,
//! their ports, sockets, buffer sizes and timers. The same value builds the
//! services ([`super::ServiceSet::build`]) and sizes their memory
//! ([`ServiceConfig::buffer_bytes`], [`ServiceConfig::sockets`]), so a
//! board's static arrays, its RAM report and the simulator's sizing cannot
//! disagree with what is built.
//!
//! Every function here is `const`: a board declares its configuration as a
//! `const` and sizes its statics from it.

use smoltcp::time::Duration;
use smoltcp::wire::IpEndpoint;

use crate::file::server::FileTimers;
use crate::net::guard::Guard;
use crate::time::sntp_client::SntpTimers;

/// A pool of TCP sockets: how many, and each one's buffers. RAM: `sockets`
/// × (`rx` + `tx`) bytes of buffers + one socket slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSizing {
    /// Sockets, i.e. simultaneous connections.
    pub sockets: usize,
    /// Each socket's receive buffer, bytes.
    pub rx: usize,
    /// Each socket's transmit buffer, bytes.
    pub tx: usize,
}

impl TcpSizing {
    /// Buffer bytes of the whole pool.
    pub const fn bytes(&self) -> usize {
        self.sockets * (self.rx + self.tx)
    }
}

/// One UDP socket: room for `packets` datagrams and `bytes` of payload, each
/// way. RAM: 2 × `bytes` + 2 × `packets` metadata entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpSizing {
    /// Datagrams each buffer holds.
    pub packets: usize,
    /// Payload bytes each buffer holds.
    pub bytes: usize,
}

/// TCP and UDP echo (RFC 862) on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoConfig {
    /// The port, TCP and UDP.
    pub port: u16,
    /// The TCP sockets.
    pub tcp: TcpSizing,
    /// The UDP socket.
    pub udp: UdpSizing,
    /// Abort a TCP client that moves nothing this long (`None`: never).
    pub idle_timeout: Option<Duration>,
}

/// The notes' time server (ctime text), with RFC 867 daytime and RFC 868
/// binary time on their own ports when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeConfig {
    /// The notes' port (ctime text).
    pub port: u16,
    /// Also serve ctime text on RFC 867's port 13.
    pub daytime: bool,
    /// Also serve RFC 868 binary time on port 37, TCP and UDP.
    pub rfc868: bool,
    /// The TCP sockets of each time port.
    pub tcp: TcpSizing,
    /// The RFC 868 UDP socket (only with `rfc868`).
    pub udp: UdpSizing,
    /// How long a served client may take to close before it is dropped.
    pub linger: Duration,
}

impl TimeConfig {
    /// The notes' ctime server alone on `port` (no daytime, no RFC 868).
    pub const fn ctime(port: u16, tcp: TcpSizing, linger: Duration) -> Self {
        Self {
            port,
            daytime: false,
            rfc868: false,
            tcp,
            udp: UdpSizing {
                packets: 0,
                bytes: 0,
            },
            linger,
        }
    }

    /// TCP time ports served.
    pub const fn ports(&self) -> usize {
        1 + self.daytime as usize + self.rfc868 as usize
    }
}

/// File transfer: a request in, a file out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileConfig {
    /// The port.
    pub port: u16,
    /// The sockets: `rx` holds a request, `tx` is what a download has in
    /// flight.
    pub tcp: TcpSizing,
    /// Request and stall timeouts.
    pub timers: FileTimers,
}

/// The chat room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatConfig {
    /// The port.
    pub port: u16,
    /// Places in the room. Sockets are added as members come (a few spare
    /// ones listen), so an empty room of 256 does not cost 256 sockets of
    /// smoltcp's time; memory is reserved for all of them.
    pub places: usize,
    /// Each member's receive buffer (at least the longest line taken whole).
    pub rx: usize,
    /// Each member's outgoing queue (its transmit buffer).
    pub queue: usize,
    /// Disconnect a member whose queue stays full this long.
    pub stall: Duration,
    /// Sockets that answer `room full` (at most
    /// [`crate::chat::server::OVERFLOW_SOCKETS`]) and their buffers, each way.
    pub overflow: usize,
    /// Buffer of each overflow socket, each way (16 bytes hold the answer).
    pub overflow_buffer: usize,
    /// Disconnect a member that sends nothing for this long (`None`: never;
    /// keep-alive still finds members that vanished).
    pub idle_timeout: Option<Duration>,
    /// Relay members' bytes unchanged, terminal controls included, as the
    /// notes' server does (else they are replaced).
    pub raw: bool,
}

impl ChatConfig {
    /// The member sockets as a pool.
    pub const fn members(&self) -> TcpSizing {
        TcpSizing {
            sockets: self.places,
            rx: self.rx,
            tx: self.queue,
        }
    }
}

/// RFC 863 discard, TCP and UDP on one port: a sink for throughput tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscardConfig {
    /// The port, TCP and UDP.
    pub port: u16,
    /// The TCP sockets (only `rx` matters; `tx` may be 0).
    pub tcp: TcpSizing,
    /// The UDP socket.
    pub udp: UdpSizing,
    /// Abort a TCP client that sends nothing this long (`None`: never).
    pub idle_timeout: Option<Duration>,
}

/// The SNTP client that sets the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SntpConfig {
    /// The server.
    pub server: IpEndpoint,
    /// Retries and re-sync.
    pub timers: SntpTimers,
    /// Its UDP socket (48-byte datagrams).
    pub udp: UdpSizing,
}

/// Everything a node serves. `None` leaves a service out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceConfig {
    /// TCP and UDP echo.
    pub echo: Option<EchoConfig>,
    /// Time servers.
    pub time: Option<TimeConfig>,
    /// File transfer (the store is given to [`super::ServiceSet::build`]).
    pub file: Option<FileConfig>,
    /// The chat room.
    pub chat: Option<ChatConfig>,
    /// RFC 863 discard.
    pub discard: Option<DiscardConfig>,
    /// Set the wall clock by SNTP (else the runtime sets it).
    pub sntp: Option<SntpConfig>,
    /// Get the IPv4 address by DHCPv4; the set reports ready once leased.
    #[cfg(feature = "dhcp")]
    pub dhcp: bool,
    /// Report the IPv6 address and router from autoconfiguration (the
    /// interface's [`crate::net::NetConfig::slaac`] does the work).
    #[cfg(feature = "slaac")]
    pub slaac: bool,
    /// Seed for the SNTP client's request stamps.
    pub seed: u64,
    /// What every TCP service's pool does against hostile peers (half-open
    /// connections, keep-alive, each address's share).
    pub guard: Guard,
}

const fn udp_bytes(u: UdpSizing) -> usize {
    2 * u.bytes
}

impl ServiceConfig {
    /// No service at all.
    pub const NONE: Self = Self {
        echo: None,
        time: None,
        file: None,
        chat: None,
        discard: None,
        sntp: None,
        #[cfg(feature = "dhcp")]
        dhcp: false,
        #[cfg(feature = "slaac")]
        slaac: false,
        seed: 0,
        guard: Guard::DEFAULT,
    };

    /// Sockets the services add to the socket set (every place of the chat
    /// room counted).
    pub const fn sockets(&self) -> usize {
        #[cfg(feature = "dhcp")]
        let mut n = self.dhcp as usize;
        #[cfg(not(feature = "dhcp"))]
        let mut n = 0;
        if let Some(e) = self.echo {
            n += e.tcp.sockets + 1;
        }
        if let Some(t) = self.time {
            n += t.ports() * t.tcp.sockets + t.rfc868 as usize;
        }
        if let Some(f) = self.file {
            n += f.tcp.sockets;
        }
        if let Some(c) = self.chat {
            n += c.places + c.overflow;
        }
        if let Some(d) = self.discard {
            n += d.tcp.sockets + 1;
        }
        if self.sntp.is_some() {
            n += 1;
        }
        n
    }

    /// Bytes of every socket buffer.
    pub const fn buffer_bytes(&self) -> usize {
        let mut n = 0;
        if let Some(e) = self.echo {
            n += e.tcp.bytes() + udp_bytes(e.udp);
        }
        if let Some(t) = self.time {
            n += t.ports() * t.tcp.bytes();
            if t.rfc868 {
                n += udp_bytes(t.udp);
            }
        }
        if let Some(f) = self.file {
            n += f.tcp.bytes();
        }
        if let Some(c) = self.chat {
            n += c.members().bytes() + c.overflow * 2 * c.overflow_buffer;
        }
        if let Some(d) = self.discard {
            n += d.tcp.bytes() + udp_bytes(d.udp);
        }
        if let Some(s) = self.sntp {
            n += udp_bytes(s.udp);
        }
        n
    }

    /// UDP packet metadata entries of every UDP socket.
    pub const fn udp_metadata(&self) -> usize {
        let mut n = 0;
        if let Some(e) = self.echo {
            n += 2 * e.udp.packets;
        }
        if let Some(t) = self.time
            && t.rfc868
        {
            n += 2 * t.udp.packets;
        }
        if let Some(d) = self.discard {
            n += 2 * d.udp.packets;
        }
        if let Some(s) = self.sntp {
            n += 2 * s.udp.packets;
        }
        n
    }
}
