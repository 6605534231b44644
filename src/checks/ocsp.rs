//! `gpu.ocsp` (issue 16 item 3): the revocation status of every certificate
//! of a device's chains that NVIDIA's OCSP responder covers, judged offline
//! from the responses captured beside the evidence
//! (`evidence/gpu/ocsp/*`, see [`crate::evidence::gpu::ocsp`]) at the
//! evaluation time. One result per device, subject `gpu0`, `gpu1`, …
//!
//! Covered certificates: every non-root certificate of the device chain
//! except its leaf (the per-boot GSP FMC "LF" certificate, which the
//! responder does not know), and every non-root certificate of each RIM
//! signing chain (its leaf is the long-lived RIM signer). Each is judged
//! once per device even when the driver and VBIOS RIM chains share it.
//!
//! Status: FAIL when any covered certificate is revoked, on hold or
//! unknown to the responder, when a response naming it does not verify, or
//! when a captured response names no covered certificate of the evidence
//! (an answer about something else); WARN when a response is missing or
//! stale, or a chain could not be verified (its own check fails); PASS only
//! when every covered certificate has a verified, fresh `good` answer.
//!
//! For GPUs imported in NVIDIA's interchange format, and for the
//! attestation document's GPUs when the bundle holds responses; a Blyss
//! bundle without responses gets no result and keeps its reports
//! unchanged.
//! `switch.ocsp` ([`run_switches`]) judges every NVSwitch imported with
//! `collect --switch-evidence` by the same [`judge_device`], under its own
//! id and subjects `switch0`, `switch1`, …: its device chain without the
//! per-boot FMC leaf and root, and its switch-BIOS RIM's signing chain
//! without the root. No real switch OCSP response is public yet; the
//! tests mint answers with a TEST-ONLY PKI.

use serde_json::{json, Value};

use super::{CheckResult, Context, Status};
use crate::evidence::gpu::certs::{self, Chain, LeafUse};
use crate::evidence::gpu::ocsp::{self, Outcome, Response};
use crate::evidence::gpu::rim::{Rim, RimKind};
use crate::evidence::gpu::{nvidia, DeviceKind, GpuEvidence};
use crate::util::fmt_time;

pub const OCSP: &str = "gpu.ocsp";
/// The same judgement for NVSwitches (`switch` family).
pub const SWITCH_OCSP: &str = "switch.ocsp";
const TITLE: &str = "GPU certificate revocation (OCSP, judged offline)";
const SWITCH_TITLE: &str = "NVSwitch certificate revocation (OCSP, judged offline)";

/// The title of `gpu.ocsp` or `switch.ocsp`.
fn title_of(id: &str) -> &'static str {
    if id.starts_with("switch.") {
        SWITCH_TITLE
    } else {
        TITLE
    }
}
const SPEC: &str = "RFC 6960 §3.2 and §4.2.2.2 (authorised responders, thisUpdate/nextUpdate); NVIDIA nvtrust local_gpu_verifier (OCSP for device and RIM chains)";

/// One chain of a device, verified (or why not) to the trust set.
pub struct DeviceChain {
    /// `device chain`, `driver RIM signing chain`, …
    pub label: String,
    pub chain: Result<Chain, String>,
    /// Whether the leaf is covered by the responder (RIM signers are; the
    /// per-boot device leaf is not).
    pub leaf_covered: bool,
}

impl DeviceChain {
    /// `(certificate index, issuer index)` pairs the responder covers.
    fn covered(&self) -> Vec<(usize, usize)> {
        let Ok(c) = &self.chain else {
            return Vec::new();
        };
        let n = c.certs.len();
        let first = if self.leaf_covered { 0 } else { 1 };
        (first..n.saturating_sub(1)).map(|i| (i, i + 1)).collect()
    }
}

/// Whether some single response of `r` names a covered certificate of `chains`.
fn names_any(r: &Response, chains: &[&DeviceChain]) -> Vec<bool> {
    r.singles
        .iter()
        .map(|s| {
            chains.iter().any(|dc| {
                let Ok(c) = &dc.chain else { return false };
                dc.covered()
                    .iter()
                    .any(|&(i, j)| s.names(&c.certs[i], &c.certs[j]))
            })
        })
        .collect()
}

fn short(dn: &str) -> String {
    dn.split(',')
        .find_map(|p| p.trim().strip_prefix("CN="))
        .unwrap_or(dn)
        .to_string()
}

