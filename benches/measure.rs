//! Benchmarks of the launch measurement (issue 4): descriptor mode, image
//! mode, and one SHA-384 pass over the same image as the yardstick image
//! mode is judged against (target: image mode ≤ 1.3 × the SHA-384 pass;
//! descriptor mode < 1 ms per digest).
//!
//! Needs the real firmware: `bash scripts/fetch-firmware.sh` (run
//! automatically). `cargo bench --bench measure`; medians are in
//! target/criterion/*/new/estimates.json.

use std::time::Instant;

use blyss_evidence::measure::{
    self, cmdline_hash, describe, KernelHashes, LaunchParams, VmmType, VmsaFpu,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sha2::{Digest, Sha384};

#[path = "support/mod.rs"]
mod support;
use support::firmware;

fn inputs() -> (KernelHashes, LaunchParams) {
    let doc = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/blyss/attestation-2024-01.json"
    ))
    .unwrap();
    let d = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(&doc).unwrap();
    let l = d.launch.unwrap();
    let h = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
    (
        KernelHashes {
            kernel: h("ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc"),
            initrd: h("5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611"),
            cmdline: cmdline_hash(&l.kernel_cli.replace(" initrd=initrd", "")),
        },
        LaunchParams {
            vcpus: l.num_vcpus,
            vcpu_type: "EPYC-v4".parse().unwrap(),
            vmm: VmmType::Qemu,
            guest_features: 0x1,
            vmsa_fpu: VmsaFpu::LegacyZero,
        },
    )
}

fn bench(c: &mut Criterion) {
    let image = firmware();
    let desc = describe(&image).unwrap();
    let (hashes, params) = inputs();
    let expected = "1ee2a500b58a0c6935b29d0c7cc64cbdf25100a75b574163b8cf8a24bb4aa0a566bfa34a75610f2c7927d2353704131a";
    assert_eq!(
        measure::measure(&desc, Some(&hashes), &params)
            .unwrap()
            .hex(),
        expected
    );

    let mut g = c.benchmark_group("measure");
    g.bench_function("descriptor_mode_8_vcpus", |b| {
        b.iter(|| measure::measure(black_box(&desc), Some(&hashes), &params).unwrap())
    });
    g.sample_size(30);
    g.bench_function("image_mode_8_vcpus", |b| {
        b.iter(|| measure::measure_image(black_box(&image), Some(&hashes), &params).unwrap())
    });
    g.bench_function("sha384_one_pass_over_image", |b| {
        b.iter(|| Sha384::digest(black_box(&image)))
    });
    g.finish();
    interleaved_ratio(&image, &hashes, &params);
}

/// The machine is shared: criterion runs one function after the other, so a
/// load change between them skews the ratio. Here the two are interleaved
/// run by run and the medians compared.
fn interleaved_ratio(image: &[u8], hashes: &KernelHashes, params: &LaunchParams) {
    let runs = 41;
    let (mut img, mut sha) = (Vec::new(), Vec::new());
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..runs {
        let t = Instant::now();
        black_box(measure::measure_image(black_box(image), Some(hashes), params).unwrap());
        img.push(ms(t));
        let t = Instant::now();
        black_box(Sha384::digest(black_box(image)));
        sha.push(ms(t));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, c) = (median(&mut img), median(&mut sha));
    println!(
        "interleaved medians over {runs} runs: image mode {a:.2} ms = {:.2}x one SHA-384 pass ({c:.2} ms)",
        a / c
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
