//! The Ethernet: the STM32F429's MAC with its DMA, and the board's LAN8742A
//! PHY over RMII, driven by embassy-stm32's `eth::Ethernet` (an
//! embassy-net-driver 0.2 `Driver`) behind [`minnow_embassy::DriverDevice`],
//! which makes it the smoltcp `Device` the firmware main polls.
//!
//! NUCLEO-F429ZI's RMII pins (UM1974, with its default solder bridges):
//!
//! | signal | pin |
//! | --- | --- |
//! | REF_CLK (50 MHz from the PHY) | PA1 |
//! | MDIO | PA2 |
//! | MDC | PC1 |
//! | CRS_DV | PA7 |
//! | RXD0, RXD1 | PC4, PC5 |
//! | TX_EN | PG11 |
//! | TXD0 | PG13 |
//! | TXD1 | PB13 |
//!
//! The PHY is found by embassy's `GenericPhy` (it tries the SMI addresses
//! from 0: the board straps the LAN8742A to 0), reset, and set to
//! auto-negotiate. embassy's MAC setup is fixed at 100 Mbit/s full duplex,
//! whatever the negotiation ends in: a 100 Mbit/s full-duplex switch port
//! (nearly all are) is what this image expects.
//!
//! The wakeup: the driver enables the DMA's receive and transmit interrupts
//! (one summary line, ETH, in the NVIC). The firmware takes no interrupt:
//! with PRIMASK set, the pending line only ends `wfi`. So embassy's
//! interrupt handler (bound in `main.rs`, as the driver requires) never
//! runs, and [`ack_wakeup`] does its job: it clears the DMA's status bits,
//! then the pending line.

use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::interrupt::{self, InterruptExt};
use embassy_stm32::pac;
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use minnow_embassy::DriverDevice;
use smoltcp::wire::EthernetAddress;
use static_cell::ConstStaticCell;

use crate::sizes::{ETH_RX_FRAMES, ETH_TX_FRAMES};

/// embassy-stm32's driver with its generic PHY on the MAC's SMI.
pub type Driver = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;
/// The driver as a smoltcp `Device`.
pub type Device = DriverDevice<Driver>;
/// The DMA's descriptors and frame buffers.
pub type Queue = PacketQueue<ETH_TX_FRAMES, ETH_RX_FRAMES>;

/// The DMA's rings: in `.bss`, in SRAM (the DMA cannot reach the CCM).
pub static QUEUE: ConstStaticCell<Queue> = ConstStaticCell::new(PacketQueue::new());

/// A locally administered unicast address from the chip's 96-bit unique ID
/// (RM0090, device electronic signature): the same on every boot of one chip, different between
/// chips (the board has no address of its own: no EEPROM holds one).
pub fn mac_from_uid(uid: [u8; 12]) -> EthernetAddress {
    // FNV-1a over the ID, 5 bytes of it after the 02 prefix.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let h = hash.to_le_bytes();
    EthernetAddress([0x02, h[0], h[1], h[2], h[3], h[4]])
}

/// Acknowledges the Ethernet wakeup, before the poll drains the rings: a
/// frame that lands (or is sent) later pends it again and ends the next
/// sleep. DMASR's bits are cleared by writing 1 (RM0090, Ethernet DMA registers): RS (frame
/// received), TS (frame sent) and NIS, their summary, which with DMAIER's
/// NISE drives the interrupt line. The others are not enabled.
pub fn ack_wakeup() {
    pac::ETH.ethernet_dma().dmasr().write(|w| {
        w.set_rs(true);
        w.set_ts(true);
        w.set_nis(true);
    });
    interrupt::ETH.unpend();
}
