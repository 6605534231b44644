//! **TEST-ONLY** Sigstore instance (cargo feature `test-platform`): a test
//! Fulcio CA (root + intermediate), a test CT log, a test Rekor v1 log
//! (ECDSA P-256) and a test Rekor v2 log (Ed25519), all with fixed keys
//! derived from labels, and a signer that mints Sigstore bundles v0.3 for a
//! chosen identity (SAN URI) and payload, plus the matching trusted root.
//!
//! Used to build negatives the real bundle cannot give — a Fulcio
//! certificate for another repository or workflow, a statement with another
//! measurement — that still verify everywhere else, so the step under test
//! is the only one that fails. Trusted by nothing unless a test passes
//! [`TestSigstore::trusted_root_json`] (e.g. in a `--trust` file).

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BitString, Ia5String, OctetString, UtcTime};
use der::{Decode, Encode};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use super::bundle::{canonical_json, MEDIA_TYPE_V03};
use super::{b64e, pae, rekor, TrustedRoot};
use crate::evidence::ct::{merkle, precert, sct::Sct, tls_codec::Writer};

/// Base URL of the test Rekor v1 log (key name `rekor.test`).
pub const REKOR_URL: &str = "https://rekor.test";
/// Base URL of the test Rekor v2 log (Ed25519, origin `rekor2.test`).
pub const REKOR_V2_URL: &str = "https://rekor2.test";
/// Base URL of the test CT log.
pub const CT_URL: &str = "https://ctfe.test";
/// The GitHub Actions OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// Validity start of every test CA and log (2020-01-01T00:00:00Z).
pub const VALID_FROM: i64 = 1_577_836_800;

/// `https://github.com/{repository}/{workflow}@{git_ref}`.
pub fn github_san(repository: &str, workflow: &str, git_ref: &str) -> String {
    format!("https://github.com/{repository}/{workflow}@{git_ref}")
}

fn key(label: &str) -> SigningKey {
    let seed = crate::util::sha256(format!("blyss-evidence test sigstore {label}").as_bytes());
    SigningKey::from_slice(&seed).expect("a SHA-256 output is a valid P-256 scalar here")
}

fn spki_der(k: &SigningKey) -> Vec<u8> {
    k.verifying_key()
        .to_public_key_der()
        .expect("P-256 SPKI encodes")
        .as_bytes()
        .to_vec()
}

fn sign_der(k: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let s: Signature = k.sign(msg);
    s.to_der().as_bytes().to_vec()
}

fn x509_time(t: i64) -> Time {
    Time::UtcTime(
        UtcTime::from_unix_duration(Duration::from_secs(t.max(0) as u64))
            .expect("time before 2050"),
    )
}

fn ext(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: const_oid::ObjectIdentifier::new(oid).expect("valid OID"),
        critical,
        extn_value: OctetString::new(value).expect("extension value"),
    }
}

fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: const_oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        parameters: None,
    }
}

