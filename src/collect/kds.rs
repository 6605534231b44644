//! AMD Key Distribution Service (KDS): the `cert_chain` (ASK + ARK, PEM),
//! the CRL (DER) and the VCEK (DER) for the report's chip id and reported
//! TCB, with the real URL shapes:
//!
//! * `{kds}/vcek/v1/{product}/cert_chain`
//! * `{kds}/vcek/v1/{product}/crl`
//! * Milan, Genoa: `{kds}/vcek/v1/{product}/{hex(chip_id[0..64])}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..`
//! * Turin: `{kds}/vcek/v1/Turin/{hex(chip_id[0..8])}?fmcSPL=..&blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..`
//!
//! A VLEK-signed report (KEY_INFO.SIGNING_KEY = 1, e.g. AWS EC2) has no
//! VCEK to fetch: the VLEK is loaded into the guest by the cloud provider
//! and comes with the guest's evidence (the document's `vcek` field). KDS
//! serves only its issuers, under the `vlek` tree:
//!
//! * `{kds}/vlek/v1/{product}/cert_chain` (ASVK then ARK, PEM)
//! * `{kds}/vlek/v1/{product}/crl` (the ASVK's CRL, signed by the ARK)
//!
//! They are stored under the same members as the VCEK tree's
//! (`amd/cert_chain.pem`, `amd/crl.der`); the audit reads them according to
//! the report's SIGNING_KEY (`checks::amd`), and the trust set's pinned
//! ASVKs stay the anchors. No `amd/vcek.der` is written for a VLEK report:
//! `amd.vcek-kds` is then not applicable, with that reason.
//!
//! REPORTED_TCB (8 bytes at 0x180) is laid out `bl|tee|rsvd×4|snp|ucode` on
//! Milan/Genoa and `fmc|bl|tee|rsvd×3|snp|ucode` on Turin. SPL values are
//! written as two-digit decimals, as AMD's own tools do.

use crate::evidence::attestation::AttestationDocument;
use crate::evidence::layout;

/// Size cap of one KDS answer (cert_chain, CRL, VCEK): each is a few KiB;
/// listed in `collect --help`.
pub const MAX_KDS_BYTES: u64 = 2 * 1024 * 1024;

use super::http::Request;
use super::{CollectCtx, Evidence};

/// Offset of REPORTED_TCB in the report.
const REPORTED_TCB: usize = 0x180;
/// Offset of KEY_INFO (SIGNING_KEY in bits 4:2) in the report.
const KEY_INFO: usize = 0x48;

/// Which KDS tree serves the report's issuers: `vcek` or `vlek`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdsTree {
    /// VCEK-signed (SIGNING_KEY 0): ASK chain, CRL and the chip's VCEK.
    Vcek,
    /// VLEK-signed (SIGNING_KEY 1): ASVK chain and CRL; no key to fetch.
    Vlek,
}

impl KdsTree {
    /// From the report's KEY_INFO.SIGNING_KEY. Anything but 1 is fetched
    /// as a VCEK report (`snp.report-format` fails reserved values; the
    /// collector still records what KDS has for the chip).
    pub fn of(doc: &AttestationDocument) -> KdsTree {
        if (doc.u32_at(KEY_INFO) >> 2) & 7 == 1 {
            KdsTree::Vlek
        } else {
            KdsTree::Vcek
        }
    }

    /// Path component of the KDS tree.
    pub fn path(self) -> &'static str {
        match self {
            KdsTree::Vcek => "vcek",
            KdsTree::Vlek => "vlek",
        }
    }
}

/// The product line a report comes from and how we know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `Milan`, `Genoa` or `Turin` (KDS path component).
    pub name: String,
    /// How it was determined (shown in warnings and progress).
    pub how: String,
}

