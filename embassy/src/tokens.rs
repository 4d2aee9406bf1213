//! One frame each way: an embassy token behind smoltcp's token trait.

use smoltcp::phy;

/// One received frame. RAM: the driver's token and a word (the frame
/// limit).
pub struct RxToken<T> {
    inner: T,
    limit: usize,
}

impl<T> RxToken<T> {
    pub(crate) fn new(inner: T, limit: usize) -> Self {
        Self { inner, limit }
    }
}

impl<T: embassy_net_driver::RxToken> phy::RxToken for RxToken<T> {
    /// Hands the frame to `f`. A frame longer than the driver's frame size
    /// breaks the driver's contract; it is dropped: `f` gets an empty frame,
    /// which smoltcp discards.
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        let limit = self.limit;
        self.inner.consume(|frame| {
            let frame: &[u8] = frame;
            if frame.len() > limit {
                f(&[])
            } else {
                f(frame)
            }
        })
    }
}

/// Room to send one frame. RAM: the driver's token.
pub struct TxToken<T> {
    inner: T,
}

impl<T> TxToken<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self { inner }
    }
}

impl<T: embassy_net_driver::TxToken> phy::TxToken for TxToken<T> {
    /// Lets `f` build a frame of `len` bytes in the driver's buffer, which
    /// the driver then sends. smoltcp never asks for more than the frame
    /// size it was given (the driver's, see [`crate::capabilities`]).
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        self.inner.consume(len, f)
    }
}
