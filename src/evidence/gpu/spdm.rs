//! The SPDM 1.1 GET_MEASUREMENTS exchange as NVIDIA's tooling serialises it
//! into `attestation_report_obj` (every field parsed into hex strings), or
//! as raw bytes in NVIDIA's interchange JSON — from Hopper and Blackwell
//! GPUs and from NVSwitches alike: the real B200 and LS10 samples are SPDM
//! 1.1 exchanges in exactly the Hopper layout, differing only in their
//! opaque field ids ([`COMMON_OPAQUE_FIELDS`], [`GPU_OPAQUE_FIELDS`], [`SWITCH_OPAQUE_FIELDS`]). SPDM 1.2
//! signs `hash(signing-context prefix ‖ transcript hash)` instead
//! (DSP0274 1.2 §15); no real 1.2 report exists to test such a path
//! against, so 1.2 and later are refused by version (fail closed). We
//! rebuild the exact bytes the GPU signed (DSP0274 1.1 §10.11: request
//! `L1 = GET_MEASUREMENTS ‖ MEASUREMENTS` without the signature) and verify
//! the raw `r ‖ s` ECDSA P-384 / SHA-384 signature with the leaf key of the
//! device certificate chain.
//!
//! Layout (multi-byte integers little-endian):
//! * request (37 bytes): `version code param1 param2 nonce[32] slot_id`
//! * response: `version code param1 param2 number_of_blocks u24:record_len
//!   record nonce[32] u16:opaque_len opaque signature[96]`
//! * each measurement block: `index (= list position + 1) spec = 0x01
//!   u16:size | dmtf_type = 0x01 u16:value_size value`
//! * opaque data: `{u16 type, u16 size, data}` in the JSON's key order, with
//!   NVIDIA's opaque field type ids; `OPAQUE_FIELD_ID_MSRSCNT` is a list of
//!   u32.

use serde_json::{Map, Value};

pub use super::DeviceKind;

/// SPDM version the profile accepts (1.1; 1.2 signs a different transcript).
pub const SPDM_VERSION: u8 = 0x11;
/// GET_MEASUREMENTS request code.
pub const GET_MEASUREMENTS: u8 = 0xE0;
/// MEASUREMENTS response code.
pub const MEASUREMENTS: u8 = 0x60;
/// Length of the raw `r ‖ s` P-384 signature.
pub const SIGNATURE_LEN: usize = 96;

/// NVIDIA's opaque data field type ids 1–21, the same on GPUs and NVSwitches
/// (nvtrust `OpaqueDataParser`, attestation SDK `GpuOpaqueDataType` and
/// `SwitchOpaqueDataType`).
pub const COMMON_OPAQUE_FIELDS: &[(u16, &str)] = &[
    (1, "OPAQUE_FIELD_ID_CERT_ISSUER_NAME"),
    (2, "OPAQUE_FIELD_ID_CERT_AUTHORITY_KEY_IDENTIFIER"),
    (3, "OPAQUE_FIELD_ID_DRIVER_VERSION"),
    (4, "OPAQUE_FIELD_ID_GPU_INFO"),
    (5, "OPAQUE_FIELD_ID_SKU"),
    (6, "OPAQUE_FIELD_ID_VBIOS_VERSION"),
    (7, "OPAQUE_FIELD_ID_MANUFACTURER_ID"),
    (8, "OPAQUE_FIELD_ID_TAMPER_DETECTION"),
    (9, "OPAQUE_FIELD_ID_SMC"),
    (10, "OPAQUE_FIELD_ID_VPR"),
    (11, "OPAQUE_FIELD_ID_NVDEC0_STATUS"),
    (12, "OPAQUE_FIELD_ID_MSRSCNT"),
    (13, "OPAQUE_FIELD_ID_CPRINFO"),
    (14, "OPAQUE_FIELD_ID_BOARD_ID"),
    (15, "OPAQUE_FIELD_ID_CHIP_SKU"),
    (16, "OPAQUE_FIELD_ID_CHIP_SKU_MOD"),
    (17, "OPAQUE_FIELD_ID_PROJECT"),
    (18, "OPAQUE_FIELD_ID_PROJECT_SKU"),
    (19, "OPAQUE_FIELD_ID_PROJECT_SKU_MOD"),
    (20, "OPAQUE_FIELD_ID_FWID"),
    (21, "OPAQUE_FIELD_ID_PROTECTED_PCIE_STATUS"),
];

