//! The real Blyss bundles carry no registry evidence: every attested image
//! must be reported as "digest pinned, manifest not captured", failing under
//! protocols that require image evidence, warning under those that do not,
//! and not applicable under `--scope attestation`.

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;

const JAN: &[u8] = include_bytes!("../../fixtures/bundles/blyss-2024-01.zip");
const DEC: &[u8] = include_bytes!("../../fixtures/bundles/blyss-2023-12.zip");

fn image_results(zip: &[u8], protocol: &str, scope: Scope) -> Vec<CheckResult> {
    let b = Bundle::from_bytes(zip, "t.zip").unwrap();
    let p = Protocol::load(protocol).unwrap();
    let opts = AuditOptions {
        scope,
        ..Default::default()
    };
    let r = audit(
        &b,
        &p,
        &TrustSet::production(),
        &opts,
        blyss_evidence::util::now(),
    );
    r.checks
        .into_iter()
        .filter(|c| c.family == "images")
        .collect()
}

fn assert_three_uncaptured(results: &[CheckResult], status: Status, digests: [&str; 3]) {
    let subjects: Vec<&str> = results
        .iter()
        .filter_map(|r| r.subject.as_deref())
        .collect();
    assert_eq!(
        subjects,
        [
            "blyss_shim_docker_img",
            "blyss_ui_docker_img",
            "blyss_docker_img"
        ]
    );
    for (r, d) in results.iter().zip(digests) {
        assert_eq!(r.id, "images.manifest");
        assert_eq!(
            r.status,
            status,
            "{}: {}",
            r.subject.as_deref().unwrap_or(""),
            r.summary
        );
        assert!(
            r.summary.contains("digest pinned, manifest not captured"),
            "{}",
            r.summary
        );
        assert_eq!(
            r.expected.as_deref(),
            Some(format!("manifest bytes hashing to sha256:{d}").as_str())
        );
        assert_eq!(r.actual.as_deref(), Some("not captured"));
        assert!(r.required, "images.* is required by the Blyss protocols");
    }
}

const JAN_DIGESTS: [&str; 3] = [
    "6652a8cc8a752eb9bc2d076daa6c346ca156c7b5bfbcf7c5021c9fd7bbc238bf",
    "ef8f9507fa6bd8db41c2f87846d224c5618e87dd8fdff7e3ab50c435d2e798fb",
    "4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f",
];
const DEC_DIGESTS: [&str; 3] = [
    "6652a8cc8a752eb9bc2d076daa6c346ca156c7b5bfbcf7c5021c9fd7bbc238bf",
    "404c2bfefca0b086c064c16fcb33a3262ca9a87e0b0d541b3fb48d62c772a3d8",
    "d4b96484ebd0d81742f0db734db6b0e68c44e252d092187935216e0b212afc24",
];

#[test]
fn production_protocol_fails_each_uncaptured_image() {
    let r = image_results(JAN, "v0.0.1", Scope::Full);
    assert_three_uncaptured(&r, Status::Fail, JAN_DIGESTS);
    assert!(
        r[2].summary
            .starts_with("docker.io/vllm/vllm-openai@sha256:4f562980…76bd144f"),
        "{}",
        r[2].summary
    );
}

#[test]
fn draft_protocol_v0_0_2_fails_each_uncaptured_image() {
    let r = image_results(DEC, "v0.0.2", Scope::Full);
    assert_three_uncaptured(&r, Status::Fail, DEC_DIGESTS);
}

#[test]
fn test_protocol_warns_for_each_uncaptured_image() {
    let r = image_results(DEC, "v0.0.1-test", Scope::Full);
    assert_three_uncaptured(&r, Status::Warn, DEC_DIGESTS);
}

#[test]
fn attestation_scope_makes_uncaptured_images_not_applicable() {
    for p in ["v0.0.1", "v0.0.1-test", "v0.0.2"] {
        let r = image_results(JAN, p, Scope::Attestation);
        assert_three_uncaptured(&r, Status::NotApplicable, JAN_DIGESTS);
        assert!(r[0]
            .summary
            .ends_with("(not applicable under --scope attestation)"));
    }
}

#[test]
fn protocol_without_images_section_judges_no_image() {
    let r = image_results(JAN, "snp-only", Scope::Full);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, Status::NotApplicable);
    assert!(!r[0].required);
}

#[test]
fn image_results_never_show_the_token() {
    for p in ["v0.0.1", "v0.0.1-test"] {
        for r in image_results(JAN, p, Scope::Full) {
            let s = serde_json::to_string(&r).unwrap();
            assert!(!s.contains("hf_"), "token leaked in {s}");
        }
    }
}

/// A command line whose application image parameter is gone: the images
/// family says so for that parameter (evidence policy), and still judges the
/// other two.
#[test]
fn missing_image_parameter_is_reported_per_protocol() {
    let doc = include_str!("../../fixtures/blyss/attestation-2024-01.json")
        .replace("blyss_docker_img=", "other_docker_img=");
    let at = blyss_evidence::util::parse_time("2024-01-15T00:00:00Z").unwrap();
    let mut b = blyss_evidence::bundle::BundleBuilder::new("file", "v0.0.1", at);
    b.add(
        "attestation.json",
        doc.into_bytes(),
        blyss_evidence::bundle::Source::file(at),
    )
    .unwrap();
    let zip = b
        .seal(at, &blyss_evidence::bundle::keys::generate())
        .unwrap();
    for (protocol, status) in [("v0.0.1", Status::Fail), ("v0.0.1-test", Status::Warn)] {
        let r = image_results(&zip, protocol, Scope::Full);
        assert_eq!(r.len(), 3, "{r:?}");
        let missing = r
            .iter()
            .find(|c| c.subject.as_deref() == Some("blyss_docker_img"))
            .unwrap();
        assert_eq!(missing.status, status);
        assert!(
            missing.summary.contains("missing from the command line")
                && missing.summary.contains("no image reference to check"),
            "{}",
            missing.summary
        );
        assert!(r
            .iter()
            .any(|c| c.subject.as_deref() == Some("blyss_shim_docker_img")
                && c.summary.contains("manifest not captured")));
    }
}
