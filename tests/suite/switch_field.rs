//! A real NVSwitch LS10 (`fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim`)
//! imported in NVIDIA's interchange format: the `switch.*` checks judge it
//! with the logic of `gpu.*` (signature 1.1 over the rebuilt transcript,
//! LS10 chain to the NVIDIA Device Identity CA, switch-BIOS RIM XMLDSig and
//! chain, 31/31 golden values). Negatives are made by code from the real
//! files: a flipped signature byte, another device's chain, a nonce that
//! was not asked, a RIM for another version, NVIDIA's own tampered RIM.

use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::Status;
use blyss_evidence::report::Report;

use crate::common::gpu::root;
use crate::common::nvfield::*;

const CASE: &str = "fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim";
const H100: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const FILE: &str = "nvidia-switch-evidence.json";
const RIM: &str = "NV_SWITCH_BIOS_5612_0002_890_9610550001.xml";
const BAD_RIM: &str = "NEGATIVE_NV_SWITCH_BIOS_invalid_signature.xml";
/// Inside every certificate's validity: the switch-BIOS RIM's L4 signer is
/// valid 2026-05-20 → 2028-05-19, the device chain 2020 → 9999.
const AT: &str = "2026-06-01T00:00:00Z";

fn audit_switch(file: &[u8], rims: &[(&str, Vec<u8>)]) -> Report {
    audit_members(&[(SWITCH_MEMBER, file.to_vec())], rims, AT)
}

fn with_rim(file: &[u8]) -> Report {
    audit_switch(file, &[(RIM, read(CASE, RIM))])
}

fn st(r: &Report, id: &str) -> Status {
    status(r, id, "switch0")
}

fn sum(r: &Report, id: &str) -> String {
    summary(r, id, "switch0")
}

#[test]
fn converter_script_regenerates_the_committed_switch_interchange_json_byte_for_byte() {
    let out = run_converter(
        CASE,
        &[
            "--arch",
            "LS10",
            "--report",
            "switch_attestation_report.hex",
            "--chain",
            "switch_cert_chain.pem",
        ],
    );
    assert_eq!(out, read(CASE, FILE));
}

#[test]
fn ls10_signature_chain_nonce_rim_and_31_of_31_measurements_verify() {
    let r = with_rim(&read(CASE, FILE));
    for id in [
        "switch.spdm-signature",
        "switch.nonce",
        "switch.device-chain",
        "switch.rim-signature",
        "switch.versions",
        "switch.measurements",
    ] {
        assert_eq!(st(&r, id), Status::Pass, "{id}: {}", sum(&r, id));
    }
    assert!(
        sum(&r, "switch.measurements").starts_with("31/31"),
        "{}",
        sum(&r, "switch.measurements")
    );
    assert!(sum(&r, "switch.device-chain").contains("5 certificates"));
    assert!(sum(&r, "switch.versions").contains("switch BIOS 96.10.55.00.01"));
    // No FWID in the switch's opaque data: said, not passed.
    assert_eq!(st(&r, "switch.fwid"), Status::NotApplicable);
    // Not bound to a CPU report: a warning, never a pass.
    assert_eq!(st(&r, "switch.binding"), Status::Warn);
    // Every switch result is required by a protocol that requires gpu.*.
    assert!(r
        .checks
        .iter()
        .filter(|c| c.family == "switch")
        .all(|c| c.required));
    // A switch-only import: the GPU family says it saw no GPU.
    let g = r
        .checks
        .iter()
        .find(|c| c.id == "gpu.spdm-signature")
        .unwrap();
    assert_eq!(g.status, Status::NotApplicable, "{}", g.summary);
}

#[test]
fn flipped_signature_byte_fails_switch_spdm_signature_and_nonce() {
    let mut v = json(CASE, FILE);
    let mut b = spdm_bytes(&v);
    let last = b.len() - 1;
    b[last] ^= 0x01;
    set_spdm_bytes(&mut v, &b);
    let r = with_rim(&to_vec(&v));
    assert_eq!(st(&r, "switch.spdm-signature"), Status::Fail);
    assert_eq!(st(&r, "switch.nonce"), Status::Fail);
    assert_eq!(st(&r, "switch.device-chain"), Status::Pass);
    assert_eq!(st(&r, "switch.measurements"), Status::Fail);
}

#[test]
fn chain_of_another_device_fails_switch_spdm_signature() {
    let mut v = json(CASE, FILE);
    v["evidence_list"][0]["certificate"] =
        json(H100, "nvidia-evidence.json")["evidence_list"][0]["certificate"].clone();
    let r = with_rim(&to_vec(&v));
    assert_eq!(
        st(&r, "switch.spdm-signature"),
        Status::Fail,
        "{}",
        sum(&r, "switch.spdm-signature")
    );
    assert_eq!(st(&r, "switch.measurements"), Status::Fail);
    // The H100 chain itself is genuine, but names a GH100, not the LS10
    // the switch-BIOS RIM is for.
    assert_eq!(
        st(&r, "switch.versions"),
        Status::Fail,
        "{}",
        sum(&r, "switch.versions")
    );
}

