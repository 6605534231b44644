//! The JSON report contract: `protocol/report.schema.json` is a valid
//! JSON Schema, it rejects what it should, and every report the scenarios
//! produce (real bundles, failing bundles, a non-production trust set,
//! `--no-redact`, other protocols) validates against it and its invariants.

use crate::common;

use common::report::*;
use serde_json::{json, Value};

/// A named change to a valid report.
type Mutation = Box<dyn Fn(&mut Value)>;

fn sample() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("r.json");
    let o = run(&[
        "audit",
        BUNDLE_2024,
        "--scope",
        "attestation",
        "--signer",
        SIGNER_PUB,
        "--json",
        j.to_str().unwrap(),
    ]);
    assert_ne!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert_valid_report_file(&j)
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    assert!(jsonschema::meta::is_valid(&schema));
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn schema_rejects_reports_that_break_the_contract() {
    let good = sample();
    assert!(schema_errors(&good).is_empty());
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "schema_version 2",
            Box::new(|v| v["schema_version"] = json!(2)),
        ),
        (
            "undocumented top-level field",
            Box::new(|v| v["extra"] = json!(1)),
        ),
        (
            "missing verdict",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("verdict");
            }),
        ),
        (
            "unknown check status",
            Box::new(|v| v["checks"][0]["status"] = json!("ok")),
        ),
        (
            "check id not kebab-case",
            Box::new(|v| v["checks"][0]["id"] = json!("Bundle_Signature")),
        ),
        (
            "check without spec",
            Box::new(|v| v["checks"][0]["spec"] = json!("")),
        ),
        (
            "bundle sha256 not hex",
            Box::new(|v| v["bundle"]["sha256"] = json!("xyz")),
        ),
        (
            "evaluation time not UTC",
            Box::new(|v| v["evaluation_time"] = json!("2024-01-15T00:00:00+01:00")),
        ),
        (
            "unknown verdict label",
            Box::new(|v| v["verdict"]["label"] = json!("OK")),
        ),
        (
            "negative member size",
            Box::new(|v| v["bundle"]["members"][0]["size"] = json!(-1)),
        ),
        ("scope unknown", Box::new(|v| v["scope"] = json!("partial"))),
    ];
    for (what, f) in cases {
        let mut v = good.clone();
        f(&mut v);
        assert!(
            !schema_errors(&v).is_empty(),
            "schema accepted a report with {what}"
        );
    }
}

#[test]
fn invariants_reject_inconsistent_reports() {
    let good = sample();
    assert!(
        invariant_errors(&good).is_empty(),
        "{:?}",
        invariant_errors(&good)
    );
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "verdict pass with a failed required check",
            Box::new(|v| {
                v["checks"][0]["status"] = json!("fail");
                v["checks"][0]["required"] = json!(true);
            }),
        ),
        (
            "wrong family counts",
            Box::new(|v| v["families"][0]["passed"] = json!(99)),
        ),
        (
            "family not the id prefix",
            Box::new(|v| v["checks"][0]["family"] = json!("amd")),
        ),
        (
            "non-production not in label",
            Box::new(|v| v["trust"]["production"] = json!(false)),
        ),
        (
            "fact from nowhere",
            Box::new(|v| v["facts"]["made.up"] = json!(1)),
        ),
        (
            "token in a redacted report",
            Box::new(|v| v["checks"][0]["summary"] = json!(HF_TOKEN)),
        ),
    ];
    for (what, f) in cases {
        let mut v = good.clone();
        f(&mut v);
        assert!(
            !invariant_errors(&v).is_empty(),
            "invariants accepted {what}"
        );
    }
}

#[test]
fn every_scenario_report_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut verdicts = Vec::new();
    for sc in scenarios(dir.path()) {
        let out = run_scenario(&sc, dir.path());
        let v = assert_valid_report_json(&out.json);
        verdicts.push((sc.name, v["verdict"]["label"].as_str().unwrap().to_string()));
        if let Some(1) = sc.expect {
            assert_eq!(v["verdict"]["status"], "fail", "{}", sc.name);
        }
        if sc.name == "non-production-trust" {
            assert_eq!(v["trust"]["production"], false);
            assert!(v["verdict"]["label"]
                .as_str()
                .unwrap()
                .ends_with("NON-PRODUCTION TRUST"));
        }
        if sc.name == "no-redact" {
            assert_eq!(v["redacted"], false);
        }
    }
    // Both outcomes are covered.
    assert!(
        verdicts.iter().any(|(_, l)| l.starts_with("FAIL")),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().any(|(_, l)| l.starts_with("PASS")),
        "{verdicts:?}"
    );
}

#[test]
fn report_render_reproduces_the_audit_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    for sc in scenarios(dir.path()).into_iter().filter(|s| {
        [
            "blyss-2024-01-attestation",
            "altered-member_fail",
            "non-production-trust",
        ]
        .contains(&s.name)
    }) {
        let out = run_scenario(&sc, dir.path());
        let json = dir.path().join(format!("{}.json", sc.name));
        let html = dir.path().join("re.html");
        let md = dir.path().join("re.md");
        let o = run(&[
            "report",
            "render",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), out.code, "render exits with the saved verdict");
        // Each rendering says it was re-rendered, not re-audited; apart
        // from that one notice the bytes are the audit's.
        let re_html = std::fs::read_to_string(&html).unwrap();
        let re_md = std::fs::read_to_string(&md).unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.starts_with("re-rendered from the saved report"),
            "{stdout}"
        );
        let html_note: Vec<&str> = re_html
            .lines()
            .filter(|l| l.contains("Re-rendered, not re-audited."))
            .collect();
        assert_eq!(html_note.len(), 1, "{}", sc.name);
        assert_eq!(
            re_html.replacen(&format!("{}\n", html_note[0]), "", 1),
            out.html,
            "{}",
            sc.name
        );
        let start = re_md
            .find("> [!NOTE]\n> re-rendered from the saved report")
            .unwrap();
        let end = start + re_md[start..].find("\n\n").unwrap() + 2;
        assert_eq!(
            format!("{}{}", &re_md[..start], &re_md[end..]),
            out.md,
            "{}",
            sc.name
        );
    }
}

#[test]
fn report_render_rejects_bad_input_with_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let html = dir.path().join("out.html");
    for (content, why) in [
        ("not json", "is not a report"),
        (r#"{"schema_version": 2}"#, "is not a report"),
    ] {
        std::fs::write(&bad, content).unwrap();
        let o = run(&[
            "report",
            "render",
            bad.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 2);
        assert!(String::from_utf8_lossy(&o.stderr).contains(why));
        assert!(!html.exists());
    }
    let mut v = sample();
    v["schema_version"] = json!(2);
    std::fs::write(&bad, v.to_string()).unwrap();
    let o = run(&[
        "report",
        "render",
        bad.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("schema_version 2 is not supported"));
    let o = run(&["report", "render", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "nothing to render is an error");
}
