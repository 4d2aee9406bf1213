//! The LM3S6965's on-chip Ethernet controller (MAC + 10/100 PHY), polled,
//! as a smoltcp [`Device`].
//!
//! Like the LAN9118 it has FIFOs, not descriptor rings, but one FIFO each
//! way and no status FIFO: a received frame is read out of MACDATA one
//! 32-bit word at a time, its length in the first word; a frame is sent by
//! writing its length and bytes into MACDATA and then MACTR.NEWTX. So the
//! driver needs one frame buffer each way and no DMA.
//!
//! Register map (LM3S6965 data sheet, "Ethernet Controller"; QEMU
//! `hw/net/stellaris_enet.c`), byte offsets from 0x4004_8000:
//!
//! | offset | register | used for |
//! | --- | --- | --- |
//! | 0x00 | MACRIS (read) / MACIACK (write) | interrupt status; write 1 to acknowledge |
//! | 0x04 | MACIM | which statuses drive the interrupt line |
//! | 0x08 | MACRCTL | receiver on, multicast, bad-CRC rejection, FIFO reset |
//! | 0x0C | MACTCTL | transmitter on, padding, CRC, full duplex |
//! | 0x10 | MACDATA | the FIFOs: read frames, write frames |
//! | 0x14/0x18 | MACIA0/MACIA1 | the MAC address, bytes 0..4 and 4..6 |
//! | 0x1C | MACTHR | transmit threshold (0x3F: send on NEWTX only) |
//! | 0x20 | MACMCTL | MII command: register, write, start |
//! | 0x24 | MACMDV | MII clock divider |
//! | 0x2C/0x30 | MACMTXD/MACMRXD | MII data out / in |
//! | 0x34 | MACNP | frames waiting in the RX FIFO |
//! | 0x38 | MACTR | NEWTX: send the frame in the TX FIFO; clear once sent |
//!
//! The frames' layout in the FIFOs is in [`crate::frame_format`]: a length
//! word first each way, so a received frame starts 2 bytes into the buffer
//! and its IP header lands on a word boundary.
//!
//! Bad input has a defined outcome, counted in [`Stats`] and logged by
//! [`StellarisEnet::report`]; none stops the driver:
//! - a frame longer than the buffer (the controller takes up to 2 KiB) is
//!   read out of the FIFO and dropped;
//! - a frame shorter than an Ethernet header is read out and dropped;
//! - a length word no frame can have (the FIFO out of step) resets the RX
//!   FIFO, dropping what it held;
//! - the controller's own reports: RX FIFO overrun (FOV: a frame lost for
//!   want of room, or too long for the FIFO: QEMU drops frames over 2041
//!   bytes so), frames it refused (RXER), transmit errors (TXER).
//!
//! The PHY: its link bit is read at boot for the log. QEMU models no PHY
//! (every MII read gives 0), which the driver reports as [`Link::NoPhy`];
//! it sends and receives regardless, as the MAC does without a link.

use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;

use minnow_firmware::log;
use static_cell::ConstStaticCell;

use crate::frame_format::{HEADER, LEN_FIELD, MAX_FRAME, RX_BUF, RxRecord, TX_BUF};
use crate::mmio::Regs;

const MACRIS: usize = 0x00;
const MACIACK: usize = 0x00;
const MACIM: usize = 0x04;
const MACRCTL: usize = 0x08;
const MACTCTL: usize = 0x0C;
const MACDATA: usize = 0x10;
const MACIA0: usize = 0x14;
const MACIA1: usize = 0x18;
const MACTHR: usize = 0x1C;
const MACMCTL: usize = 0x20;
const MACMDV: usize = 0x24;
const MACMRXD: usize = 0x30;
const MACNP: usize = 0x34;
const MACTR: usize = 0x38;

// MACRIS / MACIACK / MACIM bits.
const INT_RX: u32 = 1 << 0;
const INT_TXER: u32 = 1 << 1;
const INT_FOV: u32 = 1 << 3;
const INT_RXER: u32 = 1 << 4;
const INT_ALL: u32 = 0x7F;

// MACRCTL bits.
const RCTL_RXEN: u32 = 1 << 0;
/// Take all multicast frames: IPv6 neighbour discovery needs the
/// solicited-node groups, and the MAC has no multicast filter.
const RCTL_AMUL: u32 = 1 << 1;
/// Reject frames with a bad CRC.
const RCTL_BADCRC: u32 = 1 << 3;
const RCTL_RSTFIFO: u32 = 1 << 4;
const RCTL_ON: u32 = RCTL_RXEN | RCTL_AMUL | RCTL_BADCRC;

