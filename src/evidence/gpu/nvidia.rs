//! NVIDIA's evidence interchange JSON for GPUs (Hopper, Blackwell) and
//! NVSwitches (LS10), imported offline (`collect --gpu-evidence FILE.json
//! [--switch-evidence FILE.json] [--rim FILE]...`).
//!
//! GPU and switch evidence come in separate files, as NVIDIA's tools write
//! them, and are stored as separate members ([`MEMBER`],
//! [`SWITCH_MEMBER`]); `arch` must name a device of the file's kind
//! (`HOPPER`/`BLACKWELL` for GPUs, `LS10` for switches), so a switch report
//! cannot be passed off as a GPU's or the other way round.
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

use super::{certs, spdm, DeviceKind, GpuEvidence};
use crate::evidence::gpu::rim::{Rim, RimKind};

/// Member path (under `evidence/`) of the interchange file, stored as received.
pub const MEMBER: &str = "gpu/nvidia-evidence.json";
/// Member path (under `evidence/`) of the NVSwitch interchange file, stored
/// as received; same shapes and caps as [`MEMBER`].
pub const SWITCH_MEMBER: &str = "gpu/nvidia-switch-evidence.json";
/// `arch` values accepted for GPU evidence.
pub const GPU_ARCHES: &[&str] = &["HOPPER", "BLACKWELL"];
/// `arch` values accepted for NVSwitch evidence.
pub const SWITCH_ARCHES: &[&str] = &["LS10"];

/// The member (under `evidence/`) holding evidence of `kind`.
pub fn member_of(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Gpu => MEMBER,
        DeviceKind::Switch => SWITCH_MEMBER,
    }
}
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

