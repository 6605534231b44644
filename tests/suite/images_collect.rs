//! End to end: the registry fetcher against a real registry (Debian's
//! docker-registry, distribution 2.8) for every pushed shape, then the
//! offline `images.manifest` check on the sealed bundle. Plus the bad-input
//! cases (tampered body, index without linux/amd64, 404, malformed JSON,
//! manifest over the cap) and the auth / 429 paths against the in-process
//! mock.
#![cfg(feature = "collect")]

use crate::common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use blyss_evidence::bundle::{keys, Bundle, BundleBuilder};
use blyss_evidence::checks::images::{self, AttestedImage, ImagesSection};
use blyss_evidence::checks::{AuditOptions, CheckResult, Context, Scope, Status};
use blyss_evidence::collect::registry::{
    collect_images, Captured, HttpClientTransport, ImageTarget, RegistryOptions,
};
use blyss_evidence::evidence::attestation::AttestationDocument;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use common::registry::*;

/// Collects `images` through `mirrors`, seals, reopens and runs the images
/// check under `protocol` / `scope`.
fn collect_and_audit(
    mirrors: &[(&str, &str)],
    images: &[(&str, String)],
    protocol: &str,
    scope: Scope,
    opts: Option<RegistryOptions>,
) -> (Vec<Captured>, Vec<CheckResult>, Bundle) {
    let mut o = opts.unwrap_or_default();
    for (h, u) in mirrors {
        o.mirrors.insert(h.to_string(), u.to_string());
    }
    if o.docker_config.is_none() {
        // Never read the developer's own ~/.docker/config.json in tests.
        o.docker_config = Some("/nonexistent/blyss-evidence-test/config.json".into());
    }
    let targets: Vec<ImageTarget> = images
        .iter()
        .map(|(p, r)| ImageTarget {
            param: Some(p.to_string()),
            reference: r.clone(),
        })
        .collect();
    let at = blyss_evidence::util::parse_time("2024-06-01T00:00:00Z").unwrap();
    let mut b = BundleBuilder::new("https://service.test", protocol, at);
    let captured = collect_images(&mut b, &transport(), &o, &targets).unwrap();
    let key = keys::generate();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "t.zip").unwrap();
    let results = audit_images(&bundle, images, protocol, scope);
    (captured, results, bundle)
}

fn transport() -> HttpClientTransport {
    HttpClientTransport(blyss_evidence::collect::http::HttpClient::new(
        blyss_evidence::collect::http::HttpConfig::default(),
        &TrustSet::production(),
    ))
}

fn audit_images(
    bundle: &Bundle,
    images: &[(&str, String)],
    protocol: &str,
    scope: Scope,
) -> Vec<CheckResult> {
    let p = Protocol::load(protocol).unwrap();
    let section: ImagesSection = p.sections.images.clone().unwrap();
    let doc: Result<AttestationDocument, String> = Err("not needed".into());
    let trust = TrustSet::production();
    let options = AuditOptions {
        scope,
        ..Default::default()
    };
    let ctx = Context {
        bundle,
        doc: &doc,
        protocol: &p,
        trust: &trust,
        options: &options,
        eval_time: blyss_evidence::util::now(),
    };
    let attested: Vec<AttestedImage> = images
        .iter()
        .map(|(p, r)| AttestedImage {
            param: Some(p.to_string()),
            reference: r.clone(),
        })
        .collect();
    images::run_with(&ctx, &section, &attested)
}

fn detail<'a>(r: &'a CheckResult, k: &str) -> &'a serde_json::Value {
    r.details
        .get(k)
        .unwrap_or_else(|| panic!("no detail {k} in {:?}", r.details))
}

