//! `gpu.ocsp` on the real 2025 H100 case and its seven real OCSP responses
//! (device chain produced 2025-08-21, RIM chains 2025-10-24), through the
//! whole audit: fresh at the responses' own `producedAt`, stale (a
//! warning, never a pass) at today's date; negatives made by code from the
//! real files (flipped signature byte, another serial, a forged responder,
//! a missing response) and a revoked answer minted with a test PKI under a
//! TEST-ONLY trust set.

use std::path::PathBuf;

use base64::Engine;
use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::evidence::gpu::ocsp::{decode_member, Response};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use serde_json::Value;
use x509_ocsp::CertStatus;

use crate::common::gpu::{pem, result, root, t, test_trust};
use crate::common::nvfield::audit_sealed;

#[path = "../../src/evidence/gpu/ocsp/testca.rs"]
#[allow(dead_code)]
pub mod testca;

const CASE: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const DRV: &str = "NV_GPU_DRIVER_GH100_550.90.07.xml";
const VBIOS: &str = "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml";
const DEVICE: &[&str] = &[
    "test_gpu_certificate_l2_base64encoded_ocsp_response.dat",
    "test_gpu_certificate_l3_base64encoded_ocsp_response.dat",
    "test_gpu_certificate_l4_base64encoded_ocsp_response.dat",
];
const RIMS: &[&str] = &[
    "test_gpu_driver_rim_l3_base64encoded_ocsp_response.dat",
    "test_gpu_driver_rim_l4_base64encoded_ocsp_response.dat",
    "test_gpu_rim_l2_base64encoded_ocsp_response.dat",
    "test_gpu_vbios_l4_base64encoded_ocsp_response.dat",
];
/// The device-chain responses' producedAt (L3/L4; L2 one second later).
const DEVICE_PRODUCED: &str = "2025-08-21T06:47:08Z";
/// The RIM-chain responses' producedAt (the VBIOS leaf's, the last one).
const RIM_PRODUCED: &str = "2025-10-24T11:32:22Z";
const TODAY: &str = "2026-12-05T00:00:00Z";

fn read(f: &str) -> Vec<u8> {
    std::fs::read(root().join(CASE).join(f)).unwrap()
}

fn all_responses() -> Vec<(String, Vec<u8>)> {
    DEVICE
        .iter()
        .chain(RIMS)
        .map(|f| (f.to_string(), read(f)))
        .collect()
}

/// Seals the interchange file, both RIMs and `ocsp` (name, bytes) and
/// audits at `at` (protocol snp-only, which requires `gpu.*`).
fn audit_with(file: &[u8], ocsp: &[(String, Vec<u8>)], trust: &TrustSet, at: &str) -> Report {
    let members: Vec<(String, Vec<u8>)> =
        std::iter::once(("gpu/nvidia-evidence.json".to_string(), file.to_vec()))
            .chain([DRV, VBIOS].map(|n| (format!("gpu/rims/{n}"), read(n))))
            .chain(
                ocsp.iter()
                    .map(|(n, r)| (format!("gpu/ocsp/{n}"), r.clone())),
            )
            .collect();
    audit_sealed(&members, trust, at)
}

fn audit_real(ocsp: &[(String, Vec<u8>)], at: &str) -> Report {
    audit_with(
        &read("nvidia-evidence.json"),
        ocsp,
        &TrustSet::production(),
        at,
    )
}

fn ocsp(r: &Report) -> &CheckResult {
    result(r, "gpu.ocsp", "gpu0")
}

