//! Checks of the `gpu` family (issue 9): the NVIDIA H100 evidence in
//! `gpu_attestation.gpus[i]`, verified offline against the trust set's
//! NVIDIA roots. One result per GPU and check, subject `gpu0`, `gpu1`, …
//!
//! * `gpu.spdm-signature` — the SPDM 1.1 GET_MEASUREMENTS request and
//!   MEASUREMENTS response rebuilt byte for byte, signature by the leaf key;
//!   the published nonce is the one the GPU signed.
//! * `gpu.device-chain` — leaf → … → pinned NVIDIA Device Identity CA.
//! * `gpu.rim-signature` — both RIMs: XMLDSig (restricted profile), chain to
//!   the pinned NVIDIA CoRIM root, and the protocol's sha256 pins if any.
//! * `gpu.versions` — driver and VBIOS versions in the signed opaque data
//!   equal the RIMs' versions.
//! * `gpu.measurements` — every active golden value matches.
//! * `gpu.binding` — warning: the GPU evidence is not bound to the SNP
//!   report or to the TLS session.
//!
//! The same checks judge NVSwitch evidence (`collect --switch-evidence`) as
//! the `switch` family: ids `switch.*`, subjects `switch0`, `switch1`, …,
//! one switch-BIOS RIM instead of the driver and VBIOS RIMs
//! ([`run_switches`], [`id_of`]).
//!
//! Certificate validity is judged under an explicit time policy
//! ([`CertTimePolicy`]): the evidence carries no signed time.

use serde_json::{json, Value};

use super::{CheckResult, Context, Status};
use crate::evidence::gpu::certs::{self, Chain, LeafUse};
use crate::evidence::gpu::rim::{Rim, RimKind};
use crate::evidence::gpu::{self, golden, nvidia, DeviceKind, GpuEvidence};
use crate::util::{fmt_time, short_hex};

pub const SPDM_SIGNATURE: &str = "gpu.spdm-signature";
pub const DEVICE_CHAIN: &str = "gpu.device-chain";
pub const VERSIONS: &str = "gpu.versions";
pub const MEASUREMENTS: &str = "gpu.measurements";
pub const RIM_SIGNATURE: &str = "gpu.rim-signature";
pub const BINDING: &str = "gpu.binding";
/// Only for evidence imported from NVIDIA's interchange file (the Blyss
/// shape keeps its nonce comparison inside `gpu.spdm-signature`, so its
/// reports do not change).
pub const NONCE: &str = "gpu.nonce";
/// Only for imported evidence, like [`NONCE`].
pub const FWID: &str = "gpu.fwid";

/// Every check id with its title, in report order.
pub const CHECKS: &[(&str, &str)] = &[
    (SPDM_SIGNATURE, "GPU SPDM measurement report signature"),
    (DEVICE_CHAIN, "GPU device certificate chain"),
    (RIM_SIGNATURE, "GPU reference manifests (RIM) authenticity"),
    (VERSIONS, "GPU driver and VBIOS versions"),
    (MEASUREMENTS, "GPU measurements against golden values"),
    (BINDING, "GPU evidence binding to the CPU report and TLS"),
];

const SPEC_SPDM: &str = "DMTF DSP0274 SPDM 1.1 §10.11 (GET_MEASUREMENTS/MEASUREMENTS, L1 transcript); NVIDIA nvtrust local_gpu_verifier";
const SPEC_CHAIN: &str = "RFC 5280 §6 (path validation), pinned NVIDIA Device Identity CA; NVIDIA nvtrust local_gpu_verifier";
const SPEC_RIM: &str = "W3C XMLDSig 1.1 (enveloped, C14N 1.1, ecdsa-sha384); TCG RIM IM / ISO 19770-2 SWID; pinned NVIDIA CoRIM signing Root CA";
const SPEC_VERSIONS: &str = "NVIDIA nvtrust local_gpu_verifier (opaque DRIVER_VERSION/VBIOS_VERSION vs RIM colloquialVersion)";
const SPEC_GOLDEN: &str = "NVIDIA nvtrust local_gpu_verifier (union of active RIM entries, index i ↔ SPDM block i+1, any alternative)";
const SPEC_NONCE: &str = "DMTF DSP0274 SPDM 1.1 §10.11 (requester nonce inside the signed L1 transcript); NVIDIA NRAS evidence interchange (`nonce`)";
const SPEC_FWID: &str = "TCG DICE Attestation Architecture (FWID, extension 2.23.133.5.4.1); NVIDIA opaque field OPAQUE_FIELD_ID_FWID (20)";
const SPEC_BINDING: &str =
    "blyss-evidence: GPU evidence has no cryptographic link to SNP REPORT_DATA or the TLS session";

pub use crate::protocol::{CertTimePolicy, GpuSection, Presence, RimPin};

/// One result per check id (no subject): the family could not look at any
/// GPU.
fn all(status: Status, summary: &str, evidence: Option<&str>) -> Vec<CheckResult> {
    all_of(DeviceKind::Gpu, status, summary, evidence)
}

/// [`all`] for a device kind (`switch.*` ids for NVSwitches).
fn all_of(
    kind: DeviceKind,
    status: Status,
    summary: &str,
    evidence: Option<&str>,
) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .map(|(id, _)| {
            let mut r = CheckResult::new(&id_of(kind, id), &title_for(kind, id), status, summary)
                .spec(spec_of(id));
            if let Some(e) = evidence {
                r = r.evidence(e);
            }
            r
        })
        .collect()
}

fn spec_of(id: &str) -> &'static str {
    match id {
        SPDM_SIGNATURE => SPEC_SPDM,
        DEVICE_CHAIN => SPEC_CHAIN,
        RIM_SIGNATURE => SPEC_RIM,
        VERSIONS => SPEC_VERSIONS,
        MEASUREMENTS => SPEC_GOLDEN,
        NONCE => SPEC_NONCE,
        FWID => SPEC_FWID,
        _ => SPEC_BINDING,
    }
}

/// The check id for a device kind: the `gpu.*` ids, or the same names in
/// the `switch` family for NVSwitches (one logic, two families).
pub fn id_of(kind: DeviceKind, id: &str) -> String {
    match kind {
        DeviceKind::Gpu => id.to_string(),
        DeviceKind::Switch => id.replacen("gpu.", "switch.", 1),
    }
}

/// Title for a device kind (`GPU …` or `NVSwitch …`).
fn title_for(kind: DeviceKind, id: &str) -> String {
    let t = title_of(id);
    match kind {
        DeviceKind::Gpu => t.to_string(),
        DeviceKind::Switch => t
            .replacen("GPU driver and VBIOS", "NVSwitch BIOS", 1)
            .replacen("GPU", "NVSwitch", 1),
    }
}

