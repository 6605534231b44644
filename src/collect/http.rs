//! The one HTTP client of the project: blocking, small, with deadlines
//! everywhere (ureq 3 + rustls 0.23, ring provider).
//!
//! Rules it enforces for every request:
//! * connect, per-read and whole-exchange deadlines, plus an overall
//!   deadline per resource that bounds retries and back-off;
//! * bounded retries with exponential back-off on transport errors,
//!   truncated bodies and 500/502/503/504/429, honouring `Retry-After`
//!   (seconds or HTTP date) on 429/503 — a `Retry-After` beyond the overall
//!   deadline is not waited for: the failure says so;
//! * a size cap per resource, applied to the decoded body (gzip is accepted
//!   and decoded, so a compressed bomb is capped too);
//! * redirects are followed by this client, not by ureq, so that each hop
//!   is judged and recorded: only https → https, only to a public address
//!   (judged on the resolved address by [`conn::PublicOnly`]), at most
//!   [`MAX_REDIRECTS`] hops, `Authorization` dropped when the origin changes;
//!   the hops are returned in [`Response::redirects`] for the statement.
//!   The URL the user gave is the user's choice and may be anything; every
//!   URL reached by a redirect is not. `allow_private_redirects_unsafe`
//!   (tests' loopback world only; recorded in the statement) lifts the
//!   address rule, never the scheme rule;
//! * permanent errors (redirect refused or too many, header too big, bad
//!   content encoding, malformed response, TLS certificate errors) are not
//!   retried and are named for what they are;
//! * one overall collection deadline ([`HttpConfig::deadline`]) caps every
//!   resource deadline, and a failure it caused says "deadline reached";
//! * a descriptive User-Agent;
//! * no proxy (the TLS capture must see the service's own certificate, and
//!   evidence should come from the origin): documented in `collect --help`;
//! * TLS verified against the trust set's roots (Mozilla's via
//!   webpki-root-certs when enabled, plus the trust file's extra roots).
//!
//! Errors are one line naming the URL and the cause ([`HttpError`]).
//! The client is `Clone + Send + Sync`; other collectors (CT, registries) and
//! their tests reuse it.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::bundle::format::RedirectHop;
use crate::trust::TrustSet;

use super::conn;

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: u32 = 5;

/// Deadlines, retries and limits of the client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// TCP connect (and DNS) deadline.
    pub connect_timeout: Duration,
    /// Deadline for each read from the socket (a stalled server).
    pub read_timeout: Duration,
    /// Deadline for one whole exchange (connect, TLS, request, headers, body).
    pub request_timeout: Duration,
    /// Deadline for a resource including every retry and back-off wait.
    pub resource_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First back-off; doubles after each retry.
    pub backoff: Duration,
    /// Default size cap of a response body (decoded), in bytes.
    pub max_bytes: u64,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Most requests in flight at once (across threads).
    pub max_in_flight: usize,
    /// The collection's overall deadline: no request starts, and no wait
    /// runs, past it. `None`: only the per-resource deadline applies.
    pub deadline: Option<Instant>,
    /// UNSAFE, for the loopback test world only: let a redirect reach a
    /// non-public address (loopback, private, link-local). The scheme rule
    /// (https → https only) still holds. Recorded in the statement.
    pub allow_private_redirects_unsafe: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            resource_timeout: Duration::from_secs(180),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_bytes: 16 * 1024 * 1024,
            user_agent: default_user_agent(),
            max_in_flight: 8,
            deadline: None,
            allow_private_redirects_unsafe: false,
        }
    }
}

