//! `collect --observed-at` (issue 14 item 1): an offline import of a
//! document saved long ago declares when it was observed; the statement
//! (v2) records the claim as DECLARED, the audit judges validity periods at
//! it with evaluation-time source `declared`, and every output says the time
//! was claimed by the importer, not observed. A failure caused by time names
//! the options that change the evaluation time.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::report::{assert_valid_report_file, code, fixture, SIGNER_KEY, SIGNER_PUB};

/// 2026-12-01T00:00:00Z: after the NVIDIA RIM signers of the 2024-01
/// document expired (2025), so an import judged at its import time fails.
const IMPORT_CLOCK: &str = "1796083200";
const DOCUMENT: &str = "fixtures/blyss/attestation-2024-01.json";

fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_blyss-evidence"));
    c.current_dir(crate::common::report::root())
        .env("SOURCE_DATE_EPOCH", IMPORT_CLOCK)
        .env_remove("XDG_CONFIG_HOME");
    c
}

fn import(dir: &Path, observed_at: Option<&str>) -> PathBuf {
    let out = dir.join("i.zip");
    let mut c = bin();
    c.args([
        "collect",
        "--attestation",
        DOCUMENT,
        "--key",
        SIGNER_KEY,
        "-o",
    ])
    .arg(&out);
    if let Some(t) = observed_at {
        c.args(["--observed-at", t]);
    }
    let o = c.output().unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn audit(bundle: &Path, extra: &[&str]) -> (Output, serde_json::Value, String, String) {
    let json = bundle.with_extension("json");
    let md = bundle.with_extension("md");
    let html = bundle.with_extension("html");
    let o = bin()
        .arg("audit")
        .arg(bundle)
        .args(["--scope", "attestation", "--signer", SIGNER_PUB, "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--html")
        .arg(&html)
        .args(extra)
        .output()
        .unwrap();
    let v = assert_valid_report_file(&json);
    (
        o,
        v,
        std::fs::read_to_string(md).unwrap(),
        std::fs::read_to_string(html).unwrap(),
    )
}

fn check<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn readme_import_with_observed_at_passes_and_every_output_says_the_time_was_declared() {
    let dir = tempfile::tempdir().unwrap();
    let b = import(dir.path(), Some("2024-01-15T00:00:00Z"));

    let bundle = blyss_evidence::bundle::Bundle::open(&b).unwrap();
    let p = &bundle.statement.predicate;
    assert_eq!(
        bundle.statement.predicate_type,
        "https://blyss-evidence.dev/collection/v2"
    );
    assert_eq!(
        p.declared_observed_at.as_deref(),
        Some("2024-01-15T00:00:00Z")
    );
    // The witnessed import time stays what it was: the claim is separate.
    assert_eq!(p.started_at, "2026-12-01T00:00:00Z");

    let (o, v, md, html) = audit(&b, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(code(&o), 0, "{stdout}");
    assert_eq!(v["evaluation_time"], "2024-01-15T00:00:00Z");
    assert_eq!(v["evaluation_time_source"], "declared");
    assert_eq!(check(&v, "gpu.rim-signature")["status"], "pass");
    let coll = check(&v, "bundle.collection");
    assert_eq!(
        coll["status"], "warn",
        "a declared time is never a plain pass"
    );
    assert!(coll["summary"].as_str().unwrap().contains("DECLARED"));
    assert!(stdout.contains("DECLARED by whoever imported"), "{stdout}");
    assert!(md.contains("DECLARED by whoever imported"), "{md}");
    assert!(html.contains("declared by the importer, not observed"));
    assert!(html.contains("Evaluation time declared, not observed."));

    // The README's line exactly: no --signer (bundle.signature then warns).
    let o = bin()
        .arg("audit")
        .arg(&b)
        .args(["--scope", "attestation"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn import_judged_at_import_time_fails_on_expired_rim_signers_and_names_the_time_options() {
    let dir = tempfile::tempdir().unwrap();
    let b = import(dir.path(), None);
    let (o, v, _, _) = audit(&b, &[]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(v["evaluation_time_source"], "bundle");
    let rim = check(&v, "gpu.rim-signature");
    assert_eq!(rim["status"], "fail");
    let s = rim["summary"].as_str().unwrap();
    assert!(s.contains("expired"), "{s}");
    assert!(
        s.contains("audit --at") && s.contains("collect --observed-at"),
        "{s}"
    );
    assert_eq!(rim["details"]["time_dependent"], true);
    // A failure that is not about time gets no such hint.
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" && c["id"] != "gpu.rim-signature")
        .all(|c| c["details"]["time_dependent"].is_null()
            || c["summary"].as_str().unwrap().contains("expired")));
}

#[test]
fn at_option_overrides_the_declared_observation_time() {
    let dir = tempfile::tempdir().unwrap();
    let b = import(dir.path(), Some("2024-01-15T00:00:00Z"));
    let (o, v, _, _) = audit(&b, &["--at", "2026-11-30T00:00:00Z"]);
    assert_eq!(code(&o), 1);
    assert_eq!(v["evaluation_time_source"], "option");
    assert_eq!(v["evaluation_time"], "2026-11-30T00:00:00Z");
    let s = check(&v, "gpu.rim-signature")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(s.contains("given with --at"), "{s}");
}

#[test]
fn observed_at_refuses_offsets_fractions_future_times_and_online_collection() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "2024-01-15T00:00:00+14:00",
        "2024-01-15T00:00:00.5Z",
        "2024-01-15",
        "2030-01-01T00:00:00Z",
    ] {
        let o = bin()
            .args(["collect", "--attestation", DOCUMENT, "--key", SIGNER_KEY])
            .args(["--observed-at", bad, "-o"])
            .arg(dir.path().join("x.zip"))
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--observed-at"), "{bad}: {err}");
        assert!(!dir.path().join("x.zip").exists(), "{bad}: no bundle");
    }
    let o = bin()
        .args(["collect", "https://127.0.0.1:1", "--key", SIGNER_KEY])
        .args(["--observed-at", "2024-01-15T00:00:00Z", "-o"])
        .arg(dir.path().join("y.zip"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("offline imports"));
}

#[test]
fn statement_version_check_refuses_v2_fields_in_v1_and_unknown_versions() {
    // A v1 statement must not carry v2 fields: re-sign the 2024 fixture's
    // statement as v1 with a declared time added.
    let src = fixture("fixtures/bundles/blyss-2024-01.zip");
    let b = blyss_evidence::bundle::Bundle::open(&src).unwrap();
    let mut st = b.statement.clone();
    st.predicate_type = "https://blyss-evidence.dev/collection/v1".into();
    st.predicate.declared_observed_at = Some("2024-01-15T00:00:00Z".into());
    assert!(st
        .version_problem()
        .is_some_and(|p| p.contains("declared_observed_at")));
    st.predicate.declared_observed_at = None;
    assert_eq!(st.version_problem(), None, "plain v1 stays auditable");
    st.predicate_type = "https://blyss-evidence.dev/collection/v3".into();
    assert!(st.version_problem().is_some(), "unknown version refused");
}

/// Re-signs `src`'s statement, edited by `edit`, with the fixture key into
/// `dst` (the zip is rewritten by the shared test helper).
fn resign(src: &Path, dst: &Path, edit: impl Fn(&mut blyss_evidence::bundle::format::Statement)) {
    use blyss_evidence::bundle::{dsse, format, keys};
    let b = blyss_evidence::bundle::Bundle::open(src).unwrap();
    let mut st = b.statement.clone();
    edit(&mut st);
    let key = keys::load_private(&fixture(SIGNER_KEY)).unwrap();
    let env = dsse::sign(
        format::PAYLOAD_TYPE,
        &serde_json::to_vec(&st).unwrap(),
        &key,
    );
    let mut env_bytes = serde_json::to_vec_pretty(&env).unwrap();
    env_bytes.push(b'\n');
    crate::common::report::rewrite_bundle(
        src,
        dst,
        |name, data| {
            Some(if name == format::ENVELOPE_PATH {
                env_bytes.clone()
            } else {
                data
            })
        },
        &[],
    );
}

#[test]
fn v1_bundles_are_still_audited_and_a_v1_statement_with_v2_fields_fails_bundle_signature() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = import(dir.path(), None);
    let v1 = dir.path().join("v1.zip");
    resign(&v2, &v1, |st| {
        st.predicate_type = "https://blyss-evidence.dev/collection/v1".into();
    });
    let (o, v, _, _) = audit(&v1, &["--at", "2024-01-15T00:00:00Z"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(check(&v, "bundle.signature")["status"], "pass");
    let c = check(&v, "bundle.collection");
    assert_eq!(c["status"], "warn");
    assert!(c["summary"].as_str().unwrap().contains("statement v1"));

    let forged = dir.path().join("forged.zip");
    resign(&v2, &forged, |st| {
        st.predicate_type = "https://blyss-evidence.dev/collection/v1".into();
        st.predicate.declared_observed_at = Some("2024-01-15T00:00:00Z".into());
    });
    let (o, v, _, _) = audit(&forged, &[]);
    assert_eq!(code(&o), 1);
    let s = check(&v, "bundle.signature");
    assert_eq!(s["status"], "fail");
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .contains("carries fields of v2: declared_observed_at"),
        "{s}"
    );
}
