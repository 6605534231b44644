//! NVIDIA's online services, for GPU evidence (issue 16, online parts):
//!
//! * the **RIM service** (`--fetch-rims`, default
//!   `https://rim.attestation.nvidia.com/v1/rim/{id}`): the driver and VBIOS
//!   reference manifests by the ids derived from the SIGNED SPDM report
//!   (`evidence::gpu::rim_service`), each answer stored exactly as received
//!   under `evidence/gpu/rims/<id>.json` (the audit unwraps the JSON
//!   envelope); for NVSwitches (`--switch-evidence`) the switch-BIOS RIM
//!   by the id derived from the signed switch-BIOS version and the LS10
//!   device chain (`rim_service::switch_bios_rim_id`). Only for devices
//!   from NVIDIA's interchange format: the Blyss
//!   document carries its RIMs inline. A RIM the service does not have
//!   (404) is recorded as a collection failure naming the id; the audit
//!   then fails `gpu.measurements` saying no RIM was supplied.
//! * the **OCSP responder** (`--fetch-ocsp`, default
//!   `https://ocsp.ndis.nvidia.com/`): one RFC 6960 request per certificate
//!   the responder covers, POSTed as `application/ocsp-request`, each
//!   answer stored as received (DER) under `evidence/gpu/ocsp/<name>.der`.
//!   Covered, for GPUs and NVSwitches alike: every certificate of each
//!   device chain but the per-boot FMC
//!   leaf (index 0, which has no OCSP entry) and the root; every
//!   certificate of each RIM's signing chain but the root. The CertID
//!   uses SHA-384 with NULL parameters, as NVIDIA's verifiers send and its
//!   responder echoes (seen in the real responses under
//!   `fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/`); no nonce
//!   extension, as NVIDIA's responder does not return one and the audit
//!   judges freshness by `thisUpdate`/`nextUpdate` against the evaluation
//!   time instead. A certificate shared by several devices or RIMs is asked
//!   once. The offline verifier (`evidence::gpu::ocsp`, `gpu.ocsp`) matches
//!   responses by CertID: the member name only has to be unique and stable
//!   (`<sha256(CertID)[..8] hex>-<serial hex>.der`).
//!
//! The request is built here with `der` primitives (a fixed four-level
//! SEQUENCE); the `x509-ocsp` crate would add a dependency for these
//! thirty lines and is not in the tree.

use std::collections::{BTreeMap, BTreeSet};

use der::{Decode, Encode};
use sha2::{Digest, Sha384};

use super::http::{HttpError, Request};
use super::{CollectCtx, Evidence};
use crate::evidence::gpu::rim::{Rim, RimKind};
use crate::evidence::gpu::rim_service::{self, Arch};
use crate::evidence::gpu::{nvidia, DeviceKind, GpuEvidence};

/// NVIDIA's RIM service (ids are appended).
pub const DEFAULT_RIM_SERVICE_URL: &str = "https://rim.attestation.nvidia.com/v1/rim/";
/// NVIDIA's OCSP responder.
pub const DEFAULT_OCSP_URL: &str = "https://ocsp.ndis.nvidia.com/";
/// Folder (under `evidence/`) of the OCSP responses.
pub const OCSP_DIR: &str = "gpu/ocsp/";
/// Size cap of one OCSP response (NVIDIA's are ≈ 1 KiB with the responder
/// certificate).
pub const MAX_OCSP_BYTES: u64 = 32 * 1024;
/// Most OCSP requests of one collection (8 GPUs × 3 + RIM chains fit).
pub const MAX_OCSP_REQUESTS: usize = 128;

/// What to fetch from NVIDIA's services.
#[derive(Debug, Clone)]
pub struct NvidiaOptions {
    /// `--fetch-rims`.
    pub fetch_rims: bool,
    /// `--rim-service-url` (ids are appended to it).
    pub rim_service_url: String,
    /// `--fetch-ocsp`.
    pub fetch_ocsp: bool,
    /// `--ocsp-url`.
    pub ocsp_url: String,
}

impl Default for NvidiaOptions {
    fn default() -> Self {
        NvidiaOptions {
            fetch_rims: false,
            rim_service_url: DEFAULT_RIM_SERVICE_URL.into(),
            fetch_ocsp: false,
            ocsp_url: DEFAULT_OCSP_URL.into(),
        }
    }
}

impl NvidiaOptions {
    /// Whether anything is to be fetched.
    pub fn any(&self) -> bool {
        self.fetch_rims || self.fetch_ocsp
    }
}

/// `{base}/{id}`.
pub fn rim_url(base: &str, id: &str) -> String {
    format!("{}/{id}", base.trim_end_matches('/'))
}

