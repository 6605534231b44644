//! The attestation document served at
//! `/.well-known/appspecific/dev.blyss.enclave/attestation.json`.
//!
//! `cpu_attestation` is the serde output of the `#[repr(C)]` SNP report
//! struct of the `sev` crate 1.x–5.x, so its field order equals the ABI byte
//! order. We rebuild the exact 1184-byte report from it (every field, every
//! reserved byte), then hand it to `sev` for parsing. Any unknown, missing or
//! out-of-range field is an error naming the field: a lenient parser here
//! would let a document say one thing and sign another.

use base64::Engine;
use serde_json::{Map, Value};
use thiserror::Error;

/// Size of an SNP attestation report (ABI, all versions so far).
pub const REPORT_LEN: usize = 0x4A0;
/// Offset of the signature: the signed bytes are `[0, SIGNED_LEN)`.
pub const SIGNED_LEN: usize = 0x2A0;

/// Largest attestation document parsed (the real ones are about 64 KiB,
/// 20 KiB of it per RIM). A cap before `serde_json` builds a tree: a tree of
/// many tiny values costs tens of bytes per input byte, so 30 MiB of `[0,0,…`
/// would cost gigabytes; 4 MiB bounds it to well under the audit's memory
/// goal whatever the shape.
pub const MAX_DOC_BYTES: usize = 4 * 1024 * 1024;

/// Why an attestation document could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DocError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("the document is {len} bytes, more than the {MAX_DOC_BYTES} accepted")]
    TooLarge { len: usize },
    #[error("field `{0}` is missing")]
    Missing(String),
    #[error("field `{0}` is not expected here")]
    Unknown(String),
    #[error("field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
    #[error("report layout: field `{field}` lands at offset {actual:#x}, expected {expected:#x}")]
    Layout {
        field: String,
        expected: usize,
        actual: usize,
    },
}

