//! Signed Certificate Timestamps (RFC 6962 §3.2) as embedded in a
//! certificate (§3.3), and the static-ct-api `leaf_index` extension.

use super::der_walk::{children, read_tlv};
use super::tls_codec::Reader;
use super::{decode_err, CtError};

/// DER of the OID 1.3.6.1.4.1.11129.2.4.2 (embedded SCT list), tag and length included.
pub const SCT_LIST_OID_DER: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
];
/// Dotted form of the embedded-SCT-list extension OID.
pub const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";
/// Most SCTs we accept in one list (browsers need at most a handful).
pub const MAX_SCTS: usize = 32;
/// `HashAlgorithm.sha256` (RFC 5246 §7.4.1.4.1).
pub const HASH_SHA256: u8 = 4;
/// `SignatureAlgorithm.rsa`.
pub const SIG_RSA: u8 = 1;
/// `SignatureAlgorithm.ecdsa`.
pub const SIG_ECDSA: u8 = 3;
/// static-ct-api `ExtensionType.leaf_index`.
pub const EXT_LEAF_INDEX: u8 = 0;

/// One SCT, version 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    /// SHA-256 of the log's public key (SPKI DER).
    pub log_id: [u8; 32],
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// `CtExtensions`, opaque in RFC 6962, structured in static-ct-api.
    pub extensions: Vec<u8>,
    pub hash_alg: u8,
    pub sig_alg: u8,
    pub signature: Vec<u8>,
    /// The serialized SCT as found in the list.
    pub raw: Vec<u8>,
}

impl Sct {
    /// Parses one serialized `SignedCertificateTimestamp`.
    pub fn parse(raw: &[u8]) -> Result<Sct, CtError> {
        let mut r = Reader::new(raw, "SCT");
        let version = r.u8()?;
        if version != 0 {
            return Err(decode_err(
                "SCT",
                format!("version {version} (only v1 = 0 is defined by RFC 6962)"),
            ));
        }
        let log_id: [u8; 32] = r
            .bytes(32)?
            .try_into()
            .map_err(|_| decode_err("SCT", "log id"))?;
        let timestamp = r.u64()?;
        let extensions = r.vec16()?.to_vec();
        let hash_alg = r.u8()?;
        let sig_alg = r.u8()?;
        let signature = r.vec16()?.to_vec();
        r.finish()?;
        Ok(Sct {
            log_id,
            timestamp,
            extensions,
            hash_alg,
            sig_alg,
            signature,
            raw: raw.to_vec(),
        })
    }

    /// Log id as standard base64 (the form used by log lists).
    pub fn log_id_b64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.log_id)
    }

    /// The static-ct-api `leaf_index` extension: `Ok(None)` when absent.
    /// Errors when the extensions are not a well-formed `CtExtensions` list
    /// carrying at most one `leaf_index` of exactly 5 bytes.
    pub fn leaf_index(&self) -> Result<Option<u64>, CtError> {
        parse_leaf_index(&self.extensions)
    }
}

/// Parses a `CtExtensions` list (static-ct-api) and returns its leaf index.
pub fn parse_leaf_index(ext: &[u8]) -> Result<Option<u64>, CtError> {
    let mut r = Reader::new(ext, "SCT extensions");
    let mut found = None;
    while !r.is_empty() {
        let ty = r.u8()?;
        let data = r.vec16()?;
        if ty == EXT_LEAF_INDEX {
            if found.is_some() {
                return Err(decode_err("SCT extensions", "duplicate leaf_index"));
            }
            if data.len() != 5 {
                return Err(decode_err(
                    "SCT extensions",
                    format!("leaf_index of {} bytes (expected 5)", data.len()),
                ));
            }
            found = Some(Reader::new(data, "leaf_index").u40()?);
        }
    }
    Ok(found)
}

/// Parses a TLS `SignedCertificateTimestampList`.
pub fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, CtError> {
    let mut outer = Reader::new(bytes, "SCT list");
    let list = outer.vec16()?;
    outer.finish()?;
    let mut r = Reader::new(list, "SCT list");
    let mut out = Vec::new();
    while !r.is_empty() {
        let raw = r.vec16()?;
        if raw.is_empty() {
            return Err(decode_err("SCT list", "empty SCT entry"));
        }
        if out.len() >= MAX_SCTS {
            return Err(decode_err("SCT list", format!("more than {MAX_SCTS} SCTs")));
        }
        out.push(Sct::parse(raw)?);
    }
    if out.is_empty() {
        return Err(decode_err("SCT list", "empty list"));
    }
    Ok(out)
}

/// Location of the SCT list extension inside a certificate: the element
/// offsets needed both to read it and to splice it out.
#[derive(Debug, Clone)]
pub(crate) struct ExtensionSite {
    pub tbs: super::der_walk::Tlv,
    /// The `[3]` explicit wrapper of the extensions.
    pub wrapper: super::der_walk::Tlv,
    /// The `Extensions` SEQUENCE.
    pub list: super::der_walk::Tlv,
    /// Every `Extension` SEQUENCE, in order.
    pub extensions: Vec<super::der_walk::Tlv>,
    /// Index in `extensions` of the SCT list extension, if present.
    pub sct: Option<usize>,
}

