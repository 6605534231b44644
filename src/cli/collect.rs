//! `blyss-evidence collect` and `verify`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use blyss_evidence::bundle::import::{import_into, ImportRequest};
use blyss_evidence::bundle::{keys, BundleBuilder};
use clap::Args;

use super::Outcome;

const COLLECT_EXAMPLES: &str = "\
Examples:
  # Online: snapshot the Blyss enclave (attestation document, TLS chain, AMD KDS chain/CRL/VCEK)
  blyss-evidence collect https://enclave.blyss.dev -o blyss.zip
  # Include the firmware image the measurement is recomputed from (local file or URL)
  blyss-evidence collect https://enclave.blyss.dev --firmware OVMF_v0.0.1.fd -o blyss.zip
  # Fail instead of recording a warning when any resource cannot be fetched
  blyss-evidence collect https://enclave.blyss.dev --strict -q -o blyss.zip
  # A test world: test CA roots and AMD test roots from a trust file, a local KDS, a mirror
  blyss-evidence collect https://127.0.0.1:8443 --trust test-trust.json \\
      --kds-url http://127.0.0.1:8080 --registry-mirror registry-1.docker.io=http://127.0.0.1:5000 -o t.zip
  # Slow networks: longer deadlines, more retries
  blyss-evidence collect https://enclave.blyss.dev --connect-timeout 20 --read-timeout 60 --timeout 120 --retries 5
  # A Tinfoil enclave: its attestation, the release's Sigstore bundle (GitHub), AMD KDS, TLS, CT
  blyss-evidence collect https://inference.tinfoil.sh --protocol tinfoil -o tinfoil.zip
  # Offline import
  blyss-evidence collect --attestation attestation.json -o imported.zip
  # Offline import of a document saved long ago: declare when it was observed
  blyss-evidence collect --attestation attestation.json --observed-at 2024-01-15T00:00:00Z -o imported.zip
  blyss-evidence collect --report report.bin --vcek vcek.der --protocol snp-only -o snp.zip
  # NVIDIA GPU evidence, its RIMs from NVIDIA's RIM service and OCSP answers from NVIDIA's responder
  blyss-evidence collect --gpu-evidence nvidia-evidence.json --fetch-rims --fetch-ocsp --protocol snp-only -o gpu-online.zip
  # NVIDIA GPU evidence (NVIDIA's interchange JSON) with its driver and VBIOS RIMs
  blyss-evidence collect --gpu-evidence nvidia-evidence.json --rim driver.xml --rim vbios.xml --protocol snp-only -o gpu.zip
  # ... with the OCSP responses for its device and RIM chains (judged offline at the evaluation time)
  blyss-evidence collect --gpu-evidence nvidia-evidence.json --rim driver.xml --rim vbios.xml --ocsp l2.dat --ocsp l3.dat -o gpu.zip
  # A Tinfoil enclave's attestation bundle (SNP report, VCEK, TLS certificate, Sigstore release)
  blyss-evidence collect --tinfoil-bundle attestation-bundle.json --protocol tinfoil --observed-at 2026-01-22T23:00:00Z -o tinfoil.zip

