//! Trust sets: the anchors every check verifies against. Nothing in a bundle
//! is ever used as an anchor.
//!
//! The production set is embedded in the binary and is the default.
//! `--trust FILE` loads another set (test platforms, private CAs); any set
//! other than the embedded production one is reported as **non-production**
//! in every output format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Schema id of a trust file.
pub const SCHEMA: &str = "blyss-evidence.trust/v1";

#[derive(Debug, Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("trust file {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// AMD root pair for one product line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdRoots {
    /// ARK certificate DER.
    pub ark: Vec<u8>,
    /// ASK certificate DER.
    pub ask: Vec<u8>,
    /// ASVK certificate DER ("SEV-VLEK-<product>"): the intermediate that
    /// signs VLEKs, the keys a cloud provider's guests sign reports with
    /// (AMD KDS `/vlek/v1/{product}/cert_chain`). `None`: VLEK-signed
    /// reports of this product cannot chain to this trust set.
    pub asvk: Option<Vec<u8>>,
}

/// A named, versioned set of trust anchors.
#[derive(Debug, Clone)]
pub struct TrustSet {
    pub name: String,
    pub version: String,
    /// True only for the embedded production set.
    pub production: bool,
    /// AMD ARK/ASK by product line (`Milan`, `Genoa`, `Turin`).
    pub amd: BTreeMap<String, AmdRoots>,
    /// SPKI DER of keys allowed to sign the CT log list.
    pub ct_log_list_keys: Vec<Vec<u8>>,
    /// A log list (JSON, Google v3 schema) used when a bundle has none.
    pub ct_log_list_snapshot: Option<Vec<u8>>,
    /// NVIDIA Device Identity CA certificates (DER).
    pub nvidia_device_roots: Vec<Vec<u8>>,
    /// NVIDIA RIM signing root certificates (DER).
    pub nvidia_rim_roots: Vec<Vec<u8>>,
    /// Whether Mozilla's WebPKI roots (webpki-roots) are trusted for TLS.
    pub webpki_mozilla: bool,
    /// Extra TLS root CAs (DER), e.g. a test CA.
    pub tls_roots: Vec<Vec<u8>>,
    /// Sigstore trusted root (`trusted_root.json` bytes): the Fulcio CAs,
    /// Rekor logs and CT logs a Sigstore bundle is verified against. The
    /// production set embeds `anchors/sigstore-trusted-root.json`, pinned
    /// by [`SIGSTORE_TRUSTED_ROOT_SHA256`].
    pub sigstore_trusted_root: Option<Vec<u8>>,
}

/// SHA-256 of the embedded Sigstore trusted root (the public-good instance's
/// `trusted_root.json` as shipped by tinfoilsh/verifier, commit 77e68207):
/// a unit test fails if the file changes without this pin.
pub const SIGSTORE_TRUSTED_ROOT_SHA256: &str =
    "6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66";

/// One anchor, for display (`trust show`, reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorInfo {
    /// What it anchors (`amd.genoa.ark`, `ct.log-list-key`, …).
    pub role: String,
    /// Subject or description.
    pub name: String,
    /// sha256 of the DER.
    pub sha256: String,
}

fn cert_subject(der: &[u8]) -> String {
    use der::Decode;
    match x509_cert::Certificate::from_der(der) {
        Ok(c) => c.tbs_certificate.subject.to_string(),
        Err(_) => "(public key)".to_string(),
    }
}

fn pem_or_der_certs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.starts_with(b"-----BEGIN")
        || bytes.iter().take(64).all(|b| b.is_ascii())
            && bytes.windows(10).any(|w| w == b"-----BEGIN")
    {
        let text = std::str::from_utf8(bytes).map_err(|_| "PEM is not UTF-8".to_string())?;
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN ") {
            let end_marker = rest[start..]
                .find("-----END ")
                .ok_or("unterminated PEM block")?;
            let tail = &rest[start + end_marker..];
            let line_end = tail.find('\n').map(|i| i + 1).unwrap_or(tail.len());
            let block = &rest[start..start + end_marker + line_end];
            let (_, der) = der::pem::decode_vec(block.as_bytes()).map_err(|e| e.to_string())?;
            out.push(der);
            rest = &rest[start + end_marker + line_end..];
        }
        if out.is_empty() {
            return Err("no PEM block".into());
        }
        Ok(out)
    } else {
        Ok(vec![bytes.to_vec()])
    }
}

