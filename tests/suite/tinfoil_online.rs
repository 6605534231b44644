//! Issue 17, online half, end to end: `collect --protocol tinfoil` against
//! the loopback world serving the real Tinfoil material, then the audit of
//! that bundle under `--protocol tinfoil`; and `tinfoil.collection`, the
//! audit re-deriving the assembled `tinfoil/attestation-bundle.json` from
//! the answers stored beside it.
#![cfg(feature = "collect")]

use blyss_evidence::audit::{audit, AuditOptions, Report, Scope};
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::Status;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;

use crate::collect_field_online::{seal, tinfoil_bundle, tinfoil_options, tinfoil_world_serving};
use crate::common::snp::one;
use crate::common::world;
use base64::Engine;
use blyss_evidence::bundle::{keys, BundleBuilder, Source};

/// Inside the validity of the real material (its capture time).
const AT: &str = "2026-01-22T23:00:00Z";

/// The world's trust set (its TLS CA, AMD's real Genoa roots) plus the
/// production Sigstore trusted root the real release is logged under.
fn trust(w: &world::World) -> TrustSet {
    let mut t = world::trust(w);
    t.sigstore_trusted_root = TrustSet::production().sigstore_trusted_root;
    t
}

fn collect_latest() -> (Bundle, TrustSet) {
    let att = serde_json::to_vec(&tinfoil_bundle()["enclaveAttestationReport"]).unwrap();
    collect_serving(att)
}

/// Collects (latest release) from the world whose enclave serves `att` as
/// its attestation.
fn collect_serving(att: Vec<u8>) -> (Bundle, TrustSet) {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let (w, gh) = tinfoil_world_serving(att, &format!("Release v0.0.38\n\nDigest: `{digest}`\n"));
    let trust = trust(&w);
    let c = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &trust).unwrap();
    (seal(c), trust)
}

fn audit_at(b: &Bundle, trust: &TrustSet, scope: Scope) -> Report {
    let at = blyss_evidence::util::parse_time(AT).unwrap();
    let opts = AuditOptions {
        scope,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(b, &Protocol::load("tinfoil").unwrap(), trust, &opts, at)
}

fn status(r: &Report, id: &str) -> Status {
    one(r, id, None).status
}

/// The bundle `b` re-sealed with `f` applied to the members (paths under
/// `evidence/`, as the builder takes them): a collector that stored what it
/// received but assembled something else, or left out a record.
fn resealed(
    b: &Bundle,
    f: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<u8>>),
) -> Bundle {
    let at = blyss_evidence::util::parse_time(AT).unwrap();
    let mut m: std::collections::BTreeMap<String, Vec<u8>> = b
        .members_under("evidence/")
        .into_iter()
        .map(|p| {
            (
                p["evidence/".len()..].to_string(),
                b.member(p).unwrap().to_vec(),
            )
        })
        .collect();
    f(&mut m);
    let mut nb = BundleBuilder::new("https://127.0.0.1", "tinfoil", at);
    for (p, bytes) in m {
        nb.add(&p, bytes, Source::file(at)).unwrap();
    }
    let zip = nb.seal(at, &keys::generate()).unwrap();
    Bundle::from_bytes(&zip, "resealed.zip").unwrap()
}

const ASSEMBLED: &str = "tinfoil/attestation-bundle.json";

fn edit_assembled(b: &Bundle, f: impl FnOnce(&mut serde_json::Value)) -> Bundle {
    resealed(b, |m| {
        let mut v: serde_json::Value = serde_json::from_slice(&m[ASSEMBLED]).unwrap();
        f(&mut v);
        m.insert(ASSEMBLED.into(), serde_json::to_vec_pretty(&v).unwrap());
    })
}