/// GPU meanings of ids from 22 on. Ids 32–36 appear from Blackwell on (the
/// B200 sample carries 33 and 34).
pub const GPU_OPAQUE_FIELDS: &[(u16, &str)] = &[
    (22, "OPAQUE_FIELD_ID_SWITCH_PDI"),
    (23, "OPAQUE_FIELD_ID_FLOORSWEPT_PORTS"),
    (24, "OPAQUE_FIELD_ID_POSITION_ID"),
    (25, "OPAQUE_FIELD_ID_LOCK_SWITCH_STATUS"),
    (32, "OPAQUE_FIELD_ID_GPU_LINK_CONN"),
    (33, "OPAQUE_FIELD_ID_SYS_ENABLE_STATUS"),
    (34, "OPAQUE_FIELD_ID_OPAQUE_DATA_VERSION"),
    (35, "OPAQUE_FIELD_ID_CHIP_INFO"),
    (36, "OPAQUE_FIELD_ID_FEATURE_FLAG"),
];

/// NVSwitch meanings of ids 22–27 (22 is the switch's *own* PDI, where on a
/// GPU it lists the PDIs of the switches it is linked to).
pub const SWITCH_OPAQUE_FIELDS: &[(u16, &str)] = &[
    (22, "OPAQUE_FIELD_ID_DEVICE_PDI"),
    (23, "OPAQUE_FIELD_ID_DISABLED_PORTS"),
    (24, "OPAQUE_FIELD_ID_SWITCH_POSITION_ID"),
    (25, "OPAQUE_FIELD_ID_SWITCH_LOCK_STATUS"),
    (26, "OPAQUE_FIELD_ID_SWITCH_GPU_PDIS"),
    (27, "OPAQUE_FIELD_ID_SWITCH_PORTS"),
];

/// GPU: the PDIs (8 bytes each, one per NVLink, with repeats) of the
/// switches the GPU is linked to. Switch: the switch's own 8-byte PDI.
pub const OPAQUE_SWITCH_PDI: u16 = 22;
/// Switch only: the PDIs (8 bytes each) of the GPUs linked to it.
pub const OPAQUE_SWITCH_GPU_PDIS: u16 = 26;
/// GPU: `OPAQUE_FIELD_ID_OPAQUE_DATA_VERSION` (Blackwell on).
pub const OPAQUE_DATA_VERSION: u16 = 34;
/// GPU: `OPAQUE_FIELD_ID_SYS_ENABLE_STATUS` (Blackwell on).
pub const OPAQUE_SYS_ENABLE_STATUS: u16 = 33;
/// Length of one PDI entry.
pub const PDI_LEN: usize = 8;

/// The opaque field table of a device kind: ids 1–21, then its own.
pub fn opaque_fields(kind: DeviceKind) -> impl Iterator<Item = &'static (u16, &'static str)> {
    let own = match kind {
        DeviceKind::Gpu => GPU_OPAQUE_FIELDS,
        DeviceKind::Switch => SWITCH_OPAQUE_FIELDS,
    };
    COMMON_OPAQUE_FIELDS.iter().chain(own)
}

const DRIVER_VERSION: u16 = 3;
const VBIOS_VERSION: u16 = 6;
const FWID: u16 = 20;

/// The GET_MEASUREMENTS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub version: u8,
    pub code: u8,
    pub param1: u8,
    pub param2: u8,
    pub nonce: [u8; 32],
    pub slot_id: u8,
}

/// One opaque data field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueField {
    pub id: u16,
    pub name: &'static str,
    pub data: Vec<u8>,
}

/// The MEASUREMENTS response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub version: u8,
    pub code: u8,
    pub param1: u8,
    pub param2: u8,
    /// Measurement values; block `i` has SPDM index `i + 1`.
    pub blocks: Vec<Vec<u8>>,
    pub nonce: [u8; 32],
    pub opaque: Vec<OpaqueField>,
    pub signature: [u8; SIGNATURE_LEN],
}

