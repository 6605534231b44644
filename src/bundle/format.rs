//! The signed statement inside `envelope.dsse.json` (bundle format v1,
//! normative text in `protocol/bundle-format.md`).

use serde::{Deserialize, Serialize};

/// in-toto Statement v1 type URI.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Our predicate type, versioned.
pub const PREDICATE_TYPE: &str = "https://blyss-evidence.dev/collection/v1";
/// DSSE payload type for in-toto statements.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Name of the envelope member.
pub const ENVELOPE_PATH: &str = "envelope.dsse.json";
/// Name of the member holding the signer's public key (display only).
pub const SIGNER_PATH: &str = "signer.pem";
/// Prefix of every evidence member.
pub const EVIDENCE_PREFIX: &str = "evidence/";

/// in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Collection,
}

/// One evidence member and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    pub digest: SubjectDigest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectDigest {
    pub sha256: String,
}

/// What the collector recorded about the collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// The service the evidence was collected from (URL), or `file` for an
    /// offline import.
    pub target: String,
    /// Protocol id the collector was asked to collect for.
    pub protocol: String,
    pub tool: Tool,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
    /// One entry per evidence member, sorted by path.
    pub members: Vec<MemberRecord>,
    /// Resources that could not be collected, and other collection notes.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Provenance of one evidence member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRecord {
    pub path: String,
    /// URL it was fetched from, `tls://host:port` for a handshake capture, or
    /// `file` for an import.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// RFC 3339 UTC.
    pub fetched_at: String,
}
