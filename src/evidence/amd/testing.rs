//! **TEST ONLY.** A synthetic SEV-SNP platform: test ARK/ASK roots
//! (RSA-4096, RSASSA-PSS SHA-384) and test VCEKs (P-384 with AMD's
//! extensions) for Milan, Genoa and Turin, plus helpers that sign reports,
//! issue VCEKs and CRLs with any content.
//!
//! Nothing here is trusted by the production trust set: the roots only
//! anchor anything when a test loads `fixtures/synthetic/test-trust.json`
//! (`--trust`), and every report produced under that trust set says
//! NON-PRODUCTION TRUST. All names carry `TEST-ONLY`.
//!
//! The committed fixtures under `fixtures/synthetic/` are produced by
//! [`generate`] (`cargo run --example gen_test_platform -- fixtures/synthetic`).
//! Keys are generated once (RSA-4096 is slow) from a deterministic,
//! label-seeded generator and then committed; [`generate`] reuses the key
//! files it finds, and everything else it writes (certificates, CRLs,
//! sample reports, trust file) is a deterministic function of those keys, so
//! a re-run reproduces the committed files byte for byte.
//!
//! Typical use in a test:
//!
//! ```no_run
//! use blyss_evidence::evidence::amd::{testing::TestPlatform, Product};
//! let p = TestPlatform::load(std::path::Path::new("fixtures/synthetic")).unwrap();
//! let mut report = p.report_template(Product::Genoa);
//! report[0x50..0x70].copy_from_slice(&[7u8; 32]); // REPORT_DATA
//! p.sign(Product::Genoa, &mut report);
//! let vcek_der = &p.vcek(Product::Genoa).der;
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use der::asn1::{BitString, Ia5StringRef, OctetString, UtcTime};
use der::{Decode, Encode};
use rand_core::{CryptoRng, RngCore};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use super::{offsets, oid, Product, Tcb};
use crate::evidence::attestation::{REPORT_LEN, SIGNED_LEN};

/// The products the test platform has roots for.
pub const PRODUCTS: [Product; 3] = [Product::Milan, Product::Genoa, Product::Turin];

/// RSASSA-PSS parameters exactly as AMD encodes them (SHA-384 with
/// explicit NULL, MGF1-SHA-384, salt 48, explicit trailer 1).
pub const AMD_PSS_PARAMS: [u8; 59] = [
    0x30, 0x39, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
    0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0xa2, 0x03, 0x02, 0x01, 0x30, 0xa3, 0x03, 0x02, 0x01, 0x01,
];

/// Not before of every test certificate: 2024-01-01T00:00:00Z.
pub const NOT_BEFORE: i64 = 1_704_067_200;
/// Not after of the test roots: 2049-01-01T00:00:00Z.
pub const ROOT_NOT_AFTER: i64 = 2_493_072_000;
/// Not after of the test VCEKs: 2031-01-01T00:00:00Z (seven years, as AMD).
pub const VCEK_NOT_AFTER: i64 = 1_925_078_400;
/// The test TCB every test VCEK certifies (the real Blyss values).
pub const TEST_TCB: Tcb = Tcb {
    fmc: None,
    bootloader: 7,
    tee: 0,
    snp: 11,
    microcode: 62,
};

/// A deterministic byte generator (SHA-512 in counter mode over a label).
/// **Not a secure RNG**: it exists so that test keys and signatures are
/// reproducible.
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
    buf: Vec<u8>,
}