#[test]
fn every_pushed_shape_collects_and_audits_against_the_real_registry() {
    let reg = Registry::start();
    let oci_index = index(
        Flavour::Oci,
        &[("linux", "arm64"), ("linux", "amd64")],
        "oci-index",
    );
    let docker_list = index(
        Flavour::Docker,
        &[("linux", "amd64"), ("linux", "arm64")],
        "docker-list",
    );
    let oci_single = single(Flavour::Oci, "linux", "amd64", "oci-single");
    let docker_single = single(Flavour::Docker, "linux", "amd64", "docker-single");
    // Docker Hub names (normalised, served by the mirror) and a private
    // registry domain.
    let shapes: Vec<(&str, &str, &TestImage, String)> = vec![
        (
            "blyss_docker_img",
            "vllm/vllm-openai",
            &oci_index,
            "vllm/vllm-openai".into(),
        ),
        (
            "blyss_ui_docker_img",
            "blintzbase/chatui",
            &docker_list,
            "blintzbase/chatui".into(),
        ),
        (
            "blyss_shim_docker_img",
            "library/busybox",
            &oci_single,
            "busybox".into(),
        ),
        (
            "private_img",
            "team/app",
            &docker_single,
            "registry.test/team/app".into(),
        ),
    ];
    let mut images = Vec::new();
    for (param, repo, img, name) in &shapes {
        let d = reg.push(repo, "latest", img);
        images.push((*param, format!("{name}@{d}")));
    }
    let mirrors = [
        ("docker.io", reg.url.as_str()),
        ("registry.test", reg.url.as_str()),
    ];
    let (captured, results, bundle) =
        collect_and_audit(&mirrors, &images, "v0.0.1", Scope::Full, None);
    for c in &captured {
        assert!(c.errors.is_empty(), "{}: {:?}", c.subject, c.errors);
    }
    assert_eq!(results.len(), 4);
    for ((param, _, img, _), r) in shapes.iter().zip(&results) {
        assert_eq!(r.subject.as_deref(), Some(*param));
        assert_eq!(r.status, Status::Pass, "{param}: {}", r.summary);
        assert_eq!(r.expected, r.actual);
        assert_eq!(r.actual.as_deref(), Some(img.digest().as_str()));
        assert_eq!(detail(r, "media_type"), &serde_json::json!(img.media_type));
        let cfg = img.amd64_config.as_ref().unwrap();
        assert_eq!(
            detail(r, "config_digest"),
            &serde_json::json!(sha256_digest(cfg))
        );
        assert_eq!(detail(r, "layers"), &serde_json::json!(2));
        assert_eq!(detail(r, "created"), "2024-01-05T06:07:08Z");
        assert_eq!(
            detail(r, "revision"),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            detail(r, "entrypoint"),
            &serde_json::json!(["/usr/bin/test-entry"])
        );
        assert!(detail(r, "source")
            .as_str()
            .unwrap()
            .starts_with("https://example.test/"));
        // Manifest, config (and child) are in the bundle under their digests.
        assert!(
            r.evidence.iter().any(|e| e.ends_with(&img.digest()[7..])),
            "{:?}",
            r.evidence
        );
        assert_eq!(
            bundle.member(&format!(
                "evidence/images/blobs/sha256/{}",
                &img.digest()[7..]
            )),
            Some(img.manifest.as_slice())
        );
    }
    // Index shapes name both platforms and the chosen child.
    for (i, img) in [(0usize, &oci_index), (1, &docker_list)] {
        let r = &results[i];
        let child = sha256_digest(img.amd64_child.as_ref().unwrap());
        assert_eq!(detail(r, "child_digest"), &serde_json::json!(child));
        assert_eq!(detail(r, "platform"), "linux/amd64");
        assert_eq!(detail(r, "platforms").as_array().unwrap().len(), 2);
        assert!(r.summary.contains("linux/amd64 child"), "{}", r.summary);
    }
    // Docker Hub normalisation: single-component name fetched under library/.
    let statement_sources: Vec<&str> = bundle
        .statement
        .predicate
        .members
        .iter()
        .map(|m| m.source.as_str())
        .collect();
    assert!(
        statement_sources
            .iter()
            .any(|s| s.contains("/v2/library/busybox/manifests/sha256:")),
        "{statement_sources:?}"
    );
    assert!(bundle.member("evidence/images/oci-layout").is_some());
    let rec = bundle
        .member("evidence/images/refs/blyss_docker_img.json")
        .unwrap();
    let rec = blyss_evidence::evidence::oci::ImageRecord::parse(rec).unwrap();
    assert_eq!(
        rec.canonical,
        images[0].1.replace("vllm/", "docker.io/vllm/")
    );
    assert!(rec.child.is_some() && rec.config.is_some());
}

