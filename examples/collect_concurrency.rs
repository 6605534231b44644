//! Concurrency measurement for `collect` (issue 5): every endpoint of the
//! loopback world answers after 200 ms; collect's wall time should track
//! the longest dependency chain, not the sum of all resources. Chains:
//! attestation document → VCEK (2 requests); TLS capture → CT log list (+
//! signature, in parallel) → STH/checkpoint → proof/tiles (3 requests); the
//! firmware (1). The longest is 3 × 200 ms. Prints the concurrent and the sequential
//! (one request in flight at a time) figures. Timing lives here, never in
//! test asserts.
//!
//! Run: `bash scripts/bench-collect.sh` (or
//! `cargo run --example collect_concurrency`).

#[path = "../tests/suite/common/world.rs"]
mod world;
// The world's enclave certificate embeds SCTs from these test logs.
#[path = "../tests/suite/common/ct_logs.rs"]
mod ct_logs;

use std::time::{Duration, Instant};

use world::{Fault, World};

const DOC: &[u8] = include_bytes!("../fixtures/blyss/attestation-2024-01.json");
const LATENCY: Duration = Duration::from_millis(200);
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn measure(w: &World, in_flight: usize) -> Vec<Duration> {
    let trust = world::trust(w);
    let mut o = world::options(w, "v0.0.1");
    o.http.max_in_flight = in_flight;
    o.firmware = vec![format!("{}/OVMF.fd", w.firmware.url())];
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let c = blyss_evidence::collect::collect(&o, &trust).expect("collect");
            let d = t.elapsed();
            assert_eq!(c.failures, 0, "{:?}", c.warnings);
            d
        })
        .collect()
}

fn main() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    w.firmware
        .serve("/OVMF.fd", "application/octet-stream", vec![7u8; 64 * 1024]);
    for s in [&w.enclave, &w.kds, &w.firmware]
        .into_iter()
        .chain(w.ct.servers.iter())
    {
        s.fault("/", Fault::Latency(LATENCY));
    }
    // CT: log list → STH/checkpoint → proof/tiles (the document → VCEK
    // chain is shorter: 2 requests).
    let chain = LATENCY * 3;
    let conc = measure(&w, 8);
    let seq = measure(&w, 1);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("injected latency per endpoint: {} ms", LATENCY.as_millis());
    let hits = |s: &world::Server| s.hits("/").len();
    let requests: usize = [&w.enclave, &w.kds, &w.firmware]
        .into_iter()
        .chain(w.ct.servers.iter())
        .map(hits)
        .sum();
    println!(
        "requests per collection: {} (attestation document, AMD cert_chain/CRL/VCEK, firmware, CT list, signature, STHs, proofs, tiles) + 2 TLS captures",
        requests / (2 * RUNS)
    );
    println!(
        "longest dependency chain: CT log list -> STH/checkpoint -> proof/tiles = {} ms",
        chain.as_millis()
    );
    println!(
        "concurrent (8 in flight): median {:.0} ms over {RUNS} runs {:?}",
        ms(median(conc.clone())),
        conc.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    println!(
        "sequential (1 in flight): median {:.0} ms over {RUNS} runs {:?}",
        ms(median(seq.clone())),
        seq.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    let bound = chain * 3;
    let m = median(conc);
    println!(
        "concurrent median / longest chain = {:.2} (goal < 3.00): {}",
        m.as_secs_f64() / chain.as_secs_f64(),
        if m < bound { "OK" } else { "OVER" }
    );
}
