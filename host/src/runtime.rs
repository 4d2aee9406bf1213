//! The host runtime: one device (Minnow's TAP device, or an embassy-net
//! driver on a TAP), one smoltcp interface, one socket set, and a loop that
//! sleeps in poll(2) until a frame, another watched fd or the next
//! deadline, so an idle `minnow serve` uses no CPU.

use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant as StdInstant;

use minnow::net::dhcp::{DhcpClient, Lease};
use minnow::net::storage::OutOfMemory;
use minnow::net::{NetConfig, SocketAlloc, Stack, wait_duration};
use minnow::service::{Net, Service};
use nix::poll::PollFlags;
use smoltcp::iface::{SocketSet, SocketStorage};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::{Duration, Instant};

use crate::device::HostDevice;
use crate::error::Result;
use crate::link::{self, MAX_SLEEP, Sleeper, Turn};
use crate::tap::TapDevice;

/// A device (the TAP device unless named) with core's [`Stack`] on it:
/// what is the host's own is the device, the clock and the sleep in poll(2).
pub struct Runtime<D = TapDevice> {
    pub device: D,
    pub stack: Stack<'static>,
    start: StdInstant,
    /// Set by SIGINT or SIGTERM.
    stop: Arc<AtomicBool>,
    /// A client's DHCP (see [`Runtime::start_dhcp`]), polled by every step.
    dhcp: Option<DhcpClient>,
}

/// Socket buffers on the heap, kept for the life of the process.
pub struct Leak;

impl SocketAlloc<'static> for Leak {
    fn tcp(&mut self, rx: usize, tx: usize) -> Result<tcp::Socket<'static>, OutOfMemory> {
        Ok(tcp_socket(rx, tx))
    }

    fn udp(&mut self, packets: usize, bytes: usize) -> Result<udp::Socket<'static>, OutOfMemory> {
        Ok(udp_socket(packets, bytes))
    }
}

/// Leaks a zeroed buffer: socket memory lives as long as the process.
pub fn leak_bytes(len: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; len].into_boxed_slice())
}

/// A TCP socket with `rx` and `tx` bytes of buffer.
pub fn tcp_socket(rx: usize, tx: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(leak_bytes(rx)),
        tcp::SocketBuffer::new(leak_bytes(tx)),
    )
}

/// A UDP socket with `bytes` of payload buffer and room for `packets`
/// datagrams, each way.
pub fn udp_socket(packets: usize, bytes: usize) -> udp::Socket<'static> {
    let meta = || Box::leak(vec![udp::PacketMetadata::EMPTY; packets].into_boxed_slice());
    udp::Socket::new(
        udp::PacketBuffer::new(&mut meta()[..], leak_bytes(bytes)),
        udp::PacketBuffer::new(&mut meta()[..], leak_bytes(bytes)),
    )
}

impl<D: HostDevice> Runtime<D> {
    /// Builds the stack on `device` with room for `max_sockets` sockets;
    /// SIGINT and SIGTERM from now on ask the loop to stop.
    pub fn new(mut device: D, config: &NetConfig, max_sockets: usize) -> Result<Self> {
        let start = StdInstant::now();
        let storage: &mut [SocketStorage<'static>] =
            Box::leak((0..max_sockets).map(|_| SocketStorage::EMPTY).collect());
        let sockets = SocketSet::new(&mut storage[..]);
        let stack = Stack::new(config, &mut device, sockets, Instant::ZERO);
        Ok(Self {
            device,
            stack,
            start,
            stop: stop_flag()?,
            dhcp: None,
        })
    }

    /// The interface's addresses, for log lines.
    pub fn describe(&self) -> String {
        let addrs: Vec<String> = self
            .stack
            .iface
            .ip_addrs()
            .iter()
            .map(|a| a.to_string())
            .collect();
        if addrs.is_empty() {
            "no address yet".into()
        } else {
            addrs.join(", ")
        }
    }

    /// Monotonic time since the runtime started.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as i64)
    }

    /// The interface and sockets, as services see them.
    pub fn net(&mut self) -> Net<'_, 'static> {
        self.stack.net()
    }

