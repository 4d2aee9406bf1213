//! The seam between the SMTP client and a TLS implementation: a sans-IO TLS
//! client session, so the same SMTP machine runs over plain TCP or TLS. The
//! host implements it with rustls; [`NoTls`] stands where there is none.

/// Why TLS failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsError {
    /// The server's certificate was refused (untrusted, expired, wrong name).
    Certificate,
    /// The handshake or a record failed otherwise.
    Protocol,
    /// This build has no TLS.
    Unsupported,
}

impl core::fmt::Display for TlsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TlsError::Certificate => "the server's certificate was refused",
            TlsError::Protocol => "the TLS handshake or a TLS record failed",
            TlsError::Unsupported => "TLS is not available in this build",
        })
    }
}

/// A TLS client session, fed and drained by the runtime: ciphertext in and
/// out on one side, plaintext in and out on the other. The server name and
/// trust anchors are set when the session is made.
pub trait TlsSession {
    /// Begins the handshake: the ClientHello becomes pending output.
    fn start(&mut self) -> Result<(), TlsError>;
    /// Whether the handshake is still running.
    fn is_handshaking(&self) -> bool;
    /// Takes ciphertext received from the server; returns bytes used.
    fn read_tls(&mut self, ciphertext: &[u8]) -> Result<usize, TlsError>;
    /// Whether ciphertext is waiting to be sent.
    fn wants_write(&self) -> bool;
    /// Writes pending ciphertext into `out`; returns bytes written.
    fn write_tls(&mut self, out: &mut [u8]) -> Result<usize, TlsError>;
    /// Takes received plaintext into `out`; returns bytes written.
    fn read_plain(&mut self, out: &mut [u8]) -> Result<usize, TlsError>;
    /// Encrypts plaintext to send; returns bytes taken.
    fn write_plain(&mut self, plaintext: &[u8]) -> Result<usize, TlsError>;
    /// Queues close_notify.
    fn close(&mut self);
}

/// No TLS: every attempt to start it fails with [`TlsError::Unsupported`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTls;

impl TlsSession for NoTls {
    fn start(&mut self) -> Result<(), TlsError> {
        Err(TlsError::Unsupported)
    }
    fn is_handshaking(&self) -> bool {
        false
    }
    fn read_tls(&mut self, _: &[u8]) -> Result<usize, TlsError> {
        Err(TlsError::Unsupported)
    }
    fn wants_write(&self) -> bool {
        false
    }
    fn write_tls(&mut self, _: &mut [u8]) -> Result<usize, TlsError> {
        Ok(0)
    }
    fn read_plain(&mut self, _: &mut [u8]) -> Result<usize, TlsError> {
        Ok(0)
    }
    fn write_plain(&mut self, _: &[u8]) -> Result<usize, TlsError> {
        Err(TlsError::Unsupported)
    }
    fn close(&mut self) {}
}
