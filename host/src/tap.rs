//! A smoltcp [`Device`] over a Linux TAP interface.
//!
//! The TAP interface is opened in `IFF_TAP | IFF_NO_PI` mode, so every
//! `read(2)`/`write(2)` on its file descriptor carries exactly one Ethernet
//! frame with no extra header. The descriptor is non-blocking: the runtime
//! waits for readability with `poll(2)` on [`TapDevice::as_fd`] and then lets
//! smoltcp drain it through [`Device::receive`].
//!
//! One receive and one transmit buffer of `mtu + 14` bytes are allocated in
//! [`TapDevice::open`] (the receive buffer has one spare byte to detect
//! frames longer than that); no memory is allocated per frame afterwards.
//!
//! smoltcp's `Device` trait cannot report errors, so I/O errors are counted
//! in [`TapStats`] and the last one is kept for [`TapDevice::take_error`].

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::pcap::PcapWriter;

/// Length of an Ethernet header (destination, source, EtherType), which the
/// TAP interface carries in front of every IP packet.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Longest interface name Linux accepts (`IFNAMSIZ - 1`).
pub const MAX_NAME_LEN: usize = 15;
/// Smallest accepted IP MTU (the IPv4 minimum).
pub const MIN_MTU: usize = 68;
/// Largest accepted IP MTU (Linux's `ETH_MAX_MTU`).
pub const MAX_MTU: usize = 65535;

const TUN_PATH: &str = "/dev/net/tun";

/// Why a TAP interface could not be opened.
#[derive(Debug)]
pub enum TapError {
    /// The name is longer than the 15 bytes Linux allows for an interface.
    NameTooLong { name: String },
    /// The name contains a NUL byte.
    InvalidName { name: String },
    /// The MTU is outside `MIN_MTU..=MAX_MTU`.
    InvalidMtu { name: String, mtu: usize },
    /// EPERM/EACCES: the process lacks root / `CAP_NET_ADMIN`.
    PermissionDenied { name: String, source: io::Error },
    /// `/dev/net/tun` is missing, or the tun driver is not loaded.
    NoTunDevice { name: String, source: io::Error },
    /// EINVAL from `TUNSETIFF`: bad name, or an interface of that name exists
    /// and is not a TAP device of the same kind (TUN, multi-queue, or a
    /// non-tun interface such as `lo`).
    InvalidOrWrongMode { name: String, source: io::Error },
    /// EBUSY from `TUNSETIFF`: another process already has the device open.
    Busy { name: String, source: io::Error },
    /// Any other OS error.
    Other { name: String, source: io::Error },
}

impl TapError {
    /// The error of opening `name` that the OS reported as `source`.
    pub fn from_open(name: &str, source: io::Error) -> Self {
        let name = name.to_owned();
        let errno = source.raw_os_error().map(Errno::from_raw);
        match errno {
            Some(Errno::EPERM | Errno::EACCES) => Self::PermissionDenied { name, source },
            Some(Errno::ENOENT | Errno::ENODEV | Errno::ENXIO) => {
                Self::NoTunDevice { name, source }
            }
            Some(Errno::EINVAL) => Self::InvalidOrWrongMode { name, source },
            Some(Errno::EBUSY) => Self::Busy { name, source },
            _ => Self::Other { name, source },
        }
    }
}