/// Collect from the loopback world (the real report, VCEK, certificate,
/// release and Sigstore bundle served by look-alikes), audit at the real
/// material's capture time: the release chain passes end to end, and the
/// TLS binding fails because the loopback server's key is not the key the
/// real report binds (the world cannot hold Tinfoil's private key).
/// `amd.crl` fails too: the world's KDS serves a CRL signed by the test CA
/// (no AMD-signed Genoa CRL is committed), and the audit names its issuer.
#[test]
fn online_tinfoil_collect_then_audit_passes_snp_and_release_checks_and_fails_tls_binding_on_the_loopback_key(
) {
    let (b, trust) = collect_latest();
    let r = audit_at(&b, &trust, Scope::Attestation);
    for id in [
        "amd.chain",
        "amd.product",
        "amd.root-pinned",
        "amd.vcek-kds",
        "snp.report-signature",
        "snp.report-format",
        "snp.tcb",
        "snp.policy",
        "snp.provisional-firmware",
        "tinfoil.release",
        "tinfoil.measurement",
        "tinfoil.config",
        "tinfoil.collection",
    ] {
        assert_eq!(
            status(&r, id),
            Status::Pass,
            "{id}: {:#?}",
            one(&r, id, None)
        );
    }
    assert_eq!(status(&r, "tinfoil.images"), Status::Warn);
    let crl = one(&r, "amd.crl", None);
    assert_eq!(crl.status, Status::Fail);
    assert!(crl.summary.contains("test CA"), "{}", crl.summary);

    let tb = one(&r, "tls.binding", None);
    assert_eq!(tb.status, Status::Fail, "{tb:#?}");
    let real_bound = "71c31f35d2b06077bbae7c1ddf0cc4020408c8f39c68b04cf3d029d40bdd45e7";
    assert!(
        tb.summary.contains("is not the attested one") && tb.summary.contains(real_bound),
        "{}",
        tb.summary
    );
    assert_eq!(tb.details["handshake_captured"], true);
    assert_eq!(tb.details["binding_form"], "tinfoil-spki");
    // The bundled certificate (what the enclave publishes: Tinfoil's real
    // one) is the attested key; the served one is not.
    assert_eq!(tb.actual.as_deref(), Some(real_bound));
    assert_eq!(r.verdict.status, blyss_evidence::checks::Verdict::Fail);
    let failed: std::collections::BTreeSet<&str> = r
        .verdict
        .failed_required
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(failed, ["amd.crl", "tls.binding"].into_iter().collect());
}

/// Scope full adds the TLS chain and CT of the captured handshake: the
/// chain validates to the world's CA and the world's CT logs prove the
/// leaf's inclusion; the binding still fails for the same reason.
#[test]
fn online_tinfoil_collect_under_scope_full_adds_tls_chain_and_ct_and_still_fails_the_binding() {
    let (b, trust) = collect_latest();
    let r = audit_at(&b, &trust, Scope::Full);
    assert_eq!(status(&r, "tls.binding"), Status::Fail);
    assert_eq!(status(&r, "tls.chain"), Status::Pass);
    assert_eq!(status(&r, "ct.log-list"), Status::Pass);
    let incl: Vec<_> = r.checks.iter().filter(|c| c.id == "ct.inclusion").collect();
    assert!(
        !incl.is_empty() && incl.iter().all(|c| c.status == Status::Pass),
        "{incl:#?}"
    );
    assert_eq!(status(&r, "tinfoil.collection"), Status::Pass);
    assert_eq!(r.verdict.status, blyss_evidence::checks::Verdict::Fail);
}

#[test]
fn tinfoil_collection_shows_the_release_compared_against_and_why_as_facts() {
    let (b, trust) = collect_latest();
    let r = audit_at(&b, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.details["fact:tinfoil.collected_release"], "v0.0.38");
    assert_eq!(
        c.details["fact:tinfoil.collected_repository"],
        "tinfoilsh/confidential-model-router"
    );
    assert!(c.details["fact:tinfoil.release_choice"]
        .as_str()
        .unwrap()
        .contains("latest release"));
    assert!(c
        .evidence
        .iter()
        .any(|e| e == "evidence/tinfoil/release.json"));
    // Headline facts of the report (terminal, Markdown).
    let facts = blyss_evidence::report::tinfoil_facts(&r);
    assert!(
        facts
            .iter()
            .any(|(l, v)| *l == "release compared against" && v == "v0.0.38"),
        "{facts:?}"
    );
    // Not established: shown, but not as a fact.
    let bad = edit_assembled(&b, |v| v["digest"] = "ab".repeat(32).into());
    let r = audit_at(&bad, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.details["tinfoil.collected_release"], "v0.0.38");
    assert!(!r.facts.contains_key("tinfoil.collected_release"));
}

