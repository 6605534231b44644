//! `blyss-evidence report render` and HTML/Markdown report writing (issue 8).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use blyss_evidence::report::{html, markdown, Report};
use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Re-render a saved JSON report (no bundle needed).
    #[command(
        after_help = "Example:\n  blyss-evidence report render report.json --html report.html --markdown report.md\n\nPrints the terminal summary too; the exit code is the saved verdict's (0 pass, 1 fail)."
    )]
    Render {
        /// The JSON report (schema_version 1).
        json: PathBuf,
        /// Write the HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the Markdown summary here.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Show every check with expected and actual values.
        #[arg(short, long)]
        verbose: bool,
    },
}

pub fn run(c: ReportCommand) -> anyhow::Result<Outcome> {
    match c {
        ReportCommand::Render {
            json,
            html,
            markdown,
            verbose,
        } => {
            let bytes =
                std::fs::read(&json).with_context(|| format!("cannot read {}", json.display()))?;
            let report = Report::from_json(&bytes)
                .map_err(|e| anyhow::anyhow!("{} is not a report: {e}", json.display()))?;
            if html.is_none() && markdown.is_none() {
                bail!("nothing to render: give --html PATH and/or --markdown PATH");
            }
            write_rendered(&report, html.as_deref(), markdown.as_deref())?;
            print!(
                "{}",
                blyss_evidence::report::terminal::render(&report, verbose)
            );
            Ok(match report.verdict.status {
                blyss_evidence::checks::Verdict::Pass => Outcome::Pass,
                blyss_evidence::checks::Verdict::Fail => Outcome::Fail,
            })
        }
    }
}

/// Writes HTML and/or Markdown renderings of a report (atomically: a
/// rendering error or an interruption leaves no partial file). Both are
/// rendered before either is written.
pub fn write_rendered(r: &Report, html: Option<&Path>, md: Option<&Path>) -> anyhow::Result<()> {
    let html_text = match html {
        Some(_) => Some(html::render(r)?),
        None => None,
    };
    let md_text = md.map(|_| markdown::render(r));
    if let (Some(p), Some(t)) = (html, &html_text) {
        super::audit::write_report_file(r, p, t.as_bytes())?;
    }
    if let (Some(p), Some(t)) = (md, &md_text) {
        super::audit::write_report_file(r, p, t.as_bytes())?;
    }
    Ok(())
}
