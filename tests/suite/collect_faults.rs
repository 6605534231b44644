//! `collect` against the loopback test world: each injected fault behaves
//! as specified (retried and succeeded, recorded as a signed warning, or
//! fatal with a one-line reason naming the URL and the cause). Deadlines
//! everywhere: no test can hang.
#![cfg(feature = "collect")]

use crate::common;

use blyss_evidence::bundle::Bundle;
use blyss_evidence::collect::{self, CollectOptions};
use common::world::{self, Fault, World};

const DOC: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

fn world() -> World {
    let w = World::start();
    w.serve_real_blyss(DOC);
    w
}

fn run(w: &World, o: &CollectOptions) -> Result<Bundle, collect::CollectError> {
    let c = collect::collect(o, &world::trust(w))?;
    let key = blyss_evidence::bundle::keys::generate();
    let bytes = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
    Ok(Bundle::from_bytes(&bytes, "t.zip").unwrap())
}

fn warnings(b: &Bundle) -> Vec<String> {
    b.statement.predicate.warnings.clone()
}

#[test]
fn clean_world_collects_every_resource_without_warnings() {
    let w = world();
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    for m in [
        "evidence/attestation.json",
        "evidence/amd/cert_chain.pem",
        "evidence/amd/crl.der",
        "evidence/amd/vcek.der",
        "evidence/tls/chain-00.der",
        "evidence/tls/chain-01.der",
        "evidence/tls/handshake.json",
    ] {
        assert!(b.member(m).is_some(), "missing {m}");
    }
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert_eq!(
        b.member("evidence/tls/chain-00.der").unwrap(),
        w.enclave_cert.der.as_slice()
    );
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
    // The VCEK was requested with the real KDS URL shape (the look-alike
    // answers 400 to anything else).
    assert_eq!(w.kds.hits("/vcek/v1/Genoa/").len(), 3);
    let h: serde_json::Value =
        serde_json::from_slice(b.member("evidence/tls/handshake.json").unwrap()).unwrap();
    assert_eq!(h["verification"]["verified"], true);
    assert_eq!(h["second_handshake"]["outcome"], "same-leaf");
}

/// `/vcek/v1/Genoa/<hwid>` of the document (the query is not part of it).
fn vcek_path() -> String {
    let d = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(DOC).unwrap();
    format!("/vcek/v1/Genoa/{}", hex::encode(d.chip_id()))
}
const CRL: &str = "/vcek/v1/Genoa/crl";
const CHAIN: &str = "/vcek/v1/Genoa/cert_chain";

fn one_warning_containing(b: &Bundle, needles: &[&str]) -> String {
    let ws = warnings(b);
    ws.iter()
        .find(|w| needles.iter().all(|n| w.contains(n)))
        .cloned()
        .unwrap_or_else(|| panic!("no warning containing {needles:?} in {ws:#?}"))
}

