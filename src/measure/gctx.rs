//! The SNP guest-context launch digest chain (SEV-SNP ABI 56860, §8.17
//! `SNP_LAUNCH_UPDATE`, PAGE_INFO structure).
//!
//! Every measured page extends the 48-byte digest:
//! `ld = SHA-384(ld ‖ contents ‖ 0x0070 ‖ page_type ‖ is_imi ‖ vmpl3 ‖ vmpl2 ‖ vmpl1 ‖ 0 ‖ gpa)`
//! (112 bytes, little-endian integers), where `contents` is the SHA-384 of
//! the page for normal and VMSA pages and 48 zero bytes for the others.
//!
//! The `sev` crate has the same chain (`measurement::gctx::Gctx`) but keeps
//! the digest private, so it cannot be seeded from a descriptor and read
//! back; this is the same ~20 lines, checked against it in the tests.

use sha2::{Digest, Sha384};

/// Launch digest size (SHA-384).
pub const LD_BYTES: usize = 48;
/// Size of one guest page.
pub const PAGE: usize = 4096;
/// GPA recorded for VMSA pages: `(u64)-1`, page aligned, bits above 51 clear.
pub const VMSA_GPA: u64 = 0xFFFF_FFFF_F000;

/// `SNP_LAUNCH_UPDATE` page types (ABI 56860, table "PAGE_TYPE").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageType {
    Normal = 1,
    Vmsa = 2,
    Zero = 3,
    Unmeasured = 4,
    Secrets = 5,
    Cpuid = 6,
}

impl PageType {
    /// Lower-case name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            PageType::Normal => "normal",
            PageType::Vmsa => "vmsa",
            PageType::Zero => "zero",
            PageType::Unmeasured => "unmeasured",
            PageType::Secrets => "secrets",
            PageType::Cpuid => "cpuid",
        }
    }
}

/// The running launch digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gctx {
    ld: [u8; LD_BYTES],
}

impl Default for Gctx {
    fn default() -> Self {
        Gctx { ld: [0; LD_BYTES] }
    }
}

impl Gctx {
    /// Continues a chain from a known digest (for example the digest after
    /// the firmware image, taken from a firmware descriptor).
    pub fn from_digest(ld: [u8; LD_BYTES]) -> Self {
        Gctx { ld }
    }

    /// The current digest.
    pub fn digest(&self) -> [u8; LD_BYTES] {
        self.ld
    }

    /// Extends the chain with one PAGE_INFO record.
    pub fn update(&mut self, page_type: PageType, gpa: u64, contents: &[u8; LD_BYTES]) {
        let mut info = [0u8; 0x70];
        info[..48].copy_from_slice(&self.ld);
        info[48..96].copy_from_slice(contents);
        info[96..98].copy_from_slice(&0x70u16.to_le_bytes());
        info[98] = page_type as u8;
        // is_imi, vmpl3/2/1 permissions and the reserved byte stay zero.
        info[104..112].copy_from_slice(&gpa.to_le_bytes());
        self.ld = Sha384::digest(info).into();
    }

    /// Measures `data` (a whole number of pages) as normal pages from `gpa` on.
    /// Returns the number of pages; `None` if `data` is not page-sized.
    pub fn update_normal_pages(&mut self, gpa: u64, data: &[u8]) -> Option<u64> {
        if !data.len().is_multiple_of(PAGE) {
            return None;
        }
        let mut n = 0u64;
        for (i, page) in data.chunks_exact(PAGE).enumerate() {
            let h: [u8; LD_BYTES] = Sha384::digest(page).into();
            self.update(PageType::Normal, gpa.wrapping_add((i * PAGE) as u64), &h);
            n += 1;
        }
        Some(n)
    }

    /// Measures `len` bytes (a whole number of pages) of zero pages.
    pub fn update_zero_pages(&mut self, gpa: u64, len: u64) -> Option<u64> {
        if !len.is_multiple_of(PAGE as u64) {
            return None;
        }
        let pages = len / PAGE as u64;
        for i in 0..pages {
            self.update(
                PageType::Zero,
                gpa.wrapping_add(i * PAGE as u64),
                &[0; LD_BYTES],
            );
        }
        Some(pages)
    }

    /// Measures one VMSA page given its SHA-384.
    pub fn update_vmsa_hash(&mut self, page_sha384: &[u8; LD_BYTES]) {
        self.update(PageType::Vmsa, VMSA_GPA, page_sha384);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUFFIX: &[u8] = include_bytes!("../../fixtures/sev/ovmf_AmdSev_suffix.bin");

    /// The sev crate's own test vector: GCTX over its 4 KiB AmdSev suffix
    /// (sev 8 `tests/measurement.rs`, `test_snp_ovmf_hash_full_*`).
    #[test]
    fn image_chain_reproduces_sev_crate_test_vector() {
        let mut g = Gctx::default();
        let gpa = (1u64 << 32) - SUFFIX.len() as u64;
        assert_eq!(g.update_normal_pages(gpa, SUFFIX), Some(1));
        assert_eq!(
            hex::encode(g.digest()),
            "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"
        );
    }

    /// Same chain as the sev crate's own function on the same file.
    #[test]
    fn image_chain_equals_sev_calc_snp_ovmf_hash() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sev/ovmf_AmdSev_suffix.bin"
        );
        let theirs = sev::measurement::snp::calc_snp_ovmf_hash(path.into()).unwrap();
        let mut g = Gctx::default();
        g.update_normal_pages((1u64 << 32) - SUFFIX.len() as u64, SUFFIX)
            .unwrap();
        assert_eq!(hex::encode(g.digest()), theirs.get_hex_ld());
    }

    /// Page type and GPA are part of each record.
    #[test]
    fn page_type_and_gpa_change_the_digest() {
        let mut a = Gctx::default();
        a.update(PageType::Secrets, 0x80_d000, &[0; 48]);
        let mut b = Gctx::default();
        b.update(PageType::Cpuid, 0x80_d000, &[0; 48]);
        let mut c = Gctx::default();
        c.update(PageType::Secrets, 0x80_e000, &[0; 48]);
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn partial_pages_are_rejected() {
        let mut g = Gctx::default();
        assert_eq!(g.update_normal_pages(0, &[0u8; 100]), None);
        assert_eq!(g.update_zero_pages(0, 100), None);
        assert_eq!(g.digest(), [0; 48]);
    }
}
