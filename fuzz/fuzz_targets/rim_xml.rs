//! RIM XML: the restricted parser and C14N 1.1 on their own, seeded with the
//! real RIMs (`gpu_evidence` gets JSON seeds, so its mutations rarely form
//! XML). Properties: no panic; a parsed document canonicalizes, and the
//! canonical form parses again to the same canonical form (C14N is
//! idempotent); the parser's caps hold on everything it accepts; the
//! RIM-service envelope unwraps or refuses without panicking.
#![no_main]
use blyss_evidence::evidence::gpu::{rim, rim_service, xml};
use libfuzzer_sys::fuzz_target;

fn count(e: &xml::Element) -> (usize, usize) {
    let mut n = (1, e.attrs.len());
    for c in e.elements() {
        let (a, b) = count(c);
        n = (n.0 + a, n.1 + b);
    }
    n
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(root) = xml::parse(text) {
        let (elements, attrs) = count(&root);
        assert!(elements <= xml::MAX_ELEMENTS && attrs <= xml::MAX_ATTRS);
        let c = xml::canonicalize(&root, &|_| false);
        // Escaping can make the canonical form longer than the size cap
        // (`>` becomes `&gt;`); below it, it parses to itself.
        if c.len() <= xml::MAX_LEN {
            let again =
                xml::parse(std::str::from_utf8(&c).unwrap()).expect("C14N output parses");
            assert_eq!(xml::canonicalize(&again, &|_| false), c, "C14N is idempotent");
        }
    }
    if let Ok(r) = rim::Rim::parse(rim::RimKind::Vbios, text) {
        let _ = r.verify_signature();
    }
    // The RIM-service envelope (`--fetch-rims` members): XML passes through
    // unchanged; anything else unwraps or is refused, never panics.
    if let Ok(inner) = rim_service::unwrap("gpu/rims/NV_GPU_DRIVER_GH100_1.json", text) {
        if !text.trim_start().starts_with('{') {
            assert_eq!(inner, text);
        }
    }
});
