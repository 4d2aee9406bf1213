//! Log lines on stderr, `minnow: ...`, one per event, flushed at once so
//! that tests and pipes see them in order.

use std::io::Write;

pub fn log(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "minnow: {line}");
}
