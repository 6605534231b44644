//! Checks of the `tls` family: `tls.binding` and `tls.chain` (issue 5).
//!
//! Evidence (written by `collect`, layout in `protocol/bundle-format.md`):
//! `evidence/tls/chain-NN.der` (the chain as presented, leaf first) and
//! `evidence/tls/handshake.json` ([`HandshakeRecord`]).

use serde::{Deserialize, Serialize};

use super::{CheckResult, Context};

/// Schema id of `evidence/tls/handshake.json`.
pub const HANDSHAKE_SCHEMA: &str = "blyss-evidence.tls-handshake/v1";

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

pub fn run(_ctx: &Context) -> Vec<CheckResult> {
    Vec::new()
}

/// Validates this family's protocol section (`sections.tls`); called when
/// a protocol file is loaded. Replace with a typed `deny_unknown_fields` parse.
pub fn validate_section(v: &serde_json::Value) -> Result<(), String> {
    match v.as_object() {
        Some(o) if o.is_empty() => Ok(()),
        _ => Err("section not supported yet".into()),
    }
}
