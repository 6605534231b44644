//! The built-in `gpu-only` protocol: NVIDIA devices judged alone. Every
//! `gpu.*`, `switch.*` and `ppcie.*` result is required, the AMD and SNP
//! families are not run (one not-applicable `<family>.not-judged` result
//! each), and `audit` of a GPU-only bundle under another protocol names
//! `--protocol gpu-only`.

use assert_cmd::Command;
use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, Scope, Status, Verdict};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use predicates::prelude::*;

use crate::common::gpu::{root, t};

const C2025: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const RIMS_2025: &[&str] = &[
    "NV_GPU_DRIVER_GH100_550.90.07.xml",
    "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml",
];
const AT_2025: &str = "2025-08-21T00:00:00Z";

/// Seals `(member under evidence/, bytes)` into a bundle signed with the
/// fixture collector key and audits it at `at` under `protocol`.
pub fn audit_members(members: &[(String, Vec<u8>)], protocol: &str, at: &str) -> Report {
    let at = t(at);
    let protocol = Protocol::load(protocol).unwrap();
    let mut b = BundleBuilder::new("file", &protocol.id, at);
    for (n, bytes) in members {
        b.add(n, bytes.clone(), Source::file(at)).unwrap();
    }
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "gpu-only.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(&bundle, &protocol, &TrustSet::production(), &opts, at)
}

fn h100_2025_members() -> Vec<(String, Vec<u8>)> {
    let read = |f: &str| std::fs::read(root().join(C2025).join(f)).unwrap();
    let mut m = vec![(
        "gpu/nvidia-evidence.json".to_string(),
        read("nvidia-evidence.json"),
    )];
    for r in RIMS_2025 {
        m.push((format!("gpu/rims/{r}"), read(r)));
    }
    m
}

#[test]
fn gpu_only_passes_the_2025_h100_with_its_rims_and_runs_no_amd_or_snp_check() {
    let r = audit_members(&h100_2025_members(), "gpu-only", AT_2025);
    assert_eq!(r.verdict.status, Verdict::Pass, "{:#?}", r.checks);
    for fam in ["amd", "snp"] {
        let fam_results: Vec<_> = r.checks.iter().filter(|c| c.family == fam).collect();
        assert_eq!(fam_results.len(), 1, "{fam}: {fam_results:#?}");
        assert_eq!(fam_results[0].id, format!("{fam}.not-judged"));
        assert_eq!(fam_results[0].status, Status::NotApplicable);
        assert!(fam_results[0].summary.contains("NVIDIA devices only"));
    }
    for id in ["gpu.spdm-signature", "gpu.device-chain", "gpu.measurements"] {
        let c = r.checks.iter().find(|c| c.id == id).unwrap();
        assert!(c.required, "{id} must count towards the verdict");
        assert_eq!(c.status, Status::Pass);
    }
}

#[test]
fn gpu_only_fails_the_same_h100_without_its_rims_on_gpu_measurements() {
    let mut m = h100_2025_members();
    m.truncate(1);
    let r = audit_members(&m, "gpu-only", AT_2025);
    assert_eq!(r.verdict.status, Verdict::Fail);
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert!(failed.contains(&"gpu.measurements"), "{failed:?}");
    for id in ["gpu.spdm-signature", "gpu.device-chain", "gpu.nonce"] {
        let c = r.checks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, Status::Pass, "{id}: {}", c.summary);
    }
}

#[test]
fn snp_only_still_judges_amd_and_snp_and_fails_a_bundle_without_a_cpu_report() {
    // The contrast that makes the test above meaningful: the same bundle
    // under snp-only runs the AMD family and fails on the missing report.
    let r = audit_members(&h100_2025_members(), "snp-only", AT_2025);
    assert_eq!(r.verdict.status, Verdict::Fail);
    let chain = r.checks.iter().find(|c| c.id == "amd.chain").unwrap();
    assert_eq!(chain.status, Status::Fail);
    assert!(!r.checks.iter().any(|c| c.id.ends_with(".not-judged")));
}

fn protocol_text(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("protocol/gpu-only.json")).unwrap())
            .unwrap();
    edit(&mut v);
    v.to_string()
}

#[test]
fn a_protocol_may_not_skip_the_bundle_family_nor_skip_a_family_it_requires() {
    let skip_bundle = protocol_text(|v| v["not_judged"]["bundle"] = "no".into());
    let e = Protocol::parse(skip_bundle.as_bytes(), "t").unwrap_err();
    assert!(
        e.to_string().contains("family bundle is always judged"),
        "{e}"
    );
    let skip_required = protocol_text(|v| v["not_judged"]["gpu"] = "no".into());
    let e = Protocol::parse(skip_required.as_bytes(), "t").unwrap_err();
    assert!(e.to_string().contains("also in required_checks"), "{e}");
    let no_reason = protocol_text(|v| v["not_judged"]["tls"] = " ".into());
    let e = Protocol::parse(no_reason.as_bytes(), "t").unwrap_err();
    assert!(e.to_string().contains("give the reason"), "{e}");
}

fn collect_h100(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("h100.zip");
    let c = root().join(C2025);
    Command::cargo_bin("blyss-evidence")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .arg("collect")
        .arg("--gpu-evidence")
        .arg(c.join("nvidia-evidence.json"))
        .arg("--rim")
        .arg(c.join(RIMS_2025[0]))
        .arg("--rim")
        .arg(c.join(RIMS_2025[1]))
        .args(["--protocol", "gpu-only", "--key"])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0);
    out
}

fn audit_cli(bundle: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("blyss-evidence")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .arg("audit")
        .arg(bundle)
        .arg("--signer")
        .arg(root().join("fixtures/keys/fixture-collector.key.pub"))
        .args(["--at", AT_2025])
        .args(extra)
        .assert()
}

#[test]
fn audit_of_a_gpu_only_bundle_under_the_default_protocol_fails_and_names_gpu_only() {
    let dir = tempfile::tempdir().unwrap();
    let b = collect_h100(dir.path());
    audit_cli(&b, &[])
        .code(1)
        .stderr(predicate::str::contains("`--protocol gpu-only`"));
    audit_cli(&b, &["--protocol", "gpu-only"])
        .code(0)
        .stderr(predicate::str::contains("gpu-only`").not())
        .stdout(predicate::str::contains(
            "AMD certificate chain: protocol gpu-only: NVIDIA devices only",
        ));
}
