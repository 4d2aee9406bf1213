//! A smoltcp [`Device`] over a Linux TAP interface.
//!
//! The TAP interface is opened in `IFF_TAP | IFF_NO_PI` mode and, unless
//! offload is turned off, with `IFF_VNET_HDR` (plain frames through the
//! tun-tap crate; `IFF_VNET_HDR`, `TUNSETVNETHDRSZ` and `TUNSETOFFLOAD`,
//! which tun-tap cannot ask for, with raw ioctls): every `read(2)`/`write(2)` on
//! its file descriptor carries one Ethernet frame, behind a virtio-net
//! header when offload is on ([`crate::vnet`]). The descriptor is
//! non-blocking: the runtime waits for readability with `poll(2)` on
//! [`TapDevice::as_fd`] and then lets smoltcp drain it through
//! [`Device::receive`] until it would block.
//!
//! With offload (`TUNSETOFFLOAD` with checksum, TSO4 and TSO6, where the
//! kernel takes them), the Linux side keeps its MTU but hands over TCP
//! super-frames of up to 64 KiB with partial checksums, which smoltcp takes
//! whole; smoltcp in turn sends IPv4 TCP super-frames (its segmentation
//! offload) that the kernel cuts into MSS-sized segments, and leaves TCP
//! checksums to the kernel. One read or write moves up to 64 KiB instead of
//! one MTU: the per-frame system call was the limit. A kernel that refuses
//! `IFF_VNET_HDR` gets plain frames. A read whose virtio-net header does not
//! fit its frame (see [`crate::vnet::accept_rx`]) is dropped and counted in
//! [`TapStats::malformed`], with its reason kept for `take_error`.
//!
//! One receive and one transmit buffer are allocated in [`TapDevice::open`]
//! (the receive buffer has one spare byte to detect frames longer than
//! that); no memory is allocated per frame afterwards.
//!
//! smoltcp's `Device` trait cannot report errors, so I/O errors are counted
//! in [`TapStats`] and the last one is kept for [`TapDevice::take_error`].

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::libc;
use smoltcp::phy::{self, Checksum, Device, DeviceCapabilities, Medium, PacketMeta};
use smoltcp::time::Instant;

use crate::pcap::PcapWriter;
use crate::vnet::{self, VnetHdr};

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

/// The longest frame with offload on: an IPv4 packet of 65535 bytes (the
/// most its length field says) behind its Ethernet header. smoltcp's
/// segmentation offload fills up to this.
pub const GSO_FRAME_LEN: usize = 65535 + ETHERNET_HEADER_LEN;
/// The longest frame the kernel hands over with offload on: an IPv6
/// super-frame may carry 65535 bytes of payload behind its 40-byte header.
const RX_FRAME_LEN: usize = 65535 + 40 + ETHERNET_HEADER_LEN;

/// What the TAP device carries besides plain frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offload {
    /// Plain frames, every checksum computed and checked by smoltcp
    /// (`--no-offload`).
    Off,
    /// Virtio-net headers; `kernel` holds the `TUN_F_*` flags the kernel
    /// accepted with `TUNSETOFFLOAD` (what it may hand over: partial
    /// checksums, TCP super-frames). What we send may use both regardless.
    On { kernel: u32 },
}

impl fmt::Display for Offload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Off => f.write_str("offload off"),
            Self::On { kernel } => {
                let names = [
                    (libc::TUN_F_CSUM, "checksum"),
                    (libc::TUN_F_TSO4, "TSO4"),
                    (libc::TUN_F_TSO6, "TSO6"),
                ];
                let on: Vec<&str> = names
                    .iter()
                    .filter(|(flag, _)| kernel & flag != 0)
                    .map(|(_, name)| *name)
                    .collect();
                if on.is_empty() {
                    f.write_str("offload: send only (the kernel took no TUNSETOFFLOAD flag)")
                } else {
                    write!(f, "offload: {}", on.join(", "))
                }
            }
        }
    }
}

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
    /// Of `frames_in`, TCP super-frames (offload on).
    pub gso_in: u64,
    /// Of `frames_out`, TCP super-frames the kernel segments (offload on).
    pub gso_out: u64,
    /// Received frames dropped for a wrong TCP checksum (offload on: smoltcp
    /// leaves TCP checksums to the device).
    pub bad_checksums: u64,
    /// Reads dropped for a virtio-net header that does not fit the frame
    /// (offload on); each is also an error with its reason.
    pub malformed: u64,
}

