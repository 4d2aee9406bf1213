//! The UDP discard server: counts datagrams and drops them. It never
//! sends, so no forged source address can make it reflect anything, and
//! it reports no per-datagram event, so a flood cannot flood the log.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;

use crate::service::{Net, Service};

/// A UDP discard server. RAM: a handle and two counters, plus the socket's
/// receive buffer (sized by the caller; the transmit side can be empty).
pub struct UdpDiscardServer {
    handle: SocketHandle,
    datagrams: u64,
    bytes: u64,
}

impl UdpDiscardServer {
    /// Binds `socket` to `port` and adds it to the set.
    pub fn new<'b>(
        sockets: &mut SocketSet<'b>,
        mut socket: udp::Socket<'b>,
        port: u16,
    ) -> Result<Self, udp::BindError> {
        socket.bind(port)?;
        Ok(Self {
            handle: sockets.add(socket),
            datagrams: 0,
            bytes: 0,
        })
    }

    /// Datagrams and payload bytes discarded so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.datagrams, self.bytes)
    }
}

impl Service for UdpDiscardServer {
    fn poll(&mut self, net: &mut Net<'_, '_>, _now: Instant) {
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        // A datagram too long for the buffer is dropped by smoltcp on
        // arrival; what reaches the socket is counted here.
        while let Ok((data, _)) = socket.recv() {
            self.datagrams += 1;
            self.bytes += data.len() as u64;
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        None
    }
}
