//! Protocol files: what a given service version must look like, and which
//! checks count towards the verdict. The tool embeds the known protocols
//! (`protocol/*.json`); `--protocol FILE` loads another.
//!
//! A protocol file has a small fixed head and one section per check family
//! (`sections.snp`, `sections.measurement`, …). Each family parses and
//! validates its own section with a typed, `deny_unknown_fields` struct, so a
//! typo in a protocol file is an error at load time, not a silent default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Schema id every protocol file must carry.
pub const SCHEMA: &str = "blyss-evidence.protocol/v1";

/// Protocols embedded in the binary, by id.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("v0.0.1", include_str!("../../protocol/blyss-v0.0.1.json")),
    (
        "v0.0.1-test",
        include_str!("../../protocol/blyss-v0.0.1-test.json"),
    ),
    ("v0.0.2", include_str!("../../protocol/blyss-v0.0.2.json")),
    ("snp-only", include_str!("../../protocol/snp-only.json")),
];

/// The protocol `collect` and `audit` use when none is given.
pub const DEFAULT_ID: &str = "v0.0.1";

#[derive(Debug, Error)]
pub enum ProtocolError {
    #[error("unknown protocol id {0:?} (embedded: {known})", known = EMBEDDED.iter().map(|e| e.0).collect::<Vec<_>>().join(", "))]
    UnknownId(String),
    #[error("cannot read protocol file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("protocol {name}: {reason}")]
    Invalid { name: String, reason: String },
}

/// Head of a protocol file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolFile {
    schema: String,
    id: String,
    title: String,
    /// Where the rules come from (upstream file, commit).
    source: String,
    /// Check ids (or `family.*`) whose failure fails the audit.
    required_checks: Vec<String>,
    /// Family sections, validated by the families.
    #[serde(default)]
    sections: BTreeMap<String, Value>,
    /// The upstream protocol file, verbatim, for traceability.
    #[serde(default)]
    upstream: Option<Value>,
}

/// A loaded, validated protocol.
#[derive(Debug, Clone)]
pub struct Protocol {
    pub id: String,
    pub title: String,
    pub source: String,
    /// `embedded` or the file path given.
    pub origin: String,
    /// sha256 of the protocol file bytes.
    pub digest: String,
    required: Vec<String>,
    sections: BTreeMap<String, Value>,
    pub upstream: Option<Value>,
}

/// Section validators, one per family that has a section. A family adds
/// its line here; unknown section names are rejected.
type Validator = fn(&Value) -> Result<(), String>;
fn validators() -> Vec<(&'static str, Validator)> {
    vec![
        ("snp", crate::checks::snp::validate_section),
        ("cmdline", crate::checks::cmdline::validate_section),
        ("measurement", crate::checks::measurement::validate_section),
        ("tls", crate::checks::tls::validate_section),
        ("ct", crate::checks::ct::validate_section),
        ("images", crate::checks::images::validate_section),
        ("gpu", crate::checks::gpu::validate_section),
    ]
}

impl Protocol {
    /// Loads `id_or_path`: an embedded id, or a path to a JSON file.
    pub fn load(id_or_path: &str) -> Result<Protocol, ProtocolError> {
        if let Some((_, text)) = EMBEDDED.iter().find(|(id, _)| *id == id_or_path) {
            return Self::parse(text.as_bytes(), "embedded");
        }
        let p = std::path::Path::new(id_or_path);
        if p.exists() || id_or_path.ends_with(".json") {
            let bytes = std::fs::read(p).map_err(|e| ProtocolError::Io {
                path: id_or_path.into(),
                source: e,
            })?;
            return Self::parse(&bytes, id_or_path);
        }
        Err(ProtocolError::UnknownId(id_or_path.into()))
    }

    /// Parses and validates protocol bytes.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Protocol, ProtocolError> {
        let inv = |r: String| ProtocolError::Invalid {
            name: origin.into(),
            reason: r,
        };
        let f: ProtocolFile = serde_json::from_slice(bytes).map_err(|e| inv(e.to_string()))?;
        if f.schema != SCHEMA {
            return Err(inv(format!("schema {:?}, expected {SCHEMA:?}", f.schema)));
        }
        let vals = validators();
        for (name, v) in &f.sections {
            let (_, check) = vals
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| inv(format!("unknown section {name:?}")))?;
            check(v).map_err(|e| inv(format!("section {name}: {e}")))?;
        }
        for r in &f.required_checks {
            let ok = r.split('.').count() == 2
                && r.split('.').all(|p| {
                    !p.is_empty()
                        && p.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '*'
                        })
                });
            if !ok {
                return Err(inv(format!(
                    "required check {r:?} is not a check id or family.*"
                )));
            }
        }
        Ok(Protocol {
            id: f.id,
            title: f.title,
            source: f.source,
            origin: origin.into(),
            digest: crate::util::sha256_hex(bytes),
            required: f.required_checks,
            sections: f.sections,
            upstream: f.upstream,
        })
    }

    /// Whether a result with this id counts towards the verdict.
    pub fn is_required(&self, id: &str) -> bool {
        let fam = id.split('.').next().unwrap_or(id);
        self.required
            .iter()
            .any(|r| r == id || (r.ends_with(".*") && &r[..r.len() - 2] == fam))
    }

    /// The required ids and `family.*` patterns.
    pub fn required_checks(&self) -> &[String] {
        &self.required
    }

    /// A family's section, parsed into its typed form; `None` when absent.
    pub fn section<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        match self.sections.get(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| format!("protocol section {name}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_protocol_loads() {
        for (id, _) in EMBEDDED {
            let p = Protocol::load(id).unwrap();
            assert_eq!(&p.id, id);
        }
    }

    #[test]
    fn unknown_id_is_an_error() {
        assert!(matches!(
            Protocol::load("v9"),
            Err(ProtocolError::UnknownId(_))
        ));
    }

    #[test]
    fn unknown_section_is_rejected() {
        let text = r#"{"schema":"blyss-evidence.protocol/v1","id":"x","title":"x","source":"x","required_checks":[],"sections":{"nope":{}}}"#;
        assert!(Protocol::parse(text.as_bytes(), "t").is_err());
    }

    #[test]
    fn wildcard_requires_a_family() {
        let text = r#"{"schema":"blyss-evidence.protocol/v1","id":"x","title":"x","source":"x","required_checks":["snp.*","bundle.integrity"]}"#;
        let p = Protocol::parse(text.as_bytes(), "t").unwrap();
        assert!(p.is_required("snp.report-signature"));
        assert!(p.is_required("bundle.integrity"));
        assert!(!p.is_required("bundle.signature"));
        assert!(!p.is_required("snpx.y"));
    }
}