/// `(chain, subject CN, outcome)` per judged certificate.
fn rows(r: &Report) -> Vec<(String, String, String)> {
    ocsp(r).details["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = c["subject"].as_str().unwrap();
            let cn = s
                .split(',')
                .find_map(|p| p.strip_prefix("CN="))
                .unwrap_or(s);
            (
                c["chain"].as_str().unwrap().to_string(),
                cn.to_string(),
                c["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn outcomes_of(r: &Report, chain_prefix: &str) -> Vec<String> {
    rows(r)
        .into_iter()
        .filter(|(c, _, _)| c.starts_with(chain_prefix))
        .map(|(_, _, o)| o)
        .collect()
}

#[test]
fn device_chain_answers_are_fresh_at_their_produced_at_rim_answers_not_yet_current() {
    let r = audit_real(&all_responses(), DEVICE_PRODUCED);
    let c = ocsp(&r);
    assert_eq!(
        outcomes_of(&r, "device"),
        vec!["good, fresh"; 3],
        "{:?}",
        c.actual
    );
    // RIM responses were produced two months later: not yet current.
    let rim = outcomes_of(&r, "driver RIM")
        .into_iter()
        .chain(outcomes_of(&r, "vbios RIM"))
        .collect::<Vec<_>>();
    assert_eq!(rim, vec!["good, STALE"; 4], "{:?}", c.actual);
    assert_eq!(c.status, Status::Warn, "{}", c.summary);
    assert!(c.required, "snp-only requires gpu.*, so gpu.ocsp too");
    // The covered certificates: no FMC leaf, no root; each once.
    let names: Vec<String> = rows(&r).into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(
        names,
        vec![
            "GH100 A01 GSP BROM",
            "NVIDIA GH100 Provisioner ICA 1",
            "NVIDIA GH100 Identity",
            "HCC RIM L4 Signer",
            "NVIDIA Reference Value L3 GH100 002",
            "NVIDIA Reference Value GH100 CA",
            "HCC RIM L4 Signer",
        ]
    );
}

#[test]
fn rim_chain_answers_are_fresh_at_their_produced_at_device_answers_stale() {
    let r = audit_real(&all_responses(), RIM_PRODUCED);
    assert_eq!(outcomes_of(&r, "device"), vec!["good, STALE"; 3]);
    assert_eq!(outcomes_of(&r, "driver RIM"), vec!["good, fresh"; 3]);
    assert_eq!(outcomes_of(&r, "vbios RIM"), vec!["good, fresh"]);
    assert_eq!(
        r.facts["gpu.ocsp"],
        "7 certificates at 2025-10-24T11:32:22Z: 4 fresh and good, 3 stale, 0 without response, 0 revoked or unknown, 0 invalid"
    );
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Warn);
    let first = &c.details["certificates"][3];
    assert_eq!(first["produced_at"], "2025-10-24T11:32:21Z");
    assert_eq!(first["next_update"], "2025-10-25T11:32:21Z");
    assert!(first["responder"]
        .as_str()
        .unwrap()
        .contains("NVIDIA OCSP Responder L3 GH100 002"));
}

#[test]
fn only_rim_answers_judged_at_rim_time_pass_for_rims_and_device_is_missing() {
    let rim_only: Vec<(String, Vec<u8>)> = RIMS.iter().map(|f| (f.to_string(), read(f))).collect();
    let r = audit_real(&rim_only, RIM_PRODUCED);
    assert_eq!(outcomes_of(&r, "device"), vec!["no response"; 3]);
    assert_eq!(
        ocsp(&r).status,
        Status::Warn,
        "a missing response is a warning"
    );
}

#[test]
fn every_answer_is_stale_in_december_2026_and_never_passes() {
    let r = audit_real(&all_responses(), TODAY);
    assert!(
        rows(&r).iter().all(|(_, _, o)| o == "good, STALE"),
        "{:?}",
        rows(&r)
    );
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Warn);
    assert!(c.summary.contains("never a pass"), "{}", c.summary);
}

#[test]
fn flipped_signature_byte_fails_gpu_ocsp() {
    let mut rs = all_responses();
    let mut der = decode_member(&rs[1].1).unwrap();
    // The last byte of the ECDSA signature (inside `s`; the DER stays valid).
    let sig = Response::parse("x", &der).unwrap().signature().to_vec();
    let sig_end = der.windows(sig.len()).position(|w| w == sig).unwrap() + sig.len() - 1;
    der[sig_end] ^= 0x01;
    rs[1].1 = der;
    let r = audit_real(&rs, DEVICE_PRODUCED);
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Fail, "{}", c.summary);
    assert!(
        c.actual.as_deref().unwrap().contains("INVALID"),
        "{:?}",
        c.actual
    );
    assert!(c.required, "a required failure fails the verdict");
}