/// `blyss-evidence/<version> (+https://github.com/blyss-evidence/blyss-evidence; evidence collector)`.
pub fn default_user_agent() -> String {
    format!(
        "{}/{} (+{}; evidence collector)",
        crate::TOOL_NAME,
        crate::TOOL_VERSION,
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// Why a request failed, after retries. Display is one line naming the URL.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HttpError {
    #[error("{url}: invalid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: timed out ({what}) after {attempts} attempt(s)")]
    Timeout {
        url: String,
        what: String,
        attempts: u32,
    },
    #[error("{url}: connection failed after {attempts} attempt(s): {cause}")]
    Transport {
        url: String,
        cause: String,
        attempts: u32,
    },
    #[error("{url}: TLS error: {cause}")]
    Tls { url: String, cause: String },
    #[error("{url}: HTTP {status}{reason} after {attempts} attempt(s)")]
    Status {
        url: String,
        status: u16,
        reason: String,
        attempts: u32,
    },
    #[error("{url}: response larger than the {limit}-byte cap for this resource")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: body truncated after {attempts} attempt(s): {cause}")]
    Truncated {
        url: String,
        cause: String,
        attempts: u32,
    },
    #[error("{url}: redirect to {location} refused: {reason}")]
    RedirectRefused {
        url: String,
        location: String,
        reason: String,
    },
    #[error(
        "{url}: refused: {reason} (the host was named by the evidence, not given by the user)"
    )]
    AddressRefused { url: String, reason: String },
    #[error("{url}: too many redirects (more than {limit})")]
    TooManyRedirects { url: String, limit: u32 },
    /// A permanent fault of the response (not retried): header too big,
    /// bad content encoding, malformed HTTP.
    #[error("{url}: {what} (not retried)")]
    Permanent { url: String, what: String },
    #[error("{url}: the collection deadline was reached ({what})")]
    Deadline { url: String, what: String },
}

impl HttpError {
    /// The URL the error is about.
    pub fn url(&self) -> &str {
        match self {
            HttpError::BadUrl { url, .. }
            | HttpError::Timeout { url, .. }
            | HttpError::Transport { url, .. }
            | HttpError::Tls { url, .. }
            | HttpError::Status { url, .. }
            | HttpError::TooLarge { url, .. }
            | HttpError::Truncated { url, .. }
            | HttpError::RedirectRefused { url, .. }
            | HttpError::AddressRefused { url, .. }
            | HttpError::TooManyRedirects { url, .. }
            | HttpError::Permanent { url, .. }
            | HttpError::Deadline { url, .. } => url,
        }
    }
}

/// One request: a GET, or a POST with a body ([`Request::post`], for
/// OCSP, RFC 6960 §A.1).
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    /// POST body and its Content-Type; `None` for a GET. A POST answered
    /// by a redirect is not followed (the redirect is reported), since
    /// re-sending or dropping the body would both change the request.
    pub body: Option<(String, Vec<u8>)>,
    /// `Accept` header (default `*/*`).
    pub accept: Option<String>,
    /// Extra headers (e.g. `Authorization` for registries).
    pub headers: Vec<(String, String)>,
    /// Size cap for this resource (default: the client's).
    pub max_bytes: Option<u64>,
    /// Statuses returned as `Ok` instead of an error (e.g. 401 for the
    /// registry token flow, 404 for a CT entry not yet merged). 2xx always are.
    pub accept_status: Vec<u16>,
    /// Skip TLS verification. Only for the attestation document of a service
    /// whose certificate the capture found unverifiable (self-signed test
    /// certificate): the document is self-authenticating, the audit judges
    /// the TLS chain. Recorded as a collection warning by the caller.
    pub insecure_tls: bool,
    /// The URL is not the user's choice (a registry host named by the
    /// evidence): judge it like a redirect target, public addresses only
    /// (lifted by `allow_private_redirects_unsafe`).
    pub public_only: bool,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Request {
            url: url.into(),
            body: None,
            accept: None,
            headers: Vec::new(),
            max_bytes: None,
            accept_status: Vec::new(),
            insecure_tls: false,
            public_only: false,
        }
    }
    /// A POST of `body` with Content-Type `content_type`.
    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> Self {
        let mut r = Request::get(url);
        r.body = Some((content_type.to_string(), body));
        r
    }
    pub fn public_only(mut self, v: bool) -> Self {
        self.public_only = v;
        self
    }
    pub fn accept(mut self, v: impl Into<String>) -> Self {
        self.accept = Some(v.into());
        self
    }
    pub fn header(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }
    pub fn accept_status(mut self, s: u16) -> Self {
        self.accept_status.push(s);
        self
    }
    pub fn insecure_tls(mut self, v: bool) -> Self {
        self.insecure_tls = v;
        self
    }
}

