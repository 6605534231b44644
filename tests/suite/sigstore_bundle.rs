//! Sigstore bundle v0.3 verified offline (issue 17 item 2): the real Tinfoil
//! release bundle passes every step with the facts listed in
//! `fixtures/field/README.md`; every negative is built here from the real
//! bundle (or, where a signature must be made, with the TEST-ONLY Sigstore
//! instance) and fails the step it targets.

use std::path::PathBuf;

use base64::Engine;
use blyss_evidence::evidence::sigstore::testing::{github_san, TestSigstore};
use blyss_evidence::evidence::sigstore::{
    verify_bundle, verify_bundle_bytes, BundleVerification, IdentityPolicy, TrustedRoot, STEPS,
};
use serde_json::Value;

const CASE: &str = "fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore";

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(CASE)
        .join(name)
}

fn bundle() -> Value {
    let v: Value =
        serde_json::from_slice(&std::fs::read(path("attestation-bundle.json")).unwrap()).unwrap();
    v["sigstoreBundle"].clone()
}

fn root_json() -> Value {
    serde_json::from_slice(&std::fs::read(path("sigstore_trusted_root.json")).unwrap()).unwrap()
}

fn root() -> TrustedRoot {
    TrustedRoot::from_json(&std::fs::read(path("sigstore_trusted_root.json")).unwrap()).unwrap()
}

fn policy() -> IdentityPolicy {
    IdentityPolicy {
        oidc_issuer: "https://token.actions.githubusercontent.com".into(),
        repository: "tinfoilsh/confidential-model-router".into(),
        workflow_path: ".github/workflows/build.yml".into(),
        ref_pattern: "refs/tags/v*".into(),
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Names of the failing steps.
fn failed(r: &BundleVerification) -> Vec<&'static str> {
    r.steps
        .iter()
        .filter(|s| s.outcome.is_err())
        .map(|s| s.name)
        .collect()
}

fn err_of<'a>(r: &'a BundleVerification, name: &str) -> &'a str {
    r.step(name)
        .unwrap_or_else(|| panic!("no step {name}"))
        .outcome
        .as_ref()
        .expect_err(name)
}

fn entry(v: &mut Value) -> &mut Value {
    &mut v["verificationMaterial"]["tlogEntries"][0]
}

#[test]
fn real_tinfoil_bundle_passes_every_step_with_the_readme_facts() {
    let r = verify_bundle(&bundle(), &root(), &policy());
    assert!(r.passed(), "{:#?}", r.steps);
    assert_eq!(r.steps.iter().map(|s| s.name).collect::<Vec<_>>(), STEPS);
    let f = r.facts.clone().unwrap();
    assert_eq!(
        f.san_uri,
        "https://github.com/tinfoilsh/confidential-model-router/.github/workflows/build.yml@refs/tags/v0.0.38"
    );
    assert_eq!(f.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(f.repository, "tinfoilsh/confidential-model-router");
    assert_eq!(f.workflow_path, ".github/workflows/build.yml");
    assert_eq!(f.git_ref, "refs/tags/v0.0.38");
    assert_eq!(f.payload_type, "application/vnd.in-toto+json");
    // The body's payload hash (README: = sha256 of the DSSE payload).
    assert_eq!(
        blyss_evidence::util::sha256_hex(&f.payload),
        "6c3ef0882b54fd2b6e627ce628dc4e67265cb9a86753b01f4153111af5d2ace6"
    );
    let statement: Value = serde_json::from_slice(&f.payload).unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://tinfoil.sh/predicate/snp-tdx-multiplatform/v1"
    );
    assert_eq!(f.rekor_log_index, Some(845_420_855));
    assert_eq!(f.rekor_shard_index, 723_516_593);
    assert_eq!(f.tree_size, 723_516_595);
    assert_eq!(f.integrated_time, Some(1_769_121_722));
    assert_eq!(
        f.log_id_hex,
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
    assert_eq!(
        f.checkpoint_origin,
        "rekor.sigstore.dev - 1193050959916656506"
    );
    // The 20-hash proof and the ctfe.sigstore.dev/2022 SCT are what passed.
    assert!(r
        .step("rekor-inclusion")
        .unwrap()
        .outcome
        .as_ref()
        .unwrap()
        .contains("with 20 hashes"));
    assert!(r
        .step("fulcio-sct")
        .unwrap()
        .outcome
        .as_ref()
        .unwrap()
        .contains("ctfe.sigstore.dev/2022"));
}

#[test]
fn real_bundle_verifies_under_the_embedded_production_trusted_root() {
    let set = blyss_evidence::trust::TrustSet::production();
    let root = blyss_evidence::evidence::sigstore::trusted_root_of(&set).unwrap();
    assert!(verify_bundle(&bundle(), &root, &policy()).passed());
}

#[test]
fn changed_payload_fails_the_dsse_signature_and_the_rekor_body() {
    let mut b = bundle();
    let payload = b64()
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(payload).unwrap();
    // Another measurement in the statement.
    let changed = text.replacen(
        "\"snp_measurement\":\"09ef",
        "\"snp_measurement\":\"19ef",
        1,
    );
    assert_ne!(changed, text);
    b["dsseEnvelope"]["payload"] = Value::String(b64().encode(changed));
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["dsse-signature", "rekor-body"]);
    assert!(err_of(&r, "rekor-body").contains("payload hash"));
}

