//! The simulated SNTP server (RFC 4330, stratum 1): a small state machine
//! on a UDP socket that answers each client request with the true time.

use minnow::service::{Net, Service};
use minnow::time::sntp::{NtpTimestamp, PACKET_LEN};
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;
use smoltcp::wire::IpEndpoint;

use crate::node::{NodeCtx, Program};
use crate::sockets::udp_socket;
use crate::true_time::TrueTime;

/// Mode 3: a client request.
const MODE_CLIENT: u8 = 3;
/// Mode 4: a server reply.
const MODE_SERVER: u8 = 4;

/// What the server did with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SntpServed {
    /// Answered a request.
    Answered(IpEndpoint),
    /// Dropped something that is not a client request.
    Ignored(IpEndpoint),
}

/// The reply to `request` at true time `unix_us`, or `None` when `request`
/// is not an SNTP client request.
pub fn reply_to(request: &[u8], unix_us: u64) -> Option<[u8; PACKET_LEN]> {
    let p = request.first_chunk::<PACKET_LEN>()?;
    let version = (p[0] >> 3) & 0b111;
    if p[0] & 0b111 != MODE_CLIENT || !(1..=4).contains(&version) {
        return None;
    }
    let now = NtpTimestamp::from_unix_micros(unix_us).to_bytes();
    let mut r = [0u8; PACKET_LEN];
    r[0] = (version << 3) | MODE_SERVER; // leap indicator 0: synchronised
    r[1] = 1; // stratum 1: a reference clock
    r[2] = p[2]; // poll interval, echoed
    r[3] = 0xec; // precision 2^-20 s
    r[12..16].copy_from_slice(b"SIM\0"); // reference id
    r[16..24].copy_from_slice(&now); // reference time
    r[24..32].copy_from_slice(&p[40..48]); // originate = the request's transmit
    r[32..40].copy_from_slice(&now); // receive
    r[40..48].copy_from_slice(&now); // transmit
    Some(r)
}

/// The SNTP server service.
pub struct SntpServer {
    handle: SocketHandle,
    truth: TrueTime,
    /// What happened, for the caller to drain.
    pub served: Vec<SntpServed>,
}

impl SntpServer {
    /// Binds a UDP socket to `port` (123) and adds it to the set.
    pub fn new(sockets: &mut SocketSet<'static>, port: u16, truth: TrueTime) -> Self {
        let mut socket = udp_socket(8, 1024);
        // A fresh socket binds to any non-zero port.
        let _ = socket.bind(port);
        Self {
            handle: sockets.add(socket),
            truth,
            served: Vec::new(),
        }
    }
}

impl Service for SntpServer {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        let mut buf = [0u8; 128];
        while let Ok((len, meta)) = socket.recv_slice(&mut buf) {
            let from = meta.endpoint;
            match reply_to(&buf[..len], self.truth.unix_micros(now)) {
                Some(r) if socket.send_slice(&r, from).is_ok() => {
                    self.served.push(SntpServed::Answered(from));
                }
                _ => self.served.push(SntpServed::Ignored(from)),
            }
        }
    }

    fn poll_at(&self, _now: Instant) -> Option<Instant> {
        None
    }
}

/// The SNTP server node's program.
pub struct SntpNode {
    server: SntpServer,
}

impl SntpNode {
    /// Serves the true time on `port`.
    pub fn new(net: &mut Net<'_, 'static>, port: u16, truth: TrueTime) -> Self {
        Self {
            server: SntpServer::new(net.sockets, port, truth),
        }
    }
}

impl Program for SntpNode {
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
        let next = ctx.step(&mut [&mut self.server]);
        // Only the timeline hears of what follows: the sockets stay as stepped.
        ctx.settled = true;
        for s in self.server.served.drain(..) {
            ctx.log(match s {
                SntpServed::Answered(peer) => format!("sntp: answered {peer}"),
                SntpServed::Ignored(peer) => format!("sntp: ignored a datagram from {peer}"),
            });
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minnow::time::sntp;

    #[test]
    fn core_accepts_the_reply_and_reads_the_time() {
        let sent = NtpTimestamp::from_unix_micros(123_456_789);
        let mut request = [0u8; PACKET_LEN];
        sntp::encode_request(sent, &mut request);
        let unix_us = 1_491_314_851_250_000;
        let r = reply_to(&request, unix_us).unwrap();
        let parsed = sntp::parse_reply(&r, sent).unwrap();
        let t = sntp::server_time_micros(&parsed, 0).unwrap();
        assert!(t.abs_diff(unix_us) < 2, "{t}");
        assert!(
            reply_to(&r, unix_us).is_none(),
            "a server reply is no request"
        );
        assert!(reply_to(&request[..47], unix_us).is_none());
    }
}