/// Determines the product line: an explicit override, the report's CPUID
/// fields (report version ≥ 3), the issuer of the VCEK the document carries
/// (`SEV-Milan`…), or a Turin-shaped chip id (bytes 8..64 zero).
pub fn product_of(doc: &AttestationDocument, over: Option<&str>) -> Result<Product, String> {
    if let Some(p) = over {
        return normalise(p)
            .map(|name| Product {
                name,
                how: "--amd-product".into(),
            })
            .ok_or_else(|| format!("--amd-product {p:?}: expected Milan, Genoa or Turin"));
    }
    let version = doc.u32_at(0);
    if version >= 3 {
        let fam = doc.report[0x188];
        let model = doc.report[0x189];
        let name = match (fam, model) {
            (0x19, 0x00..=0x0F) => Some("Milan"),
            (0x19, 0x10..=0x1F) | (0x19, 0xA0..=0xAF) => Some("Genoa"),
            (0x1A, _) => Some("Turin"),
            _ => None,
        };
        if let Some(n) = name {
            return Ok(Product {
                name: n.into(),
                how: format!("report CPUID family {fam:#x} model {model:#x}"),
            });
        }
    }
    if let Some(n) = vcek_issuer_product(&doc.vcek_der) {
        return Ok(Product {
            name: n,
            how: "issuer of the document's VCEK".into(),
        });
    }
    let chip = doc.chip_id();
    if chip[8..].iter().all(|b| *b == 0) && chip[..8].iter().any(|b| *b != 0) {
        return Ok(Product {
            name: "Turin".into(),
            how: "chip id shape (8-byte hwID)".into(),
        });
    }
    Err("cannot tell the AMD product line from the report (version 2, no VCEK in the document); give --amd-product".into())
}

fn normalise(p: &str) -> Option<String> {
    let l = p.to_ascii_lowercase();
    for n in ["Milan", "Genoa", "Turin"] {
        if l == n.to_ascii_lowercase() {
            return Some(n.to_string());
        }
    }
    None
}

/// `SEV-Genoa` → `Genoa` from the VCEK's issuer common name
/// (`SEV-VLEK-Genoa` for a VLEK).
fn vcek_issuer_product(der: &[u8]) -> Option<String> {
    use der::Decode;
    let c = x509_cert::Certificate::from_der(der).ok()?;
    let issuer = c.tbs_certificate.issuer.to_string();
    for n in ["Milan", "Genoa", "Turin"] {
        if issuer.contains(&format!("SEV-{n}")) || issuer.contains(&format!("SEV-VLEK-{n}")) {
            return Some(n.to_string());
        }
    }
    None
}

fn base(kds: &str) -> &str {
    kds.trim_end_matches('/')
}

/// `{kds}/vcek/v1/{product}/cert_chain`.
pub fn cert_chain_url(kds: &str, product: &str) -> String {
    tree_cert_chain_url(kds, KdsTree::Vcek, product)
}

/// `{kds}/vcek/v1/{product}/crl`.
pub fn crl_url(kds: &str, product: &str) -> String {
    tree_crl_url(kds, KdsTree::Vcek, product)
}

/// `{kds}/{vcek|vlek}/v1/{product}/cert_chain`.
pub fn tree_cert_chain_url(kds: &str, tree: KdsTree, product: &str) -> String {
    format!("{}/{}/v1/{product}/cert_chain", base(kds), tree.path())
}

/// `{kds}/{vcek|vlek}/v1/{product}/crl`.
pub fn tree_crl_url(kds: &str, tree: KdsTree, product: &str) -> String {
    format!("{}/{}/v1/{product}/crl", base(kds), tree.path())
}

/// The VCEK URL for the report's chip id and REPORTED_TCB.
pub fn vcek_url(kds: &str, product: &str, doc: &AttestationDocument) -> String {
    let chip = doc.chip_id();
    let t: [u8; 8] = doc.report[REPORTED_TCB..REPORTED_TCB + 8]
        .try_into()
        .expect("fixed slice");
    if product == "Turin" {
        format!(
            "{}/vcek/v1/Turin/{}?fmcSPL={:02}&blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}",
            base(kds),
            hex::encode(&chip[..8]),
            t[0],
            t[1],
            t[2],
            t[3], // Turin TCB_VERSION: fmc, bl, tee, snp, reserved ×3, ucode
            t[7]
        )
    } else {
        format!(
            "{}/vcek/v1/{product}/{}?blSPL={:02}&teeSPL={:02}&snpSPL={:02}&ucodeSPL={:02}",
            base(kds),
            hex::encode(chip),
            t[0],
            t[1],
            t[6],
            t[7]
        )
    }
}