/// Finds the extensions of a certificate's TBS and the SCT list extension.
pub(crate) fn locate(cert: &[u8]) -> Result<Option<ExtensionSite>, CtError> {
    let top = read_tlv(cert, 0, cert.len())?;
    if top.tag != 0x30 || top.end != cert.len() {
        return Err(CtError::Certificate(
            "not a single DER SEQUENCE".to_string(),
        ));
    }
    let parts = children(cert, &top)?;
    let tbs = *parts
        .first()
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| CtError::Certificate("no TBSCertificate".into()))?;
    let fields = children(cert, &tbs)?;
    let Some(wrapper) = fields.iter().copied().find(|t| t.tag == 0xa3) else {
        return Ok(None);
    };
    if fields.last() != Some(&wrapper) {
        return Err(CtError::Certificate(
            "extensions are not the last TBS field".into(),
        ));
    }
    let inner = children(cert, &wrapper)?;
    let list = match inner.as_slice() {
        [l] if l.tag == 0x30 => *l,
        _ => {
            return Err(CtError::Certificate(
                "[3] does not hold exactly one Extensions SEQUENCE".into(),
            ))
        }
    };
    let extensions = children(cert, &list)?;
    let mut sct = None;
    for (i, e) in extensions.iter().enumerate() {
        if e.tag != 0x30 {
            return Err(CtError::Certificate(format!(
                "extension {i} is not a SEQUENCE"
            )));
        }
        let oid = read_tlv(cert, e.content, e.end)?;
        if oid.tag != 0x06 {
            return Err(CtError::Certificate(format!(
                "extension {i} does not start with an OID"
            )));
        }
        if oid.whole(cert) == SCT_LIST_OID_DER {
            if sct.is_some() {
                return Err(CtError::Certificate(
                    "the SCT list extension appears twice".into(),
                ));
            }
            sct = Some(i);
        }
    }
    Ok(Some(ExtensionSite {
        tbs,
        wrapper,
        list,
        extensions,
        sct,
    }))
}

/// The SCTs embedded in a certificate (DER): `Ok(None)` when the
/// certificate has no SCT list extension.
pub fn scts_from_cert(cert: &[u8]) -> Result<Option<Vec<Sct>>, CtError> {
    check_certificate(cert)?;
    let Some(site) = locate(cert)? else {
        return Ok(None);
    };
    let Some(i) = site.sct else {
        return Ok(None);
    };
    let ext = site.extensions[i];
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    let parts = children(cert, &ext)?;
    let value = parts
        .last()
        .filter(|t| t.tag == 0x04 && parts.len() >= 2)
        .ok_or_else(|| CtError::Certificate("SCT extension has no extnValue".into()))?;
    // extnValue wraps an OCTET STRING holding the TLS-encoded list.
    let inner = read_tlv(cert, value.content, value.end)?;
    if inner.tag != 0x04 || inner.end != value.end {
        return Err(CtError::Certificate(
            "SCT extension value is not a single OCTET STRING".into(),
        ));
    }
    parse_sct_list(inner.value(cert)).map(Some)
}

/// Strict DER parse of the whole certificate with x509-cert: the raw walker
/// then only ever sees well-formed input.
pub(crate) fn check_certificate(cert: &[u8]) -> Result<x509_cert::Certificate, CtError> {
    use der::Decode;
    x509_cert::Certificate::from_der(cert).map_err(|e| CtError::Certificate(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sct_bytes(ext: &[u8]) -> Vec<u8> {
        let mut w = super::super::tls_codec::Writer::new();
        w.u8(0).raw(&[7u8; 32]).u64(1234);
        w.vec16(ext).unwrap();
        w.u8(4).u8(3);
        w.vec16(&[1, 2, 3]).unwrap();
        w.buf
    }

    #[test]
    fn parses_an_sct_and_its_leaf_index() {
        let s = Sct::parse(&sct_bytes(&[0, 0, 5, 0, 0, 0, 1, 2])).unwrap();
        assert_eq!(s.timestamp, 1234);
        assert_eq!(s.leaf_index().unwrap(), Some(258));
        let s = Sct::parse(&sct_bytes(&[])).unwrap();
        assert_eq!(s.leaf_index().unwrap(), None);
    }

    #[test]
    fn malformed_leaf_index_is_an_error() {
        // 4-byte leaf index
        assert!(parse_leaf_index(&[0, 0, 4, 0, 0, 0, 1]).is_err());
        // duplicate
        assert!(parse_leaf_index(&[0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 5, 0, 0, 0, 0, 2]).is_err());
        // truncated
        assert!(parse_leaf_index(&[0, 0, 5, 0]).is_err());
        // unknown extension types are skipped
        assert_eq!(parse_leaf_index(&[9, 0, 1, 0xaa]).unwrap(), None);
    }

    #[test]
    fn sct_with_unknown_version_or_trailing_bytes_is_rejected() {
        let mut b = sct_bytes(&[]);
        b[0] = 1;
        assert!(Sct::parse(&b).is_err());
        let mut b = sct_bytes(&[]);
        b.push(0);
        assert!(Sct::parse(&b).is_err());
    }

    #[test]
    fn sct_list_must_be_exact_and_non_empty() {
        let s = sct_bytes(&[]);
        let mut inner = super::super::tls_codec::Writer::new();
        inner.vec16(&s).unwrap();
        let mut outer = super::super::tls_codec::Writer::new();
        outer.vec16(&inner.buf).unwrap();
        assert_eq!(parse_sct_list(&outer.buf).unwrap().len(), 1);
        assert!(parse_sct_list(&[0, 0]).is_err());
        let mut bad = outer.buf.clone();
        bad.push(0);
        assert!(parse_sct_list(&bad).is_err());
    }
}