Network behaviour: every request has connect, per-read and whole-request deadlines plus an
overall per-resource deadline, and the whole collection one --deadline (default 300 s);
registry evidence is fetched for up to 3 images at once. 429/500/502/503/504 and transport
errors are retried with exponential back-off honouring Retry-After (a Retry-After beyond the
time left is not waited for, and the message says so); permanent errors (redirect refused or
too many, header too big, bad content encoding, TLS certificate errors) are not retried.
Redirects (at most 5) are followed only https -> https and only to public addresses (checked
on the resolved address); each hop is recorded in the signed statement. The URLs you give
(service, --kds-url, mirrors, --log-list-url, --rim-service-url, --ocsp-url, --github-api-url,
--github-url, firmware URLs) may be anything.
Size caps (decoded bytes): attestation document 4 MiB, firmware 32 MiB, each AMD KDS answer
2 MiB, each RIM-service answer 2 MiB, each OCSP response 32 KiB, each GitHub API answer 4 MiB,
registry manifest 4 MiB, image config 8 MiB, registry token 1 MiB,
anything else (CT log list and log answers) --max-bytes (default 16 MiB). gzip is accepted (the cap applies after
decoding); no proxy is used (the TLS capture must see the service's own certificate). A
resource that fails is recorded as a warning in the signed statement (fatal with --strict).
The bundle is written atomically: an error or Ctrl-C leaves no partial file.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  # Like the original verifier: collect, audit, print the summary
  blyss-evidence verify https://enclave.blyss.dev
  # Every check with expected and actual values
  blyss-evidence verify https://enclave.blyss.dev -v
  # Keep the signed bundle for the review file, sign it with your collector key
  blyss-evidence verify https://enclave.blyss.dev --keep blyss.zip --key ~/.config/blyss-evidence/collector.key
  # The test configuration of the service (self-signed TLS certificate)
  blyss-evidence verify https://enclave.blyss.dev --protocol v0.0.1-test
  # Against a test world
  blyss-evidence verify https://127.0.0.1:8443 --trust test-trust.json --kds-url http://127.0.0.1:8080

Exit codes: 0 audit passed, 1 audit failed, 2 could not collect or audit.";

/// AMD's KDS (the library's `collect::DEFAULT_KDS_URL`, repeated here because
/// the audit-only build has no `collect` module).
const DEFAULT_KDS_URL: &str = "https://kdsintf.amd.com";

/// NVIDIA's RIM service and OCSP responder (the library's
/// `collect::nvidia` defaults, repeated for the audit-only build).
const DEFAULT_RIM_SERVICE_URL: &str = "https://rim.attestation.nvidia.com/v1/rim/";
const DEFAULT_NVIDIA_OCSP_URL: &str = "https://ocsp.ndis.nvidia.com/";

/// Network options shared by `collect` and `verify`.
#[derive(Args, Clone)]
#[cfg_attr(not(feature = "collect"), allow(dead_code))]
pub struct NetArgs {
    /// AMD Key Distribution Service base URL, e.g. `--kds-url https://kdsintf.amd.com`.
    #[arg(long, value_name = "URL", default_value = DEFAULT_KDS_URL)]
    pub kds_url: String,
    /// AMD product line for the KDS paths when the report does not tell
    /// (Milan, Genoa, Turin), e.g. `--amd-product Genoa`.
    #[arg(long, value_name = "NAME")]
    pub amd_product: Option<String>,
    /// Firmware image to include as evidence/firmware/<name>: a local path or an http(s) URL
    /// (an offline import takes local paths only);
    /// repeatable, e.g. `--firmware OVMF_v0.0.1.fd`.
    #[arg(long, value_name = "PATH|URL")]
    pub firmware: Vec<String>,
    /// Make any resource failure fatal (default: recorded as a signed warning), e.g. `--strict`.
    #[arg(long)]
    pub strict: bool,
    /// No progress display and no warning list on stderr, e.g. `-q`.
    #[arg(short, long)]
    pub quiet: bool,
    /// Trust file for TLS roots (and, for verify, every anchor) instead of the embedded
    /// production set (reported as NON-PRODUCTION), e.g. `--trust test-trust.json`.
    #[arg(long, value_name = "FILE")]
    pub trust: Option<PathBuf>,
    /// TCP connect deadline in seconds, e.g. `--connect-timeout 10`.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// Deadline for each socket read in seconds (a stalled server), e.g. `--read-timeout 20`.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub read_timeout: f64,
    /// Deadline for one whole request (connect, TLS, headers, body) in seconds, e.g. `--timeout 60`.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub timeout: f64,
    /// Deadline for one resource including retries and back-off, in seconds, e.g. `--resource-timeout 180`.
    #[arg(long, value_name = "SECS", default_value_t = 180.0)]
    pub resource_timeout: f64,
    /// Retries after a failed attempt (429, 5xx, transport errors), e.g. `--retries 3`.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// First back-off wait in seconds, doubling per retry (Retry-After wins), e.g. `--backoff 0.5`.
    #[arg(long, value_name = "SECS", default_value_t = 0.5)]
    pub backoff: f64,
    /// Size cap of a response body in bytes (the attestation document has 4 MiB, firmware 32 MiB),
    /// e.g. `--max-bytes 16777216`.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_bytes: u64,
    /// Certificate Transparency log list URL, e.g.
    /// `--log-list-url https://www.gstatic.com/ct/log_list/v3/log_list.json`.
    #[arg(long, value_name = "URL")]
    pub log_list_url: Option<String>,
    /// How long to keep polling a CT log whose entry is not merged yet
    /// (RFC 6962 logs: proof refused; tiled logs: checkpoint not covering the
    /// SCT's leaf index), e.g. `--ct-merge-wait 120`.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub ct_merge_wait: f64,
    /// Fetch a registry's images from another base URL (repeatable), e.g.
    /// `--registry-mirror registry-1.docker.io=https://mirror.example`.
    #[arg(long, value_name = "HOST=URL", value_parser = parse_mirror)]
    pub registry_mirror: Vec<(String, String)>,
    /// Do not fetch registry evidence (manifests, configs) for the attested
    /// images; the audit then reports every image as "manifest not
    /// captured" (a failure under protocols that require image evidence),
    /// e.g. `--no-images`.
    #[arg(long)]
    pub no_images: bool,
    /// One deadline for the whole collection, in seconds: past it no request starts, what is
    /// missing is recorded as missing (the audit then fails on it) and the message says the
    /// deadline was reached, e.g. `--deadline 300`.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    pub deadline: f64,
    /// UNSAFE, for a test world on loopback only: let redirects reach loopback, private and
    /// link-local addresses (never another scheme than https). Recorded in the signed
    /// statement and shown in the report, e.g. `--allow-private-redirects-unsafe`.
    #[arg(long)]
    pub allow_private_redirects_unsafe: bool,
    /// Fetch the driver and VBIOS RIMs of GPUs from NVIDIA's interchange file (--gpu-evidence)
    /// from NVIDIA's RIM service, by the ids derived from the signed report; each answer is
    /// stored as received under evidence/gpu/rims/<id>.json, e.g. `--fetch-rims`.
    #[arg(long)]
    pub fetch_rims: bool,
    /// RIM service base URL (the id is appended), e.g.
    /// `--rim-service-url https://rim.attestation.nvidia.com/v1/rim/`.
    #[arg(long, value_name = "URL", default_value = DEFAULT_RIM_SERVICE_URL)]
    pub rim_service_url: String,
    /// Ask NVIDIA's OCSP responder about every certificate of the GPU device chains (but the
    /// per-boot leaf and the root) and of the RIM signing chains (but the root); responses are
    /// stored as received under evidence/gpu/ocsp/, e.g. `--fetch-ocsp`.
    #[arg(long)]
    pub fetch_ocsp: bool,
    /// OCSP responder URL for --fetch-ocsp, e.g. `--ocsp-url https://ocsp.ndis.nvidia.com/`.
    #[arg(long, value_name = "URL", default_value = DEFAULT_NVIDIA_OCSP_URL)]
    pub ocsp_url: String,
    /// `--protocol tinfoil`: the GitHub repository whose signed releases name the enclave's
    /// measurement, e.g. `--tinfoil-repo tinfoilsh/confidential-model-router`.
    #[arg(
        long,
        value_name = "OWNER/REPO",
        default_value = "tinfoilsh/confidential-model-router"
    )]
    pub tinfoil_repo: String,
    /// `--protocol tinfoil`: compare against this release tag instead of the latest release
    /// (an enclave may run an older release), e.g. `--tinfoil-release v0.0.38`.
    #[arg(long, value_name = "TAG")]
    pub tinfoil_release: Option<String>,
    /// `--protocol tinfoil`: GitHub REST API base URL, e.g. `--github-api-url https://api.github.com`.
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub github_api_url: String,
    /// `--protocol tinfoil`: GitHub base URL for release downloads, e.g. `--github-url https://github.com`.
    #[arg(long, value_name = "URL", default_value = "https://github.com")]
    pub github_url: String,
}

