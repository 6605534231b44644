//! Checkpoints of static-ct-api logs: a C2SP signed note
//! (c2sp.org/signed-note) whose text is a C2SP checkpoint
//! (c2sp.org/tlog-checkpoint) and whose log signature is an
//! `RFC6962NoteSignature` (c2sp.org/static-ct-api, "Checkpoints"):
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root hash>\n
//! \n
//! — <key name> base64(key ID[4] ‖ u64 timestamp ‖ DigitallySigned)\n
//! ```
//!
//! The key name must equal the origin, which must be the log's submission
//! prefix without scheme or trailing slash; the key ID is
//! `SHA-256(key name ‖ 0x0A ‖ 0x05 ‖ log ID)[:4]`; the signature is the RFC
//! 6962 `TreeHeadSignature` over (timestamp, tree size, root). The origin is
//! not covered by the signature, so it is compared with the log list.

use super::sig::DigitallySigned;
use super::sth::TreeHead;
use super::tls_codec::Reader;
use super::{b64, decode_err, CtError};

/// Largest checkpoint accepted.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted (the spec asks verifiers to take ≥ 16).
pub const MAX_SIGNATURES: usize = 64;
/// Signature type byte of RFC 6962 note signatures.
pub const SIG_TYPE_RFC6962: u8 = 0x05;

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub body: Vec<u8>,
}

/// A parsed (unverified) checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    pub root: [u8; 32],
    /// Extension lines (none allowed with RFC 6962 note signatures).
    pub extensions: Vec<String>,
    pub signatures: Vec<NoteSignature>,
}

fn err(reason: impl Into<String>) -> CtError {
    decode_err("checkpoint", reason)
}

/// Key ID of an RFC 6962 note signature for a key name and log ID.
pub fn rfc6962_key_id(key_name: &str, log_id: &[u8; 32]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(key_name.len() + 34);
    buf.extend_from_slice(key_name.as_bytes());
    buf.push(b'\n');
    buf.push(SIG_TYPE_RFC6962);
    buf.extend_from_slice(log_id);
    let h = crate::util::sha256(&buf);
    [h[0], h[1], h[2], h[3]]
}

