//! Sigstore bundle v0.3 verification, offline (issue 17 item 2).
//!
//! A Tinfoil release is a Sigstore bundle: a GitHub Actions workflow signs a
//! DSSE in-toto statement with a short-lived Fulcio certificate, and the
//! signature is logged in Rekor. This module replays every check a Sigstore
//! client makes, without network, against a [`TrustedRoot`] taken from the
//! trust set — never from the bundle itself.
//!
//! Built on our CT code (`ct::merkle` over `ct-merkle`, `ct::sct`,
//! `ct::precert`, the signed-note parser in `ct::checkpoint`, which gained
//! Rekor's ECDSA key-hint signatures and C2SP Ed25519 ones) rather than the
//! `sigstore` crate: its `verify` feature pulls `reqwest`/`hyper`/`tokio`
//! into the build (the dependency gate forbids a network stack in the audit
//! build) and a second RustCrypto generation (`p256` 0.14, `x509-cert` 0.3,
//! `digest` 0.11). Steps, bounds, times and what is deliberately not
//! required (the Rekor body's `envelopeHash`): `protocol/sigstore.md`.

use serde_json::Value;
use thiserror::Error;
use time::OffsetDateTime;

pub mod bundle;
pub mod cert;
pub mod rekor;
pub mod root;
#[cfg(feature = "test-platform")]
pub mod testing;

pub use root::TrustedRoot;

/// Standard base64 with padding, the encoding of protobuf-JSON `bytes`.
pub(crate) fn b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s)
}

pub(crate) fn b64e(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Why a Sigstore trusted root (or a bundle part) could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SigstoreError {
    /// Malformed JSON or a field of the wrong shape.
    #[error("{what}: {reason}")]
    Json { what: String, reason: String },
    /// A key or certificate in the trusted root is malformed or unsupported.
    #[error("{what}: {reason}")]
    Key { what: String, reason: String },
}

/// What the release must be (from the protocol file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPolicy {
    /// OIDC issuer of the Fulcio certificate, e.g. `https://token.actions.githubusercontent.com`.
    pub oidc_issuer: String,
    /// GitHub repository `owner/name`, e.g. `tinfoilsh/confidential-model-router`.
    pub repository: String,
    /// Workflow file inside the repository, e.g. `.github/workflows/build.yml`.
    pub workflow_path: String,
    /// Glob on the git ref (`*` matches any run of characters), e.g. `refs/tags/v*`.
    pub ref_pattern: String,
}

/// One verification step with a stable name (`dsse-signature`,
/// `fulcio-chain`, `fulcio-sct`, `identity`, `rekor-body`,
/// `rekor-inclusion`, `rekor-checkpoint`, `rekor-set`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable step name.
    pub name: &'static str,
    /// `Ok(what was established)` or `Err(why not)`.
    pub outcome: Result<String, String>,
}

/// The facts a verified (or partly verified) bundle states. Strings come
/// from the evidence as found: make them visible (`util::visible`) before
/// printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    /// The Fulcio leaf's SAN URI (the workflow identity).
    pub san_uri: String,
    /// The OIDC issuer named by the Fulcio leaf.
    pub issuer: String,
    /// `owner/name` parsed from the SAN URI.
    pub repository: String,
    /// Workflow path parsed from the SAN URI.
    pub workflow_path: String,
    /// Git ref parsed from the SAN URI (`refs/tags/v0.0.38`).
    pub git_ref: String,
    /// The DSSE payload type.
    pub payload_type: String,
    /// The DSSE payload (in-toto statement) bytes.
    pub payload: Vec<u8>,
    /// Global Rekor log index, signed by the SET (Rekor v1 only).
    pub rekor_log_index: Option<u64>,
    /// Index of the entry in its log shard (inclusion proof index).
    pub rekor_shard_index: u64,
    /// Tree size of the checkpoint the inclusion proof leads to.
    pub tree_size: u64,
    /// Rekor integrated time (seconds since the epoch; Rekor v1 only).
    pub integrated_time: Option<i64>,
    /// Rekor log id (hex).
    pub log_id_hex: String,
    /// The checkpoint's origin line.
    pub checkpoint_origin: String,
}

