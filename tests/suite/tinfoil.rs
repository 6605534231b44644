//! Tinfoil (issue 17): the real attestation bundle Tinfoil served for
//! `inference.tinfoil.sh`, imported offline with `collect --tinfoil-bundle`
//! and audited under `--protocol tinfoil --scope attestation` at its capture
//! time; and the negatives, each built here from the real bundle, each
//! failing the check it names (and none panicking).

use std::path::Path;

use assert_cmd::Command;
use base64::Engine;
use blyss_evidence::audit::{audit, AuditOptions, Report, Scope};
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{CheckResult, Status, Verdict};
use blyss_evidence::evidence::sigstore::testing::{github_san, TestSigstore};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use serde_json::Value;

use crate::common::report::root;

const DIR: &str = "fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore";
/// The capture time of the real bundle (fixtures/field/README.md).
const AT: &str = "2026-01-22T23:00:00Z";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn real_bytes() -> Vec<u8> {
    std::fs::read(root().join(DIR).join("attestation-bundle.json")).unwrap()
}

fn real_value() -> Value {
    serde_json::from_slice(&real_bytes()).unwrap()
}

fn t(s: &str) -> time::OffsetDateTime {
    blyss_evidence::util::parse_time(s).unwrap()
}

/// Seals `file` (a Tinfoil bundle file, any bytes) as the import would and
/// audits it with `trust` at the capture time, scope attestation.
fn audit_file_with(file: &[u8], trust: &TrustSet) -> Report {
    let at = t(AT);
    let mut b = BundleBuilder::new("https://inference.tinfoil.sh", "tinfoil", at);
    b.add(
        "tinfoil/attestation-bundle.json",
        file.to_vec(),
        Source::file(at),
    )
    .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "tinfoil-test.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(
        &bundle,
        &Protocol::load("tinfoil").unwrap(),
        trust,
        &opts,
        at,
    )
}

fn audit_file(file: &[u8]) -> Report {
    audit_file_with(file, &TrustSet::production())
}

fn audit_value(v: &Value) -> Report {
    audit_file(&serde_json::to_vec(v).unwrap())
}

fn one<'a>(r: &'a Report, id: &str) -> &'a CheckResult {
    let found: Vec<_> = r.checks.iter().filter(|c| c.id == id).collect();
    assert_eq!(found.len(), 1, "{id}: {found:#?}");
    found[0]
}

fn status(r: &Report, id: &str) -> Status {
    one(r, id).status
}