fn invalid(field: &str, reason: impl Into<String>) -> DocError {
    DocError::Invalid {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Launch parameters the service publishes beside the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Exact kernel command line as published (with ` initrd=initrd`).
    pub kernel_cli: String,
    pub num_vcpus: u32,
}

/// A parsed attestation document.
#[derive(Debug, Clone)]
pub struct AttestationDocument {
    /// `cert_sha256_fingerprint` as published (hex).
    pub cert_sha256_fingerprint: Option<String>,
    /// The rebuilt 1184-byte SNP report.
    pub report: [u8; REPORT_LEN],
    /// VCEK DER (decoded from unpadded base64).
    pub vcek_der: Vec<u8>,
    pub launch: Option<Launch>,
    /// `gpu_attestation`, verbatim (key order preserved).
    pub gpu: Option<Value>,
    /// Which bundle member this came from.
    pub source: String,
}

impl AttestationDocument {
    /// Parses a served `attestation.json`.
    pub fn parse_json(bytes: &[u8]) -> Result<AttestationDocument, DocError> {
        if bytes.len() > MAX_DOC_BYTES {
            return Err(DocError::TooLarge { len: bytes.len() });
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| DocError::Json(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| invalid("(document)", "not a JSON object"))?;
        for k in obj.keys() {
            if !matches!(
                k.as_str(),
                "cert_sha256_fingerprint" | "cpu_attestation" | "gpu_attestation"
            ) {
                return Err(DocError::Unknown(k.clone()));
            }
        }
        let fp = match obj.get("cert_sha256_fingerprint") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(invalid("cert_sha256_fingerprint", "not a string")),
        };
        let cpu = obj
            .get("cpu_attestation")
            .ok_or_else(|| DocError::Missing("cpu_attestation".into()))?
            .as_object()
            .ok_or_else(|| invalid("cpu_attestation", "not an object"))?;
        let (report, vcek_der, launch) = parse_cpu(cpu)?;
        Ok(AttestationDocument {
            cert_sha256_fingerprint: fp,
            report,
            vcek_der,
            launch,
            gpu: obj.get("gpu_attestation").cloned().filter(|g| !g.is_null()),
            source: crate::evidence::layout::ATTESTATION.into(),
        })
    }

    /// Builds a document from a raw report and VCEK (snpguest output).
    pub fn from_raw(report: &[u8], vcek: &[u8]) -> Result<AttestationDocument, DocError> {
        let report: [u8; REPORT_LEN] = report.try_into().map_err(|_| {
            invalid(
                "report.bin",
                format!("{} bytes, expected {REPORT_LEN}", report.len()),
            )
        })?;
        let vcek_der = if vcek.starts_with(b"-----BEGIN") {
            let s = std::str::from_utf8(vcek).map_err(|_| invalid("vcek", "PEM is not UTF-8"))?;
            let (label, der) =
                der::pem::decode_vec(s.as_bytes()).map_err(|e| invalid("vcek", e.to_string()))?;
            if label != "CERTIFICATE" {
                return Err(invalid(
                    "vcek",
                    format!("PEM label {label}, expected CERTIFICATE"),
                ));
            }
            der
        } else {
            vcek.to_vec()
        };
        Ok(AttestationDocument {
            cert_sha256_fingerprint: None,
            report,
            vcek_der,
            launch: None,
            gpu: None,
            source: crate::evidence::layout::SNP_REPORT.into(),
        })
    }

    /// The report parsed by the `sev` crate.
    pub fn sev_report(&self) -> Result<sev::firmware::guest::AttestationReport, String> {
        use sev::parser::ByteParser;
        sev::firmware::guest::AttestationReport::from_bytes_with(&self.report, ())
            .map_err(|e| e.to_string())
    }

    /// `MEASUREMENT` (48 bytes at 0x90).
    pub fn measurement(&self) -> [u8; 48] {
        self.report[0x90..0xC0].try_into().expect("fixed slice")
    }

    /// `REPORT_DATA` (64 bytes at 0x50).
    pub fn report_data(&self) -> [u8; 64] {
        self.report[0x50..0x90].try_into().expect("fixed slice")
    }

    /// `CHIP_ID` (64 bytes at 0x1A0).
    pub fn chip_id(&self) -> [u8; 64] {
        self.report[0x1A0..0x1E0].try_into().expect("fixed slice")
    }

    /// Little-endian u32 at `off`.
    pub fn u32_at(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.report[off..off + 4].try_into().expect("fixed slice"))
    }

    /// Little-endian u64 at `off`.
    pub fn u64_at(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.report[off..off + 8].try_into().expect("fixed slice"))
    }
}

/// Writes JSON fields into report bytes in ABI order, tracking the offset.
struct Writer<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    out: Vec<u8>,
    seen: Vec<String>,
}

