//! `minnow chat`: the notes' chat client, on Minnow's stack or the OS's.
//!
//! On a terminal it shows the notes' `[Me] ` prompt; with pipes it is plain:
//! every stdin line is sent, everything received is printed. When the server
//! goes away it prints the notes' `Disconnected from chat server` and exits
//! 0; when stdin ends it keeps printing for `--linger` seconds, then leaves.

use std::io::IsTerminal;

use clap::Args;
use minnow::chat;
use minnow::net::stream_client::StreamClient;
use smoltcp::time::Duration;

use crate::bridge::{self, BridgeOptions, OnStdinEnd};
use crate::error::Error;
use crate::netargs::NetArgs;

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// Chat server, HOST[:PORT] (default port 9009).
    pub server: String,
    /// After stdin ends, keep printing what arrives for this many seconds.
    #[arg(long, default_value_t = 1.0)]
    pub linger: f64,
    /// Connect timeout, seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=crate::serve::MAX_SECS))]
    pub timeout: u64,
    #[command(flatten)]
    pub net: NetArgs,
}

pub fn run(args: ChatArgs) -> Result<(), Error> {
    if !(0.0..=3600.0).contains(&args.linger) {
        return Err(Error::Usage(
            "--linger must be between 0 and 3600 seconds".into(),
        ));
    }
    let (mut link, remote) = args
        .net
        .connect(&args.server, chat::DEFAULT_PORT, (65536, 65536))?;
    let timeout = Duration::from_secs(args.timeout);
    let mut client = StreamClient::detached(remote, link.now(), timeout, None);
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let opts = BridgeOptions {
        on_stdin_end: OnStdinEnd::Linger(Duration::from_millis((args.linger * 1000.0) as u64)),
        prompt: interactive.then_some("[Me] "),
        closed_line: Some("\nDisconnected from chat server\n"),
        connected_line: Some("Connected to remote host. You can start sending messages\n"),
    };
    bridge::run(&mut *link, &mut client, &opts).map_err(|e| e.context(remote))
}
