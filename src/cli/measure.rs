//! `blyss-evidence measure` and `firmware describe`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use blyss_evidence::measure::{
    self, cmdline_hash, FirmwareDescriptor, FirmwareSource, KernelHashes, LaunchParams, VcpuType,
    VmmType, VmsaFpu,
};
use clap::{Args, Subcommand};

use super::Outcome;

#[derive(Args)]
#[command(
    after_help = "The digest is printed in hex; --json prints the inputs and a trace of what was hashed.\n\
The command line is hashed exactly as given (sha256(cmdline || NUL)): no trimming.\n\n\
Examples:\n  \
# the Blyss production report (8 vCPUs), from the image, the way it was measured\n  \
blyss-evidence measure --firmware OVMF_v0.0.1.fd --kernel-hash ff5e53cc…67dc \\\n      \
--initrd-hash 5e15926b…e611 --append \"$CMDLINE\" --vcpus 8 --vmsa-fpu legacy-zero\n  \
# the same without the 4 MiB image\n  \
blyss-evidence firmware describe OVMF_v0.0.1.fd > ovmf.json\n  \
blyss-evidence measure --descriptor ovmf.json --kernel-hash … --initrd-hash … --append \"$CMDLINE\" --vcpus 8 --vmsa-fpu legacy-zero\n  \
# like sev-snp-measure --mode snp (today's KVM: --vmsa-fpu kvm-init2, the default)\n  \
blyss-evidence measure --firmware OVMF.fd --kernel vmlinuz --initrd initrd.img --append 'console=ttyS0' --vcpus 4 --vcpu-type EPYC-Milan --json"
)]
pub struct MeasureArgs {
    /// OVMF firmware image (its pages are hashed).
    #[arg(
        long,
        conflicts_with = "descriptor",
        required_unless_present = "descriptor"
    )]
    pub firmware: Option<PathBuf>,
    /// Firmware descriptor JSON (from `firmware describe`) instead of the image.
    #[arg(long)]
    pub descriptor: Option<PathBuf>,
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

pub fn run(a: MeasureArgs) -> anyhow::Result<Outcome> {
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
    let (desc, source) = match (&a.firmware, &a.descriptor) {
        (Some(p), _) => {
            let image = std::fs::read(p).with_context(|| format!("--firmware {}", p.display()))?;
            let d =
                measure::describe(&image).with_context(|| format!("--firmware {}", p.display()))?;
            (d, FirmwareSource::Image)
        }
        (None, Some(p)) => {
            let text = std::fs::read(p).with_context(|| format!("--descriptor {}", p.display()))?;
            let d: FirmwareDescriptor = serde_json::from_slice(&text).with_context(|| {
                format!("--descriptor {}: not a firmware descriptor", p.display())
            })?;
            d.validate()
                .with_context(|| format!("--descriptor {}", p.display()))?;
            (d, FirmwareSource::Descriptor)
        }
        (None, None) => bail!("give --firmware FILE or --descriptor FILE"),
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
