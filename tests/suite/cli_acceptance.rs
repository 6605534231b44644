//! Acceptance tests: the real binary, its exit codes (0 pass, 1 audit
//! failed, 2 could not audit) and its one-line reasons.

use crate::common;

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
fn real_bundle() -> PathBuf {
    root().join("fixtures/bundles/blyss-2024-01.zip")
}
fn fixture_pub() -> PathBuf {
    root().join("fixtures/keys/fixture-collector.key.pub")
}
fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .env_remove("XDG_CONFIG_HOME");
    c
}

/// Rewrites one member of a zip (content change, no re-signing).
fn alter_member(src: &Path, member: &str, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let bytes = std::fs::read(src).unwrap();
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut m = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let mut d = Vec::new();
        e.read_to_end(&mut d).unwrap();
        if e.name() == member {
            f(&mut d);
        }
        m.insert(e.name().to_string(), d);
    }
    let r: std::collections::BTreeMap<String, &[u8]> =
        m.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect();
    blyss_evidence::bundle::write_zip(&r).unwrap()
}

#[test]
fn audit_of_real_bundle_attestation_scope_exits_0_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--scope",
            "attestation",
            "--signer",
        ])
        .arg(fixture_pub())
        .arg("--json")
        .arg(&json)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("verdict: PASS (attestation only)"));
    let r = common::report::assert_valid_report_file(&json);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["verdict"]["status"], "pass");
    assert_eq!(r["signer"]["pinned"], true);
    assert_eq!(r["trust"]["production"], true);
}

#[test]
fn audit_with_signer_fingerprint_pins_like_the_key_file() {
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--scope",
            "attestation",
            "--signer",
            "b244c7ca5b5ba3d7508a0515877b8ff65f6c72f9c04336d890f95c62b7325729",
        ])
        .assert()
        .code(0);
}

#[test]
fn altered_evidence_exits_1_and_names_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("altered.zip");
    std::fs::write(
        &p,
        alter_member(&real_bundle(), "evidence/attestation.json", |d| d[100] ^= 1),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    bin()
        .args([
            "audit",
            p.to_str().unwrap(),
            "--scope",
            "attestation",
            "--json",
            json.to_str().unwrap(),
            "--signer",
        ])
        .arg(fixture_pub())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "evidence/attestation.json was altered",
        ))
        .stdout(predicate::str::contains("verdict: FAIL"));
    // The report is still written.
    let r = common::report::assert_valid_report_file(&json);
    assert_eq!(r["verdict"]["status"], "fail");
}

#[test]
fn other_signer_pinned_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("other.key");
    bin()
        .args(["keygen", "-o", key.to_str().unwrap()])
        .assert()
        .code(0);
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--scope",
            "attestation",
            "--signer",
        ])
        .arg(dir.path().join("other.key.pub"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "signed by a key other than the pinned collector key",
        ));
}

#[test]
fn structural_damage_exits_2_with_one_line_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.zip", Vec::new(), "file is empty"),
        (
            "text.zip",
            b"hello, not a zip".to_vec(),
            "not a zip archive",
        ),
        (
            "truncated.zip",
            std::fs::read(real_bundle()).unwrap()[..400].to_vec(),
            "not a zip archive",
        ),
    ];
    for (name, bytes, reason) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = bin()
            .args(["audit", p.to_str().unwrap()])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(reason), "{name}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{name}: reason must be one line: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{name}: no report on stdout for unreadable bundles"
        );
    }
}

#[test]
fn missing_bundle_file_exits_2() {
    bin()
        .args(["audit", "/nonexistent/b.zip"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/b.zip"));
}

#[test]
fn bad_options_exit_2() {
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--protocol",
            "v9.9",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown protocol id"));
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--at",
            "yesterday",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RFC 3339"));
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--signer",
            "/nonexistent.pem",
        ])
        .assert()
        .code(2);
    bin().args(["audit"]).assert().code(2);
}

