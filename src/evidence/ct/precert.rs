//! The precertificate entry a log signed and hashed, rebuilt from the final
//! certificate (RFC 6962 §3.1–§3.4).
//!
//! A certificate with embedded SCTs was logged as a precertificate: the same
//! TBSCertificate without the SCT list extension (the poison extension of the
//! precertificate is likewise absent). So the logged TBS is the final TBS
//! with exactly one extension removed and the enclosing lengths re-encoded —
//! every other byte unchanged. The `MerkleTreeLeaf` for it is
//!
//! ```text
//! 00                      version v1
//! 00                      leaf_type timestamped_entry
//! u64 timestamp           from the SCT
//! 00 01                   entry_type precert_entry
//! [32] issuer_key_hash    SHA-256 of the issuer's SubjectPublicKeyInfo DER
//! u24 tbs_certificate     the rebuilt TBS
//! u16 extensions          the SCT's extensions, verbatim
//! ```
//!
//! and the SCT v1 signature covers the very same bytes (version 0,
//! signature_type certificate_timestamp = 0, …). The SCT extensions are kept:
//! dropping them (as some libraries do when hashing) gives the wrong leaf for
//! static-ct-api logs, whose SCTs carry `leaf_index`.

use super::der_walk::{children, encode, read_tlv};
use super::sct::{check_certificate, locate, Sct};
use super::tls_codec::Writer;
use super::CtError;

/// `LogEntryType.precert_entry`.
pub const PRECERT_ENTRY: u16 = 1;

/// The final certificate's TBS with the SCT list extension removed.
/// Errors when the certificate carries no SCT list extension.
pub fn precert_tbs(cert: &[u8]) -> Result<Vec<u8>, CtError> {
    check_certificate(cert)?;
    let site = locate(cert)?
        .ok_or_else(|| CtError::Certificate("certificate has no extensions".into()))?;
    let i = site
        .sct
        .ok_or_else(|| CtError::Certificate("certificate has no SCT list extension".into()))?;
    let removed = site.extensions[i];

    // New Extensions content: every other extension, byte for byte.
    let mut list_content = Vec::with_capacity(site.list.end - site.list.content);
    list_content.extend_from_slice(&cert[site.list.content..removed.start]);
    list_content.extend_from_slice(&cert[removed.end..site.list.end]);

    // TBS content up to the [3] wrapper (the wrapper is the last field).
    let mut tbs_content = cert[site.tbs.content..site.wrapper.start].to_vec();
    if !list_content.is_empty() {
        // Extensions is SIZE (1..MAX): with nothing left the [3] is omitted,
        // exactly as a precertificate without other extensions is encoded.
        let list = encode(0x30, &list_content);
        tbs_content.extend_from_slice(&encode(0xa3, &list));
    }
    Ok(encode(0x30, &tbs_content))
}

/// SHA-256 of the issuer certificate's SubjectPublicKeyInfo, byte-exact
/// from its DER.
pub fn issuer_key_hash(issuer: &[u8]) -> Result<[u8; 32], CtError> {
    Ok(crate::util::sha256(&spki_der(issuer)?))
}

/// The SubjectPublicKeyInfo element of a certificate, byte-exact.
pub fn spki_der(cert: &[u8]) -> Result<Vec<u8>, CtError> {
    check_certificate(cert)?;
    let top = read_tlv(cert, 0, cert.len())?;
    let tbs = *children(cert, &top)?
        .first()
        .ok_or_else(|| CtError::Certificate("no TBSCertificate".into()))?;
    let fields = children(cert, &tbs)?;
    // [0] version is optional; then serial, signature, issuer, validity,
    // subject, subjectPublicKeyInfo.
    let skip = usize::from(fields.first().map(|t| t.tag) == Some(0xa0));
    let spki = fields
        .get(skip + 5)
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| CtError::Certificate("no SubjectPublicKeyInfo".into()))?;
    Ok(spki.whole(cert).to_vec())
}

/// Builds the precert `MerkleTreeLeaf` for an SCT (also the SCT's signed data).
pub fn precert_leaf(sct: &Sct, tbs: &[u8], issuer_key_hash: &[u8; 32]) -> Result<Vec<u8>, CtError> {
    let mut w = Writer::new();
    w.u8(0) // version v1 (== signature_type certificate_timestamp for the SCT)
        .u8(0) // leaf_type timestamped_entry
        .u64(sct.timestamp)
        .u16(PRECERT_ENTRY)
        .raw(issuer_key_hash);
    w.vec24(tbs)?;
    w.vec16(&sct.extensions)?;
    Ok(w.buf)
}

/// RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf).
pub fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_without_scts_has_no_precert_tbs() {
        // The embedded NVIDIA root has no SCT extension.
        let t = crate::trust::TrustSet::production();
        let root = &t.nvidia_device_roots[0];
        assert!(precert_tbs(root).is_err());
        assert!(spki_der(root).is_ok());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(precert_tbs(&[0x30, 0x03, 0x02, 0x01]).is_err());
        assert!(spki_der(&[]).is_err());
    }
}
