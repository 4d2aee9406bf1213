//! The UDP echo client: datagrams out, datagrams back. (The TCP echo
//! client is the generic [`crate::net::stream_client::StreamClient`].)

use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::IpEndpoint;

use crate::service::Net;

/// A UDP client: datagrams to one server, datagrams back from it only.
#[derive(Debug)]
pub struct DatagramClient {
    handle: SocketHandle,
    remote: IpEndpoint,
}

impl DatagramClient {
    /// Binds `socket` to `local_port`, adds it to the set.
    pub fn new<'b>(
        net: &mut Net<'_, 'b>,
        mut socket: udp::Socket<'b>,
        remote: IpEndpoint,
        local_port: u16,
    ) -> Result<Self, udp::BindError> {
        socket.bind(local_port)?;
        Ok(Self {
            handle: net.sockets.add(socket),
            remote,
        })
    }

    /// Queues one datagram; `false` when the transmit buffer is full (try
    /// again after a poll) or the datagram can never fit.
    pub fn send(&mut self, net: &mut Net<'_, '_>, datagram: &[u8]) -> bool {
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        socket.send_slice(datagram, self.remote).is_ok()
    }

    /// Takes the next datagram from the server into `out`: `Some(len)`;
    /// datagrams from anyone else, or longer than `out`, are discarded.
    pub fn recv(&mut self, net: &mut Net<'_, '_>, out: &mut [u8]) -> Option<usize> {
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        loop {
            match socket.recv_slice(out) {
                Ok((len, meta)) if meta.endpoint == self.remote => return Some(len),
                Ok(_) | Err(udp::RecvError::Truncated) => continue,
                Err(udp::RecvError::Exhausted) => return None,
            }
        }
    }
}
