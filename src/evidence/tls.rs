//! `evidence/tls/handshake.json`: the record of the TLS handshake(s) the
//! collector made with the service, beside the presented chain
//! (`evidence/tls/chain-NN.der`, leaf first; `evidence/tls/second/` when a
//! second handshake presented another leaf).
//!
//! Why here and not in `checks`: `collect` writes this record and
//! `checks::tls` reads it; it is part of the bundle format
//! (`protocol/bundle-format.md`), like every other evidence type, so both
//! depend on `evidence` rather than `collect` on `checks`. Parsing stays
//! strict (`deny_unknown_fields`); what the record is worth is judged by
//! `checks::tls`, never trusted from the bundle.

use serde::{Deserialize, Serialize};

/// Schema id of `evidence/tls/handshake.json`.
pub const HANDSHAKE_SCHEMA: &str = "blyss-evidence.tls-handshake/v1";
/// Largest `evidence/tls/handshake.json` read (a real one is under 2 KiB):
/// checked before `serde_json` builds anything, so a record of millions of
/// tiny strings cannot cost memory far beyond its size.
pub const MAX_HANDSHAKE_BYTES: usize = 256 * 1024;

/// `evidence/tls/handshake.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeRecord {
    pub schema: String,
    pub host: String,
    pub port: u16,
    /// Name sent in SNI and checked against the certificate.
    pub server_name: String,
    pub captured_at: String,
    pub protocol_version: String,
    pub cipher_suite: String,
    /// The presented chain, in order (members and their sha256).
    pub chain: Vec<ChainEntry>,
    /// Verification at collection time (informational; the audit re-verifies).
    pub verification: Verification,
    /// A second handshake made after the document was fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_handshake: Option<SecondHandshakeRecord>,
}

/// One presented certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainEntry {
    pub member: String,
    pub sha256: String,
}

/// Verification outcome recorded by the collector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// `name version` of the collector's trust set.
    pub trust_set: String,
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The second handshake: `same-leaf`, `different-leaf` (chain stored under
/// `evidence/tls/second/`) or `failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondHandshakeRecord {
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
