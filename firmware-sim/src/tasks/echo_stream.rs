//! TCP echo of a large stream: send `total` bytes, read them back, check
//! every byte against the stream and compare SHA-256 on both sides. The
//! same task against discard sends the stream and expects nothing back and
//! a clean close once everything was read.

use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::ClientState;
use minnow::service::Service;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{Outcome, Task, Verdict};
use crate::node::NodeCtx;
use crate::payload::{self, StreamCheck, human};
use crate::trace::hex;

/// Socket buffers of the client, each way.
const BUFFER: usize = 32 * 1024;
/// Bytes generated per write.
const CHUNK: usize = 4096;

/// The TCP echo task.
pub struct EchoStream {
    remote: IpEndpoint,
    total: u64,
    seed: u64,
    timeout: Duration,
    conn: Option<(StreamClient, SocketHandle)>,
    local: Option<IpEndpoint>,
    chunk: Vec<u8>,
    chunk_done: usize,
    sent: u64,
    check: StreamCheck,
    buf: Vec<u8>,
    started: Instant,
    /// Against RFC 863 discard: nothing comes back.
    discard: bool,
}

impl EchoStream {
    /// Echoes `total` bytes of stream `seed` through the server at `remote`;
    /// fails when nothing moves for `timeout`.
    pub fn new(remote: IpEndpoint, total: u64, seed: u64, timeout: Duration) -> Self {
        Self {
            remote,
            total,
            seed,
            timeout,
            conn: None,
            local: None,
            chunk: Vec::new(),
            chunk_done: 0,
            sent: 0,
            check: StreamCheck::new(seed),
            buf: vec![0; CHUNK],
            started: Instant::ZERO,
            discard: false,
        }
    }

    /// Sends `total` bytes of stream `seed` to the discard server at
    /// `remote`: passes when the server closes after taking them all and
    /// sent nothing back.
    pub fn discard(remote: IpEndpoint, total: u64, seed: u64, timeout: Duration) -> Self {
        Self {
            discard: true,
            ..Self::new(remote, total, seed, timeout)
        }
    }

    fn outcome(&self, verdict: Verdict, got: String, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = got;
        o.bytes = self.check.received();
        o.ends.extend(self.local);
        o
    }

    fn write(&mut self, ctx: &mut NodeCtx<'_>) {
        let Some((client, _)) = self.conn.as_mut() else {
            return;
        };
        if client.state() != ClientState::Connected {
            return;
        }
        while self.sent < self.total {
            if self.chunk_done == self.chunk.len() {
                let n = (self.total - self.sent).min(CHUNK as u64) as usize;
                self.chunk.resize(n, 0);
                payload::fill(self.seed, self.sent, &mut self.chunk);
                self.chunk_done = 0;
            }
            let n = client.write(&mut ctx.net(), &self.chunk[self.chunk_done..]);
            if n == 0 {
                return;
            }
            self.chunk_done += n;
            self.sent += n as u64;
        }
        client.finish();
    }
}

impl Task for EchoStream {
    fn name(&self) -> String {
        let what = if self.discard { "discard" } else { "echo" };
        format!("{what} tcp {}", human(self.total))
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        let (client, handle, local) = ctx.connect_stream(
            self.remote,
            (BUFFER, BUFFER),
            self.timeout,
            Some(self.timeout),
        );
        self.local = local;
        self.conn = Some((client, handle));
    }

    fn service(&mut self) -> Option<&mut dyn Service> {
        self.conn.as_mut().map(|(c, _)| c as &mut dyn Service)
    }

    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome> {
        self.write(ctx);
        let (client, handle) = self.conn.as_mut()?;
        let handle = *handle;
        loop {
            let n = client.read(&mut ctx.net(), &mut self.buf);
            if n == 0 {
                break;
            }
            self.check.feed(&self.buf[..n]);
        }
        let got = self.check.received();
        let now = ctx.now;
        if let Some(at) = self.check.mismatch() {
            ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
            let why = format!("byte {at} differs from what was sent");
            return Some(self.outcome(Verdict::Corrupt(why.clone()), why, now));
        }
        if got > self.sent {
            ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
            let why = format!("{got} bytes back but only {} sent", self.sent);
            return Some(self.outcome(Verdict::Corrupt(why.clone()), why, now));
        }
        if self.discard && got > 0 {
            ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
            let why = format!("discard sent {got} bytes back");
            return Some(self.outcome(Verdict::Corrupt(why.clone()), why, now));
        }
        match client.state() {
            // Discard closes only after reading every byte up to our FIN.
            ClientState::PeerClosed if self.discard && self.sent == self.total => {
                let text = format!("{} discarded, nothing back", human(self.sent));
                Some(self.outcome(Verdict::Ok, text, now))
            }
            ClientState::PeerClosed if got == self.total => {
                // Every byte was compared with the stream as it came (a
                // mismatch returned above), so what came is the stream and
                // its hash the stream's: no second pass over it.
                let sha = self.check.sha256();
                let text = format!(
                    "{} back, sha256 {}… identical",
                    human(got),
                    &hex(&sha)[..12]
                );
                Some(self.outcome(Verdict::Ok, text, now))
            }
            ClientState::PeerClosed => {
                let why = format!(
                    "the server closed cleanly after {got} of {} bytes",
                    self.total
                );
                Some(self.outcome(Verdict::Corrupt(why.clone()), why, now))
            }
            ClientState::Failed(e) => {
                let why = format!("{e} after {} of {}", human(got), human(self.total));
                Some(self.outcome(Verdict::Failed(why.clone()), why, now))
            }
            _ => None,
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        self.conn
            .as_ref()
            .and_then(|(c, _)| c.poll_at(Instant::ZERO))
    }
}
