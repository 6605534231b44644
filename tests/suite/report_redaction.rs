//! Secrets stay out of reports (issue 8 §4): the Hugging Face token in the
//! real Blyss command line appears in no output (JSON, HTML, Markdown,
//! terminal with -v, stderr, re-rendered reports) of any scenario, and
//! `--no-redact` is recorded in the report.
//!
//! A canary bundle carries the same token in its signed target URL and in
//! its file name, which every output shows: it proves the redaction is live
//! end to end (with `--no-redact` the token does appear), whatever the check
//! families print.

use crate::common;

use common::report::*;

/// Every 10-character window of the token after the kept prefix `hf_R`.
fn token_fragments() -> Vec<&'static str> {
    (4..=HF_TOKEN.len() - 10)
        .map(|i| &HF_TOKEN[i..i + 10])
        .collect()
}

fn assert_no_token(what: &str, outs: &Outputs) {
    for (name, text) in outs.all() {
        for frag in token_fragments() {
            assert!(
                !text.contains(frag),
                "{what}: {name} contains part of the token ({frag})"
            );
        }
    }
}

#[test]
fn hf_token_appears_in_no_output_of_any_scenario() {
    let dir = tempfile::tempdir().unwrap();
    for sc in scenarios(dir.path()) {
        if sc.name == "no-redact" {
            continue;
        }
        let outs = run_scenario(&sc, dir.path());
        assert_no_token(sc.name, &outs);
        let v = assert_valid_report_json(&outs.json);
        assert_eq!(v["redacted"], true, "{}", sc.name);
    }
}

/// Builds the canary bundle (real attestation, token in target and name).
fn canary(dir: &std::path::Path) -> std::path::PathBuf {
    let bundle = dir.join(format!("canary-{HF_TOKEN}.zip"));
    let target = format!("https://enclave.blyss.dev/?HUGGING_FACE_HUB_TOKEN={HF_TOKEN}");
    let o = run(&[
        "collect",
        "--attestation",
        "fixtures/blyss/attestation-2024-01.json",
        "--target",
        &target,
        "--key",
        SIGNER_KEY,
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    bundle
}

fn canary_scenario(bundle: &std::path::Path, extra: &[&str]) -> Scenario {
    let mut args = vec![
        bundle.display().to_string(),
        "--scope".into(),
        "attestation".into(),
        "--signer".into(),
        SIGNER_PUB.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Scenario {
        name: "canary",
        args,
        expect: None,
    }
}

#[test]
fn canary_token_in_signed_target_and_file_name_is_redacted_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = canary(dir.path());
    let outs = run_scenario(&canary_scenario(&bundle, &[]), dir.path());
    assert_no_token("canary", &outs);
    // Redacted, not dropped: the masked form is shown where the value was.
    let v = assert_valid_report_json(&outs.json);
    assert_eq!(
        v["bundle"]["target"],
        "https://enclave.blyss.dev/?HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]"
    );
    assert_eq!(v["bundle"]["file_name"], "canary-hf_R…[redacted].zip");
    assert!(
        outs.stdout.contains("canary-hf_R…[redacted].zip"),
        "{}",
        outs.stdout
    );
    assert!(outs.html.contains("HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]"));
    assert!(
        outs.md.contains("canary-hf_R…[redacted].zip"),
        "{}",
        outs.md
    );
}

#[test]
fn no_redact_is_recorded_and_shows_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = canary(dir.path());
    let outs = run_scenario(&canary_scenario(&bundle, &["--no-redact"]), dir.path());
    let v = assert_valid_report_json(&outs.json);
    assert_eq!(v["redacted"], false);
    assert!(outs.json.contains(HF_TOKEN), "--no-redact shows the secret");
    assert!(outs.stdout.contains(HF_TOKEN));
    assert!(outs.html.contains("Secrets not redacted"));
    assert!(outs.html.contains("NOT redacted (--no-redact)"));
    assert!(outs.md.contains("Secrets not redacted"));
}

#[test]
fn re_rendering_a_report_whose_flag_says_redacted_scrubs_tokens_again() {
    // A saved report edited by hand (or written by a buggy version) that
    // claims to be redacted but carries a token: the renderers scrub it.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let o = run(&[
        "audit",
        BUNDLE_2024,
        "--scope",
        "attestation",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_ne!(code(&o), 2);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    v["checks"][0]["summary"] = format!("leaked HUGGING_FACE_HUB_TOKEN={HF_TOKEN}").into();
    v["bundle"]["target"] = format!("https://x.test/{HF_TOKEN}").into();
    std::fs::write(&json, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let html = dir.path().join("r.html");
    let md = dir.path().join("r.md");
    let o = run(&[
        "report",
        "render",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "-v",
    ]);
    assert_ne!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    let outs = Outputs {
        code: code(&o),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
        json: String::new(),
        html: std::fs::read_to_string(&html).unwrap(),
        md: std::fs::read_to_string(&md).unwrap(),
    };
    assert_no_token("re-render", &outs);
    assert!(outs.html.contains("HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]"));
}

#[test]
fn real_command_line_is_shown_redacted_and_only_no_redact_reveals_the_token() {
    // The real Blyss kernel command line reaches the report (the protocol
    // compliance checks print it); redaction masks the token in place.
    let dir = tempfile::tempdir().unwrap();
    let all = scenarios(dir.path());
    let get = |n: &str| all.iter().find(|s| s.name == n).unwrap().clone();
    let red = run_scenario(&get("blyss-2024-01-attestation"), dir.path());
    assert_no_token("real bundle", &red);
    let masked = "HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]";
    assert!(
        red.json.contains(masked),
        "the command line is in the JSON, masked"
    );
    assert!(red.html.contains(masked), "and in the HTML");
    assert!(red.stdout.contains(masked), "and in the -v terminal output");
    let open = run_scenario(&get("no-redact"), dir.path());
    assert!(
        open.json.contains(HF_TOKEN),
        "--no-redact shows the real token"
    );
    assert!(open.stdout.contains(HF_TOKEN));
    assert_eq!(assert_valid_report_json(&open.json)["redacted"], false);
}
