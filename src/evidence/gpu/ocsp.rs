//! OCSP responses (RFC 6960) for the certificates of the NVIDIA device and
//! RIM signing chains, captured beside the evidence and judged offline at
//! the evaluation time.
//!
//! # Members
//! Every file under `evidence/gpu/ocsp/` is one `OCSPResponse`, stored as
//! received: DER, or the base64 of that DER (as NVIDIA's samples and
//! go-nvattest-tools keep them); [`decode_member`] tells them apart by the
//! first byte (DER starts with `0x30`, base64 never does). Names carry no
//! meaning: a response is matched to a certificate by its CertID (issuer
//! name hash, issuer key hash, serial) under whatever hash algorithm the
//! response uses (SHA-1, SHA-256, SHA-384 or SHA-512).
//!
//! # Rules (what [`judge`] establishes for one certificate)
//! * the response is `successful`, of type `id-pkix-ocsp-basic`, and its
//!   signature (ecdsa-with-SHA384, P-384: the only profile NVIDIA's
//!   responder uses, as for the chains) verifies over the exact
//!   `tbsResponseData` bytes with the key of an **authorised responder**:
//!   - the CA that issued the certificate (the next certificate of a chain
//!     that verified to a pinned root), or
//!   - a certificate embedded in the response that is issued by that CA
//!     (names equal, signature by its key), carries the `id-kp-OCSPSigning`
//!     EKU, allows digitalSignature when it has keyUsage, has no unknown
//!     critical extension, and is valid at the response's `producedAt`.
//!
//!   NVIDIA's responses all use the second form (a delegated "NVIDIA OCSP
//!   Responder …" certificate per issuing CA, by key id). Because the CA is
//!   itself part of a chain verified to the trust set, an authorised
//!   responder chains to the trust set; a responder issued by anyone else
//!   is refused whatever it claims. The `ResponderID` must name the signer
//!   (by name, or by the SHA-1 of its key).
//! * the CertID names exactly this certificate (issuer hashes recomputed
//!   from the CA, serial equal);
//! * status `good`; `revoked` (including certificateHold, "on hold") and
//!   `unknown` are failures;
//! * fresh when `thisUpdate ≤ t ≤ nextUpdate` for the evaluation time `t`;
//!   otherwise (or without `nextUpdate`) stale: a warning, never a pass.
//!
//! NVIDIA's responses carry no OCSP nonce (and a captured response could
//! not prove one to an offline auditor anyway): freshness rests on the
//! time window alone, judged at the evaluation time, which is why a stale
//! answer is reported and never passes.
//!
//! # Why `x509-ocsp`
//! RustCrypto's `x509-ocsp` 0.2 is on the same `der` 0.7 / `x509-cert` 0.2
//! generation as the rest of the crate, so it adds only the ASN.1 type
//! definitions (strict DER through `der`'s derive; no crypto, no
//! builder). The signed bytes are not taken from its re-encoding but read
//! from the input as a raw TLV, so a non-canonical encoding can only make a
//! signature fail, never pass.
//!
//! Bounds: a member is capped at [`MAX_MEMBER`] bytes before decoding, a
//! response at [`MAX_SINGLE`] single responses and [`MAX_CERTS`] embedded
//! certificates; parsing is `der`'s linear decoder.

use base64::Engine;
use der::{Decode, Encode, Reader};
use time::OffsetDateTime;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};

use super::certs::{self, CertInfo};
use crate::util::fmt_time;

/// Folder (under `evidence/`) of the OCSP responses, one member per response.
pub const DIR: &str = "gpu/ocsp/";
/// Cap of one member (NVIDIA's responses are ≈ 1 KiB of DER, 1.3 KiB base64).
pub const MAX_MEMBER: usize = 32 * 1024;
/// Cap of the number of response members (64 GPUs × 3 device certificates
/// plus the RIM chains fit).
pub const MAX_MEMBERS: usize = 256;
/// Cap of single responses in one response (NVIDIA's carry one).
pub const MAX_SINGLE: usize = 64;
/// Cap of certificates embedded in one response (NVIDIA's carry one).
pub const MAX_CERTS: usize = 8;

