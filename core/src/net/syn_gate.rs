//! Keeps smoltcp from refusing a client of a pool whose listening sockets
//! were all taken earlier in the same batch of frames.
//!
//! smoltcp answers a SYN that finds no listening socket with RST. Between
//! two passes of the services, the frames read from the device in one batch
//! can take every listener of a pool (50 half-open SYNs in a burst, a flood),
//! and a real client's SYN in that batch would be refused before the pool's
//! [`crate::net::TcpPool`] had a chance to recycle anything. The gate counts
//! each pool port's listeners before the batch and lets through only as many
//! SYNs: the next one is parked (one frame, copied) and the batch ends, so
//! the services run (the pool frees a socket) and the parked SYN is handed
//! to smoltcp again in the next steps, for up to [`HOLD`] (under a flood,
//! the pool frees a socket once its oldest handshake is the flood age old). Still no listener
//! then: it is dropped, as the kernel drops a SYN its backlog cannot hold,
//! and the client sends it again. While one SYN is held, other frames pass
//! as usual, and a newer SYN that finds no listener takes its place. A port whose sockets all carry established connections is not
//! gated: the pool is full, and the client is refused at once, as before.
//!
//! Under a spoofed flood a real client's SYN is held only until the next
//! flood SYN replaces it. What tells the client apart is that it sends its
//! SYN again (after a second, then two, then four: RFC 6298), while forged
//! SYNs are never repeated. The gate remembers the SYNs it could not let
//! through ([`Retries`]), and a SYN it has seen before is held against any
//! newer SYN it has not: the client's first retry gets the next free socket.
//! A flood that repeats every SYN is only as strong as before.

use smoltcp::iface::SocketSet;
use smoltcp::phy::{Device, DeviceCapabilities, RxToken};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
#[cfg(feature = "ipv6")]
use smoltcp::wire::Ipv6Packet;
use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};

/// Pool ports the gate can watch at once (one per TCP service).
const PORTS: usize = 8;
/// The longest frame that can be parked: a SYN over IPv6 with 40 bytes of
/// options is 14 + 40 + 60 = 114 bytes; longer SYNs carry data, and pass.
pub const PARK_BYTES: usize = 128;
/// How long a SYN is held for a socket: the default flood age (after which
/// a pool under a flood recycles its oldest handshake) and a few steps.
/// A handshake is never cut shorter for it: a real client on a slow link
/// needs its round trip.
pub const HOLD: Duration =
    Duration::from_micros(crate::net::guard::Guard::DEFAULT.flood_age.total_micros() + 5_000);

/// SYNs [`Retries`] remembers: at the 200 SYN/s of a flood, the last
/// second and more, which covers a client's first retry; at lower rates,
/// longer.
pub const RETRY_MEMORY: usize = 256;

/// SYNs the gate could not let through, remembered as 16-bit fingerprints
/// of a keyed hash in a ring (the oldest forgotten first), so that a
/// retransmitted SYN is recognised. A fingerprint matches a SYN it was not
/// made from once in 65,536/[`RETRY_MEMORY`] (256). RAM: 2 bytes per
/// entry, 512 bytes, and 16 more.
#[derive(Debug)]
pub struct Retries {
    prints: [u16; RETRY_MEMORY],
    /// Where the next fingerprint goes.
    next: usize,
    /// Secret from the stack's seed, so a peer cannot aim its SYNs at the
    /// fingerprint of another's.
    key: u64,
}

impl Retries {
    const fn new(key: u64) -> Self {
        Self {
            // 0 is never a fingerprint (see `print`).
            prints: [0; RETRY_MEMORY],
            next: 0,
            key,
        }
    }

    fn print(&self, id: u64) -> u16 {
        ((mix(id ^ self.key) >> 48) as u16).max(1)
    }

    fn remember(&mut self, id: u64) {
        self.prints[self.next] = self.print(id);
        self.next = (self.next + 1) % RETRY_MEMORY;
    }

    fn seen(&self, id: u64) -> bool {
        let print = self.print(id);
        self.prints.contains(&print)
    }
}

/// One gated port: its listeners left in this batch.
#[derive(Debug, Clone, Copy)]
struct Door {
    port: u16,
    listening: u16,
}

/// The gate's state between two steps. RAM: about 720 bytes
/// ([`PARK_BYTES`] for the parked SYN, 4 bytes per watched port, and
/// [`Retries`]).
#[derive(Debug)]
pub struct SynGate {
    doors: heapless::Vec<Door, PORTS>,
    parked: [u8; PARK_BYTES],
    /// Length of the parked frame: 0 when none.
    parked_len: usize,
    /// When the parked SYN arrived.
    parked_at: Instant,
    /// The parked SYN was seen before: its client is sending it again.
    parked_retry: bool,
    retries: Retries,
    /// The time of this step.
    now: Instant,
    /// A SYN was parked in this step: the batch ends.
    fresh: bool,
    /// The parked SYN was handed over in this step (once a step).
    replayed: bool,
    dropped: u32,
    /// The DNS server of the last router advertisement that named one:
    /// the gate sees every frame, and smoltcp ignores that option.
    #[cfg(feature = "slaac")]
    dns: Option<smoltcp::wire::Ipv6Address>,
}

