//! TEST-ONLY NVIDIA-like platform for the GPU checks: synthetic P-384
//! certificate chains (device identity and RIM signing), SPDM re-signing
//! and RIM re-signing, plus helpers to audit a modified real attestation
//! document. Nothing here is trusted by the production trust set; the
//! names say "TEST-ONLY" so that no report can mistake them for NVIDIA's.
#![allow(dead_code)]

use std::path::PathBuf;
use std::str::FromStr;

use base64::Engine;
use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::evidence::gpu::{spdm, xml};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use der::asn1::{BitString, GeneralizedTime, OctetString, Utf8StringRef};
use der::{Any, Encode};
use p384::ecdsa::signature::Signer;
use p384::ecdsa::{Signature, SigningKey};
use p384::pkcs8::EncodePublicKey;
use serde_json::Value;
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

pub const DOC_2024: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2024-01.json");
pub const DOC_2023: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2023-12.json");
/// When the January document was served (its bundle's collection time).
pub const TIME_2024: &str = "2024-01-15T00:00:00Z";
pub const GPU_IDS: &[&str] = &[
    "gpu.spdm-signature",
    "gpu.device-chain",
    "gpu.rim-signature",
    "gpu.versions",
    "gpu.measurements",
    "gpu.binding",
];

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn t(s: &str) -> OffsetDateTime {
    blyss_evidence::util::parse_time(s).unwrap()
}

pub fn doc_json(doc: &[u8]) -> Value {
    serde_json::from_slice(doc).unwrap()
}

/// `gpu_attestation.gpus[0]` of a document value.
pub fn gpu0(v: &mut Value) -> &mut Value {
    &mut v["gpu_attestation"]["gpus"][0]
}

pub fn response(v: &mut Value) -> &mut Value {
    &mut gpu0(v)["attestation_report_obj"]["response"]
}

/// A protocol like Blyss v0.0.1 with `sections.gpu` replaced.
pub fn protocol_with_gpu(section: Value) -> Protocol {
    let mut p: Value =
        serde_json::from_slice(&std::fs::read(root().join("protocol/blyss-v0.0.1.json")).unwrap())
            .unwrap();
    p["id"] = "test-gpu".into();
    p["sections"]["gpu"] = section;
    Protocol::parse(&serde_json::to_vec(&p).unwrap(), "test-gpu").unwrap()
}

/// Seals `doc` into a bundle collected at `collected` and audits it.
pub fn audit_doc(
    doc: &[u8],
    protocol: &Protocol,
    trust: &TrustSet,
    collected: &str,
    opts: AuditOptions,
) -> Report {
    let at = t(collected);
    let mut b = BundleBuilder::new("https://enclave.blyss.dev", &protocol.id, at);
    b.add("attestation.json", doc.to_vec(), Source::file(at))
        .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "gpu-test.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..opts
    };
    audit(&bundle, protocol, trust, &opts, at)
}

/// Audits a document value with protocol v0.0.1, the production trust set,
/// collected at [`TIME_2024`].
pub fn audit_value(v: &Value) -> Report {
    audit_doc(
        &serde_json::to_vec(v).unwrap(),
        &Protocol::load("v0.0.1").unwrap(),
        &TrustSet::production(),
        TIME_2024,
        AuditOptions::default(),
    )
}

pub fn result<'a>(r: &'a Report, id: &str, subject: &str) -> &'a CheckResult {
    r.checks
        .iter()
        .find(|c| c.id == id && c.subject.as_deref() == Some(subject))
        .unwrap_or_else(|| {
            panic!(
                "no {id} [{subject}] in {:#?}",
                r.checks
                    .iter()
                    .map(|c| (&c.id, &c.subject))
                    .collect::<Vec<_>>()
            )
        })
}

pub fn status(r: &Report, id: &str) -> Status {
    result(r, id, "gpu0").status
}

/// Statuses of the six GPU checks of gpu0, in [`GPU_IDS`] order.
pub fn statuses(r: &Report) -> Vec<Status> {
    GPU_IDS.iter().map(|id| status(r, id)).collect()
}

// ---------------------------------------------------------------------
// Synthetic certificates.

