//! A Tinfoil enclave's attestation bundle (`attestation-bundle.json`), as
//! Tinfoil serves it per enclave and as `collect --tinfoil-bundle` stores it
//! (byte-exact, member [`MEMBER`]). It is decoded only at audit time, here.
//!
//! Shape (Tinfoil's client code and the real bundle in
//! `fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/`):
//!
//! ```text
//! { "domain": "inference.tinfoil.sh",
//!   "enclaveAttestationReport": { "format": "https://tinfoil.sh/predicate/sev-snp-guest/v2",
//!                                 "body": base64(gzip(1184-byte SNP report)) },
//!   "digest": sha256 hex of the released tinfoil-deployment.json,
//!   "sigstoreBundle": { Sigstore bundle v0.3 },
//!   "vcek": base64(DER), "enclaveCert": PEM (or base64 DER) }
//! ```
//!
//! Hostile input is the normal case, so the parser is strict and bounded:
//! the file is at most [`MAX_FILE`] bytes, a key given twice anywhere is
//! refused (one interpretation for every reader), an unknown top-level key is
//! refused (a field we do not understand may carry a meaning we would
//! silently ignore), the gzip body is inflated through a reader capped at
//! [`MAX_INFLATED`] bytes (a 17 KiB bundle cannot become gigabytes), and the
//! report must be exactly 1184 bytes. TDX evidence (`…/tdx-guest/…`) is
//! recognised and reported as not supported yet: it never becomes a report.
//!
//! The DSSE payload (an in-toto statement) and its predicate's launch
//! configuration (a small YAML document) are parsed by
//! [`Statement::parse`] and [`config_containers`]. The YAML is read with a
//! restricted grammar written here rather than a YAML crate: the config
//! uses a tiny subset (block mappings and sequences, plain and quoted
//! scalars, one-line-or-multi-line flow sequences of scalars), the
//! maintained Rust YAML crates are large general parsers (anchors, aliases,
//! tags, merge keys: the classic billion-laughs surface) and the one most
//! used, `serde_yaml`, is archived. Everything outside the subset is an
//! error naming the line, never a guess.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::Value;
use thiserror::Error;

use super::attestation::REPORT_LEN;
use super::cmdline::ImageRef;

/// Where the bundle file lives inside an evidence bundle.
pub const MEMBER: &str = "evidence/tinfoil/attestation-bundle.json";
/// Largest bundle file imported or parsed (the real one is 17 KiB; a
/// Sigstore bundle with a long certificate chain stays well under 100 KiB).
pub const MAX_FILE: usize = 256 * 1024;
/// Largest inflated report body accepted: a report is 1184 bytes; anything
/// that inflates beyond this is refused before it is held in memory.
pub const MAX_INFLATED: usize = 4096;
/// Largest predicate `config` (decoded) and `cmdline` read.
pub const MAX_CONFIG: usize = 64 * 1024;
/// Most containers read from a config.
pub const MAX_CONTAINERS: usize = 64;

/// The report format of the real bundle: gzip-compressed SNP report.
pub const FORMAT_SNP_V2: &str = "https://tinfoil.sh/predicate/sev-snp-guest/v2";
/// The older, uncompressed SNP report format.
pub const FORMAT_SNP_V1: &str = "https://tinfoil.sh/predicate/sev-snp-guest/v1";

/// Why a Tinfoil bundle (or a part of it) could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TinfoilError {
    #[error("the bundle file is {0} bytes, more than the {MAX_FILE} accepted")]
    TooLarge(usize),
    #[error("not JSON: {0}")]
    Json(String),
    #[error("field `{0}` is missing")]
    Missing(String),
    #[error("field `{0}` is not expected in a Tinfoil attestation bundle")]
    Unknown(String),
    #[error("field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
    #[error("report format {0:?} is TDX evidence: not supported yet (only SEV-SNP is audited)")]
    TdxNotSupported(String),
}

