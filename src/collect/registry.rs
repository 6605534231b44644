//! Registry fetcher: captures, for every image the attested command line
//! pins, the manifest (or index), the `linux/amd64` child manifest of an
//! index and the image config, byte-exact, into the bundle's
//! `evidence/images/` tree (an OCI image-layout-like tree:
//! `images/oci-layout`, `images/blobs/sha256/<hex>`, plus one small record
//! per image under `images/refs/`).
//!
//! Protocol (Docker Registry HTTP API v2 / OCI distribution spec):
//! * `GET /v2/<name>/manifests/<digest>` with `Accept` listing the OCI index,
//!   Docker manifest list, OCI manifest and Docker v2 manifest media types;
//!   `GET /v2/<name>/blobs/<digest>` for the config;
//! * on `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, an
//!   anonymous token request to the realm (with Basic credentials from the
//!   Docker config when it has some for this registry), then the request is
//!   retried with `Authorization: Bearer <token>`; `Basic` challenges use the
//!   Docker config credentials directly;
//! * on `429`, waits `Retry-After` seconds (capped) or an exponential
//!   back-off, a bounded number of times.
//!
//! Every byte is stored under the sha256 of what was *received*, never under
//! the digest that was asked for: a registry that serves a tampered body
//! leaves its bytes in the bundle, and the audit names the mismatch. The
//! collector verifies what it can (digest, descriptor sizes, platform) only
//! to decide what to fetch next and to warn early; the audit re-derives
//! everything from the attested digest.
//!
//! Secrets: credentials and tokens are never written to the bundle, the
//! record or any message.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

use crate::bundle::{BundleBuilder, BundleError, Source};
use crate::evidence::attestation::AttestationDocument;

use super::http::{HttpClient, HttpError, Request};
use super::{CollectCtx, Evidence};
use crate::evidence::oci::{
    self, layout, media, Digest, ImageRecord, Manifest, RecordedBlob, Reference,
};

/// One HTTP answer, body capped by the caller's limit.
#[derive(Debug, Clone, Default)]
pub struct HttpAnswer {
    pub status: u16,
    /// Header names in lower case; first value wins.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// The body was longer than the limit (and `body` is empty).
    pub over_limit: bool,
}

/// The HTTP GET the fetcher needs; implemented over the collect HTTP client,
/// and by tests.
pub trait Transport {
    /// GETs `url` with `headers`; reads at most `max_body` bytes of body
    /// (more sets `over_limit`). Errors are transport failures (DNS, TLS,
    /// connection); HTTP error statuses are answers.
    fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
        max_body: usize,
    ) -> Result<HttpAnswer, String>;
}

/// Where captured bytes go: the collect orchestrator's shared [`Evidence`],
/// or a plain [`BundleBuilder`] (tests, offline tools).
pub trait Sink {
    fn add(&mut self, path: &str, bytes: Vec<u8>, source: Source) -> Result<(), BundleError>;
    fn has(&self, path: &str) -> bool;
    /// A finding worth a signed warning.
    fn warn(&mut self, msg: String);
    /// A resource that could not be captured (fatal under `--strict`).
    fn failed(&mut self, label: &str, url: &str, cause: &str);
}

impl Sink for BundleBuilder {
    fn add(&mut self, path: &str, bytes: Vec<u8>, source: Source) -> Result<(), BundleError> {
        BundleBuilder::add(self, path, bytes, source)
    }
    fn has(&self, path: &str) -> bool {
        BundleBuilder::has(self, path)
    }
    fn warn(&mut self, msg: String) {
        BundleBuilder::warn(self, msg)
    }
    fn failed(&mut self, label: &str, url: &str, cause: &str) {
        BundleBuilder::warn(
            self,
            format!("could not collect {label} from {url}: {cause}"),
        )
    }
}

/// [`Sink`] over the orchestrator's [`Evidence`].
pub struct EvidenceSink<'a>(pub &'a Evidence);

