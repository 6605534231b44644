//! Check of the `ppcie` family: `ppcie.topology`, the topology of an HGX
//! box in protected-PCIe mode (GPUs linked through NVSwitches, all
//! attested together with one nonce).
//!
//! What the devices sign (facts from NVIDIA's attestation SDK and the real
//! HGX evidence in `fixtures/field/nv-hgx-…`): each GPU's opaque field
//! `SWITCH_PDI` (22) lists one 8-byte PDI per NVLink (18 on an H100, with
//! repeats: a switch appears once per link to it), and each switch's
//! opaque field 22 is the switch's own PDI, in the reverse byte order of
//! the GPUs' entries. The rules:
//!
//! 1. every device's report is authenticated here (its SPDM signature
//!    verifies with its leaf, whose chain reaches a pinned NVIDIA Device
//!    Identity CA): a PDI from an unverified report proves nothing, so the
//!    topology is not judged on it (validity periods are judged by the
//!    `*.device-chain` checks, not repeated here);
//! 2. every device answered the same nonce;
//! 3. each switch's report is distinct, and so is each switch's PDI (four
//!    copies of one switch — NVIDIA's own `multi_switch_ls10.json` sample —
//!    are one switch, not four);
//! 4. compared as a set, each GPU's PDI list names exactly the switches in
//!    the evidence: no switch missing, none unknown.
//!
//! GPUs alone or switches alone (a partial import of a PPCIe box) get a
//! warning saying the topology was NOT checked, never a pass; evidence with
//! no PPCIe device at all gets not-applicable.
//!
//! Why not reuse the result of `gpu.spdm-signature`: families run in
//! parallel and independently; the verifications are shared through the
//! process-wide signature memo (`util::memo_verify`), so the second
//! verification of a report or chain link costs a hash, not a signature.

use std::collections::BTreeSet;

use serde_json::json;

use super::{CheckResult, Context, Status};
use crate::evidence::gpu::certs::{self, LeafUse};
use crate::evidence::gpu::{nvidia, spdm, DeviceKind, GpuEvidence};

pub const TOPOLOGY: &str = "ppcie.topology";
const TITLE: &str = "Protected-PCIe topology (GPUs ↔ NVSwitches)";
const SPEC: &str = "NVIDIA attestation SDK PPCIe verifier (GPU opaque SWITCH_PDI vs switch PDI, one nonce); blyss-evidence: every report authenticated first";

/// Length of one PDI.
pub const PDI_LEN: usize = 8;

/// What the topology rule needs of one device, taken from its report.
#[derive(Debug, Clone)]
pub struct Device {
    /// `gpu0`, `switch1`, …
    pub subject: String,
    /// `Ok` when the report's SPDM signature verified with a leaf whose
    /// chain reaches a pinned root; otherwise why not (report unusable,
    /// signature or chain invalid).
    pub authenticated: Result<(), String>,
    /// The nonce of the signed request.
    pub nonce: Option<[u8; 32]>,
    /// Opaque field 22 as signed (`None`: the report has none).
    pub pdi_field: Option<Vec<u8>>,
    /// The signed report bytes (distinctness).
    pub report: Vec<u8>,
}

fn entries(field: &[u8]) -> Result<Vec<[u8; PDI_LEN]>, String> {
    if field.is_empty() || !field.len().is_multiple_of(PDI_LEN) {
        return Err(format!(
            "its SWITCH_PDI field is {} bytes, not a whole number of {PDI_LEN}-byte entries",
            field.len()
        ));
    }
    Ok(field
        .chunks_exact(PDI_LEN)
        .map(|c| {
            let mut a = [0u8; PDI_LEN];
            a.copy_from_slice(c);
            a
        })
        .collect())
}

fn reversed(p: &[u8; PDI_LEN]) -> [u8; PDI_LEN] {
    let mut r = *p;
    r.reverse();
    r
}

fn result(status: Status, summary: impl Into<String>) -> CheckResult {
    CheckResult::new(TOPOLOGY, TITLE, status, summary).spec(SPEC)
}