/// A complete response (body read, decoded, within the cap).
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL requested.
    pub url: String,
    pub status: u16,
    /// Header names lower-case, in received order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How many attempts it took (1 = no retry).
    pub attempts: u32,
    /// Wall time including retries.
    pub elapsed: Duration,
    /// Redirects followed before this response, in order (empty: none).
    pub redirects: Vec<RedirectHop>,
    /// The TLS chain of the connection that delivered this response
    /// (`None` over plain HTTP).
    pub peer: Option<conn::PeerChain>,
}

impl Response {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }
    /// Media type of `Content-Type`, lower-case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(media_type)
    }
}

/// `text/html; charset=utf-8` → `text/html`.
pub fn media_type(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Counting semaphore bounding requests in flight.
#[derive(Debug)]
struct Limiter {
    max: usize,
    used: Mutex<usize>,
    cv: Condvar,
}

impl Limiter {
    fn acquire(&self) -> Permit<'_> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= self.max {
            used = self.cv.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Permit(self)
    }
}

struct Permit<'a>(&'a Limiter);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut used = self.0.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(1);
        self.0.cv.notify_one();
    }
}

/// The HTTP client. Cheap to clone (shared agents and limiter).
#[derive(Clone)]
pub struct HttpClient {
    /// `[insecure as usize][public_only as usize]`.
    agents: [[ureq::Agent; 2]; 2],
    cfg: Arc<HttpConfig>,
    limiter: Arc<Limiter>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("cfg", &self.cfg)
            .finish()
    }
}

/// Root certificates (DER) the client trusts for `trust`: Mozilla's when
/// `webpki_mozilla`, plus the trust file's extra TLS roots.
pub fn root_certs(trust: &TrustSet) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if trust.webpki_mozilla {
        out.extend(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| c.as_ref().to_vec()),
        );
    }
    out.extend(trust.tls_roots.iter().cloned());
    out
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// `Location` resolved against `base` (RFC 3986 §5.2, the forms servers
/// send: absolute, scheme-relative, absolute-path, relative-path).
fn resolve_location(base: &str, loc: &str) -> Result<String, String> {
    let loc = loc.trim();
    if loc.is_empty() || loc.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("unusable Location {loc:?}"));
    }
    let (scheme, rest) = base
        .split_once("://")
        .ok_or_else(|| format!("base {base:?} has no scheme"))?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..authority_end]);
    if let Some((s, _)) = loc.split_once(':') {
        if !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        {
            return Ok(loc.to_string());
        }
    }
    if let Some(r) = loc.strip_prefix("//") {
        return Ok(format!("{scheme}://{r}"));
    }
    if loc.starts_with('/') {
        return Ok(format!("{origin}{loc}"));
    }
    let path = &rest[authority_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Ok(format!("{origin}{dir}{loc}"))
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest[..end].to_ascii_lowercase()
    )
}