fn title_of(id: &str) -> &'static str {
    if id == NONCE {
        return "GPU answered the nonce the evidence file states";
    }
    if id == FWID {
        return "GPU firmware id in the report equals the leaf certificate's";
    }
    CHECKS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, t)| *t)
        .unwrap_or("GPU check")
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    run_kind(ctx, DeviceKind::Gpu)
}

/// The `switch` family: NVSwitch evidence imported with
/// `collect --switch-evidence` (member `evidence/gpu/nvidia-switch-evidence.json`),
/// judged by the same logic as GPUs under `switch.*` ids. No result at all
/// when the bundle holds no switch evidence (switches are optional
/// evidence; a protocol that needs them says so with `switch.*`).
pub fn run_switches(ctx: &Context) -> Vec<CheckResult> {
    run_kind(ctx, DeviceKind::Switch)
}

/// The supplied RIMs (member name, text), shared by GPUs and switches (and
/// read by `gpu.ocsp` for the RIM signing chains).
pub(crate) fn supplied_rims(ctx: &Context) -> Vec<(String, String)> {
    let rim_prefix = format!("evidence/{}", nvidia::RIM_DIR);
    ctx.members_under(&rim_prefix)
        .into_iter()
        .map(|p| {
            let text = ctx
                .member(p)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            (p.to_string(), text)
        })
        .collect()
}

fn run_kind(ctx: &Context, kind: DeviceKind) -> Vec<CheckResult> {
    let switch_member = format!("evidence/{}", nvidia::SWITCH_MEMBER);
    let switch_bytes = ctx.member(&switch_member);
    if kind == DeviceKind::Switch && switch_bytes.is_none() {
        return Vec::new();
    }
    let section: GpuSection = ctx.protocol.sections.gpu();
    let (policy_src, policy_text) = match (&ctx.options.gpu_cert_time, &section.cert_time) {
        (Some(cli), _) => ("--gpu-cert-time", cli.clone()),
        (None, Some(p)) => ("protocol", p.clone()),
        (None, None) => ("default", "evaluation".to_string()),
    };
    let policy = match CertTimePolicy::parse(&policy_text) {
        Ok(p) => p,
        Err(e) => return all_of(kind, Status::Fail, &format!("{policy_src}: {e}"), None),
    };
    let (src_owned, gpus, report_data) = match kind {
        DeviceKind::Switch => {
            let bytes = switch_bytes.unwrap_or_default();
            match nvidia::parse_as(kind, bytes, &supplied_rims(ctx), 0) {
                Ok(s) => (
                    switch_member.clone(),
                    s,
                    ctx.doc.as_ref().ok().map(|d| d.report_data()),
                ),
                Err(e) => {
                    return all_of(
                        kind,
                        Status::Fail,
                        &format!("{switch_member}: {e}"),
                        Some(&switch_member),
                    )
                }
            }
        }
        DeviceKind::Gpu => match gpu_devices(ctx, &section, switch_bytes.is_some()) {
            Ok(x) => x,
            Err(r) => return r,
        },
    };
    let src = src_owned.as_str();
    let env = Env {
        ctx,
        policy,
        policy_src,
        section: &section,
        src,
        report_data,
    };
    let mut out = Vec::new();
    let mut facts = Facts::default();
    let outcomes: Vec<GpuOutcome> = par_map(&gpus, |g| env.check_gpu(g));
    for o in &outcomes {
        facts.add(o);
    }
    for (g, mut o) in gpus.iter().zip(outcomes) {
        let rs = std::mem::take(&mut o.results);
        let dup = o
            .device_id
            .as_ref()
            .map(|d| facts.device_ids.iter().filter(|x| *x == d).count())
            .unwrap_or(0);
        // The binding caveat comes first: when nothing fails, it is the
        // first warning and so the family's line in the terminal summary.
        out.push(env.binding(g, &o, dup, gpus.len()));
        out.extend(rs);
    }
    // Facts (aggregated over devices) ride on the first binding result.
    let binding = id_of(kind, BINDING);
    if let Some(b) = out.iter_mut().find(|r| r.id == binding) {
        facts.attach(b, kind, gpus.len(), &policy);
    }
    out
}

/// `items.iter().map(f)`, on up to as many threads as the machine has cores
/// (at most 4), results in item order. An HGX box brings 8 GPUs and 4
/// switches: their reports and per-device chain links are independent
/// P-384 verifications, which dominate the audit (links shared by devices
/// are verified once through the memo). A panic is propagated.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(done) => {
                    for (i, r) in done {
                        slots[i] = Some(r);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots
        .into_iter()
        .map(|r| r.expect("every item was taken by a worker"))
        .collect()
}

/// [`spdm::Measurements::verify`] through the process-wide signature memo
/// (`util::memo_verify`): `ppcie.topology` authenticates the same reports
/// again, and the second verification then costs a hash, not a signature.
pub(crate) fn verify_spdm(m: &gpu::spdm::Measurements, leaf_spki: &[u8]) -> Result<(), String> {
    let mut err = None;
    let ok = crate::util::memo_verify(
        "spdm-ecdsa-p384-sha384",
        leaf_spki,
        &m.signed_message(),
        &m.response.signature,
        || match m.verify(leaf_spki) {
            Ok(()) => true,
            Err(e) => {
                err = Some(e);
                false
            }
        },
    );
    match (ok, err) {
        (true, _) => Ok(()),
        (false, Some(e)) => Err(e),
        // Remembered failure: the message `verify` gives for a bad signature.
        (false, None) => m.verify(leaf_spki),
    }
}

