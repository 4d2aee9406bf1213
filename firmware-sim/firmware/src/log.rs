//! The log: lines on the board's UART, each starting `minnow: ` like the
//! host's stderr.
//!
//! The UART is the board's (each has its own), but the lines come from
//! everywhere: this crate's services and mail, the board's driver and the
//! panic handler, which takes no arguments. So the board hands its UART's
//! writer to [`set_sink`] once at boot, and [`line()`] reads it from a static.
//! Before that, lines go nowhere.

use core::cell::Cell;
use core::fmt::{self, Write};

use critical_section::Mutex;

/// Writes bytes to the board's UART, blocking until they are out.
pub type Sink = fn(&str);

/// The board's writer. A critical-section cell: the firmware runs on one
/// core with interrupts masked, so taking it costs two instructions.
static SINK: Mutex<Cell<Option<Sink>>> = Mutex::new(Cell::new(None));

/// Sends every later line to `sink` (the board calls this first thing).
pub fn set_sink(sink: Sink) {
    critical_section::with(|cs| SINK.borrow(cs).set(Some(sink)));
}

/// [`fmt::Write`] on the sink.
struct Out(Sink);

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        (self.0)(s);
        Ok(())
    }
}

/// Writes one formatted line. Usable from anywhere, the panic handler
/// included.
pub fn line(args: fmt::Arguments<'_>) {
    let Some(sink) = critical_section::with(|cs| SINK.borrow(cs).get()) else {
        return;
    };
    let mut out = Out(sink);
    // Plain `\n`: QEMU's stdio backend keeps the terminal's output
    // processing, and logs read through a pipe stay clean.
    let _ = out.write_str("minnow: ");
    let _ = out.write_fmt(args);
    let _ = out.write_str("\n");
}

/// `log!("fmt", args..)`: one log line.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(format_args!($($arg)*))
    };
}

/// The UART as the `log` facade's logger (feature `log`): core's and
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

/// Installs `UartLogger` at debug level (feature `log`; without it, nothing).
pub fn init_facade() {
    #[cfg(feature = "log")]
    {
        static LOGGER: UartLogger = UartLogger;
        if ::log::set_logger(&LOGGER).is_ok() {
            ::log::set_max_level(::log::LevelFilter::Debug);
        }
    }
}
