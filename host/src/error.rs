//! What can go wrong in a `minnow` command, and the exit code each kind
//! gets (listed in `minnow --help` and the README).

use minnow::net::tcp_client::ClientError;

/// Exit codes (0 when done). 2 is also what clap exits with for a bad
/// command line.
pub mod exit {
    /// Failed for any other reason (I/O, a protocol error, bad data).
    pub const FAILED: i32 = 1;
    /// A bad command line or argument.
    pub const USAGE: i32 = 2;
    /// The peer refused: no server at the port, a reset, an SMTP rejection.
    pub const REFUSED: i32 = 69;
    /// The TAP device cannot be opened for lack of permission.
    pub const NO_PERMISSION: i32 = 77;
    /// Nothing answered in time.
    pub const TIMEOUT: i32 = 124;
    /// Stopped by SIGINT or SIGTERM before the end.
    pub const INTERRUPTED: i32 = 130;
}

/// The exit codes as `minnow --help` lists them.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 done; 1 failed; 2 bad command line; \
69 refused by the peer (nothing listening, reset, SMTP rejection); 77 no permission \
to open the TAP device; 124 timed out; 130 interrupted by SIGINT or SIGTERM.";

/// A command's failure, with the words the user sees.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad argument that the command line parser could not catch.
    #[error("{0}")]
    Usage(String),
    /// The TAP device cannot be opened for lack of permission.
    #[error("{0}")]
    NoPermission(String),
    /// The peer refused (connection refused or reset, SMTP 5xx).
    #[error("{0}")]
    Refused(String),
    /// Nothing answered in time.
    #[error("{0}")]
    Timeout(String),
    /// SIGINT or SIGTERM arrived.
    #[error("interrupted")]
    Interrupted,
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::NoPermission(_) => exit::NO_PERMISSION,
            Error::Refused(_) => exit::REFUSED,
            Error::Timeout(_) => exit::TIMEOUT,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Failed(_) => exit::FAILED,
        }
    }

    /// A failed client connection, with `context` (usually the server) in
    /// front of its reason.
    pub fn client(context: impl std::fmt::Display, e: ClientError) -> Self {
        let text = format!("{context}: {e}");
        match e {
            ClientError::Refused | ClientError::Reset => Error::Refused(text),
            ClientError::ConnectTimeout | ClientError::Timeout => Error::Timeout(text),
            ClientError::Unaddressable => {
                Error::Failed(format!("{text}; give --gateway if it is off the link"))
            }
        }
    }

    /// The same error with `context` in front of its words.
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        match self {
            Error::Usage(t) => Error::Usage(format!("{context}: {t}")),
            Error::NoPermission(t) => Error::NoPermission(format!("{context}: {t}")),
            Error::Refused(t) => Error::Refused(format!("{context}: {t}")),
            Error::Timeout(t) => Error::Timeout(format!("{context}: {t}")),
            Error::Interrupted => Error::Interrupted,
            Error::Failed(t) => Error::Failed(format!("{context}: {t}")),
        }
    }
}

impl From<String> for Error {
    fn from(text: String) -> Self {
        Error::Failed(text)
    }
}

impl From<&str> for Error {
    fn from(text: &str) -> Self {
        Error::Failed(text.to_string())
    }
}

impl From<minnow::net::storage::OutOfMemory> for Error {
    fn from(e: minnow::net::storage::OutOfMemory) -> Self {
        Error::Failed(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Failed(e.to_string())
    }
}

/// Shorthand for the commands' results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