fn parse_mirror(s: &str) -> Result<(String, String), String> {
    let (h, u) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected HOST=URL"))?;
    if h.is_empty() || !(u.starts_with("https://") || u.starts_with("http://")) {
        return Err(format!("{s:?}: expected HOST=URL with an http(s) URL"));
    }
    Ok((h.to_ascii_lowercase(), u.to_string()))
}

#[cfg_attr(not(feature = "collect"), allow(dead_code))]
fn secs(name: &str, v: f64) -> anyhow::Result<std::time::Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        bail!("{name} {v}: expected a number of seconds in (0, 86400]");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

#[cfg(feature = "collect")]
impl NetArgs {
    fn options(
        &self,
        url: &str,
        protocol: &str,
    ) -> anyhow::Result<blyss_evidence::collect::CollectOptions> {
        use blyss_evidence::collect::{
            http::HttpConfig, tls::TlsTimeouts, CollectOptions, Progress,
        };
        let http = HttpConfig {
            connect_timeout: secs("--connect-timeout", self.connect_timeout)?,
            read_timeout: secs("--read-timeout", self.read_timeout)?,
            request_timeout: secs("--timeout", self.timeout)?,
            resource_timeout: secs("--resource-timeout", self.resource_timeout)?,
            retries: self.retries.min(20),
            backoff: std::time::Duration::from_secs_f64(self.backoff.clamp(0.0, 600.0)),
            max_bytes: self.max_bytes,
            ..HttpConfig::default()
        };
        Ok(CollectOptions {
            url: url.to_string(),
            protocol: protocol.to_string(),
            kds_url: self.kds_url.clone(),
            amd_product: self.amd_product.clone(),
            firmware: self.firmware.clone(),
            strict: self.strict,
            tls: TlsTimeouts {
                connect: http.connect_timeout,
                read: http.read_timeout,
                total: http.request_timeout,
            },
            http,
            log_list_url: self.log_list_url.clone(),
            ct_merge_wait: secs("--ct-merge-wait", self.ct_merge_wait)?,
            registry_mirrors: self.registry_mirror.clone(),
            images: !self.no_images,
            progress: Progress::auto(self.quiet),
            deadline: secs("--deadline", self.deadline)?,
            allow_private_redirects_unsafe: self.allow_private_redirects_unsafe,
            nvidia: blyss_evidence::collect::nvidia::NvidiaOptions {
                fetch_rims: self.fetch_rims,
                rim_service_url: self.rim_service_url.clone(),
                fetch_ocsp: self.fetch_ocsp,
                ocsp_url: self.ocsp_url.clone(),
            },
            tinfoil: blyss_evidence::collect::tinfoil::TinfoilOptions {
                repo: self.tinfoil_repo.clone(),
                release: self.tinfoil_release.clone(),
                github_api_url: self.github_api_url.clone(),
                github_url: self.github_url.clone(),
            },
        })
    }
}

