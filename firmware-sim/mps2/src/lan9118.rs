//! SMSC LAN9118 Ethernet controller, polled, as a smoltcp [`Device`].
//!
//! The controller has FIFOs, not descriptor rings: a received frame is
//! announced by a word in the RX status FIFO and read out of the RX data FIFO
//! one 32-bit word at a time; a frame is sent by pushing two command words
//! and its data words into the TX data FIFO. So the driver needs one frame
//! buffer each way and no DMA.
//!
//! Register map (LAN9118 datasheet; QEMU `hw/net/lan9118.c`; Zephyr
//! `drivers/ethernet/eth_smsc911x.c`), byte offsets from 0x4020_0000:
//!
//! | offset | register | used for |
//! | --- | --- | --- |
//! | 0x00 | RX data FIFO port | reading frame words |
//! | 0x20 | TX data FIFO port | writing TX commands and frame words |
//! | 0x40 | RX status FIFO port | one word per received frame: length, errors |
//! | 0x50 | ID_REV | chip id (0x0118_0001 on QEMU) |
//! | 0x54 | IRQ_CFG | IRQ pin enable, polarity, type |
//! | 0x58 | INT_STS | interrupt status, write 1 to clear |
//! | 0x5C | INT_EN | which statuses drive the IRQ pin |
//! | 0x64 | BYTE_TEST | reads 0x8765_4321: bus and byte order check |
//! | 0x6C | RX_CFG | RX alignment (left at 0: no offset, 4-byte end) |
//! | 0x70 | TX_CFG | transmitter on |
//! | 0x74 | HW_CFG | soft reset, FIFO sizes |
//! | 0x7C | RX_FIFO_INF | frames waiting (status words used) |
//! | 0x80 | TX_FIFO_INF | free bytes in the TX data FIFO |
//! | 0x84 | PMT_CTRL | READY bit after reset |
//! | 0x9C | FREE_RUN | free-running 25 MHz counter (the clock, see [`crate::clock`]) |
//! | 0xA4/0xA8 | MAC_CSR_CMD/DATA | window on the MAC's own registers: MAC_CR 1, ADDRH 2, ADDRL 3, MII_ACC 6, MII_DATA 7 |