/// Judges one device's chains. `unmatched` lists captured responses that
/// name no covered certificate of the whole evidence and `unreadable` the
/// members that are no usable OCSP response: both fail every device.
#[allow(clippy::too_many_arguments)]
pub fn judge_device(
    id: &str,
    subject: &str,
    chains: &[DeviceChain],
    responses: &[Response],
    unmatched: &[String],
    unreadable: &[String],
    at: time::OffsetDateTime,
    evidence: &[String],
) -> CheckResult {
    let mut rows: Vec<Value> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let (mut fresh, mut warn, mut fail) = (0usize, 0usize, 0usize);
    let mut seen: Vec<String> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for dc in chains {
        let c = match &dc.chain {
            Ok(c) => c,
            Err(e) => {
                warn += 1;
                problems.push(format!(
                    "{}: not judged, the chain does not verify ({e})",
                    dc.label
                ));
                continue;
            }
        };
        for (i, j) in dc.covered() {
            let cert = &c.certs[i];
            if seen.contains(&cert.sha256) {
                continue;
            }
            seen.push(cert.sha256.clone());
            let jd = ocsp::judge(cert, &c.certs[j], responses, at);
            match &jd.outcome {
                Outcome::Fresh => fresh += 1,
                o if o.fails() => fail += 1,
                _ => warn += 1,
            }
            if let Some(m) = &jd.member {
                if !used.contains(m) {
                    used.push(m.clone());
                }
            }
            let why = match &jd.outcome {
                Outcome::Stale(w) | Outcome::Bad(w) | Outcome::Invalid(w) => format!(" — {w}"),
                _ => String::new(),
            };
            lines.push(format!(
                "{} {} (serial {}): {}{why}",
                dc.label,
                short(&jd.subject),
                jd.serial,
                jd.outcome.label()
            ));
            let t = |x: Option<time::OffsetDateTime>| x.map(fmt_time);
            rows.push(json!({
                "chain": dc.label,
                "subject": jd.subject,
                "serial": jd.serial,
                "outcome": jd.outcome.label(),
                "status": jd.state,
                "produced_at": t(jd.produced_at),
                "this_update": t(jd.this_update),
                "next_update": t(jd.next_update),
                "responder": jd.responder,
                "member": jd.member,
                "problem": match &jd.outcome {
                    Outcome::Stale(w) | Outcome::Bad(w) | Outcome::Invalid(w) => Some(w.clone()),
                    _ => None,
                },
            }));
        }
    }
    for u in unmatched.iter().chain(unreadable) {
        fail += 1;
        problems.push(u.clone());
    }
    let total = rows.len();
    let status = if fail > 0 {
        Status::Fail
    } else if warn > 0 || total == 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    let when = fmt_time(at);
    let summary = match status {
        Status::Pass => format!(
            "{fresh} of {total} covered certificates have a verified, fresh `good` OCSP response at {when}"
        ),
        Status::Fail => format!(
            "{fail} problem(s) fail revocation checking at {when} ({fresh} of {total} certificates fresh and good)"
        ),
        _ if total == 0 => "revocation not established: no chain of this device could be judged".into(),
        _ => format!(
            "revocation not established for {} of {total} covered certificates at {when} (missing or stale responses: a warning, never a pass); {fresh} fresh and good",
            total - fresh
        ),
    };
    lines.extend(problems.iter().cloned());
    let mut r = CheckResult::new(id, title_of(id), status, summary)
        .subject(subject)
        .spec(SPEC)
        .expected(format!(
            "for each covered certificate (device chain without its per-boot leaf and root; RIM signing chains without the root): a response signed by the issuing CA or its delegated OCSP signer (EKU OCSPSigning, valid at producedAt), for its serial, status good, thisUpdate ≤ {when} ≤ nextUpdate"
        ))
        .actual(lines.join("; "))
        .detail("certificates", Value::Array(rows))
        .detail("evaluation_time", when.clone());
    if !problems.is_empty() {
        r = r.detail("problems", problems);
    }
    for e in evidence.iter().chain(&used) {
        r = r.evidence(e.clone());
    }
    r
}

/// RIM signing chains verified in this run, by RIM text: the GPUs of a box
/// share their RIMs, and parsing a RIM (XML, C14N) costs more than
/// everything else here, so each is verified once per check run. Which RIM
/// a device uses is `nvidia::parse_as`'s choice (signed versions;
/// RIM-service envelopes unwrapped there), the same as for `gpu.*` and
/// `switch.*`.
type RimChains = std::collections::HashMap<String, Result<Chain, String>>;