impl fmt::Display for TapStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in: {} frames ({} super-frames), {} bytes; out: {} frames ({} super-frames), {} bytes; \
             {} errors, {} dropped (queue full), {} bad checksums, {} malformed",
            self.frames_in,
            self.gso_in,
            self.bytes_in,
            self.frames_out,
            self.gso_out,
            self.bytes_out,
            self.errors,
            self.tx_dropped,
            self.bad_checksums,
            self.malformed
        )
    }
}

/// Everything a transmit token needs; kept apart from the receive buffer so
/// that an [`RxToken`] and a [`TxToken`] can borrow the device at once.
struct TxSide {
    name: String,
    file: File,
    /// With offload, the virtio-net header's room comes first.
    buf: Box<[u8]>,
    /// Whether frames carry a virtio-net header.
    vnet: bool,
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

    /// Records a frame in the pcap, if one is attached; a partial checksum
    /// (`hdr`) is completed in the copy, as the wire would carry it. A
    /// failing capture (disk full, ...) is reported once through
    /// `take_error` and detached, so that it does not disturb the network
    /// traffic.
    fn capture(&mut self, hdr: &VnetHdr, frame: &[u8]) {
        let Some(pcap) = self.pcap.as_mut() else {
            return;
        };
        let copy = vnet::completed(hdr, frame);
        if let Err(e) = pcap.write_frame(copy.as_deref().unwrap_or(frame)) {
            self.pcap = None;
            self.record_error(io::Error::new(
                e.kind(),
                format!("writing the packet capture failed, capture stopped: {e}"),
            ));
        }
    }
}

impl TxSide {
    /// Room in front of the frame in the transmit buffer.
    fn head(&self) -> usize {
        if self.vnet { vnet::HDR_LEN } else { 0 }
    }

