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
        after_help = "Example:\n  blyss-evidence report render report.json --html report.html --markdown report.md\n\nNothing is re-audited: the verdict is re-derived from the saved check results (required + status, the audit's own rule) and a report whose stored verdict or family summaries disagree with its checks is refused (exit 2). Prints the terminal summary too, saying it was re-rendered; the exit code is the re-derived verdict's (0 pass, 1 fail)."
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
            // The saved verdict is a claim like any other in the file:
            // re-derived from the saved checks, refused when it disagrees.
            report.check_consistency().map_err(|e| {
                anyhow::anyhow!("{} is refused: {e}; nothing was rendered", json.display())
            })?;
            let source = json
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| json.display().to_string());
            write_saved(&report, &source, html.as_deref(), markdown.as_deref())?;
            print!(
                "{}",
                blyss_evidence::report::terminal::render_saved(&report, verbose, &source)
            );
            Ok(match report.verdict.status {
                blyss_evidence::checks::Verdict::Pass => Outcome::Pass,
                blyss_evidence::checks::Verdict::Fail => Outcome::Fail,
            })
        }
    }
}

/// [`write_rendered`] for a saved report: each rendering says it was
/// re-rendered from `source`, not re-audited.
fn write_saved(
    r: &Report,
    source: &str,
    html: Option<&Path>,
    md: Option<&Path>,
) -> anyhow::Result<()> {
    let html_text = match html {
        Some(_) => Some(html::render_saved(r, source)?),
        None => None,
    };
    let md_text = md.map(|_| markdown::render_saved(r, source));
    write_texts(html.zip(html_text.as_deref()), md.zip(md_text.as_deref()))
}

fn write_texts(html: Option<(&Path, &str)>, md: Option<(&Path, &str)>) -> anyhow::Result<()> {
    for (p, t) in html.into_iter().chain(md) {
        blyss_evidence::util::write_atomic(p, t.as_bytes())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
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
