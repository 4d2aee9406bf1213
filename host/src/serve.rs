//! `minnow serve`: every service built so far on one TAP device.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use minnow::WallClock;
use minnow::chat::server::OVERFLOW_SOCKETS;
use minnow::echo;
use minnow::file::server::FileTimers;
use minnow::net::endpoint::{Host, parse_host_port};
use minnow::net::guard::Guard;
use minnow::net::source_rate::UdpRate;
use minnow::services::{
    ChatConfig, DiscardConfig, EchoConfig, FileConfig, LogLimit, ServiceConfig, ServiceSet,
    SntpConfig, TcpSizing, TimeConfig, UdpSizing, Verdict,
};
use minnow::time;
use minnow::time::sntp::NTP_PORT;
use minnow::time::sntp_client::SntpTimers;
use smoltcp::time::Duration;
use smoltcp::wire::IpEndpoint;

use crate::device::HostDevice;
use crate::dir_store::DirStore;
use crate::error::Error;
use crate::netargs::NetArgs;
use crate::privileges::{Role, RunAs};
use crate::report;
use crate::runtime::{Leak, Runtime};

/// Most sockets one TCP service may have on the host.
pub const MAX_POOL: usize = 256;
/// The longest timeout taken from the command line: a week, far from where
/// the clock's arithmetic could overflow.
pub const MAX_SECS: u64 = 7 * 24 * 3600;
/// Largest UDP datagram the echo server returns (a jumbo frame's payload).
pub const MAX_DATAGRAM: usize = 9000;

/// Which driver carries `minnow serve`'s frames.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// Minnow's own TAP device (counters, --pcap, --mtu).
    Tap,
    /// The embassy-net-tuntap driver through the minnow-embassy adapter, as
    /// a board runs its MAC's embassy-net driver; the interface's own MTU
    /// applies, and --pcap is refused.
    EmbassyTuntap,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub net: NetArgs,
    /// Driver for the TAP device: Minnow's own, or an embassy-net driver
    /// (embassy-net-tuntap) through the minnow-embassy adapter.
    #[arg(long, value_enum, default_value = "tap", value_name = "DRIVER")]
    pub driver: DriverKind,
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
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub idle_timeout: u64,
    /// Recycle a connection still half-open (SYN received, no ACK) after this long, milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub handshake_timeout_ms: u64,
    /// TCP keep-alive interval on established connections, seconds; a peer
    /// that answers none of three probes is reset (0: off).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub keep_alive: u64,
    /// The most connections one address may hold in a pool or the chat room
    /// (0: half the pool or room).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=MAX_POOL as i64))]
    pub per_source: u16,
    /// Answer at most this many UDP echo and RFC 868 datagrams a second to
    /// one source address, bursts of as many (0: no limit): a stream forged
    /// from a victim's address gets it no more.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=10_000))]
    pub udp_rate: u16,
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
    /// Disconnect a chat member that holds the room up this long in all
    /// (its full queue blocks a line; a quarter of the time it does not
    /// is taken off), milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub chat_stall_ms: u64,
    /// Disconnect a chat member that sends nothing for this long, seconds (0: never).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub chat_idle_timeout: u64,
    /// Relay chat text byte for byte, terminal controls included, as the
    /// notes' server does (by default they are replaced with '?', so nobody
    /// can forge another member's prefix or send escape sequences).
    #[arg(long)]
    pub chat_raw: bool,
    /// Serve the files of this folder (file transfer, the notes' port 60000).
    #[arg(long, value_name = "DIR")]
    pub files: Option<std::path::PathBuf>,
    /// The file sent for any request that is not `GET NAME` (a name inside --files).
    #[arg(long = "default", value_name = "NAME", requires = "files")]
    pub default_file: Option<String>,
    /// Also serve names with a part starting with `.` (refused by default).
    /// Symlinks, FIFOs, devices and folders are never served.
    #[arg(long, requires = "files")]
    pub dot_files: bool,
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
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub file_request_timeout: u64,
    /// Also run RFC 863 discard (TCP and UDP): a sink for throughput tests.
    #[arg(long)]
    pub discard: bool,
    /// Discard port, TCP and UDP (RFC 863 uses 9).
    #[arg(long, default_value_t = minnow::discard::DEFAULT_PORT)]
    pub discard_port: u16,
    /// Once the TAP device, --pcap and --files are open, run as this user
    /// [default: the invoking user under sudo (SUDO_UID/SUDO_GID), else
    /// nobody]; `--user root` keeps root.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
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