/// The RIM ids of one device with the signed version each stands for: a
/// GPU's driver and VBIOS RIMs, an NVSwitch's switch-BIOS RIM.
pub fn rim_ids(g: &GpuEvidence) -> Result<Vec<(String, String)>, String> {
    let m = g.measurements.as_ref().map_err(|e| e.clone())?;
    let chain = g.cert_chain.as_ref().map_err(|e| e.clone())?;
    match g.kind {
        DeviceKind::Gpu => {
            let arch = Arch::from_chain(chain)?;
            Ok(vec![
                (rim_service::driver_rim_id(m, arch)?, m.driver_version()?),
                (rim_service::vbios_rim_id(m)?, m.vbios_version()?),
            ])
        }
        DeviceKind::Switch => Ok(vec![(
            rim_service::switch_bios_rim_id(m, chain)?,
            m.vbios_version()?,
        )]),
    }
}

/// Fetches what `opts` asks for. `supplied_rims` are the (name, text) RIMs
/// already in the bundle (`--rim`): a version they cover is not fetched
/// (two RIMs for one version would make the audit refuse both).
pub fn collect(
    ctx: &CollectCtx,
    opts: &NvidiaOptions,
    gpus: &[GpuEvidence],
    supplied_rims: &[(String, String)],
    ev: &Evidence,
) {
    let mut rim_texts: Vec<(String, String)> = Vec::new();
    for g in gpus {
        // Inline RIMs of the Blyss document: their chains are covered by OCSP.
        if g.member.is_none() {
            for t in [&g.driver_rim, &g.vbios_rim].into_iter().flatten() {
                rim_texts.push((format!("{} (inline)", g.subject()), t.clone()));
            }
        }
    }
    for (n, t) in supplied_rims {
        if let Ok(x) = rim_service::unwrap(n, t) {
            rim_texts.push((n.clone(), x));
        }
    }
    if opts.fetch_rims {
        rim_texts.extend(fetch_rims(ctx, opts, gpus, supplied_rims, ev));
    }
    if opts.fetch_ocsp {
        fetch_ocsp(ctx, opts, gpus, &rim_texts, ev);
    }
}

/// Fetches the RIMs of the interchange GPUs; returns the unwrapped texts
/// of the ones stored.
fn fetch_rims(
    ctx: &CollectCtx,
    opts: &NvidiaOptions,
    gpus: &[GpuEvidence],
    supplied: &[(String, String)],
    ev: &Evidence,
) -> Vec<(String, String)> {
    let supplied_versions: BTreeSet<String> = supplied
        .iter()
        .filter_map(|(n, t)| rim_service::unwrap(n, t).ok())
        .filter_map(|t| Rim::parse(RimKind::Driver, &t).ok())
        .map(|r| r.version.to_ascii_uppercase())
        .collect();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    if !gpus.iter().any(|g| g.member.is_some()) {
        ev.warn(
            "--fetch-rims: no GPU or NVSwitch evidence from NVIDIA's interchange format (--gpu-evidence, --switch-evidence); no RIM fetched (a Blyss document carries its RIMs inline)",
        );
    }
    for g in gpus.iter().filter(|g| g.member.is_some()) {
        match rim_ids(g) {
            Ok(list) => {
                for (id, v) in list {
                    if supplied_versions.contains(&v.to_ascii_uppercase()) {
                        ev.warn(format!(
                            "{}: RIM {id} not fetched: a RIM for that version was supplied with --rim",
                            g.subject()
                        ));
                    } else {
                        ids.insert(id);
                    }
                }
            }
            Err(e) => ev.failed(
                &format!("the RIMs of {}", g.subject()),
                &opts.rim_service_url,
                format!("no RIM id can be derived: {e}"),
            ),
        }
    }
    let results: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for id in &ids {
            let results = &results;
            s.spawn(move || {
                let label = format!("NVIDIA RIM {id}");
                let url = rim_url(&opts.rim_service_url, id);
                let req = Request::get(url.clone())
                    .accept("application/json")
                    .max_bytes(rim_service::MAX_ENVELOPE as u64);
                match ctx.fetch(&label, &req) {
                    Ok(r) => {
                        let member = format!("{}{id}.json", nvidia::RIM_DIR);
                        let text = String::from_utf8_lossy(&r.body).into_owned();
                        let usable = rim_service::unwrap(&member, &text).and_then(|x| {
                            Rim::parse(RimKind::Driver, &x).map(|_| x)
                        });
                        match usable {
                            Ok(x) => {
                                ctx.check_media_type(&label, &r, &["application/json"], ev);
                                ev.add_response(&member, &r, ctx.now());
                                results
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push((member, x));
                            }
                            Err(e) => ev.failed(&label, &url, format!("unusable response: {e}")),
                        }
                    }
                    Err(HttpError::Status { status: 404, .. }) => ev.failed(
                        &label,
                        &url,
                        "not found (HTTP 404): NVIDIA's RIM service has no RIM for this version; the audit cannot compare the measurements",
                    ),
                    Err(e) => ev.failed_http(&label, &e),
                }
            });
        }
    });
    let mut out = results.into_inner().unwrap_or_else(|e| e.into_inner());
    out.sort();
    out
}