impl Sink for EvidenceSink<'_> {
    fn add(&mut self, path: &str, bytes: Vec<u8>, source: Source) -> Result<(), BundleError> {
        // Images run concurrently and may share content-addressed blobs.
        self.0.add_if_absent(path, bytes, source);
        Ok(())
    }
    fn has(&self, path: &str) -> bool {
        self.0.has(path)
    }
    fn warn(&mut self, msg: String) {
        self.0.warn(msg)
    }
    fn failed(&mut self, label: &str, url: &str, cause: &str) {
        self.0.failed(label, url, cause)
    }
}

/// An image to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTarget {
    /// Command-line parameter it came from (`blyss_docker_img`).
    pub param: Option<String>,
    /// The reference exactly as attested.
    pub reference: String,
}

impl ImageTarget {
    pub fn subject(&self) -> &str {
        self.param.as_deref().unwrap_or(&self.reference)
    }
}

/// Fetcher settings.
#[derive(Clone)]
pub struct RegistryOptions {
    /// `--registry-mirror HOST=URL`: requests for registry `HOST` (as named
    /// in references, e.g. `docker.io`, or the API host,
    /// `registry-1.docker.io`) go to `URL` instead.
    pub mirrors: BTreeMap<String, String>,
    /// Docker config with `auths` (default: `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json`; absent file = anonymous only).
    pub docker_config: Option<PathBuf>,
    /// Attempts per request when the registry answers 429.
    pub max_attempts: u32,
    /// Longest single wait honoured for `Retry-After`.
    pub max_wait: Duration,
    /// How to wait (tests record instead of sleeping).
    pub sleep: fn(Duration),
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            mirrors: BTreeMap::new(),
            docker_config: None,
            max_attempts: 4,
            max_wait: Duration::from_secs(30),
            sleep: std::thread::sleep,
        }
    }
}

/// Parses `HOST=URL` (`--registry-mirror`).
pub fn parse_mirror(s: &str) -> Result<(String, String), String> {
    let (h, u) = s
        .split_once('=')
        .ok_or_else(|| format!("registry mirror {s:?}: expected HOST=URL"))?;
    if h.is_empty() || h.contains('/') {
        return Err(format!(
            "registry mirror {s:?}: HOST must be a registry host"
        ));
    }
    if !(u.starts_with("https://") || u.starts_with("http://")) {
        return Err(format!(
            "registry mirror {s:?}: URL must start with https:// or http://"
        ));
    }
    Ok((h.to_string(), u.trim_end_matches('/').to_string()))
}

/// What one image's capture produced (also in the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub subject: String,
    pub errors: Vec<String>,
}

/// Captures every image into `b`. Never fails on registry problems (they
/// are recorded in the per-image record and as bundle warnings); fails only
/// when the bundle itself refuses a member.
pub fn collect_images(
    b: &mut dyn Sink,
    http: &dyn Transport,
    opts: &RegistryOptions,
    images: &[ImageTarget],
) -> Result<Vec<Captured>, BundleError> {
    let creds = DockerCredentials::load(opts.docker_config.as_deref());
    let mut session = Session {
        http,
        opts,
        creds: &creds,
        tokens: BTreeMap::new(),
    };
    let mut out = Vec::new();
    if !images.is_empty() && !b.has(layout::OCI_LAYOUT) {
        b.add(
            layout::OCI_LAYOUT,
            layout::OCI_LAYOUT_CONTENT.as_bytes().to_vec(),
            Source {
                origin: "collector".into(),
                http_status: None,
                fetched_at: crate::util::now(),
            },
        )?;
    }
    for img in images {
        let record = capture_one(b, &mut session, img)?;
        for e in &record.errors {
            let url = record
                .manifest
                .as_ref()
                .map(|m| m.url.clone())
                .unwrap_or_else(|| record.registry.clone());
            b.failed(&format!("image {}", img.subject()), &url, e);
        }
        let mut bytes = serde_json::to_vec_pretty(&record).expect("record serialises");
        bytes.push(b'\n');
        let path = layout::record(img.subject());
        if b.has(&path) {
            b.warn(format!(
                "image {}: listed twice, second capture ignored",
                img.subject()
            ));
        } else {
            b.add(
                &path,
                bytes,
                Source {
                    origin: "collector".into(),
                    http_status: None,
                    fetched_at: crate::util::now(),
                },
            )?;
        }
        out.push(Captured {
            subject: img.subject().to_string(),
            errors: record.errors,
        });
    }
    Ok(out)
}

