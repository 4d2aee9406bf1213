//! `minnow time` and `minnow echo`. Each opens its connection on the chosen
//! network (Minnow's stack: DHCP if asked, DNS for a host name; or the OS's
//! sockets), then runs its core client machine until it has an outcome.

use std::io::{Read, Write};

use clap::Args;
use minnow::echo;
use minnow::net::dns::{LookupError, Resolver};
use minnow::net::earliest;
use minnow::net::endpoint::{Host, parse_host_port};
use minnow::net::stream_client::StreamClient;
use minnow::time::client::{TimeClient, TimeClientError};
use minnow::time::{self, TimeFormat, ctime};
use smoltcp::socket::dns::DnsQuery;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpEndpoint};

use crate::bridge::{self, BridgeOptions, OnStdinEnd};
use crate::error::Error;
use crate::link::{Datagrams, Turn, run_until};
use crate::netargs::NetArgs;
use crate::runtime::Runtime;

#[derive(Args, Debug)]
pub struct TimeArgs {
    /// Time server, HOST[:PORT] (default port 9999; IPv6 as [ADDR]:PORT).
    pub server: String,
    /// Expect RFC 868 binary time (port 37) instead of ctime text.
    #[arg(long)]
    pub rfc868: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=crate::serve::MAX_SECS))]
    pub timeout: u64,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Args, Debug)]
pub struct EchoArgs {
    /// Echo server, HOST[:PORT] (default port 12345).
    pub server: String,
    /// Send stdin as UDP datagrams (one per read, at most 1472 bytes) instead of a TCP stream.
    #[arg(long)]
    pub udp: bool,
    /// Connect timeout, and with --udp how long to wait for the last echoes, seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=crate::serve::MAX_SECS))]
    pub timeout: u64,
    /// Receive and transmit buffer of the TCP socket, bytes.
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1024..=16 << 20))]
    pub tcp_buffer: u32,
    #[command(flatten)]
    pub net: NetArgs,
}

/// Brings the stack up and turns `text` into an endpoint: waits for a DHCP
/// lease when asked, and resolves a host name by DNS.
pub(crate) fn resolve(
    rt: &mut Runtime,
    net: &NetArgs,
    text: &str,
    default_port: u16,
) -> Result<IpEndpoint, Error> {
    let (host, port) =
        parse_host_port(text, default_port).map_err(|e| Error::Usage(format!("{text}: {e}")))?;
    if net.dhcp {
        rt.start_dhcp()?;
    }
    let advertised_dns = if net.slaac { rt.await_slaac()? } else { None };
    let addr = match host {
        Host::Addr(a) => a,
        Host::Name(name) => {
            let server = net
                .dns
                .map(|a| match a {
                    std::net::IpAddr::V4(v) => IpAddress::Ipv4(v),
                    std::net::IpAddr::V6(v) => IpAddress::Ipv6(v),
                })
                .or_else(|| rt.lease().and_then(|l| l.dns_server.map(IpAddress::Ipv4)))
                .or(advertised_dns.map(IpAddress::Ipv6));
            let slots: &'static mut [Option<DnsQuery>; 1] = Box::leak(Box::new([None]));
            let mut resolver = Resolver::new(&mut rt.stack.sockets, slots, server);
            resolver.start(&mut rt.net(), name);
            let limit = rt.now() + Duration::from_secs(20);
            let what = format!("{name}: no DNS answer within 20 s");
            rt.run_until(Some((limit, &what)), |rt, _| {
                Ok(match resolver.result() {
                    Some(result) => Turn::Done(result.map_err(|e| match e {
                        LookupError::NoServer => {
                            format!("{name}: {e}: pass --dns or use --dhcp or --slaac")
                        }
                        _ => format!("{name}: {e}"),
                    })?),
                    None => Turn::Wait(rt.step(&mut [&mut resolver])),
                })
            })?
        }
    };
    Ok(IpEndpoint::new(addr, port))
}