#[test]
fn response_for_another_serial_fails_gpu_ocsp_and_leaves_the_brom_unanswered() {
    let mut rs = all_responses();
    let mut der = decode_member(&rs[2].1).unwrap();
    // The BROM serial 41431D480FE5E87274 inside the L4 CertID.
    let serial = hex::decode("41431D480FE5E87274").unwrap();
    let at = der.windows(serial.len()).position(|w| w == serial).unwrap();
    der[at + serial.len() - 1] ^= 0x01;
    rs[2].1 = der;
    let r = audit_real(&rs, DEVICE_PRODUCED);
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Fail, "{}", c.summary);
    let actual = c.actual.as_deref().unwrap();
    assert!(actual.contains("41431D480FE5E87275"), "{actual}");
    assert!(actual.contains("no covered certificate"), "{actual}");
    assert!(rows(&r)
        .iter()
        .any(|(_, n, o)| n == "GH100 A01 GSP BROM" && o == "no response"));
}

#[test]
fn answer_signed_by_a_test_responder_outside_the_trust_set_fails() {
    // A test responder named like NVIDIA's answers `good` for the real BROM
    // with a correct CertID; it is not issued by the BROM's issuer.
    let pem_chain = std::str::from_utf8(&read("device_cert_chain.pem"))
        .unwrap()
        .to_string();
    let ders: Vec<Vec<u8>> = pem_chain
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("BEGIN"))
        .map(|b| der::pem::decode_vec(b.trim().as_bytes()).unwrap().1)
        .collect();
    let forger_root = testca::root("forger");
    let forger = testca::issue(
        &forger_root,
        "NVIDIA OCSP Responder L3 GH100 ICA1 Identity",
        5,
        false,
        true,
    );
    let produced = t(DEVICE_PRODUCED).unix_timestamp() as u64;
    let forged = testca::mint(&testca::Mint {
        cert: &ders[1],
        issuer: &ders[2],
        signer: &forger,
        status: CertStatus::good(),
        produced_at: produced,
        this_update: produced,
        next_update: Some(produced + 86_400),
    });
    let mut rs = all_responses();
    rs[2].1 = forged;
    let r = audit_real(&rs, DEVICE_PRODUCED);
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Fail, "{}", c.summary);
    assert!(c
        .actual
        .as_deref()
        .unwrap()
        .contains("not by the certificate's issuer"));
}

#[test]
fn missing_response_warns() {
    let mut rs = all_responses();
    rs.remove(0);
    let r = audit_real(&rs, DEVICE_PRODUCED);
    assert!(rows(&r)
        .iter()
        .any(|(_, n, o)| n == "NVIDIA GH100 Identity" && o == "no response"));
    assert_eq!(ocsp(&r).status, Status::Warn);
}

#[test]
fn garbage_response_member_fails_gpu_ocsp_without_panicking() {
    let mut rs = all_responses();
    let der = decode_member(&rs[0].1).unwrap();
    rs.push(("truncated.der".into(), der[..der.len() / 2].to_vec()));
    rs.push((
        "garbage.dat".into(),
        b"%%% not an OCSP response %%%".to_vec(),
    ));
    let r = audit_real(&rs, DEVICE_PRODUCED);
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence.iter().any(|e| e.ends_with("garbage.dat")),
        "{:?}",
        c.evidence
    );
}

/// Test PKI standing in for NVIDIA's device PKI: root → ICA → BROM → leaf,
/// plus the ICA's delegated responder.
struct TestDevice {
    root: testca::Issued,
    ica: testca::Issued,
    brom: testca::Issued,
    responder: testca::Issued,
    chain: Vec<Vec<u8>>,
}

fn test_device() -> TestDevice {
    let root = testca::root("device");
    let ica = testca::issue(&root, "TEST-ONLY Provisioner ICA", 2, true, false);
    let brom = testca::issue(&ica, "TEST-ONLY GSP BROM", 3, true, false);
    let leaf = testca::issue(&brom, "TEST-ONLY GSP FMC LF", 4, false, false);
    let responder = testca::issue(&ica, "TEST-ONLY OCSP Responder ICA", 5, false, true);
    let chain = vec![
        leaf.der.clone(),
        brom.der.clone(),
        ica.der.clone(),
        root.der.clone(),
    ];
    TestDevice {
        root,
        ica,
        brom,
        responder,
        chain,
    }
}

