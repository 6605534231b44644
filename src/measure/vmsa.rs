//! Initial VMSA pages (one per vCPU), built by the `sev` crate, with the
//! FPU initialisation as an explicit parameter.
//!
//! KVM ≥ 6.9 (`KVM_SEV_INIT2`) initialises MXCSR to 0x1f80 and the x87 FCW to
//! 0x37f in every VMSA; the `sev` crate ≥ 4 and sev-snp-measure ≥ 0.0.9 model
//! that for QEMU. Older hosts left both at zero, and so did sev-snp-measure
//! 0.0.7, which the Blyss service's measurements were computed with. The two
//! fields are bytes 0x408..0x40C (MXCSR) and 0x410..0x412 (x87 FCW) of the page.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sev::measurement::vcpu_types::CpuType;
use sev::measurement::vmsa::{GuestFeatures, VMMType, VMSA};
use sev::parser::ByteParser;
use sha2::{Digest, Sha384};

use super::gctx::PAGE;
use super::MeasureError;

/// MXCSR in the VMSA page.
pub const MXCSR: std::ops::Range<usize> = 0x408..0x40C;
/// x87 FCW in the VMSA page.
pub const X87_FCW: std::ops::Range<usize> = 0x410..0x412;

/// How the VMSA FPU state was initialised by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmsaFpu {
    /// MXCSR and x87 FCW left at zero (pre-`KVM_SEV_INIT2` hosts,
    /// sev-snp-measure ≤ 0.0.8, the `sev` crate before 4.0).
    LegacyZero,
    /// MXCSR = 0x1f80, FCW = 0x37f for QEMU (KVM ≥ 6.9, today's tools).
    KvmInit2,
}

impl VmsaFpu {
    pub fn as_str(self) -> &'static str {
        match self {
            VmsaFpu::LegacyZero => "legacy-zero",
            VmsaFpu::KvmInit2 => "kvm-init2",
        }
    }
    /// The other mode (used to diagnose mismatches).
    pub fn other(self) -> Self {
        match self {
            VmsaFpu::LegacyZero => VmsaFpu::KvmInit2,
            VmsaFpu::KvmInit2 => VmsaFpu::LegacyZero,
        }
    }
}

impl fmt::Display for VmsaFpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VmsaFpu {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "legacy-zero" => Ok(VmsaFpu::LegacyZero),
            "kvm-init2" => Ok(VmsaFpu::KvmInit2),
            _ => Err(format!(
                "unknown VMSA FPU mode {s:?} (legacy-zero or kvm-init2)"
            )),
        }
    }
}

/// The VMM whose initial register state is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VmmType {
    Qemu,
    /// Amazon EC2, as modelled by the `sev` crate 8 (note: sev-snp-measure
    /// 0.0.13 uses RDX = 0x600 for EC2 where the sev crate uses 0; EC2 is
    /// not cross-checked here).
    Ec2,
}

impl VmmType {
    pub fn as_str(self) -> &'static str {
        match self {
            VmmType::Qemu => "qemu",
            VmmType::Ec2 => "ec2",
        }
    }
    fn sev(self) -> VMMType {
        match self {
            VmmType::Qemu => VMMType::QEMU,
            VmmType::Ec2 => VMMType::EC2,
        }
    }
}

impl fmt::Display for VmmType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VmmType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "qemu" => Ok(VmmType::Qemu),
            "ec2" => Ok(VmmType::Ec2),
            _ => Err(format!("unknown VMM type {s:?} (qemu or ec2)")),
        }
    }
}

/// The vCPU model names QEMU, sev-snp-measure and the `sev` crate share.
const VCPU_NAMES: &[&str] = &[
    "EPYC",
    "EPYC-v1",
    "EPYC-v2",
    "EPYC-IBPB",
    "EPYC-v3",
    "EPYC-v4",
    "EPYC-Rome",
    "EPYC-Rome-v1",
    "EPYC-Rome-v2",
    "EPYC-Rome-v3",
    "EPYC-Milan",
    "EPYC-Milan-v1",
    "EPYC-Milan-v2",
    "EPYC-Genoa",
    "EPYC-Genoa-v1",
    "EPYC-Turin",
    "EPYC-Turin-v1",
    "EPYC-Turin-v2",
];

/// A QEMU vCPU model, named as QEMU and sev-snp-measure name them
/// (`EPYC-v4`, `EPYC-Milan`, `EPYC-Genoa`, …); it sets RDX (the CPUID
/// signature) of the initial VMSA.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VcpuType(pub CpuType);

