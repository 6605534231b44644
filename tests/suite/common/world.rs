//! The loopback test world: in-process HTTPS servers on 127.0.0.1 ephemeral
//! ports that speak the real protocols (TLS 1.2/1.3 via rustls, HTTP/1.1),
//! with per-endpoint fault injection.
//!
//! * [`TestCa`]: a deterministic test CA (ECDSA P-256) issuing server
//!   certificates; its root enters only through the world's trust file.
//! * [`Server`]: a tiny HTTP/1.1 server (`Connection: close`, GET only)
//!   with routes ([`Server::route`], [`Server::serve`]) and faults
//!   ([`Server::fault`]); optionally TLS with a certificate plan
//!   ([`CertPlan`]) — e.g. a different certificate from the N-th handshake on.
//! * [`World`]: the enclave (attestation document at the well-known path),
//!   an AMD KDS look-alike (cert_chain, CRL, VCEK with the real URL shapes;
//!   the VCEK route answers 400 unless the query is exactly what KDS expects
//!   for the report), and a firmware server. Other test modules add servers
//!   (CT logs: `tests/suite/common/ct_logs.rs`, registries:
//!   `tests/suite/common/registry.rs`) with [`Server::start`] and
//!   [`World::add_tls_root`]-style helpers, and add routes to these ones.
//!
//! No server can hang a test: sockets have read/write timeouts, and every
//! server stops when dropped.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use der::asn1::{GeneralizedTime, Ia5String, OctetString};
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePrivateKey;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Where the enclave serves its document (the real well-known path).
pub const ATTESTATION_PATH: &str = "/.well-known/appspecific/dev.blyss.enclave/attestation.json";

/// Deterministic P-256 key from a seed string (test-only).
pub fn test_key(seed: &str) -> SigningKey {
    let mut ctr = 0u32;
    loop {
        let mut h = Sha256::new();
        h.update(b"blyss-evidence test key\0");
        h.update(seed.as_bytes());
        h.update(ctr.to_be_bytes());
        if let Ok(k) = SigningKey::from_slice(&h.finalize()) {
            return k;
        }
        ctr += 1;
    }
}

fn validity(from_unix: u64, to_unix: u64) -> Validity {
    Validity {
        not_before: Time::GeneralTime(
            GeneralizedTime::from_unix_duration(Duration::from_secs(from_unix)).unwrap(),
        ),
        not_after: Time::GeneralTime(
            GeneralizedTime::from_unix_duration(Duration::from_secs(to_unix)).unwrap(),
        ),
    }
}

/// 2020-01-01T00:00:00Z and 2049-12-31T23:59:59Z.
pub const NOT_BEFORE: u64 = 1_577_836_800;
pub const NOT_AFTER: u64 = 2_524_607_999;

/// A certificate with its private key.
#[derive(Clone)]
pub struct Issued {
    pub der: Vec<u8>,
    pub key: SigningKey,
}

impl Issued {
    /// sha256 of the DER, hex (what `report_data[0..32]` binds).
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }
    /// PKCS#8 DER of the key.
    pub fn key_pkcs8(&self) -> Vec<u8> {
        self.key.to_pkcs8_der().unwrap().as_bytes().to_vec()
    }
    pub fn pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.der).unwrap()
    }
}

/// How a leaf is issued.
pub struct LeafSpec<'a> {
    /// DNS names for the SAN.
    pub dns: Vec<String>,
    /// IPv4 addresses for the SAN.
    pub ips: Vec<[u8; 4]>,
    /// Key seed (deterministic key).
    pub seed: String,
    pub serial: u32,
    pub not_before: u64,
    pub not_after: u64,
    /// Extra hook on the builder (e.g. the CT engineer's SCT extensions).
    #[allow(clippy::type_complexity)]
    pub extra: Option<&'a dyn Fn(&mut CertificateBuilder<'_, SigningKey>)>,
}

impl LeafSpec<'_> {
    /// A leaf for 127.0.0.1 and `localhost`, valid 2020–2049.
    pub fn loopback(seed: &str, serial: u32) -> Self {
        LeafSpec {
            dns: vec!["localhost".into()],
            ips: vec![[127, 0, 0, 1]],
            seed: seed.into(),
            serial,
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
            extra: None,
        }
    }
}

/// A deterministic test CA (ECDSA P-256). TEST ONLY.
#[derive(Clone)]
pub struct TestCa {
    pub cert: Issued,
    pub name: Name,
}