/// A parsed `attestation_report_obj`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurements {
    /// Which NVIDIA device signed it: decides the opaque field names and
    /// how the firmware version field is read.
    pub device: DeviceKind,
    pub request: Request,
    pub response: Response,
}

fn field<'a>(o: &'a Map<String, Value>, prefix: &str, k: &str) -> Result<&'a Value, String> {
    o.get(k)
        .ok_or_else(|| format!("field `{prefix}.{k}` is missing"))
}

fn only_keys(o: &Map<String, Value>, prefix: &str, keys: &[&str]) -> Result<(), String> {
    for k in o.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(format!("field `{prefix}.{k}` is not expected here"));
        }
    }
    Ok(())
}

fn obj<'a>(v: &'a Value, name: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("field `{name}` is not an object"))
}

/// Decodes a hex string field of exactly `len` bytes (`None`: any length).
pub fn hex_field(v: &Value, name: &str, len: Option<usize>) -> Result<Vec<u8>, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("field `{name}` is not a string"))?;
    let b = hex::decode(s).map_err(|e| format!("field `{name}` is not hex: {e}"))?;
    if let Some(l) = len {
        if b.len() != l {
            return Err(format!("field `{name}` is {} bytes, expected {l}", b.len()));
        }
    }
    Ok(b)
}

fn byte(o: &Map<String, Value>, prefix: &str, k: &str) -> Result<u8, String> {
    let name = format!("{prefix}.{k}");
    Ok(hex_field(field(o, prefix, k)?, &name, Some(1))?[0])
}

fn nonce(o: &Map<String, Value>, prefix: &str) -> Result<[u8; 32], String> {
    let name = format!("{prefix}.nonce");
    let b = hex_field(field(o, prefix, "nonce")?, &name, Some(32))?;
    let mut n = [0u8; 32];
    n.copy_from_slice(&b);
    Ok(n)
}

fn uint(o: &Map<String, Value>, prefix: &str, k: &str, max: u64) -> Result<u64, String> {
    let n = field(o, prefix, k)?
        .as_u64()
        .ok_or_else(|| format!("field `{prefix}.{k}` is not an unsigned integer"))?;
    if n > max {
        return Err(format!("field `{prefix}.{k}` = {n} exceeds {max}"));
    }
    Ok(n)
}

