//! Tinfoil attestation bundles, in-toto statements and the restricted-YAML
//! launch configuration: any input, read as each of the three. No panic;
//! a bundle that parses holds a 1184-byte report, and containers read from a
//! config are at most the cap.
#![no_main]
use blyss_evidence::evidence::tinfoil::{
    config_containers, parse_yaml, Statement, TinfoilBundle, MAX_CONTAINERS,
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
    }
    if let Ok(cs) = config_containers(data) {
        assert!(cs.len() <= MAX_CONTAINERS);
        for c in &cs {
            let _ = c.image();
        }
    }
});
