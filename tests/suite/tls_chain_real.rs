//! `tls.chain` on a REAL WebPKI chain (Let's Encrypt lencr.org, January
//! 2024, issued by R3): offline path validation to Mozilla's roots of the
//! production trust set (RSA adapters), host name and validity time.
//! Audit-only: no network, no `collect` feature.

use crate::common;

use blyss_evidence::bundle::{Bundle, BundleBuilder, Source};
use blyss_evidence::checks::tls::{ChainEntry, HandshakeRecord, Verification, HANDSHAKE_SCHEMA};
use blyss_evidence::checks::{AuditOptions, Scope, Status};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;

const LEAF: &[u8] = include_bytes!("../../fixtures/ct/le-2024/lencr.org.der");
const R3: &[u8] = include_bytes!("../../fixtures/ct/le-2024/issuer-r3.der");

fn bundle(target: &str, host: &str, chain: &[&[u8]]) -> Bundle {
    let at = blyss_evidence::util::parse_time("2024-02-01T00:00:00Z").unwrap();
    let mut b = BundleBuilder::new(target, "v0.0.1", at);
    let src = || Source {
        origin: format!("tls://{host}:443"),
        http_status: None,
        fetched_at: at,
    };
    let mut entries = Vec::new();
    for (i, c) in chain.iter().enumerate() {
        b.add(&format!("tls/chain-{i:02}.der"), c.to_vec(), src())
            .unwrap();
        entries.push(ChainEntry {
            member: format!("evidence/tls/chain-{i:02}.der"),
            sha256: blyss_evidence::util::sha256_hex(c),
        });
    }
    let rec = HandshakeRecord {
        schema: HANDSHAKE_SCHEMA.into(),
        host: host.into(),
        port: 443,
        server_name: host.into(),
        captured_at: "2024-02-01T00:00:00Z".into(),
        protocol_version: "TLSv1_3".into(),
        cipher_suite: "TLS13_AES_128_GCM_SHA256".into(),
        chain: entries,
        verification: Verification {
            trust_set: "blyss-evidence-production 2026.11".into(),
            verified: true,
            error: None,
        },
        second_handshake: None,
    };
    b.add(
        "tls/handshake.json",
        serde_json::to_vec(&rec).unwrap(),
        src(),
    )
    .unwrap();
    let key = blyss_evidence::bundle::keys::generate();
    Bundle::from_bytes(&b.seal(at, &key).unwrap(), "le.zip").unwrap()
}

fn chain_result(b: &Bundle, at: &str) -> blyss_evidence::checks::CheckResult {
    let opts = AuditOptions {
        scope: Scope::Full,
        at: Some(blyss_evidence::util::parse_time(at).unwrap()),
        ..Default::default()
    };
    let p = Protocol::load("v0.0.1").unwrap();
    let r = blyss_evidence::audit::audit(
        b,
        &p,
        &TrustSet::production(),
        &opts,
        blyss_evidence::util::now(),
    );
    common::report::assert_valid_report_json(&r.to_json());
    r.checks.into_iter().find(|c| c.id == "tls.chain").unwrap()
}

#[test]
fn real_lets_encrypt_chain_validates_to_mozilla_roots_for_its_host() {
    let b = bundle("https://lencr.org", "lencr.org", &[LEAF, R3]);
    let r = chain_result(&b, "2024-02-01T00:00:00Z");
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(
        r.actual.as_deref().unwrap().contains("ISRG Root X1"),
        "{:?}",
        r.actual
    );
    assert!(r
        .actual
        .as_deref()
        .unwrap()
        .contains("Mozilla root program"));
}

#[test]
fn real_chain_fails_for_another_host() {
    let b = bundle("https://example.org", "example.org", &[LEAF, R3]);
    let r = chain_result(&b, "2024-02-01T00:00:00Z");
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.summary.contains("not valid for \"example.org\""),
        "{}",
        r.summary
    );
}

#[test]
fn real_chain_fails_after_the_leaf_expired() {
    let b = bundle("https://lencr.org", "lencr.org", &[LEAF, R3]);
    let r = chain_result(&b, "2024-06-01T00:00:00Z");
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("does not validate"), "{}", r.summary);
}

#[test]
fn real_leaf_without_its_intermediate_fails() {
    let b = bundle("https://lencr.org", "lencr.org", &[LEAF]);
    let r = chain_result(&b, "2024-02-01T00:00:00Z");
    assert_eq!(r.status, Status::Fail);
}

#[test]
fn handshake_captured_from_another_host_than_the_target_fails() {
    let b = bundle("https://enclave.blyss.dev", "lencr.org", &[LEAF, R3]);
    let r = chain_result(&b, "2024-02-01T00:00:00Z");
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("not the target host"), "{}", r.summary);
}

#[test]
fn a_trust_set_without_tls_roots_fails_the_chain() {
    let b = bundle("https://lencr.org", "lencr.org", &[LEAF, R3]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.json");
    std::fs::write(
        &f,
        br#"{"schema":"blyss-evidence.trust/v1","name":"empty","version":"1"}"#,
    )
    .unwrap();
    let t = TrustSet::load(&f).unwrap();
    let opts = AuditOptions {
        at: Some(blyss_evidence::util::parse_time("2024-02-01T00:00:00Z").unwrap()),
        ..Default::default()
    };
    let p = Protocol::load("v0.0.1").unwrap();
    let r = blyss_evidence::audit::audit(&b, &p, &t, &opts, blyss_evidence::util::now());
    common::report::assert_valid_report_json(&r.to_json());
    let r = r.checks.iter().find(|c| c.id == "tls.chain").unwrap();
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("has no TLS roots"), "{}", r.summary);
}
