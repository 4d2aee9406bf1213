//! The Ethernet controller's frame format in its FIFOs, and what the RX
//! FIFO's length word says about the record it heads: plain constants and
//! one pure function, with no hardware or crate dependency, so a host test
//! (`tests/tests/lm3s6965_frame_format.rs`) compiles this same file and
//! checks every possible length word.
//!
//! RX FIFO, one record: a 16-bit little-endian length of the whole record
//! (these 2 bytes, the 14-byte header, the payload and the 4-byte FCS), then
//! the frame and its FCS, padded to whole words. TX FIFO: a 16-bit length
//! of the payload alone, then the frame (the MAC pads and appends the FCS).

/// The MTU the driver offers smoltcp (Ethernet payload).
pub const MTU: usize = 1500;
/// Largest frame: 14-byte header + MTU (the FCS is the controller's).
pub const MAX_FRAME: usize = MTU + 14;
/// Ethernet header: the shortest frame that means anything.
pub const HEADER: usize = 14;
/// The length word's 2 bytes before the frame in both FIFOs.
pub const LEN_FIELD: usize = 2;
/// The frame check sequence after each received frame.
pub const FCS: usize = 4;
/// RX buffer: the length field, the largest frame and its FCS (1520 bytes,
/// whole words).
pub const RX_BUF: usize = (LEN_FIELD + MAX_FRAME + FCS).next_multiple_of(4);
/// TX buffer: the length field and the largest frame, whole words.
pub const TX_BUF: usize = (LEN_FIELD + MAX_FRAME).next_multiple_of(4);
/// The RX FIFO's size: no record can be longer.
pub const FIFO_BYTES: usize = 2048;

/// What the length word at the head of the RX FIFO says about its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxRecord {
    /// A frame that fits the buffer: `words` to read, `frame` bytes of it
    /// (header + payload, without length field and FCS).
    Fits { words: usize, frame: usize },
    /// A whole frame, longer than [`MAX_FRAME`]: `words` to read and drop.
    TooLong { words: usize, frame: usize },
    /// Shorter than an Ethernet header: `words` to read and drop.
    Runt { words: usize },
    /// No record is this long or this short: the FIFO is out of step.
    Garbled,
}

impl RxRecord {
    /// Reads the record's length from its first word. Any word gives a
    /// defined answer; `Fits` never asks for more words than [`RX_BUF`]
    /// holds, and `frame` + the length field + FCS fit in them.
    pub fn from_first_word(word: u32) -> Self {
        let total = (word & 0xFFFF) as usize;
        let words = total.div_ceil(4);
        if !(LEN_FIELD + FCS..=FIFO_BYTES).contains(&total) {
            return Self::Garbled;
        }
        let frame = total - LEN_FIELD - FCS;
        if frame < HEADER {
            Self::Runt { words }
        } else if frame > MAX_FRAME {
            Self::TooLong { words, frame }
        } else {
            Self::Fits { words, frame }
        }
    }
}
