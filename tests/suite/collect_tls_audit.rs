//! The `tls` checks on bundles collected from the loopback world: the
//! binding between the served certificate and the attestation report
//! (including the MITM shape), and offline chain validation against the
//! trust set only.
#![cfg(feature = "collect")]

use crate::common;

use blyss_evidence::bundle::{Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::collect;
use blyss_evidence::protocol::Protocol;
use common::world::{self, CertPlan, LeafSpec, World};

const DOC: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

/// The real document with `report_data` and `cert_sha256_fingerprint`
/// rewritten to bind `sha` (its AMD signature no longer verifies: only the
/// `tls` checks are judged here).
fn doc_binding(sha: [u8; 32], tail: u8) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(DOC).unwrap();
    let mut rd: Vec<serde_json::Value> = sha.iter().map(|b| (*b).into()).collect();
    rd.extend((0..32).map(|_| serde_json::Value::from(tail)));
    v["cpu_attestation"]["report_data"] = rd.into();
    v["cert_sha256_fingerprint"] = hex::encode(sha).into();
    serde_json::to_vec(&v).unwrap()
}

fn collect_bundle(w: &World, protocol: &str) -> Bundle {
    let c = collect::collect(&world::options(w, protocol), &world::trust(w)).unwrap();
    let key = blyss_evidence::bundle::keys::generate();
    let bytes = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
    Bundle::from_bytes(&bytes, "t.zip").unwrap()
}

fn audit(b: &Bundle, w: &World, protocol: &str, scope: Scope) -> Vec<CheckResult> {
    let p = Protocol::load(protocol).unwrap();
    let opts = AuditOptions {
        scope,
        ..Default::default()
    };
    let report =
        blyss_evidence::audit::audit(b, &p, &world::trust(w), &opts, blyss_evidence::util::now());
    common::report::assert_valid_report_json(&report.to_json());
    report.checks
}

fn result<'a>(rs: &'a [CheckResult], id: &str) -> &'a CheckResult {
    rs.iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn served_certificate_equal_to_the_attested_one_passes_the_binding() {
    let w = World::start();
    w.serve_real_blyss(&doc_binding(w.enclave_cert.sha256(), 0));
    let b = collect_bundle(&w, "v0.0.1");
    let rs = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&rs, "tls.binding");
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(
        r.actual.as_deref(),
        Some(w.enclave_cert.sha256_hex().as_str())
    );
    assert!(r
        .evidence
        .contains(&"evidence/tls/chain-00.der".to_string()));
}

#[test]
fn mitm_certificate_other_than_the_attested_one_fails_the_binding() {
    let w = World::start();
    w.serve_real_blyss(&doc_binding(w.enclave_cert.sha256(), 0));
    // Someone else's certificate, valid for the host and from a trusted CA.
    let mitm = w.ca.issue(&LeafSpec::loopback("mitm", 66));
    w.present(CertPlan::Fixed(w.certified(&mitm)));
    let b = collect_bundle(&w, "v0.0.1");
    let rs = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&rs, "tls.binding");
    assert_eq!(r.status, Status::Fail);
    assert!(r.required);
    assert!(r.summary.contains("not the attested one"), "{}", r.summary);
    assert!(r.summary.contains(&mitm.sha256_hex()), "{}", r.summary);
    // The chain itself is fine: the failure is the binding, not the PKI.
    assert_eq!(result(&rs, "tls.chain").status, Status::Pass);
}

#[test]
fn another_certificate_on_the_second_handshake_fails_the_binding() {
    let w = World::start();
    w.serve_real_blyss(&doc_binding(w.enclave_cert.sha256(), 0));
    let other = w.ca.issue(&LeafSpec::loopback("other", 67));
    w.present(CertPlan::SwitchAfter {
        n: 2,
        first: w.certified(&w.enclave_cert),
        then: w.certified(&other),
    });
    let b = collect_bundle(&w, "v0.0.1");
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.binding");
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.summary
            .contains("second handshake presented another certificate"),
        "{}",
        r.summary
    );
    assert!(!r.summary.contains("not the attested one"), "{}", r.summary);
}

#[test]
fn nonzero_report_data_tail_fails_the_binding() {
    let w = World::start();
    w.serve_real_blyss(&doc_binding(w.enclave_cert.sha256(), 1));
    let b = collect_bundle(&w, "v0.0.1");
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.binding");
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("report_data[32..64]"), "{}", r.summary);
}

#[test]
fn chain_to_the_trust_file_ca_valid_for_the_host_passes() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    let b = collect_bundle(&w, "v0.0.1");
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.chain");
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(r.summary.contains("127.0.0.1"), "{}", r.summary);
    assert!(r
        .actual
        .as_deref()
        .unwrap()
        .contains("blyss-evidence test CA"));
}

#[test]
fn leaf_for_another_host_fails_the_chain() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    let mut spec = LeafSpec::loopback("wrong-name", 70);
    spec.dns = vec!["evil.test".into()];
    spec.ips = vec![[10, 0, 0, 1]];
    let leaf = w.ca.issue(&spec);
    w.present(CertPlan::Fixed(w.certified(&leaf)));
    let b = collect_bundle(&w, "v0.0.1");
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.chain");
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.summary.contains("not valid for \"127.0.0.1\""),
        "{}",
        r.summary
    );
}