#[test]
fn nonce_in_the_file_that_was_not_asked_fails_switch_nonce() {
    let mut v = json(CASE, FILE);
    v["nonce"] = "11".repeat(32).into();
    let r = with_rim(&to_vec(&v));
    assert_eq!(st(&r, "switch.nonce"), Status::Fail);
    assert!(
        sum(&r, "switch.nonce").contains("931d8dd0"),
        "{}",
        sum(&r, "switch.nonce")
    );
    assert_eq!(st(&r, "switch.spdm-signature"), Status::Fail);
}

#[test]
fn rim_for_another_version_fails_switch_measurements_saying_none_was_supplied() {
    let other = "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml";
    let r = audit_switch(&read(CASE, FILE), &[(other, read(H100, other))]);
    assert_eq!(st(&r, "switch.measurements"), Status::Fail);
    let s = sum(&r, "switch.measurements");
    assert!(
        s.contains("no switch-BIOS RIM for version 96.10.55.00.01 was supplied"),
        "{s}"
    );
    assert_eq!(st(&r, "switch.spdm-signature"), Status::Pass);
}

#[test]
fn nvidias_tampered_switch_rim_fails_switch_rim_signature() {
    let r = audit_switch(&read(CASE, FILE), &[(BAD_RIM, read(CASE, BAD_RIM))]);
    assert_eq!(
        st(&r, "switch.rim-signature"),
        Status::Fail,
        "{}",
        sum(&r, "switch.rim-signature")
    );
    assert!(
        sum(&r, "switch.rim-signature").contains("XMLDSig"),
        "{}",
        sum(&r, "switch.rim-signature")
    );
    assert_ne!(st(&r, "switch.measurements"), Status::Pass);
}

#[test]
fn sdk_list_of_four_identical_switches_verifies_each_and_says_they_are_one_switch() {
    let r = audit_switch(
        &read(CASE, "multi_switch_ls10.json"),
        &[(RIM, read(CASE, RIM))],
    );
    for i in 0..4 {
        let s = format!("switch{i}");
        assert_eq!(status(&r, "switch.spdm-signature", &s), Status::Pass);
        assert_eq!(status(&r, "switch.measurements", &s), Status::Pass);
        let b = summary(&r, "switch.binding", &s);
        assert_eq!(status(&r, "switch.binding", &s), Status::Warn);
        assert!(b.contains("appears 4 times"), "{b}");
    }
    let first = r.checks.iter().find(|c| c.id == "switch.binding").unwrap();
    assert_eq!(first.details["fact:switch.count"], 4);
    assert_eq!(first.details["fact:switch.distinct-devices"], 1);
}

#[test]
fn collect_switch_evidence_beside_gpu_evidence_stores_both_files_and_the_rim_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.zip");
    let st = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .args(["collect", "--switch-evidence"])
        .arg(root().join(CASE).join(FILE))
        .arg("--gpu-evidence")
        .arg(root().join(H100).join("nvidia-evidence.json"))
        .arg("--rim")
        .arg(root().join(CASE).join(RIM))
        .arg("--key")
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let b = Bundle::from_bytes(&std::fs::read(&out).unwrap(), "s.zip").unwrap();
    assert_eq!(
        b.member("evidence/gpu/nvidia-switch-evidence.json")
            .unwrap(),
        read(CASE, FILE)
    );
    assert_eq!(
        b.member("evidence/gpu/nvidia-evidence.json").unwrap(),
        read(H100, "nvidia-evidence.json")
    );
    assert_eq!(
        b.member(&format!("evidence/gpu/rims/{RIM}")).unwrap(),
        read(CASE, RIM)
    );
}

#[test]
fn collect_refuses_switch_evidence_given_as_gpu_evidence_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.zip");
    let st = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["collect", "--gpu-evidence"])
        .arg(root().join(CASE).join(FILE))
        .arg("--key")
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("LS10"));
    assert!(!out.exists(), "no bundle is written");
}

#[test]
fn switch_beside_an_attestation_document_keeps_the_documents_gpu_as_gpu0_and_is_switch0() {
    let doc = std::fs::read(root().join("fixtures/blyss/attestation-2024-01.json")).unwrap();
    let r = audit_members(
        &[("attestation.json", doc), (SWITCH_MEMBER, read(CASE, FILE))],
        &[(RIM, read(CASE, RIM))],
        AT,
    );
    // The document's H100 is judged as before (its own subject, its own
    // family); the switch is judged on its own under switch.*.
    assert!(r.checks.iter().any(|c| c.id == "gpu.spdm-signature"
        && c.subject.as_deref() == Some("gpu0")
        && c.status == Status::Pass));
    assert!(!r
        .checks
        .iter()
        .any(|c| c.subject.as_deref() == Some("gpu1")));
    assert_eq!(st(&r, "switch.spdm-signature"), Status::Pass);
    assert_eq!(st(&r, "switch.measurements"), Status::Pass);
    assert!(!r
        .checks
        .iter()
        .any(|c| c.subject.as_deref() == Some("switch1")));
}
