//! AMD SEV-SNP evidence: product lines, the fields of the 1184-byte report,
//! the VCEK's AMD extensions, the ARK → ASK → VCEK certificates, the KDS CRL
//! and the report signature.
//!
//! Everything here is a pure function of bytes returning a typed value or a
//! message that names exactly what is wrong; the rules that judge these
//! values live in `checks::amd` and `checks::snp`.
//!
//! References: AMD SEV-SNP ABI specification (publication 56860),
//! `ATTESTATION_REPORT` structure, `TCB_VERSION` and guest policy; AMD
//! "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
//! Specification" (publication 57230) for the VCEK extensions, the
//! certificate chain and the CRL; RFC 4055 for the RSASSA-PSS parameters;
//! RFC 5280 for validity, names, BasicConstraints and CRLs.

use std::fmt;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Reader};
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::attestation::{REPORT_LEN, SIGNED_LEN};

/// TEST-ONLY synthetic platform (test keys that mint reports): compiled only
/// with the non-default `test-platform` feature, never into a release build.
#[cfg(feature = "test-platform")]
pub mod testing;

/// Object identifiers used here.
pub mod oid {
    use const_oid::ObjectIdentifier as O;
    /// VCEK extension `structVersion`.
    pub const STRUCT_VERSION: O = O::new_unwrap("1.3.6.1.4.1.3704.1.1");
    /// VCEK extension `productName` (IA5String, e.g. `Genoa`, `Milan-B0`).
    pub const PRODUCT_NAME: O = O::new_unwrap("1.3.6.1.4.1.3704.1.2");
    /// VCEK extension `blSPL` (INTEGER).
    pub const BL_SPL: O = O::new_unwrap("1.3.6.1.4.1.3704.1.3.1");
    /// VCEK extension `teeSPL`.
    pub const TEE_SPL: O = O::new_unwrap("1.3.6.1.4.1.3704.1.3.2");
    /// VCEK extension `snpSPL`.
    pub const SNP_SPL: O = O::new_unwrap("1.3.6.1.4.1.3704.1.3.3");
    /// VCEK extension `ucodeSPL`.
    pub const UCODE_SPL: O = O::new_unwrap("1.3.6.1.4.1.3704.1.3.8");
    /// VCEK extension `fmcSPL` (Turin and later).
    pub const FMC_SPL: O = O::new_unwrap("1.3.6.1.4.1.3704.1.3.9");
    /// VCEK extension `hwID` (raw octets: 64 bytes, 8 on Turin).
    pub const HWID: O = O::new_unwrap("1.3.6.1.4.1.3704.1.4");
    /// VLEK extension `CSP_ID`: the cloud provider the VLEK was issued to
    /// (a string, e.g. `CN=cc-us-east-2.amazonaws.com`).
    pub const CSP_ID: O = O::new_unwrap("1.3.6.1.4.1.3704.1.5");
    /// Prefix of all AMD VCEK extensions.
    pub const AMD_PREFIX: &str = "1.3.6.1.4.1.3704.1.";
    pub const RSASSA_PSS: O = O::new_unwrap("1.2.840.113549.1.1.10");
    pub const MGF1: O = O::new_unwrap("1.2.840.113549.1.1.8");
    pub const SHA384: O = O::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA1: O = O::new_unwrap("1.3.14.3.2.26");
    pub const RSA_ENCRYPTION: O = O::new_unwrap("1.2.840.113549.1.1.1");
    pub const EC_PUBLIC_KEY: O = O::new_unwrap("1.2.840.10045.2.1");
    pub const SECP384R1: O = O::new_unwrap("1.3.132.0.34");
    pub const COMMON_NAME: O = O::new_unwrap("2.5.4.3");
    pub const BASIC_CONSTRAINTS: O = O::new_unwrap("2.5.29.19");
    pub const KEY_USAGE: O = O::new_unwrap("2.5.29.15");
}

// ---------------------------------------------------------------------------
// Product lines
// ---------------------------------------------------------------------------