impl Default for SynGate {
    fn default() -> Self {
        Self::new(0)
    }
}

/// What the gate decides for one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    /// A SYN that finds no listener left: kept for the next steps.
    Park,
    /// A SYN held past [`HOLD`], or one that cannot be kept.
    Drop,
}

impl SynGate {
    /// A gate watching nothing yet; `key` (the stack's random seed) keys
    /// the hash of remembered SYNs.
    pub const fn new(key: u64) -> Self {
        Self {
            doors: heapless::Vec::new(),
            parked: [0; PARK_BYTES],
            parked_len: 0,
            parked_at: Instant::ZERO,
            parked_retry: false,
            retries: Retries::new(key),
            now: Instant::ZERO,
            fresh: false,
            replayed: false,
            dropped: 0,
            #[cfg(feature = "slaac")]
            dns: None,
        }
    }

    /// The DNS server routers advertise (see [`crate::net::slaac`]).
    #[cfg(feature = "slaac")]
    pub fn advertised_dns(&self) -> Option<smoltcp::wire::Ipv6Address> {
        self.dns
    }

    /// SYNs the gate dropped (their clients send them again).
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// A SYN waits to be handed to smoltcp.
    pub fn has_parked(&self) -> bool {
        self.parked_len > 0
    }

    /// A SYN was parked in this step: end the batch, let the services run.
    pub fn parked_now(&self) -> bool {
        self.fresh
    }

    /// When the stack must step again for the parked SYN: at once after it
    /// was parked, then every millisecond while it is held.
    pub fn poll_at(&self) -> Option<Instant> {
        match (self.has_parked(), self.fresh) {
            (false, _) => None,
            (true, true) => Some(self.now),
            (true, false) => Some(self.now + Duration::from_millis(1)),
        }
    }

    /// Starts a step at `now`: counts the listeners of every port that has
    /// half-open sockets or listeners. A port with neither (only
    /// established connections, or no pool at all) is not watched.
    pub fn prepare(&mut self, sockets: &SocketSet<'_>, now: Instant) {
        self.now = now;
        self.fresh = false;
        self.replayed = false;
        self.doors.clear();
        for (_, socket) in sockets.iter() {
            let smoltcp::socket::Socket::Tcp(s) = socket else {
                continue;
            };
            let listening = match s.state() {
                tcp::State::Listen => 1,
                tcp::State::SynReceived => 0,
                _ => continue,
            };
            let port = s.listen_endpoint().port;
            if port == 0 {
                continue;
            }
            match self.doors.iter_mut().find(|d| d.port == port) {
                Some(d) => d.listening += listening,
                // More ports than the gate holds: the rest pass ungated.
                None => {
                    let _ = self.doors.push(Door { port, listening });
                }
            }
        }
    }

    /// The device as smoltcp sees it through the gate.
    pub fn on<'a, D: Device + ?Sized>(&'a mut self, device: &'a mut D) -> Gated<'a, D> {
        Gated { gate: self, device }
    }

    /// What becomes of a frame of `len` bytes that is `syn` (or not a SYN:
    /// `None`); `replay`: it is the parked one.
    fn judge(&mut self, syn: Option<Syn>, len: usize, replay: bool) -> Verdict {
        let Some(syn) = syn else {
            return Verdict::Pass;
        };
        let Some(door) = self.doors.iter_mut().find(|d| d.port == syn.port) else {
            return Verdict::Pass;
        };
        if door.listening > 0 {
            door.listening -= 1;
            return Verdict::Pass;
        }
        if replay {
            if self.now < self.parked_at + HOLD {
                return Verdict::Park;
            }
            self.dropped = self.dropped.saturating_add(1);
            return Verdict::Drop;
        }
        let retry = self.retries.seen(syn.id);
        self.retries.remember(syn.id);
        // A held retry keeps its place against a first SYN; otherwise the
        // newest SYN takes the place of a held one: under a flood the held
        // SYN is most likely the flood's, and a real client's then has the
        // same chance as any of the next socket.
        let outranked = self.parked_len > 0 && self.parked_retry && !retry;
        if len > PARK_BYTES || outranked {
            self.dropped = self.dropped.saturating_add(1);
            return Verdict::Drop;
        }
        if self.parked_len > 0 {
            self.dropped = self.dropped.saturating_add(1);
        }
        self.parked_retry = retry;
        Verdict::Park
    }
}

/// What the gate needs of a SYN: its port, and who sent it (source address
/// and port, destination port and sequence number, folded into 64 bits),
/// which is the same when the client sends it again.
#[derive(Debug, Clone, Copy)]
struct Syn {
    port: u16,
    id: u64,
}

