//! `blyss-evidence collect` and `verify`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use blyss_evidence::bundle::import::{import_into, ImportRequest};
use blyss_evidence::bundle::{keys, BundleBuilder};
use clap::Args;

use super::Outcome;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  blyss-evidence collect https://enclave.blyss.dev -o blyss.zip\n  blyss-evidence collect --attestation attestation.json -o imported.zip   # offline import\n  blyss-evidence collect --report report.bin --vcek vcek.der --protocol snp-only -o snp.zip"
)]
pub struct CollectArgs {
    /// Service to collect from (online).
    pub url: Option<String>,
    /// Output bundle path.
    #[arg(short, long, default_value = "bundle.zip")]
    pub output: PathBuf,
    /// Collector signing key (PKCS#8 PEM). Default: a per-user key, created on first use.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Protocol id recorded in the bundle.
    #[arg(long, default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Offline import: a saved attestation.json.
    #[arg(long)]
    pub attestation: Option<PathBuf>,
    /// Offline import: a directory laid out like a bundle's evidence/ tree.
    #[arg(long)]
    pub from_dir: Option<PathBuf>,
    /// Offline import: a raw 1184-byte SNP report (snpguest report.bin).
    #[arg(long, requires = "vcek")]
    pub report: Option<PathBuf>,
    /// Offline import: the VCEK for --report (DER or PEM).
    #[arg(long, requires = "report")]
    pub vcek: Option<PathBuf>,
    /// Target recorded for an offline import (default: `file`).
    #[arg(long)]
    pub target: Option<String>,
}

#[derive(Args)]
#[command(after_help = "Example:\n  blyss-evidence verify https://enclave.blyss.dev -v")]
pub struct VerifyArgs {
    /// Service to verify.
    #[arg(default_value = "https://enclave.blyss.dev")]
    pub url: String,
    /// Keep the collected bundle here.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Protocol id or file.
    #[arg(long, default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Show every check.
    #[arg(short, long)]
    pub verbose: bool,
}

fn signing_key(path: Option<&PathBuf>) -> anyhow::Result<p384::ecdsa::SigningKey> {
    match path {
        Some(p) => Ok(keys::load_private(p)?),
        None => {
            let (k, p, created) = keys::load_or_create_default()?;
            if created {
                eprintln!(
                    "created collector key {} (fingerprint {})",
                    p.display(),
                    keys::fingerprint(k.verifying_key())
                );
            }
            Ok(k)
        }
    }
}

pub fn run(a: CollectArgs) -> anyhow::Result<Outcome> {
    let offline = a.attestation.is_some() || a.from_dir.is_some() || a.report.is_some();
    if offline {
        if a.url.is_some() {
            bail!("give either a URL (online collection) or import files, not both");
        }
        blyss_evidence::protocol::Protocol::load(&a.protocol)?;
        let key = signing_key(a.key.as_ref())?;
        let at = blyss_evidence::util::now();
        let mut b = BundleBuilder::new(a.target.as_deref().unwrap_or("file"), &a.protocol, at);
        import_into(
            &mut b,
            &ImportRequest {
                attestation: a.attestation.as_deref(),
                report: a.report.as_deref(),
                vcek: a.vcek.as_deref(),
                from_dir: a.from_dir.as_deref(),
            },
            at,
        )?;
        b.write(&a.output, at, &key)
            .with_context(|| format!("writing {}", a.output.display()))?;
        println!(
            "wrote {} (signer {})",
            a.output.display(),
            keys::fingerprint(key.verifying_key())
        );
        return Ok(Outcome::Pass);
    }
    online(a)
}

#[cfg(feature = "collect")]
fn online(_a: CollectArgs) -> anyhow::Result<Outcome> {
    bail!("online collection is not implemented yet")
}

#[cfg(not(feature = "collect"))]
fn online(_a: CollectArgs) -> anyhow::Result<Outcome> {
    bail!("this binary was built without the `collect` feature (audit-only): online collection is unavailable; offline import (--attestation, --report/--vcek, --from-dir) still works")
}

pub fn verify(_a: VerifyArgs) -> anyhow::Result<Outcome> {
    bail!("verify is not implemented yet")
}
