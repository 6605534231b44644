//! `collect`: the only networked code in the project (cargo feature `collect`).
//!
//! [`collect`] snapshots a service's evidence into a [`BundleBuilder`]:
//!
//! ```text
//!  ┌ TLS handshake #1 ──────────────┬─ CT (ct::collect) ───────────────┐
//!  ├ attestation document ─ parse ──┼─ AMD KDS: cert_chain, CRL, VCEK ─┤→ seal
//!  │                                ├─ registries (registry::collect) ─┤
//!  │                                └─ TLS handshake #2 ───────────────┤
//!  └ firmware (--firmware) ──────────────────────────────────────────────┘
//! ```
//!
//! Independent resources run concurrently (scoped threads; the HTTP client
//! bounds requests in flight), so collect time tracks the longest
//! dependency chain, not the sum. Every failure of a resource is recorded
//! as a collection warning in the signed statement ([`Evidence::failed`]);
//! `--strict` turns any failure into an error. Nothing touches the disk
//! until the caller writes the sealed bundle atomically (temp file +
//! rename), so an error or Ctrl-C leaves no partial bundle. A malformed or
//! missing attestation document is always fatal: there would be nothing to
//! audit.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use thiserror::Error;
use time::OffsetDateTime;

use crate::bundle::{BundleBuilder, BundleError, Source};
use crate::evidence::attestation::AttestationDocument;
use crate::evidence::tls::{ChainEntry, HandshakeRecord, SecondHandshakeRecord, Verification};
use crate::trust::TrustSet;

pub mod conn;
pub mod ct;
pub mod http;
pub mod kds;
pub mod nvidia;
pub mod registry;
pub mod tinfoil;
pub mod tls;

use http::{HttpClient, HttpConfig, HttpError, Request, Response};
use tls::{Handshake, TlsCapture, TlsError, TlsTimeouts};

/// The service the original verifier checks by default.
pub const DEFAULT_URL: &str = "https://enclave.blyss.dev";
/// AMD's Key Distribution Service.
pub const DEFAULT_KDS_URL: &str = "https://kdsintf.amd.com";
/// Where a Blyss enclave serves its attestation document.
pub const ATTESTATION_PATH: &str = "/.well-known/appspecific/dev.blyss.enclave/attestation.json";
/// Size cap of the attestation document: the audit's parser cap
/// (`evidence::attestation`), so the collector never fetches and signs a
/// document the audit must refuse.
pub const MAX_DOCUMENT_BYTES: u64 = crate::evidence::attestation::MAX_DOC_BYTES as u64;
/// Size cap of a firmware image: the bundle's per-member cap (a larger image
/// could not be sealed).
pub const MAX_FIRMWARE_BYTES: u64 = crate::bundle::limits::MAX_ENTRY_BYTES;

/// Why a collection produced no bundle.
#[derive(Debug, Error)]
pub enum CollectError {
    #[error("invalid service URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("attestation document: {0}")]
    DocumentFetch(HttpError),
    #[error("attestation document from {url}: {cause}; no bundle written")]
    Document { url: String, cause: String },
    #[error("--strict: {count} resource(s) could not be collected; first: {first}")]
    Strict { count: usize, first: String },
    #[error("firmware {0}")]
    Firmware(String),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Protocol(#[from] crate::protocol::ProtocolError),
}

/// Everything `collect` needs besides the trust set.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Service base URL (`https://host[:port]`).
    pub url: String,
    /// Protocol id recorded in the bundle.
    pub protocol: String,
    /// AMD KDS base URL.
    pub kds_url: String,
    /// Override of the AMD product line (`Milan`, `Genoa`, `Turin`).
    pub amd_product: Option<String>,
    /// Firmware images to include: local paths or http(s) URLs.
    pub firmware: Vec<String>,
    /// Any resource failure is fatal.
    pub strict: bool,
    /// HTTP deadlines, retries, caps, User-Agent.
    pub http: HttpConfig,
    /// TLS capture deadlines.
    pub tls: TlsTimeouts,
    /// CT log list URL (`--log-list-url`); None: the collector's default.
    pub log_list_url: Option<String>,
    /// How long to keep asking a CT log whose entry is not merged yet (`--ct-merge-wait`).
    pub ct_merge_wait: Duration,
    /// Registry mirrors (`--registry-mirror HOST=URL`), in the order given.
    pub registry_mirrors: Vec<(String, String)>,
    /// Fetch registry evidence for the attested images (`--no-images`
    /// turns it off; the audit then reports each image as not captured).
    pub images: bool,
    /// Show the progress display (on stderr; the CLI enables it only on a TTY).
    pub progress: bool,
    /// One deadline for the whole collection (`--deadline`): past it no
    /// request starts and no wait runs; what is missing is recorded as
    /// missing (the audit then fails closed on it).
    pub deadline: Duration,
    /// UNSAFE, tests only (`--allow-private-redirects-unsafe`): redirects
    /// may reach non-public addresses (the loopback test world). Recorded
    /// in the statement's `unsafe_options`.
    pub allow_private_redirects_unsafe: bool,
    /// NVIDIA RIM service and OCSP responder (`--fetch-rims`, `--fetch-ocsp`).
    pub nvidia: nvidia::NvidiaOptions,
    /// Where a Tinfoil enclave's release evidence comes from (`--protocol tinfoil`).
    pub tinfoil: tinfoil::TinfoilOptions,
}

