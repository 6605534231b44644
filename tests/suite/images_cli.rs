//! `collect` → `audit` through the binary: the loopback world serves an
//! attestation document whose command line names three images held by the
//! real test registry (Debian's docker-registry), reached through
//! `--registry-mirror docker.io=…`; the audit's `images.manifest` results
//! pass for each, and the bundle holds the OCI-layout tree.
#![cfg(feature = "collect")]

use crate::common;

use assert_cmd::Command;
use common::registry::*;
use common::world::World;

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .env("DOCKER_CONFIG", "/nonexistent/blyss-evidence-test")
        .env_remove("XDG_CONFIG_HOME");
    c
}

/// The real January 2024 document with its image references replaced by
/// `replacements` (its report then no longer matches its command line,
/// which the snp/protocol families judge; images only read the references).
fn doc_with_images(app: &str, ui: &str, shim: &str) -> Vec<u8> {
    include_str!("../../fixtures/blyss/attestation-2024-01.json")
        .replace(
            "vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f",
            app,
        )
        .replace(
            "blintzbase/chatui@sha256:ef8f9507fa6bd8db41c2f87846d224c5618e87dd8fdff7e3ab50c435d2e798fb",
            ui,
        )
        .replace(
            "blintzbase/shim@sha256:6652a8cc8a752eb9bc2d076daa6c346ca156c7b5bfbcf7c5021c9fd7bbc238bf",
            shim,
        )
        .into_bytes()
}

fn collect(
    w: &World,
    reg_url: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let key = w.path("collector.key");
    if !key.exists() {
        blyss_evidence::bundle::keys::write_pair(&blyss_evidence::bundle::keys::generate(), &key)
            .unwrap();
    }
    bin()
        .arg("collect")
        .arg(w.url())
        .args([
            "-q",
            "-o",
            &out.display().to_string(),
            "--key",
            &key.display().to_string(),
        ])
        .arg("--trust")
        .arg(w.trust_file())
        .args(["--kds-url", &w.kds.url(), "--log-list-url", &w.ct.list_url])
        .args([
            "--ct-merge-wait",
            "3",
            "--timeout",
            "10",
            "--retries",
            "1",
            "--backoff",
            "0.02",
        ])
        .args(["--registry-mirror", &format!("docker.io={reg_url}")])
        .args(extra)
        .output()
        .unwrap()
}

fn audit_json(w: &World, bundle: &std::path::Path) -> serde_json::Value {
    let json = w.path("report.json");
    let o = bin()
        .args([
            "audit",
            &bundle.display().to_string(),
            "--json",
            &json.display().to_string(),
            "--trust",
        ])
        .arg(w.trust_file())
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    common::report::assert_valid_report_file(&json)
}

fn image_checks(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] == "images")
        .cloned()
        .collect()
}

#[test]
fn collect_through_a_registry_mirror_then_audit_passes_every_image() {
    let reg = Registry::start();
    let app = index(
        Flavour::Oci,
        &[("linux", "amd64"), ("linux", "arm64")],
        "cli-app",
    );
    let ui = index(
        Flavour::Docker,
        &[("linux", "arm64"), ("linux", "amd64")],
        "cli-ui",
    );
    let shim = single(Flavour::Oci, "linux", "amd64", "cli-shim");
    let d_app = reg.push("vllm/vllm-openai", "latest", &app);
    let d_ui = reg.push("blintzbase/chatui", "latest", &ui);
    let d_shim = reg.push("blintzbase/shim", "latest", &shim);
    let w = World::start();
    w.serve_real_blyss(&doc_with_images(
        &format!("vllm/vllm-openai@{d_app}"),
        &format!("blintzbase/chatui@{d_ui}"),
        &format!("blintzbase/shim@{d_shim}"),
    ));
    let out = w.path("b.zip");
    let o = collect(&w, &reg.url, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = blyss_evidence::bundle::Bundle::open(&out).unwrap();
    assert!(
        b.statement
            .predicate
            .warnings
            .iter()
            .all(|w| !w.contains("image")),
        "{:?}",
        b.statement.predicate.warnings
    );
    // OCI-layout tree: marker, records, and manifest/child/config blobs.
    assert!(b.member("evidence/images/oci-layout").is_some());
    assert_eq!(b.members_under("evidence/images/refs/").len(), 3);
    assert_eq!(
        b.members_under("evidence/images/blobs/sha256/").len(),
        // index + child + config, twice; manifest + config once.
        3 + 3 + 2
    );
    let report = audit_json(&w, &out);
    let imgs = image_checks(&report);
    assert_eq!(imgs.len(), 3, "{imgs:#?}");
    for (c, d) in imgs.iter().zip([&d_shim, &d_ui, &d_app]) {
        assert_eq!(c["status"], "pass", "{c:#}");
        assert_eq!(c["required"], true);
        assert_eq!(c["actual"], serde_json::json!(d));
    }
    let fam = report["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["family"] == "images")
        .unwrap();
    assert_eq!(fam["status"], "pass", "{fam:#}");
}

#[test]
fn registry_failures_are_signed_warnings_and_fatal_under_strict() {
    let reg = Registry::start();
    let arm = index(Flavour::Oci, &[("linux", "arm64")], "cli-arm-only");
    let d_arm = reg.push("vllm/vllm-openai", "arm", &arm);
    let missing = format!("sha256:{}", "cd".repeat(32));
    let shim = single(Flavour::Docker, "linux", "amd64", "cli-shim-2");
    let d_shim = reg.push("blintzbase/shim", "latest", &shim);
    let w = World::start();
    w.serve_real_blyss(&doc_with_images(
        &format!("vllm/vllm-openai@{d_arm}"),
        &format!("blintzbase/chatui@{missing}"),
        &format!("blintzbase/shim@{d_shim}"),
    ));
    let out = w.path("b.zip");
    let o = collect(&w, &reg.url, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = blyss_evidence::bundle::Bundle::open(&out).unwrap();
    let warnings = &b.statement.predicate.warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("image blyss_docker_img") && w.contains("no linux/amd64")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("image blyss_ui_docker_img") && w.contains("404")),
        "{warnings:?}"
    );
    let imgs = image_checks(&audit_json(&w, &out));
    let by = |p: &str| imgs.iter().find(|c| c["subject"] == p).unwrap().clone();
    assert_eq!(by("blyss_docker_img")["status"], "fail");
    assert_eq!(by("blyss_ui_docker_img")["status"], "fail");
    assert_eq!(by("blyss_shim_docker_img")["status"], "pass");

    let strict = w.path("strict.zip");
    let o = collect(&w, &reg.url, &strict, &["--strict"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("image blyss_"), "{e}");
    assert!(!strict.exists(), "no partial bundle under --strict");
}

#[test]
fn no_images_collects_no_registry_evidence_and_audit_says_not_captured() {
    let w = World::start();
    w.serve_real_blyss(include_bytes!(
        "../../fixtures/blyss/attestation-2024-01.json"
    ));
    let out = w.path("b.zip");
    // The mirror points nowhere useful: with --no-images it is never used.
    let o = collect(&w, "http://127.0.0.1:9", &out, &["--no-images"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = blyss_evidence::bundle::Bundle::open(&out).unwrap();
    assert!(b.members_under("evidence/images/").is_empty());
    let imgs = image_checks(&audit_json(&w, &out));
    assert_eq!(imgs.len(), 3);
    for c in &imgs {
        assert_eq!(c["status"], "fail", "{c:#}");
        assert!(c["summary"]
            .as_str()
            .unwrap()
            .contains("digest pinned, manifest not captured"));
    }
}