impl TestCa {
    /// `CN=<cn>, O=blyss-evidence TEST ONLY`, key derived from `cn`.
    pub fn new(cn: &str) -> TestCa {
        let key = test_key(&format!("ca:{cn}"));
        let name: Name = format!("CN={cn},O=blyss-evidence TEST ONLY")
            .parse()
            .unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
        let b = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity(NOT_BEFORE, NOT_AFTER),
            name.clone(),
            spki,
            &key,
        )
        .unwrap();
        let der = b.build::<DerSignature>().unwrap().to_der().unwrap();
        TestCa {
            cert: Issued { der, key },
            name,
        }
    }

    /// Issues a server certificate.
    pub fn issue(&self, spec: &LeafSpec) -> Issued {
        let key = test_key(&format!("leaf:{}", spec.seed));
        let subject: Name = format!(
            "CN={},O=blyss-evidence TEST ONLY",
            spec.dns.first().cloned().unwrap_or_else(|| "test".into())
        )
        .parse()
        .unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
        let mut b = CertificateBuilder::new(
            Profile::Leaf {
                issuer: self.name.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(spec.serial),
            validity(spec.not_before, spec.not_after),
            subject,
            spki,
            &self.cert.key,
        )
        .unwrap();
        let mut names = Vec::new();
        for d in &spec.dns {
            names.push(GeneralName::DnsName(Ia5String::new(d).unwrap()));
        }
        for ip in &spec.ips {
            names.push(GeneralName::IpAddress(
                OctetString::new(ip.to_vec()).unwrap(),
            ));
        }
        b.add_extension(&SubjectAltName(names)).unwrap();
        b.add_extension(&ExtendedKeyUsage(vec![
            const_oid::db::rfc5280::ID_KP_SERVER_AUTH,
        ]))
        .unwrap();
        if let Some(f) = spec.extra {
            f(&mut b);
        }
        let der = b.build::<DerSignature>().unwrap().to_der().unwrap();
        Issued { der, key }
    }

    /// A self-signed certificate for 127.0.0.1 (as the v0.0.1-test enclave uses).
    pub fn self_signed(seed: &str) -> Issued {
        let ca = TestCa::new(&format!("self-signed {seed}"));
        ca.cert
    }
}

/// rustls server key for a chain (leaf first) and its key.
pub fn certified(chain: &[&[u8]], key: &Issued) -> Arc<CertifiedKey> {
    let provider = rustls::crypto::ring::default_provider();
    let certs = chain
        .iter()
        .map(|c| CertificateDer::from(c.to_vec()))
        .collect();
    let k = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key_pkcs8()));
    Arc::new(CertifiedKey::from_der(certs, k, &provider).unwrap())
}

/// Which certificate each TLS handshake gets.
#[derive(Clone)]
pub enum CertPlan {
    /// Always the same.
    Fixed(Arc<CertifiedKey>),
    /// `first` for the first `n` handshakes, `then` afterwards.
    SwitchAfter {
        n: usize,
        first: Arc<CertifiedKey>,
        then: Arc<CertifiedKey>,
    },
}

#[derive(Debug)]
struct Resolver {
    plan: Mutex<CertPlanInner>,
    count: AtomicUsize,
}

struct CertPlanInner(CertPlan);

