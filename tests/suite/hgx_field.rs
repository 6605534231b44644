//! One real HGX box (`fixtures/field/nv-hgx-8xh100-4xnvswitch-ppcie-drv570.124.06`):
//! 8 H100 GPUs and 4 NVSwitches in protected-PCIe mode, all asked the same
//! nonce, kept by google/go-nvattest-tools as a `jsonpickle` dump and
//! converted by `scripts/nvidia-jsonpickle.py` into NVIDIA's interchange
//! JSON. Driver 570.124.06 / VBIOS 96.00.CF.00.02 have no public RIMs: every
//! signature and chain must verify while `gpu.measurements` fails saying
//! no RIM was supplied.

use std::collections::BTreeSet;
use std::process::Command;

use base64::Engine;
use blyss_evidence::checks::{CheckResult, Status, Verdict};
use blyss_evidence::report::Report;
use serde_json::Value;

use crate::common::gpu::{result, root};
use crate::gpu_only::audit_members;

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
    assert_eq!(
        (g["arch"].as_str(), s["arch"].as_str()),
        (Some("HOPPER"), Some("LS10"))
    );
    assert_eq!(
        (g["nonce"].as_str(), s["nonce"].as_str()),
        (Some(NONCE), Some(NONCE))
    );
    let gl = g["evidence_list"].as_array().unwrap();
    let sl = s["evidence_list"].as_array().unwrap();
    assert_eq!((gl.len(), sl.len()), (8, 4));
    for (i, e) in gl.iter().enumerate() {
        let spdm = b64(&e["evidence"]);
        assert_eq!(spdm, b64(&dump["gpus"][i]["AttestationReport"]["py/b64"]));
        assert_eq!(hex::encode(&spdm[4..36]), NONCE, "gpu {i} request nonce");
        let pem = b64(&e["certificate"]);
        assert_eq!(
            String::from_utf8(pem)
                .unwrap()
                .matches("BEGIN CERTIFICATE")
                .count(),
            5
        );
    }
    for (i, e) in sl.iter().enumerate() {
        assert_eq!(
            b64(&e["evidence"]),
            b64(&dump["nvswitches"][i]["attestation_report"]["py/b64"])
        );
    }
}

/// Inside every certificate's validity (the HGX chains run 2020 → 9999).
const AT: &str = "2025-06-01T00:00:00Z";
const GPU_MEMBER: &str = "gpu/nvidia-evidence.json";
const SWITCH_MEMBER: &str = "gpu/nvidia-switch-evidence.json";

fn audit_box(gpus: Option<Value>, switches: Option<Value>) -> Report {
    let mut m = Vec::new();
    if let Some(g) = gpus {
        m.push((GPU_MEMBER.to_string(), serde_json::to_vec(&g).unwrap()));
    }
    if let Some(s) = switches {
        m.push((SWITCH_MEMBER.to_string(), serde_json::to_vec(&s).unwrap()));
    }
    audit_members(&m, "gpu-only", AT)
}

fn topology(r: &Report) -> &CheckResult {
    r.checks
        .iter()
        .find(|c| c.id == "ppcie.topology")
        .expect("ppcie.topology result")
}

fn set_entry(v: &mut Value, i: usize, report: &[u8], chain: &[u8]) {
    let e = base64::engine::general_purpose::STANDARD;
    v["evidence_list"][i]["evidence"] = e.encode(report).into();
    v["evidence_list"][i]["certificate"] = e.encode(chain).into();
}

#[test]
fn hgx_box_all_8_gpus_verify_and_fail_measurements_only_for_want_of_public_rims() {
    let r = audit_box(
        Some(json("nvidia-evidence.json")),
        Some(json("nvidia-switch-evidence.json")),
    );
    assert_eq!(r.verdict.status, Verdict::Fail);
    for i in 0..8 {
        let s = format!("gpu{i}");
        for id in [
            "gpu.spdm-signature",
            "gpu.device-chain",
            "gpu.nonce",
            "gpu.fwid",
        ] {
            let c = result(&r, id, &s);
            assert_eq!(c.status, Status::Pass, "{id} [{s}]: {}", c.summary);
        }
        let m = result(&r, "gpu.measurements", &s);
        assert_eq!(m.status, Status::Fail);
        assert!(
            m.summary
                .contains("no driver RIM for version 570.124.06 was supplied")
                && m.summary
                    .contains("no vbios RIM for version 96.00.CF.00.02"),
            "{}",
            m.summary
        );
    }
    for i in 0..4 {
        let s = format!("switch{i}");
        for id in [
            "switch.spdm-signature",
            "switch.device-chain",
            "switch.nonce",
        ] {
            let c = result(&r, id, &s);
            assert_eq!(c.status, Status::Pass, "{id} [{s}]: {}", c.summary);
            assert!(c.required, "{id} [{s}] must count under gpu-only");
        }
        let m = result(&r, "switch.measurements", &s);
        assert_eq!(m.status, Status::Fail, "{}", m.summary);
    }
    // Nothing else fails: the missing RIMs are the whole story.
    let failed: BTreeSet<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        failed.iter().all(|id| [
            "gpu.measurements",
            "gpu.rim-signature",
            "gpu.versions",
            "switch.measurements",
            "switch.rim-signature",
            "switch.versions"
        ]
        .contains(id)),
        "{failed:?}"
    );
    let t = topology(&r);
    assert_eq!(t.status, Status::Pass, "{}", t.summary);
    assert!(t.required);
    assert!(t
        .summary
        .starts_with("8 GPU(s) and 4 distinct NVSwitch(es)"));
    assert!(t.actual.as_deref().unwrap().contains(
        "switch0 d69777e63899978f, switch1 058c0d446ea9667a, switch2 ee5fca64660eaf93, switch3 2b6f43e68c76c99f"
    ));
}

