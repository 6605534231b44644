//! Real NVIDIA H100 evidence in NVIDIA's interchange JSON
//! (`fixtures/field/`), imported beside (or instead of) an attestation
//! document: the `gpu.*` checks judge it with the expected results of
//! `fixtures/field` provenance (H100 2025: 21/21 + 12/12; 2023 sample:
//! 33/33 with the test VBIOS RIM, 8/12 with the PROD one). Negatives are
//! made by code from the real files.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, Scope, Status};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use serde_json::Value;

use crate::common::gpu::{result, root, t};
use crate::common::nvfield::read;

const C2025: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const C2023: &str = "fixtures/field/nv-h100-nvtrust-2023-drv545";
const DRV_2025: &str = "NV_GPU_DRIVER_GH100_550.90.07.xml";
const VBIOS_2025: &str = "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml";
const DRV_2023: &str = "driver_rim_545.00.swidtag";
const VBIOS_2023_TEST: &str = "vbios_rim_1010_0200_882_96005E0001_test.swidtag";
const VBIOS_2023_PROD: &str = "vbios_rim_1010_0200_882_96005E0001_PROD.swidtag";
/// Inside every certificate's validity for the 2025 case (the device
/// chain's OCSP answers were produced 2025-08-21).
const AT_2025: &str = "2025-08-21T00:00:00Z";
/// Inside the 2023 RIM signers' validity (they expired mid-2025).
const AT_2023: &str = "2024-06-01T00:00:00Z";

fn evidence(case: &str) -> Value {
    serde_json::from_slice(&read(case, "nvidia-evidence.json")).unwrap()
}

/// Seals the interchange file and RIMs (name, bytes) into a bundle and
/// audits it at `at` with the production trust set.
fn audit_gpu(file: &[u8], rims: &[(&str, Vec<u8>)], at: &str) -> Report {
    let at = t(at);
    // snp-only: no RIM pins, and GPU evidence when present must verify.
    let protocol = Protocol::load("snp-only").unwrap();
    let mut b = BundleBuilder::new("file", &protocol.id, at);
    b.add("gpu/nvidia-evidence.json", file.to_vec(), Source::file(at))
        .unwrap();
    for (n, r) in rims {
        b.add(&format!("gpu/rims/{n}"), r.clone(), Source::file(at))
            .unwrap();
    }
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "gpu-field.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(&bundle, &protocol, &TrustSet::production(), &opts, at)
}

fn audit_case(case: &str, rims: &[&str], at: &str) -> Report {
    let rims: Vec<(&str, Vec<u8>)> = rims.iter().map(|n| (*n, read(case, n))).collect();
    audit_gpu(&read(case, "nvidia-evidence.json"), &rims, at)
}

fn st(r: &Report, id: &str) -> Status {
    result(r, id, "gpu0").status
}

fn summary(r: &Report, id: &str) -> String {
    result(r, id, "gpu0").summary.clone()
}

fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Decoded SPDM bytes of entry 0 of an NRAS-shaped value.
fn spdm_bytes(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v["evidence_list"][0]["evidence"].as_str().unwrap())
        .unwrap()
}

fn set_spdm_bytes(v: &mut Value, b: &[u8]) {
    v["evidence_list"][0]["evidence"] = base64::engine::general_purpose::STANDARD.encode(b).into();
}

const CORE: &[&str] = &[
    "gpu.spdm-signature",
    "gpu.nonce",
    "gpu.device-chain",
    "gpu.rim-signature",
    "gpu.versions",
    "gpu.measurements",
];

#[test]
fn converter_script_regenerates_the_committed_interchange_json_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for case in [C2025, C2023] {
        let out = dir.path().join("out.json");
        let st = Command::new("python3")
            .arg(root().join("scripts/nvidia-interchange.py"))
            .arg(root().join(case))
            .arg(&out)
            .status()
            .expect("python3 runs scripts/nvidia-interchange.py");
        assert!(st.success(), "{case}: converter failed");
        assert_eq!(
            std::fs::read(&out).unwrap(),
            read(case, "nvidia-evidence.json"),
            "{case}: committed JSON differs from the converter's output"
        );
    }
}

#[test]
fn interchange_evidence_carries_the_committed_report_chain_and_nonce() {
    for case in [C2025, C2023] {
        let v = evidence(case);
        let hex_report = String::from_utf8(read(case, "attestation_report.hex")).unwrap();
        assert_eq!(spdm_bytes(&v), hex::decode(hex_report.trim()).unwrap());
        let pem = base64::engine::general_purpose::STANDARD
            .decode(v["evidence_list"][0]["certificate"].as_str().unwrap())
            .unwrap();
        assert_eq!(pem, read(case, "device_cert_chain.pem"));
        let nonce = String::from_utf8(read(case, "nonce.hex")).unwrap();
        assert_eq!(v["nonce"], nonce.trim());
    }
    assert_eq!(
        spdm_bytes(&evidence(C2025)),
        read(C2025, "attestation_report.bin")
    );
}

