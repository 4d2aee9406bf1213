//! Where socket buffers come from: the [`SocketAlloc`] trait, and [`Arena`],
//! its allocation-free implementation over static arrays (for boards).
//!
//! Hosts and the simulator implement the trait with owned or leaked
//! buffers; a board carves disjoint pieces out of two static arrays sized
//! from the same [`crate::services::ServiceConfig`] that builds the services
//! (see [`crate::services::ServiceConfig::buffer_bytes`]).

use smoltcp::socket::{tcp, udp};

/// The allocator has no room for a socket's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

impl core::fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no memory left for socket buffers")
    }
}

/// Makes sockets with buffers that live as long as the socket set (`'s`).
pub trait SocketAlloc<'s> {
    /// A TCP socket with `rx` and `tx` bytes of buffer.
    fn tcp(&mut self, rx: usize, tx: usize) -> Result<tcp::Socket<'s>, OutOfMemory>;
    /// A UDP socket with room for `packets` datagrams and `bytes` of
    /// payload, each way.
    fn udp(&mut self, packets: usize, bytes: usize) -> Result<udp::Socket<'s>, OutOfMemory>;
}

/// Hands out disjoint pieces of two arrays: socket buffer bytes and UDP
/// packet metadata. RAM: two slices (the arrays are the caller's).
pub struct Arena<'s> {
    bytes: &'s mut [u8],
    meta: &'s mut [udp::PacketMetadata],
}

fn take<'s, T>(rest: &mut &'s mut [T], n: usize) -> Result<&'s mut [T], OutOfMemory> {
    if n > rest.len() {
        return Err(OutOfMemory);
    }
    let (piece, tail) = core::mem::take(rest).split_at_mut(n);
    *rest = tail;
    Ok(piece)
}

impl<'s> Arena<'s> {
    /// An arena over `bytes` (socket buffers) and `meta` (UDP metadata).
    pub fn new(bytes: &'s mut [u8], meta: &'s mut [udp::PacketMetadata]) -> Self {
        Self { bytes, meta }
    }

    /// Bytes not handed out yet (zero when the sizing was exact).
    pub fn bytes_left(&self) -> usize {
        self.bytes.len()
    }
}

impl<'s> SocketAlloc<'s> for Arena<'s> {
    fn tcp(&mut self, rx: usize, tx: usize) -> Result<tcp::Socket<'s>, OutOfMemory> {
        if rx + tx > self.bytes.len() {
            return Err(OutOfMemory);
        }
        let rx = take(&mut self.bytes, rx)?;
        let tx = take(&mut self.bytes, tx)?;
        Ok(tcp::Socket::new(
            tcp::SocketBuffer::new(rx),
            tcp::SocketBuffer::new(tx),
        ))
    }

    fn udp(&mut self, packets: usize, bytes: usize) -> Result<udp::Socket<'s>, OutOfMemory> {
        if 2 * bytes > self.bytes.len() || 2 * packets > self.meta.len() {
            return Err(OutOfMemory);
        }
        let rx = udp::PacketBuffer::new(
            take(&mut self.meta, packets)?,
            take(&mut self.bytes, bytes)?,
        );
        let tx = udp::PacketBuffer::new(
            take(&mut self.meta, packets)?,
            take(&mut self.bytes, bytes)?,
        );
        Ok(udp::Socket::new(rx, tx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_hands_out_exactly_what_it_has() {
        let mut bytes = [0u8; 300];
        let mut meta = [udp::PacketMetadata::EMPTY; 4];
        let mut a = Arena::new(&mut bytes, &mut meta);
        assert!(a.tcp(100, 100).is_ok());
        assert_eq!(a.bytes_left(), 100);
        assert_eq!(a.tcp(64, 64).err(), Some(OutOfMemory));
        // A refused request takes nothing.
        assert_eq!(a.bytes_left(), 100);
        assert_eq!(a.udp(3, 50).err(), Some(OutOfMemory));
        assert!(a.udp(2, 50).is_ok());
        assert_eq!(a.bytes_left(), 0);
        assert_eq!(a.udp(1, 0).err(), Some(OutOfMemory));
    }
}
