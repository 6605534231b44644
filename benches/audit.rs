//! In-process benchmarks of the whole audit (issue 10): opening and auditing
//! the real January 2024 Blyss bundle under `--scope attestation`, once in
//! descriptor mode (the shipped fixture) and once with the 4 MiB firmware
//! image in the bundle (built here with the fixture collector key), plus one
//! SHA-384 pass over that image as the yardstick measured in the same run.
//! Whole-process figures (what a user waits for) come from
//! `scripts/bench-audit.sh`; timing is never asserted anywhere.
//!
//! The signature memo (`util::memo_verify`) is cleared before every
//! iteration, so each one costs what one audit in a fresh process costs.
//!
//! `cargo bench --bench audit`; medians are in
//! target/criterion/audit*/new/estimates.json.

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, Scope, SignerPin};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sha2::{Digest, Sha384};
use time::OffsetDateTime;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const FIXTURE_FP: &str = "b244c7ca5b5ba3d7508a0515877b8ff65f6c72f9c04336d890f95c62b7325729";

#[path = "support/mod.rs"]
mod support;
use support::firmware;

fn bench(c: &mut Criterion) {
    let plain = std::fs::read(format!("{ROOT}/fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let image = firmware();
    let key = keys::parse_private(
        &std::fs::read_to_string(format!("{ROOT}/fixtures/keys/fixture-collector.key")).unwrap(),
        "fixture-collector.key",
    )
    .unwrap();
    let t0 = OffsetDateTime::from_unix_timestamp(1_705_276_800).unwrap();
    let mut b = BundleBuilder::new("https://enclave.blyss.dev", "v0.0.1", t0);
    b.add(
        "attestation.json",
        std::fs::read(format!("{ROOT}/fixtures/blyss/attestation-2024-01.json")).unwrap(),
        Source::file(t0),
    )
    .unwrap();
    b.add("firmware/OVMF_v0.0.1.fd", image.clone(), Source::file(t0))
        .unwrap();
    let with_image = b.seal(t0, &key).unwrap();

    let protocol = Protocol::load("v0.0.1").unwrap();
    let trust = TrustSet::production();
    let options = AuditOptions {
        scope: Scope::Attestation,
        signer_pin: Some(SignerPin::Fingerprint(FIXTURE_FP.into())),
        ..Default::default()
    };
    let now = OffsetDateTime::from_unix_timestamp(1_764_374_400).unwrap();
    let run = |zip: &[u8]| {
        // Every iteration verifies every signature, as a fresh process does
        // (a warm memo would skip most of the public-key work).
        blyss_evidence::util::clear_verification_memo();
        let bundle = Bundle::from_bytes(zip, "bench.zip").unwrap();
        audit(&bundle, &protocol, &trust, &options, now)
    };
    // What is timed must be what passes: both bundles audit to the same
    // verdict as the shipped fixture does from the command line.
    let v_plain = run(&plain).verdict.label;
    let v_image = run(&with_image).verdict.label;
    assert_eq!(v_plain, v_image, "image mode changes the verdict");
    eprintln!("verdict of both bundles: {v_plain}");

    let mut g = c.benchmark_group("audit");
    g.sample_size(30);
    g.bench_function("blyss-2024-01 descriptor mode", |bch| {
        bch.iter(|| black_box(run(black_box(&plain))))
    });
    g.bench_function("blyss-2024-01 with 4 MiB firmware image", |bch| {
        bch.iter(|| black_box(run(black_box(&with_image))))
    });
    g.bench_function("sha384 of the firmware image (yardstick)", |bch| {
        bch.iter(|| black_box(Sha384::digest(black_box(&image))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
