//! Output that cannot lie to a terminal (issue 13 items 4 and 5): control
//! characters, C1 controls and bidirectional overrides from the evidence,
//! the bundle's statement or a saved report never reach the terminal
//! summary or the Markdown as themselves, and `report render` refuses a
//! saved verdict its checks do not support.

use crate::common::hostile_evidence::{self as hostile, ESCAPE_PAYLOAD};

use assert_cmd::Command;
use std::path::Path;

fn bin() -> Command {
    Command::cargo_bin("blyss-evidence").unwrap()
}

fn signer() -> String {
    hostile::root()
        .join("fixtures/keys/fixture-collector.key.pub")
        .display()
        .to_string()
}

/// No raw control byte in `out`: no ESC byte, valid UTF-8 without U+009B
/// (8-bit CSI) or U+202E (right-to-left override), no forged verdict line.
fn assert_inert(what: &str, out: &[u8]) {
    assert!(!out.contains(&0x1b), "{what}: raw ESC byte");
    let s = std::str::from_utf8(out).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    assert!(!s.contains('\u{9b}'), "{what}: raw U+009B");
    assert!(!s.contains('\u{202e}'), "{what}: raw U+202E");
    assert!(!s.contains('\u{7f}'), "{what}: raw DEL");
    let verdicts = s.lines().filter(|l| l.starts_with("verdict:")).count();
    assert!(verdicts <= 1, "{what}: {verdicts} verdict lines:\n{s}");
}

fn audit(bundle: &Path, dir: &Path) -> (i32, Vec<u8>, Vec<u8>, Vec<u8>, String) {
    let md = dir.join("a.md");
    let json = dir.join("a.json");
    let o = bin()
        .args(["audit", "-v", "--scope", "attestation", "--signer"])
        .arg(signer())
        .arg(bundle)
        .arg("--markdown")
        .arg(&md)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let md = std::fs::read(&md).unwrap_or_default();
    let json = std::fs::read_to_string(&json).unwrap_or_default();
    (o.status.code().unwrap(), o.stdout, o.stderr, md, json)
}

#[test]
fn escape_payload_in_kernel_cli_reaches_terminal_and_markdown_only_as_visible_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let doc = hostile::real_doc();
    let cli = doc["cpu_attestation"]["launch"]["kernel_cli"]
        .as_str()
        .unwrap();
    let body = cli.strip_suffix(" initrd=initrd").unwrap();
    let cli = format!("{body} {ESCAPE_PAYLOAD} initrd=initrd");
    let zip = hostile::seal(&hostile::doc_with_cmdline(&cli), "v0.0.1");
    let b = hostile::write(dir.path(), "esc.zip", &zip);
    let (code, out, err, md, _) = audit(&b, dir.path());
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&err));
    assert_inert("stdout", &out);
    assert_inert("stderr", &err);
    assert_inert("markdown", &md);
    let out = String::from_utf8(out).unwrap();
    // The payload did reach the output, made visible.
    assert!(out.contains("\\x1b[2J"), "{out}");
    assert!(out.contains("\\u{202e}SSAP"), "{out}");
    assert!(out.ends_with("verdict: FAIL\n"), "{out}");
}

#[test]
fn escape_payload_in_predicate_protocol_reaches_terminal_and_markdown_only_as_visible_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let zip = hostile::seal(&hostile::real_doc(), &format!("v0.0.1{ESCAPE_PAYLOAD}"));
    let b = hostile::write(dir.path(), "proto.zip", &zip);
    let (code, out, err, md, json) = audit(&b, dir.path());
    // A declared protocol other than the audited one is a warning.
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert_inert("stdout", &out);
    assert_inert("stderr", &err);
    assert_inert("markdown", &md);
    // The payload is in the JSON report (JSON escapes it) and was shown.
    assert!(json.contains("\\u001b[2J"), "{json}");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("collected for protocol v0.0.1\\x1b[2J\\x1b[H\\nverdict: PASS\\n"),
        "{out}"
    );
    assert!(String::from_utf8(md).unwrap().contains("\\x1b\\[2J"));
}

