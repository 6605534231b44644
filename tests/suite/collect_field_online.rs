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

pub(crate) fn seal(c: blyss_evidence::collect::Collected) -> Bundle {
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

// ---------------------------------------------------------------------------
// NVIDIA RIM service and OCSP responder
// ---------------------------------------------------------------------------

const H100: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const DRIVER_ID: &str = "NV_GPU_DRIVER_GH100_550.90.07";
const VBIOS_ID: &str = "NV_GPU_VBIOS_1010_0200_882_96009F0001";
/// Inside the validity of every certificate involved (the device chain's
/// OCSP answers were produced 2025-08-21, the RIM chain's 2025-10-24).
const AT_2025: i64 = 1_755_734_400; // 2025-08-21T00:00:00Z

fn h100(f: &str) -> Vec<u8> {
    std::fs::read(root().join(H100).join(f)).unwrap()
}

/// NVIDIA's real OCSP responses (base64 files as published), decoded.
fn canned_ocsp() -> Vec<(String, Vec<u8>)> {
    use base64::Engine;
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join(H100)).unwrap() {
        let p = e.unwrap().path();
        let n = p.file_name().unwrap().to_str().unwrap().to_string();
        if n.ends_with("_ocsp_response.dat") {
            let t = std::fs::read_to_string(&p).unwrap();
            let der = base64::engine::general_purpose::STANDARD
                .decode(t.split_whitespace().collect::<String>())
                .unwrap();
            out.push((n, der));
        }
    }
    out.sort();
    assert_eq!(out.len(), 7);
    out
}

/// The RIM-service envelope: `{"id", "rim": base64(XML)}` as NVIDIA serves it.
fn envelope(id: &str, xml: &[u8]) -> Vec<u8> {
    use base64::Engine;
    serde_json::to_vec(&serde_json::json!({
        "id": id,
        "rim": base64::engine::general_purpose::STANDARD.encode(xml),
        "sha256": "(not judged)",
    }))
    .unwrap()
}

/// An https server of the world (CA-issued loopback certificate).
fn service(w: &World, seed: &str, serial: u32) -> world::Server {
    let leaf = w.ca.issue(&world::LeafSpec::loopback(seed, serial));
    world::Server::start(Some(world::CertPlan::Fixed(w.certified(&leaf))))
}

/// A RIM service with these (id, XML) RIMs; any other id is 404.
fn rim_service(w: &World, rims: Vec<(&'static str, Vec<u8>)>) -> world::Server {
    let s = service(w, "rim-service", 30);
    s.route_prefix("/v1/rim/", move |req| {
        let id = req.path.trim_start_matches("/v1/rim/");
        match rims.iter().find(|(i, _)| *i == id) {
            Some((i, xml)) => world::HttpResponse::ok("application/json", envelope(i, xml)),
            None => world::HttpResponse::status(404, "RIM not found"),
        }
    });
    s
}

/// An OCSP responder answering each POSTed request with the canned
/// response that carries its CertID (the request's innermost SEQUENCE),
/// and "unauthorized" (status 6) for any other.
fn ocsp_responder(w: &World) -> world::Server {
    let s = service(w, "ocsp", 31);
    let canned = canned_ocsp();
    s.route("/", move |req| {
        if req.method != "POST"
            || req.headers.get("content-type").map(String::as_str)
                != Some("application/ocsp-request")
        {
            return world::HttpResponse::status(400, "POST an application/ocsp-request");
        }
        // OCSPRequest > TBSRequest > requestList > Request > CertID.
        let mut inner: &[u8] = &req.body;
        for _ in 0..4 {
            match <der::asn1::AnyRef as der::Decode>::from_der(inner) {
                Ok(a) => inner = a.value(),
                Err(_) => return world::HttpResponse::status(400, "malformed"),
            }
        }
        let cert_id = inner.to_vec();
        match canned
            .iter()
            .find(|(_, r)| r.windows(cert_id.len()).any(|w| w == cert_id.as_slice()))
        {
            Some((_, r)) => world::HttpResponse::ok("application/ocsp-response", r.clone()),
            None => world::HttpResponse::ok(
                "application/ocsp-response",
                vec![0x30, 0x03, 0x0A, 0x01, 0x06],
            ),
        }
    });
    s
}

/// Imports the real H100 interchange file (no RIMs) and fetches from the
/// world's services.
fn import_and_fetch(
    w: &World,
    rims: &world::Server,
    ocsp: Option<&world::Server>,
) -> blyss_evidence::collect::Collected {
    use blyss_evidence::bundle::import::{import_into, ImportRequest};
    let dir = tempfile::tempdir().unwrap();
    let file = world::write(
        dir.path(),
        "nvidia-evidence.json",
        &h100("nvidia-evidence.json"),
    );
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
            gpu_evidence: Some(&file),
            switch_evidence: None,
            rims: Vec::new(),
            ocsp: Vec::new(),
            tinfoil_bundle: None,
        },
        at,
    )
    .unwrap();
    let gpus = blyss_evidence::evidence::gpu::nvidia::parse(&h100("nvidia-evidence.json"), &[], 0)
        .unwrap();
    let mut o = world::options(w, "snp-only");
    o.nvidia.fetch_rims = true;
    o.nvidia.rim_service_url = format!("{}/v1/rim/", rims.url());
    if let Some(s) = ocsp {
        o.nvidia.fetch_ocsp = true;
        o.nvidia.ocsp_url = format!("{}/", s.url());
    }
    blyss_evidence::collect::fetch_for_import(b, &o, &world::trust(w), &gpus, &[]).unwrap()
}