fn invalid(field: &str, reason: impl Into<String>) -> TinfoilError {
    TinfoilError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A parsed Tinfoil attestation bundle.
#[derive(Debug, Clone)]
pub struct TinfoilBundle {
    /// `domain` as served (unverified: shown, never trusted).
    pub domain: Option<String>,
    /// `enclaveAttestationReport.format`.
    pub format: String,
    /// The decoded SNP report.
    pub report: [u8; REPORT_LEN],
    /// `digest`: sha256 (lower-case hex) of the release's deployment file.
    pub digest: String,
    /// `sigstoreBundle`, as a JSON value (verified by `evidence::sigstore`).
    pub sigstore_bundle: Value,
    /// `vcek`, decoded DER.
    pub vcek_der: Vec<u8>,
    /// `enclaveCert`, decoded DER.
    pub enclave_cert_der: Vec<u8>,
}

const KEYS: [&str; 6] = [
    "domain",
    "enclaveAttestationReport",
    "digest",
    "sigstoreBundle",
    "vcek",
    "enclaveCert",
];

impl TinfoilBundle {
    /// Parses the bundle file. The report format is judged first, so TDX
    /// evidence is named as such even when other fields are missing.
    pub fn parse(bytes: &[u8]) -> Result<TinfoilBundle, TinfoilError> {
        if bytes.len() > MAX_FILE {
            return Err(TinfoilError::TooLarge(bytes.len()));
        }
        unique_keys(bytes)?;
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| TinfoilError::Json(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| invalid("(document)", "not a JSON object"))?;
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(TinfoilError::Unknown(k.clone()));
        }
        let s = |k: &str| -> Result<&str, TinfoilError> {
            obj.get(k)
                .ok_or_else(|| TinfoilError::Missing(k.into()))?
                .as_str()
                .ok_or_else(|| invalid(k, "not a string"))
        };
        let ear = obj
            .get("enclaveAttestationReport")
            .ok_or_else(|| TinfoilError::Missing("enclaveAttestationReport".into()))?
            .as_object()
            .ok_or_else(|| invalid("enclaveAttestationReport", "not an object"))?;
        if let Some(k) = ear
            .keys()
            .find(|k| !matches!(k.as_str(), "format" | "body"))
        {
            return Err(TinfoilError::Unknown(format!(
                "enclaveAttestationReport.{k}"
            )));
        }
        let format = ear
            .get("format")
            .ok_or_else(|| TinfoilError::Missing("enclaveAttestationReport.format".into()))?
            .as_str()
            .ok_or_else(|| invalid("enclaveAttestationReport.format", "not a string"))?
            .to_string();
        if format.contains("/tdx-guest/") {
            return Err(TinfoilError::TdxNotSupported(format));
        }
        let compressed = match format.as_str() {
            FORMAT_SNP_V2 => true,
            FORMAT_SNP_V1 => false,
            _ => {
                return Err(invalid(
                    "enclaveAttestationReport.format",
                    format!(
                        "{:?} is not a known report format ({FORMAT_SNP_V2}, {FORMAT_SNP_V1})",
                        crate::util::visible(&format)
                    ),
                ))
            }
        };
        let body = ear
            .get("body")
            .ok_or_else(|| TinfoilError::Missing("enclaveAttestationReport.body".into()))?
            .as_str()
            .ok_or_else(|| invalid("enclaveAttestationReport.body", "not a string"))?;
        let raw = b64(body).map_err(|e| invalid("enclaveAttestationReport.body", e))?;
        let report = if compressed {
            gunzip_capped(&raw, MAX_INFLATED)
                .map_err(|e| invalid("enclaveAttestationReport.body", e))?
        } else {
            raw
        };
        let report: [u8; REPORT_LEN] = report.as_slice().try_into().map_err(|_| {
            invalid(
                "enclaveAttestationReport.body",
                format!(
                    "the report is {} bytes, expected {REPORT_LEN}",
                    report.len()
                ),
            )
        })?;
        let digest = s("digest")?;
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("digest", "not 64 hex digits (sha256)"));
        }
        let sigstore_bundle = obj
            .get("sigstoreBundle")
            .ok_or_else(|| TinfoilError::Missing("sigstoreBundle".into()))?;
        if !sigstore_bundle.is_object() {
            return Err(invalid("sigstoreBundle", "not an object"));
        }
        let vcek_der = b64(s("vcek")?).map_err(|e| invalid("vcek", e))?;
        let enclave_cert_der =
            cert_der(s("enclaveCert")?).map_err(|e| invalid("enclaveCert", e))?;
        let domain = match obj.get("domain") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(_) => return Err(invalid("domain", "not a string")),
        };
        Ok(TinfoilBundle {
            domain,
            format,
            report,
            digest: digest.to_ascii_lowercase(),
            sigstore_bundle: sigstore_bundle.clone(),
            vcek_der,
            enclave_cert_der,
        })
    }

    /// sha256 of the enclave certificate's SubjectPublicKeyInfo DER (what
    /// Tinfoil puts in REPORT_DATA[0..32]).
    pub fn enclave_spki_sha256(&self) -> Result<[u8; 32], String> {
        spki_sha256(&self.enclave_cert_der)
    }
}

