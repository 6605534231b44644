//! NVIDIA Reference Integrity Manifests: SWID tags (ISO/IEC 19770-2) with
//! one `Resource` per measurement index, signed with an enveloped XMLDSig.
//!
//! Accepted signature profile, and nothing else (W3C XMLDSig 1.1):
//! * exactly one `ds:Signature`, the last element child of the root;
//! * `SignedInfo` = `CanonicalizationMethod` C14N 1.1, `SignatureMethod`
//!   ecdsa-sha384, one `Reference URI=""` with the transforms
//!   enveloped-signature then C14N 1.1, `DigestMethod` SHA-384;
//! * `SignatureValue` = raw `r ‖ s` (96 bytes, base64);
//! * `KeyInfo/X509Data/X509Certificate`×n, the signer first.
//!
//! The golden values are read from the same parsed tree that was
//! canonicalized and hashed, so what is compared is what was signed.

use base64::Engine;

use super::xml::{self, Element, Node};

pub const NS_SWID: &str = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_SHA384: &str = "http://www.w3.org/2001/04/xmlenc#sha384";
const ALG_C14N11: &str = "http://www.w3.org/2006/12/xml-c14n11";
const ALG_ECDSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const ALG_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";

/// Which RIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RimKind {
    Driver,
    Vbios,
    /// An NVSwitch's BIOS RIM (`NV_SWITCH_BIOS_…`): the switch's only RIM.
    SwitchBios,
}

impl RimKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RimKind::Driver => "driver",
            RimKind::Vbios => "vbios",
            RimKind::SwitchBios => "switch_bios",
        }
    }

    /// Name for messages (`driver`, `vbios`, `switch-BIOS`).
    pub fn label(self) -> &'static str {
        match self {
            RimKind::SwitchBios => "switch-BIOS",
            k => k.as_str(),
        }
    }
}

/// One `Resource` (golden value entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RimEntry {
    /// RIM index; compared with SPDM block `index + 1`.
    pub index: u32,
    pub name: String,
    pub active: bool,
    /// Size in bytes of every alternative.
    pub size: usize,
    /// Accepted values (`Hash0` … `Hash{n-1}`).
    pub alternatives: Vec<Vec<u8>>,
}

/// The signature part, parsed but not yet verified.
#[derive(Debug, Clone)]
pub struct RimSignature {
    /// SHA-384 of the canonicalized document without the signature.
    pub computed_digest: [u8; 48],
    /// `DigestValue`.
    pub digest_value: Vec<u8>,
    /// C14N 1.1 of `SignedInfo` (the signed bytes).
    pub signed_info_c14n: Vec<u8>,
    /// Raw `r ‖ s`.
    pub signature_value: Vec<u8>,
    /// `X509Certificate`s (DER), signer first.
    pub certs: Vec<Vec<u8>>,
}

/// A parsed RIM.
#[derive(Debug, Clone)]
pub struct Rim {
    pub kind: RimKind,
    /// sha256 of the RIM's exact bytes (for protocol pins).
    pub sha256: String,
    pub tag_id: String,
    /// `Meta/@product` (e.g. `GH100`).
    pub product: String,
    /// `Meta/@colloquialVersion` (driver or VBIOS version).
    pub version: String,
    pub entries: Vec<RimEntry>,
    pub signature: RimSignature,
}

fn req_attr<'a>(e: &'a Element, local: &str) -> Result<&'a str, String> {
    e.attr(None, local)
        .ok_or_else(|| format!("<{}> has no {local} attribute", e.qname()))
}

fn only_attrs(e: &Element, allowed: &[&str]) -> Result<(), String> {
    for a in &e.attrs {
        if a.ns.is_some() || !allowed.contains(&a.local.as_str()) {
            return Err(format!(
                "<{}> has an unexpected attribute {}",
                e.qname(),
                a.local
            ));
        }
    }
    Ok(())
}

