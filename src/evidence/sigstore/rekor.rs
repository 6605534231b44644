//! The Rekor side of a bundle — the canonicalized body against the
//! envelope and the certificate, the checkpoint's signed note, the
//! SignedEntryTimestamp — and the Fulcio leaf's embedded SCTs (the CT log
//! keys come from the same trusted root).
//!
//! What the body's `envelopeHash` covers: the submitter's serialized DSSE
//! envelope, whose JSON layout (key order, whitespace, base64 variant) the
//! bundle does not keep. It cannot be recomputed reliably, so it is shown,
//! never required; the payload hash, the signature and the certificate in
//! the body are each compared with the bundle's, which binds the logged
//! entry to what was verified.

use serde_json::Value;
use time::OffsetDateTime;

use super::bundle::{canonical_json, Parsed};
use super::root::{LogKeyType, TransparencyLog, TrustedRoot};
use crate::evidence::ct::checkpoint::{signed_text, Checkpoint, NoteKey};

/// What the SCT step established.
#[derive(Debug, Clone)]
pub struct SctOk {
    /// Earliest verified SCT time.
    pub time: OffsetDateTime,
    pub detail: String,
}

/// Verifies the Fulcio leaf's embedded SCTs with the CT logs of the root:
/// at least one must verify (the Sigstore client default), each is listed.
pub fn verify_sct(cert_der: &[u8], root: &TrustedRoot) -> Result<SctOk, String> {
    use crate::evidence::ct::{fmt_ms, ms_to_time, precert, sct, sig};
    let leaf = super::cert::parse(cert_der)?;
    let (nb, na) = super::cert::validity(&leaf);
    let scts = sct::scts_from_cert(cert_der)
        .map_err(|e| format!("SCT list: {e}"))?
        .ok_or("the Fulcio leaf embeds no SCT")?;
    let tbs = precert::precert_tbs(cert_der).map_err(|e| format!("precertificate: {e}"))?;
    // Candidate issuers: the issuing certificate of every CA whose subject
    // is the leaf's issuer (the SCT signature binds the issuer key hash).
    let issuers: Vec<[u8; 32]> = root
        .certificate_authorities
        .iter()
        .filter_map(|ca| {
            let c = super::cert::parse(ca.chain.first()?).ok()?;
            (c.tbs_certificate.subject == leaf.tbs_certificate.issuer)
                .then(|| precert::issuer_key_hash(ca.chain.first()?).ok())
                .flatten()
        })
        .collect();
    if issuers.is_empty() {
        return Err("no Fulcio CA of the trusted root has the leaf's issuer name".into());
    }
    let mut ok: Option<OffsetDateTime> = None;
    let mut lines = Vec::new();
    for (i, s) in scts.iter().enumerate() {
        let ts = fmt_ms(s.timestamp);
        let judged = (|| {
            let log = root.ctlog(&s.log_id).ok_or_else(|| {
                format!(
                    "log id {} is not a CT log of the trusted root",
                    hex::encode(s.log_id)
                )
            })?;
            if log.key_type != LogKeyType::EcdsaP256Sha256 {
                return Err(format!("CT log {} has an unusable key type", log.base_url));
            }
            let t = ms_to_time(s.timestamp).ok_or("timestamp out of range")?;
            if !log.validity.contains(t) {
                return Err(format!(
                    "the trusted root lists {} for {}, which does not contain {ts}",
                    log.base_url,
                    log.validity.describe()
                ));
            }
            if !(nb <= t && t <= na) {
                return Err(format!("{ts} is outside the leaf's validity"));
            }
            let verified = issuers.iter().any(|ikh| {
                precert::precert_leaf(s, &tbs, ikh).ok().is_some_and(|msg| {
                    sig::verify(&log.spki_der, s.hash_alg, s.sig_alg, &s.signature, &msg).is_ok()
                })
            });
            if !verified {
                return Err(format!("signature by {} does not verify", log.base_url));
            }
            Ok((t, log.base_url.clone()))
        })();
        match judged {
            Ok((t, url)) => {
                ok = Some(ok.map_or(t, |o: OffsetDateTime| o.min(t)));
                lines.push(format!("SCT {i} by {url} at {ts} verifies"));
            }
            Err(e) => lines.push(format!("SCT {i} ({ts}): {e}")),
        }
    }
    match ok {
        Some(time) => Ok(SctOk {
            time,
            detail: lines.join("; "),
        }),
        None => Err(lines.join("; ")),
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    let mut cur = v;
    for k in path {
        cur = cur
            .get(k)
            .ok_or_else(|| format!("the body has no {}", path.join(".")))?;
    }
    Ok(cur)
}

fn get_str<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    get(v, path)?
        .as_str()
        .ok_or_else(|| format!("body field {} is not a string", path.join(".")))
}

fn single<'a>(v: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    let a = get(v, path)?
        .as_array()
        .ok_or_else(|| format!("body field {} is not an array", path.join(".")))?;
    match a.as_slice() {
        [one] => Ok(one),
        _ => Err(format!(
            "the body holds {} signatures (exactly 1 expected)",
            a.len()
        )),
    }
}