impl TestRng {
    pub fn new(label: &[u8]) -> TestRng {
        TestRng {
            seed: Sha256::digest(label).into(),
            counter: 0,
            buf: Vec::new(),
        }
    }
}

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest.iter_mut() {
            if self.buf.is_empty() {
                let mut h = Sha512::new();
                h.update(self.seed);
                h.update(self.counter.to_le_bytes());
                self.counter += 1;
                self.buf = h.finalize().to_vec();
                self.buf.reverse();
            }
            *d = self.buf.pop().unwrap_or(0);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

fn lower(p: Product) -> String {
    p.name().to_ascii_lowercase()
}

/// A test distinguished name shaped like AMD's, marked TEST-ONLY.
pub fn amd_like_name(cn: &str) -> Name {
    use std::str::FromStr;
    Name::from_str(&format!(
        "CN={cn},O=TEST-ONLY Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering"
    ))
    .unwrap_or_default()
}

/// An X.509 time (UTCTime before 2050, GeneralizedTime after).
pub fn x509_time(unix: i64) -> Result<Time, String> {
    let d = Duration::from_secs(u64::try_from(unix).map_err(|_| "negative time")?);
    if unix < 2_524_608_000 {
        UtcTime::from_unix_duration(d)
            .map(Time::UtcTime)
            .map_err(|e| e.to_string())
    } else {
        der::asn1::GeneralizedTime::from_unix_duration(d)
            .map(Time::GeneralTime)
            .map_err(|e| e.to_string())
    }
}

fn pss_alg(params: &[u8]) -> Result<AlgorithmIdentifierOwned, String> {
    Ok(AlgorithmIdentifierOwned {
        oid: oid::RSASSA_PSS,
        parameters: Some(der::Any::from_der(params).map_err(|e| e.to_string())?),
    })
}

fn ext(
    id: const_oid::ObjectIdentifier,
    critical: bool,
    value: Vec<u8>,
) -> Result<Extension, String> {
    Ok(Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value).map_err(|e| e.to_string())?,
    })
}

/// RSASSA-PSS (SHA-384, salt 48) signature with a deterministic salt.
pub fn pss_sign(key: &RsaPrivateKey, msg: &[u8]) -> Vec<u8> {
    use signature::{RandomizedSigner, SignatureEncoding};
    let sk = rsa::pss::SigningKey::<Sha384>::new_with_salt_len(key.clone(), 48);
    let mut rng = TestRng::new(&[b"pss salt ".as_slice(), msg].concat());
    sk.sign_with_rng(&mut rng, msg).to_vec()
}

/// What a test certificate contains. `sig_params` lets negative tests use
/// other PSS parameters (the signature then uses them too where the rsa
/// crate can; see [`TestPlatform::sign_cert`]).
#[derive(Debug, Clone)]
pub struct CertSpec {
    pub serial: Vec<u8>,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: SubjectPublicKeyInfoOwned,
    pub extensions: Vec<Extension>,
    /// DER of the RSASSA-PSS parameters written into the certificate.
    pub sig_params: Vec<u8>,
}

/// Builds and signs a certificate (RSASSA-PSS SHA-384, salt 48) with `key`.
pub fn sign_cert(spec: &CertSpec, key: &RsaPrivateKey) -> Result<Vec<u8>, String> {
    let alg = pss_alg(&spec.sig_params)?;
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&spec.serial).map_err(|e| e.to_string())?,
        signature: alg.clone(),
        issuer: spec.issuer.clone(),
        validity: Validity {
            not_before: x509_time(spec.not_before)?,
            not_after: x509_time(spec.not_after)?,
        },
        subject: spec.subject.clone(),
        subject_public_key_info: spec.spki.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: if spec.extensions.is_empty() {
            None
        } else {
            Some(spec.extensions.clone())
        },
    };
    let tbs_der = tbs.to_der().map_err(|e| e.to_string())?;
    let sig = pss_sign(key, &tbs_der);
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig).map_err(|e| e.to_string())?,
    }
    .to_der()
    .map_err(|e| e.to_string())
}

fn rsa_spki(key: &RsaPrivateKey) -> Result<SubjectPublicKeyInfoOwned, String> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(|e| e.to_string())
}

fn ec_spki(key: &p384::ecdsa::SigningKey) -> Result<SubjectPublicKeyInfoOwned, String> {
    let der = key
        .verifying_key()
        .to_public_key_der()
        .map_err(|e| e.to_string())?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(|e| e.to_string())
}

/// Everything a test VCEK says; [`VcekSpec::standard`] gives the
/// well-formed one for a product, negative tests change fields.
#[derive(Debug, Clone)]
pub struct VcekSpec {
    pub product: Product,
    /// Issuer CN (`SEV-Genoa`).
    pub issuer_cn: String,
    pub subject_cn: String,
    pub serial: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub tcb: Tcb,
    /// `productName` value; `None` omits the extension.
    pub product_name: Option<String>,
    /// `hwID` value; `None` omits the extension.
    pub hwid: Option<Vec<u8>>,
    /// Extension OIDs to leave out (e.g. [`oid::SNP_SPL`]).
    pub omit: Vec<const_oid::ObjectIdentifier>,
    /// Extra extensions appended as they are.
    pub extra: Vec<Extension>,
    /// RSASSA-PSS parameters written into the certificate (the signature
    /// itself is always SHA-384/salt 48).
    pub pss_params: Vec<u8>,
}