/// One certificate to ask about, with its issuer.
struct Query {
    /// Where it came from (`gpu0 device chain [1]`), for messages.
    what: String,
    cert_id: Vec<u8>,
    serial_hex: String,
}

/// RFC 6960 CertID (SHA-384, NULL parameters) of `cert` issued by `issuer`.
pub fn cert_id(cert_der: &[u8], issuer_der: &[u8]) -> Result<Vec<u8>, String> {
    let c = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| format!("certificate unreadable: {e}"))?;
    let i = x509_cert::Certificate::from_der(issuer_der)
        .map_err(|e| format!("issuer certificate unreadable: {e}"))?;
    if c.tbs_certificate.issuer != i.tbs_certificate.subject {
        return Err("the next certificate of the chain is not its issuer (names differ)".into());
    }
    let name = c
        .tbs_certificate
        .issuer
        .to_der()
        .map_err(|e| format!("issuer name: {e}"))?;
    let key = i
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let alg = tlv(
        0x30,
        &[
            // id-sha384 (2.16.840.1.101.3.4.2.2), NULL parameters.
            &[
                0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
            ][..],
            &[0x05, 0x00][..],
        ]
        .concat(),
    );
    let serial = c
        .tbs_certificate
        .serial_number
        .to_der()
        .map_err(|e| format!("serial: {e}"))?;
    Ok(tlv(
        0x30,
        &[
            alg,
            tlv(0x04, &Sha384::digest(&name)),
            tlv(0x04, &Sha384::digest(key)),
            serial,
        ]
        .concat(),
    ))
}

/// OCSPRequest { tbsRequest { requestList { Request { reqCert } } } },
/// no version (default v1), no requestor name, no extensions (no nonce).
pub fn ocsp_request(cert_id: &[u8]) -> Vec<u8> {
    tlv(0x30, &tlv(0x30, &tlv(0x30, &tlv(0x30, cert_id))))
}

/// A DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The certificates to ask about: device chains without the leaf and root,
/// RIM chains without the root; deduplicated by CertID.
fn queries(gpus: &[GpuEvidence], rims: &[(String, String)], ev: &Evidence) -> Vec<Query> {
    let mut chains: Vec<(String, Vec<Vec<u8>>, usize)> = Vec::new();
    for g in gpus {
        if let Ok(c) = &g.cert_chain {
            chains.push((format!("{} device chain", g.subject()), c.clone(), 1));
        }
    }
    for (n, t) in rims {
        match Rim::parse(RimKind::Driver, t) {
            Ok(r) => chains.push((format!("RIM {n} signing chain"), r.signature.certs, 0)),
            Err(e) => ev.warn(format!(
                "OCSP: the signing chain of RIM {n} is unreadable ({e}); no OCSP request for it"
            )),
        }
    }
    let mut seen: BTreeMap<Vec<u8>, ()> = BTreeMap::new();
    let mut out = Vec::new();
    for (what, chain, first) in chains {
        for i in first..chain.len().saturating_sub(1) {
            let label = format!("{what} [{i}]");
            match cert_id(&chain[i], &chain[i + 1]) {
                Ok(id) => {
                    if seen.insert(id.clone(), ()).is_none() {
                        let serial_hex = x509_cert::Certificate::from_der(&chain[i])
                            .map(|c| hex::encode(c.tbs_certificate.serial_number.as_bytes()))
                            .unwrap_or_default();
                        out.push(Query {
                            what: label,
                            cert_id: id,
                            serial_hex,
                        });
                    }
                }
                Err(e) => ev.warn(format!("OCSP: {label}: {e}; no OCSP request for it")),
            }
        }
    }
    out
}

/// The response is an OCSPResponse: SEQUENCE { ENUMERATED status, … }.
/// Judging it (signature, status, freshness) is the audit's work.
fn validate_ocsp(b: &[u8]) -> Result<(), String> {
    let any = der::asn1::AnyRef::from_der(b).map_err(|e| format!("not DER: {e}"))?;
    if der::Tagged::tag(&any) != der::Tag::Sequence {
        return Err("not a DER SEQUENCE (OCSPResponse)".into());
    }
    match any.value().first() {
        Some(0x0A) => Ok(()),
        _ => Err("the SEQUENCE does not start with an ENUMERATED responseStatus".into()),
    }
}

