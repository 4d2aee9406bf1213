//! Diagnostics through the `log` facade (feature `log`) or defmt (feature
//! `defmt`, for boards), and nothing at all (no code, no strings) with
//! neither. The format strings use only `{}`, which both understand.

/// `debug!(...)`: a record at debug level, or nothing.
macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::debug!($($arg)*);
    }};
}

/// `warning!(...)`: a record at warn level, or nothing.
#[allow(unused_macros)] // unused when the chat room is compiled out
macro_rules! warning {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::warn!($($arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::warn!($($arg)*);
    }};
}

#[allow(unused_imports)]
pub(crate) use {debug, warning};
