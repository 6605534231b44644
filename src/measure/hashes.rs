//! The SEV hashes table QEMU writes into the firmware's `SNP_KERNEL_HASHES`
//! page for measured direct boot (QEMU `target/i386/sev.c`,
//! `SevHashTable`), byte for byte:
//!
//! ```text
//! header  GUID 9438d606-4f22-4cc9-b479-a793d411fd21, u16 length = 168
//! entry   GUID 97d02dd8-bd20-4c94-aa78-e7714d36ab2a (cmdline), u16 50, sha256
//! entry   GUID 44baf731-3a2f-4bd7-9af1-41e29169781d (initrd),  u16 50, sha256
//! entry   GUID 4de79437-abd2-427f-b835-d5b172d2045b (kernel),  u16 50, sha256
//! padding 8 zero bytes (the table is padded to a multiple of 16: 176 bytes)
//! ```
//!
//! placed at `sev_hashes_table_gpa & 0xfff` inside an otherwise zero page.
//! GUIDs are stored little-endian (first three fields), integers too.

use sha2::{Digest, Sha256};

use super::gctx::PAGE;

/// Size of the padded table.
pub const TABLE_LEN: usize = 176;

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

const HEADER_GUID: [u8; 16] = guid(
    0x9438_d606,
    0x4f22,
    0x4cc9,
    [0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21],
);
const CMDLINE_GUID: [u8; 16] = guid(
    0x97d0_2dd8,
    0xbd20,
    0x4c94,
    [0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a],
);
const INITRD_GUID: [u8; 16] = guid(
    0x44ba_f731,
    0x3a2f,
    0x4bd7,
    [0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d],
);
const KERNEL_GUID: [u8; 16] = guid(
    0x4de7_9437,
    0xabd2,
    0x427f,
    [0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b],
);

/// The three SHA-256 values of measured direct boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelHashes {
    pub kernel: [u8; 32],
    pub initrd: [u8; 32],
    /// SHA-256 of the command line bytes followed by one NUL.
    pub cmdline: [u8; 32],
}

/// `sha256(cmdline ‖ NUL)`: what QEMU hashes for `-append` (the bytes as
/// given: no trimming, no re-encoding).
pub fn cmdline_hash(cmdline: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(cmdline.as_bytes());
    h.update([0u8]);
    h.finalize().into()
}

impl KernelHashes {
    /// The 176-byte padded table.
    pub fn table(&self) -> [u8; TABLE_LEN] {
        let mut t = [0u8; TABLE_LEN];
        t[0..16].copy_from_slice(&HEADER_GUID);
        t[16..18].copy_from_slice(&168u16.to_le_bytes());
        let mut off = 18;
        for (g, h) in [
            (&CMDLINE_GUID, &self.cmdline),
            (&INITRD_GUID, &self.initrd),
            (&KERNEL_GUID, &self.kernel),
        ] {
            t[off..off + 16].copy_from_slice(g);
            t[off + 16..off + 18].copy_from_slice(&50u16.to_le_bytes());
            t[off + 18..off + 50].copy_from_slice(h);
            off += 50;
        }
        t
    }

    /// The page QEMU measures: the table at `offset` in a zero page; `None`
    /// if the table does not fit in the page at that offset.
    pub fn page(&self, offset: usize) -> Option<Vec<u8>> {
        let end = offset.checked_add(TABLE_LEN).filter(|e| *e <= PAGE)?;
        let mut p = vec![0u8; PAGE];
        p[offset..end].copy_from_slice(&self.table());
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same bytes as the sev crate's `SevHashes::construct_page` for the
    /// same files (it only takes files, so we feed it temp files).
    #[test]
    fn page_equals_sev_crate_construct_page() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("kernel");
        let i = dir.path().join("initrd");
        std::fs::write(&k, b"kernel bytes").unwrap();
        std::fs::write(&i, b"initrd bytes").unwrap();
        let append = "console=ttyS0 root=/dev/vda";
        let theirs = sev::measurement::sev_hashes::SevHashes::new(k, Some(i), Some(append))
            .unwrap()
            .construct_page(0xc00)
            .unwrap();
        let ours = KernelHashes {
            kernel: Sha256::digest(b"kernel bytes").into(),
            initrd: Sha256::digest(b"initrd bytes").into(),
            cmdline: cmdline_hash(append),
        }
        .page(0xc00)
        .unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn cmdline_hash_is_not_trimmed() {
        assert_ne!(cmdline_hash("a "), cmdline_hash("a"));
        assert_eq!(cmdline_hash(""), <[u8; 32]>::from(Sha256::digest([0u8])));
    }

    #[test]
    fn table_that_does_not_fit_is_refused() {
        let h = KernelHashes {
            kernel: [0; 32],
            initrd: [0; 32],
            cmdline: [0; 32],
        };
        assert!(h.page(PAGE - TABLE_LEN).is_some());
        assert!(h.page(PAGE - TABLE_LEN + 1).is_none());
        assert!(h.page(usize::MAX).is_none());
    }
}
