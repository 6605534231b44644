//! TLS capture: a direct rustls handshake to the target that records the
//! certificate chain exactly as presented (DER, in order), the negotiated
//! protocol version and cipher suite, and the verification outcome against
//! the trust set's roots for the target host name.
//!
//! The capture completes even when verification fails (a self-signed test
//! certificate is legitimate under protocol `v0.0.1-test`): the audit
//! decides. It never completes when the server cannot prove possession of
//! the presented leaf's key: handshake signatures are always verified.
//! No application data is exchanged on a capture connection.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use thiserror::Error;
use time::OffsetDateTime;

use crate::trust::TrustSet;

/// The handshake-signature half of a [`ServerCertVerifier`] that records
/// certificates: delegated to the crypto provider in `self.provider`, the
/// same for every recording verifier of the collector (the capture here and
/// the document connection in `conn.rs`).
macro_rules! handshake_signatures_by_provider {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}
pub(crate) use handshake_signatures_by_provider;

/// Why a handshake could not be captured.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TlsError {
    #[error("tls://{host}:{port}: cannot resolve: {cause}")]
    Resolve {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("tls://{host}:{port}: connection failed: {cause}")]
    Connect {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("tls://{host}:{port}: handshake timed out after {secs} s")]
    Timeout { host: String, port: u16, secs: u64 },
    #[error("tls://{host}:{port}: handshake failed: {cause}")]
    Handshake {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("tls://{host}:{port}: invalid server name: {cause}")]
    ServerName {
        host: String,
        port: u16,
        cause: String,
    },
}

/// One completed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Certificates as presented, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// e.g. `TLSv1_3`.
    pub protocol_version: String,
    /// e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// Verification against the trust set's roots for the host name:
    /// `Ok(())` or the verifier's reason.
    pub verification: Result<(), String>,
}

impl Handshake {
    /// The presented leaf (DER).
    pub fn leaf(&self) -> Option<&[u8]> {
        self.chain.first().map(|c| c.as_slice())
    }
}

/// The TLS evidence of a collection: a first handshake (whose chain is
/// stored) and a second one made after the attestation document was
/// fetched, to detect a service presenting different certificates.
#[derive(Debug, Clone)]
pub struct TlsCapture {
    pub host: String,
    pub port: u16,
    /// Name sent in SNI and checked against the certificate.
    pub server_name: String,
    pub first: Handshake,
    /// The second handshake, or why it failed; `None` if not attempted.
    pub second: Option<Result<Handshake, String>>,
    pub captured_at: OffsetDateTime,
    /// Trust set the verification outcome refers to (`name version`).
    pub roots: String,
}

impl TlsCapture {
    /// The presented leaf certificate (DER) of the first handshake.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.first.leaf()
    }
    /// The certificate presented right after the leaf (normally its issuer).
    pub fn issuer(&self) -> Option<&[u8]> {
        self.first.chain.get(1).map(|c| c.as_slice())
    }
    /// The full presented chain of the first handshake.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.first.chain
    }
    /// Whether the second handshake presented the same leaf (`None` if it
    /// was not made or failed).
    pub fn same_leaf(&self) -> Option<bool> {
        match &self.second {
            Some(Ok(h)) => Some(h.leaf() == self.first.leaf()),
            _ => None,
        }
    }
}

/// Builds the root store for `trust`: Mozilla's roots when enabled, plus the
/// trust file's extra TLS roots. Unparsable extra roots are skipped (the
/// trust file loader already parsed them as certificates).
pub fn root_store(trust: &TrustSet) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    if trust.webpki_mozilla {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for r in &trust.tls_roots {
        let _ = roots.add(CertificateDer::from(r.clone()));
    }
    roots
}

/// A presented chain and its verification outcome.
type Seen = (Vec<Vec<u8>>, Result<(), String>);

/// Verifier that records the presented chain and the outcome of real
/// verification, then lets the handshake finish. Handshake signatures are
/// verified for real.
#[derive(Debug)]
struct Capturing {
    inner: Result<Arc<WebPkiServerVerifier>, String>,
    provider: Arc<CryptoProvider>,
    seen: Mutex<Option<Seen>>,
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let outcome = match &self.inner {
            Ok(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let mut chain = vec![end_entity.as_ref().to_vec()];
        chain.extend(intermediates.iter().map(|c| c.as_ref().to_vec()));
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some((chain, outcome));
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures_by_provider!();
}

/// Deadlines of a capture.
#[derive(Debug, Clone, Copy)]
pub struct TlsTimeouts {
    pub connect: Duration,
    pub read: Duration,
    /// Whole handshake, connect included.
    pub total: Duration,
}

/// Makes one handshake to `host:port` and records it.
pub fn handshake(
    host: &str,
    port: u16,
    trust: &TrustSet,
    t: TlsTimeouts,
) -> Result<Handshake, TlsError> {
    let start = Instant::now();
    let deadline = start + t.total;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(root_store(trust));
    let inner = if roots.is_empty() {
        Err("the trust set has no TLS roots".to_string())
    } else {
        WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| e.to_string())
    };
    let verifier = Arc::new(Capturing {
        inner,
        provider: provider.clone(),
        seen: Mutex::new(None),
    });
    let hs_err = |cause: String| TlsError::Handshake {
        host: host.to_string(),
        port,
        cause,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| hs_err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| TlsError::ServerName {
        host: host.into(),
        port,
        cause: e.to_string(),
    })?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| hs_err(e.to_string()))?;

    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| TlsError::Resolve {
            host: host.into(),
            port,
            cause: e.to_string(),
        })?
        .collect();
    let mut sock = None;
    let mut last = String::from("no address");
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&a, t.connect.min(left)) {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    let mut sock = sock.ok_or_else(|| TlsError::Connect {
        host: host.into(),
        port,
        cause: last,
    })?;
    let timeout = || TlsError::Timeout {
        host: host.into(),
        port,
        secs: t.total.as_secs(),
    };
    while conn.is_handshaking() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timeout());
        }
        let step = t.read.min(left).max(Duration::from_millis(1));
        let _ = sock.set_read_timeout(Some(step));
        let _ = sock.set_write_timeout(Some(step));
        if let Err(e) = conn.complete_io(&mut sock) {
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                if Instant::now() >= deadline {
                    return Err(timeout());
                }
                continue;
            }
            return Err(hs_err(e.to_string()));
        }
    }
    let chain: Vec<Vec<u8>> = conn
        .peer_certificates()
        .map(|cs| cs.iter().map(|c| c.as_ref().to_vec()).collect())
        .unwrap_or_default();
    let verification = verifier
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .map(|(_, o)| o)
        .unwrap_or_else(|| Err("the server presented no certificate".into()));
    if chain.is_empty() {
        return Err(hs_err("the server presented no certificate".into()));
    }
    let protocol_version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_else(|| "unknown".into());
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_else(|| "unknown".into());
    // Polite close; errors here do not matter.
    conn.send_close_notify();
    let _ = conn.write_tls(&mut sock);
    let _ = sock.flush();
    Ok(Handshake {
        chain,
        protocol_version,
        cipher_suite,
        verification,
    })
}
