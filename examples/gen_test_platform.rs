//! Writes the TEST-ONLY synthetic SEV-SNP platform (test ARK/ASK/VCEK for
//! Milan, Genoa and Turin, CRLs, sample reports, `test-trust.json`).
//!
//! Usage: `cargo run --example gen_test_platform -- fixtures/synthetic`
//!
//! Existing key files in the directory are reused (RSA-4096 generation is
//! slow and the committed keys are the reference); everything else is
//! rewritten deterministically from them.

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: gen_test_platform <output directory>");
        std::process::exit(2);
    };
    match blyss_evidence::evidence::amd::testing::generate(std::path::Path::new(&dir)) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