/// Appends the payload to every string of a saved report except the ones
/// `report render` re-derives or checks (statuses, scope, family ids,
/// verdict label), so the report stays consistent and is rendered.
fn poison(v: &mut serde_json::Value, key: &str) {
    match v {
        serde_json::Value::String(s) if !matches!(key, "status" | "scope" | "family" | "label") => {
            s.push_str(ESCAPE_PAYLOAD)
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| poison(x, key)),
        serde_json::Value::Object(o) => o.iter_mut().for_each(|(k, x)| poison(x, k)),
        _ => {}
    }
}

fn saved_report(dir: &Path) -> serde_json::Value {
    let b = hostile::root().join("fixtures/bundles/blyss-2024-01.zip");
    let (code, _, err, _, json) = audit(&b, dir);
    assert_ne!(code, 2, "{}", String::from_utf8_lossy(&err));
    serde_json::from_str(&json).unwrap()
}

fn render(dir: &Path, report: &serde_json::Value) -> std::process::Output {
    let json = dir.join("saved.json");
    std::fs::write(&json, serde_json::to_vec_pretty(report).unwrap()).unwrap();
    bin()
        .args(["report", "render", "-v"])
        .arg(&json)
        .arg("--markdown")
        .arg(dir.join("r.md"))
        .arg("--html")
        .arg(dir.join("r.html"))
        .output()
        .unwrap()
}

#[test]
fn escape_payload_in_every_string_of_a_saved_report_renders_only_as_visible_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = saved_report(dir.path());
    poison(&mut v, "");
    let o = render(dir.path(), &v);
    assert_ne!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_inert("stdout", &o.stdout);
    assert_inert("stderr", &o.stderr);
    let md = std::fs::read(dir.path().join("r.md")).unwrap();
    assert_inert("markdown", &md);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("\\x1b[2J\\x1b[H\\nverdict: PASS\\n"), "{out}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}') && !html.contains('\u{9b}'));
    assert!(html.contains("\\u{202e}SSAP"));
}

#[test]
fn report_render_says_it_re_rendered_and_did_not_re_audit() {
    let dir = tempfile::tempdir().unwrap();
    let v = saved_report(dir.path());
    let o = render(dir.path(), &v);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.lines()
            .next()
            .unwrap()
            .starts_with("re-rendered from the saved report saved.json")
            && out.contains("nothing was re-audited"),
        "{out}"
    );
    let md = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(md.contains("nothing was re-audited"), "{md}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("Re-rendered, not re-audited."));
}

fn assert_refused(dir: &Path, v: &serde_json::Value, why: &str) {
    let _ = std::fs::remove_file(dir.join("r.html"));
    let _ = std::fs::remove_file(dir.join("r.md"));
    let o = render(dir, v);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{why}: {err}");
    assert!(err.contains(why), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(o.stdout.is_empty(), "no PASS banner");
    assert!(!dir.join("r.html").exists() && !dir.join("r.md").exists());
}

#[test]
fn report_render_refuses_a_stored_pass_over_all_failed_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = saved_report(dir.path());
    assert_eq!(v["verdict"]["status"], "pass");
    for c in v["checks"].as_array_mut().unwrap() {
        c["status"] = "fail".into();
    }
    assert_refused(
        dir.path(),
        &v,
        "the stored verdict is pass but its checks say fail",
    );
}

#[test]
fn report_render_refuses_a_stored_fail_over_passing_checks_and_forged_families() {
    let dir = tempfile::tempdir().unwrap();
    let good = saved_report(dir.path());
    let mut v = good.clone();
    v["verdict"]["status"] = "fail".into();
    assert_refused(
        dir.path(),
        &v,
        "the stored verdict is fail but its checks say pass",
    );
    let mut v = good.clone();
    v["verdict"]["label"] = "PASS".into();
    assert_refused(dir.path(), &v, "the stored verdict label");
    // A family shown as passing over a failed check.
    let mut v = good;
    let fams = v["families"].as_array_mut().unwrap();
    let f = fams.iter_mut().find(|f| f["status"] != "pass").unwrap();
    f["status"] = "pass".into();
    assert_refused(dir.path(), &v, "family summaries");
}