#[derive(Args)]
#[command(after_help = COLLECT_EXAMPLES)]
pub struct CollectArgs {
    /// Service to collect from (online), e.g. `https://enclave.blyss.dev`
    /// (the document is read from /.well-known/appspecific/dev.blyss.enclave/attestation.json).
    pub url: Option<String>,
    /// Output bundle path, e.g. `-o blyss.zip`.
    #[arg(short, long, default_value = "bundle.zip")]
    pub output: PathBuf,
    /// Collector signing key (PKCS#8 PEM), e.g. `--key collector.key`. Default: a per-user key, created on first use.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Protocol id recorded in the bundle, e.g. `--protocol v0.0.1-test`.
    #[arg(long, default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Offline import: a saved attestation.json, e.g. `--attestation attestation.json`.
    #[arg(long)]
    pub attestation: Option<PathBuf>,
    /// Offline import: a directory laid out like a bundle's evidence/ tree, e.g. `--from-dir evidence/`.
    #[arg(long)]
    pub from_dir: Option<PathBuf>,
    /// Offline import: a raw 1184-byte SNP report (snpguest report.bin), e.g. `--report report.bin`.
    #[arg(long, requires = "vcek")]
    pub report: Option<PathBuf>,
    /// Offline import: the VCEK or VLEK for --report (DER or PEM), e.g. `--vcek vcek.der`;
    /// `--vlek vlek.der` is the same option (the report's SIGNING_KEY says which it must be).
    #[arg(long, visible_alias = "vlek", requires = "report")]
    pub vcek: Option<PathBuf>,
    /// Offline import: NVIDIA GPU evidence in NVIDIA's interchange JSON (NRAS request body or
    /// the SDK's serialized list), alone or beside --attestation/--report, e.g.
    /// `--gpu-evidence nvidia-evidence.json`.
    #[arg(long, value_name = "FILE.json")]
    pub gpu_evidence: Option<PathBuf>,
    /// Offline import: NVSwitch evidence in NVIDIA's interchange JSON (`arch` `LS10`), alone or
    /// beside --gpu-evidence/--attestation/--report, e.g. `--switch-evidence switches.json`.
    #[arg(long, value_name = "FILE.json")]
    pub switch_evidence: Option<PathBuf>,
    /// Offline import: a driver, VBIOS or switch-BIOS RIM for --gpu-evidence/--switch-evidence
    /// (repeatable), e.g. `--rim NV_GPU_DRIVER_GH100_550.90.07.xml`.
    #[arg(long, value_name = "FILE")]
    pub rim: Vec<PathBuf>,
    /// Offline import: an OCSP response (DER, or base64 of DER) for a certificate of the
    /// --gpu-evidence/--switch-evidence device chains or of a RIM signing chain (repeatable),
    /// e.g. `--ocsp l2_ocsp_response.dat`; matched to certificates by CertID, not by name.
    #[arg(long, value_name = "FILE")]
    pub ocsp: Vec<PathBuf>,
    /// Offline import: a Tinfoil enclave's attestation bundle (SNP report, VCEK, enclave
    /// certificate, Sigstore release bundle), stored as received, e.g.
    /// `--tinfoil-bundle attestation-bundle.json --protocol tinfoil`.
    #[arg(long, value_name = "FILE.json")]
    pub tinfoil_bundle: Option<PathBuf>,
    /// Target recorded for an offline import (default: `file`), e.g. `--target https://enclave.blyss.dev`.
    #[arg(long)]
    pub target: Option<String>,
    /// Offline import: when the imported evidence was observed (RFC 3339, UTC `Z`), e.g.
    /// `--observed-at 2024-01-15T00:00:00Z`. Recorded in the signed statement as DECLARED
    /// (claimed by you, not witnessed by the collector); the audit judges validity periods at
    /// this time by default and says it was declared.
    #[arg(long, value_name = "RFC3339")]
    pub observed_at: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Args)]
