//! Certificate Transparency evidence, offline: everything needed to judge,
//! years later and without network, whether a certificate was logged.
//!
//! * [`sct`]: the `SignedCertificateTimestampList` embedded in a certificate
//!   (extension 1.3.6.1.4.1.11129.2.4.2, RFC 6962 §3.3) and the static-ct-api
//!   `leaf_index` SCT extension;
//! * [`precert`]: the precertificate `MerkleTreeLeaf` rebuilt from the final
//!   certificate by splicing the SCT extension out of the TBS DER
//!   (RFC 6962 §3.2, §3.4) — the bytes the SCT signs and the log hashes;
//! * [`sig`]: TLS `DigitallySigned` verification (ECDSA P-256 / RSA PKCS#1
//!   v1.5, SHA-256) with a key given as SPKI DER;
//! * [`loglist`]: Google's log list v3 and its RSA signature;
//! * [`sth`]: RFC 6962 `get-sth` and `get-proof-by-hash` responses;
//! * [`checkpoint`]: C2SP signed-note checkpoints with an RFC 6962 note
//!   signature (static-ct-api);
//! * [`tiles`]: tlog tiles, and inclusion proofs assembled from them;
//! * [`merkle`]: bounded inclusion-proof verification (ct-merkle) and
//!   Merkle tree hashes;
//! * [`verify`]: the judgement shared by the audit (`ct.*` checks) and
//!   `blyss-evidence ct check`;
//! * [`layout`]: where CT evidence lives in a bundle.

use thiserror::Error;

pub mod checkpoint;
pub mod der_walk;
pub mod layout;
pub mod loglist;
pub mod merkle;
pub mod precert;
pub mod sct;
pub mod sig;
pub mod sth;
pub mod tiles;
pub mod tls_codec;
pub mod verify;

/// Why a piece of CT evidence could not be parsed or verified.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CtError {
    /// Malformed TLS-encoded structure (SCT, SCT list, note signature…).
    #[error("{what}: {reason}")]
    Decode { what: String, reason: String },
    /// Malformed certificate DER.
    #[error("certificate: {0}")]
    Certificate(String),
    /// Malformed JSON (log list, STH, proof).
    #[error("{what}: {reason}")]
    Json { what: String, reason: String },
    /// A signature did not verify, or its algorithm/key is not acceptable.
    #[error("{0}")]
    Signature(String),
    /// A Merkle proof did not verify or is out of bounds.
    #[error("{0}")]
    Proof(String),
}

pub(crate) fn decode_err(what: &str, reason: impl Into<String>) -> CtError {
    CtError::Decode {
        what: what.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn json_err(what: &str, reason: impl Into<String>) -> CtError {
    CtError::Json {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// Standard base64 (with padding), the encoding of every CT JSON API.
pub(crate) fn b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s)
}

/// Formats a CT timestamp (milliseconds since the epoch) as RFC 3339 UTC
/// with millisecond precision; out-of-range values are shown raw.
pub fn fmt_ms(ms: u64) -> String {
    match ms_to_time(ms) {
        Some(t) => {
            let base = crate::util::fmt_time(t);
            // fmt_time gives `…:SSZ`: insert the milliseconds.
            match base.strip_suffix('Z') {
                Some(b) => format!("{b}.{:03}Z", ms % 1000),
                None => base,
            }
        }
        None => format!("{ms} ms"),
    }
}

/// Converts a CT timestamp (ms since the epoch) to a time, if representable.
pub fn ms_to_time(ms: u64) -> Option<time::OffsetDateTime> {
    let ns = i128::from(ms).checked_mul(1_000_000)?;
    time::OffsetDateTime::from_unix_timestamp_nanos(ns).ok()
}

/// Converts a time to a CT timestamp (ms since the epoch); times before the
/// epoch map to 0.
pub fn time_to_ms(t: time::OffsetDateTime) -> u64 {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(ms).unwrap_or(0)
}