impl<'a> Writer<'a> {
    fn new(obj: &'a Map<String, Value>, prefix: &str) -> Self {
        Writer {
            obj,
            prefix: prefix.to_string(),
            out: Vec::with_capacity(REPORT_LEN),
            seen: Vec::new(),
        }
    }
    fn name(&self, f: &str) -> String {
        format!("{}{}", self.prefix, f)
    }
    fn get(&mut self, f: &str) -> Result<&'a Value, DocError> {
        self.seen.push(f.to_string());
        self.obj
            .get(f)
            .ok_or_else(|| DocError::Missing(self.name(f)))
    }
    fn uint(&mut self, f: &str, bytes: usize) -> Result<(), DocError> {
        let name = self.name(f);
        let v = self.get(f)?;
        let n = v
            .as_u64()
            .ok_or_else(|| invalid(&name, "not an unsigned integer"))?;
        if bytes < 8 && n >> (bytes * 8) != 0 {
            return Err(invalid(
                &name,
                format!("{n} does not fit in {bytes} byte(s)"),
            ));
        }
        self.out.extend_from_slice(&n.to_le_bytes()[..bytes]);
        Ok(())
    }
    fn array(&mut self, f: &str, len: usize) -> Result<(), DocError> {
        let name = self.name(f);
        let v = self.get(f)?;
        let arr = v.as_array().ok_or_else(|| invalid(&name, "not an array"))?;
        if arr.len() != len {
            return Err(invalid(
                &name,
                format!("{} elements, expected {len}", arr.len()),
            ));
        }
        for (i, x) in arr.iter().enumerate() {
            let b = x
                .as_u64()
                .filter(|b| *b <= 255)
                .ok_or_else(|| invalid(&format!("{name}[{i}]"), "not a byte (0..=255)"))?;
            self.out.push(b as u8);
        }
        Ok(())
    }
    fn tcb(&mut self, f: &str) -> Result<(), DocError> {
        let name = self.name(f);
        let v = self.get(f)?;
        let o = v
            .as_object()
            .ok_or_else(|| invalid(&name, "not an object"))?;
        let mut w = Writer::new(o, &format!("{name}."));
        w.uint("bootloader", 1)?;
        w.uint("tee", 1)?;
        w.array("_reserved", 4)?;
        w.uint("snp", 1)?;
        w.uint("microcode", 1)?;
        w.finish_exact()?;
        self.out.extend_from_slice(&w.out);
        Ok(())
    }
    fn at(&self, field: &str, expected: usize) -> Result<(), DocError> {
        if self.out.len() != expected {
            return Err(DocError::Layout {
                field: field.into(),
                expected,
                actual: self.out.len(),
            });
        }
        Ok(())
    }
    /// Rejects keys that were not consumed.
    fn finish_exact(&self) -> Result<(), DocError> {
        for k in self.obj.keys() {
            if !self.seen.iter().any(|s| s == k) {
                return Err(DocError::Unknown(self.name(k)));
            }
        }
        Ok(())
    }
}

type Cpu = ([u8; REPORT_LEN], Vec<u8>, Option<Launch>);

fn parse_cpu(cpu: &Map<String, Value>) -> Result<Cpu, DocError> {
    let mut w = Writer::new(cpu, "cpu_attestation.");
    w.uint("version", 4)?;
    w.uint("guest_svn", 4)?;
    w.uint("policy", 8)?;
    w.array("family_id", 16)?;
    w.array("image_id", 16)?;
    w.uint("vmpl", 4)?;
    w.uint("sig_algo", 4)?;
    w.tcb("current_tcb")?;
    w.uint("plat_info", 8)?;
    w.uint("_author_key_en", 4)?;
    w.uint("_reserved_0", 4)?;
    w.at("report_data", 0x50)?;
    w.array("report_data", 64)?;
    w.array("measurement", 48)?;
    w.array("host_data", 32)?;
    w.array("id_key_digest", 48)?;
    w.array("author_key_digest", 48)?;
    w.array("report_id", 32)?;
    w.array("report_id_ma", 32)?;
    w.tcb("reported_tcb")?;
    w.array("_reserved_1", 24)?;
    w.at("chip_id", 0x1A0)?;
    w.array("chip_id", 64)?;
    w.tcb("committed_tcb")?;
    w.uint("current_build", 1)?;
    w.uint("current_minor", 1)?;
    w.uint("current_major", 1)?;
    w.uint("_reserved_2", 1)?;
    w.uint("committed_build", 1)?;
    w.uint("committed_minor", 1)?;
    w.uint("committed_major", 1)?;
    w.uint("_reserved_3", 1)?;
    w.tcb("launch_tcb")?;
    w.array("_reserved_4", 168)?;
    w.at("signature", SIGNED_LEN)?;
    {
        let v = w.get("signature")?;
        let o = v
            .as_object()
            .ok_or_else(|| invalid("cpu_attestation.signature", "not an object"))?;
        let mut s = Writer::new(o, "cpu_attestation.signature.");
        s.array("r", 72)?;
        s.array("s", 72)?;
        s.array("_reserved", 368)?;
        s.finish_exact()?;
        w.out.extend_from_slice(&s.out);
    }
    w.at("(end of report)", REPORT_LEN)?;
    // Non-report fields.
    let vcek_b64 = w
        .get("vcek")?
        .as_str()
        .ok_or_else(|| invalid("cpu_attestation.vcek", "not a string"))?;
    let vcek_der = decode_b64_lenient(vcek_b64).map_err(|e| invalid("cpu_attestation.vcek", e))?;
    let launch = match cpu.get("launch") {
        None | Some(Value::Null) => {
            w.seen.push("launch".into());
            None
        }
        Some(_) => {
            let l = w
                .get("launch")?
                .as_object()
                .ok_or_else(|| invalid("cpu_attestation.launch", "not an object"))?;
            for k in l.keys() {
                if k != "kernel_cli" && k != "num_vcpus" {
                    return Err(DocError::Unknown(format!("cpu_attestation.launch.{k}")));
                }
            }
            let kernel_cli = l
                .get("kernel_cli")
                .ok_or_else(|| DocError::Missing("cpu_attestation.launch.kernel_cli".into()))?
                .as_str()
                .ok_or_else(|| invalid("cpu_attestation.launch.kernel_cli", "not a string"))?
                .to_string();
            let n = l
                .get("num_vcpus")
                .ok_or_else(|| DocError::Missing("cpu_attestation.launch.num_vcpus".into()))?
                .as_u64()
                .ok_or_else(|| {
                    invalid(
                        "cpu_attestation.launch.num_vcpus",
                        "not an unsigned integer",
                    )
                })?;
            if n == 0 || n > 512 {
                return Err(invalid(
                    "cpu_attestation.launch.num_vcpus",
                    format!("{n} is outside 1..=512"),
                ));
            }
            Some(Launch {
                kernel_cli,
                num_vcpus: n as u32,
            })
        }
    };
    w.finish_exact()?;
    let report: [u8; REPORT_LEN] = w.out.try_into().expect("length checked by at()");
    Ok((report, vcek_der, launch))
}