#[test]
fn a_switch_removed_from_the_box_fails_the_topology_as_every_gpu_names_it() {
    let mut s = json("nvidia-switch-evidence.json");
    s["evidence_list"].as_array_mut().unwrap().pop();
    let r = audit_box(Some(json("nvidia-evidence.json")), Some(s));
    let t = topology(&r);
    assert_eq!(t.status, Status::Fail);
    assert!(
        t.actual
            .as_deref()
            .unwrap()
            .contains("gpu0 is linked to switch(es) not in the evidence: 2b6f43e68c76c99f"),
        "{:?}",
        t.actual
    );
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn a_switch_given_twice_fails_the_topology_as_the_same_report() {
    let mut s = json("nvidia-switch-evidence.json");
    let first = s["evidence_list"][0].clone();
    s["evidence_list"][3] = first;
    let t = topology(&audit_box(Some(json("nvidia-evidence.json")), Some(s))).clone();
    assert_eq!(t.status, Status::Fail);
    let a = t.actual.unwrap();
    assert!(
        a.contains("switch3 is the same signed report as switch0"),
        "{a}"
    );
    // …and the switch it replaced is now missing from every GPU's view.
    assert!(
        a.contains("gpu7 is linked to switch(es) not in the evidence"),
        "{a}"
    );
}

#[test]
fn nvidias_multi_switch_sample_four_copies_of_one_switch_never_passes() {
    let multi: Value = serde_json::from_slice(
        &std::fs::read(
            root().join("fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim/multi_switch_ls10.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // Alone: a switch-only import, topology not checked (a warning).
    let t = topology(&audit_box(None, Some(multi.clone()))).clone();
    assert_eq!(t.status, Status::Warn);
    assert!(t.summary.contains("topology NOT checked"), "{}", t.summary);
    // Beside the HGX GPUs: not the box's switches, asked another nonce.
    let t = topology(&audit_box(Some(json("nvidia-evidence.json")), Some(multi))).clone();
    assert_eq!(t.status, Status::Fail);
    assert!(t.summary.contains("2 different nonces"), "{}", t.summary);
}

#[test]
fn the_negative_switch_report_with_the_wrong_chain_fails_as_not_authenticated() {
    let neg = read("NEGATIVE_switch_report_wrong_chain.bin");
    let neg_chain = read("NEGATIVE_switch_cert_chain.pem");
    let mut s = json("nvidia-switch-evidence.json");
    // Control: the same report with switch 1's chain (from the dump) is
    // authenticated, so the failure below is the chain's, not the report's.
    let chain1 = b64(&s["evidence_list"][1]["certificate"]);
    set_entry(&mut s, 1, &neg, &chain1);
    let t = topology(&audit_box(
        Some(json("nvidia-evidence.json")),
        Some(s.clone()),
    ))
    .clone();
    assert_eq!(t.status, Status::Pass, "{:?}", t.actual);
    set_entry(&mut s, 1, &neg, &neg_chain);
    let t = topology(&audit_box(Some(json("nvidia-evidence.json")), Some(s))).clone();
    assert_eq!(t.status, Status::Fail);
    assert!(
        t.summary.contains("1 report(s) are not authenticated"),
        "{}",
        t.summary
    );
    assert!(t.actual.unwrap().starts_with("switch1: "));
}

#[test]
fn a_gpu_whose_signed_switch_list_was_edited_is_not_authenticated_so_the_topology_fails() {
    let mut g = json("nvidia-evidence.json");
    let mut spdm = b64(&g["evidence_list"][4]["evidence"]);
    // The first SWITCH_PDI entry names a switch that is not in the box.
    let pdi = hex::decode("2b6f43e68c76c99f").unwrap();
    let at = spdm.windows(8).position(|w| w == pdi.as_slice()).unwrap();
    spdm[at] ^= 0xFF;
    let chain = b64(&g["evidence_list"][4]["certificate"]);
    set_entry(&mut g, 4, &spdm, &chain);
    let r = audit_box(Some(g), Some(json("nvidia-switch-evidence.json")));
    let t = topology(&r);
    assert_eq!(t.status, Status::Fail);
    assert!(
        t.actual.as_deref().unwrap().starts_with("gpu4: "),
        "{:?}",
        t.actual
    );
    assert_eq!(
        result(&r, "gpu.spdm-signature", "gpu4").status,
        Status::Fail
    );
}

#[test]
fn gpus_of_a_ppcie_box_imported_alone_say_the_topology_was_not_checked() {
    let r = audit_box(Some(json("nvidia-evidence.json")), None);
    let t = topology(&r);
    assert_eq!(t.status, Status::Warn);
    assert!(t
        .summary
        .starts_with("topology NOT checked: 8 of 8 GPU(s) sign NVSwitch links"));
    // A single H100 outside any PPCIe box: nothing to judge.
    let single = std::fs::read(
        root().join("fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/nvidia-evidence.json"),
    )
    .unwrap();
    let t = topology(&audit_box(
        Some(serde_json::from_slice(&single).unwrap()),
        None,
    ))
    .clone();
    assert_eq!(t.status, Status::NotApplicable, "{}", t.summary);
}
