//! DSSE envelopes signed with ECDSA P-384 / SHA-384 (RFC 6979 deterministic
//! nonces, so a bundle is reproducible byte for byte).

use base64::Engine;
use p384::ecdsa::{signature::Signer, signature::Verifier, Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use spki::EncodePublicKey;

use super::BundleError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A DSSE envelope as stored in `envelope.dsse.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// sha256 of the signer's SPKI DER, lower-case hex.
    pub keyid: String,
    /// base64 of the ASN.1 DER ECDSA signature.
    pub sig: String,
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// keyid of a verifying key: lower-case hex sha256 of its SPKI DER.
pub fn keyid(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .expect("P-384 public keys always encode");
    crate::util::sha256_hex(der.as_bytes())
}

/// Signs `payload` into an envelope.
pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Envelope {
    let sig: Signature = key.sign(&pae(payload_type, payload));
    Envelope {
        payload: B64.encode(payload),
        payload_type: payload_type.to_string(),
        signatures: vec![EnvelopeSignature {
            keyid: keyid(key.verifying_key()),
            sig: B64.encode(sig.to_der().as_bytes()),
        }],
    }
}

impl Envelope {
    /// Decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, BundleError> {
        B64.decode(&self.payload)
            .map_err(|e| BundleError::Envelope(format!("payload is not base64: {e}")))
    }

    /// Verifies the single signature with `key`. Returns a reason on failure.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), String> {
        if self.signatures.len() != 1 {
            return Err(format!(
                "envelope has {} signatures, format v1 requires exactly one",
                self.signatures.len()
            ));
        }
        let s = &self.signatures[0];
        let expected = keyid(key);
        if s.keyid != expected {
            return Err(format!("keyid {} does not match key {}", s.keyid, expected));
        }
        let payload = self.payload_bytes().map_err(|e| e.to_string())?;
        let sig_der = B64
            .decode(&s.sig)
            .map_err(|e| format!("signature is not base64: {e}"))?;
        let sig = Signature::from_der(&sig_der)
            .map_err(|e| format!("signature is not DER ECDSA P-384: {e}"))?;
        key.verify(&pae(&self.payload_type, &payload), &sig)
            .map_err(|_| "ECDSA P-384 signature over the DSSE PAE does not verify".to_string())
    }
}
