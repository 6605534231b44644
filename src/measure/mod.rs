//! Launch measurement recomputation (AMD SEV-SNP), offline.
//!
//! The launch digest of an SNP guest started by QEMU with measured direct
//! boot is a chain of SHA-384 updates ([`gctx`]) over, in this order:
//!
//! 1. the firmware image's pages, as normal pages from GPA 4 GiB − size
//!    (or, equivalently, the chain value pinned in a [`FirmwareDescriptor`]);
//! 2. the firmware's SEV metadata sections in firmware order: zero pages
//!    (`SNP_SEC_MEM`, `SVSM_CAA`), the secrets page, the CPUID page, and the
//!    `SNP_KERNEL_HASHES` page holding QEMU's SEV hashes table ([`hashes`]:
//!    SHA-256 of kernel, initrd and command line + NUL);
//! 3. one VMSA page per vCPU ([`vmsa`]): the BSP at the reset vector, the
//!    APs at the firmware's SEV-ES reset EIP; vCPU type, VMM, SEV features
//!    and the FPU initialisation mode change these pages.
//!
//! [`measure`] works from a descriptor, [`measure_image`] from the image;
//! both return the 48-byte digest and a [`Trace`] of what was hashed.

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

pub mod firmware;
pub mod gctx;
pub mod hashes;
pub mod vmsa;

pub use firmware::{describe, FirmwareDescriptor, FirmwareError, Hex, Section, SectionType};
pub use gctx::{Gctx, PageType, LD_BYTES, PAGE, VMSA_GPA};
pub use hashes::{cmdline_hash, KernelHashes};
pub use vmsa::{VcpuType, VmmType, VmsaFpu};

/// Why a measurement could not be computed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MeasureError {
    #[error(transparent)]
    Firmware(#[from] FirmwareError),
    #[error("VMSA: {0}")]
    Vmsa(String),
    #[error("{0}")]
    Input(String),
}

/// Launch parameters besides firmware and kernel hashes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaunchParams {
    pub vcpus: u32,
    pub vcpu_type: VcpuType,
    pub vmm: VmmType,
    /// SEV_FEATURES of the VMSA (0x1 = SNP active).
    pub guest_features: u64,
    pub vmsa_fpu: VmsaFpu,
}

/// One group of measured pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    /// What the pages are (`firmware image`, `SNP_SEC_MEM`, `VMSA (AP)`, …).
    pub what: String,
    /// PAGE_INFO page type (`normal`, `zero`, `secrets`, `cpuid`, `vmsa`).
    pub page_type: &'static str,
    /// GPA of the first page.
    pub gpa: String,
    pub pages: u64,
}

/// What was hashed, for reports and `measure --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// `image` (the image's pages were hashed) or `descriptor` (the chain
    /// started from the descriptor's `gctx_after_image`).
    pub firmware_source: &'static str,
    pub firmware_sha256: String,
    pub gctx_after_image: String,
    pub steps: Vec<TraceStep>,
    /// Pages per PAGE_INFO type (the image's pages count as `normal` only
    /// when the image was hashed).
    pub pages: BTreeMap<String, u64>,
}

/// A computed launch digest and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    pub digest: [u8; LD_BYTES],
    pub trace: Trace,
}

impl Measurement {
    pub fn hex(&self) -> String {
        hex::encode(self.digest)
    }
}

fn step(what: &str, t: PageType, gpa: u64, pages: u64) -> TraceStep {
    TraceStep {
        what: what.to_string(),
        page_type: t.name(),
        gpa: format!("{gpa:#x}"),
        pages,
    }
}

/// The chain after the metadata pages, the VMSA page hashes, and the steps.
struct Prefix {
    gctx: Gctx,
    steps: Vec<TraceStep>,
    vmsa: vmsa::VmsaPages,
}

