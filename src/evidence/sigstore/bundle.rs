//! The Sigstore bundle v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`)
//! as this verifier reads it: one Fulcio leaf certificate, one DSSE envelope
//! with one signature, one transparency-log entry. Everything else a bundle
//! may hold (message signatures, public-key hints, certificate chains of
//! v0.1/v0.2, several log entries) is refused, so a bundle has exactly one
//! reading. Sizes are capped before decoding.

use serde_json::Value;

/// The only bundle media type accepted.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Largest serialized bundle accepted by [`super::verify_bundle_bytes`].
pub const MAX_BUNDLE_BYTES: usize = 4 << 20;
/// Largest base64 field (payload, canonicalized body) accepted.
pub const MAX_FIELD_B64: usize = 2 << 20;
/// Longest inclusion proof accepted (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_HASHES: usize = crate::evidence::ct::merkle::MAX_PROOF_LEN;

/// A parsed (unverified) bundle.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub cert_der: Vec<u8>,
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub entry: TlogEntry,
    /// Whether the bundle carries RFC 3161 timestamps (not used).
    pub has_rfc3161: bool,
}

/// The single transparency-log entry.
#[derive(Debug, Clone)]
pub struct TlogEntry {
    /// `logIndex` (global index in Rekor v1; index in the log for v2).
    pub log_index: u64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    /// `integratedTime`, absent or zero in Rekor v2 entries.
    pub integrated_time: Option<i64>,
    /// `inclusionPromise.signedEntryTimestamp`.
    pub set: Option<Vec<u8>>,
    /// Decoded `canonicalizedBody`.
    pub body: Vec<u8>,
    pub proof: Proof,
}

/// `inclusionProof`.
#[derive(Debug, Clone)]
pub struct Proof {
    pub index: u64,
    pub root: [u8; 32],
    pub tree_size: u64,
    pub hashes: Vec<[u8; 32]>,
    pub checkpoint: String,
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

fn field<'a>(
    o: &'a serde_json::Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a Value, String> {
    o.get(key).ok_or_else(|| format!("{what} has no {key:?}"))
}

fn string<'a>(
    o: &'a serde_json::Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a str, String> {
    field(o, key, what)?
        .as_str()
        .ok_or_else(|| format!("{what}.{key} is not a string"))
}

fn b64_field(o: &serde_json::Map<String, Value>, key: &str, what: &str) -> Result<Vec<u8>, String> {
    let s = string(o, key, what)?;
    if s.len() > MAX_FIELD_B64 {
        return Err(format!(
            "{what}.{key}: {} characters (limit {MAX_FIELD_B64})",
            s.len()
        ));
    }
    super::b64(s).map_err(|e| format!("{what}.{key} is not base64: {e}"))
}

/// Protobuf-JSON int64: a canonical decimal string (or a JSON integer).
fn int(o: &serde_json::Map<String, Value>, key: &str, what: &str) -> Result<Option<i64>, String> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => s
            .parse::<i64>()
            .ok()
            .filter(|n| n.to_string() == *s)
            .map(Some)
            .ok_or_else(|| format!("{what}.{key} {s:?} is not a canonical decimal integer")),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{what}.{key} is not a 64-bit integer")),
        Some(_) => Err(format!("{what}.{key} is not an integer")),
    }
}

fn uint(o: &serde_json::Map<String, Value>, key: &str, what: &str) -> Result<u64, String> {
    let v = int(o, key, what)?.unwrap_or(0);
    u64::try_from(v).map_err(|_| format!("{what}.{key} is negative"))
}

fn hash32(s: &Value, what: &str) -> Result<[u8; 32], String> {
    let s = s
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    super::b64(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format!("{what} is not 32 bytes of base64"))
}

fn only(o: &serde_json::Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what} has a field {:?} this verifier does not know",
            crate::util::visible(k)
        )),
        None => Ok(()),
    }
}