/// Parses every certificate in a PEM bundle (or a single DER).
pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    pem_or_der_certs(bytes)
}

impl TrustSet {
    /// The embedded production trust set.
    pub fn production() -> TrustSet {
        use der::Encode;
        let mut amd = BTreeMap::new();
        // The ASVK chains are AMD KDS's `/vlek/v1/{product}/cert_chain`
        // (ASVK then ARK), embedded as served; only the ASVK is taken from
        // them, the ARK stays the `sev` crate's (a unit test checks they are
        // the same certificate and that each ASVK verifies under it).
        let pair = |ark: sev::certs::snp::Certificate,
                    ask: sev::certs::snp::Certificate,
                    vlek_chain: &[u8]| {
            let ark: x509_cert::Certificate = ark.into();
            let ask: x509_cert::Certificate = ask.into();
            let asvk = pem_or_der_certs(vlek_chain)
                .expect("embedded ASVK chain")
                .into_iter()
                .next();
            AmdRoots {
                ark: ark.to_der().expect("builtin encodes"),
                ask: ask.to_der().expect("builtin encodes"),
                asvk,
            }
        };
        use sev::certs::snp::builtin::{genoa, milan, turin};
        amd.insert(
            "Milan".into(),
            pair(
                milan::ark().expect("builtin"),
                milan::ask().expect("builtin"),
                include_bytes!("anchors/amd-milan-vlek-chain.pem"),
            ),
        );
        amd.insert(
            "Genoa".into(),
            pair(
                genoa::ark().expect("builtin"),
                genoa::ask().expect("builtin"),
                include_bytes!("anchors/amd-genoa-vlek-chain.pem"),
            ),
        );
        amd.insert(
            "Turin".into(),
            pair(
                turin::ark().expect("builtin"),
                turin::ask().expect("builtin"),
                include_bytes!("anchors/amd-turin-vlek-chain.pem"),
            ),
        );
        let key = pem_or_der_certs(include_bytes!("anchors/google-log-list-pubkey.pem"))
            .expect("embedded key");
        TrustSet {
            name: "blyss-evidence-production".into(),
            version: "2026.11".into(),
            production: true,
            amd,
            ct_log_list_keys: key,
            ct_log_list_snapshot: Some(include_bytes!("anchors/log_list_snapshot.json").to_vec()),
            nvidia_device_roots: pem_or_der_certs(include_bytes!("anchors/nvidia-device-root.pem"))
                .expect("embedded"),
            nvidia_rim_roots: pem_or_der_certs(include_bytes!("anchors/nvidia-rim-root.pem"))
                .expect("embedded"),
            webpki_mozilla: true,
            tls_roots: Vec::new(),
            sigstore_trusted_root: Some(
                include_bytes!("anchors/sigstore-trusted-root.json").to_vec(),
            ),
        }
    }

