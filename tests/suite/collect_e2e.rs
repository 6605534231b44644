//! End to end: `collect` from the loopback world serving a TEST-ONLY
//! synthetic SEV-SNP platform (report bound to the enclave's certificate,
//! measurement computed by our engine from the Blyss firmware descriptor)
//! → `audit` under the world's test trust file passes; the MITM scenario
//! fails exactly `tls.binding`.
#![cfg(feature = "collect")]

use crate::common;

use assert_cmd::Command;
use blyss_evidence::bundle::{keys, Bundle};
use blyss_evidence::checks::{AuditOptions, SignerPin, Status, Verdict};
use blyss_evidence::evidence::amd::Product;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use common::world::{self, CertPlan, LeafSpec, World};

/// The embedded protocol with image evidence judged optional: the loopback
/// world runs no container registry (image capture end to end is covered by
/// tests/images_*), so here missing manifests warn instead of failing.
fn protocol_without_registry(id: &str) -> Protocol {
    Protocol::parse(
        &protocol_without_registry_bytes(id),
        "test: image evidence optional",
    )
    .unwrap()
}

fn protocol_without_registry_bytes(id: &str) -> Vec<u8> {
    common::snp::protocol_json_with(id, |v| {
        if let Some(img) = v["sections"].get_mut("images") {
            if img.as_object().is_some_and(|o| !o.is_empty()) {
                img["evidence"] = "optional".into();
            }
        }
    })
}

fn collect_and_audit(w: &World, protocol: &str) -> Report {
    let trust = world::trust(w);
    let c = blyss_evidence::collect::collect(&world::options(w, protocol), &trust).unwrap();
    let key = keys::generate();
    let bytes = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
    let b = Bundle::from_bytes(&bytes, "e2e.zip").unwrap();
    let opts = AuditOptions {
        signer_pin: Some(SignerPin::Fingerprint(keys::fingerprint(
            key.verifying_key(),
        ))),
        ..Default::default()
    };
    let r = blyss_evidence::audit::audit(
        &b,
        &protocol_without_registry(protocol),
        &trust,
        &opts,
        blyss_evidence::util::now(),
    );
    common::report::assert_valid_report_json(&r.to_json());
    r
}

fn failures(r: &Report) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{} [{}]: {}", c.id, c.required, c.summary))
        .collect()
}

fn status(r: &Report, id: &str) -> Status {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .status
}

#[test]
fn collect_then_audit_passes_under_the_test_trust_file() {
    let w = World::start();
    w.serve_synthetic("v0.0.1", &w.enclave_cert.clone());
    let r = collect_and_audit(&w, "v0.0.1");
    assert_eq!(r.verdict.status, Verdict::Pass, "{:#?}", failures(&r));
    assert!(r.verdict.non_production_trust);
    for id in [
        "bundle.signature",
        "bundle.integrity",
        "tls.binding",
        "tls.chain",
        "snp.measurement",
        "amd.chain",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}: {:#?}", failures(&r));
    }
}

#[test]
fn mitm_certificate_fails_exactly_the_tls_binding() {
    let w = World::start();
    w.serve_synthetic("v0.0.1", &w.enclave_cert.clone());
    // A CT-logged certificate for the same host from a trusted CA: only
    // the binding can tell it is not the enclave's.
    let mitm =
        w.ct.embed(&w.ca.issue(&LeafSpec::loopback("interceptor", 500)), &w.ca);
    w.present(CertPlan::Fixed(w.certified(&mitm)));
    let r = collect_and_audit(&w, "v0.0.1");
    assert_eq!(r.verdict.status, Verdict::Fail);
    assert_eq!(
        r.verdict.failed_required,
        vec!["tls.binding".to_string()],
        "{:#?}",
        failures(&r)
    );
    assert_eq!(status(&r, "tls.chain"), Status::Pass);
}