#[test]
fn h100_2025_signature_chain_nonce_and_21_plus_12_measurements_verify() {
    let r = audit_case(C2025, &[DRV_2025, VBIOS_2025], AT_2025);
    for id in CORE {
        assert_eq!(st(&r, id), Status::Pass, "{id}: {}", summary(&r, id));
    }
    let m = result(&r, "gpu.measurements", "gpu0");
    assert_eq!(m.details["compared"], 33);
    assert_eq!(m.details["matched"], 33);
    let active = m.details["active_indices"].as_array().unwrap();
    let drv = active
        .iter()
        .filter(|x| x.as_str().unwrap().starts_with("driver:"))
        .count();
    assert_eq!((drv, active.len() - drv), (21, 12));
    assert!(summary(&r, "gpu.versions").contains("550.90.07"));
    assert_eq!(
        st(&r, "gpu.fwid"),
        Status::Pass,
        "{}",
        summary(&r, "gpu.fwid")
    );
    assert!(result(&r, "gpu.fwid", "gpu0")
        .actual
        .as_deref()
        .unwrap()
        .starts_with("report f5c384ae"));
    assert_eq!(
        result(&r, "gpu.spdm-signature", "gpu0").evidence,
        vec!["evidence/gpu/nvidia-evidence.json".to_string()]
    );
}

#[test]
fn h100_2023_sample_matches_33_of_33_with_the_test_vbios_rim() {
    let r = audit_case(C2023, &[DRV_2023, VBIOS_2023_TEST], AT_2023);
    for id in CORE {
        assert_eq!(st(&r, id), Status::Pass, "{id}: {}", summary(&r, id));
    }
    assert!(summary(&r, "gpu.measurements").starts_with("33/33"));
    // Driver 545 sends no FWID: nothing to compare, said so.
    assert_eq!(st(&r, "gpu.fwid"), Status::NotApplicable);
    assert!(summary(&r, "gpu.fwid").contains("no FWID field"));
}

#[test]
fn h100_2023_sample_with_the_prod_vbios_rim_fails_at_indices_1_2_3_9() {
    let r = audit_case(C2023, &[DRV_2023, VBIOS_2023_PROD], AT_2023);
    assert_eq!(st(&r, "gpu.rim-signature"), Status::Pass);
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
    let m = result(&r, "gpu.measurements", "gpu0");
    let mism: Vec<(String, u64)> = m.details["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["rim"].as_str().unwrap().to_string(),
                x["index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        mism,
        [1, 2, 3, 9]
            .iter()
            .map(|i| ("vbios".to_string(), *i))
            .collect::<Vec<_>>()
    );
    assert!(
        summary(&r, "gpu.measurements").starts_with("29/33"),
        "{}",
        summary(&r, "gpu.measurements")
    );
}

#[test]
fn sdk_serialized_list_shape_gives_the_same_verdicts_as_the_nras_shape() {
    let v = evidence(C2025);
    let list = serde_json::json!([{
        "arch": "HOPPER",
        "nonce": v["nonce"],
        "evidence": v["evidence_list"][0]["evidence"],
        "certificate": v["evidence_list"][0]["certificate"],
    }]);
    let rims = [
        (DRV_2025, read(C2025, DRV_2025)),
        (VBIOS_2025, read(C2025, VBIOS_2025)),
    ];
    let r = audit_gpu(&to_vec(&list), &rims, AT_2025);
    for id in CORE {
        assert_eq!(st(&r, id), Status::Pass, "{id}: {}", summary(&r, id));
    }
}

#[test]
fn flipped_signature_byte_fails_spdm_signature_and_nonce() {
    let mut v = evidence(C2025);
    let mut b = spdm_bytes(&v);
    let last = b.len() - 1;
    b[last] ^= 0x01;
    set_spdm_bytes(&mut v, &b);
    let rims = [
        (DRV_2025, read(C2025, DRV_2025)),
        (VBIOS_2025, read(C2025, VBIOS_2025)),
    ];
    let r = audit_gpu(&to_vec(&v), &rims, AT_2025);
    assert_eq!(st(&r, "gpu.spdm-signature"), Status::Fail);
    // The nonce is the stated one, but unauthenticated: not a pass.
    assert_eq!(st(&r, "gpu.nonce"), Status::Fail);
    assert_eq!(st(&r, "gpu.device-chain"), Status::Pass);
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
}

#[test]
fn chain_of_the_other_device_fails_the_spdm_signature() {
    let mut v = evidence(C2025);
    v["evidence_list"][0]["certificate"] =
        evidence(C2023)["evidence_list"][0]["certificate"].clone();
    let rims = [
        (DRV_2025, read(C2025, DRV_2025)),
        (VBIOS_2025, read(C2025, VBIOS_2025)),
    ];
    let r = audit_gpu(&to_vec(&v), &rims, AT_2025);
    assert_eq!(
        st(&r, "gpu.spdm-signature"),
        Status::Fail,
        "{}",
        summary(&r, "gpu.spdm-signature")
    );
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
}

#[test]
fn nonce_in_the_file_that_was_not_asked_fails_gpu_nonce() {
    let mut v = evidence(C2025);
    v["nonce"] = "00".repeat(32).into();
    let rims = [
        (DRV_2025, read(C2025, DRV_2025)),
        (VBIOS_2025, read(C2025, VBIOS_2025)),
    ];
    let r = audit_gpu(&to_vec(&v), &rims, AT_2025);
    assert_eq!(st(&r, "gpu.nonce"), Status::Fail);
    assert!(
        summary(&r, "gpu.nonce").contains("931d8dd0"),
        "{}",
        summary(&r, "gpu.nonce")
    );
}

#[test]
fn rims_for_another_version_fail_measurements_saying_none_was_supplied() {
    let rims = [
        (DRV_2023, read(C2023, DRV_2023)),
        (VBIOS_2023_TEST, read(C2023, VBIOS_2023_TEST)),
    ];
    let r = audit_gpu(&read(C2025, "nvidia-evidence.json"), &rims, AT_2025);
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
    let s = summary(&r, "gpu.measurements");
    assert!(
        s.contains("no driver RIM for version 550.90.07 was supplied"),
        "{s}"
    );
    assert_eq!(st(&r, "gpu.rim-signature"), Status::Fail);
}

#[test]
fn no_rim_at_all_fails_measurements_and_never_passes() {
    let r = audit_gpu(&read(C2025, "nvidia-evidence.json"), &[], AT_2025);
    assert_eq!(st(&r, "gpu.spdm-signature"), Status::Pass);
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
    assert!(summary(&r, "gpu.measurements").contains("was supplied"));
}

#[test]
fn two_vbios_rims_for_the_same_version_are_refused_not_guessed() {
    let r = audit_case(
        C2023,
        &[DRV_2023, VBIOS_2023_TEST, VBIOS_2023_PROD],
        AT_2023,
    );
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail);
    assert!(summary(&r, "gpu.rim-signature").contains("give exactly one"));
}

