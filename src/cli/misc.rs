//! `trust show`.

use std::path::PathBuf;

use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Print the active trust set with fingerprints.
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
    Ok(Outcome::Pass)
}