/// An AMD EPYC product line with SEV-SNP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Product {
    Milan,
    Genoa,
    Turin,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::Milan, Product::Genoa, Product::Turin];

    /// The name used by AMD KDS URLs and trust sets (`Genoa`).
    pub fn name(self) -> &'static str {
        match self {
            Product::Milan => "Milan",
            Product::Genoa => "Genoa",
            Product::Turin => "Turin",
        }
    }

    pub fn from_name(s: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.name() == s)
    }

    /// From CPUID family/model (report versions 3+), as AMD documents the
    /// product lines: family 19h models 00h–0Fh Milan, 10h–1Fh and A0h–AFh
    /// Genoa; family 1Ah models 00h–11h Turin.
    pub fn from_cpuid(family: u8, model: u8) -> Option<Product> {
        match (family, model) {
            (0x19, 0x00..=0x0F) => Some(Product::Milan),
            (0x19, 0x10..=0x1F) | (0x19, 0xA0..=0xAF) => Some(Product::Genoa),
            (0x1A, 0x00..=0x11) => Some(Product::Turin),
            _ => None,
        }
    }

    /// Common name of the product's ARK (`ARK-Genoa`).
    pub fn ark_cn(self) -> String {
        format!("ARK-{}", self.name())
    }

    /// Common name of the product's ASK, which is also the VCEK issuer
    /// (`SEV-Genoa`).
    pub fn ask_cn(self) -> String {
        format!("SEV-{}", self.name())
    }

    /// Product from an issuer common name `SEV-<product>`.
    pub fn from_ask_cn(cn: &str) -> Option<Product> {
        cn.strip_prefix("SEV-").and_then(Product::from_name)
    }

    /// Whether a VCEK `productName` extension names this product: equal to
    /// the name, or the name followed by `-<stepping>` (`Milan-B0`).
    pub fn matches_product_name(self, s: &str) -> bool {
        s == self.name()
            || s.strip_prefix(self.name())
                .is_some_and(|rest| rest.starts_with('-') && rest.len() > 1)
    }

    /// Length of the VCEK `hwID` extension (= the meaningful prefix of
    /// CHIP_ID): 64 bytes, 8 on Turin.
    pub fn hwid_len(self) -> usize {
        match self {
            Product::Turin => 8,
            _ => 64,
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// TCB versions
// ---------------------------------------------------------------------------

/// A decoded `TCB_VERSION` (security patch levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcb {
    /// Firmware of the ASP (Turin and later only).
    pub fmc: Option<u8>,
    pub bootloader: u8,
    pub tee: u8,
    pub snp: u8,
    pub microcode: u8,
}

impl Tcb {
    /// Decodes the 8 little-endian bytes of a TCB_VERSION for `product`.
    /// Milan/Genoa: byte 0 boot loader, 1 TEE, 2–5 reserved, 6 SNP,
    /// 7 microcode. Turin: 0 FMC, 1 boot loader, 2 TEE, 3 SNP, 4–6 reserved,
    /// 7 microcode.
    pub fn decode(raw: [u8; 8], product: Product) -> Tcb {
        match product {
            Product::Turin => Tcb {
                fmc: Some(raw[0]),
                bootloader: raw[1],
                tee: raw[2],
                snp: raw[3],
                microcode: raw[7],
            },
            _ => Tcb {
                fmc: None,
                bootloader: raw[0],
                tee: raw[1],
                snp: raw[6],
                microcode: raw[7],
            },
        }
    }

    /// Encodes for `product` (reserved bytes zero; `fmc` ignored off Turin).
    pub fn encode(&self, product: Product) -> [u8; 8] {
        match product {
            Product::Turin => [
                self.fmc.unwrap_or(0),
                self.bootloader,
                self.tee,
                self.snp,
                0,
                0,
                0,
                self.microcode,
            ],
            _ => [
                self.bootloader,
                self.tee,
                0,
                0,
                0,
                0,
                self.snp,
                self.microcode,
            ],
        }
    }

    /// Byte indices of the reserved part of a TCB_VERSION for `product`.
    pub fn reserved_bytes(product: Product) -> std::ops::Range<usize> {
        match product {
            Product::Turin => 4..7,
            _ => 2..6,
        }
    }

    /// Component-wise `self <= other` (FMC compared when both have it).
    pub fn le(&self, other: &Tcb) -> bool {
        self.lower_components(other).is_empty()
    }

    /// Names of the components where `self > other`, with both values.
    pub fn lower_components(&self, other: &Tcb) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, a: u8, b: u8| {
            if a > b {
                out.push(format!("{name} {b} < {a}"));
            }
        };
        if let (Some(a), Some(b)) = (self.fmc, other.fmc) {
            cmp("fmc", a, b);
        }
        cmp("bl", self.bootloader, other.bootloader);
        cmp("tee", self.tee, other.tee);
        cmp("snp", self.snp, other.snp);
        cmp("ucode", self.microcode, other.microcode);
        out
    }

    /// JSON object with the components.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if let Some(f) = self.fmc {
            m.insert("fmc".into(), f.into());
        }
        m.insert("bootloader".into(), self.bootloader.into());
        m.insert("tee".into(), self.tee.into());
        m.insert("snp".into(), self.snp.into());
        m.insert("microcode".into(), self.microcode.into());
        serde_json::Value::Object(m)
    }
}

impl fmt::Display for Tcb {
    /// `bl 7 / tee 0 / snp 11 / ucode 62` (`fmc N / ` first on Turin).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(x) = self.fmc {
            write!(f, "fmc {x} / ")?;
        }
        write!(
            f,
            "bl {} / tee {} / snp {} / ucode {}",
            self.bootloader, self.tee, self.snp, self.microcode
        )
    }
}

// ---------------------------------------------------------------------------
// Report fields
// ---------------------------------------------------------------------------

/// The kind of key that endorses a report, and so the chain it must
/// have: a VCEK (chip-bound, from AMD KDS) under the product's ASK, or a
/// VLEK (loaded by a cloud provider, not chip-bound) under the product's
/// ASVK. Both end at the same ARK (AMD VCEK/KDS spec 57230).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndorsementKey {
    Vcek,
    Vlek,
}

impl EndorsementKey {
    /// What the report claims (`SIGNING_KEY` 1 = VLEK; anything else is
    /// judged as a VCEK claim, and `snp.report-format` fails the others).
    pub fn claimed_by(f: &ReportFields) -> EndorsementKey {
        match f.signing_key() {
            SigningKey::Vlek => EndorsementKey::Vlek,
            _ => EndorsementKey::Vcek,
        }
    }

    /// `VCEK` or `VLEK`.
    pub fn name(self) -> &'static str {
        match self {
            EndorsementKey::Vcek => "VCEK",
            EndorsementKey::Vlek => "VLEK",
        }
    }

    /// The intermediate that signs it: `ASK` or `ASVK`.
    pub fn signer_name(self) -> &'static str {
        match self {
            EndorsementKey::Vcek => "ASK",
            EndorsementKey::Vlek => "ASVK",
        }
    }

    /// The certificate's subject CN (`SEV-VCEK`, `SEV-VLEK`).
    pub fn subject_cn(self) -> &'static str {
        match self {
            EndorsementKey::Vcek => "SEV-VCEK",
            EndorsementKey::Vlek => "SEV-VLEK",
        }
    }

    /// The signer's CN, which is also the certificate's issuer
    /// (`SEV-Milan`, `SEV-VLEK-Milan`).
    pub fn signer_cn(self, p: Product) -> String {
        match self {
            EndorsementKey::Vcek => p.ask_cn(),
            EndorsementKey::Vlek => format!("SEV-VLEK-{}", p.name()),
        }
    }

    /// The product an issuer CN names, for this kind.
    pub fn product_from_issuer(self, cn: &str) -> Option<Product> {
        match self {
            EndorsementKey::Vcek => Product::from_ask_cn(cn),
            EndorsementKey::Vlek => cn.strip_prefix("SEV-VLEK-").and_then(Product::from_name),
        }
    }

    pub fn other(self) -> EndorsementKey {
        match self {
            EndorsementKey::Vcek => EndorsementKey::Vlek,
            EndorsementKey::Vlek => EndorsementKey::Vcek,
        }
    }
}