#[test]
fn self_signed_test_enclave_passes_under_v001_test_and_fails_under_v001() {
    let w = World::start();
    let ss = world::TestCa::self_signed("blyss test cert");
    w.present(CertPlan::Fixed(world::certified(&[ss.der.as_slice()], &ss)));
    w.serve_synthetic("v0.0.1-test", &ss);
    let r = collect_and_audit(&w, "v0.0.1-test");
    // v0.0.1-test pins the December command line; the synthetic document
    // carries the January one, so only the TLS checks are compared here.
    assert_eq!(
        status(&r, "tls.binding"),
        Status::Pass,
        "{:#?}",
        failures(&r)
    );
    assert_eq!(status(&r, "tls.chain"), Status::NotApplicable);
    let r = collect_and_audit(&w, "v0.0.1");
    assert_eq!(status(&r, "tls.binding"), Status::Pass);
    assert_eq!(status(&r, "tls.chain"), Status::Fail);
}

#[test]
fn turin_report_fetches_the_vcek_with_the_8_byte_hwid_and_fmc_spl() {
    let w = World::start();
    w.serve_synthetic_for(Product::Turin, "v0.0.1", &w.enclave_cert.clone());
    let c =
        blyss_evidence::collect::collect(&world::options(&w, "v0.0.1"), &world::trust(&w)).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let hits = w.kds.hits("/vcek/v1/Turin/");
    let vcek: Vec<_> = hits.iter().filter(|h| h.contains('?')).collect();
    assert_eq!(vcek.len(), 1, "{hits:?}");
    let hwid = &vcek[0]["/vcek/v1/Turin/".len()..vcek[0].find('?').unwrap()];
    assert_eq!(hwid.len(), 16, "8-byte hwID: {hwid}");
    assert!(vcek[0].contains("?fmcSPL="), "{}", vcek[0]);
}

#[test]
fn cli_verify_passes_and_cli_collect_then_audit_agrees() {
    let w = World::start();
    w.serve_synthetic("v0.0.1", &w.enclave_cert.clone());
    let proto = w.path("v0.0.1-no-registry.json");
    std::fs::write(&proto, protocol_without_registry_bytes("v0.0.1")).unwrap();
    let net = [
        "--protocol".to_string(),
        proto.display().to_string(),
        "--trust".to_string(),
        w.trust_file().display().to_string(),
        "--kds-url".into(),
        w.kds.url(),
        "--timeout".into(),
        "5".into(),
        "--log-list-url".into(),
        w.ct.list_url.clone(),
        "--ct-merge-wait".into(),
        "3".into(),
    ];
    let o = Command::cargo_bin("blyss-evidence")
        .unwrap()
        .arg("verify")
        .arg(w.url())
        .args(&net)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("verdict: PASS"), "{out}");
    assert!(out.contains("NON-PRODUCTION TRUST SET"), "{out}");

    let k = w.path("c.key");
    keys::write_pair(&keys::generate(), &k).unwrap();
    let bundle = w.path("e2e.zip");
    let o = Command::cargo_bin("blyss-evidence")
        .unwrap()
        .arg("collect")
        .arg(w.url())
        .args([
            "-q",
            "-o",
            &bundle.display().to_string(),
            "--key",
            &k.display().to_string(),
        ])
        .args(&net)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["audit", &bundle.display().to_string(), "--trust"])
        .arg(w.trust_file())
        .arg("--protocol")
        .arg(&proto)
        .args(["--signer", &keys::pub_path(&k).display().to_string()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn verify_url_reports_a_collection_error_for_an_unreachable_service() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let e = blyss_evidence::collect::verify_url(&format!("https://127.0.0.1:{port}")).unwrap_err();
    assert!(
        matches!(e, blyss_evidence::collect::VerifyError::Collect(_)),
        "{e}"
    );
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[test]
fn synthetic_documents_carry_the_measurement_of_the_real_blyss_launch() {
    // Our engine, fed the real January launch parameters and the v0.0.1
    // firmware descriptor, gives the real report's MEASUREMENT: the
    // synthetic reports carry a real-world digest, not a made-up one.
    let real = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(
        world::BLYSS_DOC_2024,
    )
    .unwrap();
    let l = real.launch.clone().unwrap();
    let m = world::expected_measurement("v0.0.1", &l.kernel_cli, l.num_vcpus);
    assert_eq!(m, real.measurement());
    assert!(hex::encode(m).starts_with("1ee2a500"));
}
