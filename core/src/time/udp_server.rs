//! RFC 868 time over UDP: any datagram to port 37 gets four bytes back,
//! the seconds since 1900. With the clock unset nothing is sent (a wrong
//! time is worse than none) and [`TimeEvent::ClockNotSet`] is reported.

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp;
use smoltcp::time::Instant;

use super::{TimeEvent, TimeEvents, TimeFormat, rfc868};
use crate::clock::WallClock;
use crate::net::reflect;
use crate::net::source_rate::SourceRate;
use crate::service::{Net, Service};

/// The UDP side of RFC 868. RAM: 16 × 48 bytes of events plus the socket's
/// buffers (sized by the caller).
pub struct UdpTimeServer<'c> {
    handle: SocketHandle,
    clock: &'c WallClock,
    /// Events for the caller to drain.
    pub events: TimeEvents,
    backlog: bool,
    port: u16,
    unanswered: u64,
}

impl<'c> UdpTimeServer<'c> {
    /// Binds `socket` to `port`, adds it to the set.
    pub fn new<'b>(
        sockets: &mut SocketSet<'b>,
        mut socket: udp::Socket<'b>,
        port: u16,
        clock: &'c WallClock,
    ) -> Result<Self, udp::BindError> {
        socket.bind(port)?;
        Ok(Self {
            handle: sockets.add(socket),
            clock,
            events: TimeEvents::new(),
            backlog: false,
            port,
            unanswered: 0,
        })
    }

    /// Datagrams dropped unanswered so far (see [`reflect`], and
    /// [`Self::serve`]).
    pub fn unanswered(&self) -> u64 {
        self.unanswered
    }
}

impl UdpTimeServer<'_> {
    /// [`Service::poll`], answering each source no more than `limit` allows
    /// (the service set's one limiter for its UDP servers; `None`: no
    /// limit). Datagrams beyond it are dropped and counted in
    /// [`Self::unanswered`].
    pub fn serve(
        &mut self,
        net: &mut Net<'_, '_>,
        now: Instant,
        mut limit: Option<&mut SourceRate>,
    ) {
        let iface = &*net.iface;
        let socket = net.sockets.get_mut::<udp::Socket>(self.handle);
        self.backlog = false;
        while let Ok((_, meta)) = socket.peek() {
            let meta = *meta;
            if reflect::check(iface, meta.endpoint, meta.local_address, self.port).is_err()
                || limit
                    .as_deref_mut()
                    .is_some_and(|l| !l.allow(meta.endpoint.addr, now))
            {
                let _ = socket.recv();
                self.unanswered += 1;
                continue;
            }
            let Some(unix) = self.clock.unix_secs(now) else {
                let _ = socket.recv();
                self.events.push(TimeEvent::ClockNotSet {
                    peer: meta.endpoint,
                });
                continue;
            };
            let reply = udp::UdpMetadata {
                endpoint: meta.endpoint,
                local_address: meta.local_address,
                meta: Default::default(),
            };
            match socket.send_slice(&rfc868::encode(unix), reply) {
                Err(udp::SendError::BufferFull) => {
                    // Tried again on the next poll, and counted then.
                    if let Some(l) = limit.as_deref_mut() {
                        l.refund(meta.endpoint.addr);
                    }
                    self.backlog = true;
                    break;
                }
                sent => {
                    let _ = socket.recv();
                    if sent.is_ok() {
                        self.events.push(TimeEvent::Served {
                            peer: meta.endpoint,
                            unix_secs: unix,
                            format: TimeFormat::Rfc868,
                        });
                    }
                }
            }
        }
    }
}

impl Service for UdpTimeServer<'_> {
    fn poll(&mut self, net: &mut Net<'_, '_>, now: Instant) {
        self.serve(net, now, None);
    }

    fn poll_at(&self, now: Instant) -> Option<Instant> {
        crate::net::runner::backlog_retry(self.backlog, now)
    }
}
