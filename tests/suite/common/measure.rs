//! Test support for the measurement tests: the real Blyss firmware image,
//! fetched by the project's own script (never committed, never skipped).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// sha256 of `OVMF_v0.0.1.fd` (also pinned in the protocol files).
pub const FIRMWARE_SHA256: &str =
    "db5f9f3b01fab5eeba81a676490034e5585ac9637fa34f752f8d05f222a11ca3";
/// Measurement of the January 2024 document (8 vCPUs).
pub const MEASUREMENT_2024_01: &str = "1ee2a500b58a0c6935b29d0c7cc64cbdf25100a75b574163b8cf8a24bb4aa0a566bfa34a75610f2c7927d2353704131a";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of the verified firmware image. Runs `scripts/fetch-firmware.sh`
/// (idempotent, safe across concurrent test processes) and panics with the
/// script's reason if the image cannot be had: the tests that need it fail.
pub fn firmware_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/fetch-firmware.sh"))
            .output()
            .expect("cannot run bash scripts/fetch-firmware.sh");
        assert!(
            out.status.success(),
            "scripts/fetch-firmware.sh failed: the measurement tests need the real \
             OVMF_v0.0.1.fd (PyPI wheel blyss-verifier==0.1.8) and do not skip.\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let p = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert!(p.is_file(), "fetch-firmware.sh printed {p:?}, not a file");
        p
    })
    .clone()
}

/// The verified image bytes.
pub fn firmware_image() -> Vec<u8> {
    let bytes = std::fs::read(firmware_path()).unwrap();
    assert_eq!(
        blyss_evidence::util::sha256_hex(&bytes),
        FIRMWARE_SHA256,
        "cached firmware image is not OVMF_v0.0.1.fd"
    );
    bytes
}

/// A real attestation document fixture.
pub fn document(name: &str) -> Vec<u8> {
    std::fs::read(root().join("fixtures/blyss").join(name)).unwrap()
}