fn audit_gpu_2025(b: &Bundle) -> Report {
    let at = OffsetDateTime::from_unix_timestamp(AT_2025).unwrap();
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
fn fetched_rims_are_stored_as_the_service_sent_them_and_the_h100_matches_21_plus_12() {
    let w = World::start();
    let rims = rim_service(
        &w,
        vec![
            (DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml")),
            (VBIOS_ID, h100("NV_GPU_VBIOS_1010_0200_882_96009F0001.xml")),
        ],
    );
    let c = import_and_fetch(&w, &rims, None);
    let mut hits = rims.hits("/");
    hits.sort();
    assert_eq!(
        hits,
        vec![
            format!("/v1/rim/{DRIVER_ID}"),
            format!("/v1/rim/{VBIOS_ID}")
        ],
        "the ids derived from the signed report"
    );
    let b = seal(c);
    for (id, f) in [
        (DRIVER_ID, "NV_GPU_DRIVER_GH100_550.90.07.xml"),
        (VBIOS_ID, "NV_GPU_VBIOS_1010_0200_882_96009F0001.xml"),
    ] {
        assert_eq!(
            b.member(&format!("evidence/gpu/rims/{id}.json")).unwrap(),
            envelope(id, &h100(f)).as_slice(),
            "stored exactly as received"
        );
    }
    let r = audit_gpu_2025(&b);
    for id in [
        "gpu.spdm-signature",
        "gpu.rim-signature",
        "gpu.measurements",
    ] {
        assert_passes(&r, id, Some("gpu0"));
    }
    let m = one(&r, "gpu.measurements", Some("gpu0"));
    assert_eq!(m.details["matched"], 33, "{:#?}", m.details);
}

#[test]
fn rim_the_service_does_not_have_is_recorded_and_the_measurements_fail_for_want_of_it() {
    let w = World::start();
    // Only the driver RIM is published; the VBIOS id is 404.
    let rims = rim_service(
        &w,
        vec![(DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml"))],
    );
    let c = import_and_fetch(&w, &rims, None);
    assert!(
        c.warnings
            .iter()
            .any(|m| m.contains(VBIOS_ID) && m.contains("HTTP 404")),
        "{:#?}",
        c.warnings
    );
    let r = audit_gpu_2025(&seal(c));
    let m = one(&r, "gpu.measurements", Some("gpu0"));
    assert_eq!(m.status, blyss_evidence::checks::Status::Fail, "{m:#?}");
    assert!(m.summary.contains("RIM"), "{}", m.summary);
}

#[test]
fn rim_service_answering_with_another_versions_rim_fails_the_measurements() {
    let w = World::start();
    // The service answers the VBIOS id with the 2023 sample's VBIOS RIM.
    let other = std::fs::read(root().join(
        "fixtures/field/nv-h100-nvtrust-2023-drv545/vbios_rim_1010_0200_882_96005E0001_PROD.swidtag",
    ))
    .unwrap();
    let rims = rim_service(
        &w,
        vec![
            (DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml")),
            (VBIOS_ID, other),
        ],
    );
    let c = import_and_fetch(&w, &rims, None);
    let r = audit_gpu_2025(&seal(c));
    let m = one(&r, "gpu.measurements", Some("gpu0"));
    assert_eq!(m.status, blyss_evidence::checks::Status::Fail, "{m:#?}");
}

#[test]
fn ocsp_is_asked_once_per_covered_certificate_and_each_answer_stored_as_received() {
    let w = World::start();
    let rims = rim_service(
        &w,
        vec![
            (DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml")),
            (VBIOS_ID, h100("NV_GPU_VBIOS_1010_0200_882_96009F0001.xml")),
        ],
    );
    let ocsp = ocsp_responder(&w);
    let c = import_and_fetch(&w, &rims, Some(&ocsp));
    assert!(
        !c.warnings.iter().any(|m| m.contains("OCSP")),
        "{:#?}",
        c.warnings
    );
    // Device chain L4, L3, L2 (not the FMC leaf, not the root); RIM chains:
    // two L4 signers, the shared L3 and L2 once each (not the root).
    let posts = ocsp
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 7);
    let b = seal(c);
    let stored: Vec<&[u8]> = b
        .members_under("evidence/gpu/ocsp/")
        .into_iter()
        .map(|p| b.member(p).unwrap())
        .collect();
    assert_eq!(stored.len(), 7);
    for (name, der) in canned_ocsp() {
        assert!(
            stored.contains(&der.as_slice()),
            "{name}: the responder's answer must be stored byte for byte"
        );
    }
}

#[test]
fn ocsp_responder_failure_is_recorded_per_certificate_and_nothing_is_stored() {
    let w = World::start();
    let rims = rim_service(&w, vec![]);
    let ocsp = service(&w, "ocsp-down", 32);
    ocsp.route("/", |_| {
        world::HttpResponse::ok("text/html", "<html>maintenance</html>")
    });
    let c = import_and_fetch(&w, &rims, Some(&ocsp));
    let unusable = c
        .warnings
        .iter()
        .filter(|m| m.contains("NVIDIA OCSP") && m.contains("unusable response"))
        .count();
    assert_eq!(unusable, 3, "device chain L4, L3, L2: {:#?}", c.warnings);
    let b = seal(c);
    assert!(b.members_under("evidence/gpu/ocsp/").is_empty());
}

#[test]
fn cli_import_with_fetch_rims_and_fetch_ocsp_writes_a_bundle_with_both() {
    let w = World::start();
    let rims = rim_service(
        &w,
        vec![
            (DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml")),
            (VBIOS_ID, h100("NV_GPU_VBIOS_1010_0200_882_96009F0001.xml")),
        ],
    );
    let ocsp = ocsp_responder(&w);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gpu.zip");
    assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["collect", "--gpu-evidence"])
        .arg(root().join(H100).join("nvidia-evidence.json"))
        .args(["--fetch-rims", "--fetch-ocsp", "--strict", "-q"])
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
        .member(&format!("evidence/gpu/rims/{DRIVER_ID}.json"))
        .is_some());
    assert_eq!(b.members_under("evidence/gpu/ocsp/").len(), 7);
    assert!(b.member("evidence/gpu/nvidia-evidence.json").is_some());
}

// ---------------------------------------------------------------------------
// Tinfoil enclave (issue 17, online collect)
// ---------------------------------------------------------------------------

const TINFOIL_REPO: &str = "tinfoilsh/confidential-model-router";

pub(crate) fn tinfoil_bundle() -> serde_json::Value {
    serde_json::from_slice(
        &std::fs::read(root().join(
            "fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json",
        ))
        .unwrap(),
    )
    .unwrap()
}

/// The world's enclave serving the real Tinfoil bundle's pieces at Tinfoil's
/// well-known paths, KDS serving its VCEK for the report's chip and TCB
/// (AMD's real Genoa ASK/ARK), and a GitHub API look-alike serving release
/// v0.0.38 (`release_body`) and its Sigstore bundle.
fn tinfoil_world(release_body: &str) -> (World, world::Server) {
    let att = serde_json::to_vec(&tinfoil_bundle()["enclaveAttestationReport"]).unwrap();
    tinfoil_world_serving(att, release_body)
}

/// [`tinfoil_world`] with this enclave attestation document.
pub(crate) fn tinfoil_world_serving(att: Vec<u8>, release_body: &str) -> (World, world::Server) {
    tinfoil_world_tagged(att, release_body, "v0.0.38")
}

/// [`tinfoil_world_serving`] whose GitHub names the release `tag` (the
/// real Sigstore certificate is for `refs/tags/v0.0.38`).
pub(crate) fn tinfoil_world_tagged(
    att: Vec<u8>,
    release_body: &str,
    tag: &str,
) -> (World, world::Server) {
    use base64::Engine;
    let w = World::start();
    let b = tinfoil_bundle();
    w.enclave
        .serve("/.well-known/tinfoil-attestation", "application/json", att);
    let cert = serde_json::to_vec(&serde_json::json!({"certificate": b["enclaveCert"]})).unwrap();
    w.enclave
        .serve("/.well-known/tinfoil-certificate", "application/json", cert);
    let report =
        blyss_evidence::collect::tinfoil::report_of(&b["enclaveAttestationReport"]).unwrap();
    let vcek = base64::engine::general_purpose::STANDARD
        .decode(b["vcek"].as_str().unwrap())
        .unwrap();
    let prod = TrustSet::production();
    let genoa = prod.amd.get("Genoa").unwrap();
    let c = world::KdsContent {
        product: "Genoa".into(),
        cert_chain_pem: world::pem_chain(&[&genoa.ask, &genoa.ark]),
        crl_der: world::test_crl(&w.ca),
        vcek_der: vcek,
        chip_id: report[0x1A0..0x1E0].try_into().unwrap(),
        reported_tcb: report[0x180..0x188].try_into().unwrap(),
    };
    w.serve_kds(&c, &genoa.ark, &genoa.ask);
    let gh = service(&w, "github-api", 40);
    let rel =
        serde_json::to_vec(&serde_json::json!({"tag_name": tag, "body": release_body})).unwrap();
    for p in ["latest".to_string(), format!("tags/{tag}")] {
        gh.serve(
            &format!("/repos/{TINFOIL_REPO}/releases/{p}"),
            "application/json",
            rel.clone(),
        );
    }
    let digest = b["digest"].as_str().unwrap();
    let atts = serde_json::to_vec(&serde_json::json!({
        "attestations": [{"bundle": b["sigstoreBundle"], "repository_id": 1}]
    }))
    .unwrap();
    gh.serve(
        &format!("/repos/{TINFOIL_REPO}/attestations/sha256:{digest}"),
        "application/json",
        atts,
    );
    (w, gh)
}

pub(crate) fn tinfoil_options(
    w: &World,
    gh: &world::Server,
) -> blyss_evidence::collect::CollectOptions {
    let mut o = world::options(w, "tinfoil");
    o.tinfoil.github_api_url = gh.url();
    o.tinfoil.github_url = gh.url();
    o
}

#[test]
fn tinfoil_enclave_collect_assembles_the_bundle_the_offline_import_stores_from_the_latest_release()
{
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let (w, gh) = tinfoil_world(&format!("Release v0.0.38\n\nDigest: `{digest}`\n"));
    let trust = world::trust(&w);
    let c = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &trust).unwrap();
    assert!(
        !c.warnings
            .iter()
            .any(|m| m.contains("Tinfoil") || m.contains("AMD")),
        "{:#?}",
        c.warnings
    );
    let mut hits = gh.hits("/");
    hits.sort();
    assert_eq!(
        hits,
        vec![
            format!("/repos/{TINFOIL_REPO}/attestations/sha256:{digest}"),
            format!("/repos/{TINFOIL_REPO}/releases/latest"),
        ]
    );
    let b = seal(c);
    let got: serde_json::Value = serde_json::from_slice(
        b.member("evidence/tinfoil/attestation-bundle.json")
            .unwrap(),
    )
    .unwrap();
    let want = tinfoil_bundle();
    for k in [
        "enclaveAttestationReport",
        "digest",
        "sigstoreBundle",
        "vcek",
        "enclaveCert",
    ] {
        assert_eq!(
            got[k], want[k],
            "{k}: assembled from the answers, equal to Tinfoil's bundle"
        );
    }
    assert_eq!(got["domain"], "127.0.0.1");
    let rec: serde_json::Value =
        serde_json::from_slice(b.member("evidence/tinfoil/collect.json").unwrap()).unwrap();
    assert_eq!(rec["release"], "v0.0.38");
    assert_eq!(rec["repository"], TINFOIL_REPO);
    assert!(
        rec["why"].as_str().unwrap().contains("latest release"),
        "{rec}"
    );
    assert!(
        rec["digest_from"].as_str().unwrap().contains("body"),
        "{rec}"
    );
    for m in [
        "evidence/tinfoil/enclave-attestation.json",
        "evidence/tinfoil/enclave-certificate.json",
        "evidence/tinfoil/release.json",
        "evidence/tinfoil/github-attestations.json",
        "evidence/amd/vcek.der",
        "evidence/amd/cert_chain.pem",
        "evidence/tls/handshake.json",
    ] {
        assert!(b.member(m).is_some(), "{m}");
    }
    assert!(b.member("evidence/attestation.json").is_none());
}

#[test]
fn tinfoil_release_given_explicitly_reads_tinfoil_hash_through_an_https_redirect_and_records_it() {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    // No digest in the release body: the tinfoil.hash asset is read; the
    // download redirects (as GitHub's does) to another https host.
    let (w, gh) = tinfoil_world("Release notes without a digest");
    let objects = service(&w, "objects", 41);
    objects.serve(
        "/blob/tinfoil.hash",
        "application/octet-stream",
        format!("{digest}\n").into_bytes(),
    );
    let to = format!("{}/blob/tinfoil.hash", objects.url());
    gh.route(
        &format!("/{TINFOIL_REPO}/releases/download/v0.0.38/tinfoil.hash"),
        move |_| world::HttpResponse::status(302, "").header("Location", &to),
    );
    let mut o = tinfoil_options(&w, &gh);
    o.tinfoil.release = Some("v0.0.38".into());
    o.allow_private_redirects_unsafe = true;
    let c = blyss_evidence::collect::collect(&o, &world::trust(&w)).unwrap();
    assert!(
        gh.hits("/")
            .contains(&format!("/repos/{TINFOIL_REPO}/releases/tags/v0.0.38")),
        "{:?}",
        gh.hits("/")
    );
    assert!(
        c.builder
            .redirects
            .iter()
            .any(|r| r.requested.ends_with("/tinfoil.hash") && r.hops.len() == 1),
        "the hop is recorded"
    );
    let b = seal(c);
    let rec: serde_json::Value =
        serde_json::from_slice(b.member("evidence/tinfoil/collect.json").unwrap()).unwrap();
    assert!(
        rec["why"]
            .as_str()
            .unwrap()
            .contains("--tinfoil-release v0.0.38"),
        "{rec}"
    );
    assert!(
        rec["digest_from"]
            .as_str()
            .unwrap()
            .contains("tinfoil.hash"),
        "{rec}"
    );
    assert_eq!(rec["digest"], digest.as_str());
    assert!(b.member("evidence/tinfoil/tinfoil.hash").is_some());
    let got: serde_json::Value = serde_json::from_slice(
        b.member("evidence/tinfoil/attestation-bundle.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(got["sigstoreBundle"], tinfoil_bundle()["sigstoreBundle"]);
}

#[test]
fn tinfoil_release_without_a_sigstore_attestation_is_recorded_and_the_bundle_says_null() {
    let (w, gh) =
        tinfoil_world("Digest: `0000000000000000000000000000000000000000000000000000000000000000`");
    let c = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &world::trust(&w)).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|m| m.contains("Tinfoil Sigstore bundle") && m.contains("404")),
        "{:#?}",
        c.warnings
    );
    let b = seal(c);
    let got: serde_json::Value = serde_json::from_slice(
        b.member("evidence/tinfoil/attestation-bundle.json")
            .unwrap(),
    )
    .unwrap();
    assert!(got["sigstoreBundle"].is_null(), "fails closed in the audit");
}

#[test]
fn tinfoil_enclave_without_its_attestation_is_fatal_and_writes_nothing() {
    let w = World::start();
    let gh = service(&w, "github-api", 42);
    let e = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &world::trust(&w))
        .err()
        .expect("nothing to audit");
    assert!(e.to_string().contains("tinfoil-attestation"), "{e}");
}

#[test]
fn online_blyss_collect_with_fetch_ocsp_asks_about_the_documents_device_and_inline_rim_chains() {
    let w = World::start();
    w.serve_real_blyss(
        &std::fs::read(root().join("fixtures/blyss/attestation-2024-01.json")).unwrap(),
    );
    let ocsp = ocsp_responder(&w);
    let mut o = world::options(&w, "v0.0.1");
    o.nvidia.fetch_ocsp = true;
    o.nvidia.ocsp_url = format!("{}/", ocsp.url());
    let c = blyss_evidence::collect::collect(&o, &world::trust(&w)).unwrap();
    assert!(
        !c.warnings.iter().any(|m| m.contains("OCSP")),
        "{:#?}",
        c.warnings
    );
    let posts = ocsp
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    // Device chain: 3 (not the FMC leaf, not the root); inline driver and
    // VBIOS RIM chains: 2 signers, and their shared L3 and L2 once each.
    assert_eq!(posts, 7, "{posts} OCSP requests");
    let b = seal(c);
    assert_eq!(b.members_under("evidence/gpu/ocsp/").len(), posts);
}

#[test]
fn tinfoil_tdx_enclave_is_stored_as_received_with_a_warning_and_no_kds_request() {
    let digest = tinfoil_bundle()["digest"].as_str().unwrap().to_string();
    let tdx = serde_json::to_vec(&serde_json::json!({
        "format": "https://tinfoil.sh/predicate/tdx-guest/v2",
        "body": "H4sIAAAAAAAA/wMAAAAAAAAAAAA=",
    }))
    .unwrap();
    let (w, gh) = tinfoil_world_serving(tdx, &format!("Digest: `{digest}`"));
    let c = blyss_evidence::collect::collect(&tinfoil_options(&w, &gh), &world::trust(&w)).unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|m| m.contains("tdx-guest") && m.contains("not supported")),
        "{:#?}",
        c.warnings
    );
    assert!(w.kds.hits("/").is_empty(), "no KDS request for TDX");
    let b = seal(c);
    let got: serde_json::Value = serde_json::from_slice(
        b.member("evidence/tinfoil/attestation-bundle.json")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        got["enclaveAttestationReport"]["format"],
        "https://tinfoil.sh/predicate/tdx-guest/v2"
    );
    assert!(got["vcek"].is_null());
    assert_eq!(got["sigstoreBundle"], tinfoil_bundle()["sigstoreBundle"]);
}

