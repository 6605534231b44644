//! Attestation document parsing and report rebuilding.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(data) {
        let _ = d.sev_report();
    }
    let _ = blyss_evidence::evidence::attestation::AttestationDocument::from_raw(data, data);
});
