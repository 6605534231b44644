//! NVIDIA H100 evidence as published in `gpu_attestation.gpus[i]` of the
//! attestation document: an SPDM 1.1 measurement report signed by the GPU,
//! the GPU's device certificate chain, and the two signed reference
//! manifests (driver and VBIOS RIMs) that hold the golden values.
//!
//! Parsing is per component: a malformed RIM does not stop the SPDM
//! signature from being checked, and every error names its field. Key order
//! of the JSON is preserved by `serde_json` (`preserve_order`), which the
//! opaque data rebuild relies on.

pub mod certs;
pub mod golden;
pub mod nvidia;
pub mod ocsp;
pub mod rim;
pub mod spdm;
pub mod xml;

use serde_json::{Map, Value};

/// Which kind of NVIDIA device produced a piece of evidence. GPUs and
/// NVSwitches share the SPDM report, certificate chain and RIM formats, so
/// one record ([`GpuEvidence`]) and one set of checks serve both; the kind
/// decides the subject (`gpu0…` / `switch0…`), the check id family
/// (`gpu.*` / `switch.*`), the opaque field table and which RIMs apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    Gpu,
    Switch,
}

impl DeviceKind {
    /// Subject prefix and check family: `gpu` or `switch`.
    pub fn prefix(self) -> &'static str {
        match self {
            DeviceKind::Gpu => "gpu",
            DeviceKind::Switch => "switch",
        }
    }

    /// Word for messages: `GPU` or `NVSwitch`.
    pub fn noun(self) -> &'static str {
        match self {
            DeviceKind::Gpu => "GPU",
            DeviceKind::Switch => "NVSwitch",
        }
    }
}

/// Unsigned description the service adds beside the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GpuInfo {
    pub architecture: Option<String>,
    pub uuid: Option<String>,
    pub driver_version: Option<String>,
    pub vbios_version: Option<String>,
}

/// One GPU's evidence, each component parsed on its own.
#[derive(Debug, Clone)]
pub struct GpuEvidence {
    /// GPU or NVSwitch.
    pub kind: DeviceKind,
    /// Position among the devices of its kind (`gpu0`, `switch1`, … in
    /// reports).
    pub position: usize,
    /// `gpus[i].gpu_idx` as published.
    pub gpu_idx: Option<u64>,
    /// Field prefix for messages (`gpu_attestation.gpus[0]`).
    pub path: String,
    /// Problems with the entry itself (unknown keys, wrong types).
    pub entry_error: Option<String>,
    /// `nonce` (32 bytes): what the guest asked the GPU to sign.
    pub nonce: Result<[u8; 32], String>,
    /// `gpu_attestation_cert_chain`, DER, leaf first.
    pub cert_chain: Result<Vec<Vec<u8>>, String>,
    pub measurements: Result<spdm::Measurements, String>,
    pub driver_rim: Result<String, String>,
    pub vbios_rim: Result<String, String>,
    pub info: Result<Option<GpuInfo>, String>,
    /// Bundle member the evidence came from when it is not the attestation
    /// document (NVIDIA's interchange file); `None` for the Blyss shape.
    pub member: Option<String>,
}

impl GpuEvidence {
    /// `gpu0`, `gpu1`, … or `switch0`, `switch1`, …
    pub fn subject(&self) -> String {
        format!("{}{}", self.kind.prefix(), self.position)
    }
}

const ENTRY_KEYS: &[&str] = &[
    "gpu_idx",
    "nonce",
    "gpu_attestation_cert_chain",
    "attestation_report_obj",
    "driver_rim",
    "vbios_rim",
    "gpu_info_obj",
];

fn get<'a>(o: &'a Map<String, Value>, path: &str, k: &str) -> Result<&'a Value, String> {
    o.get(k)
        .ok_or_else(|| format!("field `{path}.{k}` is missing"))
}

fn string(o: &Map<String, Value>, path: &str, k: &str) -> Result<String, String> {
    get(o, path, k)?
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("field `{path}.{k}` is not a string"))
}