/// Judges the canonicalized body against the bundle.
pub fn judge_body(p: &Parsed, leaf_ok: bool) -> Result<String, String> {
    let e = &p.entry;
    let v: Value = serde_json::from_slice(&e.body)
        .map_err(|err| format!("canonicalized body is not JSON: {err}"))?;
    if canonical_json(&v).as_bytes() != e.body.as_slice() {
        return Err("canonicalized body is not in canonical JSON form".into());
    }
    let kind = get_str(&v, &["kind"])?;
    let api = get_str(&v, &["apiVersion"])?;
    if kind != e.kind || api != e.version {
        return Err(format!(
            "the body is {} {} but the entry says {} {}",
            crate::util::visible(kind),
            crate::util::visible(api),
            crate::util::visible(&e.kind),
            crate::util::visible(&e.version)
        ));
    }
    let want_hash = crate::util::sha256(&p.payload);
    let mut problems = Vec::new();
    let (hash_ok, sig_b64, cert_der, note) = match (kind, api) {
        ("dsse", "0.0.1") => {
            let alg = get_str(&v, &["spec", "payloadHash", "algorithm"])?;
            let val = get_str(&v, &["spec", "payloadHash", "value"])?;
            let sig = single(&v, &["spec", "signatures"])?;
            let verifier = get_str(sig, &["verifier"])
                .map_err(|_| "the body's signature has no verifier".to_string())?;
            let pem = super::b64(verifier)
                .map_err(|_| "the body's verifier is not base64".to_string())?;
            let (label, der) = der::pem::decode_vec(&pem)
                .map_err(|e| format!("the body's verifier is not PEM: {e}"))?;
            if label != "CERTIFICATE" {
                return Err(format!(
                    "the body's verifier is a PEM {label}, not a certificate"
                ));
            }
            let env_hash = get_str(&v, &["spec", "envelopeHash", "value"]).unwrap_or("(absent)");
            (
                alg == "sha256" && val == hex::encode(want_hash),
                get_str(sig, &["signature"]).map_err(|_| "the body's signature has no signature".to_string())?.to_string(),
                der,
                format!(
                    "; envelopeHash {} shown, not recomputed (it covers the submitter's serialization of the envelope)",
                    crate::util::visible(env_hash)
                ),
            )
        }
        ("dsse", "0.0.2") => {
            let d = get(&v, &["spec", "dsseV002"])?;
            let alg = get_str(d, &["payloadHash", "algorithm"])?;
            let dig = get_str(d, &["payloadHash", "digest"])?;
            let sig = single(d, &["signatures"])?;
            let raw = get_str(sig, &["verifier", "x509Certificate", "rawBytes"])?;
            (
                alg == "SHA2_256" && super::b64(dig).ok().as_deref() == Some(&want_hash[..]),
                get_str(sig, &["content"])?.to_string(),
                super::b64(raw).map_err(|_| "the body's certificate is not base64".to_string())?,
                String::new(),
            )
        }
        ("intoto", _) => {
            return Err(format!(
            "Rekor intoto {} bodies are not supported (this verifier reads dsse 0.0.1 and 0.0.2)",
            crate::util::visible(api)
        ))
        }
        _ => {
            return Err(format!(
                "Rekor entry kind {} {} is not supported",
                crate::util::visible(kind),
                crate::util::visible(api)
            ))
        }
    };
    if !hash_ok {
        problems.push(format!(
            "the body's payload hash is not sha256 {} of the DSSE payload",
            hex::encode(want_hash)
        ));
    }
    if super::b64(&sig_b64).ok().as_deref() != Some(p.signature.as_slice()) {
        problems.push("the body's signature is not the DSSE envelope's signature".into());
    }
    if cert_der != p.cert_der {
        problems.push("the body's certificate is not the bundle's Fulcio certificate".into());
    }
    if !leaf_ok {
        problems.push("the bundle's Fulcio certificate does not parse".into());
    }
    if problems.is_empty() {
        Ok(format!(
            "{kind} {api} body in canonical form: payload hash sha256 {}, the envelope's signature and the bundle's certificate{note}",
            hex::encode(want_hash)
        ))
    } else {
        Err(problems.join("; "))
    }
}

/// The checkpoint step: its outcome and the origin line (empty when the
/// note does not parse).
pub struct CheckpointOutcome {
    pub origin: String,
    pub outcome: Result<String, String>,
}