/// Judges the topology of `gpus` and `switches` (either may be empty).
/// `evidence` names the members the devices came from.
pub fn judge(gpus: &[Device], switches: &[Device], evidence: &[String]) -> CheckResult {
    let with_evidence = |mut r: CheckResult| {
        for e in evidence {
            r = r.evidence(e);
        }
        r
    };
    let ppcie_gpus = gpus.iter().filter(|g| g.pdi_field.is_some()).count();
    match (gpus.is_empty(), switches.is_empty()) {
        (true, true) => {
            return with_evidence(result(
                Status::NotApplicable,
                "no NVIDIA device evidence in NVIDIA's interchange format: no protected-PCIe topology to judge",
            ))
        }
        (false, true) if ppcie_gpus == 0 => {
            return with_evidence(result(
                Status::NotApplicable,
                format!(
                    "{} GPU(s), none in protected-PCIe mode (no signed SWITCH_PDI field) and no NVSwitch evidence: no topology to judge",
                    gpus.len()
                ),
            ))
        }
        (false, true) => {
            return with_evidence(
                result(
                    Status::Warn,
                    format!(
                        "topology NOT checked: {ppcie_gpus} of {} GPU(s) sign NVSwitch links (SWITCH_PDI), but no NVSwitch evidence was imported (collect --switch-evidence)",
                        gpus.len()
                    ),
                )
                .expected("the GPUs' and the NVSwitches' evidence, imported together")
                .actual("GPU evidence only"),
            )
        }
        (true, false) => {
            return with_evidence(
                result(
                    Status::Warn,
                    format!(
                        "topology NOT checked: {} NVSwitch(es) but no GPU evidence was imported (collect --gpu-evidence)",
                        switches.len()
                    ),
                )
                .expected("the GPUs' and the NVSwitches' evidence, imported together")
                .actual("NVSwitch evidence only"),
            )
        }
        (false, false) => {}
    }
    let expected = "every report authenticated; one nonce for all devices; distinct switch reports and PDIs; each GPU's SWITCH_PDI entries (byte-reversed), as a set, = the switches' PDIs";
    let fail = |summary: String, actual: String, details: serde_json::Value| {
        let mut r = with_evidence(result(Status::Fail, summary))
            .expected(expected)
            .actual(actual);
        if let serde_json::Value::Object(m) = details {
            for (k, v) in m {
                r = r.detail(&k, v);
            }
        }
        r
    };
    // 1. Authenticity first: nothing below is evidence otherwise.
    let unauth: Vec<String> = gpus
        .iter()
        .chain(switches)
        .filter_map(|d| {
            d.authenticated
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", d.subject))
        })
        .collect();
    if !unauth.is_empty() {
        return fail(
            format!(
                "topology not judged: {} report(s) are not authenticated, so their PDIs prove nothing",
                unauth.len()
            ),
            unauth.join("; "),
            json!({ "unauthenticated": unauth }),
        );
    }
    // 2. One nonce.
    let nonces: BTreeSet<Option<[u8; 32]>> = gpus.iter().chain(switches).map(|d| d.nonce).collect();
    if nonces.len() != 1 || nonces.contains(&None) {
        let list: Vec<String> = gpus
            .iter()
            .chain(switches)
            .map(|d| {
                format!(
                    "{} {}",
                    d.subject,
                    d.nonce.map(hex::encode).unwrap_or_else(|| "none".into())
                )
            })
            .collect();
        return fail(
            format!(
                "the devices answered {} different nonces: they were not attested together",
                nonces.len()
            ),
            list.join(", "),
            json!({ "nonces": list }),
        );
    }
    // 3. Distinct switches.
    let mut problems: Vec<String> = Vec::new();
    let mut switch_pdis: Vec<(String, [u8; PDI_LEN])> = Vec::new();
    for (i, s) in switches.iter().enumerate() {
        if let Some(j) = switches[..i].iter().position(|o| o.report == s.report) {
            problems.push(format!(
                "{} is the same signed report as {}",
                s.subject, switches[j].subject
            ));
            continue;
        }
        match s.pdi_field.as_deref().map(entries) {
            None => problems.push(format!("{} signs no PDI (opaque field 22)", s.subject)),
            Some(Err(e)) => problems.push(format!("{}: {e}", s.subject)),
            Some(Ok(e)) if e.len() != 1 => problems.push(format!(
                "{}: its PDI field holds {} entries, expected one",
                s.subject,
                e.len()
            )),
            Some(Ok(e)) => {
                let pdi = reversed(&e[0]);
                if let Some((o, _)) = switch_pdis.iter().find(|(_, p)| *p == pdi) {
                    problems.push(format!(
                        "{} has the PDI {} of {o}",
                        s.subject,
                        hex::encode(pdi)
                    ));
                } else {
                    switch_pdis.push((s.subject.clone(), pdi));
                }
            }
        }
    }
    let known: BTreeSet<[u8; PDI_LEN]> = switch_pdis.iter().map(|(_, p)| *p).collect();
    // 4. Each GPU names exactly the switches present.
    let mut per_gpu = serde_json::Map::new();
    for g in gpus {
        let named: BTreeSet<[u8; PDI_LEN]> = match g.pdi_field.as_deref().map(entries) {
            None => {
                problems.push(format!(
                    "{} signs no SWITCH_PDI field: not in protected-PCIe mode",
                    g.subject
                ));
                continue;
            }
            Some(Err(e)) => {
                problems.push(format!("{}: {e}", g.subject));
                continue;
            }
            Some(Ok(e)) => e.into_iter().collect(),
        };
        let unknown: Vec<String> = named.difference(&known).map(hex::encode).collect();
        let missing: Vec<String> = known.difference(&named).map(hex::encode).collect();
        if !unknown.is_empty() {
            problems.push(format!(
                "{} is linked to switch(es) not in the evidence: {}",
                g.subject,
                unknown.join(", ")
            ));
        }
        if !missing.is_empty() {
            problems.push(format!(
                "{} is not linked to {}",
                g.subject,
                missing.join(", ")
            ));
        }
        per_gpu.insert(
            g.subject.clone(),
            json!(named.iter().map(hex::encode).collect::<Vec<_>>()),
        );
    }
    let switch_list: Vec<String> = switch_pdis
        .iter()
        .map(|(s, p)| format!("{s} {}", hex::encode(p)))
        .collect();
    if !problems.is_empty() {
        return fail(
            format!(
                "the topology does not hold: {}",
                problems.first().map(String::as_str).unwrap_or_default()
            ),
            problems.join("; "),
            json!({ "problems": problems, "switch_pdis": switch_list, "gpu_switch_pdis": per_gpu }),
        );
    }
    let nonce = nonces
        .into_iter()
        .next()
        .flatten()
        .map(hex::encode)
        .unwrap_or_default();
    let mut r = with_evidence(result(
        Status::Pass,
        format!(
            "{} GPU(s) and {} distinct NVSwitch(es), every report authenticated, one nonce; each GPU's signed NVLink list names exactly these switches",
            gpus.len(),
            switches.len()
        ),
    ))
    .expected(expected)
    .actual(format!("switches {}; nonce {nonce}", switch_list.join(", ")));
    r = r
        .detail("switch_pdis", json!(switch_list))
        .detail("gpu_switch_pdis", serde_json::Value::Object(per_gpu))
        .detail("nonce", json!(nonce));
    r
}

