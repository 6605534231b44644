//! Sigstore bundles (and trusted roots): any input, as a bundle or as a
//! Tinfoil attestation document holding one, is verified against the real
//! Sigstore trusted root; as a trusted root, it judges the real bundle. No
//! panic, and a bundle that passes states the real release's facts.
#![no_main]
use blyss_evidence::evidence::sigstore::{verify_bundle, verify_bundle_bytes, IdentityPolicy, TrustedRoot};
use libfuzzer_sys::fuzz_target;

const ROOT: &[u8] =
    include_bytes!("../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/sigstore_trusted_root.json");
const DOC: &[u8] =
    include_bytes!("../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json");

fn policy() -> IdentityPolicy {
    IdentityPolicy {
        oidc_issuer: "https://token.actions.githubusercontent.com".into(),
        repository: "tinfoilsh/confidential-model-router".into(),
        workflow_path: ".github/workflows/build.yml".into(),
        ref_pattern: "refs/tags/v*".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let root = TrustedRoot::from_json(ROOT).unwrap();
    let real: serde_json::Value = serde_json::from_slice(DOC).unwrap();
    let real = &real["sigstoreBundle"];
    let real_facts = verify_bundle(real, &root, &policy()).facts;
    // Whatever passes states exactly the real release's facts (fields no
    // signature covers, e.g. a DSSE `keyid`, may differ; facts may not).
    let check = |r: blyss_evidence::evidence::sigstore::BundleVerification| {
        assert!(!r.passed() || r.facts == real_facts, "a bundle with other facts passed");
    };
    check(verify_bundle_bytes(data, &root, &policy()));
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(b) = v.get("sigstoreBundle") {
            check(verify_bundle(b, &root, &policy()));
        }
    }
    if let Ok(other) = TrustedRoot::from_json(data) {
        let _ = other.describe();
        let _ = verify_bundle(real, &other, &policy()).passed();
    }
});