/// Parses a bundle value.
pub fn parse(v: &Value) -> Result<Parsed, String> {
    let b = obj(v, "bundle")?;
    let mt = string(b, "mediaType", "bundle")?;
    if mt != MEDIA_TYPE_V03 {
        return Err(format!(
            "media type {:?} is not {MEDIA_TYPE_V03:?} (only Sigstore bundle v0.3 is verified)",
            crate::util::visible(mt)
        ));
    }
    only(
        b,
        &["mediaType", "verificationMaterial", "dsseEnvelope"],
        "bundle",
    )?;
    let vm = obj(
        field(b, "verificationMaterial", "bundle")?,
        "verificationMaterial",
    )?;
    only(
        vm,
        &["certificate", "tlogEntries", "timestampVerificationData"],
        "verificationMaterial",
    )?;
    let cert = obj(
        field(vm, "certificate", "verificationMaterial")?,
        "certificate",
    )?;
    let cert_der = b64_field(cert, "rawBytes", "certificate")?;
    let has_rfc3161 = vm
        .get("timestampVerificationData")
        .and_then(|t| t.get("rfc3161Timestamps"))
        .and_then(|a| a.as_array())
        .is_some_and(|a| !a.is_empty());

    let env = obj(field(b, "dsseEnvelope", "bundle")?, "dsseEnvelope")?;
    only(
        env,
        &["payload", "payloadType", "signatures"],
        "dsseEnvelope",
    )?;
    let payload = b64_field(env, "payload", "dsseEnvelope")?;
    let payload_type = string(env, "payloadType", "dsseEnvelope")?.to_string();
    let sigs = field(env, "signatures", "dsseEnvelope")?
        .as_array()
        .ok_or("dsseEnvelope.signatures is not an array")?;
    let [sig] = sigs.as_slice() else {
        return Err(format!(
            "dsseEnvelope holds {} signatures (exactly 1 expected)",
            sigs.len()
        ));
    };
    let sig = obj(sig, "DSSE signature")?;
    only(sig, &["sig", "keyid"], "DSSE signature")?;
    let signature = b64_field(sig, "sig", "DSSE signature")?;

    let entries = field(vm, "tlogEntries", "verificationMaterial")?
        .as_array()
        .ok_or("tlogEntries is not an array")?;
    let [e] = entries.as_slice() else {
        return Err(format!(
            "{} tlog entries (exactly 1 expected)",
            entries.len()
        ));
    };
    let e = obj(e, "tlog entry")?;
    only(
        e,
        &[
            "logIndex",
            "logId",
            "kindVersion",
            "integratedTime",
            "inclusionPromise",
            "inclusionProof",
            "canonicalizedBody",
        ],
        "tlog entry",
    )?;
    let log_index = uint(e, "logIndex", "tlog entry")?;
    let log_id = b64_field(
        obj(field(e, "logId", "tlog entry")?, "logId")?,
        "keyId",
        "logId",
    )?;
    let kv = obj(field(e, "kindVersion", "tlog entry")?, "kindVersion")?;
    let kind = string(kv, "kind", "kindVersion")?.to_string();
    let version = string(kv, "version", "kindVersion")?.to_string();
    let integrated_time = int(e, "integratedTime", "tlog entry")?.filter(|t| *t != 0);
    let set = match e.get("inclusionPromise") {
        None => None,
        Some(p) => Some(b64_field(
            obj(p, "inclusionPromise")?,
            "signedEntryTimestamp",
            "inclusionPromise",
        )?),
    };
    let body = b64_field(e, "canonicalizedBody", "tlog entry")?;
    let p = obj(field(e, "inclusionProof", "tlog entry")?, "inclusionProof")?;
    only(
        p,
        &["logIndex", "rootHash", "treeSize", "hashes", "checkpoint"],
        "inclusionProof",
    )?;
    let hashes_v = field(p, "hashes", "inclusionProof")?
        .as_array()
        .ok_or("inclusionProof.hashes is not an array")?;
    if hashes_v.len() > MAX_PROOF_HASHES {
        return Err(format!(
            "inclusion proof of {} hashes (limit {MAX_PROOF_HASHES})",
            hashes_v.len()
        ));
    }
    let hashes = hashes_v
        .iter()
        .enumerate()
        .map(|(i, h)| hash32(h, &format!("inclusionProof.hashes[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let cp = obj(field(p, "checkpoint", "inclusionProof")?, "checkpoint")?;
    let checkpoint = string(cp, "envelope", "checkpoint")?.to_string();
    let proof = Proof {
        index: uint(p, "logIndex", "inclusionProof")?,
        root: hash32(
            field(p, "rootHash", "inclusionProof")?,
            "inclusionProof.rootHash",
        )?,
        tree_size: uint(p, "treeSize", "inclusionProof")?,
        hashes,
        checkpoint,
    };
    Ok(Parsed {
        cert_der,
        payload_type,
        payload,
        signature,
        entry: TlogEntry {
            log_index,
            log_id,
            kind,
            version,
            integrated_time,
            set,
            body,
            proof,
        },
        has_rfc3161,
    })
}

/// Canonical JSON as Rekor computes it (keys sorted bytewise at every
/// level, no whitespace, serde_json string escaping): used for the SET
/// payload and to prove a canonicalized body is in canonical form.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