/// The chains of one device: its device chain and its RIM signing chains
/// (a GPU's driver and VBIOS RIMs, an NVSwitch's switch-BIOS RIM).
fn device_chains(ctx: &Context, g: &GpuEvidence, cache: &mut RimChains) -> Vec<DeviceChain> {
    let device = g.cert_chain.clone().and_then(|c| {
        certs::verify_chain(
            &c,
            &ctx.trust.nvidia_device_roots,
            LeafUse::DigitalSignature,
        )
    });
    let mut out = vec![DeviceChain {
        label: "device chain".into(),
        chain: device,
        leaf_covered: false,
    }];
    let rims = match g.kind {
        DeviceKind::Gpu => vec![
            (RimKind::Driver, &g.driver_rim),
            (RimKind::Vbios, &g.vbios_rim),
        ],
        DeviceKind::Switch => vec![(RimKind::SwitchBios, &g.vbios_rim)],
    };
    for (kind, text) in rims {
        let chain = text.clone().and_then(|t| {
            cache
                .entry(t)
                .or_insert_with_key(|t| {
                    Rim::parse(kind, t).and_then(|r| {
                        certs::verify_chain(
                            &r.signature.certs,
                            &ctx.trust.nvidia_rim_roots,
                            LeafUse::DigitalSignature,
                        )
                    })
                })
                .clone()
        });
        out.push(DeviceChain {
            label: format!("{} RIM signing chain", kind.label()),
            chain,
            leaf_covered: true,
        });
    }
    out
}

/// `gpu.ocsp`: results for the GPUs imported in NVIDIA's interchange
/// format (always), and for the attestation document's GPUs when the
/// bundle holds OCSP responses (`collect --fetch-ocsp` asks about those
/// too); a bundle with neither yields no result, so reports of Blyss
/// documents collected without OCSP do not change.
pub fn run(ctx: &Context) -> Vec<CheckResult> {
    run_kind(ctx, DeviceKind::Gpu)
}

/// `switch.ocsp`: one result per NVSwitch imported with
/// `collect --switch-evidence` (no result without switch evidence, like
/// every `switch.*` check), judged by the rules of `gpu.ocsp`: the device
/// chain without its per-boot FMC leaf and root, and the switch-BIOS RIM's
/// signing chain without its root.
pub fn run_switches(ctx: &Context) -> Vec<CheckResult> {
    run_kind(ctx, DeviceKind::Switch)
}

fn id_of(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Gpu => OCSP,
        DeviceKind::Switch => SWITCH_OCSP,
    }
}