// MACTCTL bits.
const TCTL_TXEN: u32 = 1 << 0;
/// Pad frames shorter than 60 bytes.
const TCTL_PADEN: u32 = 1 << 1;
/// Append the FCS.
const TCTL_CRC: u32 = 1 << 2;
const TCTL_DUPLEX: u32 = 1 << 4;

/// MACTHR: no early transmit; a frame goes when NEWTX is written.
const THR_OFF: u32 = 0x3F;
/// MACTR: send the frame in the TX FIFO (reads 1 until it is gone).
const TR_NEWTX: u32 = 1 << 0;
/// MACNP: frames in the RX FIFO, bits 5:0.
const NP_MASK: u32 = 0x3F;

// MII management: MACMCTL = register << 3 | START; the PHY's registers.
const MCTL_START: u32 = 1 << 0;
const MCTL_REGADR_SHIFT: u32 = 3;
/// MDC = 50 MHz / (2 × (10 + 1)) = 2.27 MHz, under the PHY's 2.5 MHz.
const MDV_DIV: u32 = 10;
const PHY_MR1_STATUS: u32 = 1;
const PHY_MR2_ID1: u32 = 2;
const MR1_LINK: u32 = 1 << 2;

/// Bounded waits for the controller (register polls), never forever.
const SPIN: u32 = 100_000;
/// The counters are logged at most this often while they change.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// What the PHY says about the link (read at boot, for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The PHY reports a link.
    Up,
    /// The PHY reports none: frames go out into nothing until it comes.
    Down,
    /// No PHY answers on MII (QEMU models none): the link's state is unknown.
    NoPhy,
}

/// Frame counters. The controller's own reports (overruns, refused
/// frames, transmit errors) count the times it raised them, which may
/// cover more than one frame each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Frames received and handed to smoltcp.
    pub rx_frames: u32,
    /// Frames longer than [`MAX_FRAME`], read out and dropped.
    pub rx_too_long: u32,
    /// The length of the last of those.
    pub rx_too_long_last: u32,
    /// Frames shorter than an Ethernet header, read out and dropped.
    pub rx_runts: u32,
    /// RX FIFO resets after a length word no frame can have.
    pub rx_resyncs: u32,
    /// RX FIFO overruns the controller reported (MACRIS.FOV).
    pub rx_overruns: u32,
    /// Receive errors the controller reported (MACRIS.RXER).
    pub rx_errors: u32,
    /// Frames sent.
    pub tx_frames: u32,
    /// Frames not sent: the previous one still in the TX FIFO in time, or
    /// shorter than a header.
    pub tx_dropped: u32,
    /// Transmit errors the controller reported (MACRIS.TXER).
    pub tx_errors: u32,
}

impl Stats {
    /// Everything dropped or reported, for "has anything gone wrong since".
    fn troubles(&self) -> [u32; 7] {
        [
            self.rx_too_long,
            self.rx_runts,
            self.rx_resyncs,
            self.rx_overruns,
            self.rx_errors,
            self.tx_dropped,
            self.tx_errors,
        ]
    }
}

/// One frame buffer each way, zeroed in .bss.
static RX_BUF_CELL: ConstStaticCell<[u8; RX_BUF]> = ConstStaticCell::new([0; RX_BUF]);
static TX_BUF_CELL: ConstStaticCell<[u8; TX_BUF]> = ConstStaticCell::new([0; TX_BUF]);

/// The driver. RAM: two static frame buffers (1520 + 1516 bytes) + a few
/// words.
pub struct StellarisEnet {
    regs: Regs,
    mac: EthernetAddress,
    rx_buf: &'static mut [u8; RX_BUF],
    tx_buf: &'static mut [u8; TX_BUF],
    /// Frame counters.
    pub stats: Stats,
    /// What the last report said, and when.
    reported: Stats,
    reported_at: Option<Instant>,
}

fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    (0..SPIN).any(|_| done())
}

