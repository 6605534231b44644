//! The `gpu` family through the audit pipeline: both real Blyss documents
//! pass every GPU check at their collection times, and every issue-9
//! negative case fails the check it should, naming what is wrong.

use crate::common;

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::{AuditOptions, Scope, Status, Verdict};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use common::gpu::*;
use serde_json::{json, Value};
use Status::{Fail, Pass, Warn};

fn real_bundle(name: &str, protocol: &str, opts: AuditOptions) -> blyss_evidence::report::Report {
    let b = Bundle::open(&root().join("fixtures/bundles").join(name)).unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..opts
    };
    let r = audit(
        &b,
        &Protocol::load(protocol).unwrap(),
        &TrustSet::production(),
        &opts,
        t("2030-01-01T00:00:00Z"),
    );
    common::report::assert_valid_report_json(&r.to_json());
    r
}

#[test]
fn both_real_bundles_pass_every_gpu_check_at_their_collection_times() {
    for (name, proto, nonce) in [
        ("blyss-2023-12.zip", "v0.0.1-test", "46313fff"),
        ("blyss-2024-01.zip", "v0.0.1", "7da9f4a1"),
    ] {
        let r = real_bundle(name, proto, AuditOptions::default());
        assert_eq!(
            statuses(&r),
            vec![Pass, Pass, Pass, Pass, Pass, Warn],
            "{name}"
        );
        assert!(r
            .checks
            .iter()
            .filter(|c| c.family == "gpu")
            .all(|c| c.required));
        assert_eq!(r.verdict.status, Verdict::Pass, "{name}");
        let m = result(&r, "gpu.measurements", "gpu0");
        assert!(
            m.summary.starts_with("33/33 measurements match"),
            "{}",
            m.summary
        );
        let v = result(&r, "gpu.versions", "gpu0");
        assert!(
            v.summary.contains("driver 535.86.10") && v.summary.contains("VBIOS 96.00.74.00.1A")
        );
        let s = result(&r, "gpu.spdm-signature", "gpu0");
        assert_eq!(s.details["published_nonce"].as_str().unwrap()[..8], *nonce);
        let c = result(&r, "gpu.device-chain", "gpu0");
        assert_eq!(c.details["cert_time_policy"], "evaluation");
        assert!(
            c.summary.contains("valid at the evaluation time"),
            "{}",
            c.summary
        );
        let rim = result(&r, "gpu.rim-signature", "gpu0");
        assert!(
            rim.summary.contains("sha256 pinned by the protocol"),
            "{}",
            rim.summary
        );
        // The caveat is on the family line of the terminal summary.
        let fam = r.families.iter().find(|f| f.family == "gpu").unwrap();
        assert_eq!(fam.status, Warn);
        assert!(
            fam.line
                .contains("NOT bound to the SNP report or the TLS session"),
            "{}",
            fam.line
        );
        assert!(fam.line.contains("33/33 measurements"), "{}", fam.line);
        let term = blyss_evidence::report::terminal::render(&r, false);
        assert!(
            term.contains(
                "⚠️ NVIDIA GPU: gpu.binding: GPU NVIDIA:GH100:48B02D0D1EF5B3C7 verified on its own"
            ),
            "{term}"
        );
    }
}

#[test]
fn both_real_documents_come_from_the_same_gpu_according_to_their_facts() {
    let a = real_bundle("blyss-2023-12.zip", "v0.0.1-test", AuditOptions::default());
    let b = real_bundle("blyss-2024-01.zip", "v0.0.1", AuditOptions::default());
    for r in [&a, &b] {
        assert_eq!(r.facts["gpu.count"], json!(1));
        assert_eq!(
            r.facts["gpu.device-ids"],
            json!(["NVIDIA:GH100:48B02D0D1EF5B3C7"])
        );
        assert_eq!(r.facts["gpu.bound-to-snp-report"], json!(false));
        assert_eq!(r.facts["gpu.driver-version"], json!("535.86.10"));
        assert_eq!(r.facts["gpu.measurements"], json!("33/33"));
    }
    assert_eq!(a.facts["gpu.device-ids"], b.facts["gpu.device-ids"]);
}

