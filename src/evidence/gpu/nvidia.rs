//! NVIDIA's evidence interchange JSON for Hopper GPUs, imported offline
//! (`collect --gpu-evidence FILE.json [--rim FILE]...`).
//!
//! Two shapes are accepted, both as NVIDIA's tools write them:
//! * the NRAS request body: `{"nonce": HEX, "arch": "HOPPER",
//!   "evidence_list": [{"evidence": BASE64, "certificate": BASE64}]}`;
//! * the attestation SDK's serialized list: `[{"arch", "nonce",
//!   "evidence", "certificate", …}]` (one nonce per entry; keys beyond these
//!   four are ignored because no check reads them).
//!
//! `evidence` is the raw SPDM GET_MEASUREMENTS request ‖ MEASUREMENTS
//! response the GPU signed; `certificate` is the device chain as PEM text,
//! base64-encoded once more. The bytes are parsed by
//! [`spdm::Measurements::from_bytes`] into the same record the Blyss shape
//! gives, so the `gpu.*` checks run unchanged whatever the source.
//!
//! The reference manifests are supplied beside the file
//! (`evidence/gpu/rims/<name>`); each GPU gets the driver RIM and the VBIOS
//! RIM whose `colloquialVersion` equals the version in its signed opaque
//! data. No RIM for a version, or two for the same version, is recorded as
//! the RIM's error (the checks then fail; nothing is guessed).

use base64::Engine;
use serde_json::{Map, Value};

use super::{certs, spdm, GpuEvidence};
use crate::evidence::gpu::rim::{Rim, RimKind};

/// Member path (under `evidence/`) of the interchange file, stored as received.
pub const MEMBER: &str = "gpu/nvidia-evidence.json";
/// Folder (under `evidence/`) of the supplied RIMs, one member per file.
pub const RIM_DIR: &str = "gpu/rims/";
/// Cap of the interchange file (an H100 entry is ≈ 12 KiB; 64 GPUs fit).
pub const MAX_FILE: usize = 2 * 1024 * 1024;
/// Cap of one supplied RIM (the RIM parser's own cap).
pub const MAX_RIM: usize = 1024 * 1024;
/// Cap of the number of supplied RIMs.
pub const MAX_RIMS: usize = 64;
/// Cap of the number of GPUs in one file (as for the Blyss shape).
pub const MAX_GPUS: usize = 64;
/// Cap of one decoded SPDM exchange (an H100 report is ≈ 4 KiB).
pub const MAX_REPORT: usize = 64 * 1024;

fn b64(v: Option<&Value>, name: &str, cap: usize) -> Result<Vec<u8>, String> {
    let s = v
        .ok_or_else(|| format!("field `{name}` is missing"))?
        .as_str()
        .ok_or_else(|| format!("field `{name}` is not a string"))?;
    if s.len() > cap / 3 * 4 + 4 {
        return Err(format!("field `{name}` exceeds {cap} bytes"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("field `{name}` is not base64: {e}"))
}

fn nonce(v: Option<&Value>, name: &str) -> Result<[u8; 32], String> {
    let v = v.ok_or_else(|| format!("field `{name}` is missing"))?;
    let b = spdm::hex_field(v, name, Some(32))?;
    let mut n = [0u8; 32];
    n.copy_from_slice(&b);
    Ok(n)
}

/// Splits a PEM chain (leaf first) into DER certificates.
fn pem_chain(pem: &[u8], name: &str) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| format!("field `{name}` is not UTF-8 PEM"))?;
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(END) {
        let block = &rest[..i + END.len()];
        out.push(
            certs::pem_to_der(block).map_err(|e| format!("field `{name}`[{}]: {e}", out.len()))?,
        );
        rest = &rest[i + END.len()..];
        if out.len() > 16 {
            return Err(format!("field `{name}` holds more than 16 certificates"));
        }
    }
    if !rest.trim().is_empty() {
        return Err(format!(
            "field `{name}` has text after its last certificate"
        ));
    }
    if out.is_empty() {
        return Err(format!("field `{name}` holds no certificate"));
    }
    Ok(out)
}

fn check_arch(v: Option<&Value>, name: &str) -> Result<(), String> {
    match v.and_then(Value::as_str) {
        Some("HOPPER") => Ok(()),
        Some(a) => Err(format!(
            "field `{name}` is {a:?}; this verifier reads HOPPER evidence only"
        )),
        None => Err(format!("field `{name}` is missing or not a string")),
    }
}

