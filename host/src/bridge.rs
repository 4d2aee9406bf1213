//! Standard input and output joined to one TCP connection, on Minnow's
//! stack or the OS's: what `minnow echo` (like nc) and `minnow chat` both do.
//!
//! Stdin is read only when poll(2) says it is readable and only when the
//! previous chunk is all in the socket, so nothing read is ever dropped and
//! a slow server slows the reader down instead of filling memory.

use std::io::{IsTerminal, Read, Write};

use minnow::net::earliest;
use minnow::net::pipe::PipeClient;
use minnow::net::stream_client::StreamClient;
use minnow::net::tcp_client::ClientState;
use smoltcp::time::{Duration, Instant};

use crate::error::Error;
use crate::link::{Link, Turn, run_until};

/// What to do when stdin ends.
#[derive(Debug, Clone, Copy)]
pub enum OnStdinEnd {
    /// Send FIN and keep printing until the server closes (nc, echo).
    Finish,
    /// Keep printing for this long, then close (the notes' chat client).
    Linger(Duration),
}

/// How the bridge talks to a person.
pub struct BridgeOptions {
    pub on_stdin_end: OnStdinEnd,
    /// Printed after each thing received or sent (the notes' `[Me] `).
    pub prompt: Option<&'static str>,
    /// Printed when the server closes the connection.
    pub closed_line: Option<&'static str>,
    /// Printed once connected.
    pub connected_line: Option<&'static str>,
}

/// Runs the bridge until the server closes (Ok), stdin ends and the linger
/// passes (Ok), or the connection fails (Err).
pub fn run(
    link: &mut dyn Link,
    client: &mut StreamClient,
    opts: &BridgeOptions,
) -> Result<(), Error> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut stdin_open = true;
    let mut pending: Vec<u8> = Vec::with_capacity(65536);
    let mut sent = 0usize;
    let mut inbuf = vec![0u8; 65536];
    // On a terminal, what the server sends is shown without its controls.
    let terminal = std::io::stdout().is_terminal();
    let (mut shown, mut line_start) = (Vec::new(), true);
    let mut greeted = false;
    let mut linger_until: Option<Instant> = None;
    let say = |out: &mut std::io::StdoutLock<'_>, text: &str| -> Result<(), Error> {
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::Failed(format!("stdout: {e}")))
    };
    run_until(link, None, |link, mut stdin_ready| {
        loop {
            let deadline = link.step(client);
            let mut received = false;
            loop {
                let n = client.read_pipe(link.pipe(), &mut inbuf);
                if n == 0 {
                    break;
                }
                received = true;
                let bytes = if terminal {
                    shown.clear();
                    crate::terminal::sanitise(&inbuf[..n], &mut line_start, &mut shown);
                    &shown[..]
                } else {
                    &inbuf[..n]
                };
                out.write_all(bytes).map_err(|e| format!("stdout: {e}"))?;
            }
            if received && let Some(p) = opts.prompt {
                out.write_all(p.as_bytes())
                    .map_err(|e| format!("stdout: {e}"))?;
            }
            out.flush().map_err(|e| format!("stdout: {e}"))?;
            match client.state() {
                ClientState::Failed(e) => return Err(Error::client("connection", e)),
                ClientState::PeerClosed => {
                    if let Some(line) = opts.closed_line {
                        say(&mut out, line)?;
                    }
                    link.flush();
                    return Ok(Turn::Done(()));
                }
                ClientState::Connecting => {}
                ClientState::Connected => {
                    if !greeted {
                        greeted = true;
                        if let Some(line) = opts.connected_line {
                            say(&mut out, line)?;
                        }
                        if let Some(p) = opts.prompt {
                            say(&mut out, p)?;
                        }
                    }
                    if sent < pending.len() {
                        sent += client.write_pipe(link.pipe(), &pending[sent..]);
                    }
                    if sent == pending.len() && stdin_open && stdin_ready {
                        pending.resize(65536, 0);
                        let n = loop {
                            match stdin.lock().read(&mut pending) {
                                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                                other => break other.map_err(|e| format!("stdin: {e}"))?,
                            }
                        };
                        pending.truncate(n);
                        sent = 0;
                        stdin_ready = false;
                        if n == 0 {
                            stdin_open = false;
                            match opts.on_stdin_end {
                                OnStdinEnd::Finish => client.finish(),
                                OnStdinEnd::Linger(d) => linger_until = Some(link.now() + d),
                            }
                        } else {
                            sent += client.write_pipe(link.pipe(), &pending);
                            if let Some(p) = opts.prompt {
                                say(&mut out, p)?;
                            }
                        }
                        continue;
                    }
                }
            }
            if linger_until.is_some_and(|until| link.now() >= until) && sent == pending.len() {
                client.finish();
                link.flush();
                return Ok(Turn::Done(()));
            }
            let watch =
                stdin_open && sent == pending.len() && client.state() == ClientState::Connected;
            // Reading may have made the client due again (a FIN behind the data).
            let deadline = earliest(earliest(deadline, linger_until), client.poll_at(link.now()));
            return Ok(if watch {
                Turn::WaitInput(deadline)
            } else {
                Turn::Wait(deadline)
            });
        }
    })
}
