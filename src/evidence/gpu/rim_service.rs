//! NVIDIA's RIM service (`https://rim.attestation.nvidia.com/v1/rim/{id}`):
//! the RIM ids a verifier derives from the signed SPDM report, and the JSON
//! envelope the service wraps each RIM in.
//!
//! `collect --fetch-rims` stores each answer exactly as received under
//! `evidence/gpu/rims/<id>.json`; the audit unwraps it here (no network:
//! this module is part of the audit build). The envelope is
//! `{"id": "<id>", "rim": BASE64(signed SWID tag XML), …}`; further keys
//! (the service has added `sha256`, `rim_format`, `last_modified`,
//! `request_id` over time) are ignored, because nothing in them is signed:
//! the RIM's own XMLDSig signature, its chain to the pinned NVIDIA RIM root
//! and its `colloquialVersion` (compared with the SIGNED driver/VBIOS
//! version) are what the `gpu.rim-*` checks judge. The envelope's `id`, when
//! present, must equal the member's name: a RIM stored under another id's
//! name is refused rather than silently used.
//!
//! Id scheme (facts from NVIDIA's public verifiers, nvtrust and
//! nv-attestation-sdk): driver `NV_GPU_DRIVER_GH100_<driver version>` on
//! Hopper, `NV_GPU_CC_DRIVER_GB100_<driver version>` on Blackwell; VBIOS
//! `NV_GPU_VBIOS_<PROJECT>_<PROJECT_SKU>_<CHIP_SKU>_<VBIOS version without
//! dots, upper case>`, each part from the report's signed opaque data.
//! Switch BIOS (NVSwitch LS10): `NV_SWITCH_BIOS_5612_0002_890_<switch-BIOS
//! version without dots, upper case>`. A switch's opaque data has no
//! PROJECT / PROJECT_SKU / CHIP_SKU fields, so NVIDIA's verifiers (nvtrust's
//! `nvswitch_admin`, go-nvtrust's `vbiosRIMFileID`) use the LS10 constants
//! 5612, 0002 and 890; the version is the SIGNED opaque
//! `OPAQUE_FIELD_ID_VBIOS_VERSION` (`96.10.55.00.01` →
//! `NV_SWITCH_BIOS_5612_0002_890_9610550001`, the name of the real RIM in
//! `fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/`). The LS10 model
//! is taken from the signed device chain (`LS_10 …` subjects), not from
//! the interchange file's unsigned `arch`.
//!
//! Hand-written: a JSON object with one base64 string is not worth a crate
//! beyond `serde_json` and `base64`, which the audit already links.

use base64::Engine;
use serde_json::Value;

use super::spdm::Measurements;

/// Cap of one stored envelope: base64 of the RIM parser's 1 MiB cap plus
/// room for the service's metadata keys.
pub const MAX_ENVELOPE: usize = 2 * 1024 * 1024;

/// Opaque field ids (NVIDIA SPDM opaque data) the VBIOS id is built from.
const CHIP_SKU: u16 = 15;
const PROJECT: u16 = 17;
const PROJECT_SKU: u16 = 18;

/// GPU generation, which names the driver RIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Hopper,
    Blackwell,
}

impl Arch {
    /// From the device certificate chain (DER, leaf first): NVIDIA names the
    /// chip in the subjects (`GH100 A01 GSP BROM`, `NVIDIA GB100 Identity`).
    /// The chain is signed; the unsigned `arch` field of an interchange file
    /// is not consulted.
    pub fn from_chain(chain: &[Vec<u8>]) -> Result<Arch, String> {
        use der::Decode;
        let mut found = None;
        for c in chain {
            let Ok(cert) = x509_cert::Certificate::from_der(c) else {
                continue;
            };
            let s = cert.tbs_certificate.subject.to_string();
            let this = if s.contains("GH100") {
                Some(Arch::Hopper)
            } else if s.contains("GB100") || s.contains("GB10") {
                Some(Arch::Blackwell)
            } else {
                None
            };
            match (found, this) {
                (None, t) => found = t,
                (Some(a), Some(b)) if a != b => {
                    return Err("the device chain names both GH100 and GB100 chips".into())
                }
                _ => {}
            }
        }
        found.ok_or_else(|| {
            "no certificate of the device chain names a GH100 or GB100 chip; the driver RIM id cannot be derived".into()
        })
    }
}

