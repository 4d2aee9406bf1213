//! What a scenario run came to: every task's outcome with the wire's
//! counters, the timeline, and the trace hash; printed as a table.

use std::collections::HashMap;
use std::fmt::Write as _;

use smoltcp::time::Duration;

use super::config::ScenarioConfig;
use crate::sim::{RunEnd, Sim};
use crate::tasks::{Outcome, Verdict};
use crate::timeline::Timeline;
use crate::wire::WireStats;

/// One task of one client, with its connections' retransmissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The client's name.
    pub node: String,
    /// How the task ended.
    pub outcome: Outcome,
    /// TCP segments retransmitted on the task's connections, both ways.
    pub retransmits: u64,
}

/// The result of one run. Everything in it is a function of the config.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What ran.
    pub config: ScenarioConfig,
    /// Nodes on the wire.
    pub nodes: usize,
    /// Why the run stopped.
    pub end: RunEnd,
    /// Virtual time at the end.
    pub sim_time: Duration,
    /// Every client task, in node order.
    pub rows: Vec<TaskRow>,
    /// Chat members that saw two messages in different orders (must be empty).
    pub order_errors: Vec<String>,
    /// What the nodes reported.
    pub timeline: Timeline,
    /// The wire's counters.
    pub wire: WireStats,
    /// TCP retransmissions of every connection.
    pub tcp_retransmits: u64,
    /// SHA-256 of every delivery, hex.
    pub trace_hash: String,
    /// Deliveries hashed.
    pub deliveries: u64,
    /// Simulator steps.
    pub steps: u64,
    /// Node polls.
    pub polls: u64,
    /// Why the pcap capture failed, if it did.
    pub pcap_error: Option<String>,
}

impl Report {
    /// Gathers the report from a finished simulation.
    pub fn collect(
        config: &ScenarioConfig,
        sim: &Sim<'_>,
        end: RunEnd,
        pcap_error: Option<String>,
    ) -> Self {
        let now = sim.now();
        let rows: Vec<TaskRow> = sim
            .nodes()
            .iter()
            .flat_map(|node| {
                node.program()
                    .outcomes(now)
                    .into_iter()
                    .map(|outcome| TaskRow {
                        node: node.spec.name.clone(),
                        retransmits: sim.tcp().retransmits_of(&outcome.ends),
                        outcome,
                    })
            })
            .collect();
        Self {
            config: config.clone(),
            nodes: sim.nodes().len(),
            end,
            sim_time: now - smoltcp::time::Instant::ZERO,
            order_errors: order_errors(&rows),
            rows,
            timeline: sim.timeline().clone(),
            wire: sim.wire().stats(),
            tcp_retransmits: sim.tcp().total_retransmits(),
            trace_hash: sim.trace().hex(),
            deliveries: sim.trace().frames(),
            steps: sim.steps(),
            polls: sim.nodes().iter().map(|n| n.polls()).sum(),
            pcap_error,
        }
    }

    /// Tasks that took wrong data for right (must never happen).
    pub fn corrupt(&self) -> impl Iterator<Item = &TaskRow> {
        self.rows
            .iter()
            .filter(|r| matches!(r.outcome.verdict, Verdict::Corrupt(_)))
    }

    /// Tasks that failed with a reported error.
    pub fn failed(&self) -> impl Iterator<Item = &TaskRow> {
        self.rows
            .iter()
            .filter(|r| matches!(r.outcome.verdict, Verdict::Failed(_)))
    }

    /// Whether every task succeeded (and the chat order held).
    pub fn all_ok(&self) -> bool {
        self.order_errors.is_empty() && self.rows.iter().all(|r| r.outcome.verdict == Verdict::Ok)
    }

    /// Whether anything wrong was taken for right: a corrupt task or a
    /// broken chat order.
    pub fn any_corrupt(&self) -> bool {
        !self.order_errors.is_empty() || self.corrupt().next().is_some()
    }

    /// The timeline, one line per entry.
    pub fn timeline_text(&self) -> String {
        let mut s = String::new();
        for e in self.timeline.entries() {
            let _ = writeln!(s, "{e}");
        }
        s
    }

