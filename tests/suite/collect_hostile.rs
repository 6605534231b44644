//! `collect` against a malicious service (issue 13 item 7): the loopback
//! world in malicious-server mode controls every byte it answers. The
//! collector follows redirects only https → https to public addresses
//! (loopback needs the explicit, recorded UNSAFE opt-in), records every hop
//! and the connection that delivered the document, stops at one overall
//! deadline, does not retry permanent errors and names them for what they
//! are. Servers bind 127.0.0.1 on ephemeral ports; no other address is ever
//! contacted (the metadata-address redirect is refused by the scheme rule
//! before any connection could be made).
#![cfg(feature = "collect")]

use std::time::Duration;

use crate::common;

use blyss_evidence::bundle::Bundle;
use blyss_evidence::collect::{self, CollectOptions};
use common::world::{self, Fault, LeafSpec, Server, World};

const DOC: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");
const CRL: &str = "/vcek/v1/Genoa/crl";
const CHAIN: &str = "/vcek/v1/Genoa/cert_chain";

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

fn warning_containing(b: &Bundle, needles: &[&str]) -> String {
    let ws = &b.statement.predicate.warnings;
    ws.iter()
        .find(|w| needles.iter().all(|n| w.contains(n)))
        .cloned()
        .unwrap_or_else(|| panic!("no warning containing {needles:?} in {ws:#?}"))
}

/// Another HTTPS server on loopback, presenting a certificate of the
/// world's CA (so TLS verifies), serving `path` with `body`.
fn other_server(w: &World, seed: &str, path: &str, body: &[u8]) -> (Server, world::Issued) {
    let cert = w.ca.issue(&LeafSpec::loopback(seed, 77));
    let s = Server::start(Some(world::CertPlan::Fixed(world::certified(
        &[cert.der.as_slice(), w.ca.cert.der.as_slice()],
        &cert,
    ))));
    s.serve(path, "application/json", body.to_vec());
    (s, cert)
}

#[test]
fn document_redirected_from_https_to_http_is_refused_and_no_bundle_is_made() {
    let w = world();
    let plain = Server::start(None);
    plain.serve(world::ATTESTATION_PATH, "application/json", DOC.to_vec());
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Redirect {
            status: 302,
            location: format!("{}{}", plain.url(), world::ATTESTATION_PATH),
        },
    );
    let mut o = world::options(&w, "v0.0.1");
    // Even with the loopback opt-in, the scheme rule holds.
    o.allow_private_redirects_unsafe = true;
    let e = run(&w, &o)
        .expect_err("a document over plain http is refused")
        .to_string();
    assert!(e.contains("redirect to http://127.0.0.1:"), "{e}");
    assert!(e.contains("only to https"), "{e}");
    assert!(
        plain.hits("/").is_empty(),
        "the http server was never contacted"
    );
}

#[test]
fn redirect_to_another_loopback_port_is_refused_without_the_unsafe_opt_in() {
    let w = world();
    let (other, _) = other_server(&w, "other", world::ATTESTATION_PATH, DOC);
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Redirect {
            status: 307,
            location: format!("{}{}", other.url(), world::ATTESTATION_PATH),
        },
    );
    let e = run(&w, &world::options(&w, "v0.0.1"))
        .expect_err("loopback is not a public address")
        .to_string();
    assert!(e.contains("refused"), "{e}");
    assert!(e.contains("127.0.0.1") && e.contains("loopback"), "{e}");
    assert!(other.hits("/").is_empty(), "refused before any request");
    assert_eq!(other.connections(), 0, "refused before any connection");
}

#[test]
fn redirect_to_the_cloud_metadata_address_is_refused_before_any_connection() {
    let w = world();
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Redirect {
            status: 302,
            location: "http://169.254.169.254/latest/meta-data/".into(),
        },
    );
    let mut o = world::options(&w, "v0.0.1");
    o.allow_private_redirects_unsafe = true;
    let e = run(&w, &o).expect_err("refused").to_string();
    assert!(
        e.contains("redirect to http://169.254.169.254/latest/meta-data/ refused"),
        "{e}"
    );
    // Over https too, with the address rule in force.
    let w = world();
    w.kds.fault(
        CRL,
        Fault::Redirect {
            status: 302,
            location: "https://169.254.169.254/crl".into(),
        },
    );
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    let m = warning_containing(&b, &["169.254.169.254", "refused"]);
    assert!(m.contains("link-local"), "{m}");
    assert!(b.member("evidence/amd/crl.der").is_none());
}