#[test]
fn keygen_writes_private_key_0600_and_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    bin()
        .args(["keygen", "-o", key.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("fingerprint"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(std::fs::read_to_string(dir.path().join("k.key.pub"))
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // Never overwrites an existing key.
    bin()
        .args(["keygen", "-o", key.to_str().unwrap()])
        .assert()
        .code(2);
}

#[test]
fn import_then_audit_round_trips_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let out1 = dir.path().join("a.zip");
    let out2 = dir.path().join("b.zip");
    let key = root().join("fixtures/keys/fixture-collector.key");
    for out in [&out1, &out2] {
        bin()
            .args([
                "collect",
                "--attestation",
                root()
                    .join("fixtures/blyss/attestation-2024-01.json")
                    .to_str()
                    .unwrap(),
                "--key",
                key.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .assert()
            .code(0);
    }
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    // Judged when the document was served: its NVIDIA RIM signing
    // certificates expired in 2025 (the GPU checks fail at later times).
    bin()
        .args([
            "audit",
            out1.to_str().unwrap(),
            "--scope",
            "attestation",
            "--at",
            "2024-01-15T00:00:00Z",
            "--signer",
        ])
        .arg(fixture_pub())
        .assert()
        .code(0);
}

#[test]
fn malformed_attestation_import_exits_2_and_writes_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("attestation.json");
    let mut v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/blyss/attestation-2024-01.json")).unwrap(),
    )
    .unwrap();
    v["cpu_attestation"]["measurement"] = serde_json::json!([1, 2, 3]);
    std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = dir.path().join("out.zip");
    bin()
        .args([
            "collect",
            "--attestation",
            bad.to_str().unwrap(),
            "--key",
            root()
                .join("fixtures/keys/fixture-collector.key")
                .to_str()
                .unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cpu_attestation.measurement"));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp files left behind"
    );
}

#[test]
fn collect_without_key_creates_default_key_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.zip");
    let cfg = dir.path().join("cfg");
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("XDG_CONFIG_HOME", &cfg)
        .args([
            "collect",
            "--attestation",
            root()
                .join("fixtures/blyss/attestation-2024-01.json")
                .to_str()
                .unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("created collector key"));
    assert!(cfg.join("blyss-evidence/collector.key").exists());
    // Second run reuses it silently.
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("XDG_CONFIG_HOME", &cfg)
        .args([
            "collect",
            "--attestation",
            root()
                .join("fixtures/blyss/attestation-2024-01.json")
                .to_str()
                .unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("created collector key").not());
}

#[test]
fn trust_show_prints_production_fingerprints() {
    bin()
        .args(["trust", "show"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("production, embedded"))
        .stdout(predicate::str::contains(
            "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48",
        ));
}

#[test]
fn non_production_trust_set_is_reported_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    std::fs::write(
        &t,
        br#"{"schema":"blyss-evidence.trust/v1","name":"empty-test-set","version":"1"}"#,
    )
    .unwrap();
    let json = dir.path().join("r.json");
    bin()
        .args([
            "audit",
            real_bundle().to_str().unwrap(),
            "--scope",
            "attestation",
            "--trust",
            t.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .assert()
        .stdout(predicate::str::contains("NON-PRODUCTION TRUST"));
    let r = common::report::assert_valid_report_file(&json);
    assert_eq!(r["trust"]["production"], false);
    assert_eq!(r["verdict"]["non_production_trust"], true);
    assert!(r["verdict"]["label"]
        .as_str()
        .unwrap()
        .contains("NON-PRODUCTION TRUST"));
}

#[test]
fn json_report_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for n in ["1.json", "2.json"] {
        let p = dir.path().join(n);
        bin()
            .args([
                "audit",
                real_bundle().to_str().unwrap(),
                "--scope",
                "attestation",
                "--json",
                p.to_str().unwrap(),
            ])
            .assert()
            .code(predicate::in_iter([0, 1]));
        common::report::assert_valid_report_file(&p);
        outs.push(std::fs::read(&p).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
}
