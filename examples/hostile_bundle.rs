//! Writes a signed bundle holding hostile evidence for
//! `scripts/bench-parsers.sh` (issue 13): the real 2024-01 attestation
//! document with gpu0's driver RIM carrying N extra attributes on one
//! element, or with M MiB of extra kernel command-line parameters, signed
//! with the fixture collector key. Built by committed code: no blobs.
//!
//! Usage: `cargo run --release --example hostile_bundle -- rim 200000 out.zip`
//!        `cargo run --release --example hostile_bundle -- cmdline 10 out.zip`

#[path = "../tests/suite/common/hostile_evidence.rs"]
#[allow(dead_code)]
mod hostile;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, n, out] = args.as_slice() else {
        eprintln!("usage: hostile_bundle rim <attributes> <out.zip> | cmdline <MiB> <out.zip>");
        std::process::exit(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("not a number: {n}");
        std::process::exit(2);
    };
    let doc = match kind.as_str() {
        "rim" => hostile::doc_with_driver_rim(&hostile::rim_with_attributes(n)),
        "cmdline" => hostile::doc_with_cmdline(&hostile::cmdline_with_extra(n * 1024 * 1024)),
        _ => {
            eprintln!("unknown kind {kind}: rim or cmdline");
            std::process::exit(2);
        }
    };
    let zip = hostile::seal(&doc, "v0.0.1");
    std::fs::write(out, &zip).expect("write the bundle");
}