/// The element children of `e`, which must have no non-whitespace text.
fn element_children(e: &Element) -> Result<Vec<&Element>, String> {
    if !e.only_whitespace_text() {
        return Err(format!("<{}> has unexpected text", e.qname()));
    }
    Ok(e.elements().collect())
}

/// The single child `{NS_DSIG}local` with `Algorithm` = `alg`, no content.
fn algorithm(e: &Element, alg: &str) -> Result<(), String> {
    only_attrs(e, &["Algorithm"])?;
    let a = req_attr(e, "Algorithm")?;
    if a != alg {
        return Err(format!(
            "<{}> Algorithm {a} is outside the accepted profile (expected {alg})",
            e.qname()
        ));
    }
    if !e.children.is_empty() {
        return Err(format!("<{}> must be empty", e.qname()));
    }
    Ok(())
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("{what} is not base64: {e}"))
}

fn ds<'a>(e: &'a Element, local: &str) -> Result<&'a Element, String> {
    if e.is(NS_DSIG, local) {
        Ok(e)
    } else {
        Err(format!("expected ds:{local}, found <{}>", e.qname()))
    }
}

fn parse_signature(root: &Element, sig: &Element) -> Result<RimSignature, String> {
    only_attrs(sig, &[])?;
    let kids = element_children(sig)?;
    let [si, sv, ki] = kids.as_slice() else {
        return Err("ds:Signature must hold exactly SignedInfo, SignatureValue, KeyInfo".into());
    };
    let si = ds(si, "SignedInfo")?;
    let sv = ds(sv, "SignatureValue")?;
    let ki = ds(ki, "KeyInfo")?;
    only_attrs(si, &[])?;
    let si_kids = element_children(si)?;
    let [cm, sm, rf] = si_kids.as_slice() else {
        return Err(
            "ds:SignedInfo must hold exactly CanonicalizationMethod, SignatureMethod and one Reference"
                .into(),
        );
    };
    algorithm(ds(cm, "CanonicalizationMethod")?, ALG_C14N11)?;
    algorithm(ds(sm, "SignatureMethod")?, ALG_ECDSA_SHA384)?;
    let rf = ds(rf, "Reference")?;
    only_attrs(rf, &["URI"])?;
    if rf.attr(None, "URI") != Some("") {
        return Err("ds:Reference must have URI=\"\" (the whole document)".into());
    }
    let rf_kids = element_children(rf)?;
    let [tr, dm, dv] = rf_kids.as_slice() else {
        return Err("ds:Reference must hold exactly Transforms, DigestMethod, DigestValue".into());
    };
    let tr = ds(tr, "Transforms")?;
    only_attrs(tr, &[])?;
    let trs = element_children(tr)?;
    let [t1, t2] = trs.as_slice() else {
        return Err("ds:Transforms must be enveloped-signature then C14N 1.1".into());
    };
    algorithm(ds(t1, "Transform")?, ALG_ENVELOPED)?;
    algorithm(ds(t2, "Transform")?, ALG_C14N11)?;
    algorithm(ds(dm, "DigestMethod")?, ALG_SHA384)?;
    let dv = ds(dv, "DigestValue")?;
    only_attrs(dv, &[])?;
    if dv.elements().next().is_some() {
        return Err("ds:DigestValue has child elements".into());
    }
    let digest_value = b64(&dv.text(), "DigestValue")?;
    only_attrs(sv, &[])?;
    if sv.elements().next().is_some() {
        return Err("ds:SignatureValue has child elements".into());
    }
    let signature_value = b64(&sv.text(), "SignatureValue")?;
    only_attrs(ki, &[])?;
    let ki_kids = element_children(ki)?;
    let [xd] = ki_kids.as_slice() else {
        return Err("ds:KeyInfo must hold exactly one X509Data".into());
    };
    let xd = ds(xd, "X509Data")?;
    only_attrs(xd, &[])?;
    let mut certs = Vec::new();
    for c in element_children(xd)? {
        let c = ds(c, "X509Certificate")?;
        only_attrs(c, &[])?;
        if c.elements().next().is_some() {
            return Err("ds:X509Certificate has child elements".into());
        }
        certs.push(b64(&c.text(), "X509Certificate")?);
    }
    if certs.is_empty() {
        return Err("ds:X509Data holds no certificate".into());
    }
    let doc_c14n = xml::canonicalize(root, &|e| std::ptr::eq(e, sig));
    Ok(RimSignature {
        computed_digest: crate::util::sha384(&doc_c14n),
        digest_value,
        signed_info_c14n: xml::canonicalize(si, &|_| false),
        signature_value,
        certs,
    })
}

