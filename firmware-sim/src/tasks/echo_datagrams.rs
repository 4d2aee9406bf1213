//! UDP echo: datagrams of varied sizes, one at a time, each sent again after
//! a timeout until its echo arrives. Every echo is checked byte for byte;
//! late copies of earlier ones are counted, never taken for the current one.

use minnow::echo::client::DatagramClient;
use minnow::service::Service;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{Outcome, Task, Verdict};
use crate::node::NodeCtx;
use crate::payload;
use crate::rng::mix;
use crate::sockets::udp_socket;

/// How long to wait for an echo before sending again.
const RETRY: Duration = Duration::from_millis(500);
/// Sends of one datagram before giving up.
const TRIES: u32 = 8;
/// Sequence number and length before the payload.
const HEADER: usize = 8;

/// The UDP echo task.
pub struct EchoDatagrams {
    remote: IpEndpoint,
    count: u32,
    max_len: usize,
    seed: u64,
    client: Option<DatagramClient>,
    local: Option<IpEndpoint>,
    /// The datagram waited for.
    next: u32,
    /// Sends of it so far.
    tries: u32,
    deadline: Option<Instant>,
    retries: u32,
    late: u32,
    bytes: u64,
    buf: Vec<u8>,
    started: Instant,
}

impl EchoDatagrams {
    /// `count` datagrams of 8 to `max_len` bytes to the server at `remote`.
    pub fn new(remote: IpEndpoint, count: u32, max_len: usize, seed: u64) -> Self {
        Self {
            remote,
            count,
            max_len: max_len.max(HEADER),
            seed,
            client: None,
            local: None,
            next: 0,
            tries: 0,
            deadline: None,
            retries: 0,
            late: 0,
            bytes: 0,
            buf: vec![0; 2048],
            started: Instant::ZERO,
        }
    }

    /// Datagram `seq`: its number and length, then stream bytes.
    fn datagram(&self, seq: u32) -> Vec<u8> {
        let span = (self.max_len - HEADER) as u64 + 1;
        let len = HEADER + (mix(self.seed ^ u64::from(seq)) % span) as usize;
        let mut d = vec![0; len];
        d[..4].copy_from_slice(&seq.to_be_bytes());
        d[4..8].copy_from_slice(&(len as u32).to_be_bytes());
        payload::fill(self.seed ^ (u64::from(seq) << 32), 0, &mut d[HEADER..]);
        d
    }

    fn outcome(&self, verdict: Verdict, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = format!("{}/{} echoed intact", self.next, self.count);
        if self.retries > 0 {
            o.got += &format!(", {} sent again", self.retries);
        }
        if self.late > 0 {
            o.got += &format!(", {} late copies", self.late);
        }
        o.bytes = self.bytes;
        o.retries = self.retries;
        o.ends.extend(self.local);
        o
    }

    /// Checks one echo: `Err` when it is no datagram this task ever sent.
    fn take(&mut self, len: usize) -> Result<(), String> {
        let got = &self.buf[..len];
        let Some(seq) = got
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return Err(format!("a {len}-byte echo, shorter than a header"));
        };
        if seq >= self.count || self.datagram(seq) != got {
            return Err(format!(
                "an echo of {len} bytes that was never sent (seq {seq})"
            ));
        }
        if seq == self.next {
            self.next += 1;
            self.bytes += len as u64;
            self.tries = 0;
            self.deadline = None;
        } else {
            self.late += 1;
        }
        Ok(())
    }
}

impl Task for EchoDatagrams {
    fn name(&self) -> String {
        format!("echo udp {} datagrams", self.count)
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        let port = ctx.stack.ports.next_port();
        self.local = ctx
            .local_addr_for(self.remote.addr)
            .map(|a| IpEndpoint::new(a, port));
        // Binding a fresh ephemeral port cannot fail.
        self.client =
            DatagramClient::new(&mut ctx.net(), udp_socket(8, 8192), self.remote, port).ok();
    }

    fn service(&mut self) -> Option<&mut dyn Service> {
        None
    }

    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome> {
        let now = ctx.now;
        let Some(mut client) = self.client.take() else {
            return Some(self.outcome(Verdict::Failed("cannot bind a UDP port".into()), now));
        };
        let mut result = None;
        while let Some(len) = client.recv(&mut ctx.net(), &mut self.buf) {
            if let Err(why) = self.take(len) {
                result = Some(self.outcome(Verdict::Corrupt(why), now));
                break;
            }
        }
        if result.is_none() && self.next == self.count {
            result = Some(self.outcome(Verdict::Ok, now));
        }
        if result.is_none() && self.deadline.is_none_or(|d| now >= d) {
            if self.tries == TRIES {
                let why = format!("datagram {} got no echo after {TRIES} sends", self.next);
                result = Some(self.outcome(Verdict::Failed(why), now));
            } else if client.send(&mut ctx.net(), &self.datagram(self.next)) {
                if self.tries > 0 {
                    self.retries += 1;
                }
                self.tries += 1;
                self.deadline = Some(now + RETRY);
            } else {
                // The transmit buffer is full (address resolution pending).
                self.deadline = Some(now + Duration::from_millis(10));
            }
        }
        self.client = Some(client);
        result
    }

    fn poll_at(&self) -> Option<Instant> {
        self.deadline
    }
}
