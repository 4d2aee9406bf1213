//! Log lines on stderr, `minnow: ...`, through the `log` facade: the
//! host's own lines (target `minnow`, info), core's diagnostics (debug), and
//! smoltcp's and rustls's records when `RUST_LOG` or `-v` asks for them.
//! Each record is written and flushed at once, so that tests and pipes see
//! the lines in order.

use std::io::Write;

/// One line at info level: an event, a startup line.
pub fn log(line: &str) {
    log::info!(target: "minnow", "{line}");
}

/// Installs the logger: `RUST_LOG` when set (e.g. `smoltcp=trace`), else
/// the level `-v`/`-q` choose. Minnow's own lines read `minnow: ...`, other
/// crates' `minnow: CRATE: ...`.
pub fn init(verbose: u8, quiet: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,minnow=info",
        (false, 1) => "info,minnow=debug",
        (false, 2) => "debug,minnow=trace",
        (false, _) => "trace",
    };
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(filter);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    builder
        .format(|buf, record| {
            let target = record.target();
            if target == "minnow" || target.starts_with("minnow::") {
                writeln!(buf, "minnow: {}", record.args())
            } else {
                writeln!(buf, "minnow: {target}: {}", record.args())
            }
        })
        .init();
}
