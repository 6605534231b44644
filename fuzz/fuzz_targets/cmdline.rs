//! Kernel command line: shell splitting, parameters, docker-image arguments,
//! dm-verity target, and report redaction of secrets in it.
#![no_main]
use blyss_evidence::evidence::cmdline::{Cmdline, DmVerity, ImageRef};
use blyss_evidence::report::redact::Redactor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Cmdline::parse(text) {
        // The stripped form plus the suffix is the raw text, byte for byte:
        // the measurement hashes `raw`, the rules judge `stripped`.
        let rebuilt = if c.initrd_suffix {
            format!("{} initrd=initrd", c.stripped)
        } else {
            c.stripped.clone()
        };
        assert_eq!(rebuilt, c.raw);
        for p in &c.params {
            let _ = c.count(&p.key);
            let _ = c.value(&p.key);
            let _ = c.image(&p.key);
        }
        for img in &c.images {
            let _ = img.env_names();
        }
    }
    let _ = ImageRef::parse(text);
    let _ = DmVerity::parse(text);
    let mut r = Redactor::new();
    r.learn(text);
    let once = r.apply(text);
    let _ = r.apply(&once);
});
