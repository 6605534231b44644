//! The check framework: every check is a pure function from evidence,
//! protocol, trust set and evaluation time to [`CheckResult`]s.
//!
//! Rules that the framework itself enforces (so that no family can forget
//! them):
//! * every family runs, whatever happened before (no early exit);
//! * every check id the protocol marks as required must produce at least one
//!   result; a required id that produced none becomes a synthetic failure
//!   (`fail closed`);
//! * the verdict is PASS only when no required result failed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::bundle::Bundle;
use crate::evidence::attestation::AttestationDocument;
use crate::protocol::Protocol;
use crate::trust::TrustSet;

pub mod amd;
pub mod bundle;
pub mod cmdline;
pub mod ct;
pub mod gpu;
pub mod images;
pub mod measurement;
pub mod ocsp;
pub mod ppcie;
pub mod snp;
pub mod tinfoil;
pub mod tls;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The rule holds on the evidence.
    Pass,
    /// The rule does not apply (for example TLS checks on an attestation-only
    /// bundle audited with `--scope attestation`).
    NotApplicable,
    /// Something a reviewer must read, which does not by itself fail the audit.
    Warn,
    /// The rule does not hold, or the evidence needed to decide is missing.
    Fail,
}

impl Status {
    /// The glyph used by the terminal summary.
    pub fn icon(self) -> &'static str {
        match self {
            Status::Pass => "✅",
            Status::Fail => "❌",
            Status::Warn => "⚠️",
            Status::NotApplicable => "➖",
        }
    }

    /// Lower-case label (`pass`, `fail`, `warn`, `not-applicable`).
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NotApplicable => "not-applicable",
        }
    }
}

/// One result of one check. The serialised form is part of the JSON report
/// contract (`protocol/report-schema.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable kebab-case id, `family.name` (for example `snp.report-signature`).
    pub id: String,
    /// What the result is about when a check yields one result per item
    /// (an SCT, an image, a GPU); `None` for single-result checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Family: the part of `id` before the first dot.
    pub family: String,
    /// Human title of the check.
    pub title: String,
    pub status: Status,
    /// Whether the protocol makes this check count towards the verdict.
    pub required: bool,
    /// One line saying what was found.
    pub summary: String,
    /// What the rule expects, as a value a reviewer can compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the evidence shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// Bundle members (paths inside the zip) the check read.
    pub evidence: Vec<String>,
    /// Where the rule comes from (spec section, or original verifier rule).
    pub spec: String,
    /// Extra key values shown in the report (sorted keys).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, serde_json::Value>,
}

impl CheckResult {
    /// Starts a result; `required` is filled in by the framework from the protocol.
    pub fn new(id: &str, title: &str, status: Status, summary: impl Into<String>) -> Self {
        CheckResult {
            id: id.to_string(),
            subject: None,
            family: id.split('.').next().unwrap_or(id).to_string(),
            title: title.to_string(),
            status,
            required: false,
            summary: summary.into(),
            expected: None,
            actual: None,
            evidence: Vec::new(),
            spec: String::new(),
            details: BTreeMap::new(),
        }
    }
    pub fn pass(id: &str, title: &str, summary: impl Into<String>) -> Self {
        Self::new(id, title, Status::Pass, summary)
    }
    pub fn fail(id: &str, title: &str, summary: impl Into<String>) -> Self {
        Self::new(id, title, Status::Fail, summary)
    }
    pub fn warn(id: &str, title: &str, summary: impl Into<String>) -> Self {
        Self::new(id, title, Status::Warn, summary)
    }
    pub fn not_applicable(id: &str, title: &str, summary: impl Into<String>) -> Self {
        Self::new(id, title, Status::NotApplicable, summary)
    }
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = Some(s.into());
        self
    }
    pub fn expected(mut self, s: impl Into<String>) -> Self {
        self.expected = Some(s.into());
        self
    }
    pub fn actual(mut self, s: impl Into<String>) -> Self {
        self.actual = Some(s.into());
        self
    }
    pub fn evidence(mut self, path: impl Into<String>) -> Self {
        let p = path.into();
        if !self.evidence.contains(&p) {
            self.evidence.push(p);
        }
        self
    }
    pub fn spec(mut self, s: impl Into<String>) -> Self {
        self.spec = s.into();
        self
    }
    pub fn detail(mut self, k: &str, v: impl Into<serde_json::Value>) -> Self {
        self.details.insert(k.to_string(), v.into());
        self
    }
}

/// How much of the evidence the audit demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Everything the protocol requires; missing evidence fails.
    #[default]
    Full,
    /// Only the attestation document (an offline import): TLS handshake, CT
    /// and image checks are not applicable; the verdict says so.
    Attestation,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Full => "full",
            Scope::Attestation => "attestation",
        }
    }
}

