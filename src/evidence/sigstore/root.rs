//! The Sigstore trusted root (`trusted_root.json`, protobuf-JSON of
//! `dev.sigstore.trustroot.v1.TrustedRoot`).

use super::SigstoreError;

/// Parsed Sigstore trusted root: Fulcio CAs with validity, Rekor logs (key,
/// log id, validity, key type), CT logs.
#[derive(Debug, Clone)]
pub struct TrustedRoot {}

impl TrustedRoot {
    /// Parses a trusted root.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigstoreError> {
        let _ = bytes;
        Err(SigstoreError::Json {
            what: "trusted root".into(),
            reason: "not implemented yet".into(),
        })
    }
}
