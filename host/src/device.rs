//! What the host runtime needs of a device besides smoltcp's
//! `phy::Device`: a name and MTU for log lines, a descriptor to sleep on,
//! the link state, errors and counters. Minnow's own [`TapDevice`] and the
//! embassy-net driver ([`crate::embassy_tap::EmbassyTap`]) both have them.

use std::io;
use std::os::fd::BorrowedFd;

use smoltcp::phy::Device;

use crate::tap::TapDevice;

/// A device `minnow serve` runs on.
pub trait HostDevice: Device {
    /// The interface's name.
    fn name(&self) -> &str;
    /// The IP MTU.
    fn mtu(&self) -> usize;
    /// The foreign driver carrying the frames, for the startup line
    /// (`None`: Minnow's own TAP device).
    fn driver(&self) -> Option<&'static str>;
    /// The offloads the device uses, for the startup line (`None`: the
    /// question does not apply).
    fn offload(&self) -> Option<String> {
        None
    }
    /// What the loop waits on with poll(2): readable when a frame (or the
    /// driver's wake-up) is waiting.
    fn wait_fd(&self) -> BorrowedFd<'_>;
    /// After each sleep: clears a wake-up, and returns the last I/O error
    /// to report, if any.
    fn after_wait(&mut self) -> Option<io::Error>;
    /// Whether the link carries frames now; asked once per loop turn.
    fn link_up(&mut self) -> bool {
        true
    }
    /// Counters for the closing line.
    fn stats(&self) -> String;
}

impl HostDevice for TapDevice {
    fn name(&self) -> &str {
        TapDevice::name(self)
    }

    fn mtu(&self) -> usize {
        TapDevice::mtu(self)
    }

    fn driver(&self) -> Option<&'static str> {
        None
    }

    fn offload(&self) -> Option<String> {
        Some(TapDevice::offload(self).to_string())
    }

    fn wait_fd(&self) -> BorrowedFd<'_> {
        self.as_fd()
    }

    fn after_wait(&mut self) -> Option<io::Error> {
        self.take_error()
    }

    fn stats(&self) -> String {
        TapDevice::stats(self).to_string()
    }
}