use smoltcp::phy::{Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::EthernetAddress;

use static_cell::ConstStaticCell;

use crate::mmio::Regs;

pub const RX_DATA: usize = 0x00;
pub const TX_DATA: usize = 0x20;
pub const RX_STATUS: usize = 0x40;
pub const ID_REV: usize = 0x50;
pub const IRQ_CFG: usize = 0x54;
pub const INT_STS: usize = 0x58;
pub const INT_EN: usize = 0x5C;
pub const BYTE_TEST: usize = 0x64;
pub const TX_CFG: usize = 0x70;
pub const HW_CFG: usize = 0x74;
pub const RX_FIFO_INF: usize = 0x7C;
pub const TX_FIFO_INF: usize = 0x80;
pub const PMT_CTRL: usize = 0x84;
pub const FREE_RUN: usize = 0x9C;
pub const MAC_CSR_CMD: usize = 0xA4;
pub const MAC_CSR_DATA: usize = 0xA8;

/// MAC_CSR_CMD: start (and, read back, still busy).
const CSR_BUSY: u32 = 1 << 31;
/// MAC_CSR_CMD: read (else write).
const CSR_READ: u32 = 1 << 30;

// Indirect MAC registers.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MAC_MII_ACC: u32 = 6;
const MAC_MII_DATA: u32 = 7;

// MAC_CR bits.
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_TXEN: u32 = 1 << 3;
/// Pass all multicast frames: IPv6 neighbour discovery needs the
/// solicited-node groups, and this is simpler than the hash filter.
const MAC_CR_MCPAS: u32 = 1 << 19;
const MAC_CR_FDPX: u32 = 1 << 20;

// HW_CFG bits.
const HW_CFG_SRST: u32 = 1 << 0;
/// TX FIFO size 5 KiB (the reset value), and bit 20 "must be one".
const HW_CFG_INIT: u32 = (5 << 16) | (1 << 20);

// TX_CFG bits.
const TX_CFG_TX_ON: u32 = 1 << 1;
/// Let the TX status FIFO overrun: nothing reads it.
const TX_CFG_TXSAO: u32 = 1 << 2;

// IRQ_CFG bits: pin enabled, active high, push-pull.
const IRQ_CFG_IRQ_EN: u32 = 1 << 8;
const IRQ_CFG_IRQ_POL: u32 = 1 << 4;
const IRQ_CFG_IRQ_TYPE: u32 = 1 << 0;

/// INT_STS/INT_EN: the RX status FIFO holds at least one frame.
const INT_RSFL: u32 = 1 << 3;

// RX status word.
const RX_STS_ERROR: u32 = 1 << 15;
const RX_STS_LEN_SHIFT: u32 = 16;
const RX_STS_LEN_MASK: u32 = 0x3FFF;

// TX command A and B.
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;

// MII (PHY) access through MAC_MII_ACC: PHY address 1, register in bits 10:6.
const MII_BUSY: u32 = 1 << 0;
const MII_PHY_ADDR: u32 = 1 << 11;
/// PHY basic status register and its link-up bit.
const PHY_BMSR: u32 = 1;
const BMSR_LINK: u32 = 1 << 2;

/// The MTU the driver offers smoltcp (Ethernet payload).
pub const MTU: usize = 1500;
/// Largest frame: 14-byte header + MTU (the FCS is the controller's).
pub const MAX_FRAME: usize = MTU + 14;
/// Frame buffer size: room for the 4-byte FCS the RX FIFO appends, in words.
const BUF: usize = MAX_FRAME + 4 + 2;
/// Bounded waits for the controller (register polls), never forever.
const SPIN: u32 = 100_000;

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// BYTE_TEST did not read 0x87654321: no LAN9118 here, or wrong bus width.
    NoController(u32),
    /// The soft reset or the READY bit did not complete in time.
    ResetTimeout,
}

/// Frame counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Frames received and handed to smoltcp.
    pub rx_frames: u32,
    /// Frames dropped on receive: errors reported by the MAC, or too long.
    pub rx_dropped: u32,
    /// Frames sent.
    pub tx_frames: u32,
    /// Frames dropped on transmit: no room in the TX FIFO in time.
    pub tx_dropped: u32,
}

/// One frame buffer each way, zeroed in .bss.
static RX_BUF: ConstStaticCell<[u8; BUF]> = ConstStaticCell::new([0; BUF]);
static TX_BUF: ConstStaticCell<[u8; BUF]> = ConstStaticCell::new([0; BUF]);

/// The driver. RAM: two static frame buffers (2 × 1520 bytes) + a few words.
pub struct Lan9118 {
    regs: Regs,
    mac: EthernetAddress,
    rx_buf: &'static mut [u8; BUF],
    tx_buf: &'static mut [u8; BUF],
    /// Frame counters.
    pub stats: Stats,
}

fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..SPIN {
        if done() {
            return true;
        }
    }
    false
}