/// Reads what the rule needs of one parsed device. `authenticate`: verify
/// the chain to a pinned NVIDIA Device Identity CA and the SPDM signature
/// with the leaf's key (skipped for a partial import, where no topology is
/// judged and the PDIs are not used).
fn device(ctx: &Context, g: &GpuEvidence, authenticate: bool) -> Device {
    let m = g.measurements.as_ref().ok();
    let authenticated = match (&g.measurements, &g.cert_chain) {
        _ if !authenticate => Err("not authenticated: no topology is judged".into()),
        (Err(e), _) => Err(format!("report unusable: {e}")),
        (_, Err(e)) => Err(format!("certificate chain unusable: {e}")),
        (Ok(m), Ok(c)) => {
            certs::verify_chain(c, &ctx.trust.nvidia_device_roots, LeafUse::DigitalSignature)
                .map_err(|e| format!("device chain: {e}"))
                .and_then(|chain| chain.leaf().spki_der())
                .and_then(|k| super::gpu::verify_spdm(m, &k))
        }
    };
    Device {
        subject: g.subject(),
        authenticated,
        nonce: m.map(|m| m.request.nonce),
        pdi_field: m
            .and_then(|m| m.opaque(spdm::OPAQUE_SWITCH_PDI))
            .map(<[u8]>::to_vec),
        report: m.map(|m| m.signed_message()).unwrap_or_default(),
    }
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let mut evidence = Vec::new();
    let mut parsed: Vec<Vec<GpuEvidence>> = Vec::new();
    for (member, kind) in [
        (nvidia::MEMBER, DeviceKind::Gpu),
        (nvidia::SWITCH_MEMBER, DeviceKind::Switch),
    ] {
        let path = format!("evidence/{member}");
        let Some(bytes) = ctx.member(&path) else {
            parsed.push(Vec::new());
            continue;
        };
        evidence.push(path.clone());
        // RIMs play no part in the topology: none are passed.
        match nvidia::parse_as(kind, bytes, &[], 0) {
            Ok(d) => parsed.push(d),
            Err(e) => {
                return vec![result(
                    Status::Fail,
                    format!("{path}: {e}: the topology cannot be judged"),
                )
                .evidence(&path)]
            }
        }
    }
    if evidence.is_empty() && !ctx.protocol.is_required(TOPOLOGY) {
        // Nothing imported in NVIDIA's format and nothing asked for: the
        // family stays silent, so reports of other services do not change.
        return Vec::new();
    }
    let both = parsed.iter().all(|d| !d.is_empty());
    // Authenticated last device first: this family runs beside the `gpu`
    // and `switch` families, which verify the same reports first device
    // first, so the two meet half-way and the memo turns whatever the other
    // already did into a lookup instead of a second verification.
    let mut devices: Vec<Vec<Device>> = vec![Vec::new(), Vec::new()];
    for (k, ds) in parsed.iter().enumerate().rev() {
        let mut v: Vec<Device> = ds.iter().rev().map(|d| device(ctx, d, both)).collect();
        v.reverse();
        devices[k] = v;
    }
    vec![judge(&devices[0], &devices[1], &evidence)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdi(n: u8) -> [u8; 8] {
        [n, 1, 2, 3, 4, 5, 6, n]
    }

    fn switch(i: usize, n: u8) -> Device {
        Device {
            subject: format!("switch{i}"),
            authenticated: Ok(()),
            nonce: Some([7; 32]),
            pdi_field: Some(reversed(&pdi(n)).to_vec()),
            report: vec![n, 0xAA],
        }
    }

    fn gpu(i: usize, links: &[u8]) -> Device {
        Device {
            subject: format!("gpu{i}"),
            authenticated: Ok(()),
            nonce: Some([7; 32]),
            pdi_field: Some(links.iter().flat_map(|n| pdi(*n)).collect()),
            report: vec![0xEE, i as u8],
        }
    }

    fn box4() -> (Vec<Device>, Vec<Device>) {
        let gpus = (0..8).map(|i| gpu(i, &[1, 1, 2, 3, 3, 4, 4, 2])).collect();
        let sw = (0..4).map(|i| switch(i, i as u8 + 1)).collect();
        (gpus, sw)
    }

    #[test]
    fn a_consistent_box_passes_with_repeated_links() {
        let (g, s) = box4();
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
    }

    #[test]
    fn a_removed_switch_fails_as_a_gpu_names_an_unknown_switch() {
        let (g, mut s) = box4();
        s.pop();
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("not in the evidence"), "{}", r.summary);
    }

    #[test]
    fn a_duplicated_switch_report_fails() {
        let (g, mut s) = box4();
        s[3] = Device {
            subject: "switch3".into(),
            ..s[0].clone()
        };
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Fail);
        assert!(r
            .actual
            .unwrap()
            .contains("switch3 is the same signed report as switch0"));
    }

    #[test]
    fn a_gpu_missing_a_link_or_naming_an_unknown_switch_fails() {
        let (mut g, s) = box4();
        g[5] = gpu(5, &[1, 2, 3, 9]);
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Fail);
        let a = r.actual.unwrap();
        assert!(
            a.contains("gpu5 is linked to switch(es) not in the evidence"),
            "{a}"
        );
        assert!(a.contains("gpu5 is not linked to"), "{a}");
    }

    #[test]
    fn an_unauthenticated_report_or_a_second_nonce_fails_before_any_pdi_is_read() {
        let (mut g, s) = box4();
        g[2].authenticated = Err("bad signature".into());
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("not authenticated"));
        let (mut g, s) = box4();
        g[1].nonce = Some([8; 32]);
        let r = judge(&g, &s, &[]);
        assert_eq!(r.status, Status::Fail);
        assert!(r.summary.contains("2 different nonces"));
    }

    #[test]
    fn partial_imports_are_not_checked_and_never_pass() {
        let (g, s) = box4();
        let r = judge(&g, &[], &[]);
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("NOT checked"));
        let r = judge(&[], &s, &[]);
        assert_eq!(r.status, Status::Warn);
        assert!(r.summary.contains("NOT checked"));
        let mut plain = g[0].clone();
        plain.pdi_field = None;
        assert_eq!(judge(&[plain], &[], &[]).status, Status::NotApplicable);
        assert_eq!(judge(&[], &[], &[]).status, Status::NotApplicable);
    }
}
