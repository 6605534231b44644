//! Protocol file parsing (every family's section validator).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = blyss_evidence::protocol::Protocol::parse(data, "fuzz");
});
