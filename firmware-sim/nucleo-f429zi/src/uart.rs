//! USART3, transmit only, on PD8: the NUCLEO-F429ZI's ST-LINK virtual COM
//! port (UM1974, with the board's default solder bridges), the log's sink
//! ([`write_str`], handed to `minnow_firmware::log::set_sink`). 115200 baud,
//! 8N1; the lines end in a bare `\n`.
//!
//! embassy-stm32's blocking `UartTx` does the work; it lives in a static
//! (behind a critical section, which costs nothing here: interrupts are
//! masked for good) because the sink is a plain function.

use core::cell::RefCell;

use critical_section::Mutex;
use embassy_stm32::Peri;
use embassy_stm32::mode::Blocking;
use embassy_stm32::peripherals::{PD8, USART3};
use embassy_stm32::usart::{Config, UartTx};

static UART: Mutex<RefCell<Option<UartTx<'static, Blocking>>>> = Mutex::new(RefCell::new(None));

/// Sets USART3 up at 115200 8N1 and makes it the sink's.
pub fn init(usart: Peri<'static, USART3>, tx: Peri<'static, PD8>) {
    let mut config = Config::default();
    config.baudrate = 115_200;
    // The only error is a baud rate the clock cannot make; 115200 from
    // APB1's 42 MHz is 115,068 (0.1 % slow), well within a UART's margin.
    if let Ok(uart) = UartTx::new_blocking(usart, tx, config) {
        critical_section::with(|cs| *UART.borrow_ref_mut(cs) = Some(uart));
    }
}

/// Writes `s` to USART3, blocking until every byte is in its data register
/// (before [`init`], or if it failed, nowhere).
pub fn write_str(s: &str) {
    critical_section::with(|cs| {
        if let Some(uart) = UART.borrow_ref_mut(cs).as_mut() {
            let _ = uart.blocking_write(s.as_bytes());
        }
    });
}