impl StellarisEnet {
    /// Takes the controller (its clock gates must be open: see
    /// [`crate::sysctl::enable_peripherals`]) and starts receiving and
    /// transmitting as `mac`.
    pub fn new(mac: EthernetAddress) -> Self {
        let regs = Regs::ethernet();
        // Quiet while it is set up: no interrupt, nothing pending, receiver
        // off (the FIFO reset below wants it off).
        regs.write(MACIM, 0);
        regs.write(MACIACK, INT_ALL);
        regs.write(MACRCTL, 0);
        regs.write(MACMDV, MDV_DIV);
        let m = mac.0;
        regs.write(MACIA0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        regs.write(MACIA1, u32::from_le_bytes([m[4], m[5], 0, 0]));
        regs.write(MACTHR, THR_OFF);
        regs.write(MACTCTL, TCTL_PADEN | TCTL_CRC | TCTL_DUPLEX | TCTL_TXEN);
        regs.write(MACRCTL, RCTL_RSTFIFO);
        regs.write(MACRCTL, RCTL_ON);
        // The interrupt line only wakes the core from `wfi` (see
        // `mmio::enable_wakeup`): raise it when a frame lands.
        regs.write(MACIM, INT_RX);
        Self {
            regs,
            mac,
            rx_buf: RX_BUF_CELL.take(),
            tx_buf: TX_BUF_CELL.take(),
            stats: Stats::default(),
            reported: Stats::default(),
            reported_at: None,
        }
    }

    /// The Ethernet address in use.
    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }

    /// The link as the PHY reports it.
    pub fn link(&self) -> Link {
        let id = self.phy_read(PHY_MR2_ID1);
        match id {
            None | Some(0) | Some(0xFFFF) => Link::NoPhy,
            Some(_) => match self.phy_read(PHY_MR1_STATUS) {
                Some(s) if s & MR1_LINK != 0 => Link::Up,
                Some(_) => Link::Down,
                None => Link::NoPhy,
            },
        }
    }

    /// Reads a PHY register over MII: start the read, wait for START to
    /// clear, take MACMRXD. `None` if the MII never finishes.
    fn phy_read(&self, reg: u32) -> Option<u32> {
        self.regs
            .write(MACMCTL, (reg << MCTL_REGADR_SHIFT) | MCTL_START);
        if !spin_until(|| self.regs.read(MACMCTL) & MCTL_START == 0) {
            return None;
        }
        Some(self.regs.read(MACMRXD) & 0xFFFF)
    }

    /// Acknowledges the "frame received" interrupt so the line drops and
    /// rises again on the next frame (call before draining the FIFO), and
    /// counts what else the controller reported since the last call.
    pub fn ack_interrupts(&mut self) {
        let ris = self.regs.read(MACRIS);
        self.regs.write(MACIACK, ris | INT_RX);
        if ris & INT_FOV != 0 {
            self.stats.rx_overruns = self.stats.rx_overruns.wrapping_add(1);
        }
        if ris & INT_RXER != 0 {
            self.stats.rx_errors = self.stats.rx_errors.wrapping_add(1);
        }
        if ris & INT_TXER != 0 {
            // Acknowledging TXER also empties the TX FIFO (data sheet).
            self.stats.tx_errors = self.stats.tx_errors.wrapping_add(1);
        }
    }

    /// Whether a received frame waits in the FIFO (MACNP).
    pub fn rx_pending(&self) -> bool {
        self.regs.read(MACNP) & NP_MASK != 0
    }

    /// Reads and drops `words` words of the FIFO (the rest of a record).
    fn discard(&self, words: usize) {
        for _ in 0..words {
            let _ = self.regs.read(MACDATA);
        }
    }

    /// Empties the RX FIFO (receiver off while it resets, as the data sheet
    /// asks), after a length word that cannot be true.
    fn reset_rx_fifo(&mut self) {
        self.regs.write(MACRCTL, RCTL_ON & !RCTL_RXEN);
        self.regs
            .write(MACRCTL, (RCTL_ON & !RCTL_RXEN) | RCTL_RSTFIFO);
        self.regs.write(MACRCTL, RCTL_ON);
        self.stats.rx_resyncs = self.stats.rx_resyncs.wrapping_add(1);
    }

