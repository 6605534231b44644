//! Fulcio certificates: parsing, ECDSA signatures, the chain to a CA of the
//! trusted root, and the identity extensions.
//!
//! Fulcio issues short-lived (10 min) leaf certificates: the chain is judged
//! at the time the signature was made (Rekor's integrated time), never at the
//! time of the audit — by then the leaf has long expired, by design.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::root::{CertificateAuthority, TrustedRoot};

/// Largest certificate accepted.
pub const MAX_CERT_BYTES: usize = 64 * 1024;

/// `1.3.6.1.4.1.57264.1.1`: OIDC issuer (legacy, raw string bytes).
pub const OID_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// `1.3.6.1.4.1.57264.1.8`: OIDC issuer (DER UTF8String).
pub const OID_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_KU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_BC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// Parses a DER certificate (bounded).
pub fn parse(der: &[u8]) -> Result<Certificate, String> {
    if der.len() > MAX_CERT_BYTES {
        return Err(format!(
            "certificate of {} bytes (limit {MAX_CERT_BYTES})",
            der.len()
        ));
    }
    let c = Certificate::from_der(der).map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
    // One interpretation: the DER must re-encode to itself.
    if c.to_der().ok().as_deref() != Some(der) {
        return Err("certificate is not in canonical DER".into());
    }
    Ok(c)
}

/// SubjectPublicKeyInfo DER of a certificate.
pub fn spki(c: &Certificate) -> Result<Vec<u8>, String> {
    c.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())
}

/// Verifies an ECDSA signature (DER) over `msg` with the key `spki`:
/// P-256 with SHA-256 or P-384 with SHA-384 (the pairs Sigstore uses).
pub fn verify_ecdsa(spki: &[u8], sig: &[u8], msg: &[u8]) -> Result<(), String> {
    use signature::Verifier;
    use spki::DecodePublicKey;
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(spki) {
        let s = p256::ecdsa::Signature::from_der(sig)
            .map_err(|_| "ECDSA signature is not valid DER")?;
        return k
            .verify(msg, &s)
            .map_err(|_| "ECDSA P-256/SHA-256 signature does not verify".to_string());
    }
    if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(spki) {
        let s = p384::ecdsa::Signature::from_der(sig)
            .map_err(|_| "ECDSA signature is not valid DER")?;
        return k
            .verify(msg, &s)
            .map_err(|_| "ECDSA P-384/SHA-384 signature does not verify".to_string());
    }
    Err("key is neither ECDSA P-256 nor P-384".into())
}

/// Checks that `child` (DER) is signed by `parent`: the signature algorithm
/// matches the parent's curve and the signature over the exact TBS bytes
/// verifies.
pub fn verify_issued_by(
    child_der: &[u8],
    child: &Certificate,
    parent: &Certificate,
) -> Result<(), String> {
    if child.signature_algorithm != child.tbs_certificate.signature {
        return Err("signatureAlgorithm differs from tbsCertificate.signature".into());
    }
    if child.tbs_certificate.issuer != parent.tbs_certificate.subject {
        return Err(format!(
            "issuer {} is not {}",
            child.tbs_certificate.issuer, parent.tbs_certificate.subject
        ));
    }
    let pk = spki(parent)?;
    let alg = child.signature_algorithm.oid;
    let curve_ok = {
        use spki::DecodePublicKey;
        if alg == ECDSA_SHA256 {
            p256::PublicKey::from_public_key_der(&pk).is_ok()
        } else if alg == ECDSA_SHA384 {
            p384::PublicKey::from_public_key_der(&pk).is_ok()
        } else {
            return Err(format!(
                "signature algorithm {alg} is not ECDSA with SHA-256/384"
            ));
        }
    };
    if !curve_ok {
        return Err(format!(
            "signature algorithm {alg} does not match the issuer's key"
        ));
    }
    let sig = child
        .signature
        .as_bytes()
        .ok_or("signature BIT STRING has unused bits")?;
    let tbs = crate::evidence::amd::tbs_bytes(child_der)?;
    verify_ecdsa(&pk, sig, tbs)
}

fn ext<'a>(c: &'a Certificate, id: &ObjectIdentifier) -> Result<Option<&'a [u8]>, String> {
    crate::evidence::amd::find_extension(c, id).map(|e| e.map(|e| e.extn_value.as_bytes()))
}

fn to_time(t: &x509_cert::time::Time) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `(notBefore, notAfter)`.
pub fn validity(c: &Certificate) -> (OffsetDateTime, OffsetDateTime) {
    let v = &c.tbs_certificate.validity;
    (to_time(&v.not_before), to_time(&v.not_after))
}

fn within(c: &Certificate, t: OffsetDateTime, what: &str) -> Result<(), String> {
    let (nb, na) = validity(c);
    if nb <= t && t <= na {
        Ok(())
    } else {
        Err(format!(
            "{what} is valid [{}, {}], which does not contain {}",
            crate::util::fmt_time(nb),
            crate::util::fmt_time(na),
            crate::util::fmt_time(t)
        ))
    }
}

fn basic_constraints(c: &Certificate) -> Result<Option<bool>, String> {
    Ok(match ext(c, &OID_BC)? {
        None => None,
        Some(v) => Some(
            x509_cert::ext::pkix::BasicConstraints::from_der(v)
                .map_err(|e| format!("BasicConstraints: {e}"))?
                .ca,
        ),
    })
}

