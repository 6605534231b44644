//! Test support for the SEV-SNP families: the real Blyss documents, the
//! TEST-ONLY synthetic platform, bundles built in memory and audits.

use std::path::PathBuf;

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::evidence::amd::testing::TestPlatform;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use time::OffsetDateTime;

pub const DOC_2023: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2023-12.json");
pub const DOC_2024: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2024-01.json");

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn synthetic_dir() -> PathBuf {
    root().join("fixtures/synthetic")
}

/// The committed TEST-ONLY platform (loaded once per test binary: the RSA
/// key checks are slow).
pub fn platform() -> &'static TestPlatform {
    static P: std::sync::OnceLock<TestPlatform> = std::sync::OnceLock::new();
    P.get_or_init(|| TestPlatform::load(&synthetic_dir()).expect("fixtures/synthetic loads"))
}

/// The TEST-ONLY trust set (`fixtures/synthetic/test-trust.json`).
pub fn test_trust() -> TrustSet {
    static T: std::sync::OnceLock<TrustSet> = std::sync::OnceLock::new();
    T.get_or_init(|| platform().trust_set().expect("test-trust.json loads"))
        .clone()
}

/// 2024-01-15T00:00:00Z (when the January document was served).
pub fn jan_2024() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_705_276_800).unwrap()
}

/// 2023-12-20T00:00:00Z (when the December document was served).
pub fn dec_2023() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_703_030_400).unwrap()
}

/// 2024-06-01T00:00:00Z, inside every synthetic validity period.
pub fn mid_2024() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_717_200_000).unwrap()
}

/// Seals `members` (paths relative to `evidence/`) into a bundle collected
/// at `at`, signed with the FIXTURE collector key, and opens it.
pub fn bundle(members: &[(&str, Vec<u8>)], protocol: &str, at: OffsetDateTime) -> Bundle {
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let mut b = BundleBuilder::new("https://test.invalid", protocol, at);
    for (p, d) in members {
        b.add(p, d.clone(), Source::file(at)).unwrap();
    }
    let bytes = b.seal(at, &key).unwrap();
    Bundle::from_bytes(&bytes, "test.zip").unwrap()
}

/// Audits with scope attestation (validity judged at the collection time).
pub fn run(b: &Bundle, protocol: &Protocol, trust: &TrustSet) -> Report {
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..Default::default()
    };
    let r = audit(b, protocol, trust, &opts, OffsetDateTime::UNIX_EPOCH);
    super::report::assert_valid_report_json(&r.to_json());
    r
}

/// A served document, as a bundle, audited under `protocol` with the
/// production trust set.
pub fn audit_doc(doc: &[u8], protocol: &str, at: OffsetDateTime) -> Report {
    let b = bundle(&[("attestation.json", doc.to_vec())], protocol, at);
    run(
        &b,
        &Protocol::load(protocol).unwrap(),
        &TrustSet::production(),
    )
}

/// A raw report + VCEK, as a bundle, audited with the TEST-ONLY trust set.
pub fn audit_raw(
    report: &[u8],
    vcek: &[u8],
    extra: &[(&str, Vec<u8>)],
    protocol: &Protocol,
    at: OffsetDateTime,
) -> Report {
    let mut m = vec![
        ("snp/report.bin", report.to_vec()),
        ("snp/vcek.der", vcek.to_vec()),
    ];
    m.extend(extra.iter().map(|(p, d)| (*p, d.clone())));
    let b = bundle(&m, &protocol.id, at);
    run(&b, protocol, &test_trust())
}

/// Results with `id` (and `subject`, when given).
pub fn results<'a>(r: &'a Report, id: &str) -> Vec<&'a CheckResult> {
    r.checks.iter().filter(|c| c.id == id).collect()
}

/// The single result with `id` (and `subject` when given); panics if absent.
pub fn one<'a>(r: &'a Report, id: &str, subject: Option<&str>) -> &'a CheckResult {
    let v: Vec<&CheckResult> = r
        .checks
        .iter()
        .filter(|c| c.id == id && (subject.is_none() || c.subject.as_deref() == subject))
        .collect();
    assert_eq!(v.len(), 1, "{id} {subject:?}: {v:#?}");
    v[0]
}

pub fn status(r: &Report, id: &str) -> Status {
    one(r, id, None).status
}

/// Asserts the result failed and its summary contains `needle`.
pub fn assert_fails(r: &Report, id: &str, subject: Option<&str>, needle: &str) {
    let c = one(r, id, subject);
    assert_eq!(c.status, Status::Fail, "{id} should fail: {c:#?}");
    assert!(
        c.summary.contains(needle),
        "{id}: summary {:?} lacks {needle:?}",
        c.summary
    );
}

pub fn assert_passes(r: &Report, id: &str, subject: Option<&str>) {
    let c = one(r, id, subject);
    assert_eq!(c.status, Status::Pass, "{id} should pass: {c:#?}");
}

/// Mutates the `cpu_attestation` of a document.
pub fn mutate_doc(doc: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(doc).unwrap();
    f(&mut v["cpu_attestation"]);
    serde_json::to_vec(&v).unwrap()
}

/// Replaces the kernel command line of a document.
pub fn with_cmdline(doc: &[u8], f: impl FnOnce(&str) -> String) -> Vec<u8> {
    mutate_doc(doc, |c| {
        let old = c["launch"]["kernel_cli"].as_str().unwrap().to_string();
        c["launch"]["kernel_cli"] = f(&old).into();
    })
}

/// The standard TEST-ONLY protocol for synthetic reports: snp-only with
/// the given `snp` section changes applied.
pub fn snp_only_with(f: impl FnOnce(&mut serde_json::Value)) -> Protocol {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../protocol/snp-only.json")).unwrap();
    f(&mut v["sections"]["snp"]);
    Protocol::parse(&serde_json::to_vec(&v).unwrap(), "test").unwrap()
}

/// The JSON of an embedded protocol, changed by `f` (for a protocol file).
pub fn protocol_json_with(id: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let text = blyss_evidence::protocol::EMBEDDED
        .iter()
        .find(|(i, _)| *i == id)
        .unwrap()
        .1;
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// An embedded protocol with its JSON changed.
pub fn protocol_with(id: &str, f: impl FnOnce(&mut serde_json::Value)) -> Protocol {
    Protocol::parse(&protocol_json_with(id, f), "test").unwrap()
}

/// Like [`bundle`], with each member's recorded origin (URL or `file`).
pub fn bundle_with_sources(
    members: &[(&str, Vec<u8>, &str)],
    protocol: &str,
    at: OffsetDateTime,
) -> Bundle {
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let mut b = BundleBuilder::new("https://test.invalid", protocol, at);
    for (p, d, origin) in members {
        let src = Source {
            origin: origin.to_string(),
            http_status: if *origin == "file" { None } else { Some(200) },
            fetched_at: at,
        };
        b.add(p, d.clone(), src).unwrap();
    }
    let bytes = b.seal(at, &key).unwrap();
    Bundle::from_bytes(&bytes, "test.zip").unwrap()
}