#[test]
fn assembled_report_other_than_the_enclave_answer_fails_tinfoil_collection() {
    let (b, trust) = collect_latest();
    let bad = edit_assembled(&b, |v| {
        let mut report =
            blyss_evidence::collect::tinfoil::report_of(&v["enclaveAttestationReport"]).unwrap();
        report[0x50] ^= 1; // REPORT_DATA's first byte
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &report).unwrap();
        v["enclaveAttestationReport"]["body"] = base64::engine::general_purpose::STANDARD
            .encode(gz.finish().unwrap())
            .into();
    });
    let r = audit_at(&bad, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary
            .contains("enclaveAttestationReport of the assembled bundle differs"),
        "{}",
        c.summary
    );
    // Only that field differs.
    assert!(!c.summary.contains("digest"), "{}", c.summary);
}

#[test]
fn assembled_digest_other_than_the_release_answer_fails_tinfoil_collection() {
    let (b, trust) = collect_latest();
    let bad = edit_assembled(&b, |v| v["digest"] = "ab".repeat(32).into());
    let r = audit_at(&bad, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary.contains(
            "digest of the assembled bundle differs from the body of evidence/tinfoil/release.json"
        ),
        "{}",
        c.summary
    );
    // The statement's subject is not that digest either.
    assert_eq!(status(&r, "tinfoil.measurement"), Status::Fail);
}

#[test]
fn assembled_sigstore_bundle_vcek_and_certificate_each_differing_from_their_answers_fail_tinfoil_collection(
) {
    let (b, trust) = collect_latest();
    for (field, f) in [
        (
            "sigstoreBundle",
            Box::new(|v: &mut serde_json::Value| {
                v["sigstoreBundle"]["mediaType"] =
                    "application/vnd.dev.sigstore.bundle.v0.3+json ".into()
            }) as Box<dyn Fn(&mut serde_json::Value)>,
        ),
        (
            "vcek",
            Box::new(|v: &mut serde_json::Value| v["vcek"] = "AAAA".into()),
        ),
        (
            "enclaveCert",
            Box::new(|v: &mut serde_json::Value| {
                let pem = v["enclaveCert"].as_str().unwrap().to_string();
                v["enclaveCert"] = format!("{pem}\n").into()
            }),
        ),
        (
            "domain",
            Box::new(|v: &mut serde_json::Value| v["domain"] = "inference.tinfoil.sh".into()),
        ),
    ] {
        let r = audit_at(&edit_assembled(&b, f), &trust, Scope::Attestation);
        let c = one(&r, "tinfoil.collection", None);
        assert_eq!(c.status, Status::Fail, "{field}: {c:#?}");
        assert!(
            c.summary.starts_with(&format!("{field} ")),
            "{field}: {}",
            c.summary
        );
    }
}

#[test]
fn answers_without_the_collection_record_fail_tinfoil_collection() {
    let (b, trust) = collect_latest();
    let bad = resealed(&b, |m| {
        m.remove("tinfoil/collect.json");
    });
    let r = audit_at(&bad, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary.contains("without the collection record"),
        "{}",
        c.summary
    );
}

#[test]
fn a_piece_the_collector_could_not_fetch_fails_tinfoil_collection_even_when_both_sides_say_null() {
    let (b, trust) = collect_latest();
    let bad = resealed(&b, |m| {
        m.remove("tinfoil/github-attestations.json");
        let mut v: serde_json::Value = serde_json::from_slice(&m[ASSEMBLED]).unwrap();
        v["sigstoreBundle"] = serde_json::Value::Null;
        m.insert(ASSEMBLED.into(), serde_json::to_vec_pretty(&v).unwrap());
    });
    let r = audit_at(&bad, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary.contains("sigstoreBundle: not collected"),
        "{}",
        c.summary
    );
    assert_eq!(status(&r, "tinfoil.release"), Status::Fail);
}