#[test]
fn flipped_inclusion_proof_hash_fails_rekor_inclusion_only() {
    let mut b = bundle();
    let h = &mut entry(&mut b)["inclusionProof"]["hashes"][7];
    let mut raw = b64().decode(h.as_str().unwrap()).unwrap();
    raw[0] ^= 1;
    *h = Value::String(b64().encode(raw));
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-inclusion"]);
    assert!(err_of(&r, "rekor-inclusion").contains("does not lead to the signed root"));
}

/// Replaces the checkpoint's signature line by one from `key` under the
/// name `rekor.sigstore.dev`, with key hint `hint`.
fn resign_checkpoint(b: &mut Value, key: &p256::ecdsa::SigningKey, hint: [u8; 4]) {
    use p256::ecdsa::signature::Signer;
    let cp = entry(b)["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_string();
    let text = &cp[..cp.rfind("\n\n").unwrap() + 1];
    let sig: p256::ecdsa::Signature = key.sign(text.as_bytes());
    let mut raw = hint.to_vec();
    raw.extend_from_slice(sig.to_der().as_bytes());
    let note = format!(
        "{text}\n\u{2014} rekor.sigstore.dev {}\n",
        b64().encode(raw)
    );
    entry(b)["inclusionProof"]["checkpoint"]["envelope"] = Value::String(note);
}

#[test]
fn checkpoint_signed_by_another_key_fails_rekor_checkpoint() {
    let other = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    // Claiming the real key's hint: the signature does not verify.
    let mut b = bundle();
    resign_checkpoint(&mut b, &other, [0xc0, 0xd2, 0x3d, 0x6a]);
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-checkpoint"]);
    assert!(
        err_of(&r, "rekor-checkpoint").contains("does not verify"),
        "{}",
        err_of(&r, "rekor-checkpoint")
    );
    // With its own hint: no signature by the log key at all.
    let mut b = bundle();
    resign_checkpoint(&mut b, &other, [1, 2, 3, 4]);
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-checkpoint"]);
    assert!(err_of(&r, "rekor-checkpoint").contains("no signature by the log key"));
}

#[test]
fn checkpoint_for_another_tree_fails_rekor_checkpoint() {
    // The proof and its root are consistent, but the signed checkpoint is
    // for another root: changing the proof's root breaks the inclusion too.
    let mut b = bundle();
    entry(&mut b)["inclusionProof"]["treeSize"] = Value::String("723516596".into());
    let r = verify_bundle(&b, &root(), &policy());
    assert!(failed(&r).contains(&"rekor-checkpoint"));
    assert!(err_of(&r, "rekor-checkpoint").contains("is not the inclusion proof's"));
}

#[test]
fn set_with_a_flipped_byte_fails_rekor_set_only() {
    let mut b = bundle();
    let s = &mut entry(&mut b)["inclusionPromise"]["signedEntryTimestamp"];
    let mut raw = b64().decode(s.as_str().unwrap()).unwrap();
    let n = raw.len();
    raw[n - 3] ^= 0x40;
    *s = Value::String(b64().encode(raw));
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-set"]);
}

#[test]
fn set_for_another_log_index_or_time_fails_rekor_set() {
    let mut b = bundle();
    entry(&mut b)["logIndex"] = Value::String("845420856".into());
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-set"]);
    // Another integrated time (still inside the leaf's validity).
    let mut b = bundle();
    entry(&mut b)["integratedTime"] = Value::String("1769121723".into());
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-set"]);
    // No SET at all.
    let mut b = bundle();
    entry(&mut b)
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    let r = verify_bundle(&b, &root(), &policy());
    assert_eq!(failed(&r), ["rekor-set"]);
}

#[test]
fn test_ca_bundle_for_the_right_identity_passes_under_the_test_root_only() {
    // Control for the identity negatives: the test instance's re-signed
    // bundle passes under its own root and fails the chain under the real one.
    let t = TestSigstore::new("sigstore_bundle");
    let san = github_san(
        "tinfoilsh/confidential-model-router",
        ".github/workflows/build.yml",
        "refs/tags/v0.0.38",
    );
    let b = t.resign(&bundle(), &san, None);
    let r = verify_bundle(&b, &t.trusted_root(), &policy());
    assert!(r.passed(), "{:#?}", r.steps);
    let r = verify_bundle(&b, &root(), &policy());
    assert!(failed(&r).contains(&"fulcio-chain"));
    assert!(failed(&r).contains(&"rekor-set"));
}

#[test]
fn certificate_for_another_repository_or_workflow_or_ref_fails_identity() {
    let t = TestSigstore::new("sigstore_bundle");
    let cases = [
        (
            github_san(
                "attacker/confidential-model-router",
                ".github/workflows/build.yml",
                "refs/tags/v0.0.38",
            ),
            "repository",
        ),
        (
            github_san(
                "tinfoilsh/confidential-model-router",
                ".github/workflows/other.yml",
                "refs/tags/v0.0.38",
            ),
            "workflow",
        ),
        (
            github_san(
                "tinfoilsh/confidential-model-router",
                ".github/workflows/build.yml",
                "refs/heads/main",
            ),
            "git ref",
        ),
        (
            "https://gitlab.com/tinfoilsh/x//.github/workflows/build.yml@refs/tags/v1".to_string(),
            "not a GitHub workflow identity",
        ),
    ];
    for (san, why) in cases {
        let b = t.resign(&bundle(), &san, None);
        let r = verify_bundle(&b, &t.trusted_root(), &policy());
        assert_eq!(failed(&r), ["identity"], "{san}");
        assert!(
            err_of(&r, "identity").contains(why),
            "{san}: {}",
            err_of(&r, "identity")
        );
    }
    // Another OIDC issuer.
    let mut p = policy();
    p.oidc_issuer = "https://accounts.google.com".into();
    let san = github_san(
        "tinfoilsh/confidential-model-router",
        ".github/workflows/build.yml",
        "refs/tags/v0.0.38",
    );
    let r = verify_bundle(&t.resign(&bundle(), &san, None), &t.trusted_root(), &p);
    assert_eq!(failed(&r), ["identity"]);
    assert!(err_of(&r, "identity").contains("OIDC issuer"));
}

#[test]
fn expired_or_absent_fulcio_ca_fails_the_chain() {
    // The CA that issued the leaf, listed as ending before the integrated time.
    let mut j = root_json();
    for ca in j["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["end"] = Value::String("2025-01-01T00:00:00Z".into());
    }
    let r = verify_bundle(
        &bundle(),
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert_eq!(failed(&r), ["fulcio-chain"]);
    assert!(err_of(&r, "fulcio-chain").contains("does not contain 2026-01-22T22:42:02Z"));
    // No CA at all: no chain, and no issuer key for the SCT either.
    let mut j = root_json();
    j["certificateAuthorities"] = Value::Array(vec![]);
    let r = verify_bundle(
        &bundle(),
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert_eq!(failed(&r), ["fulcio-chain", "fulcio-sct"]);
    // A test CA cannot stand in for it.
    let mut j = root_json();
    let t: Value = serde_json::from_slice(&TestSigstore::new("x").trusted_root_json()).unwrap();
    j["certificateAuthorities"] = t["certificateAuthorities"].clone();
    let r = verify_bundle(
        &bundle(),
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert!(failed(&r).contains(&"fulcio-chain"));
}

#[test]
fn unknown_ct_log_or_rekor_log_fails_their_steps() {
    let mut j = root_json();
    j["ctlogs"] = Value::Array(vec![]);
    let r = verify_bundle(
        &bundle(),
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert_eq!(failed(&r), ["fulcio-sct"]);
    let mut j = root_json();
    j["tlogs"] = Value::Array(vec![]);
    let r = verify_bundle(
        &bundle(),
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert_eq!(failed(&r), ["rekor-checkpoint", "rekor-set"]);
}

#[test]
fn other_bundle_media_types_and_shapes_are_refused_at_the_bundle_step() {
    let mut b = bundle();
    b["mediaType"] = Value::String("application/vnd.dev.sigstore.bundle+json;version=0.2".into());
    let r = verify_bundle(&b, &root(), &policy());
    assert!(!r.passed());
    assert!(err_of(&r, "bundle").contains("only Sigstore bundle v0.3"));
    assert!(r.facts.is_none());
    let mut b = bundle();
    let e = entry(&mut b).clone();
    b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(e);
    assert!(err_of(&verify_bundle(&b, &root(), &policy()), "bundle").contains("2 tlog entries"));
    let mut b = bundle();
    entry(&mut b)["inclusionProof"]["hashes"] =
        Value::Array(vec![Value::String(b64().encode([0u8; 32])); 65]);
    assert!(err_of(&verify_bundle(&b, &root(), &policy()), "bundle").contains("limit 64"));
    // Too large before parsing.
    let big = vec![b' '; blyss_evidence::evidence::sigstore::bundle::MAX_BUNDLE_BYTES + 1];
    assert!(err_of(&verify_bundle_bytes(&big, &root(), &policy()), "bundle").contains("limit"));
}

#[test]
fn rekor_body_that_names_another_certificate_or_kind_fails_rekor_body() {
    let mut b = bundle();
    let body = b64()
        .decode(entry(&mut b)["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    v["kind"] = Value::String("intoto".into());
    let text = blyss_evidence::evidence::sigstore::bundle::canonical_json(&v);
    entry(&mut b)["canonicalizedBody"] = Value::String(b64().encode(text));
    let r = verify_bundle(&b, &root(), &policy());
    // The logged bytes changed too: inclusion and SET fail with the body.
    assert_eq!(failed(&r), ["rekor-body", "rekor-inclusion", "rekor-set"]);
    // A non-canonical body (whitespace) is refused even before comparison.
    let mut b = bundle();
    let mut spaced = b" ".to_vec();
    spaced.extend_from_slice(&body);
    entry(&mut b)["canonicalizedBody"] = Value::String(b64().encode(spaced));
    assert!(err_of(&verify_bundle(&b, &root(), &policy()), "rekor-body").contains("canonical"));
}

#[test]
fn rekor_v2_entry_with_ed25519_checkpoint_passes_and_another_log_key_fails() {
    let t = TestSigstore::new("v2");
    let san = github_san(
        "tinfoilsh/confidential-model-router",
        ".github/workflows/build.yml",
        "refs/tags/v0.0.38",
    );
    let entry_spec = blyss_evidence::evidence::sigstore::testing::EntrySpec::default();
    let leaf = blyss_evidence::evidence::sigstore::testing::LeafSpec {
        san_uri: san,
        issuer: blyss_evidence::evidence::sigstore::testing::GITHUB_ISSUER.into(),
        not_before: entry_spec.integrated_time - 60,
        not_after: entry_spec.integrated_time + 540,
    };
    let b = t.sign_bundle_v2(
        "application/vnd.in-toto+json",
        b"{\"a\":1}",
        &leaf,
        &entry_spec,
    );
    let r = verify_bundle(&b, &t.trusted_root(), &policy());
    assert!(r.passed(), "{:#?}", r.steps);
    assert!(r.step("rekor-set").is_none(), "v2 has no SET step");
    let f = r.facts.clone().unwrap();
    assert_eq!((f.rekor_log_index, f.integrated_time), (None, None));
    assert!(r
        .step("rekor-checkpoint")
        .unwrap()
        .outcome
        .as_ref()
        .unwrap()
        .contains("Ed25519"));
    // The same bundle judged under another instance's v2 key.
    let other = TestSigstore::new("v2 other");
    let mut j: Value = serde_json::from_slice(&t.trusted_root_json()).unwrap();
    let o: Value = serde_json::from_slice(&other.trusted_root_json()).unwrap();
    j["tlogs"][1]["publicKey"] = o["tlogs"][1]["publicKey"].clone();
    j["tlogs"][1]["logId"] = b["verificationMaterial"]["tlogEntries"][0]["logId"].clone();
    let r = verify_bundle(
        &b,
        &TrustedRoot::from_json(&serde_json::to_vec(&j).unwrap()).unwrap(),
        &policy(),
    );
    assert_eq!(failed(&r), ["rekor-checkpoint"]);
}

#[test]
fn mutated_bundles_never_panic_and_never_pass() {
    // Every scalar of the bundle replaced by values of other shapes.
    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    at.push(k.clone());
                    paths(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(x, at, out);
                    at.pop();
                }
            }
            _ => out.push(at.clone()),
        }
    }
    let base = bundle();
    let mut all = Vec::new();
    paths(&base, &mut Vec::new(), &mut all);
    assert!(all.len() > 30);
    let root = root();
    let mut runs = 0;
    for p in &all {
        for repl in [
            Value::Null,
            Value::from(-1),
            Value::String(String::new()),
            Value::String("AAAA".into()),
        ] {
            let mut b = base.clone();
            let mut cur = &mut b;
            for k in p {
                cur = match cur {
                    Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                    other => &mut other[k.as_str()],
                };
            }
            *cur = repl;
            let r = verify_bundle(&b, &root, &policy());
            assert!(!r.passed(), "{p:?} still passes");
            runs += 1;
        }
    }
    assert!(runs >= 120);
}

#[test]
fn trust_show_lists_the_pinned_sigstore_root_and_its_logs() {
    let out = assert_cmd::Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["trust", "show"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains(&format!(
            "sigstore.trusted-root  {}",
            blyss_evidence::trust::SIGSTORE_TRUSTED_ROOT_SHA256
        )),
        "{s}"
    );
    assert!(s.contains("rekor-log https://rekor.sigstore.dev"), "{s}");
    assert!(s.contains("ct-log https://ctfe.sigstore.dev/2022"), "{s}");
    assert!(
        s.contains("fulcio-ca sigstore.dev/sigstore https://fulcio.sigstore.dev"),
        "{s}"
    );
}

#[test]
fn test_trust_file_keeps_every_production_anchor_but_the_sigstore_root() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestSigstore::new("trust file copy");
    let set =
        blyss_evidence::trust::TrustSet::load(&t.write_trust_file(dir.path()).unwrap()).unwrap();
    assert!(!set.production);
    let prod = blyss_evidence::trust::TrustSet::production();
    let roles = |s: &blyss_evidence::trust::TrustSet| {
        s.anchors()
            .into_iter()
            .filter(|a| a.role != "sigstore.trusted-root")
            .map(|a| (a.role, a.sha256))
            .collect::<Vec<_>>()
    };
    assert_eq!(roles(&set), roles(&prod));
    assert_eq!(
        set.sigstore_trusted_root,
        t.trust_set().sigstore_trusted_root
    );
    // The real bundle does not chain under it; the test one does.
    let root = blyss_evidence::evidence::sigstore::trusted_root_of(&set).unwrap();
    assert!(!verify_bundle(&bundle(), &root, &policy()).passed());
    let san = github_san(
        "tinfoilsh/confidential-model-router",
        ".github/workflows/build.yml",
        "refs/tags/v0.0.38",
    );
    assert!(verify_bundle(&t.resign(&bundle(), &san, None), &root, &policy()).passed());
}

#[test]
fn trust_file_may_supply_another_sigstore_root_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestSigstore::new("trust file");
    std::fs::write(dir.path().join("root.json"), t.trusted_root_json()).unwrap();
    let f = dir.path().join("t.json");
    std::fs::write(
        &f,
        br#"{"schema":"blyss-evidence.trust/v1","name":"t","version":"1","sigstore":{"trusted_root":"root.json"}}"#,
    )
    .unwrap();
    let set = blyss_evidence::trust::TrustSet::load(&f).unwrap();
    assert!(!set.production);
    assert_eq!(
        blyss_evidence::evidence::sigstore::trusted_root_of(&set).unwrap(),
        t.trusted_root()
    );
    std::fs::write(dir.path().join("root.json"), b"{\"mediaType\":\"x\"}").unwrap();
    assert!(blyss_evidence::trust::TrustSet::load(&f).is_err());
    // A trust file without one has none: Sigstore verification cannot pass.
    std::fs::write(
        &f,
        br#"{"schema":"blyss-evidence.trust/v1","name":"t","version":"1"}"#,
    )
    .unwrap();
    let none = blyss_evidence::trust::TrustSet::load(&f).unwrap();
    assert!(blyss_evidence::evidence::sigstore::trusted_root_of(&none).is_err());
}