impl fmt::Display for EndorsementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who signed a report (`KEY_INFO.SIGNING_KEY`, bits 4:2 at 0x48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKey {
    Vcek,
    Vlek,
    None,
    Reserved(u8),
}

/// A firmware version as the report states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FwVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u8,
}

impl fmt::Display for FwVersion {
    /// `1.54 build 6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{} build {}", self.major, self.minor, self.build)
    }
}

/// Offsets of the report fields (ABI 56860, `ATTESTATION_REPORT`).
pub mod offsets {
    pub const VERSION: usize = 0x00;
    pub const GUEST_SVN: usize = 0x04;
    pub const POLICY: usize = 0x08;
    pub const FAMILY_ID: usize = 0x10;
    pub const IMAGE_ID: usize = 0x20;
    pub const VMPL: usize = 0x30;
    pub const SIG_ALGO: usize = 0x34;
    pub const CURRENT_TCB: usize = 0x38;
    pub const PLAT_INFO: usize = 0x40;
    pub const KEY_INFO: usize = 0x48;
    pub const REPORT_DATA: usize = 0x50;
    pub const MEASUREMENT: usize = 0x90;
    pub const HOST_DATA: usize = 0xC0;
    pub const ID_KEY_DIGEST: usize = 0xE0;
    pub const AUTHOR_KEY_DIGEST: usize = 0x110;
    pub const REPORT_ID: usize = 0x140;
    pub const REPORT_ID_MA: usize = 0x160;
    pub const REPORTED_TCB: usize = 0x180;
    pub const CPUID: usize = 0x188;
    pub const CHIP_ID: usize = 0x1A0;
    pub const COMMITTED_TCB: usize = 0x1E0;
    pub const CURRENT_VERSION: usize = 0x1E8;
    pub const COMMITTED_VERSION: usize = 0x1EC;
    pub const LAUNCH_TCB: usize = 0x1F0;
    pub const SIGNATURE_R: usize = 0x2A0;
    pub const SIGNATURE_S: usize = 0x2E8;
}

/// Every field of an SNP attestation report, by offset (ABI 56860,
/// `ATTESTATION_REPORT`). TCB values stay raw: their layout depends on the
/// product line, which the report itself does not state before version 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFields {
    pub version: u32,
    pub guest_svn: u32,
    pub policy: u64,
    pub family_id: [u8; 16],
    pub image_id: [u8; 16],
    pub vmpl: u32,
    pub sig_algo: u32,
    pub current_tcb: [u8; 8],
    pub plat_info: u64,
    /// The 32-bit word at 0x48 (AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY).
    pub key_info: u32,
    pub report_data: [u8; 64],
    pub measurement: [u8; 48],
    pub host_data: [u8; 32],
    pub id_key_digest: [u8; 48],
    pub author_key_digest: [u8; 48],
    pub report_id: [u8; 32],
    pub report_id_ma: [u8; 32],
    pub reported_tcb: [u8; 8],
    /// CPUID family, model, stepping (versions 3+; zero before).
    pub cpuid: [u8; 3],
    pub chip_id: [u8; 64],
    pub committed_tcb: [u8; 8],
    pub current: FwVersion,
    pub committed: FwVersion,
    pub launch_tcb: [u8; 8],
    /// r and s, little-endian, 72 bytes each.
    pub sig_r: [u8; 72],
    pub sig_s: [u8; 72],
}

fn arr<const N: usize>(r: &[u8; REPORT_LEN], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    // Offsets are constants within REPORT_LEN.
    a.copy_from_slice(&r[off..off + N]);
    a
}

/// A must-be-zero range of the report: `(start, end, name)`.
pub type MbzRange = (usize, usize, &'static str);

impl ReportFields {
    pub fn parse(r: &[u8; REPORT_LEN]) -> ReportFields {
        let u32_at = |o| u32::from_le_bytes(arr::<4>(r, o));
        let u64_at = |o| u64::from_le_bytes(arr::<8>(r, o));
        ReportFields {
            version: u32_at(0x00),
            guest_svn: u32_at(0x04),
            policy: u64_at(0x08),
            family_id: arr(r, 0x10),
            image_id: arr(r, 0x20),
            vmpl: u32_at(0x30),
            sig_algo: u32_at(0x34),
            current_tcb: arr(r, 0x38),
            plat_info: u64_at(0x40),
            key_info: u32_at(0x48),
            report_data: arr(r, 0x50),
            measurement: arr(r, 0x90),
            host_data: arr(r, 0xC0),
            id_key_digest: arr(r, 0xE0),
            author_key_digest: arr(r, 0x110),
            report_id: arr(r, 0x140),
            report_id_ma: arr(r, 0x160),
            reported_tcb: arr(r, 0x180),
            cpuid: arr(r, 0x188),
            chip_id: arr(r, 0x1A0),
            committed_tcb: arr(r, 0x1E0),
            current: FwVersion {
                build: r[0x1E8],
                minor: r[0x1E9],
                major: r[0x1EA],
            },
            committed: FwVersion {
                build: r[0x1EC],
                minor: r[0x1ED],
                major: r[0x1EE],
            },
            launch_tcb: arr(r, 0x1F0),
            sig_r: arr(r, SIGNED_LEN),
            sig_s: arr(r, SIGNED_LEN + 72),
        }
    }

    /// AUTHOR_KEY_EN (bit 0 at 0x48).
    pub fn author_key_en(&self) -> bool {
        self.key_info & 1 != 0
    }

    /// MASK_CHIP_KEY (bit 1 at 0x48): CHIP_ID is zeroed.
    pub fn mask_chip_key(&self) -> bool {
        self.key_info & 2 != 0
    }

    pub fn signing_key(&self) -> SigningKey {
        match (self.key_info >> 2) & 7 {
            0 => SigningKey::Vcek,
            1 => SigningKey::Vlek,
            7 => SigningKey::None,
            n => SigningKey::Reserved(n as u8),
        }
    }

    /// Must-be-zero byte ranges for this report version (2–5), excluding
    /// the reserved bits of KEY_INFO and of the TCB fields (checked
    /// separately because they need bit/product knowledge).
    pub fn mbz_ranges(version: u32) -> Vec<MbzRange> {
        let mut v: Vec<MbzRange> = vec![(0x4C, 0x50, "reserved at 0x4C")];
        if version >= 3 {
            v.push((0x18B, 0x1A0, "reserved at 0x18B"));
        } else {
            v.push((0x188, 0x1A0, "reserved at 0x188"));
        }
        v.push((0x1EB, 0x1EC, "reserved at 0x1EB"));
        v.push((0x1EF, 0x1F0, "reserved at 0x1EF"));
        if version >= 5 {
            v.push((0x208, SIGNED_LEN, "reserved at 0x208"));
        } else {
            v.push((0x1F8, SIGNED_LEN, "reserved at 0x1F8"));
        }
        v.push((SIGNED_LEN + 144, REPORT_LEN, "signature reserved at 0x330"));
        v
    }
}

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

/// Parses a DER certificate, naming `what` in the error.
pub fn parse_cert(der: &[u8], what: &str) -> Result<Certificate, String> {
    Certificate::from_der(der).map_err(|e| format!("{what} is not a DER X.509 certificate: {e}"))
}

/// The exact `tbsCertificate` (or `tbsCertList`) bytes as signed: the first
/// element of the outer SEQUENCE, never a re-encoding.
pub fn tbs_bytes(der: &[u8]) -> Result<&[u8], String> {
    let mut r = der::SliceReader::new(der).map_err(|e| e.to_string())?;
    let outer = der::Header::decode(&mut r).map_err(|e| e.to_string())?;
    if outer.tag != der::Tag::Sequence {
        return Err("outer element is not a SEQUENCE".into());
    }
    r.tlv_bytes().map_err(|e| e.to_string())
}

/// The common name of a distinguished name, if exactly one is present.
pub fn common_name(name: &Name) -> Option<String> {
    let mut found = Vec::new();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            if atv.oid == oid::COMMON_NAME {
                let v = &atv.value;
                let s = der::asn1::Utf8StringRef::try_from(v)
                    .map(|s| s.as_str().to_string())
                    .or_else(|_| {
                        der::asn1::PrintableStringRef::try_from(v).map(|s| s.as_str().to_string())
                    })
                    .or_else(|_| {
                        der::asn1::Ia5StringRef::try_from(v).map(|s| s.as_str().to_string())
                    })
                    .ok()?;
                found.push(s);
            }
        }
    }
    if found.len() == 1 {
        found.pop()
    } else {
        None
    }
}