#[test]
fn expired_leaf_fails_the_chain_at_collection_time() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    let mut spec = LeafSpec::loopback("expired", 71);
    spec.not_after = 1_600_000_000; // 2020-09-13
    let leaf = w.ca.issue(&spec);
    w.present(CertPlan::Fixed(w.certified(&leaf)));
    let b = collect_bundle(&w, "v0.0.1");
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.chain");
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("does not validate"), "{}", r.summary);
}

#[test]
fn chain_to_a_ca_outside_the_trust_set_fails_even_if_the_bundle_ships_it() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    let rogue = world::TestCa::new("rogue CA");
    let leaf = rogue.issue(&LeafSpec::loopback("rogue-leaf", 72));
    // The rogue root is presented in the chain (and so stored in the bundle).
    w.present(CertPlan::Fixed(world::certified(
        &[leaf.der.as_slice(), rogue.cert.der.as_slice()],
        &leaf,
    )));
    let b = collect_bundle(&w, "v0.0.1");
    assert_eq!(
        b.member("evidence/tls/chain-01.der").unwrap(),
        rogue.cert.der.as_slice()
    );
    let r = audit(&b, &w, "v0.0.1", Scope::Full);
    let r = result(&r, "tls.chain");
    assert_eq!(r.status, Status::Fail);
}

#[test]
fn self_signed_enclave_fails_the_chain_under_v001_and_is_not_applicable_under_v001_test() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    let ss = world::TestCa::self_signed("enclave-test");
    w.present(CertPlan::Fixed(world::certified(&[ss.der.as_slice()], &ss)));
    let b = collect_bundle(&w, "v0.0.1-test");
    let prod = audit(&b, &w, "v0.0.1", Scope::Full);
    assert_eq!(result(&prod, "tls.chain").status, Status::Fail);
    let test = audit(&b, &w, "v0.0.1-test", Scope::Full);
    let r = result(&test, "tls.chain");
    assert_eq!(r.status, Status::NotApplicable);
    assert!(
        r.summary.contains("self-signed test certificate"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("it would fail"), "{}", r.summary);
}

#[test]
fn attestation_scope_without_a_handshake_warns_that_only_the_document_fields_agree() {
    let w = World::start();
    let at = blyss_evidence::util::now();
    let mut bb = BundleBuilder::new("file", "v0.0.1", at);
    bb.add("attestation.json", DOC.to_vec(), Source::file(at))
        .unwrap();
    let key = blyss_evidence::bundle::keys::generate();
    let b = Bundle::from_bytes(&bb.seal(at, &key).unwrap(), "i.zip").unwrap();
    let att = audit(&b, &w, "v0.0.1", Scope::Attestation);
    let r = result(&att, "tls.binding");
    // The document compared with itself only: a warning, never a green pass.
    assert_eq!(r.status, Status::Warn, "{r:#?}");
    assert!(r.summary.contains("NOT established"), "{}", r.summary);
    assert!(
        r.summary.contains("no TLS handshake was captured"),
        "{}",
        r.summary
    );
    assert_eq!(result(&att, "tls.chain").status, Status::NotApplicable);
    let full = audit(&b, &w, "v0.0.1", Scope::Full);
    assert_eq!(result(&full, "tls.binding").status, Status::Fail);
    assert_eq!(result(&full, "tls.chain").status, Status::Fail);
}

#[test]
fn attestation_scope_still_fails_a_document_whose_fingerprint_disagrees() {
    let w = World::start();
    let mut v: serde_json::Value = serde_json::from_slice(DOC).unwrap();
    v["cert_sha256_fingerprint"] = "00".repeat(32).into();
    let at = blyss_evidence::util::now();
    let mut bb = BundleBuilder::new("file", "v0.0.1", at);
    bb.add(
        "attestation.json",
        serde_json::to_vec(&v).unwrap(),
        Source::file(at),
    )
    .unwrap();
    let key = blyss_evidence::bundle::keys::generate();
    let b = Bundle::from_bytes(&bb.seal(at, &key).unwrap(), "i.zip").unwrap();
    let r = audit(&b, &w, "v0.0.1", Scope::Attestation);
    let r = result(&r, "tls.binding");
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.summary.contains("differs from report_data[0..32]"),
        "{}",
        r.summary
    );
}

#[test]
fn a_handshake_record_that_disagrees_with_the_chain_members_fails_both_checks() {
    let w = World::start();
    w.serve_real_blyss(&doc_binding(w.enclave_cert.sha256(), 0));
    let b = collect_bundle(&w, "v0.0.1");
    // Re-seal with a swapped leaf: the record's sha256 no longer matches.
    let at = blyss_evidence::util::now();
    let mut bb = BundleBuilder::new(&b.statement.predicate.target, "v0.0.1", at);
    for (p, bytes) in b.members() {
        let rel = p.strip_prefix("evidence/").unwrap();
        let bytes = if rel == "tls/chain-00.der" {
            w.ca.issue(&LeafSpec::loopback("swapped", 80)).der
        } else {
            bytes.clone()
        };
        bb.add(rel, bytes, Source::file(at)).unwrap();
    }
    let key = blyss_evidence::bundle::keys::generate();
    let b = Bundle::from_bytes(&bb.seal(at, &key).unwrap(), "x.zip").unwrap();
    let rs = audit(&b, &w, "v0.0.1", Scope::Full);
    for id in ["tls.binding", "tls.chain"] {
        let r = result(&rs, id);
        assert_eq!(r.status, Status::Fail, "{id}");
        assert!(
            r.summary.contains("unusable TLS capture"),
            "{id}: {}",
            r.summary
        );
    }
}