    /// Loads a trust file (see `protocol/trust-file.md`). Paths inside are
    /// relative to the file's directory.
    pub fn load(path: &Path) -> Result<TrustSet, TrustError> {
        let text = std::fs::read(path).map_err(|e| TrustError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::parse(&text, &base, &path.display().to_string())
    }

    /// Parses trust file bytes, resolving file names against `base`.
    pub fn parse(bytes: &[u8], base: &Path, name: &str) -> Result<TrustSet, TrustError> {
        let inv = |r: String| TrustError::Invalid {
            path: name.into(),
            reason: r,
        };
        let f: TrustFile = serde_json::from_slice(bytes).map_err(|e| inv(e.to_string()))?;
        if f.schema != SCHEMA {
            return Err(inv(format!("schema {:?}, expected {SCHEMA:?}", f.schema)));
        }
        let read = |p: &str| -> Result<Vec<u8>, TrustError> {
            let full: PathBuf = base.join(p);
            std::fs::read(&full).map_err(|e| TrustError::Io {
                path: full.display().to_string(),
                source: e,
            })
        };
        let certs = |p: &str| -> Result<Vec<Vec<u8>>, TrustError> {
            pem_or_der_certs(&read(p)?).map_err(|e| inv(format!("{p}: {e}")))
        };
        let mut amd = BTreeMap::new();
        for (product, r) in &f.amd {
            let ark = certs(&r.ark)?
                .into_iter()
                .next()
                .ok_or_else(|| inv(format!("{product}: empty ARK")))?;
            let ask = certs(&r.ask)?
                .into_iter()
                .next()
                .ok_or_else(|| inv(format!("{product}: empty ASK")))?;
            let asvk = match &r.asvk {
                Some(p) => Some(
                    certs(p)?
                        .into_iter()
                        .next()
                        .ok_or_else(|| inv(format!("{product}: empty ASVK")))?,
                ),
                None => None,
            };
            amd.insert(product.clone(), AmdRoots { ark, ask, asvk });
        }
        let mut ct_keys = Vec::new();
        for k in &f.ct.log_list_keys {
            ct_keys.extend(certs(k)?);
        }
        let snapshot = match &f.ct.log_list_snapshot {
            Some(p) => Some(read(p)?),
            None => None,
        };
        let mut dev = Vec::new();
        for p in &f.nvidia.device_roots {
            dev.extend(certs(p)?);
        }
        let mut rim = Vec::new();
        for p in &f.nvidia.rim_roots {
            rim.extend(certs(p)?);
        }
        let mut tls = Vec::new();
        for p in &f.tls.roots {
            tls.extend(certs(p)?);
        }
        let sigstore_trusted_root = match &f.sigstore.trusted_root {
            Some(p) => {
                // Shape only here (this layer knows no evidence parser): the
                // full, strict parse is `evidence::sigstore::trusted_root_of`,
                // and a root that fails it fails every Sigstore step.
                let bytes = read(p)?;
                sigstore_root_summary(&bytes).map_err(|e| inv(format!("{p}: {e}")))?;
                Some(bytes)
            }
            None => None,
        };
        Ok(TrustSet {
            name: f.name,
            version: f.version,
            production: false,
            amd,
            ct_log_list_keys: ct_keys,
            ct_log_list_snapshot: snapshot,
            nvidia_device_roots: dev,
            nvidia_rim_roots: rim,
            webpki_mozilla: f.tls.mozilla_roots,
            tls_roots: tls,
            sigstore_trusted_root,
        })
    }

    /// Every anchor with its fingerprint, sorted by role.
    pub fn anchors(&self) -> Vec<AnchorInfo> {
        let h = crate::util::sha256_hex;
        let mut out = Vec::new();
        for (p, r) in &self.amd {
            let pl = p.to_lowercase();
            out.push(AnchorInfo {
                role: format!("amd.{pl}.ark"),
                name: cert_subject(&r.ark),
                sha256: h(&r.ark),
            });
            out.push(AnchorInfo {
                role: format!("amd.{pl}.ask"),
                name: cert_subject(&r.ask),
                sha256: h(&r.ask),
            });
            if let Some(asvk) = &r.asvk {
                out.push(AnchorInfo {
                    role: format!("amd.{pl}.asvk"),
                    name: cert_subject(asvk),
                    sha256: h(asvk),
                });
            }
        }
        for k in &self.ct_log_list_keys {
            out.push(AnchorInfo {
                role: "ct.log-list-key".into(),
                name: "CT log list signing key (SPKI)".into(),
                sha256: h(k),
            });
        }
        if let Some(s) = &self.ct_log_list_snapshot {
            out.push(AnchorInfo {
                role: "ct.log-list-snapshot".into(),
                name: "embedded CT log list snapshot".into(),
                sha256: h(s),
            });
        }
        for c in &self.nvidia_device_roots {
            out.push(AnchorInfo {
                role: "nvidia.device-root".into(),
                name: cert_subject(c),
                sha256: h(c),
            });
        }
        for c in &self.nvidia_rim_roots {
            out.push(AnchorInfo {
                role: "nvidia.rim-root".into(),
                name: cert_subject(c),
                sha256: h(c),
            });
        }
        if self.webpki_mozilla {
            out.push(AnchorInfo {
                role: "tls.mozilla-roots".into(),
                name: format!(
                    "Mozilla root program (webpki-roots, {} roots)",
                    webpki_roots::TLS_SERVER_ROOTS.len()
                ),
                sha256: mozilla_roots_digest(),
            });
        }
        for c in &self.tls_roots {
            out.push(AnchorInfo {
                role: "tls.root".into(),
                name: cert_subject(c),
                sha256: h(c),
            });
        }
        if let Some(r) = &self.sigstore_trusted_root {
            let name = match sigstore_root_summary(r) {
                Ok(s) => s,
                Err(e) => format!("Sigstore trusted root (malformed: {e})"),
            };
            out.push(AnchorInfo {
                role: "sigstore.trusted-root".into(),
                name,
                sha256: h(r),
            });
        }
        out
    }

    /// Digest of the whole set: sha256 over `role sha256\n` lines in order.
    pub fn digest(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.name, self.version, self.production);
        for a in self.anchors() {
            s.push_str(&format!("{} {}\n", a.role, a.sha256));
        }
        crate::util::sha256_hex(s.as_bytes())
    }
}