/// The digest in a release body, as Tinfoil's clients read it:
/// `EIF hash: <64 hex>` or ``Digest: `<64 hex>` `` (the first well-formed
/// one; the collector and the audit's `tinfoil.collection` read it here, so
/// both read a release the same way).
pub fn digest_in_release_body(body: &str) -> Option<String> {
    let after = |marker: &str, closing: Option<char>| -> Option<String> {
        let mut rest = body;
        while let Some(i) = rest.find(marker) {
            let tail = &rest[i + marker.len()..];
            let hex: String = tail.chars().take(64).collect();
            if hex.len() == 64
                && hex.chars().all(|c| c.is_ascii_hexdigit())
                && closing.is_none_or(|c| tail[64..].starts_with(c))
            {
                return Some(hex.to_ascii_lowercase());
            }
            rest = &rest[i + marker.len()..];
        }
        None
    };
    after("EIF hash: ", None).or_else(|| after("Digest: `", Some('`')))
}

/// sha256 of a certificate's SubjectPublicKeyInfo DER.
pub fn spki_sha256(cert_der: &[u8]) -> Result<[u8; 32], String> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("cannot re-encode the SubjectPublicKeyInfo: {e}"))?;
    Ok(crate::util::sha256(&spki))
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    // Standard alphabet, padding optional (Tinfoil pads; other producers
    // may not). Whitespace is not accepted: one spelling per value.
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg)
        .decode(s)
        .map_err(|e| format!("not base64: {e}"))
}

fn cert_der(s: &str) -> Result<Vec<u8>, String> {
    if s.trim_start().starts_with("-----BEGIN") {
        let (label, der) =
            der::pem::decode_vec(s.trim().as_bytes()).map_err(|e| format!("PEM: {e}"))?;
        if label != "CERTIFICATE" {
            return Err(format!("PEM label {label}, expected CERTIFICATE"));
        }
        Ok(der)
    } else {
        b64(s)
    }
}

/// Inflates a gzip stream, refusing more than `cap` bytes of output.
fn gunzip_capped(data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not gzip: {e}"))?;
    if out.len() > cap {
        return Err(format!("inflates to more than {cap} bytes"));
    }
    Ok(out)
}

/// Parses a JSON document stored as received (an answer the online
/// collector kept), refusing a key given twice anywhere: `serde_json` keeps
/// the last, another reader the first, and the audit must read each answer
/// one way only.
pub fn parse_json_unique(bytes: &[u8]) -> Result<Value, TinfoilError> {
    if bytes.len() > MAX_ANSWER {
        return Err(invalid(
            "(document)",
            format!("{} bytes, more than the {MAX_ANSWER} read", bytes.len()),
        ));
    }
    unique_keys(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| TinfoilError::Json(e.to_string()))
}

/// Largest stored answer re-read by the audit (the collector's cap on a
/// GitHub answer).
pub const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// Refuses a JSON text in which some object has a key twice
/// (`serde_json::Value` silently keeps the last one; another reader may
/// keep the first).
fn unique_keys(bytes: &[u8]) -> Result<(), TinfoilError> {
    struct U;
    impl<'de> serde::Deserialize<'de> for U {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(V)
        }
    }
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = U;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<U, E> {
            Ok(U)
        }
        fn visit_i64<E>(self, _: i64) -> Result<U, E> {
            Ok(U)
        }
        fn visit_u64<E>(self, _: u64) -> Result<U, E> {
            Ok(U)
        }
        fn visit_f64<E>(self, _: f64) -> Result<U, E> {
            Ok(U)
        }
        fn visit_str<E>(self, _: &str) -> Result<U, E> {
            Ok(U)
        }
        fn visit_unit<E>(self) -> Result<U, E> {
            Ok(U)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<U, A::Error> {
            while a.next_element::<U>()?.is_some() {}
            Ok(U)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<U, A::Error> {
            let mut seen = BTreeSet::new();
            while let Some(k) = a.next_key::<String>()? {
                if !seen.insert(k.clone()) {
                    return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                }
                a.next_value::<U>()?;
            }
            Ok(U)
        }
    }
    serde_json::from_slice::<U>(bytes)
        .map(|_| ())
        .map_err(|e| TinfoilError::Json(e.to_string()))
}