/// The real evidence with its device chain replaced by the test PKI's
/// (the SPDM signature then fails, which gpu.ocsp does not read), the
/// test device answers (`brom` status as given) beside the real RIM
/// answers, audited at the RIM answers' producedAt under a TEST-ONLY trust
/// set whose device root is the test root.
fn audit_test_device(brom_status: CertStatus) -> Report {
    let d = test_device();
    let mut v: Value = serde_json::from_slice(&read("nvidia-evidence.json")).unwrap();
    let chain_pem: String = d.chain.iter().map(|c| pem(c)).collect();
    v["evidence_list"][0]["certificate"] = base64::engine::general_purpose::STANDARD
        .encode(chain_pem)
        .into();
    let produced = t(RIM_PRODUCED).unix_timestamp() as u64 - 60;
    let mint = |cert: &testca::Issued, issuer: &testca::Issued, signer: &testca::Issued, status| {
        testca::mint(&testca::Mint {
            cert: &cert.der,
            issuer: &issuer.der,
            signer,
            status,
            produced_at: produced,
            this_update: produced,
            next_update: Some(produced + 86_400),
        })
    };
    let mut rs: Vec<(String, Vec<u8>)> = RIMS.iter().map(|f| (f.to_string(), read(f))).collect();
    rs.push((
        "ica.der".into(),
        mint(&d.ica, &d.root, &d.root, CertStatus::good()),
    ));
    rs.push((
        "brom.der".into(),
        mint(&d.brom, &d.ica, &d.responder, brom_status),
    ));
    let trust = test_trust(
        vec![d.root.der.clone()],
        TrustSet::production().nvidia_rim_roots,
    );
    audit_with(&serde_json::to_vec(&v).unwrap(), &rs, &trust, RIM_PRODUCED)
}

#[test]
fn test_device_with_every_answer_fresh_and_good_passes_gpu_ocsp() {
    // The positive control for the revoked case below: a pass is reachable.
    let r = audit_test_device(CertStatus::good());
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Pass, "{} / {:?}", c.summary, c.actual);
    assert_eq!(rows(&r).len(), 2 + 4);
}

#[test]
fn revoked_brom_answer_minted_by_a_test_ca_fails_gpu_ocsp() {
    let info = x509_ocsp::RevokedInfo {
        revocation_time: x509_ocsp::OcspGeneralizedTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                1_750_000_000,
            ))
            .unwrap(),
        ),
        revocation_reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    };
    let r = audit_test_device(CertStatus::revoked(info));
    let c = ocsp(&r);
    assert_eq!(c.status, Status::Fail, "{}", c.summary);
    assert!(rows(&r)
        .iter()
        .any(|(_, n, o)| n == "TEST-ONLY GSP BROM" && o == "REVOKED/UNKNOWN"));
    assert!(c
        .actual
        .as_deref()
        .unwrap()
        .contains("revoked at 2025-06-15"));
}

fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("blyss-evidence").unwrap()
}

#[test]
fn collect_ocsp_stores_each_response_as_received_and_a_stale_answer_does_not_fail_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.zip");
    let p = |f: &str| -> PathBuf { root().join(CASE).join(f) };
    let mut c = bin();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .args(["collect", "--gpu-evidence"])
        .arg(p("nvidia-evidence.json"))
        .arg("--rim")
        .arg(p(DRV))
        .arg("--rim")
        .arg(p(VBIOS));
    for f in DEVICE.iter().chain(RIMS) {
        c.arg("--ocsp").arg(p(f));
    }
    let st = c
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
    let b = Bundle::from_bytes(&std::fs::read(&out).unwrap(), "g.zip").unwrap();
    for f in DEVICE.iter().chain(RIMS) {
        assert_eq!(
            b.member(&format!("evidence/gpu/ocsp/{f}")).unwrap(),
            read(f),
            "{f}"
        );
    }
    // A protocol that requires only `gpu.*` (this bundle has no SNP
    // evidence), judged when the RIM answers were produced: every other GPU
    // check passes, gpu.ocsp warns (the device answers are stale then),
    // and a warning does not fail the audit.
    let proto = dir.path().join("gpu.json");
    std::fs::write(
        &proto,
        r#"{"schema":"blyss-evidence.protocol/v1","id":"gpu-test","title":"t","source":"t","required_checks":["gpu.*"]}"#,
    )
    .unwrap();
    let json = dir.path().join("r.json");
    bin()
        .arg("audit")
        .arg(&out)
        .arg("--protocol")
        .arg(&proto)
        .args(["--scope", "attestation", "--at", RIM_PRODUCED])
        .arg("--signer")
        .arg(root().join("fixtures/keys/fixture-collector.key.pub"))
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(dir.path().join("r.html"))
        .arg("--markdown")
        .arg(dir.path().join("r.md"))
        .assert()
        .code(0);
    for f in ["r.html", "r.md"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(text.contains("gpu.ocsp"), "{f} names the check");
    }
    let rep = crate::common::report::assert_valid_report_file(&json);
    let c = rep["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "gpu.ocsp")
        .unwrap();
    assert_eq!(c["status"], "warn");
}