impl Lan9118 {
    /// Resets the controller and starts receiving and transmitting with the
    /// MAC address it holds (on QEMU: `-nic ...,mac=`; default
    /// 52:54:00:12:34:56). A controller without a valid address gets
    /// `fallback_mac`.
    pub fn new(fallback_mac: EthernetAddress) -> Result<Self, InitError> {
        let regs = Regs::lan9118();
        // BYTE_TEST reads a fixed pattern: is the chip there, 32-bit, right order?
        let test = regs.read(BYTE_TEST);
        if test != 0x8765_4321 {
            return Err(InitError::NoController(test));
        }
        // HW_CFG.SRST resets the whole chip; it clears itself when done, and
        // PMT_CTRL.READY (bit 0) says the chip may be accessed again.
        regs.write(HW_CFG, HW_CFG_SRST);
        if !spin_until(|| regs.read(HW_CFG) & HW_CFG_SRST == 0)
            || !spin_until(|| regs.read(PMT_CTRL) & 1 != 0)
        {
            return Err(InitError::ResetTimeout);
        }
        regs.write(HW_CFG, HW_CFG_INIT);
        let mut dev = Self {
            regs,
            mac: fallback_mac,
            rx_buf: RX_BUF.take(),
            tx_buf: TX_BUF.take(),
            stats: Stats::default(),
        };
        // The MAC address: ADDRL holds bytes 0..4, ADDRH bytes 4..6, little end first.
        let lo = dev.mac_read(MAC_ADDRL).to_le_bytes();
        let hi = dev.mac_read(MAC_ADDRH).to_le_bytes();
        let mac = EthernetAddress([lo[0], lo[1], lo[2], lo[3], hi[0], hi[1]]);
        if mac.is_unicast() && mac != EthernetAddress([0; 6]) {
            dev.mac = mac;
        } else {
            let m = fallback_mac.0;
            dev.mac_write(MAC_ADDRL, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
            dev.mac_write(MAC_ADDRH, u32::from_le_bytes([m[4], m[5], 0, 0]));
        }
        // MAC_CR: receiver and transmitter on, full duplex, all multicast;
        // this also clears the promiscuous bit that reset sets.
        dev.mac_write(
            MAC_CR,
            MAC_CR_RXEN | MAC_CR_TXEN | MAC_CR_FDPX | MAC_CR_MCPAS,
        );
        // TX_CFG: transmitter on; nothing reads the TX status FIFO.
        dev.regs.write(TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
        // The IRQ pin only wakes the core from `wfi` (see `mmio::enable_wakeup`):
        // raise it when the RX status FIFO holds a frame.
        dev.regs.write(INT_STS, u32::MAX);
        dev.regs.write(INT_EN, INT_RSFL);
        dev.regs
            .write(IRQ_CFG, IRQ_CFG_IRQ_EN | IRQ_CFG_IRQ_POL | IRQ_CFG_IRQ_TYPE);
        Ok(dev)
    }

    /// The chip's ID_REV register (0x0118_0001 on QEMU).
    pub fn id_rev(&self) -> u32 {
        self.regs.read(ID_REV)
    }

    /// The Ethernet address in use.
    pub fn mac(&self) -> EthernetAddress {
        self.mac
    }

    /// Whether the PHY reports the link up (basic status register).
    pub fn link_up(&self) -> bool {
        self.phy_read(PHY_BMSR) & BMSR_LINK != 0
    }

    /// Acknowledges the "frame received" interrupt: clears INT_STS.RSFL so the
    /// pin drops and rises again on the next frame. Call before draining the
    /// RX FIFO, so a frame that lands afterwards still wakes the core.
    pub fn ack_rx_irq(&mut self) {
        self.regs.write(INT_STS, INT_RSFL);
    }

    /// Whether a received frame waits in the FIFO (RX_FIFO_INF.RXSUSED).
    pub fn rx_pending(&self) -> bool {
        (self.regs.read(RX_FIFO_INF) >> 16) & 0xFF != 0
    }

    /// Reads a MAC register through the MAC_CSR window: write the command
    /// with BUSY|READ|index, wait for BUSY to clear, read MAC_CSR_DATA.
    fn mac_read(&self, index: u32) -> u32 {
        self.regs.write(MAC_CSR_CMD, CSR_BUSY | CSR_READ | index);
        spin_until(|| self.regs.read(MAC_CSR_CMD) & CSR_BUSY == 0);
        self.regs.read(MAC_CSR_DATA)
    }

    /// Writes a MAC register: data first, then the command with BUSY|index.
    fn mac_write(&self, index: u32, value: u32) {
        self.regs.write(MAC_CSR_DATA, value);
        self.regs.write(MAC_CSR_CMD, CSR_BUSY | index);
        spin_until(|| self.regs.read(MAC_CSR_CMD) & CSR_BUSY == 0);
    }

    /// Reads a PHY register over MII: MII_ACC = PHY address | register | busy
    /// (read), wait for busy to clear, the value is in MII_DATA.
    fn phy_read(&self, reg: u32) -> u32 {
        self.mac_write(MAC_MII_ACC, MII_PHY_ADDR | (reg << 6) | MII_BUSY);
        spin_until(|| self.mac_read(MAC_MII_ACC) & MII_BUSY == 0);
        self.mac_read(MAC_MII_DATA) & 0xFFFF
    }

    /// Pops received frames until one is good; copies it into `rx_buf` and
    /// returns its length without the FCS.
    fn read_frame(&mut self) -> Option<usize> {
        loop {
            if !self.rx_pending() {
                return None;
            }
            // One status word per frame: length (with the 4-byte FCS) in bits
            // 29:16, error summary in bit 15.
            let status = self.regs.read(RX_STATUS);
            let len = ((status >> RX_STS_LEN_SHIFT) & RX_STS_LEN_MASK) as usize;
            let words = len.div_ceil(4);
            let good = status & RX_STS_ERROR == 0 && len > 4 && words * 4 <= BUF;
            // Every word of the frame must be read to reach the next one
            // (RX_CFG is left at 0: no offset, 4-byte end alignment).
            for i in 0..words {
                let word = self.regs.read(RX_DATA);
                if good {
                    self.rx_buf[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
                }
            }
            if good {
                self.stats.rx_frames = self.stats.rx_frames.wrapping_add(1);
                return Some(len - 4);
            }
            self.stats.rx_dropped = self.stats.rx_dropped.wrapping_add(1);
        }
    }
}

/// TX_FIFO_INF.TDFREE: free bytes in the TX data FIFO.
fn tx_free(regs: &Regs) -> usize {
    (regs.read(TX_FIFO_INF) & 0xFFFF) as usize
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
    buf: &'a mut [u8; BUF],
    stats: &'a mut Stats,
}

impl smoltcp::phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MAX_FRAME);
        let result = f(&mut self.buf[..len]);
        let words = len.div_ceil(4);
        // Command words plus data must fit; the FIFO drains at line rate, so
        // a short wait is enough on hardware (QEMU sends at once).
        if !spin_until(|| tx_free(self.regs) >= words * 4 + 8) {
            self.stats.tx_dropped = self.stats.tx_dropped.wrapping_add(1);
            return result;
        }
        // TX command A: one buffer that is the first and last segment of the
        // frame, `len` bytes, no offset. Command B: tag (unused) and the
        // frame length.
        self.regs
            .write(TX_DATA, TX_CMD_A_FIRST | TX_CMD_A_LAST | len as u32);
        self.regs.write(TX_DATA, len as u32);
        // The frame, little end first in each word; the tail word's extra
        // bytes are ignored by the controller.
        for chunk in self.buf[..words * 4].chunks_exact(4) {
            let word = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            self.regs.write(TX_DATA, word);
        }
        self.stats.tx_frames = self.stats.tx_frames.wrapping_add(1);
        result
    }
}

impl Device for Lan9118 {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        let len = self.read_frame()?;
        Some((
            RxToken {
                frame: &self.rx_buf[..len],
            },
            TxToken {
                regs: &self.regs,
                buf: &mut *self.tx_buf,
                stats: &mut self.stats,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        if tx_free(&self.regs) < MAX_FRAME + 8 {
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
        // The RX data FIFO holds about 7 full frames (11 KiB with the 5 KiB
        // TX FIFO): never advertise a TCP window that could overflow it.
        // No checksum offload (the LAN9118 has none): smoltcp computes and
        // checks every checksum.
        caps.max_burst_size = Some(6);
        caps
    }
}