/// The GPUs of the bundle: from the attestation document (Blyss shape)
/// and/or from NVIDIA's interchange file imported beside it; the checks are
/// the same for both. `Err` holds the family's results when no GPU can be
/// looked at. `(source, GPUs, REPORT_DATA)`.
#[allow(clippy::type_complexity)]
fn gpu_devices(
    ctx: &Context,
    section: &GpuSection,
    switches_present: bool,
) -> Result<(String, Vec<GpuEvidence>, Option<[u8; 64]>), Vec<CheckResult>> {
    let imported = ctx.member(&format!("evidence/{}", nvidia::MEMBER));
    let doc = match (ctx.doc, imported) {
        (Ok(d), _) => Some(d),
        (Err(_), Some(_)) => None,
        // A switch-only import: the GPU family has nothing to judge (and
        // no document to blame); the switch family reports.
        (Err(_), None) if switches_present => None,
        (Err(e), None) => {
            return Err(all(
                Status::Fail,
                &format!(
                    "GPU evidence cannot be examined: the attestation document is unusable ({e})"
                ),
                None,
            ))
        }
    };
    let src_owned = match (doc, imported) {
        (Some(d), _) => d.source.clone(),
        (None, Some(_)) => format!("evidence/{}", nvidia::MEMBER),
        (None, None) => format!("evidence/{}", nvidia::SWITCH_MEMBER),
    };
    let src = src_owned.as_str();
    let mut gpus = match doc.and_then(|d| d.gpu.as_ref()) {
        None => Vec::new(),
        Some(v) => match gpu::parse(v) {
            Ok(g) => g,
            Err(e) => return Err(all(Status::Fail, &format!("{src}: {e}"), Some(src))),
        },
    };
    if let Some(bytes) = imported {
        match nvidia::parse(bytes, &supplied_rims(ctx), gpus.len()) {
            Ok(g) => gpus.extend(g),
            Err(e) => {
                let m = format!("evidence/{}", nvidia::MEMBER);
                return Err(all(Status::Fail, &format!("{m}: {e}"), Some(&m)));
            }
        }
    }
    if gpus.is_empty() {
        return Err(match section.evidence {
            Presence::Required => all(
                Status::Fail,
                &format!(
                    "protocol {} requires NVIDIA GPU evidence; the {} has none",
                    ctx.protocol.id,
                    if switches_present && doc.is_none() {
                        "bundle (NVSwitch evidence only)"
                    } else {
                        "document"
                    }
                ),
                Some(src),
            ),
            Presence::WhenPresent => all(
                Status::NotApplicable,
                &format!(
                    "the {} carries no GPU evidence; protocol {} requires it only when present",
                    if switches_present && doc.is_none() {
                        "bundle (NVSwitch evidence only)"
                    } else {
                        "document"
                    },
                    ctx.protocol.id
                ),
                Some(src),
            ),
        });
    }
    Ok((src_owned, gpus, doc.map(|d| d.report_data())))
}

#[derive(Default)]
struct Facts {
    device_ids: Vec<String>,
    drivers: Vec<String>,
    vbioses: Vec<String>,
    measurements: Vec<String>,
}

impl Facts {
    fn add(&mut self, o: &GpuOutcome) {
        if let Some(d) = &o.device_id {
            self.device_ids.push(d.clone());
        }
        if let Some((d, v)) = &o.versions {
            if !self.drivers.contains(d) {
                self.drivers.push(d.clone());
            }
            if !self.vbioses.contains(v) {
                self.vbioses.push(v.clone());
            }
        }
        if let Some(m) = &o.measurements {
            self.measurements.push(m.clone());
        }
    }

    fn attach(&self, r: &mut CheckResult, kind: DeviceKind, count: usize, policy: &CertTimePolicy) {
        let f = |k: &str| format!("fact:{}.{k}", kind.prefix());
        r.details.insert(f("count"), json!(count));
        r.details.insert(f("device-ids"), json!(self.device_ids));
        r.details.insert(f("bound-to-snp-report"), json!(false));
        r.details
            .insert(f("cert-time-policy"), json!(policy.label()));
        if !self.vbioses.is_empty() {
            if kind == DeviceKind::Gpu {
                r.details
                    .insert(f("driver-version"), json!(self.drivers.join(", ")));
                r.details
                    .insert(f("vbios-version"), json!(self.vbioses.join(", ")));
            } else {
                r.details
                    .insert(f("bios-version"), json!(self.vbioses.join(", ")));
            }
        }
        if !self.measurements.is_empty() {
            r.details
                .insert(f("measurements"), json!(self.measurements.join(", ")));
        }
        if kind == DeviceKind::Switch {
            let mut distinct = self.device_ids.clone();
            distinct.sort();
            distinct.dedup();
            r.details
                .insert(f("distinct-devices"), json!(distinct.len()));
        }
    }
}

struct Env<'a> {
    ctx: &'a Context<'a>,
    policy: CertTimePolicy,
    policy_src: &'static str,
    section: &'a GpuSection,
    src: &'a str,
    /// `None`: the bundle has no usable SNP report (GPU evidence only).
    report_data: Option<[u8; 64]>,
}

/// What one GPU's checks established, for facts and the binding result.
struct GpuOutcome {
    results: Vec<CheckResult>,
    /// SAN device id, only when the device chain verified.
    device_id: Option<String>,
    /// (driver, vbios) from authenticated opaque data matching the RIMs.
    versions: Option<(String, String)>,
    /// "33/33" when every golden value matched authenticated evidence.
    measurements: Option<String>,
    /// Every GPU check (except binding) passed or warned.
    verified: bool,
    /// Some check passed only under a relaxed time policy (warned).
    relaxed: bool,
}

/// Result of judging a chain's validity under the time policy.
struct TimeJudgement {
    /// Problems that remain under the policy (fail).
    issues: Vec<String>,
    /// Problems at the evaluation time that only the policy waived (warn).
    waived: Vec<String>,
}

