//! The LM3S6965 image's reading of the RX FIFO's length word
//! (`firmware-sim/lm3s6965/src/frame_format.rs`, compiled here as it is on
//! the board): every one of the 65,536 possible lengths, and the bits above
//! them, gives a defined answer that cannot make the driver read past its
//! buffer or lose its place in the FIFO.

#[path = "../../firmware-sim/lm3s6965/src/frame_format.rs"]
#[allow(dead_code)]
mod frame_format;

use frame_format::{FCS, FIFO_BYTES, HEADER, LEN_FIELD, MAX_FRAME, RX_BUF, RxRecord};

#[test]
fn every_length_word_has_a_defined_outcome_within_the_buffer() {
    for total in 0..=u16::MAX as u32 {
        // The upper half of the first word is the frame's first bytes: it
        // must not matter.
        for high in [0u32, 0xFFFF_0000, 0x1234_0000] {
            let record = RxRecord::from_first_word(high | total);
            let total = total as usize;
            match record {
                RxRecord::Fits { words, frame } => {
                    assert!((HEADER..=MAX_FRAME).contains(&frame), "{total}: {record:?}");
                    assert_eq!(frame + LEN_FIELD + FCS, total, "{record:?}");
                    assert_eq!(words, total.div_ceil(4), "{record:?}");
                    assert!(words * 4 <= RX_BUF, "{total}: {record:?} overflows");
                }
                RxRecord::TooLong { words, frame } => {
                    assert!(frame > MAX_FRAME, "{record:?}");
                    assert!(total <= FIFO_BYTES, "{record:?}");
                    // Read out whole: every word of the record, no more.
                    assert_eq!(words, total.div_ceil(4), "{record:?}");
                }
                RxRecord::Runt { words } => {
                    assert!(total < LEN_FIELD + HEADER + FCS, "{record:?}");
                    assert!(words >= 2, "{total}: the first word is already read");
                    assert_eq!(words, total.div_ceil(4), "{record:?}");
                }
                RxRecord::Garbled => {
                    assert!(
                        !(LEN_FIELD + FCS..=FIFO_BYTES).contains(&total),
                        "{total}: a possible record called garbled"
                    );
                }
            }
        }
    }
}

#[test]
fn the_edges() {
    // QEMU's record for a 60-byte frame: 60 + 2 + 4.
    assert_eq!(
        RxRecord::from_first_word(66),
        RxRecord::Fits {
            words: 17,
            frame: 60
        }
    );
    // The largest frame smoltcp may get, and one byte more.
    assert_eq!(
        RxRecord::from_first_word((MAX_FRAME + 6) as u32),
        RxRecord::Fits {
            words: 380,
            frame: MAX_FRAME
        }
    );
    assert_eq!(
        RxRecord::from_first_word((MAX_FRAME + 7) as u32),
        RxRecord::TooLong {
            words: 381,
            frame: MAX_FRAME + 1
        }
    );
    // A bare header is a frame; one byte less is a runt.
    assert!(matches!(
        RxRecord::from_first_word(20),
        RxRecord::Fits { frame: 14, .. }
    ));
    assert_eq!(RxRecord::from_first_word(19), RxRecord::Runt { words: 5 });
    // The most QEMU puts in its FIFO (2041 bytes + 6), and past the FIFO.
    assert!(matches!(
        RxRecord::from_first_word(2047),
        RxRecord::TooLong { .. }
    ));
    assert_eq!(RxRecord::from_first_word(2049), RxRecord::Garbled);
    assert_eq!(RxRecord::from_first_word(0), RxRecord::Garbled);
    assert_eq!(RxRecord::from_first_word(5), RxRecord::Garbled);
}
