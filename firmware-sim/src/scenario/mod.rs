//! Scenarios: a board running every server (and sending a mail), simulated
//! SNTP and SMTP servers, and client nodes exercising each service, on one
//! faulty wire.
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
use crate::programs::smtp_server::SmtpNode;
use crate::programs::sntp_server::SntpNode;
use crate::rng::mix;
use crate::sim::Sim;
use crate::tasks::Task;
use crate::tasks::chat::Room;
use crate::tasks::mail::{MailPlan, Mailbox, SMTP_PORT, SendMail};
use crate::true_time::TrueTime;

pub use config::{Mix, ScenarioConfig, Workload};
pub use report::Report;

/// Node number of the SNTP server (192.0.2.123).
pub const SNTP_NODE: u8 = 123;
/// Node number of the SMTP server (192.0.2.25).
pub const SMTP_NODE: u8 = 25;
/// Node number of the board (192.0.2.2).
pub const BOARD_NODE: u8 = 2;
/// Node number of the first client (192.0.2.10).
pub const FIRST_CLIENT_NODE: u8 = 10;
/// Most clients a scenario holds (node numbers 10..=249 but the servers').
pub const MAX_CLIENTS: usize = 238;
/// The SMTP server closes a connection idle for this long.
const SMTP_IDLE: Duration = Duration::from_secs(300);

/// Runs the scenario `config`; with `pcap`, captures the wire there.
pub fn run(config: &ScenarioConfig, pcap: Option<Box<dyn Write>>) -> Report {
    let truth = TrueTime::default();
    let files = plan::Files::new(config);
    let table = files.table();
    let clock = WallClock::new();
    // The board mails the SMTP server in the every-service mix.
    let mail =
        (config.mix == Mix::Every).then(|| MailPlan::new(config.seed, config.workload.mail_bytes));
    let mut attachments = mail.as_ref().map(|m| m.attachments());
    let mailbox = Rc::new(Mailbox::default());
    let mut sim = Sim::new(config.seed, config.faults);
    let mut pcap_error = pcap
        .map(|out| sim.capture(out, truth.epoch_unix_us))
        .and_then(|r| r.err());

    let sntp = NodeSpec::numbered("sntp", SNTP_NODE);
    let board = NodeSpec::numbered("board", BOARD_NODE);
    let sntp_server = IpEndpoint::new(sntp.v4(), minnow::time::sntp::NTP_PORT);
    let mut board_config = BoardConfig::for_clients(config.clients, sntp_server, mix(config.seed));
    board_config.discard = config.mix == Mix::Discard;
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
        Box::new(SntpNode::new(
            &mut net.net(),
            minnow::time::sntp::NTP_PORT,
            truth,
        ))
    });
    let smtp = NodeSpec::numbered("smtp", SMTP_NODE);
    if let Some(plan) = &mail {
        let mailbox = mailbox.clone();
        let server = plan.server_config(SMTP_IDLE);
        sim.add_node(smtp.clone(), |net| {
            let check = Box::new(move |r: &_| mailbox.check(plan, r));
            Box::new(SmtpNode::new(&mut net.net(), SMTP_PORT, server, check))
        });
    }
    sim.add_node(board, |net| {
        let store = StaticFiles::new(&table, Some(plan::DEFAULT_FILE));
        let send = match (&mail, attachments.as_mut()) {
            (Some(plan), Some(attachments)) => {
                let addr = if plan.v6 { smtp.v6() } else { smtp.v4() };
                let task: Box<dyn Task> = Box::new(SendMail::new(
                    plan,
                    attachments,
                    &clock,
                    IpEndpoint::new(addr, SMTP_PORT),
                    config.timeout,
                    mailbox.clone(),
                ));
                Some(task)
            }
            _ => None,
        };
        Box::new(Board::new(net, &board_config, &clock, store, room, send))
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
