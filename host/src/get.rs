//! `minnow get`: download a file from a file server, on Minnow's stack or
//! the OS's.
//!
//! Bytes go to `FILE.part` as they arrive; only a clean end (the server's
//! FIN) renames it to `FILE`. A reset or a timeout leaves `FILE.part`, exits
//! non-zero and says what happened: a truncated transfer is never success.
//!
//! `FILE.part` is created exclusively and without following a symlink (one
//! planted there is refused, its target untouched). A `FILE.part` left by
//! an earlier failed run is replaced only when it is a regular file of ours;
//! anything else there is refused with a message. It is created after the
//! TAP device is open and root given up, so with the invoking user's rights.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant as StdInstant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use minnow::file::{self, reply};
use minnow::net::pipe::PipeClient;
use minnow::net::runner::earliest;
use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::ClientState;
use smoltcp::time::Duration;

use crate::error::Error;
use crate::link::{Turn, run_until};
use crate::netargs::NetArgs;

#[derive(Args, Debug)]
pub struct GetArgs {
    /// File server, HOST[:PORT] (default port 60000).
    pub server: String,
    /// File to ask for (`GET NAME`); without it, the server's default file.
    pub name: Option<String>,
    /// Where to write the file (FILE.part until the transfer ends cleanly).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Send this request instead (the notes' client sends "Hello server!").
    #[arg(long, conflicts_with = "name")]
    pub request: Option<String>,
    /// Fail when no byte arrives for this many seconds (and the connect timeout).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=crate::serve::MAX_SECS))]
    pub timeout: u64,
    /// Receive buffer of the TCP socket, bytes (the TCP window).
    #[arg(long, default_value_t = 262144, value_parser = clap::value_parser!(u32).range(1024..=16 << 20))]
    pub tcp_buffer: u32,
    #[command(flatten)]
    pub net: NetArgs,
}

fn part_path(output: &std::path::Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Creates `part` exclusively, never through a symlink (see the module
/// docs for a stale one).
fn create_part(part: &Path) -> Result<File, Error> {
    let create = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(part)
    };
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => return other.map_err(|e| Error::Failed(format!("{}: {e}", part.display()))),
    }
    // lstat: a symlink is seen as one, never followed.
    let ours = std::fs::symlink_metadata(part)
        .is_ok_and(|m| m.file_type().is_file() && m.uid() == nix::unistd::geteuid().as_raw());
    if !ours {
        return Err(Error::Failed(format!(
            "{}: exists and is not a regular file of ours (a symlink, a folder or another \
             user's file); it is left alone: remove it or choose another -o",
            part.display()
        )));
    }
    crate::report::log(&format!(
        "replacing {}, left by an earlier transfer",
        part.display()
    ));
    // Whatever stands there now is unlinked, not followed; create_new
    // refuses anything that appears in between.
    std::fs::remove_file(part)
        .and_then(|()| create())
        .map_err(|e| Error::Failed(format!("{}: {e}", part.display())))
}

fn progress(enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bytes} received, {bytes_per_sec} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub fn run(args: GetArgs) -> Result<(), Error> {
    let request = match (&args.name, &args.request) {
        (Some(name), _) => {
            file::name::validate(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
            format!("GET {name}\n")
        }
        (None, Some(text)) => text.clone(),
        (None, None) => "Hello server!".to_string(),
    };
    let part = part_path(&args.output);
    let buffers = (args.tcp_buffer as usize, 4096);
    let (mut link, remote) = args
        .net
        .connect(&args.server, file::DEFAULT_PORT, buffers)?;
    let timeout = Duration::from_secs(args.timeout);
    let mut client = StreamClient::detached(remote, link.now(), timeout, Some(timeout));
    let mut out = BufWriter::with_capacity(1 << 20, create_part(&part)?);
    let bar = progress(std::io::stdout().is_terminal());
    let started = StdInstant::now();
    let mut buf = vec![0u8; 1 << 16];
    let mut sent = 0usize;
    let mut total: u64 = 0;
    // The first bytes, to recognise an ERR line.
    let mut head: Vec<u8> = Vec::new();
    let outcome = run_until(&mut *link, None, |link, _| {
        loop {
            let deadline = link.step(&mut client);
            if client.state() == ClientState::Connected && sent < request.len() {
                let n = client.write_pipe(link.pipe(), &request.as_bytes()[sent..]);
                sent += n;
                if n > 0 {
                    continue; // step again now so the request goes out
                }
            }
            loop {
                let n = client.read_pipe(link.pipe(), &mut buf);
                if n == 0 {
                    break;
                }
                if head.len() <= reply::MAX_ERR_LINE {
                    head.extend_from_slice(&buf[..n.min(reply::MAX_ERR_LINE + 1 - head.len())]);
                }
                out.write_all(&buf[..n])
                    .map_err(|e| format!("{}: {e}", part.display()))?;
                total += n as u64;
                bar.set_position(total);
            }
            return Ok(match client.state() {
                ClientState::PeerClosed => Turn::Done(Ok(())),
                ClientState::Failed(e) => Turn::Done(Err(e)),
                // Reading may have made the client due again (a FIN behind the data).
                _ => Turn::Wait(earliest(deadline, client.poll_at(link.now()))),
            });
        }
    })?;
    client.finish();
    link.step(&mut client);
    link.flush();
    out.flush()
        .map_err(|e| format!("{}: {e}", part.display()))?;
    drop(out);
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    match outcome {
        Ok(()) => {
            if args.name.is_some()
                && total == head.len() as u64
                && let Some(reason) = reply::as_error(&head)
            {
                let _ = std::fs::remove_file(&part);
                return Err(Error::Refused(format!(
                    "{remote}: the server refused: {reason}"
                )));
            }
            std::fs::rename(&part, &args.output)
                .map_err(|e| format!("{}: {e}", args.output.display()))?;
            println!(
                "received {total} bytes into {} ({:.1} MB/s)",
                args.output.display(),
                total as f64 / secs.max(1e-6) / 1e6
            );
            Ok(())
        }
        // A transfer cut short is a failure whatever cut it (exit 1).
        Err(e) => Err(Error::Failed(format!(
            "{remote}: {e} after {total} bytes: the transfer is incomplete, partial data kept in {}",
            part.display()
        ))),
    }
}
