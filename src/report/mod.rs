//! The report model. The serialised [`Report`] *is* the JSON contract
//! (`protocol/report-schema.md`, `protocol/report.schema.json`); HTML,
//! Markdown and the terminal summary are renderings of the same value.

use serde::{Deserialize, Serialize};

use crate::checks::{self, CheckResult, Status, Verdict};

pub mod redact;
pub mod terminal;

/// Current JSON report schema version.
pub const SCHEMA_VERSION: u32 = 1;

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
