//! Sigstore bundles (and trusted roots): any input, as a bundle or as a
//! Tinfoil attestation document holding one, is verified against the real
//! Sigstore trusted root; as a trusted root, it judges the real bundle. No
//! panic, and a bundle that passes states the real release's facts.
#![no_main]
use std::sync::OnceLock;

use blyss_evidence::evidence::sigstore::{
    verify_bundle, verify_bundle_bytes, IdentityPolicy, ReleaseFacts, TrustedRoot,
};
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

/// The root, the real bundle and its facts, computed once (the real
/// bundle's signatures are the costly part of an execution).
fn fixed() -> &'static (TrustedRoot, serde_json::Value, Option<ReleaseFacts>) {
    static F: OnceLock<(TrustedRoot, serde_json::Value, Option<ReleaseFacts>)> = OnceLock::new();
    F.get_or_init(|| {
        let root = TrustedRoot::from_json(ROOT).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(DOC).unwrap();
        let real = doc["sigstoreBundle"].clone();
        let r = verify_bundle(&real, &root, &policy());
        assert!(r.passed());
        (root, real, r.facts)
    })
}

fuzz_target!(|data: &[u8]| {
    let (root, real, real_facts) = fixed();
    // Whatever passes states exactly the real release's facts (fields no
    // signature covers, e.g. a DSSE `keyid`, may differ; facts may not).
    let check = |r: blyss_evidence::evidence::sigstore::BundleVerification| {
        assert!(!r.passed() || &r.facts == real_facts, "a bundle with other facts passed");
    };
    check(verify_bundle_bytes(data, root, &policy()));
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Some(b) = v.get("sigstoreBundle") {
            check(verify_bundle(b, root, &policy()));
        }
    }
    if let Ok(other) = TrustedRoot::from_json(data) {
        let _ = other.describe();
        let _ = verify_bundle(real, &other, &policy()).passed();
    }
});
