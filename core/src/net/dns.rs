//! Host-name lookups on smoltcp's DNS socket, for clients given a name.
//! The server comes from the configuration or from a DHCP lease.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::dns::{self, GetQueryResultError, QueryHandle};
use smoltcp::time::Instant;
use smoltcp::wire::{DnsQueryType, IpAddress};

use crate::service::{Net, Service};

/// Why a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// No DNS server is configured or learned.
    NoServer,
    /// The name is not a valid DNS name.
    InvalidName,
    /// The server answered that there is no address of that kind, or did
    /// not answer in time.
    NotFound,
}

impl core::fmt::Display for LookupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LookupError::NoServer => "no DNS server (none configured, none from DHCP)",
            LookupError::InvalidName => "not a valid host name",
            LookupError::NotFound => "the name did not resolve (no answer, or no such host)",
        })
    }
}

#[derive(Clone, Copy)]
enum Lookup {
    Idle,
    Pending {
        query: QueryHandle,
        kind: DnsQueryType,
    },
    Done(Result<IpAddress, LookupError>),
}

/// A resolver for one lookup at a time: A first, then AAAA if there is no A.
/// RAM: the DNS socket with one query slot (about 300 bytes) + 40 bytes.
pub struct Resolver {
    handle: SocketHandle,
    has_server: bool,
    state: Lookup,
    name: heapless::String<255>,
}

impl Resolver {
    /// Adds a DNS socket (with its one query slot, given by the caller) to the set.
    pub fn new<'b>(
        sockets: &mut SocketSet<'b>,
        slots: &'b mut [Option<dns::DnsQuery>; 1],
        server: Option<IpAddress>,
    ) -> Self {
        let servers: &[IpAddress] = match &server {
            Some(s) => core::slice::from_ref(s),
            None => &[],
        };
        Self {
            handle: sockets.add(dns::Socket::new(servers, &mut slots[..])),
            has_server: server.is_some(),
            state: Lookup::Idle,
            name: heapless::String::new(),
        }
    }

    /// Uses `server` from now on (e.g. from a DHCP lease).
    pub fn set_server(&mut self, sockets: &mut SocketSet<'_>, server: IpAddress) {
        sockets
            .get_mut::<dns::Socket>(self.handle)
            .update_servers(&[server]);
        self.has_server = true;
    }

    /// Whether a server is known.
    pub fn has_server(&self) -> bool {
        self.has_server
    }

    /// Starts resolving `name`; the answer comes through [`Resolver::result`].
    pub fn start(&mut self, net: &mut Net<'_, '_>, name: &str) {
        self.name.clear();
        if self.name.push_str(name).is_err() {
            self.state = Lookup::Done(Err(LookupError::InvalidName));
            return;
        }
        self.state = self.query(net, DnsQueryType::A);
    }

    fn query(&mut self, net: &mut Net<'_, '_>, kind: DnsQueryType) -> Lookup {
        if !self.has_server {
            return Lookup::Done(Err(LookupError::NoServer));
        }
        let socket = net.sockets.get_mut::<dns::Socket>(self.handle);
        match socket.start_query(net.iface.context(), &self.name, kind) {
            Ok(query) => Lookup::Pending { query, kind },
            Err(_) => Lookup::Done(Err(LookupError::InvalidName)),
        }
    }

    /// The answer, once there is one.
    pub fn result(&self) -> Option<Result<IpAddress, LookupError>> {
        match self.state {
            Lookup::Done(r) => Some(r),
            _ => None,
        }
    }
}

impl Service for Resolver {
    fn poll(&mut self, net: &mut Net<'_, '_>, _now: Instant) {
        let Lookup::Pending { query, kind } = self.state else {
            return;
        };
        let socket = net.sockets.get_mut::<dns::Socket>(self.handle);
        self.state = match socket.get_query_result(query) {
            Err(GetQueryResultError::Pending) => return,
            Ok(addrs) if !addrs.is_empty() => Lookup::Done(Ok(addrs[0])),
            _ if kind == DnsQueryType::A => self.query(net, DnsQueryType::Aaaa),
            _ => Lookup::Done(Err(LookupError::NotFound)),
        };
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        // The DNS socket's retransmissions are in the interface's poll_at.
        None
    }
}