impl std::fmt::Debug for CertPlanInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertPlan")
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let i = self.count.fetch_add(1, Ordering::SeqCst);
        let plan = self.plan.lock().unwrap();
        Some(match &plan.0 {
            CertPlan::Fixed(k) => k.clone(),
            CertPlan::SwitchAfter { n, first, then } => {
                if i < *n {
                    first.clone()
                } else {
                    then.clone()
                }
            }
        })
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query (after `?`), empty if none.
    pub query: String,
    /// Header names lower-case.
    pub headers: BTreeMap<String, String>,
    /// Body of a POST (up to 1 MiB, by Content-Length); empty otherwise.
    pub body: Vec<u8>,
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }
    pub fn status(status: u16, msg: &str) -> Self {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: msg.as_bytes().to_vec(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A route handler.
pub type Handler = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// What goes wrong on an endpoint.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Wait before answering normally.
    Latency(Duration),
    /// Answer with this status (and a short text body).
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooManyRequests { retry_after: u64 },
    /// 503 with `Retry-After: secs`.
    Unavailable { retry_after: u64 },
    /// Read the request, then drop the connection abruptly: no response,
    /// no TLS close_notify.
    Reset,
    /// Send the normal headers (Content-Length of the full body) but only
    /// half the body, then drop the connection.
    Truncate,
    /// Send `bytes` bytes of body; with `declared` the Content-Length says
    /// so up front, without it the body is close-delimited.
    Oversize { bytes: usize, declared: bool },
    /// Serve the normal body with this Content-Type.
    ContentType(String),
    /// Serve this body instead (normal headers, 200).
    Body(Vec<u8>),
    /// Accept the connection and say nothing for this long (a stalled
    /// server), then close.
    Stall(Duration),
    /// Serve the normal body gzip-encoded (`Content-Encoding: gzip`) when
    /// the request accepts gzip; 406 otherwise.
    Gzip,
    /// Serve `bytes` zero bytes gzip-encoded (a small body that inflates
    /// beyond caps).
    GzipBomb { bytes: usize },
    // Malicious-server mode (tests/suite/collect_hostile.rs): a service
    // that controls every byte it answers.
    /// Answer with this redirect status and `Location` (any URL, any
    /// scheme: the client must judge it).
    Redirect { status: u16, location: String },
    /// Send a response header of `bytes` bytes (beyond any sane limit).
    HugeHeader { bytes: usize },
    /// Claim `Content-Encoding: gzip` and send bytes that are not gzip.
    BadGzip,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Path prefix (`/` matches everything).
    prefix: String,
    fault: Fault,
    /// How many more requests it applies to (`None`: all).
    remaining: Option<u32>,
}

struct State {
    routes: Mutex<Vec<(String, bool, Handler)>>,
    faults: Mutex<Vec<Rule>>,
    hits: Mutex<Vec<String>>,
    requests: Mutex<Vec<HttpRequest>>,
    stop: AtomicBool,
    connections: AtomicUsize,
    /// Hold the first accepted connection this long before its TLS
    /// handshake (a server thread that is scheduled late).
    hold_first: Mutex<Option<Duration>>,
    /// Malicious mode: hold EVERY accepted connection this long before its
    /// TLS handshake (TCP accepted, no ServerHello: a stalled handshake).
    stall_tls: Mutex<Option<Duration>>,
}

/// A loopback HTTP(S) server.
pub struct Server {
    pub addr: SocketAddr,
    tls: bool,
    state: Arc<State>,
    resolver: Option<Arc<Resolver>>,
}

impl Server {
    /// Starts a server; `tls: Some(plan)` for HTTPS.
    pub fn start(tls: Option<CertPlan>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            routes: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            hits: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            hold_first: Mutex::new(None),
            stall_tls: Mutex::new(None),
        });
        let resolver = tls.map(|plan| {
            Arc::new(Resolver {
                plan: Mutex::new(CertPlanInner(plan)),
                count: AtomicUsize::new(0),
            })
        });
        let config = resolver.as_ref().map(|r| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            Arc::new(
                rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_cert_resolver(r.clone()),
            )
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(sock) = conn else { continue };
                let index = st.connections.fetch_add(1, Ordering::SeqCst);
                let st = st.clone();
                let config = config.clone();
                std::thread::spawn(move || {
                    if index == 0 {
                        let hold = *st.hold_first.lock().unwrap();
                        if let Some(d) = hold {
                            std::thread::sleep(d);
                        }
                    }
                    let stall = *st.stall_tls.lock().unwrap();
                    if let Some(d) = stall {
                        std::thread::sleep(d);
                        return;
                    }
                    let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = sock.set_write_timeout(Some(Duration::from_secs(10)));
                    let _ = sock.set_nodelay(true);
                    match config {
                        Some(cfg) => {
                            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            let stream = rustls::StreamOwned::new(conn, sock);
                            serve_conn(stream, &st);
                        }
                        None => serve_conn(sock, &st),
                    }
                });
            }
        });
        Server {
            addr,
            tls: resolver.is_some(),
            state,
            resolver,
        }
    }

    /// `https://127.0.0.1:PORT` (or http).
    pub fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            if self.tls { "https" } else { "http" },
            self.addr.port()
        )
    }

    /// Adds a handler for an exact path (query ignored).
    pub fn route(
        &self,
        path: &str,
        h: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) {
        self.state
            .routes
            .lock()
            .unwrap()
            .push((path.into(), false, Arc::new(h)));
    }

    /// Adds a handler for every path under a prefix.
    pub fn route_prefix(
        &self,
        prefix: &str,
        h: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) {
        self.state
            .routes
            .lock()
            .unwrap()
            .push((prefix.into(), true, Arc::new(h)));
    }

    /// Serves fixed bytes at a path.
    pub fn serve(&self, path: &str, content_type: &str, body: Vec<u8>) {
        let ct = content_type.to_string();
        self.route(path, move |_| HttpResponse::ok(&ct, body.clone()));
    }

    /// Injects a fault on every path starting with `prefix`, for every request.
    pub fn fault(&self, prefix: &str, fault: Fault) {
        self.push_fault(prefix, fault, None);
    }

    /// Injects a fault for the next `n` matching requests only.
    pub fn fault_times(&self, prefix: &str, fault: Fault, n: u32) {
        self.push_fault(prefix, fault, Some(n));
    }

    fn push_fault(&self, prefix: &str, fault: Fault, remaining: Option<u32>) {
        self.state.faults.lock().unwrap().push(Rule {
            prefix: prefix.into(),
            fault,
            remaining,
        });
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.faults.lock().unwrap().clear();
    }

    /// Requests received for paths starting with `prefix` (path + `?query`).
    pub fn hits(&self, prefix: &str) -> Vec<String> {
        self.state
            .hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Every request received (method, path, query, headers), in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Holds the first connection accepted from now on for `d` before its
    /// TLS handshake (and before the certificate plan counts it), as if
    /// its server thread were scheduled late on a loaded machine.
    pub fn hold_first_connection(&self, d: Duration) {
        *self.state.hold_first.lock().unwrap() = Some(d);
        self.state.connections.store(0, Ordering::SeqCst);
    }

    /// Malicious mode: accept TCP but stall every TLS handshake for `d`
    /// (`None` ends it).
    pub fn stall_tls_handshakes(&self, d: Option<Duration>) {
        *self.state.stall_tls.lock().unwrap() = d;
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes started so far (certificate resolutions).
    pub fn handshakes(&self) -> usize {
        self.resolver
            .as_ref()
            .map(|r| r.count.load(Ordering::SeqCst))
            .unwrap_or(0)
    }

    /// Replaces the certificate plan (and restarts the handshake count).
    pub fn set_cert_plan(&self, plan: CertPlan) {
        if let Some(r) = &self.resolver {
            r.plan.lock().unwrap().0 = plan;
            r.count.store(0, Ordering::SeqCst);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn take_fault(st: &State, path: &str) -> Option<Fault> {
    let mut faults = st.faults.lock().unwrap();
    for r in faults.iter_mut() {
        if path.starts_with(&r.prefix) {
            match &mut r.remaining {
                Some(0) => continue,
                Some(n) => *n -= 1,
                None => {}
            }
            return Some(r.fault.clone());
        }
    }
    None
}

/// Reads the request head (up to 16 KiB).
fn read_head<S: Read>(s: &mut S) -> Option<HttpRequest> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            return None;
        }
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut headers = BTreeMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        if n > 1024 * 1024 {
            return None;
        }
        body = vec![0u8; n];
        s.read_exact(&mut body).ok()?;
    }
    Some(HttpRequest {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_head<S: Write>(s: &mut S, status: u16, headers: &[(String, String)], len: Option<usize>) {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = len {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = s.write_all(head.as_bytes());
}

/// Graceful end of a stream: TLS close_notify when TLS.
trait Finish: Read + Write {
    fn finish(&mut self);
}

impl Finish for TcpStream {
    fn finish(&mut self) {
        let _ = self.flush();
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

impl Finish for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn finish(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.conn.complete_io(&mut self.sock);
        let _ = self.sock.shutdown(std::net::Shutdown::Write);
    }
}

fn serve_conn<S: Finish>(mut s: S, st: &State) {
    let Some(req) = read_head(&mut s) else { return };
    st.requests.lock().unwrap().push(req.clone());
    st.hits.lock().unwrap().push(if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    });
    let fault = take_fault(st, &req.path);
    if let Some(Fault::Latency(d)) = &fault {
        std::thread::sleep(*d);
    }
    if let Some(Fault::Stall(d)) = &fault {
        std::thread::sleep(*d);
        return;
    }
    // POST for the OCSP responder look-alike (tests/suite/collect_field_online.rs).
    let resp = if req.method != "GET" && req.method != "POST" {
        HttpResponse::status(405, "GET or POST only")
    } else {
        let routes = st.routes.lock().unwrap().clone();
        routes
            .iter()
            .find(|(p, prefix, _)| {
                if *prefix {
                    req.path.starts_with(p.as_str())
                } else {
                    *p == req.path
                }
            })
            .map(|(_, _, h)| h(&req))
            .unwrap_or_else(|| HttpResponse::status(404, "not found"))
    };
    match fault {
        None | Some(Fault::Latency(_)) | Some(Fault::Stall(_)) => {
            write_head(&mut s, resp.status, &resp.headers, Some(resp.body.len()));
            let _ = s.write_all(&resp.body);
            s.finish();
        }
        Some(Fault::Status(code)) => {
            let body = format!("injected {code}");
            write_head(
                &mut s,
                code,
                &[("Content-Type".into(), "text/plain".into())],
                Some(body.len()),
            );
            let _ = s.write_all(body.as_bytes());
            s.finish();
        }
        Some(Fault::TooManyRequests { retry_after }) | Some(Fault::Unavailable { retry_after }) => {
            let code = if matches!(fault, Some(Fault::TooManyRequests { .. })) {
                429
            } else {
                503
            };
            let body = "slow down";
            write_head(
                &mut s,
                code,
                &[
                    ("Content-Type".into(), "text/plain".into()),
                    ("Retry-After".into(), retry_after.to_string()),
                ],
                Some(body.len()),
            );
            let _ = s.write_all(body.as_bytes());
            s.finish();
        }
        Some(Fault::Reset) => {
            // Drop without response or close_notify.
        }
        Some(Fault::Truncate) => {
            write_head(&mut s, resp.status, &resp.headers, Some(resp.body.len()));
            let half = resp.body.len() / 2;
            let _ = s.write_all(&resp.body[..half]);
            let _ = s.flush();
            // Abrupt end: no close_notify.
        }
        Some(Fault::Oversize { bytes, declared }) => {
            write_head(
                &mut s,
                200,
                &resp.headers,
                if declared { Some(bytes) } else { None },
            );
            let chunk = vec![b'A'; 64 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                if s.write_all(&chunk[..n]).is_err() {
                    return;
                }
                left -= n;
            }
            s.finish();
        }
        Some(Fault::ContentType(ct)) => {
            let mut headers: Vec<(String, String)> = resp
                .headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
                .cloned()
                .collect();
            headers.push(("Content-Type".into(), ct));
            write_head(&mut s, resp.status, &headers, Some(resp.body.len()));
            let _ = s.write_all(&resp.body);
            s.finish();
        }
        Some(Fault::Gzip) | Some(Fault::GzipBomb { .. }) => {
            let accepts = req
                .headers
                .get("accept-encoding")
                .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
            if !accepts {
                let body = "gzip only";
                write_head(&mut s, 406, &[], Some(body.len()));
                let _ = s.write_all(body.as_bytes());
                s.finish();
                return;
            }
            let plain = match &fault {
                Some(Fault::GzipBomb { bytes }) => vec![0u8; *bytes],
                _ => resp.body.clone(),
            };
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&plain).unwrap();
            let gz = enc.finish().unwrap();
            let mut headers = resp.headers.clone();
            headers.push(("Content-Encoding".into(), "gzip".into()));
            write_head(&mut s, resp.status, &headers, Some(gz.len()));
            let _ = s.write_all(&gz);
            s.finish();
        }
        Some(Fault::Body(b)) => {
            write_head(&mut s, 200, &resp.headers, Some(b.len()));
            let _ = s.write_all(&b);
            s.finish();
        }
        Some(Fault::Redirect { status, location }) => {
            write_head(&mut s, status, &[("Location".into(), location)], Some(0));
            s.finish();
        }
        Some(Fault::HugeHeader { bytes }) => {
            write_head(
                &mut s,
                200,
                &[("X-Padding".into(), "a".repeat(bytes))],
                Some(resp.body.len()),
            );
            let _ = s.write_all(&resp.body);
            s.finish();
        }
        Some(Fault::BadGzip) => {
            let junk = b"this is not gzip at all, not even close".to_vec();
            let mut headers = resp.headers.clone();
            headers.push(("Content-Encoding".into(), "gzip".into()));
            write_head(&mut s, 200, &headers, Some(junk.len()));
            let _ = s.write_all(&junk);
            s.finish();
        }
    }
}

/// What the KDS look-alike serves for one product line.
#[derive(Clone)]
pub struct KdsContent {
    /// `Milan`, `Genoa` or `Turin`.
    pub product: String,
    /// PEM, ASK then ARK.
    pub cert_chain_pem: Vec<u8>,
    /// DER.
    pub crl_der: Vec<u8>,
    /// DER.
    pub vcek_der: Vec<u8>,
    /// The report's 64-byte chip id.
    pub chip_id: [u8; 64],
    /// The report's REPORTED_TCB (8 raw bytes).
    pub reported_tcb: [u8; 8],
}

impl KdsContent {
    /// `hwid` path component and exact query KDS expects (independent of
    /// the library's URL code, so tests check the URL shape).
    pub fn expected_vcek_path_and_query(&self) -> (String, String) {
        let t = self.reported_tcb;
        if self.product == "Turin" {
            (
                format!("/vcek/v1/Turin/{}", hex::encode(&self.chip_id[..8])),
                format!(
                    "fmcSPL={:02}&blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}",
                    // Turin TCB_VERSION: fmc, bl, tee, snp, 3 reserved, ucode.
                    t[0],
                    t[1],
                    t[2],
                    t[3],
                    t[7]
                ),
            )
        } else {
            (
                format!("/vcek/v1/{}/{}", self.product, hex::encode(self.chip_id)),
                format!(
                    "blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}",
                    t[0], t[1], t[6], t[7]
                ),
            )
        }
    }
}

/// Installs the KDS routes on `kds`.
pub fn install_kds(kds: &Server, c: &KdsContent) {
    let p = &c.product;
    kds.serve(
        &format!("/vcek/v1/{p}/cert_chain"),
        "application/x-pem-file",
        c.cert_chain_pem.clone(),
    );
    kds.serve(
        &format!("/vcek/v1/{p}/crl"),
        "application/pkix-crl",
        c.crl_der.clone(),
    );
    let (path, query) = c.expected_vcek_path_and_query();
    let vcek = c.vcek_der.clone();
    kds.route_prefix(&format!("/vcek/v1/{p}/"), move |req| {
        if req.path != path {
            return HttpResponse::status(404, "unknown hwid");
        }
        if req.query != query {
            return HttpResponse::status(400, "bad TCB parameters");
        }
        HttpResponse::ok("application/octet-stream", vcek.clone())
    });
}

/// ARK DER, ASK DER.
type AmdPair = (Vec<u8>, Vec<u8>);

/// A running world: enclave, KDS and firmware servers, test CA, and a
/// scratch directory holding the trust file.
pub struct World {
    pub ca: TestCa,
    /// The certificate the enclave presents (and its report binds).
    pub enclave_cert: Issued,
    pub enclave: Server,
    pub kds: Server,
    pub firmware: Server,
    pub dir: tempfile::TempDir,
    /// CT logs whose SCTs the enclave certificate embeds (tests/suite/common/ct_logs.rs).
    pub ct: super::ct_logs::CtWorld,
    /// Extra TLS roots (PEM) for the trust file.
    tls_roots_pem: Mutex<Vec<String>>,
    /// AMD roots for the trust file: product → (ARK DER, ASK DER).
    amd_roots: Mutex<BTreeMap<String, AmdPair>>,
}

impl World {
    /// Starts the servers. The enclave presents a CA-issued certificate
    /// for 127.0.0.1; nothing is served until routes are installed.
    pub fn start() -> World {
        Self::start_with_ct(super::ct_logs::CtWorld::specs())
    }

    /// [`World::start`] with these CT logs (faults included): the enclave
    /// certificate embeds SCTs from each of them.
    pub fn start_with_ct(ct_logs: Vec<super::ct_logs::LogSpec>) -> World {
        let ca = TestCa::new("blyss-evidence test CA");
        let ct = super::ct_logs::CtWorld::new(ct_logs, Some(&ca));
        let enclave_cert = ct.embed(&ca.issue(&LeafSpec::loopback("enclave", 10)), &ca);
        let chain = [enclave_cert.der.as_slice(), ca.cert.der.as_slice()];
        let enclave = Server::start(Some(CertPlan::Fixed(certified(&chain, &enclave_cert))));
        let kds_cert = ca.issue(&LeafSpec::loopback("kds", 11));
        let kds = Server::start(Some(CertPlan::Fixed(certified(
            &[kds_cert.der.as_slice(), ca.cert.der.as_slice()],
            &kds_cert,
        ))));
        let fw_cert = ca.issue(&LeafSpec::loopback("firmware", 12));
        let firmware = Server::start(Some(CertPlan::Fixed(certified(
            &[fw_cert.der.as_slice(), ca.cert.der.as_slice()],
            &fw_cert,
        ))));
        World {
            tls_roots_pem: Mutex::new(vec![ca.cert.pem()]),
            ca,
            enclave_cert,
            enclave,
            kds,
            firmware,
            dir: tempfile::tempdir().unwrap(),
            ct,
            amd_roots: Mutex::new(BTreeMap::new()),
        }
    }

    /// Serves `doc` as the attestation document.
    pub fn serve_document(&self, doc: Vec<u8>) {
        self.enclave
            .serve(ATTESTATION_PATH, "application/json", doc);
    }

    /// Installs KDS content and records the AMD roots for the trust file.
    pub fn serve_kds(&self, c: &KdsContent, ark_der: &[u8], ask_der: &[u8]) {
        install_kds(&self.kds, c);
        self.amd_roots
            .lock()
            .unwrap()
            .insert(c.product.clone(), (ark_der.to_vec(), ask_der.to_vec()));
    }

    /// Adds a TLS root (PEM) to the trust file.
    pub fn add_tls_root(&self, pem: String) {
        self.tls_roots_pem.lock().unwrap().push(pem);
    }

    /// Presents `cert` (issued by the test CA) instead of the attested one.
    pub fn present(&self, plan: CertPlan) {
        self.enclave.set_cert_plan(plan);
    }

    /// rustls key for a leaf issued by the world's CA (chain: leaf, CA).
    pub fn certified(&self, leaf: &Issued) -> Arc<CertifiedKey> {
        certified(&[leaf.der.as_slice(), self.ca.cert.der.as_slice()], leaf)
    }

    /// Writes the trust file (TLS roots, AMD roots; nothing else) and
    /// returns its path. TEST ONLY: reported as non-production.
    pub fn trust_file(&self) -> PathBuf {
        let d = self.dir.path();
        let mut tls = Vec::new();
        for (i, pem) in self.tls_roots_pem.lock().unwrap().iter().enumerate() {
            let name = format!("tls-root-{i}.pem");
            std::fs::write(d.join(&name), pem).unwrap();
            tls.push(name);
        }
        let mut amd = serde_json::Map::new();
        for (p, (ark, ask)) in self.amd_roots.lock().unwrap().iter() {
            let a = format!("amd-{p}-ark.der");
            let s = format!("amd-{p}-ask.der");
            std::fs::write(d.join(&a), ark).unwrap();
            std::fs::write(d.join(&s), ask).unwrap();
            amd.insert(p.clone(), serde_json::json!({"ark": a, "ask": s}));
        }
        let t = serde_json::json!({
            "schema": "blyss-evidence.trust/v1",
            "name": "blyss-evidence test world (TEST ONLY)",
            "version": "test",
            "amd": amd,
            "ct": self.ct.trust_section(d),
            "tls": {"mozilla_roots": false, "roots": tls},
        });
        let p = d.join("test-trust.json");
        std::fs::write(&p, serde_json::to_vec_pretty(&t).unwrap()).unwrap();
        p
    }

    /// The enclave's base URL.
    pub fn url(&self) -> String {
        self.enclave.url()
    }

    /// A path inside the world's scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Parses a DER certificate (helper for tests).
pub fn cert(der: &[u8]) -> x509_cert::Certificate {
    x509_cert::Certificate::from_der(der).unwrap()
}

/// Writes bytes to a file in `dir`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A minimal DER CRL (no revoked certificates) issued by `issuer`, signed
/// with ECDSA P-256/SHA-256. TEST ONLY: stands in for AMD's CRL where the
/// test does not judge it.
pub fn test_crl(issuer: &TestCa) -> Vec<u8> {
    use p256::ecdsa::signature::Signer;
    use spki::AlgorithmIdentifierOwned;
    use x509_cert::crl::{CertificateList, TbsCertList};
    let alg = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
        parameters: None,
    };
    let v = validity(NOT_BEFORE, NOT_AFTER);
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: alg.clone(),
        issuer: issuer.name.clone(),
        this_update: v.not_before,
        next_update: Some(v.not_after),
        revoked_certificates: None,
        crl_extensions: None,
    };
    let sig: DerSignature = issuer.cert.key.sign(&tbs.to_der().unwrap());
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature: der::asn1::BitString::from_bytes(sig.as_bytes()).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// PEM of several DER certificates, in order.
pub fn pem_chain(ders: &[&[u8]]) -> Vec<u8> {
    let mut out = String::new();
    for d in ders {
        out.push_str(&der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, d).unwrap());
    }
    out.into_bytes()
}

/// Reads the chip id and REPORTED_TCB from a document (via the library's
/// parser) and the product line from its VCEK issuer.
pub fn kds_content_for(
    doc: &[u8],
    product: &str,
    chain_pem: Vec<u8>,
    crl: Vec<u8>,
    vcek: Vec<u8>,
) -> KdsContent {
    let d = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(doc).unwrap();
    KdsContent {
        product: product.into(),
        cert_chain_pem: chain_pem,
        crl_der: crl,
        vcek_der: vcek,
        chip_id: d.chip_id(),
        reported_tcb: d.report[0x180..0x188].try_into().unwrap(),
    }
}

impl World {
    /// Serves a REAL Blyss document (Genoa) with AMD's real Genoa ASK/ARK,
    /// the document's own VCEK and a test CRL. Its report binds the real
    /// Blyss certificate, not ours: `tls.binding` fails by construction
    /// (that is the MITM shape); used for the collection mechanics.
    pub fn serve_real_blyss(&self, doc: &[u8]) {
        let prod = blyss_evidence::trust::TrustSet::production();
        let genoa = prod.amd.get("Genoa").unwrap();
        let d =
            blyss_evidence::evidence::attestation::AttestationDocument::parse_json(doc).unwrap();
        let c = kds_content_for(
            doc,
            "Genoa",
            pem_chain(&[&genoa.ask, &genoa.ark]),
            test_crl(&self.ca),
            d.vcek_der.clone(),
        );
        self.serve_document(doc.to_vec());
        self.serve_kds(&c, &genoa.ark, &genoa.ask);
    }
}

/// Collect options against this world: short deadlines, quick back-off,
/// no progress display.
#[cfg(feature = "collect")]
pub fn options(w: &World, protocol: &str) -> blyss_evidence::collect::CollectOptions {
    use std::time::Duration as D;
    let mut o = blyss_evidence::collect::CollectOptions::new(&w.url());
    o.protocol = protocol.into();
    o.kds_url = w.kds.url();
    o.log_list_url = Some(w.ct.list_url.clone());
    // No registry in this world (the real Blyss images cannot be served):
    // never reach out to Docker Hub from a test. Registry collection is
    // tested against a real registry in tests/images_*.rs.
    o.images = false;
    o.ct_merge_wait = D::from_secs(3);
    o.http.connect_timeout = D::from_secs(2);
    o.http.read_timeout = D::from_secs(2);
    o.http.request_timeout = D::from_secs(5);
    o.http.resource_timeout = D::from_secs(15);
    o.http.backoff = D::from_millis(20);
    o.http.retries = 2;
    o.tls = blyss_evidence::collect::tls::TlsTimeouts {
        connect: D::from_secs(2),
        read: D::from_secs(2),
        total: D::from_secs(5),
    };
    o
}

/// The world's trust set (loaded from its trust file).
pub fn trust(w: &World) -> blyss_evidence::trust::TrustSet {
    blyss_evidence::trust::TrustSet::load(&w.trust_file()).unwrap()
}

/// Builds a Blyss-shaped `attestation.json` from raw report bytes: the
/// inverse of the library's document parser (field order = ABI order).
pub fn document_json(
    report: &[u8; 1184],
    vcek_der: &[u8],
    launch: Option<(&str, u32)>,
    gpu: Option<serde_json::Value>,
    fingerprint: Option<String>,
) -> Vec<u8> {
    use base64::Engine;
    use serde_json::{Map, Value};
    struct R<'a> {
        b: &'a [u8],
        off: usize,
    }
    impl R<'_> {
        fn uint(&mut self, n: usize) -> Value {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&self.b[self.off..self.off + n]);
            self.off += n;
            Value::from(u64::from_le_bytes(v))
        }
        fn arr(&mut self, n: usize) -> Value {
            let a: Vec<Value> = self.b[self.off..self.off + n]
                .iter()
                .map(|x| Value::from(*x))
                .collect();
            self.off += n;
            Value::Array(a)
        }
        fn tcb(&mut self) -> Value {
            let mut m = Map::new();
            m.insert("bootloader".into(), self.uint(1));
            m.insert("tee".into(), self.uint(1));
            m.insert("_reserved".into(), self.arr(4));
            m.insert("snp".into(), self.uint(1));
            m.insert("microcode".into(), self.uint(1));
            Value::Object(m)
        }
    }
    let mut r = R { b: report, off: 0 };
    let mut c = Map::new();
    let mut put = |k: &str, v: Value| {
        c.insert(k.into(), v);
    };
    put("version", r.uint(4));
    put("guest_svn", r.uint(4));
    put("policy", r.uint(8));
    put("family_id", r.arr(16));
    put("image_id", r.arr(16));
    put("vmpl", r.uint(4));
    put("sig_algo", r.uint(4));
    put("current_tcb", r.tcb());
    put("plat_info", r.uint(8));
    put("_author_key_en", r.uint(4));
    put("_reserved_0", r.uint(4));
    put("report_data", r.arr(64));
    put("measurement", r.arr(48));
    put("host_data", r.arr(32));
    put("id_key_digest", r.arr(48));
    put("author_key_digest", r.arr(48));
    put("report_id", r.arr(32));
    put("report_id_ma", r.arr(32));
    put("reported_tcb", r.tcb());
    put("_reserved_1", r.arr(24));
    put("chip_id", r.arr(64));
    put("committed_tcb", r.tcb());
    for k in [
        "current_build",
        "current_minor",
        "current_major",
        "_reserved_2",
        "committed_build",
        "committed_minor",
        "committed_major",
        "_reserved_3",
    ] {
        put(k, r.uint(1));
    }
    put("launch_tcb", r.tcb());
    put("_reserved_4", r.arr(168));
    let mut sig = Map::new();
    sig.insert("r".into(), r.arr(72));
    sig.insert("s".into(), r.arr(72));
    sig.insert("_reserved".into(), r.arr(368));
    put("signature", Value::Object(sig));
    assert_eq!(r.off, 1184);
    put(
        "vcek",
        Value::from(base64::engine::general_purpose::STANDARD_NO_PAD.encode(vcek_der)),
    );
    if let Some((cli, n)) = launch {
        put(
            "launch",
            serde_json::json!({"kernel_cli": cli, "num_vcpus": n}),
        );
    }
    let mut d = Map::new();
    if let Some(fp) = fingerprint {
        d.insert("cert_sha256_fingerprint".into(), Value::from(fp));
    }
    d.insert("cpu_attestation".into(), Value::Object(c));
    if let Some(g) = gpu {
        d.insert("gpu_attestation".into(), g);
    }
    serde_json::to_vec(&Value::Object(d)).unwrap()
}

