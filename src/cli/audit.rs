//! `blyss-evidence audit`.

use std::path::PathBuf;

use anyhow::Context as _;
use blyss_evidence::bundle::{keys, Bundle};
use blyss_evidence::checks::{AuditOptions, Scope, SignerPin, Verdict};
use blyss_evidence::protocol::Protocol;
use clap::Args;

use super::Outcome;

const AUDIT_EXAMPLES: &str = "\
Examples:
  # The real January 2024 Blyss document, shipped as a signed fixture bundle
  blyss-evidence audit fixtures/bundles/blyss-2024-01.zip --scope attestation --signer fixtures/keys/fixture-collector.key.pub
  # Every check with expected and actual values, and the three reports
  blyss-evidence audit bundle.zip --signer collector.key.pub --json report.json --html report.html --markdown report.md -v
  # A saved attestation.json is not a bundle: import it, then audit it at the time it was served
  blyss-evidence collect --attestation attestation.json -o imported.zip
  blyss-evidence audit imported.zip --scope attestation --at 2024-01-15T00:00:00Z

Exit codes: 0 audit passed, 1 audit failed (a required check failed or produced no result),
2 could not audit (bad input or options, unreadable bundle, I/O error).";

#[derive(Args)]
#[command(after_help = AUDIT_EXAMPLES)]
pub struct AuditArgs {
    /// The evidence bundle (zip) to audit.
    pub bundle: PathBuf,
    /// Collector key to trust: a PEM public key file, or its sha256 fingerprint (hex).
    #[arg(long)]
    pub signer: Option<String>,
    /// Protocol id (v0.0.1, v0.0.1-test, v0.0.2, snp-only, gpu-only, tinfoil) or a protocol JSON file.
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
    /// Judge provisional SEV-SNP firmware (committed below current, a firmware update not yet
    /// committed) as a warning instead of a failure, whatever the protocol says (recorded in the report).
    #[arg(long)]
    pub allow_provisional_firmware_unsafe: bool,
    /// Show every check with expected and actual values.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    Full,
    Attestation,
}

/// `--no-redact`: say on the terminal, before anything is printed, that
/// secrets from the evidence will be shown (and written to the reports).
pub fn no_redact_notice(a: &AuditArgs) {
    if a.no_redact {
        eprintln!(
            "notice: --no-redact: secrets found in the evidence (such as access tokens in the kernel command line) are NOT redacted: they appear in full on this terminal (with -v) and in the reports written (then private to you: mode 0600)"
        );
    }
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
                blyss_evidence::util::parse_time(t).map_err(|_| {
                    anyhow::anyhow!(
                        "--at {t}: not an RFC 3339 time; expected a date, time and offset such as 2024-01-15T00:00:00Z"
                    )
                })
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
        allow_provisional_firmware_unsafe: a.allow_provisional_firmware_unsafe,
    })
}

pub fn run(a: AuditArgs) -> anyhow::Result<Outcome> {
    let options = options(&a)?;
    no_redact_notice(&a);
    let protocol = Protocol::load(&a.protocol)?;
    let trust = super::load_trust(a.trust.as_ref())?;
    let bundle = Bundle::open(&a.bundle).map_err(|e| {
        // The error and its causes, each once (`BundleError::Io` leaves the
        // OS error to its source, as anyhow's `{:#}` would print it).
        let mut msg = format!("cannot audit {}: {e}", a.bundle.display());
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            msg.push_str(&format!(": {c}"));
            cause = c.source();
        }
        match not_a_bundle_hint(&a.bundle) {
            Some(h) => anyhow::anyhow!("{msg}\nhint: {h}"),
            None => anyhow::anyhow!(msg),
        }
    })?;
    audit_and_report(&bundle, &protocol, &trust, &options, &a)
}

/// A way forward when the "bundle" is a saved attestation document or a raw
/// report: those are evidence to import with `collect`, not bundles.
fn not_a_bundle_hint(p: &std::path::Path) -> Option<String> {
    use std::io::Read as _;
    // Only a regular file is sniffed: opening a FIFO or a device to read
    // its first bytes could block or never end (the reader refused it
    // already, from its metadata).
    if !std::fs::metadata(p).ok()?.is_file() {
        return None;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(p).ok()?.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"PK") {
        return None;
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    let d = p.display();
    if first == Some(&b'{') {
        return Some(format!(
            "{d} looks like JSON (a saved attestation document?), not a bundle: import it with `blyss-evidence collect --attestation {d} -o imported.zip`, then audit imported.zip"
        ));
    }
    // 1184 bytes: the size of an SEV-SNP attestation report (snpguest report.bin).
    (std::fs::metadata(p).ok()?.len() == 1184).then(|| format!(
        "{d} has the size of a raw SEV-SNP report: import it with `blyss-evidence collect --report {d} --vcek vcek.der --protocol snp-only -o snp.zip`, then audit snp.zip --protocol snp-only"
    ))
}

/// A way forward when a bundle holds NVIDIA device evidence only (an
/// import of NVIDIA's interchange files) and the protocol expects a CPU
/// report: the protocol is never taken from the bundle, so the audit ran
/// as asked (and failed on the missing report); this names the built-in
/// protocol made for such bundles.
fn gpu_only_hint(bundle: &Bundle, protocol: &Protocol) -> Option<String> {
    use blyss_evidence::evidence::gpu::nvidia;
    let cpu = ["evidence/attestation.json", "evidence/snp/report.bin"]
        .iter()
        .any(|m| bundle.member(m).is_some());
    let nv = bundle
        .member(&format!("evidence/{}", nvidia::MEMBER))
        .is_some()
        || bundle
            .member("evidence/gpu/nvidia-switch-evidence.json")
            .is_some();
    (nv && !cpu && protocol.id != "gpu-only").then(|| {
        format!(
            "this bundle holds NVIDIA device evidence and no CPU report; protocol {} judges a CPU report too. Audit NVIDIA devices alone with `--protocol gpu-only`",
            protocol.id
        )
    })
}

/// Writes one report file atomically: a redacted report with the
/// permissions of an ordinary file (0644 under umask 022: it is meant to be
/// shared), an unredacted one (`--no-redact`) private to the owner (0600).
pub fn write_report_file(
    report: &blyss_evidence::report::Report,
    p: &std::path::Path,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let w = if report.redacted {
        blyss_evidence::util::write_atomic_shared
    } else {
        blyss_evidence::util::write_atomic
    };
    w(p, bytes).with_context(|| format!("writing {}", p.display()))
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
        write_report_file(&report, p, report.to_json().as_bytes())?;
    }
    if a.html.is_some() || a.markdown.is_some() {
        super::report::write_rendered(&report, a.html.as_deref(), a.markdown.as_deref())?;
    }
    print!(
        "{}",
        blyss_evidence::report::terminal::render(&report, a.verbose)
    );
    if let Some(h) = gpu_only_hint(bundle, protocol) {
        eprintln!("hint: {h}");
    }
    Ok(match report.verdict.status {
        Verdict::Pass => Outcome::Pass,
        Verdict::Fail => Outcome::Fail,
    })
}