/// The driver RIM id for the report's signed driver version.
pub fn driver_rim_id(m: &Measurements, arch: Arch) -> Result<String, String> {
    let v = m.driver_version()?;
    safe_part(&v, "driver version")?;
    Ok(match arch {
        Arch::Hopper => format!("NV_GPU_DRIVER_GH100_{v}"),
        Arch::Blackwell => format!("NV_GPU_CC_DRIVER_GB100_{v}"),
    })
}

/// The VBIOS RIM id from the report's signed opaque data.
pub fn vbios_rim_id(m: &Measurements) -> Result<String, String> {
    let field = |id: u16, name: &str| -> Result<String, String> {
        let d = m
            .response
            .opaque
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.data.as_slice())
            .ok_or_else(|| format!("the opaque data has no {name}"))?;
        let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
        let s = String::from_utf8_lossy(&d[..end]).into_owned();
        safe_part(&s, name)?;
        Ok(s)
    };
    let project = field(PROJECT, "OPAQUE_FIELD_ID_PROJECT")?;
    let project_sku = field(PROJECT_SKU, "OPAQUE_FIELD_ID_PROJECT_SKU")?;
    let chip_sku = field(CHIP_SKU, "OPAQUE_FIELD_ID_CHIP_SKU")?;
    let v = m.vbios_version()?.replace('.', "").to_ascii_uppercase();
    Ok(format!(
        "NV_GPU_VBIOS_{project}_{project_sku}_{chip_sku}_{v}"
    ))
}

/// LS10 constants of the switch-BIOS RIM id (see the module docs).
const LS10_PROJECT: &str = "5612";
const LS10_PROJECT_SKU: &str = "0002";
const LS10_CHIP_SKU: &str = "890";

/// The switch-BIOS RIM id of an NVSwitch from its signed report and its
/// device chain (DER, leaf first), which must name the LS10 chip
/// (`LS_10 A01 FSP BROM`, `NVIDIA LS_10 Provisioner ICA 1`): the id's
/// constants are LS10's, so another switch model gets no id rather than a
/// wrong one.
pub fn switch_bios_rim_id(m: &Measurements, chain: &[Vec<u8>]) -> Result<String, String> {
    use der::Decode;
    let ls10 = chain.iter().any(|c| {
        x509_cert::Certificate::from_der(c).is_ok_and(|cert| {
            let s = cert.tbs_certificate.subject.to_string();
            s.contains("LS_10") || s.contains("LS10")
        })
    });
    if !ls10 {
        return Err(
            "no certificate of the device chain names an LS10 switch; the switch-BIOS RIM id is known only for LS10".into(),
        );
    }
    let v = m.vbios_version()?;
    safe_part(&v, "switch-BIOS version")?;
    Ok(format!(
        "NV_SWITCH_BIOS_{LS10_PROJECT}_{LS10_PROJECT_SKU}_{LS10_CHIP_SKU}_{}",
        v.replace('.', "").to_ascii_uppercase()
    ))
}

/// An id part goes into a URL path and a member name: `[A-Za-z0-9._-]`
/// only (the report is signed by the GPU, but a hostile one must not steer
/// the collector's URL or the bundle's member names).
fn safe_part(s: &str, what: &str) -> Result<(), String> {
    if s.is_empty()
        || s.len() > 64
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        || s.starts_with('.')
    {
        return Err(format!(
            "{what} {:?} is not usable in a RIM id ([A-Za-z0-9._-], at most 64 characters)",
            crate::util::visible(s)
        ));
    }
    Ok(())
}