#[command(after_help = VERIFY_EXAMPLES)]
pub struct VerifyArgs {
    /// Service to verify, e.g. `https://enclave.blyss.dev`.
    #[arg(default_value = "https://enclave.blyss.dev")]
    pub url: String,
    /// Keep the collected, signed bundle here, e.g. `--keep blyss.zip`.
    #[arg(long, value_name = "PATH")]
    pub keep: Option<PathBuf>,
    /// Sign the bundle with this key instead of an ephemeral one, e.g. `--key collector.key`.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Protocol id or file, e.g. `--protocol v0.0.1-test`.
    #[arg(long, default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Show every check with expected and actual values, e.g. `-v`.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub net: NetArgs,
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
    if !a.rim.is_empty() && a.gpu_evidence.is_none() && a.switch_evidence.is_none() {
        bail!("--rim goes with --gpu-evidence or --switch-evidence");
    }
    if !a.ocsp.is_empty() && a.gpu_evidence.is_none() && a.switch_evidence.is_none() {
        bail!("--ocsp goes with --gpu-evidence or --switch-evidence");
    }
    let offline = a.attestation.is_some()
        || a.from_dir.is_some()
        || a.report.is_some()
        || a.gpu_evidence.is_some()
        || a.switch_evidence.is_some()
        || a.tinfoil_bundle.is_some();
    if offline {
        if a.url.is_some() {
            bail!("give either a URL (online collection) or import files, not both");
        }
        blyss_evidence::protocol::Protocol::load(&a.protocol)?;
        if let Some(u) = a.net.firmware.iter().find(|f| f.contains("://")) {
            bail!("--firmware {u}: an offline import takes local firmware files only");
        }
        let observed_at = a
            .observed_at
            .as_deref()
            .map(parse_observed_at)
            .transpose()?;
        let key = signing_key(a.key.as_ref())?;
        let at = blyss_evidence::util::now();
        let mut b = BundleBuilder::new(a.target.as_deref().unwrap_or("file"), &a.protocol, at);
        b.declared_observed_at = observed_at;
        import_into(
            &mut b,
            &ImportRequest {
                attestation: a.attestation.as_deref(),
                report: a.report.as_deref(),
                vcek: a.vcek.as_deref(),
                from_dir: a.from_dir.as_deref(),
                firmware: a.net.firmware.iter().map(std::path::Path::new).collect(),
                gpu_evidence: a.gpu_evidence.as_deref(),
                switch_evidence: a.switch_evidence.as_deref(),
                rims: a.rim.iter().map(PathBuf::as_path).collect(),
                ocsp: a.ocsp.iter().map(PathBuf::as_path).collect(),
                tinfoil_bundle: a.tinfoil_bundle.as_deref(),
            },
            at,
        )?;
        let b = if a.net.fetch_rims || a.net.fetch_ocsp {
            fetch_for_import(&a, b)?
        } else {
            b
        };
        b.write(&a.output, at, &key)
            .with_context(|| format!("writing {}", a.output.display()))?;
        println!(
            "wrote {} (signer {})",
            a.output.display(),
            keys::fingerprint(key.verifying_key())
        );
        return Ok(Outcome::Pass);
    }
    if a.observed_at.is_some() {
        bail!("--observed-at is for offline imports (--attestation, --report/--vcek, --from-dir): an online collection records the time it witnessed");
    }
    online(a)
}