impl Checkpoint {
    /// Parses a signed note holding a checkpoint.
    pub fn parse(bytes: &[u8]) -> Result<Checkpoint, CtError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(err(format!(
                "{} bytes (limit {MAX_NOTE_BYTES})",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(err("control character other than newline"));
        }
        if !text.ends_with('\n') {
            return Err(err("does not end with a newline"));
        }
        // The note text is separated from the signatures by the last blank line.
        let split = text
            .rfind("\n\n")
            .ok_or_else(|| err("no blank line before the signatures"))?;
        let body = &text[..split + 1];
        let sigs = &text[split + 2..];
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| {
                err(format!(
                    "signature line does not start with an em dash: {line:?}"
                ))
            })?;
            let (name, sig) = rest
                .split_once(' ')
                .ok_or_else(|| err("signature line without key name and signature"))?;
            if name.is_empty() || name.contains('+') || sig.contains(' ') {
                return Err(err(format!("malformed signature line for {name:?}")));
            }
            let raw = b64(sig).map_err(|e| err(format!("signature of {name:?}: {e}")))?;
            if raw.len() < 5 {
                return Err(err(format!("signature of {name:?} is too short")));
            }
            if signatures.len() >= MAX_SIGNATURES {
                return Err(err(format!("more than {MAX_SIGNATURES} signatures")));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: [raw[0], raw[1], raw[2], raw[3]],
                body: raw[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(err("no signature lines"));
        }
        let lines: Vec<&str> = body
            .strip_suffix('\n')
            .unwrap_or(body)
            .split('\n')
            .collect();
        let [origin, size, root, ext @ ..] = lines.as_slice() else {
            return Err(err("fewer than three lines of text"));
        };
        if origin.is_empty() {
            return Err(err("empty origin line"));
        }
        let tree_size: u64 = size
            .parse()
            .ok()
            .filter(|n: &u64| n.to_string() == *size)
            .ok_or_else(|| err(format!("tree size {size:?} is not a canonical decimal")))?;
        let root: [u8; 32] = b64(root)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| err("root hash is not 32 bytes of base64"))?;
        if ext.iter().any(|l| l.is_empty()) {
            return Err(err("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            tree_size,
            root,
            extensions: ext.iter().map(|s| s.to_string()).collect(),
            signatures,
        })
    }

    /// Verifies the log's RFC 6962 note signature: origin as expected, no
    /// extension lines, a signature line from (origin, key ID) whose
    /// `TreeHeadSignature` verifies with the log key. Returns the signed
    /// tree head.
    pub fn verify(
        &self,
        expected_origin: &str,
        log_id: &[u8; 32],
        log_key: &[u8],
    ) -> Result<TreeHead, CtError> {
        if self.origin != expected_origin {
            return Err(CtError::Signature(format!(
                "checkpoint origin {:?} is not the log's origin {expected_origin:?}",
                self.origin
            )));
        }
        if !self.extensions.is_empty() {
            return Err(CtError::Signature(
                "checkpoint has extension lines, forbidden with RFC 6962 note signatures".into(),
            ));
        }
        let key_id = rfc6962_key_id(expected_origin, log_id);
        let ours: Vec<&NoteSignature> = self
            .signatures
            .iter()
            .filter(|s| s.name == expected_origin && s.key_id == key_id)
            .collect();
        let sig = match ours.as_slice() {
            [one] => one,
            [] => {
                return Err(CtError::Signature(format!(
                    "no signature by the log key ({expected_origin}, key ID {})",
                    hex::encode(key_id)
                )))
            }
            _ => {
                return Err(CtError::Signature(
                    "several signatures claim the log key".into(),
                ))
            }
        };
        let mut r = Reader::new(&sig.body, "RFC6962NoteSignature");
        let timestamp = r.u64()?;
        let rest = r.bytes(sig.body.len() - 8)?;
        let head = TreeHead {
            tree_size: self.tree_size,
            timestamp,
            root: self.root,
            signature: DigitallySigned::parse(rest, "RFC6962NoteSignature")?,
        };
        head.verify(log_key)
            .map_err(|e| CtError::Signature(format!("checkpoint: {e}")))?;
        Ok(head)
    }
}

/// Signature type byte of Ed25519 note signatures (c2sp.org/signed-note).
pub const SIG_TYPE_ED25519: u8 = 0x01;

/// The signed text of a note: everything up to and including the newline
/// before the blank line that precedes the signatures (the bytes every note
/// signature covers). Same split as [`Checkpoint::parse`].
pub fn signed_text(bytes: &[u8]) -> Result<&str, CtError> {
    let text = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8"))?;
    let split = text
        .rfind("\n\n")
        .ok_or_else(|| err("no blank line before the signatures"))?;
    Ok(&text[..split + 1])
}

/// Key ID of an Ed25519 note key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]`.
pub fn ed25519_key_id(key_name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(key_name.len() + 34);
    buf.extend_from_slice(key_name.as_bytes());
    buf.push(b'\n');
    buf.push(SIG_TYPE_ED25519);
    buf.extend_from_slice(key);
    let h = crate::util::sha256(&buf);
    [h[0], h[1], h[2], h[3]]
}

/// A note verifier key other than the RFC 6962 one.
#[derive(Debug, Clone, Copy)]
pub enum NoteKey<'a> {
    /// Rekor v1's form: key hint = `SHA-256(SPKI DER)[:4]`, signature =
    /// ECDSA P-256 / SHA-256 over the note text, ASN.1 DER.
    EcdsaP256 { spki: &'a [u8] },
    /// C2SP Ed25519 (Rekor v2, tlog witnesses): key ID per
    /// [`ed25519_key_id`], 64-byte signature over the note text.
    Ed25519 { key: &'a [u8; 32] },
}

impl NoteKey<'_> {
    /// The 4-byte key hint this key's signatures carry under `key_name`.
    pub fn key_id(&self, key_name: &str) -> [u8; 4] {
        match self {
            NoteKey::EcdsaP256 { spki } => {
                let h = crate::util::sha256(spki);
                [h[0], h[1], h[2], h[3]]
            }
            NoteKey::Ed25519 { key } => ed25519_key_id(key_name, key),
        }
    }
}

impl Checkpoint {
    /// Verifies the note signature by (`key_name`, `key`) over `text` (the
    /// note's signed text, see [`signed_text`]). Unlike a static-ct-api
    /// checkpoint, the key name need not equal the origin (Rekor v1 signs
    /// as `rekor.sigstore.dev` under the origin `rekor.sigstore.dev - <tree
    /// id>`): callers check the origin themselves. Exactly one signature line
    /// must claim the key.
    pub fn verify_note_signature(
        &self,
        text: &str,
        key_name: &str,
        key: NoteKey<'_>,
    ) -> Result<(), CtError> {
        let key_id = key.key_id(key_name);
        let ours: Vec<&NoteSignature> = self
            .signatures
            .iter()
            .filter(|s| s.name == key_name && s.key_id == key_id)
            .collect();
        let sig = match ours.as_slice() {
            [one] => one,
            [] => {
                return Err(CtError::Signature(format!(
                    "no signature by the log key ({key_name}, key hint {})",
                    hex::encode(key_id)
                )))
            }
            _ => {
                return Err(CtError::Signature(
                    "several signatures claim the log key".into(),
                ))
            }
        };
        match key {
            NoteKey::EcdsaP256 { spki } => {
                super::sig::verify_ecdsa_p256(spki, &sig.body, text.as_bytes())
                    .map_err(|e| CtError::Signature(format!("note signature: {e}")))
            }
            NoteKey::Ed25519 { key } => {
                let vk = ed25519_dalek::VerifyingKey::from_bytes(key)
                    .map_err(|_| CtError::Signature("Ed25519 key is not a valid point".into()))?;
                let s: [u8; 64] = sig.body.as_slice().try_into().map_err(|_| {
                    CtError::Signature(format!(
                        "Ed25519 note signature of {} bytes (64 expected)",
                        sig.body.len()
                    ))
                })?;
                vk.verify_strict(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&s))
                    .map_err(|_| {
                        CtError::Signature("Ed25519 note signature does not verify".into())
                    })
            }
        }
    }
}

