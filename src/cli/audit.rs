//! `blyss-evidence audit`.

use std::path::PathBuf;

use anyhow::Context as _;
use blyss_evidence::bundle::{keys, Bundle};
use blyss_evidence::checks::{AuditOptions, Scope, SignerPin, Verdict};
use blyss_evidence::protocol::Protocol;
use clap::Args;

use super::Outcome;

#[derive(Args)]
#[command(
    after_help = "Examples:\n  blyss-evidence audit fixtures/bundles/blyss-2024-01.zip --scope attestation\n  blyss-evidence audit bundle.zip --signer collector.key.pub --json report.json -v"
)]
pub struct AuditArgs {
    /// The evidence bundle (zip) to audit.
    pub bundle: PathBuf,
    /// Collector key to trust: a PEM public key file, or its sha256 fingerprint (hex).
    #[arg(long)]
    pub signer: Option<String>,
    /// Protocol id (v0.0.1, v0.0.1-test, v0.0.2, snp-only) or a protocol JSON file.
    #[arg(long, default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the Markdown summary here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Judge validity at this instant (RFC 3339) instead of the bundle's collection time.
    #[arg(long)]
    pub at: Option<String>,
    /// Trust file to use instead of the embedded production trust set (reported as NON-PRODUCTION).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// `full` (default) or `attestation` (only the attestation document; TLS, CT, images not applicable).
    #[arg(long, value_enum, default_value = "full")]
    pub scope: ScopeArg,
    /// GPU certificate time policy (protocol/checks.md): `evaluation` (default: validity at the
    /// evaluation time), an RFC 3339 instant (RELAXED, reported), or `ignore-expiry-unsafe` (RELAXED, reported).
    #[arg(long)]
    pub gpu_cert_time: Option<String>,
    /// Show secrets from the evidence in reports (private use; recorded in the report).
    #[arg(long)]
    pub no_redact: bool,
    /// Show every check with expected and actual values.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    Full,
    Attestation,
}

/// Parses `--signer`: a hex fingerprint or a PEM key file.
pub fn signer_pin(s: &str) -> anyhow::Result<SignerPin> {
    if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(SignerPin::Fingerprint(s.to_ascii_lowercase()));
    }
    let pem = std::fs::read_to_string(s).with_context(|| {
        format!("--signer {s}: not a sha256 fingerprint and not a readable key file")
    })?;
    let key = keys::parse_public(&pem, s)?;
    Ok(SignerPin::Fingerprint(keys::fingerprint(&key)))
}

pub fn options(a: &AuditArgs) -> anyhow::Result<AuditOptions> {
    Ok(AuditOptions {
        scope: match a.scope {
            ScopeArg::Full => Scope::Full,
            ScopeArg::Attestation => Scope::Attestation,
        },
        signer_pin: a.signer.as_deref().map(signer_pin).transpose()?,
        at: a
            .at
            .as_deref()
            .map(|t| {
                blyss_evidence::util::parse_time(t)
                    .with_context(|| format!("--at {t}: not an RFC 3339 time"))
            })
            .transpose()?,
        gpu_cert_time: a
            .gpu_cert_time
            .as_deref()
            .map(|p| {
                blyss_evidence::checks::gpu::CertTimePolicy::parse(p)
                    .map(|_| p.to_string())
                    .map_err(|e| anyhow::anyhow!("--gpu-cert-time: {e}"))
            })
            .transpose()?,
        no_redact: a.no_redact,
    })
}

pub fn run(a: AuditArgs) -> anyhow::Result<Outcome> {
    let options = options(&a)?;
    let protocol = Protocol::load(&a.protocol)?;
    let trust = super::load_trust(a.trust.as_ref())?;
    let bundle =
        Bundle::open(&a.bundle).with_context(|| format!("cannot audit {}", a.bundle.display()))?;
    audit_and_report(&bundle, &protocol, &trust, &options, &a)
}

/// Audits an opened bundle, writes the requested reports, prints the summary.
pub fn audit_and_report(
    bundle: &Bundle,
    protocol: &Protocol,
    trust: &blyss_evidence::trust::TrustSet,
    options: &AuditOptions,
    a: &AuditArgs,
) -> anyhow::Result<Outcome> {
    let report = blyss_evidence::audit::audit(
        bundle,
        protocol,
        trust,
        options,
        blyss_evidence::util::now(),
    );
    if let Some(p) = &a.json {
        blyss_evidence::util::write_atomic(p, report.to_json().as_bytes())
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if a.html.is_some() || a.markdown.is_some() {
        super::report::write_rendered(&report, a.html.as_deref(), a.markdown.as_deref())?;
    }
    print!(
        "{}",
        blyss_evidence::report::terminal::render(&report, a.verbose)
    );
    Ok(match report.verdict.status {
        Verdict::Pass => Outcome::Pass,
        Verdict::Fail => Outcome::Fail,
    })
}
