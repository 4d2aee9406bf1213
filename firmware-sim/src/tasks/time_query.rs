//! A time query: the notes' time client against the board's ctime server,
//! checked against the true time. While the board's clock is not set yet
//! (the server closes without a time) the query is repeated.

use minnow::net::tcp_client::ClientError;
use minnow::service::Service;
use minnow::time::client::{TimeClient, TimeClientError};
use minnow::time::{TimeFormat, ctime};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use super::{Outcome, Task, Verdict};
use crate::node::NodeCtx;
use crate::sockets::tcp_socket;
use crate::true_time::TrueTime;

/// Pause before asking again.
const RETRY: Duration = Duration::from_secs(1);

/// The time query task.
pub struct TimeQuery {
    remote: IpEndpoint,
    truth: TrueTime,
    attempts: u32,
    timeout: Duration,
    client: Option<TimeClient>,
    tries: u32,
    attempt_started: Instant,
    again_at: Option<Instant>,
    ends: Vec<IpEndpoint>,
    started: Instant,
}

impl TimeQuery {
    /// Asks the ctime server at `remote` up to `attempts` times; each
    /// exchange must finish within `timeout`.
    pub fn new(remote: IpEndpoint, truth: TrueTime, attempts: u32, timeout: Duration) -> Self {
        Self {
            remote,
            truth,
            attempts: attempts.max(1),
            timeout,
            client: None,
            tries: 0,
            attempt_started: Instant::ZERO,
            again_at: None,
            ends: Vec::new(),
            started: Instant::ZERO,
        }
    }

    fn attempt(&mut self, ctx: &mut NodeCtx<'_>) {
        self.tries += 1;
        self.attempt_started = ctx.now;
        self.again_at = None;
        let handle = ctx.stack.sockets.add(tcp_socket(256, 256));
        let port = ctx.stack.ports.next_port();
        if let Some(addr) = ctx.local_addr_for(self.remote.addr) {
            self.ends.push(IpEndpoint::new(addr, port));
        }
        let now = ctx.now;
        self.client = Some(TimeClient::connect(
            &mut ctx.net(),
            handle,
            self.remote,
            port,
            TimeFormat::Ctime,
            now,
            self.timeout,
        ));
    }

    fn outcome(&self, verdict: Verdict, got: String, bytes: u64, now: Instant) -> Outcome {
        let mut o = Outcome::new(self.name(), verdict, self.started, now);
        o.got = got;
        o.bytes = bytes;
        o.retries = self.tries - 1;
        o.ends = self.ends.clone();
        o
    }
}

impl Task for TimeQuery {
    fn name(&self) -> String {
        format!("time (ctime, port {})", self.remote.port)
    }

    fn start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.started = ctx.now;
        self.attempt(ctx);
    }

    fn service(&mut self) -> Option<&mut dyn Service> {
        self.client.as_mut().map(|c| c as &mut dyn Service)
    }

    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome> {
        let now = ctx.now;
        if self.again_at.is_some_and(|t| now >= t) {
            self.attempt(ctx);
            return None;
        }
        let result = self.client.as_ref()?.outcome()?;
        self.client = None;
        match result {
            Ok(reply) => {
                // The server read its clock during this attempt; its clock
                // came from SNTP, so it may be off by a round trip.
                let lo = self.truth.unix_secs(self.attempt_started).saturating_sub(1);
                let hi = self.truth.unix_secs(now) + 1;
                let line = String::from_utf8_lossy(reply.bytes())
                    .trim_end()
                    .to_string();
                let mut truth = [0u8; ctime::CTIME_LEN];
                let _ = ctime::format(self.truth.unix_secs(now), &mut truth);
                let off = reply.unix_secs as i64 - self.truth.unix_secs(now) as i64;
                let got = format!("'{line}' (true time {off:+} s)");
                let verdict = if (lo..=hi).contains(&reply.unix_secs) {
                    Verdict::Ok
                } else {
                    Verdict::Corrupt(format!(
                        "the time is wrong: true time '{}'",
                        String::from_utf8_lossy(&truth)
                    ))
                };
                Some(self.outcome(verdict, got, reply.len as u64, now))
            }
            Err(
                e @ (TimeClientError::Empty
                | TimeClientError::Connection(ClientError::Refused | ClientError::Reset)),
            ) if self.tries < self.attempts => {
                ctx.log(format!("time: {e}; asking again in {} s", RETRY.secs()));
                self.again_at = Some(now + RETRY);
                None
            }
            Err(e @ TimeClientError::Connection(_)) | Err(e @ TimeClientError::Empty) => {
                let why = format!("{e} (attempt {} of {})", self.tries, self.attempts);
                Some(self.outcome(Verdict::Failed(why.clone()), why, 0, now))
            }
            Err(e) => {
                // A reply that is not a time passed TCP's checks: corruption.
                let why = e.to_string();
                Some(self.outcome(Verdict::Corrupt(why.clone()), why, 0, now))
            }
        }
    }

    fn poll_at(&self) -> Option<Instant> {
        match &self.client {
            Some(c) => c.poll_at(Instant::ZERO),
            None => self.again_at,
        }
    }
}