/// Both families read the same responses, and a response must name a
/// covered certificate of SOME device of the bundle (GPU or switch): so
/// each run looks at the other kind's chains too when there are responses
/// (an answer about a switch is not "about something else" for a GPU).
fn run_kind(ctx: &Context, kind: DeviceKind) -> Vec<CheckResult> {
    let id = id_of(kind);
    let title = title_of(id);
    let gpu_member = format!("evidence/{}", nvidia::MEMBER);
    let switch_member = format!("evidence/{}", nvidia::SWITCH_MEMBER);
    let prefix = format!("evidence/{}", ocsp::DIR);
    let members = ctx.members_under(&prefix);
    let doc_src = match ctx.doc {
        Ok(d) => d.source.clone(),
        Err(_) => String::new(),
    };
    let rims = super::gpu::supplied_rims(ctx);
    // GPUs: the document's come first in `gpu.*` numbering.
    let doc_gpus: Vec<GpuEvidence> = match ctx.doc {
        Ok(d) => d
            .gpu
            .as_ref()
            .and_then(|v| crate::evidence::gpu::parse(v).ok())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let first = doc_gpus.len();
    let mut gpus = if members.is_empty() {
        Vec::new()
    } else {
        doc_gpus
    };
    let mut switches = Vec::new();
    for (k, member, list) in [
        (DeviceKind::Gpu, &gpu_member, &mut gpus),
        (DeviceKind::Switch, &switch_member, &mut switches),
    ] {
        let Some(bytes) = ctx.member(member) else {
            continue;
        };
        let start = if k == DeviceKind::Gpu { first } else { 0 };
        match nvidia::parse_as(k, bytes, &rims, start) {
            Ok(g) => list.extend(g),
            // This family's own evidence unreadable: one failure. The
            // other family's: its own checks fail; here its chains are
            // simply not known (its answers then count as unmatched).
            Err(e) if k == kind => {
                return vec![CheckResult::fail(
                    id,
                    title,
                    format!(
                        "no {} can be told apart in {member} ({e}): revocation cannot be judged",
                        kind.noun()
                    ),
                )
                .spec(SPEC)
                .evidence(member.clone())]
            }
            Err(_) => {}
        }
    }
    let (mine, others) = match kind {
        DeviceKind::Gpu => (gpus, switches),
        DeviceKind::Switch => (switches, gpus),
    };
    if mine.is_empty() {
        return Vec::new();
    }
    let mut unreadable = Vec::new();
    let mut responses = Vec::new();
    if members.len() > ocsp::MAX_MEMBERS {
        unreadable.push(format!(
            "{} OCSP response members, more than {}: none is read",
            members.len(),
            ocsp::MAX_MEMBERS
        ));
    } else {
        for m in &members {
            match Response::parse(m, ctx.member(m).unwrap_or_default()) {
                Ok(r) => responses.push(r),
                Err(e) => unreadable.push(format!("{m}: not a usable OCSP response ({e})")),
            }
        }
    }
    let mut cache = RimChains::new();
    let chains: Vec<Vec<DeviceChain>> = mine
        .iter()
        .map(|g| device_chains(ctx, g, &mut cache))
        .collect();
    // The other kind's chains matter only to tell whether an answer is
    // about some device of the bundle.
    let other_chains: Vec<Vec<DeviceChain>> = if responses.is_empty() {
        Vec::new()
    } else {
        others
            .iter()
            .map(|g| device_chains(ctx, g, &mut cache))
            .collect()
    };
    let all: Vec<&DeviceChain> = chains.iter().chain(&other_chains).flatten().collect();
    let mut unmatched = Vec::new();
    for r in &responses {
        for (k, named) in names_any(r, &all).into_iter().enumerate() {
            if !named {
                let s = &r.singles[k];
                unmatched.push(format!(
                    "{}: answers for serial {} ({} CertID) that no covered certificate of the evidence has",
                    r.member,
                    s.serial_hex(),
                    s.hash_oid
                ));
            }
        }
    }
    let bad_members: Vec<String> = unreadable
        .iter()
        .chain(&unmatched)
        .filter_map(|u| u.split(": ").next())
        .filter(|m| m.starts_with(&prefix))
        .map(String::from)
        .collect();
    let mut out: Vec<CheckResult> = mine
        .iter()
        .zip(&chains)
        .map(|(g, c)| {
            let mut evidence = vec![g.member.clone().unwrap_or_else(|| doc_src.clone())];
            if g.member.is_some() {
                evidence.extend(rims.iter().map(|(p, _)| p.clone()));
            }
            evidence.extend(bad_members.iter().cloned());
            judge_device(
                id,
                &g.subject(),
                c,
                &responses,
                &unmatched,
                &unreadable,
                ctx.eval_time,
                &evidence,
            )
        })
        .collect();
    // One fact over every device: how many covered certificates ended how.
    let labels: Vec<String> = out
        .iter()
        .flat_map(|r| {
            r.details["certificates"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| c["outcome"].as_str().map(String::from))
        .collect();
    let count = |o: Outcome| labels.iter().filter(|l| *l == o.label()).count();
    let fact = format!(
        "{} certificates at {}: {} fresh and good, {} stale, {} without response, {} revoked or unknown, {} invalid",
        labels.len(),
        fmt_time(ctx.eval_time),
        count(Outcome::Fresh),
        count(Outcome::Stale(String::new())),
        count(Outcome::Missing),
        count(Outcome::Bad(String::new())),
        count(Outcome::Invalid(String::new())),
    );
    if let Some(first) = out.first_mut() {
        first.details.insert(format!("fact:{id}"), json!(fact));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::gpu::ocsp::testca::{self, Mint};
    use x509_ocsp::CertStatus;

    const P: u64 = 1_750_000_000;

    /// A test device chain root → ICA → BROM-like → leaf, verified to the test root.
    struct World {
        root: testca::Issued,
        ica: testca::Issued,
        brom: testca::Issued,
        leaf: testca::Issued,
        responder: testca::Issued,
    }

    fn world() -> World {
        let root = testca::root("device");
        let ica = testca::issue(&root, "ICA", 2, true, false);
        let brom = testca::issue(&ica, "BROM", 3, true, false);
        let leaf = testca::issue(&brom, "FMC LF", 4, false, false);
        let responder = testca::issue(&ica, "OCSP responder ICA", 5, false, true);
        World {
            root,
            ica,
            brom,
            leaf,
            responder,
        }
    }

    fn chain(w: &World) -> DeviceChain {
        let ders = vec![
            w.leaf.der.clone(),
            w.brom.der.clone(),
            w.ica.der.clone(),
            w.root.der.clone(),
        ];
        DeviceChain {
            label: "device chain".into(),
            chain: certs::verify_chain(
                &ders,
                std::slice::from_ref(&w.root.der),
                LeafUse::DigitalSignature,
            ),
            leaf_covered: false,
        }
    }

    fn at() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(P as i64 + 60).unwrap()
    }

    fn resp(
        w: &World,
        cert: &testca::Issued,
        issuer: &testca::Issued,
        signer: &testca::Issued,
        status: CertStatus,
    ) -> Response {
        let der = testca::mint(&Mint {
            cert: &cert.der,
            issuer: &issuer.der,
            signer,
            status,
            produced_at: P,
            this_update: P,
            next_update: Some(P + 86_400),
        });
        let _ = w;
        Response::parse("evidence/gpu/ocsp/x", &der).unwrap()
    }

    /// Answers for the two covered certificates (ICA by the root, BROM by the ICA's responder).
    fn good(w: &World) -> Vec<Response> {
        vec![
            resp(w, &w.ica, &w.root, &w.root, CertStatus::good()),
            resp(w, &w.brom, &w.ica, &w.responder, CertStatus::good()),
        ]
    }

    fn run_one(w: &World, rs: &[Response], unmatched: &[String]) -> CheckResult {
        judge_device(OCSP, "gpu0", &[chain(w)], rs, unmatched, &[], at(), &[])
    }

    #[test]
    fn fresh_good_answers_for_every_covered_certificate_pass() {
        let w = world();
        let r = run_one(&w, &good(&w), &[]);
        assert_eq!(r.status, Status::Pass, "{}", r.summary);
        // The per-boot leaf and the root are not covered: two rows.
        assert_eq!(r.details["certificates"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_missing_answer_warns_and_never_passes() {
        let w = world();
        let rs = good(&w);
        let r = run_one(&w, &rs[..1], &[]);
        assert_eq!(r.status, Status::Warn, "{}", r.summary);
        assert!(r.actual.unwrap().contains("no response"));
    }

    #[test]
    fn stale_answers_warn_and_never_pass() {
        let w = world();
        let later = time::OffsetDateTime::from_unix_timestamp(P as i64 + 10 * 86_400).unwrap();
        let r = judge_device(OCSP, "gpu0", &[chain(&w)], &good(&w), &[], &[], later, &[]);
        assert_eq!(r.status, Status::Warn, "{}", r.summary);
        assert!(r.actual.unwrap().contains("STALE"));
    }

    #[test]
    fn a_revoked_intermediate_fails() {
        let w = world();
        let mut rs = good(&w);
        let info = x509_ocsp::RevokedInfo {
            revocation_time: x509_ocsp::OcspGeneralizedTime(
                der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(P))
                    .unwrap(),
            ),
            revocation_reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
        };
        rs[1] = resp(&w, &w.brom, &w.ica, &w.responder, CertStatus::revoked(info));
        let r = run_one(&w, &rs, &[]);
        assert_eq!(r.status, Status::Fail, "{}", r.summary);
        assert!(r.actual.unwrap().contains("revoked"));
    }

    #[test]
    fn an_answer_about_another_certificate_fails_every_device() {
        let w = world();
        let r = run_one(
            &w,
            &good(&w),
            &["evidence/gpu/ocsp/x: answers for serial 09".into()],
        );
        assert_eq!(r.status, Status::Fail);
    }

    #[test]
    fn a_chain_that_does_not_verify_is_not_judged_and_warns() {
        let w = world();
        let dc = DeviceChain {
            label: "device chain".into(),
            chain: Err("does not verify".into()),
            leaf_covered: false,
        };
        let r = judge_device(OCSP, "gpu0", &[dc], &good(&w), &[], &[], at(), &[]);
        assert_eq!(r.status, Status::Warn);
    }

    #[test]
    fn unmatched_detection_sees_answers_for_uncovered_certificates() {
        let w = world();
        let dc = chain(&w);
        // The per-boot leaf is not covered: an answer about it is unmatched.
        let leaf = resp(&w, &w.leaf, &w.brom, &w.brom, CertStatus::good());
        assert_eq!(names_any(&leaf, &[&dc]), vec![false]);
        assert_eq!(names_any(&good(&w)[1], &[&dc]), vec![true]);
    }
}
