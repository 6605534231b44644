//! `blyss-evidence report render` and HTML/Markdown report writing (issue 8).

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Subcommand;

use super::Outcome;

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

pub fn run(_c: ReportCommand) -> anyhow::Result<Outcome> {
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
