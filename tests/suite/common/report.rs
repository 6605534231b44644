//! Report test support: JSON-Schema validation of reports, report
//! invariants, running the real binary, and building altered bundles.
//!
//! Every test that writes a JSON report should pass it through
//! [`assert_valid_report_file`] (or [`assert_valid_report_json`]): it
//! validates against `protocol/report.schema.json` and checks the invariants
//! the schema cannot express (verdict consistent with the results, family
//! counts, redaction, …).

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;

/// The token in the real Blyss kernel command line
/// (fixtures/blyss/attestation-2024-01.json). It must appear in no output.
pub const HF_TOKEN: &str = "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";

/// The report JSON Schema, as committed.
pub const SCHEMA: &str = include_str!("../../../protocol/report.schema.json");

/// Fixed audit clock for reproducible outputs (2024-02-01T00:00:00Z).
pub const EPOCH: &str = "1706745600";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join(rel)
}

pub const BUNDLE_2024: &str = "fixtures/bundles/blyss-2024-01.zip";
pub const BUNDLE_2023: &str = "fixtures/bundles/blyss-2023-12.zip";
pub const SIGNER_PUB: &str = "fixtures/keys/fixture-collector.key.pub";
pub const SIGNER_KEY: &str = "fixtures/keys/fixture-collector.key";

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
        jsonschema::draft202012::new(&strict(schema)).expect("schema compiles")
    })
}

/// The project's strict reading of the published schema: every
/// `additionalProperties: true` made `false`, so that the tool's own reports
/// carry no undocumented field (the published schema lets consumers accept
/// fields added later in version 1: protocol/report-schema.md).
pub fn strict(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.get("additionalProperties") == Some(&Value::Bool(true)) {
                    m.insert("additionalProperties".into(), Value::Bool(false));
                }
                m.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Errors of a JSON value under the schema exactly as published (what a
/// consumer's validator reads).
pub fn published_schema_errors(v: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let val = jsonschema::draft202012::new(&schema).expect("schema compiles");
    val.iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Schema errors of a JSON value (empty when valid), strict reading.
pub fn schema_errors(v: &Value) -> Vec<String> {
    validator()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Invariants the schema cannot express. Returns the violations.
pub fn invariant_errors(v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let empty = Vec::new();
    let checks = v["checks"].as_array().unwrap_or(&empty);
    let families = v["families"].as_array().unwrap_or(&empty);
    let s = |x: &Value| x.as_str().unwrap_or_default().to_string();

    // Each check's family is the part of its id before the first dot, and
    // appears in the family summaries.
    for c in checks {
        let id = s(&c["id"]);
        let fam = s(&c["family"]);
        if id.split('.').next() != Some(fam.as_str()) {
            errs.push(format!("check {id}: family {fam:?} is not its id prefix"));
        }
        if !families.iter().any(|f| f["family"] == c["family"]) {
            errs.push(format!("check {id}: family {fam:?} has no summary"));
        }
    }
    // Family summaries are unique and count their checks.
    let mut seen = Vec::new();
    for f in families {
        let fam = s(&f["family"]);
        if seen.contains(&fam) {
            errs.push(format!("family {fam} summarised twice"));
        }
        seen.push(fam.clone());
        let of = |st: &str| {
            checks
                .iter()
                .filter(|c| c["family"] == f["family"] && c["status"] == st)
                .count() as u64
        };
        for (key, st) in [
            ("passed", "pass"),
            ("failed", "fail"),
            ("warnings", "warn"),
            ("not_applicable", "not-applicable"),
        ] {
            if f[key].as_u64() != Some(of(st)) {
                errs.push(format!(
                    "family {fam}: {key} = {} but {} checks are {st}",
                    f[key],
                    of(st)
                ));
            }
        }
    }
    // Verdict: FAIL exactly when a required check failed, and lists them.
    let failed: Vec<Value> = checks
        .iter()
        .filter(|c| c["required"] == true && c["status"] == "fail")
        .map(|c| c["id"].clone())
        .collect();
    let verdict = &v["verdict"];
    let want_status = if failed.is_empty() { "pass" } else { "fail" };
    if verdict["status"] != want_status {
        errs.push(format!(
            "verdict.status {} but {} required checks failed",
            verdict["status"],
            failed.len()
        ));
    }
    if verdict["failed_required"].as_array() != Some(&failed) {
        errs.push(format!(
            "verdict.failed_required {} != failed required checks {:?}",
            verdict["failed_required"], failed
        ));
    }
    let nonprod = v["trust"]["production"] == false;
    if verdict["non_production_trust"] != nonprod {
        errs.push("verdict.non_production_trust disagrees with trust.production".into());
    }
    let label = s(&verdict["label"]);
    let base = match (want_status, s(&v["scope"]).as_str()) {
        ("fail", _) => "FAIL",
        (_, "attestation") => "PASS (attestation only)",
        _ => "PASS",
    };
    let want_label = if nonprod {
        format!("{base} — NON-PRODUCTION TRUST")
    } else {
        base.to_string()
    };
    if label != want_label {
        errs.push(format!("verdict.label {label:?}, expected {want_label:?}"));
    }
    // Facts are lifted from `fact:` details.
    if let Some(facts) = v["facts"].as_object() {
        for k in facts.keys() {
            let key = format!("fact:{k}");
            if !checks.iter().any(|c| c["details"].get(&key).is_some()) {
                errs.push(format!("fact {k} comes from no check detail"));
            }
        }
    }
    // A redacted report carries no Hugging Face token.
    if v["redacted"] == true {
        let text = v.to_string();
        if text.contains(&HF_TOKEN[4..]) {
            errs.push("redacted report contains the Hugging Face token".into());
        }
    }
    errs
}

/// Validates a report (schema + invariants), panicking with every problem.
pub fn assert_valid_report_json(json: &str) -> Value {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("report is not JSON: {e}"));
    let mut errs = schema_errors(&v);
    errs.extend(invariant_errors(&v));
    assert!(
        errs.is_empty(),
        "report does not conform to protocol/report.schema.json:\n  {}",
        errs.join("\n  ")
    );
    v
}

/// Reads and validates a JSON report file.
pub fn assert_valid_report_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read report {}: {e}", path.display()));
    assert_valid_report_json(&text)
}

/// The binary, run from the repository root with a fixed audit clock.
pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_blyss-evidence"));
    c.current_dir(root()).env("SOURCE_DATE_EPOCH", EPOCH);
    c
}

/// Runs the binary with `args`; returns its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

/// Exit code of an output (panics on a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Copies a bundle, letting `edit` change (Some(new bytes)) or drop (None)
/// each entry, then appending `extra` entries. The result is a well-formed
/// zip whose evidence no longer matches its signature (or does, if `edit`
/// changes nothing): altered evidence, not structural damage.
pub fn rewrite_bundle(
    src: &Path,
    dst: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
) {
    // Through the project's writer: the bundle container admits one layout
    // (sorted names, fixed fields), so a third-party zip writer's output
    // would be structural damage (exit 2), not altered evidence.
    let bytes = std::fs::read(src).unwrap();
    let mut m = std::collections::BTreeMap::new();
    for e in blyss_evidence::bundle::container::read(&bytes).unwrap() {
        if let Some(d) = edit(&e.name, e.data) {
            m.insert(e.name, d);
        }
    }
    for (name, data) in extra {
        m.insert(name.to_string(), data.to_vec());
    }
    let r: std::collections::BTreeMap<String, &[u8]> =
        m.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect();
    std::fs::write(dst, blyss_evidence::bundle::write_zip(&r).unwrap()).unwrap();
}

/// Writes a minimal non-production trust file (no anchors) into `dir`.
pub fn empty_trust_file(dir: &Path) -> PathBuf {
    let p = dir.join("test-only-empty.trust.json");
    std::fs::write(
        &p,
        r#"{"schema":"blyss-evidence.trust/v1","name":"test-only-empty","version":"1"}"#,
    )
    .unwrap();
    p
}

/// One audit the report tests run: a name (used for output files) and the
/// arguments after `audit`.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub args: Vec<String>,
    /// The exit code the audit must have; `None`: 0 or 1 (real bundles, whose
    /// verdict depends on which check families have landed), never 2.
    pub expect: Option<i32>,
}