/// `notBefore`, `notAfter` of a certificate.
pub fn validity(c: &Certificate) -> Result<(OffsetDateTime, OffsetDateTime), String> {
    let v = &c.tbs_certificate.validity;
    Ok((x509_time(v.not_before)?, x509_time(v.not_after)?))
}

/// An X.509 time as an [`OffsetDateTime`].
pub fn x509_time(t: x509_cert::time::Time) -> Result<OffsetDateTime, String> {
    let secs = t.to_unix_duration().as_secs();
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| "time out of range".to_string())
}

fn hash_name(o: &ObjectIdentifier) -> String {
    if *o == oid::SHA384 {
        "SHA-384".into()
    } else if *o == oid::SHA1 {
        "SHA-1".into()
    } else if let Some(n) = const_oid::db::DB.by_oid(o) {
        n.to_string()
    } else {
        o.to_string()
    }
}

/// Checks that an algorithm identifier is RSASSA-PSS with SHA-384,
/// MGF1-SHA-384, salt length 48 and trailer field 1 (AMD's only scheme).
/// Absent parameters take their RFC 4055 defaults (SHA-1, salt 20), which
/// are then reported as what differs.
pub fn check_pss_params(alg: &AlgorithmIdentifierOwned) -> Result<(), String> {
    if alg.oid != oid::RSASSA_PSS {
        return Err(format!(
            "signature algorithm {}, expected RSASSA-PSS",
            const_oid::db::DB
                .by_oid(&alg.oid)
                .map(|s| s.to_string())
                .unwrap_or_else(|| alg.oid.to_string())
        ));
    }
    let params = alg
        .parameters
        .as_ref()
        .ok_or("RSASSA-PSS without parameters (defaults SHA-1/salt 20)")?;
    let der = params.to_der().map_err(|e| e.to_string())?;
    let p = pkcs1::RsaPssParams::from_der(&der)
        .map_err(|e| format!("RSASSA-PSS parameters do not parse: {e}"))?;
    let mut problems = Vec::new();
    let null_or_absent = |a: &Option<der::AnyRef>| match a {
        None => true,
        Some(x) => x.is_null(),
    };
    if p.hash.oid != oid::SHA384 || !null_or_absent(&p.hash.parameters) {
        problems.push(format!("hash {}, expected SHA-384", hash_name(&p.hash.oid)));
    }
    let mgf_hash = p.mask_gen.parameters.as_ref().map(|h| h.oid);
    if p.mask_gen.oid != oid::MGF1 || mgf_hash != Some(oid::SHA384) {
        problems.push(format!(
            "mask generation {} with {}, expected MGF1 with SHA-384",
            if p.mask_gen.oid == oid::MGF1 {
                "MGF1".to_string()
            } else {
                p.mask_gen.oid.to_string()
            },
            mgf_hash
                .map(|o| hash_name(&o))
                .unwrap_or_else(|| "no hash".into())
        ));
    }
    if p.salt_len != 48 {
        problems.push(format!("salt length {}, expected 48", p.salt_len));
    }
    if p.trailer_field != pkcs1::TrailerField::BC {
        problems.push("trailer field is not 1".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The RSA public key of a certificate (rsaEncryption SPKI).
pub fn rsa_public_key(c: &Certificate) -> Result<rsa::RsaPublicKey, String> {
    use rsa::pkcs8::DecodePublicKey;
    let spki = &c.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != oid::RSA_ENCRYPTION {
        return Err(format!(
            "public key algorithm {} is not RSA",
            spki.algorithm.oid
        ));
    }
    let der = spki.to_der().map_err(|e| e.to_string())?;
    rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| format!("RSA public key: {e}"))
}

/// Bit size of an RSA key.
pub fn rsa_bits(k: &rsa::RsaPublicKey) -> usize {
    use rsa::traits::PublicKeyParts;
    k.n().bits()
}

/// Verifies an RSASSA-PSS (SHA-384, salt 48) signature.
pub fn verify_pss(key: &rsa::RsaPublicKey, msg: &[u8], sig: &[u8]) -> Result<(), String> {
    use signature::Verifier;
    let vk = rsa::pss::VerifyingKey::<sha2::Sha384>::new_with_salt_len(key.clone(), 48);
    let s = rsa::pss::Signature::try_from(sig).map_err(|e| format!("signature value: {e}"))?;
    use rsa::traits::PublicKeyParts;
    // Memo key: len(n) || n || e (the length prefix keeps it unambiguous).
    let n = key.n().to_bytes_be();
    let mut k = (n.len() as u64).to_be_bytes().to_vec();
    k.extend_from_slice(&n);
    k.extend_from_slice(&key.e().to_bytes_be());
    if crate::util::memo_verify("rsassa-pss-sha384-salt48", &k, msg, sig, || {
        vk.verify(msg, &s).is_ok()
    }) {
        Ok(())
    } else {
        Err("RSASSA-PSS signature does not verify".to_string())
    }
}

/// Checks that `child_der` is signed by `parent`: the outer and inner
/// signature algorithms are equal and AMD's PSS parameters, and the
/// signature over the exact TBS bytes verifies with the parent's RSA key.
pub fn verify_cert_signature(child_der: &[u8], parent: &Certificate) -> Result<(), String> {
    let child = parse_cert(child_der, "certificate")?;
    if child.signature_algorithm != child.tbs_certificate.signature {
        return Err("signatureAlgorithm differs from tbsCertificate.signature".into());
    }
    check_pss_params(&child.signature_algorithm)?;
    let key = rsa_public_key(parent)?;
    let sig = child
        .signature
        .as_bytes()
        .ok_or("signature BIT STRING has unused bits")?;
    verify_pss(&key, tbs_bytes(child_der)?, sig)
}

/// The decoded BasicConstraints of a certificate: `None` when absent,
/// `Some((ca, path_len))` otherwise.
pub fn basic_constraints(c: &Certificate) -> Result<Option<(bool, Option<u8>)>, String> {
    let Some(e) = find_extension(c, &oid::BASIC_CONSTRAINTS)? else {
        return Ok(None);
    };
    let bc = x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes())
        .map_err(|e| format!("BasicConstraints does not parse: {e}"))?;
    Ok(Some((bc.ca, bc.path_len_constraint)))
}

/// Whether KeyUsage allows keyCertSign (`None` when the extension is absent).
pub fn key_cert_sign(c: &Certificate) -> Result<Option<bool>, String> {
    let Some(e) = find_extension(c, &oid::KEY_USAGE)? else {
        return Ok(None);
    };
    let ku = x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes())
        .map_err(|e| format!("KeyUsage does not parse: {e}"))?;
    Ok(Some(ku.key_cert_sign()))
}

