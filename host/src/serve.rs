//! `minnow serve`: every service built so far on one TAP device.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use signal_hook::consts::{SIGINT, SIGTERM};

use clap::Args;
use minnow::WallClock;
use minnow::chat::ChatEvent;
use minnow::chat::server::ChatServer;
use minnow::echo::tcp_server::TcpEchoServer;
use minnow::echo::udp_server::UdpEchoServer;
use minnow::echo::{self, EchoEvent};
use minnow::file::FileEvent;
use minnow::file::server::{FileServer, FileTimers};
use minnow::net::dhcp::{DhcpClient, DhcpEvent};
use minnow::net::endpoint::{Host, parse_host_port};
use minnow::service::Service;
use minnow::time::server::TcpTimeServer;
use minnow::time::sntp::NTP_PORT;
use minnow::time::sntp_client::{SntpClient, SntpEvent, SntpTimers};
use minnow::time::udp_server::UdpTimeServer;
use minnow::time::{self, TimeEvent, TimeFormat};
use smoltcp::time::Duration;
use smoltcp::wire::IpEndpoint;

use crate::dir_store::DirStore;
use crate::netargs::NetArgs;
use crate::report;
use crate::runtime::{tcp_socket, udp_socket};

/// Most sockets one TCP service may have on the host.
pub const MAX_POOL: usize = 256;
/// Largest UDP datagram the echo server returns (a jumbo frame's payload).
pub const MAX_DATAGRAM: usize = 9000;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Echo port, TCP and UDP (RFC 862 uses 7).
    #[arg(long, default_value_t = echo::DEFAULT_PORT)]
    pub echo_port: u16,
    /// Do not run the echo servers.
    #[arg(long)]
    pub no_echo: bool,
    /// Simultaneous TCP echo clients (one socket each).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=MAX_POOL as i64))]
    pub echo_sockets: u16,
    /// The notes' time server port (ctime text).
    #[arg(long, default_value_t = time::DEFAULT_PORT)]
    pub time_port: u16,
    /// Do not run the time servers.
    #[arg(long)]
    pub no_time: bool,
    /// Also serve RFC 867 daytime (ctime text) on port 13.
    #[arg(long)]
    pub daytime: bool,
    /// Also serve RFC 868 binary time on port 37, TCP and UDP.
    #[arg(long)]
    pub rfc868: bool,
    /// Simultaneous clients of each TCP time server.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=MAX_POOL as i64))]
    pub time_sockets: u16,
    /// Receive and transmit buffer of each TCP echo socket, bytes.
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1024..=16 << 20))]
    pub tcp_buffer: u32,
    /// Receive and transmit buffer of each UDP socket, bytes.
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1024..=16 << 20))]
    pub udp_buffer: u32,
    /// Abort a TCP echo client that moves nothing for this long, seconds (0: never).
    #[arg(long, default_value_t = 300)]
    pub idle_timeout: u64,
    /// Do not run the chat room.
    #[arg(long)]
    pub no_chat: bool,
    /// Chat room port.
    #[arg(long, default_value_t = minnow::chat::DEFAULT_PORT)]
    pub chat_port: u16,
    /// Places in the chat room; one more client is told `room full`.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=MAX_POOL as i64))]
    pub chat_members: u16,
    /// Each chat member's outgoing queue (its socket's transmit buffer), bytes.
    #[arg(long, default_value_t = 32768, value_parser = clap::value_parser!(u32).range(2048..=16 << 20))]
    pub chat_queue: u32,
    /// Disconnect a chat member whose queue stays full this long, milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub chat_stall_ms: u64,
    /// Serve the files of this folder (file transfer, the notes' port 60000).
    #[arg(long, value_name = "DIR")]
    pub files: Option<std::path::PathBuf>,
    /// The file sent for any request that is not `GET NAME` (a name inside --files).
    #[arg(long = "default", value_name = "NAME", requires = "files")]
    pub default_file: Option<String>,
    /// File transfer port.
    #[arg(long, default_value_t = minnow::file::DEFAULT_PORT)]
    pub file_port: u16,
    /// Simultaneous downloads (one socket each).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=MAX_POOL as i64))]
    pub file_sockets: u16,
    /// Transmit buffer of each file socket, bytes (the most a download has in flight).
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1024..=16 << 20))]
    pub file_buffer: u32,
    /// How long a file client may take to send its request, seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub file_request_timeout: u64,
    /// Set the clock by SNTP from this server (IP[:PORT]) instead of the OS clock;
    /// until it answers, the time servers close without sending a time.
    #[arg(long, value_name = "IP[:PORT]")]
    pub sntp: Option<String>,
}

