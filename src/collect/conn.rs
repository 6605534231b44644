//! The connection layer under the HTTP client: our own TLS connector and
//! resolver for ureq (its low-level `unversioned` transport API).
//!
//! Why not ureq's own rustls connector: it does not expose the certificate
//! chain of the connection that delivered a response, and the collector
//! must record exactly that chain for the attestation document (statement
//! v2 `document_connection`, judged by `tls.binding`). Our connector builds
//! the same kind of rustls client (ring provider, webpki verification
//! against the trust set's roots, or no chain verification for the one
//! documented insecure case — handshake signatures are verified either
//! way) and leaves the presented chain in a per-thread slot that the client
//! reads right after the exchange (ureq is blocking: the connection is made
//! on the calling thread).
//!
//! Why a resolver: the redirect policy judges the address a hop will really
//! connect to. The [`PublicOnly`] resolver resolves like ureq's default and
//! refuses the whole hop when any resolved address is not public (no
//! rebinding window between a check and the connect: the connector only
//! ever sees addresses this resolver returned).

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::StreamOwned;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// The chain presented on the last TLS connection made by this thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerChain {
    /// Leaf first, DER, as presented.
    pub chain: Vec<Vec<u8>>,
    /// Whether the chain verified against the trust set for the host name.
    pub verified: bool,
}

thread_local! {
    static LAST_PEER: RefCell<Option<PeerChain>> = const { RefCell::new(None) };
}

/// Forgets the last recorded chain (before an exchange).
pub fn clear_last_peer() {
    LAST_PEER.with(|l| *l.borrow_mut() = None);
}

/// The chain of the last TLS connection this thread made, if any.
pub fn take_last_peer() -> Option<PeerChain> {
    LAST_PEER.with(|l| l.borrow_mut().take())
}

/// A TLS handshake that did not finish in time. Distinct from a TCP
/// connect timeout so that the failure is named for what stalled.
#[derive(Debug)]
pub struct TlsHandshakeTimeout;

impl std::fmt::Display for TlsHandshakeTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TLS handshake")
    }
}
impl std::error::Error for TlsHandshakeTimeout {}

/// Why a hop was refused before any connection: the policy error the client
/// turns into `HttpError::RedirectRefused`.
#[derive(Debug)]
pub struct AddressRefused {
    pub host: String,
    pub addr: IpAddr,
    pub class: &'static str,
}

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {} ({}), not a public address",
            self.host, self.addr, self.class
        )
    }
}
impl std::error::Error for AddressRefused {}

/// `None` for a public unicast address; otherwise the class that makes it
/// non-public (loopback, link-local incl. 169.254.169.254, RFC 1918,
/// CGNAT, unique-local, unspecified, multicast, documentation, …).
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_unspecified() || o[0] == 0 {
                Some("unspecified / this network")
            } else if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local (includes the cloud metadata address 169.254.169.254)")
            } else if v4.is_private() {
                Some("private (RFC 1918)")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("shared address space / CGNAT (RFC 6598)")
            } else if v4.is_multicast() || v4.is_broadcast() || o[0] >= 240 {
                Some("multicast / broadcast / reserved")
            } else if (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
            {
                Some("special-purpose / documentation / benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("unique-local")
            } else if (s[0] & 0xff00) == 0xff00 {
                Some("multicast")
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("documentation")
            } else if s[0] == 0x0064 && s[1] == 0xff9b {
                // NAT64 embeds an IPv4 address: judge that one.
                let v4 = std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                );
                non_public(IpAddr::V4(v4))
            } else {
                None
            }
        }
    }
}

/// Resolver that refuses a host any of whose addresses is not public.
#[derive(Debug, Default)]
pub struct PublicOnly {
    inner: DefaultResolver,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        for a in addrs.iter() {
            if let Some(class) = non_public(a.ip()) {
                return Err(ureq::Error::Other(Box::new(AddressRefused {
                    host: uri.host().unwrap_or("").to_string(),
                    addr: a.ip(),
                    class,
                })));
            }
        }
        Ok(addrs)
    }
}

/// Any-address resolver (ureq's default), for URLs the user chose.
#[derive(Debug, Default)]
pub struct AnyAddress {
    inner: DefaultResolver,
}

impl Resolver for AnyAddress {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.inner.resolve(uri, config, timeout)
    }
}

/// Verifier recording the presented chain: real webpki verification when
/// `inner` is set (its error fails the handshake), none otherwise (the one
/// documented insecure fetch). Handshake signatures are always verified.
#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let outcome = self.inner.as_ref().map(|v| {
            v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        });
        let mut chain = vec![end_entity.as_ref().to_vec()];
        chain.extend(intermediates.iter().map(|c| c.as_ref().to_vec()));
        let verified = matches!(outcome, Some(Ok(_)));
        LAST_PEER.with(|l| *l.borrow_mut() = Some(PeerChain { chain, verified }));
        match outcome {
            Some(r) => r,
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    super::tls::handshake_signatures_by_provider!();
}

/// Builds the rustls client configuration: verification against `roots`
/// (DER) unless `insecure`.
pub fn client_config(roots: &[Vec<u8>], insecure: bool) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = if insecure {
        None
    } else {
        let mut store = rustls::RootCertStore::empty();
        for r in roots {
            let _ = store.add(CertificateDer::from(r.clone()));
        }
        // An empty store cannot build a verifier: every verified fetch then
        // fails as a TLS error, which is the truth.
        WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .ok()
    };
    let failing = !insecure && inner.is_none();
    let verifier = Arc::new(Recording {
        inner,
        provider: provider.clone(),
    });
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    // No session resumption: a resumed session presents no certificate, and
    // every connection's chain must be seen (and recorded) for real.
    cfg.resumption = rustls::client::Resumption::disabled();
    if failing {
        // No roots: offer nothing the server can satisfy.
        cfg.alpn_protocols = vec![b"no-tls-roots".to_vec()];
    }
    Arc::new(cfg)
}

/// ureq connector wrapping the TCP transport in our rustls client.
#[derive(Debug)]
pub struct TlsConnector {
    pub config: Arc<rustls::ClientConfig>,
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .ok_or_else(|| ureq::Error::BadUri("no host".into()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("invalid TLS server name"))?;
        let mut conn = rustls::ClientConnection::new(self.config.clone(), name)
            .map_err(ureq::Error::Rustls)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        if let Err(e) = conn.complete_io(&mut sock) {
            let timed_out = matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) || e
                .get_ref()
                .and_then(|i| i.downcast_ref::<ureq::Error>())
                .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
            if timed_out {
                return Err(ureq::Error::Other(Box::new(TlsHandshakeTimeout)));
            }
            return Err(ureq::Error::Io(e));
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// A TLS connection as a ureq transport.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<rustls::ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        use std::io::Write;
        self.stream.get_mut().set_timeout(timeout);
        let out = &self.buffers.output()[..amount];
        self.stream.write_all(out)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        use std::io::Read;
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let n = self.stream.read(input)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_classifies_the_ranges_a_redirect_must_not_reach() {
        for a in [
            "127.0.0.1",
            "169.254.169.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                non_public(a.parse().unwrap()).is_some(),
                "{a} is not public"
            );
        }
        for a in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700::1111"] {
            assert_eq!(non_public(a.parse().unwrap()), None, "{a} is public");
        }
    }
}