fn check_arch(v: Option<&Value>, name: &str, kind: DeviceKind) -> Result<String, String> {
    let ok = match kind {
        DeviceKind::Gpu => GPU_ARCHES,
        DeviceKind::Switch => SWITCH_ARCHES,
    };
    match v.and_then(Value::as_str) {
        Some(a) if ok.contains(&a) => Ok(a.to_string()),
        Some(a) => Err(format!(
            "field `{name}` is {a:?}; {} evidence must be one of {}",
            kind.noun(),
            ok.join(", ")
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
                RimKind::Vbios | RimKind::SwitchBios => r.version.eq_ignore_ascii_case(version),
            },
            Err(_) => false,
        })
        .collect();
    let name = kind.label();
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

/// Parses the GPU interchange file. `rims` are (member name, text) pairs.
/// `first_position` numbers the GPUs after any from the attestation
/// document. The outer error means no GPU could be told apart.
pub fn parse(
    bytes: &[u8],
    rims: &[(String, String)],
    first_position: usize,
) -> Result<Vec<GpuEvidence>, String> {
    parse_as(DeviceKind::Gpu, bytes, rims, first_position)
}

/// Parses an interchange file holding devices of `kind`. A switch gets the
/// one supplied RIM whose version equals the switch-BIOS version in its
/// signed opaque data (ASCII, e.g. `96.10.55.00.01`) as its `vbios_rim`;
/// its `driver_rim` says a switch has none.
pub fn parse_as(
    kind: DeviceKind,
    bytes: &[u8],
    rims: &[(String, String)],
    first_position: usize,
) -> Result<Vec<GpuEvidence>, String> {
    let member = member_of(kind);
    if bytes.len() > MAX_FILE {
        return Err(format!(
            "{member} is {} bytes, over its {MAX_FILE}-byte cap",
            bytes.len()
        ));
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{member} is not JSON: {e}"))?;
    // (entry object, its nonce value, field prefix)
    let mut entries: Vec<(&Map<String, Value>, Option<&Value>, String)> = Vec::new();
    match &v {
        Value::Object(o) => {
            for k in o.keys() {
                if !["nonce", "arch", "evidence_list"].contains(&k.as_str()) {
                    return Err(format!("field `{k}` of {member} is not expected here"));
                }
            }
            check_arch(o.get("arch"), "arch", kind)?;
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
                check_arch(eo.get("arch"), &format!("{p}.arch"), kind)?;
                entries.push((eo, eo.get("nonce"), p));
            }
        }
        _ => return Err(format!("{member} is neither an object nor a list")),
    }
    if entries.is_empty() || entries.len() > MAX_GPUS {
        return Err(format!(
            "{member} lists {} {} entries (1 to {MAX_GPUS} accepted)",
            entries.len(),
            kind.noun()
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
            let r = if t.len() > MAX_RIM {
                Err(format!("over its {MAX_RIM}-byte cap"))
            } else {
                Rim::parse(RimKind::Driver, t)
            };
            (n.clone(), t.clone(), r)
        })
        .collect();
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(i, (eo, n, p))| {
            let path = format!("{member} {p}");
            let nonce_name = if p.starts_with('[') {
                format!("{p}.nonce")
            } else {
                "nonce".into()
            };
            let measurements = b64(eo.get("evidence"), &format!("{p}.evidence"), MAX_REPORT)
                .and_then(|b| spdm::Measurements::from_bytes_as(&b, kind))
                .map_err(|e| format!("{p}.evidence: {e}"));
            let cert_chain = b64(
                eo.get("certificate"),
                &format!("{p}.certificate"),
                64 * 1024,
            )
            .and_then(|b| pem_chain(&b, &format!("{p}.certificate")));
            let (driver_rim, vbios_rim) = match &measurements {
                Ok(m) if kind == DeviceKind::Switch => (
                    Err("an NVSwitch has no driver RIM".to_string()),
                    m.vbios_version()
                        .and_then(|v| pick(&parsed, RimKind::SwitchBios, &v)),
                ),
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
                kind,
                position: first_position + i,
                gpu_idx: None,
                entry_error: None,
                nonce: nonce(n, &nonce_name),
                cert_chain,
                measurements,
                driver_rim,
                vbios_rim,
                info: Ok(None),
                member: Some(format!("evidence/{member}")),
                path,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &[u8] = include_bytes!(
        "../../../fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/nvidia-switch-evidence.json"
    );
    const MULTI_SWITCH: &[u8] = include_bytes!(
        "../../../fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/multi_switch_ls10.json"
    );
    const SWITCH_RIM: &str = include_str!(
        "../../../fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml"
    );
    const B200: &[u8] =
        include_bytes!("../../../fixtures/field/nv-b200-blackwell-drv575.32/nvidia-evidence.json");

    fn leaf_spki(g: &GpuEvidence) -> Vec<u8> {
        let chain = g.cert_chain.as_ref().unwrap();
        certs::CertInfo::parse(&chain[0])
            .unwrap()
            .spki_der()
            .unwrap()
    }

    #[test]
    fn ls10_switch_report_parses_with_switch_fields_and_verifies_with_its_leaf() {
        let rims = vec![("r.xml".to_string(), SWITCH_RIM.to_string())];
        let mut s = parse_as(DeviceKind::Switch, SWITCH, &rims, 0).unwrap();
        assert_eq!(s.len(), 1);
        let g = s.remove(0);
        assert_eq!(g.subject(), "switch0");
        assert_eq!(
            g.member.as_deref(),
            Some("evidence/gpu/nvidia-switch-evidence.json")
        );
        let m = g.measurements.as_ref().unwrap();
        assert_eq!(m.device, DeviceKind::Switch);
        assert_eq!(m.response.blocks.len(), 31);
        assert_eq!(m.vbios_version().unwrap(), "96.10.55.00.01");
        let own = m.pdis(spdm::OPAQUE_SWITCH_PDI).unwrap().unwrap();
        assert_eq!(own, vec![hex_literal("203eb31ad9ed0008")]);
        let gpus = m.pdis(spdm::OPAQUE_SWITCH_GPU_PDIS).unwrap().unwrap();
        assert_eq!(gpus.len(), 16);
        let names: Vec<&str> = m.response.opaque.iter().map(|f| f.name).collect();
        assert!(names.contains(&"OPAQUE_FIELD_ID_DEVICE_PDI"), "{names:?}");
        assert!(
            names.contains(&"OPAQUE_FIELD_ID_SWITCH_GPU_PDIS"),
            "{names:?}"
        );
        m.verify(&leaf_spki(&g)).unwrap();
        assert_eq!(g.vbios_rim.as_deref().unwrap(), SWITCH_RIM);
        assert!(g.driver_rim.is_err());
        assert_eq!(&m.request.nonce, g.nonce.as_ref().unwrap());
    }

    fn hex_literal(s: &str) -> [u8; 8] {
        let mut a = [0u8; 8];
        a.copy_from_slice(&hex::decode(s).unwrap());
        a
    }

    #[test]
    fn sdk_multi_switch_list_gives_four_switches_with_the_same_report() {
        let s = parse_as(DeviceKind::Switch, MULTI_SWITCH, &[], 0).unwrap();
        assert_eq!(s.len(), 4);
        let subjects: Vec<String> = s.iter().map(GpuEvidence::subject).collect();
        assert_eq!(subjects, ["switch0", "switch1", "switch2", "switch3"]);
        let first = s[0].measurements.as_ref().unwrap();
        for g in &s {
            assert_eq!(g.measurements.as_ref().unwrap(), first);
            first.verify(&leaf_spki(g)).unwrap();
        }
        // No RIM supplied: said, not guessed.
        assert!(s[0]
            .vbios_rim
            .as_ref()
            .unwrap_err()
            .contains("no switch-BIOS RIM for version 96.10.55.00.01"));
    }

    #[test]
    fn switch_spdm_parser_refuses_every_truncation_and_any_unknown_opaque_id_without_panicking() {
        let g = parse_as(DeviceKind::Switch, SWITCH, &[], 0)
            .unwrap()
            .remove(0);
        let m = g.measurements.unwrap();
        let mut raw = m.signed_message();
        raw.extend_from_slice(&m.response.signature);
        assert_eq!(
            spdm::Measurements::from_bytes_as(&raw, DeviceKind::Switch).unwrap(),
            m
        );
        for n in 0..raw.len() {
            assert!(spdm::Measurements::from_bytes_as(&raw[..n], DeviceKind::Switch).is_err());
        }
        // Field 26 (SWITCH_GPU_PDIS) means nothing on a GPU: the switch's
        // report is not readable as a GPU's.
        let e = spdm::Measurements::from_bytes_as(&raw, DeviceKind::Gpu).unwrap_err();
        assert!(e.contains("opaque field type 26"), "{e}");
        // An id no table knows (28) is refused for either kind.
        let at = raw
            .windows(4)
            .position(|w| w == [26, 0, 128, 0])
            .expect("the SWITCH_GPU_PDIS header");
        raw[at] = 28;
        for kind in [DeviceKind::Gpu, DeviceKind::Switch] {
            let e = spdm::Measurements::from_bytes_as(&raw, kind).unwrap_err();
            assert!(e.contains("opaque field type 28"), "{e}");
        }
    }

    #[test]
    fn switch_bios_version_must_be_ascii_hex_and_dots() {
        let g = parse_as(DeviceKind::Switch, SWITCH, &[], 0)
            .unwrap()
            .remove(0);
        let mut m = g.measurements.unwrap();
        let f = m
            .response
            .opaque
            .iter_mut()
            .find(|f| f.id == 6)
            .expect("VBIOS_VERSION");
        f.data = b"96.10\x1b[2J".to_vec();
        assert!(m.vbios_version().is_err());
        let f = m.response.opaque.iter_mut().find(|f| f.id == 6).unwrap();
        f.data = b"96.10.55.00.01\0\0".to_vec();
        assert_eq!(m.vbios_version().unwrap(), "96.10.55.00.01");
        let f = m.response.opaque.iter_mut().find(|f| f.id == 6).unwrap();
        f.data = b"96.10\0x".to_vec();
        assert!(m.vbios_version().is_err(), "bytes after the NUL");
    }

    #[test]
    fn a_switch_file_is_not_gpu_evidence_and_a_gpu_file_is_not_switch_evidence() {
        let e = parse_as(DeviceKind::Gpu, SWITCH, &[], 0).unwrap_err();
        assert!(
            e.contains("\"LS10\"") && e.contains("HOPPER, BLACKWELL"),
            "{e}"
        );
        let e = parse_as(DeviceKind::Switch, B200, &[], 0).unwrap_err();
        assert!(e.contains("\"BLACKWELL\"") && e.contains("LS10"), "{e}");
    }

    #[test]
    fn b200_report_parses_names_fields_33_and_34_and_verifies_with_its_leaf() {
        let g = parse(B200, &[], 0).unwrap().remove(0);
        let m = g.measurements.as_ref().unwrap();
        assert_eq!(m.device, DeviceKind::Gpu);
        assert_eq!(m.request.version, 0x11, "the B200 sample is SPDM 1.1");
        assert_eq!(m.response.blocks.len(), 64);
        assert_eq!(m.driver_version().unwrap(), "575.32");
        assert_eq!(m.vbios_version().unwrap(), "97.00.88.00.0F");
        let names: Vec<&str> = m.response.opaque.iter().map(|f| f.name).collect();
        assert!(
            names.contains(&"OPAQUE_FIELD_ID_SYS_ENABLE_STATUS"),
            "{names:?}"
        );
        assert!(
            names.contains(&"OPAQUE_FIELD_ID_OPAQUE_DATA_VERSION"),
            "{names:?}"
        );
        assert_eq!(m.opaque(spdm::OPAQUE_DATA_VERSION), Some(&[0u8, 0][..]));
        assert_eq!(m.fwid().map(<[u8]>::len), Some(48));
        m.verify(&leaf_spki(&g)).unwrap();
    }
}