/// Leaf profile: not a CA, keyUsage digitalSignature, EKU codeSigning.
fn check_leaf_profile(leaf: &Certificate) -> Result<(), String> {
    if basic_constraints(leaf)? == Some(true) {
        return Err("the leaf is a CA certificate".into());
    }
    let ku = ext(leaf, &OID_KU)?.ok_or("the leaf has no keyUsage")?;
    let ku = x509_cert::ext::pkix::KeyUsage::from_der(ku).map_err(|e| format!("keyUsage: {e}"))?;
    if !ku.digital_signature() {
        return Err("the leaf's keyUsage lacks digitalSignature".into());
    }
    let eku = ext(leaf, &OID_EKU)?.ok_or("the leaf has no extendedKeyUsage")?;
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku)
        .map_err(|e| format!("extendedKeyUsage: {e}"))?;
    if !eku.0.contains(&OID_CODE_SIGNING) {
        return Err("the leaf's extendedKeyUsage lacks codeSigning".into());
    }
    Ok(())
}

/// Verifies `leaf` against one CA: signatures up to a self-signed root, CA
/// flags, every certificate and the CA's window valid at `t`.
fn chain_to(
    leaf_der: &[u8],
    leaf: &Certificate,
    ca: &CertificateAuthority,
    t: OffsetDateTime,
) -> Result<(), String> {
    let certs = ca
        .chain
        .iter()
        .map(|d| parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = certs.first().ok_or("empty CA chain")?;
    verify_issued_by(leaf_der, leaf, first)?;
    for (i, c) in certs.iter().enumerate() {
        let parent = certs.get(i + 1).unwrap_or(c);
        verify_issued_by(&ca.chain[i], c, parent)
            .map_err(|e| format!("CA certificate {i}: {e}"))?;
        if basic_constraints(c)? != Some(true) {
            return Err(format!(
                "CA certificate {i} ({}) is not a CA",
                c.tbs_certificate.subject
            ));
        }
        within(
            c,
            t,
            &format!("CA certificate {} ", c.tbs_certificate.subject),
        )?;
    }
    if !ca.validity.contains(t) {
        return Err(format!(
            "the trusted root lists this CA for {}, which does not contain {}",
            ca.validity.describe(),
            crate::util::fmt_time(t)
        ));
    }
    Ok(())
}

/// The Fulcio CA of the root that issued `leaf`, judged at `t`. Returns the
/// CA and a description of what was established.
pub fn verify_chain<'a>(
    leaf_der: &[u8],
    leaf: &Certificate,
    root: &'a TrustedRoot,
    t: OffsetDateTime,
) -> Result<(&'a CertificateAuthority, String), String> {
    check_leaf_profile(leaf)?;
    within(leaf, t, "the Fulcio leaf")?;
    let mut why = Vec::new();
    for ca in &root.certificate_authorities {
        match chain_to(leaf_der, leaf, ca, t) {
            Ok(()) => {
                let (nb, na) = validity(leaf);
                return Ok((
                    ca,
                    format!(
                        "leaf (codeSigning, valid [{}, {}]) chains to Fulcio CA {} ({}, {} certificates, listed for {}) at {}",
                        crate::util::fmt_time(nb),
                        crate::util::fmt_time(na),
                        ca.subject,
                        ca.uri,
                        ca.chain.len(),
                        ca.validity.describe(),
                        crate::util::fmt_time(t)
                    ),
                ));
            }
            Err(e) => why.push(format!("{} {}: {e}", ca.subject, ca.validity.describe())),
        }
    }
    if why.is_empty() {
        return Err("the trusted root lists no Fulcio CA".into());
    }
    Err(format!(
        "no Fulcio CA of the trusted root issued the leaf at {}: {}",
        crate::util::fmt_time(t),
        why.join("; ")
    ))
}

/// The OIDC issuer named by the leaf: extension …57264.1.8 (UTF8String)
/// and/or the legacy …57264.1.1 (raw bytes); both present must agree.
pub fn oidc_issuer(leaf: &Certificate) -> Result<String, String> {
    let v2 = match ext(leaf, &OID_ISSUER_V2)? {
        Some(v) => Some(
            der::asn1::Utf8StringRef::from_der(v)
                .map_err(|e| format!("issuer extension {OID_ISSUER_V2}: {e}"))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let v1 = match ext(leaf, &OID_ISSUER_V1)? {
        Some(v) => Some(
            std::str::from_utf8(v)
                .map_err(|_| format!("issuer extension {OID_ISSUER_V1} is not UTF-8"))?
                .to_string(),
        ),
        None => None,
    };
    match (v1, v2) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "the two issuer extensions disagree: {:?} vs {:?}",
            crate::util::visible(&a),
            crate::util::visible(&b)
        )),
        (_, Some(b)) => Ok(b),
        (Some(a), None) => Ok(a),
        (None, None) => Err("the leaf names no OIDC issuer".into()),
    }
}

/// The leaf's single SAN URI (Fulcio puts exactly one identity in the SAN).
pub fn san_uri(leaf: &Certificate) -> Result<String, String> {
    use x509_cert::ext::pkix::name::GeneralName;
    let v = ext(leaf, &OID_SAN)?.ok_or("the leaf has no subjectAltName")?;
    let san = x509_cert::ext::pkix::SubjectAltName::from_der(v)
        .map_err(|e| format!("subjectAltName: {e}"))?;
    let mut uris = san.0.iter().filter_map(|g| match g {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_string()),
        _ => None,
    });
    let first = uris.next().ok_or("the subjectAltName holds no URI")?;
    if uris.next().is_some() || san.0.len() != 1 {
        return Err("the subjectAltName holds more than one name".into());
    }
    Ok(first)
}
