//! Firmware (OVMF) images and firmware descriptors.
//!
//! A **firmware descriptor** is everything the launch measurement needs from
//! an OVMF image, in a few lines of JSON, so that a protocol file can pin it
//! and an audit can recompute the measurement without the 4 MiB image:
//!
//! | field | meaning |
//! | --- | --- |
//! | `format` | `blyss-evidence.ovmf-descriptor/v1` |
//! | `sha256` | SHA-256 of the image bytes (lower-case hex) |
//! | `size` | image size in bytes (a multiple of 4096) |
//! | `gpa` | where QEMU maps it: 4 GiB − size |
//! | `gctx_after_image` | the launch digest after the image's pages were measured as normal pages from `gpa` (starting from 48 zero bytes) |
//! | `sev_es_reset_eip` | the SEV-ES reset block's EIP (APs start there) |
//! | `sev_hashes_table_gpa` | where the SEV hashes table lives (absent if the image has none) |
//! | `sections` | the SEV metadata sections (`type`, `gpa`, `size`), in firmware order |
//!
//! Image parsing follows the OVMF footer table and SEV metadata formats
//! (edk2 `OvmfPkg/ResetVector`), strictly and without panics: the image may
//! come from an untrusted bundle.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384};
use thiserror::Error;

use super::gctx::{Gctx, PageType, PAGE};

/// Value of the descriptor's `format` field.
pub const DESCRIPTOR_FORMAT: &str = "blyss-evidence.ovmf-descriptor/v1";

const FOUR_GIB: u64 = 1 << 32;

/// Why an image could not be described or a descriptor is unusable.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FirmwareError {
    #[error("firmware image: {0}")]
    Image(String),
    #[error("firmware descriptor: {0}")]
    Descriptor(String),
}

fn img(s: impl Into<String>) -> FirmwareError {
    FirmwareError::Image(s.into())
}

/// An unsigned integer written as a `0x…` hex string in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hex(pub u64);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl std::str::FromStr for Hex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let digits = s
            .strip_prefix("0x")
            .ok_or_else(|| format!("{s:?} is not a 0x-prefixed hex number"))?;
        if digits.is_empty() || digits.len() > 16 || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(format!(
                "{s:?} is not a 0x-prefixed hex number (at most 64 bits)"
            ));
        }
        u64::from_str_radix(digits, 16)
            .map(Hex)
            .map_err(|e| format!("{s:?}: {e}"))
    }
}

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// OVMF SEV metadata section types (edk2 `OvmfSevMetadata.asm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionType {
    /// `OVMF_SECTION_TYPE_SNP_SEC_MEM` (1): pre-validated memory, measured as zero pages.
    SnpSecMem,
    /// `OVMF_SECTION_TYPE_SNP_SECRETS` (2): the secrets page.
    SnpSecrets,
    /// `OVMF_SECTION_TYPE_CPUID` (3): the CPUID page.
    Cpuid,
    /// `OVMF_SECTION_TYPE_SVSM_CAA` (4): SVSM calling area, zero pages.
    SvsmCaa,
    /// `OVMF_SECTION_TYPE_KERNEL_HASHES` (0x10): the page holding the SEV hashes table.
    SnpKernelHashes,
}

impl SectionType {
    fn from_raw(v: u32) -> Option<Self> {
        Some(match v {
            1 => SectionType::SnpSecMem,
            2 => SectionType::SnpSecrets,
            3 => SectionType::Cpuid,
            4 => SectionType::SvsmCaa,
            0x10 => SectionType::SnpKernelHashes,
            _ => return None,
        })
    }

    /// The raw metadata type value.
    pub fn raw(self) -> u32 {
        match self {
            SectionType::SnpSecMem => 1,
            SectionType::SnpSecrets => 2,
            SectionType::Cpuid => 3,
            SectionType::SvsmCaa => 4,
            SectionType::SnpKernelHashes => 0x10,
        }
    }