/// Media types accepted without a warning (AMD's KDS has served several).
const CHAIN_TYPES: &[&str] = &[
    "application/x-pem-file",
    "application/pem-certificate-chain",
    "application/octet-stream",
    "text/plain",
];
const CRL_TYPES: &[&str] = &[
    "application/pkix-crl",
    "application/x-pkcs7-crl",
    "application/octet-stream",
];
const VCEK_TYPES: &[&str] = &[
    "application/octet-stream",
    "application/pkix-cert",
    "application/x-x509-ca-cert",
];

/// Fetches chain, CRL and VCEK (for a VLEK report: ASVK chain and CRL
/// only) concurrently into `out` (paths from [`layout`]). Each failure is
/// recorded through [`Evidence::failed`].
///
/// Returns the VCEK it stored (the Tinfoil collector puts it in the
/// bundle it assembles).
pub fn collect(ctx: &CollectCtx, doc: &AttestationDocument, out: &Evidence) -> Option<Vec<u8>> {
    let product = match product_of(doc, ctx.options.amd_product.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            out.failed("AMD KDS", &ctx.options.kds_url, e);
            return None;
        }
    };
    let kds = ctx.options.kds_url.as_str();
    let tree = KdsTree::of(doc);
    let (chain_label, crl_label) = match tree {
        KdsTree::Vcek => ("AMD cert_chain", "AMD CRL"),
        KdsTree::Vlek => ("AMD VLEK cert_chain", "AMD VLEK CRL"),
    };
    let mut jobs: Vec<(&str, String, &str, &[&str], Validate)> = vec![
        (
            chain_label,
            tree_cert_chain_url(kds, tree, &product.name),
            layout::KDS_CERT_CHAIN,
            CHAIN_TYPES,
            validate_chain,
        ),
        (
            crl_label,
            tree_crl_url(kds, tree, &product.name),
            layout::KDS_CRL,
            CRL_TYPES,
            validate_crl,
        ),
    ];
    if tree == KdsTree::Vcek {
        jobs.push((
            "AMD VCEK",
            vcek_url(kds, &product.name, doc),
            layout::KDS_VCEK,
            VCEK_TYPES,
            validate_vcek,
        ));
    }
    let vcek: std::sync::Mutex<Option<Vec<u8>>> = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for (label, url, path, types, validate) in jobs {
            let vcek = &vcek;
            s.spawn(move || {
                let req = Request::get(url.clone()).max_bytes(MAX_KDS_BYTES);
                match ctx.fetch(label, &req) {
                    Ok(r) => {
                        if let Err(e) = validate(&r.body) {
                            out.failed(label, &url, format!("unusable response: {e}"));
                            return;
                        }
                        ctx.check_media_type(label, &r, types, out);
                        let rel = path.strip_prefix("evidence/").unwrap_or(path);
                        out.add_response(rel, &r, ctx.now());
                        if path == layout::KDS_VCEK {
                            *vcek.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.body);
                        }
                    }
                    Err(e) => out.failed_http(label, &e),
                }
            });
        }
    });
    vcek.into_inner().unwrap_or_else(|e| e.into_inner())
}

type Validate = fn(&[u8]) -> Result<(), String>;

fn validate_chain(b: &[u8]) -> Result<(), String> {
    let certs = crate::trust::parse_certs(b)?;
    if certs.len() != 2 {
        return Err(format!(
            "cert_chain holds {} certificate(s), expected 2 (ASK, ARK)",
            certs.len()
        ));
    }
    for c in &certs {
        parse_cert(c)?;
    }
    Ok(())
}

fn validate_crl(b: &[u8]) -> Result<(), String> {
    use der::Decode;
    x509_cert::crl::CertificateList::from_der(b)
        .map(|_| ())
        .map_err(|e| format!("not a DER CRL: {e}"))
}

fn validate_vcek(b: &[u8]) -> Result<(), String> {
    parse_cert(b)
}