#[test]
fn offline_import_without_collect_record_leaves_tinfoil_collection_not_applicable() {
    let (b, trust) = collect_latest();
    let imported = resealed(&b, |m| {
        m.retain(|p, _| p == ASSEMBLED || p.starts_with("amd/"))
    });
    let r = audit_at(&imported, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::NotApplicable, "{c:#?}");
    assert!(
        c.summary.contains("not an online collection"),
        "{}",
        c.summary
    );
    assert_eq!(status(&r, "tinfoil.release"), Status::Pass);
}

/// An enclave answering with a format the audit does not know (here an
/// SNP-looking `…/sev-snp-guest/v3` around the real report): the assembled
/// bundle faithfully repeats the answers, yet cannot be audited, so
/// `tinfoil.collection` fails beside the four others instead of passing.
#[test]
fn faithfully_assembled_but_unreadable_bundle_fails_tinfoil_collection_with_the_other_four() {
    let mut att = tinfoil_bundle()["enclaveAttestationReport"].clone();
    att["format"] = "https://tinfoil.sh/predicate/sev-snp-guest/v3".into();
    let (b, trust) = collect_serving(serde_json::to_vec(&att).unwrap());
    let r = audit_at(&b, &trust, Scope::Attestation);
    for id in [
        "tinfoil.release",
        "tinfoil.measurement",
        "tinfoil.config",
        "tinfoil.images",
    ] {
        assert_eq!(status(&r, id), Status::Fail, "{id}");
    }
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary
            .contains("is what the stored answers say, but it cannot be audited")
            && c.summary.contains("not a known report format"),
        "{}",
        c.summary
    );
}

/// A TDX enclave collected online: nothing is judged as passing in the
/// `tinfoil` family (no VCEK was fetched, the format is not supported).
#[test]
fn online_tdx_enclave_fails_every_tinfoil_check_including_tinfoil_collection() {
    let tdx = serde_json::to_vec(&serde_json::json!({
        "format": "https://tinfoil.sh/predicate/tdx-guest/v2",
        "body": "H4sIAAAAAAAA/wMAAAAAAAAAAAA=",
    }))
    .unwrap();
    let (b, trust) = collect_serving(tdx);
    let r = audit_at(&b, &trust, Scope::Attestation);
    let fam: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.id.starts_with("tinfoil."))
        .collect();
    assert_eq!(fam.len(), 5, "{fam:#?}");
    assert!(fam.iter().all(|c| c.status == Status::Fail), "{fam:#?}");
    assert!(one(&r, "tinfoil.release", None).summary.contains("TDX"));
}

/// `--tinfoil-release` given and a release body without a digest: the
/// audit re-derives the digest from the stored `tinfoil.hash` asset and
/// shows the explicit choice; an asset whose digest is not the assembled
/// one fails.
#[test]
fn explicit_release_digest_is_re_derived_from_the_stored_tinfoil_hash_asset() {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let att = serde_json::to_vec(&tinfoil_bundle()["enclaveAttestationReport"]).unwrap();
    let (w, gh) = tinfoil_world_serving(att, "Release notes without a digest");
    gh.serve(
        "/tinfoilsh/confidential-model-router/releases/download/v0.0.38/tinfoil.hash",
        "application/octet-stream",
        format!("{digest}\n").into_bytes(),
    );
    let trust = trust(&w);
    let mut o = tinfoil_options(&w, &gh);
    o.tinfoil.release = Some("v0.0.38".into());
    let b = seal(blyss_evidence::collect::collect(&o, &trust).unwrap());
    let r = audit_at(&b, &trust, Scope::Attestation);
    let c = one(&r, "tinfoil.collection", None);
    assert_eq!(c.status, Status::Pass, "{c:#?}");
    assert!(c.details["fact:tinfoil.release_choice"]
        .as_str()
        .unwrap()
        .contains("given explicitly"));
    assert!(c.details["re_derived"]
        .as_str()
        .unwrap()
        .contains("digest = evidence/tinfoil/tinfoil.hash"));
    let bad = resealed(&b, |m| {
        m.insert(
            "tinfoil/tinfoil.hash".into(),
            format!("{}\n", "cd".repeat(32)).into_bytes(),
        );
    });
    let c = one(
        &audit_at(&bad, &trust, Scope::Attestation),
        "tinfoil.collection",
        None,
    )
    .clone();
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary
            .contains("digest of the assembled bundle differs from evidence/tinfoil/tinfoil.hash"),
        "{}",
        c.summary
    );
}