/// `Sigstore trusted root (N Fulcio CAs, M Rekor logs, K CT logs)` for a
/// `trusted_root.json`, or why it is not one (JSON with a Sigstore
/// trusted-root media type).
fn sigstore_root_summary(bytes: &[u8]) -> Result<String, String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mt = v["mediaType"].as_str().unwrap_or("");
    if !mt.starts_with("application/vnd.dev.sigstore.trustedroot") {
        return Err(format!("media type {mt:?} is not a Sigstore trusted root"));
    }
    let n = |k: &str| v[k].as_array().map_or(0, |a| a.len());
    Ok(format!(
        "Sigstore trusted root ({} Fulcio CAs, {} Rekor logs, {} CT logs)",
        n("certificateAuthorities"),
        n("tlogs"),
        n("ctlogs")
    ))
}

/// Digest of the embedded Mozilla roots (webpki-roots), so that `trust
/// show` and the trust-set digest change when the root program does: each
/// root is encoded as three length-prefixed fields (u32 big-endian length,
/// then bytes) — subject DER, SubjectPublicKeyInfo DER, name constraints
/// DER (empty when none) — the encodings are sorted bytewise, concatenated,
/// and hashed with SHA-256 (protocol/trust-file.md).
pub fn mozilla_roots_digest() -> String {
    let mut entries: Vec<Vec<u8>> = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|a| {
            let mut e = Vec::new();
            let nc: &[u8] = a.name_constraints.as_deref().unwrap_or(&[]);
            for part in [a.subject.as_ref(), a.subject_public_key_info.as_ref(), nc] {
                e.extend_from_slice(&(part.len() as u32).to_be_bytes());
                e.extend_from_slice(part);
            }
            e
        })
        .collect();
    entries.sort();
    crate::util::sha256_hex(&entries.concat())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    schema: String,
    name: String,
    version: String,
    #[serde(default)]
    amd: BTreeMap<String, AmdFile>,
    #[serde(default)]
    ct: CtFile,
    #[serde(default)]
    nvidia: NvidiaFile,
    #[serde(default)]
    tls: TlsFile,
    #[serde(default)]
    sigstore: SigstoreFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigstoreFile {
    /// A Sigstore `trusted_root.json`.
    #[serde(default)]
    trusted_root: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AmdFile {
    ark: String,
    ask: String,
    /// The product's ASVK (VLEK signer), optional.
    #[serde(default)]
    asvk: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CtFile {
    #[serde(default)]
    log_list_keys: Vec<String>,
    #[serde(default)]
    log_list_snapshot: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NvidiaFile {
    #[serde(default)]
    device_roots: Vec<String>,
    #[serde(default)]
    rim_roots: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    #[serde(default)]
    mozilla_roots: bool,
    #[serde(default)]
    roots: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_set_has_pinned_fingerprints() {
        let t = TrustSet::production();
        assert!(t.production);
        let a = t.anchors();
        let find = |role: &str| a.iter().find(|x| x.role == role).unwrap().sha256.clone();
        assert_eq!(
            find("nvidia.device-root"),
            "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
        );
        assert_eq!(
            find("nvidia.rim-root"),
            "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"
        );
        assert_eq!(
            find("ct.log-list-key"),
            "f1d8b68e50210d8e73d9a3e97f571773c52d7f28c0b1a71beee81d8562e6fd85"
        );
        assert!(a.iter().any(|x| x.role == "amd.genoa.ark"));
        // The ASVKs of AMD KDS `/vlek/v1/{product}/cert_chain`, pinned by
        // DER sha256 (checked independently with openssl).
        assert_eq!(
            find("amd.milan.asvk"),
            "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"
        );
        assert_eq!(
            find("amd.genoa.asvk"),
            "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"
        );
        assert_eq!(
            find("amd.turin.asvk"),
            "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"
        );
    }

    #[test]
    fn each_embedded_asvk_verifies_under_its_products_ark_and_the_chain_ark_is_the_same() {
        use crate::evidence::amd::{common_name, parse_cert, verify_cert_signature};
        let t = TrustSet::production();
        let chains: [(&str, &[u8]); 3] = [
            ("Milan", include_bytes!("anchors/amd-milan-vlek-chain.pem")),
            ("Genoa", include_bytes!("anchors/amd-genoa-vlek-chain.pem")),
            ("Turin", include_bytes!("anchors/amd-turin-vlek-chain.pem")),
        ];
        for (p, chain) in chains {
            let r = &t.amd[p];
            let asvk = r.asvk.as_ref().unwrap();
            let ark = parse_cert(&r.ark, "ARK").unwrap();
            verify_cert_signature(asvk, &ark).unwrap();
            let c = parse_cert(asvk, "ASVK").unwrap();
            assert_eq!(
                common_name(&c.tbs_certificate.subject).unwrap(),
                format!("SEV-VLEK-{p}")
            );
            // KDS's chain ends with the very ARK the sev crate embeds.
            let certs = pem_or_der_certs(chain).unwrap();
            assert_eq!(certs.len(), 2);
            assert_eq!(certs[1], r.ark, "{p} ARK differs");
            // And no ASVK verifies under another product's ARK.
            for (q, other) in &t.amd {
                if q != p {
                    let ark = parse_cert(&other.ark, "ARK").unwrap();
                    assert!(verify_cert_signature(asvk, &ark).is_err(), "{p} under {q}");
                }
            }
        }
    }

    #[test]
    fn embedded_sigstore_trusted_root_is_the_pinned_file_and_parses() {
        let t = TrustSet::production();
        let bytes = t.sigstore_trusted_root.as_ref().unwrap();
        assert_eq!(crate::util::sha256_hex(bytes), SIGSTORE_TRUSTED_ROOT_SHA256);
        let a = t.anchors();
        let r = a
            .iter()
            .find(|x| x.role == "sigstore.trusted-root")
            .unwrap();
        assert_eq!(r.sha256, SIGSTORE_TRUSTED_ROOT_SHA256);
        let root = crate::evidence::sigstore::trusted_root_of(&t).unwrap();
        assert_eq!(root.certificate_authorities.len(), 2);
        assert!(root
            .tlogs
            .iter()
            .any(|l| l.base_url == "https://rekor.sigstore.dev"));
        assert!(root
            .ctlogs
            .iter()
            .any(|l| l.base_url == "https://ctfe.sigstore.dev/2022"));
    }

    #[test]
    fn loaded_sets_are_never_production() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.json");
        std::fs::write(
            &f,
            br#"{"schema":"blyss-evidence.trust/v1","name":"t","version":"1"}"#,
        )
        .unwrap();
        let t = TrustSet::load(&f).unwrap();
        assert!(!t.production);
        assert_ne!(t.digest(), TrustSet::production().digest());
    }
}
