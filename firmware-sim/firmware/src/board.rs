//! What the firmware main needs of a board at run time: its Ethernet
//! driver, its clock and how it waits, and the files it serves. Everything
//! else (the service set, the loop, the log lines, the boot mail) is the
//! same on every board.

use smoltcp::phy::Device;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::EthernetAddress;

use crate::Image;

/// The files the file server sends: a table built into the image (they
/// stay in flash; serving one costs no RAM beyond the socket's buffers).
/// Names follow the core's rules (`minnow::file::name`).
#[derive(Debug, Clone, Copy)]
pub struct Files {
    /// `(name, bytes)`.
    pub table: &'static [(&'static str, &'static [u8])],
    /// What a request that is not `GET NAME` gets (the notes' client sends
    /// `Hello server!`); also the boot mail's attachment.
    pub default: &'static str,
}

/// A board: driver, clock, wait. The loop in [`crate::run()`] calls, each turn:
/// [`Board::arm_wakeup`], [`Board::now`], the services on
/// [`Board::device`], [`Board::report`], and then [`Board::sleep`] unless
/// [`Board::rx_pending`].
pub trait Board: Image {
    /// The Ethernet driver.
    type Device: Device;
    /// The longest single [`Board::sleep`] (the board's wake timer's range).
    const MAX_SLEEP: Duration;
    /// The served files.
    const FILES: Files;
    /// The boot mail's text part: who sent it, from which board.
    const MAIL_TEXT: &'static [u8];

    /// The driver.
    fn device(&mut self) -> &mut Self::Device;
    /// The Ethernet address in use.
    fn mac(&self) -> EthernetAddress;
    /// Raw ticks of the board's counter since reset: mixed into the random
    /// seed (TCP initial sequence numbers, ephemeral ports). The QEMU boards
    /// have no hardware RNG: the counter's low bits vary with the host's
    /// timing. A board with one mixes its output in here (nucleo-f429zi).
    fn ticks(&mut self) -> u64;
    /// Monotonic time since reset.
    fn now(&mut self) -> Instant;
    /// Acknowledges the "frame received" wakeup before the FIFO is drained,
    /// so a frame that lands during the poll wakes the next sleep.
    fn arm_wakeup(&mut self);
    /// Whether a received frame still waits in the controller.
    fn rx_pending(&self) -> bool;
    /// Sleeps until a frame arrives or `wait` (at most [`Board::MAX_SLEEP`])
    /// passes.
    fn sleep(&mut self, wait: Duration);
    /// Logs what the board's own parts have to say (a driver's counters).
    fn report(&mut self, _now: Instant) {}
}
