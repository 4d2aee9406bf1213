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