#[test]
fn document_http_500_twice_is_retried_and_succeeds() {
    let w = world();
    w.enclave
        .fault_times(world::ATTESTATION_PATH, Fault::Status(500), 2);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert_eq!(w.enclave.hits(world::ATTESTATION_PATH).len(), 3);
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn crl_http_500_that_persists_is_a_signed_warning_naming_url_and_status() {
    let w = world();
    w.kds.fault(CRL, Fault::Status(500));
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/crl.der").is_none());
    assert!(b.member("evidence/amd/vcek.der").is_some());
    let url = format!("{}{CRL}", w.kds.url());
    let msg = one_warning_containing(&b, &[&url, "HTTP 500", "3 attempt(s)"]);
    assert!(!msg.contains('\n'), "one line: {msg}");
    // retries = 2: three requests in all, no more.
    assert_eq!(w.kds.hits(CRL).len(), 3);
}

#[test]
fn strict_makes_a_failed_resource_fatal_with_url_and_cause() {
    let w = world();
    w.kds.fault(CRL, Fault::Status(500));
    let mut o = world::options(&w, "v0.0.1");
    o.strict = true;
    let e = run(&w, &o)
        .expect_err("strict collection must fail")
        .to_string();
    assert!(e.contains(&format!("{}{CRL}", w.kds.url())), "{e}");
    assert!(e.contains("HTTP 500") && e.contains("--strict"), "{e}");
}

#[test]
fn vcek_429_with_retry_after_is_honoured_then_succeeds() {
    let w = world();
    w.kds
        .fault_times(&vcek_path(), Fault::TooManyRequests { retry_after: 1 }, 1);
    let mut o = world::options(&w, "v0.0.1");
    // Back-off alone (30 s) would overrun the 10 s resource deadline: only
    // honouring Retry-After (1 s) lets the retry happen.
    o.http.backoff = std::time::Duration::from_secs(30);
    o.http.resource_timeout = std::time::Duration::from_secs(10);
    let b = run(&w, &o).unwrap();
    assert!(
        b.member("evidence/amd/vcek.der").is_some(),
        "{:?}",
        warnings(&b)
    );
    let vcek_hits: Vec<_> = w.kds.hits(&vcek_path()).into_iter().collect();
    assert_eq!(vcek_hits.len(), 2);
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn retry_after_beyond_the_resource_deadline_fails_without_waiting() {
    let w = world();
    w.kds
        .fault(CHAIN, Fault::TooManyRequests { retry_after: 3600 });
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/cert_chain.pem").is_none());
    one_warning_containing(&b, &[CHAIN, "HTTP 429", "Retry-After 3600 s exceeds"]);
    assert_eq!(w.kds.hits(CHAIN).len(), 1);
}

#[test]
fn cert_chain_503_with_retry_after_is_retried_and_succeeds() {
    let w = world();
    w.kds
        .fault_times(CHAIN, Fault::Unavailable { retry_after: 1 }, 1);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/cert_chain.pem").is_some());
    assert_eq!(w.kds.hits(CHAIN).len(), 2);
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn connection_reset_on_the_document_is_retried_and_succeeds() {
    let w = world();
    w.enclave
        .fault_times(world::ATTESTATION_PATH, Fault::Reset, 1);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert_eq!(w.enclave.hits(world::ATTESTATION_PATH).len(), 2);
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn connection_reset_that_persists_is_a_warning_naming_the_url() {
    let w = world();
    w.kds.fault(CHAIN, Fault::Reset);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/cert_chain.pem").is_none());
    one_warning_containing(&b, &["AMD cert_chain", CHAIN, "3 attempt(s)"]);
}

#[test]
fn truncated_vcek_is_retried_and_succeeds() {
    let w = world();
    w.kds.fault_times(&vcek_path(), Fault::Truncate, 1);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    let d = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(DOC).unwrap();
    assert_eq!(
        b.member("evidence/amd/vcek.der").unwrap(),
        d.vcek_der.as_slice()
    );
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn truncated_vcek_that_persists_is_a_warning_saying_truncated() {
    let w = world();
    w.kds.fault(&vcek_path(), Fault::Truncate);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/vcek.der").is_none());
    one_warning_containing(&b, &["AMD VCEK", "truncated", &vcek_path()]);
}

#[test]
fn oversized_crl_is_refused_without_retry() {
    let w = world();
    w.kds.fault(
        CRL,
        Fault::Oversize {
            bytes: 3 * 1024 * 1024,
            declared: true,
        },
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/crl.der").is_none());
    one_warning_containing(&b, &[CRL, "larger than the 2097152-byte cap"]);
    assert_eq!(w.kds.hits(CRL).len(), 1, "a size violation is not retried");
}

#[test]
fn oversized_document_without_length_is_fatal() {
    let w = world();
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Oversize {
            bytes: 9 * 1024 * 1024,
            declared: false,
        },
    );
    let e = run(&w, &world::options(&w, "v0.0.1"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains(world::ATTESTATION_PATH) && e.contains("cap"),
        "{e}"
    );
}

#[test]
fn wrong_content_type_on_a_well_formed_document_is_a_warning() {
    let w = world();
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::ContentType("text/html".into()),
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    one_warning_containing(
        &b,
        &["attestation document", "\"text/html\"", "application/json"],
    );
}

#[test]
fn html_instead_of_the_vcek_is_a_warning_and_not_stored() {
    let w = world();
    w.kds.fault(
        &vcek_path(),
        Fault::Body(b"<html>maintenance</html>".to_vec()),
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/vcek.der").is_none());
    one_warning_containing(&b, &["AMD VCEK", "not a DER certificate", &vcek_path()]);
}

#[test]
fn latency_within_the_deadlines_is_waited_for() {
    let w = world();
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Latency(std::time::Duration::from_millis(300)),
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert_eq!(w.enclave.hits(world::ATTESTATION_PATH).len(), 1);
}

#[test]
fn a_stalled_document_server_times_out_instead_of_hanging() {
    let w = world();
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Stall(std::time::Duration::from_secs(30)),
    );
    let mut o = world::options(&w, "v0.0.1");
    o.http.read_timeout = std::time::Duration::from_millis(500);
    o.http.retries = 0;
    let e = run(&w, &o).err().unwrap().to_string();
    assert!(
        e.contains(world::ATTESTATION_PATH) && e.contains("timed out"),
        "{e}"
    );
}

#[test]
fn unreachable_kds_is_a_warning_per_resource() {
    let w = world();
    let mut o = world::options(&w, "v0.0.1");
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    o.kds_url = format!("https://127.0.0.1:{port}");
    let b = run(&w, &o).unwrap();
    for label in ["AMD cert_chain", "AMD CRL", "AMD VCEK"] {
        one_warning_containing(&b, &[label, &format!("127.0.0.1:{port}")]);
    }
}

#[test]
fn malformed_document_is_fatal_with_the_url_and_the_field() {
    let w = World::start();
    w.serve_document(br#"{"cpu_attestation": {"version": 2}}"#.to_vec());
    let e = run(&w, &world::options(&w, "v0.0.1"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("malformed attestation document"), "{e}");
    assert!(
        e.contains(world::ATTESTATION_PATH) && e.contains("cpu_attestation."),
        "{e}"
    );
}

#[test]
fn missing_document_is_fatal_with_http_404() {
    let w = World::start();
    let e = run(&w, &world::options(&w, "v0.0.1"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains(world::ATTESTATION_PATH) && e.contains("HTTP 404"),
        "{e}"
    );
}

#[test]
fn a_different_certificate_on_the_second_handshake_is_recorded() {
    let w = world();
    let other = w.ca.issue(&world::LeafSpec::loopback("other-enclave", 99));
    // Handshakes 1 and 2 are the capture and the document fetch, in either
    // order; the collector starts the second capture only after both. The
    // first connection is held back so that a collector starting the second
    // capture without waiting for the first would see them swapped (CI
    // once did, on a loaded machine).
    w.enclave
        .hold_first_connection(std::time::Duration::from_millis(1500));
    w.present(world::CertPlan::SwitchAfter {
        n: 2,
        first: w.certified(&w.enclave_cert),
        then: w.certified(&other),
    });
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    let h: serde_json::Value =
        serde_json::from_slice(b.member("evidence/tls/handshake.json").unwrap()).unwrap();
    assert_eq!(h["second_handshake"]["outcome"], "different-leaf");
    assert_eq!(h["second_handshake"]["leaf_sha256"], other.sha256_hex());
    assert_eq!(
        b.member("evidence/tls/chain-00.der").unwrap(),
        w.enclave_cert.der.as_slice()
    );
    assert_eq!(
        b.member("evidence/tls/second/chain-00.der").unwrap(),
        other.der.as_slice()
    );
    one_warning_containing(&b, &["different certificate on the second TLS handshake"]);
}

#[test]
fn a_self_signed_enclave_is_captured_and_the_document_fetched_with_a_warning() {
    let w = world();
    let selfsigned = world::TestCa::self_signed("enclave-test-cert");
    w.present(world::CertPlan::Fixed(world::certified(
        &[selfsigned.der.as_slice()],
        &selfsigned,
    )));
    let b = run(&w, &world::options(&w, "v0.0.1-test")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert_eq!(
        b.member("evidence/tls/chain-00.der").unwrap(),
        selfsigned.der.as_slice()
    );
    let h: serde_json::Value =
        serde_json::from_slice(b.member("evidence/tls/handshake.json").unwrap()).unwrap();
    assert_eq!(h["verification"]["verified"], false);
    assert!(h["verification"]["error"]
        .as_str()
        .unwrap()
        .contains("certificate"));
    one_warning_containing(&b, &["does not verify", "without TLS verification"]);
}

#[test]
fn firmware_from_a_url_and_a_file_is_stored_under_evidence_firmware() {
    let w = world();
    // Incompressible bytes (the bundle reader refuses zip-bomb ratios).
    let image: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    w.firmware
        .serve("/OVMF_v0.0.1.fd", "application/octet-stream", image.clone());
    let local = world::write(w.dir.path(), "local.fd", b"local firmware");
    let mut o = world::options(&w, "v0.0.1");
    o.firmware = vec![
        format!("{}/OVMF_v0.0.1.fd", w.firmware.url()),
        local.display().to_string(),
        format!("{}/missing.fd", w.firmware.url()),
    ];
    let b = run(&w, &o).unwrap();
    assert_eq!(
        b.member("evidence/firmware/OVMF_v0.0.1.fd").unwrap(),
        image.as_slice()
    );
    assert_eq!(
        b.member("evidence/firmware/local.fd").unwrap(),
        b"local firmware"
    );
    one_warning_containing(&b, &["firmware", "/missing.fd", "HTTP 404"]);
}

#[test]
fn gzip_encoded_document_is_accepted_and_stored_decoded() {
    let w = world();
    w.enclave.fault(world::ATTESTATION_PATH, Fault::Gzip);
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert_eq!(b.member("evidence/attestation.json").unwrap(), DOC);
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
}

#[test]
fn gzip_bomb_is_capped_on_the_decoded_size() {
    let w = world();
    // ~20 KiB on the wire, 3 MiB decoded: over the CRL's 2 MiB cap.
    w.kds.fault(
        CRL,
        Fault::GzipBomb {
            bytes: 3 * 1024 * 1024,
        },
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    assert!(b.member("evidence/amd/crl.der").is_none());
    one_warning_containing(&b, &[CRL, "larger than the 2097152-byte cap"]);
}

#[test]
fn requests_carry_a_descriptive_user_agent() {
    let w = world();
    run(&w, &world::options(&w, "v0.0.1")).unwrap();
    let reqs = w.kds.requests();
    assert!(!reqs.is_empty());
    for r in reqs.iter().chain(w.enclave.requests().iter()) {
        let ua = r.headers.get("user-agent").cloned().unwrap_or_default();
        assert!(
            ua.starts_with(&format!("blyss-evidence/{} (+", env!("CARGO_PKG_VERSION"))),
            "{} sent User-Agent {ua:?}",
            r.path
        );
    }
}