/// A supplied RIM member's text, unwrapped when it is a RIM-service
/// envelope (first non-blank character `{`); XML is returned as is.
/// `member` is the member's path or file name (`…/<id>.json`).
pub fn unwrap(member: &str, text: &str) -> Result<String, String> {
    if !text.trim_start().starts_with('{') {
        return Ok(text.to_string());
    }
    if text.len() > MAX_ENVELOPE {
        return Err(format!(
            "RIM-service envelope is {} bytes, over its {MAX_ENVELOPE}-byte cap",
            text.len()
        ));
    }
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("RIM-service envelope is not JSON: {e}"))?;
    let o = v
        .as_object()
        .ok_or("RIM-service envelope is not a JSON object")?;
    if let Some(id) = o.get("id") {
        let id = id
            .as_str()
            .ok_or("RIM-service envelope field `id` is not a string")?;
        let stem = member
            .rsplit('/')
            .next()
            .unwrap_or(member)
            .strip_suffix(".json")
            .unwrap_or(member);
        if id != stem {
            return Err(format!(
                "RIM-service envelope for id {:?} is stored as {:?}",
                crate::util::visible(id),
                crate::util::visible(stem)
            ));
        }
    }
    let b64 = o
        .get("rim")
        .ok_or("RIM-service envelope has no field `rim`")?
        .as_str()
        .ok_or("RIM-service envelope field `rim` is not a string")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("RIM-service envelope field `rim` is not base64: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|_| "RIM-service envelope field `rim` does not decode to UTF-8 text".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIDENCE: &[u8] = include_bytes!(
        "../../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/nvidia-evidence.json"
    );
    const CHAIN: &str = include_str!(
        "../../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/device_cert_chain.pem"
    );

    fn h100() -> Measurements {
        let g = super::super::nvidia::parse(EVIDENCE, &[], 0).unwrap();
        g[0].measurements.clone().unwrap()
    }

    #[test]
    fn real_h100_report_names_the_rims_nvidia_publishes() {
        let m = h100();
        let chain: Vec<Vec<u8>> = crate::trust::parse_certs(CHAIN.as_bytes()).unwrap();
        let arch = Arch::from_chain(&chain).unwrap();
        assert_eq!(arch, Arch::Hopper);
        assert_eq!(
            driver_rim_id(&m, arch).unwrap(),
            "NV_GPU_DRIVER_GH100_550.90.07"
        );
        assert_eq!(
            driver_rim_id(&m, Arch::Blackwell).unwrap(),
            "NV_GPU_CC_DRIVER_GB100_550.90.07"
        );
        assert_eq!(
            vbios_rim_id(&m).unwrap(),
            "NV_GPU_VBIOS_1010_0200_882_96009F0001"
        );
    }

    #[test]
    fn real_ls10_switch_report_names_the_switch_bios_rim_nvidia_publishes() {
        const SWITCH: &[u8] = include_bytes!(
            "../../../fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/nvidia-switch-evidence.json"
        );
        let s = super::super::nvidia::parse_as(super::super::DeviceKind::Switch, SWITCH, &[], 0)
            .unwrap();
        let m = s[0].measurements.as_ref().unwrap();
        let chain = s[0].cert_chain.as_ref().unwrap();
        // The real RIM file's name (NVIDIA's own test data uses the same id).
        assert_eq!(
            switch_bios_rim_id(m, chain).unwrap(),
            "NV_SWITCH_BIOS_5612_0002_890_9610550001"
        );
        // A chain that names no LS10 (here the H100's) gets no id.
        let h100_chain: Vec<Vec<u8>> = crate::trust::parse_certs(CHAIN.as_bytes()).unwrap();
        let e = switch_bios_rim_id(m, &h100_chain).unwrap_err();
        assert!(e.contains("LS10"), "{e}");
    }

    #[test]
    fn a_report_whose_opaque_data_would_steer_the_url_is_refused() {
        let mut m = h100();
        for f in &mut m.response.opaque {
            if f.id == PROJECT {
                f.data = b"../x\0".to_vec();
            }
        }
        let e = vbios_rim_id(&m).unwrap_err();
        assert!(e.contains("OPAQUE_FIELD_ID_PROJECT"), "{e}");
        m.response.opaque.retain(|f| f.id != PROJECT);
        assert!(vbios_rim_id(&m).unwrap_err().contains("has no"));
    }

    #[test]
    fn envelope_is_unwrapped_and_xml_passes_through() {
        let xml = "<?xml version=\"1.0\"?><SoftwareIdentity/>";
        assert_eq!(unwrap("x.xml", xml).unwrap(), xml);
        let b = base64::engine::general_purpose::STANDARD.encode(xml);
        let env = format!(r#"{{"id":"NV_X","rim":"{b}","sha256":"00"}}"#);
        assert_eq!(unwrap("evidence/gpu/rims/NV_X.json", &env).unwrap(), xml);
    }

    #[test]
    fn envelope_with_another_id_no_rim_or_bad_base64_is_refused() {
        let b = base64::engine::general_purpose::STANDARD.encode("<a/>");
        let other = format!(r#"{{"id":"NV_Y","rim":"{b}"}}"#);
        assert!(unwrap("gpu/rims/NV_X.json", &other)
            .unwrap_err()
            .contains("stored as"));
        assert!(unwrap("NV_X.json", r#"{"id":"NV_X"}"#)
            .unwrap_err()
            .contains("no field `rim`"));
        assert!(unwrap("NV_X.json", r#"{"rim":"%%%"}"#)
            .unwrap_err()
            .contains("not base64"));
        assert!(unwrap("NV_X.json", "{").unwrap_err().contains("not JSON"));
    }
}