impl HttpClient {
    /// A client verifying TLS against `trust`'s roots.
    pub fn new(cfg: HttpConfig, trust: &TrustSet) -> HttpClient {
        let roots = root_certs(trust);
        let agent = |insecure: bool, public_only: bool| -> ureq::Agent {
            let config = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .proxy(None)
                .user_agent(cfg.user_agent.as_str())
                .timeout_connect(Some(cfg.connect_timeout))
                .timeout_per_read(Some(cfg.read_timeout))
                .timeout_per_write(Some(cfg.read_timeout))
                .timeout_global(Some(cfg.request_timeout))
                // Redirects are followed by `get`, hop by hop.
                .max_redirects(0)
                .max_idle_connections(0)
                .build();
            use ureq::unversioned::transport::{Connector, TcpConnector};
            let connector = ().chain(TcpConnector::default()).chain(conn::TlsConnector {
                config: conn::client_config(&roots, insecure),
            });
            if public_only {
                ureq::Agent::with_parts(config, connector, conn::PublicOnly::default())
            } else {
                ureq::Agent::with_parts(config, connector, conn::AnyAddress::default())
            }
        };
        let max = cfg.max_in_flight.max(1);
        HttpClient {
            agents: [
                [agent(false, false), agent(false, true)],
                [agent(true, false), agent(true, true)],
            ],
            limiter: Arc::new(Limiter {
                max,
                used: Mutex::new(0),
                cv: Condvar::new(),
            }),
            cfg: Arc::new(cfg),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    /// GET, following redirects under the policy (module docs), returning
    /// 2xx (and `accept_status`) responses; anything else is an error after
    /// the retry policy ran.
    pub fn get(&self, req: &Request) -> Result<Response, HttpError> {
        let start = Instant::now();
        let mut url = req.url.clone();
        let mut hops: Vec<RedirectHop> = Vec::new();
        let mut public_only = req.public_only && !self.cfg.allow_private_redirects_unsafe;
        let mut headers = req.headers.clone();
        loop {
            let mut r = match self.get_one(req, &url, &headers, public_only, start) {
                Ok(r) => r,
                // Refused by the address rule before any redirect: the URL
                // itself was named by the evidence, not by the user.
                Err(HttpError::RedirectRefused { url, reason, .. }) if hops.is_empty() => {
                    return Err(HttpError::AddressRefused { url, reason })
                }
                Err(e) => return Err(e),
            };
            if !is_redirect(r.status) || req.accept_status.contains(&r.status) {
                r.redirects = hops;
                r.elapsed = start.elapsed();
                return Ok(r);
            }
            let refused = |location: &str, reason: String| HttpError::RedirectRefused {
                url: url.clone(),
                location: location.to_string(),
                reason,
            };
            let Some(loc) = r.header("location").map(str::to_string) else {
                return Err(HttpError::Permanent {
                    url: url.clone(),
                    what: format!("HTTP {} redirect without a Location header", r.status),
                });
            };
            let next = resolve_location(&url, &loc).map_err(|e| refused(&loc, e))?;
            if req.body.is_some() {
                return Err(refused(
                    &next,
                    "a POST is not redirected (its body would be re-sent or dropped)".into(),
                ));
            }
            if !url.to_ascii_lowercase().starts_with("https://") {
                return Err(refused(
                    &next,
                    "redirects are followed only from https (this response came over plain http)"
                        .into(),
                ));
            }
            if !next.to_ascii_lowercase().starts_with("https://") {
                return Err(refused(
                    &next,
                    "redirects are followed only to https (another scheme would leave TLS)".into(),
                ));
            }
            if hops.len() as u32 >= MAX_REDIRECTS {
                return Err(HttpError::TooManyRedirects {
                    url: req.url.clone(),
                    limit: MAX_REDIRECTS,
                });
            }
            if origin_of(&next) != origin_of(&url) {
                // Credentials are for the origin they were issued for.
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            }
            hops.push(RedirectHop {
                url: url.clone(),
                status: r.status,
                location: next.clone(),
            });
            public_only = !self.cfg.allow_private_redirects_unsafe;
            url = next;
        }
    }

    /// The deadline for a resource started at `start`, and whether it is
    /// the collection's overall deadline.
    fn deadline_for(&self, start: Instant) -> (Instant, bool) {
        let own = start + self.cfg.resource_timeout;
        match self.cfg.deadline {
            Some(d) if d < own => (d, true),
            _ => (own, false),
        }
    }

    /// One URL (no redirect following), with the retry policy.
    fn get_one(
        &self,
        req: &Request,
        url: &str,
        headers: &[(String, String)],
        public_only: bool,
        start: Instant,
    ) -> Result<Response, HttpError> {
        let (deadline, overall) = self.deadline_for(start);
        let cap = req.max_bytes.unwrap_or(self.cfg.max_bytes);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if Instant::now() >= deadline {
                return Err(self.deadline_error(url, overall, attempt - 1, None));
            }
            let outcome = {
                let _permit = self.limiter.acquire();
                self.once(req, url, headers, public_only, cap, deadline)
            };
            let (retryable, wait_hint, err) = match outcome {
                Ok(mut r) => {
                    let ok = (200..300).contains(&r.status)
                        || req.accept_status.contains(&r.status)
                        || is_redirect(r.status);
                    if ok {
                        r.attempts = attempt;
                        return Ok(r);
                    }
                    let retryable = matches!(r.status, 429 | 500 | 502 | 503 | 504);
                    let hint = if matches!(r.status, 429 | 503) {
                        r.header("retry-after").and_then(parse_retry_after)
                    } else {
                        None
                    };
                    let reason = match (r.status, r.header("retry-after")) {
                        (429 | 503, Some(ra)) => format!(" (Retry-After: {ra})"),
                        _ => String::new(),
                    };
                    (
                        retryable,
                        hint,
                        HttpError::Status {
                            url: url.to_string(),
                            status: r.status,
                            reason,
                            attempts: attempt,
                        },
                    )
                }
                Err(Attempt::Fatal(e)) => return Err(with_attempts(e, attempt)),
                Err(Attempt::Retryable(e)) => (true, None, e),
            };
            if !retryable || attempt > self.cfg.retries {
                return Err(with_attempts(err, attempt));
            }
            let backoff = self
                .cfg
                .backoff
                .saturating_mul(1u32 << (attempt - 1).min(10));
            let wait = wait_hint.unwrap_or(backoff);
            let now = Instant::now();
            if now + wait >= deadline {
                let left = deadline.saturating_duration_since(now);
                return Err(match (wait_hint, err) {
                    (
                        Some(w),
                        HttpError::Status {
                            url,
                            status,
                            attempts,
                            ..
                        },
                    ) => HttpError::Status {
                        url,
                        status,
                        reason: format!(
                            " (Retry-After {} s exceeds the time left before the {} deadline: {} s)",
                            w.as_secs(),
                            if overall { "collection" } else { "resource" },
                            left.as_secs()
                        ),
                        attempts,
                    },
                    (_, e) if overall => self.deadline_error(url, true, attempt, Some(e)),
                    (_, e) => with_attempts(e, attempt),
                });
            }
            std::thread::sleep(wait);
        }
    }

    fn deadline_error(
        &self,
        url: &str,
        overall: bool,
        attempts: u32,
        last: Option<HttpError>,
    ) -> HttpError {
        let last = last
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default();
        if overall {
            HttpError::Deadline {
                url: url.to_string(),
                what: format!("after {attempts} attempt(s){last}"),
            }
        } else {
            HttpError::Timeout {
                url: url.to_string(),
                what: format!(
                    "resource deadline of {} s{last}",
                    self.cfg.resource_timeout.as_secs()
                ),
                attempts,
            }
        }
    }

    /// One attempt.
    fn once(
        &self,
        req: &Request,
        url: &str,
        headers: &[(String, String)],
        public_only: bool,
        cap: u64,
        deadline: Instant,
    ) -> Result<Response, Attempt> {
        let url = &url.to_string();
        let agent = &self.agents[req.insecure_tls as usize][public_only as usize];
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Some(
            self.cfg
                .request_timeout
                .min(left)
                .max(Duration::from_millis(1)),
        );
        let accept = req.accept.as_deref().unwrap_or("*/*");
        conn::clear_last_peer();
        let sent = match &req.body {
            None => {
                let mut rb = agent
                    .get(url.as_str())
                    .config()
                    .timeout_global(timeout)
                    .build()
                    .header("Accept", accept);
                for (k, v) in headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                rb.call()
            }
            Some((content_type, body)) => {
                let mut rb = agent
                    .post(url.as_str())
                    .config()
                    .timeout_global(timeout)
                    .build()
                    .header("Accept", accept)
                    .header("Content-Type", content_type.as_str());
                for (k, v) in headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                rb.send(body.as_slice())
            }
        };
        let resp = sent.map_err(|e| classify(url, e))?;
        let peer = conn::take_last_peer();
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Refuse early when the declared length is over the cap.
        if let Some(len) = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        {
            let encoded = headers.iter().any(|(k, _)| k == "content-encoding");
            if len > cap && !encoded {
                return Err(Attempt::Fatal(HttpError::TooLarge {
                    url: url.clone(),
                    limit: cap,
                }));
            }
        }
        let mut body = Vec::new();
        let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if body.len() as u64 + n as u64 > cap {
                        return Err(Attempt::Fatal(HttpError::TooLarge {
                            url: url.clone(),
                            limit: cap,
                        }));
                    }
                    body.extend_from_slice(&buf[..n]);
                }
                Err(e) => return Err(classify_body(url, e)),
            }
        }
        Ok(Response {
            url: url.clone(),
            status,
            headers,
            body,
            attempts: 1,
            elapsed: Duration::ZERO,
            redirects: Vec::new(),
            peer,
        })
    }
}