pub fn time(args: TimeArgs) -> Result<(), Error> {
    let format = if args.rfc868 {
        TimeFormat::Rfc868
    } else {
        TimeFormat::Ctime
    };
    let default_port = if args.rfc868 {
        time::RFC868_PORT
    } else {
        time::DEFAULT_PORT
    };
    let (mut link, remote) = args.net.connect(&args.server, default_port, (1024, 1024))?;
    let timeout = Duration::from_secs(args.timeout);
    let mut client = TimeClient::detached(remote, format, link.now(), timeout);
    let outcome = run_until(&mut *link, None, |link, _| {
        Ok(match client.outcome() {
            Some(outcome) => Turn::Done(outcome),
            None => Turn::Wait(link.step(&mut client)),
        })
    })?;
    // Our FIN/ACK leaves before the process ends.
    link.flush();
    match outcome {
        Ok(reply) => {
            let mut out = std::io::stdout().lock();
            match format {
                TimeFormat::Ctime => {
                    let text = String::from_utf8_lossy(reply.bytes());
                    let _ = writeln!(out, "{}", text.trim_end_matches(['\r', '\n']));
                }
                TimeFormat::Rfc868 => {
                    let mut line = [0u8; ctime::CTIME_LEN];
                    match ctime::format(reply.unix_secs, &mut line) {
                        Ok(()) => {
                            let _ = writeln!(out, "{}", String::from_utf8_lossy(&line));
                        }
                        Err(_) => {
                            let _ = writeln!(out, "{} seconds since 1970", reply.unix_secs);
                        }
                    }
                }
            }
            Ok(())
        }
        Err(TimeClientError::NotCtime) => Err(Error::Failed(format!(
            "{remote}: the reply is not a ctime line like 'Tue Apr  4 14:07:31 2017': got {:?}",
            String::from_utf8_lossy(client.received())
        ))),
        Err(TimeClientError::Connection(e)) => Err(Error::client(remote, e)),
        Err(e) => Err(Error::Failed(format!("{remote}: {e}"))),
    }
}

pub fn echo(args: EchoArgs) -> Result<(), Error> {
    if args.udp {
        let (mut link, remote) = args.net.datagrams(&args.server, echo::DEFAULT_PORT)?;
        return echo_udp(&mut *link, remote, Duration::from_secs(args.timeout));
    }
    let buf = args.tcp_buffer as usize;
    let (mut link, remote) = args
        .net
        .connect(&args.server, echo::DEFAULT_PORT, (buf, buf))?;
    let timeout = Duration::from_secs(args.timeout);
    let mut client = StreamClient::detached(remote, link.now(), timeout, None);
    let opts = BridgeOptions {
        on_stdin_end: OnStdinEnd::Finish,
        prompt: None,
        closed_line: None,
        connected_line: None,
    };
    bridge::run(&mut *link, &mut client, &opts).map_err(|e| e.context(remote))
}

fn echo_udp(
    link: &mut dyn Datagrams,
    remote: IpEndpoint,
    wait_last: Duration,
) -> Result<(), Error> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut datagram = vec![0u8; 1472];
    let mut len = 0usize;
    let mut waiting = false;
    let (mut sent, mut got) = (0u64, 0u64);
    let mut stdin_open = true;
    let mut give_up: Option<Instant> = None;
    let mut inbuf = vec![0u8; 65536];
    run_until(link, None, |link, mut stdin_ready| {
        loop {
            let deadline = link.step();
            while let Some(n) = link.recv(&mut inbuf)? {
                got += 1;
                out.write_all(&inbuf[..n])
                    .map_err(|e| format!("stdout: {e}"))?;
            }
            out.flush().map_err(|e| format!("stdout: {e}"))?;
            if waiting && link.send(&datagram[..len])? {
                waiting = false;
                sent += 1;
                continue;
            }
            if !waiting && stdin_open && stdin_ready {
                len = stdin
                    .lock()
                    .read(&mut datagram)
                    .map_err(|e| format!("stdin: {e}"))?;
                stdin_ready = false;
                if len == 0 {
                    stdin_open = false;
                    give_up = Some(link.now() + wait_last);
                } else {
                    waiting = true;
                }
                continue;
            }
            if !stdin_open && !waiting {
                if got >= sent {
                    return Ok(Turn::Done(()));
                }
                if give_up.is_some_and(|t| link.now() >= t) {
                    return Err(Error::Timeout(format!(
                        "{remote}: only {got} of {sent} datagrams came back"
                    )));
                }
            }
            let deadline = earliest(deadline, give_up);
            return Ok(if stdin_open && !waiting {
                Turn::WaitInput(deadline)
            } else {
                Turn::Wait(deadline)
            });
        }
    })
}
