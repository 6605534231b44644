//! RFC 6962 Signed Tree Heads (§3.5, `get-sth` §4.3) and audit paths
//! (`get-proof-by-hash` §4.5).
//!
//! The STH signature covers the TLS-encoded `TreeHeadSignature`:
//! `00 (v1) | 01 (tree_hash) | u64 timestamp | u64 tree_size | root[32]`.

use serde::Deserialize;

use super::merkle::{MAX_PROOF_LEN, MAX_TREE_SIZE};
use super::sig::DigitallySigned;
use super::tls_codec::Writer;
use super::{b64, json_err, CtError};

/// Largest JSON response accepted for an STH or a proof.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// A signed tree head, from `get-sth` or from a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    pub tree_size: u64,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    pub root: [u8; 32],
    pub signature: DigitallySigned,
}

impl TreeHead {
    /// The bytes the log signs (RFC 6962 §3.5 `TreeHeadSignature`).
    pub fn signed_data(&self) -> Vec<u8> {
        tree_head_signed_data(self.timestamp, self.tree_size, &self.root)
    }

    /// Verifies the tree head signature with the log key (SPKI DER).
    pub fn verify(&self, log_key: &[u8]) -> Result<(), CtError> {
        super::sig::verify(
            log_key,
            self.signature.hash_alg,
            self.signature.sig_alg,
            &self.signature.signature,
            &self.signed_data(),
        )
        .map_err(|e| CtError::Signature(format!("tree head signature: {e}")))
    }
}

/// `TreeHeadSignature` bytes for the given values.
pub fn tree_head_signed_data(timestamp: u64, tree_size: u64, root: &[u8; 32]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(0).u8(1).u64(timestamp).u64(tree_size).raw(root);
    w.buf
}

#[derive(Deserialize)]
struct RawSth {
    tree_size: u64,
    timestamp: u64,
    sha256_root_hash: String,
    tree_head_signature: String,
}

/// Parses a `get-sth` response.
pub fn parse_get_sth(bytes: &[u8]) -> Result<TreeHead, CtError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(json_err("get-sth", "response too large"));
    }
    let raw: RawSth =
        serde_json::from_slice(bytes).map_err(|e| json_err("get-sth", e.to_string()))?;
    if raw.tree_size > MAX_TREE_SIZE {
        return Err(json_err(
            "get-sth",
            format!(
                "tree_size {} above the bound {MAX_TREE_SIZE}",
                raw.tree_size
            ),
        ));
    }
    let root: [u8; 32] = b64(&raw.sha256_root_hash)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| json_err("get-sth", "sha256_root_hash is not 32 bytes of base64"))?;
    let sig = b64(&raw.tree_head_signature)
        .map_err(|e| json_err("get-sth", format!("tree_head_signature: {e}")))?;
    Ok(TreeHead {
        tree_size: raw.tree_size,
        timestamp: raw.timestamp,
        root,
        signature: DigitallySigned::parse(&sig, "tree_head_signature")?,
    })
}

/// A `get-proof-by-hash` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofByHash {
    pub leaf_index: u64,
    pub audit_path: Vec<[u8; 32]>,
}

#[derive(Deserialize)]
struct RawProof {
    leaf_index: u64,
    audit_path: Vec<String>,
}

/// Parses a `get-proof-by-hash` response.
pub fn parse_proof_by_hash(bytes: &[u8]) -> Result<ProofByHash, CtError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(json_err("get-proof-by-hash", "response too large"));
    }
    let raw: RawProof =
        serde_json::from_slice(bytes).map_err(|e| json_err("get-proof-by-hash", e.to_string()))?;
    if raw.audit_path.len() > MAX_PROOF_LEN {
        return Err(json_err(
            "get-proof-by-hash",
            format!("audit path of {} hashes", raw.audit_path.len()),
        ));
    }
    let mut path = Vec::with_capacity(raw.audit_path.len());
    for (i, h) in raw.audit_path.iter().enumerate() {
        let h: [u8; 32] = b64(h).ok().and_then(|v| v.try_into().ok()).ok_or_else(|| {
            json_err(
                "get-proof-by-hash",
                format!("audit_path[{i}] is not 32 bytes of base64"),
            )
        })?;
        path.push(h);
    }
    Ok(ProofByHash {
        leaf_index: raw.leaf_index,
        audit_path: path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sth_json_parses_and_rejects_bad_fields() {
        let root = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [1u8; 32]);
        let sig =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [4, 3, 0, 1, 7]);
        let ok = format!(
            r#"{{"tree_size":5,"timestamp":10,"sha256_root_hash":"{root}","tree_head_signature":"{sig}"}}"#
        );
        let t = parse_get_sth(ok.as_bytes()).unwrap();
        assert_eq!((t.tree_size, t.timestamp, t.root), (5, 10, [1u8; 32]));
        assert_eq!(t.signed_data().len(), 2 + 8 + 8 + 32);
        let huge = ok.replace("\"tree_size\":5", "\"tree_size\":18446744073709551615");
        assert!(parse_get_sth(huge.as_bytes()).is_err());
        let short = ok.replace(&root, "AAAA");
        assert!(parse_get_sth(short.as_bytes()).is_err());
        assert!(parse_get_sth(b"{}").is_err());
    }

    #[test]
    fn proof_json_parses_and_bounds_the_path() {
        let h = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [2u8; 32]);
        let ok = format!(r#"{{"leaf_index":3,"audit_path":["{h}","{h}"]}}"#);
        let p = parse_proof_by_hash(ok.as_bytes()).unwrap();
        assert_eq!(p.leaf_index, 3);
        assert_eq!(p.audit_path.len(), 2);
        let many = format!(
            r#"{{"leaf_index":3,"audit_path":[{}]}}"#,
            vec![format!("\"{h}\""); 65].join(",")
        );
        assert!(parse_proof_by_hash(many.as_bytes()).is_err());
        assert!(parse_proof_by_hash(br#"{"leaf_index":-1,"audit_path":[]}"#).is_err());
    }
}