/// Default of `--deadline`.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);
/// Most images whose registry evidence is fetched at once.
pub const IMAGE_CONCURRENCY: usize = 3;
/// Name of the unsafe redirect relaxation in the statement.
pub const ALLOW_PRIVATE_REDIRECTS_UNSAFE: &str = "allow-private-redirects-unsafe";

impl CollectOptions {
    /// Defaults for `url`: production KDS, default protocol, no extras.
    pub fn new(url: &str) -> Self {
        let http = HttpConfig::default();
        CollectOptions {
            url: url.to_string(),
            protocol: crate::protocol::DEFAULT_ID.into(),
            kds_url: DEFAULT_KDS_URL.into(),
            amd_product: None,
            firmware: Vec::new(),
            strict: false,
            tls: TlsTimeouts {
                connect: http.connect_timeout,
                read: http.read_timeout,
                total: http.request_timeout,
            },
            http,
            log_list_url: None,
            ct_merge_wait: Duration::from_secs(30),
            registry_mirrors: Vec::new(),
            images: true,
            progress: false,
            deadline: DEFAULT_DEADLINE,
            allow_private_redirects_unsafe: false,
            nvidia: nvidia::NvidiaOptions::default(),
            tinfoil: tinfoil::TinfoilOptions::default(),
        }
    }
}

/// The service being collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://host[:port]`, no trailing slash.
    pub base: String,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Parses an `https://host[:port][/]` URL. Paths, queries, user info
    /// are refused: the document lives at a well-known path.
    pub fn parse(url: &str) -> Result<Target, CollectError> {
        let bad = |r: &str| CollectError::BadUrl {
            url: url.into(),
            reason: r.into(),
        };
        let rest = url.strip_prefix("https://").ok_or_else(|| {
            bad("must start with https:// (the TLS binding is part of the evidence)")
        })?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        if authority.contains(['/', '?', '#', '@'])
            || authority
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                "give only scheme, host and optional port (no path, query or user info)",
            ));
        }
        let (host, port) = if let Some(h) = authority.strip_prefix('[') {
            let (h, tail) = h
                .split_once(']')
                .ok_or_else(|| bad("unclosed IPv6 bracket"))?;
            let port = match tail.strip_prefix(':') {
                Some(p) => p.parse::<u16>().map_err(|_| bad("invalid port"))?,
                None if tail.is_empty() => 443,
                None => return Err(bad("garbage after IPv6 address")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>().map_err(|_| bad("invalid port"))?,
                ),
                None => (authority.to_string(), 443),
            }
        };
        if host.is_empty() || port == 0 {
            return Err(bad("no host or port 0"));
        }
        Ok(Target {
            base: format!("https://{authority}"),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// URL of the attestation document.
    pub fn document_url(&self) -> String {
        format!("{}{ATTESTATION_PATH}", self.base)
    }

    /// `tls://host:port`, the origin recorded for TLS members.
    pub fn tls_origin(&self) -> String {
        format!("tls://{}:{}", self.host, self.port)
    }
}

/// Progress display on stderr: one line per resource as it completes.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    start: Instant,
    lock: Mutex<()>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            start: Instant::now(),
            lock: Mutex::new(()),
        }
    }
    /// Whether the progress display should be on: not quiet, stderr a TTY.
    pub fn auto(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }
    fn line(&self, s: &str) {
        if self.enabled {
            let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("{s}");
        }
    }
    /// A resource finished: `ok` with a size, or an error line.
    pub fn done(&self, label: &str, outcome: Result<(usize, u32), &str>) {
        let t = self.start.elapsed().as_millis();
        match outcome {
            Ok((bytes, attempts)) => {
                let retry = if attempts > 1 {
                    format!(" after {attempts} attempts")
                } else {
                    String::new()
                };
                self.line(&format!(
                    "  ✓ {label:<28} {:>10}  t+{t} ms{retry}",
                    human(bytes)
                ))
            }
            Err(e) => self.line(&format!("  ✗ {label:<28} t+{t} ms  {e}")),
        }
    }
}

