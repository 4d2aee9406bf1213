//! Scenarios: a board running every server, a simulated SNTP server, and
//! client nodes exercising each service, on one faulty wire.
//!
//! - [`config`]: what to run (seed, faults, clients, sizes);
//! - [`plan`]: which tasks each client runs, and the board's files;
//! - [`run`](run()): builds the nodes and runs them to a [`Report`];
//! - [`report`]: the outcome, the timeline and the summary table.

pub mod config;
pub mod plan;
pub mod report;

use std::io::Write;
use std::rc::Rc;

use minnow::WallClock;
use minnow::file::store::StaticFiles;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;

use crate::node::NodeSpec;
use crate::programs::board::{Board, BoardConfig};
use crate::programs::client::Client;
use crate::programs::sntp_server::SntpNode;
use crate::rng::mix;
use crate::sim::Sim;
use crate::tasks::chat::Room;
use crate::true_time::TrueTime;

pub use config::{Mix, ScenarioConfig, Workload};
pub use report::Report;

/// Node number of the SNTP server (192.0.2.123).
pub const SNTP_NODE: u8 = 123;
/// Node number of the board (192.0.2.2).
pub const BOARD_NODE: u8 = 2;
/// Node number of the first client (192.0.2.10).
pub const FIRST_CLIENT_NODE: u8 = 10;
/// Most clients a scenario holds (node numbers 10..=249).
pub const MAX_CLIENTS: usize = 240;

/// Runs the scenario `config`; with `pcap`, captures the wire there.
pub fn run(config: &ScenarioConfig, pcap: Option<Box<dyn Write>>) -> Report {
    let truth = TrueTime::default();
    let files = plan::Files::new(config);
    let table = files.table();
    let clock = WallClock::new();
    let mut sim = Sim::new(config.seed, config.faults);
    let mut pcap_error = pcap
        .map(|out| sim.capture(out, truth.epoch_unix_us))
        .and_then(|r| r.err());

    let sntp = NodeSpec::numbered("sntp", SNTP_NODE);
    let board = NodeSpec::numbered("board", BOARD_NODE);
    let sntp_server = IpEndpoint::new(sntp.v4(), minnow::time::sntp::NTP_PORT);
    let board_config = BoardConfig::for_clients(config.clients, sntp_server, mix(config.seed));
    let roster = plan::roster(config);
    let room = Rc::new(Room::default());
    room.expected.set(roster.len());
    let targets = plan::Targets {
        v4: board.v4(),
        v6: board.v6(),
        truth,
        timeout: config.timeout,
        roster,
        room: room.clone(),
        chat_seed: plan::chat_seed(config.seed),
    };
    sim.add_node(sntp, |net| {
        Box::new(SntpNode::new(net, minnow::time::sntp::NTP_PORT, truth))
    });
    sim.add_node(board, |net| {
        let store = StaticFiles::new(&table, Some(plan::DEFAULT_FILE));
        Box::new(Board::new(net, &board_config, &clock, store, room))
    });
    for k in 0..config.clients.min(MAX_CLIENTS) {
        let spec = plan::client_spec(k);
        let tasks = plan::tasks_for(config, k)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                t.build(
                    &targets,
                    &files,
                    mix(config.seed ^ ((k as u64) << 16 | i as u64)),
                )
            })
            .collect();
        // Clients start a few milliseconds apart, as people do.
        let start = Instant::ZERO + Duration::from_millis(5 * k as u64 + 1);
        sim.add_node(spec, |_| Box::new(Client::new(tasks, start, config.pause)));
    }

    let end = sim.run(config.time_limit, config.max_steps);
    if let Err(e) = sim.finish_capture() {
        pcap_error.get_or_insert(e);
    }
    Report::collect(config, &sim, end, pcap_error.map(|e| e.to_string()))
}