fn prefix(
    desc: &FirmwareDescriptor,
    hashes: Option<&KernelHashes>,
    p: &LaunchParams,
    mut steps: Vec<TraceStep>,
) -> Result<Prefix, MeasureError> {
    desc.validate()?;
    let mut g = Gctx::from_digest(desc.gctx_after_image_bytes()?);
    let whole = |r: Option<u64>, s: &Section| {
        r.ok_or_else(|| {
            MeasureError::Firmware(FirmwareError::Descriptor(format!(
                "{} section size {} is not whole pages",
                s.kind.name(),
                s.size
            )))
        })
    };
    for s in &desc.sections {
        let name = s.kind.name();
        match s.kind {
            SectionType::SnpSecMem | SectionType::SvsmCaa => {
                let n = whole(g.update_zero_pages(s.gpa.0, s.size.0), s)?;
                steps.push(step(name, PageType::Zero, s.gpa.0, n));
            }
            SectionType::SnpSecrets => {
                g.update(PageType::Secrets, s.gpa.0, &[0; LD_BYTES]);
                steps.push(step(name, PageType::Secrets, s.gpa.0, 1));
            }
            SectionType::Cpuid => {
                // EC2 measures the CPUID page after all other sections.
                if p.vmm != VmmType::Ec2 {
                    g.update(PageType::Cpuid, s.gpa.0, &[0; LD_BYTES]);
                    steps.push(step(name, PageType::Cpuid, s.gpa.0, 1));
                }
            }
            SectionType::SnpKernelHashes => match hashes {
                Some(h) => {
                    let table = desc.sev_hashes_table_gpa.ok_or_else(|| {
                        MeasureError::Input(
                            "kernel hashes given but the firmware has no SEV hashes table GPA"
                                .into(),
                        )
                    })?;
                    if s.size.0 != PAGE as u64 {
                        return Err(MeasureError::Input(format!(
                            "SNP_KERNEL_HASHES section is {} bytes; the hashes page is 4096",
                            s.size
                        )));
                    }
                    if table.0 < s.gpa.0 || table.0 >= s.gpa.0 + s.size.0 {
                        return Err(MeasureError::Input(format!(
                            "SEV hashes table GPA {table} lies outside the SNP_KERNEL_HASHES section {}+{}",
                            s.gpa, s.size
                        )));
                    }
                    let page = h.page((table.0 & 0xfff) as usize).ok_or_else(|| {
                        MeasureError::Input(format!(
                            "SEV hashes table at {table} does not fit in its page"
                        ))
                    })?;
                    g.update_normal_pages(s.gpa.0, &page)
                        .ok_or_else(|| MeasureError::Input("hashes page size".into()))?;
                    steps.push(step(
                        "SNP_KERNEL_HASHES (SEV hashes table)",
                        PageType::Normal,
                        s.gpa.0,
                        1,
                    ));
                }
                None => {
                    let n = whole(g.update_zero_pages(s.gpa.0, s.size.0), s)?;
                    steps.push(step(name, PageType::Zero, s.gpa.0, n));
                }
            },
        }
    }
    if p.vmm == VmmType::Ec2 {
        for s in desc
            .sections
            .iter()
            .filter(|s| s.kind == SectionType::Cpuid)
        {
            g.update(PageType::Cpuid, s.gpa.0, &[0; LD_BYTES]);
            steps.push(step("CPUID (EC2: last)", PageType::Cpuid, s.gpa.0, 1));
        }
    }
    if hashes.is_some()
        && !desc
            .sections
            .iter()
            .any(|s| s.kind == SectionType::SnpKernelHashes)
    {
        return Err(MeasureError::Input(
            "kernel hashes given but the firmware has no SNP_KERNEL_HASHES section (no measured direct boot)".into(),
        ));
    }
    let eip = u32::try_from(desc.sev_es_reset_eip.0)
        .map_err(|_| MeasureError::Input("SEV-ES reset EIP does not fit in 32 bits".into()))?;
    let vmsa = vmsa::pages(eip, p.vcpu_type, p.vmm, p.guest_features, p.vmsa_fpu)?;
    Ok(Prefix {
        gctx: g,
        steps,
        vmsa,
    })
}

