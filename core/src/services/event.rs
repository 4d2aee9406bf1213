//! One event type for every service, worded once: the host's log, the
//! board's UART and the simulator's timeline print these same words (and
//! tests match them).

use core::fmt;

use crate::chat::ChatEvent;
use crate::echo::EchoEvent;
use crate::file::FileEvent;
#[cfg(feature = "dhcp")]
use crate::net::dhcp::DhcpEvent;
#[cfg(feature = "slaac")]
use crate::net::slaac::SlaacEvent;
use crate::time::TimeEvent;
use crate::time::sntp_client::{Rejected, SntpEvent};

/// Which transport a server runs on, for event text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Transport {
    /// `tcp` or `udp`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// Something a service of a [`super::ServiceSet`] reports. RAM: about 56
/// bytes (the set holds none; each service queues its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Every configured service listens and the node has its addresses
    /// (after the DHCP lease, with DHCP).
    Ready,
    /// From an echo server.
    Echo {
        /// TCP or UDP.
        transport: Transport,
        /// Its port.
        port: u16,
        /// What happened.
        event: EchoEvent,
    },
    /// From a time server.
    Time {
        /// TCP or UDP.
        transport: Transport,
        /// Its port.
        port: u16,
        /// What happened.
        event: TimeEvent,
    },
    /// From the file server.
    File {
        /// Its port.
        port: u16,
        /// What happened.
        event: FileEvent,
    },
    /// From the chat room.
    Chat {
        /// Its port.
        port: u16,
        /// What happened.
        event: ChatEvent,
    },
    /// From the TCP discard server.
    #[cfg(feature = "discard")]
    Discard {
        /// Its port.
        port: u16,
        /// What happened (echo's events, bytes taken).
        event: EchoEvent,
    },
    /// From the SNTP client.
    Sntp(SntpEvent),
    /// From the DHCP client.
    #[cfg(feature = "dhcp")]
    Dhcp(DhcpEvent),
    /// IPv6 autoconfiguration gave or lost an address.
    #[cfg(feature = "slaac")]
    Slaac(SlaacEvent),
}

/// The words of an echo or discard event (after the service's prefix).
fn stream_text(f: &mut fmt::Formatter<'_>, event: EchoEvent) -> fmt::Result {
    match event {
        EchoEvent::Connected { peer } => write!(f, "connected {peer}"),
        EchoEvent::Closed { peer, bytes } => write!(f, "closed {peer} after {bytes} bytes"),
        EchoEvent::Reset { peer, bytes } => write!(f, "reset by {peer} after {bytes} bytes"),
        EchoEvent::IdleTimeout { peer, bytes } => {
            write!(f, "idle timeout {peer} after {bytes} bytes, aborted")
        }
        EchoEvent::OverShare { peer } => {
            write!(f, "{peer} already holds its address's share: reset")
        }
        EchoEvent::DatagramDropped { peer } => write!(f, "datagram from {peer} too long, dropped"),
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Event::Ready => f.write_str("ready"),
            Event::Echo {
                transport,
                port,
                event,
            } => {
                write!(f, "echo {}/{port}: ", transport.as_str())?;
                stream_text(f, event)
            }
            Event::Time {
                transport,
                port,
                event,
            } => {
                write!(f, "time {}/{port}: ", transport.as_str())?;
                match event {
                    TimeEvent::Served {
                        peer, unix_secs, ..
                    } => write!(f, "sent time {unix_secs} to {peer}"),
                    TimeEvent::ClockNotSet { peer } => {
                        write!(f, "clock not set: closed {peer} without a time")
                    }
                    TimeEvent::CannotEncode { peer } => {
                        write!(f, "time not representable: closed {peer}")
                    }
                    TimeEvent::Aborted { peer } => {
                        write!(f, "{peer} went away before the reply")
                    }
                }
            }
            Event::File { port, event } => {
                write!(f, "file tcp/{port}: ")?;
                match event {
                    FileEvent::Sending { peer, default } => write!(
                        f,
                        "sending {} file to {peer}",
                        if default { "the default" } else { "a named" }
                    ),
                    FileEvent::Sent { peer, bytes } => write!(f, "sent {bytes} bytes to {peer}"),
                    FileEvent::Refused { peer, reason } => {
                        let line = core::str::from_utf8(reason.line()).unwrap_or("ERR");
                        write!(f, "refused {peer}: {}", line.trim_end())
                    }
                    FileEvent::Aborted { peer, bytes } => {
                        write!(f, "{peer} went away after {bytes} bytes")
                    }
                    FileEvent::ReadFailed { peer, bytes } => {
                        write!(f, "read error after {bytes} bytes to {peer}: reset")
                    }
                }
            }
            Event::Chat { port, event } => {
                write!(f, "chat tcp/{port}: ")?;
                match event {
                    ChatEvent::Joined { peer } => write!(f, "{peer} joined"),
                    ChatEvent::Left { peer } => write!(f, "{peer} left"),
                    ChatEvent::DroppedSlowReader { peer } => {
                        write!(f, "{peer} stopped reading: disconnected")
                    }
                    ChatEvent::RoomFull { peer } => write!(f, "room full: refused {peer}"),
                    ChatEvent::OverShare { peer } => {
                        write!(f, "{peer} already holds its address's share: reset")
                    }
                }
            }
            #[cfg(feature = "discard")]
            Event::Discard { port, event } => {
                write!(f, "discard tcp/{port}: ")?;
                stream_text(f, event)
            }
            Event::Sntp(event) => match event {
                SntpEvent::Synced { unix_secs, rtt } => write!(
                    f,
                    "sntp: clock set to {unix_secs} (round trip {} ms)",
                    rtt.total_millis()
                ),
                SntpEvent::Ignored {
                    from,
                    reason: Rejected::WrongSource,
                } => write!(f, "sntp: ignored a datagram from {from}: not the server"),
                SntpEvent::Ignored {
                    from,
                    reason: Rejected::Invalid(e),
                } => write!(f, "sntp: ignored a datagram from {from}: {e}"),
                SntpEvent::Timeout { retry_in } => {
                    write!(f, "sntp: no valid reply, retrying in {} s", retry_in.secs())
                }
            },
            #[cfg(feature = "dhcp")]
            Event::Dhcp(DhcpEvent::Configured(lease)) => {
                write!(f, "dhcp address {} router ", lease.address)?;
                match lease.router {
                    Some(r) => write!(f, "{r}")?,
                    None => f.write_str("none")?,
                }
                f.write_str(" dns ")?;
                match lease.dns_server {
                    Some(d) => write!(f, "{d}"),
                    None => f.write_str("none"),
                }
            }
            #[cfg(feature = "dhcp")]
            Event::Dhcp(DhcpEvent::Deconfigured) => f.write_str("dhcp lease lost"),
            #[cfg(feature = "slaac")]
            Event::Slaac(SlaacEvent::Configured(a)) => {
                write!(f, "slaac address {} router ", a.address)?;
                match a.router {
                    Some(r) => write!(f, "{r}")?,
                    None => f.write_str("none")?,
                }
                f.write_str(" dns ")?;
                match a.dns {
                    Some(d) => write!(f, "{d}"),
                    None => f.write_str("none"),
                }
            }
            #[cfg(feature = "slaac")]
            Event::Slaac(SlaacEvent::Deconfigured) => f.write_str("slaac address expired"),
        }
    }
}
