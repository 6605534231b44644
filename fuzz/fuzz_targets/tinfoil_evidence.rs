//! Tinfoil attestation bundles, in-toto statements, the restricted-YAML
//! launch configuration and release bodies (the digest): any input, read
//! as each of the four. No panic; a bundle that parses holds a 1184-byte
//! report, containers read from a config are at most the cap, and a digest
//! found in a release body is 64 lowercase hex digits.
#![no_main]
use blyss_evidence::evidence::tinfoil::{
    config_containers, digest_in_release_body, parse_yaml, Statement, TinfoilBundle,
    MAX_CONTAINERS,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = TinfoilBundle::parse(data) {
        assert_eq!(b.report.len(), 1184);
        let _ = b.enclave_spki_sha256();
    }
    if let Ok(s) = Statement::parse(data) {
        let _ = s.config_hash_param();
        if let Some(c) = &s.config {
            let _ = config_containers(c);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_yaml(text);
        // A release body (online collection and `tinfoil.collection`): a
        // digest found is always 64 lowercase hex digits.
        if let Some(d) = digest_in_release_body(text) {
            assert!(d.len() == 64 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
    }
    if let Ok(cs) = config_containers(data) {
        assert!(cs.len() <= MAX_CONTAINERS);
        for c in &cs {
            let _ = c.image();
        }
    }
});