/// The committed TEST-ONLY synthetic SEV-SNP platform (loaded once).
pub fn platform() -> &'static blyss_evidence::evidence::amd::testing::TestPlatform {
    static P: std::sync::OnceLock<blyss_evidence::evidence::amd::testing::TestPlatform> =
        std::sync::OnceLock::new();
    P.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/synthetic");
        blyss_evidence::evidence::amd::testing::TestPlatform::load(&dir).unwrap()
    })
}

/// The launch digest our measurement engine computes for `protocol`'s
/// pinned firmware descriptor, kernel and initrd, `kernel_cli` (as
/// published) and `vcpus`.
pub fn expected_measurement(protocol: &str, kernel_cli: &str, vcpus: u32) -> [u8; 48] {
    use blyss_evidence::checks::measurement::MeasurementSection;
    use blyss_evidence::measure::{self, cmdline_hash, KernelHashes, LaunchParams};
    let p = blyss_evidence::protocol::Protocol::load(protocol).unwrap();
    let sec: MeasurementSection = p.sections.measurement.clone().unwrap();
    let mut cli = kernel_cli.to_string();
    for r in &sec.cmdline_remove {
        cli = cli.replace(r.as_str(), "");
    }
    let h32 = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
    let hashes = KernelHashes {
        kernel: h32(&sec.kernel_sha256),
        initrd: h32(&sec.initrd_sha256),
        cmdline: cmdline_hash(&cli),
    };
    let params = LaunchParams {
        vcpus,
        vcpu_type: sec.vcpu_type,
        vmm: sec.vmm,
        guest_features: sec.guest_features.0,
        vmsa_fpu: sec.vmsa_fpu,
    };
    measure::measure(&sec.firmware, Some(&hashes), &params)
        .unwrap()
        .digest
}

