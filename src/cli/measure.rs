//! `blyss-evidence measure` and `firmware describe`.

use anyhow::bail;
use clap::{Args, Subcommand};

use super::Outcome;

#[derive(Args)]
pub struct MeasureArgs {}

#[derive(Subcommand)]
pub enum FirmwareCommand {
    /// Derive a firmware descriptor from an OVMF image.
    Describe {
        /// The firmware image.
        image: std::path::PathBuf,
    },
}

pub fn run(_a: MeasureArgs) -> anyhow::Result<Outcome> {
    bail!("measure is not implemented yet")
}

pub fn firmware(_c: FirmwareCommand) -> anyhow::Result<Outcome> {
    bail!("firmware describe is not implemented yet")
}
