//! Bundle opening: the safe reader must never panic, and a bundle it accepts
//! must survive a full audit without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = blyss_evidence::bundle::Bundle::from_bytes(data, "fuzz.zip") {
        let p = blyss_evidence::protocol::Protocol::load("v0.0.1").unwrap();
        let t = blyss_evidence::trust::TrustSet::production();
        let o = blyss_evidence::checks::AuditOptions::default();
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let _ = blyss_evidence::audit::audit(&b, &p, &t, &o, at);
    }
});
