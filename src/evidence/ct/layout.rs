//! Where CT evidence lives in a bundle (normative list in
//! `protocol/checks.md`, section `ct`). Paths here are relative to
//! `evidence/` (as [`crate::bundle::BundleBuilder::add`] takes them); use
//! [`full`] for member names.
//!
//! ```text
//! evidence/ct/log_list.json                      log list, byte-exact
//! evidence/ct/log_list.sig                       its detached signature
//! evidence/ct/logs/<log id hex>/get-sth-NN.json  every RFC 6962 STH seen, in order
//! evidence/ct/logs/<log id hex>/get-proof-by-hash/<leaf hash hex>-<tree size>.json
//! evidence/ct/logs/<log id hex>/checkpoint-NN    every static-ct-api checkpoint seen, in order
//! evidence/ct/logs/<log id hex>/tile/<L>/<N>[.p/<W>]   hash tiles on the proof path
//! ```
//!
//! A proof's file name carries its request parameters (leaf hash, tree
//! size), so the audit pairs it with the STH of that size; `NN` orders the
//! tree heads a log presented during one collection (00, 01, …).

use super::tiles::Tile;

/// The log list as fetched.
pub const LOG_LIST: &str = "ct/log_list.json";
/// The log list's signature as fetched.
pub const LOG_LIST_SIG: &str = "ct/log_list.sig";
/// Directory of per-log evidence.
pub const LOGS_DIR: &str = "ct/logs/";
/// Most tree heads recorded per log (sequence numbers are two digits).
pub const MAX_HEADS: usize = 100;

/// Member name of a path relative to `evidence/`.
pub fn full(rel: &str) -> String {
    format!("evidence/{rel}")
}

/// `ct/logs/<log id hex>/`.
pub fn log_dir(log_id: &[u8; 32]) -> String {
    format!("{LOGS_DIR}{}/", hex::encode(log_id))
}

/// The `seq`-th `get-sth` response of a log.
pub fn sth(log_id: &[u8; 32], seq: usize) -> String {
    format!("{}get-sth-{seq:02}.json", log_dir(log_id))
}

/// A `get-proof-by-hash` response for a leaf hash at a tree size.
pub fn proof(log_id: &[u8; 32], leaf_hash: &[u8; 32], tree_size: u64) -> String {
    format!(
        "{}get-proof-by-hash/{}-{tree_size}.json",
        log_dir(log_id),
        hex::encode(leaf_hash)
    )
}

/// The `seq`-th checkpoint of a tiled log.
pub fn checkpoint(log_id: &[u8; 32], seq: usize) -> String {
    format!("{}checkpoint-{seq:02}", log_dir(log_id))
}

/// A hash tile of a tiled log.
pub fn tile(log_id: &[u8; 32], t: &Tile) -> String {
    format!("{}{}", log_dir(log_id), t.path())
}

/// Parses the sequence number of `get-sth-NN.json` / `checkpoint-NN` names.
pub fn parse_seq(name: &str, prefix: &str, suffix: &str) -> Option<usize> {
    let n = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if n.len() != 2 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Parses `<leaf hash hex>-<tree size>.json`.
pub fn parse_proof_name(name: &str) -> Option<([u8; 32], u64)> {
    let stem = name.strip_suffix(".json")?;
    let (h, size) = stem.split_once('-')?;
    let hash: [u8; 32] = hex::decode(h).ok()?.try_into().ok()?;
    if h != hex::encode(hash) {
        return None;
    }
    let size: u64 = size.parse().ok()?;
    (size.to_string() == stem[h.len() + 1..]).then_some((hash, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let id = [0xab; 32];
        let lh = [0x01; 32];
        let p = proof(&id, &lh, 42);
        let name = p.rsplit('/').next().unwrap();
        assert_eq!(parse_proof_name(name), Some((lh, 42)));
        assert_eq!(parse_proof_name("zz-1.json"), None);
        assert_eq!(
            parse_proof_name(&format!("{}-01.json", hex::encode(lh))),
            None
        );
        let s = sth(&id, 3);
        assert!(s.ends_with("/get-sth-03.json"));
        assert_eq!(parse_seq("get-sth-03.json", "get-sth-", ".json"), Some(3));
        assert_eq!(parse_seq("checkpoint-7", "checkpoint-", ""), None);
        assert_eq!(full(LOG_LIST), "evidence/ct/log_list.json");
    }
}