    /// The summary table and totals; `wall` is how long the run took.
    pub fn summary_text(&self, wall: Option<std::time::Duration>) -> String {
        let header = [
            "node", "task", "result", "bytes", "tcp rtx", "retries", "took", "got",
        ];
        let mut cells: Vec<[String; 8]> = vec![header.map(String::from)];
        for r in &self.rows {
            let o = &r.outcome;
            let took = (o.finished - o.started).total_micros() as f64 / 1e6;
            let got = match &o.verdict {
                Verdict::Ok => o.got.clone(),
                Verdict::Failed(why) | Verdict::Corrupt(why) => why.clone(),
            };
            cells.push([
                r.node.clone(),
                o.task.clone(),
                o.verdict.label().to_string(),
                o.bytes.to_string(),
                r.retransmits.to_string(),
                o.retries.to_string(),
                format!("{took:.3} s"),
                got,
            ]);
        }
        let mut width = [0usize; 8];
        for row in &cells {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut s = String::new();
        for row in &cells {
            let line: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| match i {
                    3..=6 => format!("{c:>w$}", w = width[i]),
                    7 => c.clone(),
                    _ => format!("{c:<w$}", w = width[i]),
                })
                .collect();
            let _ = writeln!(s, "  {}", line.join("  "));
        }
        let w = &self.wire;
        let _ = writeln!(
            s,
            "\nwire:   {} frames sent ({:.2} MB), {} delivered; lost {}, duplicated {}, reordered {}, corrupted {}, unroutable {}",
            w.sent,
            w.sent_bytes as f64 / 1e6,
            w.delivered,
            w.lost,
            w.duplicated,
            w.reordered,
            w.corrupted,
            w.unroutable
        );
        let _ = writeln!(
            s,
            "tcp:    {} segments retransmitted; simulator: {} steps, {} node polls",
            self.tcp_retransmits, self.steps, self.polls
        );
        let sim_secs = self.sim_time.total_micros() as f64 / 1e6;
        let _ = match wall {
            Some(wall) => {
                let wall = wall.as_secs_f64().max(1e-9);
                writeln!(
                    s,
                    "time:   {sim_secs:.3} s simulated in {wall:.3} s wall: {:.0}x real time, {:.0} frames/s",
                    sim_secs / wall,
                    w.delivered as f64 / wall
                )
            }
            None => writeln!(s, "time:   {sim_secs:.3} s simulated"),
        };
        let ok = self
            .rows
            .iter()
            .filter(|r| r.outcome.verdict == Verdict::Ok)
            .count();
        let _ = writeln!(
            s,
            "result: {ok} of {} tasks ok, {} failed with a reported error, {} corrupt, chat order {}; {}",
            self.rows.len(),
            self.failed().count(),
            self.corrupt().count(),
            if self.order_errors.is_empty() {
                "held"
            } else {
                "BROKEN"
            },
            match self.end {
                RunEnd::Done => "every client finished",
                RunEnd::Idle => "stopped: nothing left to happen",
                RunEnd::TimeLimit => "stopped at the time limit",
                RunEnd::StepLimit => "stopped at the step limit",
            }
        );
        let _ = writeln!(
            s,
            "trace:  {} ({} deliveries)",
            self.trace_hash, self.deliveries
        );
        if let Some(e) = &self.pcap_error {
            let _ = writeln!(s, "pcap:   write failed: {e}");
        }
        s
    }
}

/// Checks that every two chat members saw the messages they both got in the
/// same order (the room broadcasts each line to everyone at once, so there
/// is one order). Returns one text per pair that disagrees.
pub fn order_errors(rows: &[TaskRow]) -> Vec<String> {
    let chats: Vec<&TaskRow> = rows
        .iter()
        .filter(|r| !r.outcome.sequence.is_empty())
        .collect();
    // Every message gets a dense number, so that where a member got it is
    // an array look-up: the check compares every pair of members.
    let mut ids: HashMap<(u32, u32), usize> = HashMap::new();
    let numbered: Vec<Vec<usize>> = chats
        .iter()
        .map(|r| {
            r.outcome
                .sequence
                .iter()
                .map(|m| {
                    let next = ids.len();
                    *ids.entry(*m).or_insert(next)
                })
                .collect()
        })
        .collect();
    // Per member, where it got each message (`usize::MAX`: never); a
    // message got twice counts where it came last.
    let positions: Vec<Vec<usize>> = numbered
        .iter()
        .map(|seq| {
            let mut at = vec![usize::MAX; ids.len()];
            for (i, &id) in seq.iter().enumerate() {
                at[id] = i;
            }
            at
        })
        .collect();
    let mut errors = Vec::new();
    for (a, row) in chats.iter().enumerate() {
        for (b, other) in positions.iter().enumerate().skip(a + 1) {
            let mut last: Option<(usize, (u32, u32))> = None;
            for (m, &id) in row.outcome.sequence.iter().zip(&numbered[a]) {
                let at = other[id];
                if at == usize::MAX {
                    continue;
                }
                if let Some((before, prev)) = last
                    && at < before
                {
                    errors.push(format!(
                        "{} got line #{} of member {} after #{} of member {}; {} got them the other way",
                        row.node, m.1, m.0, prev.1, prev.0, chats[b].node
                    ));
                    break;
                }
                last = Some((at, *m));
            }
        }
    }
    errors
}
