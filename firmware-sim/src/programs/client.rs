//! A client node: runs its [`Task`]s one after another, with a pause
//! between them, and keeps their outcomes.

use std::collections::VecDeque;

use minnow::net::runner::earliest;
use minnow::service::Service;
use smoltcp::time::{Duration, Instant};

use crate::node::{NodeCtx, Program};
use crate::tasks::{Outcome, Task, Verdict, describe};

/// A client running tasks in order.
pub struct Client<'a> {
    queue: VecDeque<Box<dyn Task + 'a>>,
    current: Option<Box<dyn Task + 'a>>,
    started: Instant,
    next_start: Instant,
    pause: Duration,
    outcomes: Vec<Outcome>,
}

impl<'a> Client<'a> {
    /// Runs `tasks` from virtual time `start`, `pause` apart.
    pub fn new(tasks: Vec<Box<dyn Task + 'a>>, start: Instant, pause: Duration) -> Self {
        Self {
            queue: tasks.into(),
            current: None,
            started: start,
            next_start: start,
            pause,
            outcomes: Vec::new(),
        }
    }
}

impl Program for Client<'_> {
    fn poll(&mut self, ctx: &mut NodeCtx<'_>) -> Option<Instant> {
        if self.current.is_none()
            && ctx.now >= self.next_start
            && let Some(mut task) = self.queue.pop_front()
        {
            ctx.log(format!("{}: start", task.name()));
            task.start(ctx);
            self.started = ctx.now;
            self.current = Some(task);
        }
        let mut next = match self.current.as_mut() {
            Some(task) => {
                let mut services: Vec<&mut dyn Service> = task.service().into_iter().collect();
                ctx.step(&mut services)
            }
            None => ctx.step(&mut []),
        };
        if let Some(task) = self.current.as_mut()
            && let Some(outcome) = task.drive(ctx)
        {
            ctx.log(describe(&outcome));
            self.outcomes.push(outcome);
            self.current = None;
            self.next_start = ctx.now + self.pause;
        }
        next = match &self.current {
            Some(task) => earliest(next, task.poll_at()),
            None if !self.queue.is_empty() => earliest(next, Some(self.next_start)),
            None => next,
        };
        next
    }

    fn busy(&self) -> bool {
        self.current.is_some() || !self.queue.is_empty()
    }

    fn outcomes(&self, now: Instant) -> Vec<Outcome> {
        let mut all = self.outcomes.clone();
        let stopped = |task: String, started| {
            let why = "not finished when the simulation stopped".to_string();
            let mut o = Outcome::new(task, Verdict::Failed(why.clone()), started, now);
            o.got = why;
            o
        };
        if let Some(task) = &self.current {
            all.push(stopped(task.name(), self.started));
        }
        for task in &self.queue {
            all.push(stopped(task.name(), now));
        }
        all
    }
}