impl VcekSpec {
    pub fn standard(product: Product) -> VcekSpec {
        let tcb = if product == Product::Turin {
            Tcb {
                fmc: Some(1),
                ..TEST_TCB
            }
        } else {
            TEST_TCB
        };
        let chip = chip_id(product);
        VcekSpec {
            product,
            issuer_cn: product.ask_cn(),
            subject_cn: "SEV-VCEK".into(),
            serial: vec![0],
            not_before: NOT_BEFORE,
            not_after: VCEK_NOT_AFTER,
            tcb,
            product_name: Some(product.name().to_string()),
            hwid: Some(chip[..product.hwid_len()].to_vec()),
            omit: Vec::new(),
            extra: Vec::new(),
            pss_params: AMD_PSS_PARAMS.to_vec(),
        }
    }
}

/// The test chip id of a product (64 bytes; Turin: 8 bytes then zeros).
pub fn chip_id(product: Product) -> [u8; 64] {
    let h = Sha512::digest(format!("blyss-evidence TEST-ONLY chip {}", product.name()));
    let mut id = [0u8; 64];
    let n = product.hwid_len();
    id[..n].copy_from_slice(&h[..n]);
    id
}

/// The deterministic P-384 key of a product's test VCEK.
pub fn vcek_key(product: Product) -> p384::ecdsa::SigningKey {
    let mut i: u32 = 0;
    loop {
        let h = Sha384::digest(format!(
            "blyss-evidence TEST-ONLY VCEK key {} {i}",
            product.name()
        ));
        if let Ok(k) = p384::ecdsa::SigningKey::from_slice(&h) {
            return k;
        }
        i += 1;
    }
}

/// Signs a report in place with `key`: ECDSA P-384/SHA-384 (RFC 6979) over
/// bytes `[0, 0x2A0)`, r and s written little-endian into 72-byte fields,
/// the rest of the signature area zeroed.
pub fn sign_report(report: &mut [u8; REPORT_LEN], key: &p384::ecdsa::SigningKey) {
    use signature::Signer;
    let sig: p384::ecdsa::Signature = key.sign(&report[..SIGNED_LEN]);
    let (r, s) = sig.split_bytes();
    for b in report[SIGNED_LEN..].iter_mut() {
        *b = 0;
    }
    for (i, b) in r.iter().rev().enumerate() {
        report[offsets::SIGNATURE_R + i] = *b;
    }
    for (i, b) in s.iter().rev().enumerate() {
        report[offsets::SIGNATURE_S + i] = *b;
    }
}

/// One product's test roots and VCEK.
#[derive(Debug, Clone)]
pub struct TestProduct {
    pub product: Product,
    pub ark_key: RsaPrivateKey,
    pub ask_key: RsaPrivateKey,
    pub ark_der: Vec<u8>,
    pub ask_der: Vec<u8>,
    pub vcek_key: p384::ecdsa::SigningKey,
    pub vcek_der: Vec<u8>,
}

/// The test VCEK of a product, as tests use it.
pub struct VcekRef<'a> {
    pub key: &'a p384::ecdsa::SigningKey,
    pub der: &'a [u8],
}

/// The whole synthetic platform, loaded from `fixtures/synthetic/`.
#[derive(Debug, Clone)]
pub struct TestPlatform {
    pub dir: PathBuf,
    pub products: Vec<TestProduct>,
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
}

fn pem_to_der(pem: &[u8], what: &str) -> Result<Vec<u8>, String> {
    let s = std::str::from_utf8(pem).map_err(|_| format!("{what}: not UTF-8"))?;
    der::pem::decode_vec(s.as_bytes())
        .map(|(_, d)| d)
        .map_err(|e| format!("{what}: {e}"))
}

fn load_rsa(dir: &Path, name: &str) -> Result<RsaPrivateKey, String> {
    let pem = read(dir, name)?;
    let s = std::str::from_utf8(&pem).map_err(|_| format!("{name}: not UTF-8"))?;
    RsaPrivateKey::from_pkcs8_pem(s).map_err(|e| format!("{name}: {e}"))
}

/// File names of a product's fixtures.
pub fn file(product: Product, what: &str) -> String {
    format!("test-{}-{what}", lower(product))
}