/// Verifies the checkpoint note with the log's key and that it commits to
/// the inclusion proof's root and size; the log must be listed for `t`.
pub fn judge_checkpoint(
    p: &Parsed,
    log: Option<&TransparencyLog>,
    t: Option<OffsetDateTime>,
) -> CheckpointOutcome {
    let e = &p.entry;
    let raw = e.proof.checkpoint.as_bytes();
    let cp = Checkpoint::parse(raw);
    let origin = cp.as_ref().map(|c| c.origin.clone()).unwrap_or_default();
    let outcome = (|| {
        let log = log.ok_or_else(|| {
            format!(
                "log id {} is not a Rekor log of the trusted root",
                hex::encode(&e.log_id)
            )
        })?;
        let cp = cp.map_err(|err| err.to_string())?;
        let text = signed_text(raw).map_err(|err| err.to_string())?;
        let host = log.host();
        let vis = crate::util::visible;
        let key = match &log.key_type {
            LogKeyType::EcdsaP256Sha256 => {
                // Rekor v1: origin `<host> - <tree id>`, signed as `<host>`.
                let tree_id = cp.origin.strip_prefix(&format!("{host} - ")).unwrap_or("");
                if tree_id.is_empty() || !tree_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "origin {:?} is not \"{host} - <tree id>\"",
                        vis(&cp.origin)
                    ));
                }
                NoteKey::EcdsaP256 {
                    spki: &log.spki_der,
                }
            }
            LogKeyType::Ed25519 => {
                if cp.origin != host {
                    return Err(format!(
                        "origin {:?} is not the log's name {host:?}",
                        vis(&cp.origin)
                    ));
                }
                let k = log
                    .ed25519_key()
                    .ok_or("the log's Ed25519 key is malformed")?;
                return verify_with(&cp, text, &host, NoteKey::Ed25519 { key: &k }, p, log, t);
            }
            LogKeyType::Unsupported(k) => {
                return Err(format!("the log's key type {k} is not supported"))
            }
        };
        verify_with(&cp, text, &host, key, p, log, t)
    })();
    CheckpointOutcome { origin, outcome }
}

fn verify_with(
    cp: &Checkpoint,
    text: &str,
    host: &str,
    key: NoteKey<'_>,
    p: &Parsed,
    log: &TransparencyLog,
    t: Option<OffsetDateTime>,
) -> Result<String, String> {
    cp.verify_note_signature(text, host, key)
        .map_err(|e| format!("checkpoint: {e}"))?;
    let proof = &p.entry.proof;
    if cp.tree_size != proof.tree_size || cp.root != proof.root {
        return Err(format!(
            "the signed checkpoint (size {}, root {}) is not the inclusion proof's (size {}, root {})",
            cp.tree_size,
            hex::encode(cp.root),
            proof.tree_size,
            hex::encode(proof.root)
        ));
    }
    let t = t.ok_or("no time to judge the log's validity at")?;
    if !log.validity.contains(t) {
        return Err(format!(
            "the trusted root lists {} for {}, which does not contain {}",
            log.base_url,
            log.validity.describe(),
            crate::util::fmt_time(t)
        ));
    }
    Ok(format!(
        "checkpoint {:?} (size {}, root {}) signed by {} ({}), listed for {}",
        crate::util::visible(&cp.origin),
        cp.tree_size,
        hex::encode(cp.root),
        host,
        match key {
            NoteKey::EcdsaP256 { .. } => "ECDSA P-256",
            NoteKey::Ed25519 { .. } => "Ed25519",
        },
        log.validity.describe()
    ))
}

/// The SET's signed payload: canonical JSON of
/// `{body, integratedTime, logID, logIndex}` (Rekor v1).
pub fn set_payload(body: &[u8], integrated_time: i64, log_id: &[u8], log_index: u64) -> String {
    let v = serde_json::json!({
        "body": super::b64e(body),
        "integratedTime": integrated_time,
        "logID": hex::encode(log_id),
        "logIndex": log_index,
    });
    canonical_json(&v)
}

/// Verifies the SignedEntryTimestamp of a Rekor v1 entry.
pub fn judge_set(p: &Parsed, log: Option<&TransparencyLog>) -> Result<String, String> {
    let e = &p.entry;
    let log = log.ok_or_else(|| {
        format!(
            "log id {} is not a Rekor log of the trusted root",
            hex::encode(&e.log_id)
        )
    })?;
    if log.key_type != LogKeyType::EcdsaP256Sha256 {
        return Err(format!(
            "the log's key type {:?} cannot verify a SET",
            log.key_type
        ));
    }
    let set = e
        .set
        .as_ref()
        .ok_or("the Rekor v1 entry has no SignedEntryTimestamp")?;
    let t = e
        .integrated_time
        .ok_or("the Rekor v1 entry has no integrated time")?;
    let msg = set_payload(&e.body, t, &e.log_id, e.log_index);
    crate::evidence::ct::sig::verify_ecdsa_p256(&log.spki_der, set, msg.as_bytes())
        .map_err(|err| format!("SignedEntryTimestamp: {err}"))?;
    let when = OffsetDateTime::from_unix_timestamp(t)
        .map(crate::util::fmt_time)
        .unwrap_or_else(|_| t.to_string());
    Ok(format!(
        "SET by {} signs the body, integrated time {when}, log id and global log index {}",
        log.host(),
        e.log_index
    ))
}