struct Session<'a> {
    http: &'a dyn Transport,
    opts: &'a RegistryOptions,
    creds: &'a DockerCredentials,
    /// Bearer tokens by (registry base URL, repository).
    tokens: BTreeMap<(String, String), String>,
}

/// A fetched blob that passed the size cap.
struct Got {
    url: String,
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn capture_one(
    b: &mut dyn Sink,
    s: &mut Session,
    img: &ImageTarget,
) -> Result<ImageRecord, BundleError> {
    let mut rec = ImageRecord {
        schema: oci::RECORD_SCHEMA.into(),
        param: img.param.clone(),
        reference: img.reference.clone(),
        canonical: String::new(),
        registry: String::new(),
        platform: format!("{}/{}", oci::PLATFORM_OS, oci::PLATFORM_ARCH),
        manifest: None,
        child: None,
        config: None,
        errors: Vec::new(),
    };
    let r = match Reference::parse(&img.reference) {
        Ok(r) => r,
        Err(e) => {
            rec.errors
                .push(format!("not a valid image reference: {e}; nothing fetched"));
            return Ok(rec);
        }
    };
    rec.canonical = r.canonical();
    let base = s.base_url(&r);
    rec.registry = base.clone();
    if r.digest.is_none() {
        b.warn(format!(
            "image {}: reference {} has no digest: the tag was resolved at collection time and proves nothing about what ran",
            img.subject(),
            img.reference
        ));
    }
    if let Some(d) = &r.digest {
        if !d.is_sha256() {
            rec.errors.push(format!(
                "digest algorithm {} is not supported (sha256 only); nothing fetched",
                d.algorithm()
            ));
            return Ok(rec);
        }
    }

    // 1. The manifest the reference names.
    let requested = r.manifest_reference();
    let url = format!("{base}/v2/{}/manifests/{requested}", r.path);
    let got = match s.fetch(
        &base,
        &r.path,
        &url,
        media::ACCEPT_MANIFESTS,
        oci::MAX_MANIFEST_BYTES,
    ) {
        Ok(g) => g,
        Err(e) => {
            rec.errors.push(format!("manifest: {e}"));
            return Ok(rec);
        }
    };
    let top = store(b, &got, &requested)?;
    rec.manifest = Some(top.clone());
    if let Some(d) = &r.digest {
        if top.digest != d.to_string() {
            rec.errors.push(format!(
                "manifest: the registry served bytes hashing to {}, not the requested {d} (tampered or wrong body); not following it",
                top.digest
            ));
            return Ok(rec);
        }
    }
    let manifest = match oci::parse_manifest(&got.body, "manifest") {
        Ok(m) => m,
        Err(e) => {
            rec.errors.push(e.to_string());
            return Ok(rec);
        }
    };

    // 2. For an index, the linux/amd64 child.
    let image = match manifest {
        Manifest::Image(m) => m,
        Manifest::Index(idx) => {
            let i = match oci::select_platform(&idx) {
                Ok(i) => i,
                Err(e) => {
                    rec.errors.push(e.to_string());
                    return Ok(rec);
                }
            };
            let desc = idx.manifests[i].clone();
            let what = format!("linux/amd64 manifest {}", desc.digest);
            if !desc.digest.is_sha256() {
                rec.errors
                    .push(format!("{what}: only sha256 descriptors are supported"));
                return Ok(rec);
            }
            let url = format!("{base}/v2/{}/manifests/{}", r.path, desc.digest);
            let got = match s.fetch(
                &base,
                &r.path,
                &url,
                media::ACCEPT_MANIFESTS,
                oci::MAX_MANIFEST_BYTES,
            ) {
                Ok(g) => g,
                Err(e) => {
                    rec.errors.push(format!("{what}: {e}"));
                    return Ok(rec);
                }
            };
            rec.child = Some(store(b, &got, &desc.digest.to_string())?);
            if let Err(e) = oci::check_descriptor(&desc, &got.body, &what) {
                rec.errors.push(e.to_string());
                return Ok(rec);
            }
            match oci::parse_manifest(&got.body, &what) {
                Ok(Manifest::Image(m)) => m,
                Ok(Manifest::Index(_)) => {
                    rec.errors
                        .push(format!("{what}: nested index, not supported"));
                    return Ok(rec);
                }
                Err(e) => {
                    rec.errors.push(e.to_string());
                    return Ok(rec);
                }
            }
        }
    };
    // 3. The config blob.
    let desc = &image.config;
    let what = format!("config {}", desc.digest);
    if !desc.digest.is_sha256() {
        rec.errors
            .push(format!("{what}: only sha256 descriptors are supported"));
        return Ok(rec);
    }
    if desc.size > oci::MAX_CONFIG_BYTES as u64 {
        rec.errors.push(format!(
            "{what}: descriptor size {} over the {}-byte cap; not fetched",
            desc.size,
            oci::MAX_CONFIG_BYTES
        ));
        return Ok(rec);
    }
    let url = format!("{base}/v2/{}/blobs/{}", r.path, desc.digest);
    let accept = format!("{}, {}, */*", media::OCI_CONFIG, media::DOCKER_CONFIG);
    let got = match s.fetch(&base, &r.path, &url, &accept, oci::MAX_CONFIG_BYTES) {
        Ok(g) => g,
        Err(e) => {
            rec.errors.push(format!("{what}: {e}"));
            return Ok(rec);
        }
    };
    rec.config = Some(store(b, &got, &desc.digest.to_string())?);
    if let Err(e) = oci::check_descriptor(desc, &got.body, &what) {
        rec.errors.push(e.to_string());
        return Ok(rec);
    }
    if let Err(e) = oci::parse_config(&got.body, &what) {
        rec.errors.push(e.to_string());
    }
    Ok(rec)
}

/// Stores received bytes under their own sha256 (deduplicated).
fn store(b: &mut dyn Sink, got: &Got, requested: &str) -> Result<RecordedBlob, BundleError> {
    let d = Digest::sha256_of(&got.body);
    let path = layout::blob(d.hex());
    if !b.has(&path) {
        b.add(
            &path,
            got.body.clone(),
            Source {
                origin: got.url.clone(),
                http_status: Some(got.status),
                fetched_at: crate::util::now(),
            },
        )?;
    }
    Ok(RecordedBlob {
        requested: requested.to_string(),
        digest: d.to_string(),
        size: got.body.len() as u64,
        content_type: got.content_type.clone(),
        url: got.url.clone(),
    })
}

impl Session<'_> {
    /// Base URL for a reference's registry (mirror first).
    fn base_url(&self, r: &Reference) -> String {
        let find = |h: &str| {
            self.opts
                .mirrors
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(h))
                .map(|(_, v)| v.trim_end_matches('/').to_string())
        };
        find(&r.domain)
            .or_else(|| find(r.registry_host()))
            .unwrap_or_else(|| format!("https://{}", r.registry_host()))
    }

    /// GET with auth and 429 handling; 200 with a body within `max` is Ok.
    fn fetch(
        &mut self,
        base: &str,
        repo: &str,
        url: &str,
        accept: &str,
        max: usize,
    ) -> Result<Got, String> {
        let key = (base.to_string(), repo.to_string());
        let mut authed_once = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut headers = vec![("Accept".to_string(), accept.to_string())];
            if let Some(t) = self.tokens.get(&key) {
                headers.push(("Authorization".into(), t.clone()));
            }
            let a = self.http.get(url, &headers, max)?;
            match a.status {
                200 => {
                    if a.over_limit {
                        return Err(format!(
                            "{url}: body larger than the {max}-byte cap; not stored"
                        ));
                    }
                    return Ok(Got {
                        url: url.to_string(),
                        status: 200,
                        content_type: a.headers.get("content-type").cloned(),
                        body: a.body,
                    });
                }
                401 if !authed_once => {
                    authed_once = true;
                    let chal = a
                        .headers
                        .get("www-authenticate")
                        .cloned()
                        .ok_or_else(|| format!("{url}: 401 without WWW-Authenticate"))?;
                    let auth = self.authorize(base, repo, &chal)?;
                    self.tokens.insert(key.clone(), auth);
                }
                429 if attempt < self.opts.max_attempts => {
                    let wait = a
                        .headers
                        .get("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| Duration::from_secs(1u64 << (attempt - 1).min(5)))
                        .min(self.opts.max_wait);
                    (self.opts.sleep)(wait);
                }
                429 => {
                    return Err(format!(
                        "{url}: rate limited (429) {attempt} times; giving up"
                    ))
                }
                401 => return Err(format!("{url}: 401 Unauthorized even with credentials")),
                st => {
                    let code = registry_error_code(&a.body);
                    return Err(format!(
                        "{url}: registry answered {st}{}",
                        code.map(|c| format!(" ({c})")).unwrap_or_default()
                    ));
                }
            }
        }
    }

    /// Answers a `WWW-Authenticate` challenge; returns the `Authorization`
    /// header value to use.
    fn authorize(&mut self, base: &str, repo: &str, challenge: &str) -> Result<String, String> {
        let (scheme, params) = parse_challenge(challenge)
            .ok_or_else(|| format!("unparsable WWW-Authenticate challenge from {base}"))?;
        let host = host_of(base);
        let basic = self.creds.basic_for(&host);
        match scheme.as_str() {
            "basic" => basic.map(|b| format!("Basic {b}")).ok_or_else(|| {
                format!(
                    "{base} requires credentials (Basic) and the Docker config has none for {host}"
                )
            }),
            "bearer" => {
                let realm = params
                    .get("realm")
                    .ok_or_else(|| format!("Bearer challenge from {base} without realm"))?;
                // Never send credentials (or accept a token) over plain HTTP
                // unless the registry itself was configured as plain HTTP.
                if !(realm.starts_with("https://")
                    || (realm.starts_with("http://") && base.starts_with("http://")))
                {
                    return Err(format!("token realm {realm:?} is not https; refusing it"));
                }
                let mut q = Vec::new();
                if let Some(svc) = params.get("service") {
                    q.push(format!("service={}", urlencode(svc)));
                }
                let scope = params
                    .get("scope")
                    .cloned()
                    .unwrap_or_else(|| format!("repository:{repo}:pull"));
                q.push(format!("scope={}", urlencode(&scope)));
                let sep = if realm.contains('?') { '&' } else { '?' };
                let turl = format!("{realm}{sep}{}", q.join("&"));
                let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
                if let Some(b) = &basic {
                    headers.push(("Authorization".into(), format!("Basic {b}")));
                }
                let mut attempt = 0;
                let a = loop {
                    attempt += 1;
                    let a = self.http.get(&turl, &headers, 1024 * 1024)?;
                    if a.status == 429 && attempt < self.opts.max_attempts {
                        (self.opts.sleep)(
                            Duration::from_secs(1u64 << (attempt - 1).min(5))
                                .min(self.opts.max_wait),
                        );
                        continue;
                    }
                    break a;
                };
                if a.status != 200 || a.over_limit {
                    return Err(format!("token request to {realm} answered {}", a.status));
                }
                #[derive(serde::Deserialize)]
                struct Tok {
                    #[serde(default)]
                    token: Option<String>,
                    #[serde(default)]
                    access_token: Option<String>,
                }
                let t: Tok = serde_json::from_slice(&a.body)
                    .map_err(|e| format!("token response from {realm} is not JSON: {e}"))?;
                let tok = t
                    .token
                    .or(t.access_token)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| format!("token response from {realm} has no token"))?;
                if !tok.bytes().all(|c| c.is_ascii_graphic()) {
                    return Err(format!("token from {realm} has invalid characters"));
                }
                Ok(format!("Bearer {tok}"))
            }
            other => Err(format!("unsupported auth scheme {other:?} from {base}")),
        }
    }
}