fn unix_micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn sntp_server(text: &str) -> Result<IpEndpoint, String> {
    match parse_host_port(text, NTP_PORT) {
        Ok((Host::Addr(addr), port)) => Ok(IpEndpoint::new(addr, port)),
        Ok((Host::Name(_), _)) => Err(format!("--sntp {text}: give the server's IP address")),
        Err(e) => Err(format!("--sntp {text}: {e}")),
    }
}

fn log_echo(proto: &str, port: u16, e: EchoEvent) {
    let what = match e {
        EchoEvent::Connected { peer } => format!("connected {peer}"),
        EchoEvent::Closed { peer, bytes } => format!("closed {peer} after {bytes} bytes"),
        EchoEvent::Reset { peer, bytes } => format!("reset by {peer} after {bytes} bytes"),
        EchoEvent::IdleTimeout { peer, bytes } => {
            format!("idle timeout {peer} after {bytes} bytes, aborted")
        }
        EchoEvent::DatagramDropped { peer } => format!("datagram from {peer} too long, dropped"),
    };
    report::log(&format!("echo {proto}/{port}: {what}"));
}

fn log_chat(port: u16, e: ChatEvent) {
    let what = match e {
        ChatEvent::Joined { peer } => format!("{peer} joined"),
        ChatEvent::Left { peer } => format!("{peer} left"),
        ChatEvent::DroppedSlowReader { peer } => format!("{peer} stopped reading: disconnected"),
        ChatEvent::RoomFull { peer } => format!("room full: refused {peer}"),
    };
    report::log(&format!("chat tcp/{port}: {what}"));
}

fn log_file(port: u16, e: FileEvent) {
    let what = match e {
        FileEvent::Sending { peer, default } => {
            format!(
                "sending {} file to {peer}",
                if default { "the default" } else { "a named" }
            )
        }
        FileEvent::Sent { peer, bytes } => format!("sent {bytes} bytes to {peer}"),
        FileEvent::Refused { peer, reason } => {
            format!(
                "refused {peer}: {}",
                String::from_utf8_lossy(reason.line()).trim_end()
            )
        }
        FileEvent::Aborted { peer, bytes } => format!("{peer} went away after {bytes} bytes"),
        FileEvent::ReadFailed { peer, bytes } => {
            format!("read error after {bytes} bytes to {peer}: reset")
        }
    };
    report::log(&format!("file tcp/{port}: {what}"));
}

