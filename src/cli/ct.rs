//! `blyss-evidence ct check` (issue 6).

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;

use super::Outcome;

#[derive(Subcommand)]
pub enum CtCommand {
    /// Verify the SCTs embedded in a certificate, offline.
    Check {
        /// Certificate (PEM or DER; a PEM chain may carry the issuer second).
        cert: PathBuf,
    },
}

pub fn run(_c: CtCommand) -> anyhow::Result<Outcome> {
    bail!("ct check is not implemented yet")
}
