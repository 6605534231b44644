//! `blyss-evidence measure` and `firmware describe`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use blyss_evidence::measure::{
    self, cmdline_hash, FirmwareDescriptor, FirmwareSource, KernelHashes, LaunchParams, VcpuType,
    VmmType, VmsaFpu,
};
use clap::{Args, Subcommand};

use super::Outcome;

const MEASURE_EXAMPLES: &str = "\
The digest is printed in hex; --json prints the inputs and a trace of what was hashed.
With explicit inputs the command line is hashed exactly as given (sha256(cmdline || NUL)):
no trimming, no removal. With --attestation the inputs are taken from the document and the
protocol exactly as the audit's snp.measurement takes them, and the rule applied is printed
(for Blyss v0.0.1: every \" initrd=initrd\" is removed from the published command line).

Examples:
  # The January 2024 Blyss document, judged like the audit: prints 1ee2a500...
  blyss-evidence measure --attestation fixtures/blyss/attestation-2024-01.json --protocol v0.0.1
  # The same from the firmware image (fetched by scripts/fetch-firmware.sh)
  blyss-evidence measure --attestation fixtures/blyss/attestation-2024-01.json --firmware .cache/firmware/OVMF_v0.0.1.fd
  # Explicit inputs: the v0.0.1 kernel and initrd, a command line of your own, 8 vCPUs
  blyss-evidence firmware describe .cache/firmware/OVMF_v0.0.1.fd > ovmf.json
  blyss-evidence measure --descriptor ovmf.json \\
      --kernel-hash ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc \\
      --initrd-hash 5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611 \\
      --append 'console=ttyS0' --vcpus 8 --vmsa-fpu legacy-zero
  # Like sev-snp-measure --mode snp (today's KVM: --vmsa-fpu kvm-init2, the default)
  blyss-evidence measure --firmware OVMF.fd --kernel vmlinuz --initrd initrd.img --append 'console=ttyS0' --vcpus 4 --vcpu-type EPYC-Milan --json

Exit codes: 0 digest printed (with --attestation: and equal to the report's MEASUREMENT),
1 with --attestation when it differs, 2 bad input.";

#[derive(Args)]
#[command(after_help = MEASURE_EXAMPLES)]
pub struct MeasureArgs {
    /// OVMF firmware image (its pages are hashed).
    #[arg(long, conflicts_with = "descriptor")]
    pub firmware: Option<PathBuf>,
    /// Firmware descriptor JSON (from `firmware describe`) instead of the image.
    #[arg(long)]
    pub descriptor: Option<PathBuf>,
    /// A saved attestation document: command line and vCPU count from it, kernel/initrd
    /// hashes, command-line rule and launch parameters from --protocol (as the audit does);
    /// firmware: --firmware/--descriptor, else the protocol's pinned descriptor.
    #[arg(long, conflicts_with_all = ["kernel", "kernel_hash", "initrd", "initrd_hash", "append", "vcpus", "vcpu_type", "vmm_type", "guest_features", "vmsa_fpu"])]
    pub attestation: Option<PathBuf>,
    /// Protocol id or file for --attestation.
    #[arg(long, requires = "attestation", default_value = blyss_evidence::protocol::DEFAULT_ID)]
    pub protocol: String,
    /// Kernel file (measured direct boot); its sha256 goes into the SEV hashes table.
    #[arg(long, conflicts_with = "kernel_hash")]
    pub kernel: Option<PathBuf>,
    /// SHA-256 of the kernel (hex) instead of the file.
    #[arg(long)]
    pub kernel_hash: Option<String>,
    /// Initrd file (default: empty initrd).
    #[arg(long, conflicts_with = "initrd_hash")]
    pub initrd: Option<PathBuf>,
    /// SHA-256 of the initrd (hex) instead of the file.
    #[arg(long)]
    pub initrd_hash: Option<String>,
    /// Kernel command line (QEMU -append), hashed exactly as given.
    #[arg(long, allow_hyphen_values = true)]
    pub append: Option<String>,
    /// Number of vCPUs.
    #[arg(long, default_value_t = 1)]
    pub vcpus: u32,
    /// vCPU model (EPYC, EPYC-v1…v4, EPYC-IBPB, EPYC-Rome[-v1..3], EPYC-Milan[-v1,-v2], EPYC-Genoa[-v1], EPYC-Turin[-v1,-v2]).
    #[arg(long, default_value = "EPYC-v4")]
    pub vcpu_type: String,
    /// VMM whose initial register state is modelled: qemu or ec2.
    #[arg(long, default_value = "qemu")]
    pub vmm_type: String,
    /// SEV_FEATURES of the VMSAs, hex.
    #[arg(long, default_value = "0x1")]
    pub guest_features: String,
    /// VMSA FPU initialisation: kvm-init2 (MXCSR 0x1f80, FCW 0x37f: KVM ≥ 6.9, today's tools) or legacy-zero (older hosts, sev-snp-measure ≤ 0.0.8).
    #[arg(long, default_value = "kvm-init2")]
    pub vmsa_fpu: String,
    /// Print JSON (digest, inputs, trace) instead of the hex digest.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum FirmwareCommand {
    /// Derive a firmware descriptor (JSON) from an OVMF image.
    #[command(
        after_help = "The descriptor pins what the measurement needs from the image (sha256, size, GPA,\n\
GCTX digest after the image's pages, SEV metadata sections, SEV-ES reset EIP, SEV hashes\n\
table GPA); protocol files embed it as sections.measurement.firmware.\n\n\
Example:\n  blyss-evidence firmware describe OVMF_v0.0.1.fd > ovmf-v0.0.1.json"
    )]
    Describe {
        /// The firmware image.
        image: PathBuf,
    },
}