/// Result of [`verify_bundle`]: every step, and the facts when the bundle
/// could be parsed far enough to state them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleVerification {
    /// Every step, in a fixed order.
    pub steps: Vec<Step>,
    /// The facts (present when the bundle parsed; a failing step still means
    /// they are not established).
    pub facts: Option<ReleaseFacts>,
}

impl BundleVerification {
    /// True when there is at least one step and every step is `Ok`.
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.outcome.is_ok())
    }

    /// The step with this name, if it ran.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// The Sigstore trusted root of a trust set, parsed strictly. Errors when
/// the set has none or it does not parse (every step needing it then fails).
pub fn trusted_root_of(t: &crate::trust::TrustSet) -> Result<TrustedRoot, String> {
    let bytes = t
        .sigstore_trusted_root
        .as_ref()
        .ok_or("the trust set has no Sigstore trusted root")?;
    TrustedRoot::from_json(bytes).map_err(|e| e.to_string())
}

/// The step names, in the order they are reported.
pub const STEPS: &[&str] = &[
    "bundle",
    "dsse-signature",
    "fulcio-chain",
    "fulcio-sct",
    "identity",
    "rekor-body",
    "rekor-inclusion",
    "rekor-checkpoint",
    "rekor-set",
];

/// DSSE pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Matches `s` against a glob where `*` stands for any run of characters
/// (including `/`) and every other character for itself. Greedy
/// backtracking over one star at a time: O(len(s) · len(pattern)).
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p = pattern.as_bytes();
    let t = s.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// `(repository, workflow path, git ref)` from a GitHub Actions SAN URI
