//! `collect https://<enclave> --protocol tinfoil`: a Tinfoil enclave's
//! evidence, fetched from where Tinfoil's own clients fetch it (facts from
//! tinfoilsh/tinfoil-js `verifier` and tinfoilsh/verifier; recorded in
//! `protocol/tinfoil-collect.md`):
//!
//! * `GET https://<enclave>/.well-known/tinfoil-attestation` → `{"format",
//!   "body": base64(gzip(SNP report))}` (fatal when missing or malformed:
//!   nothing to audit), stored as `tinfoil/enclave-attestation.json`;
//! * `GET https://<enclave>/.well-known/tinfoil-certificate` →
//!   `{"certificate": PEM}`, stored as `tinfoil/enclave-certificate.json`;
//! * the release the enclave is compared against, from GitHub's API:
//!   `GET {github-api}/repos/{repo}/releases/latest`, or
//!   `…/releases/tags/{tag}` with `--tinfoil-release TAG` (an enclave may run
//!   an older release than the latest), stored as `tinfoil/release.json`;
//!   the released digest is read from its body (`EIF hash: <64 hex>` or
//!   ``Digest: `<64 hex>` ``), else from the release asset
//!   `{github}/{repo}/releases/download/{tag}/tinfoil.hash` (GitHub
//!   redirects it https → https to its object store: followed under the
//!   redirect rule, hops recorded), stored as `tinfoil/tinfoil.hash`;
//! * the Sigstore bundle: `GET {github-api}/repos/{repo}/attestations/sha256:{digest}`
//!   → `{"attestations": [{"bundle": …}]}`, stored as
//!   `tinfoil/github-attestations.json`;
//! * AMD KDS chain, CRL and VCEK for the report (`kds::collect`), the TLS
//!   handshakes and CT as for any service.
//!
//! GitHub is asked directly, not through Tinfoil's proxies
//! (`api-github-proxy.tinfoil.sh`, `github-proxy.tinfoil.sh`,
//! `kds-proxy.tinfoil.sh`): the point is evidence that does not depend on
//! the service being audited. The answers are recorded as received; the
//! collector then ASSEMBLES `tinfoil/attestation-bundle.json`, the shape
//! Tinfoil's bundle service serves and the offline import stores (`domain`,
//! `enclaveAttestationReport`, `digest`, `sigstoreBundle`, `vcek`,
//! `enclaveCert`), from exactly those answers (a piece that could not be
//! fetched is `null`, so the audit fails closed on it). Every value in it
//! can be re-derived from the as-received members; the audit of the
//! assembled file is the same as that of an imported one.
//! `tinfoil/collect.json` records the repository, the release compared
//! against and why (latest at collection time, or the tag given), the
//! digest and where it was read.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::http::Request;
use super::{CollectCtx, CollectError, Evidence};
use crate::evidence::attestation::AttestationDocument;

/// Where an enclave serves its attestation (Tinfoil's clients' path).
pub const ATTESTATION_PATH: &str = "/.well-known/tinfoil-attestation";
/// Where an enclave serves its TLS certificate.
pub const CERTIFICATE_PATH: &str = "/.well-known/tinfoil-certificate";
/// GitHub's REST API.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
/// GitHub (release downloads).
pub const DEFAULT_GITHUB_URL: &str = "https://github.com";
/// The repository of Tinfoil's inference router (`inference.tinfoil.sh`).
pub const DEFAULT_REPO: &str = "tinfoilsh/confidential-model-router";
/// Member the audit reads (the offline import's `--tinfoil-bundle` too).
pub const BUNDLE_MEMBER: &str = "tinfoil/attestation-bundle.json";
/// Size cap of a GitHub API answer (release, attestations).
pub const MAX_GITHUB_BYTES: u64 = 4 * 1024 * 1024;
/// Size cap of the enclave's attestation and certificate documents.
pub const MAX_ENCLAVE_BYTES: u64 = 256 * 1024;
/// Cap of the gunzipped report (an SNP report is 1184 bytes).
const MAX_REPORT: u64 = 64 * 1024;

