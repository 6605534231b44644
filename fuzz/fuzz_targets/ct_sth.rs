//! Tree heads (CT): RFC 6962 `get-sth` and `get-proof-by-hash` responses,
//! C2SP checkpoints (signed notes with an RFC 6962 note signature) and the
//! v3 log list. No panic; a parsed checkpoint re-verifies without panicking.
#![no_main]
use blyss_evidence::evidence::ct::{checkpoint::Checkpoint, loglist::LogList, sth};
use libfuzzer_sys::fuzz_target;

/// A P-256 SPKI (Let's Encrypt Oak 2024H1, public).
const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVkPXfnvUcre6qVG9NpO36bWSD+pet0Wjkv3JpTyArBog7yUvuOEg96g6LgeN5uuk4n0kY59Gv5RzUo2Wrqkm/Q==";

fuzz_target!(|data: &[u8]| {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap();
    if let Ok(h) = sth::parse_get_sth(data) {
        let _ = h.verify(&key);
        let _ = h.signed_data();
    }
    let _ = sth::parse_proof_by_hash(data);
    if let Ok(c) = Checkpoint::parse(data) {
        assert!(!c.signatures.is_empty());
        // Verify against the note's own origin and a log id whose key ID
        // may or may not match: exercises the signature-body decoder.
        let mut id = [0u8; 32];
        if let Some(s) = c.signatures.first() {
            id[..4].copy_from_slice(&s.key_id);
        }
        let _ = c.verify(&c.origin, &id, &key);
    }
    if let Ok(l) = LogList::parse(data) {
        let _ = l.describe();
        for log in &l.logs {
            let _ = log.checkpoint_origin();
            let _ = log.state_acceptable_at(time::OffsetDateTime::UNIX_EPOCH);
        }
    }
});