/// `https://github.com/{owner}/{repo}/{workflow path}@{ref}`.
pub fn split_github_san(san: &str) -> Option<(String, String, String)> {
    let rest = san.strip_prefix("https://github.com/")?;
    let (path, git_ref) = rest.split_once('@')?;
    let mut parts = path.splitn(3, '/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let repo = parts.next().filter(|s| !s.is_empty())?;
    let workflow = parts.next().filter(|s| !s.is_empty())?;
    Some((
        format!("{owner}/{repo}"),
        workflow.to_string(),
        git_ref.to_string(),
    ))
}

/// Largest policy string / ref considered by the identity step.
const MAX_IDENTITY_LEN: usize = 1024;

fn step(name: &'static str, outcome: Result<String, String>) -> Step {
    Step { name, outcome }
}

/// Like [`verify_bundle`], from the serialized bundle (capped at
/// [`bundle::MAX_BUNDLE_BYTES`] before parsing).
pub fn verify_bundle_bytes(
    bytes: &[u8],
    root: &TrustedRoot,
    policy: &IdentityPolicy,
) -> BundleVerification {
    let fail = |why: String| BundleVerification {
        steps: vec![step("bundle", Err(why))],
        facts: None,
    };
    if bytes.len() > bundle::MAX_BUNDLE_BYTES {
        return fail(format!(
            "bundle of {} bytes (limit {})",
            bytes.len(),
            bundle::MAX_BUNDLE_BYTES
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => verify_bundle(&v, root, policy),
        Err(e) => fail(format!("bundle is not JSON: {e}")),
    }
}

/// Verifies a Sigstore bundle (v0.3 media type; others refused with a clear
/// step error) offline. `bundle` is the bundle JSON value (as embedded in a
/// Tinfoil attestation bundle or read from a file). Never panics; bounded work.
///
/// Every step runs even when an earlier one failed (a step whose input is
/// missing fails saying so), so a report shows everything that is wrong.
pub fn verify_bundle(
    bundle: &Value,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
) -> BundleVerification {
    let parsed = match bundle::parse(bundle) {
        Ok(p) => p,
        Err(e) => {
            return BundleVerification {
                steps: vec![step("bundle", Err(e))],
                facts: None,
            }
        }
    };
    let mut steps = Vec::new();
    let e = &parsed.entry;
    let log = root.tlog(&e.log_id);
    let v2 = log.is_some_and(|l| l.key_type == root::LogKeyType::Ed25519);
    steps.push(step(
        "bundle",
        Ok(format!(
            "Sigstore bundle v0.3: one Fulcio certificate, one DSSE envelope ({}), one {} entry {} {} (log id {}){}",
            crate::util::visible(&parsed.payload_type),
            if v2 { "Rekor v2" } else { "Rekor" },
            crate::util::visible(&e.kind),
            crate::util::visible(&e.version),
            hex::encode(&e.log_id),
            if parsed.has_rfc3161 {
                "; its RFC 3161 timestamps are not used"
            } else {
                ""
            }
        )),
    ));

    let leaf = cert::parse(&parsed.cert_der).map_err(|e| format!("Fulcio certificate: {e}"));
    let leaf_spki = leaf.as_ref().map_err(Clone::clone).and_then(cert::spki);

    // dsse-signature
    let pae_bytes = pae(&parsed.payload_type, &parsed.payload);
    steps.push(step(
        "dsse-signature",
        leaf_spki.clone().and_then(|k| {
            cert::verify_ecdsa(&k, &parsed.signature, &pae_bytes)
                .map(|()| {
                    format!(
                        "the Fulcio leaf's key signed PAE({}, {} payload bytes, sha256 {})",
                        crate::util::visible(&parsed.payload_type),
                        parsed.payload.len(),
                        crate::util::sha256_hex(&parsed.payload)
                    )
                })
                .map_err(|e| format!("DSSE signature by the Fulcio leaf: {e}"))
        }),
    ));

    // The SCTs (needed for the chain time of a Rekor v2 entry).
    let sct = leaf
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|_| rekor::verify_sct(&parsed.cert_der, root));

    // The time the chain is judged at: Rekor v1's integrated time (signed
    // by the SET); for Rekor v2 (no integrated time) the earliest verified
    // SCT time, signed by a CT log of the trusted root.
    let chain_time: Result<OffsetDateTime, String> = match (e.integrated_time, v2) {
        (Some(t), false) => OffsetDateTime::from_unix_timestamp(t)
            .map_err(|_| format!("integrated time {t} is out of range")),
        (None, false) => Err("the Rekor v1 entry has no integrated time".into()),
        (Some(_), true) => Err("a Rekor v2 entry must not carry an integrated time".into()),
        (None, true) => sct
            .as_ref()
            .map(|s| s.time)
            .map_err(|e| format!("no SCT time to judge the chain at: {e}")),
    };

    // fulcio-chain
    let chain = match (&leaf, &chain_time) {
        (Ok(c), Ok(t)) => cert::verify_chain(&parsed.cert_der, c, root, *t),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    steps.push(step(
        "fulcio-chain",
        chain.as_ref().map(|(_, s)| s.clone()).map_err(Clone::clone),
    ));
    steps.push(step(
        "fulcio-sct",
        sct.as_ref().map(|s| s.detail.clone()).map_err(Clone::clone),
    ));

    // identity
    let issuer = leaf
        .as_ref()
        .map_err(Clone::clone)
        .and_then(cert::oidc_issuer);
    let san = leaf.as_ref().map_err(Clone::clone).and_then(cert::san_uri);
    steps.push(step("identity", judge_identity(&issuer, &san, policy)));

    // rekor-body
    let body = rekor::judge_body(&parsed, leaf.is_ok());
    steps.push(step("rekor-body", body));

    // rekor-inclusion
    let p = &e.proof;
    steps.push(step(
        "rekor-inclusion",
        crate::evidence::ct::merkle::verify_inclusion(&e.body, p.index, p.tree_size, &p.hashes, &p.root)
            .map(|()| {
                format!(
                    "leaf sha256(0x00 ‖ body) = {} at index {} leads with {} hashes to root {} of tree size {}",
                    hex::encode(crate::evidence::ct::precert::leaf_hash(&e.body)),
                    p.index,
                    p.hashes.len(),
                    hex::encode(p.root),
                    p.tree_size
                )
            })
            .map_err(|err| format!("inclusion proof: {err}")),
    ));

    // rekor-checkpoint
    let cp = rekor::judge_checkpoint(&parsed, log, chain_time.as_ref().ok().copied());
    let origin = cp.origin.clone();
    steps.push(step("rekor-checkpoint", cp.outcome));

    // rekor-set (Rekor v1 only)
    if !v2 {
        steps.push(step("rekor-set", rekor::judge_set(&parsed, log)));
    } else if e.set.is_some() {
        steps.push(step(
            "rekor-set",
            Err("a Rekor v2 entry carries a SignedEntryTimestamp (v2 logs issue none)".into()),
        ));
    }

    let (repository, workflow_path, git_ref) = san
        .as_ref()
        .ok()
        .and_then(|s| split_github_san(s))
        .unwrap_or_default();
    let facts = ReleaseFacts {
        san_uri: san.clone().unwrap_or_default(),
        issuer: issuer.clone().unwrap_or_default(),
        repository,
        workflow_path,
        git_ref,
        payload_type: parsed.payload_type.clone(),
        payload: parsed.payload.clone(),
        rekor_log_index: if v2 { None } else { Some(e.log_index) },
        rekor_shard_index: p.index,
        tree_size: p.tree_size,
        integrated_time: e.integrated_time,
        log_id_hex: hex::encode(&e.log_id),
        checkpoint_origin: origin,
    };
    BundleVerification {
        steps,
        facts: Some(facts),
    }
}

fn judge_identity(
    issuer: &Result<String, String>,
    san: &Result<String, String>,
    policy: &IdentityPolicy,
) -> Result<String, String> {
    let issuer = issuer.as_ref().map_err(Clone::clone)?;
    let san = san.as_ref().map_err(Clone::clone)?;
    let vis = crate::util::visible;
    let mut problems = Vec::new();
    if *issuer != policy.oidc_issuer {
        problems.push(format!(
            "OIDC issuer {:?} is not {:?}",
            vis(issuer),
            vis(&policy.oidc_issuer)
        ));
    }
    match split_github_san(san) {
        None => problems.push(format!(
            "SAN URI {:?} is not a GitHub workflow identity https://github.com/OWNER/REPO/PATH@REF",
            vis(san)
        )),
        Some((repo, wf, git_ref)) => {
            if repo != policy.repository {
                problems.push(format!(
                    "repository {:?} is not {:?}",
                    vis(&repo),
                    vis(&policy.repository)
                ));
            }
            if wf != policy.workflow_path {
                problems.push(format!(
                    "workflow {:?} is not {:?}",
                    vis(&wf),
                    vis(&policy.workflow_path)
                ));
            }
            if git_ref.len() > MAX_IDENTITY_LEN
                || policy.ref_pattern.len() > MAX_IDENTITY_LEN
                || !glob_match(&policy.ref_pattern, &git_ref)
            {
                problems.push(format!(
                    "git ref {:?} does not match {:?}",
                    vis(&git_ref),
                    vis(&policy.ref_pattern)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "issuer {} and SAN URI {} match {}/{} at {}",
            vis(issuer),
            vis(san),
            vis(&policy.repository),
            vis(&policy.workflow_path),
            vis(&policy.ref_pattern)
        ))
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!(
        "../../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json"
    );
    const ROOT: &[u8] = include_bytes!(
        "../../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/sigstore_trusted_root.json"
    );

    fn policy() -> IdentityPolicy {
        IdentityPolicy {
            oidc_issuer: "https://token.actions.githubusercontent.com".into(),
            repository: "tinfoilsh/confidential-model-router".into(),
            workflow_path: ".github/workflows/build.yml".into(),
            ref_pattern: "refs/tags/v*".into(),
        }
    }

    #[test]
    fn real_tinfoil_bundle_passes_every_step() {
        let v: Value = serde_json::from_slice(FIXTURE).unwrap();
        let root = TrustedRoot::from_json(ROOT).unwrap();
        let r = verify_bundle(&v["sigstoreBundle"], &root, &policy());
        for s in &r.steps {
            eprintln!("{} {:?}", s.name, s.outcome);
        }
        assert!(r.passed());
        let names: Vec<&str> = r.steps.iter().map(|s| s.name).collect();
        assert_eq!(names, STEPS);
    }

    #[test]
    fn glob_matches_stars_and_literals_only() {
        assert!(glob_match("refs/tags/v*", "refs/tags/v0.0.38"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("refs/tags/v*", "refs/heads/main"));
        assert!(!glob_match("refs/tags/v?", "refs/tags/v1"));
        assert!(!glob_match("a*b", "a"));
    }

    #[test]
    fn pae_is_the_dsse_v1_encoding() {
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab".to_vec());
    }
}