const OID_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const OID_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const EXT_KEY_USAGE: &str = "2.5.29.15";
const EXT_EKU: &str = "2.5.29.37";
const EXT_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// Hash algorithm of a CertID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn from_oid(oid: &str) -> Option<HashAlg> {
        match oid {
            "1.3.14.3.2.26" => Some(HashAlg::Sha1),
            "2.16.840.1.101.3.4.2.1" => Some(HashAlg::Sha256),
            "2.16.840.1.101.3.4.2.2" => Some(HashAlg::Sha384),
            "2.16.840.1.101.3.4.2.3" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// Revocation state one single response asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Good,
    /// Revocation time and reason (`certificateHold` is "on hold").
    Revoked {
        at: OffsetDateTime,
        reason: Option<String>,
    },
    Unknown,
}

impl State {
    pub fn label(&self) -> String {
        match self {
            State::Good => "good".into(),
            State::Revoked { at, reason } => format!(
                "revoked at {}{}",
                fmt_time(*at),
                reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            State::Unknown => "unknown".into(),
        }
    }
}

/// One `SingleResponse`.
#[derive(Debug, Clone)]
pub struct Single {
    /// `None` when the CertID uses a hash algorithm we do not compute (it
    /// then names no certificate).
    pub hash: Option<HashAlg>,
    pub hash_oid: String,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    /// Serial, big-endian bytes as encoded.
    pub serial: Vec<u8>,
    pub state: State,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
}

impl Single {
    /// Whether the CertID names `cert` issued by `issuer`.
    pub fn names(&self, cert: &CertInfo, issuer: &CertInfo) -> bool {
        self.names_issuer(issuer)
            && self.serial == cert.cert.tbs_certificate.serial_number.as_bytes()
    }

    /// Whether the CertID's issuer hashes are those of `issuer`.
    pub fn names_issuer(&self, issuer: &CertInfo) -> bool {
        let Some(h) = self.hash else { return false };
        let tbs = &issuer.cert.tbs_certificate;
        let Ok(name) = tbs.subject.to_der() else {
            return false;
        };
        h.digest(&name) == self.issuer_name_hash
            && h.digest(tbs.subject_public_key_info.subject_public_key.raw_bytes())
                == self.issuer_key_hash
    }

    /// Serial as upper-case hex (as `openssl` prints it).
    pub fn serial_hex(&self) -> String {
        serial_hex(&self.serial)
    }
}

/// One parsed `OCSPResponse` (successful, basic), not yet verified.
#[derive(Debug, Clone)]
pub struct Response {
    /// Bundle member it came from.
    pub member: String,
    pub produced_at: OffsetDateTime,
    /// `byName: <DN>` or `byKey: <hex>`.
    pub responder_id: String,
    responder: ResponderId,
    pub singles: Vec<Single>,
    /// Certificates embedded in the response (`certs`).
    pub certs: Vec<CertInfo>,
    sig_alg: String,
    signature: Vec<u8>,
    /// Exact DER of `tbsResponseData` as received (the signed bytes).
    tbs: Vec<u8>,
}

/// A DER INTEGER's content as upper-case hex without the sign-padding
/// zero byte (`00D69F…` → `D69F…`, as `openssl` prints serials).
pub fn serial_hex(bytes: &[u8]) -> String {
    match bytes {
        [0, rest @ ..] if rest.first().is_some_and(|b| *b >= 0x80) => hex::encode_upper(rest),
        _ => hex::encode_upper(bytes),
    }
}

fn time_of(t: &x509_ocsp::OcspGeneralizedTime) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp(t.0.to_unix_duration().as_secs() as i64)
        .map_err(|e| format!("time out of range: {e}"))
}

/// Returns the DER of a member: as is when it starts like DER, else the
/// base64 decoding (ASCII whitespace ignored).
pub fn decode_member(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.len() > MAX_MEMBER {
        return Err(format!(
            "{} bytes, over the {MAX_MEMBER}-byte cap",
            bytes.len()
        ));
    }
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| format!("neither DER nor base64 of DER ({e})"))
}