fn finish(
    desc: &FirmwareDescriptor,
    source: &'static str,
    pre: Prefix,
    vcpus: u32,
) -> Result<Measurement, MeasureError> {
    if vcpus == 0 {
        return Err(MeasureError::Input("vCPU count must be at least 1".into()));
    }
    let Prefix {
        mut gctx,
        mut steps,
        vmsa,
    } = pre;
    gctx.update_vmsa_hash(&vmsa.bsp_sha384);
    steps.push(step("VMSA (BSP)", PageType::Vmsa, VMSA_GPA, 1));
    if vcpus > 1 {
        let ap = vmsa.ap_sha384.ok_or_else(|| {
            MeasureError::Input(
                "more than one vCPU but the firmware has no SEV-ES reset EIP for APs".into(),
            )
        })?;
        for _ in 1..vcpus {
            gctx.update_vmsa_hash(&ap);
        }
        steps.push(step(
            "VMSA (AP)",
            PageType::Vmsa,
            VMSA_GPA,
            u64::from(vcpus - 1),
        ));
    }
    let mut pages = BTreeMap::new();
    for s in &steps {
        *pages.entry(s.page_type.to_string()).or_insert(0) += s.pages;
    }
    Ok(Measurement {
        digest: gctx.digest(),
        trace: Trace {
            firmware_source: source,
            firmware_sha256: desc.sha256.clone(),
            gctx_after_image: desc.gctx_after_image.clone(),
            steps,
            pages,
        },
    })
}

/// Where the chain's firmware part came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmwareSource {
    /// The image's pages were hashed (the descriptor was derived from it).
    Image,
    /// The chain started from a pinned descriptor's `gctx_after_image`.
    Descriptor,
}

/// Computes the launch digest from a firmware descriptor. With
/// [`FirmwareSource::Image`] the descriptor must have been derived from the
/// image by [`describe`] (the trace then lists the image's pages).
pub fn measure_with(
    desc: &FirmwareDescriptor,
    source: FirmwareSource,
    hashes: Option<&KernelHashes>,
    p: &LaunchParams,
) -> Result<Measurement, MeasureError> {
    let (name, steps) = match source {
        FirmwareSource::Descriptor => ("descriptor", Vec::new()),
        FirmwareSource::Image => (
            "image",
            vec![step(
                "firmware image",
                PageType::Normal,
                desc.gpa.0,
                desc.size / PAGE as u64,
            )],
        ),
    };
    let pre = prefix(desc, hashes, p, steps)?;
    finish(desc, name, pre, p.vcpus)
}

/// Computes the launch digest from a firmware descriptor.
pub fn measure(
    desc: &FirmwareDescriptor,
    hashes: Option<&KernelHashes>,
    p: &LaunchParams,
) -> Result<Measurement, MeasureError> {
    measure_with(desc, FirmwareSource::Descriptor, hashes, p)
}

/// Computes the launch digest from a firmware image (hashing its pages);
/// also returns the image's descriptor.
pub fn measure_image(
    image: &[u8],
    hashes: Option<&KernelHashes>,
    p: &LaunchParams,
) -> Result<(FirmwareDescriptor, Measurement), MeasureError> {
    let desc = describe(image)?;
    let m = measure_with(&desc, FirmwareSource::Image, hashes, p)?;
    Ok((desc, m))
}

/// The digests for 1, 2, …, `max` vCPUs (everything else as in `p`), in
/// one pass: used to tell which vCPU count a report was launched with.
pub fn digests_by_vcpu_count(
    desc: &FirmwareDescriptor,
    hashes: Option<&KernelHashes>,
    p: &LaunchParams,
    max: u32,
) -> Result<Vec<[u8; LD_BYTES]>, MeasureError> {
    let pre = prefix(desc, hashes, p, Vec::new())?;
    let mut g = pre.gctx;
    let mut out = Vec::with_capacity(max as usize);
    if max == 0 {
        return Ok(out);
    }
    g.update_vmsa_hash(&pre.vmsa.bsp_sha384);
    out.push(g.digest());
    if let Some(ap) = pre.vmsa.ap_sha384 {
        for _ in 1..max {
            g.update_vmsa_hash(&ap);
            out.push(g.digest());
        }
    }
    Ok(out)
}