#[test]
fn redirect_chain_is_recorded_hop_by_hop_with_the_unsafe_opt_in_and_reported() {
    let w = world();
    let (second, _) = other_server(&w, "hop2", "/unused", b"");
    let (first, _) = other_server(&w, "hop1", "/unused", b"");
    first.fault(
        "/hop",
        Fault::Redirect {
            status: 301,
            location: format!("{}/final.json", second.url()),
        },
    );
    w.kds.fault(
        CRL,
        Fault::Redirect {
            status: 302,
            location: format!("{}/hop", first.url()),
        },
    );
    // The CRL is served (after two hops) by `second`.
    let crl = world::test_crl(&w.ca);
    second.serve("/final.json", "application/pkix-crl", crl.clone());
    let mut o = world::options(&w, "v0.0.1");
    o.allow_private_redirects_unsafe = true;
    let b = run(&w, &o).unwrap();
    let p = &b.statement.predicate;
    assert_eq!(p.unsafe_options, vec!["allow-private-redirects-unsafe"]);
    let chain = p
        .redirects
        .iter()
        .find(|c| c.requested.ends_with(CRL))
        .unwrap_or_else(|| panic!("{:#?}", p.redirects));
    assert_eq!(chain.hops.len(), 2);
    assert_eq!(chain.hops[0].status, 302);
    assert_eq!(chain.hops[0].url, format!("{}{CRL}", w.kds.url()));
    assert_eq!(chain.hops[0].location, format!("{}/hop", first.url()));
    assert_eq!(chain.hops[1].status, 301);
    assert_eq!(
        chain.hops[1].location,
        format!("{}/final.json", second.url())
    );
    assert_eq!(
        b.member("evidence/amd/crl.der")
            .unwrap_or_else(|| panic!("{:#?}", p.warnings)),
        crl.as_slice()
    );
    // The report names the relaxation and the hops.
    let r = blyss_evidence::audit::audit(
        &b,
        &blyss_evidence::protocol::Protocol::load("v0.0.1").unwrap(),
        &world::trust(&w),
        &Default::default(),
        blyss_evidence::util::now(),
    );
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "bundle.collection")
        .unwrap();
    assert_eq!(c.status, blyss_evidence::checks::Status::Warn);
    assert!(
        c.summary.contains("allow-private-redirects-unsafe"),
        "{}",
        c.summary
    );
    assert!(
        c.summary.contains(&format!("→302 {}/hop", first.url())),
        "{}",
        c.summary
    );
}

#[test]
fn kds_answer_redirected_to_plain_http_is_refused_and_recorded_as_missing() {
    let w = world();
    let plain = Server::start(None);
    w.kds.fault(
        CHAIN,
        Fault::Redirect {
            status: 302,
            location: format!("{}/cert_chain", plain.url()),
        },
    );
    let mut o = world::options(&w, "v0.0.1");
    o.allow_private_redirects_unsafe = true;
    let b = run(&w, &o).unwrap();
    assert!(b.member("evidence/amd/cert_chain.pem").is_none());
    let m = warning_containing(&b, &[CHAIN, "refused", "only to https"]);
    assert!(!m.contains("connection failed"), "{m}");
    assert!(plain.hits("/").is_empty());
    assert_eq!(
        w.kds.hits(CHAIN).len(),
        1,
        "a refused redirect is not retried"
    );
}