/// SplitMix64's finaliser: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Folds an address's bytes into 64 bits.
fn fold(bytes: &[u8]) -> u64 {
    bytes.chunks(8).fold(0, |acc, c| {
        let mut word = [0; 8];
        word[..c.len()].copy_from_slice(c);
        acc.rotate_left(23) ^ u64::from_le_bytes(word)
    })
}

/// The TCP SYN (without ACK) in an Ethernet frame, if it is one.
fn syn_of(frame: &[u8]) -> Option<Syn> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (src, tcp) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            if ip.next_header() != IpProtocol::Tcp || ip.frag_offset() != 0 {
                return None;
            }
            (fold(&ip.src_addr().octets()), ip.payload())
        }
        #[cfg(feature = "ipv6")]
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            if ip.next_header() != IpProtocol::Tcp {
                return None;
            }
            (fold(&ip.src_addr().octets()), ip.payload())
        }
        _ => return None,
    };
    let tcp = TcpPacket::new_checked(tcp).ok()?;
    if !tcp.syn() || tcp.ack() {
        return None;
    }
    let ports = (u64::from(tcp.src_port()) << 16) | u64::from(tcp.dst_port());
    let id = mix(src) ^ (ports << 32) ^ u64::from(tcp.seq_number().0 as u32);
    Some(Syn {
        port: tcp.dst_port(),
        id,
    })
}

/// A device seen through a [`SynGate`]: frames pass unchanged but for the
/// SYNs the gate holds back, which smoltcp sees as empty frames (ignored).
pub struct Gated<'a, D: ?Sized> {
    gate: &'a mut SynGate,
    device: &'a mut D,
}

/// A received frame: the device's own, or the parked SYN handed over again.
pub enum GatedRx<'a, R> {
    /// A frame from the device.
    Device(R, &'a mut SynGate),
    /// The parked SYN.
    Parked(&'a mut SynGate),
}

impl<R: RxToken> RxToken for GatedRx<'_, R> {
    fn consume<T, F: FnOnce(&[u8]) -> T>(self, f: F) -> T {
        match self {
            GatedRx::Device(token, gate) => token.consume(|frame| {
                #[cfg(feature = "slaac")]
                if let Some(dns) = crate::net::slaac::advertised_dns(frame) {
                    gate.dns = Some(dns);
                }
                match gate.judge(syn_of(frame), frame.len(), false) {
                    Verdict::Pass => f(frame),
                    Verdict::Park => {
                        gate.parked[..frame.len()].copy_from_slice(frame);
                        gate.parked_len = frame.len();
                        gate.parked_at = gate.now;
                        gate.fresh = true;
                        f(&[])
                    }
                    Verdict::Drop => f(&[]),
                }
            }),
            GatedRx::Parked(gate) => {
                let len = gate.parked_len;
                let syn = syn_of(&gate.parked[..len]);
                match gate.judge(syn, len, true) {
                    Verdict::Pass => {
                        gate.parked_len = 0;
                        f(&gate.parked[..len])
                    }
                    // Still held: it stays where it is.
                    Verdict::Park => f(&[]),
                    Verdict::Drop => {
                        gate.parked_len = 0;
                        f(&[])
                    }
                }
            }
        }
    }

    fn meta(&self) -> smoltcp::phy::PacketMeta {
        match self {
            GatedRx::Device(token, _) => token.meta(),
            GatedRx::Parked(_) => smoltcp::phy::PacketMeta::default(),
        }
    }
}

impl<D: Device + ?Sized> Device for Gated<'_, D> {
    type RxToken<'b>
        = GatedRx<'b, D::RxToken<'b>>
    where
        Self: 'b;
    type TxToken<'b>
        = D::TxToken<'b>
    where
        Self: 'b;

    fn receive(&mut self, timestamp: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if self.gate.parked_len > 0 && !self.gate.replayed {
            // Its reply (SYN-ACK) needs room to go out; without it, wait.
            let tx = self.device.transmit(timestamp)?;
            self.gate.replayed = true;
            return Some((GatedRx::Parked(self.gate), tx));
        }
        let (rx, tx) = self.device.receive(timestamp)?;
        Some((GatedRx::Device(rx, self.gate), tx))
    }

    fn transmit(&mut self, timestamp: Instant) -> Option<Self::TxToken<'_>> {
        self.device.transmit(timestamp)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.device.capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full memory recognises every SYN in it, forgets the oldest first,
    /// and takes few others for retries.
    #[test]
    fn retries_recognise_what_they_saw_and_little_else() {
        let mut r = Retries::new(0x1234_5678);
        let n = RETRY_MEMORY as u64;
        for id in 0..n + 10 {
            r.remember(mix(id));
        }
        assert!((10..n + 10).all(|id| r.seen(mix(id))));
        assert!(!(0..10).any(|id| r.seen(mix(id))));
        let false_hits = (1u64 << 40..(1 << 40) + 100_000)
            .filter(|&id| r.seen(mix(id)))
            .count();
        // About 100,000 x 256 / 65,536 = 390 expected.
        assert!(false_hits < 800, "{false_hits} of 100000");
    }
}