fn log_time(proto: &str, port: u16, e: TimeEvent) {
    let what = match e {
        TimeEvent::Served {
            peer, unix_secs, ..
        } => format!("sent time {unix_secs} to {peer}"),
        TimeEvent::ClockNotSet { peer } => format!("clock not set: closed {peer} without a time"),
        TimeEvent::CannotEncode { peer } => format!("time not representable: closed {peer}"),
        TimeEvent::Aborted { peer } => format!("{peer} went away before the reply"),
    };
    report::log(&format!("time {proto}/{port}: {what}"));
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    let sntp = args.sntp.as_deref().map(sntp_server).transpose()?;
    let store = match &args.files {
        Some(dir) => Some(DirStore::new(dir, args.default_file.clone())?),
        None => None,
    };
    let chat_members = if args.no_chat {
        0
    } else {
        usize::from(args.chat_members) + 2
    };
    let pools = chat_members
        + usize::from(args.echo_sockets)
        + 3 * usize::from(args.time_sockets)
        + usize::from(args.file_sockets);
    let mut rt = args.net.runtime(pools + 8)?;
    let clock = WallClock::new();
    let idle = (args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout));
    let linger = Duration::from_secs(10);
    let tcp_buf = args.tcp_buffer as usize;
    let udp_buf = args.udp_buffer as usize;
    let udp_packets = (udp_buf / 64).max(8);
    let full = |_| "socket set full".to_string();

    let mut tcp_echo = Box::new(TcpEchoServer::<MAX_POOL>::new(args.echo_port, idle));
    let mut udp_echo = None;
    if !args.no_echo {
        for _ in 0..args.echo_sockets {
            tcp_echo
                .add_socket(&mut rt.sockets, tcp_socket(tcp_buf, tcp_buf))
                .map_err(full)?;
        }
        let socket = udp_socket(udp_packets, udp_buf);
        let server = UdpEchoServer::<MAX_DATAGRAM>::new(&mut rt.sockets, socket, args.echo_port)
            .map_err(|e| format!("udp/{}: {e}", args.echo_port))?;
        udp_echo = Some(Box::new(server));
    }
    let mut time_servers = Vec::new();
    let mut udp_time = None;
    if !args.no_time {
        let mut ports = vec![(args.time_port, TimeFormat::Ctime)];
        if args.daytime {
            ports.push((time::DAYTIME_PORT, TimeFormat::Ctime));
        }
        if args.rfc868 {
            ports.push((time::RFC868_PORT, TimeFormat::Rfc868));
            let socket = udp_socket(16, 2048);
            udp_time = Some(
                UdpTimeServer::new(&mut rt.sockets, socket, time::RFC868_PORT, &clock)
                    .map_err(|e| format!("udp/37: {e}"))?,
            );
        }
        for (port, format) in ports {
            let mut server = TcpTimeServer::<MAX_POOL>::new(port, format, &clock, linger);
            for _ in 0..args.time_sockets {
                server
                    .add_socket(&mut rt.sockets, tcp_socket(256, 256))
                    .map_err(full)?;
            }
            time_servers.push((port, server));
        }
    }
    let mut file_server = match store {
        Some(store) => {
            let mut server = Box::new(FileServer::<DirStore, MAX_POOL>::new(
                args.file_port,
                store,
                FileTimers {
                    request: Duration::from_secs(args.file_request_timeout),
                    ..FileTimers::default()
                },
            ));
            for _ in 0..args.file_sockets {
                server
                    .add_socket(&mut rt.sockets, tcp_socket(1024, args.file_buffer as usize))
                    .map_err(full)?;
            }
            Some(server)
        }
        None => None,
    };
    let mut chat = None;
    if !args.no_chat {
        let mut room = Box::new(ChatServer::<MAX_POOL>::new(
            args.chat_port,
            Duration::from_millis(args.chat_stall_ms),
        ));
        // The room grows its sockets as members come (see ChatServer::wants_socket).
        room.set_room(usize::from(args.chat_members));
        while room.wants_socket() {
            room.add_socket(&mut rt.sockets, tcp_socket(4096, args.chat_queue as usize))
                .map_err(full)?;
        }
        for _ in 0..2 {
            room.add_overflow_socket(&mut rt.sockets, tcp_socket(64, 64))
                .map_err(full)?;
        }
        chat = Some(room);
    }
    let mut sntp_client = match sntp {
        Some(server) => Some(
            SntpClient::new(
                &mut rt.sockets,
                udp_socket(4, 512),
                rt.ports.next_port(),
                server,
                &clock,
                SntpTimers::default(),
                crate::netargs::random_seed(),
            )
            .map_err(|e| format!("sntp: {e}"))?,
        ),
        None => None,
    };
    let mut dhcp = args.net.dhcp.then(|| DhcpClient::new(&mut rt.sockets));

    let mut listening = Vec::new();
    if !args.no_echo {
        listening.push(format!("echo tcp+udp/{}", args.echo_port));
    }
    for (port, _) in &time_servers {
        listening.push(format!("time tcp/{port}"));
    }
    if udp_time.is_some() {
        listening.push("time udp/37".into());
    }
    if !args.no_chat {
        listening.push(format!("chat tcp/{}", args.chat_port));
    }
    if let Some(dir) = &args.files {
        listening.push(format!(
            "file tcp/{} from {}",
            args.file_port,
            dir.display()
        ));
    }
    report::log(&format!(
        "{} on {} (mtu {}): {}",
        rt.describe(),
        rt.device.name(),
        rt.device.mtu(),
        listening.join(", ")
    ));
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    let mut ready = dhcp.is_none();
    if ready {
        report::log("ready");
    }

    while !stop.load(Ordering::Relaxed) {
        if sntp_client.is_none() {
            clock.set_unix_micros(unix_micros_now(), rt.now());
        }
        let mut services: Vec<&mut dyn Service> = Vec::with_capacity(8);
        if let Some(d) = dhcp.as_mut() {
            services.push(d);
        }
        if let Some(s) = sntp_client.as_mut() {
            services.push(s);
        }
        if !args.no_echo {
            services.push(tcp_echo.as_mut());
        }
        if let Some(u) = udp_echo.as_mut() {
            services.push(u.as_mut());
        }
        for (_, server) in time_servers.iter_mut() {
            services.push(server);
        }
        if let Some(u) = udp_time.as_mut() {
            services.push(u);
        }
        if let Some(f) = file_server.as_mut() {
            services.push(f.as_mut());
        }
        if let Some(c) = chat.as_mut() {
            services.push(c.as_mut());
        }
        let mut deadline = rt.step(&mut services);
        drop(services);
        if let Some(c) = chat.as_mut()
            && c.wants_socket()
        {
            while c.wants_socket() {
                c.add_socket(&mut rt.sockets, tcp_socket(4096, args.chat_queue as usize))
                    .map_err(full)?;
            }
            deadline = Some(rt.now());
        }

        while let Some(e) = tcp_echo.events.pop() {
            log_echo("tcp", args.echo_port, e);
        }
        if let Some(u) = udp_echo.as_mut() {
            while let Some(e) = u.events.pop() {
                log_echo("udp", args.echo_port, e);
            }
        }
        for (port, server) in time_servers.iter_mut() {
            while let Some(e) = server.events.pop() {
                log_time("tcp", *port, e);
            }
        }
        if let Some(u) = udp_time.as_mut() {
            while let Some(e) = u.events.pop() {
                log_time("udp", time::RFC868_PORT, e);
            }
        }
        if let Some(c) = chat.as_mut() {
            while let Some(e) = c.events.pop() {
                log_chat(args.chat_port, e);
            }
        }
        if let Some(f) = file_server.as_mut() {
            while let Some(e) = f.events.pop() {
                log_file(args.file_port, e);
            }
        }
        if let Some(s) = sntp_client.as_mut() {
            while let Some(e) = s.events.pop() {
                report::log(&match e {
                    SntpEvent::Synced { unix_secs, rtt } => {
                        format!(
                            "sntp: clock set to {unix_secs} (round trip {} ms)",
                            rtt.total_millis()
                        )
                    }
                    SntpEvent::Ignored { from, reason } => {
                        format!("sntp: ignored a datagram from {from}: {reason:?}")
                    }
                    SntpEvent::Timeout { retry_in } => {
                        format!("sntp: no valid reply, retrying in {} s", retry_in.secs())
                    }
                });
            }
        }
        if let Some(d) = dhcp.as_mut() {
            while let Some(e) = d.events.pop() {
                match e {
                    DhcpEvent::Configured(lease) => {
                        report::log(&format!(
                            "dhcp address {} router {} dns {}",
                            lease.address,
                            lease.router.map_or("none".into(), |r| r.to_string()),
                            lease.dns_server.map_or("none".into(), |r| r.to_string()),
                        ));
                        if !ready {
                            ready = true;
                            report::log("ready");
                        }
                    }
                    DhcpEvent::Deconfigured => report::log("dhcp lease lost"),
                }
            }
        }
        rt.wait(deadline, None).map_err(|e| format!("poll: {e}"))?;
    }
    report::log(&format!(
        "stopped; {}: {}",
        rt.device.name(),
        rt.device.stats()
    ));
    Ok(())
}