#[test]
fn expired_rim_signers_fail_at_a_later_evaluation_time_and_the_policy_is_reported() {
    let at = Some(t("2026-01-01T00:00:00Z"));
    let r = real_bundle(
        "blyss-2024-01.zip",
        "v0.0.1",
        AuditOptions {
            at,
            ..Default::default()
        },
    );
    assert_eq!(status(&r, "gpu.rim-signature"), Fail);
    let rim = result(&r, "gpu.rim-signature", "gpu0");
    assert!(
        rim.summary.contains("expired at 2025-07-25T22:42:14Z"),
        "{}",
        rim.summary
    );
    // The device chain is valid until 9999; measurements are not
    // authenticated without the RIMs.
    assert_eq!(status(&r, "gpu.device-chain"), Pass);
    assert_eq!(status(&r, "gpu.measurements"), Fail);
    assert!(result(&r, "gpu.measurements", "gpu0")
        .summary
        .contains("33/33 measurements match, but the RIMs did not authenticate"));
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn relaxed_time_policies_pass_with_a_warning_that_names_the_policy() {
    for policy in ["2024-01-15T00:00:00Z", "ignore-expiry-unsafe"] {
        let r = real_bundle(
            "blyss-2024-01.zip",
            "v0.0.1",
            AuditOptions {
                at: Some(t("2026-01-01T00:00:00Z")),
                gpu_cert_time: Some(policy.into()),
                ..Default::default()
            },
        );
        let rim = result(&r, "gpu.rim-signature", "gpu0");
        assert_eq!(rim.status, Warn, "{policy}: {}", rim.summary);
        assert!(
            rim.summary.contains("relaxed time policy"),
            "{}",
            rim.summary
        );
        assert_eq!(rim.details["cert_time_policy"], json!(policy));
        assert_eq!(rim.details["cert_time_policy_relaxing"], json!(true));
        assert_eq!(
            rim.details["cert_time_policy_source"],
            json!("--gpu-cert-time")
        );
        assert!(rim.details["validity_problems_waived_by_policy"]
            .to_string()
            .contains("expired"));
        assert_eq!(status(&r, "gpu.measurements"), Pass);
        assert_eq!(r.facts["gpu.cert-time-policy"], json!(policy));
        assert_eq!(r.verdict.status, Verdict::Pass);
    }
}

#[test]
fn certificates_not_yet_valid_fail_even_under_ignore_expiry() {
    let r = real_bundle(
        "blyss-2024-01.zip",
        "v0.0.1",
        AuditOptions {
            at: Some(t("2023-01-01T00:00:00Z")),
            gpu_cert_time: Some("ignore-expiry-unsafe".into()),
            ..Default::default()
        },
    );
    let rim = result(&r, "gpu.rim-signature", "gpu0");
    assert_eq!(rim.status, Fail);
    assert!(rim.summary.contains("not valid before"), "{}", rim.summary);
}

#[test]
fn untouched_real_document_passes_when_rebundled() {
    let r = audit_value(&doc_json(DOC_2024));
    assert_eq!(statuses(&r), vec![Pass, Pass, Pass, Pass, Pass, Warn]);
}

#[test]
fn flipped_measurement_byte_fails_the_spdm_signature_and_the_measurements() {
    for block in [7usize, 13] {
        let mut v = doc_json(DOC_2024);
        let m = &mut response(&mut v)["measurement_record"]["measurements"][block];
        let mut h = m.as_str().unwrap().to_string();
        let flipped = if h.as_bytes()[0] == b'0' { "1" } else { "0" };
        h.replace_range(0..1, flipped);
        *m = h.into();
        let r = audit_value(&v);
        assert_eq!(status(&r, "gpu.spdm-signature"), Fail, "block {block}");
        assert!(result(&r, "gpu.spdm-signature", "gpu0")
            .summary
            .contains("does not verify"));
        assert_eq!(status(&r, "gpu.measurements"), Fail);
        let m = result(&r, "gpu.measurements", "gpu0");
        if block == 7 {
            // RIM index 7 is active in the driver RIM: a golden mismatch.
            assert!(
                m.summary
                    .contains("32/33 measurements match; mismatched RIM index(es) 7"),
                "{}",
                m.summary
            );
            assert!(m
                .expected
                .as_deref()
                .unwrap()
                .starts_with("index 7 (SPDM block 8): one of 4e55d13f"));
            assert_eq!(m.details["mismatches"][0]["index"], json!(7));
        } else {
            // Block 13 is not covered by a RIM: still unauthenticated.
            assert!(
                m.summary.contains(
                    "33/33 measurements match, but the SPDM report signature did not verify"
                ),
                "{}",
                m.summary
            );
        }
        assert_eq!(r.verdict.status, Verdict::Fail);
    }
}

#[test]
fn changed_nonces_are_caught() {
    // The signed request nonce (and the published one with it).
    let mut v = doc_json(DOC_2024);
    let other = "00".repeat(32);
    gpu0(&mut v)["attestation_report_obj"]["request"]["nonce"] = other.clone().into();
    gpu0(&mut v)["nonce"] = other.clone().into();
    let r = audit_value(&v);
    assert_eq!(status(&r, "gpu.spdm-signature"), Fail);
    // Only the published nonce: the GPU signed another one.
    let mut v = doc_json(DOC_2024);
    gpu0(&mut v)["nonce"] = other.clone().into();
    let r = audit_value(&v);
    let s = result(&r, "gpu.spdm-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(
        s.summary.contains("the GPU signed nonce 7da9f4a1"),
        "{}",
        s.summary
    );
    // The response nonce.
    let mut v = doc_json(DOC_2024);
    response(&mut v)["nonce"] = other.into();
    let r = audit_value(&v);
    assert_eq!(status(&r, "gpu.spdm-signature"), Fail);
}

#[test]
fn driver_version_changed_in_opaque_data_fails_signature_and_versions() {
    let mut v = doc_json(DOC_2024);
    let od = &mut response(&mut v)["opaque_data"]["opaque_data"]["OPAQUE_FIELD_ID_DRIVER_VERSION"];
    assert_eq!(od, "3533352e38362e313000");
    *od = "3533352e38362e313100".into(); // 535.86.11
    let r = audit_value(&v);
    assert_eq!(status(&r, "gpu.spdm-signature"), Fail);
    let ver = result(&r, "gpu.versions", "gpu0");
    assert_eq!(ver.status, Fail);
    assert!(
        ver.summary
            .contains("the GPU reports driver 535.86.11, the driver RIM is for 535.86.10"),
        "{}",
        ver.summary
    );
}

#[test]
fn unsigned_gpu_info_contradicting_the_signed_report_fails_versions() {
    let mut v = doc_json(DOC_2024);
    gpu0(&mut v)["gpu_info_obj"]["driver_version"] = "550.0.0".into();
    let r = audit_value(&v);
    assert_eq!(status(&r, "gpu.spdm-signature"), Pass);
    let ver = result(&r, "gpu.versions", "gpu0");
    assert_eq!(ver.status, Fail);
    assert!(
        ver.summary
            .contains("unsigned gpu_info_obj claims driver 550.0.0"),
        "{}",
        ver.summary
    );
}

#[test]
fn chain_with_a_foreign_root_fails_the_device_chain() {
    // A complete TEST-ONLY platform: valid chain, valid SPDM signature by
    // its leaf, but its root is not NVIDIA's.
    let fake = TestChain::new(10, "GPU", Some("NVIDIA:GH100:48B02D0D1EF5B3C7"));
    let mut v = doc_json(DOC_2024);
    resign_spdm(&mut v, &fake);
    let r = audit_value(&v);
    assert_eq!(
        status(&r, "gpu.spdm-signature"),
        Pass,
        "signed by its own leaf"
    );
    let c = result(&r, "gpu.device-chain", "gpu0");
    assert_eq!(c.status, Fail);
    assert!(
        c.summary.contains("not a pinned root of the trust set"),
        "{}",
        c.summary
    );
    assert_eq!(status(&r, "gpu.measurements"), Fail);
    assert_eq!(status(&r, "gpu.versions"), Fail);
    assert!(!r.facts.contains_key("gpu.measurements"));
    assert_eq!(r.facts["gpu.device-ids"], json!([]));
    assert_eq!(r.verdict.status, Verdict::Fail);
    // The same evidence passes once its root is trusted: the failure above
    // is the root, nothing else.
    let trust = test_trust(vec![fake.root()], TrustSet::production().nvidia_rim_roots);
    let r = audit_doc(
        &serde_json::to_vec(&v).unwrap(),
        &Protocol::load("v0.0.1").unwrap(),
        &trust,
        TIME_2024,
        AuditOptions::default(),
    );
    assert_eq!(statuses(&r), vec![Pass, Pass, Pass, Pass, Pass, Warn]);
    assert!(r.verdict.label.contains("NON-PRODUCTION"));
}

#[test]
fn real_chain_presenting_another_root_fails() {
    let mut v = doc_json(DOC_2024);
    let rim_root = blyss_evidence::trust::parse_certs(include_bytes!(
        "../../src/trust/anchors/nvidia-rim-root.pem"
    ))
    .unwrap();
    gpu0(&mut v)["gpu_attestation_cert_chain"][4] = pem(&rim_root[0]).into();
    let r = audit_value(&v);
    let c = result(&r, "gpu.device-chain", "gpu0");
    assert_eq!(c.status, Fail);
    assert!(
        c.summary.contains("NVIDIA CoRIM signing Root CA"),
        "{}",
        c.summary
    );
}

#[test]
fn rim_with_one_golden_hash_changed_fails_signature_and_pin() {
    let good = "4e55d13fcefc7de8111f2196f55c492c3eaecd5e6578cd0244e4b528d04821938237fbb5569ffb8378a30fb445c22ff5";
    let mut v = doc_json(DOC_2024);
    let rim = gpu0(&mut v)["driver_rim"]
        .as_str()
        .unwrap()
        .replace(good, &good.replace("4e55", "4e56"));
    gpu0(&mut v)["driver_rim"] = rim.into();
    let r = audit_value(&v);
    let s = result(&r, "gpu.rim-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(
        s.summary
            .contains("driver RIM XMLDSig: the document digest does not match"),
        "{}",
        s.summary
    );
    assert!(
        s.summary.contains("is not pinned by protocol v0.0.1"),
        "{}",
        s.summary
    );
    assert_eq!(status(&r, "gpu.measurements"), Fail);
    assert_eq!(status(&r, "gpu.spdm-signature"), Pass);
    assert_eq!(status(&r, "gpu.device-chain"), Pass);
    // Without pins the XMLDSig alone catches it.
    let p = protocol_with_gpu(json!({"evidence": "when-present"}));
    let r = audit_doc(
        &serde_json::to_vec(&v).unwrap(),
        &p,
        &TrustSet::production(),
        TIME_2024,
        AuditOptions::default(),
    );
    let s = result(&r, "gpu.rim-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(!s.summary.contains("pinned"), "{}", s.summary);
}

#[test]
fn resigned_rim_with_a_changed_golden_hash_fails_on_the_foreign_signer_and_the_pin() {
    let good = "4e55d13fcefc7de8111f2196f55c492c3eaecd5e6578cd0244e4b528d04821938237fbb5569ffb8378a30fb445c22ff5";
    let signer = TestChain::new(20, "RIM", None);
    let mut v = doc_json(DOC_2024);
    let real = gpu0(&mut v)["driver_rim"].as_str().unwrap().to_string();
    gpu0(&mut v)["driver_rim"] =
        resign_rim(&real.replace(good, &good.replace("4e55", "4e56")), &signer).into();
    let r = audit_value(&v);
    let s = result(&r, "gpu.rim-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(
        !s.summary.contains("XMLDSig"),
        "the forged XMLDSig itself is valid: {}",
        s.summary
    );
    assert!(
        s.summary
            .contains("driver RIM signing chain: the chain ends at CN=TEST-ONLY RIM Root"),
        "{}",
        s.summary
    );
    assert!(s.summary.contains("not pinned"), "{}", s.summary);
    // Trusting the test signer and dropping the pins: now only the golden
    // mismatch remains, and gpu.measurements names it.
    let trust = test_trust(
        TrustSet::production().nvidia_device_roots,
        vec![signer.root()],
    );
    let p = protocol_with_gpu(json!({}));
    let r = audit_doc(
        &serde_json::to_vec(&v).unwrap(),
        &p,
        &trust,
        TIME_2024,
        AuditOptions::default(),
    );
    // The VBIOS RIM is still NVIDIA's, whose root is not in this trust set.
    let s = result(&r, "gpu.rim-signature", "gpu0");
    assert!(
        s.summary.starts_with("vbios RIM signing chain"),
        "{}",
        s.summary
    );
    let m = result(&r, "gpu.measurements", "gpu0");
    assert!(
        m.summary.contains("mismatched RIM index(es) 7"),
        "{}",
        m.summary
    );
}

#[test]
fn index_active_in_both_rims_fails_measurements() {
    let signer = TestChain::new(30, "RIM", None);
    let mut v = doc_json(DOC_2024);
    let vb = gpu0(&mut v)["vbios_rim"].as_str().unwrap().to_string();
    // Index 7 is active in the driver RIM; activate it in the VBIOS RIM too.
    let needle = "index=\"7\" active=\"False\"";
    assert!(vb.contains(needle));
    let both = resign_rim(&vb.replace(needle, "index=\"7\" active=\"True\""), &signer);
    let dr = resign_rim(gpu0(&mut v)["driver_rim"].as_str().unwrap(), &signer);
    gpu0(&mut v)["vbios_rim"] = both.into();
    gpu0(&mut v)["driver_rim"] = dr.into();
    let trust = test_trust(
        TrustSet::production().nvidia_device_roots,
        vec![signer.root()],
    );
    let p = protocol_with_gpu(json!({}));
    let r = audit_doc(
        &serde_json::to_vec(&v).unwrap(),
        &p,
        &trust,
        TIME_2024,
        AuditOptions::default(),
    );
    assert_eq!(
        status(&r, "gpu.rim-signature"),
        Pass,
        "{}",
        result(&r, "gpu.rim-signature", "gpu0").summary
    );
    let m = result(&r, "gpu.measurements", "gpu0");
    assert_eq!(m.status, Fail);
    assert!(
        m.summary
            .contains("index 7 is active in both the driver RIM and the vbios RIM"),
        "{}",
        m.summary
    );
}

#[test]
fn block_list_of_the_wrong_length_fails() {
    // One block short: the counts disagree.
    let mut v = doc_json(DOC_2024);
    response(&mut v)["measurement_record"]["measurements"]
        .as_array_mut()
        .unwrap()
        .pop();
    let r = audit_value(&v);
    let s = result(&r, "gpu.spdm-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(s.summary.contains("has 63 blocks but"), "{}", s.summary);
    assert_eq!(status(&r, "gpu.measurements"), Fail);
    // One block short with consistent counts: the signature breaks.
    let mut v = doc_json(DOC_2024);
    response(&mut v)["measurement_record"]["measurements"]
        .as_array_mut()
        .unwrap()
        .pop();
    response(&mut v)["number_of_blocks"] = 63.into();
    response(&mut v)["measurement_record_length"] = (63 * 55).into();
    let r = audit_value(&v);
    assert!(result(&r, "gpu.spdm-signature", "gpu0")
        .summary
        .contains("does not verify"));
    // A block of the wrong size.
    let mut v = doc_json(DOC_2024);
    response(&mut v)["measurement_record"]["measurements"][7] = "00".repeat(47).into();
    let r = audit_value(&v);
    assert!(result(&r, "gpu.spdm-signature", "gpu0")
        .summary
        .contains("measurement_record_length"));
}

#[test]
fn malformed_hex_fails_naming_the_field() {
    for (path, bad) in [
        (
            vec![
                "attestation_report_obj",
                "response",
                "measurement_record",
                "measurements",
                "3",
            ],
            "zz",
        ),
        (
            vec!["attestation_report_obj", "response", "signature"],
            "abc",
        ),
        (vec!["attestation_report_obj", "request", "param2"], "fg"),
        (vec!["nonce"], "7da9"),
    ] {
        let mut v = doc_json(DOC_2024);
        let mut cur = gpu0(&mut v);
        for p in &path {
            cur = match p.parse::<usize>() {
                Ok(i) => &mut cur[i],
                Err(_) => &mut cur[*p],
            };
        }
        *cur = bad.into();
        let r = audit_value(&v);
        let s = result(&r, "gpu.spdm-signature", "gpu0");
        assert_eq!(s.status, Fail, "{path:?}");
        let last = path.last().unwrap();
        let name = if last.parse::<usize>().is_ok() {
            format!("measurements[{last}]")
        } else {
            last.to_string()
        };
        assert!(s.summary.contains(&name), "{path:?}: {}", s.summary);
    }
}

#[test]
fn gpu_evidence_absent_is_not_applicable_when_optional_and_fails_when_required() {
    let mut v = doc_json(DOC_2024);
    v.as_object_mut().unwrap().remove("gpu_attestation");
    let bytes = serde_json::to_vec(&v).unwrap();
    let r = audit_doc(
        &bytes,
        &Protocol::load("v0.0.1").unwrap(),
        &TrustSet::production(),
        TIME_2024,
        AuditOptions::default(),
    );
    let gpu: Vec<_> = r.checks.iter().filter(|c| c.family == "gpu").collect();
    assert_eq!(gpu.len(), 6);
    assert!(gpu
        .iter()
        .all(|c| c.status == Status::NotApplicable && c.subject.is_none()));
    assert!(gpu[0].summary.contains("no GPU evidence"));
    let p = protocol_with_gpu(json!({"evidence": "required"}));
    let r = audit_doc(
        &bytes,
        &p,
        &TrustSet::production(),
        TIME_2024,
        AuditOptions::default(),
    );
    assert!(r
        .checks
        .iter()
        .filter(|c| c.family == "gpu")
        .all(|c| c.status == Fail));
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn snp_only_protocol_requires_gpu_evidence_that_is_present_to_verify() {
    // A protocol setting (snp-only.json: `gpu.*` required, evidence
    // `when-present`), not code special-casing: a bad GPU nonce fails the
    // audit under snp-only.
    let mut v = doc_json(DOC_2024);
    response(&mut v)["nonce"] = "00".repeat(32).into();
    let r = audit_doc(
        &serde_json::to_vec(&v).unwrap(),
        &Protocol::load("snp-only").unwrap(),
        &TrustSet::production(),
        TIME_2024,
        AuditOptions::default(),
    );
    let s = result(&r, "gpu.spdm-signature", "gpu0");
    assert_eq!(s.status, Fail);
    assert!(s.required);
    assert!(r
        .verdict
        .failed_required
        .iter()
        .any(|id| id == "gpu.spdm-signature"));
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn same_gpu_listed_twice_fails_binding_for_both_entries() {
    let mut v = doc_json(DOC_2024);
    let g = gpu0(&mut v).clone();
    v["gpu_attestation"]["gpus"].as_array_mut().unwrap().push(g);
    let r = audit_value(&v);
    for subj in ["gpu0", "gpu1"] {
        assert_eq!(result(&r, "gpu.spdm-signature", subj).status, Pass);
        let b = result(&r, "gpu.binding", subj);
        assert_eq!(b.status, Fail, "{subj}");
        assert!(
            b.summary.contains("appears 2 times among the 2 GPUs"),
            "{}",
            b.summary
        );
    }
    assert_eq!(r.facts["gpu.count"], json!(2));
}

#[test]
fn malformed_gpu_attestation_fails_every_gpu_check() {
    for bad in [
        json!({"gpus": "x"}),
        json!({"gpus": [], "extra": 1}),
        json!([1]),
    ] {
        let mut v = doc_json(DOC_2024);
        v["gpu_attestation"] = bad.clone();
        let r = audit_value(&v);
        let gpu: Vec<_> = r.checks.iter().filter(|c| c.family == "gpu").collect();
        assert_eq!(gpu.len(), 6, "{bad}");
        assert!(gpu.iter().all(|c| c.status == Fail), "{bad}");
    }
    // An unknown key in one GPU entry fails that GPU's checks.
    let mut v = doc_json(DOC_2024);
    gpu0(&mut v)["surprise"] = Value::Bool(true);
    let r = audit_value(&v);
    assert!(result(&r, "gpu.measurements", "gpu0")
        .summary
        .contains("surprise"));
}

#[test]
fn invalid_time_policy_fails_closed() {
    let r = real_bundle(
        "blyss-2024-01.zip",
        "v0.0.1",
        AuditOptions {
            gpu_cert_time: Some("whenever".into()),
            ..Default::default()
        },
    );
    let gpu: Vec<_> = r.checks.iter().filter(|c| c.family == "gpu").collect();
    assert!(gpu
        .iter()
        .all(|c| c.status == Fail && c.summary.contains("--gpu-cert-time")));
}