/// `code` of the first error in a registry error body, if any.
fn registry_error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let c = v.get("errors")?.get(0)?.get("code")?.as_str()?;
    (c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| c.to_string())
}

/// Parses `Scheme k="v",k2="v2"` (RFC 7235 auth-params, quoted or token).
pub fn parse_challenge(h: &str) -> Option<(String, BTreeMap<String, String>)> {
    let h = h.trim();
    let (scheme, rest) = match h.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (h, ""),
    };
    let mut params = BTreeMap::new();
    let mut it = rest.chars().peekable();
    loop {
        while matches!(it.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            it.next();
        }
        if it.peek().is_none() {
            break;
        }
        let mut k = String::new();
        while let Some(&c) = it.peek() {
            if c == '=' {
                break;
            }
            k.push(c);
            it.next();
        }
        if it.next() != Some('=') {
            return None;
        }
        let mut v = String::new();
        if it.peek() == Some(&'"') {
            it.next();
            loop {
                match it.next()? {
                    '\\' => v.push(it.next()?),
                    '"' => break,
                    c => v.push(c),
                }
            }
        } else {
            while let Some(&c) = it.peek() {
                if c == ',' {
                    break;
                }
                v.push(c);
                it.next();
            }
        }
        params.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    Some((scheme.to_ascii_lowercase(), params))
}

fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// `host[:port]` of a URL.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    rest.split('/').next().unwrap_or("").to_string()
}

/// Credentials from the Docker config's `auths` (only the `auth` field,
/// base64 `user:password`, or `username` + `password`). Credential helpers
/// (`credsStore`, `credHelpers`) are not run.
#[derive(Default)]
struct DockerCredentials {
    /// Normalised host → base64 `user:password`.
    auths: BTreeMap<String, String>,
}

impl DockerCredentials {
    fn load(explicit: Option<&std::path::Path>) -> DockerCredentials {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::var_os("DOCKER_CONFIG")
                .map(|d| PathBuf::from(d).join("config.json"))
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
                }),
        };
        let Some(bytes) = path.and_then(|p| std::fs::read(p).ok()) else {
            return DockerCredentials::default();
        };
        Self::parse(&bytes)
    }

    fn parse(bytes: &[u8]) -> DockerCredentials {
        let mut out = DockerCredentials::default();
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return out;
        };
        let Some(auths) = v.get("auths").and_then(|a| a.as_object()) else {
            return out;
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        for (k, e) in auths {
            let auth = match (
                e.get("auth").and_then(|a| a.as_str()),
                e.get("username"),
                e.get("password"),
            ) {
                (Some(a), _, _) if !a.is_empty() => a.to_string(),
                (_, Some(u), Some(p)) => match (u.as_str(), p.as_str()) {
                    (Some(u), Some(p)) => b64.encode(format!("{u}:{p}")),
                    _ => continue,
                },
                _ => continue,
            };
            out.auths.insert(normalise_auth_key(k), auth);
        }
        out
    }

    /// Credentials for an API host (Docker Hub's are stored under
    /// `https://index.docker.io/v1/`).
    fn basic_for(&self, host: &str) -> Option<String> {
        let hub = [
            oci::DOCKER_HUB,
            oci::DOCKER_HUB_LEGACY,
            oci::DOCKER_HUB_REGISTRY,
        ];
        if hub.contains(&host) {
            return hub.iter().find_map(|h| self.auths.get(*h)).cloned();
        }
        self.auths.get(host).cloned()
    }
}