fn hash_arg(name: &str, v: &str) -> anyhow::Result<[u8; 32]> {
    let v = v.trim();
    let b = hex::decode(v).with_context(|| format!("--{name}: not hex"))?;
    b.try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("--{name}: {} bytes, expected 32", b.len()))
}

fn file_hash(name: &str, p: &PathBuf) -> anyhow::Result<[u8; 32]> {
    let data = std::fs::read(p).with_context(|| format!("--{name} {}", p.display()))?;
    Ok(blyss_evidence::util::sha256(&data))
}

/// The firmware named on the command line, if any, with its source.
fn firmware_arg(a: &MeasureArgs) -> anyhow::Result<Option<(FirmwareDescriptor, FirmwareSource)>> {
    Ok(match (&a.firmware, &a.descriptor) {
        (Some(p), _) => {
            let image = std::fs::read(p).with_context(|| format!("--firmware {}", p.display()))?;
            let d =
                measure::describe(&image).with_context(|| format!("--firmware {}", p.display()))?;
            Some((d, FirmwareSource::Image))
        }
        (None, Some(p)) => {
            let text = std::fs::read(p).with_context(|| format!("--descriptor {}", p.display()))?;
            let d: FirmwareDescriptor = serde_json::from_slice(&text).with_context(|| {
                format!("--descriptor {}: not a firmware descriptor", p.display())
            })?;
            d.validate()
                .with_context(|| format!("--descriptor {}", p.display()))?;
            Some((d, FirmwareSource::Descriptor))
        }
        (None, None) => None,
    })
}