impl fmt::Display for TapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NameTooLong { name } => write!(
                f,
                "cannot open TAP device {name:?}: the name is {} bytes long, \
                 but Linux interface names are at most {MAX_NAME_LEN} bytes",
                name.len()
            ),
            Self::InvalidName { name } => write!(
                f,
                "cannot open TAP device {name:?}: the name must not contain a NUL byte"
            ),
            Self::InvalidMtu { name, mtu } => write!(
                f,
                "cannot open TAP device {name:?}: MTU {mtu} is out of range \
                 ({MIN_MTU}..={MAX_MTU})"
            ),
            Self::PermissionDenied { name, source } => {
                write!(
                    f,
                    "cannot open TAP device {name:?}: {source}; opening a TAP device needs \
                     root or the CAP_NET_ADMIN capability"
                )?;
                if source.raw_os_error() == Some(Errno::EACCES as i32) {
                    // open(2) of the device node failed.
                    write!(
                        f,
                        ", and {TUN_PATH} must be readable and writable by this user"
                    )
                } else {
                    // TUNSETIFF refused: creating, or attaching to a device
                    // that belongs to another user.
                    write!(
                        f,
                        " (or create it beforehand for this user: \
                         `ip tuntap add dev {name} mode tap user $USER`)"
                    )
                }
            }
            Self::NoTunDevice { name, source } => write!(
                f,
                "cannot open TAP device {name:?}: {TUN_PATH} is not usable ({source}); \
                 the tun kernel module or its device node is missing (try \
                 `modprobe tun`, or in a container pass /dev/net/tun through)"
            ),
            Self::InvalidOrWrongMode { name, source } => write!(
                f,
                "cannot open TAP device {name:?}: {source}; the name is invalid, or an \
                 interface with that name already exists in a different mode (a TUN \
                 device, a multi-queue TAP, or not a tun/tap interface at all)"
            ),
            Self::Busy { name, source } => write!(
                f,
                "cannot open TAP device {name:?}: {source}; the device is busy: another \
                 process already has it open"
            ),
            Self::Other { name, source } => {
                write!(f, "cannot open TAP device {name:?}: {source}")
            }
        }
    }
}

impl std::error::Error for TapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NameTooLong { .. } | Self::InvalidName { .. } | Self::InvalidMtu { .. } => None,
            Self::PermissionDenied { source, .. }
            | Self::NoTunDevice { source, .. }
            | Self::InvalidOrWrongMode { source, .. }
            | Self::Busy { source, .. }
            | Self::Other { source, .. } => Some(source),
        }
    }
}

/// Counters of a [`TapDevice`] since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Frames read from the interface.
    pub frames_in: u64,
    /// Frames written to the interface.
    pub frames_out: u64,
    /// Bytes of the frames read (Ethernet header included).
    pub bytes_in: u64,
    /// Bytes of the frames written (Ethernet header included).
    pub bytes_out: u64,
    /// I/O errors: failed reads and writes other than `EAGAIN`, oversized
    /// frames, short writes, pcap write failures.
    pub errors: u64,
    /// Frames dropped because the kernel's queue was full (`EAGAIN` on write).
    pub tx_dropped: u64,
}

impl fmt::Display for TapStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in: {} frames, {} bytes; out: {} frames, {} bytes; {} errors, {} dropped (queue full)",
            self.frames_in,
            self.bytes_in,
            self.frames_out,
            self.bytes_out,
            self.errors,
            self.tx_dropped
        )
    }
}

/// Everything a transmit token needs; kept apart from the receive buffer so
/// that an [`RxToken`] and a [`TxToken`] can borrow the device at once.
struct TxSide {
    name: String,
    file: File,
    buf: Box<[u8]>,
    monitor: Monitor,
}

/// Capture, counters and the last error, shared by both directions.
struct Monitor {
    pcap: Option<PcapWriter<File>>,
    stats: TapStats,
    error: Option<io::Error>,
}

impl Monitor {
    fn record_error(&mut self, err: io::Error) {
        self.stats.errors += 1;
        self.error = Some(err);
    }

    /// Records a frame in the pcap, if one is attached. A failing capture
    /// (disk full, ...) is reported once through `take_error` and detached,
    /// so that it does not disturb the network traffic.
    fn capture(&mut self, frame: &[u8]) {
        if let Some(pcap) = self.pcap.as_mut()
            && let Err(e) = pcap.write_frame(frame)
        {
            self.pcap = None;
            self.record_error(io::Error::new(
                e.kind(),
                format!("writing the packet capture failed, capture stopped: {e}"),
            ));
        }
    }
}

impl TxSide {
    /// Writes the first `len` bytes of the transmit buffer as one frame.
    fn send(&mut self, len: usize) {
        let frame = &self.buf[..len];
        let result = loop {
            match (&self.file).write(frame) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let monitor = &mut self.monitor;
        match result {
            Ok(n) if n == len => {
                monitor.stats.frames_out += 1;
                monitor.stats.bytes_out += len as u64;
                monitor.capture(frame);
            }
            Ok(n) => monitor.record_error(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write to the TAP device: {n} of {len} bytes"),
            )),
            // The kernel's queue is full: drop the frame, TCP retransmits.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => monitor.stats.tx_dropped += 1,
            Err(e) if e.raw_os_error() == Some(Errno::EIO as i32) => {
                monitor.record_error(io::Error::new(
                    e.kind(),
                    format!(
                        "writing to TAP device {:?} failed: {e}; the interface is \
                         probably down (`ip link set {} up`)",
                        self.name, self.name
                    ),
                ))
            }
            Err(e) => monitor.record_error(e),
        }
    }
}