#[test]
fn registry_token_realm_that_redirects_to_http_is_refused() {
    // The registry look-alike answers 401 with an https token realm whose
    // token endpoint 302s to plain http.
    let w = World::start();
    let (reg, _) = other_server(&w, "registry", "/unused", b"");
    let plain = Server::start(None);
    plain.serve(
        "/token",
        "application/json",
        br#"{"token":"stolen"}"#.to_vec(),
    );
    let realm = format!("{}/token", reg.url());
    reg.route_prefix("/v2/", move |_req| {
        world::HttpResponse::status(401, "auth").header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="{realm}",service="test""#),
        )
    });
    reg.fault(
        "/token",
        Fault::Redirect {
            status: 302,
            location: format!("{}/token", plain.url()),
        },
    );
    let cfg = blyss_evidence::collect::http::HttpConfig {
        allow_private_redirects_unsafe: true,
        retries: 0,
        ..Default::default()
    };
    let client = blyss_evidence::collect::http::HttpClient::new(cfg, &world::trust(&w));
    let transport = blyss_evidence::collect::registry::HttpClientTransport(client);
    let mut b =
        blyss_evidence::bundle::BundleBuilder::new("t", "v0.0.1", blyss_evidence::util::now());
    let mut opts = blyss_evidence::collect::registry::RegistryOptions::default();
    opts.mirrors.insert("docker.io".into(), reg.url());
    let target = blyss_evidence::collect::registry::ImageTarget {
        param: Some("blyss_docker_img".into()),
        reference:
            "vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f"
                .into(),
    };
    let got =
        blyss_evidence::collect::registry::collect_images(&mut b, &transport, &opts, &[target])
            .unwrap();
    let errs = got[0].errors.join("; ");
    assert!(
        errs.contains("refused") && errs.contains("only to https"),
        "{errs}"
    );
    assert!(plain.hits("/").is_empty(), "the token never went to http");
}

/// The real document with REPORT_DATA (and the fingerprint field) bound
/// to `sha` (its report signature no longer verifies; `tls.binding` only
/// compares certificates).
fn doc_bound_to(sha: [u8; 32]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(DOC).unwrap();
    let mut rd: Vec<serde_json::Value> = sha.iter().map(|b| (*b).into()).collect();
    rd.extend((0..32).map(|_| serde_json::Value::from(0u8)));
    v["cpu_attestation"]["report_data"] = rd.into();
    v["cert_sha256_fingerprint"] = hex::encode(sha).into();
    serde_json::to_vec(&v).unwrap()
}

fn binding_of(b: &Bundle, w: &World) -> blyss_evidence::checks::CheckResult {
    let r = blyss_evidence::audit::audit(
        b,
        &blyss_evidence::protocol::Protocol::load("v0.0.1").unwrap(),
        &world::trust(w),
        &Default::default(),
        blyss_evidence::util::now(),
    );
    r.checks
        .into_iter()
        .find(|c| c.id == "tls.binding")
        .unwrap()
}

#[test]
fn document_delivered_with_a_third_certificate_fails_tls_binding() {
    // The capture handshakes see the attested certificate; the document
    // itself comes (after a recorded redirect) over a connection
    // presenting another certificate of the same CA.
    let w = World::start();
    let doc = doc_bound_to(w.enclave_cert.sha256());
    w.serve_real_blyss(&doc);
    let (third, third_cert) = other_server(&w, "third", world::ATTESTATION_PATH, &doc);
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Redirect {
            status: 302,
            location: format!("{}{}", third.url(), world::ATTESTATION_PATH),
        },
    );
    let mut o = world::options(&w, "v0.0.1");
    o.allow_private_redirects_unsafe = true;
    let b = run(&w, &o).unwrap();
    let dc = b.statement.predicate.document_connection.clone().unwrap();
    assert_eq!(dc.leaf_sha256, third_cert.sha256_hex());
    assert!(dc.verified);
    assert_eq!(
        b.member("evidence/tls/document/chain-00.der").unwrap(),
        third_cert.der.as_slice()
    );
    let c = binding_of(&b, &w);
    assert_eq!(
        c.status,
        blyss_evidence::checks::Status::Fail,
        "{}",
        c.summary
    );
    assert!(
        c.summary
            .contains("delivered over a connection presenting another certificate"),
        "{}",
        c.summary
    );

    // Control: without the redirect the same world binds, and the
    // document's own connection presented the attested certificate.
    w.enclave.clear_faults();
    let b = run(&w, &world::options(&w, "v0.0.1")).unwrap();
    let dc = b.statement.predicate.document_connection.clone().unwrap();
    assert_eq!(dc.leaf_sha256, w.enclave_cert.sha256_hex());
    let c = binding_of(&b, &w);
    assert_eq!(
        c.status,
        blyss_evidence::checks::Status::Pass,
        "{}",
        c.summary
    );
}