fn parse_entry(r: &Element) -> Result<RimEntry, String> {
    let index_s = req_attr(r, "index")?;
    let index: u32 = index_s
        .parse()
        .map_err(|_| format!("Resource index {index_s:?} is not a number"))?;
    let what = format!("Resource index {index}");
    if req_attr(r, "type")? != "Measurement" {
        return Err(format!("{what}: type is not Measurement"));
    }
    let active = match req_attr(r, "active")? {
        "True" => true,
        "False" => false,
        other => {
            return Err(format!(
                "{what}: active={other:?} is neither True nor False"
            ))
        }
    };
    let n: usize = req_attr(r, "alternatives")?
        .parse()
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| format!("{what}: alternatives is not a number in 1..=64"))?;
    let size: usize = req_attr(r, "size")?
        .parse()
        .ok()
        .filter(|n| (1..=1024).contains(n))
        .ok_or_else(|| format!("{what}: size is not a number in 1..=1024"))?;
    let name = req_attr(r, "name")?.to_string();
    let mut alternatives = Vec::with_capacity(n);
    for k in 0..n {
        let h = r
            .attr(Some(NS_SHA384), &format!("Hash{k}"))
            .ok_or_else(|| format!("{what}: Hash{k} (SHA-384 namespace) is missing"))?;
        let v = hex::decode(h).map_err(|e| format!("{what}: Hash{k} is not hex: {e}"))?;
        if v.len() != size {
            return Err(format!(
                "{what}: Hash{k} is {} bytes, size says {size}",
                v.len()
            ));
        }
        alternatives.push(v);
    }
    for a in &r.attrs {
        let known_plain = a.ns.is_none()
            && matches!(
                a.local.as_str(),
                "type" | "index" | "active" | "alternatives" | "name" | "size"
            );
        let known_hash = a.ns.as_deref() == Some(NS_SHA384)
            && a.local
                .strip_prefix("Hash")
                .and_then(|k| k.parse::<usize>().ok())
                .is_some_and(|k| k < n && a.local == format!("Hash{k}"));
        if !known_plain && !known_hash {
            return Err(format!("{what}: unexpected attribute {}", a.local));
        }
    }
    if r.elements().next().is_some() || !r.only_whitespace_text() {
        return Err(format!("{what}: Resource must be empty"));
    }
    Ok(RimEntry {
        index,
        name,
        active,
        size,
        alternatives,
    })
}