// ---- the release statement ---------------------------------------------------

/// The in-toto statement a release workflow signs (the DSSE payload), as
/// far as the checks read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `predicateType`.
    pub predicate_type: String,
    /// `subject[]`: name and sha256 (lower-case hex; absent when the
    /// subject has no sha256).
    pub subjects: Vec<(String, Option<String>)>,
    /// `predicate.snp_measurement` (lower-case hex), when present.
    pub snp_measurement: Option<String>,
    /// `predicate.cmdline`, when present.
    pub cmdline: Option<String>,
    /// `predicate.config`, base64-decoded, when present.
    pub config: Option<Vec<u8>>,
}

/// The in-toto statement type Tinfoil signs.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

impl Statement {
    /// Parses a DSSE payload. Bounded by [`MAX_FILE`] (the payload came out
    /// of a bundle file of at most that size).
    pub fn parse(payload: &[u8]) -> Result<Statement, TinfoilError> {
        if payload.len() > MAX_FILE {
            return Err(TinfoilError::TooLarge(payload.len()));
        }
        unique_keys(payload)?;
        let v: Value =
            serde_json::from_slice(payload).map_err(|e| TinfoilError::Json(e.to_string()))?;
        let t = v.get("_type").and_then(Value::as_str).unwrap_or_default();
        if t != STATEMENT_TYPE {
            return Err(invalid(
                "_type",
                format!("{:?}, expected {STATEMENT_TYPE}", crate::util::visible(t)),
            ));
        }
        let predicate_type = v
            .get("predicateType")
            .and_then(Value::as_str)
            .ok_or_else(|| TinfoilError::Missing("predicateType".into()))?
            .to_string();
        let subjects = v
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| TinfoilError::Missing("subject".into()))?
            .iter()
            .map(|s| {
                (
                    s.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    s.pointer("/digest/sha256")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase),
                )
            })
            .collect();
        let pred = v
            .get("predicate")
            .and_then(Value::as_object)
            .ok_or_else(|| TinfoilError::Missing("predicate".into()))?;
        let opt_str = |k: &str| -> Result<Option<String>, TinfoilError> {
            match pred.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(invalid(&format!("predicate.{k}"), "not a string")),
            }
        };
        let snp_measurement = opt_str("snp_measurement")?.map(|m| m.to_ascii_lowercase());
        let cmdline = opt_str("cmdline")?;
        if cmdline.as_ref().is_some_and(|c| c.len() > MAX_CONFIG) {
            return Err(invalid("predicate.cmdline", "too long"));
        }
        let config = match opt_str("config")? {
            None => None,
            Some(c) => {
                let d = b64(&c).map_err(|e| invalid("predicate.config", e))?;
                if d.len() > MAX_CONFIG {
                    return Err(invalid("predicate.config", "too long"));
                }
                Some(d)
            }
        };
        Ok(Statement {
            predicate_type,
            subjects,
            snp_measurement,
            cmdline,
            config,
        })
    }

    /// The value of `tinfoil-config-hash=` in the command line: `Ok(None)`
    /// when absent, an error when given more than once.
    pub fn config_hash_param(&self) -> Result<Option<String>, String> {
        let Some(c) = &self.cmdline else {
            return Ok(None);
        };
        let vals: Vec<&str> = c
            .split_ascii_whitespace()
            .filter_map(|w| w.strip_prefix("tinfoil-config-hash="))
            .collect();
        match vals.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(v.to_ascii_lowercase())),
            _ => Err(format!(
                "tinfoil-config-hash= appears {} times in the command line",
                vals.len()
            )),
        }
    }
}

// ---- the launch configuration (restricted YAML) ----------------------------------

/// One container of the launch configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `name` (empty when absent).
    pub name: String,
    /// `image` as written (empty when absent or `""`).
    pub image_field: String,
    /// `args`, as written.
    pub args: Vec<String>,
}

impl Container {
    /// The image this container runs and where it was found: the `image`
    /// field, or when that is empty the first argument (Tinfoil's shim
    /// runs `args[0]` as the image then: the real config has `image: ""`
    /// and the reference in `args`).
    pub fn image(&self) -> Result<(ImageRef, &'static str), String> {
        if !self.image_field.is_empty() {
            return ImageRef::parse(&self.image_field).map(|r| (r, "image"));
        }
        match self.args.first() {
            Some(a) if a.contains('/') && !a.starts_with('-') && !a.contains('$') => {
                ImageRef::parse(a).map(|r| (r, "args[0]"))
            }
            _ => Err("the container names no image (empty `image` and no image reference as its first argument)".into()),
        }
    }
}