enum Attempt {
    Retryable(HttpError),
    Fatal(HttpError),
}

fn with_attempts(e: HttpError, n: u32) -> HttpError {
    match e {
        HttpError::Timeout { url, what, .. } => HttpError::Timeout {
            url,
            what,
            attempts: n,
        },
        HttpError::Transport { url, cause, .. } => HttpError::Transport {
            url,
            cause,
            attempts: n,
        },
        HttpError::Truncated { url, cause, .. } => HttpError::Truncated {
            url,
            cause,
            attempts: n,
        },
        other => other,
    }
}

fn classify(url: &str, e: ureq::Error) -> Attempt {
    let url = url.to_string();
    match e {
        ureq::Error::Timeout(t) => Attempt::Retryable(HttpError::Timeout {
            url,
            what: t.to_string(),
            attempts: 0,
        }),
        ureq::Error::BadUri(r) => Attempt::Fatal(HttpError::BadUrl { url, reason: r }),
        ureq::Error::Http(r) => Attempt::Fatal(HttpError::BadUrl {
            url,
            reason: r.to_string(),
        }),
        ureq::Error::HostNotFound => Attempt::Retryable(HttpError::Transport {
            url,
            cause: "host not found".into(),
            attempts: 0,
        }),
        ureq::Error::Tls(m) => Attempt::Fatal(HttpError::Tls {
            url,
            cause: m.to_string(),
        }),
        ureq::Error::Rustls(r) => Attempt::Fatal(HttpError::Tls {
            url,
            cause: r.to_string(),
        }),
        ureq::Error::BodyExceedsLimit(n) => Attempt::Fatal(HttpError::TooLarge { url, limit: n }),
        ureq::Error::Io(io) => io_error(url, io),
        ureq::Error::LargeResponseHeader(got, max) => Attempt::Fatal(HttpError::Permanent {
            url,
            what: format!("response header too big ({got} bytes, limit {max})"),
        }),
        ureq::Error::Decompress(enc, e) => Attempt::Fatal(HttpError::Permanent {
            url,
            what: format!("bad {enc} content encoding: {e}"),
        }),
        ureq::Error::Protocol(e) => Attempt::Fatal(HttpError::Permanent {
            url,
            what: format!("malformed HTTP response: {e}"),
        }),
        ureq::Error::Other(e) => {
            if let Some(a) = e.downcast_ref::<conn::AddressRefused>() {
                return Attempt::Fatal(HttpError::RedirectRefused {
                    url: url.clone(),
                    location: url,
                    reason: a.to_string(),
                });
            }
            if e.downcast_ref::<conn::TlsHandshakeTimeout>().is_some() {
                return Attempt::Retryable(HttpError::Timeout {
                    url,
                    what: "TLS handshake".into(),
                    attempts: 0,
                });
            }
            Attempt::Retryable(HttpError::Transport {
                url,
                cause: e.to_string(),
                attempts: 0,
            })
        }
        other => {
            let cause = other.to_string();
            // TLS verification failures surface as I/O errors wrapping rustls'.
            Attempt::Retryable(HttpError::Transport {
                url,
                cause,
                attempts: 0,
            })
        }
    }
}

