//! Saved JSON reports (`report render`) and the terminal renderer.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = blyss_evidence::report::Report::from_json(data) {
        let _ = blyss_evidence::report::terminal::render(&r, true);
    }
});
