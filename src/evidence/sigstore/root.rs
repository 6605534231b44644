//! The Sigstore trusted root (`trusted_root.json`, the protobuf-JSON form of
//! `dev.sigstore.trustroot.v1.TrustedRoot`): which Fulcio CAs, Rekor logs
//! and CT logs a verifier believes, each with a validity window.
//!
//! Parsed strictly: every key must decode and every ECDSA log's id must be
//! the SHA-256 of its key (the definition Rekor v1 and RFC 6962 use), so a
//! root that does not mean what it says is refused as a whole. Keys of a
//! type this verifier cannot use are kept (listed by `trust show`) but can
//! never verify anything. Timestamp authorities are listed in the file but
//! not used: a bundle's RFC 3161 timestamps are not needed to judge a Rekor
//! v1 entry (its SET carries the time) and are reported as unused.

use serde::Deserialize;
use time::OffsetDateTime;

use super::SigstoreError;

/// Largest trusted root accepted.
pub const MAX_ROOT_BYTES: usize = 1 << 20;

/// Media types of trusted roots this parser knows.
pub const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// A validity window `[start, end]`; an absent end means "still valid".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub start: OffsetDateTime,
    pub end: Option<OffsetDateTime>,
}

impl Validity {
    /// Whether `t` is inside the window (both ends inclusive).
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start <= t && self.end.is_none_or(|e| t <= e)
    }

    /// `[start, end]` for display.
    pub fn describe(&self) -> String {
        format!(
            "[{}, {}]",
            crate::util::fmt_time(self.start),
            self.end
                .map(crate::util::fmt_time)
                .unwrap_or_else(|| "open".into())
        )
    }
}

/// Signature scheme of a log key (`keyDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKeyType {
    /// `PKIX_ECDSA_P256_SHA_256` (Rekor v1, CT logs).
    EcdsaP256Sha256,
    /// `PKIX_ED25519` (Rekor v2).
    Ed25519,
    /// Anything else: listed, never usable.
    Unsupported(String),
}

/// One transparency log (Rekor or CT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLog {
    pub base_url: String,
    pub key_type: LogKeyType,
    /// SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
    /// `logId.keyId` (SHA-256 of the SPKI for ECDSA logs).
    pub log_id: Vec<u8>,
    pub validity: Validity,
}

impl TransparencyLog {
    /// The log's host name (base URL without scheme and path): the key name
    /// of its signed-note signatures.
    pub fn host(&self) -> String {
        let s = self
            .base_url
            .strip_prefix("https://")
            .or_else(|| self.base_url.strip_prefix("http://"))
            .unwrap_or(&self.base_url);
        s.split('/').next().unwrap_or(s).to_string()
    }

    /// The 32-byte raw Ed25519 public key of an Ed25519 log.
    pub fn ed25519_key(&self) -> Option<[u8; 32]> {
        // SPKI for Ed25519: 30 2a 30 05 06 03 2b 65 70 03 21 00 ‖ key[32].
        const PREFIX: [u8; 12] = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        let rest = self.spki_der.strip_prefix(&PREFIX[..])?;
        rest.try_into().ok()
    }
}

/// One Fulcio certificate authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// `subject.organization / subject.commonName` as written in the root.
    pub subject: String,
    pub uri: String,
    /// The chain, issuing certificate first, self-signed root last (DER).
    pub chain: Vec<Vec<u8>>,
    pub validity: Validity,
}