    /// Reads records until one holds a frame that fits; copies it into
    /// `rx_buf` and returns its length (header + payload). MACDATA is never
    /// read with the FIFO empty (QEMU logs that as an underflow).
    fn read_frame(&mut self) -> Option<usize> {
        loop {
            if !self.rx_pending() {
                return None;
            }
            let first = self.regs.read(MACDATA);
            match RxRecord::from_first_word(first) {
                RxRecord::Fits { words, frame } => {
                    self.rx_buf[..4].copy_from_slice(&first.to_le_bytes());
                    for i in 1..words {
                        let word = self.regs.read(MACDATA);
                        self.rx_buf[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
                    }
                    self.stats.rx_frames = self.stats.rx_frames.wrapping_add(1);
                    return Some(frame);
                }
                RxRecord::TooLong { words, frame } => {
                    self.discard(words - 1);
                    self.stats.rx_too_long = self.stats.rx_too_long.wrapping_add(1);
                    self.stats.rx_too_long_last = frame as u32;
                }
                RxRecord::Runt { words } => {
                    self.discard(words - 1);
                    self.stats.rx_runts = self.stats.rx_runts.wrapping_add(1);
                }
                RxRecord::Garbled => self.reset_rx_fifo(),
            }
        }
    }

    /// Logs the counters when something was dropped or reported since the
    /// last time, at most once per [`REPORT_EVERY`] (a flood of bad frames
    /// cannot keep the UART busy).
    pub fn report(&mut self, now: Instant) {
        if self.stats.troubles() == self.reported.troubles()
            || self.reported_at.is_some_and(|at| now < at + REPORT_EVERY)
        {
            return;
        }
        let s = self.stats;
        log!(
            "enet: dropped {} frames over {} B (last {} B), {} runts, {} RX FIFO resets; the controller reported {} RX FIFO overruns, {} RX errors, {} TX errors; {} TX dropped; {} frames in, {} out",
            s.rx_too_long,
            MAX_FRAME,
            s.rx_too_long_last,
            s.rx_runts,
            s.rx_resyncs,
            s.rx_overruns,
            s.rx_errors,
            s.tx_errors,
            s.tx_dropped,
            s.rx_frames,
            s.tx_frames,
        );
        self.reported = s;
        self.reported_at = Some(now);
    }
}

/// Whether the TX FIFO is free: the last frame's NEWTX has cleared.
fn tx_idle(regs: &Regs) -> bool {
    regs.read(MACTR) & TR_NEWTX == 0
}

/// A received frame, already out of the FIFO.
pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl smoltcp::phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room to send one frame.
pub struct TxToken<'a> {
    regs: &'a Regs,
    buf: &'a mut [u8; TX_BUF],
    stats: &'a mut Stats,
}

impl smoltcp::phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MAX_FRAME);
        let result = f(&mut self.buf[LEN_FIELD..LEN_FIELD + len]);
        // The FIFO holds one frame: the last must be gone (on the chip it
        // drains at line rate, 121 µs for a full frame at 100 Mb/s; QEMU
        // sends at once).
        if len < HEADER || !spin_until(|| tx_idle(self.regs)) {
            self.stats.tx_dropped = self.stats.tx_dropped.wrapping_add(1);
            return result;
        }
        // The length word counts the payload only.
        let payload = (len - HEADER) as u16;
        self.buf[..LEN_FIELD].copy_from_slice(&payload.to_le_bytes());
        let words = (LEN_FIELD + len).div_ceil(4);
        for chunk in self.buf[..words * 4].chunks_exact(4) {
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            self.regs.write(MACDATA, word);
        }
        self.regs.write(MACTR, TR_NEWTX);
        self.stats.tx_frames = self.stats.tx_frames.wrapping_add(1);
        result
    }
}

impl Device for StellarisEnet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let len = self.read_frame()?;
        Some((
            RxToken {
                frame: &self.rx_buf[LEN_FIELD..LEN_FIELD + len],
            },
            TxToken {
                regs: &self.regs,
                buf: &mut *self.tx_buf,
                stats: &mut self.stats,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if !tx_idle(&self.regs) {
            return None;
        }
        Some(TxToken {
            regs: &self.regs,
            buf: &mut *self.tx_buf,
            stats: &mut self.stats,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        // The chip's RX FIFO is 2 KiB: one full-size frame. Never advertise
        // a TCP window of more than one segment, or a burst overruns it
        // (QEMU's FIFO holds 31 frames, the chip's does not). No checksum
        // offload: smoltcp computes and checks every checksum.
        caps.max_burst_size = Some(1);
        caps
    }
}