impl Response {
    /// Parses one member's bytes (DER or base64 of DER).
    pub fn parse(member: &str, bytes: &[u8]) -> Result<Response, String> {
        let der = decode_member(bytes)?;
        let outer =
            OcspResponse::from_der(&der).map_err(|e| format!("not an OCSPResponse: {e}"))?;
        if outer.response_status != OcspResponseStatus::Successful {
            return Err(format!(
                "responseStatus is {:?}, not successful",
                outer.response_status
            ));
        }
        let rb = outer
            .response_bytes
            .ok_or("successful response without responseBytes")?;
        if rb.response_type.to_string() != OID_BASIC {
            return Err(format!(
                "response type {} is not id-pkix-ocsp-basic",
                rb.response_type
            ));
        }
        let basic_der = rb.response.as_bytes();
        let basic = BasicOcspResponse::from_der(basic_der)
            .map_err(|e| format!("not a BasicOCSPResponse: {e}"))?;
        // The signed bytes, as received: the first TLV inside the outer SEQUENCE.
        let tbs = {
            let mut r = der::SliceReader::new(basic_der).map_err(|e| e.to_string())?;
            let _hdr = der::Header::decode(&mut r).map_err(|e| e.to_string())?;
            r.tlv_bytes().map_err(|e| e.to_string())?.to_vec()
        };
        let data = &basic.tbs_response_data;
        if data.responses.is_empty() || data.responses.len() > MAX_SINGLE {
            return Err(format!(
                "{} single responses (1 to {MAX_SINGLE} accepted)",
                data.responses.len()
            ));
        }
        let embedded = basic.certs.as_deref().unwrap_or(&[]);
        if embedded.len() > MAX_CERTS {
            return Err(format!(
                "{} embedded certificates, more than {MAX_CERTS}",
                embedded.len()
            ));
        }
        let certs = embedded
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_der().map_err(|e| e.to_string())?;
                CertInfo::parse(&d).map_err(|e| format!("embedded certificate {i}: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let singles = data
            .responses
            .iter()
            .map(|s| {
                let oid = s.cert_id.hash_algorithm.oid.to_string();
                let state = match &s.cert_status {
                    CertStatus::Good(_) => State::Good,
                    CertStatus::Unknown(_) => State::Unknown,
                    CertStatus::Revoked(info) => State::Revoked {
                        at: time_of(&info.revocation_time)?,
                        reason: info.revocation_reason.map(|r| format!("{r:?}")),
                    },
                };
                Ok(Single {
                    hash: HashAlg::from_oid(&oid),
                    hash_oid: oid,
                    issuer_name_hash: s.cert_id.issuer_name_hash.as_bytes().to_vec(),
                    issuer_key_hash: s.cert_id.issuer_key_hash.as_bytes().to_vec(),
                    serial: s.cert_id.serial_number.as_bytes().to_vec(),
                    state,
                    this_update: time_of(&s.this_update)?,
                    next_update: s.next_update.as_ref().map(time_of).transpose()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let responder_id = match &data.responder_id {
            ResponderId::ByName(n) => format!("byName: {n}"),
            ResponderId::ByKey(k) => format!("byKey: {}", hex::encode_upper(k.as_bytes())),
        };
        Ok(Response {
            member: member.to_string(),
            produced_at: time_of(&data.produced_at)?,
            responder_id,
            responder: data.responder_id.clone(),
            singles,
            certs,
            sig_alg: basic.signature_algorithm.oid.to_string(),
            signature: basic
                .signature
                .as_bytes()
                .ok_or("signature has unused bits")?
                .to_vec(),
            tbs,
        })
    }

    /// The signature bytes (DER ECDSA-Sig-Value) as received.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn names_signer(&self, signer: &CertInfo) -> bool {
        match &self.responder {
            ResponderId::ByName(n) => n == &signer.cert.tbs_certificate.subject,
            ResponderId::ByKey(k) => {
                let spk = signer
                    .cert
                    .tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes();
                HashAlg::Sha1.digest(spk) == k.as_bytes()
            }
        }
    }

    fn signed_by(&self, signer: &CertInfo) -> bool {
        use p384::ecdsa::signature::Verifier;
        use p384::pkcs8::DecodePublicKey;
        if self.sig_alg != ECDSA_SHA384 {
            return false;
        }
        let Ok(spki) = signer.spki_der() else {
            return false;
        };
        let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&spki) else {
            return false;
        };
        let Ok(sig) = p384::ecdsa::Signature::from_der(&self.signature) else {
            return false;
        };
        crate::util::memo_verify(
            "ecdsa-p384-sha384",
            &spki,
            &self.tbs,
            &self.signature,
            || key.verify(&self.tbs, &sig).is_ok(),
        )
    }

    /// Finds the authorised responder for certificates issued by `issuer`
    /// (a CA of a chain verified to the trust set) and verifies the
    /// response's signature with it. Returns the signer's subject and how
    /// it is authorised.
    pub fn verify_signer(&self, issuer: &CertInfo) -> Result<String, String> {
        if self.sig_alg != ECDSA_SHA384 {
            return Err(format!(
                "signed with {}, only ecdsa-with-SHA384 is accepted",
                self.sig_alg
            ));
        }
        // The issuing CA itself.
        if self.names_signer(issuer) {
            return if self.signed_by(issuer) {
                Ok(format!("{} (the issuing CA itself)", issuer.subject))
            } else {
                Err(format!(
                    "the signature does not verify with the key of the issuing CA {}",
                    issuer.subject
                ))
            };
        }
        let mut why = Vec::new();
        for c in self.certs.iter().filter(|c| self.names_signer(c)) {
            match delegated(c, issuer, self.produced_at) {
                Err(e) => why.push(e),
                Ok(()) if self.signed_by(c) => {
                    return Ok(format!(
                        "{} (delegated OCSP signer issued by {})",
                        c.subject, issuer.subject
                    ))
                }
                Ok(()) => why.push(format!(
                    "the signature does not verify with the key of {}",
                    c.subject
                )),
            }
        }
        if why.is_empty() {
            why.push(format!(
                "no certificate in the response is the responder {} it names",
                self.responder_id
            ));
        }
        Err(why.join("; "))
    }
}

/// Whether `c` is a delegated OCSP signer of `issuer` valid at `produced_at`.
fn delegated(c: &CertInfo, issuer: &CertInfo, produced_at: OffsetDateTime) -> Result<(), String> {
    use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};
    if c.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
        return Err(format!(
            "responder {} is issued by {}, not by the certificate's issuer {} (it does not chain to the trust set through that CA)",
            c.subject, c.cert.tbs_certificate.issuer, issuer.subject
        ));
    }
    certs::verify_signature(c, issuer).map_err(|e| format!("responder {}: {e}", c.subject))?;
    if let Some(t) = c.time_issue(produced_at, false) {
        return Err(format!(
            "responder certificate at the response's producedAt: {t}"
        ));
    }
    let exts = c.cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let mut eku_ok = false;
    for e in exts {
        let id = e.extn_id.to_string();
        match id.as_str() {
            EXT_EKU => {
                let eku = ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                    .map_err(|err| format!("responder {}: bad EKU: {err}", c.subject))?;
                eku_ok = eku.0.iter().any(|o| o.to_string() == OID_OCSP_SIGNING);
            }
            EXT_KEY_USAGE => {
                let ku = KeyUsage::from_der(e.extn_value.as_bytes())
                    .map_err(|err| format!("responder {}: bad keyUsage: {err}", c.subject))?;
                if !ku.0.contains(KeyUsages::DigitalSignature) {
                    return Err(format!(
                        "responder {} may not sign (keyUsage lacks digitalSignature)",
                        c.subject
                    ));
                }
            }
            _ if e.critical && id != EXT_BASIC_CONSTRAINTS => {
                return Err(format!(
                    "responder {} has an unsupported critical extension {id}",
                    c.subject
                ))
            }
            _ => {}
        }
    }
    if !eku_ok {
        return Err(format!(
            "responder {} lacks the id-kp-OCSPSigning extended key usage",
            c.subject
        ));
    }
    Ok(())
}

/// What the responses say about one certificate at the evaluation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Verified `good` response, `thisUpdate ≤ t ≤ nextUpdate`.
    Fresh,
    /// Verified `good` response, but `t` outside its window (or no nextUpdate).
    Stale(String),
    /// No response names the certificate.
    Missing,
    /// Verified response: revoked (or on hold) or unknown.
    Bad(String),
    /// A response names the certificate but does not verify.
    Invalid(String),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Fresh => "good, fresh",
            Outcome::Stale(_) => "good, STALE",
            Outcome::Missing => "no response",
            Outcome::Bad(_) => "REVOKED/UNKNOWN",
            Outcome::Invalid(_) => "INVALID response",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Outcome::Fresh => 0,
            Outcome::Stale(_) => 1,
            Outcome::Missing => 2,
            Outcome::Bad(_) => 3,
            Outcome::Invalid(_) => 4,
        }
    }

    /// Fails the check (a warning otherwise, or a pass when fresh).
    pub fn fails(&self) -> bool {
        matches!(self, Outcome::Bad(_) | Outcome::Invalid(_))
    }
}