/// Base64 as the service publishes it: standard alphabet, padding optional.
fn decode_b64_lenient(s: &str) -> Result<Vec<u8>, String> {
    let trimmed = s.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|e| format!("not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_2024: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");
    const DOC_2023: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2023-12.json");

    #[test]
    fn real_documents_rebuild_to_reports_that_sev_parses() {
        for (doc, vcpus, m) in [(DOC_2024, 8, "1ee2a500"), (DOC_2023, 4, "a1eee53f")] {
            let d = AttestationDocument::parse_json(doc).unwrap();
            assert_eq!(d.launch.as_ref().unwrap().num_vcpus, vcpus);
            assert!(hex::encode(d.measurement()).starts_with(m));
            let r = d.sev_report().unwrap();
            assert_eq!(r.version, 2);
            assert_eq!(r.vmpl, 1);
            assert_eq!(hex::encode(r.measurement), hex::encode(d.measurement()));
        }
    }

    fn mutate(f: impl FnOnce(&mut Value)) -> Result<AttestationDocument, DocError> {
        let mut v: Value = serde_json::from_slice(DOC_2024).unwrap();
        f(&mut v);
        AttestationDocument::parse_json(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn wrong_array_length_names_the_field() {
        let e = mutate(|v| {
            v["cpu_attestation"]["measurement"]
                .as_array_mut()
                .unwrap()
                .pop();
        })
        .unwrap_err();
        assert!(e.to_string().contains("cpu_attestation.measurement"), "{e}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let e = mutate(|v| {
            v["cpu_attestation"]["extra"] = 1.into();
        })
        .unwrap_err();
        assert_eq!(e, DocError::Unknown("cpu_attestation.extra".into()));
    }

    #[test]
    fn missing_field_is_rejected() {
        let e = mutate(|v| {
            v["cpu_attestation"]
                .as_object_mut()
                .unwrap()
                .remove("chip_id");
        })
        .unwrap_err();
        assert_eq!(e, DocError::Missing("cpu_attestation.chip_id".into()));
    }

    #[test]
    fn out_of_range_number_is_rejected() {
        let e = mutate(|v| {
            v["cpu_attestation"]["current_tcb"]["snp"] = 256.into();
        })
        .unwrap_err();
        assert!(e.to_string().contains("current_tcb.snp"), "{e}");
        let e = mutate(|v| {
            v["cpu_attestation"]["vmpl"] = (1u64 << 32).into();
        })
        .unwrap_err();
        assert!(e.to_string().contains("vmpl"), "{e}");
    }

    #[test]
    fn nested_and_top_level_unknown_fields_are_named() {
        let e = mutate(|v| v["cpu_attestation"]["current_tcb"]["extra"] = 0.into()).unwrap_err();
        assert_eq!(
            e,
            DocError::Unknown("cpu_attestation.current_tcb.extra".into())
        );
        let e = mutate(|v| v["cpu_attestation"]["signature"]["x"] = 0.into()).unwrap_err();
        assert_eq!(e, DocError::Unknown("cpu_attestation.signature.x".into()));
        let e = mutate(|v| v["cpu_attestation"]["launch"]["initrd"] = 0.into()).unwrap_err();
        assert_eq!(e, DocError::Unknown("cpu_attestation.launch.initrd".into()));
        let e = mutate(|v| v["served_by"] = "x".into()).unwrap_err();
        assert_eq!(e, DocError::Unknown("served_by".into()));
    }

    #[test]
    fn wrong_types_and_values_name_the_field() {
        let e = mutate(|v| v["cpu_attestation"]["version"] = "2".into()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `cpu_attestation.version`: not an unsigned integer"
        );
        let e = mutate(|v| v["cpu_attestation"]["report_data"][0] = 256.into()).unwrap_err();
        assert!(
            e.to_string().contains("cpu_attestation.report_data[0]"),
            "{e}"
        );
        let e = mutate(|v| v["cpu_attestation"]["signature"]["r"][71] = (-1).into()).unwrap_err();
        assert!(
            e.to_string().contains("cpu_attestation.signature.r[71]"),
            "{e}"
        );
        let e = mutate(|v| v["cpu_attestation"]["launch"]["num_vcpus"] = 0.into()).unwrap_err();
        assert!(e.to_string().contains("num_vcpus"), "{e}");
        let e = mutate(|v| v["cpu_attestation"]["vcek"] = 5.into()).unwrap_err();
        assert_eq!(e.to_string(), "field `cpu_attestation.vcek`: not a string");
        let e = mutate(|v| v["cpu_attestation"]["vcek"] = "@@@@".into()).unwrap_err();
        assert!(e.to_string().contains("not base64"), "{e}");
    }

    #[test]
    fn padded_and_unpadded_vcek_decode_alike() {
        let a = AttestationDocument::parse_json(DOC_2024).unwrap();
        let b = mutate(|v| {
            let s = v["cpu_attestation"]["vcek"].as_str().unwrap().to_string();
            let pad = (4 - s.len() % 4) % 4;
            v["cpu_attestation"]["vcek"] = format!("{s}{}", "=".repeat(pad)).into();
        })
        .unwrap();
        assert_eq!(a.vcek_der, b.vcek_der);
        assert_eq!(a.report, b.report);
    }

    #[test]
    fn raw_import_checks_length_and_pem_label() {
        let d = AttestationDocument::parse_json(DOC_2024).unwrap();
        let e = AttestationDocument::from_raw(&d.report[..1000], &d.vcek_der).unwrap_err();
        assert!(e.to_string().contains("1000 bytes, expected 1184"), "{e}");
        let pem =
            der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &d.vcek_der).unwrap();
        let e = AttestationDocument::from_raw(&d.report, pem.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("PEM label PUBLIC KEY"), "{e}");
        let pem =
            der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &d.vcek_der).unwrap();
        let r = AttestationDocument::from_raw(&d.report, pem.as_bytes()).unwrap();
        assert_eq!(r.vcek_der, d.vcek_der);
        assert_eq!(r.report, d.report);
    }
}