/// A deterministic TEST-ONLY P-384 key.
pub fn test_key(n: u8) -> SigningKey {
    let mut b = [n; 48];
    b[0] = 0x01; // well below the group order
    SigningKey::from_slice(&b).unwrap()
}

pub struct CertSpec<'a> {
    pub subject: &'a str,
    pub issuer: &'a str,
    pub key: &'a SigningKey,
    pub issuer_key: &'a SigningKey,
    pub ca: bool,
    pub not_before: &'a str,
    pub not_after: &'a str,
    /// NVIDIA SAN otherName value (`NVIDIA:GH100:…`).
    pub san: Option<&'a str>,
    pub serial: u8,
}

fn ext(oid: &str, critical: bool, der: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid.parse().unwrap(),
        critical,
        extn_value: OctetString::new(der).unwrap(),
    }
}

/// A TEST-ONLY certificate (DER) signed with ecdsa-with-SHA384.
pub fn make_cert(s: &CertSpec) -> Vec<u8> {
    let alg = AlgorithmIdentifierOwned {
        oid: "1.2.840.10045.4.3.3".parse().unwrap(),
        parameters: None,
    };
    let spki_der = s
        .key
        .verifying_key()
        .to_public_key_der()
        .unwrap()
        .into_vec();
    let spki: SubjectPublicKeyInfoOwned = der::Decode::from_der(&spki_der).unwrap();
    let gt = |x: &str| {
        Time::GeneralTime(
            GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                t(x).unix_timestamp() as u64,
            ))
            .unwrap(),
        )
    };
    let mut exts = vec![];
    if s.ca {
        exts.push(ext(
            "2.5.29.19",
            true,
            BasicConstraints {
                ca: true,
                path_len_constraint: None,
            }
            .to_der()
            .unwrap(),
        ));
        exts.push(ext(
            "2.5.29.15",
            true,
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                .to_der()
                .unwrap(),
        ));
    } else {
        exts.push(ext(
            "2.5.29.15",
            true,
            KeyUsage(KeyUsages::DigitalSignature.into())
                .to_der()
                .unwrap(),
        ));
    }
    if let Some(san) = s.san {
        let value = Any::encode_from(&Utf8StringRef::new(san).unwrap()).unwrap();
        let gn = GeneralName::OtherName(OtherName {
            type_id: "1.3.6.1.4.1.412.274.1".parse().unwrap(),
            value,
        });
        exts.push(ext(
            "2.5.29.17",
            false,
            SubjectAltName(vec![gn]).to_der().unwrap(),
        ));
    }
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[s.serial]).unwrap(),
        signature: alg.clone(),
        issuer: Name::from_str(s.issuer).unwrap(),
        validity: Validity {
            not_before: gt(s.not_before),
            not_after: gt(s.not_after),
        },
        subject: Name::from_str(s.subject).unwrap(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(exts),
    };
    let sig: Signature = s.issuer_key.sign(&tbs.to_der().unwrap());
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig.to_der().to_bytes()).unwrap(),
    }
    .to_der()
    .unwrap()
}

pub fn pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap()
}

/// A TEST-ONLY chain: leaf (SAN `NVIDIA:GH100:…`) → intermediate → root.
pub struct TestChain {
    pub leaf_key: SigningKey,
    /// DER, leaf first, root last.
    pub certs: Vec<Vec<u8>>,
}