impl TestPlatform {
    /// Loads the committed platform from `dir` (normally
    /// `<crate>/fixtures/synthetic`).
    pub fn load(dir: &Path) -> Result<TestPlatform, String> {
        let mut products = Vec::new();
        for p in PRODUCTS {
            products.push(TestProduct {
                product: p,
                ark_key: load_rsa(dir, &file(p, "ark.key.pem"))?,
                ask_key: load_rsa(dir, &file(p, "ask.key.pem"))?,
                ark_der: pem_to_der(&read(dir, &file(p, "ark.pem"))?, "ARK")?,
                ask_der: pem_to_der(&read(dir, &file(p, "ask.pem"))?, "ASK")?,
                vcek_key: vcek_key(p),
                vcek_der: read(dir, &file(p, "vcek.der"))?,
            });
        }
        Ok(TestPlatform {
            dir: dir.to_path_buf(),
            products,
        })
    }

    /// The test data of `product`.
    pub fn product(&self, product: Product) -> &TestProduct {
        // Every PRODUCTS entry is loaded by `load`.
        self.products
            .iter()
            .find(|t| t.product == product)
            .unwrap_or(&self.products[0])
    }

    /// The standard test VCEK of `product` (key and certificate).
    pub fn vcek(&self, product: Product) -> VcekRef<'_> {
        let t = self.product(product);
        VcekRef {
            key: &t.vcek_key,
            der: &t.vcek_der,
        }
    }

    /// The trust file naming these roots.
    pub fn trust_file(&self) -> PathBuf {
        self.dir.join("test-trust.json")
    }

    /// The (non-production) trust set anchoring these roots.
    pub fn trust_set(&self) -> Result<crate::trust::TrustSet, String> {
        crate::trust::TrustSet::load(&self.trust_file()).map_err(|e| e.to_string())
    }

    /// A well-formed unsigned report consistent with the product's standard
    /// VCEK: version 2 (3 with CPUID family 1Ah model 02h on Turin), VMPL 1,
    /// policy 0x30000, platform info 3, the VCEK's TCB in every TCB field,
    /// firmware 1.54 build 6, CHIP_ID = hwID. REPORT_DATA and MEASUREMENT are
    /// zero: fill them in, then [`TestPlatform::sign`].
    pub fn report_template(&self, product: Product) -> [u8; REPORT_LEN] {
        let spec = VcekSpec::standard(product);
        let mut r = [0u8; REPORT_LEN];
        let version: u32 = if product == Product::Turin { 3 } else { 2 };
        r[offsets::VERSION..offsets::VERSION + 4].copy_from_slice(&version.to_le_bytes());
        r[offsets::POLICY..offsets::POLICY + 8].copy_from_slice(&0x30000u64.to_le_bytes());
        r[offsets::VMPL..offsets::VMPL + 4].copy_from_slice(&1u32.to_le_bytes());
        r[offsets::SIG_ALGO..offsets::SIG_ALGO + 4].copy_from_slice(&1u32.to_le_bytes());
        r[offsets::PLAT_INFO..offsets::PLAT_INFO + 8].copy_from_slice(&3u64.to_le_bytes());
        let tcb = spec.tcb.encode(product);
        for off in [
            offsets::CURRENT_TCB,
            offsets::REPORTED_TCB,
            offsets::COMMITTED_TCB,
            offsets::LAUNCH_TCB,
        ] {
            r[off..off + 8].copy_from_slice(&tcb);
        }
        let rid = Sha256::digest(format!("blyss-evidence TEST-ONLY report id {product}"));
        r[offsets::REPORT_ID..offsets::REPORT_ID + 32].copy_from_slice(&rid);
        for b in r[offsets::REPORT_ID_MA..offsets::REPORT_ID_MA + 32].iter_mut() {
            *b = 0xFF;
        }
        if product == Product::Turin {
            r[offsets::CPUID..offsets::CPUID + 3].copy_from_slice(&[0x1A, 0x02, 0x01]);
        }
        r[offsets::CHIP_ID..offsets::CHIP_ID + 64].copy_from_slice(&chip_id(product));
        for off in [offsets::CURRENT_VERSION, offsets::COMMITTED_VERSION] {
            r[off..off + 3].copy_from_slice(&[6, 54, 1]);
        }
        r
    }

    /// Signs `report` with the product's standard test VCEK.
    pub fn sign(&self, product: Product, report: &mut [u8; REPORT_LEN]) {
        sign_report(report, &self.product(product).vcek_key);
    }

    /// Issues a VCEK from `spec`, signed by the test ASK of `signer`.
    /// Returns the certificate DER (the key is [`vcek_key`] of
    /// `spec.product`).
    pub fn issue_vcek(&self, spec: &VcekSpec, signer: Product) -> Result<Vec<u8>, String> {
        let t = self.product(signer);
        build_vcek(spec, &vcek_key(spec.product), &t.ask_key)
    }

    /// Issues a CRL signed by the test ARK of `product`, revoking `revoked`
    /// serial numbers (big-endian bytes).
    pub fn issue_crl(
        &self,
        product: Product,
        revoked: &[&[u8]],
        this_update: i64,
        next_update: i64,
    ) -> Result<Vec<u8>, String> {
        let t = self.product(product);
        build_crl(product, &t.ark_key, revoked, this_update, next_update)
    }
}

