//! TEST ONLY: a P-384 test PKI (root → intermediate → leaf, plus delegated
//! OCSP responders) and an OCSP response minter, so that the verifier's
//! negative cases (revoked, on hold, foreign responder) are built by code
//! rather than committed as opaque bytes.

use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Decode, Encode};
use p384::ecdsa::{DerSignature, SigningKey};
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, ResponderId,
    ResponseData, SingleResponse, Version,
};

/// Deterministic P-384 key from a seed.
pub fn key(seed: &str) -> SigningKey {
    let mut ctr = 0u32;
    loop {
        let mut h = sha2::Sha384::new();
        h.update(b"blyss-evidence ocsp test key\0");
        h.update(seed.as_bytes());
        h.update(ctr.to_be_bytes());
        if let Ok(k) = SigningKey::from_slice(&h.finalize()) {
            return k;
        }
        ctr += 1;
    }
}

fn gt(unix: u64) -> GeneralizedTime {
    GeneralizedTime::from_unix_duration(Duration::from_secs(unix)).unwrap()
}

/// 2020-01-01 … 2049-12-31.
fn validity() -> Validity {
    Validity {
        not_before: Time::GeneralTime(gt(1_577_836_800)),
        not_after: Time::GeneralTime(gt(2_524_607_999)),
    }
}

/// A certificate (DER) and its key.
pub struct Issued {
    pub der: Vec<u8>,
    pub key: SigningKey,
    pub name: Name,
}

fn spki(k: &SigningKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(*k.verifying_key()).unwrap()
}

pub fn root(seed: &str) -> Issued {
    let key = key(&format!("root {seed}"));
    let name: Name = format!("CN=TEST ONLY root {seed},O=blyss-evidence")
        .parse()
        .unwrap();
    let b = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        validity(),
        name.clone(),
        spki(&key),
        &key,
    )
    .unwrap();
    let der = b.build::<DerSignature>().unwrap().to_der().unwrap();
    Issued { der, key, name }
}

/// A certificate issued by `by`: an intermediate CA, a leaf, or a
/// delegated OCSP responder (`ocsp_signing` adds the EKU).
pub fn issue(by: &Issued, cn: &str, serial: u32, ca: bool, ocsp_signing: bool) -> Issued {
    let key = key(&format!("{cn} {serial}"));
    let name: Name = format!("CN={cn},O=blyss-evidence TEST ONLY")
        .parse()
        .unwrap();
    let profile = if ca {
        Profile::SubCA {
            issuer: by.name.clone(),
            path_len_constraint: None,
        }
    } else {
        Profile::Leaf {
            issuer: by.name.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        }
    };
    let mut b = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity(),
        name.clone(),
        spki(&key),
        &by.key,
    )
    .unwrap();
    if ocsp_signing {
        b.add_extension(&ExtendedKeyUsage(vec![
            const_oid::db::rfc5280::ID_KP_OCSP_SIGNING,
        ]))
        .unwrap();
    }
    let der = b.build::<DerSignature>().unwrap().to_der().unwrap();
    Issued { der, key, name }
}

/// What to put in a minted response.
pub struct Mint<'a> {
    /// Certificate the response is about, and its issuer (DER).
    pub cert: &'a [u8],
    pub issuer: &'a [u8],
    /// Signing key and the certificate embedded as the responder.
    pub signer: &'a Issued,
    pub status: CertStatus,
    pub produced_at: u64,
    pub this_update: u64,
    pub next_update: Option<u64>,
}

/// An OCSPResponse (DER) as NVIDIA's responder shapes them: SHA-384
/// CertID, responder by key, one embedded responder certificate.
pub fn mint(m: &Mint) -> Vec<u8> {
    let cert = Certificate::from_der(m.cert).unwrap();
    let issuer = Certificate::from_der(m.issuer).unwrap();
    let itbs = &issuer.tbs_certificate;
    let signer = Certificate::from_der(&m.signer.der).unwrap();
    let spk = signer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec();
    let cert_id = CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_384,
            parameters: None,
        },
        issuer_name_hash: OctetString::new(
            sha2::Sha384::digest(itbs.subject.to_der().unwrap()).to_vec(),
        )
        .unwrap(),
        issuer_key_hash: OctetString::new(
            sha2::Sha384::digest(itbs.subject_public_key_info.subject_public_key.raw_bytes())
                .to_vec(),
        )
        .unwrap(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    };
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(
            OctetString::new(sha1::Sha1::digest(&spk).to_vec()).unwrap(),
        ),
        produced_at: OcspGeneralizedTime(gt(m.produced_at)),
        responses: vec![SingleResponse {
            cert_id,
            cert_status: m.status,
            this_update: OcspGeneralizedTime(gt(m.this_update)),
            next_update: m.next_update.map(|n| OcspGeneralizedTime(gt(n))),
            single_extensions: None,
        }],
        response_extensions: None,
    };
    let tbs = data.to_der().unwrap();
    let sig: DerSignature = signature::Signer::sign(&m.signer.key, &tbs);
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_384,
            parameters: None,
        },
        signature: BitString::from_bytes(sig.as_bytes()).unwrap(),
        certs: Some(vec![signer]),
    };
    OcspResponse::successful(basic).unwrap().to_der().unwrap()
}