/// What `--protocol tinfoil` collects from besides the enclave.
#[derive(Debug, Clone)]
pub struct TinfoilOptions {
    /// `--tinfoil-repo OWNER/REPO`: the repository whose releases sign
    /// the enclave's measurement.
    pub repo: String,
    /// `--tinfoil-release TAG`; `None`: the latest release.
    pub release: Option<String>,
    /// `--github-api-url`.
    pub github_api_url: String,
    /// `--github-url`.
    pub github_url: String,
}

impl Default for TinfoilOptions {
    fn default() -> Self {
        TinfoilOptions {
            repo: DEFAULT_REPO.into(),
            release: None,
            github_api_url: DEFAULT_GITHUB_API_URL.into(),
            github_url: DEFAULT_GITHUB_URL.into(),
        }
    }
}

/// Whether a protocol id selects this collector.
pub fn is_tinfoil(protocol: &str) -> bool {
    protocol == "tinfoil" || protocol.starts_with("tinfoil-")
}

/// Whether `--protocol` (an id or a protocol file) selects this collector:
/// by the id given, or by the id inside the file it names.
pub fn selects(protocol: &str) -> bool {
    is_tinfoil(protocol)
        || crate::protocol::Protocol::load(protocol).is_ok_and(|p| is_tinfoil(&p.id))
}

/// `owner/repo` with GitHub's name characters only (it goes into URLs).
pub fn valid_repo(r: &str) -> bool {
    let mut parts = r.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.len() <= 100
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

/// A release tag usable in a URL path.
pub fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t != "."
        && t != ".."
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

/// Shared with the audit, which re-derives the digest from the stored
/// release answer (`tinfoil.collection`).
pub use crate::evidence::tinfoil::digest_in_release_body;

/// The 1184-byte report from the enclave's `{"format", "body"}` document.
pub fn report_of(doc: &Value) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let body = doc
        .get("body")
        .and_then(Value::as_str)
        .ok_or("field `body` is missing or not a string")?;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("field `body` is not base64: {e}"))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .take(MAX_REPORT + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("field `body` is not gzip: {e}"))?;
    if out.len() != crate::evidence::attestation::REPORT_LEN {
        return Err(format!(
            "field `body` holds {} bytes, expected a {}-byte SNP report",
            out.len(),
            crate::evidence::attestation::REPORT_LEN
        ));
    }
    Ok(out)
}

fn get_json(
    ctx: &CollectCtx,
    ev: &Evidence,
    label: &str,
    url: &str,
    cap: u64,
    member: &str,
) -> Option<Value> {
    let req = Request::get(url).accept("application/json").max_bytes(cap);
    match ctx.fetch(label, &req) {
        Ok(r) => match serde_json::from_slice::<Value>(&r.body) {
            Ok(v) => {
                ctx.check_media_type(label, &r, &["application/json"], ev);
                ev.add_response(member, &r, ctx.now());
                Some(v)
            }
            Err(e) => {
                ev.failed(label, url, format!("not JSON: {e}"));
                None
            }
        },
        Err(e) => {
            ev.failed_http(label, &e);
            None
        }
    }
}

/// The release (tag, digest, why, where the digest was read), stored as received.
fn release(ctx: &CollectCtx, ev: &Evidence, t: &TinfoilOptions) -> Option<ReleaseRec> {
    let api = t.github_api_url.trim_end_matches('/');
    let (url, why) = match &t.release {
        Some(tag) => (
            format!("{api}/repos/{}/releases/tags/{tag}", t.repo),
            format!("--tinfoil-release {tag} (given explicitly)"),
        ),
        None => (
            format!("{api}/repos/{}/releases/latest", t.repo),
            "the latest release of the repository at collection time (no --tinfoil-release)".into(),
        ),
    };
    let rel = get_json(
        ctx,
        ev,
        "Tinfoil release",
        &url,
        MAX_GITHUB_BYTES,
        "tinfoil/release.json",
    )?;
    let Some(tag) = rel
        .get("tag_name")
        .and_then(Value::as_str)
        .filter(|t| valid_tag(t))
    else {
        ev.failed(
            "Tinfoil release",
            &url,
            "no usable `tag_name` in the release",
        );
        return None;
    };
    if let Some(d) = rel
        .get("body")
        .and_then(Value::as_str)
        .and_then(digest_in_release_body)
    {
        return Some((tag.into(), d, why, format!("the body of release {tag}")));
    }
    let hash_url = format!(
        "{}/{}/releases/download/{tag}/tinfoil.hash",
        t.github_url.trim_end_matches('/'),
        t.repo
    );
    let req = Request::get(hash_url.clone()).max_bytes(1024);
    match ctx.fetch("Tinfoil tinfoil.hash", &req) {
        Ok(r) => {
            let text = String::from_utf8_lossy(&r.body).trim().to_ascii_lowercase();
            if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
                ev.add_response("tinfoil/tinfoil.hash", &r, ctx.now());
                Some((
                    tag.into(),
                    text,
                    why,
                    format!("the asset tinfoil.hash of release {tag}"),
                ))
            } else {
                ev.failed(
                    "Tinfoil tinfoil.hash",
                    &hash_url,
                    "not a 64-hex-digit digest",
                );
                None
            }
        }
        Err(e) => {
            ev.failed_http("Tinfoil tinfoil.hash", &e);
            None
        }
    }
}