impl VcpuType {
    /// Canonical name (`EPYC-v4`).
    pub fn name(&self) -> String {
        self.0.to_string()
    }
    /// The CPUID family/model/stepping signature.
    pub fn signature(&self) -> u32 {
        self.0.sig() as u32
    }
    /// Every model the `sev` crate knows, in its order.
    pub fn all() -> Vec<VcpuType> {
        VCPU_NAMES
            .iter()
            .filter_map(|n| CpuType::try_from(*n).ok())
            .map(VcpuType)
            .collect()
    }
}

impl fmt::Display for VcpuType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for VcpuType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CpuType::try_from(s).map(VcpuType).map_err(|_| {
            format!(
                "unknown vCPU type {s:?} (known: {})",
                VcpuType::all()
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

impl Serialize for VcpuType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for VcpuType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The BSP page and (when the firmware has an AP reset EIP) the AP page,
/// with their SHA-384s.
pub struct VmsaPages {
    pub bsp: Vec<u8>,
    pub ap: Option<Vec<u8>>,
    pub bsp_sha384: [u8; 48],
    pub ap_sha384: Option<[u8; 48]>,
}

/// Builds the initial VMSA pages with the `sev` crate, then applies `fpu`.
pub fn pages(
    ap_eip: u32,
    vcpu_type: VcpuType,
    vmm: VmmType,
    guest_features: u64,
    fpu: VmsaFpu,
) -> Result<VmsaPages, MeasureError> {
    let features = GuestFeatures::from_bytes(&guest_features.to_le_bytes())
        .map_err(|e| MeasureError::Vmsa(format!("guest features: {e}")))?;
    let v = VMSA::new(u64::from(ap_eip), vcpu_type.0, vmm.sev(), None, features);
    let mut list = v
        .pages(2)
        .map_err(|e| MeasureError::Vmsa(e.to_string()))?
        .into_iter();
    let mut bsp = list
        .next()
        .ok_or_else(|| MeasureError::Vmsa("sev built no BSP page".into()))?;
    let mut ap = list.next();
    for p in std::iter::once(&mut bsp).chain(ap.iter_mut()) {
        if p.len() != PAGE {
            return Err(MeasureError::Vmsa(format!(
                "sev built a {}-byte VMSA page",
                p.len()
            )));
        }
        // Guard against a layout change in the sev crate: for QEMU it must
        // have written exactly the KVM_SEV_INIT2 values where we expect them.
        if vmm == VmmType::Qemu
            && (p[MXCSR] != 0x1f80u32.to_le_bytes() || p[X87_FCW] != 0x037fu16.to_le_bytes())
        {
            return Err(MeasureError::Vmsa(
                "unexpected VMSA layout from the sev crate (MXCSR/FCW not at 0x408/0x410)".into(),
            ));
        }
        if fpu == VmsaFpu::LegacyZero {
            p[MXCSR].fill(0);
            p[X87_FCW].fill(0);
        }
    }
    let bsp_sha384 = Sha384::digest(&bsp).into();
    let ap_sha384 = ap.as_ref().map(|p| Sha384::digest(p).into());
    Ok(VmsaPages {
        bsp,
        ap,
        bsp_sha384,
        ap_sha384,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fpu_modes_differ_only_in_mxcsr_and_fcw() {
        let t: VcpuType = "EPYC-v4".parse().unwrap();
        let a = pages(0x80b004, t, VmmType::Qemu, 1, VmsaFpu::KvmInit2).unwrap();
        let b = pages(0x80b004, t, VmmType::Qemu, 1, VmsaFpu::LegacyZero).unwrap();
        let diff: Vec<usize> = (0..PAGE).filter(|&i| a.bsp[i] != b.bsp[i]).collect();
        assert_eq!(diff, vec![0x408, 0x409, 0x410, 0x411]);
        assert_eq!(&a.bsp[0x408..0x40c], &[0x80, 0x1f, 0, 0]);
        assert_eq!(&a.bsp[0x410..0x412], &[0x7f, 0x03]);
    }

    #[test]
    fn vcpu_type_names_round_trip_and_unknown_is_an_error() {
        assert_eq!(VcpuType::all().len(), VCPU_NAMES.len());
        for t in VcpuType::all() {
            let back: VcpuType = t.name().parse().unwrap();
            assert_eq!(back, t);
        }
        assert_eq!(
            "epyc-genoa".parse::<VcpuType>().unwrap().name(),
            "EPYC-Genoa"
        );
        assert!("Xeon".parse::<VcpuType>().is_err());
        assert!("legacy".parse::<VmsaFpu>().is_err());
        assert!("kvm".parse::<VmmType>().is_err());
    }
}
