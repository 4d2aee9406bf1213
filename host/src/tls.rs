//! Core's TLS seam implemented with rustls: certificate verification
//! against the system's roots (or `--ca FILE`) and a server-name check.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use minnow::mail::tls::{TlsError, TlsSession};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::Error;

/// A rustls client connection behind core's [`TlsSession`].
pub struct RustlsSession {
    conn: ClientConnection,
    /// The last rustls error, in rustls's words.
    pub last_error: Option<String>,
}

/// Trust anchors: the PEM file given, or the system's store.
pub fn roots(ca: Option<&Path>) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match ca {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("--ca {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("--ca {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(Error::Usage(format!(
                    "--ca {}: no certificate in the file",
                    path.display()
                )));
            }
            for cert in certs {
                store
                    .add(cert)
                    .map_err(|e| format!("--ca {}: {e}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(
                    "no trusted root certificates found on this system: pass --ca FILE".into(),
                );
            }
        }
    }
    Ok(store)
}

impl RustlsSession {
    /// A session that will verify the server's certificate for `name`.
    pub fn new(roots: RootCertStore, name: &str) -> Result<Self, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server = ServerName::try_from(name.to_string())
            .map_err(|e| format!("TLS server name {name}: {e}"))?;
        let conn = ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
        Ok(Self {
            conn,
            last_error: None,
        })
    }

    fn failed(&mut self, e: rustls::Error) -> TlsError {
        let kind = match e {
            rustls::Error::InvalidCertificate(_) => TlsError::Certificate,
            _ => TlsError::Protocol,
        };
        self.last_error = Some(e.to_string());
        kind
    }
}

impl TlsSession for RustlsSession {
    fn start(&mut self) -> Result<(), TlsError> {
        // The ClientHello is already queued by ClientConnection::new.
        Ok(())
    }

    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    fn read_tls(&mut self, ciphertext: &[u8]) -> Result<usize, TlsError> {
        let mut input = ciphertext;
        let n = self.conn.read_tls(&mut input).map_err(|e| {
            self.last_error = Some(e.to_string());
            TlsError::Protocol
        })?;
        if let Err(e) = self.conn.process_new_packets() {
            return Err(self.failed(e));
        }
        Ok(n)
    }

    fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    fn write_tls(&mut self, out: &mut [u8]) -> Result<usize, TlsError> {
        let mut sink: &mut [u8] = out;
        self.conn.write_tls(&mut sink).map_err(|e| {
            self.last_error = Some(e.to_string());
            TlsError::Protocol
        })
    }

    fn read_plain(&mut self, out: &mut [u8]) -> Result<usize, TlsError> {
        match self.conn.reader().read(out) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => {
                self.last_error = Some(e.to_string());
                Err(TlsError::Protocol)
            }
        }
    }

    fn write_plain(&mut self, plaintext: &[u8]) -> Result<usize, TlsError> {
        self.conn.writer().write(plaintext).map_err(|e| {
            self.last_error = Some(e.to_string());
            TlsError::Protocol
        })
    }

    fn close(&mut self) {
        self.conn.send_close_notify();
    }
}