/// A smoltcp [`Device`] reading and writing Ethernet frames on a Linux TAP
/// interface.
pub struct TapDevice {
    mtu: usize,
    rx_buf: Box<[u8]>,
    tx: TxSide,
}

impl TapDevice {
    /// Opens (attaches to, or creates) the TAP interface `name` in
    /// `IFF_TAP | IFF_NO_PI` mode, makes its descriptor non-blocking and
    /// allocates one receive and one transmit buffer of `mtu + 14` bytes.
    ///
    /// `mtu` is the IP MTU (1500 on a usual Ethernet); it must lie in
    /// `MIN_MTU..=MAX_MTU`, and should not be smaller than the MTU of the
    /// TAP interface itself: longer frames the kernel sends are dropped,
    /// counted as errors and reported through `take_error`.
    pub fn open(name: &str, mtu: usize) -> Result<Self, TapError> {
        check_name(name)?;
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(TapError::InvalidMtu {
                name: name.to_owned(),
                mtu,
            });
        }
        let iface = tun_tap::Iface::without_packet_info(name, tun_tap::Mode::Tap)
            .map_err(|e| TapError::from_open(name, e))?;
        // The kernel may have picked the name (empty name or `%d`).
        let real_name = iface.name().to_owned();
        // SAFETY: `into_raw_fd` hands over ownership of a valid, open
        // descriptor that nothing else refers to.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(iface.into_raw_fd()) });
        set_non_blocking(&file).map_err(|e| TapError::Other {
            name: real_name.clone(),
            source: e,
        })?;
        wait_for_carrier(&real_name);
        let frame_len = mtu + ETHERNET_HEADER_LEN;
        Ok(Self {
            mtu,
            // One spare byte reveals frames longer than `frame_len`, which
            // the kernel would otherwise silently truncate to the buffer.
            rx_buf: vec![0; frame_len + 1].into_boxed_slice(),
            tx: TxSide {
                name: real_name,
                file,
                buf: vec![0; frame_len].into_boxed_slice(),
                monitor: Monitor {
                    pcap: None,
                    stats: TapStats::default(),
                    error: None,
                },
            },
        })
    }

    /// The descriptor of the TAP interface, to wait on with `poll(2)`.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.tx.file.as_fd()
    }

    /// Attaches a pcap writer: from now on every frame received or
    /// successfully sent is recorded. If writing the capture fails, the
    /// error is reported once through [`take_error`](Self::take_error) and
    /// the capture is detached.
    pub fn set_pcap(&mut self, pcap: PcapWriter<File>) {
        self.tx.monitor.pcap = Some(pcap);
    }

    /// The last I/O error seen since the previous call, if any.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.tx.monitor.error.take()
    }

    /// Frame, byte and error counters since the device was opened.
    pub fn stats(&self) -> TapStats {
        self.tx.monitor.stats
    }

    /// The name of the interface, as the kernel reports it.
    pub fn name(&self) -> &str {
        &self.tx.name
    }

    /// The IP MTU given to [`open`](Self::open).
    pub fn mtu(&self) -> usize {
        self.mtu
    }
}

/// Refuses a name Linux would not take (too long, or with a NUL byte)
/// before any call reaches the kernel.
pub fn check_name(name: &str) -> Result<(), TapError> {
    if name.len() > MAX_NAME_LEN {
        return Err(TapError::NameTooLong {
            name: name.to_owned(),
        });
    }
    if name.contains('\0') {
        return Err(TapError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn set_non_blocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let flags = fcntl(fd, FcntlArg::F_GETFL)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// A received frame, borrowed from the device's receive buffer.
pub struct RxToken<'a> {
    buf: &'a [u8],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        f(self.buf)
    }
}

/// Permission to send one frame through the device's transmit buffer.
pub struct TxToken<'a> {
    io: &'a mut TxSide,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let io = self.io;
        if len > io.buf.len() {
            // smoltcp never asks for more than the advertised MTU, so this
            // does not happen. The closure must still run to produce `R`,
            // and smoltcp expects a buffer of exactly `len` bytes, so it gets
            // a throwaway one; the frame is dropped and counted as an error.
            io.monitor.record_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {len} bytes exceeds the {}-byte transmit buffer; dropped",
                    io.buf.len()
                ),
            ));
            return f(&mut vec![0; len]);
        }
        let result = f(&mut io.buf[..len]);
        io.send(len);
        result
    }
}

