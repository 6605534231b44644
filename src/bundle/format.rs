//! The signed statement inside `envelope.dsse.json` (normative text in
//! `protocol/bundle-format.md`, §Statement).
//!
//! Two predicate versions exist. `collection/v1` is what collectors before
//! the redirect/handshake/observation-time fields wrote (the committed
//! fixture bundles of older releases); `collection/v2` adds, once for all,
//! the redirect hops that were followed, the document's own TLS connection
//! and a declared observation time. One struct reads both: the v2 fields are
//! optional, and [`Statement::version_problem`] refuses a v1 statement that
//! carries any of them (a v1 reader would have ignored nothing: v1 had
//! `deny_unknown_fields`, so a v1 statement with v2 fields is a forgery or a
//! bug, never a valid v1 statement).

use serde::{Deserialize, Serialize};

/// in-toto Statement v1 type URI.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Our predicate type, versioned: what `collect` writes today.
pub const PREDICATE_TYPE: &str = "https://blyss-evidence.dev/collection/v2";
/// The previous predicate type, still audited (no redirect, document
/// connection or declared-time fields).
pub const PREDICATE_TYPE_V1: &str = "https://blyss-evidence.dev/collection/v1";
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
    /// v2: when the evidence was observed according to whoever imported it
    /// (`collect --observed-at`, RFC 3339 UTC). DECLARED, not witnessed: the
    /// collector only records the claim. The audit judges validity periods
    /// at this time by default and says the time was declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_observed_at: Option<String>,
    /// v2: every HTTP redirect the collector followed, in the order the
    /// requests were made (sorted by the requested URL for determinism).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<RedirectChain>,
    /// v2: the TLS connection that actually delivered the attestation
    /// document (its chain is stored under `evidence/tls/document/`);
    /// `tls.binding` judges it alongside the capture handshakes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_connection: Option<ConnectionRecord>,
    /// v2: relaxations of the collector's safety rules that were in force
    /// (e.g. `allow-private-redirects-unsafe`); the report shows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsafe_options: Vec<String>,
}

/// The redirects followed for one request, hop by hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectChain {
    /// The URL first requested.
    pub requested: String,
    /// Each redirect response: the URL that answered, its status and the
    /// `Location` it pointed to (resolved against that URL).
    pub hops: Vec<RedirectHop>,
}

/// One redirect response.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectHop {
    pub url: String,
    pub status: u16,
    pub location: String,
}

/// The TLS connection that delivered a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionRecord {
    /// The URL whose response came over this connection (after redirects).
    pub url: String,
    /// sha256 of the presented leaf certificate (DER), lower-case hex.
    pub leaf_sha256: String,
    /// Members holding the presented chain, leaf first.
    pub chain: Vec<String>,
    /// Whether the connection verified against the collector's trust set
    /// (false: fetched without verification, see `predicate.warnings`).
    pub verified: bool,
}

impl Statement {
    /// Predicate version (1 or 2) for a known predicate type.
    pub fn version(&self) -> Option<u8> {
        match self.predicate_type.as_str() {
            PREDICATE_TYPE_V1 => Some(1),
            PREDICATE_TYPE => Some(2),
            _ => None,
        }
    }

    /// Why this statement is not a valid statement of its declared version
    /// (`None` when it is): an unknown predicate type, or v2 fields in a v1
    /// statement.
    pub fn version_problem(&self) -> Option<String> {
        match self.version() {
            None => Some(format!("unknown predicate type {:?}", self.predicate_type)),
            Some(1) => {
                let p = &self.predicate;
                let mut extra = Vec::new();
                if p.declared_observed_at.is_some() {
                    extra.push("declared_observed_at");
                }
                if !p.redirects.is_empty() {
                    extra.push("redirects");
                }
                if p.document_connection.is_some() {
                    extra.push("document_connection");
                }
                if !p.unsafe_options.is_empty() {
                    extra.push("unsafe_options");
                }
                (!extra.is_empty()).then(|| {
                    format!(
                        "a {PREDICATE_TYPE_V1} statement carries fields of v2: {}",
                        extra.join(", ")
                    )
                })
            }
            Some(_) => None,
        }
    }
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
