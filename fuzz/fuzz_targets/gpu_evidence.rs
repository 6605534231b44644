//! GPU evidence: `gpu_attestation` JSON (SPDM rebuild, chains) and RIM XML
//! (restricted parser, C14N, XMLDSig structure); NVIDIA's interchange JSON
//! and raw SPDM bytes (`evidence::gpu::nvidia`, `Measurements::from_bytes_as`),
//! for GPUs and NVSwitches.
#![no_main]
use blyss_evidence::evidence::gpu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in [gpu::DeviceKind::Gpu, gpu::DeviceKind::Switch] {
        if let Ok(m) = gpu::spdm::Measurements::from_bytes_as(data, kind) {
            assert_eq!(m.signed_message(), data[..data.len() - gpu::spdm::SIGNATURE_LEN]);
            let _ = m.fwid();
            let _ = m.vbios_version();
            let _ = m.pdis(gpu::spdm::OPAQUE_SWITCH_PDI);
            let _ = m.pdis(gpu::spdm::OPAQUE_SWITCH_GPU_PDIS);
        }
    }
    for kind in [gpu::DeviceKind::Gpu, gpu::DeviceKind::Switch] {
        let Ok(gpus) = gpu::nvidia::parse_as(kind, data, &[], 0) else {
            continue;
        };
        for g in gpus {
            if let Ok(c) = &g.cert_chain {
                if let Ok(leaf) = gpu::certs::CertInfo::parse(&c[0]) {
                    let _ = leaf.dice_fwids();
                }
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rim) = gpu::rim::Rim::parse(gpu::rim::RimKind::Driver, text) {
            let _ = rim.verify_signature();
        }
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let v = v.get("gpu_attestation").cloned().unwrap_or(v);
        if let Ok(gpus) = gpu::parse(&v) {
            for g in gpus {
                if let Ok(m) = &g.measurements {
                    let _ = m.signed_message();
                    let _ = m.driver_version();
                    let _ = m.vbios_version();
                }
                if let Ok(c) = &g.cert_chain {
                    let _ = gpu::certs::verify_chain(c, c, gpu::certs::LeafUse::DigitalSignature);
                }
            }
        }
    }
});
