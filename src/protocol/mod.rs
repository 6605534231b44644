//! Protocol files: what a given service version must look like, and which
//! checks count towards the verdict. The tool embeds the known protocols
//! (`protocol/*.json`); `--protocol FILE` loads another.
//!
//! A protocol file has a small fixed head and one section per check family
//! (`sections.snp`, `sections.measurement`, …). The whole file is parsed once,
//! at load, into typed `deny_unknown_fields` structs ([`sections`]), so a
//! typo, a wrong type or a missing value is an error naming its JSON path
//! (`sections.snp.vmpl: ...`) before any check runs; the checks receive the
//! typed sections and never see JSON. This module depends on `evidence`,
//! `measure` and `util` only, never on `checks`.
//!
//! An upstream Blyss protocol file (what the service publishes, e.g.
//! `fixtures/blyss/protocol-v0.0.1.json`) is accepted too: [`upstream`]
//! translates it onto the built-in protocol of the same version.

pub mod sections;
pub mod upstream;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub use sections::*;

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
    ("tinfoil", include_str!("../../protocol/tinfoil.json")),
    ("gpu-only", include_str!("../../protocol/gpu-only.json")),
];

/// Largest protocol file `Protocol::load` reads (the built-in ones are
/// under 10 kB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

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

/// Head of a protocol file (our format, `blyss-evidence.protocol/v1`).
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
    /// Family sections, typed (see [`sections`]).
    #[serde(default)]
    sections: Sections,
    /// Check families this protocol does not judge at all, each with the
    /// reason the report shows (e.g. `gpu-only` judges NVIDIA devices only,
    /// so `amd` and `snp` are not run). A family not run cannot fail or
    /// pass: it yields one not-applicable `<family>.not-judged` result.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    not_judged: BTreeMap<String, String>,
    /// The upstream protocol file, verbatim, for traceability (and so the
    /// redactor learns the secret values its launch configuration holds).
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
    /// The typed sections every check family reads.
    pub sections: Sections,
    /// Families not judged, with the reason (see `ProtocolFile`).
    pub not_judged: BTreeMap<String, String>,
    /// The upstream protocol file, verbatim (redaction and traceability
    /// only: no check reads it).
    pub upstream: Option<Value>,
    /// Set when the file read was an upstream Blyss protocol file: what was
    /// taken from it and what came from our built-in protocol.
    pub translated: Option<upstream::Translation>,
}

impl Protocol {
    /// Loads `id_or_path`: an embedded id, or a path to a JSON file (our
    /// format or an upstream Blyss protocol file).
    pub fn load(id_or_path: &str) -> Result<Protocol, ProtocolError> {
        if let Some((_, text)) = EMBEDDED.iter().find(|(id, _)| *id == id_or_path) {
            return Self::parse(text.as_bytes(), "embedded");
        }
        let p = std::path::Path::new(id_or_path);
        if p.exists() || id_or_path.ends_with(".json") {
            let io = |e| ProtocolError::Io {
                path: id_or_path.into(),
                source: e,
            };
            // Bounded read: a protocol file is a few kB; refusing anything
            // over MAX_FILE_BYTES keeps memory bounded whatever path is given
            // (a device, a huge file).
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(std::fs::File::open(p).map_err(io)?, MAX_FILE_BYTES + 1),
                &mut bytes,
            )
            .map_err(io)?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(ProtocolError::Invalid {
                    name: id_or_path.into(),
                    reason: format!("larger than {MAX_FILE_BYTES} bytes; not a protocol file"),
                });
            }
            return Self::parse(&bytes, id_or_path);
        }
        Err(ProtocolError::UnknownId(id_or_path.into()))
    }

    /// Parses and validates protocol bytes: our format, or an upstream Blyss
    /// protocol file (detected by its `version` + `requirements` head and no
    /// `schema`), translated onto the built-in protocol of the same version.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Protocol, ProtocolError> {
        let inv = |r: String| ProtocolError::Invalid {
            name: origin.into(),
            reason: r,
        };
        // One interpretation per file: a key given twice anywhere (head,
        // section or map such as `min_tcb`) is refused, not last-one-wins.
        from_slice_at::<UniqueKeys>(bytes).map_err(|e| inv(e.to_string()))?;
        let value: Value = serde_json::from_slice(bytes).map_err(|e| inv(e.to_string()))?;
        if upstream::is_upstream(&value) {
            return upstream::translate(value, bytes, origin);
        }
        let f: ProtocolFile = from_value_at(value).map_err(|e| inv(e.to_string()))?;
        Self::from_file(f, bytes, origin)
    }

    fn from_file(f: ProtocolFile, bytes: &[u8], origin: &str) -> Result<Protocol, ProtocolError> {
        let inv = |r: String| ProtocolError::Invalid {
            name: origin.into(),
            reason: r,
        };
        if f.schema != SCHEMA {
            return Err(inv(format!("schema: {:?}, expected {SCHEMA:?}", f.schema)));
        }
        f.sections.validate().map_err(|e| inv(e.to_string()))?;
        for (i, r) in f.required_checks.iter().enumerate() {
            let ok = r.split('.').count() == 2
                && r.split('.').all(|p| {
                    !p.is_empty()
                        && p.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '*'
                        })
                });
            if !ok {
                return Err(inv(format!(
                    "required_checks[{i}]: {r:?} is not a check id or family.*"
                )));
            }
        }
        for (fam, reason) in &f.not_judged {
            if fam.is_empty() || !fam.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(inv(format!(
                    "not_judged: {fam:?} is not a check family name"
                )));
            }
            if fam == "bundle" {
                // Who sealed the evidence, and that it is intact, is never optional.
                return Err(inv(format!("not_judged: family {fam} is always judged")));
            }
            if reason.trim().is_empty() {
                return Err(inv(format!("not_judged.{fam}: give the reason")));
            }
            if f.required_checks
                .iter()
                .any(|r| r.split('.').next() == Some(fam.as_str()))
            {
                return Err(inv(format!(
                    "not_judged.{fam}: the family is also in required_checks"
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
            not_judged: f.not_judged,
            upstream: f.upstream,
            translated: None,
        })
    }

    /// Whether a result with this id counts towards the verdict.
    ///
    /// `gpu.*` also requires the `switch.*` results: NVSwitch evidence is
    /// NVIDIA device evidence imported beside the GPUs', and a protocol
    /// that requires GPU evidence to verify must not let a switch whose
    /// evidence fails pass silently. (No switch result exists without
    /// switch evidence, so `gpu.*` alone never demands switches.)
    pub fn is_required(&self, id: &str) -> bool {
        let fam = id.split('.').next().unwrap_or(id);
        self.required.iter().any(|r| {
            r == id
                || (r.ends_with(".*")
                    && (&r[..r.len() - 2] == fam || (fam == "switch" && r == "gpu.*")))
        })
    }

    /// The required ids and `family.*` patterns.
    pub fn required_checks(&self) -> &[String] {
        &self.required
    }
}

