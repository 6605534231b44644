//! X.509 chains of the GPU evidence (device identity chain, RIM signing
//! chain), verified against pinned roots from the trust set only.
//!
//! The rules, for a chain `c[0]` (leaf) … `c[n-1]` (root as presented):
//! * `c[n-1]` must be byte-identical to a root of the trust set. (NVIDIA's
//!   verifier replaces the presented root by its pinned one; we are
//!   stricter: a device presenting any other root fails.)
//! * for every link, `c[i].issuer == c[i+1].subject` (DER), the signature
//!   algorithm is ecdsa-with-SHA384 (the only one in the observed profile),
//!   the signature verifies with `c[i+1]`'s P-384 key, and `c[i+1]` is a CA
//!   (basicConstraints cA, keyUsage keyCertSign when present, path length
//!   respected);
//! * no certificate carries a critical extension we do not understand.
//!
//! Validity periods are kept apart ([`Chain::time_issues`]) because the
//! evidence has no signed time: the check decides which instant to judge
//! them at (`--gpu-cert-time`).

use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::Certificate;

const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const EXT_KEY_USAGE: &str = "2.5.29.15";
const EXT_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const EXT_SAN: &str = "2.5.29.17";
/// Longest chain accepted (H100 device chains have 5, RIM chains 4).
pub const MAX_CHAIN: usize = 16;
/// NVIDIA's SAN otherName type carrying `NVIDIA:<chip>:<device id>`.
/// One FWID: hash algorithm OID (dotted) and digest.
pub type Fwid = (String, Vec<u8>);

/// TCG DICE `tcg-dice-TcbInfo` extension, where Hopper leaves carry FWIDs.
pub const DICE_TCB_INFO: &str = "2.23.133.5.4.1";
/// The OID under which Blackwell (GB100) leaves carry their FWID
/// (2.23.133.5.4.1.1, as NVIDIA's verifier reads it).
pub const DICE_TCB_INFO_BLACKWELL: &str = "2.23.133.5.4.1.1";
pub const NVIDIA_SAN_OID: &str = "1.3.6.1.4.1.412.274.1";

