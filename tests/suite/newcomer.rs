//! Issue 14: what a newcomer meets first tells the truth. Each test is
//! named after the behaviour it proves; each has a failing counterpart
//! (a required failure stays red, a wrong list fails, …).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::measure::MEASUREMENT_2024_01;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
fn fx(p: &str) -> PathBuf {
    root().join("fixtures").join(p)
}
fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1706745600") // 2024-02-01
        .env_remove("XDG_CONFIG_HOME");
    c
}
fn audit_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = dir.join("r.json");
    let _ = std::fs::remove_file(&out);
    let o = bin()
        .arg("audit")
        .args(args)
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}
fn check<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}
fn bundle_2024() -> String {
    fx("bundles/blyss-2024-01.zip").display().to_string()
}

// ---- item 5: statuses ----

#[test]
fn attestation_scope_tls_binding_is_a_warning_that_names_what_is_not_established() {
    let d = tempfile::tempdir().unwrap();
    let r = audit_json(d.path(), &[&bundle_2024(), "--scope", "attestation"]);
    let c = check(&r, "tls.binding");
    assert_eq!(c["status"], "warn", "{c:#}");
    let s = c["summary"].as_str().unwrap();
    assert!(s.contains("NOT established"), "{s}");
    assert!(
        s.starts_with("binding to the served certificate NOT established"),
        "{s}"
    );
    assert!(
        s.contains("established only: cert_sha256_fingerprint"),
        "{s}"
    );
    // Still PASS (attestation only): the warning does not fail the audit.
    assert_eq!(r["verdict"]["status"], "pass");
}

#[test]
fn full_scope_tls_binding_without_a_handshake_is_still_a_required_failure() {
    let d = tempfile::tempdir().unwrap();
    let r = audit_json(d.path(), &[&bundle_2024()]);
    let c = check(&r, "tls.binding");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["required"], true);
    assert_eq!(r["verdict"]["status"], "fail");
}

#[test]
fn snp_only_makes_tls_not_applicable_instead_of_demanding_a_zero_tail() {
    let d = tempfile::tempdir().unwrap();
    let bundle = d.path().join("snp.zip");
    bin()
        .args(["collect", "--report"])
        .arg(fx("synthetic/test-genoa-report.bin"))
        .arg("--vcek")
        .arg(fx("synthetic/test-genoa-vcek.der"))
        .args(["--protocol", "snp-only", "--key"])
        .arg(fx("keys/fixture-collector.key"))
        .arg("-o")
        .arg(&bundle)
        .assert()
        .code(0);
    let trust = fx("synthetic/test-trust.json").display().to_string();
    let r = audit_json(
        d.path(),
        &[
            &bundle.display().to_string(),
            "--protocol",
            "snp-only",
            "--trust",
            &trust,
        ],
    );
    for id in ["tls.binding", "tls.chain"] {
        let c = check(&r, id);
        assert_eq!(c["status"], "not-applicable", "{c:#}");
        let s = c["summary"].as_str().unwrap();
        assert!(s.contains("binds no TLS certificate"), "{s}");
        assert!(!s.contains("zero bytes"), "{s}");
    }
    // The import recorded the protocol it was given: no bundle.protocol warning.
    assert_eq!(check(&r, "bundle.protocol")["status"], "pass");
    assert_eq!(r["verdict"]["status"], "pass");
}

#[test]
fn a_failed_check_the_protocol_does_not_require_is_a_warning_with_its_rule_outcome() {
    let d = tempfile::tempdir().unwrap();
    let proto = d.path().join("p.json");
    std::fs::write(
        &proto,
        r#"{"schema":"blyss-evidence.protocol/v1","id":"bundle-only","title":"t","source":"t","required_checks":["bundle.*"]}"#,
    )
    .unwrap();
    let signer = fx("keys/fixture-collector.key.pub").display().to_string();
    let r = audit_json(
        d.path(),
        &[
            &bundle_2024(),
            "--protocol",
            &proto.display().to_string(),
            "--signer",
            &signer,
        ],
    );
    let c = check(&r, "tls.binding");
    assert_eq!(c["required"], false);
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(c["details"]["rule_outcome"], "fail");
    assert!(c["summary"]
        .as_str()
        .unwrap()
        .starts_with("rule not met, not required by protocol bundle-only:"));
    // No check shows `fail` beside this PASS.
    assert_eq!(r["verdict"]["status"], "pass");
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] != "fail"));
}