    /// The edk2 name (`SNP_SEC_MEM`, …), used in traces and reports.
    pub fn name(self) -> &'static str {
        match self {
            SectionType::SnpSecMem => "SNP_SEC_MEM",
            SectionType::SnpSecrets => "SNP_SECRETS",
            SectionType::Cpuid => "CPUID",
            SectionType::SvsmCaa => "SVSM_CAA",
            SectionType::SnpKernelHashes => "SNP_KERNEL_HASHES",
        }
    }
}

/// One SEV metadata section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    #[serde(rename = "type")]
    pub kind: SectionType,
    pub gpa: Hex,
    pub size: Hex,
}

/// What the launch measurement needs from a firmware image (see module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmwareDescriptor {
    pub format: String,
    pub sha256: String,
    pub size: u64,
    pub gpa: Hex,
    pub gctx_after_image: String,
    pub sev_es_reset_eip: Hex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sev_hashes_table_gpa: Option<Hex>,
    pub sections: Vec<Section>,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FirmwareDescriptor {
    /// Checks the descriptor's internal consistency (formats, GPA = 4 GiB −
    /// size, 32-bit addresses, whole pages where pages are measured).
    pub fn validate(&self) -> Result<(), FirmwareError> {
        let bad = |s: String| Err(FirmwareError::Descriptor(s));
        if self.format != DESCRIPTOR_FORMAT {
            return bad(format!(
                "format {:?}, expected {DESCRIPTOR_FORMAT:?}",
                self.format
            ));
        }
        if !is_lower_hex(&self.sha256, 64) {
            return bad("sha256 must be 64 lower-case hex digits".into());
        }
        if !is_lower_hex(&self.gctx_after_image, 96) {
            return bad("gctx_after_image must be 96 lower-case hex digits".into());
        }
        if self.size == 0 || !self.size.is_multiple_of(PAGE as u64) || self.size > FOUR_GIB {
            return bad(format!(
                "size {} is not a whole number of 4096-byte pages up to 4 GiB",
                self.size
            ));
        }
        if self.gpa.0 != FOUR_GIB - self.size {
            return bad(format!(
                "gpa {} is not 4 GiB - size ({:#x})",
                self.gpa,
                FOUR_GIB - self.size
            ));
        }
        if self.sev_es_reset_eip.0 > u64::from(u32::MAX) {
            return bad("sev_es_reset_eip does not fit in 32 bits".into());
        }
        if let Some(g) = self.sev_hashes_table_gpa {
            if g.0 > u64::from(u32::MAX) {
                return bad("sev_hashes_table_gpa does not fit in 32 bits".into());
            }
        }
        if self.sections.is_empty() {
            return bad("no SEV metadata sections: not an SEV-SNP capable OVMF".into());
        }
        for (i, s) in self.sections.iter().enumerate() {
            if s.gpa.0 > u64::from(u32::MAX) || s.size.0 > u64::from(u32::MAX) {
                return bad(format!("section {i}: gpa/size do not fit in 32 bits"));
            }
            if matches!(
                s.kind,
                SectionType::SnpSecMem | SectionType::SvsmCaa | SectionType::SnpKernelHashes
            ) && !s.size.0.is_multiple_of(PAGE as u64)
            {
                return bad(format!(
                    "section {i} ({}): size {} is not a whole number of pages",
                    s.kind.name(),
                    s.size
                ));
            }
        }
        Ok(())
    }

    /// The digest after the image, as bytes.
    pub fn gctx_after_image_bytes(&self) -> Result<[u8; 48], FirmwareError> {
        let v = hex::decode(&self.gctx_after_image)
            .map_err(|e| FirmwareError::Descriptor(format!("gctx_after_image: {e}")))?;
        v.try_into()
            .map_err(|_| FirmwareError::Descriptor("gctx_after_image is not 48 bytes".into()))
    }

    /// Names the fields where `other` differs from `self` (empty if equal),
    /// each as `field: self-value != other-value`.
    pub fn differences(&self, other: &FirmwareDescriptor) -> Vec<String> {
        let mut d = Vec::new();
        let mut cmp = |name: &str, a: String, b: String| {
            if a != b {
                d.push(format!("{name}: {a} != {b}"));
            }
        };
        cmp("format", self.format.clone(), other.format.clone());
        cmp("sha256", self.sha256.clone(), other.sha256.clone());
        cmp("size", self.size.to_string(), other.size.to_string());
        cmp("gpa", self.gpa.to_string(), other.gpa.to_string());
        cmp(
            "gctx_after_image",
            self.gctx_after_image.clone(),
            other.gctx_after_image.clone(),
        );
        cmp(
            "sev_es_reset_eip",
            self.sev_es_reset_eip.to_string(),
            other.sev_es_reset_eip.to_string(),
        );
        let opt = |h: Option<Hex>| h.map(|h| h.to_string()).unwrap_or_else(|| "none".into());
        cmp(
            "sev_hashes_table_gpa",
            opt(self.sev_hashes_table_gpa),
            opt(other.sev_hashes_table_gpa),
        );
        let n = self.sections.len().max(other.sections.len());
        for i in 0..n {
            let show = |s: Option<&Section>| {
                s.map(|s| format!("{} {}+{}", s.kind.name(), s.gpa, s.size))
                    .unwrap_or_else(|| "none".into())
            };
            cmp(
                &format!("sections[{i}]"),
                show(self.sections.get(i)),
                show(other.sections.get(i)),
            );
        }
        d
    }

    /// One line per section, for reports: `SNP_SEC_MEM 0x800000+0x9000, …`.
    pub fn sections_summary(&self) -> String {
        self.sections
            .iter()
            .map(|s| format!("{} {}+{}", s.kind.name(), s.gpa, s.size))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

// --- image parsing -------------------------------------------------------

/// GUID bytes as stored in the image (little-endian first three fields).
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// `96b582de-1fb2-45f7-baea-a366c55a082d`: end of the OVMF GUIDed table.
const TABLE_FOOTER_GUID: [u8; 16] = guid(
    0x96b5_82de,
    0x1fb2,
    0x45f7,
    [0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d],
);
/// `7255371f-3a3b-4b04-927b-1da6efa8d454`: SEV hashes table GPA (and size).
const SEV_HASH_TABLE_RV_GUID: [u8; 16] = guid(
    0x7255_371f,
    0x3a3b,
    0x4b04,
    [0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54],
);
/// `00f771de-1a7e-4fcb-890e-68c77e2fb44e`: SEV-ES AP reset EIP.
const SEV_ES_RESET_BLOCK_GUID: [u8; 16] = guid(
    0x00f7_71de,
    0x1a7e,
    0x4fcb,
    [0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e],
);
/// `dc886566-984a-4798-a75e-5585a7bf67cc`: offset of the SEV metadata.
const SEV_METADATA_GUID: [u8; 16] = guid(
    0xdc88_6566,
    0x984a,
    0x4798,
    [0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc],
);

/// Size of a table entry's trailer: u16 size + GUID.
const ENTRY_HEADER: usize = 18;

fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// The parsed parts of an image that matter for measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvmfInfo {
    pub sev_es_reset_eip: Option<u32>,
    pub sev_hashes_table_gpa: Option<u32>,
    pub sections: Vec<Section>,
}

/// Parses the OVMF footer table and SEV metadata of `data`.
pub fn parse_ovmf(data: &[u8]) -> Result<OvmfInfo, FirmwareError> {
    // The GUIDed table ends 32 bytes before the end of the image, with a
    // footer entry (u16 size, GUID) whose size covers the whole table.
    let footer_start = data
        .len()
        .checked_sub(32 + ENTRY_HEADER)
        .ok_or_else(|| img("too small for an OVMF footer table"))?;
    let footer_size = le_u16(data, footer_start).ok_or_else(|| img("truncated footer"))? as usize;
    if data.get(footer_start + 2..footer_start + ENTRY_HEADER) != Some(&TABLE_FOOTER_GUID[..]) {
        return Err(img(
            "no OVMF footer table GUID 32 bytes before the end (not an OVMF image?)",
        ));
    }
    if footer_size < ENTRY_HEADER {
        return Err(img(format!(
            "footer table size {footer_size} < {ENTRY_HEADER}"
        )));
    }
    let table_size = footer_size - ENTRY_HEADER;
    let table_start = footer_start
        .checked_sub(table_size)
        .ok_or_else(|| img("footer table larger than the image"))?;
    let table = data
        .get(table_start..footer_start)
        .ok_or_else(|| img("footer table out of bounds"))?;

    let mut entries: Vec<([u8; 16], &[u8])> = Vec::new();
    let mut end = table.len();
    while end >= ENTRY_HEADER {
        let size =
            le_u16(table, end - ENTRY_HEADER).ok_or_else(|| img("truncated table entry"))? as usize;
        let g: [u8; 16] = table
            .get(end - 16..end)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| img("truncated table entry"))?;
        if size < ENTRY_HEADER {
            return Err(img(format!("table entry size {size} < {ENTRY_HEADER}")));
        }
        let start = end
            .checked_sub(size)
            .ok_or_else(|| img(format!("table entry of {size} bytes overruns the table")))?;
        if entries.iter().any(|(eg, _)| *eg == g) {
            return Err(img("duplicate GUID in the OVMF footer table"));
        }
        entries.push((g, &table[start..end - ENTRY_HEADER]));
        end = start;
    }
    if end != 0 {
        return Err(img(format!(
            "{end} stray bytes at the start of the footer table"
        )));
    }
    let entry = |g: &[u8; 16]| entries.iter().find(|(eg, _)| eg == g).map(|(_, d)| *d);

    let sev_es_reset_eip = match entry(&SEV_ES_RESET_BLOCK_GUID) {
        None => None,
        Some(d) => Some(le_u32(d, 0).ok_or_else(|| img("SEV-ES reset block too short"))?),
    };
    let sev_hashes_table_gpa = match entry(&SEV_HASH_TABLE_RV_GUID) {
        None => None,
        Some(d) => Some(le_u32(d, 0).ok_or_else(|| img("SEV hashes table entry too short"))?),
    };

    let mut sections = Vec::new();
    if let Some(d) = entry(&SEV_METADATA_GUID) {
        let from_end = le_u32(d, 0).ok_or_else(|| img("SEV metadata entry too short"))? as usize;
        let start = data
            .len()
            .checked_sub(from_end)
            .ok_or_else(|| img("SEV metadata offset points before the image"))?;
        let header = data
            .get(start..start + 16)
            .ok_or_else(|| img("SEV metadata header out of bounds"))?;
        if &header[0..4] != b"ASEV" {
            return Err(img("SEV metadata signature is not ASEV"));
        }
        let size = le_u32(header, 4).unwrap_or(0) as usize;
        let version = le_u32(header, 8).unwrap_or(0);
        let num = le_u32(header, 12).unwrap_or(0) as usize;
        if version != 1 {
            return Err(img(format!("SEV metadata version {version}, expected 1")));
        }
        let needed = num
            .checked_mul(12)
            .and_then(|n| n.checked_add(16))
            .ok_or_else(|| img("SEV metadata item count overflows"))?;
        if size < needed {
            return Err(img(format!(
                "SEV metadata size {size} too small for {num} items"
            )));
        }
        let items = data
            .get(start + 16..start + size)
            .ok_or_else(|| img("SEV metadata items out of bounds"))?;
        for i in 0..num {
            let gpa = le_u32(items, i * 12).ok_or_else(|| img("truncated metadata item"))?;
            let len = le_u32(items, i * 12 + 4).ok_or_else(|| img("truncated metadata item"))?;
            let t = le_u32(items, i * 12 + 8).ok_or_else(|| img("truncated metadata item"))?;
            let kind = SectionType::from_raw(t)
                .ok_or_else(|| img(format!("SEV metadata item {i} has unknown type {t:#x}")))?;
            sections.push(Section {
                kind,
                gpa: Hex(u64::from(gpa)),
                size: Hex(u64::from(len)),
            });
        }
    }
    Ok(OvmfInfo {
        sev_es_reset_eip,
        sev_hashes_table_gpa,
        sections,
    })
}