#[test]
fn collect_refuses_an_ocsp_file_that_is_no_response_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.dat");
    std::fs::write(&bad, b"MIIB not really").unwrap();
    let out = dir.path().join("g.zip");
    let st = bin()
        .args(["collect", "--gpu-evidence"])
        .arg(root().join(CASE).join("nvidia-evidence.json"))
        .arg("--ocsp")
        .arg(&bad)
        .arg("--key")
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("bad.dat"));
    assert!(!out.exists());
}

#[test]
fn collect_refuses_ocsp_without_gpu_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let st = bin()
        .args(["collect", "--report", "r.bin", "--vcek", "v.der", "--ocsp"])
        .arg(root().join(CASE).join(DEVICE[0]))
        .arg("-o")
        .arg(dir.path().join("g.zip"))
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("--gpu-evidence"));
}

#[test]
fn every_gpu_of_a_multi_gpu_file_gets_its_own_result_from_shared_answers() {
    let mut v: Value = serde_json::from_slice(&read("nvidia-evidence.json")).unwrap();
    let one = v["evidence_list"][0].clone();
    v["evidence_list"] = Value::Array(vec![one; 3]);
    let r = audit_with(
        &serde_json::to_vec(&v).unwrap(),
        &all_responses(),
        &TrustSet::production(),
        RIM_PRODUCED,
    );
    for g in ["gpu0", "gpu1", "gpu2"] {
        let c = result(&r, "gpu.ocsp", g);
        assert_eq!(c.status, Status::Warn, "{g}");
        assert_eq!(
            c.details["certificates"].as_array().unwrap().len(),
            7,
            "{g}"
        );
    }
    assert!(r.facts["gpu.ocsp"]
        .as_str()
        .unwrap()
        .starts_with("21 certificates at"));
}

/// The real January 2024 Blyss document (its GPU carries its RIMs inline)
/// sealed with `ocsp` answers, audited at `at` under protocol v0.0.1.
fn audit_blyss_doc(ocsp: &[(String, Vec<u8>)], at: &str) -> Report {
    let at = t(at);
    let protocol = Protocol::load("v0.0.1").unwrap();
    let mut b = BundleBuilder::new("file", &protocol.id, at);
    b.add(
        "attestation.json",
        crate::common::gpu::DOC_2024.to_vec(),
        Source::file(at),
    )
    .unwrap();
    for (n, r) in ocsp {
        b.add(&format!("gpu/ocsp/{n}"), r.clone(), Source::file(at))
            .unwrap();
    }
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "blyss-ocsp.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(&bundle, &protocol, &TrustSet::production(), &opts, at)
}

#[test]
fn document_gpus_are_judged_when_the_bundle_holds_ocsp_answers_and_not_otherwise() {
    // Without answers: no gpu.ocsp result (Blyss reports stay as they were).
    let r = audit_blyss_doc(&[], DEVICE_PRODUCED);
    assert!(!r.checks.iter().any(|c| c.id == "gpu.ocsp"));
    // With the 2025 device's L2/L3 answers (GH100 Identity and Provisioner
    // ICA 1 are shared by H100s): those two are fresh for the 2024 GPU too,
    // its own BROM has no answer (a warning).
    let rs: Vec<(String, Vec<u8>)> = DEVICE[..2]
        .iter()
        .map(|f| (f.to_string(), read(f)))
        .collect();
    let r = audit_blyss_doc(&rs, DEVICE_PRODUCED);
    let c = ocsp(&r);
    let device = rows(&r)
        .into_iter()
        .filter(|(ch, _, _)| ch == "device chain")
        .map(|(_, n, o)| format!("{n}: {o}"))
        .collect::<Vec<_>>();
    assert_eq!(
        device,
        vec![
            "GH100 A01 GSP BROM: no response",
            "NVIDIA GH100 Provisioner ICA 1: good, fresh",
            "NVIDIA GH100 Identity: good, fresh",
        ],
        "{:?}",
        c.actual
    );
    assert_eq!(c.status, Status::Warn, "{}", c.summary);
    assert_eq!(c.evidence[0], "evidence/attestation.json");
}