/// Options that change how checks judge evidence, set on the command line.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    pub scope: Scope,
    /// DER SubjectPublicKeyInfo or its SHA-256 the bundle signer must match.
    pub signer_pin: Option<SignerPin>,
    /// Override of the evaluation time (`--at`).
    pub at: Option<OffsetDateTime>,
    /// Override of the GPU certificate time policy (`--gpu-cert-time`).
    pub gpu_cert_time: Option<String>,
    /// `--no-redact`: show secrets from the evidence in the report.
    pub no_redact: bool,
    /// `--allow-provisional-firmware-unsafe`: provisional firmware
    /// (committed below current) is a warning instead of a failure, as if
    /// the protocol set `permit_provisional_firmware`; the result says the
    /// option did it.
    pub allow_provisional_firmware_unsafe: bool,
}

/// The pinned collector key, as given to `audit --signer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerPin {
    /// SHA-256 of the SPKI DER (the bundle's keyid), lower-case hex.
    Fingerprint(String),
}

/// Everything a check may look at. Checks never touch the file system, the
/// network or the clock: all of that is in here.
pub struct Context<'a> {
    pub bundle: &'a Bundle,
    /// The attestation document, or why it could not be parsed/found.
    pub doc: &'a Result<AttestationDocument, String>,
    pub protocol: &'a Protocol,
    pub trust: &'a TrustSet,
    pub options: &'a AuditOptions,
    /// The instant at which validity periods are judged.
    pub eval_time: OffsetDateTime,
}

impl Context<'_> {
    /// Bytes of a bundle member (full path inside the zip, `evidence/…`).
    pub fn member(&self, path: &str) -> Option<&[u8]> {
        self.bundle.member(path)
    }

    /// Paths of members under a prefix, sorted.
    pub fn members_under(&self, prefix: &str) -> Vec<&str> {
        self.bundle.members_under(prefix)
    }

    pub fn scope(&self) -> Scope {
        self.options.scope
    }
}

/// A family of checks: a name shown in summaries and the function that runs
/// it. Several entries may share an id (for example `snp` checks live in two
/// files); summaries group them by id.
pub struct Family {
    pub id: &'static str,
    pub title: &'static str,
    pub run: fn(&Context) -> Vec<CheckResult>,
    /// Scheduling hint only: families with a higher weight are started
    /// first when families run in parallel (public-key verification and the
    /// firmware measurement dominate an audit's run time). Results are
    /// always assembled in report order.
    pub weight: u8,
}

/// Families that produce results only when their evidence is in the
/// bundle (NVSwitch evidence, GPUs and switches imported together, Tinfoil
/// evidence or protocol); reports leave them out when they produced none.
pub const OPTIONAL_FAMILIES: &[&str] = &["switch", "ppcie", "tinfoil"];

/// All families, in report order. Each lives in its own file.
pub fn families() -> Vec<Family> {
    vec![
        Family {
            id: "bundle",
            title: "Evidence bundle",
            run: bundle::run,
            weight: 1,
        },
        Family {
            id: "amd",
            title: "AMD certificate chain",
            run: amd::run,
            weight: 1,
        },
        Family {
            id: "snp",
            title: "SEV-SNP report",
            run: snp::run,
            weight: 1,
        },
        Family {
            id: "snp",
            title: "SEV-SNP report",
            run: measurement::run,
            weight: 2,
        },
        Family {
            id: "protocol",
            title: "Protocol compliance",
            run: cmdline::run,
            weight: 0,
        },
        Family {
            id: "tls",
            title: "TLS binding",
            run: tls::run,
            weight: 1,
        },
        Family {
            id: "ct",
            title: "Certificate Transparency",
            run: ct::run,
            weight: 1,
        },
        Family {
            id: "images",
            title: "Container images",
            run: images::run,
            weight: 0,
        },
        Family {
            id: "tinfoil",
            title: "Tinfoil release",
            run: tinfoil::run,
            weight: 1,
        },
        Family {
            id: "gpu",
            title: "NVIDIA GPU",
            run: gpu::run,
            weight: 3,
        },
        Family {
            id: "gpu",
            title: "NVIDIA GPU",
            run: ocsp::run,
            weight: 1,
        },
        Family {
            id: "switch",
            title: "NVIDIA NVSwitch",
            run: gpu::run_switches,
            weight: 2,
        },
        Family {
            id: "switch",
            title: "NVIDIA NVSwitch",
            run: ocsp::run_switches,
            weight: 1,
        },
        Family {
            id: "ppcie",
            title: "NVIDIA protected-PCIe topology",
            run: ppcie::run,
            weight: 2,
        },
    ]
}

