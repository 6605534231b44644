//! Command-line front end. Thin: parse options, call the library, print.
//! Exit codes are decided in one place, [`main`]:
//! 0 = audit passed, 1 = audit failed, 2 = could not audit (bad input, I/O).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod collect;
mod ct;
mod keygen;
mod measure;
mod misc;
mod report;

/// What a command concluded; errors are exit 2.
pub enum Outcome {
    /// Exit 0.
    Pass,
    /// Exit 1: the audit ran and failed.
    Fail,
}

#[derive(Parser)]
#[command(name = "blyss-evidence", version, term_width = 0, about = "Collect, seal and audit offline the evidence behind confidential AI services (AMD SEV-SNP, NVIDIA GPUs and NVSwitches, Tinfoil releases).", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit a bundle offline and write reports.
    Audit(audit::AuditArgs),
    /// Snapshot a service's evidence into a signed bundle (online, or offline import).
    // Boxed: the import options make it far larger than the other variants.
    Collect(Box<collect::CollectArgs>),
    /// Collect and audit in one go, like the original verifier.
    Verify(collect::VerifyArgs),
    /// Generate a collector signing key (ECDSA P-384).
    Keygen(keygen::KeygenArgs),
    /// Show the active trust set.
    Trust {
        #[command(subcommand)]
        command: misc::TrustCommand,
    },
    /// Recompute an SEV-SNP launch measurement.
    Measure(measure::MeasureArgs),
    /// Firmware image tools.
    Firmware {
        #[command(subcommand)]
        command: measure::FirmwareCommand,
    },
    /// Certificate Transparency tools.
    Ct {
        #[command(subcommand)]
        command: ct::CtCommand,
    },
    /// Re-render saved reports.
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
    },
}

/// Parses arguments, runs the command, maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let res = match cli.command {
        Command::Audit(a) => audit::run(a),
        Command::Collect(a) => collect::run(*a),
        Command::Verify(a) => collect::verify(a),
        Command::Keygen(a) => keygen::run(a),
        Command::Trust { command } => misc::trust(command),
        Command::Measure(a) => measure::run(a),
        Command::Firmware { command } => measure::firmware(command),
        Command::Ct { command } => ct::run(command),
        Command::Report { command } => report::run(command),
    };
    match res {
        Ok(Outcome::Pass) => ExitCode::from(0),
        Ok(Outcome::Fail) => ExitCode::from(1),
        Err(e) => {
            // Errors quote evidence (member names, fields, a saved report):
            // printed with control characters made visible.
            eprintln!(
                "error: {}",
                blyss_evidence::util::visible(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// Loads the trust set: embedded production, or `--trust FILE`.
pub fn load_trust(path: Option<&PathBuf>) -> anyhow::Result<blyss_evidence::trust::TrustSet> {
    Ok(match path {
        Some(p) => blyss_evidence::trust::TrustSet::load(p)?,
        None => blyss_evidence::trust::TrustSet::production(),
    })
}