/// The outputs of one audit run.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: String,
    pub html: String,
    pub md: String,
}

impl Outputs {
    /// Every output, labelled, for "appears nowhere" assertions.
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("stdout", &self.stdout),
            ("stderr", &self.stderr),
            ("json", &self.json),
            ("html", &self.html),
            ("markdown", &self.md),
        ]
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Builds the altered bundles in `dir` and returns every scenario: both real
/// bundles, several failing ones, a non-production trust set, `--no-redact`,
/// other protocols and `--at`.
pub fn scenarios(dir: &Path) -> Vec<Scenario> {
    let src = fixture(BUNDLE_2024);
    let altered = dir.join("altered-member_fail.zip");
    rewrite_bundle(
        &src,
        &altered,
        |name, mut d| {
            if name == "evidence/attestation.json" {
                if let Some(b) = d.iter_mut().find(|b| b.is_ascii_digit()) {
                    *b = if *b == b'0' { b'1' } else { b'0' };
                }
            }
            Some(d)
        },
        &[],
    );
    let added = dir.join("added-member_fail.zip");
    rewrite_bundle(
        &src,
        &added,
        |_, d| Some(d),
        &[("evidence/extra.txt", b"not signed")],
    );
    let removed = dir.join("removed-member_fail.zip");
    rewrite_bundle(
        &src,
        &removed,
        |name, d| (name != "evidence/attestation.json").then_some(d),
        &[],
    );
    let trust = empty_trust_file(dir);
    let p = |x: &Path| x.display().to_string();
    vec![
        Scenario {
            name: "blyss-2024-01-attestation",
            args: s(&[
                BUNDLE_2024,
                "--scope",
                "attestation",
                "--signer",
                SIGNER_PUB,
            ]),
            expect: None,
        },
        Scenario {
            name: "blyss-2023-12-attestation",
            args: s(&[
                BUNDLE_2023,
                "--scope",
                "attestation",
                "--signer",
                SIGNER_PUB,
                "--protocol",
                "v0.0.1-test",
            ]),
            expect: None,
        },
        Scenario {
            name: "blyss-2024-01-full",
            args: s(&[BUNDLE_2024]),
            expect: None,
        },
        Scenario {
            name: "blyss-2024-01-v0.0.2",
            args: s(&[BUNDLE_2024, "--protocol", "v0.0.2", "--signer", SIGNER_PUB]),
            expect: None,
        },
        Scenario {
            name: "blyss-2024-01-snp-only",
            args: s(&[
                BUNDLE_2024,
                "--protocol",
                "snp-only",
                "--signer",
                SIGNER_PUB,
            ]),
            expect: None,
        },
        Scenario {
            name: "blyss-2024-01-at-2031",
            args: s(&[
                BUNDLE_2024,
                "--scope",
                "attestation",
                "--at",
                "2031-01-01T00:00:00Z",
            ]),
            expect: None,
        },
        Scenario {
            name: "altered-member_fail",
            args: vec![p(&altered), "--signer".into(), SIGNER_PUB.into()],
            expect: Some(1),
        },
        Scenario {
            name: "added-member_fail",
            args: vec![p(&added), "--signer".into(), SIGNER_PUB.into()],
            expect: Some(1),
        },
        Scenario {
            name: "removed-member_fail",
            args: vec![p(&removed), "--signer".into(), SIGNER_PUB.into()],
            expect: Some(1),
        },
        Scenario {
            name: "wrong-signer_fail",
            args: s(&[BUNDLE_2024, "--signer", &"ab".repeat(32)]),
            expect: Some(1),
        },
        Scenario {
            name: "non-production-trust",
            args: vec![
                BUNDLE_2024.into(),
                "--scope".into(),
                "attestation".into(),
                "--signer".into(),
                SIGNER_PUB.into(),
                "--trust".into(),
                p(&trust),
            ],
            expect: None,
        },
        Scenario {
            name: "no-redact",
            args: s(&[BUNDLE_2024, "--scope", "attestation", "--no-redact"]),
            expect: None,
        },
    ]
}