/// The extension with `id`; more than one is an error.
pub fn find_extension<'a>(
    c: &'a Certificate,
    id: &ObjectIdentifier,
) -> Result<Option<&'a x509_cert::ext::Extension>, String> {
    let mut it = c
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| &e.extn_id == id);
    let first = it.next();
    if it.next().is_some() {
        return Err(format!("extension {id} appears more than once"));
    }
    Ok(first)
}

// ---------------------------------------------------------------------------
// VCEK extensions
// ---------------------------------------------------------------------------

/// The AMD extensions of a VCEK (1.3.6.1.4.1.3704.1.*). A field is `None`
/// when the extension is absent; a malformed one is a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VcekExtensions {
    pub struct_version: Option<u64>,
    pub product_name: Option<String>,
    pub bl_spl: Option<u8>,
    pub tee_spl: Option<u8>,
    pub snp_spl: Option<u8>,
    pub ucode_spl: Option<u8>,
    pub fmc_spl: Option<u8>,
    pub hwid: Option<Vec<u8>>,
    /// VLEK `CSP_ID` as found (raw: make it visible before printing).
    pub csp_id: Option<String>,
}

/// A CSP_ID value: AMD does not document its ASN.1 type, KDS-issued VLEKs
/// use a string; the three string types a CA would use are accepted.
fn csp_string(v: &[u8]) -> Result<String, der::Error> {
    if let Ok(s) = der::asn1::Utf8StringRef::from_der(v) {
        return Ok(s.as_str().to_string());
    }
    if let Ok(s) = der::asn1::Ia5StringRef::from_der(v) {
        return Ok(s.as_str().to_string());
    }
    der::asn1::PrintableStringRef::from_der(v).map(|s| s.as_str().to_string())
}

impl VcekExtensions {
    /// Reads the AMD extensions of `c`. Duplicated extensions and values
    /// that are not the documented ASN.1 type are errors.
    pub fn parse(c: &Certificate) -> Result<VcekExtensions, String> {
        let mut x = VcekExtensions::default();
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for e in c.tbs_certificate.extensions.iter().flatten() {
            let id = e.extn_id;
            if !id.to_string().starts_with(oid::AMD_PREFIX) {
                continue;
            }
            if seen.contains(&id) {
                return Err(format!("extension {id} appears more than once"));
            }
            seen.push(id);
            let v = e.extn_value.as_bytes();
            let spl = |name: &str| -> Result<u8, String> {
                u8::from_der(v).map_err(|_| format!("{name} ({id}) is not an INTEGER 0..=255"))
            };
            if id == oid::STRUCT_VERSION {
                x.struct_version = Some(
                    u64::from_der(v)
                        .map_err(|_| format!("structVersion ({id}) is not an INTEGER"))?,
                );
            } else if id == oid::PRODUCT_NAME {
                let s = der::asn1::Ia5StringRef::from_der(v)
                    .map_err(|_| format!("productName ({id}) is not an IA5String"))?;
                x.product_name = Some(s.as_str().to_string());
            } else if id == oid::BL_SPL {
                x.bl_spl = Some(spl("blSPL")?);
            } else if id == oid::TEE_SPL {
                x.tee_spl = Some(spl("teeSPL")?);
            } else if id == oid::SNP_SPL {
                x.snp_spl = Some(spl("snpSPL")?);
            } else if id == oid::UCODE_SPL {
                x.ucode_spl = Some(spl("ucodeSPL")?);
            } else if id == oid::FMC_SPL {
                x.fmc_spl = Some(spl("fmcSPL")?);
            } else if id == oid::HWID {
                x.hwid = Some(v.to_vec());
            } else if id == oid::CSP_ID {
                x.csp_id = Some(csp_string(v).map_err(|_| {
                    format!("CSP_ID ({id}) is not a UTF8String, IA5String or PrintableString")
                })?);
            }
        }
        Ok(x)
    }