/// Runs every family's checks, in parallel on up to as many threads as the
/// machine has cores (at most 4), heaviest first; returns the results per
/// family in the order of `fams`, so the outcome does not depend on
/// scheduling. A panic in a family is propagated as if it ran on this thread.
fn run_families(fams: &[&Family], ctx: &Context) -> Vec<Vec<CheckResult>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut order: Vec<usize> = (0..fams.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(fams[i].weight));
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    if workers == 1 {
        return fams.iter().map(|f| (f.run)(ctx)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Vec<CheckResult>> = fams.iter().map(|_| Vec::new()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((i, (fams[i].run)(ctx)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(done) => {
                    for (i, r) in done {
                        slots[i] = r;
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    slots
}

/// A failure caused by the evaluation time (a certificate, CRL or SCT not
/// yet valid or expired at that instant) must say how to change that time:
/// `audit --at`, or for an import of a document saved long ago
/// `collect --observed-at` at import. Recognised by the wording every
/// validity check uses ("expired", "not yet valid", "before/after the
/// evaluation time"); the hint goes into the summary so that every output
/// (terminal, Markdown, HTML, JSON) carries it.
pub fn add_time_remedy(results: &mut [CheckResult], eval_time: OffsetDateTime, source: &str) {
    for r in results.iter_mut().filter(|r| r.status == Status::Fail) {
        let text = format!("{} {}", r.summary, r.actual.as_deref().unwrap_or_default())
            .to_ascii_lowercase();
        let by_time = text.contains("expired")
            || text.contains("not yet valid")
            || text.contains("before the evaluation time")
            || text.contains("after the evaluation time");
        if !by_time {
            continue;
        }
        let from = match source {
            "option" => "given with --at",
            "declared" => "declared at import with collect --observed-at",
            "bundle" => "the bundle's collection time",
            _ => "the audit time (the bundle records no usable collection time)",
        };
        r.summary.push_str(&format!(
            " [time-dependent: judged at {} ({from}); to judge at another instant use `audit --at RFC3339`, or declare when an imported document was observed with `collect --observed-at RFC3339` at import]",
            crate::util::fmt_time(eval_time)
        ));
        r.details
            .insert("time_dependent".into(), serde_json::Value::Bool(true));
    }
}

/// Runs every family and applies the protocol's required set.
pub fn run_all(ctx: &Context) -> Vec<CheckResult> {
    let mut results = Vec::new();
    // Families the protocol does not judge are not run at all: one
    // not-applicable result, in the family's place, says so with the
    // protocol's reason.
    let all = families();
    let fams: Vec<&Family> = all
        .iter()
        .filter(|f| !ctx.protocol.not_judged.contains_key(f.id))
        .collect();
    let mut ran = fams.iter().map(|f| f.id).zip(run_families(&fams, ctx));
    let mut next = ran.next();
    for f in &all {
        if let Some(reason) = ctx.protocol.not_judged.get(f.id) {
            if !results.iter().any(|r: &CheckResult| r.family == f.id) {
                results.push(
                    CheckResult::new(
                        &format!("{}.not-judged", f.id),
                        "Family not judged by this protocol",
                        Status::NotApplicable,
                        format!("protocol {}: {reason}", ctx.protocol.id),
                    )
                    .spec("blyss-evidence: protocol `not_judged`"),
                );
            }
            continue;
        }
        let (id, mut r) = next.take().expect("one run per judged family");
        debug_assert_eq!(id, f.id);
        for res in &mut r {
            debug_assert_eq!(res.family, f.id, "check {} in wrong family", res.id);
            res.required = ctx.protocol.is_required(&res.id);
            demote_unrequired_failure(res, &ctx.protocol.id);
        }
        results.extend(r);
        next = ran.next();
    }
    // Fail closed: a required check that produced no result is a failure,
    // and so is a required family (`fam.*`) that produced no result at all.
    for id in ctx.protocol.required_checks() {
        if let Some(fam) = id.strip_suffix(".*") {
            if !results.iter().any(|r| r.family == fam) {
                let rid = format!("{fam}.family-ran");
                let mut r = CheckResult::fail(
                    &rid,
                    "Required family produced no result",
                    format!("the protocol requires {id} but no {fam} check produced a result"),
                )
                .spec("blyss-evidence: fail closed");
                r.required = true;
                results.push(r);
            }
            continue;
        }
        if !results.iter().any(|r| &r.id == id) {
            let mut r = CheckResult::fail(
                id,
                "Required check produced no result",
                format!("the protocol requires {id} but no check produced a result for it"),
            )
            .spec("blyss-evidence: fail closed");
            r.required = true;
            results.push(r);
        }
    }
    results
}

/// A failure of a check the protocol does not require cannot change the
/// verdict, so it must not show the red of a failure beside a PASS: it
/// becomes a `warn` (the status whose meaning is "read this; it does not by
/// itself fail the audit"), its summary says that the rule does not hold and
/// is not required, and `details.rule_outcome` keeps `fail` for consumers
/// (protocol/checks.md, "Status rules").
fn demote_unrequired_failure(res: &mut CheckResult, protocol: &str) {
    if res.required || res.status != Status::Fail {
        return;
    }
    res.status = Status::Warn;
    res.summary = format!(
        "rule not met, not required by protocol {protocol}: {}",
        res.summary
    );
    res.details
        .insert("rule_outcome".to_string(), serde_json::Value::from("fail"));
}

/// Aggregated verdict of an audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// The verdict: PASS only if no required result failed.
pub fn verdict(results: &[CheckResult]) -> Verdict {
    if results
        .iter()
        .any(|r| r.required && r.status == Status::Fail)
    {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// Worst status among `results` (Fail > Warn > Pass > NotApplicable),
/// counting non-required failures as warnings.
pub fn worst(results: &[&CheckResult]) -> Status {
    let mut worst = Status::NotApplicable;
    for r in results {
        let s = match r.status {
            Status::Fail if !r.required => Status::Warn,
            s => s,
        };
        worst = match (worst, s) {
            (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
            (Status::Warn, _) | (_, Status::Warn) => Status::Warn,
            (Status::Pass, _) | (_, Status::Pass) => Status::Pass,
            _ => Status::NotApplicable,
        };
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a context over the real January 2024 bundle.
    fn with_real_bundle<T>(protocol: &Protocol, f: impl FnOnce(&Context) -> T) -> T {
        let bundle = crate::bundle::Bundle::from_bytes(
            include_bytes!("../../fixtures/bundles/blyss-2024-01.zip"),
            "b.zip",
        )
        .unwrap();
        let trust = TrustSet::production();
        let doc = crate::audit::attestation_of(&bundle);
        let options = AuditOptions::default();
        let ctx = Context {
            bundle: &bundle,
            doc: &doc,
            protocol,
            trust: &trust,
            options: &options,
            eval_time: bundle.collected_at().unwrap(),
        };
        f(&ctx)
    }

    fn ctx_run(required: &str) -> Vec<CheckResult> {
        let text = format!(
            r#"{{"schema":"blyss-evidence.protocol/v1","id":"t","title":"t","source":"t","required_checks":[{required}]}}"#
        );
        let protocol = Protocol::parse(text.as_bytes(), "t").unwrap();
        with_real_bundle(&protocol, run_all)
    }

    #[test]
    fn parallel_families_give_the_sequential_results_in_report_order() {
        let protocol = Protocol::load("v0.0.1").unwrap();
        let all = families();
        let fams: Vec<&Family> = all.iter().collect();
        let (sequential, parallel) = with_real_bundle(&protocol, |ctx| {
            let seq: Vec<Vec<CheckResult>> = fams.iter().map(|f| (f.run)(ctx)).collect();
            (seq, run_families(&fams, ctx))
        });
        assert_eq!(parallel, sequential);
        // Not a vacuous comparison: every family id produced results but
        // the optional ones (`switch` speaks only with switch evidence,
        // `tinfoil` only with Tinfoil evidence or protocol); one of the `gpu`
        // runners, `gpu.ocsp`, needs imported evidence or OCSP responses,
        // which this Blyss bundle does not have.
        for f in &fams {
            assert_eq!(
                parallel.iter().flatten().any(|c| c.family == f.id),
                !OPTIONAL_FAMILIES.contains(&f.id),
                "family {}",
                f.id
            );
        }
        for (f, r) in fams.iter().zip(&parallel) {
            assert!(r.iter().all(|c| c.family == f.id), "{} out of place", f.id);
        }
    }

    #[test]
    fn required_id_without_result_is_a_synthetic_failure() {
        let r = ctx_run(r#""bundle.no-such-check""#);
        let f = r.iter().find(|c| c.id == "bundle.no-such-check").unwrap();
        assert_eq!(f.status, Status::Fail);
        assert!(f.required);
        assert_eq!(verdict(&r), Verdict::Fail);
    }

    #[test]
    fn required_family_without_any_result_is_a_synthetic_failure() {
        let r = ctx_run(r#""nosuchfamily.*""#);
        let f = r
            .iter()
            .find(|c| c.id == "nosuchfamily.family-ran")
            .unwrap();
        assert_eq!(f.status, Status::Fail);
        assert_eq!(verdict(&r), Verdict::Fail);
        // A family that did run satisfies its wildcard.
        let r = ctx_run(r#""bundle.*""#);
        assert!(!r.iter().any(|c| c.id.ends_with(".family-ran")));
    }
}
