//! A node's network card: a smoltcp [`Device`] with a receive queue the
//! simulator fills and a transmit queue it empties onto the wire.

use std::collections::VecDeque;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Largest Ethernet frame without FCS (1500 bytes of payload).
pub const MAX_FRAME: usize = 1514;

/// The simulated network card of one node.
#[derive(Debug, Default)]
pub struct SimDevice {
    /// Frames that arrived and wait for the interface.
    pub rx: VecDeque<Vec<u8>>,
    /// Frames the interface sent, for the simulator to put on the wire.
    pub tx: Vec<Vec<u8>>,
}

impl Device for SimDevice {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((RxToken { frame }, TxToken { tx: &mut self.tx }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(TxToken { tx: &mut self.tx })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        // Checksums are computed and verified in software (the default),
        // which is what catches a corrupted frame.
        caps
    }
}

/// One received frame.
pub struct RxToken {
    frame: Vec<u8>,
}

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.frame)
    }
}

/// Room for one frame to send.
pub struct TxToken<'a> {
    tx: &'a mut Vec<Vec<u8>>,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let r = f(&mut frame);
        self.tx.push(frame);
        r
    }
}