/// Derives the firmware descriptor of an image: parses it, hashes it, and
/// measures its pages (one SHA-384 pass over the image plus the chain, and
/// the image's SHA-256, concurrently).
pub fn describe(image: &[u8]) -> Result<FirmwareDescriptor, FirmwareError> {
    let size = image.len() as u64;
    if size == 0 || !size.is_multiple_of(PAGE as u64) || size > FOUR_GIB {
        return Err(img(format!(
            "{size} bytes is not a whole number of 4096-byte pages up to 4 GiB"
        )));
    }
    let info = parse_ovmf(image)?;
    let eip = info
        .sev_es_reset_eip
        .ok_or_else(|| img("no SEV-ES reset block: not an SEV-ES/SNP capable OVMF"))?;
    let gpa = FOUR_GIB - size;
    let (sha256, page_hashes) = hash_image(image);
    let mut g = Gctx::default();
    for (i, h) in page_hashes.iter().enumerate() {
        g.update(PageType::Normal, gpa + (i * PAGE) as u64, h);
    }
    let d = FirmwareDescriptor {
        format: DESCRIPTOR_FORMAT.into(),
        sha256: hex::encode(sha256),
        size,
        gpa: Hex(gpa),
        gctx_after_image: hex::encode(g.digest()),
        sev_es_reset_eip: Hex(u64::from(eip)),
        sev_hashes_table_gpa: info.sev_hashes_table_gpa.map(|g| Hex(u64::from(g))),
        sections: info.sections,
    };
    d.validate()?;
    Ok(d)
}

