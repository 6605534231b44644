//! The report model. The serialised [`Report`] *is* the JSON contract
//! (`protocol/report-schema.md`, `protocol/report.schema.json`); HTML,
//! Markdown and the terminal summary are renderings of the same value.

use serde::{Deserialize, Serialize};

use crate::checks::{self, CheckResult, Status, Verdict};
use redact::Redactor;

pub mod explain;
pub mod html;
pub mod markdown;
pub mod redact;
pub mod terminal;

/// Current JSON report schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// Shown in every output when `evaluation_time_source` is `declared`.
/// The Tinfoil release facts a reviewer reads first, in a fixed order, with
/// their labels (terminal and Markdown; the HTML lists every fact). Empty
/// when the audit established none (no Tinfoil evidence, or nothing
/// verified). Values are evidence: callers escape them.
pub fn tinfoil_facts(r: &Report) -> Vec<(&'static str, String)> {
    const KEYS: [(&str, &str); 10] = [
        ("tinfoil.repository", "repository"),
        ("tinfoil.workflow", "workflow"),
        ("tinfoil.tag", "tag"),
        ("tinfoil.collected_release", "release compared against"),
        ("tinfoil.release_choice", "why that release"),
        ("tinfoil.rekor_log_index", "Rekor log index"),
        ("tinfoil.rekor_shard_index", "Rekor shard index"),
        ("tinfoil.measurement", "measurement"),
        ("tls.attested_spki_sha256", "TLS key hash (SPKI sha256)"),
        ("tinfoil.hpke_public_key", "HPKE key"),
    ];
    if !r.facts.keys().any(|k| k.starts_with("tinfoil.")) {
        return Vec::new();
    }
    KEYS.iter()
        .filter_map(|(k, label)| {
            r.facts.get(*k).map(|v| {
                (
                    *label,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
        })
        .collect()
}

pub const DECLARED_TIME_NOTE: &str = "The evaluation time was DECLARED by whoever imported the evidence (collect --observed-at), not observed by the collector: validity periods are judged at a claimed time.";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub bundle: BundleInfo,
    pub signer: SignerInfo,
    pub trust: TrustInfo,
    pub protocol: ProtocolInfo,
    /// `full` or `attestation`.
    pub scope: String,
    /// Instant at which validity was judged (RFC 3339).
    pub evaluation_time: String,
    /// `bundle` (collection start) or `option` (`--at`).
    pub evaluation_time_source: String,
    /// When the audit ran (RFC 3339; `SOURCE_DATE_EPOCH` when set).
    pub audit_time: String,
    /// Whether secrets were redacted (false only with `--no-redact`).
    pub redacted: bool,
    /// Facts families established (product line, measurement, …), sorted.
    pub facts: std::collections::BTreeMap<String, serde_json::Value>,
    pub families: Vec<FamilySummary>,
    pub checks: Vec<CheckResult>,
    pub verdict: VerdictInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleInfo {
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub target: String,
    pub declared_protocol: String,
    pub collected_by: ToolInfo,
    pub started_at: String,
    pub finished_at: String,
    pub warnings: Vec<String>,
    pub members: Vec<MemberInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub fetched_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInfo {
    /// sha256 of the signer SPKI DER (the DSSE keyid), if readable.
    pub fingerprint: Option<String>,
    /// Whether `--signer` pinned it (and it matched).
    pub pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustInfo {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub production: bool,
    pub anchors: Vec<crate::trust::AnchorInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolInfo {
    pub id: String,
    pub title: String,
    pub origin: String,
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilySummary {
    pub family: String,
    pub title: String,
    pub status: Status,
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub not_applicable: usize,
    /// One line for the terminal summary.
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictInfo {
    pub status: Verdict,
    /// `PASS`, `PASS (attestation only)` or `FAIL`, with
    /// ` — NON-PRODUCTION TRUST` appended under a non-production trust set.
    pub label: String,
    pub non_production_trust: bool,
    /// Ids of required checks that failed.
    pub failed_required: Vec<String>,
    pub warnings: usize,
}

/// The verdict that `checks` establish: the audit's rule
/// ([`checks::verdict`]: PASS only if no required check failed), its label
/// for the scope (`attestation_only`) and trust set (`production`), the
/// failed required checks and the warning count. The audit builds its
/// report's verdict with this function and `report render` re-derives a
/// saved report's verdict with it, so the two cannot drift apart.
pub fn derive_verdict(
    checks: &[CheckResult],
    attestation_only: bool,
    production: bool,
) -> VerdictInfo {
    let status = checks::verdict(checks);
    let failed_required: Vec<String> = checks
        .iter()
        .filter(|r| r.required && r.status == Status::Fail)
        .map(|r| r.id.clone())
        .collect();
    let warnings = checks
        .iter()
        .filter(|r| r.status == Status::Warn || (r.status == Status::Fail && !r.required))
        .count();
    let mut label = match (status, attestation_only) {
        (Verdict::Fail, _) => "FAIL".to_string(),
        (Verdict::Pass, false) => "PASS".to_string(),
        (Verdict::Pass, true) => "PASS (attestation only)".to_string(),
    };
    if !production {
        label.push_str(" — NON-PRODUCTION TRUST");
    }
    VerdictInfo {
        status,
        label,
        non_production_trust: !production,
        failed_required,
        warnings,
    }
}

/// Builds family summaries from results.
pub fn summarize_families(results: &[CheckResult]) -> Vec<FamilySummary> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for fam in checks::families() {
        if seen.contains(&fam.id) {
            continue;
        }
        seen.push(fam.id);
        let rs: Vec<&CheckResult> = results.iter().filter(|r| r.family == fam.id).collect();
        // A family with nothing to say about this bundle (`switch` without
        // switch evidence, `tinfoil` without Tinfoil evidence or protocol)
        // gets no summary line. Only families listed as optional may be
        // silent; a required family never is (the framework adds a failure).
        if rs.is_empty() && checks::OPTIONAL_FAMILIES.contains(&fam.id) {
            continue;
        }
        out.push(family_summary(fam.id, fam.title, &rs));
    }
    // Synthetic results for families not in the registry (fail-closed ones).
    let known: Vec<&str> = checks::families().iter().map(|f| f.id).collect();
    let mut extra: Vec<&str> = results
        .iter()
        .map(|r| r.family.as_str())
        .filter(|f| !known.contains(f))
        .collect();
    extra.sort();
    extra.dedup();
    for f in extra {
        let rs: Vec<&CheckResult> = results.iter().filter(|r| r.family == f).collect();
        out.push(family_summary(f, f, &rs));
    }
    out
}

fn family_summary(id: &str, title: &str, rs: &[&CheckResult]) -> FamilySummary {
    let status = checks::worst(rs);
    let count = |s: Status| rs.iter().filter(|r| r.status == s).count();
    // The line: the first result with the family's worst status, else the first.
    let pick = rs
        .iter()
        .find(|r| {
            let s = if r.status == Status::Fail && !r.required {
                Status::Warn
            } else {
                r.status
            };
            s == status
        })
        .or(rs.first());
    let line = match pick {
        Some(r) if rs.len() == 1 => r.summary.clone(),
        Some(r) => format!("{}: {}", r.id, r.summary),
        None => "no checks ran".into(),
    };
    FamilySummary {
        family: id.into(),
        title: title.into(),
        status,
        passed: count(Status::Pass),
        failed: count(Status::Fail),
        warnings: count(Status::Warn),
        not_applicable: count(Status::NotApplicable),
        line,
    }
}

impl Report {
    /// Pretty JSON with a trailing newline (deterministic: struct order,
    /// sorted maps).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("report serialises");
        s.push('\n');
        s
    }

    /// Redacts every free-text string of the report in place (everything a
    /// check, the bundle or the protocol could have put a secret into).
    /// Enumerations, numbers and booleans are left alone. The unit test
    /// `redact_reaches_every_string_field` fails if a new string field is
    /// added to the model and not handled here.
    pub fn redact(&mut self, r: &Redactor) {
        if !r.is_enabled() {
            return;
        }
        let s = |x: &mut String| r.apply_mut(x);
        let o = |x: &mut Option<String>| {
            if let Some(v) = x {
                r.apply_mut(v)
            }
        };
        let tool = |t: &mut ToolInfo| {
            s(&mut t.name);
            s(&mut t.version);
        };
        tool(&mut self.tool);
        let b = &mut self.bundle;
        s(&mut b.file_name);
        s(&mut b.sha256);
        s(&mut b.target);
        s(&mut b.declared_protocol);
        tool(&mut b.collected_by);
        s(&mut b.started_at);
        s(&mut b.finished_at);
        b.warnings.iter_mut().for_each(s);
        for m in &mut b.members {
            s(&mut m.path);
            s(&mut m.sha256);
            s(&mut m.source);
            s(&mut m.fetched_at);
        }
        o(&mut self.signer.fingerprint);
        let t = &mut self.trust;
        s(&mut t.name);
        s(&mut t.version);
        s(&mut t.digest);
        for a in &mut t.anchors {
            s(&mut a.role);
            s(&mut a.name);
            s(&mut a.sha256);
        }
        let p = &mut self.protocol;
        s(&mut p.id);
        s(&mut p.title);
        s(&mut p.origin);
        s(&mut p.digest);
        s(&mut self.scope);
        s(&mut self.evaluation_time);
        s(&mut self.evaluation_time_source);
        s(&mut self.audit_time);
        self.facts.values_mut().for_each(|v| r.apply_json(v));
        for f in &mut self.families {
            s(&mut f.family);
            s(&mut f.title);
            s(&mut f.line);
        }
        for c in &mut self.checks {
            s(&mut c.id);
            o(&mut c.subject);
            s(&mut c.family);
            s(&mut c.title);
            s(&mut c.summary);
            o(&mut c.expected);
            o(&mut c.actual);
            c.evidence.iter_mut().for_each(s);
            s(&mut c.spec);
            c.details.values_mut().for_each(|v| r.apply_json(v));
        }
        let v = &mut self.verdict;
        s(&mut v.label);
        v.failed_required.iter_mut().for_each(s);
    }

    /// The report as every renderer shows it: when its `redacted` flag is
    /// set, one more pass of the pattern redactor (`hf_…` tokens and
    /// secret-looking `NAME=VALUE`) runs over a copy. Defence in depth for
    /// saved JSON reports edited by hand or written by older versions.
    pub fn scrubbed(&self) -> Report {
        let mut r = self.clone();
        if r.redacted {
            r.redact(&Redactor::new());
        }
        r
    }

    /// Whether the saved verdict and family summaries are the ones the
    /// saved check results establish (`report render` refuses a report
    /// where they are not: a hand-edited `verdict.status = pass` over
    /// failed checks must not render as a PASS). Redaction can change
    /// strings only, never statuses, so a redacted report is consistent.
    /// The error is one line naming the first disagreement.
    pub fn check_consistency(&self) -> Result<(), String> {
        let attestation_only = match self.scope.as_str() {
            "full" => false,
            "attestation" => true,
            other => {
                return Err(format!(
                    "scope {:?} is neither \"full\" nor \"attestation\"",
                    crate::util::visible(other)
                ))
            }
        };
        let want = derive_verdict(&self.checks, attestation_only, self.trust.production);
        let got = &self.verdict;
        let name = |v: Verdict| match v {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        };
        if got.status != want.status {
            let why = if want.failed_required.is_empty() {
                "no required check failed".to_string()
            } else {
                format!(
                    "{} required check(s) failed, first {}",
                    want.failed_required.len(),
                    crate::util::visible(&want.failed_required[0])
                )
            };
            return Err(format!(
                "the stored verdict is {} but its checks say {} ({why})",
                name(got.status),
                name(want.status)
            ));
        }
        // The label is redacted like every string; a real label holds no
        // secret, so it must be exactly the derived one.
        if got.label != want.label {
            return Err(format!(
                "the stored verdict label {:?} is not the derived {:?}",
                crate::util::visible(&got.label),
                want.label
            ));
        }
        if got.non_production_trust != want.non_production_trust
            || got.failed_required != want.failed_required
            || got.warnings != want.warnings
        {
            return Err(
                "the stored verdict's trust flag, failed-check list or warning count disagrees with its checks"
                    .into(),
            );
        }
        let fams = summarize_families(&self.checks);
        let stored: Vec<(&str, Status, [usize; 4])> = self
            .families
            .iter()
            .map(|f| {
                (
                    f.family.as_str(),
                    f.status,
                    [f.passed, f.failed, f.warnings, f.not_applicable],
                )
            })
            .collect();
        let derived: Vec<(&str, Status, [usize; 4])> = fams
            .iter()
            .map(|f| {
                (
                    f.family.as_str(),
                    f.status,
                    [f.passed, f.failed, f.warnings, f.not_applicable],
                )
            })
            .collect();
        if stored != derived {
            return Err(
                "the stored family summaries (statuses or counts) disagree with the checks".into(),
            );
        }
        Ok(())
    }

    /// Parses a saved JSON report (`report render`).
    pub fn from_json(bytes: &[u8]) -> Result<Report, String> {
        let r: Report = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not supported (expected {SCHEMA_VERSION})",
                r.schema_version
            ));
        }
        Ok(r)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small report with every optional field set, for renderer tests.
    pub(crate) fn sample_report() -> Report {
        let check = |id: &str, status: Status| {
            let mut c = CheckResult::new(id, "A check", status, format!("{id} summary"))
                .subject("item-1")
                .expected("aa".repeat(48))
                .actual("aa".repeat(48))
                .evidence("evidence/attestation.json")
                .evidence("envelope.dsse.json")
                .spec("spec §1")
                .detail("fact:x.y", "value")
                .detail("structured", serde_json::json!({"k": [1, "two"]}));
            c.required = true;
            c
        };
        let checks = vec![
            check("bundle.signature", Status::Pass),
            check("snp.report-signature", Status::Warn),
        ];
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "blyss-evidence".into(),
                version: "0.0.0-test".into(),
            },
            bundle: BundleInfo {
                file_name: "b.zip".into(),
                sha256: "11".repeat(32),
                size: 10,
                target: "https://example.test".into(),
                declared_protocol: "v0.0.1".into(),
                collected_by: ToolInfo {
                    name: "blyss-evidence".into(),
                    version: "0.0.0-test".into(),
                },
                started_at: "2024-01-15T00:00:00Z".into(),
                finished_at: "2024-01-15T00:00:01Z".into(),
                warnings: vec!["a warning".into()],
                members: vec![MemberInfo {
                    path: "evidence/attestation.json".into(),
                    size: 5,
                    sha256: "22".repeat(32),
                    source: "https://example.test/attestation".into(),
                    http_status: Some(200),
                    fetched_at: "2024-01-15T00:00:00Z".into(),
                }],
            },
            signer: SignerInfo {
                fingerprint: Some("33".repeat(32)),
                pinned: true,
            },
            trust: TrustInfo {
                name: "t".into(),
                version: "1".into(),
                digest: "44".repeat(32),
                production: true,
                anchors: vec![crate::trust::AnchorInfo {
                    role: "amd.milan.ark".into(),
                    name: "CN=ARK-Milan".into(),
                    sha256: "55".repeat(32),
                }],
            },
            protocol: ProtocolInfo {
                id: "v0.0.1".into(),
                title: "Protocol".into(),
                origin: "embedded".into(),
                digest: "66".repeat(32),
            },
            scope: "full".into(),
            evaluation_time: "2024-01-15T00:00:00Z".into(),
            evaluation_time_source: "bundle".into(),
            audit_time: "2024-02-01T00:00:00Z".into(),
            redacted: true,
            facts: [("x.y".to_string(), serde_json::json!("value"))]
                .into_iter()
                .collect(),
            families: summarize_families(&checks),
            verdict: VerdictInfo {
                status: Verdict::Pass,
                label: "PASS".into(),
                non_production_trust: false,
                failed_required: vec!["none.really".into()],
                warnings: 1,
            },
            checks,
        }
    }

    const TOKEN: &str = "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";

    /// Puts the token into every string of the serialised report except the
    /// enumerations (`status` keys), then checks that [`Report::redact`]
    /// removes all of them: a string field added to the model and forgotten
    /// in `redact` makes this test fail.
    #[test]
    fn redact_reaches_every_string_field() {
        fn poison(v: &mut serde_json::Value, key: &str) {
            match v {
                serde_json::Value::String(s) if key != "status" => {
                    *s = format!("{s} TOKEN={TOKEN}")
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(|x| poison(x, key)),
                serde_json::Value::Object(o) => o.iter_mut().for_each(|(k, x)| poison(x, k)),
                _ => {}
            }
        }
        let mut v = serde_json::to_value(sample_report()).unwrap();
        poison(&mut v, "");
        let mut r: Report = serde_json::from_value(v).unwrap();
        assert!(r.to_json().contains(TOKEN));
        r.redact(&Redactor::new());
        let json = r.to_json();
        assert!(!json.contains("RIEwTrIwstrpx"), "{json}");
        assert!(json.contains("TOKEN=hf_R…[redacted]"));
    }

    #[test]
    fn disabled_redactor_leaves_report_unchanged() {
        let mut r = sample_report();
        r.checks[0].summary = format!("t={TOKEN}");
        let before = r.clone();
        r.redact(&Redactor::disabled());
        assert_eq!(r, before);
    }

    #[test]
    fn from_json_round_trips_and_rejects_other_schema_versions() {
        let r = sample_report();
        assert_eq!(Report::from_json(r.to_json().as_bytes()).unwrap(), r);
        let mut v = serde_json::to_value(&r).unwrap();
        v["schema_version"] = 2.into();
        let err = Report::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(err.contains("schema_version 2"), "{err}");
    }
}
