//! The benchmark: simulated seconds per wall second and frames per second
//! for the default scenario and a 50-node one, printed as a table.

use std::time::Instant as WallInstant;

use crate::scenario::{self, Report, ScenarioConfig};

/// One benchmarked scenario.
#[derive(Debug, Clone)]
pub struct BenchRow {
    /// What ran.
    pub name: String,
    /// Nodes on the wire.
    pub nodes: usize,
    /// Frames delivered per run.
    pub frames: u64,
    /// Virtual seconds per run.
    pub sim_secs: f64,
    /// Wall seconds of the fastest run.
    pub wall_secs: f64,
    /// Whether every run had the same trace hash.
    pub same_trace: bool,
    /// Whether every task of the run succeeded.
    pub all_ok: bool,
}

/// Runs `config` `repeat` times; keeps the fastest wall time.
pub fn measure(name: &str, config: &ScenarioConfig, repeat: usize) -> BenchRow {
    let mut best = f64::INFINITY;
    let mut first: Option<Report> = None;
    let mut same_trace = true;
    for _ in 0..repeat.max(1) {
        let start = WallInstant::now();
        let report = scenario::run(config, None);
        best = best.min(start.elapsed().as_secs_f64());
        match &first {
            Some(f) => same_trace &= f.trace_hash == report.trace_hash,
            None => first = Some(report),
        }
    }
    let r = first.expect("at least one run");
    BenchRow {
        name: name.to_string(),
        nodes: r.nodes,
        frames: r.wire.delivered,
        sim_secs: r.sim_time.total_micros() as f64 / 1e6,
        wall_secs: best,
        same_trace,
        all_ok: r.all_ok(),
    }
}

/// The benchmark's scenarios: the default one, and 50 nodes (board, SNTP
/// server, 48 clients) in the chat room and, for comparison, as TCP echo
/// clients.
pub fn scenarios() -> Vec<(String, ScenarioConfig)> {
    vec![
        (
            "default (4 clients, every service)".to_string(),
            ScenarioConfig::default(),
        ),
        (
            "50 nodes: 48 chat members x 10 lines".to_string(),
            ScenarioConfig::chat_room(1, 48, 10),
        ),
        (
            "50 nodes: 48 TCP echo clients x 256 KiB".to_string(),
            ScenarioConfig::echo_crowd(1, 48, 256 * 1024),
        ),
    ]
}

/// The table of `rows`.
pub fn table(rows: &[BenchRow]) -> String {
    let mut s = format!(
        "{:<42} {:>5} {:>9} {:>9} {:>9} {:>14} {:>11}  {}\n",
        "scenario", "nodes", "frames", "sim s", "wall s", "sim s/wall s", "frames/s", "checks"
    );
    for r in rows {
        s += &format!(
            "{:<42} {:>5} {:>9} {:>9.2} {:>9.3} {:>14.0} {:>11.0}  {}\n",
            r.name,
            r.nodes,
            r.frames,
            r.sim_secs,
            r.wall_secs,
            r.sim_secs / r.wall_secs.max(1e-9),
            r.frames as f64 / r.wall_secs.max(1e-9),
            match (r.all_ok, r.same_trace) {
                (true, true) => "all ok, same trace every run",
                (false, true) => "TASKS FAILED, same trace every run",
                (_, false) => "TRACE DIFFERS between runs",
            }
        );
    }
    s
}
