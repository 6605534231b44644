//! `blyss-evidence keygen`.

use std::path::PathBuf;

use anyhow::bail;
use blyss_evidence::bundle::keys;
use clap::Args;

use super::Outcome;

#[derive(Args)]
#[command(
    after_help = "Example:\n  blyss-evidence keygen -o collector.key   # writes collector.key (0600) and collector.key.pub\n\n\
An existing key is never overwritten unless --force is given (a lost collector key cannot be\n\
recovered, and bundles signed with it can then no longer be attributed). The directory of -o\n\
must exist: it is not created."
)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to PATH.pub.
    #[arg(short, long, default_value = "collector.key")]
    pub output: PathBuf,
    /// Replace an existing key pair at PATH and PATH.pub.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let pub_path = keys::pub_path(&a.output);
    if let Some(dir) = a.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            bail!(
                "directory {} does not exist (keygen does not create directories): create it first, or give another -o",
                dir.display()
            );
        }
    }
    let existing: Vec<&PathBuf> = [&a.output, &pub_path]
        .into_iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        if !a.force {
            bail!(
                "{} already {}: not overwritten (give another -o, or --force to replace the key pair)",
                existing
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                if existing.len() == 1 { "exists" } else { "exist" }
            );
        }
        for p in existing {
            std::fs::remove_file(p)
                .map_err(|e| anyhow::anyhow!("--force: cannot remove {}: {e}", p.display()))?;
        }
    }
    let key = keys::generate();
    let pub_path = keys::write_pair(&key, &a.output)?;
    println!("wrote {} and {}", a.output.display(), pub_path.display());
    println!(
        "fingerprint (sha256 of SPKI): {}",
        keys::fingerprint(key.verifying_key())
    );
    Ok(Outcome::Pass)
}