/// Collects a Tinfoil enclave (see the module docs).
pub fn collect(
    opts: &super::CollectOptions,
    trust: &crate::trust::TrustSet,
) -> Result<super::Collected, CollectError> {
    let t = &opts.tinfoil;
    if !valid_repo(&t.repo) {
        return Err(CollectError::BadUrl {
            url: t.repo.clone(),
            reason: "--tinfoil-repo must be OWNER/REPO ([A-Za-z0-9._-])".into(),
        });
    }
    if let Some(tag) = &t.release {
        if !valid_tag(tag) {
            return Err(CollectError::BadUrl {
                url: tag.clone(),
                reason: "--tinfoil-release must be a tag name ([A-Za-z0-9._+-])".into(),
            });
        }
    }
    let target = super::Target::parse(&opts.url)?;
    let started = crate::util::now();
    let mut http_cfg = opts.http.clone();
    http_cfg.deadline = Some(std::time::Instant::now() + opts.deadline);
    http_cfg.allow_private_redirects_unsafe = opts.allow_private_redirects_unsafe;
    let ctx = CollectCtx {
        http: super::http::HttpClient::new(http_cfg, trust),
        options: opts,
        trust,
        target: target.clone(),
        progress: super::Progress::new(opts.progress),
        redirects: std::sync::Mutex::new(Vec::new()),
    };
    let ev = Evidence::new(&target.base, &opts.protocol, started);
    super::record_unsafe(opts, &ev);
    let handshake_failed = |cause: &str| super::TlsError::Handshake {
        host: target.host.clone(),
        port: target.port,
        cause: cause.into(),
    };
    let fatal: Result<(), CollectError> = std::thread::scope(|s| {
        let ctx = &ctx;
        let ev = &ev;
        // TLS handshake #1, then CT on the same thread (as for any service).
        let (tx, rx) = std::sync::mpsc::channel();
        let first_thread = s.spawn(move || {
            let h = super::capture(ctx, "TLS handshake");
            let _ = tx.send(h.clone());
            if let Ok(h) = &h {
                let cap = super::capture_of(ctx, h.clone(), None);
                super::ct::collect(ctx, &cap, ev);
            }
            h
        });
        let mut first = None;
        let doc_url = format!("{}{ATTESTATION_PATH}", target.base);
        let doc_resp = super::fetch_document(ctx, ev, &doc_url, || {
            if first.is_none() {
                first = Some(
                    rx.recv()
                        .unwrap_or_else(|_| Err(handshake_failed("capture thread ended"))),
                );
            }
            first.clone().expect("set above")
        })?;
        let doc_json: Value =
            serde_json::from_slice(&doc_resp.body).map_err(|e| CollectError::Document {
                url: doc_url.clone(),
                cause: format!("the Tinfoil attestation is not JSON: {e}"),
            })?;
        // A TDX enclave (or any other format) is stored as received and
        // reported by the audit as not supported; only an SNP report needs
        // (and gets) AMD KDS.
        let format = doc_json
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let snp = if format.contains("sev-snp") {
            let report = report_of(&doc_json).map_err(|e| CollectError::Document {
                url: doc_url.clone(),
                cause: format!("malformed Tinfoil attestation: {e}"),
            })?;
            Some(AttestationDocument::from_raw(&report, &[]).map_err(|e| {
                CollectError::Document {
                    url: doc_url.clone(),
                    cause: e.to_string(),
                }
            })?)
        } else if doc_json.get("body").and_then(Value::as_str).is_some() {
            ev.warn(format!(
                "the Tinfoil attestation of {} has format {:?}, not SEV-SNP: stored as received, no AMD KDS material fetched; the audit reports it as not supported",
                target.base,
                crate::util::visible(&format)
            ));
            None
        } else {
            return Err(CollectError::Document {
                url: doc_url.clone(),
                cause: "malformed Tinfoil attestation: no `format` and `body` strings".into(),
            });
        };
        ctx.check_media_type("Tinfoil attestation", &doc_resp, &["application/json"], ev);
        ev.add_response("tinfoil/enclave-attestation.json", &doc_resp, ctx.now());
        super::store_document_connection(ctx, &doc_resp, ev);
        if first.is_none() {
            let _ = rx.recv();
        }
        let t = &opts.tinfoil;
        let snp = &snp;
        let (second, cert, rel, vcek) = std::thread::scope(|s2| {
            let second = s2.spawn(move || super::capture(ctx, "TLS handshake #2"));
            let cert = s2.spawn(move || {
                let url = format!("{}{CERTIFICATE_PATH}", ctx.target.base);
                get_json(
                    ctx,
                    ev,
                    "Tinfoil enclave certificate",
                    &url,
                    MAX_ENCLAVE_BYTES,
                    "tinfoil/enclave-certificate.json",
                )
            });
            let rel = s2.spawn(move || {
                let r = release(ctx, ev, t)?;
                let url = format!(
                    "{}/repos/{}/attestations/sha256:{}",
                    t.github_api_url.trim_end_matches('/'),
                    t.repo,
                    r.1
                );
                let att = get_json(
                    ctx,
                    ev,
                    "Tinfoil Sigstore bundle",
                    &url,
                    MAX_GITHUB_BYTES,
                    "tinfoil/github-attestations.json",
                );
                let bundle = att
                    .as_ref()
                    .and_then(|a| a.pointer("/attestations/0/bundle").cloned());
                if att.is_some() && bundle.is_none() {
                    ev.failed(
                        "Tinfoil Sigstore bundle",
                        &url,
                        "no `attestations[0].bundle` in GitHub's answer",
                    );
                }
                Some((r, bundle))
            });
            let kds = s2.spawn(move || {
                snp.as_ref()
                    .and_then(|snp| super::kds::collect(ctx, snp, ev))
            });
            (
                second
                    .join()
                    .unwrap_or_else(|_| Err(handshake_failed("capture thread panicked"))),
                cert.join().ok().flatten(),
                rel.join().ok().flatten(),
                kds.join().ok().flatten(),
            )
        });
        let first = first_thread
            .join()
            .unwrap_or_else(|_| Err(handshake_failed("capture thread panicked")));
        match first {
            Ok(h) => {
                let cap = super::capture_of(ctx, h, Some(second.map_err(|e| e.to_string())));
                super::store_tls(ctx, &cap, ev);
            }
            Err(e) => ev.failed("TLS handshake", &target.tls_origin(), e),
        }
        assemble(ctx, ev, t, &doc_json, cert, rel, vcek);
        Ok(())
    });
    fatal?;
    super::seal(ctx, ev, opts.strict)
}

