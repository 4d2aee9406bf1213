//! Core's TLS seam implemented with rustls: certificate verification
//! against the system's roots (or `--ca FILE`) and a server-name check.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use minnow::mail::tls::{TlsError, TlsSession};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, RootCertStore, SignatureScheme};

use crate::error::Error;

/// Unsent plaintext and TLS records rustls may hold: one full record.
const PLAINTEXT_LIMIT: usize = 16 * 1024;

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

/// Accepts exactly one certificate as the server's (`--pin-cert`), and
/// still checks that the server holds its key (the handshake signatures).
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
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
        Self::with_config(config, name)
    }

    /// A session that trusts exactly the certificate in `path` (PEM) as the
    /// server's, whoever issued it; SNI still names `name`.
    pub fn pinned(path: &Path, name: &str) -> Result<Self, Error> {
        let cert = CertificateDer::from_pem_file(path)
            .map_err(|e| Error::Usage(format!("--pin-cert {}: {e}", path.display())))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(Pinned {
            cert,
            algorithms: provider.signature_verification_algorithms,
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Self::with_config(config, name)
    }

    fn with_config(config: ClientConfig, name: &str) -> Result<Self, Error> {
        let server = ServerName::try_from(name.to_string())
            .map_err(|e| format!("TLS server name {name}: {e}"))?;
        let mut conn =
            ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
        // Core's sender hands rustls at most 512 bytes of plaintext, and only
        // while no ciphertext waits; the limit makes that a bound rustls
        // itself enforces (its default is 64 KiB), so no bug can make it
        // buffer a message. Received plaintext has rustls's own 16 KiB bound.
        conn.set_buffer_limit(Some(PLAINTEXT_LIMIT));
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
        let text = e.to_string();
        // webpki refuses a CA certificate as the server's own, which is what
        // `openssl req -x509` makes by default: say so, and what to do.
        self.last_error = Some(if text.contains("CaUsedAsEndEntity") {
            format!(
                "{text}: the server's certificate is itself a CA certificate (what `openssl req \
                 -x509` makes by default); give the server a certificate with \
                 basicConstraints CA:FALSE signed by a CA you pass with --ca, or trust exactly \
                 this one with --pin-cert FILE"
            )
        } else {
            text
        });
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
