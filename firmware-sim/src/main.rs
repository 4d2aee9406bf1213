//! `minnow-sim`: runs a scenario of Minnow's services on a simulated,
//! faulty Ethernet and prints its timeline and summary; `minnow-sim bench`
//! prints the benchmark table.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant as WallInstant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use minnow_sim::bench;
use minnow_sim::scenario::{self, MAX_CLIENTS, Mix, ScenarioConfig, Workload};
use minnow_sim::{Faults, Report};
use smoltcp::time::Duration;

/// Minnow's services on many simulated nodes, a virtual clock and a faulty
/// wire. With no arguments: the default scenario (a board running every
/// server and sending a mail, SNTP and SMTP servers, 4 clients), its
/// timeline and summary.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the benchmark table: simulated seconds per wall second and
    /// frames per second, for the default scenario and two 50-node ones
    /// (a chat room, TCP echo).
    Bench {
        /// Runs per scenario (the fastest counts).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

/// Which services the clients exercise.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum MixArg {
    /// Time, TCP and UDP echo, file downloads, then the chat room; the
    /// board mails the SMTP server.
    Every,
    /// TCP echo only.
    Echo,
    /// The chat room only.
    Chat,
    /// RFC 863 discard only (the board runs it for this mix).
    Discard,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Seed of every random choice: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Client nodes (the board and the SNTP server, with every service
    /// the SMTP server too, come on top).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=MAX_CLIENTS as i64))]
    clients: u16,
    /// What the clients do.
    #[arg(long, value_enum, default_value_t = MixArg::Every)]
    mix: MixArg,
    /// Frame loss rate: 0.01 or 1%.
    #[arg(long, value_parser = rate)]
    loss: Option<f64>,
    /// Duplication rate.
    #[arg(long, value_parser = rate)]
    dup: Option<f64>,
    /// Reordering rate (a frame is held back by --reorder-ms).
    #[arg(long, value_parser = rate)]
    reorder: Option<f64>,
    /// How long a reordered frame is held back, milliseconds.
    #[arg(long)]
    reorder_ms: Option<f64>,
    /// Corruption rate (one bit flipped per corrupted frame).
    #[arg(long, value_parser = rate)]
    corrupt: Option<f64>,
    /// One-way latency, milliseconds.
    #[arg(long)]
    latency_ms: Option<f64>,
    /// Jitter (uniform, added to the latency), milliseconds.
    #[arg(long)]
    jitter_ms: Option<f64>,
    /// Port speed in Mbit/s; 0: unlimited.
    #[arg(long)]
    mbps: Option<f64>,
    /// A perfect wire: no loss, duplication, reordering or corruption.
    #[arg(long)]
    no_faults: bool,
    /// The wire the property tests draw for this seed (Faults::random);
    /// the other wire options change it further.
    #[arg(long)]
    random_faults: bool,
    /// The property tests' small transfers (8 KiB echo, 4 datagrams, a
    /// 6 KiB file, 3 chat lines, a 1 KiB mail attachment).
    #[arg(long)]
    small: bool,
    /// Bytes each TCP echo client sends.
    #[arg(long)]
    echo_bytes: Option<u64>,
    /// Size of the board's big.bin.
    #[arg(long)]
    file_bytes: Option<usize>,
    /// Datagrams each UDP echo client sends.
    #[arg(long)]
    datagrams: Option<u32>,
    /// Lines each chat member sends.
    #[arg(long)]
    chat_lines: Option<u32>,
    /// Size of the board's mail attachment.
    #[arg(long)]
    mail_bytes: Option<usize>,
    /// Stop at this virtual time, seconds.
    #[arg(long, default_value_t = 1800)]
    time_limit: u64,
    /// Write the virtual wire to FILE as pcap (tshark -r FILE): frames as
    /// they arrive, stamped with virtual time from Tue Apr 4 14:07:31 2017
    /// (lost frames are absent, duplicates appear twice).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Print only the summary, not the timeline.
    #[arg(long, short)]
    quiet: bool,
}

/// A probability: `0.05` or `5%`.
fn rate(text: &str) -> Result<f64, String> {
    let value = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|e| format!("{text}: {e}"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{text}: a rate lies between 0 and 1 (0% and 100%)"))
    }
}

fn micros(ms: f64) -> Duration {
    Duration::from_micros((ms.max(0.0) * 1000.0).round() as u64)
}

impl RunArgs {
    fn config(&self) -> ScenarioConfig {
        let mut c = ScenarioConfig {
            seed: self.seed,
            clients: usize::from(self.clients),
            mix: match self.mix {
                MixArg::Every => Mix::Every,
                MixArg::Echo => Mix::Echo,
                MixArg::Chat => Mix::Chat,
                MixArg::Discard => Mix::Discard,
            },
            time_limit: Duration::from_secs(self.time_limit),
            ..ScenarioConfig::default()
        };
        if self.small {
            c.workload = Workload::small();
        }
        let f: &mut Faults = &mut c.faults;
        if self.random_faults {
            *f = Faults::random(self.seed);
        }
        if self.no_faults {
            *f = f.without_faults();
        }
        f.loss = self.loss.unwrap_or(f.loss);
        f.duplicate = self.dup.unwrap_or(f.duplicate);
        f.reorder = self.reorder.unwrap_or(f.reorder);
        f.corrupt = self.corrupt.unwrap_or(f.corrupt);
        f.reorder_delay = self.reorder_ms.map(micros).unwrap_or(f.reorder_delay);
        f.latency = self.latency_ms.map(micros).unwrap_or(f.latency);
        f.jitter = self.jitter_ms.map(micros).unwrap_or(f.jitter);
        f.bandwidth_bps = self
            .mbps
            .map(|m| (m.max(0.0) * 1e6) as u64)
            .unwrap_or(f.bandwidth_bps);
        let w = &mut c.workload;
        w.echo_bytes = self.echo_bytes.unwrap_or(w.echo_bytes);
        w.file_bytes = self.file_bytes.unwrap_or(w.file_bytes);
        w.datagrams = self.datagrams.unwrap_or(w.datagrams);
        w.chat_lines = self.chat_lines.unwrap_or(w.chat_lines);
        w.mail_bytes = self.mail_bytes.unwrap_or(w.mail_bytes);
        c
    }
}

fn run(args: &RunArgs) -> Result<Report, String> {
    let config = args.config();
    let pcap: Option<Box<dyn Write>> = match &args.pcap {
        Some(path) => Some(Box::new(
            File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        None => None,
    };
    let mail = config.mix == Mix::Every;
    println!(
        "minnow-sim: seed {}, {} nodes (board 192.0.2.2, sntp 192.0.2.123, {}{} clients from 192.0.2.10)",
        config.seed,
        config.clients + 2 + usize::from(mail),
        if mail { "smtp 192.0.2.25, " } else { "" },
        config.clients
    );
    println!("wire: {}\n", config.faults);
    let started = WallInstant::now();
    let report = scenario::run(&config, pcap);
    let wall = started.elapsed();
    if !args.quiet {
        println!("timeline (virtual time)");
        print!("{}", report.timeline_text());
        println!();
    }
    println!("summary");
    print!("{}", report.summary_text(Some(wall)));
    if let Some(path) = &args.pcap {
        println!("pcap:   {} (tshark -r {0})", path.display());
    }
    Ok(report)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Bench { repeat }) => {
            let rows: Vec<_> = bench::scenarios()
                .iter()
                .map(|(name, config)| bench::measure(name, config, repeat))
                .collect();
            print!("{}", bench::table(&rows));
            ExitCode::SUCCESS
        }
        None => match run(&cli.run) {
            Err(e) => {
                eprintln!("minnow-sim: {e}");
                ExitCode::from(2)
            }
            Ok(r) if r.any_corrupt() => ExitCode::from(3),
            Ok(r) if !r.all_ok() => ExitCode::from(1),
            Ok(_) => ExitCode::SUCCESS,
        },
    }
}
