//! A driver for the tests: frames queued in, frames collected out, a
//! transmit queue that can be full, a link that can be down, and the last
//! waker each call was given.

use core::task::{Context, Waker};
use std::collections::VecDeque;
use std::vec::Vec;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};

pub struct FakeDriver {
    /// Frames waiting to be received.
    pub rx: VecDeque<Vec<u8>>,
    /// Frames sent, in order.
    pub sent: Vec<Vec<u8>>,
    /// How many more frames the transmit queue takes.
    pub tx_room: usize,
    pub link: LinkState,
    pub caps: Capabilities,
    pub address: HardwareAddress,
    /// The waker of the last call that found nothing to do.
    pub waker: Option<Waker>,
}

pub const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x22];

impl FakeDriver {
    pub fn new() -> Self {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = 1514;
        Self {
            rx: VecDeque::new(),
            sent: Vec::new(),
            tx_room: usize::MAX,
            link: LinkState::Up,
            caps,
            address: HardwareAddress::Ethernet(MAC),
            waker: None,
        }
    }
}

pub struct Rx(Vec<u8>);

pub struct Tx<'a> {
    sent: &'a mut Vec<Vec<u8>>,
    room: &'a mut usize,
}

impl embassy_net_driver::RxToken for Rx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, f: F) -> R {
        f(&mut self.0)
    }
}

impl embassy_net_driver::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = std::vec![0; len];
        let r = f(&mut frame);
        self.sent.push(frame);
        *self.room -= 1;
        r
    }
}

impl Driver for FakeDriver {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    /// A frame needs room for a reply too, as embassy's own channel driver does.
    fn receive(&mut self, cx: &mut Context) -> Option<(Rx, Tx<'_>)> {
        if self.rx.is_empty() || self.tx_room == 0 {
            self.waker = Some(cx.waker().clone());
            return None;
        }
        let frame = self.rx.pop_front()?;
        let tx = Tx {
            sent: &mut self.sent,
            room: &mut self.tx_room,
        };
        Some((Rx(frame), tx))
    }

    fn transmit(&mut self, cx: &mut Context) -> Option<Tx<'_>> {
        if self.tx_room == 0 {
            self.waker = Some(cx.waker().clone());
            return None;
        }
        Some(Tx {
            sent: &mut self.sent,
            room: &mut self.tx_room,
        })
    }

    fn link_state(&mut self, cx: &mut Context) -> LinkState {
        self.waker = Some(cx.waker().clone());
        self.link
    }

    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }

    fn hardware_address(&self) -> HardwareAddress {
        self.address
    }
}