// ---- item 2: ct check with the list of the certificate's time ----

#[test]
fn ct_check_passes_the_shipped_2024_certificate_with_the_shipped_log_list() {
    bin()
        .args(["ct", "check"])
        .arg(fx("ct/le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("ct/le-2024/issuer-r3.der"))
        .arg("--log-list")
        .arg(fx("ct/le-2024/logs.json"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "version 32.19, timestamp 2024-03-03T12:56:09Z",
        ))
        .stdout(predicate::str::contains("result: PASS"));
}

#[test]
fn ct_check_names_the_list_date_and_the_option_when_a_log_is_absent() {
    bin()
        .args(["ct", "check"])
        .arg(fx("ct/le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("ct/le-2024/issuer-r3.der"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "is not in the log list dated 2025-07-10T12:53:11Z; pass the list of the certificate's time with --log-list",
        ));
}

// ---- item 3: measure --attestation ----

#[test]
fn measure_attestation_gives_the_audited_digest_and_prints_the_strip_rule() {
    bin()
        .args(["measure", "--attestation"])
        .arg(fx("blyss/attestation-2024-01.json"))
        .args(["--protocol", "v0.0.1"])
        .assert()
        .code(0)
        .stdout(format!("{MEASUREMENT_2024_01}\n"))
        .stderr(predicate::str::contains(
            r#"with " initrd=initrd" removed (1 occurrence(s))"#,
        ))
        .stderr(predicate::str::contains(": equal"));
}

#[test]
fn measure_attestation_of_an_altered_vcpu_count_says_different_and_exits_1() {
    let d = tempfile::tempdir().unwrap();
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx("blyss/attestation-2024-01.json")).unwrap())
            .unwrap();
    v["cpu_attestation"]["launch"]["num_vcpus"] = 4.into();
    let p = d.path().join("altered.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = bin()
        .args(["measure", "--attestation"])
        .arg(&p)
        .args(["--protocol", "v0.0.1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_ne!(out.trim(), MEASUREMENT_2024_01);
    assert!(String::from_utf8_lossy(&o.stderr).contains("DIFFERENT"));
}

#[test]
fn bare_measure_names_every_firmware_alternative() {
    bin()
        .arg("measure")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--descriptor"))
        .stderr(predicate::str::contains("--attestation"));
}

// ---- item 6: errors with a way forward ----

#[test]
fn auditing_an_attestation_json_suggests_collect_attestation() {
    bin()
        .arg("audit")
        .arg(fx("blyss/attestation-2024-01.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("hint:"))
        .stderr(predicate::str::contains("collect --attestation"));
}

#[test]
fn a_date_without_time_names_the_expected_rfc3339_form() {
    bin()
        .args(["audit", &bundle_2024(), "--at", "2024-01-15"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("such as 2024-01-15T00:00:00Z"));
}

#[test]
fn json_into_a_missing_directory_names_that_directory_not_a_temp_file() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope");
    bin()
        .args(["audit", &bundle_2024(), "--scope", "attestation", "--json"])
        .arg(missing.join("r.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "directory {} does not exist",
            missing.display()
        )))
        .stderr(predicate::str::contains("nope/.tmp").not());
    assert!(!missing.exists());
}

#[test]
fn keygen_over_an_existing_key_refuses_once_with_a_force_hint_and_force_replaces() {
    let d = tempfile::tempdir().unwrap();
    let k = d.path().join("k.key");
    bin().arg("keygen").arg("-o").arg(&k).assert().code(0);
    let before = std::fs::read(&k).unwrap();
    let o = bin().arg("keygen").arg("-o").arg(&k).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("exist").count(), 1, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&k).unwrap(), before, "key overwritten");
    bin()
        .arg("keygen")
        .arg("-o")
        .arg(&k)
        .arg("--force")
        .assert()
        .code(0);
    assert_ne!(std::fs::read(&k).unwrap(), before);
}

// ---- item 7: no surprises ----

#[test]
fn keygen_into_a_missing_directory_refuses_and_creates_nothing() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nonexistent");
    bin()
        .arg("keygen")
        .arg("-o")
        .arg(missing.join("k.key"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    assert!(!missing.exists());
}

#[test]
fn no_redact_prints_a_notice_on_the_terminal_and_redacted_runs_do_not() {
    bin()
        .args([
            "audit",
            &bundle_2024(),
            "--scope",
            "attestation",
            "--no-redact",
            "-v",
        ])
        .assert()
        .stderr(predicate::str::contains("--no-redact"))
        .stderr(predicate::str::contains("NOT redacted"));
    bin()
        .args(["audit", &bundle_2024(), "--scope", "attestation", "-v"])
        .assert()
        .stderr(predicate::str::contains("NOT redacted").not());
}

#[cfg(unix)]
#[test]
fn redacted_reports_are_ordinary_files_unredacted_reports_and_keys_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let (j, h, m) = (
        d.path().join("r.json"),
        d.path().join("r.html"),
        d.path().join("r.md"),
    );
    bin()
        .args(["audit", &bundle_2024(), "--scope", "attestation", "--json"])
        .arg(&j)
        .arg("--html")
        .arg(&h)
        .arg("--markdown")
        .arg(&m)
        .assert()
        .code(0);
    // Readable by others (0644 under umask 022; whatever the umask, never 0600).
    for p in [&j, &h, &m] {
        assert_ne!(mode(p) & 0o044, 0, "{}: {:o}", p.display(), mode(p));
    }
    let s = d.path().join("s.json");
    bin()
        .args([
            "audit",
            &bundle_2024(),
            "--scope",
            "attestation",
            "--no-redact",
            "--json",
        ])
        .arg(&s)
        .assert()
        .code(0);
    assert_eq!(mode(&s), 0o600);
    let k = d.path().join("k.key");
    bin().arg("keygen").arg("-o").arg(&k).assert().code(0);
    assert_eq!(mode(&k), 0o600);
}

// ---- item 8: help text ----

#[test]
fn help_examples_are_never_wrapped_inside_a_command_even_on_a_narrow_terminal() {
    let o = bin()
        .args(["verify", "--help"])
        .env("COLUMNS", "40")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.contains("--keep blyss.zip --key ~/.config/blyss-evidence/collector.key\n"),
        "{s}"
    );
}

#[test]
fn audit_help_lists_the_exit_codes() {
    bin()
        .args(["audit", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Exit codes: 0 audit passed, 1 audit failed",
        ))
        .stdout(predicate::str::contains("2 could not audit"));
}

#[test]
fn trust_show_gives_the_mozilla_roots_a_digest_and_has_an_example() {
    let o = bin().args(["trust", "show"]).output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    let line = s
        .lines()
        .find(|l| l.starts_with("tls.mozilla-roots"))
        .unwrap();
    let digest = line.split_whitespace().nth(1).unwrap();
    assert_eq!(digest.len(), 64, "{line}");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
    assert_eq!(digest, blyss_evidence::trust::mozilla_roots_digest());
    bin()
        .args(["trust", "show", "--help"])
        .assert()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains(
            "blyss-evidence trust show --trust",
        ));
}