fn ark_spec(product: Product, key: &RsaPrivateKey) -> Result<CertSpec, String> {
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
    let name = amd_like_name(&product.ark_cn());
    Ok(CertSpec {
        serial: vec![0x7E, product as u8, 0x00],
        issuer: name.clone(),
        subject: name,
        not_before: NOT_BEFORE,
        not_after: ROOT_NOT_AFTER,
        spki: rsa_spki(key)?,
        extensions: vec![
            ext(
                oid::KEY_USAGE,
                true,
                KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                    .to_der()
                    .map_err(|e| e.to_string())?,
            )?,
            ext(
                oid::BASIC_CONSTRAINTS,
                false,
                BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                }
                .to_der()
                .map_err(|e| e.to_string())?,
            )?,
        ],
        sig_params: AMD_PSS_PARAMS.to_vec(),
    })
}

fn ask_spec(product: Product, key: &RsaPrivateKey) -> Result<CertSpec, String> {
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
    Ok(CertSpec {
        serial: vec![0x7E, product as u8, 0x01],
        issuer: amd_like_name(&product.ark_cn()),
        subject: amd_like_name(&product.ask_cn()),
        not_before: NOT_BEFORE,
        not_after: ROOT_NOT_AFTER,
        spki: rsa_spki(key)?,
        extensions: vec![
            ext(
                oid::KEY_USAGE,
                true,
                KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                    .to_der()
                    .map_err(|e| e.to_string())?,
            )?,
            ext(
                oid::BASIC_CONSTRAINTS,
                false,
                BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                }
                .to_der()
                .map_err(|e| e.to_string())?,
            )?,
        ],
        sig_params: AMD_PSS_PARAMS.to_vec(),
    })
}

/// Builds a VCEK certificate from `spec` for `key`, signed by `ask_key`.
pub fn build_vcek(
    spec: &VcekSpec,
    key: &p384::ecdsa::SigningKey,
    ask_key: &RsaPrivateKey,
) -> Result<Vec<u8>, String> {
    let e = |v: der::Result<Vec<u8>>| v.map_err(|e| e.to_string());
    let mut exts = vec![ext(oid::STRUCT_VERSION, false, e(1u8.to_der())?)?];
    if let Some(n) = &spec.product_name {
        let s = Ia5StringRef::new(n).map_err(|e| e.to_string())?;
        exts.push(ext(oid::PRODUCT_NAME, false, e(s.to_der())?)?);
    }
    let spl = |id, v: u8| ext(id, false, e(v.to_der())?);
    exts.push(spl(oid::BL_SPL, spec.tcb.bootloader)?);
    exts.push(spl(oid::TEE_SPL, spec.tcb.tee)?);
    for n in 4..=7u32 {
        let id = const_oid::ObjectIdentifier::new(&format!("1.3.6.1.4.1.3704.1.3.{n}"))
            .map_err(|e| e.to_string())?;
        exts.push(spl(id, 0)?);
    }
    exts.push(spl(oid::SNP_SPL, spec.tcb.snp)?);
    exts.push(spl(oid::UCODE_SPL, spec.tcb.microcode)?);
    if let Some(f) = spec.tcb.fmc {
        exts.push(spl(oid::FMC_SPL, f)?);
    }
    if let Some(h) = &spec.hwid {
        exts.push(ext(oid::HWID, false, h.clone())?);
    }
    exts.retain(|x| !spec.omit.contains(&x.extn_id));
    exts.extend(spec.extra.iter().cloned());
    let cert = CertSpec {
        serial: spec.serial.clone(),
        issuer: amd_like_name(&spec.issuer_cn),
        subject: amd_like_name(&spec.subject_cn),
        not_before: spec.not_before,
        not_after: spec.not_after,
        spki: ec_spki(key)?,
        extensions: exts,
        sig_params: spec.pss_params.clone(),
    };
    sign_cert(&cert, ask_key)
}