/// Picks the one RIM whose version equals `version` (ASCII case-insensitive
/// for VBIOS versions, as NVIDIA prints them in either case).
fn pick(
    rims: &[(String, String, Result<Rim, String>)],
    kind: RimKind,
    version: &str,
) -> Result<String, String> {
    let hits: Vec<&(String, String, Result<Rim, String>)> = rims
        .iter()
        .filter(|(_, _, r)| match r {
            Ok(r) => match kind {
                RimKind::Driver => r.version == version,
                RimKind::Vbios => r.version.eq_ignore_ascii_case(version),
            },
            Err(_) => false,
        })
        .collect();
    let name = kind.as_str();
    match hits.as_slice() {
        [one] => Ok(one.1.clone()),
        [] => Err(format!(
            "no {name} RIM for version {version} was supplied (supplied: {})",
            if rims.is_empty() {
                "none".to_string()
            } else {
                rims.iter()
                    .map(|(n, _, r)| match r {
                        Ok(r) => format!("{n} = {}", r.version),
                        Err(e) => format!("{n}: unreadable ({e})"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )),
        many => Err(format!(
            "{} {name} RIMs for version {version} were supplied ({}); give exactly one",
            many.len(),
            many.iter()
                .map(|h| h.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Parses the interchange file. `rims` are (member name, text) pairs.
/// `first_position` numbers the GPUs after any from the attestation
/// document. The outer error means no GPU could be told apart.
pub fn parse(
    bytes: &[u8],
    rims: &[(String, String)],
    first_position: usize,
) -> Result<Vec<GpuEvidence>, String> {
    if bytes.len() > MAX_FILE {
        return Err(format!(
            "{MEMBER} is {} bytes, over its {MAX_FILE}-byte cap",
            bytes.len()
        ));
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{MEMBER} is not JSON: {e}"))?;
    // (entry object, its nonce value, field prefix)
    let mut entries: Vec<(&Map<String, Value>, Option<&Value>, String)> = Vec::new();
    match &v {
        Value::Object(o) => {
            for k in o.keys() {
                if !["nonce", "arch", "evidence_list"].contains(&k.as_str()) {
                    return Err(format!("field `{k}` of {MEMBER} is not expected here"));
                }
            }
            check_arch(o.get("arch"), "arch")?;
            let list = o
                .get("evidence_list")
                .and_then(Value::as_array)
                .ok_or("field `evidence_list` is missing or not an array")?;
            for (i, e) in list.iter().enumerate() {
                let p = format!("evidence_list[{i}]");
                let eo = e
                    .as_object()
                    .ok_or_else(|| format!("field `{p}` is not an object"))?;
                if let Some(k) = eo
                    .keys()
                    .find(|k| !["evidence", "certificate"].contains(&k.as_str()))
                {
                    return Err(format!("field `{p}.{k}` is not expected here"));
                }
                entries.push((eo, o.get("nonce"), p));
            }
        }
        Value::Array(list) => {
            for (i, e) in list.iter().enumerate() {
                let p = format!("[{i}]");
                let eo = e
                    .as_object()
                    .ok_or_else(|| format!("field `{p}` is not an object"))?;
                check_arch(eo.get("arch"), &format!("{p}.arch"))?;
                entries.push((eo, eo.get("nonce"), p));
            }
        }
        _ => return Err(format!("{MEMBER} is neither an object nor a list")),
    }
    if entries.is_empty() || entries.len() > MAX_GPUS {
        return Err(format!(
            "{MEMBER} lists {} GPUs (1 to {MAX_GPUS} accepted)",
            entries.len()
        ));
    }
    if rims.len() > MAX_RIMS {
        return Err(format!(
            "{} RIMs supplied, more than {MAX_RIMS}",
            rims.len()
        ));
    }
    let parsed: Vec<(String, String, Result<Rim, String>)> = rims
        .iter()
        .map(|(n, t)| {
            // A RIM as NVIDIA's RIM service returns it (JSON envelope,
            // `collect --fetch-rims`) is unwrapped first (rim_service).
            let (text, r) = match super::rim_service::unwrap(n, t) {
                Ok(x) if x.len() > MAX_RIM => (x, Err(format!("over its {MAX_RIM}-byte cap"))),
                Ok(x) => {
                    let r = Rim::parse(RimKind::Driver, &x);
                    (x, r)
                }
                Err(e) => (String::new(), Err(e)),
            };
            (n.clone(), text, r)
        })
        .collect();
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(i, (eo, n, p))| {
            let path = format!("{MEMBER} {p}");
            let nonce_name = if p.starts_with('[') {
                format!("{p}.nonce")
            } else {
                "nonce".into()
            };
            let measurements = b64(eo.get("evidence"), &format!("{p}.evidence"), MAX_REPORT)
                .and_then(|b| spdm::Measurements::from_bytes(&b))
                .map_err(|e| format!("{p}.evidence: {e}"));
            let cert_chain = b64(
                eo.get("certificate"),
                &format!("{p}.certificate"),
                64 * 1024,
            )
            .and_then(|b| pem_chain(&b, &format!("{p}.certificate")));
            let (driver_rim, vbios_rim) = match &measurements {
                Ok(m) => (
                    m.driver_version()
                        .and_then(|v| pick(&parsed, RimKind::Driver, &v)),
                    m.vbios_version()
                        .and_then(|v| pick(&parsed, RimKind::Vbios, &v)),
                ),
                Err(_) => {
                    let e = "no RIM chosen: the SPDM report (which names the versions) is unusable"
                        .to_string();
                    (Err(e.clone()), Err(e))
                }
            };
            GpuEvidence {
                position: first_position + i,
                gpu_idx: None,
                entry_error: None,
                nonce: nonce(n, &nonce_name),
                cert_chain,
                measurements,
                driver_rim,
                vbios_rim,
                info: Ok(None),
                member: Some(format!("evidence/{MEMBER}")),
                path,
            }
        })
        .collect())
}