fn tbs(
    serial: u8,
    issuer: &Name,
    subject: &Name,
    spki: &[u8],
    not_before: i64,
    not_after: i64,
    extensions: Vec<Extension>,
) -> TbsCertificate {
    TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial]).expect("serial"),
        signature: ecdsa_sha256(),
        issuer: issuer.clone(),
        validity: Validity {
            not_before: x509_time(not_before),
            not_after: x509_time(not_after),
        },
        subject: subject.clone(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(spki).expect("SPKI"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

fn sign_tbs(t: TbsCertificate, k: &SigningKey) -> Vec<u8> {
    let der = t.to_der().expect("TBS encodes");
    let sig = sign_der(k, &der);
    Certificate {
        tbs_certificate: t,
        signature_algorithm: ecdsa_sha256(),
        signature: BitString::from_bytes(&sig).expect("signature"),
    }
    .to_der()
    .expect("certificate encodes")
}

fn ca_exts() -> Vec<Extension> {
    vec![
        ext(
            "2.5.29.19",
            true,
            BasicConstraints {
                ca: true,
                path_len_constraint: None,
            }
            .to_der()
            .unwrap(),
        ),
        ext(
            "2.5.29.15",
            true,
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                .to_der()
                .unwrap(),
        ),
    ]
}

/// What the Fulcio leaf says.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub san_uri: String,
    /// OIDC issuer, written in both issuer extensions.
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// Where the Rekor entry sits.
#[derive(Debug, Clone)]
pub struct EntrySpec {
    /// Integrated time (v1; also the leaf's time frame).
    pub integrated_time: i64,
    /// Global log index (what the SET signs).
    pub log_index: u64,
    /// Index in the test tree.
    pub shard_index: u64,
    /// Size of the test tree (at most 1024).
    pub tree_size: u64,
}

impl Default for EntrySpec {
    fn default() -> Self {
        EntrySpec {
            integrated_time: 1_769_121_722,
            log_index: 845_420_855,
            shard_index: 5,
            tree_size: 7,
        }
    }
}

/// The test Sigstore instance.
pub struct TestSigstore {
    root_key: SigningKey,
    inter_key: SigningKey,
    ct_key: SigningKey,
    rekor_key: SigningKey,
    rekor_v2_key: ed25519_dalek::SigningKey,
    /// Fulcio root certificate (DER, self-signed).
    pub root_der: Vec<u8>,
    /// Fulcio intermediate (DER): the leaves' issuer.
    pub inter_der: Vec<u8>,
    inter_name: Name,
    /// Validity end of the CA in the trusted root (`None`: open).
    pub ca_valid_until: Option<i64>,
}

impl Default for TestSigstore {
    fn default() -> Self {
        Self::new("default")
    }
}

impl TestSigstore {
    /// A test instance whose keys derive from `label` (two labels give two
    /// unrelated instances: one can play "another Rekor key").
    pub fn new(label: &str) -> TestSigstore {
        let root_key = key(&format!("{label} fulcio root"));
        let inter_key = key(&format!("{label} fulcio intermediate"));
        let seed = crate::util::sha256(
            format!("blyss-evidence test sigstore {label} rekor v2").as_bytes(),
        );
        let root_name = Name::from_str("O=sigstore.test,CN=test-fulcio-root").expect("name");
        let inter_name =
            Name::from_str("O=sigstore.test,CN=test-fulcio-intermediate").expect("name");
        let until = VALID_FROM + 20 * 365 * 86_400;
        let root_der = sign_tbs(
            tbs(
                1,
                &root_name,
                &root_name,
                &spki_der(&root_key),
                VALID_FROM,
                until,
                ca_exts(),
            ),
            &root_key,
        );
        let inter_der = sign_tbs(
            tbs(
                2,
                &root_name,
                &inter_name,
                &spki_der(&inter_key),
                VALID_FROM,
                until,
                ca_exts(),
            ),
            &root_key,
        );
        TestSigstore {
            root_key,
            inter_key,
            ct_key: key(&format!("{label} ct log")),
            rekor_key: key(&format!("{label} rekor")),
            rekor_v2_key: ed25519_dalek::SigningKey::from_bytes(&seed),
            root_der,
            inter_der,
            inter_name,
            ca_valid_until: None,
        }
    }

    /// SPKI DER of the test Rekor v1 key.
    pub fn rekor_spki(&self) -> Vec<u8> {
        spki_der(&self.rekor_key)
    }

    /// The Fulcio root's signing key is kept only so the chain is real.
    pub fn root_spki(&self) -> Vec<u8> {
        spki_der(&self.root_key)
    }

    fn rekor_v2_spki(&self) -> Vec<u8> {
        let mut s = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        s.extend_from_slice(self.rekor_v2_key.verifying_key().as_bytes());
        s
    }

    /// The trusted root (protobuf-JSON) listing this instance's CA and logs.
    pub fn trusted_root_json(&self) -> Vec<u8> {
        let start =
            crate::util::fmt_time(time::OffsetDateTime::from_unix_timestamp(VALID_FROM).unwrap());
        let mut ca_valid = json!({ "start": start });
        if let Some(end) = self.ca_valid_until {
            ca_valid["end"] = json!(crate::util::fmt_time(
                time::OffsetDateTime::from_unix_timestamp(end).unwrap()
            ));
        }
        let log = |url: &str, spki: &[u8], details: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": { "rawBytes": b64e(spki), "keyDetails": details, "validFor": { "start": start } },
                "logId": { "keyId": b64e(&crate::util::sha256(spki)) }
            })
        };
        let v = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                log(REKOR_URL, &self.rekor_spki(), "PKIX_ECDSA_P256_SHA_256"),
                log(REKOR_V2_URL, &self.rekor_v2_spki(), "PKIX_ED25519"),
            ],
            "certificateAuthorities": [{
                "subject": { "organization": "sigstore.test", "commonName": "test-fulcio" },
                "uri": "https://fulcio.test",
                "certChain": { "certificates": [
                    { "rawBytes": b64e(&self.inter_der) },
                    { "rawBytes": b64e(&self.root_der) }
                ]},
                "validFor": ca_valid
            }],
            "ctlogs": [ log(CT_URL, &spki_der(&self.ct_key), "PKIX_ECDSA_P256_SHA_256") ],
            "timestampAuthorities": []
        });
        serde_json::to_vec_pretty(&v).expect("JSON")
    }

    /// The parsed trusted root.
    pub fn trusted_root(&self) -> TrustedRoot {
        TrustedRoot::from_json(&self.trusted_root_json()).expect("test root parses")
    }

    /// The production trust set with this instance's Sigstore root in place
    /// of the real one, named `test-sigstore` and never production.
    pub fn trust_set(&self) -> crate::trust::TrustSet {
        let mut t = crate::trust::TrustSet::production();
        t.name = "test-sigstore".into();
        t.production = false;
        t.sigstore_trusted_root = Some(self.trusted_root_json());
        t
    }

    /// Writes into `dir` a trust file (`trust.json`, for `--trust`) holding
    /// every production anchor (AMD ARK/ASK/ASVK, CT log-list key and
    /// snapshot, NVIDIA roots, Mozilla roots) but this instance's Sigstore
    /// root, with the files it names. Returns the trust file's path.
    pub fn write_trust_file(&self, dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
        let prod = crate::trust::TrustSet::production();
        let pem = |der: &[u8]| {
            der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).expect("PEM")
        };
        let mut amd = serde_json::Map::new();
        for (product, r) in &prod.amd {
            let lower = product.to_lowercase();
            let mut e = json!({
                "ark": format!("amd-{lower}-ark.pem"),
                "ask": format!("amd-{lower}-ask.pem"),
            });
            std::fs::write(dir.join(format!("amd-{lower}-ark.pem")), pem(&r.ark))?;
            std::fs::write(dir.join(format!("amd-{lower}-ask.pem")), pem(&r.ask))?;
            if let Some(asvk) = &r.asvk {
                std::fs::write(dir.join(format!("amd-{lower}-asvk.pem")), pem(asvk))?;
                e["asvk"] = json!(format!("amd-{lower}-asvk.pem"));
            }
            amd.insert(product.clone(), e);
        }
        let mut ct = json!({ "log_list_keys": [] });
        for (i, k) in prod.ct_log_list_keys.iter().enumerate() {
            let name = format!("ct-log-list-key-{i}.der");
            std::fs::write(dir.join(&name), k)?;
            ct["log_list_keys"]
                .as_array_mut()
                .expect("array")
                .push(json!(name));
        }
        if let Some(s) = &prod.ct_log_list_snapshot {
            std::fs::write(dir.join("ct-log-list.json"), s)?;
            ct["log_list_snapshot"] = json!("ct-log-list.json");
        }
        let mut nv = json!({ "device_roots": [], "rim_roots": [] });
        for (kind, certs) in [
            ("device_roots", &prod.nvidia_device_roots),
            ("rim_roots", &prod.nvidia_rim_roots),
        ] {
            for (i, c) in certs.iter().enumerate() {
                let name = format!("nvidia-{kind}-{i}.pem");
                std::fs::write(dir.join(&name), pem(c))?;
                nv[kind].as_array_mut().expect("array").push(json!(name));
            }
        }
        std::fs::write(
            dir.join("sigstore-trusted-root.json"),
            self.trusted_root_json(),
        )?;
        let file = json!({
            "schema": crate::trust::SCHEMA,
            "name": "test-sigstore",
            "version": "1",
            "amd": amd,
            "ct": ct,
            "nvidia": nv,
            "tls": { "mozilla_roots": prod.webpki_mozilla },
            "sigstore": { "trusted_root": "sigstore-trusted-root.json" }
        });
        let path = dir.join("trust.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("JSON"))?;
        Ok(path)
    }

    /// Mints a Fulcio leaf for `spec` with an embedded SCT from the test CT
    /// log; returns (leaf DER, leaf key).
    pub fn leaf(&self, spec: &LeafSpec) -> (Vec<u8>, SigningKey) {
        let k = key(&format!("leaf {}", spec.san_uri));
        let san = SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
            Ia5String::new(&spec.san_uri).expect("ASCII SAN"),
        )]);
        let mut exts = vec![
            ext(
                "2.5.29.15",
                true,
                KeyUsage(KeyUsages::DigitalSignature.into())
                    .to_der()
                    .unwrap(),
            ),
            ext(
                "2.5.29.37",
                false,
                ExtendedKeyUsage(vec![const_oid::ObjectIdentifier::new_unwrap(
                    "1.3.6.1.5.5.7.3.3",
                )])
                .to_der()
                .unwrap(),
            ),
            ext("2.5.29.17", true, san.to_der().unwrap()),
            ext(
                "1.3.6.1.4.1.57264.1.1",
                false,
                spec.issuer.as_bytes().to_vec(),
            ),
            ext(
                "1.3.6.1.4.1.57264.1.8",
                false,
                der::asn1::Utf8StringRef::new(&spec.issuer)
                    .unwrap()
                    .to_der()
                    .unwrap(),
            ),
        ];
        let pre = tbs(
            3,
            &self.inter_name,
            &Name::default(),
            &spki_der(&k),
            spec.not_before,
            spec.not_after,
            exts.clone(),
        );
        let pre_der = pre.to_der().expect("TBS");
        let ct_spki = spki_der(&self.ct_key);
        let mut sct = Sct {
            log_id: crate::util::sha256(&ct_spki),
            timestamp: (spec.not_before.max(0) as u64) * 1000 + 296,
            extensions: Vec::new(),
            hash_alg: 4,
            sig_alg: 3,
            signature: Vec::new(),
            raw: Vec::new(),
        };
        let ikh = precert::issuer_key_hash(&self.inter_der).expect("issuer");
        let msg = precert::precert_leaf(&sct, &pre_der, &ikh).expect("precert leaf");
        sct.signature = sign_der(&self.ct_key, &msg);
        let mut w = Writer::new();
        w.u8(0).raw(&sct.log_id).u64(sct.timestamp);
        w.vec16(&[]).unwrap();
        w.u8(4).u8(3);
        w.vec16(&sct.signature).unwrap();
        let mut one = Writer::new();
        one.vec16(&w.buf).unwrap();
        let mut list = Writer::new();
        list.vec16(&one.buf).unwrap();
        exts.push(ext(
            "1.3.6.1.4.1.11129.2.4.2",
            false,
            OctetString::new(list.buf).unwrap().to_der().unwrap(),
        ));
        let t = tbs(
            3,
            &self.inter_name,
            &Name::default(),
            &spki_der(&k),
            spec.not_before,
            spec.not_after,
            exts,
        );
        (sign_tbs(t, &self.inter_key), k)
    }

    fn tree(body: &[u8], e: &EntrySpec) -> (Vec<[u8; 32]>, [u8; 32]) {
        let size = e.tree_size.clamp(1, 1024);
        let idx = e.shard_index.min(size - 1);
        let leaves: Vec<[u8; 32]> = (0..size)
            .map(|i| {
                if i == idx {
                    precert::leaf_hash(body)
                } else {
                    precert::leaf_hash(format!("filler {i}").as_bytes())
                }
            })
            .collect();
        let proof = merkle::path_ranges(idx, size)
            .into_iter()
            .map(|(a, b)| merkle::mth(&leaves[a as usize..b as usize]))
            .collect();
        (proof, merkle::mth(&leaves))
    }

    /// Mints a Rekor v1 bundle: `payload` signed (DSSE) by a leaf for
    /// `leaf`, logged at `entry`.
    pub fn sign_bundle(
        &self,
        payload_type: &str,
        payload: &[u8],
        leaf: &LeafSpec,
        entry: &EntrySpec,
    ) -> Value {
        let (cert, k) = self.leaf(leaf);
        let sig = sign_der(&k, &pae(payload_type, payload));
        let pem =
            der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &cert).expect("PEM");
        let envelope = json!({
            "payload": b64e(payload), "payloadType": payload_type,
            "signatures": [{ "sig": b64e(&sig) }]
        });
        let body = canonical_json(&json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": { "algorithm": "sha256", "value": crate::util::sha256_hex(envelope.to_string().as_bytes()) },
                "payloadHash": { "algorithm": "sha256", "value": crate::util::sha256_hex(payload) },
                "signatures": [{ "signature": b64e(&sig), "verifier": b64e(pem.as_bytes()) }]
            }
        }))
        .into_bytes();
        let log_id = crate::util::sha256(&self.rekor_spki());
        let (proof, root) = Self::tree(&body, entry);
        let size = entry.tree_size.clamp(1, 1024);
        let text = format!("rekor.test - 1\n{size}\n{}\n", b64e(&root));
        let mut note_sig = crate::util::sha256(&self.rekor_spki())[..4].to_vec();
        note_sig.extend_from_slice(&sign_der(&self.rekor_key, text.as_bytes()));
        let checkpoint = format!("{text}\n\u{2014} rekor.test {}\n", b64e(&note_sig));
        let set_msg = rekor::set_payload(&body, entry.integrated_time, &log_id, entry.log_index);
        let set = sign_der(&self.rekor_key, set_msg.as_bytes());
        json!({
            "mediaType": MEDIA_TYPE_V03,
            "verificationMaterial": {
                "certificate": { "rawBytes": b64e(&cert) },
                "tlogEntries": [{
                    "logIndex": entry.log_index.to_string(),
                    "logId": { "keyId": b64e(&log_id) },
                    "kindVersion": { "kind": "dsse", "version": "0.0.1" },
                    "integratedTime": entry.integrated_time.to_string(),
                    "inclusionPromise": { "signedEntryTimestamp": b64e(&set) },
                    "inclusionProof": {
                        "logIndex": entry.shard_index.min(size - 1).to_string(),
                        "rootHash": b64e(&root),
                        "treeSize": size.to_string(),
                        "hashes": proof.iter().map(|h| b64e(h)).collect::<Vec<_>>(),
                        "checkpoint": { "envelope": checkpoint }
                    },
                    "canonicalizedBody": b64e(&body)
                }],
                "timestampVerificationData": {}
            },
            "dsseEnvelope": envelope
        })
    }

    /// Mints a Rekor v2 bundle (dsse 0.0.2 body, Ed25519 checkpoint, no SET,
    /// no integrated time). The leaf's validity must contain its SCT time.
    pub fn sign_bundle_v2(
        &self,
        payload_type: &str,
        payload: &[u8],
        leaf: &LeafSpec,
        entry: &EntrySpec,
    ) -> Value {
        use ed25519_dalek::Signer as _;
        let (cert, k) = self.leaf(leaf);
        let sig = sign_der(&k, &pae(payload_type, payload));
        let body = canonical_json(&json!({
            "apiVersion": "0.0.2",
            "kind": "dsse",
            "spec": { "dsseV002": {
                "payloadHash": { "algorithm": "SHA2_256", "digest": b64e(&crate::util::sha256(payload)) },
                "signatures": [{ "content": b64e(&sig), "verifier": {
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "x509Certificate": { "rawBytes": b64e(&cert) }
                }}]
            }}
        }))
        .into_bytes();
        let spki = self.rekor_v2_spki();
        let (proof, root) = Self::tree(&body, entry);
        let size = entry.tree_size.clamp(1, 1024);
        let text = format!("rekor2.test\n{size}\n{}\n", b64e(&root));
        let vk = self.rekor_v2_key.verifying_key();
        let mut note_sig =
            crate::evidence::ct::checkpoint::ed25519_key_id("rekor2.test", vk.as_bytes()).to_vec();
        note_sig.extend_from_slice(&self.rekor_v2_key.sign(text.as_bytes()).to_bytes());
        let checkpoint = format!("{text}\n\u{2014} rekor2.test {}\n", b64e(&note_sig));
        let idx = entry.shard_index.min(size - 1);
        json!({
            "mediaType": MEDIA_TYPE_V03,
            "verificationMaterial": {
                "certificate": { "rawBytes": b64e(&cert) },
                "tlogEntries": [{
                    "logIndex": idx.to_string(),
                    "logId": { "keyId": b64e(&crate::util::sha256(&spki)) },
                    "kindVersion": { "kind": "dsse", "version": "0.0.2" },
                    "inclusionProof": {
                        "logIndex": idx.to_string(),
                        "rootHash": b64e(&root),
                        "treeSize": size.to_string(),
                        "hashes": proof.iter().map(|h| b64e(h)).collect::<Vec<_>>(),
                        "checkpoint": { "envelope": checkpoint }
                    },
                    "canonicalizedBody": b64e(&body)
                }]
            },
            "dsseEnvelope": {
                "payload": b64e(payload), "payloadType": payload_type,
                "signatures": [{ "sig": b64e(&sig) }]
            }
        })
    }

    /// Re-signs `bundle` (a real one) for the identity `san_uri`: same
    /// payload type and payload (or `payload` when given), a fresh leaf
    /// valid around `entry.integrated_time`, a fresh Rekor v1 entry.
    pub fn resign(&self, bundle: &Value, san_uri: &str, payload: Option<&[u8]>) -> Value {
        let env = &bundle["dsseEnvelope"];
        let payload_type = env["payloadType"]
            .as_str()
            .unwrap_or("application/vnd.in-toto+json");
        let original = env["payload"]
            .as_str()
            .and_then(|s| super::b64(s).ok())
            .unwrap_or_default();
        let entry = EntrySpec::default();
        let leaf = LeafSpec {
            san_uri: san_uri.to_string(),
            issuer: GITHUB_ISSUER.to_string(),
            not_before: entry.integrated_time - 60,
            not_after: entry.integrated_time + 540,
        };
        self.sign_bundle(payload_type, payload.unwrap_or(&original), &leaf, &entry)
    }
}
