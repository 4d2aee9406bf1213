//! UART0 of the chip (an Arm PL011), transmit only: the log's sink
//! ([`write_str`], handed to `minnow_firmware::log::set_sink`).
//!
//! Registers (PL011 TRM; LM3S6965 data sheet, "UART"; QEMU
//! `hw/char/pl011.c`), from 0x4000_C000: DR 0x000 (write a byte to send),
//! FR 0x018 (bit 5: transmit FIFO full), IBRD 0x024 and FBRD 0x028 (the
//! baud-rate divisor's integer and 1/64 parts), LCRH 0x02C (word length,
//! FIFO enable), CTL 0x030 (UART, transmitter, receiver enable).

use crate::mmio::Regs;
use crate::sysctl::SYSCLK_HZ;

const DR: usize = 0x000;
const FR: usize = 0x018;
const IBRD: usize = 0x024;
const FBRD: usize = 0x028;
const LCRH: usize = 0x02C;
const CTL: usize = 0x030;

const FR_TXFF: u32 = 1 << 5;
/// LCRH: 8 data bits (WLEN = 3), FIFOs on.
const LCRH_8N1_FIFO: u32 = (0b11 << 5) | (1 << 4);
const CTL_UARTEN: u32 = 1 << 0;
const CTL_TXE: u32 = 1 << 8;

/// 115200 baud: the divisor is SYSCLK / (16 × baud) = 27.13 at 50 MHz,
/// i.e. 27 and 8/64. QEMU ignores the rate.
const BAUD: u32 = 115_200;
const DIVISOR_64THS: u32 = (SYSCLK_HZ * 4 + BAUD / 2) / BAUD;

/// Sets UART0 to 115200 8N1 and enables its transmitter (the data sheet's
/// order: disabled while the format changes). The system clock must be set.
pub fn init() {
    let regs = Regs::uart0();
    regs.write(CTL, 0);
    regs.write(IBRD, DIVISOR_64THS / 64);
    regs.write(FBRD, DIVISOR_64THS % 64);
    regs.write(LCRH, LCRH_8N1_FIFO);
    regs.write(CTL, CTL_UARTEN | CTL_TXE);
}

/// Writes `s` to UART0, blocking while the transmit FIFO is full (QEMU
/// sends at once).
pub fn write_str(s: &str) {
    let regs = Regs::uart0();
    for b in s.bytes() {
        while regs.read(FR) & FR_TXFF != 0 {}
        regs.write(DR, u32::from(b));
    }
}