/// The real January 2024 Blyss document (its launch parameters are reused
/// by the synthetic documents).
pub const BLYSS_DOC_2024: &[u8] =
    include_bytes!("../../../fixtures/blyss/attestation-2024-01.json");

impl World {
    /// Serves a TEST-ONLY synthetic Genoa document bound to `cert` (usually
    /// `self.enclave_cert`): REPORT_DATA = sha256(cert) ‖ 0³², MEASUREMENT =
    /// our engine's digest for `protocol` with the real Blyss command line
    /// and vCPU count, signed by the synthetic VCEK; the KDS look-alike
    /// serves the synthetic chain, CRL and VCEK, and the trust file gets the
    /// synthetic roots. Returns the document bytes.
    pub fn serve_synthetic(&self, protocol: &str, cert: &Issued) -> Vec<u8> {
        self.serve_synthetic_for(
            blyss_evidence::evidence::amd::Product::Genoa,
            protocol,
            cert,
        )
    }

    /// [`World::serve_synthetic`] for any product line (Turin: report v3
    /// with CPUID, 8-byte hwID, fmcSPL in the VCEK URL).
    pub fn serve_synthetic_for(
        &self,
        product: blyss_evidence::evidence::amd::Product,
        protocol: &str,
        cert: &Issued,
    ) -> Vec<u8> {
        let real =
            blyss_evidence::evidence::attestation::AttestationDocument::parse_json(BLYSS_DOC_2024)
                .unwrap();
        let launch = real.launch.clone().unwrap();
        let p = platform();
        let mut report = p.report_template(product);
        report[0x50..0x70].copy_from_slice(&cert.sha256());
        report[0x90..0xC0].copy_from_slice(&expected_measurement(
            protocol,
            &launch.kernel_cli,
            launch.num_vcpus,
        ));
        p.sign(product, &mut report);
        let t = p.product(product);
        // No GPU evidence: the synthetic platform has no GPU (the real
        // H100 evidence's RIM signers have expired since 2024).
        let doc = document_json(
            &report,
            &t.vcek_der,
            Some((&launch.kernel_cli, launch.num_vcpus)),
            None,
            Some(cert.sha256_hex()),
        );
        let name = product.name();
        let crl =
            std::fs::read(p.dir.join(format!("test-{}-crl.der", name.to_lowercase()))).unwrap();
        let c = kds_content_for(
            &doc,
            name,
            pem_chain(&[&t.ask_der, &t.ark_der]),
            crl,
            t.vcek_der.clone(),
        );
        self.serve_document(doc.clone());
        self.serve_kds(&c, &t.ark_der, &t.ask_der);
        doc
    }
}
