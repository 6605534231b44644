//! Online parts of issue 16 for NVSwitches, against the loopback world:
//! `--fetch-rims` asks NVIDIA's RIM service (a look-alike) for the
//! switch-BIOS RIM by the id derived from the switch's SIGNED BIOS version
//! (`NV_SWITCH_BIOS_5612_0002_890_9610550001` for the real LS10), and
//! `--fetch-ocsp` asks the responder about the switch's device and RIM
//! chains; answers the responder does not have become recorded warnings.
#![cfg(feature = "collect")]

use crate::common;

use blyss_evidence::bundle::{keys, Bundle};
use blyss_evidence::checks::{AuditOptions, Scope, Status};
use blyss_evidence::evidence::gpu::{nvidia, DeviceKind};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use common::snp::{one, root};
use common::world::{self, World};
use time::OffsetDateTime;

const CASE: &str = "fixtures/field/nv-nvswitch-ls10-96.10.55-with-rim";
const FILE: &str = "nvidia-switch-evidence.json";
const RIM_ID: &str = "NV_SWITCH_BIOS_5612_0002_890_9610550001";
const H100: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
/// NVIDIA's real answer for "NVIDIA GH100 Identity", a certificate the
/// LS10 chain shares with the H100 (same serial and issuer).
const H100_L2: &str = "test_gpu_certificate_l2_base64encoded_ocsp_response.dat";
/// Inside the switch-BIOS RIM signer's validity (2026-05-20 → 2028-05-19).
const AT_2026: &str = "2026-06-01T00:00:00Z";
/// The H100 device-chain answers' producedAt.
const DEVICE_PRODUCED: &str = "2025-08-21T06:47:08Z";

fn case(f: &str) -> Vec<u8> {
    std::fs::read(root().join(CASE).join(f)).unwrap()
}

fn l2_der() -> Vec<u8> {
    use base64::Engine;
    let t = std::fs::read_to_string(root().join(H100).join(H100_L2)).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(t.split_whitespace().collect::<String>())
        .unwrap()
}

fn envelope(id: &str, xml: &[u8]) -> Vec<u8> {
    use base64::Engine;
    serde_json::to_vec(&serde_json::json!({
        "id": id,
        "rim": base64::engine::general_purpose::STANDARD.encode(xml),
    }))
    .unwrap()
}

fn service(w: &World, seed: &str, serial: u32) -> world::Server {
    let leaf = w.ca.issue(&world::LeafSpec::loopback(seed, serial));
    world::Server::start(Some(world::CertPlan::Fixed(w.certified(&leaf))))
}

/// A RIM service holding only the real switch-BIOS RIM; other ids are 404.
fn rim_service(w: &World) -> world::Server {
    let s = service(w, "switch-rim-service", 40);
    let xml = case(&format!("{RIM_ID}.xml"));
    s.route_prefix("/v1/rim/", move |req| {
        if req.path.trim_start_matches("/v1/rim/") == RIM_ID {
            world::HttpResponse::ok("application/json", envelope(RIM_ID, &xml))
        } else {
            world::HttpResponse::status(404, "RIM not found")
        }
    });
    s
}

/// An OCSP responder that knows one certificate: it answers the request
/// whose CertID the real H100 L2 answer carries with that answer, and any
/// other with HTTP 404.
fn ocsp_responder(w: &World) -> world::Server {
    let s = service(w, "switch-ocsp", 41);
    let canned = l2_der();
    s.route("/", move |req| {
        let mut inner: &[u8] = &req.body;
        for _ in 0..4 {
            match <der::asn1::AnyRef as der::Decode>::from_der(inner) {
                Ok(a) => inner = a.value(),
                Err(_) => return world::HttpResponse::status(400, "malformed"),
            }
        }
        if canned.windows(inner.len()).any(|w| w == inner) {
            world::HttpResponse::ok("application/ocsp-response", canned.clone())
        } else {
            world::HttpResponse::status(404, "unknown certificate")
        }
    });
    s
}

/// Imports the real switch file (no RIM) and fetches from the world.
fn import_and_fetch(
    w: &World,
    rims: Option<&world::Server>,
    ocsp: Option<&world::Server>,
) -> blyss_evidence::collect::Collected {
    use blyss_evidence::bundle::import::{import_into, ImportRequest};
    let dir = tempfile::tempdir().unwrap();
    let file = world::write(dir.path(), FILE, &case(FILE));
    let at = blyss_evidence::util::now();
    let mut b = blyss_evidence::bundle::BundleBuilder::new("file", "snp-only", at);
    import_into(
        &mut b,
        &ImportRequest {
            attestation: None,
            report: None,
            vcek: None,
            from_dir: None,
            firmware: Vec::new(),
            gpu_evidence: None,
            switch_evidence: Some(&file),
            rims: Vec::new(),
            ocsp: Vec::new(),
            tinfoil_bundle: None,
        },
        at,
    )
    .unwrap();
    let switches = nvidia::parse_as(DeviceKind::Switch, &case(FILE), &[], 0).unwrap();
    let mut o = world::options(w, "snp-only");
    if let Some(s) = rims {
        o.nvidia.fetch_rims = true;
        o.nvidia.rim_service_url = format!("{}/v1/rim/", s.url());
    }
    if let Some(s) = ocsp {
        o.nvidia.fetch_ocsp = true;
        o.nvidia.ocsp_url = format!("{}/", s.url());
    }
    blyss_evidence::collect::fetch_for_import(b, &o, &world::trust(w), &switches, &[]).unwrap()
}

