//! [`DriverDevice`]: an embassy-net driver as a smoltcp `phy::Device`.

use core::fmt;
use core::task::{Context, Waker};

use embassy_net_driver::{Driver, HardwareAddress as DriverAddress, LinkState};
use smoltcp::phy::{self, DeviceCapabilities};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress};

use crate::caps::{capabilities, frame_limit};
use crate::tokens::{RxToken, TxToken};

/// The driver's hardware address is not an Ethernet one (an IP-native or
/// IEEE 802.15.4 driver): Minnow's interface is Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEthernet(pub DriverAddress);

impl fmt::Display for NotEthernet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the driver's hardware address ({:?}) is not an Ethernet address",
            self.0
        )
    }
}

/// Any [`Driver`] as a smoltcp [`phy::Device`], for a poll loop.
///
/// The driver's `receive`, `transmit` and `link_state` take a task
/// [`Context`]: each call gets one made from this adapter's waker, which
/// the driver wakes when a frame arrives, transmit room frees up or the
/// link changes. [`DriverDevice::new`] uses [`Waker::noop`], for a loop that
/// polls on a timer or sleeps on something of its own;
/// [`DriverDevice::with_waker`] takes the loop's own waker (one that sets a
/// flag an interrupt handler also sets, say), so the loop can sleep until
/// the driver has news.
///
/// RAM: the driver, a [`Waker`] (two words) and the Ethernet address
/// (6 bytes); no buffer of its own, frames stay in the driver's.
pub struct DriverDevice<D> {
    driver: D,
    waker: Waker,
    mac: EthernetAddress,
}

impl<D: Driver> DriverDevice<D> {
    /// `driver` with the no-op waker. Fails unless the driver has an
    /// Ethernet address.
    pub fn new(driver: D) -> Result<Self, NotEthernet> {
        Self::with_waker(driver, Waker::noop().clone())
    }

    /// `driver`, whose calls get `waker` to wake when it has news. Fails
    /// unless the driver has an Ethernet address.
    pub fn with_waker(driver: D, waker: Waker) -> Result<Self, NotEthernet> {
        match driver.hardware_address() {
            DriverAddress::Ethernet(mac) => Ok(Self {
                driver,
                waker,
                mac: EthernetAddress(mac),
            }),
            other => Err(NotEthernet(other)),
        }
    }

    /// Replaces the waker the driver's calls get from now on.
    pub fn set_waker(&mut self, waker: Waker) {
        self.waker = waker;
    }

    /// The waker the driver's calls get.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Asks the driver for the link state (which also arms the waker for
    /// the next change). smoltcp has no notion of a link: a loop that
    /// should not send while the link is down asks here each turn.
    pub fn link_state(&mut self) -> LinkState {
        let mut cx = Context::from_waker(&self.waker);
        self.driver.link_state(&mut cx)
    }

    /// Whether [`DriverDevice::link_state`] is up.
    pub fn is_link_up(&mut self) -> bool {
        self.link_state() == LinkState::Up
    }

    /// The driver's Ethernet address, as it was when the adapter was made:
    /// give it to `minnow::net::NetConfig::new`, so the interface answers
    /// for the address the hardware filters on.
    pub fn ethernet_address(&self) -> EthernetAddress {
        self.mac
    }

    /// [`DriverDevice::ethernet_address`] as smoltcp's hardware address.
    pub fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// The driver, to change (its address is not read again).
    pub fn driver_mut(&mut self) -> &mut D {
        &mut self.driver
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> D {
        self.driver
    }
}

impl<D: Driver> phy::Device for DriverDevice<D> {
    type RxToken<'a>
        = RxToken<D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<D::TxToken<'a>>
    where
        Self: 'a;

    /// A received frame and room for a reply, or `None` (the driver then
    /// wakes the waker when a frame arrives).
    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let limit = frame_limit(&self.driver.capabilities());
        let mut cx = Context::from_waker(&self.waker);
        let (rx, tx) = self.driver.receive(&mut cx)?;
        Some((RxToken::new(rx, limit), TxToken::new(tx)))
    }

    /// Room for a frame, or `None` while the driver's transmit queue is
    /// full: smoltcp then keeps the packet in its socket and tries again
    /// on a later poll (the driver wakes the waker when room frees up).
    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        let mut cx = Context::from_waker(&self.waker);
        self.driver.transmit(&mut cx).map(TxToken::new)
    }

    /// The driver's capabilities (see [`crate::capabilities`]).
    fn capabilities(&self) -> DeviceCapabilities {
        capabilities(&self.driver.capabilities())
    }
}