fn human(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// What collectors get: the HTTP client, the options, the trust set, the
/// target, the clock and the progress display. `Sync`: share it across
/// scoped threads.
pub struct CollectCtx<'a> {
    pub http: HttpClient,
    pub options: &'a CollectOptions,
    pub trust: &'a TrustSet,
    pub target: Target,
    pub progress: Progress,
    /// Every redirect chain followed (for the statement).
    pub redirects: Mutex<Vec<crate::bundle::format::RedirectChain>>,
}

impl CollectCtx<'_> {
    /// The injected clock (`util::now`, honours SOURCE_DATE_EPOCH).
    pub fn now(&self) -> OffsetDateTime {
        crate::util::now()
    }

    /// GET through the client, reporting on the progress display.
    pub fn fetch(&self, label: &str, req: &Request) -> Result<Response, HttpError> {
        let r = self.http.get(req);
        if let Ok(resp) = &r {
            if !resp.redirects.is_empty() {
                self.redirects
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(crate::bundle::format::RedirectChain {
                        requested: req.url.clone(),
                        hops: resp.redirects.clone(),
                    });
            }
        }
        match &r {
            Ok(resp) => self
                .progress
                .done(label, Ok((resp.body.len(), resp.attempts))),
            Err(e) => self.progress.done(label, Err(&e.to_string())),
        }
        r
    }

    /// Records a warning when a response's media type is not among `accepted`
    /// (the content itself has been validated by the caller).
    pub fn check_media_type(&self, label: &str, r: &Response, accepted: &[&str], out: &Evidence) {
        let got = r.media_type();
        if !got.as_deref().is_some_and(|g| accepted.contains(&g)) {
            out.warn(format!(
                "{label}: {} was served with Content-Type {}, expected {}; kept because its content is well-formed",
                r.url,
                got.map(|g| format!("{g:?}")).unwrap_or_else(|| "(none)".into()),
                accepted.join(" or ")
            ));
        }
    }

    /// Base URL for a registry host: the `--registry-mirror` for it if
    /// any, else `https://{host}`.
    pub fn registry_base(&self, host: &str) -> String {
        self.options
            .registry_mirrors
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, u)| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("https://{host}"))
    }
}

/// The evidence being collected, shared by all collectors (thread-safe).
pub struct Evidence {
    inner: Mutex<Inner>,
}

struct Inner {
    builder: BundleBuilder,
    warnings: BTreeSet<String>,
    failures: Vec<String>,
}

impl Evidence {
    pub fn new(target: &str, protocol: &str, started_at: OffsetDateTime) -> Self {
        Self::from_builder(BundleBuilder::new(target, protocol, started_at))
    }