impl TestChain {
    pub fn new(seed: u8, label: &str, san: Option<&str>) -> TestChain {
        let root_key = test_key(seed);
        let ica_key = test_key(seed + 1);
        let leaf_key = test_key(seed + 2);
        let root_dn = format!("CN=TEST-ONLY {label} Root,O=blyss-evidence tests");
        let ica_dn = format!("CN=TEST-ONLY {label} ICA,O=blyss-evidence tests");
        let leaf_dn = format!("CN=TEST-ONLY {label} Leaf,O=blyss-evidence tests");
        let root = make_cert(&CertSpec {
            subject: &root_dn,
            issuer: &root_dn,
            key: &root_key,
            issuer_key: &root_key,
            ca: true,
            not_before: "2020-01-01T00:00:00Z",
            not_after: "2099-01-01T00:00:00Z",
            san: None,
            serial: 1,
        });
        let ica = make_cert(&CertSpec {
            subject: &ica_dn,
            issuer: &root_dn,
            key: &ica_key,
            issuer_key: &root_key,
            ca: true,
            not_before: "2020-01-01T00:00:00Z",
            not_after: "2099-01-01T00:00:00Z",
            san: None,
            serial: 2,
        });
        let leaf = make_cert(&CertSpec {
            subject: &leaf_dn,
            issuer: &ica_dn,
            key: &leaf_key,
            issuer_key: &ica_key,
            ca: false,
            not_before: "2020-01-01T00:00:00Z",
            not_after: "2099-01-01T00:00:00Z",
            san,
            serial: 3,
        });
        TestChain {
            leaf_key,
            certs: vec![leaf, ica, root],
        }
    }

    pub fn root(&self) -> Vec<u8> {
        self.certs.last().unwrap().clone()
    }
}

/// Replaces gpu0's device chain with `chain` and re-signs its SPDM
/// response with the chain's leaf key.
pub fn resign_spdm(v: &mut Value, chain: &TestChain) {
    gpu0(v)["gpu_attestation_cert_chain"] =
        Value::Array(chain.certs.iter().map(|c| Value::String(pem(c))).collect());
    let m = spdm::Measurements::parse(
        &gpu0(v)["attestation_report_obj"],
        "gpu_attestation.gpus[0].attestation_report_obj",
    )
    .unwrap();
    let sig: Signature = chain.leaf_key.sign(&m.signed_message());
    response(v)["signature"] = hex::encode(sig.to_bytes()).into();
}

/// Re-signs a (modified) RIM text with `chain` (enveloped XMLDSig, C14N
/// 1.1, ecdsa-sha384), keeping the rest of the signature element.
pub fn resign_rim(text: &str, chain: &TestChain) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let between = |s: &str, open: &str, close: &str| -> (usize, usize) {
        let a = s.find(open).unwrap() + open.len();
        let b = a + s[a..].find(close).unwrap();
        (a, b)
    };
    // 1. document digest (the signature element is excluded, so its
    //    content does not matter yet).
    let root = xml::parse(text).unwrap();
    let c14n = xml::canonicalize(&root, &|e| {
        e.is("http://www.w3.org/2000/09/xmldsig#", "Signature")
    });
    let digest = blyss_evidence::util::sha384(&c14n);
    let (a, b) = between(text, "<ds:DigestValue>", "</ds:DigestValue>");
    let mut s = format!("{}{}{}", &text[..a], b64(&digest), &text[b..]);
    // 2. the certificates.
    let (a, b) = between(&s, "<ds:X509Data>", "</ds:X509Data>");
    let certs: String = chain
        .certs
        .iter()
        .map(|c| format!("<ds:X509Certificate>{}</ds:X509Certificate>", b64(c)))
        .collect();
    s = format!("{}{}{}", &s[..a], certs, &s[b..]);
    // 3. the signature over the canonical SignedInfo.
    let root = xml::parse(&s).unwrap();
    let sig_el = root
        .elements()
        .find(|e| e.is("http://www.w3.org/2000/09/xmldsig#", "Signature"))
        .unwrap();
    let si = sig_el.elements().next().unwrap();
    let sig: Signature = chain.leaf_key.sign(&xml::canonicalize(si, &|_| false));
    let (a, b) = between(&s, "<ds:SignatureValue>", "</ds:SignatureValue>");
    format!("{}{}{}", &s[..a], b64(&sig.to_bytes()), &s[b..])
}

/// The production trust set with NVIDIA roots replaced (TEST-ONLY).
pub fn test_trust(device_roots: Vec<Vec<u8>>, rim_roots: Vec<Vec<u8>>) -> TrustSet {
    let mut t = TrustSet::production();
    t.name = "TEST-ONLY gpu".into();
    t.production = false;
    t.nvidia_device_roots = device_roots;
    t.nvidia_rim_roots = rim_roots;
    t
}