fn normalise_auth_key(k: &str) -> String {
    host_of(k)
}

/// Plug-in point of the collect orchestrator: captures registry evidence
/// for every image the document's command line names.
pub fn collect(ctx: &CollectCtx, doc: &AttestationDocument, out: &Evidence) {
    if !ctx.options.images {
        return;
    }
    let images = match crate::evidence::images::attested_images_of(doc) {
        Ok(i) => i,
        Err(e) => {
            out.warn(format!(
                "container images: {e}; no registry evidence collected"
            ));
            return;
        }
    };
    for (param, why) in &images.errors {
        out.warn(format!(
            "container image parameter {param}: {why}; not collected"
        ));
    }
    let targets: Vec<ImageTarget> = images
        .images
        .into_iter()
        .map(|i| ImageTarget {
            param: i.param,
            reference: i.reference,
        })
        .collect();
    let mut opts = RegistryOptions::default();
    for (h, u) in &ctx.options.registry_mirrors {
        // First occurrence wins, as in `CollectCtx::registry_base`.
        let key = h.to_ascii_lowercase();
        opts.mirrors.entry(key).or_insert_with(|| u.clone());
    }
    let transport = ClientTransport { ctx };
    if !targets.is_empty() && !out.has(layout::OCI_LAYOUT) {
        out.add_if_absent(
            layout::OCI_LAYOUT,
            layout::OCI_LAYOUT_CONTENT.as_bytes().to_vec(),
            Source {
                origin: "collector".into(),
                http_status: None,
                fetched_at: crate::util::now(),
            },
        );
    }
    // Bounded concurrency across images: a stalling registry costs one
    // worker, not the whole collection in sequence; at most
    // IMAGE_CONCURRENCY images in flight (the HTTP client bounds requests).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = super::IMAGE_CONCURRENCY.min(targets.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(t) = targets.get(i) else { break };
                let mut sink = EvidenceSink(out);
                if let Err(e) =
                    collect_images(&mut sink, &transport, &opts, std::slice::from_ref(t))
                {
                    out.failed("container images", "(bundle)", e);
                }
            });
        }
    });
}