/// SHA-256 of the image and SHA-384 of each page. The page hashes are
/// independent (only the GCTX chain over them is sequential), so for images
/// of 1 MiB and more a second thread computes the SHA-256 and the last third
/// of the page hashes while this one hashes the first two thirds: SHA-256
/// costs about a third of the SHA-384 pass, so both threads finish together
/// and the image is hashed in about half the time of one pass.
fn hash_image(image: &[u8]) -> ([u8; 32], Vec<[u8; 48]>) {
    let sha256 = || -> [u8; 32] { Sha256::digest(image).into() };
    let pages = |part: &[u8]| -> Vec<[u8; 48]> {
        part.chunks_exact(PAGE)
            .map(|p| Sha384::digest(p).into())
            .collect()
    };
    let whole = image.len() - image.len() % PAGE;
    let parallel = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    if image.len() < (1 << 20) || !parallel {
        return (sha256(), pages(&image[..whole]));
    }
    let split = (whole / PAGE * 2 / 3) * PAGE;
    let (first, last) = image[..whole].split_at(split);
    std::thread::scope(|s| {
        let helper = s.spawn(|| (sha256(), pages(last)));
        let mut p = pages(first);
        // Hashing cannot panic; should the thread fail anyway, hash here.
        let (d, rest) = helper.join().unwrap_or_else(|_| (sha256(), pages(last)));
        p.extend(rest);
        (d, p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUFFIX: &[u8] = include_bytes!("../../fixtures/sev/ovmf_AmdSev_suffix.bin");
    const X64: &[u8] = include_bytes!("../../fixtures/sev/ovmf_OvmfX64_suffix.bin");

    /// Our parser agrees with the sev crate's OVMF parser on its test vectors.
    #[test]
    fn parser_agrees_with_sev_crate_on_its_vectors() {
        for (bytes, name) in [
            (SUFFIX, "ovmf_AmdSev_suffix.bin"),
            (X64, "ovmf_OvmfX64_suffix.bin"),
        ] {
            let path = format!("{}/fixtures/sev/{name}", env!("CARGO_MANIFEST_DIR"));
            let theirs = sev::measurement::ovmf::OVMF::new(path.into()).unwrap();
            let ours = parse_ovmf(bytes).unwrap();
            assert_eq!(
                ours.sev_es_reset_eip,
                theirs.sev_es_reset_eip().ok(),
                "{name}"
            );
            assert_eq!(
                ours.sev_hashes_table_gpa.map(u64::from),
                theirs.sev_hashes_table_gpa().ok(),
                "{name}"
            );
            assert_eq!(ours.sections.len(), theirs.metadata_items().len(), "{name}");
            for (a, b) in ours.sections.iter().zip(theirs.metadata_items()) {
                assert_eq!(a.gpa.0, u64::from(b.gpa), "{name}");
                assert_eq!(a.size.0, u64::from(b.size), "{name}");
                assert_eq!(a.kind.raw(), b.section_type as u32, "{name}");
            }
        }
    }

    #[test]
    fn descriptor_of_a_multi_page_image_matches_the_plain_chain() {
        // 1 MiB + 4 KiB: the SHA-256 runs on the helper thread.
        let mut big = vec![0x5au8; 256 * PAGE];
        big.extend_from_slice(SUFFIX);
        let d = describe(&big).unwrap();
        let mut g = Gctx::default();
        g.update_normal_pages(d.gpa.0, &big).unwrap();
        assert_eq!(d.gctx_after_image, hex::encode(g.digest()));
        assert_eq!(d.sha256, hex::encode(Sha256::digest(&big)));
        assert_eq!(d.gpa.0, (1u64 << 32) - 257 * PAGE as u64);
    }

    #[test]
    fn descriptor_round_trips_through_json() {
        let d = describe(SUFFIX).unwrap();
        let json = serde_json::to_string_pretty(&d).unwrap();
        let back: FirmwareDescriptor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(json.contains("\"gpa\": \"0xfffff000\""), "{json}");
    }

    #[test]
    fn truncated_or_garbage_images_are_errors_not_panics() {
        for len in [0usize, 1, 49, 50, 51, 4095, 4096] {
            let zeros = vec![0u8; len];
            assert!(describe(&zeros).is_err(), "zeros {len}");
            let ff = vec![0xffu8; len];
            assert!(describe(&ff).is_err(), "ff {len}");
        }
        // Every single-byte corruption of the footer area: error or a
        // (different) descriptor, never a panic.
        for off in SUFFIX.len() - 200..SUFFIX.len() {
            for v in [0u8, 0xff, 0x7f] {
                let mut b = SUFFIX.to_vec();
                b[off] = v;
                let _ = describe(&b);
            }
        }
    }

    #[test]
    fn validate_rejects_inconsistent_descriptors() {
        let good = describe(SUFFIX).unwrap();
        let mut d = good.clone();
        d.gpa = Hex(0xffc0_0000);
        assert!(d
            .validate()
            .unwrap_err()
            .to_string()
            .contains("4 GiB - size"));
        let mut d = good.clone();
        d.sha256 = d.sha256.to_uppercase();
        assert!(d.validate().is_err());
        let mut d = good.clone();
        d.format = "v0".into();
        assert!(d.validate().is_err());
        let mut d = good;
        d.sections.clear();
        assert!(d.validate().is_err());
    }

    #[test]
    fn hex_parsing_is_strict() {
        assert_eq!("0x80b004".parse::<Hex>().unwrap(), Hex(0x80b004));
        assert!("80b004".parse::<Hex>().is_err());
        assert!("0x".parse::<Hex>().is_err());
        assert!("0x-1".parse::<Hex>().is_err());
        assert!("0x10000000000000000".parse::<Hex>().is_err());
    }

    #[test]
    fn differences_name_each_field() {
        let a = describe(SUFFIX).unwrap();
        let mut b = a.clone();
        b.sev_es_reset_eip = Hex(0x1234);
        b.sections[0].size = Hex(0x2000);
        let d = a.differences(&b);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("sev_es_reset_eip: "));
        assert!(d[1].starts_with("sections[0]: "));
        assert!(a.differences(&a).is_empty());
    }
}
