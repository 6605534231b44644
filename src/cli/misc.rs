//! `trust show`, `ct check`, `report render`, and report file writing.

use std::path::{Path, PathBuf};

use anyhow::bail;
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

#[derive(Subcommand)]
pub enum CtCommand {
    /// Verify the SCTs embedded in a certificate, offline.
    Check {
        /// Certificate (PEM or DER; a PEM chain may carry the issuer second).
        cert: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Re-render a saved JSON report.
    Render {
        /// The JSON report.
        json: PathBuf,
        #[arg(long)]
        html: Option<PathBuf>,
        #[arg(long)]
        markdown: Option<PathBuf>,
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

pub fn ct(_c: CtCommand) -> anyhow::Result<Outcome> {
    bail!("ct check is not implemented yet")
}

pub fn report(_c: ReportCommand) -> anyhow::Result<Outcome> {
    bail!("report render is not implemented yet")
}

/// Writes HTML and/or Markdown renderings of a report.
pub fn write_rendered(
    _r: &blyss_evidence::report::Report,
    _html: Option<&Path>,
    _md: Option<&Path>,
) -> anyhow::Result<()> {
    bail!("HTML and Markdown reports are not implemented yet; use --json")
}
