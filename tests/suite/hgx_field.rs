//! One real HGX box (`fixtures/field/nv-hgx-8xh100-4xnvswitch-ppcie-drv570.124.06`):
//! 8 H100 GPUs and 4 NVSwitches in protected-PCIe mode, all asked the same
//! nonce, kept by google/go-nvattest-tools as a `jsonpickle` dump and
//! converted by `scripts/nvidia-jsonpickle.py` into NVIDIA's interchange
//! JSON. Driver 570.124.06 / VBIOS 96.00.CF.00.02 have no public RIMs: every
//! signature and chain must verify while `gpu.measurements` fails saying
//! no RIM was supplied.

use std::process::Command;

use base64::Engine;
use serde_json::Value;

use crate::common::gpu::root;

pub const HGX: &str = "fixtures/field/nv-hgx-8xh100-4xnvswitch-ppcie-drv570.124.06";
/// The nonce every request of the dump carries (field README).
const NONCE: &str = "1234567890123456789012345678901234567890123456789012345678901234";

fn read(f: &str) -> Vec<u8> {
    std::fs::read(root().join(HGX).join(f)).unwrap()
}

fn json(f: &str) -> Value {
    serde_json::from_slice(&read(f)).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
}

#[test]
fn jsonpickle_converter_regenerates_the_committed_gpu_and_switch_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("python3")
        .arg(root().join("scripts/nvidia-jsonpickle.py"))
        .arg(root().join(HGX).join("test_ppcie_data.json"))
        .arg(dir.path())
        .status()
        .expect("python3 runs scripts/nvidia-jsonpickle.py");
    assert!(st.success(), "converter failed");
    for f in ["nvidia-evidence.json", "nvidia-switch-evidence.json"] {
        assert_eq!(
            std::fs::read(dir.path().join(f)).unwrap(),
            read(f),
            "{f}: committed file differs from the converter's output"
        );
    }
}

#[test]
fn converted_files_hold_8_hopper_gpus_and_4_ls10_switches_with_the_dumps_bytes() {
    let dump = json("test_ppcie_data.json");
    let g = json("nvidia-evidence.json");
    let s = json("nvidia-switch-evidence.json");
    assert_eq!((g["arch"].as_str(), s["arch"].as_str()), (Some("HOPPER"), Some("LS10")));
    assert_eq!((g["nonce"].as_str(), s["nonce"].as_str()), (Some(NONCE), Some(NONCE)));
    let gl = g["evidence_list"].as_array().unwrap();
    let sl = s["evidence_list"].as_array().unwrap();
    assert_eq!((gl.len(), sl.len()), (8, 4));
    for (i, e) in gl.iter().enumerate() {
        let spdm = b64(&e["evidence"]);
        assert_eq!(spdm, b64(&dump["gpus"][i]["AttestationReport"]["py/b64"]));
        assert_eq!(hex::encode(&spdm[4..36]), NONCE, "gpu {i} request nonce");
        let pem = b64(&e["certificate"]);
        assert_eq!(String::from_utf8(pem).unwrap().matches("BEGIN CERTIFICATE").count(), 5);
    }
    for (i, e) in sl.iter().enumerate() {
        assert_eq!(
            b64(&e["evidence"]),
            b64(&dump["nvswitches"][i]["attestation_report"]["py/b64"])
        );
    }
}