/// Runs `audit <args> --json --html --markdown -v` writing into `out` as
/// `<name>.json|html|md`, and returns every output.
pub fn run_scenario(sc: &Scenario, out: &Path) -> Outputs {
    let json = out.join(format!("{}.json", sc.name));
    let html = out.join(format!("{}.html", sc.name));
    let md = out.join(format!("{}.md", sc.name));
    let mut args: Vec<String> = vec!["audit".into()];
    args.extend(sc.args.iter().cloned());
    for (flag, path) in [("--json", &json), ("--html", &html), ("--markdown", &md)] {
        args.push(flag.into());
        args.push(path.display().to_string());
    }
    args.push("-v".into());
    let o = bin().args(&args).output().expect("binary runs");
    let c = code(&o);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    match sc.expect {
        Some(want) => assert_eq!(c, want, "{}: exit code; stderr: {stderr}", sc.name),
        None => assert!(
            c == 0 || c == 1,
            "{}: could not audit ({c}): {stderr}",
            sc.name
        ),
    }
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {}: {e}", sc.name, p.display()))
    };
    Outputs {
        code: c,
        stdout: String::from_utf8_lossy(&o.stdout).to_string(),
        stderr,
        json: read(&json),
        html: read(&html),
        md: read(&md),
    }
}

/// Static scan of an HTML page for anything that would make a browser
/// fetch a resource from outside the page. Returns the offending snippets.
pub fn external_references(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut flag = |needle: &str, ok: &dyn Fn(&str) -> bool| {
        for (i, _) in lower.match_indices(needle) {
            let tail: String = lower[i + needle.len()..].chars().take(80).collect();
            if !ok(&tail) {
                let snippet: String = lower[i..].chars().take(80).collect();
                found.push(snippet);
            }
        }
    };
    // URLs anywhere in markup or CSS (escaped text shows `&#x2f;` for `/`).
    flag("http://", &|_| false);
    flag("https://", &|_| false);
    // Attributes that load things: only same-page fragments are allowed.
    for attr in [
        "src=",
        "href=",
        "srcset=",
        "action=",
        "formaction=",
        "poster=",
        "data=",
        "background=",
    ] {
        flag(&format!(" {attr}"), &|t| {
            t.starts_with("\"#") || t.starts_with("'#")
        });
    }
    for needle in [
        "@import",
        "url(",
        "<link",
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "<img",
        "<base",
        "http-equiv=\"refresh\"",
    ] {
        flag(needle, &|_| false);
    }
    found
}
