//! Client tasks: one exchange with a board service each, checked end to
//! end. A client node runs its tasks one after another
//! ([`crate::programs::client`]).
//!
//! To add a service's scenario, add a task here (a file per task) and a
//! variant to [`crate::scenario::plan::TaskSpec`].

pub mod chat;
pub mod download;
pub mod echo_datagrams;
pub mod echo_stream;
pub mod mail;
pub mod time_query;

use minnow::service::Service;
use smoltcp::time::Instant;
use smoltcp::wire::IpEndpoint;

use crate::node::NodeCtx;

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything arrived and checked out.
    Ok,
    /// The task failed and said why (a timeout, a reset, a refusal): allowed
    /// under faults.
    Failed(String),
    /// Wrong data was taken for right: a bug, never allowed.
    Corrupt(String),
}

impl Verdict {
    /// `ok`, `FAILED` or `CORRUPT`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Failed(_) => "FAILED",
            Verdict::Corrupt(_) => "CORRUPT",
        }
    }
}

/// What a task came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What the task did, e.g. `echo tcp 1 MiB`.
    pub task: String,
    /// How it ended.
    pub verdict: Verdict,
    /// What it got, in words.
    pub got: String,
    /// Payload bytes received.
    pub bytes: u64,
    /// Attempts or datagrams sent again by the task itself (TCP's own
    /// retransmissions are counted on the wire).
    pub retries: u32,
    /// When it started.
    pub started: Instant,
    /// When it ended.
    pub finished: Instant,
    /// The local endpoints it used, to find its connections on the wire.
    pub ends: Vec<IpEndpoint>,
    /// Messages received, in order, as (sender, number): the chat room's
    /// order, compared between members after the run.
    pub sequence: Vec<(u32, u32)>,
}

impl Outcome {
    /// An outcome of `task` started at `started`, ended `now`, with nothing yet.
    pub fn new(task: String, verdict: Verdict, started: Instant, now: Instant) -> Self {
        Self {
            task,
            verdict,
            got: String::new(),
            bytes: 0,
            retries: 0,
            started,
            finished: now,
            ends: Vec::new(),
            sequence: Vec::new(),
        }
    }
}

/// The timeline line for a finished task.
pub fn describe(o: &Outcome) -> String {
    let took = (o.finished - o.started).total_millis();
    match &o.verdict {
        Verdict::Ok => format!("{}: {} ({took} ms)", o.task, o.got),
        Verdict::Failed(why) => format!("{}: FAILED: {why} ({took} ms)", o.task),
        Verdict::Corrupt(why) => format!("{}: CORRUPT: {why}", o.task),
    }
}

/// One client exchange, driven by the client program in three phases per
/// poll: [`Task::service`] is stepped with the interface, then
/// [`Task::drive`] moves and checks bytes.
pub trait Task {
    /// What it does, e.g. `echo tcp 1 MiB`.
    fn name(&self) -> String;
    /// Opens sockets and starts connecting.
    fn start(&mut self, ctx: &mut NodeCtx<'_>);
    /// The core client to poll with the interface, if one is open.
    fn service(&mut self) -> Option<&mut dyn Service>;
    /// Moves and checks bytes after the step; the outcome once it is over.
    fn drive(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Outcome>;
    /// When the task needs a poll even without traffic (a time already
    /// past, such as `Instant::ZERO`: right after this one). Tasks ask their
    /// core client with `poll_at(Instant::ZERO)`: core's `StreamClient`
    /// answers "now" after a read, so a FIN queued behind the bytes read is
    /// seen on the next poll.
    fn poll_at(&self) -> Option<Instant>;
}
