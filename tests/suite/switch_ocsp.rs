//! `switch.ocsp` (issue 16 items 2-3): NVSwitches get the revocation
//! judgement of `gpu.ocsp`, one result per switch, over the device chain
//! without its per-boot FMC leaf and root and the switch-BIOS RIM's signing
//! chain without its root. No real switch OCSP answer is public except
//! one: the LS10 chain shares "NVIDIA GH100 Identity" (same serial, same
//! issuer) with the 2025 H100, whose real L2 answer therefore speaks for the
//! switch too. Good, revoked and missing answers for the rest are minted
//! with the TEST-ONLY PKI of the OCSP tests under a TEST-ONLY trust set.

use base64::Engine;
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::{CheckResult, Status};
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use serde_json::Value;
use x509_ocsp::CertStatus;

use crate::common::gpu::{pem, result, root, t, test_trust};
use crate::common::nvfield::{audit_sealed, read};

/// The TEST-ONLY PKI and OCSP minter (loaded once, by `gpu_ocsp`).
use crate::gpu_ocsp::testca;

const CASE: &str = "fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim";
const FILE: &str = "nvidia-switch-evidence.json";
const MULTI: &str = "multi_switch_ls10.json";
const RIM: &str = "NV_SWITCH_BIOS_5612_0002_890_9610550001.xml";
const H100: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
/// The real H100 answer for "NVIDIA GH100 Identity" (serial 4C255EDE…).
const H100_L2: &str = "test_gpu_certificate_l2_base64encoded_ocsp_response.dat";
/// The H100 device-chain answers' producedAt.
const DEVICE_PRODUCED: &str = "2025-08-21T06:47:08Z";
/// Inside every real certificate's validity (switch-BIOS RIM signer
/// 2026-05-20 → 2028-05-19) and the test PKI's (2020 → 2049).
const AT: &str = "2026-06-01T00:00:00Z";

/// Seals `members` (path under `evidence/`, bytes) and `ocsp` answers
/// (name, bytes) and audits at `at` under protocol snp-only (which requires
/// `gpu.*` and so every `switch.*` result).
fn audit_with(
    members: &[(String, Vec<u8>)],
    ocsp: &[(String, Vec<u8>)],
    trust: &TrustSet,
    at: &str,
) -> Report {
    let members: Vec<(String, Vec<u8>)> = members
        .iter()
        .cloned()
        .chain(
            ocsp.iter()
                .map(|(n, r)| (format!("gpu/ocsp/{n}"), r.clone())),
        )
        .collect();
    audit_sealed(&members, trust, at)
}

fn switch_members(file: &[u8], rim: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![
        ("gpu/nvidia-switch-evidence.json".into(), file.to_vec()),
        (format!("gpu/rims/{RIM}"), rim.to_vec()),
    ]
}

fn ocsp<'a>(r: &'a Report, subject: &str) -> &'a CheckResult {
    result(r, "switch.ocsp", subject)
}

