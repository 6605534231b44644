//! A raw SEV-SNP report + VCEK (as snpguest writes them), imported with
//! `collect --report --vcek` and audited with the same checks: under the
//! generic `snp-only` protocol the Blyss command-line checks are not
//! applicable; under a Blyss protocol their absence fails.

use crate::common;

use std::path::Path;

use assert_cmd::Command;
use common::snp::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    // 2024-06-01: inside the TEST-ONLY certificates' validity.
    c.env("SOURCE_DATE_EPOCH", "1717200000")
        .env_remove("XDG_CONFIG_HOME");
    c
}

fn import(dir: &Path, report: &Path, vcek: &Path) -> std::path::PathBuf {
    let out = dir.join("snp.zip");
    bin()
        .args(["collect", "--protocol", "snp-only", "--key"])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("--report")
        .arg(report)
        .arg("--vcek")
        .arg(vcek)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    out
}

fn audit_json(bundle: &Path, protocol: &str, trust: bool, code: i32) -> serde_json::Value {
    let json = bundle.with_extension(format!("{protocol}.json"));
    let mut c = bin();
    c.arg("audit")
        .arg(bundle)
        .args(["--protocol", protocol, "--scope", "attestation", "--json"])
        .arg(&json);
    if trust {
        c.arg("--trust")
            .arg(synthetic_dir().join("test-trust.json"));
    }
    c.assert().code(code);
    common::report::assert_valid_report_file(&json)
}

fn check<'a>(r: &'a serde_json::Value, id: &str) -> Vec<&'a serde_json::Value> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

#[test]
fn raw_report_import_audits_under_snp_only_with_protocol_checks_not_applicable() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = import(
        dir.path(),
        &synthetic_dir().join("test-genoa-report.bin"),
        &synthetic_dir().join("test-genoa-vcek.der"),
    );
    let r = audit_json(&bundle, "snp-only", true, 0);
    for id in [
        "amd.chain",
        "amd.product",
        "snp.report-signature",
        "snp.report-format",
        "snp.tcb",
        "snp.policy",
        "snp.provisional-firmware",
    ] {
        let c = check(&r, id);
        assert_eq!(c.len(), 1, "{id}");
        assert_eq!(c[0]["status"], "pass", "{id}: {}", c[0]);
        assert!(c[0]["evidence"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("evidence/snp/report.bin")));
    }
    for id in ["protocol.cmdline", "protocol.images"] {
        assert_eq!(check(&r, id)[0]["status"], "not-applicable", "{id}");
    }
    assert_eq!(r["facts"]["snp.product"], "Genoa");
    assert!(r["verdict"]["label"]
        .as_str()
        .unwrap()
        .contains("NON-PRODUCTION TRUST"));
}

#[test]
fn raw_report_import_accepts_a_pem_vcek() {
    let dir = tempfile::tempdir().unwrap();
    let der = std::fs::read(synthetic_dir().join("test-milan-vcek.der")).unwrap();
    let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap();
    let pem_path = dir.path().join("vcek.pem");
    std::fs::write(&pem_path, pem).unwrap();
    let bundle = import(
        dir.path(),
        &synthetic_dir().join("test-milan-report.bin"),
        &pem_path,
    );
    let r = audit_json(&bundle, "snp-only", true, 0);
    assert_eq!(r["facts"]["snp.product"], "Milan");
    assert_eq!(check(&r, "snp.report-signature")[0]["status"], "pass");
}

#[test]
fn raw_report_import_fails_a_blyss_protocol_for_lack_of_a_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = import(
        dir.path(),
        &synthetic_dir().join("test-genoa-report.bin"),
        &synthetic_dir().join("test-genoa-vcek.der"),
    );
    let r = audit_json(&bundle, "v0.0.1", true, 1);
    let c = check(&r, "protocol.cmdline");
    assert_eq!(c[0]["status"], "fail");
    assert!(c[0]["summary"]
        .as_str()
        .unwrap()
        .contains("carries no kernel command line"));
    // The SNP checks themselves are the same and pass.
    assert_eq!(check(&r, "snp.report-signature")[0]["status"], "pass");
}

#[test]
fn raw_report_import_fails_under_the_production_trust_set() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = import(
        dir.path(),
        &synthetic_dir().join("test-genoa-report.bin"),
        &synthetic_dir().join("test-genoa-vcek.der"),
    );
    let r = audit_json(&bundle, "snp-only", false, 1);
    assert_eq!(check(&r, "amd.chain")[0]["status"], "fail");
    assert_eq!(r["trust"]["production"], true);
}