#[test]
fn overall_deadline_stops_a_collection_whose_kds_stalls_and_records_what_is_missing() {
    let w = world();
    w.kds.fault("/", Fault::Stall(Duration::from_secs(60)));
    let mut o = world::options(&w, "v0.0.1");
    // Per-resource budget far beyond the overall deadline: only the
    // overall deadline can end this collection early.
    o.http.resource_timeout = Duration::from_secs(600);
    o.http.read_timeout = Duration::from_secs(30);
    o.http.request_timeout = Duration::from_secs(60);
    o.deadline = Duration::from_secs(4);
    let b = run(&w, &o).unwrap();
    assert!(b.member("evidence/attestation.json").is_some());
    for m in ["amd/crl.der", "amd/vcek.der", "amd/cert_chain.pem"] {
        assert!(b.member(&format!("evidence/{m}")).is_none(), "{m}");
    }
    warning_containing(&b, &[CRL, "deadline"]);
    warning_containing(&b, &[CHAIN, "deadline"]);
}

#[test]
fn permanent_errors_are_not_retried_and_are_named_for_what_they_are() {
    let w = world();
    w.kds.fault(CRL, Fault::HugeHeader { bytes: 200 * 1024 });
    w.kds.fault(CHAIN, Fault::BadGzip);
    let mut o = world::options(&w, "v0.0.1");
    o.http.retries = 3;
    let b = run(&w, &o).unwrap();
    let m = warning_containing(&b, &[CRL, "header too big", "not retried"]);
    assert!(!m.contains("connection failed"), "{m}");
    let m = warning_containing(&b, &[CHAIN, "content encoding", "not retried"]);
    assert!(!m.contains("body truncated"), "{m}");
    assert_eq!(w.kds.hits(CRL).len(), 1, "header too big: one request");
    assert_eq!(w.kds.hits(CHAIN).len(), 1, "bad gzip: one request");
}

#[test]
fn too_many_redirects_is_named_and_not_retried() {
    let w = world();
    let (other, _) = other_server(&w, "loop", "/unused", b"");
    other.fault(
        "/loop",
        Fault::Redirect {
            status: 302,
            location: format!("{}/loop", other.url()),
        },
    );
    w.kds.fault(
        CRL,
        Fault::Redirect {
            status: 302,
            location: format!("{}/loop", other.url()),
        },
    );
    let mut o = world::options(&w, "v0.0.1");
    o.allow_private_redirects_unsafe = true;
    let b = run(&w, &o).unwrap();
    warning_containing(&b, &[CRL, "too many redirects (more than 5)"]);
    assert_eq!(w.kds.hits(CRL).len(), 1);
    assert_eq!(other.hits("/loop").len(), 5);
}

#[test]
fn stalled_tls_handshake_is_named_as_such_not_as_a_connect_timeout() {
    let w = world();
    let (stalled, _) = other_server(&w, "stall", "/crl", b"");
    stalled.stall_tls_handshakes(Some(Duration::from_secs(20)));
    let mut o = world::options(&w, "v0.0.1");
    o.http.retries = 0;
    o.http.connect_timeout = Duration::from_secs(1);
    o.http.request_timeout = Duration::from_secs(2);
    o.kds_url = stalled.url();
    let b = run(&w, &o).unwrap();
    let m = warning_containing(&b, &["timed out (TLS handshake)"]);
    assert!(!m.contains("(connect)"), "{m}");
}

#[test]
fn retry_after_beyond_the_time_left_says_so() {
    let w = world();
    w.kds
        .fault(CHAIN, Fault::TooManyRequests { retry_after: 170 });
    let mut o = world::options(&w, "v0.0.1");
    o.http.resource_timeout = Duration::from_secs(180);
    // 170 s is within the resource's 180 s, but not within the time left.
    o.deadline = Duration::from_secs(20);
    let b = run(&w, &o).unwrap();
    let m = warning_containing(
        &b,
        &[
            CHAIN,
            "Retry-After 170 s exceeds the time left before the collection deadline",
        ],
    );
    assert!(!m.contains("exceeds the 180 s deadline"), "{m}");
}