fn parse_cert(b: &[u8]) -> Result<(), String> {
    use der::Decode;
    x509_cert::Certificate::from_der(b)
        .map(|_| ())
        .map_err(|e| format!("not a DER certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_2024: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

    #[test]
    fn genoa_vcek_url_uses_64_byte_hwid_and_reported_tcb() {
        let d = AttestationDocument::parse_json(DOC_2024).unwrap();
        let p = product_of(&d, None).unwrap();
        assert_eq!(p.name, "Genoa");
        let u = vcek_url("https://kdsintf.amd.com/", &p.name, &d);
        let hwid = hex::encode(d.chip_id());
        assert_eq!(
            u,
            format!("https://kdsintf.amd.com/vcek/v1/Genoa/{hwid}?blSPL=07&teeSPL=00&snpSPL=11&ucodeSPL=62")
        );
        assert_eq!(
            cert_chain_url("https://kdsintf.amd.com", "Genoa"),
            "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain"
        );
        assert_eq!(
            crl_url("https://kdsintf.amd.com", "Genoa"),
            "https://kdsintf.amd.com/vcek/v1/Genoa/crl"
        );
    }

    #[test]
    fn turin_vcek_url_uses_8_byte_hwid_and_fmc_spl() {
        let mut d = AttestationDocument::parse_json(DOC_2024).unwrap();
        // Turin TCB layout: fmc|bl|tee|snp|rsvd×3|ucode (TCB_VERSION of
        // family 1Ah in the SEV-SNP ABI; the sev crate decodes the same).
        // The reserved bytes are non-zero here so that reading one of them
        // as the SNP SPL shows in the URL.
        d.report[REPORTED_TCB..REPORTED_TCB + 8].copy_from_slice(&[1, 2, 3, 4, 9, 9, 9, 5]);
        let u = vcek_url("https://kds.example", "Turin", &d);
        let hwid = hex::encode(&d.chip_id()[..8]);
        assert_eq!(
            u,
            format!("https://kds.example/vcek/v1/Turin/{hwid}?fmcSPL=01&blSPL=02&teeSPL=03&snpSPL=04&ucodeSPL=05")
        );
    }

    #[test]
    fn turin_shaped_chip_id_without_vcek_means_turin() {
        let mut d = AttestationDocument::parse_json(DOC_2024).unwrap();
        d.vcek_der.clear();
        for b in &mut d.report[0x1A0 + 8..0x1E0] {
            *b = 0;
        }
        assert_eq!(product_of(&d, None).unwrap().name, "Turin");
        // A full 64-byte chip id and no VCEK: undecidable, say so.
        let mut d2 = AttestationDocument::parse_json(DOC_2024).unwrap();
        d2.vcek_der.clear();
        assert!(product_of(&d2, None).unwrap_err().contains("--amd-product"));
        assert_eq!(product_of(&d2, Some("milan")).unwrap().name, "Milan");
        assert!(product_of(&d2, Some("rome")).is_err());
    }

    #[test]
    fn vlek_signed_report_uses_the_vlek_tree_and_product_from_the_vlek_issuer() {
        let mut d = AttestationDocument::parse_json(DOC_2024).unwrap();
        assert_eq!(KdsTree::of(&d), KdsTree::Vcek);
        // SIGNING_KEY = 1 in KEY_INFO bits 4:2.
        d.report[KEY_INFO] = (d.report[KEY_INFO] & !0x1C) | (1 << 2);
        assert_eq!(KdsTree::of(&d), KdsTree::Vlek);
        assert_eq!(
            tree_cert_chain_url("https://kdsintf.amd.com/", KdsTree::Vlek, "Milan"),
            "https://kdsintf.amd.com/vlek/v1/Milan/cert_chain"
        );
        assert_eq!(
            tree_crl_url("https://kdsintf.amd.com", KdsTree::Vlek, "Milan"),
            "https://kdsintf.amd.com/vlek/v1/Milan/crl"
        );
        let vlek = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/vlek.der");
        assert_eq!(vcek_issuer_product(vlek).as_deref(), Some("Milan"));
    }

    #[test]
    fn validators_reject_garbage() {
        assert!(validate_vcek(b"<html>").is_err());
        assert!(validate_crl(b"<html>").is_err());
        assert!(
            validate_chain(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").is_err()
        );
    }
}
