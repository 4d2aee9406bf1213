//! Socket constructors with owned buffers (freed with the run).

use minnow::net::SocketAlloc;
use minnow::net::storage::OutOfMemory;
use smoltcp::socket::{tcp, udp};

/// A TCP socket with `rx` and `tx` bytes of buffer.
pub fn tcp_socket(rx: usize, tx: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; rx]),
        tcp::SocketBuffer::new(vec![0; tx]),
    )
}

/// A UDP socket with room for `packets` datagrams and `bytes` of payload
/// each way.
pub fn udp_socket(packets: usize, bytes: usize) -> udp::Socket<'static> {
    let buffer =
        || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; packets], vec![0; bytes]);
    udp::Socket::new(buffer(), buffer())
}

/// Socket buffers owned by the sockets (freed with the run).
pub struct Owned;

impl SocketAlloc<'static> for Owned {
    fn tcp(&mut self, rx: usize, tx: usize) -> Result<tcp::Socket<'static>, OutOfMemory> {
        Ok(tcp_socket(rx, tx))
    }

    fn udp(&mut self, packets: usize, bytes: usize) -> Result<udp::Socket<'static>, OutOfMemory> {
        Ok(udp_socket(packets, bytes))
    }
}