fn io_error(url: String, io: std::io::Error) -> Attempt {
    // rustls errors (bad certificate, …) come wrapped in io::Error: not retryable.
    if let Some(inner) = io.get_ref() {
        if let Some(r) = inner.downcast_ref::<rustls::Error>() {
            return Attempt::Fatal(HttpError::Tls {
                url,
                cause: r.to_string(),
            });
        }
    }
    match io.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            Attempt::Retryable(HttpError::Timeout {
                url,
                what: "read".into(),
                attempts: 0,
            })
        }
        _ => Attempt::Retryable(HttpError::Transport {
            url,
            cause: io.to_string(),
            attempts: 0,
        }),
    }
}

fn classify_body(url: &str, e: std::io::Error) -> Attempt {
    // ureq wraps its errors in io::Error while reading the body.
    let text = e.to_string();
    if let Some(inner) = e.get_ref() {
        if let Some(ue) = inner.downcast_ref::<ureq::Error>() {
            match ue {
                ureq::Error::Timeout(t) => {
                    return Attempt::Retryable(HttpError::Timeout {
                        url: url.into(),
                        what: format!("{t} while reading the body"),
                        attempts: 0,
                    })
                }
                ureq::Error::BodyExceedsLimit(n) => {
                    return Attempt::Fatal(HttpError::TooLarge {
                        url: url.into(),
                        limit: *n,
                    })
                }
                ureq::Error::Decompress(enc, e) => {
                    return Attempt::Fatal(HttpError::Permanent {
                        url: url.into(),
                        what: format!("bad {enc} content encoding: {e}"),
                    })
                }
                _ => {}
            }
        }
    }
    if e.kind() == std::io::ErrorKind::TimedOut {
        return Attempt::Retryable(HttpError::Timeout {
            url: url.into(),
            what: "read while receiving the body".into(),
            attempts: 0,
        });
    }
    Attempt::Retryable(HttpError::Truncated {
        url: url.into(),
        cause: text,
        attempts: 0,
    })
}