/// An import with `--fetch-rims`/`--fetch-ocsp`: the GPUs and NVSwitches are read from
/// the imported files (as the audit will read them) and NVIDIA's services
/// are asked under the network options; failures become signed warnings.
#[cfg(feature = "collect")]
fn fetch_for_import(a: &CollectArgs, b: BundleBuilder) -> anyhow::Result<BundleBuilder> {
    use blyss_evidence::evidence::gpu;
    use std::io::Read;
    // The import already read these files under its caps; read again under
    // the same caps (a file that grew in between is refused, not trusted).
    let read = |p: &std::path::Path, cap: usize| -> anyhow::Result<Vec<u8>> {
        let mut v = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(cap as u64 + 1).read_to_end(&mut v))
            .with_context(|| format!("reading {}", p.display()))?;
        if v.len() > cap {
            bail!("{}: larger than its {cap}-byte cap", p.display());
        }
        Ok(v)
    };
    let mut gpus = Vec::new();
    if let Some(p) = &a.attestation {
        let bytes = read(p, blyss_evidence::evidence::attestation::MAX_DOC_BYTES)?;
        let doc = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(&bytes)
            .with_context(|| format!("{}", p.display()))?;
        if let Some(g) = doc.gpu.as_ref().and_then(|g| gpu::parse(g).ok()) {
            gpus.extend(g);
        }
    }
    let mut rims = Vec::new();
    for r in &a.rim {
        let name = r
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = read(r, gpu::nvidia::MAX_RIM)?;
        rims.push((name, String::from_utf8_lossy(&text).into_owned()));
    }
    if let Some(p) = &a.gpu_evidence {
        let bytes = read(p, gpu::nvidia::MAX_FILE)?;
        let g = gpu::nvidia::parse(&bytes, &rims, gpus.len())
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        gpus.extend(g);
    }
    // NVSwitches get the same treatment: switch-BIOS RIM by its signed
    // version, OCSP for their device and RIM chains.
    if let Some(p) = &a.switch_evidence {
        let bytes = read(p, gpu::nvidia::MAX_FILE)?;
        let s = gpu::nvidia::parse_as(gpu::DeviceKind::Switch, &bytes, &rims, 0)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        gpus.extend(s);
    }
    let trust = super::load_trust(a.net.trust.as_ref())?;
    let opts = a.net.options("https://file", &a.protocol)?;
    let c = blyss_evidence::collect::fetch_for_import(b, &opts, &trust, &gpus, &rims)?;
    print_warnings(&c.warnings, a.net.quiet);
    say_if_deadline_reached(&c.warnings, a.net.deadline);
    Ok(c.builder)
}

#[cfg(not(feature = "collect"))]
fn fetch_for_import(_a: &CollectArgs, _b: BundleBuilder) -> anyhow::Result<BundleBuilder> {
    bail!("this binary was built without the `collect` feature (audit-only): --fetch-rims and --fetch-ocsp need the network")
}

/// `--observed-at`: strict RFC 3339 in UTC (`Z`), whole seconds, not in
/// the future (a claim about a past observation).
fn parse_observed_at(t: &str) -> anyhow::Result<time::OffsetDateTime> {
    let parsed = blyss_evidence::util::parse_time(t)
        .ok()
        .filter(|p| t.ends_with('Z') && p.nanosecond() == 0);
    let Some(p) = parsed else {
        bail!("--observed-at {t:?}: expected an RFC 3339 UTC time with whole seconds, e.g. 2024-01-15T00:00:00Z");
    };
    if p > blyss_evidence::util::now() {
        bail!("--observed-at {t}: is in the future (it declares when the evidence was observed)");
    }
    Ok(p)
}

