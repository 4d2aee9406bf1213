//! The log: lines on UART0, each starting `minnow: ` like the host's stderr.

use core::fmt::{self, Write};

use crate::uart::Uart;

/// Writes one formatted line. Stateless, so usable from anywhere, the panic
/// handler included.
pub fn line(args: fmt::Arguments<'_>) {
    let mut uart = Uart::handle();
    let _ = uart.write_str("minnow: ");
    let _ = uart.write_fmt(args);
    let _ = uart.write_str("\n");
}

/// `log!("fmt", args..)`: one log line.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}

/// The UART as the `log` facade's logger (board feature `log`): core's and
/// smoltcp's records become lines like the board's own, `minnow: TARGET: ...`.
#[cfg(feature = "log")]
pub struct UartLogger;

#[cfg(feature = "log")]
impl ::log::Log for UartLogger {
    fn enabled(&self, _: &::log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &::log::Record<'_>) {
        line(format_args!("{}: {}", record.target(), record.args()));
    }

    fn flush(&self) {}
}

/// Installs [`UartLogger`] at debug level.
#[cfg(feature = "log")]
pub fn init() {
    static LOGGER: UartLogger = UartLogger;
    if ::log::set_logger(&LOGGER).is_ok() {
        ::log::set_max_level(::log::LevelFilter::Debug);
    }
}