/// A node of the restricted YAML subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    fn get(&self, k: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m.iter().find(|(key, _)| key == k).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The containers a launch configuration names.
pub fn config_containers(config: &[u8]) -> Result<Vec<Container>, String> {
    let text = std::str::from_utf8(config).map_err(|_| "the config is not UTF-8".to_string())?;
    let doc = parse_yaml(text)?;
    let Some(cs) = doc.get("containers") else {
        return Ok(Vec::new());
    };
    let Yaml::Seq(items) = cs else {
        return Err("`containers` is not a sequence".into());
    };
    if items.len() > MAX_CONTAINERS {
        return Err(format!("more than {MAX_CONTAINERS} containers"));
    }
    let scalar = |n: Option<&Yaml>, what: &str| -> Result<String, String> {
        match n {
            None => Ok(String::new()),
            Some(Yaml::Scalar(s)) => Ok(s.clone()),
            Some(_) => Err(format!("`{what}` is not a scalar")),
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if !matches!(c, Yaml::Map(_)) {
                return Err(format!("containers[{i}] is not a mapping"));
            }
            let args = match c.get("args") {
                None => Vec::new(),
                Some(Yaml::Seq(a)) => a
                    .iter()
                    .map(|x| match x {
                        Yaml::Scalar(s) => Ok(s.clone()),
                        _ => Err(format!("containers[{i}].args holds a non-scalar")),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(format!("containers[{i}].args is not a sequence")),
            };
            Ok(Container {
                name: scalar(c.get("name"), "name")?,
                image_field: scalar(c.get("image"), "image")?,
                args,
            })
        })
        .collect()
}

/// Most lines, and deepest nesting, the YAML reader accepts.
const MAX_LINES: usize = 4096;
const MAX_DEPTH: usize = 16;

struct Line {
    no: usize,
    indent: usize,
    text: String,
}

/// Parses the restricted YAML subset: block mappings (`key: value`), block
/// sequences (`- item`), plain, single- and double-quoted scalars, and flow
/// sequences of scalars (`[a, "b",]`, possibly over several lines). Refused
/// with the line number: tabs, anchors, aliases, tags, flow mappings, block
/// scalars, directives, several documents, duplicate keys, nesting deeper
/// than 16. Linear in the input: each line is read once.
pub fn parse_yaml(text: &str) -> Result<Yaml, String> {
    if text.len() > MAX_CONFIG {
        return Err(format!("the config is more than {MAX_CONFIG} bytes"));
    }
    let mut lines: Vec<Line> = Vec::new();
    // A flow sequence continued over several lines, and its open depth.
    let mut pending: Option<(Line, i32)> = None;
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        if lines.len() > MAX_LINES {
            return Err(format!("more than {MAX_LINES} lines"));
        }
        if raw.contains('\t') {
            return Err(format!("line {no}: tabs are not accepted"));
        }
        if let Some((mut p, depth)) = pending.take() {
            let more = strip_comment(raw).trim();
            let depth = depth + bracket_depth(more).map_err(|e| format!("line {no}: {e}"))?;
            p.text.push(' ');
            p.text.push_str(more);
            if depth < 0 {
                return Err(format!("line {no}: unbalanced ']'"));
            } else if depth == 0 {
                lines.push(p);
            } else {
                pending = Some((p, depth));
            }
            continue;
        }
        let content = strip_comment(raw);
        let trimmed = content.trim_end();
        if trimmed.trim().is_empty() {
            continue;
        }
        let indent = trimmed.len() - trimmed.trim_start().len();
        let t = trimmed.trim_start();
        if t == "---" || t == "..." || t.starts_with('%') {
            return Err(format!(
                "line {no}: directives and document markers are not accepted"
            ));
        }
        let line = Line {
            no,
            indent,
            text: t.to_string(),
        };
        let depth = bracket_depth(t).map_err(|e| format!("line {no}: {e}"))?;
        if depth > 0 {
            pending = Some((line, depth));
        } else {
            lines.push(line);
        }
    }
    if let Some((p, _)) = pending {
        return Err(format!("line {}: unclosed flow sequence", p.no));
    }
    if lines.is_empty() {
        return Ok(Yaml::Map(Vec::new()));
    }
    let mut i = 0;
    let base = lines[0].indent;
    let v = block(&mut lines, &mut i, base, 0)?;
    if let Some(l) = lines.get(i) {
        return Err(format!("line {}: unexpected indentation", l.no));
    }
    Ok(v)
}

/// Removes a `#` comment (outside quotes, at line start or after a blank).
fn strip_comment(s: &str) -> &str {
    let (mut sq, mut dq, mut prev_blank, mut esc) = (false, false, true, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' if dq => esc = true,
            '"' if !sq => dq = !dq,
            '\'' if !dq => sq = !sq,
            '#' if !sq && !dq && prev_blank => return &s[..i],
            _ => {}
        }
        prev_blank = c == ' ';
    }
    s
}

