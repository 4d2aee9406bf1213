//! A file download, as the notes' client does it: send one request, read
//! until the server closes. The bytes are checked against the file the
//! board serves; an `ERR` line is a refusal, expected or not.

use minnow::file::reply;
use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::ClientState;
use minnow::service::Service;
use sha2::{Digest, Sha256};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{Outcome, Task, Verdict};
use crate::node::NodeCtx;
use crate::payload::human;
use crate::trace::hex;

/// Receive buffer of the client (its TCP window).
const WINDOW: usize = 32 * 1024;

/// What the server should send.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// These bytes, then a clean close.
    File(&'a [u8]),
    /// An `ERR <reason>` line with this reason.
    Refused(&'static str),
}

/// The download task.
pub struct Download<'a> {
    remote: IpEndpoint,
    request: Vec<u8>,
    label: String,
    expect: Expect<'a>,
    timeout: Duration,
    conn: Option<(StreamClient, SocketHandle)>,
    local: Option<IpEndpoint>,
    asked: usize,
    received: u64,
    head: Vec<u8>,
    mismatch: Option<u64>,
    sha: Sha256,
    buf: Vec<u8>,
    started: Instant,
}

impl<'a> Download<'a> {
    /// Sends `request` to the file server at `remote` and expects `expect`;
    /// `label` names the file in the summary. Fails when nothing moves for
    /// `timeout`.
    pub fn new(
        remote: IpEndpoint,
        request: &[u8],
        label: &str,
        expect: Expect<'a>,
        timeout: Duration,
    ) -> Self {
        Self {
            remote,
            request: request.to_vec(),
            label: label.to_string(),
            expect,
            timeout,
            conn: None,
            local: None,
            asked: 0,
            received: 0,
            head: Vec::new(),
            mismatch: None,
            sha: Sha256::new(),
            buf: vec![0; 4096],
            started: Instant::ZERO,
        }
    }

    fn take(&mut self, n: usize) {
        let got = &self.buf[..n];
        if self.head.len() <= reply::MAX_ERR_LINE {
            let room = reply::MAX_ERR_LINE + 1 - self.head.len();
            self.head.extend_from_slice(&got[..n.min(room)]);
        }
        if self.mismatch.is_none() {
            let want = match self.expect {
                Expect::File(data) => data.get(self.received as usize..).unwrap_or(&[]),
                Expect::Refused(_) => &[],
            };
            let same = got.iter().zip(want).position(|(a, b)| a != b);
            self.mismatch = match same {
                Some(i) => Some(self.received + i as u64),
                None if got.len() > want.len() => Some(self.received + want.len() as u64),
                None => None,
            };
        }
        self.sha.update(got);
        self.received += n as u64;
    }

    fn outcome(&self, verdict: Verdict, got: String, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = got;
        o.bytes = self.received;
        o.ends.extend(self.local);
        o
    }

    /// The verdict on a reply that ended with the server's clean close.
    fn judge(&self) -> (Verdict, String) {
        let refusal = (self.received == self.head.len() as u64)
            .then(|| reply::as_error(&self.head))
            .flatten();
        match (self.expect, refusal) {
            (Expect::Refused(want), Some(reason)) if reason == want => {
                (Verdict::Ok, format!("refused as expected: ERR {reason}"))
            }
            (_, Some(reason)) => {
                let why = format!("the server refused: ERR {reason}");
                (Verdict::Failed(why.clone()), why)
            }
            (Expect::Refused(want), None) => {
                let why = format!("{} instead of ERR {want}", human(self.received));
                (Verdict::Corrupt(why.clone()), why)
            }
            (Expect::File(data), None) => {
                if self.mismatch.is_none() && self.received == data.len() as u64 {
                    let sha = hex(&self.sha.clone().finalize());
                    let text =
                        format!("{}, sha256 {}… identical", human(self.received), &sha[..12]);
                    (Verdict::Ok, text)
                } else {
                    let why = match self.mismatch {
                        Some(at) => format!("byte {at} differs from the file"),
                        None => format!(
                            "{} of {} bytes, then a clean close",
                            self.received,
                            data.len()
                        ),
                    };
                    (Verdict::Corrupt(why.clone()), why)
                }
            }
        }
    }
}

impl Task for Download<'_> {
    fn name(&self) -> String {
        format!("file {}", self.label)
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        let (client, handle, local) = ctx.connect_stream(
            self.remote,
            (WINDOW, 1024),
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
        let (mut client, handle) = self.conn.take()?;
        if client.state() == ClientState::Connected && self.asked < self.request.len() {
            self.asked += client.write(&mut ctx.net(), &self.request[self.asked..]);
        }
        loop {
            let n = client.read(&mut ctx.net(), &mut self.buf);
            if n == 0 {
                break;
            }
            self.take(n);
        }
        let now = ctx.now;
        // Past the longest ERR line, a wrong byte can only be corruption.
        if let Some(at) = self
            .mismatch
            .filter(|_| self.received > reply::MAX_ERR_LINE as u64)
            && matches!(self.expect, Expect::File(_))
        {
            ctx.stack.sockets.get_mut::<tcp::Socket>(handle).abort();
            let why = format!("byte {at} differs from the file");
            return Some(self.outcome(Verdict::Corrupt(why.clone()), why, now));
        }
        let state = client.state();
        self.conn = Some((client, handle));
        match state {
            ClientState::PeerClosed => {
                ctx.stack.sockets.get_mut::<tcp::Socket>(handle).close();
                let (verdict, text) = self.judge();
                Some(self.outcome(verdict, text, now))
            }
            ClientState::Failed(e) => {
                let why = format!("{e} after {}", human(self.received));
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
