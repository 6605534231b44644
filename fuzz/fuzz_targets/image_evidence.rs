//! Image references, manifests, indexes and configs (evidence::oci): the
//! input is parsed as a reference, a manifest and a config, and verified as
//! the blob an attested digest names.
#![no_main]
use blyss_evidence::evidence::oci;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = oci::Reference::parse(s);
        let _ = oci::Digest::parse(s);
    }
    let _ = oci::parse_manifest(data, "fuzz");
    let _ = oci::parse_config(data, "fuzz");
    let attested = oci::Digest::sha256_of(data);
    let _ = oci::verify_image(&attested, &|d| (d == &attested).then_some(data));
});
