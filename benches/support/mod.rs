//! Shared by the benchmarks (included with `#[path]`, not a bench itself).

/// The real firmware image, fetched and verified by the project's script.
pub fn firmware() -> Vec<u8> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/scripts/fetch-firmware.sh"))
        .output()
        .expect("run scripts/fetch-firmware.sh");
    assert!(
        out.status.success(),
        "scripts/fetch-firmware.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}