fn fetch_ocsp(
    ctx: &CollectCtx,
    opts: &NvidiaOptions,
    gpus: &[GpuEvidence],
    rims: &[(String, String)],
    ev: &Evidence,
) {
    let mut qs = queries(gpus, rims, ev);
    if qs.len() > MAX_OCSP_REQUESTS {
        ev.failed(
            "NVIDIA OCSP",
            &opts.ocsp_url,
            format!(
                "{} certificates to ask about, more than {MAX_OCSP_REQUESTS}; only the first {MAX_OCSP_REQUESTS} are asked",
                qs.len()
            ),
        );
        qs.truncate(MAX_OCSP_REQUESTS);
    }
    std::thread::scope(|s| {
        for q in &qs {
            s.spawn(move || {
                let label = format!("NVIDIA OCSP {}", q.what);
                let req = Request::post(
                    opts.ocsp_url.clone(),
                    "application/ocsp-request",
                    ocsp_request(&q.cert_id),
                )
                .accept("application/ocsp-response")
                .max_bytes(MAX_OCSP_BYTES);
                match ctx.fetch(&label, &req) {
                    Ok(r) => {
                        if let Err(e) = validate_ocsp(&r.body) {
                            ev.failed(&label, &opts.ocsp_url, format!("unusable response: {e}"));
                            return;
                        }
                        ctx.check_media_type(&label, &r, &["application/ocsp-response"], ev);
                        let h = crate::util::sha256_hex(&q.cert_id);
                        let name = format!("{OCSP_DIR}{}-{}.der", &h[..8], q.serial_hex);
                        ev.add_response(&name, &r, ctx.now());
                    }
                    Err(e) => ev.failed_http(&label, &e),
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
    const CHAIN: &str = include_str!(
        "../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/device_cert_chain.pem"
    );

    /// The CertID bytes a real NVIDIA response echoes (found inside it).
    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn cert_id_of_the_real_gh100_identity_certificate_is_the_one_nvidia_answered() {
        let chain = crate::trust::parse_certs(CHAIN.as_bytes()).unwrap();
        assert_eq!(chain.len(), 5);
        // L2 "NVIDIA GH100 Identity" (index 3) under the root (index 4).
        let id = cert_id(&chain[3], &chain[4]).unwrap();
        use base64::Engine;
        let t = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(DIR)
                .join("test_gpu_certificate_l2_base64encoded_ocsp_response.dat"),
        )
        .unwrap();
        let resp = base64::engine::general_purpose::STANDARD
            .decode(t.split_whitespace().collect::<String>())
            .unwrap();
        // The response is an OCTET STRING-wrapped BasicOCSPResponse; the
        // CertID sits in it verbatim.
        assert!(contains(&resp, &id), "CertID not found in the response");
        // Another issuer gives another CertID, not found there.
        let wrong = cert_id(&chain[3], &chain[3]);
        assert!(wrong.is_err(), "names differ: refused");
        assert!(validate_ocsp(&resp).is_ok());
    }

    #[test]
    fn ocsp_request_is_four_nested_sequences_around_the_cert_id() {
        let chain = crate::trust::parse_certs(CHAIN.as_bytes()).unwrap();
        let id = cert_id(&chain[1], &chain[2]).unwrap();
        let req = ocsp_request(&id);
        let mut inner = req.as_slice();
        for _ in 0..4 {
            let any = der::asn1::AnyRef::from_der(inner).unwrap();
            assert_eq!(der::Tagged::tag(&any), der::Tag::Sequence);
            inner = any.value();
        }
        assert_eq!(inner, id.as_slice());
        // id-sha384 with NULL parameters, then two 48-byte hashes.
        assert!(contains(
            &id,
            &[0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00]
        ));
        assert!(contains(&id, &[0x04, 48]));
    }

    #[test]
    fn validate_ocsp_refuses_html_and_other_der() {
        assert!(validate_ocsp(b"<html>").is_err());
        assert!(validate_ocsp(&tlv(0x30, &[0x02, 0x01, 0x00])).is_err());
        assert!(validate_ocsp(&tlv(0x30, &[0x0A, 0x01, 0x00])).is_ok());
    }

    #[test]
    fn long_tlv_lengths_are_definite_and_minimal() {
        assert_eq!(&tlv(0x04, &[0u8; 200])[..3], &[0x04, 0x81, 200]);
        assert_eq!(&tlv(0x04, &[0u8; 300])[..4], &[0x04, 0x82, 0x01, 0x2C]);
    }
}