/// The judgement of one certificate.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub subject: String,
    pub serial: String,
    pub outcome: Outcome,
    /// From the response the outcome rests on, when there is one.
    pub member: Option<String>,
    pub state: Option<String>,
    pub produced_at: Option<OffsetDateTime>,
    pub this_update: Option<OffsetDateTime>,
    pub next_update: Option<OffsetDateTime>,
    pub responder: Option<String>,
}

/// Judges `cert` (issued by `issuer`, both from a chain verified to the
/// trust set) against every response that names it, at `at`. With several
/// responses the worst outcome wins, except that a fresh one beats stale
/// ones (a newer answer supersedes an older one; a bad or invalid one is
/// never outweighed).
pub fn judge(
    cert: &CertInfo,
    issuer: &CertInfo,
    responses: &[Response],
    at: OffsetDateTime,
) -> Judgement {
    let mut best = Judgement {
        subject: cert.subject.clone(),
        serial: serial_hex(cert.cert.tbs_certificate.serial_number.as_bytes()),
        outcome: Outcome::Missing,
        member: None,
        state: None,
        produced_at: None,
        this_update: None,
        next_update: None,
        responder: None,
    };
    for r in responses {
        for s in r.singles.iter().filter(|s| s.names(cert, issuer)) {
            let mut j = Judgement {
                member: Some(r.member.clone()),
                state: Some(s.state.label()),
                produced_at: Some(r.produced_at),
                this_update: Some(s.this_update),
                next_update: s.next_update,
                responder: None,
                outcome: Outcome::Missing,
                ..best.clone()
            };
            j.outcome = match r.verify_signer(issuer) {
                Err(e) => Outcome::Invalid(format!("{}: {e}", r.member)),
                Ok(who) => {
                    j.responder = Some(who);
                    match &s.state {
                        State::Good => window(s, at),
                        st => Outcome::Bad(format!("{}: {}", r.member, st.label())),
                    }
                }
            };
            let better = match (&best.outcome, &j.outcome) {
                (Outcome::Missing, _) => true,
                (a, b) if a.fails() || b.fails() => b.rank() > a.rank(),
                (_, b) => b.rank() < best.outcome.rank(),
            };
            if better {
                best = j;
            }
        }
    }
    best
}

fn window(s: &Single, at: OffsetDateTime) -> Outcome {
    if at < s.this_update {
        return Outcome::Stale(format!(
            "thisUpdate {} is after the evaluation time {}",
            fmt_time(s.this_update),
            fmt_time(at)
        ));
    }
    match s.next_update {
        None => Outcome::Stale(
            "the response has no nextUpdate, so it is current only at thisUpdate".into(),
        ),
        Some(n) if at > n => Outcome::Stale(format!(
            "nextUpdate {} is before the evaluation time {}",
            fmt_time(n),
            fmt_time(at)
        )),
        Some(_) => Outcome::Fresh,
    }
}

#[cfg(test)]
pub(crate) mod testca;
#[cfg(test)]
mod tests;