/// `(chain, subject CN, outcome)` per judged certificate.
fn rows(c: &CheckResult) -> Vec<(String, String, String)> {
    c.details["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = c["subject"].as_str().unwrap();
            let cn = s
                .split(',')
                .find_map(|p| p.trim().strip_prefix("CN="))
                .unwrap_or(s);
            (
                c["chain"].as_str().unwrap().to_string(),
                cn.to_string(),
                c["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn h100_l2() -> Vec<u8> {
    read(H100, H100_L2)
}

#[test]
fn real_switches_without_answers_warn_once_per_switch_and_never_pass() {
    let r = audit_with(
        &switch_members(&read(CASE, MULTI), &read(CASE, RIM)),
        &[],
        &TrustSet::production(),
        AT,
    );
    for s in ["switch0", "switch1", "switch2", "switch3"] {
        let c = ocsp(&r, s);
        assert_eq!(c.status, Status::Warn, "{s}: {}", c.summary);
        assert!(c.required, "snp-only requires gpu.*, so every switch.*");
        assert!(c.summary.contains("never a pass"), "{}", c.summary);
        assert_eq!(
            c.title,
            "NVSwitch certificate revocation (OCSP, judged offline)"
        );
        let names: Vec<(String, String, String)> = rows(c);
        assert_eq!(
            names
                .iter()
                .map(|(ch, n, o)| format!("{ch}: {n}: {o}"))
                .collect::<Vec<_>>(),
            vec![
                "device chain: LS_10 A01 FSP BROM: no response",
                "device chain: NVIDIA LS_10 Provisioner ICA 1: no response",
                "device chain: NVIDIA GH100 Identity: no response",
                "switch-BIOS RIM signing chain: NVIDIA Reference Value L4 LS10: no response",
                "switch-BIOS RIM signing chain: NVIDIA Reference Value L3 LS10 001: no response",
                "switch-BIOS RIM signing chain: NVIDIA Reference Value LS10 CA: no response",
            ],
            "{s}: the FMC leaf and both roots are not covered"
        );
    }
    assert!(r.facts["switch.ocsp"].as_str().unwrap().starts_with(
        "24 certificates at 2026-06-01T00:00:00Z: 0 fresh and good, 0 stale, 24 without response"
    ));
    // No GPU in the bundle: no gpu.ocsp result.
    assert!(!r.checks.iter().any(|c| c.id == "gpu.ocsp"));
}

#[test]
fn real_h100_answer_for_the_shared_gh100_identity_is_fresh_for_the_switch_chain() {
    let r = audit_with(
        &switch_members(&read(CASE, FILE), &read(CASE, RIM)),
        &[(H100_L2.into(), h100_l2())],
        &TrustSet::production(),
        DEVICE_PRODUCED,
    );
    let c = ocsp(&r, "switch0");
    let device: Vec<String> = rows(c)
        .into_iter()
        .filter(|(ch, _, _)| ch == "device chain")
        .map(|(_, n, o)| format!("{n}: {o}"))
        .collect();
    assert_eq!(
        device,
        vec![
            "LS_10 A01 FSP BROM: no response",
            "NVIDIA LS_10 Provisioner ICA 1: no response",
            "NVIDIA GH100 Identity: good, fresh",
        ],
        "{:?}",
        c.actual
    );
    // The other answers are missing: a warning, and the H100 answer is
    // not "about something else" (it names a covered switch certificate).
    assert_eq!(c.status, Status::Warn, "{}", c.summary);
    assert!(!c
        .actual
        .as_deref()
        .unwrap()
        .contains("no covered certificate"));
    assert!(
        c.evidence.iter().any(|e| e.ends_with(H100_L2)),
        "{:?}",
        c.evidence
    );
}

/// TEST-ONLY PKIs standing in for NVIDIA's: device root → ICA → BROM →
/// FMC leaf (+ the ICA's delegated responder), and RIM root → CA → L3 →
/// L4 signer.
struct TestPki {
    root: testca::Issued,
    ica: testca::Issued,
    brom: testca::Issued,
    responder: testca::Issued,
    device_chain: Vec<Vec<u8>>,
    rim_root: testca::Issued,
    rim_ca: testca::Issued,
    rim_l3: testca::Issued,
    rim_l4: testca::Issued,
}

fn test_pki() -> TestPki {
    let root = testca::root("switch device");
    let ica = testca::issue(&root, "TEST-ONLY LS_10 Provisioner ICA", 12, true, false);
    let brom = testca::issue(&ica, "TEST-ONLY LS_10 FSP BROM", 13, true, false);
    let leaf = testca::issue(&brom, "TEST-ONLY LS_10 FSP FMC LF", 14, false, false);
    let responder = testca::issue(&ica, "TEST-ONLY OCSP Responder LS_10 ICA", 15, false, true);
    let rim_root = testca::root("switch rim");
    let rim_ca = testca::issue(
        &rim_root,
        "TEST-ONLY Reference Value LS10 CA",
        22,
        true,
        false,
    );
    let rim_l3 = testca::issue(
        &rim_ca,
        "TEST-ONLY Reference Value L3 LS10",
        23,
        true,
        false,
    );
    let rim_l4 = testca::issue(
        &rim_l3,
        "TEST-ONLY Reference Value L4 LS10",
        24,
        false,
        false,
    );
    let device_chain = vec![
        leaf.der.clone(),
        brom.der.clone(),
        ica.der.clone(),
        root.der.clone(),
    ];
    TestPki {
        root,
        ica,
        brom,
        responder,
        device_chain,
        rim_root,
        rim_ca,
        rim_l3,
        rim_l4,
    }
}

/// The real switch file with its device chain replaced by the test PKI's
/// (the SPDM signature then fails: switch.spdm-signature's to say, not
/// switch.ocsp's), and the real switch-BIOS RIM with its four embedded
/// certificates replaced by the test RIM chain (its XMLDSig then fails:
/// switch.rim-signature's to say).
fn test_switch(p: &TestPki) -> (Vec<u8>, Vec<u8>) {
    let mut v: Value = serde_json::from_slice(&read(CASE, FILE)).unwrap();
    let chain_pem: String = p.device_chain.iter().map(|c| pem(c)).collect();
    v["evidence_list"][0]["certificate"] = base64::engine::general_purpose::STANDARD
        .encode(chain_pem)
        .into();
    let rim = String::from_utf8(read(CASE, RIM)).unwrap();
    let ders = [&p.rim_l4.der, &p.rim_l3.der, &p.rim_ca.der, &p.rim_root.der];
    let (open, close) = ("<ds:X509Certificate>", "</ds:X509Certificate>");
    let mut out = String::new();
    let mut rest = rim.as_str();
    for d in ders {
        let a = rest.find(open).unwrap() + open.len();
        let b = a + rest[a..].find(close).unwrap();
        out.push_str(&rest[..a]);
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(d));
        rest = &rest[b..];
    }
    out.push_str(rest);
    assert!(!rest[close.len()..].contains(open), "four certificates");
    (serde_json::to_vec(&v).unwrap(), out.into_bytes())
}

/// Answers for every covered certificate of the test switch (`brom`'s
/// status as given; `skip_brom` leaves it unanswered), produced a minute
/// before [`AT`], valid one day.
fn test_answers(p: &TestPki, brom: CertStatus, skip_brom: bool) -> Vec<(String, Vec<u8>)> {
    let produced = t(AT).unix_timestamp() as u64 - 60;
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
    let mut rs = vec![
        (
            "ica.der".to_string(),
            mint(&p.ica, &p.root, &p.root, CertStatus::good()),
        ),
        (
            "rim-ca.der".into(),
            mint(&p.rim_ca, &p.rim_root, &p.rim_root, CertStatus::good()),
        ),
        (
            "rim-l3.der".into(),
            mint(&p.rim_l3, &p.rim_ca, &p.rim_ca, CertStatus::good()),
        ),
        (
            "rim-l4.der".into(),
            mint(&p.rim_l4, &p.rim_l3, &p.rim_l3, CertStatus::good()),
        ),
    ];
    if !skip_brom {
        rs.push(("brom.der".into(), mint(&p.brom, &p.ica, &p.responder, brom)));
    }
    rs
}

fn trust_for(p: &TestPki) -> TrustSet {
    let mut device = vec![p.root.der.clone()];
    // The production device root too, so a real H100 beside the test
    // switch still verifies.
    device.extend(TrustSet::production().nvidia_device_roots);
    let mut rims = vec![p.rim_root.der.clone()];
    rims.extend(TrustSet::production().nvidia_rim_roots);
    test_trust(device, rims)
}

fn audit_test_switch(brom: CertStatus, skip_brom: bool) -> Report {
    let p = test_pki();
    let (file, rim) = test_switch(&p);
    audit_with(
        &switch_members(&file, &rim),
        &test_answers(&p, brom, skip_brom),
        &trust_for(&p),
        AT,
    )
}

#[test]
fn test_switch_with_every_answer_fresh_and_good_passes_switch_ocsp() {
    // The positive control for the revoked and missing cases below.
    let r = audit_test_switch(CertStatus::good(), false);
    let c = ocsp(&r, "switch0");
    assert_eq!(c.status, Status::Pass, "{} / {:?}", c.summary, c.actual);
    let rs = rows(c);
    assert_eq!(rs.len(), 2 + 3, "{rs:?}");
    assert!(rs.iter().all(|(_, _, o)| o == "good, fresh"), "{rs:?}");
    assert!(rs
        .iter()
        .any(|(ch, n, _)| ch == "switch-BIOS RIM signing chain"
            && n == "TEST-ONLY Reference Value L4 LS10"));
}

#[test]
fn revoked_switch_brom_answer_minted_by_a_test_ca_fails_switch_ocsp() {
    let info = x509_ocsp::RevokedInfo {
        revocation_time: x509_ocsp::OcspGeneralizedTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                1_750_000_000,
            ))
            .unwrap(),
        ),
        revocation_reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    };
    let r = audit_test_switch(CertStatus::revoked(info), false);
    let c = ocsp(&r, "switch0");
    assert_eq!(c.status, Status::Fail, "{}", c.summary);
    assert!(c.required, "a required failure fails the verdict");
    assert!(rows(c)
        .iter()
        .any(|(_, n, o)| n == "TEST-ONLY LS_10 FSP BROM" && o == "REVOKED/UNKNOWN"));
}