/// `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(v, &fmt).ok()?.assume_utc();
    let now = time::OffsetDateTime::now_utc();
    let d = t - now;
    Some(Duration::from_secs(d.whole_seconds().max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn location_is_resolved_against_the_url_that_answered() {
        let base = "https://reg.example:8443/v2/a/blobs/sha256:1?x=1";
        for (loc, want) in [
            ("https://cdn.example/b", "https://cdn.example/b"),
            ("http://169.254.169.254/x", "http://169.254.169.254/x"),
            ("//cdn.example/c", "https://cdn.example/c"),
            ("/d?e=f", "https://reg.example:8443/d?e=f"),
            ("g", "https://reg.example:8443/v2/a/blobs/g"),
        ] {
            assert_eq!(resolve_location(base, loc).unwrap(), want, "{loc}");
        }
        assert!(resolve_location(base, "").is_err());
        assert!(resolve_location(base, "https://a b/").is_err());
        assert!(resolve_location(base, "https://x/\u{1b}[2J").is_err());
    }

    #[test]
    fn origin_change_is_detected_case_insensitively() {
        assert_eq!(
            origin_of("https://A.example/x"),
            origin_of("https://a.example/y?z")
        );
        assert_ne!(
            origin_of("https://a.example/x"),
            origin_of("https://a.example:444/x")
        );
    }

    #[test]
    fn media_type_drops_parameters() {
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }

    #[test]
    fn user_agent_names_tool_and_version() {
        let ua = default_user_agent();
        assert!(ua.starts_with(&format!("blyss-evidence/{}", crate::TOOL_VERSION)));
    }
}