impl Env<'_> {
    fn result(&self, g: &GpuEvidence, id: &str, status: Status, summary: String) -> CheckResult {
        let mut r = CheckResult::new(&id_of(g.kind, id), &title_for(g.kind, id), status, summary)
            .subject(g.subject())
            .evidence(g.member.as_deref().unwrap_or(self.src))
            .spec(spec_of(id));
        if let Some(i) = g.gpu_idx {
            r = r.detail("gpu_idx", i);
        }
        r
    }

    fn judge(&self, chain: &Chain) -> TimeJudgement {
        let at_eval = chain.time_issues(self.ctx.eval_time, false);
        let issues = match self.policy {
            CertTimePolicy::Evaluation => at_eval.clone(),
            CertTimePolicy::At(t) => chain.time_issues(t, false),
            CertTimePolicy::IgnoreExpiryUnsafe => chain.time_issues(self.ctx.eval_time, true),
        };
        // Problems at the evaluation time that the policy waived; when
        // problems remain anyway, the result fails and nothing is waived.
        let waived = if issues.is_empty() {
            at_eval
        } else {
            Vec::new()
        };
        TimeJudgement { issues, waived }
    }

    /// "valid at <t> (policy …)" for summaries.
    fn time_phrase(&self) -> String {
        match self.policy {
            CertTimePolicy::Evaluation => format!(
                "valid at the evaluation time {}",
                fmt_time(self.ctx.eval_time)
            ),
            CertTimePolicy::At(t) => format!(
                "valid at {} chosen by {} (RELAXED: not the evaluation time {})",
                fmt_time(t),
                self.policy_src,
                fmt_time(self.ctx.eval_time)
            ),
            CertTimePolicy::IgnoreExpiryUnsafe => format!(
                "expiry NOT checked ({} ignore-expiry-unsafe), not-before checked at {}",
                self.policy_src,
                fmt_time(self.ctx.eval_time)
            ),
        }
    }

    fn time_details(&self, mut r: CheckResult, tj: &TimeJudgement) -> CheckResult {
        r = r
            .detail("cert_time_policy", self.policy.label())
            .detail("cert_time_policy_source", self.policy_src)
            .detail("cert_time_policy_relaxing", self.policy.relaxing())
            .detail("evaluation_time", fmt_time(self.ctx.eval_time));
        if !tj.waived.is_empty() {
            r = r.detail("validity_problems_waived_by_policy", tj.waived.clone());
        }
        r
    }

    fn check_gpu(&self, g: &GpuEvidence) -> GpuOutcome {
        if let Some(e) = &g.entry_error {
            let results = CHECKS
                .iter()
                .filter(|(id, _)| *id != BINDING)
                .map(|(id, _)| self.result(g, id, Status::Fail, e.clone()))
                .collect();
            return GpuOutcome {
                results,
                device_id: None,
                versions: None,
                measurements: None,
                verified: false,
                relaxed: false,
            };
        }
        let mut results = Vec::new();

        // The RIMs (two XML signatures and their chains) are verified on a
        // second thread while this one verifies the device chain and the
        // SPDM signature: the two halves are independent, and each is a
        // handful of P-384 verifications.
        let (chain, (spdm_ok, spdm_result), rims) = std::thread::scope(|s| {
            let rims = s.spawn(|| match g.kind {
                DeviceKind::Gpu => vec![
                    self.rim(RimKind::Driver, &g.driver_rim),
                    self.rim(RimKind::Vbios, &g.vbios_rim),
                ],
                DeviceKind::Switch => vec![self.rim(RimKind::SwitchBios, &g.vbios_rim)],
            });
            let chain = g.cert_chain.clone().and_then(|c| {
                certs::verify_chain(
                    &c,
                    &self.ctx.trust.nvidia_device_roots,
                    LeafUse::DigitalSignature,
                )
            });
            let spdm = self.spdm(g);
            let rims = rims
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (chain, spdm, rims)
        });

        // Device chain.
        let (chain_ok, device_id, chain_result) = self.device_chain(g, &chain);
        results.push(chain_result);

        // SPDM signature.
        results.insert(0, spdm_result);
        if g.member.is_some() {
            results.insert(1, self.nonce(g, spdm_ok));
        }
        let spdm_auth = spdm_ok && chain_ok;
        if g.member.is_some() {
            let chain_id = id_of(g.kind, DEVICE_CHAIN);
            let at = results
                .iter()
                .position(|r| r.id == chain_id)
                .map_or(results.len(), |i| i + 1);
            results.insert(at, self.fwid(g, &chain, spdm_auth));
        }

        // RIMs.
        results.push(self.rim_result(g, &rims));
        let rims_auth = rims.iter().all(|r| r.ok);

        let mut unauth = Vec::new();
        if !spdm_ok {
            unauth.push(format!(
                "the SPDM report signature did not verify ({})",
                id_of(g.kind, SPDM_SIGNATURE)
            ));
        } else if !chain_ok {
            unauth.push(format!(
                "the signing key's chain did not verify ({})",
                id_of(g.kind, DEVICE_CHAIN)
            ));
        }
        if !rims_auth {
            unauth.push(format!(
                "the RIMs did not authenticate ({})",
                id_of(g.kind, RIM_SIGNATURE)
            ));
        }

        let (versions, vr) = self.versions(g, &rims, device_id.as_deref(), &unauth);
        results.push(vr);
        let (measurements, mr) = self.measurements(g, &rims, &unauth);
        results.push(mr);
        let verified = results.iter().all(|r| r.status != Status::Fail);
        let relaxed = results.iter().any(|r| r.status == Status::Warn);
        GpuOutcome {
            results,
            verified,
            relaxed,
            device_id: if chain_ok { device_id } else { None },
            versions: if spdm_auth && rims_auth {
                versions
            } else {
                None
            },
            measurements: if spdm_auth && rims_auth {
                measurements
            } else {
                None
            },
        }
    }

    fn device_chain(
        &self,
        g: &GpuEvidence,
        chain: &Result<Chain, String>,
    ) -> (bool, Option<String>, CheckResult) {
        let anchors: Vec<String> = self
            .ctx
            .trust
            .nvidia_device_roots
            .iter()
            .map(|d| crate::util::sha256_hex(d))
            .collect();
        let expected = format!(
            "chain to a pinned NVIDIA Device Identity CA ({}) with every certificate {}",
            anchors
                .iter()
                .map(|a| short_hex(a))
                .collect::<Vec<_>>()
                .join(", "),
            self.time_phrase()
        );
        match chain {
            Err(e) => (
                false,
                None,
                self.result(
                    g,
                    DEVICE_CHAIN,
                    Status::Fail,
                    format!("device certificate chain rejected: {e}"),
                )
                .expected(expected)
                .actual(e.clone()),
            ),
            Ok(c) => {
                let tj = self.judge(c);
                let san = c.leaf().nvidia_san();
                let dev = san.clone().unwrap_or_else(|| "(no NVIDIA SAN)".into());
                let path = c
                    .certs
                    .iter()
                    .map(|x| short_cn(&x.subject))
                    .collect::<Vec<_>>()
                    .join(" → ");
                let (status, summary) = if !tj.issues.is_empty() {
                    (
                        Status::Fail,
                        format!("device {dev}: {}", tj.issues.join("; ")),
                    )
                } else if san.is_none() {
                    (
                        Status::Fail,
                        "the leaf certificate has no NVIDIA device id (SAN otherName 1.3.6.1.4.1.412.274.1)".to_string(),
                    )
                } else if !tj.waived.is_empty() {
                    (
                        Status::Warn,
                        format!(
                            "device {dev}: chain verifies to the pinned root only under a relaxed time policy: {}",
                            tj.waived.join("; ")
                        ),
                    )
                } else {
                    (
                        Status::Pass,
                        format!(
                            "device {dev}: {} certificates, pinned root {}, {}",
                            c.certs.len(),
                            short_hex(&c.anchor_sha256),
                            self.time_phrase()
                        ),
                    )
                };
                let r = self
                    .result(g, DEVICE_CHAIN, status, summary)
                    .expected(expected)
                    .actual(format!("{path}; root sha256 {}", c.anchor_sha256))
                    .detail("chain", c.describe())
                    .detail("anchor_sha256", c.anchor_sha256.clone())
                    .detail("leaf_sha256", c.leaf().sha256.clone());
                let r = match &san {
                    Some(s) => r.detail("device_id", s.clone()),
                    None => r,
                };
                let r = self.time_details(r, &tj);
                (status != Status::Fail, san, r)
            }
        }
    }

    fn spdm(&self, g: &GpuEvidence) -> (bool, CheckResult) {
        let expected = "ECDSA P-384/SHA-384 signature by the device leaf key over the rebuilt GET_MEASUREMENTS request ‖ MEASUREMENTS response; request nonce = published nonce".to_string();
        let fail = |msg: String| {
            (
                false,
                self.result(g, SPDM_SIGNATURE, Status::Fail, msg.clone())
                    .expected(expected.clone())
                    .actual(msg),
            )
        };
        let m = match &g.measurements {
            Ok(m) => m,
            Err(e) => return fail(format!("SPDM report unusable: {e}")),
        };
        let leaf = match g
            .cert_chain
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|c| certs::CertInfo::parse(&c[0]))
            .and_then(|c| c.spki_der())
        {
            Ok(k) => k,
            Err(e) => return fail(format!("no usable leaf key: {e}")),
        };
        let nonce = match &g.nonce {
            Ok(n) => *n,
            Err(e) => return fail(e.clone()),
        };
        let msg = m.signed_message();
        let base = |r: CheckResult| {
            r.detail("request_nonce", hex::encode(m.request.nonce))
                .detail("response_nonce", hex::encode(m.response.nonce))
                .detail("published_nonce", hex::encode(nonce))
                .detail("measurement_blocks", m.response.blocks.len())
                .detail("signed_bytes", msg.len())
                .detail("signed_sha384", hex::encode(crate::util::sha384(&msg)))
                .detail(
                    "opaque_fields",
                    m.response.opaque.iter().map(|f| f.name).collect::<Vec<_>>(),
                )
                .expected(expected.clone())
        };
        if let Err(e) = verify_spdm(m, &leaf) {
            return (
                false,
                base(self.result(g, SPDM_SIGNATURE, Status::Fail, e.clone())).actual(e),
            );
        }
        if m.request.nonce != nonce {
            let s = format!(
                "the {} signed nonce {} but the document publishes nonce {}",
                g.kind.noun(),
                hex::encode(m.request.nonce),
                hex::encode(nonce)
            );
            return (
                false,
                base(self.result(g, SPDM_SIGNATURE, Status::Fail, s.clone())).actual(s),
            );
        }
        let s = format!(
            "SPDM {}.{} report ({} blocks, nonce {}) verifies with the device leaf key over {} rebuilt bytes",
            m.request.version >> 4,
            m.request.version & 0xF,
            m.response.blocks.len(),
            short_hex(&hex::encode(nonce)),
            msg.len()
        );
        (
            true,
            base(self.result(g, SPDM_SIGNATURE, Status::Pass, s))
                .actual("signature valid; nonce matches".to_string()),
        )
    }

    /// `gpu.nonce`: the nonce inside the signed request equals the nonce
    /// the interchange file says was asked. Passes only when the signature
    /// over that request verified (otherwise the request nonce is just a
    /// claim).
    fn nonce(&self, g: &GpuEvidence, spdm_ok: bool) -> CheckResult {
        let stated = match &g.nonce {
            Ok(n) => hex::encode(n),
            Err(e) => return self.result(g, NONCE, Status::Fail, e.clone()),
        };
        let signed = match &g.measurements {
            Ok(m) => hex::encode(m.request.nonce),
            Err(e) => {
                return self.result(g, NONCE, Status::Fail, format!("SPDM report unusable: {e}"))
            }
        };
        let (status, summary) = if signed != stated {
            (
                Status::Fail,
                format!(
                    "the {} answered nonce {signed}, not the nonce {stated} the file states",
                    g.kind.noun()
                ),
            )
        } else if !spdm_ok {
            (
                Status::Fail,
                format!(
                    "the request carries the stated nonce {}, but its signature did not verify ({})",
                    short_hex(&stated),
                    id_of(g.kind, SPDM_SIGNATURE)
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "the signed request carries the stated nonce {}",
                    short_hex(&stated)
                ),
            )
        };
        self.result(g, NONCE, status, summary)
            .expected(format!("request nonce = file nonce {stated}"))
            .actual(format!("signed request nonce {signed}"))
    }

    /// `gpu.fwid`: where the signed opaque data carries an FWID, it must be
    /// one of the FWIDs of the device leaf's DICE extension. Passes only
    /// when both sides are authenticated (signature and chain verified).
    fn fwid(&self, g: &GpuEvidence, chain: &Result<Chain, String>, auth: bool) -> CheckResult {
        let fail = |s: String| self.result(g, FWID, Status::Fail, s);
        let m = match &g.measurements {
            Ok(m) => m,
            Err(e) => return fail(format!("SPDM report unusable: {e}")),
        };
        let Some(fwid) = m.fwid() else {
            return self.result(
                g,
                FWID,
                Status::NotApplicable,
                match g.kind {
                    DeviceKind::Gpu => "the report's opaque data has no FWID field (drivers before 550 do not send one)",
                    DeviceKind::Switch => "the report's opaque data has no FWID field (the LS10 switch firmware seen so far sends none)",
                }
                .to_string(),
            );
        };
        let leaf = match chain {
            Ok(c) => c.leaf().clone(),
            Err(e) => return fail(format!("no verified leaf certificate: {e}")),
        };
        let certs_fwids = match leaf.dice_fwids() {
            Ok(Some(f)) => f,
            Ok(None) => {
                return fail(format!(
                    "the report carries FWID {} but the leaf certificate has no DICE FWID extension ({} or {})",
                    hex::encode(fwid),
                    certs::DICE_TCB_INFO,
                    certs::DICE_TCB_INFO_BLACKWELL
                ))
            }
            Err(e) => return fail(e),
        };
        let listed: Vec<String> = certs_fwids.iter().map(|(_, d)| hex::encode(d)).collect();
        let r = if !certs_fwids.iter().any(|(_, d)| d.as_slice() == fwid) {
            fail(format!(
                "the report's FWID {} is not the leaf certificate's ({})",
                hex::encode(fwid),
                if listed.is_empty() {
                    "none".to_string()
                } else {
                    listed.join(", ")
                }
            ))
        } else if !auth {
            fail(format!(
                "FWIDs agree ({}), but the report or the chain did not verify ({}, {})",
                short_hex(&hex::encode(fwid)),
                id_of(g.kind, SPDM_SIGNATURE),
                id_of(g.kind, DEVICE_CHAIN)
            ))
        } else {
            self.result(
                g,
                FWID,
                Status::Pass,
                format!(
                    "the signed FWID {} equals the leaf certificate's DICE FWID",
                    short_hex(&hex::encode(fwid))
                ),
            )
        };
        r.expected(format!(
            "opaque FWID = a FWID of the leaf's DICE extension ({} on Hopper, {} on Blackwell)",
            certs::DICE_TCB_INFO,
            certs::DICE_TCB_INFO_BLACKWELL
        ))
        .actual(format!(
            "report {}; certificate {}",
            hex::encode(fwid),
            listed.join(", ")
        ))
    }

    fn rim(&self, kind: RimKind, text: &Result<String, String>) -> RimOutcome {
        let name = kind.label();
        // Protocol RIM pins name their kind as `driver` / `vbios`.
        let pin_kind = kind.as_str();
        let mut o = RimOutcome {
            kind,
            rim: None,
            ok: false,
            waived: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
            chain: Vec::new(),
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                o.problems.push(e.clone());
                return o;
            }
        };
        let rim = match Rim::parse(kind, text) {
            Ok(r) => r,
            Err(e) => {
                o.problems.push(format!("{name} RIM: {e}"));
                return o;
            }
        };
        if let Err(e) = rim.verify_signature() {
            o.problems.push(format!("{name} RIM XMLDSig: {e}"));
        }
        match certs::verify_chain(
            &rim.signature.certs,
            &self.ctx.trust.nvidia_rim_roots,
            LeafUse::DigitalSignature,
        ) {
            Err(e) => o.problems.push(format!("{name} RIM signing chain: {e}")),
            Ok(c) => {
                let tj = self.judge(&c);
                o.chain = c.describe();
                for i in tj.issues {
                    o.problems.push(format!("{name} RIM signing chain: {i}"));
                }
                o.waived = tj.waived;
            }
        }
        let pins: Vec<&RimPin> = self
            .section
            .rim_pins
            .iter()
            .filter(|p| p.kind == pin_kind)
            .collect();
        if !self.section.rim_pins.is_empty() {
            match pins.iter().find(|p| p.sha256 == rim.sha256) {
                None => o.problems.push(format!(
                    "{name} RIM sha256 {} is not pinned by protocol {}",
                    rim.sha256, self.ctx.protocol.id
                )),
                Some(p) if p.version != rim.version => o.problems.push(format!(
                    "{name} RIM is pinned as version {} but says {}",
                    p.version, rim.version
                )),
                Some(_) => o
                    .notes
                    .push(format!("{name} RIM sha256 pinned by the protocol")),
            }
        }
        o.ok = o.problems.is_empty();
        o.rim = Some(rim);
        o
    }

    fn rim_result(&self, g: &GpuEvidence, rims: &[RimOutcome]) -> CheckResult {
        let problems: Vec<String> = rims.iter().flat_map(|r| r.problems.clone()).collect();
        let waived: Vec<String> = rims.iter().flat_map(|r| r.waived.clone()).collect();
        let desc: Vec<String> = rims
            .iter()
            .map(|r| match &r.rim {
                Some(x) => format!("{} RIM {} {}", r.kind.label(), x.product, x.version),
                None => format!("{} RIM (unreadable)", r.kind.label()),
            })
            .collect();
        let pinned = !self.section.rim_pins.is_empty();
        let roots: Vec<String> = self
            .ctx
            .trust
            .nvidia_rim_roots
            .iter()
            .map(|d| short_hex(&crate::util::sha256_hex(d)))
            .collect();
        let expected = format!(
            "XMLDSig (enveloped, C14N 1.1, ecdsa-sha384) valid, signing chain to a pinned NVIDIA CoRIM root ({}) {}{}",
            roots.join(", "),
            self.time_phrase(),
            if pinned {
                format!(", RIM sha256 pinned by protocol {}", self.ctx.protocol.id)
            } else {
                String::new()
            }
        );
        let (status, summary) = if !problems.is_empty() {
            (Status::Fail, problems.join("; "))
        } else if !waived.is_empty() {
            (
                Status::Warn,
                format!(
                    "{}: signatures verify only under a relaxed time policy: {}",
                    desc.join(", "),
                    waived.join("; ")
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{}: XMLDSig valid, chains to the pinned NVIDIA CoRIM root, {}{}",
                    desc.join(" and "),
                    self.time_phrase(),
                    if pinned {
                        ", sha256 pinned by the protocol"
                    } else {
                        ""
                    }
                ),
            )
        };
        let mut r = self
            .result(g, RIM_SIGNATURE, status, summary)
            .expected(expected)
            .actual(if problems.is_empty() {
                match rims.len() {
                    1 => "the RIM is authentic".to_string(),
                    _ => "both RIMs authentic".to_string(),
                }
            } else {
                problems.join("; ")
            });
        for o in rims {
            let k = o.kind.as_str();
            if let Some(x) = &o.rim {
                r = r
                    .detail(&format!("{k}_rim_sha256"), x.sha256.clone())
                    .detail(&format!("{k}_rim_version"), x.version.clone())
                    .detail(&format!("{k}_rim_tag_id"), x.tag_id.clone());
            }
            if !o.chain.is_empty() {
                r = r.detail(&format!("{k}_rim_signing_chain"), o.chain.clone());
            }
            if !o.notes.is_empty() {
                r = r.detail(&format!("{k}_rim_pin"), o.notes.join("; "));
            }
        }
        self.time_details(
            r,
            &TimeJudgement {
                issues: Vec::new(),
                waived,
            },
        )
    }

    fn versions(
        &self,
        g: &GpuEvidence,
        rims: &[RimOutcome],
        device_id: Option<&str>,
        unauth: &[String],
    ) -> (Option<(String, String)>, CheckResult) {
        let fail = |s: String| (None, self.result(g, VERSIONS, Status::Fail, s));
        let m = match &g.measurements {
            Ok(m) => m,
            Err(e) => return fail(format!("SPDM report unusable: {e}")),
        };
        let read: Vec<&Rim> = rims.iter().filter_map(|r| r.rim.as_ref()).collect();
        if read.len() != rims.len() {
            return fail(format!(
                "a RIM is missing or unreadable: {}",
                rims.iter()
                    .flat_map(|r| r.problems.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        // (label, signed value, exact comparison) per RIM, in RIM order.
        let signed: Vec<(&str, String, bool)> = match g.kind {
            DeviceKind::Gpu => match (m.driver_version(), m.vbios_version()) {
                (Ok(d), Ok(v)) => vec![("driver", d, true), ("VBIOS", v, false)],
                (Err(e), _) | (_, Err(e)) => return fail(e),
            },
            DeviceKind::Switch => match m.vbios_version() {
                Ok(v) => vec![("switch BIOS", v, false)],
                Err(e) => return fail(e),
            },
        };
        let noun = g.kind.noun();
        let mut problems = Vec::new();
        for ((label, v, exact), r) in signed.iter().zip(&read) {
            let same = if *exact {
                *v == r.version
            } else {
                v.eq_ignore_ascii_case(&r.version)
            };
            if !same {
                problems.push(format!(
                    "the {noun} reports {label} {v}, the {label} RIM is for {}",
                    r.version
                ));
            }
        }
        // The chip named in the device certificate and in the RIMs.
        if let Some(dev) = device_id {
            let chip = dev.split(':').nth(1).unwrap_or("");
            for r in &read {
                if !chip.is_empty() && !same_chip(&r.product, chip) {
                    problems.push(format!(
                        "the {} RIM is for {}, the device certificate names {chip}",
                        r.kind.as_str(),
                        r.product
                    ));
                }
            }
        }
        let (drv, vbios) = match signed.as_slice() {
            [(_, d, _), (_, v, _)] => (d.clone(), v.clone()),
            [(_, v, _)] => (String::new(), v.clone()),
            _ => (String::new(), String::new()),
        };
        // The unsigned gpu_info_obj must not contradict the signed values.
        if let Ok(Some(info)) = &g.info {
            if let Some(d) = &info.driver_version {
                if *d != drv {
                    problems.push(format!(
                        "the unsigned gpu_info_obj claims driver {d}, the signed report says {drv}"
                    ));
                }
            }
            if let Some(v) = &info.vbios_version {
                if !v.eq_ignore_ascii_case(&vbios) {
                    problems.push(format!(
                        "the unsigned gpu_info_obj claims VBIOS {v}, the signed report says {vbios}"
                    ));
                }
            }
        }
        if let Err(e) = &g.info {
            problems.push(e.clone());
        }
        let expected = format!(
            "{} (RIM colloquialVersion)",
            signed
                .iter()
                .zip(&read)
                .map(|((l, _, _), r)| format!("{l} {}", r.version))
                .collect::<Vec<_>>()
                .join(" / ")
        );
        let said = signed
            .iter()
            .map(|(l, v, _)| format!("{l} {v}"))
            .collect::<Vec<_>>();
        let actual = format!("{} (signed SPDM opaque data)", said.join(" / "));
        let (status, summary) = if !problems.is_empty() {
            (Status::Fail, problems.join("; "))
        } else if !unauth.is_empty() {
            (
                Status::Fail,
                format!(
                    "{} match the RIMs, but {}",
                    said.join(" and "),
                    unauth.join(" and ")
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{} (signed opaque data) {} the {} RIM{}",
                    said.join(" and "),
                    if said.len() == 1 { "matches" } else { "match" },
                    signed
                        .iter()
                        .map(|(l, _, _)| *l)
                        .collect::<Vec<_>>()
                        .join(" and "),
                    if said.len() == 1 { "" } else { "s" }
                ),
            )
        };
        let mut r = self
            .result(g, VERSIONS, status, summary)
            .expected(expected)
            .actual(actual);
        r = match g.kind {
            DeviceKind::Gpu => r
                .detail("driver_version", drv.clone())
                .detail("vbios_version", vbios.clone()),
            DeviceKind::Switch => r.detail("bios_version", vbios.clone()),
        };
        if let Ok(Some(info)) = &g.info {
            if let Some(u) = &info.uuid {
                r = r.detail("unsigned_gpu_uuid", u.clone());
            }
        }
        let ok = status == Status::Pass;
        (ok.then_some((drv, vbios)), r)
    }

    fn measurements(
        &self,
        g: &GpuEvidence,
        rims: &[RimOutcome],
        unauth: &[String],
    ) -> (Option<String>, CheckResult) {
        let fail = |s: String| (None, self.result(g, MEASUREMENTS, Status::Fail, s));
        let m = match &g.measurements {
            Ok(m) => m,
            Err(e) => return fail(format!("SPDM report unusable: {e}")),
        };
        let read: Vec<&Rim> = rims.iter().filter_map(|r| r.rim.as_ref()).collect();
        if read.len() != rims.len() {
            let why: Vec<String> = rims
                .iter()
                .filter(|r| r.rim.is_none())
                .flat_map(|r| r.problems.clone())
                .collect();
            return fail(format!(
                "not compared: {} (see {})",
                why.join("; "),
                id_of(g.kind, RIM_SIGNATURE)
            ));
        }
        let c = match golden::compare_all(&m.response.blocks, &read) {
            Ok(c) => c,
            Err(e) => return fail(format!("the RIMs are inconsistent: {e}")),
        };
        let n = c.compared.len();
        let k = c.matched();
        let count = format!("{k}/{n}");
        let mism: Vec<Value> = c
            .mismatches()
            .map(|x| {
                json!({
                    "index": x.index,
                    "spdm_block": x.index + 1,
                    "rim": x.rim.as_str(),
                    "name": x.name,
                    "expected_any_of": x.expected,
                    "actual": x.actual,
                    "reason": x.reason,
                })
            })
            .collect();
        let (status, summary) = if n == 0 {
            (
                Status::Fail,
                "the RIMs mark no measurement active: nothing was compared".to_string(),
            )
        } else if k != n {
            let idx: Vec<String> = c.mismatches().map(|x| x.index.to_string()).collect();
            (
                Status::Fail,
                format!(
                    "{count} measurements match; mismatched RIM index(es) {}",
                    idx.join(", ")
                ),
            )
        } else if !unauth.is_empty() {
            (
                Status::Fail,
                format!("{count} measurements match, but {}", unauth.join(" and ")),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{count} measurements match the golden values of the {} ({} blocks not covered by any RIM)",
                    match g.kind {
                        DeviceKind::Gpu => "driver and VBIOS RIMs",
                        DeviceKind::Switch => "switch-BIOS RIM",
                    },
                    c.uncompared_blocks
                ),
            )
        };
        let first_bad = c.mismatches().next();
        let r = self
            .result(g, MEASUREMENTS, status, summary)
            .expected(match first_bad {
                Some(b) => format!(
                    "index {} (SPDM block {}): one of {}",
                    b.index,
                    b.index + 1,
                    b.expected.join(" | ")
                ),
                None => format!("{n} active golden values matched by the SPDM blocks"),
            })
            .actual(match first_bad {
                Some(b) => format!(
                    "index {}: {}",
                    b.index,
                    b.actual.clone().unwrap_or_else(|| "(no block)".into())
                ),
                None => format!("{count} match"),
            })
            .detail("compared", n)
            .detail("matched", k)
            .detail("uncompared_blocks", c.uncompared_blocks)
            .detail(
                "active_indices",
                c.compared
                    .iter()
                    .map(|x| format!("{}:{}", x.rim.as_str(), x.index))
                    .collect::<Vec<_>>(),
            )
            .detail("mismatches", mism);
        let ok = status == Status::Pass;
        (ok.then_some(count), r)
    }

    fn binding(&self, g: &GpuEvidence, o: &GpuOutcome, dup: usize, total: usize) -> CheckResult {
        let device_id = o.device_id.as_deref();
        let dev = device_id.unwrap_or("(device id not verified)");
        let nonce = g.nonce.as_ref().ok();
        let in_rd = match (nonce, &self.report_data) {
            (Some(n), Some(rd)) => rd.windows(32).position(|w| w == n),
            _ => None,
        };
        let noun = g.kind.noun();
        let nonce_phrase = match (nonce, in_rd) {
            _ if self.report_data.is_none() => {
                format!("the bundle holds no usable SNP report to bind the {noun} evidence to")
            }
            (None, _) => format!("the evidence publishes no usable {noun} nonce"),
            (Some(_), None) => format!("the {noun} nonce appears nowhere in the SNP REPORT_DATA"),
            (Some(_), Some(off)) => format!(
                "the {noun} nonce appears in REPORT_DATA at offset {off}, but no protocol rule makes that a binding"
            ),
        };
        let (status, summary) = if dup > 1 && g.kind == DeviceKind::Switch {
            // The same switch report standing for several switches. Whether
            // the box's switches are distinct is judged against the GPUs'
            // signed link lists by `ppcie.topology` when GPUs come along;
            // here it is said, as a warning.
            (
                Status::Warn,
                format!(
                    "NOT bound to the SNP report or the TLS session, and device {dev} appears {dup} times among the {total} switch entries: these entries are one switch's report, not {dup} switches; {nonce_phrase}"
                ),
            )
        } else if dup > 1 {
            (
                Status::Fail,
                format!(
                    "device {dev} appears {dup} times among the {total} GPUs of this document: one GPU's evidence stands for several"
                ),
            )
        } else if let (true, Some((drv, vb)), Some(m)) = (o.verified, &o.versions, &o.measurements)
        {
            (
                Status::Warn,
                format!(
                    "{noun} {dev} verified on its own{} ({}, {m} measurements) but NOT bound to the SNP report or the TLS session: {nonce_phrase}",
                    if o.relaxed {
                        format!(
                            " only under the RELAXED certificate time policy {}",
                            self.policy.label()
                        )
                    } else {
                        String::new()
                    },
                    match g.kind {
                        DeviceKind::Gpu => format!("driver {drv}, VBIOS {vb}"),
                        DeviceKind::Switch => format!("switch BIOS {vb}"),
                    }
                ),
            )
        } else {
            (
                Status::Warn,
                format!(
                    "NOT bound to the SNP report or the TLS session, and {noun} {dev}'s evidence did not verify either (see the other {}.* results); {nonce_phrase}",
                    g.kind.prefix()
                ),
            )
        };
        let mut r = self
            .result(g, BINDING, status, summary)
            .expected(format!("a cryptographic link between the {noun} evidence and the SNP report or the TLS session (none exists in this protocol)"))
            .actual(format!(
                "no link: the {noun} signs a nonce chosen by software inside the guest, and no rule of protocol {} ties that nonce to REPORT_DATA or to the TLS certificate; {nonce_phrase}",
                self.ctx.protocol.id
            ))
            .detail("device_id", dev.to_string())
            .detail("occurrences_in_document", dup)
            .detail(
                "what_this_means",
                if g.kind == DeviceKind::Switch {
                    "when the other switch.* checks pass, the evidence proves that an NVIDIA NVSwitch with this device id, whose signed measurements match NVIDIA's signed reference values, answered this nonce; it does not prove that this switch belongs to the attested CPU VM's box or serves this TLS endpoint. Whether the box's switches are the ones its GPUs are linked to is judged by ppcie.topology when GPU evidence is imported beside the switches."
                } else {
                "when the other gpu.* checks pass, the GPU evidence proves that an NVIDIA GPU with this device id, whose signed measurements match NVIDIA's signed reference values, answered this nonce; it does not prove that this GPU is attached to the attested CPU VM or serves this TLS endpoint. Compare fact gpu.device-ids across reports to see whether the same GPU appears in other documents."
                },
            );
        if let Some(n) = nonce {
            r = r.detail("nonce", hex::encode(n));
        }
        r
    }
}

struct RimOutcome {
    kind: RimKind,
    rim: Option<Rim>,
    ok: bool,
    waived: Vec<String>,
    problems: Vec<String>,
    notes: Vec<String>,
    chain: Vec<String>,
}

/// Whether a RIM's `product` names the chip of the device certificate's
/// SAN. NVIDIA spells the switch chip `LS_10` in certificates and `LS10`
/// in RIMs, so underscores are ignored (and ASCII case); nothing else is
/// (`GH100` ≠ `GB100`).
fn same_chip(rim_product: &str, cert_chip: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    norm(rim_product) == norm(cert_chip)
}

/// `CN=…` of a distinguished name, else the whole name.
fn short_cn(dn: &str) -> String {
    dn.split(',')
        .find_map(|p| p.trim().strip_prefix("CN="))
        .map(String::from)
        .unwrap_or_else(|| dn.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This family's section, validated as part of a protocol file.
    fn validate_section(v: &serde_json::Value) -> Result<(), String> {
        crate::protocol::validate_one_section("gpu", v)
    }

    #[test]
    fn cert_time_policies_parse_and_label() {
        assert_eq!(
            CertTimePolicy::parse("evaluation").unwrap(),
            CertTimePolicy::Evaluation
        );
        assert_eq!(
            CertTimePolicy::parse("ignore-expiry-unsafe").unwrap(),
            CertTimePolicy::IgnoreExpiryUnsafe
        );
        let p = CertTimePolicy::parse("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(p.label(), "2024-01-01T00:00:00Z");
        assert!(p.relaxing());
        assert!(CertTimePolicy::parse("ignore-expiry").is_err());
        assert!(CertTimePolicy::parse("").is_err());
    }

    #[test]
    fn section_validation_rejects_bad_pins_and_policies() {
        assert!(validate_section(&json!({})).is_ok());
        assert!(
            validate_section(&json!({"evidence": "required", "cert_time": "evaluation"})).is_ok()
        );
        assert!(validate_section(&json!({"evidence": "sometimes"})).is_err());
        assert!(validate_section(&json!({"cert_time": "later"})).is_err());
        assert!(validate_section(&json!({"unknown": 1})).is_err());
        let pin =
            |k: &str, h: &str| json!({"rim_pins": [{"kind": k, "version": "1", "sha256": h}]});
        assert!(validate_section(&pin("driver", &"a".repeat(64))).is_ok());
        assert!(validate_section(&pin("firmware", &"a".repeat(64))).is_err());
        assert!(validate_section(&pin("driver", &"A".repeat(64))).is_err());
        assert!(validate_section(&pin("driver", "abcd")).is_err());
    }

    #[test]
    fn chip_names_match_across_nvidias_two_spellings_only() {
        assert!(same_chip("LS10", "LS_10"));
        assert!(same_chip("GH100", "GH100"));
        assert!(!same_chip("GH100", "GB100"));
        assert!(!same_chip("LS10", "LS_100"));
    }

    #[test]
    fn short_cn_extracts_the_common_name() {
        assert_eq!(
            short_cn("CN=NVIDIA Device Identity CA,O=NVIDIA"),
            "NVIDIA Device Identity CA"
        );
        assert_eq!(short_cn("O=x"), "O=x");
    }
}