fn sntp_server(text: &str) -> Result<IpEndpoint, Error> {
    match parse_host_port(text, NTP_PORT) {
        Ok((Host::Addr(addr), port)) => Ok(IpEndpoint::new(addr, port)),
        Ok((Host::Name(_), _)) => Err(Error::Usage(format!(
            "--sntp {text}: give the server's IP address"
        ))),
        Err(e) => Err(Error::Usage(format!("--sntp {text}: {e}"))),
    }
}

/// The services these options ask for.
/// `n` seconds, or `None` for 0 (off).
fn secs(n: u64) -> Option<Duration> {
    (n > 0).then(|| Duration::from_secs(n))
}

fn service_config(args: &ServeArgs, sntp: Option<IpEndpoint>) -> ServiceConfig {
    let tcp_buf = args.tcp_buffer as usize;
    let udp = UdpSizing {
        packets: (args.udp_buffer as usize / 64).max(8),
        bytes: args.udp_buffer as usize,
    };
    let idle = secs(args.idle_timeout);
    ServiceConfig {
        echo: (!args.no_echo).then_some(EchoConfig {
            port: args.echo_port,
            tcp: TcpSizing {
                sockets: args.echo_sockets.into(),
                rx: tcp_buf,
                tx: tcp_buf,
            },
            udp,
            idle_timeout: idle,
        }),
        time: (!args.no_time).then_some(TimeConfig {
            port: args.time_port,
            daytime: args.daytime,
            rfc868: args.rfc868,
            tcp: TcpSizing {
                sockets: args.time_sockets.into(),
                rx: 256,
                tx: 256,
            },
            udp: UdpSizing {
                packets: 16,
                bytes: 2048,
            },
            linger: Duration::from_secs(10),
        }),
        file: args.files.is_some().then_some(FileConfig {
            port: args.file_port,
            tcp: TcpSizing {
                sockets: args.file_sockets.into(),
                rx: 1024,
                tx: args.file_buffer as usize,
            },
            timers: FileTimers {
                request: Duration::from_secs(args.file_request_timeout),
                ..FileTimers::DEFAULT
            },
        }),
        chat: (!args.no_chat).then_some(ChatConfig {
            port: args.chat_port,
            places: args.chat_members.into(),
            rx: 4096,
            queue: args.chat_queue as usize,
            stall: Duration::from_millis(args.chat_stall_ms),
            overflow: OVERFLOW_SOCKETS,
            overflow_buffer: 64,
            idle_timeout: secs(args.chat_idle_timeout),
            raw: args.chat_raw,
        }),
        discard: args.discard.then_some(DiscardConfig {
            port: args.discard_port,
            tcp: TcpSizing {
                sockets: args.echo_sockets.into(),
                rx: tcp_buf,
                tx: 64,
            },
            udp,
            idle_timeout: idle,
        }),
        sntp: sntp.map(|server| SntpConfig {
            server,
            timers: SntpTimers::DEFAULT,
            udp: UdpSizing {
                packets: 4,
                bytes: 512,
            },
        }),
        dhcp: args.net.dhcp,
        slaac: args.net.slaac,
        seed: crate::netargs::random_seed(),
        guard: Guard {
            handshake_timeout: Duration::from_millis(args.handshake_timeout_ms),
            keep_alive: secs(args.keep_alive),
            per_source: args.per_source.into(),
            udp_rate: (args.udp_rate > 0).then_some(UdpRate {
                per_second: args.udp_rate,
                burst: args.udp_rate,
            }),
            ..Guard::DEFAULT
        },
    }
}

/// What `minnow serve` runs: pools of up to [`MAX_POOL`] connections.
type HostServices = ServiceSet<
    'static,
    DirStore,
    MAX_POOL,
    MAX_POOL,
    MAX_POOL,
    MAX_POOL,
    1024,
    MAX_DATAGRAM,
    MAX_POOL,