/// Open `[` minus `]` outside quotes in one line. A quote left open at the
/// end of the line is an error (multi-line quoted scalars are outside the
/// subset), so a line's depth never depends on the lines around it.
fn bracket_depth(s: &str) -> Result<i32, String> {
    let (mut sq, mut dq, mut esc, mut d) = (false, false, false, 0i32);
    for c in s.chars() {
        match c {
            _ if esc => esc = false,
            '\\' if dq => esc = true,
            '"' if !sq => dq = !dq,
            '\'' if !dq => sq = !sq,
            '[' if !sq && !dq => d += 1,
            ']' if !sq && !dq => d -= 1,
            _ => {}
        }
    }
    if sq || dq {
        return Err("a quoted scalar is not closed on its line".into());
    }
    Ok(d)
}

fn block(lines: &mut [Line], i: &mut usize, indent: usize, depth: usize) -> Result<Yaml, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nesting deeper than {MAX_DEPTH}"));
    }
    let first = &lines[*i];
    if first.text == "-" || first.text.starts_with("- ") {
        let mut items = Vec::new();
        while let Some(l) = lines.get(*i) {
            if l.indent < indent {
                break;
            }
            if l.indent > indent {
                return Err(format!("line {}: unexpected indentation", l.no));
            }
            if !(l.text == "-" || l.text.starts_with("- ")) {
                break;
            }
            let rest = l.text[1..].trim_start().to_string();
            if rest.is_empty() {
                *i += 1;
                match lines.get(*i) {
                    Some(n) if n.indent > indent => {
                        let ni = n.indent;
                        items.push(block(lines, i, ni, depth + 1)?);
                    }
                    _ => items.push(Yaml::Scalar(String::new())),
                }
            } else if is_mapping_entry(&rest) || rest.starts_with("- ") {
                // `- key: value` opens a mapping whose entries sit at the
                // column of `key`.
                let col = indent + (l.text.len() - rest.len());
                lines[*i].indent = col;
                lines[*i].text = rest;
                items.push(block(lines, i, col, depth + 1)?);
            } else {
                let no = l.no;
                items.push(inline(&rest, no)?);
                *i += 1;
            }
        }
        return Ok(Yaml::Seq(items));
    }
    let mut entries: Vec<(String, Yaml)> = Vec::new();
    while let Some(l) = lines.get(*i) {
        if l.indent < indent {
            break;
        }
        if l.indent > indent {
            return Err(format!("line {}: unexpected indentation", l.no));
        }
        let no = l.no;
        let (key, value) = split_entry(&l.text).ok_or_else(|| {
            format!(
                "line {no}: expected `key: value` (got {:?})",
                crate::util::visible(&l.text)
            )
        })?;
        if entries.iter().any(|(k, _)| *k == key) {
            return Err(format!("line {no}: duplicate key {key:?}"));
        }
        *i += 1;
        let v = if value.is_empty() {
            match lines.get(*i) {
                Some(n) if n.indent > indent => {
                    let ni = n.indent;
                    block(lines, i, ni, depth + 1)?
                }
                // A block sequence may sit at its key's own indentation.
                Some(n) if n.indent == indent && (n.text == "-" || n.text.starts_with("- ")) => {
                    block(lines, i, indent, depth + 1)?
                }
                _ => Yaml::Scalar(String::new()),
            }
        } else {
            inline(&value, no)?
        };
        entries.push((key, v));
    }
    Ok(Yaml::Map(entries))
}