/// One certificate, parsed.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub der: Vec<u8>,
    pub cert: Certificate,
    pub subject: String,
    pub sha256: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let v = &cert.tbs_certificate.validity;
        let t = |d: std::time::Duration| {
            OffsetDateTime::from_unix_timestamp(d.as_secs() as i64)
                .map_err(|e| format!("validity out of range: {e}"))
        };
        Ok(CertInfo {
            subject: cert.tbs_certificate.subject.to_string(),
            sha256: crate::util::sha256_hex(der),
            not_before: t(v.not_before.to_unix_duration())?,
            not_after: t(v.not_after.to_unix_duration())?,
            der: der.to_vec(),
            cert,
        })
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, String> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())
    }

    fn extensions(&self) -> &[x509_cert::ext::Extension] {
        self.cert
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or(&[])
    }

    fn ext(&self, oid: &str) -> Option<&x509_cert::ext::Extension> {
        self.extensions()
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
    }

    /// The NVIDIA otherName in the SAN (`NVIDIA:GH100:48B02D0D1EF5B3C7`).
    pub fn nvidia_san(&self) -> Option<String> {
        use x509_cert::ext::pkix::{name::GeneralName, SubjectAltName};
        let e = self.ext(EXT_SAN)?;
        let san = SubjectAltName::from_der(e.extn_value.as_bytes()).ok()?;
        san.0.iter().find_map(|g| match g {
            GeneralName::OtherName(o) if o.type_id.to_string() == NVIDIA_SAN_OID => {
                let tag = der::Tagged::tag(&o.value);
                if matches!(
                    tag,
                    der::Tag::Utf8String | der::Tag::PrintableString | der::Tag::Ia5String
                ) {
                    std::str::from_utf8(o.value.value()).ok().map(String::from)
                } else {
                    None
                }
            }
            _ => None,
        })
    }

    /// FWIDs (hash algorithm OID, digest) in the TCG DICE extension
    /// 2.23.133.5.4.1 (`tcg-dice-TcbInfo`); `Ok(None)` when the certificate
    /// has no such extension. NVIDIA's Hopper leaves put a bare FWID
    /// (`SEQUENCE { OID, OCTET STRING }`) beside the key rather than in
    /// TcbInfo's `[6] fwids`, so every such pair is collected from the
    /// extension's DER down to depth 4 instead of assuming one schema; the
    /// walk is bounded by the extension's length.
    ///
    /// Blackwell leaves carry the same structure under
    /// [`DICE_TCB_INFO_BLACKWELL`]; the FWIDs of both extensions are
    /// collected (a leaf with neither gives `Ok(None)`).
    pub fn dice_fwids(&self) -> Result<Option<Vec<Fwid>>, String> {
        let exts: Vec<&x509_cert::ext::Extension> = [DICE_TCB_INFO, DICE_TCB_INFO_BLACKWELL]
            .iter()
            .filter_map(|o| self.ext(o))
            .collect();
        if exts.is_empty() {
            return Ok(None);
        }
        fn walk(bytes: &[u8], depth: u8, out: &mut Vec<Fwid>) -> Result<(), String> {
            use der::Tagged;
            let mut r = der::SliceReader::new(bytes).map_err(|e| e.to_string())?;
            let mut items = Vec::new();
            while !der::Reader::is_finished(&r) {
                let a: der::Any = der::Decode::decode(&mut r).map_err(|e| e.to_string())?;
                items.push(a);
            }
            if let [oid, digest] = items.as_slice() {
                if oid.tag() == der::Tag::ObjectIdentifier && digest.tag() == der::Tag::OctetString
                {
                    let oid = der::asn1::ObjectIdentifier::from_bytes(oid.value())
                        .map_err(|e| e.to_string())?;
                    out.push((oid.to_string(), digest.value().to_vec()));
                    return Ok(());
                }
            }
            if depth == 0 {
                return Ok(());
            }
            for a in &items {
                if a.tag().is_constructed() {
                    walk(a.value(), depth - 1, out)?;
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        for e in exts {
            walk(e.extn_value.as_bytes(), 4, &mut out).map_err(|err| {
                format!(
                    "{}: malformed DICE extension {}: {err}",
                    self.subject, e.extn_id
                )
            })?;
        }
        Ok(Some(out))
    }

    fn key_usage_allows(&self, bit: x509_cert::ext::pkix::KeyUsages) -> Result<bool, String> {
        match self.ext(EXT_KEY_USAGE) {
            None => Ok(true),
            Some(e) => {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes())
                    .map_err(|e| format!("{}: bad keyUsage: {e}", self.subject))?;
                Ok(ku.0.contains(bit))
            }
        }
    }

    /// `(cA, pathLenConstraint)` from basicConstraints.
    fn basic_constraints(&self) -> Result<(bool, Option<u8>), String> {
        match self.ext(EXT_BASIC_CONSTRAINTS) {
            None => Ok((false, None)),
            Some(e) => {
                let bc = x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes())
                    .map_err(|e| format!("{}: bad basicConstraints: {e}", self.subject))?;
                Ok((bc.ca, bc.path_len_constraint))
            }
        }
    }

    /// Whether the certificate is valid at `t`; `ignore_expiry` skips
    /// notAfter. Returns a description of the problem, if any.
    pub fn time_issue(&self, t: OffsetDateTime, ignore_expiry: bool) -> Option<String> {
        let f = crate::util::fmt_time;
        if t < self.not_before {
            return Some(format!(
                "{} is not valid before {} (judged at {})",
                self.subject,
                f(self.not_before),
                f(t)
            ));
        }
        if !ignore_expiry && t > self.not_after {
            return Some(format!(
                "{} expired at {} (judged at {})",
                self.subject,
                f(self.not_after),
                f(t)
            ));
        }
        None
    }
}

/// What the leaf key must be allowed to do.
#[derive(Debug, Clone, Copy)]
pub enum LeafUse {
    /// Signing SPDM responses or RIMs: keyUsage digitalSignature.
    DigitalSignature,
}

/// A chain whose signatures, names and CA constraints verified.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Leaf first, pinned root last.
    pub certs: Vec<CertInfo>,
    /// sha256 of the pinned root the chain ends at.
    pub anchor_sha256: String,
}

impl Chain {
    pub fn leaf(&self) -> &CertInfo {
        &self.certs[0]
    }

    /// Validity problems at `t` (empty: every certificate valid).
    pub fn time_issues(&self, t: OffsetDateTime, ignore_expiry: bool) -> Vec<String> {
        self.certs
            .iter()
            .filter_map(|c| c.time_issue(t, ignore_expiry))
            .collect()
    }

    /// `subject (notBefore … notAfter)` per certificate, for reports.
    pub fn describe(&self) -> Vec<String> {
        let f = crate::util::fmt_time;
        self.certs
            .iter()
            .map(|c| format!("{} ({} … {})", c.subject, f(c.not_before), f(c.not_after)))
            .collect()
    }
}