>;

pub fn run(args: ServeArgs) -> Result<(), Error> {
    let sntp = args.sntp.as_deref().map(sntp_server).transpose()?;
    let run_as = RunAs::decide(Role::Server(args.user.as_deref()))?;
    // The folder's handle is opened here, before root is given up.
    let store = match &args.files {
        Some(dir) => Some(DirStore::new(
            dir,
            args.default_file.clone(),
            args.dot_files,
        )?),
        None => None,
    };
    let config = service_config(&args, sntp);
    let sockets = config.sockets() + 8;
    match args.driver {
        DriverKind::Tap => {
            let rt = args.net.runtime(sockets, &run_as)?;
            serve_on(rt, &args, &config, store, sntp.is_some())
        }
        DriverKind::EmbassyTuntap => {
            let rt = args.net.embassy_runtime(sockets, &run_as)?;
            serve_on(rt, &args, &config, store, sntp.is_some())
        }
    }
}

/// How often a loop whose link is down looks whether it is up again.
const LINK_RECHECK: Duration = Duration::from_millis(100);

/// The services of `config` on `rt` until SIGINT or SIGTERM.
fn serve_on<D: HostDevice>(
    mut rt: Runtime<D>,
    args: &ServeArgs,
    config: &ServiceConfig,
    store: Option<DirStore>,
    sntp: bool,
) -> Result<(), Error> {
    let clock: &'static WallClock = Box::leak(Box::new(WallClock::new()));
    let mut set: Box<HostServices> = Box::default();
    let mut limit = LogLimit::DEFAULT;
    set.build(config, &mut rt.stack, &mut Leak, clock, store)
        .map_err(|e| e.to_string())?;

    // What the set serves, in core's words; the folder is the host's own.
    let files = args
        .files
        .as_ref()
        .map(|dir| format!(" (files from {})", dir.display()))
        .unwrap_or_default();
    let driver = rt
        .device
        .driver()
        .map(|d| format!("{d} driver, "))
        .unwrap_or_default();
    let offload = rt
        .device
        .offload()
        .map(|o| format!(", {o}"))
        .unwrap_or_default();
    report::log(&format!(
        "{} on {} ({driver}mtu {}{offload}): {}{files}",
        rt.describe(),
        rt.device.name(),
        rt.device.mtu(),
        set.listening(),
    ));
    let mut was_up = true;
    while !rt.stopped() {
        if !sntp {
            clock.set_unix_micros(unix_micros_now(), rt.now());
        }
        let up = rt.device.link_up();
        if up != was_up {
            let state = if up { "up" } else { "down" };
            report::log(&format!("{}: link {state}", rt.device.name()));
            was_up = up;
        }
        let now = rt.now();
        let deadline = set.poll(&mut rt.stack, &mut rt.device, &mut Leak, &mut [], now);
        // Down, nothing moves (a pending send would make the deadline now):
        // look again a little later.
        let deadline = if up {
            deadline
        } else {
            Some(now + LINK_RECHECK)
        };
        while let Some(e) = set.pop_event() {
            match limit.admit(now) {
                Verdict::Drop => continue,
                Verdict::PrintAfter(n) => {
                    report::log(&format!("({n} more events not shown: over 50 a second)"))
                }
                Verdict::Print => {}
            }
            report::log(&e.to_string());
        }
        rt.wait(deadline, None).map_err(|e| format!("poll: {e}"))?;
    }
    let unanswered = set.unanswered_datagrams();
    if unanswered > 0 {
        report::log(&format!(
            "udp: {unanswered} datagrams left unanswered (broadcast, multicast, or from a \
             service's port: answering could reflect them)"
        ));
    }
    if let Some((datagrams, bytes)) = set.discarded_datagrams() {
        report::log(&format!(
            "discard udp/{}: discarded {datagrams} datagrams, {bytes} bytes",
            args.discard_port
        ));
    }
    report::log(&format!(
        "stopped; {}: {}",
        rt.device.name(),
        rt.device.stats()
    ));
    Ok(())
}
