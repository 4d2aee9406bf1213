//! TCP retransmissions, counted by watching the wire: a segment whose
//! sequence space was already sent on its connection is a retransmission.
//! This needs nothing from smoltcp's internals, and counts every sender.

use std::collections::BTreeMap;

use smoltcp::wire::{
    EthernetFrame, EthernetProtocol, IpAddress, IpEndpoint, IpProtocol, Ipv4Packet, Ipv6Packet,
    TcpPacket, TcpSeqNumber,
};

/// One direction of one TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    /// Sender address.
    pub src: IpAddress,
    /// Sender port.
    pub src_port: u16,
    /// Receiver address.
    pub dst: IpAddress,
    /// Receiver port.
    pub dst_port: u16,
}

/// What one direction of a connection sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowStats {
    /// Segments carrying data, SYN or FIN.
    pub segments: u64,
    /// Payload bytes, retransmissions included.
    pub bytes: u64,
    /// Segments that repeated sequence space already sent.
    pub retransmits: u64,
    isn: Option<TcpSeqNumber>,
    high: Option<TcpSeqNumber>,
}

/// Per-flow TCP counters, in a sorted map so reports come out in one order.
#[derive(Debug, Default)]
pub struct TcpStats {
    flows: BTreeMap<FlowKey, FlowStats>,
}

fn tcp_of(frame: &[u8]) -> Option<(IpAddress, IpAddress, &[u8])> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (src, dst, proto, payload) = match eth.ethertype() {
        EthernetProtocol::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            (s.into(), d.into(), ip.next_header(), ip.payload())
        }
        EthernetProtocol::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            let (s, d) = (ip.src_addr(), ip.dst_addr());
            (s.into(), d.into(), ip.next_header(), ip.payload())
        }
        _ => return None,
    };
    (proto == IpProtocol::Tcp).then_some((src, dst, payload))
}

impl TcpStats {
    /// No flows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks at one frame as its sender put it on the wire.
    pub fn observe(&mut self, frame: &[u8]) {
        let Some((src, dst, segment)) = tcp_of(frame) else {
            return;
        };
        let Ok(tcp) = TcpPacket::new_checked(segment) else {
            return;
        };
        let len = tcp.payload().len() + usize::from(tcp.syn()) + usize::from(tcp.fin());
        if len == 0 {
            return;
        }
        let key = FlowKey {
            src,
            src_port: tcp.src_port(),
            dst,
            dst_port: tcp.dst_port(),
        };
        let seq = tcp.seq_number();
        let flow = self.flows.entry(key).or_default();
        if tcp.syn() && flow.isn != Some(seq) {
            // A new connection on the same ports starts afresh.
            *flow = FlowStats {
                isn: Some(seq),
                ..FlowStats::default()
            };
        }
        flow.segments += 1;
        flow.bytes += tcp.payload().len() as u64;
        let end = seq + len;
        match flow.high {
            Some(high) if seq < high => {
                flow.retransmits += 1;
                flow.high = Some(high.max(end));
            }
            _ => flow.high = Some(end),
        }
    }

    /// Every flow, sorted.
    pub fn flows(&self) -> impl Iterator<Item = (&FlowKey, &FlowStats)> {
        self.flows.iter()
    }

    /// Retransmissions, both ways, on the connections of which one end is
    /// one of `ends`.
    pub fn retransmits_of(&self, ends: &[IpEndpoint]) -> u64 {
        self.flows
            .iter()
            .filter(|(k, _)| {
                ends.contains(&IpEndpoint::new(k.src, k.src_port))
                    || ends.contains(&IpEndpoint::new(k.dst, k.dst_port))
            })
            .map(|(_, f)| f.retransmits)
            .sum()
    }

    /// Retransmissions of all flows.
    pub fn total_retransmits(&self) -> u64 {
        self.flows.values().map(|f| f.retransmits).sum()
    }
}