    /// The TCB the VCEK certifies, naming every missing component.
    pub fn tcb(&self, product: Product) -> Result<Tcb, String> {
        let mut missing = Vec::new();
        let mut get = |v: Option<u8>, name: &str, id: &ObjectIdentifier| {
            if v.is_none() {
                missing.push(format!("{name} ({id})"));
            }
            v.unwrap_or(0)
        };
        let bl = get(self.bl_spl, "blSPL", &oid::BL_SPL);
        let tee = get(self.tee_spl, "teeSPL", &oid::TEE_SPL);
        let snp = get(self.snp_spl, "snpSPL", &oid::SNP_SPL);
        let ucode = get(self.ucode_spl, "ucodeSPL", &oid::UCODE_SPL);
        let fmc = if product == Product::Turin {
            Some(get(self.fmc_spl, "fmcSPL", &oid::FMC_SPL))
        } else {
            None
        };
        if !missing.is_empty() {
            return Err(format!("missing VCEK extension(s): {}", missing.join(", ")));
        }
        Ok(Tcb {
            fmc,
            bootloader: bl,
            tee,
            snp,
            microcode: ucode,
        })
    }
}

// ---------------------------------------------------------------------------
// Report signature
// ---------------------------------------------------------------------------

/// The VCEK's P-384 public key (id-ecPublicKey on secp384r1 only).
pub fn vcek_public_key(c: &Certificate) -> Result<p384::ecdsa::VerifyingKey, String> {
    let spki = &c.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
        return Err(format!(
            "VCEK public key algorithm {}, expected id-ecPublicKey",
            spki.algorithm.oid
        ));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    if curve != Some(oid::SECP384R1) {
        return Err(format!(
            "VCEK curve {}, expected secp384r1 (P-384)",
            curve
                .map(|c| c.to_string())
                .unwrap_or_else(|| "absent".into())
        ));
    }
    p384::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|_| "VCEK public key is not a valid P-384 point".to_string())
}

/// The report's ECDSA signature. r and s are 72-byte little-endian fields
/// of which only the low 48 bytes may be non-zero.
pub fn report_signature(f: &ReportFields) -> Result<p384::ecdsa::Signature, String> {
    let mut problems = Vec::new();
    if f.sig_r[48..].iter().any(|b| *b != 0) {
        problems.push("R bytes 48..72 are not zero");
    }
    if f.sig_s[48..].iter().any(|b| *b != 0) {
        problems.push("S bytes 48..72 are not zero");
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut r: Vec<u8> = f.sig_r[..48].to_vec();
    let mut s: Vec<u8> = f.sig_s[..48].to_vec();
    r.reverse();
    s.reverse();
    let r: [u8; 48] = r.try_into().map_err(|_| "R length")?;
    let s: [u8; 48] = s.try_into().map_err(|_| "S length")?;
    p384::ecdsa::Signature::from_scalars(r, s)
        .map_err(|_| "R or S is zero or not below the P-384 group order".to_string())
}

/// Verifies the report signature (ECDSA P-384 with SHA-384 over bytes
/// `[0, 0x2A0)`) with `key`.
pub fn verify_report(
    report: &[u8; REPORT_LEN],
    key: &p384::ecdsa::VerifyingKey,
) -> Result<(), String> {
    use signature::Verifier;
    let f = ReportFields::parse(report);
    let sig = report_signature(&f)?;
    key.verify(&report[..SIGNED_LEN], &sig)
        .map_err(|_| "ECDSA P-384/SHA-384 signature does not verify with the VCEK key".to_string())
}

// ---------------------------------------------------------------------------
// CRL
// ---------------------------------------------------------------------------

/// A parsed KDS CRL.
#[derive(Debug, Clone)]
pub struct Crl {
    pub list: CertificateList,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// Revoked serial numbers (big-endian magnitude, leading zeros removed).
    pub revoked: Vec<Vec<u8>>,
}

/// A serial number as canonical big-endian magnitude (no leading zeros).
pub fn serial_key(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

impl Crl {
    pub fn parse(der: &[u8]) -> Result<Crl, String> {
        let list =
            CertificateList::from_der(der).map_err(|e| format!("not a DER X.509 CRL: {e}"))?;
        let this_update = x509_time(list.tbs_cert_list.this_update)?;
        let next_update = match list.tbs_cert_list.next_update {
            Some(t) => Some(x509_time(t)?),
            None => None,
        };
        let revoked = list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| serial_key(r.serial_number.as_bytes()))
            .collect();
        Ok(Crl {
            list,
            this_update,
            next_update,
            revoked,
        })
    }

    /// Checks the CRL's signature by `ark` (PSS parameters and RSA) and that
    /// its issuer is the ARK's subject.
    pub fn verify(&self, der: &[u8], ark: &Certificate) -> Result<(), String> {
        if self.list.tbs_cert_list.issuer != ark.tbs_certificate.subject {
            return Err(format!(
                "CRL issuer {} is not the ARK {}",
                self.list.tbs_cert_list.issuer, ark.tbs_certificate.subject
            ));
        }
        if self.list.signature_algorithm != self.list.tbs_cert_list.signature {
            return Err("CRL signatureAlgorithm differs from tbsCertList.signature".into());
        }
        check_pss_params(&self.list.signature_algorithm)?;
        let key = rsa_public_key(ark)?;
        let sig = self
            .list
            .signature
            .as_bytes()
            .ok_or("CRL signature BIT STRING has unused bits")?;
        verify_pss(&key, tbs_bytes(der)?, sig).map_err(|e| format!("CRL: {e}"))
    }

    /// Whether `serial` (DER INTEGER content bytes) is listed.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        let k = serial_key(serial);
        self.revoked.contains(&k)
    }
}