/// Parsed Sigstore trusted root: Fulcio CAs with validity, Rekor logs (key,
/// log id, validity, key type), CT logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    pub media_type: String,
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub tlogs: Vec<TransparencyLog>,
    pub ctlogs: Vec<TransparencyLog>,
    /// How many timestamp authorities the file lists (not used).
    pub timestamp_authorities: usize,
    /// SHA-256 (hex) of the exact bytes parsed.
    pub sha256: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootFile {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<LogFile>,
    #[serde(default)]
    certificate_authorities: Vec<CaFile>,
    #[serde(default)]
    ctlogs: Vec<LogFile>,
    #[serde(default)]
    timestamp_authorities: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogFile {
    base_url: String,
    hash_algorithm: String,
    public_key: KeyFile,
    log_id: LogIdFile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    raw_bytes: String,
    key_details: String,
    valid_for: ValidFile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdFile {
    key_id: String,
}

#[derive(Deserialize)]
struct ValidFile {
    start: String,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaFile {
    #[serde(default)]
    subject: SubjectFile,
    #[serde(default)]
    uri: String,
    cert_chain: ChainFile,
    valid_for: ValidFile,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SubjectFile {
    #[serde(default)]
    organization: String,
    #[serde(default)]
    common_name: String,
}

#[derive(Deserialize)]
struct ChainFile {
    certificates: Vec<RawFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    raw_bytes: String,
}

fn bad(what: impl Into<String>, reason: impl Into<String>) -> SigstoreError {
    SigstoreError::Key {
        what: what.into(),
        reason: reason.into(),
    }
}

pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn validity(v: &ValidFile, what: &str) -> Result<Validity, SigstoreError> {
    let start = parse_time(&v.start)
        .ok_or_else(|| bad(what, format!("start {:?} is not RFC 3339", v.start)))?;
    let end = match &v.end {
        Some(e) => {
            Some(parse_time(e).ok_or_else(|| bad(what, format!("end {e:?} is not RFC 3339")))?)
        }
        None => None,
    };
    if end.is_some_and(|e| e < start) {
        return Err(bad(what, "validity ends before it starts"));
    }
    Ok(Validity { start, end })
}

fn log(l: &LogFile, what: &str) -> Result<TransparencyLog, SigstoreError> {
    let what = format!("{what} {}", l.base_url);
    if l.hash_algorithm != "SHA2_256" {
        return Err(bad(&what, format!("hash algorithm {:?}", l.hash_algorithm)));
    }
    let spki_der =
        super::b64(&l.public_key.raw_bytes).map_err(|e| bad(&what, format!("key: {e}")))?;
    let log_id = super::b64(&l.log_id.key_id).map_err(|e| bad(&what, format!("log id: {e}")))?;
    let key_type = match l.public_key.key_details.as_str() {
        "PKIX_ECDSA_P256_SHA_256" => {
            use spki::DecodePublicKey;
            p256::PublicKey::from_public_key_der(&spki_der)
                .map_err(|e| bad(&what, format!("not a P-256 key: {e}")))?;
            if log_id != crate::util::sha256(&spki_der) {
                return Err(bad(&what, "log id is not the SHA-256 of the log key"));
            }
            LogKeyType::EcdsaP256Sha256
        }
        "PKIX_ED25519" => LogKeyType::Ed25519,
        other => LogKeyType::Unsupported(other.to_string()),
    };
    let out = TransparencyLog {
        base_url: l.base_url.clone(),
        key_type,
        spki_der,
        log_id,
        validity: validity(&l.public_key.valid_for, &what)?,
    };
    if out.key_type == LogKeyType::Ed25519 && out.ed25519_key().is_none() {
        return Err(bad(&what, "not an Ed25519 SubjectPublicKeyInfo"));
    }
    Ok(out)
}

impl TrustedRoot {
    /// Parses a trusted root (see the module docs for what is refused).
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let json = |r: String| SigstoreError::Json {
            what: "Sigstore trusted root".into(),
            reason: r,
        };
        if bytes.len() > MAX_ROOT_BYTES {
            return Err(json(format!(
                "{} bytes (limit {MAX_ROOT_BYTES})",
                bytes.len()
            )));
        }
        let f: RootFile = serde_json::from_slice(bytes).map_err(|e| json(e.to_string()))?;
        if !MEDIA_TYPES.contains(&f.media_type.as_str()) {
            return Err(json(format!("media type {:?} is not known", f.media_type)));
        }
        let mut cas = Vec::new();
        for c in &f.certificate_authorities {
            let subject = format!("{}/{}", c.subject.organization, c.subject.common_name);
            let what = format!("Fulcio CA {subject} {}", c.uri);
            if c.cert_chain.certificates.is_empty() || c.cert_chain.certificates.len() > 8 {
                return Err(bad(&what, "chain must hold 1 to 8 certificates"));
            }
            let mut chain = Vec::new();
            for r in &c.cert_chain.certificates {
                let der = super::b64(&r.raw_bytes).map_err(|e| bad(&what, e.to_string()))?;
                super::cert::parse(&der).map_err(|e| bad(&what, e))?;
                chain.push(der);
            }
            cas.push(CertificateAuthority {
                subject,
                uri: c.uri.clone(),
                chain,
                validity: validity(&c.valid_for, &what)?,
            });
        }
        let tlogs = f
            .tlogs
            .iter()
            .map(|l| log(l, "Rekor log"))
            .collect::<Result<Vec<_>, _>>()?;
        let ctlogs = f
            .ctlogs
            .iter()
            .map(|l| log(l, "CT log"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedRoot {
            media_type: f.media_type,
            certificate_authorities: cas,
            tlogs,
            ctlogs,
            timestamp_authorities: f.timestamp_authorities.len(),
            sha256: crate::util::sha256_hex(bytes),
        })
    }

    /// The Rekor log with this log id.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The CT log with this log id.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }

    /// One line per CA and log, for `trust show`.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.certificate_authorities {
            out.push(format!(
                "fulcio-ca {} {} ({} certificates) valid {}",
                c.subject,
                c.uri,
                c.chain.len(),
                c.validity.describe()
            ));
        }
        for (kind, logs) in [("rekor-log", &self.tlogs), ("ct-log", &self.ctlogs)] {
            for l in logs {
                out.push(format!(
                    "{kind} {} {:?} id {} valid {}",
                    l.base_url,
                    l.key_type,
                    hex::encode(&l.log_id),
                    l.validity.describe()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[u8] = include_bytes!("../../trust/anchors/sigstore-trusted-root.json");

    fn edit(f: impl FnOnce(&mut serde_json::Value)) -> Result<TrustedRoot, SigstoreError> {
        let mut v: serde_json::Value = serde_json::from_slice(ROOT).unwrap();
        f(&mut v);
        TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn public_good_root_lists_its_cas_and_logs_with_key_types_and_windows() {
        let r = TrustedRoot::from_json(ROOT).unwrap();
        assert_eq!(r.certificate_authorities.len(), 2);
        assert_eq!(r.certificate_authorities[1].chain.len(), 2);
        assert!(r.certificate_authorities[1].validity.end.is_none());
        let rekor = r
            .tlogs
            .iter()
            .find(|l| l.base_url == "https://rekor.sigstore.dev")
            .unwrap();
        assert_eq!(rekor.key_type, LogKeyType::EcdsaP256Sha256);
        assert_eq!(rekor.host(), "rekor.sigstore.dev");
        let v2 = r
            .tlogs
            .iter()
            .find(|l| l.key_type == LogKeyType::Ed25519)
            .unwrap();
        assert!(v2.ed25519_key().is_some());
        assert_eq!(r.ctlogs.len(), 2);
        assert_eq!(r.describe().len(), 6);
    }

    #[test]
    fn root_whose_log_id_is_not_the_key_hash_or_media_type_unknown_is_refused() {
        let e = edit(|v| v["tlogs"][0]["logId"]["keyId"] = "AAAA".into()).unwrap_err();
        assert!(e.to_string().contains("log id is not the SHA-256"), "{e}");
        assert!(edit(|v| v["mediaType"] = "application/json".into()).is_err());
        assert!(
            edit(|v| v["certificateAuthorities"][0]["validFor"]["start"] = "yesterday".into())
                .is_err()
        );
        assert!(edit(
            |v| v["certificateAuthorities"][0]["certChain"]["certificates"] = serde_json::json!([])
        )
        .is_err());
        let big = vec![b' '; MAX_ROOT_BYTES + 1];
        assert!(TrustedRoot::from_json(&big).is_err());
    }

    #[test]
    fn unknown_log_key_type_is_kept_but_marked_unsupported() {
        let r = edit(|v| {
            v["ctlogs"][0]["publicKey"]["keyDetails"] = "PKIX_RSA_PKCS1V15_2048_SHA256".into()
        })
        .unwrap();
        assert!(matches!(r.ctlogs[0].key_type, LogKeyType::Unsupported(_)));
    }
}