fn seal(c: blyss_evidence::collect::Collected) -> Bundle {
    let bytes = c
        .builder
        .seal(blyss_evidence::util::now(), &keys::generate())
        .unwrap();
    Bundle::from_bytes(&bytes, "switch-online.zip").unwrap()
}

fn audit_at(b: &Bundle, at: &str) -> Report {
    let at = blyss_evidence::util::parse_time(at).unwrap();
    let at: OffsetDateTime = at;
    blyss_evidence::audit::audit(
        b,
        &Protocol::load("snp-only").unwrap(),
        &TrustSet::production(),
        &AuditOptions {
            scope: Scope::Attestation,
            at: Some(at),
            ..Default::default()
        },
        at,
    )
}

#[test]
fn fetch_rims_asks_for_the_switch_bios_rim_by_its_signed_version_and_the_switch_matches_31_of_31() {
    let w = World::start();
    let rims = rim_service(&w);
    let c = import_and_fetch(&w, Some(&rims), None);
    assert_eq!(
        rims.hits("/"),
        vec![format!("/v1/rim/{RIM_ID}")],
        "one id, derived from the signed switch-BIOS version 96.10.55.00.01"
    );
    let b = seal(c);
    assert_eq!(
        b.member(&format!("evidence/gpu/rims/{RIM_ID}.json"))
            .unwrap(),
        envelope(RIM_ID, &case(&format!("{RIM_ID}.xml"))).as_slice(),
        "stored exactly as received"
    );
    let r = audit_at(&b, AT_2026);
    for id in [
        "switch.rim-signature",
        "switch.versions",
        "switch.measurements",
    ] {
        let c = one(&r, id, Some("switch0"));
        assert_eq!(c.status, Status::Pass, "{id}: {}", c.summary);
    }
    assert!(one(&r, "switch.measurements", Some("switch0"))
        .summary
        .starts_with("31/31"));
}

#[test]
fn switch_bios_rim_the_service_does_not_have_is_recorded_and_the_measurements_fail() {
    let w = World::start();
    let rims = service(&w, "empty-rim-service", 42);
    rims.route_prefix("/v1/rim/", |_| {
        world::HttpResponse::status(404, "RIM not found")
    });
    let c = import_and_fetch(&w, Some(&rims), None);
    assert!(
        c.warnings
            .iter()
            .any(|m| m.contains(RIM_ID) && m.contains("HTTP 404")),
        "{:#?}",
        c.warnings
    );
    let r = audit_at(&seal(c), AT_2026);
    let m = one(&r, "switch.measurements", Some("switch0"));
    assert_eq!(m.status, Status::Fail, "{}", m.summary);
}

#[test]
fn fetch_ocsp_asks_about_the_switch_device_and_rim_chains_and_records_what_the_responder_lacks() {
    let w = World::start();
    let rims = rim_service(&w);
    let ocsp = ocsp_responder(&w);
    let c = import_and_fetch(&w, Some(&rims), Some(&ocsp));
    // Device chain BROM, Provisioner ICA, GH100 Identity (not the FMC
    // leaf, not the root); switch-BIOS RIM chain L4, L3, CA (not the root).
    let posts = ocsp
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 6);
    let missing = c
        .warnings
        .iter()
        .filter(|m| m.contains("NVIDIA OCSP") && m.contains("404"))
        .count();
    assert_eq!(missing, 5, "{:#?}", c.warnings);
    assert!(c
        .warnings
        .iter()
        .any(|m| m.contains("switch0 device chain") && m.contains("404")));
    let b = seal(c);
    let stored = b.members_under("evidence/gpu/ocsp/");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(b.member(stored[0]).unwrap(), l2_der().as_slice());
    // Judged when NVIDIA produced it: fresh for the shared GH100 Identity,
    // the five without an answer warn.
    let r = audit_at(&b, DEVICE_PRODUCED);
    let s = one(&r, "switch.ocsp", Some("switch0"));
    assert_eq!(s.status, Status::Warn, "{}", s.summary);
    let actual = s.actual.as_deref().unwrap();
    assert!(
        actual.contains("device chain NVIDIA GH100 Identity (serial 4C255EDE3BD001BF3F4A3B605FCA898A): good, fresh"),
        "{actual}"
    );
    assert!(s.summary.contains("5 of 6"), "{}", s.summary);
}

#[test]
fn cli_switch_import_with_fetch_rims_and_fetch_ocsp_stores_both() {
    let w = World::start();
    let rims = rim_service(&w);
    let ocsp = ocsp_responder(&w);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("switch.zip");
    assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["collect", "--switch-evidence"])
        .arg(root().join(CASE).join(FILE))
        .args(["--fetch-rims", "--fetch-ocsp", "-q"])
        .arg("--rim-service-url")
        .arg(format!("{}/v1/rim/", rims.url()))
        .arg("--ocsp-url")
        .arg(format!("{}/", ocsp.url()))
        .arg("--trust")
        .arg(w.trust_file())
        .arg("--key")
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .args(["--protocol", "snp-only", "-o"])
        .arg(&out)
        .assert()
        .success();
    let b = Bundle::open(&out).unwrap();
    assert!(b
        .member(&format!("evidence/gpu/rims/{RIM_ID}.json"))
        .is_some());
    assert_eq!(b.members_under("evidence/gpu/ocsp/").len(), 1);
    assert!(b
        .member("evidence/gpu/nvidia-switch-evidence.json")
        .is_some());
}