    /// One loop step with [`Stack::poll`]: the runtime's DHCP client, then
    /// `services`. Returns the next deadline.
    pub fn step(&mut self, services: &mut [&mut dyn Service]) -> Option<Instant> {
        let now = self.now();
        self.stack
            .poll(&mut self.device, &mut (&mut self.dhcp, services), now)
    }

    /// Starts DHCP for a client command and steps until the lease (at most
    /// 20 s); every later step keeps the lease.
    pub fn start_dhcp(&mut self) -> Result<Lease> {
        self.dhcp = Some(DhcpClient::new(&mut self.stack.sockets));
        let limit = self.now() + Duration::from_secs(20);
        self.run_until(Some((limit, "no DHCP lease within 20 s")), |rt, _| {
            Ok(match rt.lease() {
                Some(lease) => Turn::Done(lease),
                None => Turn::Wait(rt.step(&mut [])),
            })
        })
    }

    /// Steps until router advertisements gave an address (at most 20 s; the
    /// interface was built with SLAAC on); returns the DNS server they
    /// named, if any.
    pub fn await_slaac(&mut self) -> Result<Option<smoltcp::wire::Ipv6Address>> {
        let mut watch = minnow::net::slaac::SlaacWatch::new(&self.stack.iface);
        let limit = self.now() + Duration::from_secs(20);
        let what = "no IPv6 address from router advertisements within 20 s";
        self.run_until(Some((limit, what)), |rt, _| {
            let dns = rt.stack.gate.advertised_dns();
            watch.set_dns(dns);
            // The advertisement's DNS server is known before smoltcp applies
            // its address (a step later): both come together.
            Ok(match watch.current() {
                Some(got) => Turn::Done(got.dns),
                None => Turn::Wait(rt.step(&mut [&mut watch])),
            })
        })
    }

    /// The DHCP lease, when DHCP runs and has one.
    pub fn lease(&self) -> Option<Lease> {
        self.dhcp.as_ref().and_then(DhcpClient::lease)
    }

    /// Whether SIGINT or SIGTERM arrived.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// [`link::run_until`] on this runtime.
    pub fn run_until<T>(
        &mut self,
        limit: Option<(Instant, &str)>,
        turn: impl FnMut(&mut Self, bool) -> Result<Turn<T>>,
    ) -> Result<T> {
        link::run_until(self, limit, turn)
    }

    /// Gives the stack 50 ms more so that final segments (our FIN, the
    /// last ACK) leave before the process ends.
    pub fn flush(&mut self) {
        let until = self.now() + Duration::from_millis(50);
        while self.now() < until && !self.stopped() {
            let deadline = self.step(&mut []);
            let capped = Some(deadline.map_or(until, |d| d.min(until)));
            if self.wait(capped, None).is_err() {
                break;
            }
        }
    }

    /// Sleeps until a frame arrives, `extra` is readable, or `deadline`.
    /// Returns whether `extra` is readable (or hung up).
    pub fn wait(
        &mut self,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> std::io::Result<bool> {
        let now = self.now();
        if wait_duration(now, deadline, MAX_SLEEP) == Duration::ZERO && extra.is_none() {
            return Ok(false);
        }
        let ready = link::sleep_on(
            self.device.wait_fd(),
            PollFlags::POLLIN,
            now,
            deadline,
            extra,
        )?;
        if let Some(err) = self.device.after_wait() {
            eprintln!("minnow: {}: {err}", self.device.name());
        }
        Ok(ready)
    }
}

impl<D: HostDevice> Sleeper for Runtime<D> {
    fn now(&self) -> Instant {
        Runtime::now(self)
    }

    fn stopped(&self) -> bool {
        Runtime::stopped(self)
    }

    fn wait(
        &mut self,
        deadline: Option<Instant>,
        extra: Option<BorrowedFd<'_>>,
    ) -> std::io::Result<bool> {
        Runtime::wait(self, deadline, extra)
    }
}

/// A flag that SIGINT and SIGTERM set from now on, so that loops stop
/// cleanly instead of dying mid-transfer.
pub fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    Ok(stop)
}