#[test]
fn tampered_rim_fails_rim_signature() {
    let text = String::from_utf8(read(C2025, DRV_2025)).unwrap();
    // Change one golden value's first hex digit inside the signed payload.
    let at = text.find("Hash0=\"").expect("a golden value") + "Hash0=\"".len();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let rims = [(DRV_2025, bytes), (VBIOS_2025, read(C2025, VBIOS_2025))];
    let r = audit_gpu(&read(C2025, "nvidia-evidence.json"), &rims, AT_2025);
    assert_eq!(
        st(&r, "gpu.rim-signature"),
        Status::Fail,
        "{}",
        summary(&r, "gpu.rim-signature")
    );
    assert_ne!(st(&r, "gpu.measurements"), Status::Pass);
}

#[test]
fn collect_gpu_evidence_stores_the_file_and_rims_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.zip");
    let p = |f: &str| -> PathBuf { root().join(C2025).join(f) };
    let st = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .args(["collect", "--gpu-evidence"])
        .arg(p("nvidia-evidence.json"))
        .arg("--rim")
        .arg(p(DRV_2025))
        .arg("--rim")
        .arg(p(VBIOS_2025))
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
    let zip = std::fs::read(&out).unwrap();
    let b = Bundle::from_bytes(&zip, "g.zip").unwrap();
    assert_eq!(
        b.member("evidence/gpu/nvidia-evidence.json").unwrap(),
        read(C2025, "nvidia-evidence.json")
    );
    assert_eq!(
        b.member(&format!("evidence/gpu/rims/{DRV_2025}")).unwrap(),
        read(C2025, DRV_2025)
    );
}

#[test]
fn collect_refuses_a_gpu_evidence_file_no_gpu_can_be_read_from() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        br#"{"nonce":"00","arch":"BLACKWELL","evidence_list":[]}"#,
    )
    .unwrap();
    let out = dir.path().join("g.zip");
    let st = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["collect", "--gpu-evidence"])
        .arg(&bad)
        .arg("--key")
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(!out.exists(), "no bundle is written");
}

