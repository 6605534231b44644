//! `blyss-evidence keygen`.

use std::path::PathBuf;

use blyss_evidence::bundle::keys;
use clap::Args;

use super::Outcome;

#[derive(Args)]
#[command(
    after_help = "Example:\n  blyss-evidence keygen -o collector.key   # writes collector.key (0600) and collector.key.pub"
)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to PATH.pub.
    #[arg(short, long, default_value = "collector.key")]
    pub output: PathBuf,
}

pub fn run(a: KeygenArgs) -> anyhow::Result<Outcome> {
    let key = keys::generate();
    let pub_path = keys::write_pair(&key, &a.output)?;
    println!("wrote {} and {}", a.output.display(), pub_path.display());
    println!(
        "fingerprint (sha256 of SPKI): {}",
        keys::fingerprint(key.verifying_key())
    );
    Ok(Outcome::Pass)
}
