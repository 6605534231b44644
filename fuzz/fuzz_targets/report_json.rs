//! Saved JSON reports (`report render`) and every renderer: terminal, HTML
//! (a template error is an `Err`, never a panic) and Markdown.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = blyss_evidence::report::Report::from_json(data) {
        let _ = blyss_evidence::report::terminal::render(&r, true);
        let _ = blyss_evidence::report::html::render(&r);
        let _ = blyss_evidence::report::markdown::render(&r);
    }
});