fn parse_info(v: Option<&Value>, path: &str) -> Result<Option<GpuInfo>, String> {
    let v = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let p = format!("{path}.gpu_info_obj");
    let o = v
        .as_object()
        .ok_or_else(|| format!("field `{p}` is not an object"))?;
    let mut info = GpuInfo::default();
    for (k, val) in o {
        let s = val
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("field `{p}.{k}` is not a string"))?;
        match k.as_str() {
            "architecture" => info.architecture = Some(s),
            "uuid" => info.uuid = Some(s),
            "driver_version" => info.driver_version = Some(s),
            "vbios_version" => info.vbios_version = Some(s),
            _ => return Err(format!("field `{p}.{k}` is not expected here")),
        }
    }
    Ok(Some(info))
}

fn parse_entry(position: usize, v: &Value) -> GpuEvidence {
    let path = format!("gpu_attestation.gpus[{position}]");
    let empty = Map::new();
    let (o, mut entry_error) = match v.as_object() {
        Some(o) => (o, None),
        None => (&empty, Some(format!("field `{path}` is not an object"))),
    };
    if entry_error.is_none() {
        if let Some(k) = o.keys().find(|k| !ENTRY_KEYS.contains(&k.as_str())) {
            entry_error = Some(format!("field `{path}.{k}` is not expected here"));
        }
    }
    let gpu_idx = o.get("gpu_idx").and_then(Value::as_u64);
    if entry_error.is_none() && o.get("gpu_idx").is_some() && gpu_idx.is_none() {
        entry_error = Some(format!("field `{path}.gpu_idx` is not an unsigned integer"));
    }
    let nonce = get(o, &path, "nonce").and_then(|n| {
        let b = spdm::hex_field(n, &format!("{path}.nonce"), Some(32))?;
        let mut a = [0u8; 32];
        a.copy_from_slice(&b);
        Ok(a)
    });
    let cert_chain = get(o, &path, "gpu_attestation_cert_chain").and_then(|c| {
        let p = format!("{path}.gpu_attestation_cert_chain");
        let arr = c
            .as_array()
            .ok_or_else(|| format!("field `{p}` is not an array"))?;
        if arr.is_empty() || arr.len() > 16 {
            return Err(format!("field `{p}` has {} certificates", arr.len()));
        }
        arr.iter()
            .enumerate()
            .map(|(i, pem)| {
                let s = pem
                    .as_str()
                    .ok_or_else(|| format!("field `{p}[{i}]` is not a string"))?;
                certs::pem_to_der(s).map_err(|e| format!("field `{p}[{i}]`: {e}"))
            })
            .collect()
    });
    let measurements = get(o, &path, "attestation_report_obj")
        .and_then(|m| spdm::Measurements::parse(m, &format!("{path}.attestation_report_obj")));
    GpuEvidence {
        kind: DeviceKind::Gpu,
        position,
        gpu_idx,
        entry_error,
        nonce,
        cert_chain,
        measurements,
        driver_rim: string(o, &path, "driver_rim"),
        vbios_rim: string(o, &path, "vbios_rim"),
        info: parse_info(o.get("gpu_info_obj"), &path),
        member: None,
        path,
    }
}

/// Parses `gpu_attestation`. The outer error means no GPU could be told
/// apart (not an object, no `gpus` list, unknown keys).
pub fn parse(gpu_attestation: &Value) -> Result<Vec<GpuEvidence>, String> {
    let o = gpu_attestation
        .as_object()
        .ok_or("field `gpu_attestation` is not an object")?;
    if let Some(k) = o.keys().find(|k| k.as_str() != "gpus") {
        return Err(format!("field `gpu_attestation.{k}` is not expected here"));
    }
    let gpus = o
        .get("gpus")
        .ok_or("field `gpu_attestation.gpus` is missing")?
        .as_array()
        .ok_or("field `gpu_attestation.gpus` is not an array")?;
    if gpus.len() > 64 {
        return Err(format!(
            "field `gpu_attestation.gpus` lists {} GPUs, more than 64",
            gpus.len()
        ));
    }
    Ok(gpus
        .iter()
        .enumerate()
        .map(|(i, g)| parse_entry(i, g))
        .collect())
}

#[cfg(test)]
mod tests;