    /// Writes the frame of `len` bytes in the transmit buffer (behind its
    /// virtio-net header, which this fills in, when offload is on).
    fn send(&mut self, len: usize, gso_size: Option<u16>) {
        let head = self.head();
        let hdr = if self.vnet {
            let (h, frame) = self.buf.split_at_mut(head);
            let hdr = vnet::prepare_tx(&mut frame[..len], gso_size);
            hdr.write(h);
            hdr
        } else {
            VnetHdr::default()
        };
        let whole = &self.buf[..head + len];
        let result = loop {
            match (&self.file).write(whole) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let monitor = &mut self.monitor;
        match result {
            Ok(n) if n == head + len => {
                monitor.stats.frames_out += 1;
                monitor.stats.gso_out += u64::from(hdr.gso_type != vnet::GSO_NONE);
                monitor.stats.bytes_out += len as u64;
                monitor.capture(&hdr, &self.buf[head..head + len]);
            }
            Ok(n) => monitor.record_error(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write to the TAP device: {n} of {} bytes", head + len),
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
    offload: Offload,
    rx_buf: Box<[u8]>,
    tx: TxSide,
}

impl TapDevice {
    /// Opens (attaches to, or creates) the TAP interface `name` in
    /// `IFF_TAP | IFF_NO_PI` mode, with `IFF_VNET_HDR` and the kernel's
    /// offloads when `offload` (see [`Offload`]), makes its descriptor
    /// non-blocking and allocates one receive and one transmit buffer
    /// (`mtu + 14` bytes, or 64 KiB super-frames with offload).
    ///
    /// `mtu` is the IP MTU (1500 on a usual Ethernet); it must lie in
    /// `MIN_MTU..=MAX_MTU`, and should not be smaller than the MTU of the
    /// TAP interface itself: longer frames the kernel sends are dropped,
    /// counted as errors and reported through `take_error`. With offload
    /// smoltcp still uses it for its MSS; only super-frames are longer.
    pub fn open(name: &str, mtu: usize, offload: bool) -> Result<Self, TapError> {
        check_name(name)?;
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(TapError::InvalidMtu {
                name: name.to_owned(),
                mtu,
            });
        }
        let (file, real_name, offload) = match offload.then(|| attach_vnet(name)) {
            Some(Ok((file, real_name, kernel))) => (file, real_name, Offload::On { kernel }),
            // A kernel without IFF_VNET_HDR refuses the flag: plain frames.
            // (A TUN device refuses it too, and then the plain attempt
            // reports the wrong mode.)
            Some(Err(e)) if e.raw_os_error() == Some(libc::EINVAL) => open_plain(name)?,
            Some(Err(e)) => return Err(TapError::from_open(name, e)),
            None => open_plain(name)?,
        };
        wait_for_carrier(&real_name);
        let plain = mtu + ETHERNET_HEADER_LEN;
        let (rx_len, tx_len, head) = match offload {
            Offload::Off => (plain, plain, 0),
            Offload::On { .. } => (
                RX_FRAME_LEN.max(plain),
                GSO_FRAME_LEN.max(plain),
                vnet::HDR_LEN,
            ),
        };
        Ok(Self {
            mtu,
            offload,
            // One spare byte reveals frames longer than `rx_len`, which
            // the kernel would otherwise silently truncate to the buffer.
            rx_buf: vec![0; head + rx_len + 1].into_boxed_slice(),
            tx: TxSide {
                name: real_name,
                file,
                buf: vec![0; head + tx_len].into_boxed_slice(),
                vnet: head > 0,
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

    /// What the device offloads to the kernel.
    pub fn offload(&self) -> Offload {
        self.offload
    }
}

impl Drop for TapDevice {
    fn drop(&mut self) {
        // A persistent device keeps its offloads after we close it; the
        // next process to attach may read plain frames and could not take
        // super-frames or partial checksums.
        if let Offload::On { kernel } = self.offload
            && kernel != 0
        {
            let _ = tun_set_offload(&self.tx.file, 0);
        }
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
    let fd = file.as_raw_fd();
    let flags = fcntl(fd, FcntlArg::F_GETFL)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// Turns the offloads of TAP interface `name` off for a driver that reads
/// plain frames (embassy-net-tuntap): a persistent device keeps the ones a
/// killed Minnow set, and would hand such a reader TCP super-frames and
/// partial checksums. Attaches briefly through tun-tap; the driver's own
/// open reports any problem with the device, so errors here only say that
/// nothing was reset.
pub fn reset_offload(name: &str) -> Result<(), TapError> {
    check_name(name)?;
    open_plain(name).map(drop)
}

/// Attaches to `name` through tun-tap with plain frames, non-blocking, its
/// offloads off.
fn open_plain(name: &str) -> Result<(File, String, Offload), TapError> {
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
    // A persistent device keeps the offloads a killed process set; plain
    // frames need them off. Failure leaves the kernel's defaults (off), so
    // it is ignored.
    let _ = tun_set_offload(&file, 0);
    Ok((file, real_name, Offload::Off))
}

/// Attaches to `name` with virtio-net headers and asks for the offloads
/// (see [`set_offload`], whose accepted flags this returns). tun-tap cannot
/// ask for IFF_VNET_HDR (which only TUNSETIFF sets), so this attaches with
/// its own ioctl.
fn attach_vnet(name: &str) -> io::Result<(File, String, u32)> {
    let (file, real_name) = attach(name, libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR)?;
    // The default is 10 already; set so that no earlier user of a
    // persistent device can have left another size.
    let size = vnet::HDR_LEN as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer, which
    // points at a live local.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETVNETHDRSZ, &size) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let kernel = set_offload(&file);
    Ok((file, real_name, kernel))
}

/// Opens `/dev/net/tun` (non-blocking, close-on-exec) and attaches it to
/// the interface `name` with `flags` (`TUNSETIFF`); returns the descriptor
/// and the interface's name as the kernel gave it (for an empty name or
/// one with `%d`).
fn attach(name: &str, flags: libc::c_int) -> io::Result<(File, String)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(TUN_PATH)?;
    // SAFETY: ifreq is plain old data; all zeros is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    // `check_name` bounded the name to IFNAMSIZ - 1 bytes: the last stays NUL.
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = flags as libc::c_short;
    // SAFETY: TUNSETIFF reads and writes one ifreq through the pointer,
    // which points at a live, properly sized local.
    if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let real: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok((file, String::from_utf8_lossy(&real).into_owned()))
}

/// `TUNSETOFFLOAD`: what the kernel may hand over.
fn tun_set_offload(file: &File, flags: libc::c_uint) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD takes its flags by value; no memory is passed.
    if unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            flags as libc::c_ulong,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Asks for checksum and TCP segmentation offload, then for less where the
/// kernel refuses; returns the flags it took (0: plain frames in, though
/// ours may still carry partial checksums and super-frames).
fn set_offload(file: &File) -> u32 {
    let full = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
    for flags in [full, libc::TUN_F_CSUM, 0] {
        if tun_set_offload(file, flags).is_ok() {
            return flags;
        }
    }
    0
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
    /// Payload bytes per segment when smoltcp asked the device to segment.
    gso_size: Option<u16>,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let io = self.io;
        let head = io.head();
        if head + len > io.buf.len() {
            // smoltcp never asks for more than the advertised MTU (or
            // super-frame), so this does not happen. The closure must still
            // run to produce `R`, and smoltcp expects a buffer of exactly
            // `len` bytes, so it gets a throwaway one; the frame is dropped
            // and counted as an error.
            io.monitor.record_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {len} bytes exceeds the {}-byte transmit buffer; dropped",
                    io.buf.len() - head
                ),
            ));
            return f(&mut vec![0; len]);
        }
        let result = f(&mut io.buf[head..head + len]);
        io.send(len, self.gso_size);
        result
    }

    fn set_meta(&mut self, meta: PacketMeta) {
        self.gso_size = meta.segmentation_offload_size.map(|s| s.get());
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
        let Self {
            rx_buf, tx, mtu, ..
        } = self;
        let head = tx.head();
        // Frames dropped here (a bad checksum, a malformed header) do not
        // end the batch. The loop only decides; the frame is borrowed for
        // the token after it.
        let (len, hdr) = loop {
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
                        "dropped a received frame longer than {} bytes: the MTU of \
                         interface {:?} is larger than ours ({})",
                        max_len - head,
                        tx.name,
                        mtu
                    ),
                ));
                return None;
            }
            if !tx.vnet {
                break (len, VnetHdr::default());
            }
            let Some((hdr, frame)) = vnet::split_rx(&mut rx_buf[..len]) else {
                tx.monitor.stats.malformed += 1;
                tx.monitor.record_error(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("dropped a read of {len} bytes: shorter than the virtio-net header"),
                ));
                continue;
            };
            match vnet::accept_rx(&hdr, frame) {
                vnet::Rx::Accept => break (len - head, hdr),
                vnet::Rx::BadChecksum => tx.monitor.stats.bad_checksums += 1,
                vnet::Rx::Malformed(why) => {
                    tx.monitor.stats.malformed += 1;
                    tx.monitor.record_error(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("dropped a received frame: {why}"),
                    ));
                }
            }
        };
        let frame = &rx_buf[head..head + len];
        let stats = &mut tx.monitor.stats;
        stats.frames_in += 1;
        stats.gso_in += u64::from(hdr.gso_type != vnet::GSO_NONE);
        stats.bytes_in += len as u64;
        tx.monitor.capture(&hdr, frame);
        Some((
            RxToken { buf: frame },
            TxToken {
                io: tx,
                gso_size: None,
            },
        ))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken {
            io: &mut self.tx,
            gso_size: None,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + ETHERNET_HEADER_LEN;
        if let Offload::On { .. } = self.offload {
            // The kernel completes what we send (partial checksums), and
            // `vnet::accept_rx` checks what it did not vouch for; smoltcp
            // summing every byte again would be the cost offload removes.
            caps.checksum.tcp = Checksum::None;
            // smoltcp 0.14 segments IPv4 only: an IPv6 segment longer than
            // the MTU it drops ("fragmentation unimplemented").
            caps.segmentation.tcpv4 = NonZeroUsize::new(GSO_FRAME_LEN);
        }
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
        let err = TapDevice::open("abcdefghijklmnop", 1500, true)
            .err()
            .unwrap();
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
        let err = TapDevice::open("ta\0p", 1500, true).err().unwrap();
        assert!(matches!(err, TapError::InvalidName { .. }), "{err}");
        let err = TapDevice::open("tap0", 10, false).err().unwrap();
        assert!(matches!(err, TapError::InvalidMtu { mtu: 10, .. }), "{err}");
        let err = TapDevice::open("tap0", 70_000, true).err().unwrap();
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
            gso_in: 7,
            gso_out: 8,
            bad_checksums: 9,
            malformed: 10,
        };
        assert_eq!(
            stats.to_string(),
            "in: 1 frames (7 super-frames), 3 bytes; out: 2 frames (8 super-frames), 4 bytes; \
             5 errors, 6 dropped (queue full), 9 bad checksums, 10 malformed"
        );
    }
}