/// Verifies `chain` (DER, leaf first) up to a root in `roots` (DER).
/// Time is not judged here (see [`Chain::time_issues`]).
pub fn verify_chain(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    leaf_use: LeafUse,
) -> Result<Chain, String> {
    if chain.is_empty() {
        return Err("the certificate chain is empty".into());
    }
    if chain.len() > MAX_CHAIN {
        return Err(format!(
            "the certificate chain has {} certificates, more than {MAX_CHAIN}",
            chain.len()
        ));
    }
    if roots.is_empty() {
        return Err("the trust set has no root for this chain".into());
    }
    let mut certs = Vec::with_capacity(chain.len());
    for (i, der) in chain.iter().enumerate() {
        certs.push(CertInfo::parse(der).map_err(|e| format!("certificate {i}: {e}"))?);
    }
    let last = certs.last().expect("non-empty");
    if !roots.iter().any(|r| r == &last.der) {
        return Err(format!(
            "the chain ends at {} (sha256 {}), which is not a pinned root of the trust set",
            last.subject, last.sha256
        ));
    }
    for (i, c) in certs.iter().enumerate() {
        for e in c.extensions() {
            let id = e.extn_id.to_string();
            if e.critical && id != EXT_KEY_USAGE && id != EXT_BASIC_CONSTRAINTS {
                return Err(format!(
                    "certificate {i} ({}) has an unsupported critical extension {id}",
                    c.subject
                ));
            }
        }
        if c.cert.signature_algorithm.oid.to_string() != ECDSA_SHA384
            || c.cert.tbs_certificate.signature.oid.to_string() != ECDSA_SHA384
        {
            return Err(format!(
                "certificate {i} ({}) is signed with {}, only ecdsa-with-SHA384 is accepted",
                c.subject, c.cert.signature_algorithm.oid
            ));
        }
    }
    use x509_cert::ext::pkix::KeyUsages;
    match leaf_use {
        LeafUse::DigitalSignature => {
            if !certs[0].key_usage_allows(KeyUsages::DigitalSignature)? {
                return Err(format!(
                    "the leaf {} may not sign (keyUsage lacks digitalSignature)",
                    certs[0].subject
                ));
            }
        }
    }
    for i in 0..certs.len() {
        let child = &certs[i];
        // The root signs itself.
        let parent = certs.get(i + 1).unwrap_or(child);
        if child.cert.tbs_certificate.issuer != parent.cert.tbs_certificate.subject {
            return Err(format!(
                "certificate {i} ({}) names issuer {}, but the next certificate is {}",
                child.subject, child.cert.tbs_certificate.issuer, parent.subject
            ));
        }
        verify_signature(child, parent)
            .map_err(|e| format!("certificate {i} ({}): {e}", child.subject))?;
        if i + 1 < certs.len() {
            let (ca, path_len) = parent.basic_constraints()?;
            if !ca {
                return Err(format!(
                    "{} issues certificates but is not a CA",
                    parent.subject
                ));
            }
            if !parent.key_usage_allows(KeyUsages::KeyCertSign)? {
                return Err(format!(
                    "{} issues certificates but its keyUsage lacks keyCertSign",
                    parent.subject
                ));
            }
            // CA certificates between `parent` and the leaf.
            let below = i;
            if let Some(max) = path_len {
                if below > max as usize {
                    return Err(format!(
                        "{} allows a path length of {max}, the chain has {below} CA(s) below it",
                        parent.subject
                    ));
                }
            }
        }
    }
    let anchor_sha256 = last.sha256.clone();
    Ok(Chain {
        certs,
        anchor_sha256,
    })
}

pub(crate) fn verify_signature(child: &CertInfo, parent: &CertInfo) -> Result<(), String> {
    use p384::pkcs8::DecodePublicKey;
    let spki = parent.spki_der()?;
    let sig_bytes = child
        .cert
        .signature
        .as_bytes()
        .ok_or("signature has unused bits")?;
    let tbs = child
        .cert
        .tbs_certificate
        .to_der()
        .map_err(|e| e.to_string())?;
    // The verification is `ring`'s (see `util::verify_p384_sha384`); on a
    // failure the key and signature are parsed again only to say why.
    let ok = crate::util::memo_verify("ecdsa-p384-sha384", &spki, &tbs, sig_bytes, || {
        crate::util::verify_p384_sha384(&spki, &tbs, sig_bytes, false)
    });
    if ok {
        return Ok(());
    }
    p384::ecdsa::VerifyingKey::from_public_key_der(&spki)
        .map_err(|e| format!("issuer key is not P-384: {e}"))?;
    p384::ecdsa::Signature::from_der(sig_bytes)
        .map_err(|e| format!("malformed ECDSA signature: {e}"))?;
    Err(format!(
        "signature does not verify with the key of {}",
        parent.subject
    ))
}

/// Decodes one PEM certificate (exactly one block, label CERTIFICATE).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(format!("PEM label {label}, expected CERTIFICATE"));
    }
    Ok(der)
}