#[test]
fn attribution_lists_each_fixture_row_once() {
    let t = std::fs::read_to_string(fx("ATTRIBUTION.md")).unwrap();
    let rows: Vec<&str> = t.lines().filter(|l| l.starts_with("| `")).collect();
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        assert!(seen.insert(*r), "duplicate row: {r}");
    }
    assert!(rows.len() > 5);
}

// ---- item 9: one rule for report-schema evolution ----

#[test]
fn the_published_schema_accepts_a_later_v1_report_with_an_added_field() {
    use crate::common::report::{published_schema_errors, schema_errors};
    let mut v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/snapshots/blyss-2024-01-full.json")).unwrap(),
    )
    .unwrap();
    assert!(published_schema_errors(&v).is_empty());
    v["a_field_added_later_in_v1"] = serde_json::json!({"x": 1});
    v["checks"][0]["another_added_field"] = serde_json::json!(true);
    // What a consumer validating with the published schema sees: accepted.
    assert!(
        published_schema_errors(&v).is_empty(),
        "{:?}",
        published_schema_errors(&v)
    );
    // The project's strict reading still refuses the undocumented fields.
    assert!(!schema_errors(&v).is_empty());
    // The published schema is not vacuous: a wrong status is still refused.
    v["checks"][0]["status"] = "ok".into();
    assert!(!published_schema_errors(&v).is_empty());
}