/// Builds a CRL for `product`'s ARK.
pub fn build_crl(
    product: Product,
    ark_key: &RsaPrivateKey,
    revoked: &[&[u8]],
    this_update: i64,
    next_update: i64,
) -> Result<Vec<u8>, String> {
    let alg = pss_alg(&AMD_PSS_PARAMS)?;
    let mut list = Vec::new();
    for s in revoked {
        list.push(RevokedCert {
            serial_number: SerialNumber::new(s).map_err(|e| e.to_string())?,
            revocation_date: x509_time(this_update)?,
            crl_entry_extensions: None,
        });
    }
    let tbs = TbsCertList {
        version: Version::V2,
        signature: alg.clone(),
        issuer: amd_like_name(&product.ark_cn()),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates: if list.is_empty() { None } else { Some(list) },
        crl_extensions: None,
    };
    let tbs_der = tbs.to_der().map_err(|e| e.to_string())?;
    let sig = pss_sign(ark_key, &tbs_der);
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig).map_err(|e| e.to_string())?,
    }
    .to_der()
    .map_err(|e| e.to_string())
}

fn cert_pem(der: &[u8]) -> Result<String, String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(|e| e.to_string())
}

/// Creates or reuses a product's RSA key file.
fn rsa_key_file(dir: &Path, name: &str, label: &str) -> Result<(RsaPrivateKey, bool), String> {
    if dir.join(name).exists() {
        return Ok((load_rsa(dir, name)?, false));
    }
    let mut rng = TestRng::new(label.as_bytes());
    let key = RsaPrivateKey::new(&mut rng, 4096).map_err(|e| e.to_string())?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    crate::util::write_atomic(&dir.join(name), pem.as_bytes()).map_err(|e| e.to_string())?;
    Ok((key, true))
}

/// Writes the whole test platform into `dir`: keys (only when missing),
/// certificates, cert chains (ASK then ARK, as KDS serves them), CRLs
/// valid 2024–2049 revoking nothing, a signed sample report per product,
/// a README and `test-trust.json`. Returns the files written, sorted.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut new_keys = Vec::new();
    let mut put = |name: String, data: &[u8]| -> Result<(), String> {
        let p = dir.join(&name);
        crate::util::write_atomic(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
        written.push(p);
        Ok(())
    };
    let mut trust = serde_json::Map::new();
    for p in PRODUCTS {
        let (ark_key, new_ark) = rsa_key_file(
            dir,
            &file(p, "ark.key.pem"),
            &format!("blyss-evidence TEST-ONLY ARK key {p}"),
        )?;
        let (ask_key, new_ask) = rsa_key_file(
            dir,
            &file(p, "ask.key.pem"),
            &format!("blyss-evidence TEST-ONLY ASK key {p}"),
        )?;
        if new_ark {
            new_keys.push(dir.join(file(p, "ark.key.pem")));
        }
        if new_ask {
            new_keys.push(dir.join(file(p, "ask.key.pem")));
        }
        let ark = sign_cert(&ark_spec(p, &ark_key)?, &ark_key)?;
        let ask = sign_cert(&ask_spec(p, &ask_key)?, &ark_key)?;
        let vk = vcek_key(p);
        let vcek = build_vcek(&VcekSpec::standard(p), &vk, &ask_key)?;
        let vk_pem = vk.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        put(file(p, "vcek.key.pem"), vk_pem.as_bytes())?;
        put(file(p, "ark.pem"), cert_pem(&ark)?.as_bytes())?;
        put(file(p, "ask.pem"), cert_pem(&ask)?.as_bytes())?;
        put(
            file(p, "cert_chain.pem"),
            format!("{}{}", cert_pem(&ask)?, cert_pem(&ark)?).as_bytes(),
        )?;
        put(file(p, "vcek.der"), &vcek)?;
        put(
            file(p, "crl.der"),
            &build_crl(p, &ark_key, &[], NOT_BEFORE, ROOT_NOT_AFTER)?,
        )?;
        let platform = TestPlatform {
            dir: dir.to_path_buf(),
            products: vec![TestProduct {
                product: p,
                ark_key,
                ask_key,
                ark_der: ark,
                ask_der: ask,
                vcek_key: vk,
                vcek_der: vcek,
            }],
        };
        let mut report = platform.report_template(p);
        let rd = Sha512::digest(format!("blyss-evidence TEST-ONLY report data {p}"));
        report[offsets::REPORT_DATA..offsets::REPORT_DATA + 64].copy_from_slice(&rd);
        let m = Sha384::digest(format!("blyss-evidence TEST-ONLY measurement {p}"));
        report[offsets::MEASUREMENT..offsets::MEASUREMENT + 48].copy_from_slice(&m);
        platform.sign(p, &mut report);
        put(file(p, "report.bin"), &report)?;
        trust.insert(
            p.name().to_string(),
            serde_json::json!({"ark": file(p, "ark.pem"), "ask": file(p, "ask.pem")}),
        );
    }
    let trust = serde_json::json!({
        "schema": crate::trust::SCHEMA,
        "name": "blyss-evidence TEST-ONLY synthetic SEV-SNP platform",
        "version": "1",
        "amd": trust,
    });
    let mut text = serde_json::to_string_pretty(&trust).map_err(|e| e.to_string())?;
    text.push('\n');
    put("test-trust.json".into(), text.as_bytes())?;
    put("README.md".into(), README.as_bytes())?;
    written.extend(new_keys);
    written.sort();
    Ok(written)
}