    /// Continues a bundle under construction (an offline import that also
    /// fetches, [`fetch_for_import`]).
    pub fn from_builder(builder: BundleBuilder) -> Self {
        Evidence {
            inner: Mutex::new(Inner {
                builder,
                warnings: BTreeSet::new(),
                failures: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a member; `path` is relative to `evidence/`. A bad path or a
    /// duplicate is recorded as a failure (a collector bug must not vanish).
    pub fn add(&self, path: &str, bytes: Vec<u8>, source: Source) {
        let mut g = self.lock();
        if let Err(e) = g.builder.add(path, bytes, source) {
            g.failures
                .push(format!("could not store evidence/{path}: {e}"));
        }
    }

    /// Adds a response body with its URL and status as the source.
    pub fn add_response(&self, path: &str, r: &Response, at: OffsetDateTime) {
        self.add(
            path,
            r.body.clone(),
            Source {
                origin: r.url.clone(),
                http_status: Some(r.status),
                fetched_at: at,
            },
        );
    }

    /// Whether a member (relative to `evidence/`) is present.
    pub fn has(&self, path: &str) -> bool {
        self.lock().builder.has(path)
    }

    /// Adds a content-addressed member unless it is already there (images
    /// fetched concurrently may share a blob): check and insert under one
    /// lock.
    pub fn add_if_absent(&self, path: &str, bytes: Vec<u8>, source: Source) {
        let mut g = self.lock();
        if g.builder.has(path) {
            return;
        }
        if let Err(e) = g.builder.add(path, bytes, source) {
            g.failures
                .push(format!("could not store evidence/{path}: {e}"));
        }
    }

    /// Records the connection that delivered the attestation document.
    fn set_document_connection(&self, rec: crate::bundle::format::ConnectionRecord) {
        self.lock().builder.document_connection = Some(rec);
    }

    /// A collection warning for the signed statement (not a failure).
    pub fn warn(&self, msg: impl Into<String>) {
        self.lock().warnings.insert(msg.into());
    }

    /// A resource could not be collected: a signed warning, fatal under
    /// `--strict`.
    pub fn failed(&self, label: &str, url: &str, cause: impl std::fmt::Display) {
        self.lock()
            .failures
            .push(format!("could not collect {label} from {url}: {cause}"));
    }

    /// [`Evidence::failed`] for an HTTP error (which names its URL).
    pub fn failed_http(&self, label: &str, e: &HttpError) {
        self.lock()
            .failures
            .push(format!("could not collect {label}: {e}"));
    }

    /// Failures so far.
    pub fn failures(&self) -> Vec<String> {
        self.lock().failures.clone()
    }

    /// Closes the collection: warnings and failures go into the statement
    /// (sorted, for stable output).
    fn finish(self, strict: bool) -> Result<Collected, CollectError> {
        let Inner {
            mut builder,
            warnings,
            mut failures,
        } = self.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        // Sorted first, so that `--strict` names the same failure whichever
        // thread failed first.
        failures.sort();
        if strict && !failures.is_empty() {
            return Err(CollectError::Strict {
                count: failures.len(),
                first: failures[0].clone(),
            });
        }
        let mut all: Vec<String> = failures.clone();
        all.extend(warnings.iter().cloned());
        for w in &all {
            builder.warn(w.clone());
        }
        Ok(Collected {
            builder,
            warnings: all,
            failures: failures.len(),
        })
    }
}

/// A finished collection, ready to be sealed.
pub struct Collected {
    pub builder: BundleBuilder,
    /// Every warning recorded in the statement (failures first).
    pub warnings: Vec<String>,
    /// How many resources failed.
    pub failures: usize,
}

/// Collects the evidence of `opts.url` into a bundle builder.
pub fn collect(opts: &CollectOptions, trust: &TrustSet) -> Result<Collected, CollectError> {
    if tinfoil::selects(&opts.protocol) {
        return tinfoil::collect(opts, trust);
    }
    let target = Target::parse(&opts.url)?;
    let started = crate::util::now();
    let mut http_cfg = opts.http.clone();
    http_cfg.deadline = Some(Instant::now() + opts.deadline);
    http_cfg.allow_private_redirects_unsafe = opts.allow_private_redirects_unsafe;
    let ctx = CollectCtx {
        http: HttpClient::new(http_cfg, trust),
        options: opts,
        trust,
        target: target.clone(),
        progress: Progress::new(opts.progress),
        redirects: Mutex::new(Vec::new()),
    };
    let ev = Evidence::new(&target.base, &opts.protocol, started);
    record_unsafe(opts, &ev);
    let doc_url = target.document_url();

    let fatal: Result<(), CollectError> = std::thread::scope(|s| {
        let ctx = &ctx;
        let ev = &ev;
        for fw in &opts.firmware {
            s.spawn(move || firmware(ctx, fw, ev));
        }
        // TLS handshake #1, then CT on the same thread.
        let (tx, rx) = std::sync::mpsc::channel::<Result<Handshake, TlsError>>();
        let first_thread = s.spawn(move || {
            let h = capture(ctx, "TLS handshake");
            let _ = tx.send(h.clone());
            if let Ok(h) = &h {
                let cap = capture_of(ctx, h.clone(), None);
                ct::collect(ctx, &cap, ev);
            }
            h
        });
        let mut first: Option<Result<Handshake, TlsError>> = None;

        // The attestation document (verified TLS; see fetch_document).
        let doc_resp = fetch_document(ctx, ev, &doc_url, || {
            if first.is_none() {
                first = Some(rx.recv().unwrap_or_else(|_| {
                    Err(TlsError::Handshake {
                        host: target.host.clone(),
                        port: target.port,
                        cause: "capture thread ended".into(),
                    })
                }));
            }
            first.clone().expect("set above")
        });
        let doc_resp = match doc_resp {
            Ok(r) => r,
            Err(e) => return Err(e),
        };
        let doc = match AttestationDocument::parse_json(&doc_resp.body) {
            Ok(d) => d,
            Err(e) => {
                return Err(CollectError::Document {
                    url: doc_url.clone(),
                    cause: format!("malformed attestation document: {e}"),
                })
            }
        };
        ctx.check_media_type("attestation document", &doc_resp, &["application/json"], ev);
        ev.add_response("attestation.json", &doc_resp, ctx.now());
        store_document_connection(ctx, &doc_resp, ev);

        // The second handshake must come after the first one, or the
        // record would call the later certificate the first: wait for the
        // capture thread's handshake (it is usually done by now) before
        // starting #2.
        if first.is_none() {
            let _ = rx.recv();
        }

        // Everything that needs the document, concurrently.
        let second = std::thread::scope(|s2| {
            let second_thread = s2.spawn(move || capture(ctx, "TLS handshake #2"));
            let doc = &doc;
            s2.spawn(move || kds::collect(ctx, doc, ev));
            s2.spawn(move || registry::collect(ctx, doc, ev));
            if opts.nvidia.any() {
                s2.spawn(move || {
                    // GPUs of the document (RIMs inline): OCSP for their
                    // device and RIM chains; an unreadable section is the
                    // audit's to report.
                    let gpus = doc
                        .gpu
                        .as_ref()
                        .and_then(|g| crate::evidence::gpu::parse(g).ok())
                        .unwrap_or_default();
                    nvidia::collect(ctx, &opts.nvidia, &gpus, &[], ev);
                });
            }
            second_thread.join().unwrap_or_else(|_| {
                Err(TlsError::Handshake {
                    host: target.host.clone(),
                    port: target.port,
                    cause: "capture thread panicked".into(),
                })
            })
        });

        let first = match first_thread.join() {
            Ok(h) => h,
            Err(_) => Err(TlsError::Handshake {
                host: target.host.clone(),
                port: target.port,
                cause: "capture thread panicked".into(),
            }),
        };
        match first {
            Ok(h) => {
                let cap = capture_of(ctx, h, Some(second.map_err(|e| e.to_string())));
                store_tls(ctx, &cap, ev);
            }
            Err(e) => ev.failed("TLS handshake", &target.tls_origin(), e),
        }
        Ok(())
    });
    fatal?;
    seal(ctx, ev, opts.strict)
}

/// Ends a collection: the evidence (fatal under `--strict` if anything
/// failed) plus every redirect chain followed, for the signed statement.
pub(crate) fn seal(
    ctx: CollectCtx<'_>,
    ev: Evidence,
    strict: bool,
) -> Result<Collected, CollectError> {
    let mut collected = ev.finish(strict)?;
    collected.builder.redirects.extend(
        ctx.redirects
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
    Ok(collected)
}

/// Records `--allow-private-redirects-unsafe` in the statement.
fn record_unsafe(opts: &CollectOptions, ev: &Evidence) {
    if opts.allow_private_redirects_unsafe {
        ev.lock()
            .builder
            .unsafe_options
            .push(ALLOW_PRIVATE_REDIRECTS_UNSAFE.into());
        ev.warn(format!(
            "UNSAFE: --{ALLOW_PRIVATE_REDIRECTS_UNSAFE} was in force: redirects could reach loopback, private and link-local addresses"
        ));
    }
}

/// An offline import (`collect --gpu-evidence FILE …`) that also fetches
/// from NVIDIA's services (`--fetch-rims`, `--fetch-ocsp`): `builder` holds
/// the imported members; `gpus` are the devices read from them (GPUs and
/// NVSwitches alike: each carries its kind, which picks its RIM ids) and
/// `supplied_rims` the `--rim` (name, text) pairs. Fetched members and
/// every failure are added as for an online collection (`--strict`,
/// `--deadline`, the redirect rule and hop records apply).
pub fn fetch_for_import(
    builder: BundleBuilder,
    opts: &CollectOptions,
    trust: &TrustSet,
    gpus: &[crate::evidence::gpu::GpuEvidence],
    supplied_rims: &[(String, String)],
) -> Result<Collected, CollectError> {
    let mut http_cfg = opts.http.clone();
    http_cfg.deadline = Some(Instant::now() + opts.deadline);
    http_cfg.allow_private_redirects_unsafe = opts.allow_private_redirects_unsafe;
    let ctx = CollectCtx {
        http: HttpClient::new(http_cfg, trust),
        options: opts,
        trust,
        // No service: an import has no TLS target.
        target: Target {
            base: "file".into(),
            host: String::new(),
            port: 0,
        },
        progress: Progress::new(opts.progress),
        redirects: Mutex::new(Vec::new()),
    };
    let ev = Evidence::from_builder(builder);
    record_unsafe(opts, &ev);
    nvidia::collect(&ctx, &opts.nvidia, gpus, supplied_rims, &ev);
    seal(ctx, ev, opts.strict)
}

/// Stores the chain of the connection that delivered the document as
/// `tls/document/chain-NN.der` and records it in the statement (v2
/// `document_connection`), for `tls.binding` to judge.
fn store_document_connection(ctx: &CollectCtx, r: &Response, ev: &Evidence) {
    let Some(peer) = &r.peer else {
        ev.failed(
            "the TLS connection of the attestation document",
            &r.url,
            "no TLS chain was recorded for the connection that delivered it",
        );
        return;
    };
    let final_url = r
        .redirects
        .last()
        .map(|h| h.location.clone())
        .unwrap_or_else(|| r.url.clone());
    let mut members = Vec::new();
    for (i, c) in peer.chain.iter().enumerate() {
        let rel = format!("tls/document/chain-{i:02}.der");
        ev.add(
            &rel,
            c.clone(),
            Source {
                origin: final_url.clone(),
                http_status: Some(r.status),
                fetched_at: ctx.now(),
            },
        );
        members.push(format!("evidence/{rel}"));
    }
    ev.set_document_connection(crate::bundle::format::ConnectionRecord {
        url: final_url,
        leaf_sha256: peer
            .chain
            .first()
            .map(|l| crate::util::sha256_hex(l))
            .unwrap_or_default(),
        chain: members,
        verified: peer.verified,
    });
}

/// A collection sealed and audited in memory (`verify`).
pub struct Verified {
    /// The sealed bundle (zip bytes).
    pub bundle: Vec<u8>,
    pub report: crate::audit::Report,
    /// Fingerprint of the key that signed the bundle (pinned in the audit).
    pub signer: String,
}

/// Collects `opts.url`, seals the bundle with `key` (an ephemeral key when
/// `None`), and audits it under `opts.protocol` and `trust` with the signer
/// pinned to that key.
pub fn verify(
    opts: &CollectOptions,
    trust: &TrustSet,
    key: Option<&p384::ecdsa::SigningKey>,
) -> Result<Verified, CollectError> {
    let protocol = crate::protocol::Protocol::load(&opts.protocol)?;
    let collected = collect(opts, trust)?;
    let ephemeral;
    let key = match key {
        Some(k) => k,
        None => {
            ephemeral = crate::bundle::keys::generate();
            &ephemeral
        }
    };
    let bytes = collected.builder.seal(crate::util::now(), key)?;
    let bundle = crate::bundle::Bundle::from_bytes(&bytes, "verify.zip")?;
    let signer = crate::bundle::keys::fingerprint(key.verifying_key());
    let options = crate::audit::AuditOptions {
        signer_pin: Some(crate::audit::SignerPin::Fingerprint(signer.clone())),
        ..Default::default()
    };
    let report = crate::audit::audit(&bundle, &protocol, trust, &options, crate::util::now());
    Ok(Verified {
        bundle: bytes,
        report,
        signer,
    })
}

/// Why [`verify_url`] did not pass.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// Nothing to audit (see [`CollectError`]).
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// The audit ran and failed; the report says why.
    #[error("audit failed: {}", .0.verdict.failed_required.join(", "))]
    Failed(Box<crate::audit::Report>),
}

/// Mirrors the original verifier's `verify_url(url)`: collects `url` with the
/// default protocol, the production trust set and the production KDS, audits
/// the result, and returns the report when the verdict is PASS (an error
/// carrying the report otherwise).
pub fn verify_url(url: &str) -> Result<crate::audit::Report, VerifyError> {
    let v = verify(&CollectOptions::new(url), &TrustSet::production(), None)?;
    match v.report.verdict.status {
        crate::audit::Verdict::Pass => Ok(v.report),
        crate::audit::Verdict::Fail => Err(VerifyError::Failed(Box::new(v.report))),
    }
}

fn capture(ctx: &CollectCtx, label: &str) -> Result<Handshake, TlsError> {
    // The overall deadline bounds the capture too.
    let mut t = ctx.options.tls;
    if let Some(d) = ctx.http.config().deadline {
        let left = d.saturating_duration_since(Instant::now());
        t.total = t.total.min(left.max(Duration::from_millis(1)));
    }
    let h = tls::handshake(&ctx.target.host, ctx.target.port, ctx.trust, t);
    match &h {
        Ok(hs) => ctx
            .progress
            .done(label, Ok((hs.chain.iter().map(|c| c.len()).sum(), 1))),
        Err(e) => ctx.progress.done(label, Err(&e.to_string())),
    }
    h
}

fn capture_of(
    ctx: &CollectCtx,
    first: Handshake,
    second: Option<Result<Handshake, String>>,
) -> TlsCapture {
    TlsCapture {
        host: ctx.target.host.clone(),
        port: ctx.target.port,
        server_name: ctx.target.host.clone(),
        first,
        second,
        captured_at: ctx.now(),
        roots: format!("{} {}", ctx.trust.name, ctx.trust.version),
    }
}

/// Fetches the document with TLS verified against the trust set. If that
/// fails on TLS and the capture found the certificate unverifiable (a
/// self-signed test certificate), fetches it again without verification —
/// the document is self-authenticating and `tls.chain` judges the chain —
/// and records a warning saying so.
fn fetch_document(
    ctx: &CollectCtx,
    ev: &Evidence,
    url: &str,
    mut first: impl FnMut() -> Result<Handshake, TlsError>,
) -> Result<Response, CollectError> {
    let req = Request::get(url)
        .accept("application/json")
        .max_bytes(MAX_DOCUMENT_BYTES);
    match ctx.fetch("attestation document", &req) {
        Ok(r) => Ok(r),
        Err(HttpError::Tls { cause, .. }) => match first() {
            Ok(h) => match &h.verification {
                Err(reason) => {
                    ev.warn(format!(
                        "the TLS certificate of {} does not verify against trust set {} {} ({reason}); the attestation document was fetched without TLS verification (it is signed by the AMD chip; tls.chain judges the certificate)",
                        ctx.target.base, ctx.trust.name, ctx.trust.version
                    ));
                    ctx.fetch("attestation document", &req.clone().insecure_tls(true))
                        .map_err(CollectError::DocumentFetch)
                }
                Ok(()) => Err(CollectError::DocumentFetch(HttpError::Tls {
                    url: url.into(),
                    cause: format!("{cause} (although the capture handshake verified)"),
                })),
            },
            Err(e) => Err(CollectError::DocumentFetch(HttpError::Tls {
                url: url.into(),
                cause: format!("{cause}; capture: {e}"),
            })),
        },
        Err(e) => Err(CollectError::DocumentFetch(e)),
    }
}

/// Stores the TLS evidence: `tls/chain-NN.der` (first handshake, as
/// presented), `tls/handshake.json`, and `tls/second/chain-NN.der` when
/// the second handshake presented a different leaf.
fn store_tls(ctx: &CollectCtx, cap: &TlsCapture, ev: &Evidence) {
    let src = || Source {
        origin: ctx.target.tls_origin(),
        http_status: None,
        fetched_at: cap.captured_at,
    };
    let entries = |prefix: &str, chain: &[Vec<u8>]| -> Vec<ChainEntry> {
        chain
            .iter()
            .enumerate()
            .map(|(i, c)| ChainEntry {
                member: format!("evidence/tls/{prefix}chain-{i:02}.der"),
                sha256: crate::util::sha256_hex(c),
            })
            .collect()
    };
    for (i, c) in cap.first.chain.iter().enumerate() {
        ev.add(&format!("tls/chain-{i:02}.der"), c.clone(), src());
    }
    let second = match &cap.second {
        None => None,
        Some(Err(e)) => {
            ev.failed("second TLS handshake", &ctx.target.tls_origin(), e);
            Some(SecondHandshakeRecord {
                outcome: "failed".into(),
                leaf_sha256: None,
                chain: Vec::new(),
                error: Some(e.clone()),
            })
        }
        Some(Ok(h)) => {
            let same = h.leaf() == cap.first.leaf();
            let chain = if same {
                Vec::new()
            } else {
                ev.warn(format!(
                    "{} presented a different certificate on the second TLS handshake",
                    ctx.target.tls_origin()
                ));
                for (i, c) in h.chain.iter().enumerate() {
                    ev.add(&format!("tls/second/chain-{i:02}.der"), c.clone(), src());
                }
                entries("second/", &h.chain)
            };
            Some(SecondHandshakeRecord {
                outcome: if same { "same-leaf" } else { "different-leaf" }.into(),
                leaf_sha256: h.leaf().map(crate::util::sha256_hex),
                chain,
                error: None,
            })
        }
    };
    let rec = HandshakeRecord {
        schema: crate::evidence::tls::HANDSHAKE_SCHEMA.into(),
        host: cap.host.clone(),
        port: cap.port,
        server_name: cap.server_name.clone(),
        captured_at: crate::util::fmt_time(cap.captured_at),
        protocol_version: cap.first.protocol_version.clone(),
        cipher_suite: cap.first.cipher_suite.clone(),
        chain: entries("", &cap.first.chain),
        verification: Verification {
            trust_set: cap.roots.clone(),
            verified: cap.first.verification.is_ok(),
            error: cap.first.verification.clone().err(),
        },
        second_handshake: second,
    };
    let mut json = serde_json::to_vec_pretty(&rec).unwrap_or_default();
    json.push(b'\n');
    ev.add("tls/handshake.json", json, src());
}

/// `--firmware PATH|URL` → `evidence/firmware/<name>`.
fn firmware(ctx: &CollectCtx, spec: &str, ev: &Evidence) {
    let label = "firmware";
    let name = spec
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_string();
    if !valid_member_name(&name) {
        ev.failed(
            label,
            spec,
            format!("cannot derive a file name from {spec:?} (need [A-Za-z0-9._-]+)"),
        );
        return;
    }
    let path = format!("firmware/{name}");
    if spec.starts_with("https://") || spec.starts_with("http://") {
        let req = Request::get(spec).max_bytes(MAX_FIRMWARE_BYTES);
        match ctx.fetch(&format!("firmware {name}"), &req) {
            Ok(r) => ev.add_response(&path, &r, ctx.now()),
            Err(e) => ev.failed_http(label, &e),
        }
    } else {
        let read = std::fs::metadata(spec).and_then(|m| {
            if m.len() > MAX_FIRMWARE_BYTES {
                Err(std::io::Error::other(format!(
                    "larger than the {MAX_FIRMWARE_BYTES}-byte cap"
                )))
            } else {
                std::fs::read(spec)
            }
        });
        match read {
            Ok(b) => {
                ctx.progress
                    .done(&format!("firmware {name}"), Ok((b.len(), 1)));
                ev.add(&path, b, Source::file(ctx.now()));
            }
            Err(e) => {
                ctx.progress
                    .done(&format!("firmware {name}"), Err(&e.to_string()));
                ev.failed(label, spec, e)
            }
        }
    }
}

fn valid_member_name(n: &str) -> bool {
    !n.is_empty()
        && n != "."
        && n != ".."
        && n.len() <= 128
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parses_host_and_port() {
        let t = Target::parse("https://enclave.blyss.dev").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("enclave.blyss.dev", 443));
        assert_eq!(
            t.document_url(),
            "https://enclave.blyss.dev/.well-known/appspecific/dev.blyss.enclave/attestation.json"
        );
        let t = Target::parse("https://127.0.0.1:8443/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 8443));
        let t = Target::parse("https://[::1]:9").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
    }

    #[test]
    fn target_refuses_non_https_paths_and_userinfo() {
        for u in [
            "http://enclave.blyss.dev",
            "https://enclave.blyss.dev/x",
            "https://u@enclave.blyss.dev",
            "https://",
            "https://h:0",
            "https://h:99999",
            "enclave.blyss.dev",
        ] {
            assert!(Target::parse(u).is_err(), "{u}");
        }
    }

    #[test]
    fn firmware_names_are_restricted() {
        assert!(valid_member_name("OVMF_v0.0.1.fd"));
        assert!(!valid_member_name(".."));
        assert!(!valid_member_name("a b"));
        assert!(!valid_member_name(""));
    }

    #[test]
    fn evidence_records_failures_and_strict_makes_them_fatal() {
        let at = crate::util::now();
        let ev = Evidence::new("https://x", "v0.0.1", at);
        ev.add("attestation.json", b"{}".to_vec(), Source::file(at));
        ev.add("attestation.json", b"{}".to_vec(), Source::file(at));
        ev.failed("AMD CRL", "https://kds/crl", "HTTP 500");
        ev.warn("b");
        ev.warn("a");
        assert_eq!(ev.failures().len(), 2, "duplicate member is a failure");
        let c = ev.finish(false).unwrap();
        assert_eq!(c.failures, 2);
        assert!(c.warnings[0].starts_with("could not"));
        assert_eq!(&c.warnings[2..], &["a".to_string(), "b".to_string()]);
        let ev = Evidence::new("https://x", "v0.0.1", at);
        ev.failed("AMD CRL", "https://kds/crl", "HTTP 500");
        let e = ev.finish(true).err().unwrap().to_string();
        assert!(
            e.contains("https://kds/crl") && e.contains("HTTP 500"),
            "{e}"
        );
    }
}