#[test]
fn collect_cli_says_the_deadline_was_reached_and_still_writes_the_signed_bundle() {
    let w = world();
    w.kds.fault("/", Fault::Stall(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.zip");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_blyss-evidence"))
        .args(["collect", &w.url(), "--trust"])
        .arg(w.trust_file())
        .args(["--kds-url", &w.kds.url(), "--log-list-url", &w.ct.list_url])
        .args(["--no-images", "--deadline", "3", "--read-timeout", "30"])
        .args([
            "--timeout",
            "60",
            "--resource-timeout",
            "600",
            "--ct-merge-wait",
            "1",
        ])
        .arg("--key")
        .arg(common::report::fixture(common::report::SIGNER_KEY))
        .arg("-o")
        .arg(&out)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the collection deadline (--deadline 3 s) was reached"),
        "{err}"
    );
    let b = Bundle::open(&out).unwrap();
    assert!(b.member("evidence/amd/vcek.der").is_none());
}

#[test]
fn collect_help_names_every_fetch_cap_the_deadline_and_the_unsafe_option() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_blyss-evidence"))
        .args(["collect", "--help"])
        .output()
        .unwrap();
    let h = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "AMD KDS answer\n2 MiB",
        "attestation document 4 MiB",
        "firmware 32 MiB",
        "--deadline",
        "--allow-private-redirects-unsafe",
        "https -> https",
    ] {
        let flat = h.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = needle.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&n), "--help lacks {needle:?}:\n{h}");
    }
}

#[test]
fn stalling_registry_is_fetched_for_all_images_at_once_and_cut_by_the_deadline() {
    // The document names three images on docker.io; the mirror stalls every
    // request. Images are fetched concurrently (all three first requests
    // reach the registry before the deadline; one after another, only the
    // first would), and the deadline records each as missing.
    let w = world();
    let stall = Server::start(None);
    stall.fault("/", Fault::Stall(Duration::from_secs(60)));
    let mut o = world::options(&w, "v0.0.1");
    o.images = true;
    o.registry_mirrors = vec![("docker.io".into(), stall.url())];
    o.http.resource_timeout = Duration::from_secs(600);
    o.http.read_timeout = Duration::from_secs(60);
    o.http.request_timeout = Duration::from_secs(120);
    o.deadline = Duration::from_secs(5);
    let b = run(&w, &o).unwrap();
    assert_eq!(
        stall.hits("/v2/").len(),
        3,
        "one stalled request per image, all in flight together"
    );
    let cut: Vec<&String> = b
        .statement
        .predicate
        .warnings
        .iter()
        .filter(|m| m.contains("image") && m.contains("deadline"))
        .collect();
    assert_eq!(cut.len(), 3, "{:#?}", b.statement.predicate.warnings);
    assert!(b.member("evidence/attestation.json").is_some());
}

#[test]
fn collect_cli_refusing_a_redirected_document_exits_2_and_leaves_no_file() {
    let w = world();
    let plain = Server::start(None);
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Redirect {
            status: 302,
            location: format!("{}{}", plain.url(), world::ATTESTATION_PATH),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.zip");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_blyss-evidence"))
        .args(["collect", &w.url(), "--trust"])
        .arg(w.trust_file())
        .args(["--kds-url", &w.kds.url(), "--log-list-url", &w.ct.list_url])
        .args(["--no-images", "-q", "--key"])
        .arg(common::report::fixture(common::report::SIGNER_KEY))
        .arg("-o")
        .arg(&out)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused") && err.contains("only to https"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no partial or temporary file: {left:?}");
}

#[test]
fn registry_host_named_by_the_evidence_on_loopback_is_refused_before_any_connection() {
    // A service can name any registry in its attested command line; without
    // a --registry-mirror for it, that host is not the user's choice and is
    // judged like a redirect target.
    let w = World::start();
    let (evil, _) = other_server(&w, "evil-registry", "/unused", b"");
    let host = format!("127.0.0.1:{}", evil.addr.port());
    let doc = String::from_utf8(DOC.to_vec()).unwrap().replace(
        "vllm/vllm-openai@sha256:",
        &format!("{host}/vllm/vllm-openai@sha256:"),
    );
    w.serve_real_blyss(doc.as_bytes());
    let mut o = world::options(&w, "v0.0.1");
    o.images = true;
    // The other two images go to a mirror that answers nothing useful.
    let nowhere = Server::start(None);
    o.registry_mirrors = vec![("docker.io".into(), nowhere.url())];
    let b = run(&w, &o).unwrap();
    let m = warning_containing(&b, &[&host, "refused", "named by the evidence"]);
    assert!(m.contains("loopback"), "{m}");
    assert_eq!(
        evil.connections(),
        0,
        "no connection to the evidence-named host"
    );
}
