//! Diagnostics through the `log` facade when the `log` feature is on, and
//! nothing at all (no code, no strings) when it is off.

/// `debug!(...)`: a record at debug level, or nothing.
macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
    }};
}

/// `warning!(...)`: a record at warn level, or nothing.
#[allow(unused_macros)] // unused when the chat room is compiled out
macro_rules! warning {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::warn!($($arg)*);
    }};
}

#[allow(unused_imports)]
pub(crate) use {debug, warning};
