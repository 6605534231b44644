//! TLS `DigitallySigned` verification for CT (RFC 6962 §2.1.4): ECDSA with
//! NIST P-256 and SHA-256, or RSASSA-PKCS1-v1_5 with SHA-256 (RSA keys of at
//! least 2048 bits). The key is a SubjectPublicKeyInfo (DER), the form in
//! which log lists publish log keys.

use super::sct::{HASH_SHA256, SIG_ECDSA, SIG_RSA};
use super::tls_codec::Reader;
use super::CtError;

/// Smallest RSA modulus accepted for a log or log-list key.
pub const MIN_RSA_BITS: usize = 2048;

/// Kind of a public key, from its SPKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    Rsa,
}

/// A parsed `DigitallySigned` structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    pub hash_alg: u8,
    pub sig_alg: u8,
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// Parses `hash(1) sig(1) opaque signature<0..2^16-1>`, exactly.
    pub fn parse(bytes: &[u8], what: &'static str) -> Result<Self, CtError> {
        let mut r = Reader::new(bytes, what);
        let hash_alg = r.u8()?;
        let sig_alg = r.u8()?;
        let signature = r.vec16()?.to_vec();
        r.finish()?;
        Ok(DigitallySigned {
            hash_alg,
            sig_alg,
            signature,
        })
    }
}

/// What kind of key an SPKI holds, or why it is not acceptable.
pub fn key_kind(spki: &[u8]) -> Result<KeyKind, CtError> {
    use spki::DecodePublicKey;
    if p256::PublicKey::from_public_key_der(spki).is_ok() {
        return Ok(KeyKind::EcdsaP256);
    }
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(spki) {
        use rsa::traits::PublicKeyParts;
        let bits = k.n().bits();
        if bits < MIN_RSA_BITS {
            return Err(CtError::Signature(format!(
                "RSA key of {bits} bits (at least {MIN_RSA_BITS} required)"
            )));
        }
        return Ok(KeyKind::Rsa);
    }
    Err(CtError::Signature(
        "key is neither ECDSA P-256 nor RSA (SubjectPublicKeyInfo DER)".into(),
    ))
}

fn alg_name(hash: u8, sig: u8) -> String {
    let h = match hash {
        HASH_SHA256 => "sha256".to_string(),
        x => format!("hash {x}"),
    };
    let s = match sig {
        SIG_ECDSA => "ecdsa".to_string(),
        SIG_RSA => "rsa".to_string(),
        x => format!("signature algorithm {x}"),
    };
    format!("{s}/{h}")
}

/// Verifies a `DigitallySigned` over `msg` with the key `spki`. The declared
/// algorithm must be SHA-256 and must match the key type.
pub fn verify(
    spki: &[u8],
    hash_alg: u8,
    sig_alg: u8,
    sig: &[u8],
    msg: &[u8],
) -> Result<(), CtError> {
    if hash_alg != HASH_SHA256 {
        return Err(CtError::Signature(format!(
            "{}: only SHA-256 is allowed",
            alg_name(hash_alg, sig_alg)
        )));
    }
    let kind = key_kind(spki)?;
    match (kind, sig_alg) {
        (KeyKind::EcdsaP256, SIG_ECDSA) => verify_ecdsa_p256(spki, sig, msg),
        (KeyKind::Rsa, SIG_RSA) => verify_rsa_pkcs1_sha256(spki, sig, msg),
        (k, _) => Err(CtError::Signature(format!(
            "signature declared as {} but the key is {k:?}",
            alg_name(hash_alg, sig_alg)
        ))),
    }
}

/// ECDSA P-256 / SHA-256 over `msg`, signature in DER (RFC 5480 / RFC 6962).
pub fn verify_ecdsa_p256(spki: &[u8], sig: &[u8], msg: &[u8]) -> Result<(), CtError> {
    use p256::ecdsa::{signature::Verifier, Signature, VerifyingKey};
    use spki::DecodePublicKey;
    let key = VerifyingKey::from_public_key_der(spki)
        .map_err(|e| CtError::Signature(format!("P-256 key: {e}")))?;
    let sig = Signature::from_der(sig)
        .map_err(|_| CtError::Signature("ECDSA signature is not valid DER".into()))?;
    key.verify(msg, &sig)
        .map_err(|_| CtError::Signature("ECDSA P-256 signature does not verify".into()))
}

/// RSASSA-PKCS1-v1_5 / SHA-256 over `msg`.
pub fn verify_rsa_pkcs1_sha256(spki: &[u8], sig: &[u8], msg: &[u8]) -> Result<(), CtError> {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use spki::DecodePublicKey;
    if let KeyKind::EcdsaP256 = key_kind(spki)? {
        return Err(CtError::Signature("expected an RSA key".into()));
    }
    let key = rsa::RsaPublicKey::from_public_key_der(spki)
        .map_err(|e| CtError::Signature(format!("RSA key: {e}")))?;
    let vk = VerifyingKey::<sha2::Sha256>::new(key);
    let sig = Signature::try_from(sig)
        .map_err(|_| CtError::Signature("RSA signature is malformed".into()))?;
    vk.verify(msg, &sig)
        .map_err(|_| CtError::Signature("RSA PKCS#1 v1.5 SHA-256 signature does not verify".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};
    use p256::pkcs8::EncodePublicKey;

    fn key() -> (SigningKey, Vec<u8>) {
        let sk = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let spki = sk
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        (sk, spki)
    }

    #[test]
    fn ecdsa_signature_verifies_and_tampering_fails() {
        let (sk, spki) = key();
        let sig: Signature = sk.sign(b"hello");
        let der = sig.to_der();
        verify(&spki, HASH_SHA256, SIG_ECDSA, der.as_bytes(), b"hello").unwrap();
        assert!(verify(&spki, HASH_SHA256, SIG_ECDSA, der.as_bytes(), b"hellO").is_err());
        // wrong declared algorithm
        assert!(verify(&spki, HASH_SHA256, SIG_RSA, der.as_bytes(), b"hello").is_err());
        assert!(verify(&spki, 2, SIG_ECDSA, der.as_bytes(), b"hello").is_err());
        // garbage signature
        assert!(verify(&spki, HASH_SHA256, SIG_ECDSA, &[0x30, 0], b"hello").is_err());
    }

    #[test]
    fn non_keys_are_rejected() {
        assert!(key_kind(b"not a key").is_err());
    }

    #[test]
    fn digitally_signed_parses_exactly() {
        let d = DigitallySigned::parse(&[4, 3, 0, 2, 9, 9], "t").unwrap();
        assert_eq!(d.signature, vec![9, 9]);
        assert!(DigitallySigned::parse(&[4, 3, 0, 2, 9], "t").is_err());
        assert!(DigitallySigned::parse(&[4, 3, 0, 1, 9, 9], "t").is_err());
    }
}