const README: &str = "# TEST-ONLY synthetic SEV-SNP platform

Everything in this directory is **test-only** and was generated by
`cargo run --example gen_test_platform -- fixtures/synthetic`
(`blyss_evidence::evidence::amd::testing::generate`). None of it is trusted
by the production trust set; it anchors something only under
`--trust fixtures/synthetic/test-trust.json`, and every audit that uses it
says NON-PRODUCTION TRUST.

Per product line (`milan`, `genoa`, `turin`):

| file | what |
| --- | --- |
| `test-<p>-ark.key.pem`, `test-<p>-ask.key.pem` | RSA-4096 private keys of the test ARK/ASK (PKCS#8). Generated once from a label-seeded deterministic generator, then committed; the generator reuses them. |
| `test-<p>-ark.pem`, `test-<p>-ask.pem` | test ARK (self-signed) and ASK certificates: RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48, AMD-like names marked `TEST-ONLY`, valid 2024-01-01 to 2049-01-01 |
| `test-<p>-cert_chain.pem` | ASK then ARK, as AMD KDS serves `cert_chain` |
| `test-<p>-vcek.key.pem`, `test-<p>-vcek.der` | the test VCEK (P-384) with AMD's extensions 1.3.6.1.4.1.3704.1.*: TCB bl 7 / tee 0 / snp 11 / ucode 62 (Turin also fmc 1), hwID = the test chip id, productName; valid 2024-01-01 to 2031-01-01 |
| `test-<p>-crl.der` | a CRL signed by the test ARK revoking nothing, valid 2024-01-01 to 2049-01-01 |
| `test-<p>-report.bin` | a signed 1184-byte report (v2; v3 on Turin) consistent with the VCEK |

`test-trust.json` (schema `blyss-evidence.trust/v1`) anchors the three root pairs.
Re-running the generator over this directory reproduces every file byte for
byte (a test checks this).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rng_is_deterministic_and_label_dependent() {
        let mut a = TestRng::new(b"x");
        let mut b = TestRng::new(b"x");
        let mut c = TestRng::new(b"y");
        let (mut x, mut y, mut z) = ([0u8; 100], [0u8; 100], [0u8; 100]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        c.fill_bytes(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn signed_report_verifies_and_r_s_tails_are_zero() {
        let key = vcek_key(Product::Genoa);
        let mut r = [0u8; REPORT_LEN];
        r[0] = 2;
        sign_report(&mut r, &key);
        let f = super::super::ReportFields::parse(&r);
        assert!(f.sig_r[48..].iter().all(|b| *b == 0));
        super::super::verify_report(&r, key.verifying_key()).unwrap();
        r[0x90] ^= 1;
        assert!(super::super::verify_report(&r, key.verifying_key()).is_err());
    }
}