/// The DSSE payload (in-toto statement) of a bundle value, decoded.
fn statement(v: &Value) -> Value {
    let p = v["sigstoreBundle"]["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap();
    serde_json::from_slice(&B64.decode(p).unwrap()).unwrap()
}

fn set_statement(v: &mut Value, st: &Value) {
    v["sigstoreBundle"]["dsseEnvelope"]["payload"] =
        B64.encode(serde_json::to_vec(st).unwrap()).into();
}

/// The release's failed Sigstore steps, as `tinfoil.release` shows them.
fn failed_steps(r: &Report) -> Vec<String> {
    one(r, "tinfoil.release")
        .details
        .iter()
        .filter(|(k, v)| {
            k.starts_with("step.") && v.as_str().is_some_and(|s| s.starts_with("FAILED"))
        })
        .map(|(k, v)| format!("{k}: {v}"))
        .collect()
}

fn assert_release_fails_at(r: &Report, step: &str) {
    let rel = one(r, "tinfoil.release");
    assert_eq!(rel.status, Status::Fail, "{rel:#?}");
    let failed = failed_steps(r);
    assert!(
        failed.iter().any(|f| f.contains(step)),
        "expected a failed step {step}: {failed:#?}"
    );
    // Nothing downstream of an unverified release passes.
    for id in ["tinfoil.measurement", "tinfoil.config"] {
        assert_eq!(status(r, id), Status::Fail, "{id}");
    }
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn real_tinfoil_bundle_passes_under_protocol_tinfoil_scope_attestation_with_the_image_warning() {
    let r = audit_file(&real_bytes());
    for id in [
        "amd.chain",
        "amd.product",
        "snp.report-signature",
        "snp.report-format",
        "snp.tcb",
        "snp.policy",
        "snp.provisional-firmware",
        "tinfoil.release",
        "tinfoil.measurement",
        "tinfoil.config",
    ] {
        assert_eq!(status(&r, id), Status::Pass, "{id}: {:#?}", one(&r, id));
    }
    let img = one(&r, "tinfoil.images");
    assert_eq!(img.status, Status::Warn, "{img:#?}");
    assert_eq!(
        img.actual.as_deref(),
        Some("ghcr.io/tinfoilsh/confidential-model-router:0.0.38")
    );
    // The binding is shown for what it is: the bundled certificate, no
    // live handshake — a warning, never a pass.
    let b = one(&r, "tls.binding");
    assert_eq!(b.status, Status::Warn, "{b:#?}");
    assert!(b.summary.contains("NOT established"), "{}", b.summary);
    assert_eq!(r.verdict.status, Verdict::Pass, "{:#?}", r.verdict);
    // The facts a reviewer reads.
    let f = &r.facts;
    assert_eq!(
        f["tinfoil.repository"],
        "tinfoilsh/confidential-model-router"
    );
    assert_eq!(f["tinfoil.workflow"], ".github/workflows/build.yml");
    assert_eq!(f["tinfoil.tag"], "refs/tags/v0.0.38");
    assert_eq!(f["tinfoil.rekor_log_index"], 845420855);
    assert_eq!(f["tinfoil.rekor_shard_index"], 723516593);
    assert_eq!(
        f["tinfoil.measurement"],
        "09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519"
    );
    assert_eq!(
        f["tls.attested_spki_sha256"],
        "71c31f35d2b06077bbae7c1ddf0cc4020408c8f39c68b04cf3d029d40bdd45e7"
    );
    assert_eq!(
        f["tinfoil.hpke_public_key"],
        "3565781f4ee796cfb144df2a31a3ae5e87747bb5ba91aafc6b80e2e268b8603d"
    );
}

/// A trust set whose only anchor is the TEST-ONLY Sigstore instance (as a
/// `--trust` file would give it), and that instance.
fn test_sigstore_trust(dir: &Path) -> (TrustSet, TestSigstore) {
    let ts = TestSigstore::new("tinfoil-negatives");
    std::fs::write(dir.join("sigstore-root.json"), ts.trusted_root_json()).unwrap();
    let file = serde_json::json!({
        "schema": "blyss-evidence.trust/v1",
        "name": "test-sigstore",
        "version": "1",
        "sigstore": { "trusted_root": "sigstore-root.json" }
    });
    let p = dir.join("trust.json");
    std::fs::write(&p, serde_json::to_vec(&file).unwrap()).unwrap();
    (TrustSet::load(&p).unwrap(), ts)
}

const REPO: &str = "tinfoilsh/confidential-model-router";
const WORKFLOW: &str = ".github/workflows/build.yml";
const TAG: &str = "refs/tags/v0.0.38";

/// The real bundle file with its Sigstore bundle re-signed by the test
/// instance for `san`, over `statement` (or the real one).
fn resigned(ts: &TestSigstore, san: &str, statement: Option<&Value>) -> Vec<u8> {
    let mut v = real_value();
    let payload = statement.map(|s| serde_json::to_vec(s).unwrap());
    v["sigstoreBundle"] = ts.resign(&v["sigstoreBundle"], san, payload.as_deref());
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn the_real_statement_resigned_for_the_protocol_identity_passes_under_the_test_sigstore_root() {
    // The control of the re-signed negatives below: with the right identity
    // and the real statement, every tinfoil check holds under the test root.
    let dir = tempfile::tempdir().unwrap();
    let (trust, ts) = test_sigstore_trust(dir.path());
    let r = audit_file_with(
        &resigned(&ts, &github_san(REPO, WORKFLOW, TAG), None),
        &trust,
    );
    for id in ["tinfoil.release", "tinfoil.measurement", "tinfoil.config"] {
        assert_eq!(status(&r, id), Status::Pass, "{id}: {:#?}", one(&r, id));
    }
    assert_eq!(status(&r, "tinfoil.images"), Status::Warn);
}

#[test]
fn a_fulcio_certificate_for_another_repository_or_workflow_fails_tinfoil_release() {
    let dir = tempfile::tempdir().unwrap();
    let (trust, ts) = test_sigstore_trust(dir.path());
    for san in [
        github_san("attacker/confidential-model-router", WORKFLOW, TAG),
        github_san(REPO, ".github/workflows/other.yml", TAG),
        github_san(REPO, WORKFLOW, "refs/heads/main"),
    ] {
        let r = audit_file_with(&resigned(&ts, &san, None), &trust);
        assert_release_fails_at(&r, "identity");
        // Only the identity is wrong: every other step holds.
        assert_eq!(failed_steps(&r).len(), 1, "{san}: {:#?}", failed_steps(&r));
    }
}

#[test]
fn a_changed_measurement_in_the_statement_fails_tinfoil_measurement() {
    let mut st = statement(&real_value());
    st["predicate"]["snp_measurement"] = "00".repeat(48).into();
    // Signed by the workflow identity the protocol names: the release
    // verifies, the measurement is not the report's.
    let dir = tempfile::tempdir().unwrap();
    let (trust, ts) = test_sigstore_trust(dir.path());
    let r = audit_file_with(
        &resigned(&ts, &github_san(REPO, WORKFLOW, TAG), Some(&st)),
        &trust,
    );
    assert_eq!(status(&r, "tinfoil.release"), Status::Pass);
    let m = one(&r, "tinfoil.measurement");
    assert_eq!(m.status, Status::Fail);
    assert!(
        m.summary.contains("is not the report's MEASUREMENT"),
        "{}",
        m.summary
    );
    assert_eq!(status(&r, "tinfoil.config"), Status::Pass);
    // Changed in place in the real bundle, the DSSE signature breaks too.
    let mut v = real_value();
    set_statement(&mut v, &st);
    let r = audit_value(&v);
    assert_eq!(status(&r, "tinfoil.measurement"), Status::Fail);
    assert_release_fails_at(&r, "dsse");
}

#[test]
fn a_config_that_does_not_hash_to_the_command_line_fails_tinfoil_config() {
    let mut st = statement(&real_value());
    let mut cfg = B64
        .decode(st["predicate"]["config"].as_str().unwrap())
        .unwrap();
    cfg.extend_from_slice(b"# appended\n");
    st["predicate"]["config"] = B64.encode(cfg).into();
    let dir = tempfile::tempdir().unwrap();
    let (trust, ts) = test_sigstore_trust(dir.path());
    let r = audit_file_with(
        &resigned(&ts, &github_san(REPO, WORKFLOW, TAG), Some(&st)),
        &trust,
    );
    assert_eq!(status(&r, "tinfoil.release"), Status::Pass);
    assert_eq!(status(&r, "tinfoil.measurement"), Status::Pass);
    let c = one(&r, "tinfoil.config");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary.contains("commits to tinfoil-config-hash="),
        "{}",
        c.summary
    );
    assert_eq!(status(&r, "tinfoil.images"), Status::Fail);
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn a_flipped_inclusion_proof_hash_fails_tinfoil_release() {
    let mut v = real_value();
    let h = &mut v["sigstoreBundle"]["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
        ["hashes"][3];
    let mut raw = B64.decode(h.as_str().unwrap()).unwrap();
    raw[0] ^= 1;
    *h = B64.encode(raw).into();
    assert_release_fails_at(&audit_value(&v), "inclusion");
}

#[test]
fn a_checkpoint_signed_by_another_key_fails_tinfoil_release() {
    use p256::ecdsa::signature::Signer;
    let mut v = real_value();
    let cp = &mut v["sigstoreBundle"]["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
        ["checkpoint"]["envelope"];
    let text = cp.as_str().unwrap().to_string();
    // Signed note: body, blank line, "— <name> <base64(key hint ‖ sig)>".
    let (body, sigs) = text.split_once("\n\n").unwrap();
    let line = sigs.lines().next().unwrap();
    let (prefix, b64sig) = line.rsplit_once(' ').unwrap();
    let old = B64.decode(b64sig).unwrap();
    let other = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let sig: p256::ecdsa::Signature = other.sign(format!("{body}\n").as_bytes());
    let mut blob = old[..4].to_vec(); // the real key's hint: only the key differs
    blob.extend_from_slice(sig.to_der().as_bytes());
    *cp = format!("{body}\n\n{prefix} {}\n", B64.encode(blob)).into();
    assert_release_fails_at(&audit_value(&v), "checkpoint");
}

#[test]
fn a_signed_entry_timestamp_that_does_not_match_fails_tinfoil_release() {
    let mut v = real_value();
    let e = &mut v["sigstoreBundle"]["verificationMaterial"]["tlogEntries"][0];
    // The SET signs the integrated time among other fields: one second later
    // and it no longer matches.
    e["integratedTime"] = match &e["integratedTime"] {
        Value::String(s) => (s.parse::<i64>().unwrap() + 1).to_string().into(),
        n => (n.as_i64().unwrap() + 1).into(),
    };
    assert_release_fails_at(&audit_value(&v), "set");
}

#[test]
fn a_report_data_that_does_not_hash_the_enclave_certificate_key_fails_tls_binding() {
    let mut v = real_value();
    // Another certificate (the VCEK) in place of the enclave's: the report's
    // REPORT_DATA[0..32] no longer hashes the bundled certificate's key.
    let vcek = B64.decode(v["vcek"].as_str().unwrap()).unwrap();
    v["enclaveCert"] = der_to_pem(&vcek).into();
    let r = audit_value(&v);
    let b = one(&r, "tls.binding");
    assert_eq!(b.status, Status::Fail, "{b:#?}");
    assert!(b.summary.contains("does not bind"), "{}", b.summary);
    assert_eq!(r.verdict.status, Verdict::Fail);
}

fn der_to_pem(der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for c in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(c).unwrap());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

#[test]
fn tdx_evidence_in_a_tinfoil_bundle_is_reported_not_supported_never_a_pass() {
    let mut v = real_value();
    v["enclaveAttestationReport"]["format"] = "https://tinfoil.sh/predicate/tdx-guest/v2".into();
    let r = audit_value(&v);
    for id in [
        "snp.report-signature",
        "tinfoil.release",
        "tinfoil.measurement",
    ] {
        let c = one(&r, id);
        assert_eq!(c.status, Status::Fail, "{id}");
        assert!(c.summary.contains("TDX"), "{id}: {}", c.summary);
    }
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn hostile_tinfoil_files_fail_closed_without_panicking() {
    let real = real_bytes();
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{}".to_vec(),
        b"[1,2,3]".to_vec(),
        real[..real.len() / 2].to_vec(),
        vec![b'['; 100_000],
        {
            let mut v = real_value();
            v["sigstoreBundle"] = Value::Null;
            serde_json::to_vec(&v).unwrap()
        },
        {
            let mut v = real_value();
            v["sigstoreBundle"]["dsseEnvelope"]["payload"] = "!!".into();
            serde_json::to_vec(&v).unwrap()
        },
        {
            let mut v = real_value();
            v["sigstoreBundle"]["verificationMaterial"] = serde_json::json!({});
            serde_json::to_vec(&v).unwrap()
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let r = audit_file(c);
        assert_eq!(r.verdict.status, Verdict::Fail, "case {i}");
        assert_eq!(status(&r, "tinfoil.release"), Status::Fail, "case {i}");
    }
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env_remove("XDG_CONFIG_HOME");
    c
}

fn import(dir: &Path, file: &Path) -> std::path::PathBuf {
    let out = dir.join("tinfoil.zip");
    bin()
        .args([
            "collect",
            "--protocol",
            "tinfoil",
            "--observed-at",
            AT,
            "--key",
        ])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("--tinfoil-bundle")
        .arg(file)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn collect_tinfoil_bundle_stores_the_file_byte_exact_and_audit_judges_at_the_declared_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = root().join(DIR).join("attestation-bundle.json");
    let out = import(dir.path(), &file);
    let b = Bundle::open(&out).unwrap();
    assert_eq!(
        b.member("evidence/tinfoil/attestation-bundle.json"),
        Some(real_bytes().as_slice())
    );
    assert_eq!(b.declared_observed_at(), Some(t(AT)));
    let json = dir.path().join("r.json");
    bin()
        .arg("audit")
        .arg(&out)
        .args(["--protocol", "tinfoil", "--scope", "attestation", "--json"])
        .arg(&json)
        .assert()
        .code(0);
    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["evaluation_time"], AT);
    assert_eq!(r["verdict"]["status"], "pass");
}

#[test]
fn collect_refuses_tdx_evidence_and_an_oversized_tinfoil_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut tdx = real_value();
    tdx["enclaveAttestationReport"]["format"] = "https://tinfoil.sh/predicate/tdx-guest/v2".into();
    let big = vec![b' '; blyss_evidence::evidence::tinfoil::MAX_FILE + 1];
    for (name, bytes, why) in [
        ("tdx.json", serde_json::to_vec(&tdx).unwrap(), "TDX"),
        ("big.json", big, "cap"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = bin()
            .args(["collect", "--tinfoil-bundle"])
            .arg(&p)
            .arg("--key")
            .arg(root().join("fixtures/keys/fixture-collector.key"))
            .arg("-o")
            .arg(dir.path().join("x.zip"))
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(why), "{name}: {err}");
        assert!(!dir.path().join("x.zip").exists(), "no partial bundle");
    }
}

#[test]
fn a_tinfoil_bundle_beside_another_report_is_two_interpretations_and_fails() {
    let at = t(AT);
    let mut b = BundleBuilder::new("https://inference.tinfoil.sh", "tinfoil", at);
    b.add(
        "tinfoil/attestation-bundle.json",
        real_bytes(),
        Source::file(at),
    )
    .unwrap();
    let tb = blyss_evidence::evidence::tinfoil::TinfoilBundle::parse(&real_bytes()).unwrap();
    b.add("snp/report.bin", tb.report.to_vec(), Source::file(at))
        .unwrap();
    b.add("snp/vcek.der", tb.vcek_der.clone(), Source::file(at))
        .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let bundle = Bundle::from_bytes(&b.seal(at, &key).unwrap(), "two.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..AuditOptions::default()
    };
    let r = audit(
        &bundle,
        &Protocol::load("tinfoil").unwrap(),
        &TrustSet::production(),
        &opts,
        at,
    );
    let c = one(&r, "snp.report-signature");
    assert_eq!(c.status, Status::Fail);
    assert!(c.summary.contains("two reports"), "{}", c.summary);
}

/// The real Tinfoil bundle with a captured TLS handshake whose leaf is
/// `leaf` (and which delivered the document), audited in `scope`.
fn audit_with_handshake(leaf: &[u8], scope: Scope) -> Report {
    use blyss_evidence::bundle::format::ConnectionRecord;
    use blyss_evidence::evidence::tls::{
        ChainEntry, HandshakeRecord, Verification, HANDSHAKE_SCHEMA,
    };
    let at = t(AT);
    let mut b = BundleBuilder::new("https://inference.tinfoil.sh", "tinfoil", at);
    b.add(
        "tinfoil/attestation-bundle.json",
        real_bytes(),
        Source::file(at),
    )
    .unwrap();
    let sha = blyss_evidence::util::sha256_hex(leaf);
    b.add("tls/chain-00.der", leaf.to_vec(), Source::file(at))
        .unwrap();
    let rec = HandshakeRecord {
        schema: HANDSHAKE_SCHEMA.into(),
        host: "inference.tinfoil.sh".into(),
        port: 443,
        server_name: "inference.tinfoil.sh".into(),
        captured_at: AT.into(),
        protocol_version: "TLSv1_3".into(),
        cipher_suite: "TLS13_AES_128_GCM_SHA256".into(),
        chain: vec![ChainEntry {
            member: "evidence/tls/chain-00.der".into(),
            sha256: sha.clone(),
        }],
        verification: Verification {
            trust_set: "test".into(),
            verified: true,
            error: None,
        },
        second_handshake: None,
    };
    b.add(
        "tls/handshake.json",
        serde_json::to_vec(&rec).unwrap(),
        Source::file(at),
    )
    .unwrap();
    b.document_connection = Some(ConnectionRecord {
        url: "https://inference.tinfoil.sh/.well-known/tinfoil-attestation".into(),
        leaf_sha256: sha,
        chain: vec!["evidence/tls/chain-00.der".into()],
        verified: true,
    });
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let bundle = Bundle::from_bytes(&b.seal(at, &key).unwrap(), "hs.zip").unwrap();
    let opts = AuditOptions {
        scope,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(
        &bundle,
        &Protocol::load("tinfoil").unwrap(),
        &TrustSet::production(),
        &opts,
        at,
    )
}

#[test]
fn a_captured_handshake_serving_the_attested_key_passes_the_tinfoil_binding() {
    let tb = blyss_evidence::evidence::tinfoil::TinfoilBundle::parse(&real_bytes()).unwrap();
    let r = audit_with_handshake(&tb.enclave_cert_der, Scope::Full);
    let b = one(&r, "tls.binding");
    assert_eq!(b.status, Status::Pass, "{b:#?}");
    assert!(
        b.summary
            .contains("served certificate's SubjectPublicKeyInfo"),
        "{}",
        b.summary
    );
}

#[test]
fn a_captured_handshake_serving_another_key_fails_the_tinfoil_binding() {
    let tb = blyss_evidence::evidence::tinfoil::TinfoilBundle::parse(&real_bytes()).unwrap();
    // The VCEK stands in for a certificate with another key.
    for scope in [Scope::Full, Scope::Attestation] {
        let r = audit_with_handshake(&tb.vcek_der, scope);
        let b = one(&r, "tls.binding");
        assert_eq!(b.status, Status::Fail, "{b:#?}");
        assert!(
            b.summary.contains("is not the attested one"),
            "{}",
            b.summary
        );
        assert_eq!(r.verdict.status, Verdict::Fail);
    }
}

#[test]
fn without_a_handshake_scope_full_fails_the_tinfoil_binding() {
    let at = t(AT);
    let mut b = BundleBuilder::new("https://inference.tinfoil.sh", "tinfoil", at);
    b.add(
        "tinfoil/attestation-bundle.json",
        real_bytes(),
        Source::file(at),
    )
    .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let bundle = Bundle::from_bytes(&b.seal(at, &key).unwrap(), "nohs.zip").unwrap();
    let opts = AuditOptions {
        at: Some(at),
        ..AuditOptions::default()
    };
    let r = audit(
        &bundle,
        &Protocol::load("tinfoil").unwrap(),
        &TrustSet::production(),
        &opts,
        at,
    );
    let b = one(&r, "tls.binding");
    assert_eq!(b.status, Status::Fail, "{b:#?}");
    assert!(b.summary.contains("NOT established"), "{}", b.summary);
}
