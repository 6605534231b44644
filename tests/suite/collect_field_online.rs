//! Online collection of field evidence against the loopback world
//! (issue 16, online parts): the ASVK chain and CRL of a VLEK-signed report
//! from KDS's `vlek` tree, driver/VBIOS RIMs from a RIM-service look-alike,
//! OCSP responses from a responder look-alike answering with NVIDIA's real
//! responses.
#![cfg(feature = "collect")]

use crate::common;

use blyss_evidence::bundle::{keys, Bundle};
use blyss_evidence::checks::{AuditOptions, Scope};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use common::snp::{assert_passes, one, root};
use common::world::{self, World};
use time::OffsetDateTime;

const AWS_REPORT: &[u8] = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/report.bin");
const AWS_VLEK: &[u8] = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/vlek.der");

/// 2025-06-01T00:00:00Z: inside the AWS VLEK's validity.
fn mid_2025() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_748_736_000).unwrap()
}

fn seal(c: blyss_evidence::collect::Collected) -> Bundle {
    let key = keys::generate();
    let bytes = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
    Bundle::from_bytes(&bytes, "online.zip").unwrap()
}

/// The loopback world serving a Blyss-shaped document around the real AWS
/// report, its VLEK in the document's key field, and KDS's `vlek` tree
/// with the real Milan ASVK chain (the CRL is a test CRL: not judged here).
fn aws_world() -> World {
    let w = World::start();
    let report: [u8; 1184] = AWS_REPORT.try_into().unwrap();
    w.serve_document(world::document_json(&report, AWS_VLEK, None, None, None));
    let chain = std::fs::read(root().join("fixtures/field/amd-vlek-chains/ask_ark_milan_vlek.pem"))
        .unwrap();
    w.kds
        .serve("/vlek/v1/Milan/cert_chain", "application/x-pem-file", chain);
    w.kds.serve(
        "/vlek/v1/Milan/crl",
        "application/pkix-crl",
        world::test_crl(&w.ca),
    );
    w
}

#[test]
fn vlek_signed_report_fetches_the_asvk_chain_and_crl_from_the_vlek_tree_and_no_vcek() {
    let w = aws_world();
    let trust = world::trust(&w);
    let c = blyss_evidence::collect::collect(&world::options(&w, "snp-only"), &trust).unwrap();
    let hits = w.kds.hits("/");
    assert!(
        hits.contains(&"/vlek/v1/Milan/cert_chain".to_string())
            && hits.contains(&"/vlek/v1/Milan/crl".to_string()),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.starts_with("/vcek/")),
        "a VLEK report must not ask the VCEK tree: {hits:?}"
    );
    assert!(
        !c.warnings.iter().any(|w| w.contains("AMD")),
        "{:#?}",
        c.warnings
    );
    let b = seal(c);
    assert!(b.member("evidence/amd/cert_chain.pem").is_some());
    assert!(b.member("evidence/amd/crl.der").is_some());
    assert!(b.member("evidence/amd/vcek.der").is_none());
    // Audited under the production AMD anchors inside the VLEK's validity:
    // the KDS chain is the pinned Milan ASVK + ARK and the report verifies.
    let r: Report = blyss_evidence::audit::audit(
        &b,
        &Protocol::load("snp-only").unwrap(),
        &TrustSet::production(),
        &AuditOptions {
            scope: Scope::Attestation,
            at: Some(mid_2025()),
            ..Default::default()
        },
        blyss_evidence::util::now(),
    );
    for id in ["amd.chain", "amd.root-pinned", "snp.report-signature"] {
        assert_passes(&r, id, None);
    }
    let kds = one(&r, "amd.vcek-kds", None);
    assert!(
        kds.summary.contains("AMD KDS serves no VLEK"),
        "{}",
        kds.summary
    );
}

#[test]
fn vlek_tree_missing_on_kds_is_recorded_as_a_collection_failure() {
    let w = World::start();
    let report: [u8; 1184] = AWS_REPORT.try_into().unwrap();
    w.serve_document(world::document_json(&report, AWS_VLEK, None, None, None));
    let trust = world::trust(&w);
    let c = blyss_evidence::collect::collect(&world::options(&w, "snp-only"), &trust).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|m| m.contains("AMD VLEK cert_chain") && m.contains("/vlek/v1/Milan/cert_chain")),
        "{:#?}",
        c.warnings
    );
    let b = seal(c);
    assert!(b.member("evidence/amd/cert_chain.pem").is_none());
}