/// Formats a checkpoint signed with an RFC 6962 note signature (used by
/// test logs; real logs serve their own).
pub fn format_rfc6962(origin: &str, log_id: &[u8; 32], head: &TreeHead) -> Result<String, CtError> {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD;
    let mut w = super::tls_codec::Writer::new();
    w.raw(&rfc6962_key_id(origin, log_id)).u64(head.timestamp);
    w.u8(head.signature.hash_alg).u8(head.signature.sig_alg);
    w.vec16(&head.signature.signature)?;
    Ok(format!(
        "{origin}\n{}\n{}\n\n\u{2014} {origin} {}\n",
        head.tree_size,
        b.encode(head.root),
        b.encode(&w.buf)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};
    use p256::pkcs8::EncodePublicKey;

    fn log() -> (SigningKey, Vec<u8>, [u8; 32]) {
        let sk = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let spki = sk
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let id = crate::util::sha256(&spki);
        (sk, spki, id)
    }

    fn signed(origin: &str, size: u64) -> (String, Vec<u8>, [u8; 32]) {
        let (sk, spki, id) = log();
        let root = [3u8; 32];
        let data = super::super::sth::tree_head_signed_data(77, size, &root);
        let sig: Signature = sk.sign(&data);
        let head = TreeHead {
            tree_size: size,
            timestamp: 77,
            root,
            signature: DigitallySigned {
                hash_alg: 4,
                sig_alg: 3,
                signature: sig.to_der().as_bytes().to_vec(),
            },
        };
        (format_rfc6962(origin, &id, &head).unwrap(), spki, id)
    }

    #[test]
    fn signed_checkpoint_verifies() {
        let (text, spki, id) = signed("log.example/2025", 12);
        let c = Checkpoint::parse(text.as_bytes()).unwrap();
        assert_eq!(c.tree_size, 12);
        let h = c.verify("log.example/2025", &id, &spki).unwrap();
        assert_eq!((h.timestamp, h.tree_size), (77, 12));
    }

    #[test]
    fn checkpoint_from_another_origin_is_rejected() {
        let (text, spki, id) = signed("other.example/x", 12);
        let c = Checkpoint::parse(text.as_bytes()).unwrap();
        let e = c.verify("log.example/2025", &id, &spki).unwrap_err();
        assert!(e.to_string().contains("origin"), "{e}");
    }

    #[test]
    fn altered_tree_size_breaks_the_signature() {
        let (text, spki, id) = signed("log.example/2025", 12);
        let text = text.replacen("\n12\n", "\n13\n", 1);
        let c = Checkpoint::parse(text.as_bytes()).unwrap();
        assert!(c.verify("log.example/2025", &id, &spki).is_err());
    }

    #[test]
    fn unknown_signatures_are_ignored_but_one_from_the_log_is_required() {
        let (text, spki, id) = signed("log.example/2025", 12);
        let with_witness = format!("{text}\u{2014} witness.example AAAAAAAAAA==\n");
        let c = Checkpoint::parse(with_witness.as_bytes()).unwrap();
        c.verify("log.example/2025", &id, &spki).unwrap();
        let only_witness = text.split("\u{2014}").next().unwrap().to_string()
            + "\u{2014} witness.example AAAAAAAAAA==\n";
        let c = Checkpoint::parse(only_witness.as_bytes()).unwrap();
        assert!(c.verify("log.example/2025", &id, &spki).is_err());
    }

    #[test]
    fn malformed_notes_are_errors() {
        for bad in [
            "",
            "a\n1\nAAAA\n",
            "a\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} a AAAAAAAA\n",
            "a\n1\nAAAA\n\n\u{2014} a AAAAAAAA\n",
            "a\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- a AAAAAAAA\n",
            "a\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} a AAAAAAAA",
        ] {
            assert!(Checkpoint::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    /// Rekor v1's checkpoint from the real Tinfoil bundle and Rekor's key
    /// (SPKI from the Sigstore trusted root).
    const REKOR_NOTE: &str = "rekor.sigstore.dev - 1193050959916656506\n723516595\nbcnNJMxP3O41KH+tZSlqxljkVtCjK6N+8xV+6APwPoE=\n\n\u{2014} rekor.sigstore.dev wNI9ajBGAiEA3nFYLCB/sFxNr4vWZ/2MSDzXe6ianjsNO1ydIcGj1DgCIQCeVLcmv1CJ0SQvh2P0GWZeefsM+TPeNcZho3ACTMX+ig==\n";
    const REKOR_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==";

    #[test]
    fn rekor_ecdsa_note_signature_verifies_with_the_key_hint_of_the_spki_hash() {
        let key = b64(REKOR_KEY).unwrap();
        let c = Checkpoint::parse(REKOR_NOTE.as_bytes()).unwrap();
        let text = signed_text(REKOR_NOTE.as_bytes()).unwrap();
        let k = NoteKey::EcdsaP256 { spki: &key };
        assert_eq!(hex::encode(k.key_id("rekor.sigstore.dev")), "c0d23d6a");
        c.verify_note_signature(text, "rekor.sigstore.dev", k)
            .unwrap();
        // Another key name, another signed text, another key: each refused.
        assert!(c.verify_note_signature(text, &c.origin, k).is_err());
        let other = text.replace("723516595", "723516596");
        assert!(c
            .verify_note_signature(&other, "rekor.sigstore.dev", k)
            .is_err());
        let (_, spki, _) = log();
        let wrong = NoteKey::EcdsaP256 { spki: &spki };
        assert!(c
            .verify_note_signature(text, "rekor.sigstore.dev", wrong)
            .is_err());
    }

    #[test]
    fn ed25519_note_signature_verifies_only_with_its_key_and_name() {
        use ed25519_dalek::Signer as _;
        let sk = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        let pk = sk.verifying_key().to_bytes();
        let text = "log.test\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let mut raw = ed25519_key_id("log.test", &pk).to_vec();
        raw.extend_from_slice(&sk.sign(text.as_bytes()).to_bytes());
        use base64::Engine;
        let note = format!(
            "{text}\n\u{2014} log.test {}\n",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        let c = Checkpoint::parse(note.as_bytes()).unwrap();
        let t = signed_text(note.as_bytes()).unwrap();
        assert_eq!(t, text);
        c.verify_note_signature(t, "log.test", NoteKey::Ed25519 { key: &pk })
            .unwrap();
        let other = ed25519_dalek::SigningKey::from_bytes(&[6u8; 32])
            .verifying_key()
            .to_bytes();
        assert!(c
            .verify_note_signature(t, "log.test", NoteKey::Ed25519 { key: &other })
            .is_err());
        assert!(c
            .verify_note_signature(t, "log2.test", NoteKey::Ed25519 { key: &pk })
            .is_err());
    }
}