impl Rim {
    /// Parses a RIM in the restricted profile. The signature is parsed and
    /// the document digest computed, but nothing is verified here.
    pub fn parse(kind: RimKind, text: &str) -> Result<Rim, String> {
        let root = xml::parse(text).map_err(|e| e.to_string())?;
        if !root.is(NS_SWID, "SoftwareIdentity") {
            return Err(format!(
                "root element is <{}>, expected SWID SoftwareIdentity",
                root.qname()
            ));
        }
        let tag_id = req_attr(&root, "tagId")?.to_string();
        let kids = element_children(&root)?;
        let sigs: Vec<&&Element> = kids.iter().filter(|e| e.is(NS_DSIG, "Signature")).collect();
        if sigs.len() != 1 {
            return Err(format!(
                "the RIM has {} ds:Signature elements at its top level, expected exactly 1",
                sigs.len()
            ));
        }
        let sig: &Element = sigs[0];
        if !kids.last().is_some_and(|l| std::ptr::eq(*l, sig)) {
            return Err("ds:Signature is not the last element of the RIM".into());
        }
        // No signature anywhere else either.
        fn count_sigs(e: &Element) -> usize {
            e.children
                .iter()
                .map(|c| match c {
                    Node::Element(x) if x.is(NS_DSIG, "Signature") => 1 + count_sigs(x),
                    Node::Element(x) => count_sigs(x),
                    Node::Text(_) => 0,
                })
                .sum()
        }
        if count_sigs(&root) != 1 {
            return Err("the RIM holds more than one ds:Signature".into());
        }
        let mut meta = None;
        let mut payload = None;
        for e in &kids {
            if e.is(NS_SWID, "Meta") {
                if meta.replace(*e).is_some() {
                    return Err("the RIM has several Meta elements".into());
                }
            } else if e.is(NS_SWID, "Payload") {
                if payload.replace(*e).is_some() {
                    return Err("the RIM has several Payload elements".into());
                }
            } else if !e.is(NS_SWID, "Entity") && !e.is(NS_DSIG, "Signature") {
                return Err(format!("unexpected element <{}> in the RIM", e.qname()));
            }
        }
        let meta = meta.ok_or("the RIM has no Meta element")?;
        let payload = payload.ok_or("the RIM has no Payload element")?;
        let product = req_attr(meta, "product")?.to_string();
        let version = req_attr(meta, "colloquialVersion")?.to_string();
        let mut entries: Vec<RimEntry> = Vec::new();
        // Indices seen so far: a set, so that thousands of `Resource`s cost
        // no pairwise comparison.
        let mut seen = std::collections::BTreeSet::new();
        for r in element_children(payload)? {
            if !r.is(NS_SWID, "Resource") {
                return Err(format!("unexpected element <{}> in Payload", r.qname()));
            }
            let e = parse_entry(r)?;
            if !seen.insert(e.index) {
                return Err(format!("Resource index {} appears twice", e.index));
            }
            entries.push(e);
        }
        let signature = parse_signature(&root, sig)?;
        Ok(Rim {
            kind,
            sha256: crate::util::sha256_hex(text.as_bytes()),
            tag_id,
            product,
            version,
            entries,
            signature,
        })
    }

    /// Verifies the XMLDSig: the document digest, then the signature over
    /// the canonical SignedInfo with the signer certificate's key. The
    /// certificate chain is verified separately (`certs::verify_chain`).
    pub fn verify_signature(&self) -> Result<(), String> {
        use p384::ecdsa::signature::Verifier;
        let s = &self.signature;
        if s.digest_value.as_slice() != s.computed_digest.as_slice() {
            return Err(format!(
                "the document digest does not match: DigestValue {} but the canonicalized RIM hashes to {}",
                hex::encode(&s.digest_value),
                hex::encode(s.computed_digest)
            ));
        }
        let signer = super::certs::CertInfo::parse(&s.certs[0])
            .map_err(|e| format!("signer certificate: {e}"))?;
        use p384::pkcs8::DecodePublicKey;
        let key = p384::ecdsa::VerifyingKey::from_public_key_der(&signer.spki_der()?)
            .map_err(|e| format!("signer key is not P-384: {e}"))?;
        if s.signature_value.len() != 96 {
            return Err(format!(
                "SignatureValue is {} bytes, expected 96 (raw r‖s)",
                s.signature_value.len()
            ));
        }
        let sig = p384::ecdsa::Signature::from_slice(&s.signature_value)
            .map_err(|e| format!("malformed SignatureValue: {e}"))?;
        key.verify(&s.signed_info_c14n, &sig).map_err(|_| {
            format!(
                "the signature over SignedInfo does not verify with {}",
                signer.subject
            )
        })
    }

    /// Active entries.
    pub fn active(&self) -> impl Iterator<Item = &RimEntry> {
        self.entries.iter().filter(|e| e.active)
    }
}