#[test]
fn oversized_rim_service_and_ocsp_answers_are_refused_at_their_caps_and_not_stored() {
    let w = World::start();
    let rims = rim_service(
        &w,
        vec![
            (DRIVER_ID, h100("NV_GPU_DRIVER_GH100_550.90.07.xml")),
            (VBIOS_ID, h100("NV_GPU_VBIOS_1010_0200_882_96009F0001.xml")),
        ],
    );
    // 3 MiB, close-delimited (no Content-Length to refuse early on).
    rims.fault(
        "/v1/rim/",
        world::Fault::Oversize {
            bytes: 3 * 1024 * 1024,
            declared: false,
        },
    );
    let ocsp = ocsp_responder(&w);
    ocsp.fault(
        "/",
        world::Fault::Oversize {
            bytes: 128 * 1024,
            declared: true,
        },
    );
    let c = import_and_fetch(&w, &rims, Some(&ocsp));
    let capped = |what: &str| {
        c.warnings
            .iter()
            .filter(|m| m.contains(what) && m.contains("cap"))
            .count()
    };
    assert_eq!(capped("NVIDIA RIM"), 2, "{:#?}", c.warnings);
    assert_eq!(capped("NVIDIA OCSP"), 3, "{:#?}", c.warnings);
    let b = seal(c);
    assert!(b.members_under("evidence/gpu/rims/").is_empty());
    assert!(b.members_under("evidence/gpu/ocsp/").is_empty());
}