#[test]
fn index_without_linux_amd64_fails_naming_the_platforms() {
    let reg = Registry::start();
    let img = index(
        Flavour::Oci,
        &[("linux", "arm64"), ("linux", "s390x")],
        "no-amd64",
    );
    let d = reg.push("vllm/vllm-openai", "arm", &img);
    let images = [("blyss_docker_img", format!("vllm/vllm-openai@{d}"))];
    for protocol in ["v0.0.1", "v0.0.1-test"] {
        let (captured, results, _) = collect_and_audit(
            &[("docker.io", &reg.url)],
            &images,
            protocol,
            Scope::Full,
            None,
        );
        assert!(
            captured[0]
                .errors
                .iter()
                .any(|e| e.contains("no linux/amd64")),
            "{:?}",
            captured[0].errors
        );
        let r = &results[0];
        assert_eq!(r.status, Status::Fail, "{protocol}: {}", r.summary);
        assert!(
            r.summary
                .contains("no linux/amd64 image manifest (platforms: linux/arm64, linux/s390x)"),
            "{}",
            r.summary
        );
        assert_eq!(r.subject.as_deref(), Some("blyss_docker_img"));
    }
}

#[test]
fn unknown_digest_404_is_missing_evidence_per_protocol() {
    let reg = Registry::start();
    let img = single(Flavour::Oci, "linux", "amd64", "present");
    reg.push("blintzbase/shim", "v1", &img);
    let absent = format!("sha256:{}", "ab".repeat(32));
    let images = [("blyss_shim_docker_img", format!("blintzbase/shim@{absent}"))];
    let (captured, fail, _) = collect_and_audit(
        &[("docker.io", &reg.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        None,
    );
    assert!(
        captured[0].errors[0].contains("registry answered 404 (MANIFEST_UNKNOWN)"),
        "{:?}",
        captured[0].errors
    );
    assert_eq!(fail[0].status, Status::Fail);
    assert!(
        fail[0].summary.contains("not captured") && fail[0].summary.contains("404"),
        "{}",
        fail[0].summary
    );
    let (_, warn, _) = collect_and_audit(
        &[("docker.io", &reg.url)],
        &images,
        "v0.0.1-test",
        Scope::Full,
        None,
    );
    assert_eq!(warn[0].status, Status::Warn, "{}", warn[0].summary);
    let (_, na, _) = collect_and_audit(
        &[("docker.io", &reg.url)],
        &images,
        "v0.0.1",
        Scope::Attestation,
        None,
    );
    assert_eq!(na[0].status, Status::NotApplicable, "{}", na[0].summary);
}

#[test]
fn tag_only_reference_is_a_finding_even_when_collected() {
    let reg = Registry::start();
    let img = single(Flavour::Docker, "linux", "amd64", "tagged");
    reg.push("blintzbase/chatui", "v7", &img);
    let images = [("blyss_ui_docker_img", "blintzbase/chatui:v7".to_string())];
    let (captured, r, b) = collect_and_audit(
        &[("docker.io", &reg.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        None,
    );
    assert!(captured[0].errors.is_empty(), "{:?}", captured[0].errors);
    assert!(bundle_warns(&b, "has no digest"));
    assert_eq!(r[0].status, Status::Fail);
    assert!(r[0].summary.contains("tag only"), "{}", r[0].summary);
    assert_eq!(
        detail(&r[0], "tag_resolved_at_collection"),
        &serde_json::json!(img.digest())
    );
    let (_, r, _) = collect_and_audit(
        &[("docker.io", &reg.url)],
        &images,
        "v0.0.1-test",
        Scope::Full,
        None,
    );
    assert_eq!(r[0].status, Status::Warn);
}

fn mock_for(repo: &str, img: &TestImage, cfg: MockConfig) -> MockRegistry {
    MockRegistry::start(MockRegistry::routes_for(repo, img), cfg)
}

#[test]
fn tampered_manifest_body_fails_and_keeps_the_served_bytes() {
    let img = single(Flavour::Oci, "linux", "amd64", "tamper");
    let mut routes = MockRegistry::routes_for("vllm/vllm-openai", &img);
    let key = MockRegistry::manifest_path("vllm/vllm-openai", &img.digest());
    let mut tampered = img.manifest.clone();
    tampered.extend_from_slice(b" ");
    routes.get_mut(&key).unwrap().body = tampered.clone();
    let mock = MockRegistry::start(routes, MockConfig::default());
    let images = [(
        "blyss_docker_img",
        format!("vllm/vllm-openai@{}", img.digest()),
    )];
    for protocol in ["v0.0.1", "v0.0.1-test"] {
        let (captured, r, bundle) = collect_and_audit(
            &[("docker.io", &mock.url)],
            &images,
            protocol,
            Scope::Full,
            None,
        );
        assert!(
            captured[0].errors[0].contains("tampered or wrong body"),
            "{:?}",
            captured[0].errors
        );
        assert_eq!(r[0].status, Status::Fail, "{protocol}");
        assert_eq!(
            r[0].actual.as_deref(),
            Some(sha256_digest(&tampered).as_str())
        );
        assert!(
            r[0].summary.contains("vllm/vllm-openai") && r[0].summary.contains("tampered"),
            "{}",
            r[0].summary
        );
        let served = format!(
            "evidence/images/blobs/sha256/{}",
            &sha256_digest(&tampered)[7..]
        );
        assert_eq!(bundle.member(&served), Some(tampered.as_slice()));
        assert!(bundle.warnings_contain_subject("blyss_docker_img"));
    }
    // The attested digest is never followed: no child or config request.
    assert!(mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .all(|s| s.path.contains("/manifests/")));
}

fn bundle_warns(b: &Bundle, s: &str) -> bool {
    b.statement.predicate.warnings.iter().any(|w| w.contains(s))
}

trait Warnings {
    fn warnings_contain_subject(&self, s: &str) -> bool;
}
impl Warnings for Bundle {
    fn warnings_contain_subject(&self, s: &str) -> bool {
        self.statement
            .predicate
            .warnings
            .iter()
            .any(|w| w.contains(s))
    }
}

#[test]
fn tampered_child_and_config_fail_whatever_the_evidence_policy() {
    let img = index(
        Flavour::Docker,
        &[("linux", "amd64"), ("linux", "arm64")],
        "child",
    );
    let child = sha256_digest(img.amd64_child.as_ref().unwrap());
    let cfg = sha256_digest(img.amd64_config.as_ref().unwrap());
    for (path, what) in [
        (
            MockRegistry::manifest_path("blintzbase/chatui", &child),
            "linux/amd64 manifest",
        ),
        (MockRegistry::blob_path("blintzbase/chatui", &cfg), "config"),
    ] {
        let mut routes = MockRegistry::routes_for("blintzbase/chatui", &img);
        routes.get_mut(&path).unwrap().body.push(b'\n');
        let mock = MockRegistry::start(routes, MockConfig::default());
        let images = [(
            "blyss_ui_docker_img",
            format!("blintzbase/chatui@{}", img.digest()),
        )];
        let (_, r, _) = collect_and_audit(
            &[("docker.io", &mock.url)],
            &images,
            "v0.0.1-test",
            Scope::Full,
            None,
        );
        assert_eq!(r[0].status, Status::Fail, "{what}: {}", r[0].summary);
        assert!(
            r[0].summary.contains(&format!("served {what} bytes")),
            "{}",
            r[0].summary
        );
    }
}

#[test]
fn malformed_json_that_matches_its_digest_fails() {
    let body = b"{\"schemaVersion\": 2, not json".to_vec();
    let d = sha256_digest(&body);
    let mut routes = BTreeMap::new();
    routes.insert(
        MockRegistry::manifest_path("blintzbase/shim", &d),
        Canned {
            status: 200,
            content_type: OCI_MANIFEST.into(),
            body,
        },
    );
    let mock = MockRegistry::start(routes, MockConfig::default());
    let images = [("blyss_shim_docker_img", format!("blintzbase/shim@{d}"))];
    let (captured, r, _) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1-test",
        Scope::Full,
        None,
    );
    assert!(
        captured[0].errors[0].contains("malformed"),
        "{:?}",
        captured[0].errors
    );
    assert_eq!(r[0].status, Status::Fail);
    assert!(
        r[0].summary.contains("manifest is malformed"),
        "{}",
        r[0].summary
    );
}

#[test]
fn manifest_over_the_cap_is_not_stored_and_reported() {
    let body = vec![b' '; blyss_evidence::evidence::oci::MAX_MANIFEST_BYTES + 1];
    let d = sha256_digest(&body);
    let mut routes = BTreeMap::new();
    routes.insert(
        MockRegistry::manifest_path("vllm/vllm-openai", &d),
        Canned {
            status: 200,
            content_type: OCI_MANIFEST.into(),
            body,
        },
    );
    let mock = MockRegistry::start(routes, MockConfig::default());
    let images = [("blyss_docker_img", format!("vllm/vllm-openai@{d}"))];
    let (captured, r, bundle) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        None,
    );
    assert!(
        captured[0].errors[0].contains("larger than the 4194304-byte cap"),
        "{:?}",
        captured[0].errors
    );
    assert!(bundle.members_under("evidence/images/blobs/").is_empty());
    assert_eq!(r[0].status, Status::Fail);
    assert!(r[0].summary.contains("cap"), "{}", r[0].summary);
}

#[test]
fn anonymous_bearer_token_flow_is_followed() {
    let img = index(Flavour::Oci, &[("linux", "amd64")], "auth");
    let mock = mock_for(
        "blintzbase/shim",
        &img,
        MockConfig {
            bearer_token: Some("test-token-123".into()),
            ..Default::default()
        },
    );
    let images = [(
        "blyss_shim_docker_img",
        format!("blintzbase/shim@{}", img.digest()),
    )];
    let (captured, r, bundle) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        None,
    );
    assert!(captured[0].errors.is_empty(), "{:?}", captured[0].errors);
    assert_eq!(r[0].status, Status::Pass, "{}", r[0].summary);
    let seen = mock.seen.lock().unwrap();
    let tok: Vec<_> = seen
        .iter()
        .filter(|s| s.path.starts_with("/token"))
        .collect();
    assert_eq!(tok.len(), 1, "one token for the repository");
    assert!(
        tok[0]
            .path
            .contains("scope=repository:blintzbase/shim:pull"),
        "{}",
        tok[0].path
    );
    assert!(
        !tok[0].headers.contains_key("authorization"),
        "anonymous token request"
    );
    let authed = seen
        .iter()
        .filter(|s| {
            s.headers.get("authorization").map(String::as_str) == Some("Bearer test-token-123")
        })
        .count();
    assert_eq!(authed, 3, "index, child and config fetched with the token");
    // The token is not in the bundle.
    for (p, b) in bundle.members() {
        assert!(
            !String::from_utf8_lossy(b).contains("test-token-123"),
            "{p}"
        );
    }
}

#[test]
fn docker_config_credentials_are_sent_to_the_token_realm() {
    let img = single(Flavour::Oci, "linux", "amd64", "private");
    // base64("reviewer:s3cret")
    let basic = "cmV2aWV3ZXI6czNjcmV0";
    let mock = mock_for(
        "team/app",
        &img,
        MockConfig {
            bearer_token: Some("private-token".into()),
            token_basic: Some(basic.into()),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    std::fs::write(
        &cfg,
        format!(r#"{{"auths":{{"https://registry.test":{{"auth":"{basic}"}}}}}}"#),
    )
    .unwrap();
    let images = [(
        "private_img",
        format!("registry.test/team/app@{}", img.digest()),
    )];
    let opts = RegistryOptions {
        docker_config: Some(cfg),
        ..Default::default()
    };
    let (captured, r, bundle) = collect_and_audit(
        &[("registry.test", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        Some(opts),
    );
    // The mirror is a different host than the credentials' key: no
    // credentials are sent to it, the token request fails, and says so.
    assert!(
        captured[0].errors[0].contains("token request"),
        "{:?}",
        captured[0].errors
    );
    assert_eq!(r[0].status, Status::Fail);
    drop(bundle);

    // Credentials keyed by the mirror's host are used.
    let dir2 = tempfile::tempdir().unwrap();
    let cfg2 = dir2.path().join("config.json");
    std::fs::write(
        &cfg2,
        format!(r#"{{"auths":{{"{}":{{"auth":"{basic}"}}}}}}"#, mock.host),
    )
    .unwrap();
    let opts = RegistryOptions {
        docker_config: Some(cfg2),
        ..Default::default()
    };
    let (captured, r, bundle) = collect_and_audit(
        &[("registry.test", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        Some(opts),
    );
    assert!(captured[0].errors.is_empty(), "{:?}", captured[0].errors);
    assert_eq!(r[0].status, Status::Pass, "{}", r[0].summary);
    for (p, b) in bundle.members() {
        let s = String::from_utf8_lossy(b);
        assert!(
            !s.contains(basic) && !s.contains("private-token"),
            "secret in {p}"
        );
    }
}

thread_local! {
    static WAITS: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

fn record_wait(d: Duration) {
    WAITS.with(|w| w.borrow_mut().push(d));
}

#[test]
fn rate_limited_requests_wait_retry_after_and_retry() {
    let img = single(Flavour::Docker, "linux", "amd64", "throttled");
    let mock = mock_for(
        "vllm/vllm-openai",
        &img,
        MockConfig {
            throttle: 2,
            retry_after: Some("7".into()),
            ..Default::default()
        },
    );
    let images = [(
        "blyss_docker_img",
        format!("vllm/vllm-openai@{}", img.digest()),
    )];
    WAITS.with(|w| w.borrow_mut().clear());
    let opts = RegistryOptions {
        sleep: record_wait,
        ..Default::default()
    };
    let (captured, r, _) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        Some(opts),
    );
    assert!(captured[0].errors.is_empty(), "{:?}", captured[0].errors);
    assert_eq!(r[0].status, Status::Pass);
    assert_eq!(
        WAITS.with(|w| w.borrow().clone()),
        vec![Duration::from_secs(7); 2]
    );
}

#[test]
fn persistent_429_gives_up_with_a_clear_error() {
    let img = single(Flavour::Docker, "linux", "amd64", "throttled-forever");
    let mock = mock_for(
        "vllm/vllm-openai",
        &img,
        MockConfig {
            throttle: 100,
            retry_after: Some("999".into()),
            ..Default::default()
        },
    );
    let images = [(
        "blyss_docker_img",
        format!("vllm/vllm-openai@{}", img.digest()),
    )];
    WAITS.with(|w| w.borrow_mut().clear());
    let opts = RegistryOptions {
        sleep: record_wait,
        max_attempts: 3,
        ..Default::default()
    };
    let (captured, r, _) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1-test",
        Scope::Full,
        Some(opts),
    );
    assert!(
        captured[0].errors[0].contains("rate limited (429) 3 times"),
        "{:?}",
        captured[0].errors
    );
    // Retry-After is capped at max_wait (30 s).
    assert_eq!(
        WAITS.with(|w| w.borrow().clone()),
        vec![Duration::from_secs(30); 2]
    );
    assert_eq!(r[0].status, Status::Warn, "{}", r[0].summary);
    assert!(r[0].summary.contains("429"), "{}", r[0].summary);
}

/// The full pipeline for the images family: an attestation document whose
/// command line names images on the test registry (the real January 2024
/// document with its three image references replaced; its SNP signature no
/// longer verifies, which only the snp family judges), images found by the
/// same function the collector uses, captured, sealed, and audited by
/// `audit::audit`.
#[test]
fn audit_pipeline_judges_the_images_the_attested_command_line_names() {
    let reg = Registry::start();
    let app = index(
        Flavour::Oci,
        &[("linux", "amd64"), ("linux", "arm64")],
        "app",
    );
    let ui = index(
        Flavour::Docker,
        &[("linux", "amd64"), ("linux", "arm64")],
        "ui",
    );
    let shim = single(Flavour::Docker, "linux", "amd64", "shim");
    let d_app = reg.push("vllm/vllm-openai", "latest", &app);
    let d_ui = reg.push("blintzbase/chatui", "latest", &ui);
    let d_shim = reg.push("blintzbase/shim", "latest", &shim);
    let doc = include_str!("../../fixtures/blyss/attestation-2024-01.json")
        .replace(
            "vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f",
            &format!("vllm/vllm-openai@{d_app}"),
        )
        .replace(
            "blintzbase/chatui@sha256:ef8f9507fa6bd8db41c2f87846d224c5618e87dd8fdff7e3ab50c435d2e798fb",
            &format!("blintzbase/chatui@{d_ui}"),
        )
        .replace(
            "blintzbase/shim@sha256:6652a8cc8a752eb9bc2d076daa6c346ca156c7b5bfbcf7c5021c9fd7bbc238bf",
            &format!("blintzbase/shim@{d_shim}"),
        );
    let parsed = AttestationDocument::parse_json(doc.as_bytes()).unwrap();
    let found = images::attested_images_of(&parsed).unwrap();
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let attested = found.images;
    assert_eq!(attested.len(), 3);
    let targets: Vec<ImageTarget> = attested
        .iter()
        .map(|a| ImageTarget {
            param: a.param.clone(),
            reference: a.reference.clone(),
        })
        .collect();
    let at = blyss_evidence::util::parse_time("2024-06-01T00:00:00Z").unwrap();
    let mut b = BundleBuilder::new("https://service.test", "v0.0.1", at);
    b.add(
        "attestation.json",
        doc.into_bytes(),
        blyss_evidence::bundle::Source::file(at),
    )
    .unwrap();
    let mut o = RegistryOptions::default();
    o.mirrors.insert("docker.io".into(), reg.url.clone());
    o.docker_config = Some("/nonexistent/blyss-evidence-test/config.json".into());
    let captured = collect_images(&mut b, &transport(), &o, &targets).unwrap();
    assert!(captured.iter().all(|c| c.errors.is_empty()), "{captured:?}");
    let zip = b.seal(at, &keys::generate()).unwrap();
    let bundle = Bundle::from_bytes(&zip, "t.zip").unwrap();
    let report = blyss_evidence::audit::audit(
        &bundle,
        &Protocol::load("v0.0.1").unwrap(),
        &TrustSet::production(),
        &AuditOptions::default(),
        at,
    );
    common::report::assert_valid_report_json(&report.to_json());
    let imgs: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| c.family == "images")
        .collect();
    assert_eq!(imgs.len(), 3);
    // Command-line order of the image parameters: shim, ui, application.
    for (r, d) in imgs.iter().zip([&d_shim, &d_ui, &d_app]) {
        assert_eq!(r.status, Status::Pass, "{:?}: {}", r.subject, r.summary);
        assert!(r.required);
        assert_eq!(r.actual.as_deref(), Some(d.as_str()));
    }
    let fam = report
        .families
        .iter()
        .find(|f| f.family == "images")
        .unwrap();
    assert_eq!(fam.status, Status::Pass);
}

/// `bundle` re-sealed with `edit` applied to its members (a fresh key:
/// these tests judge the images family only).
fn resealed_with(bundle: &Bundle, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> Bundle {
    let pred = &bundle.statement.predicate;
    let t = |s: &str| blyss_evidence::util::parse_time(s).unwrap();
    let mut members = bundle.members().clone();
    edit(&mut members);
    let mut b = BundleBuilder::new(&pred.target, &pred.protocol, t(&pred.started_at));
    for (path, bytes) in members {
        let rec = pred.members.iter().find(|m| m.path == path).unwrap();
        let src = blyss_evidence::bundle::Source {
            origin: rec.source.clone(),
            http_status: rec.http_status,
            fetched_at: t(&rec.fetched_at),
        };
        b.add(path.strip_prefix("evidence/").unwrap(), bytes, src)
            .unwrap();
    }
    let zip = b.seal(t(&pred.finished_at), &keys::generate()).unwrap();
    Bundle::from_bytes(&zip, "edited.zip").unwrap()
}

/// Collects an OCI index through the mock; returns the bundle and the
/// attested image.
fn collected_index() -> (Bundle, [(&'static str, String); 1]) {
    let img = index(
        Flavour::Oci,
        &[("linux", "arm64"), ("linux", "amd64")],
        "record",
    );
    let mock = mock_for("vllm/vllm-openai", &img, MockConfig::default());
    let images = [(
        "blyss_docker_img",
        format!("vllm/vllm-openai@{}", img.digest()),
    )];
    let (_, r, bundle) = collect_and_audit(
        &[("docker.io", &mock.url)],
        &images,
        "v0.0.1",
        Scope::Full,
        None,
    );
    assert_eq!(r[0].status, Status::Pass, "{}", r[0].summary);
    (bundle, images)
}

const RECORD: &str = "evidence/images/refs/blyss_docker_img.json";

fn edit_record(bundle: &Bundle, f: impl FnOnce(&mut serde_json::Value)) -> Bundle {
    resealed_with(bundle, |m| {
        let mut v: serde_json::Value = serde_json::from_slice(&m[RECORD]).unwrap();
        f(&mut v);
        m.insert(RECORD.into(), serde_json::to_vec(&v).unwrap());
    })
}

#[test]
fn record_contradicting_the_verified_image_fails() {
    // Caught by the tamper campaign (tests/tamper_campaign.rs): flips in
    // the per-image record's reference, digests and sizes audited as PASS.
    let (bundle, images) = collected_index();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "reference",
            Box::new(|v| v["reference"] = "vllm/vllm-openai:latest".into()),
        ),
        (
            "param",
            Box::new(|v| v["param"] = "blyss_ui_docker_img".into()),
        ),
        (
            "canonical",
            Box::new(|v| v["canonical"] = "docker.io/vllm/other".into()),
        ),
        (
            "platform",
            Box::new(|v| v["platform"] = "linux/arm64".into()),
        ),
        (
            "manifest.requested",
            Box::new(|v| v["manifest"]["requested"] = "latest".into()),
        ),
        (
            "child.digest",
            Box::new(|v| v["child"]["digest"] = format!("sha256:{}", "0".repeat(64)).into()),
        ),
        (
            "config.size",
            Box::new(|v| {
                let n = v["config"]["size"].as_u64().unwrap();
                v["config"]["size"] = (n + 1).into();
            }),
        ),
        (
            "no child",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("child");
            }),
        ),
    ];
    for (what, f) in edits {
        let b = edit_record(&bundle, f);
        let r = audit_images(&b, &images, "v0.0.1", Scope::Full);
        assert_eq!(r[0].status, Status::Fail, "{what}: {}", r[0].summary);
        assert!(
            r[0].summary.contains("collector's record"),
            "{what}: {}",
            r[0].summary
        );
    }
    let b = resealed_with(&bundle, |m| {
        m.get_mut(RECORD).unwrap().truncate(10);
    });
    let r = audit_images(&b, &images, "v0.0.1", Scope::Full);
    assert_eq!(r[0].status, Status::Fail, "{}", r[0].summary);
    assert!(r[0].summary.contains("does not parse"), "{}", r[0].summary);
}

#[test]
fn record_provenance_strings_are_informational() {
    // The counterpart (protocol/checks.md § tamper-tolerant fields): where
    // the bytes came from is reported as recorded and decides nothing.
    let (bundle, images) = collected_index();
    let b = edit_record(&bundle, |v| {
        v["registry"] = "https://mirror.example".into();
        v["manifest"]["url"] = "https://mirror.example/x".into();
        v["config"]["content_type"] = "text/plain".into();
        v["errors"] = serde_json::json!(["retried once"]);
    });
    let r = audit_images(&b, &images, "v0.0.1", Scope::Full);
    assert_eq!(r[0].status, Status::Pass, "{}", r[0].summary);
    assert_eq!(detail(&r[0], "registry"), "https://mirror.example");
    assert_eq!(detail(&r[0], "collection_errors")[0], "retried once");
}

#[test]
fn altered_oci_layout_marker_fails_the_verified_image() {
    // Caught by the tamper campaign: flips in evidence/images/oci-layout
    // audited as PASS.
    let (bundle, images) = collected_index();
    for edit in [&b"{\"imageLayoutVersion\":\"1.0.1\"}"[..], b"", b"{}"] {
        let b = resealed_with(&bundle, |m| {
            m.insert("evidence/images/oci-layout".into(), edit.to_vec());
        });
        let r = audit_images(&b, &images, "v0.0.1", Scope::Full);
        assert_eq!(r[0].status, Status::Fail, "{}", r[0].summary);
        assert!(r[0].summary.contains("oci-layout"), "{}", r[0].summary);
    }
}
