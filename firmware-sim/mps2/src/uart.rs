//! UART0 of the board (Arm CMSDK APB UART), transmit only: the log's sink
//! ([`write_str`], handed to `minnow_firmware::log::set_sink`).
//!
//! Registers (CMSDK APB UART TRM; QEMU `hw/char/cmsdk-apb-uart.c`):
//! DATA 0x00 (write a byte to send), STATE 0x04 (bit 0: transmit buffer
//! full), CTRL 0x08 (bit 0: transmitter enable), BAUDDIV 0x10 (clock divider,
//! at least 16).

use crate::mmio::Regs;

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const CTRL_TX_EN: u32 = 1 << 0;

/// The log UART. Writes block until the byte fits (QEMU sends at once).
pub struct Uart {
    regs: Regs,
}

impl Uart {
    /// Enables UART0's transmitter. 25 MHz / 217 = 115200 baud on the real
    /// board; QEMU ignores the rate but wants a divider of at least 16.
    pub fn init() {
        let regs = Regs::uart0();
        regs.write(BAUDDIV, 217);
        regs.write(CTRL, CTRL_TX_EN);
    }

    /// A writer on UART0 (after [`Uart::init`]). It holds no state: the
    /// transmitter's state is in its registers.
    pub fn handle() -> Self {
        Self {
            regs: Regs::uart0(),
        }
    }

    fn put(&mut self, byte: u8) {
        while self.regs.read(STATE) & STATE_TX_FULL != 0 {}
        self.regs.write(DATA, u32::from(byte));
    }
}

/// Writes `s` to UART0, blocking until every byte is in (after [`Uart::init`]).
pub fn write_str(s: &str) {
    let mut uart = Uart::handle();
    for b in s.bytes() {
        uart.put(b);
    }
}