/// A release: (tag, digest, why it was chosen, where the digest was read).
type ReleaseRec = (String, String, String, String);

/// Writes `tinfoil/attestation-bundle.json` and `tinfoil/collect.json`.
fn assemble(
    ctx: &CollectCtx,
    ev: &Evidence,
    t: &TinfoilOptions,
    doc_json: &Value,
    cert: Option<Value>,
    rel: Option<(ReleaseRec, Option<Value>)>,
    vcek: Option<Vec<u8>>,
) {
    let pem = cert
        .as_ref()
        .and_then(|c| c.get("certificate"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if cert.is_some() && pem.is_none() {
        ev.failed(
            "Tinfoil enclave certificate",
            &format!("{}{CERTIFICATE_PATH}", ctx.target.base),
            "no `certificate` string in the answer",
        );
    }
    let (release_rec, bundle) = match rel {
        Some((r, b)) => (Some(r), b),
        None => (None, None),
    };
    // Key order as Tinfoil's bundle service writes it.
    let mut assembled = Map::new();
    assembled.insert("domain".into(), json!(ctx.target.host));
    assembled.insert(
        "enclaveAttestationReport".into(),
        json!({
            "format": doc_json.get("format").cloned().unwrap_or(Value::Null),
            "body": doc_json.get("body").cloned().unwrap_or(Value::Null),
        }),
    );
    assembled.insert(
        "digest".into(),
        release_rec
            .as_ref()
            .map(|r| json!(r.1))
            .unwrap_or(Value::Null),
    );
    assembled.insert("sigstoreBundle".into(), bundle.unwrap_or(Value::Null));
    assembled.insert(
        "vcek".into(),
        vcek.map(|v| json!(base64::engine::general_purpose::STANDARD.encode(v)))
            .unwrap_or(Value::Null),
    );
    assembled.insert(
        "enclaveCert".into(),
        pem.map(Value::from).unwrap_or(Value::Null),
    );
    let at = ctx.now();
    let src = |origin: &str| crate::bundle::Source {
        origin: origin.into(),
        http_status: None,
        fetched_at: at,
    };
    let mut b = serde_json::to_vec_pretty(&Value::Object(assembled)).unwrap_or_default();
    b.push(b'\n');
    ev.add(
        BUNDLE_MEMBER,
        b,
        src("assembled by the collector from the tinfoil/ and amd/ members"),
    );
    let field = |i: usize| {
        release_rec
            .as_ref()
            .map(|r| json!([&r.0, &r.1, &r.2, &r.3][i]))
            .unwrap_or(Value::Null)
    };
    let rec = json!({
        "schema": "blyss-evidence.tinfoil-collect/v1",
        "enclave": ctx.target.base,
        "repository": t.repo,
        "release": field(0),
        "digest": field(1),
        "why": field(2),
        "digest_from": field(3),
        "github_api": t.github_api_url,
    });
    let mut b = serde_json::to_vec_pretty(&rec).unwrap_or_default();
    b.push(b'\n');
    ev.add("tinfoil/collect.json", b, src("the collector"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_read_from_either_release_body_form() {
        let d = "5ed9d5c942528ec2eeb759919827f1bc2183c6810f80225a52147dd4020c12a0";
        assert_eq!(
            digest_in_release_body(&format!("Release\nDigest: `{d}`\n")).as_deref(),
            Some(d)
        );
        assert_eq!(
            digest_in_release_body(&format!("EIF hash: {}", d.to_uppercase())).as_deref(),
            Some(d)
        );
        assert_eq!(digest_in_release_body("Digest: `abc`"), None);
        assert_eq!(digest_in_release_body(&format!("Digest: `{d}x`")), None);
    }

    #[test]
    fn repo_and_tag_cannot_steer_the_url() {
        assert!(valid_repo("tinfoilsh/confidential-model-router"));
        for r in ["a", "a/b/c", "../b", "a/..", "a b/c", "a/b?x", ""] {
            assert!(!valid_repo(r), "{r}");
        }
        assert!(valid_tag("v0.0.38"));
        for t in ["", "..", "v1/x", "v1?x", "v 1"] {
            assert!(!valid_tag(t), "{t}");
        }
    }

    #[test]
    fn report_is_read_from_the_real_bundle_and_garbage_is_refused() {
        let b: Value = serde_json::from_slice(include_bytes!(
            "../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json"
        ))
        .unwrap();
        let r = report_of(&b["enclaveAttestationReport"]).unwrap();
        assert_eq!(r.len(), 1184);
        assert!(report_of(&json!({"body": "%%%"})).is_err());
        assert!(report_of(&json!({})).is_err());
        let small = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&[0u8; 100]).unwrap();
            base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap())
        };
        assert!(report_of(&json!({ "body": small }))
            .unwrap_err()
            .contains("expected a 1184-byte"));
    }
}