#[test]
fn report_fwid_that_is_not_the_leaf_certificates_fails_gpu_fwid() {
    let mut v = evidence(C2025);
    let mut b = spdm_bytes(&v);
    let fwid = hex::decode("f5c384aebb579217a2c66b17ed0f28e6").unwrap();
    let at = b
        .windows(fwid.len())
        .position(|w| w == fwid.as_slice())
        .expect("FWID in the report");
    b[at] ^= 0xff;
    set_spdm_bytes(&mut v, &b);
    let r = audit_gpu(&to_vec(&v), &[], AT_2025);
    assert_eq!(st(&r, "gpu.fwid"), Status::Fail);
    assert!(
        summary(&r, "gpu.fwid").contains("is not the leaf certificate's"),
        "{}",
        summary(&r, "gpu.fwid")
    );
}

#[test]
fn raw_spdm_parser_refuses_every_truncation_and_trailing_bytes_without_panicking() {
    use blyss_evidence::evidence::gpu::spdm::Measurements;
    let b = read(C2025, "attestation_report.bin");
    let m = Measurements::from_bytes(&b).unwrap();
    assert_eq!(m.response.blocks.len(), 64);
    assert_eq!(m.driver_version().unwrap(), "550.90.07");
    assert_eq!(m.vbios_version().unwrap(), "96.00.9F.00.01");
    for n in 0..b.len() {
        assert!(
            Measurements::from_bytes(&b[..n]).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(Measurements::from_bytes(&longer)
        .unwrap_err()
        .contains("follow the signature"));
}

#[test]
fn raw_spdm_parser_refuses_other_versions_and_layouts_it_would_not_rebuild() {
    use blyss_evidence::evidence::gpu::spdm::Measurements;
    let b = read(C2023, "attestation_report.hex");
    let b = hex::decode(String::from_utf8(b).unwrap().trim()).unwrap();
    assert!(Measurements::from_bytes(&b).is_ok());
    // SPDM 1.2 signs a different transcript.
    let mut v12 = b.clone();
    v12[0] = 0x12;
    assert!(Measurements::from_bytes(&v12)
        .unwrap_err()
        .contains("SPDM 1.1"));
    // First block's index (request 37 bytes + response header 8): the
    // signed bytes would differ from what the checks rebuild.
    let mut idx = b.clone();
    idx[37 + 8] = 9;
    assert!(Measurements::from_bytes(&idx)
        .unwrap_err()
        .contains("layout"));
}

#[test]
fn h100_2023_sample_judged_in_2026_fails_rim_signature_as_its_signers_expired() {
    // Why `audit --at` exists for old evidence: the same files that verify
    // at AT_2023 do not verify today.
    let r = audit_case(C2023, &[DRV_2023, VBIOS_2023_TEST], "2026-01-01T00:00:00Z");
    assert_eq!(st(&r, "gpu.spdm-signature"), Status::Pass);
    assert_eq!(st(&r, "gpu.rim-signature"), Status::Fail);
    assert_ne!(st(&r, "gpu.measurements"), Status::Pass);
}

#[test]
fn unknown_top_level_key_in_the_nras_shape_fails_every_gpu_check() {
    let mut v = evidence(C2025);
    v["extra"] = true.into();
    let r = audit_gpu(&to_vec(&v), &[], AT_2025);
    let gpu: Vec<_> = r.checks.iter().filter(|c| c.family == "gpu").collect();
    assert!(!gpu.is_empty());
    assert!(gpu.iter().all(|c| c.status == Status::Fail), "{gpu:#?}");
    assert!(gpu[0].summary.contains("`extra`"));
}

#[test]
fn imported_gpu_beside_an_attestation_document_is_numbered_after_the_documents_gpus() {
    let at = t(AT_2025);
    let protocol = Protocol::load("snp-only").unwrap();
    let mut b = BundleBuilder::new("file", &protocol.id, at);
    b.add(
        "attestation.json",
        crate::common::gpu::DOC_2024.to_vec(),
        Source::file(at),
    )
    .unwrap();
    b.add(
        "gpu/nvidia-evidence.json",
        read(C2025, "nvidia-evidence.json"),
        Source::file(at),
    )
    .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "both.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    let r = audit(&bundle, &protocol, &TrustSet::production(), &opts, at);
    let doc_gpu = result(&r, "gpu.spdm-signature", "gpu0");
    assert_eq!(
        doc_gpu.evidence,
        vec!["evidence/attestation.json".to_string()]
    );
    assert!(r
        .checks
        .iter()
        .all(|c| !(c.id == "gpu.nonce" && c.subject.as_deref() == Some("gpu0"))));
    let imported = result(&r, "gpu.spdm-signature", "gpu1");
    assert_eq!(imported.status, Status::Pass, "{}", imported.summary);
    assert_eq!(
        imported.evidence,
        vec!["evidence/gpu/nvidia-evidence.json".to_string()]
    );
    assert_eq!(result(&r, "gpu.nonce", "gpu1").status, Status::Pass);
}