// ---------------------------------------------------------------------------
// Chain analysis shared by the `amd` and `snp` families
// ---------------------------------------------------------------------------

/// The trust set's roots for one product, parsed.
#[derive(Debug, Clone)]
pub struct Roots {
    pub product: Product,
    pub ark_der: Vec<u8>,
    pub ask_der: Vec<u8>,
    pub ark: Certificate,
    pub ask: Certificate,
    /// The ASVK (VLEK signer), when the trust set has one for the product.
    pub asvk_der: Option<Vec<u8>>,
    pub asvk: Option<Certificate>,
}

impl Roots {
    /// The intermediate (DER, parsed) that signs `kind` for this product.
    pub fn signer(&self, kind: EndorsementKey) -> Option<(&[u8], &Certificate)> {
        match kind {
            EndorsementKey::Vcek => Some((&self.ask_der, &self.ask)),
            EndorsementKey::Vlek => self.asvk_der.as_deref().zip(self.asvk.as_ref()),
        }
    }
}

/// Parsed roots of every product the trust set anchors (unknown product
/// names and unparsable certificates are reported, never used).
pub fn trusted_roots(trust: &crate::trust::TrustSet) -> (Vec<Roots>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (name, r) in &trust.amd {
        let Some(product) = Product::from_name(name) else {
            problems.push(format!("trust set names unknown AMD product {name:?}"));
            continue;
        };
        let asvk = match &r.asvk {
            None => None,
            Some(d) => match parse_cert(d, &format!("trusted {name} ASVK")) {
                Ok(c) => Some(c),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
        };
        match (
            parse_cert(&r.ark, &format!("trusted {name} ARK")),
            parse_cert(&r.ask, &format!("trusted {name} ASK")),
        ) {
            (Ok(ark), Ok(ask)) => out.push(Roots {
                product,
                ark_der: r.ark.clone(),
                ask_der: r.ask.clone(),
                ark,
                ask,
                asvk_der: asvk.as_ref().and(r.asvk.clone()),
                asvk,
            }),
            (Err(e), _) | (_, Err(e)) => problems.push(e),
        }
    }
    (out, problems)
}

/// What the evidence says about the product line.
#[derive(Debug, Clone, Default)]
pub struct ProductFinding {
    /// The key kind the report claims (SIGNING_KEY): which intermediate
    /// (ASK or ASVK) `by_signature` tried.
    pub kind: Option<EndorsementKey>,
    /// Products whose intermediate of the *other* kind verifies the
    /// certificate (only looked for when `by_signature` is empty): a VCEK
    /// shipped with a report claiming a VLEK, or the reverse.
    pub by_other_kind: Vec<Product>,
    /// From CPUID family/model (report version 3+).
    pub by_cpuid: Option<Result<Product, String>>,
    /// From the VCEK issuer common name (`SEV-Genoa`).
    pub by_issuer: Option<Product>,
    /// The VCEK issuer common name as found.
    pub issuer_cn: Option<String>,
    /// The VCEK `productName` extension as found.
    pub product_name: Option<String>,
    /// Products whose trusted ASK key verifies the VCEK signature. Every
    /// trusted ASK is tried (not only the one the VCEK names as issuer), so
    /// that a mislabelled VCEK is reported with the ASK that really signed it.
    pub by_signature: Vec<Product>,
}

impl ProductFinding {
    /// Gathers every indication. `vcek` may be unparsable (then only CPUID
    /// speaks).
    pub fn gather(fields: &ReportFields, vcek_der: &[u8], roots: &[Roots]) -> ProductFinding {
        let mut f = ProductFinding::default();
        if fields.version >= 3 {
            let (fam, model) = (fields.cpuid[0], fields.cpuid[1]);
            f.by_cpuid = Some(Product::from_cpuid(fam, model).ok_or_else(|| {
                format!("CPUID family {fam:#04x} model {model:#04x} is no known SEV-SNP product")
            }));
        }
        let kind = EndorsementKey::claimed_by(fields);
        f.kind = Some(kind);
        if let Ok(vcek) = parse_cert(vcek_der, "VCEK") {
            f.issuer_cn = common_name(&vcek.tbs_certificate.issuer);
            f.by_issuer = f
                .issuer_cn
                .as_deref()
                .and_then(|cn| kind.product_from_issuer(cn));
            f.product_name = VcekExtensions::parse(&vcek)
                .ok()
                .and_then(|x| x.product_name);
            let signs = |k: EndorsementKey, r: &Roots| {
                r.signer(k)
                    .is_some_and(|(_, c)| verify_cert_signature(vcek_der, c).is_ok())
            };
            for r in roots {
                if signs(kind, r) {
                    f.by_signature.push(r.product);
                }
            }
            if f.by_signature.is_empty() {
                for r in roots {
                    if signs(kind.other(), r) {
                        f.by_other_kind.push(r.product);
                    }
                }
            }
        }
        f
    }

    /// The product every indication agrees on, or why there is none.
    pub fn decide(&self) -> Result<Product, String> {
        let kind = self.kind.unwrap_or(EndorsementKey::Vcek);
        let signed = match self.by_signature.as_slice() {
            [p] => *p,
            [] => {
                return Err(format!(
                    "no trusted {} verifies the {}{}",
                    kind.signer_name(),
                    kind.name(),
                    self.other_kind_note()
                ))
            }
            many => {
                return Err(format!(
                    "the VCEK verifies under several trusted ASKs ({})",
                    many.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                ))
            }
        };
        let mut problems = Vec::new();
        match &self.by_cpuid {
            Some(Ok(p)) if *p != signed => problems.push(format!(
                "CPUID says {p}, the {} is signed by the {signed} {}",
                kind.name(),
                kind.signer_name()
            )),
            Some(Err(e)) => problems.push(e.clone()),
            _ => {}
        }
        match self.by_issuer {
            Some(p) if p == signed => {}
            _ => problems.push(format!(
                "{} issuer CN {}, expected {}",
                kind.name(),
                self.issuer_cn.as_deref().unwrap_or("(none)"),
                kind.signer_cn(signed)
            )),
        }
        match &self.product_name {
            Some(n) if signed.matches_product_name(n) => {}
            Some(n) => problems.push(format!("VCEK productName {n:?} does not name {signed}")),
            None => problems.push(format!(
                "VCEK has no productName extension ({})",
                oid::PRODUCT_NAME
            )),
        }
        if problems.is_empty() {
            Ok(signed)
        } else {
            Err(problems.join("; "))
        }
    }

    /// `; it is signed by the Milan ASK: a VCEK` when the certificate
    /// chains as the other kind than the report claims, else empty.
    pub fn other_kind_note(&self) -> String {
        let kind = self.kind.unwrap_or(EndorsementKey::Vcek);
        match self.by_other_kind.as_slice() {
            [] => String::new(),
            ps => format!(
                "; it is signed by the {} {}: a {}, while the report's SIGNING_KEY claims a {}",
                ps.iter().map(|p| p.name()).collect::<Vec<_>>().join("/"),
                kind.other().signer_name(),
                kind.other().name(),
                kind.name()
            ),
        }
    }

    /// The product to decode TCB fields with: the decided one, else the
    /// best single indication (signature, CPUID, issuer), else `None`.
    pub fn best_guess(&self) -> Option<Product> {
        if let Ok(p) = self.decide() {
            return Some(p);
        }
        if let [p] = self.by_signature.as_slice() {
            return Some(*p);
        }
        // A certificate of the other kind than claimed still tells the
        // TCB layout (the claim mismatch fails `amd.chain`).
        if let [p] = self.by_other_kind.as_slice() {
            return Some(*p);
        }
        if let Some(Ok(p)) = &self.by_cpuid {
            return Some(*p);
        }
        self.by_issuer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::attestation::AttestationDocument;

    const DOC_2024: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

    #[test]
    fn real_vcek_extensions_and_fields() {
        let d = AttestationDocument::parse_json(DOC_2024).unwrap();
        let c = parse_cert(&d.vcek_der, "VCEK").unwrap();
        let x = VcekExtensions::parse(&c).unwrap();
        assert_eq!(x.product_name.as_deref(), Some("Genoa"));
        let tcb = x.tcb(Product::Genoa).unwrap();
        assert_eq!(tcb.to_string(), "bl 7 / tee 0 / snp 11 / ucode 62");
        let f = ReportFields::parse(&d.report);
        assert_eq!(Tcb::decode(f.reported_tcb, Product::Genoa), tcb);
        assert_eq!(x.hwid.as_deref(), Some(&f.chip_id[..]));
        assert_eq!(f.current.to_string(), "1.54 build 6");
        assert_eq!(f.signing_key(), SigningKey::Vcek);
        check_pss_params(&c.signature_algorithm).unwrap();
        let k = vcek_public_key(&c).unwrap();
        verify_report(&d.report, &k).unwrap();
        assert_eq!(
            common_name(&c.tbs_certificate.subject).as_deref(),
            Some("SEV-VCEK")
        );
    }

    #[test]
    fn real_aws_vlek_extensions_report_fields_and_signature() {
        let vlek = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/vlek.der");
        let report = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/report.bin");
        let d = AttestationDocument::from_raw(report, vlek).unwrap();
        let c = parse_cert(&d.vcek_der, "VLEK").unwrap();
        let x = VcekExtensions::parse(&c).unwrap();
        assert_eq!(x.csp_id.as_deref(), Some("CN=cc-us-east-2.amazonaws.com"));
        assert_eq!(x.product_name.as_deref(), Some("Milan"));
        assert_eq!(x.hwid, None);
        let f = ReportFields::parse(&d.report);
        assert_eq!(f.signing_key(), SigningKey::Vlek);
        assert_eq!(EndorsementKey::claimed_by(&f), EndorsementKey::Vlek);
        assert_eq!(
            x.tcb(Product::Milan).unwrap(),
            Tcb::decode(f.reported_tcb, Product::Milan)
        );
        assert_ne!(f.current_tcb, f.committed_tcb);
        assert_ne!(f.committed_tcb, f.reported_tcb);
        verify_report(&d.report, &vcek_public_key(&c).unwrap()).unwrap();
        assert_eq!(
            EndorsementKey::Vlek.product_from_issuer("SEV-VLEK-Milan"),
            Some(Product::Milan)
        );
        assert_eq!(EndorsementKey::Vlek.product_from_issuer("SEV-Milan"), None);
    }

    #[test]
    fn product_lines_from_cpuid_and_names() {
        assert_eq!(Product::from_cpuid(0x19, 0x01), Some(Product::Milan));
        assert_eq!(Product::from_cpuid(0x19, 0x11), Some(Product::Genoa));
        assert_eq!(Product::from_cpuid(0x19, 0xA0), Some(Product::Genoa));
        assert_eq!(Product::from_cpuid(0x1A, 0x02), Some(Product::Turin));
        assert_eq!(Product::from_cpuid(0x17, 0x31), None);
        assert!(Product::Milan.matches_product_name("Milan-B0"));
        assert!(Product::Genoa.matches_product_name("Genoa"));
        assert!(!Product::Genoa.matches_product_name("GenoaX"));
        assert!(!Product::Genoa.matches_product_name("Genoa-"));
        assert_eq!(Product::from_ask_cn("SEV-Turin"), Some(Product::Turin));
        assert_eq!(Product::from_ask_cn("ARK-Turin"), None);
    }

    #[test]
    fn turin_tcb_layout_differs() {
        let raw = [1, 2, 3, 4, 0, 0, 0, 9];
        let t = Tcb::decode(raw, Product::Turin);
        assert_eq!(t.to_string(), "fmc 1 / bl 2 / tee 3 / snp 4 / ucode 9");
        let g = Tcb::decode(raw, Product::Genoa);
        assert_eq!(g.to_string(), "bl 1 / tee 2 / snp 0 / ucode 9");
        assert!(g.le(&g));
        let lower = Tcb { snp: 0, ..t };
        assert_eq!(t.lower_components(&lower), vec!["snp 0 < 4"]);
    }

    #[test]
    fn serials_compare_without_leading_zeros() {
        assert_eq!(serial_key(&[0, 0, 2, 0]), vec![2, 0]);
        assert_eq!(serial_key(&[0]), Vec::<u8>::new());
    }
}