impl Measurements {
    /// Parses `attestation_report_obj` strictly (unknown or missing fields,
    /// bad hex, inconsistent lengths are errors naming the field).
    pub fn parse(v: &Value, prefix: &str) -> Result<Measurements, String> {
        let o = obj(v, prefix)?;
        only_keys(o, prefix, &["request", "response"])?;
        let rp = format!("{prefix}.request");
        let rq = obj(field(o, prefix, "request")?, &rp)?;
        only_keys(
            rq,
            &rp,
            &[
                "spdm_version",
                "request_response_code",
                "param1",
                "param2",
                "nonce",
                "slot_id_param",
            ],
        )?;
        let request = Request {
            version: byte(rq, &rp, "spdm_version")?,
            code: byte(rq, &rp, "request_response_code")?,
            param1: byte(rq, &rp, "param1")?,
            param2: byte(rq, &rp, "param2")?,
            nonce: nonce(rq, &rp)?,
            slot_id: byte(rq, &rp, "slot_id_param")?,
        };
        if request.version != SPDM_VERSION {
            return Err(format!(
                "`{rp}.spdm_version` is {:#04x}; only SPDM 1.1 (0x11) is supported",
                request.version
            ));
        }
        if request.code != GET_MEASUREMENTS {
            return Err(format!(
                "`{rp}.request_response_code` is {:#04x}, expected GET_MEASUREMENTS (0xe0)",
                request.code
            ));
        }
        if request.param1 & 1 != 1 {
            return Err(format!(
                "`{rp}.param1` = {:#04x} does not request a signature",
                request.param1
            ));
        }
        if request.param2 != 0xFF {
            return Err(format!(
                "`{rp}.param2` = {:#04x}; the profile requires all measurement blocks (0xff)",
                request.param2
            ));
        }

        let sp = format!("{prefix}.response");
        let rs = obj(field(o, prefix, "response")?, &sp)?;
        only_keys(
            rs,
            &sp,
            &[
                "spdm_version",
                "request_response_code",
                "param1",
                "param2",
                "number_of_blocks",
                "measurement_record_length",
                "measurement_record",
                "nonce",
                "opaque_data_length",
                "opaque_data",
                "signature",
            ],
        )?;
        let version = byte(rs, &sp, "spdm_version")?;
        let code = byte(rs, &sp, "request_response_code")?;
        if version != SPDM_VERSION {
            return Err(format!(
                "`{sp}.spdm_version` is {version:#04x}; only SPDM 1.1 (0x11) is supported"
            ));
        }
        if code != MEASUREMENTS {
            return Err(format!(
                "`{sp}.request_response_code` is {code:#04x}, expected MEASUREMENTS (0x60)"
            ));
        }
        let nblocks = uint(rs, &sp, "number_of_blocks", 255)? as usize;
        let record_len = uint(rs, &sp, "measurement_record_length", 0xFF_FFFF)? as usize;
        let mp = format!("{sp}.measurement_record");
        let mr = obj(field(rs, &sp, "measurement_record")?, &mp)?;
        only_keys(mr, &mp, &["measurements"])?;
        let list = field(mr, &mp, "measurements")?
            .as_array()
            .ok_or_else(|| format!("field `{mp}.measurements` is not an array"))?;
        if list.len() != nblocks {
            return Err(format!(
                "`{mp}.measurements` has {} blocks but `{sp}.number_of_blocks` says {nblocks}",
                list.len()
            ));
        }
        let mut blocks = Vec::with_capacity(list.len());
        for (i, b) in list.iter().enumerate() {
            let v = hex_field(b, &format!("{mp}.measurements[{i}]"), None)?;
            if v.len() > 0xFFFF - 3 {
                return Err(format!("`{mp}.measurements[{i}]` is too long"));
            }
            blocks.push(v);
        }
        let actual_len: usize = blocks.iter().map(|b| 7 + b.len()).sum();
        if actual_len != record_len {
            return Err(format!(
                "`{sp}.measurement_record_length` says {record_len} bytes, the blocks make {actual_len}"
            ));
        }

        let op = format!("{sp}.opaque_data");
        let od = obj(field(rs, &sp, "opaque_data")?, &op)?;
        only_keys(od, &op, &["opaque_data"])?;
        let op2 = format!("{op}.opaque_data");
        let fields = obj(field(od, &op, "opaque_data")?, &op2)?;
        let mut opaque = Vec::new();
        for (k, v) in fields {
            let fname = format!("{op2}.{k}");
            let (id, name) = opaque_fields(DeviceKind::Gpu)
                .find(|(_, n)| n == k)
                .copied()
                .ok_or_else(|| format!("opaque field `{fname}` has no known type id"))?;
            let data = if id == 12 {
                let arr = v
                    .as_array()
                    .ok_or_else(|| format!("field `{fname}` is not an array"))?;
                let mut d = Vec::with_capacity(arr.len() * 4);
                for (i, x) in arr.iter().enumerate() {
                    let n = x
                        .as_u64()
                        .filter(|n| *n <= u32::MAX as u64)
                        .ok_or_else(|| format!("field `{fname}[{i}]` is not a u32"))?;
                    d.extend_from_slice(&(n as u32).to_le_bytes());
                }
                d
            } else {
                hex_field(v, &fname, None)?
            };
            if data.len() > 0xFFFF {
                return Err(format!("field `{fname}` is longer than 65535 bytes"));
            }
            opaque.push(OpaqueField { id, name, data });
        }
        let opaque_len = uint(rs, &sp, "opaque_data_length", 0xFFFF)? as usize;
        let actual: usize = opaque.iter().map(|f| 4 + f.data.len()).sum();
        if actual != opaque_len {
            return Err(format!(
                "`{sp}.opaque_data_length` says {opaque_len} bytes, the fields make {actual}"
            ));
        }
        let sig = hex_field(
            field(rs, &sp, "signature")?,
            &format!("{sp}.signature"),
            Some(SIGNATURE_LEN),
        )?;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&sig);
        let response = Response {
            version,
            code,
            param1: byte(rs, &sp, "param1")?,
            param2: byte(rs, &sp, "param2")?,
            blocks,
            nonce: nonce(rs, &sp)?,
            opaque,
            signature,
        };
        Ok(Measurements {
            device: DeviceKind::Gpu,
            request,
            response,
        })
    }

    /// Parses the raw bytes NVIDIA's tools exchange: the 37-byte SPDM 1.1
    /// GET_MEASUREMENTS request followed by the MEASUREMENTS response with
    /// its 96-byte `r ‖ s` signature. Strict: every length must add up, and
    /// the bytes must be exactly what [`Measurements::signed_message`]
    /// rebuilds from the parsed record (one interpretation: what is checked
    /// is what the GPU signed, byte for byte). SPDM 1.2 and later sign a
    /// different transcript and are refused by version.
    pub fn from_bytes(b: &[u8]) -> Result<Measurements, String> {
        Self::from_bytes_as(b, DeviceKind::Gpu)
    }

    /// [`Measurements::from_bytes`] for a given device kind: NVSwitch
    /// reports use the same SPDM 1.1 layout with the switch's own opaque
    /// field table ([`SWITCH_OPAQUE_FIELDS`]).
    pub fn from_bytes_as(b: &[u8], device: DeviceKind) -> Result<Measurements, String> {
        struct Cur<'a>(&'a [u8], usize);
        impl<'a> Cur<'a> {
            fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
                let end = self
                    .1
                    .checked_add(n)
                    .filter(|e| *e <= self.0.len())
                    .ok_or_else(|| {
                        format!("truncated at byte {} reading {what} ({n} bytes)", self.1)
                    })?;
                let s = &self.0[self.1..end];
                self.1 = end;
                Ok(s)
            }
            fn u8(&mut self, what: &str) -> Result<u8, String> {
                Ok(self.take(1, what)?[0])
            }
            fn u16(&mut self, what: &str) -> Result<usize, String> {
                let s = self.take(2, what)?;
                Ok(u16::from_le_bytes([s[0], s[1]]) as usize)
            }
        }
        let mut c = Cur(b, 0);
        let hdr = c.take(4, "request header")?;
        let mut nonce = [0u8; 32];
        nonce.copy_from_slice(c.take(32, "request nonce")?);
        let request = Request {
            version: hdr[0],
            code: hdr[1],
            param1: hdr[2],
            param2: hdr[3],
            nonce,
            slot_id: c.u8("request slot id")?,
        };
        if request.version != SPDM_VERSION || request.code != GET_MEASUREMENTS {
            return Err(format!(
                "the request is version {:#04x} code {:#04x}; expected SPDM 1.1 (0x11) GET_MEASUREMENTS (0xe0)",
                request.version, request.code
            ));
        }
        if request.param1 & 1 != 1 || request.param2 != 0xFF {
            return Err(format!(
                "the request has param1 {:#04x} param2 {:#04x}; the profile requires a signed report of all blocks (param1 bit 0, param2 0xff)",
                request.param1, request.param2
            ));
        }
        let rh = c.take(4, "response header")?;
        if rh[0] != SPDM_VERSION || rh[1] != MEASUREMENTS {
            return Err(format!(
                "the response is version {:#04x} code {:#04x}; expected SPDM 1.1 (0x11) MEASUREMENTS (0x60)",
                rh[0], rh[1]
            ));
        }
        let nblocks = c.u8("number of blocks")? as usize;
        let l = c.take(3, "measurement record length")?;
        let record_len = u32::from_le_bytes([l[0], l[1], l[2], 0]) as usize;
        let record = c.take(record_len, "measurement record")?;
        let mut r = Cur(record, 0);
        let mut blocks = Vec::with_capacity(nblocks);
        while r.1 < record.len() {
            let i = blocks.len();
            let _index = r.u8("block index")?;
            let _spec = r.u8("block specification")?;
            let size = r.u16("block size")?;
            let body = r.take(size, "block")?;
            if size < 3 {
                return Err(format!("measurement block {i} is {size} bytes, too short"));
            }
            let vsize = u16::from_le_bytes([body[1], body[2]]) as usize;
            if vsize + 3 != size {
                return Err(format!(
                    "measurement block {i}: value size {vsize} does not fit block size {size}"
                ));
            }
            blocks.push(body[3..].to_vec());
            if blocks.len() > 255 {
                return Err("more than 255 measurement blocks".into());
            }
        }
        if blocks.len() != nblocks {
            return Err(format!(
                "the record holds {} blocks but the response says {nblocks}",
                blocks.len()
            ));
        }
        let mut rnonce = [0u8; 32];
        rnonce.copy_from_slice(c.take(32, "response nonce")?);
        let olen = c.u16("opaque data length")?;
        let od = c.take(olen, "opaque data")?;
        let mut o = Cur(od, 0);
        let mut opaque = Vec::new();
        while o.1 < od.len() {
            let id = o.u16("opaque field type")? as u16;
            let size = o.u16("opaque field size")?;
            let data = o.take(size, "opaque field")?.to_vec();
            let name = opaque_fields(device)
                .find(|(i, _)| *i == id)
                .map(|(_, n)| *n)
                .ok_or_else(|| {
                    format!(
                        "opaque field type {id} is not a known NVIDIA {} field",
                        device.noun()
                    )
                })?;
            opaque.push(OpaqueField { id, name, data });
        }
        let sig = c.take(SIGNATURE_LEN, "signature")?;
        if c.1 != b.len() {
            return Err(format!("{} bytes follow the signature", b.len() - c.1));
        }
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(sig);
        let m = Measurements {
            device,
            request,
            response: Response {
                version: rh[0],
                code: rh[1],
                param1: rh[2],
                param2: rh[3],
                blocks,
                nonce: rnonce,
                opaque,
                signature,
            },
        };
        if m.signed_message() != b[..b.len() - SIGNATURE_LEN] {
            return Err("the report is not in the layout this verifier rebuilds (block index, specification or value type differ from NVIDIA's profile)".into());
        }
        Ok(m)
    }

    /// The exact bytes the GPU signed: request ‖ response without signature.
    pub fn signed_message(&self) -> Vec<u8> {
        let q = &self.request;
        let r = &self.response;
        let mut m = Vec::with_capacity(4096);
        m.extend_from_slice(&[q.version, q.code, q.param1, q.param2]);
        m.extend_from_slice(&q.nonce);
        m.push(q.slot_id);
        m.extend_from_slice(&[r.version, r.code, r.param1, r.param2]);
        // Lengths were bounded when parsing (≤ 255 blocks, record < 2^24).
        m.push(r.blocks.len() as u8);
        let record_len: usize = r.blocks.iter().map(|b| 7 + b.len()).sum();
        m.extend_from_slice(&(record_len as u32).to_le_bytes()[..3]);
        for (i, b) in r.blocks.iter().enumerate() {
            m.push((i + 1) as u8);
            m.push(0x01);
            m.extend_from_slice(&((b.len() + 3) as u16).to_le_bytes());
            m.push(0x01);
            m.extend_from_slice(&(b.len() as u16).to_le_bytes());
            m.extend_from_slice(b);
        }
        m.extend_from_slice(&r.nonce);
        let opaque_len: usize = r.opaque.iter().map(|f| 4 + f.data.len()).sum();
        m.extend_from_slice(&(opaque_len as u16).to_le_bytes());
        for f in &r.opaque {
            m.extend_from_slice(&f.id.to_le_bytes());
            m.extend_from_slice(&(f.data.len() as u16).to_le_bytes());
            m.extend_from_slice(&f.data);
        }
        m
    }

    /// Verifies the response signature with the leaf's SubjectPublicKeyInfo
    /// (DER, P-384).
    pub fn verify(&self, leaf_spki_der: &[u8]) -> Result<(), String> {
        use p384::pkcs8::DecodePublicKey;
        // The verification is `ring`'s (see `util::verify_p384_sha384`); on
        // a failure the key and signature are parsed again only to say why.
        if crate::util::verify_p384_sha384(
            leaf_spki_der,
            &self.signed_message(),
            &self.response.signature,
            true,
        ) {
            return Ok(());
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(leaf_spki_der)
            .map_err(|e| format!("the leaf certificate's key is not a P-384 key: {e}"))?;
        p384::ecdsa::Signature::from_slice(&self.response.signature)
            .map_err(|e| format!("malformed r‖s signature: {e}"))?;
        Err("the SPDM signature does not verify over the rebuilt GET_MEASUREMENTS request and MEASUREMENTS response".to_string())
    }

    /// The data of the opaque field with type `id` (first occurrence), as
    /// signed. Ids are per device kind ([`opaque_fields`]).
    pub fn opaque(&self, id: u16) -> Option<&[u8]> {
        self.response
            .opaque
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.data.as_slice())
    }

    /// `OPAQUE_FIELD_ID_FWID` (Hopper drivers from 550 on; absent before).
    pub fn fwid(&self) -> Option<&[u8]> {
        self.opaque(FWID)
    }

    /// The 8-byte PDI entries of an opaque field (`OPAQUE_SWITCH_PDI` on a
    /// GPU or a switch, `OPAQUE_SWITCH_GPU_PDIS` on a switch), in signed
    /// order with repeats; `None` when the field is absent. A field whose
    /// length is not a multiple of 8 is an error.
    pub fn pdis(&self, id: u16) -> Option<Result<Vec<[u8; PDI_LEN]>, String>> {
        let d = self.opaque(id)?;
        if d.len() % PDI_LEN != 0 {
            return Some(Err(format!(
                "opaque field {id} is {} bytes, not a list of {PDI_LEN}-byte PDIs",
                d.len()
            )));
        }
        Some(Ok(d
            .chunks_exact(PDI_LEN)
            .map(|c| {
                let mut a = [0u8; PDI_LEN];
                a.copy_from_slice(c);
                a
            })
            .collect()))
    }

    /// Driver version from the opaque data (NUL-terminated ASCII).
    pub fn driver_version(&self) -> Result<String, String> {
        let d = self
            .opaque(DRIVER_VERSION)
            .ok_or("the opaque data has no OPAQUE_FIELD_ID_DRIVER_VERSION")?;
        let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
        if d[end..].iter().any(|&b| b != 0) {
            return Err("OPAQUE_FIELD_ID_DRIVER_VERSION has bytes after its NUL".into());
        }
        let s = &d[..end];
        if s.is_empty() || !s.iter().all(|b| b.is_ascii_graphic()) {
            return Err("OPAQUE_FIELD_ID_DRIVER_VERSION is not printable ASCII".into());
        }
        Ok(String::from_utf8_lossy(s).into_owned())
    }

    /// VBIOS version from the opaque data, formatted as NVIDIA prints it:
    /// on a GPU, bytes 3.2.1.0.4 in upper-case hex (`96.00.74.00.1A`); on a
    /// switch the field is the switch-BIOS version as ASCII text
    /// (`96.10.55.00.01`), NUL padding allowed.
    pub fn vbios_version(&self) -> Result<String, String> {
        let d = self
            .opaque(VBIOS_VERSION)
            .ok_or("the opaque data has no OPAQUE_FIELD_ID_VBIOS_VERSION")?;
        if self.device == DeviceKind::Switch {
            let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
            let s = &d[..end];
            if s.is_empty()
                || s.len() > 32
                || d[end..].iter().any(|&b| b != 0)
                || !s.iter().all(|b| b.is_ascii_hexdigit() || *b == b'.')
            {
                return Err(format!(
                    "OPAQUE_FIELD_ID_VBIOS_VERSION ({} bytes) is not a switch-BIOS version in ASCII (hex digits and dots)",
                    d.len()
                ));
            }
            return Ok(String::from_utf8_lossy(s).to_ascii_uppercase());
        }
        match d {
            [b0, b1, b2, b3, b4, _, _, _] => {
                Ok(format!("{b3:02X}.{b2:02X}.{b1:02X}.{b0:02X}.{b4:02X}"))
            }
            _ => Err(format!(
                "OPAQUE_FIELD_ID_VBIOS_VERSION is {} bytes, expected 8",
                d.len()
            )),
        }
    }
}