fn is_mapping_entry(s: &str) -> bool {
    split_entry(s).is_some()
}

/// `key: value` or `key:` (key plain or quoted) → (key, value text).
fn split_entry(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') || s.starts_with('\'') {
        let (k, n) = quoted(s).ok()?;
        (k, &s[n..])
    } else {
        let end = s
            .find(": ")
            .or_else(|| s.ends_with(':').then(|| s.len() - 1))?;
        let k = &s[..end];
        if k.is_empty() || k.starts_with(['[', '{', '&', '*', '!', '|', '>', '-', '?']) {
            return None;
        }
        (k.trim_end().to_string(), &s[end..])
    };
    let rest = rest.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim().to_string()))
}

/// An inline value: a scalar or a flow sequence of scalars.
fn inline(s: &str, no: usize) -> Result<Yaml, String> {
    let e = |m: &str| format!("line {no}: {m}");
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .trim_end()
            .strip_suffix(']')
            .ok_or_else(|| e("text after a flow sequence"))?;
        let mut items = Vec::new();
        let mut rest = inner.trim_start();
        while !rest.is_empty() {
            let (item, used) = if rest.starts_with('"') || rest.starts_with('\'') {
                quoted(rest).map_err(|m| e(&m))?
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                let v = rest[..end].trim();
                check_plain(v).map_err(|m| e(&m))?;
                (v.to_string(), end)
            };
            items.push(Yaml::Scalar(item));
            rest = rest[used..].trim_start();
            match rest.strip_prefix(',') {
                Some(r) => rest = r.trim_start(),
                None if rest.is_empty() => {}
                None => return Err(e("expected ',' between flow sequence items")),
            }
        }
        return Ok(Yaml::Seq(items));
    }
    if s.starts_with('"') || s.starts_with('\'') {
        let (v, used) = quoted(s).map_err(|m| e(&m))?;
        if !s[used..].trim().is_empty() {
            return Err(e("text after a quoted scalar"));
        }
        return Ok(Yaml::Scalar(v));
    }
    check_plain(s).map_err(|m| e(&m))?;
    Ok(Yaml::Scalar(s.to_string()))
}

fn check_plain(v: &str) -> Result<(), String> {
    if v.starts_with(['&', '*', '!', '{', '|', '>', '%', '@', '`', '[', ']']) {
        return Err(format!(
            "{:?}: anchors, aliases, tags, flow mappings and block scalars are not accepted",
            crate::util::visible(v)
        ));
    }
    Ok(())
}