/// The same flow through the binary, in the two commands a reviewer types:
/// `collect https://<enclave> --protocol tinfoil` then `audit --protocol
/// tinfoil --at …`. The audit exits 1 (audit failed: the loopback key is
/// not the attested one) and its JSON report says which checks did what.
#[test]
fn cli_collect_then_audit_of_a_tinfoil_enclave_exits_1_on_the_loopback_binding_with_the_release_passing(
) {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let att = serde_json::to_vec(&tinfoil_bundle()["enclaveAttestationReport"]).unwrap();
    let (w, gh) = tinfoil_world_serving(att, &format!("Digest: `{digest}`"));
    // The world's trust file plus the production Sigstore root.
    let mut tf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.trust_file()).unwrap()).unwrap();
    std::fs::write(
        w.path("sigstore-root.json"),
        TrustSet::production().sigstore_trusted_root.unwrap(),
    )
    .unwrap();
    tf["sigstore"] = serde_json::json!({"trusted_root": "sigstore-root.json"});
    let trust_file = w.path("tinfoil-trust.json");
    std::fs::write(&trust_file, serde_json::to_vec(&tf).unwrap()).unwrap();
    let key = w.path("collector.key");
    keys::write_pair(&keys::generate(), &key).unwrap();
    let out = w.path("tinfoil.zip");
    let bin = || {
        let mut c = assert_cmd::Command::cargo_bin("blyss-evidence").unwrap();
        c.env("SOURCE_DATE_EPOCH", "1764374400")
            .env_remove("XDG_CONFIG_HOME");
        c
    };
    let s = |p: &std::path::Path| p.display().to_string();
    let o = bin()
        .arg("collect")
        .arg(w.url())
        .args(["--protocol", "tinfoil", "-o", &s(&out), "--key", &s(&key)])
        .args(["--trust", &s(&trust_file), "--kds-url", &w.kds.url()])
        .args(["--log-list-url", &w.ct.list_url, "--no-images"])
        .args(["--github-api-url", &gh.url(), "--github-url", &gh.url()])
        .args([
            "--connect-timeout",
            "2",
            "--read-timeout",
            "2",
            "--timeout",
            "5",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json = w.path("report.json");
    let o = bin()
        .arg("audit")
        .arg(&out)
        .args([
            "--protocol",
            "tinfoil",
            "--at",
            AT,
            "--scope",
            "attestation",
        ])
        .args(["--trust", &s(&trust_file), "--json", &s(&json)])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    for id in [
        "tinfoil.release",
        "tinfoil.measurement",
        "tinfoil.config",
        "tinfoil.collection",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}");
    }
    assert_eq!(status(&r, "tinfoil.images"), Status::Warn);
    assert_eq!(status(&r, "tls.binding"), Status::Fail);
}

/// The collector compared against a release whose notes publish the digest
/// of another tag's build (the real certificate is for v0.0.38; GitHub here
/// calls the latest release v0.0.39): `tinfoil.collection` fails naming
/// both tags, while the release itself still verifies.
#[test]
fn release_whose_notes_publish_another_tags_digest_fails_tinfoil_collection() {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let att = serde_json::to_vec(&tinfoil_bundle()["enclaveAttestationReport"]).unwrap();
    let (w, gh) = crate::collect_field_online::tinfoil_world_tagged(
        att,
        &format!("Release v0.0.39\n\nDigest: `{digest}`\n"),
        "v0.0.39",
    );
    let trust = trust(&w);
    let c = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &trust).unwrap();
    let b = seal(c);
    let r = audit_at(&b, &trust, Scope::Attestation);
    assert_eq!(status(&r, "tinfoil.release"), Status::Pass);
    let coll = one(&r, "tinfoil.collection", None);
    assert_eq!(coll.status, Status::Fail, "{coll:#?}");
    assert!(
        coll.summary.contains("v0.0.39") && coll.summary.contains("refs/tags/v0.0.38"),
        "{}",
        coll.summary
    );
}