/// `measure --attestation`: the audit's own derivation of the inputs.
fn run_attestation(a: &MeasureArgs, path: &std::path::Path) -> anyhow::Result<Outcome> {
    let protocol = blyss_evidence::protocol::Protocol::load(&a.protocol)?;
    let bytes = std::fs::read(path).with_context(|| format!("--attestation {}", path.display()))?;
    let mut doc = blyss_evidence::evidence::attestation::AttestationDocument::parse_json(&bytes)
        .with_context(|| {
            format!(
                "--attestation {}: not an attestation document",
                path.display()
            )
        })?;
    doc.source = path.display().to_string();
    let fw = firmware_arg(a)?.map(|(d, src)| {
        let label = match src {
            FirmwareSource::Image => format!(
                "image {}",
                a.firmware
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            FirmwareSource::Descriptor => format!(
                "descriptor {}",
                a.descriptor
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        };
        (d, src, label)
    });
    let r = blyss_evidence::checks::measurement::recompute_document(&protocol, &doc, fw)
        .map_err(anyhow::Error::msg)?;
    let ours = r.measurement.hex();
    let report = hex::encode(r.report);
    let equal = r.measurement.digest == r.report;
    if a.json {
        let out = serde_json::json!({
            "measurement": ours,
            "report_measurement": report,
            "equal": equal,
            "protocol": protocol.id,
            "rule": r.rule,
            "inputs": {
                "firmware_sha256": r.firmware_sha256,
                "firmware_source": r.firmware_source,
                "kernel_sha256": hex::encode(r.hashes.kernel),
                "initrd_sha256": hex::encode(r.hashes.initrd),
                "cmdline_sha256": hex::encode(r.hashes.cmdline),
                "vcpus": r.params.vcpus,
                "vcpu_type": r.params.vcpu_type.name(),
                "vmm_type": r.params.vmm.as_str(),
                "guest_features": format!("{:#x}", r.params.guest_features),
                "vmsa_fpu": r.params.vmsa_fpu.as_str(),
            },
            "trace": r.measurement.trace,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{ours}");
        eprintln!("protocol: {}", protocol.id);
        eprintln!("rule: {}", r.rule);
        eprintln!(
            "inputs: firmware {} ({}), kernel {}, initrd {}, cmdline sha256 {} ({} bytes), {} vCPU(s) {}, vmm {}, guest features {:#x}, VMSA FPU {}",
            blyss_evidence::util::short_hex(&r.firmware_sha256),
            r.firmware_source,
            blyss_evidence::util::short_hex(&hex::encode(r.hashes.kernel)),
            blyss_evidence::util::short_hex(&hex::encode(r.hashes.initrd)),
            blyss_evidence::util::short_hex(&hex::encode(r.hashes.cmdline)),
            r.cmdline.len(),
            r.params.vcpus,
            r.params.vcpu_type.name(),
            r.params.vmm.as_str(),
            r.params.guest_features,
            r.params.vmsa_fpu.as_str(),
        );
        eprintln!(
            "report MEASUREMENT {report}: {}",
            if equal { "equal" } else { "DIFFERENT" }
        );
    }
    Ok(if equal { Outcome::Pass } else { Outcome::Fail })
}

pub fn run(a: MeasureArgs) -> anyhow::Result<Outcome> {
    if let Some(p) = a.attestation.clone() {
        return run_attestation(&a, &p);
    }
    if a.firmware.is_none() && a.descriptor.is_none() {
        bail!("no firmware: give --firmware OVMF.fd (the image), --descriptor ovmf.json (from `blyss-evidence firmware describe`), or --attestation attestation.json (every input from a document and its protocol)");
    }
    let vcpu_type: VcpuType = a.vcpu_type.parse().map_err(anyhow::Error::msg)?;
    let vmm: VmmType = a
        .vmm_type
        .to_ascii_lowercase()
        .parse()
        .map_err(anyhow::Error::msg)?;
    let vmsa_fpu: VmsaFpu = a.vmsa_fpu.parse().map_err(anyhow::Error::msg)?;
    let gf = a.guest_features.trim();
    let guest_features = u64::from_str_radix(gf.strip_prefix("0x").unwrap_or(gf), 16)
        .with_context(|| format!("--guest-features {gf}: not hex"))?;
    if a.vcpus == 0 {
        bail!("--vcpus must be at least 1");
    }
    let kernel = match (&a.kernel, &a.kernel_hash) {
        (Some(p), _) => Some(file_hash("kernel", p)?),
        (None, Some(h)) => Some(hash_arg("kernel-hash", h)?),
        (None, None) => None,
    };
    let hashes = match kernel {
        Some(kernel) => Some(KernelHashes {
            kernel,
            initrd: match (&a.initrd, &a.initrd_hash) {
                (Some(p), _) => file_hash("initrd", p)?,
                (None, Some(h)) => hash_arg("initrd-hash", h)?,
                (None, None) => blyss_evidence::util::sha256(b""),
            },
            cmdline: cmdline_hash(a.append.as_deref().unwrap_or("")),
        }),
        None => {
            if a.initrd.is_some() || a.initrd_hash.is_some() || a.append.is_some() {
                bail!("--initrd/--initrd-hash/--append need --kernel or --kernel-hash (measured direct boot)");
            }
            None
        }
    };
    let params = LaunchParams {
        vcpus: a.vcpus,
        vcpu_type,
        vmm,
        guest_features,
        vmsa_fpu,
    };
    let Some((desc, source)) = firmware_arg(&a)? else {
        bail!("give --firmware FILE or --descriptor FILE");
    };
    let m = measure::measure_with(&desc, source, hashes.as_ref(), &params)?;
    if a.json {
        let out = serde_json::json!({
            "measurement": m.hex(),
            "inputs": {
                "firmware_sha256": desc.sha256,
                "firmware_source": m.trace.firmware_source,
                "kernel_sha256": hashes.as_ref().map(|h| hex::encode(h.kernel)),
                "initrd_sha256": hashes.as_ref().map(|h| hex::encode(h.initrd)),
                "cmdline_sha256": hashes.as_ref().map(|h| hex::encode(h.cmdline)),
                "vcpus": params.vcpus,
                "vcpu_type": params.vcpu_type.name(),
                "vmm_type": params.vmm.as_str(),
                "guest_features": format!("{:#x}", params.guest_features),
                "vmsa_fpu": params.vmsa_fpu.as_str(),
            },
            "trace": m.trace,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", m.hex());
    }
    Ok(Outcome::Pass)
}

pub fn firmware(c: FirmwareCommand) -> anyhow::Result<Outcome> {
    match c {
        FirmwareCommand::Describe { image } => {
            let bytes =
                std::fs::read(&image).with_context(|| format!("reading {}", image.display()))?;
            let d = measure::describe(&bytes).with_context(|| image.display().to_string())?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            Ok(Outcome::Pass)
        }
    }
}