/// [`Transport`] over the project's HTTP client (deadlines, caps, TLS
/// against the trust set, progress display). 401, 404 and 429 come back as
/// answers: the fetcher runs the token flow, names registry error codes and
/// applies its own bounded 429 policy (so retries are not multiplied).
pub struct ClientTransport<'a> {
    pub ctx: &'a CollectCtx<'a>,
}

impl Transport for ClientTransport<'_> {
    fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
        max_body: usize,
    ) -> Result<HttpAnswer, String> {
        http_client_get(Some(self.ctx), &self.ctx.http, url, headers, max_body)
    }
}

fn http_client_get(
    ctx: Option<&CollectCtx>,
    client: &HttpClient,
    url: &str,
    headers: &[(String, String)],
    max_body: usize,
) -> Result<HttpAnswer, String> {
    // A registry host named by the evidence (not a --registry-mirror the
    // user gave) is judged like a redirect target: public addresses only.
    let user_given = ctx.is_some_and(|c| {
        c.options.registry_mirrors.iter().any(|(_, base)| {
            let base = base.trim_end_matches('/');
            url == base || url.starts_with(&format!("{base}/"))
        })
    });
    let mut req = Request::get(url)
        .public_only(ctx.is_some() && !user_given)
        .max_bytes(max_body as u64)
        .accept_status(401)
        .accept_status(404)
        .accept_status(429);
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("accept") {
            req = req.accept(v.clone());
        } else {
            req = req.header(k.clone(), v.clone());
        }
    }
    let label = "container registry";
    let r = match ctx {
        Some(c) => c.fetch(label, &req),
        None => client.get(&req),
    };
    match r {
        Ok(r) => {
            let mut hs = BTreeMap::new();
            for (k, v) in r.headers {
                hs.entry(k).or_insert(v);
            }
            Ok(HttpAnswer {
                status: r.status,
                headers: hs,
                body: r.body,
                over_limit: false,
            })
        }
        Err(HttpError::TooLarge { .. }) => Ok(HttpAnswer {
            status: 200,
            over_limit: true,
            ..Default::default()
        }),
        Err(e) => Err(e.to_string()),
    }
}

/// [`Transport`] over a bare [`HttpClient`] (no orchestrator).
pub struct HttpClientTransport(pub HttpClient);

impl Transport for HttpClientTransport {
    fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
        max_body: usize,
    ) -> Result<HttpAnswer, String> {
        http_client_get(None, &self.0, url, headers, max_body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing_handles_docker_hub_form() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:vllm/vllm-openai:pull""#,
        )
        .unwrap();
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:vllm/vllm-openai:pull");
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_none());
    }

    #[test]
    fn docker_config_credentials_are_found_by_host() {
        let c = DockerCredentials::parse(
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"ghcr.io":{"username":"u","password":"p"}}}"#,
        );
        assert_eq!(c.basic_for("registry-1.docker.io").as_deref(), Some("dTpw"));
        assert_eq!(c.basic_for("ghcr.io").as_deref(), Some("dTpw"));
        assert_eq!(c.basic_for("quay.io"), None);
    }

    #[test]
    fn mirror_option_is_validated() {
        assert_eq!(
            parse_mirror("docker.io=http://127.0.0.1:5000/").unwrap(),
            ("docker.io".into(), "http://127.0.0.1:5000".into())
        );
        assert!(parse_mirror("docker.io").is_err());
        assert!(parse_mirror("docker.io=ftp://x").is_err());
    }
}
