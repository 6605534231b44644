//! Sigstore bundle v0.3 verification, offline (issue 17 item 2).
//!
//! A Tinfoil release is a Sigstore bundle: a GitHub Actions workflow signs a
//! DSSE in-toto statement with a short-lived Fulcio certificate, and the
//! signature is logged in Rekor. This module replays every check a Sigstore
//! client makes, without network, against a [`TrustedRoot`] taken from the
//! trust set — never from the bundle itself.

use thiserror::Error;

pub mod root;

pub use root::TrustedRoot;

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

/// The facts a verified (or partly verified) bundle states.
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

/// Verifies a Sigstore bundle (v0.3 media type; others refused with a clear
/// step error) offline. `bundle` is the bundle JSON value (as embedded in a
/// Tinfoil attestation bundle or read from a file). Never panics; bounded work.
pub fn verify_bundle(
    bundle: &serde_json::Value,
    root: &TrustedRoot,
    policy: &IdentityPolicy,
) -> BundleVerification {
    let _ = (bundle, root, policy);
    BundleVerification {
        steps: vec![Step {
            name: "bundle",
            outcome: Err("not implemented yet".into()),
        }],
        facts: None,
    }
}
