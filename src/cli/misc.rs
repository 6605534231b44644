//! `trust show`.

use std::path::PathBuf;

use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Print the active trust set with fingerprints.
    #[command(after_help = "Examples:\n  \
# the embedded production set: AMD roots, CT log-list key and snapshot, NVIDIA roots, Mozilla roots\n  \
blyss-evidence trust show\n  \
# a trust file (reported as NON-PRODUCTION), e.g. the synthetic test platform\n  \
blyss-evidence trust show --trust fixtures/synthetic/test-trust.json\n\n\
Each line: role, sha256 (of the certificate DER, key SPKI or file; for tls.mozilla-roots a\n\
digest over the sorted roots, protocol/trust-file.md), name. The first line's digest\n\
covers the whole set and is recorded in every report.")]
    Show {
        /// Trust file (default: the embedded production set).
        #[arg(long)]
        trust: Option<PathBuf>,
    },
}

pub fn trust(c: TrustCommand) -> anyhow::Result<Outcome> {
    let TrustCommand::Show { trust } = c;
    let t = super::load_trust(trust.as_ref())?;
    println!(
        "trust set {} version {} ({})",
        t.name,
        t.version,
        if t.production {
            "production, embedded"
        } else {
            "NON-PRODUCTION"
        }
    );
    println!("digest {}", t.digest());
    for a in t.anchors() {
        println!("{:<22} {:<64} {}", a.role, a.sha256, a.name);
    }
    // What the Sigstore trusted root lists (it is one anchor file).
    if let Ok(root) = blyss_evidence::evidence::sigstore::trusted_root_of(&t) {
        for line in root.describe() {
            println!("  sigstore {}", blyss_evidence::util::visible(&line));
        }
    }
    Ok(Outcome::Pass)
}