/// Deserializes into `T`, naming the JSON path of the first offending key
/// in the error (`sections.measurement.vcpus: unknown field ...`).
/// serde_path_to_error (by serde's author; one small crate without further
/// dependencies) tracks the path; serde_json alone only says what was wrong,
/// not under which key.
fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> sections::PathError {
    let path = e.path().to_string();
    sections::PathError {
        path: if path == "." {
            "(top level)".into()
        } else {
            path
        },
        message: e.inner().to_string(),
    }
}

/// [`path_error`] for a parsed JSON value.
pub(crate) fn from_value_at<T: serde::de::DeserializeOwned>(
    value: Value,
) -> Result<T, sections::PathError> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// [`path_error`] for JSON bytes (the whole input must be one value).
fn from_slice_at<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, sections::PathError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let out: T = serde_path_to_error::deserialize(&mut *de).map_err(path_error)?;
    de.end().map_err(|e| sections::PathError {
        path: "(top level)".into(),
        message: e.to_string(),
    })?;
    Ok(out)
}

/// Any JSON value whose objects have no key twice (`serde_json::Value`
/// silently keeps the last one). Depth is bounded by serde_json's
/// recursion limit (128).
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<UniqueKeys, A::Error> {
        while a.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(k) = a.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
            }
            a.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// Validates one section `name` as part of an otherwise empty protocol
/// file (unit tests of the check families).
#[cfg(test)]
pub(crate) fn validate_one_section(name: &str, v: &Value) -> Result<(), String> {
    let file = serde_json::json!({
        "schema": SCHEMA, "id": "t", "title": "t", "source": "t",
        "required_checks": [], "sections": { name: v },
    });
    Protocol::parse(file.to_string().as_bytes(), "t")
        .map(|_| ())
        .map_err(|e| e.to_string())
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

    #[test]
    fn misspelled_key_is_refused_with_its_path() {
        let mut v: Value = serde_json::from_str(EMBEDDED[0].1).unwrap();
        let m = v["sections"]["measurement"].as_object_mut().unwrap();
        let x = m.remove("vcpu_type").unwrap();
        m.insert("vcpu_typ".into(), x);
        let e = Protocol::parse(v.to_string().as_bytes(), "t")
            .unwrap_err()
            .to_string();
        eprintln!("{e}");
        assert!(e.contains("sections.measurement"), "{e}");
        assert!(e.contains("vcpu_typ"), "{e}");
    }
}