#[cfg(feature = "collect")]
fn print_warnings(warnings: &[String], quiet: bool) {
    if quiet || warnings.is_empty() {
        return;
    }
    eprintln!(
        "{} collection warning(s), recorded in the signed statement:",
        warnings.len()
    );
    // Warnings quote what the service sent (URLs, headers, error texts):
    // control and bidi characters are printed as escapes.
    for w in warnings {
        eprintln!("  ⚠ {}", blyss_evidence::util::visible(w));
    }
}

/// One line on stderr (even with `-q`) when the overall deadline cut the
/// collection short: the bundle is incomplete and the audit will say so.
#[cfg(feature = "collect")]
fn say_if_deadline_reached(warnings: &[String], deadline: f64) {
    let cut = warnings
        .iter()
        .filter(|w| w.contains("the collection deadline was reached"))
        .count();
    if cut > 0 {
        eprintln!(
            "the collection deadline (--deadline {deadline} s) was reached: {cut} resource(s) recorded as missing in the signed statement"
        );
    }
}

#[cfg(feature = "collect")]
fn online(a: CollectArgs) -> anyhow::Result<Outcome> {
    let url = a
        .url
        .as_deref()
        .unwrap_or(blyss_evidence::collect::DEFAULT_URL);
    blyss_evidence::protocol::Protocol::load(&a.protocol)?;
    let trust = super::load_trust(a.net.trust.as_ref())?;
    let opts = a.net.options(url, &a.protocol)?;
    let key = signing_key(a.key.as_ref())?;
    if opts.progress {
        eprintln!("collecting {url} (protocol {})", a.protocol);
    }
    let collected = blyss_evidence::collect::collect(&opts, &trust)?;
    collected
        .builder
        .write(&a.output, blyss_evidence::util::now(), &key)
        .with_context(|| format!("writing {}", a.output.display()))?;
    print_warnings(&collected.warnings, a.net.quiet);
    say_if_deadline_reached(&collected.warnings, a.net.deadline);
    println!(
        "wrote {} (signer {}, {} warning(s))",
        a.output.display(),
        keys::fingerprint(key.verifying_key()),
        collected.warnings.len()
    );
    Ok(Outcome::Pass)
}

#[cfg(not(feature = "collect"))]
fn online(_a: CollectArgs) -> anyhow::Result<Outcome> {
    bail!("this binary was built without the `collect` feature (audit-only): online collection is unavailable; offline import (--attestation, --report/--vcek, --from-dir) still works")
}

#[cfg(feature = "collect")]
pub fn verify(a: VerifyArgs) -> anyhow::Result<Outcome> {
    let trust = super::load_trust(a.net.trust.as_ref())?;
    let opts = a.net.options(&a.url, &a.protocol)?;
    let key = match &a.key {
        Some(p) => Some(keys::load_private(p)?),
        None => None,
    };
    if opts.progress {
        eprintln!("verifying {} (protocol {})", a.url, a.protocol);
    }
    let v = blyss_evidence::collect::verify(&opts, &trust, key.as_ref())?;
    print_warnings(&v.report.bundle.warnings, a.net.quiet);
    say_if_deadline_reached(&v.report.bundle.warnings, a.net.deadline);
    if let Some(p) = &a.keep {
        blyss_evidence::util::write_atomic(p, &v.bundle)
            .with_context(|| format!("writing {}", p.display()))?;
        eprintln!("kept the bundle in {} (signer {})", p.display(), v.signer);
    }
    print!(
        "{}",
        blyss_evidence::report::terminal::render(&v.report, a.verbose)
    );
    Ok(match v.report.verdict.status {
        blyss_evidence::checks::Verdict::Pass => Outcome::Pass,
        blyss_evidence::checks::Verdict::Fail => Outcome::Fail,
    })
}

#[cfg(not(feature = "collect"))]
pub fn verify(_a: VerifyArgs) -> anyhow::Result<Outcome> {
    bail!("this binary was built without the `collect` feature (audit-only): verify needs the network")
}