/// A quoted scalar at the start of `s` → (value, bytes used).
fn quoted(s: &str) -> Result<(String, usize), String> {
    let q = s.chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == q {
            if q == '\'' && s[i + 1..].starts_with('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Ok((out, i + 1));
        }
        if c == '\\' && q == '"' {
            let (_, n) = chars.next().ok_or("unterminated escape")?;
            out.push(match n {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'n' => '\n',
                't' => '\t',
                '0' => '\0',
                _ => return Err(format!("escape \\{n} is not accepted")),
            });
            continue;
        }
        out.push(c);
    }
    Err("unterminated quoted scalar".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &[u8] = include_bytes!(
        "../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json"
    );

    fn real_payload() -> Vec<u8> {
        let b = TinfoilBundle::parse(REAL).unwrap();
        let p = b.sigstore_bundle["dsseEnvelope"]["payload"]
            .as_str()
            .unwrap();
        b64(p).unwrap()
    }

    #[test]
    fn real_bundle_parses_to_its_documented_report() {
        let b = TinfoilBundle::parse(REAL).unwrap();
        assert_eq!(b.format, FORMAT_SNP_V2);
        assert_eq!(b.domain.as_deref(), Some("inference.tinfoil.sh"));
        assert_eq!(
            hex::encode(&b.report[0x90..0xC0]),
            "09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519"
        );
        // REPORT_DATA[0..32] = sha256(enclave certificate SPKI).
        assert_eq!(&b.report[0x50..0x70], &b.enclave_spki_sha256().unwrap());
        assert_eq!(
            b.digest,
            "5ed9d5c942528ec2eeb759919827f1bc2183c6810f80225a52147dd4020c12a0"
        );
    }

    #[test]
    fn real_statement_and_config_parse() {
        let s = Statement::parse(&real_payload()).unwrap();
        assert_eq!(
            s.predicate_type,
            "https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1"
        );
        assert_eq!(s.subjects.len(), 1);
        assert_eq!(
            s.config_hash_param().unwrap().as_deref(),
            Some("c3fab5b2cfb9a393413f42c636e5ca23538ec8ecbe56a6d297008c1e046401cd")
        );
        let config = s.config.unwrap();
        assert_eq!(
            crate::util::sha256_hex(&config),
            "c3fab5b2cfb9a393413f42c636e5ca23538ec8ecbe56a6d297008c1e046401cd"
        );
        let cs = config_containers(&config).unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].name, "proxy");
        assert_eq!(cs[0].image_field, "");
        assert_eq!(cs[0].args.len(), 3);
        let (img, from) = cs[0].image().unwrap();
        assert_eq!(from, "args[0]");
        assert_eq!(
            img.to_string(),
            "ghcr.io/tinfoilsh/confidential-model-router:0.0.38"
        );
        assert!(img.digest.is_none());
    }

    fn with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(REAL).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn tdx_evidence_is_named_not_supported() {
        let b = with(|v| {
            v["enclaveAttestationReport"]["format"] =
                "https://tinfoil.sh/predicate/tdx-guest/v2".into()
        });
        assert!(matches!(
            TinfoilBundle::parse(&b),
            Err(TinfoilError::TdxNotSupported(_))
        ));
    }

    #[test]
    fn a_gzip_bomb_body_is_refused_at_the_cap() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 10 << 20]).unwrap();
        let gz = enc.finish().unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(gz);
        let b = with(|v| v["enclaveAttestationReport"]["body"] = body.into());
        let e = TinfoilBundle::parse(&b).unwrap_err().to_string();
        assert!(e.contains("inflates to more than 4096"), "{e}");
    }

    #[test]
    fn duplicate_and_unknown_keys_are_refused() {
        let text = std::str::from_utf8(REAL).unwrap();
        let dup = text.replacen("{", "{\"digest\":\"00\",", 1);
        assert!(TinfoilBundle::parse(dup.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("duplicate key"));
        let b = with(|v| v["extra"] = 1.into());
        assert_eq!(
            TinfoilBundle::parse(&b).unwrap_err(),
            TinfoilError::Unknown("extra".into())
        );
    }

    #[test]
    fn a_short_report_is_refused() {
        let b = with(|v| {
            v["enclaveAttestationReport"]["format"] = FORMAT_SNP_V1.into();
            v["enclaveAttestationReport"]["body"] = "AAAA".into();
        });
        assert!(TinfoilBundle::parse(&b)
            .unwrap_err()
            .to_string()
            .contains("expected 1184"));
    }

    #[test]
    fn yaml_subset_refuses_anchors_tags_and_duplicates() {
        assert!(parse_yaml("a: &x 1\nb: *x\n").is_err());
        assert!(parse_yaml("a: !!str 1\n").is_err());
        assert!(parse_yaml("a: 1\na: 2\n").is_err());
        assert!(parse_yaml("a: |\n  x\n").is_err());
        assert!(parse_yaml("a:\n\t- x\n").is_err());
        assert!(parse_yaml("a: [x,\n").is_err());
        assert!(parse_yaml("a: {b: 1}\n").is_err());
    }

    #[test]
    fn yaml_subset_reads_nested_blocks_and_flow_sequences() {
        let y = parse_yaml(
            "# c\nx: 1 # note\ncontainers:\n- name: a\n  image: 'r/i@sha256:00'\n  args: [\"p\", q,]\n-  name: \"b\"\n   args:\n     - z\n",
        )
        .unwrap();
        let cs = y.get("containers").unwrap();
        let Yaml::Seq(items) = cs else { panic!() };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].get("args"),
            Some(&Yaml::Seq(vec![
                Yaml::Scalar("p".into()),
                Yaml::Scalar("q".into())
            ]))
        );
        assert_eq!(items[1].get("name"), Some(&Yaml::Scalar("b".into())));
        assert_eq!(
            items[1].get("args"),
            Some(&Yaml::Seq(vec![Yaml::Scalar("z".into())]))
        );
        assert_eq!(y.get("x"), Some(&Yaml::Scalar("1".into())));
    }

    #[test]
    fn yaml_depth_is_bounded() {
        let mut s = String::new();
        for d in 0..40 {
            s.push_str(&" ".repeat(d));
            s.push_str("a:\n");
        }
        assert!(parse_yaml(&s).unwrap_err().contains("deeper"));
    }
}
