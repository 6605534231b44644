//! OCSP responses (`evidence/gpu/ocsp/*`): member decoding (DER or base64),
//! the `x509-ocsp` parse and our checks on top, seeded with the seven real
//! NVIDIA responses. Properties: no panic; the caps hold on everything
//! accepted; judging against the real BROM and its issuer (whose response
//! is in the seeds) never panics, whatever the bytes say.
#![no_main]
use blyss_evidence::evidence::gpu::certs::{pem_to_der, CertInfo};
use blyss_evidence::evidence::gpu::ocsp;
use libfuzzer_sys::fuzz_target;

const CHAIN: &str = include_str!(
    "../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/device_cert_chain.pem"
);

fuzz_target!(|data: &[u8]| {
    let Ok(r) = ocsp::Response::parse("fuzz", data) else {
        return;
    };
    assert!(!r.singles.is_empty() && r.singles.len() <= ocsp::MAX_SINGLE);
    assert!(r.certs.len() <= ocsp::MAX_CERTS);
    static CERTS: std::sync::OnceLock<Vec<CertInfo>> = std::sync::OnceLock::new();
    let certs = CERTS.get_or_init(|| {
        CHAIN
            .split_inclusive("-----END CERTIFICATE-----")
            .filter(|b| b.contains("BEGIN"))
            .map(|b| CertInfo::parse(&pem_to_der(b).unwrap()).unwrap())
            .collect()
    });
    for s in &r.singles {
        let _ = s.serial_hex();
    }
    let _ = r.verify_signer(&certs[2]);
    let _ = ocsp::judge(&certs[1], &certs[2], std::slice::from_ref(&r), r.produced_at);
});