#[test]
fn missing_switch_brom_answer_warns_and_never_passes() {
    let r = audit_test_switch(CertStatus::good(), true);
    let c = ocsp(&r, "switch0");
    assert_eq!(c.status, Status::Warn, "{}", c.summary);
    assert!(rows(c)
        .iter()
        .any(|(_, n, o)| n == "TEST-ONLY LS_10 FSP BROM" && o == "no response"));
}

#[test]
fn switch_answers_beside_gpu_evidence_are_not_unmatched_for_gpu_ocsp_and_vice_versa() {
    // A real H100 (with its seven real answers) and the test switch (with
    // its minted answers) in one bundle: each family's answers name only
    // its own devices' certificates, and neither family calls the other's
    // "an answer about something else".
    let p = test_pki();
    let (file, rim) = test_switch(&p);
    let mut members = switch_members(&file, &rim);
    members.push((
        "gpu/nvidia-evidence.json".into(),
        read(H100, "nvidia-evidence.json"),
    ));
    for n in [
        "NV_GPU_DRIVER_GH100_550.90.07.xml",
        "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml",
    ] {
        members.push((format!("gpu/rims/{n}"), read(H100, n)));
    }
    let mut answers = test_answers(&p, CertStatus::good(), false);
    for e in std::fs::read_dir(root().join(H100)).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        if n.ends_with("_ocsp_response.dat") {
            answers.push((n.clone(), read(H100, &n)));
        }
    }
    assert_eq!(answers.len(), 5 + 7);
    let r = audit_with(&members, &answers, &trust_for(&p), AT);
    let s = ocsp(&r, "switch0");
    assert_eq!(s.status, Status::Pass, "{} / {:?}", s.summary, s.actual);
    let g = result(&r, "gpu.ocsp", "gpu0");
    // The H100 answers are stale in June 2026: a warning, not a failure.
    assert_eq!(g.status, Status::Warn, "{} / {:?}", g.summary, g.actual);
    assert!(!g
        .actual
        .as_deref()
        .unwrap()
        .contains("no covered certificate"));
}

#[test]
fn collect_accepts_ocsp_with_switch_evidence_alone_and_stores_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.zip");
    let st = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["collect", "--switch-evidence"])
        .arg(root().join(CASE).join(FILE))
        .arg("--rim")
        .arg(root().join(CASE).join(RIM))
        .arg("--ocsp")
        .arg(root().join(H100).join(H100_L2))
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
        b.member(&format!("evidence/gpu/ocsp/{H100_L2}")).unwrap(),
        h100_l2().as_slice()
    );
}