impl Device for TapDevice {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let Self { rx_buf, tx, mtu } = self;
        let len = loop {
            match (&tx.file).read(rx_buf) {
                Ok(0) => return None,
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) => {
                    tx.monitor.record_error(e);
                    return None;
                }
            }
        };
        let max_len = rx_buf.len() - 1;
        if len > max_len {
            tx.monitor.record_error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "dropped a received frame longer than {max_len} bytes: the MTU of \
                     interface {:?} is larger than ours ({})",
                    tx.name, mtu
                ),
            ));
            return None;
        }
        let frame = &rx_buf[..len];
        tx.monitor.stats.frames_in += 1;
        tx.monitor.stats.bytes_in += len as u64;
        tx.monitor.capture(frame);
        Some((RxToken { buf: frame }, TxToken { io: tx }))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken { io: &mut self.tx })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + ETHERNET_HEADER_LEN;
        caps
    }
}

/// Waits (at most 200 ms) until the kernel reports carrier on the freshly
/// attached TAP device: frames sent before that are dropped by Linux, and a
/// lost first ARP request costs a client a whole second (smoltcp's retry).
fn wait_for_carrier(name: &str) {
    let path = format!("/sys/class/net/{name}/carrier");
    for _ in 0..100 {
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim() == "1" => return,
            // Administratively down reads as an error: nothing to wait for.
            Err(_) => return,
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: Errno) -> io::Error {
        io::Error::from_raw_os_error(errno as i32)
    }

    #[test]
    fn rejects_long_name_before_touching_the_kernel() {
        let err = TapDevice::open("abcdefghijklmnop", 1500).err().unwrap();
        assert!(matches!(err, TapError::NameTooLong { .. }));
        let msg = err.to_string();
        assert!(msg.contains("\"abcdefghijklmnop\""), "{msg}");
        assert!(
            msg.contains("16 bytes") && msg.contains("at most 15 bytes"),
            "{msg}"
        );
    }

    #[test]
    fn rejects_nul_and_bad_mtu() {
        let err = TapDevice::open("ta\0p", 1500).err().unwrap();
        assert!(matches!(err, TapError::InvalidName { .. }), "{err}");
        let err = TapDevice::open("tap0", 10).err().unwrap();
        assert!(matches!(err, TapError::InvalidMtu { mtu: 10, .. }), "{err}");
        let err = TapDevice::open("tap0", 70_000).err().unwrap();
        assert!(matches!(err, TapError::InvalidMtu { .. }), "{err}");
    }

    #[test]
    fn classifies_os_errors() {
        let cases = [
            (Errno::EPERM, "CAP_NET_ADMIN"),
            (Errno::EACCES, "/dev/net/tun must be readable"),
            (Errno::ENOENT, "tun kernel module"),
            (Errno::ENODEV, "tun kernel module"),
            (Errno::EINVAL, "different mode"),
            (Errno::EBUSY, "busy"),
            (Errno::EMFILE, "Too many open files"),
        ];
        for (errno, needle) in cases {
            let err = TapError::from_open("tap7", os(errno));
            let msg = err.to_string();
            assert!(msg.contains("\"tap7\""), "{msg}");
            assert!(msg.contains(needle), "{errno}: {msg}");
            let source = std::error::Error::source(&err).expect("keeps the io::Error");
            assert!(
                source
                    .to_string()
                    .contains(&format!("os error {}", errno as i32))
            );
        }
        let msg = TapError::from_open("tap7", os(Errno::EPERM)).to_string();
        assert!(
            msg.contains("ip tuntap add dev tap7 mode tap user"),
            "{msg}"
        );
    }

    #[test]
    fn stats_display_names_every_counter() {
        let stats = TapStats {
            frames_in: 1,
            frames_out: 2,
            bytes_in: 3,
            bytes_out: 4,
            errors: 5,
            tx_dropped: 6,
        };
        assert_eq!(
            stats.to_string(),
            "in: 1 frames, 3 bytes; out: 2 frames, 4 bytes; 5 errors, 6 dropped (queue full)"
        );
    }
}