#[test]
fn declared_is_an_evaluation_time_source_of_schema_v1_and_unknown_sources_are_not() {
    use crate::common::report::published_schema_errors;
    let mut v: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/snapshots/blyss-2024-01-full.json")).unwrap(),
    )
    .unwrap();
    v["evaluation_time_source"] = "declared".into();
    assert!(published_schema_errors(&v).is_empty());
    v["evaluation_time_source"] = "guessed".into();
    assert!(!published_schema_errors(&v).is_empty());
}

// ---- item 9: the DSSE keyid, verified by a third-party library ----

const FIXTURE_KEYID: &str = "b244c7ca5b5ba3d7508a0515877b8ff65f6c72f9c04336d890f95c62b7325729";

/// Runs scripts/verify-dsse.py (pyca/cryptography). python3 with
/// `cryptography` is required: the test fails, never skips, without it.
fn verify_dsse_py(bundle: &Path, keyid: &str) -> std::process::Output {
    let o = std::process::Command::new("python3")
        .arg(root().join("scripts/verify-dsse.py"))
        .arg(bundle)
        .arg(keyid)
        .output()
        .expect("python3 is required for the DSSE cross-check");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("ModuleNotFoundError"),
        "the DSSE cross-check needs pyca/cryptography (pip install cryptography): {err}"
    );
    o
}

#[test]
fn a_third_party_library_verifies_the_dsse_signature_with_the_spki_keyid() {
    let b = fx("bundles/blyss-2024-01.zip");
    let o = verify_dsse_py(&b, FIXTURE_KEYID);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The keyid the audit pins is the one that verifies.
    let pem = std::fs::read_to_string(fx("keys/fixture-collector.key.pub")).unwrap();
    let key = blyss_evidence::bundle::keys::parse_public(&pem, "fixture").unwrap();
    assert_eq!(
        blyss_evidence::bundle::keys::fingerprint(&key),
        FIXTURE_KEYID
    );
}

#[test]
fn the_third_party_check_refuses_another_keyid_and_an_altered_signature() {
    let b = fx("bundles/blyss-2024-01.zip");
    assert_eq!(verify_dsse_py(&b, &"00".repeat(32)).status.code(), Some(1));
    // Same bundle, one signature byte changed.
    let d = tempfile::tempdir().unwrap();
    let altered = d.path().join("altered.zip");
    let mut zin = zip::ZipArchive::new(std::fs::File::open(&b).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(&altered).unwrap());
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        if name == "envelope.dsse.json" {
            let mut env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            use base64::Engine as _;
            let e = base64::engine::general_purpose::STANDARD;
            let mut sig = e
                .decode(env["signatures"][0]["sig"].as_str().unwrap())
                .unwrap();
            let last = sig.len() - 1;
            sig[last] ^= 1;
            env["signatures"][0]["sig"] = e.encode(sig).into();
            bytes = serde_json::to_vec(&env).unwrap();
        }
        zout.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zout, &bytes).unwrap();
    }
    zout.finish().unwrap();
    let o = verify_dsse_py(&altered, FIXTURE_KEYID);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
