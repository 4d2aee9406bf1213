//! `minnow`: Minnow's services and clients on a Linux TAP interface.

mod beneath;
mod bridge;
mod chat;
mod clients;
mod device;
mod dir_store;
mod embassy_tap;
mod error;
mod get;
mod link;
mod mail;
mod netargs;
mod os_link;
mod pcap;
mod privileges;
mod report;
mod runtime;
mod serve;
mod tap;
mod terminal;
mod tls;
mod vnet;
mod wake_pipe;

use clap::{CommandFactory, Parser, Subcommand};

/// `minnow --version`: the package version and the git revision it was
/// built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("MINNOW_GIT_REV"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "minnow",
    version = VERSION,
    about = "Minnow: the course notes' network services on a smoltcp stack over a TAP device",
    after_help = format!("{}\n\n{}", privileges::HELP, error::EXIT_CODES_HELP)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log lines: -v connections (core's debug records), -vv and -vvv
    /// smoltcp's and rustls's too. RUST_LOG (e.g. smoltcp=trace) overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the servers: echo (TCP+UDP 12345), time (9999), chat (9009), files with --files (60000); optionally daytime (13), RFC 868 (37), discard (9).
    Serve(serve::ServeArgs),
    /// Ask a time server for the time and print it.
    Time(clients::TimeArgs),
    /// Connect stdin and stdout to an echo server (like nc); --udp for datagrams.
    Echo(clients::EchoArgs),
    /// Join a chat room (port 9009): stdin lines out, the room's lines in.
    Chat(chat::ChatArgs),
    /// Send mail over SMTP: text, HTML, attachments; STARTTLS or TLS; AUTH.
    Mail(Box<mail::MailArgs>),
    /// Download a file from a file server (port 60000).
    Get(get::GetArgs),
    /// Print a shell completion script (e.g. `minnow completions bash >
    /// /etc/bash_completion.d/minnow`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, roff (e.g. `minnow man > minnow.1; man ./minnow.1`).
    Man,
}

fn main() {
    let cli = Cli::parse();
    report::init(cli.verbose, cli.quiet);
    let (name, result) = match cli.command {
        Command::Serve(a) => ("serve", serve::run(a)),
        Command::Time(a) => ("time", clients::time(a)),
        Command::Echo(a) => ("echo", clients::echo(a)),
        Command::Get(a) => ("get", get::run(a)),
        Command::Chat(a) => ("chat", chat::run(a)),
        Command::Mail(a) => ("mail", mail::run(*a)),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "minnow", &mut std::io::stdout());
            return;
        }
        Command::Man => (
            "man",
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(error::Error::from),
        ),
    };
    if let Err(e) = result {
        eprintln!("minnow {name}: {e}");
        std::process::exit(e.exit_code());
    }
}
