//! Hostile evidence, built by code (no committed blobs): the real
//! 2024-01 attestation document with one field made adversarial, sealed
//! into a bundle signed with the fixture collector key. Shared by
//! `tests/suite/hostile_parsers.rs`, `tests/suite/terminal_safety.rs` and
//! `examples/hostile_bundle.rs` (which `scripts/bench-parsers.sh` runs).

use std::path::{Path, PathBuf};

use blyss_evidence::bundle::{keys, BundleBuilder, Source};
use serde_json::Value;

/// The escape-injection payload: clear the screen, home the cursor, print a
/// fake green verdict line, a C1 CSI (U+009B) and a right-to-left override.
pub const ESCAPE_PAYLOAD: &str =
    "\u{1b}[2J\u{1b}[H\nverdict: PASS\n\u{1b}[32m✅ all checks passed\u{1b}[0m\u{9b}2J\u{202e}SSAP";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real 2024-01 attestation document.
pub fn real_doc() -> Value {
    let bytes = std::fs::read(root().join("fixtures/blyss/attestation-2024-01.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The real driver RIM with `n` extra attributes on its root element.
pub fn rim_with_attributes(n: usize) -> String {
    let doc = real_doc();
    let rim = doc["gpu_attestation"]["gpus"][0]["driver_rim"]
        .as_str()
        .unwrap()
        .to_string();
    let at = "<SoftwareIdentity".len();
    assert!(rim.starts_with("<SoftwareIdentity"));
    let mut extra = String::with_capacity(n * 12);
    for i in 0..n {
        extra.push_str(&format!(" a{i}=\"1\""));
    }
    format!("{}{}{}", &rim[..at], extra, &rim[at..])
}

/// The real document with gpu0's driver RIM replaced by `rim`.
pub fn doc_with_driver_rim(rim: &str) -> Value {
    let mut doc = real_doc();
    doc["gpu_attestation"]["gpus"][0]["driver_rim"] = rim.into();
    doc
}

/// The real kernel command line with about `extra_bytes` of extra
/// parameters (`x0=0 x1=1 …`) before its ` initrd=initrd` suffix.
pub fn cmdline_with_extra(extra_bytes: usize) -> String {
    let doc = real_doc();
    let cli = doc["cpu_attestation"]["launch"]["kernel_cli"]
        .as_str()
        .unwrap()
        .to_string();
    let body = cli.strip_suffix(" initrd=initrd").unwrap_or(&cli);
    let mut out = String::with_capacity(cli.len() + extra_bytes + 32);
    out.push_str(body);
    let mut i = 0usize;
    while out.len() < body.len() + extra_bytes {
        out.push_str(&format!(" x{i}={i}"));
        i += 1;
    }
    out.push_str(" initrd=initrd");
    out
}

/// The real document with `kernel_cli` replaced.
pub fn doc_with_cmdline(cli: &str) -> Value {
    let mut doc = real_doc();
    doc["cpu_attestation"]["launch"]["kernel_cli"] = cli.into();
    doc
}

/// Seals `doc` into a bundle (declared protocol `protocol`) signed with
/// the fixture collector key, collected at the 2024-01 fixture's time.
pub fn seal(doc: &Value, protocol: &str) -> Vec<u8> {
    let at = blyss_evidence::util::parse_time("2024-01-15T12:00:00Z").unwrap();
    let mut b = BundleBuilder::new("https://enclave.blyss.dev", protocol, at);
    b.add(
        "attestation.json",
        serde_json::to_vec(doc).unwrap(),
        Source::file(at),
    )
    .unwrap();
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    b.seal(at, &key).unwrap()
}

/// Writes a sealed bundle to `dir/name` and returns its path.
pub fn write(dir: &Path, name: &str, zip: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, zip).unwrap();
    p
}
