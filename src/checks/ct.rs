//! `ct.*`: the certificate the enclave served is publicly logged.
//!
//! * `ct.log-list`: the log list in the bundle is signed by a key of the
//!   trust set; without one, the trust set's embedded snapshot is used (warn).
//! * `ct.sct` (one per SCT embedded in the captured TLS leaf): known log,
//!   acceptable log state at the SCT time, the log's temporal interval holds
//!   the certificate's notAfter, SCT time within the certificate validity,
//!   SCT signature over the rebuilt precertificate entry.
//! * `ct.inclusion` (one per SCT, i.e. per log): signed tree heads with the
//!   log key, never shrinking, not older than the SCT, and an inclusion proof
//!   (RFC 6962 `get-proof-by-hash`, or rebuilt from static-ct-api tiles at
//!   the SCT's `leaf_index`) that leads to the signed root.
//! * `ct.operators`: at least `min_operators` distinct log operators with a
//!   verified inclusion (or verified SCTs where the protocol allows
//!   `sct-only`).
//!
//! Rules, sources and the bundle layout: `protocol/checks.md`, section `ct`.

use std::collections::BTreeSet;

use super::{CheckResult, Context, Scope, Status};
use crate::evidence::ct::fmt_ms;
use crate::evidence::ct::layout;
use crate::evidence::ct::loglist::{verify_signature, LogList};
use crate::evidence::ct::verify::{
    judge_inclusion, judge_scts, load_cert, CertProblem, InclusionVerdict, SctVerdict,
};
use crate::protocol::{CtSection, InclusionPolicy};

const SPEC_SCT: &str = "RFC 6962 §3.2–§3.3 (SCT, precertificate entry); Chrome CT policy (log states, temporal intervals)";
const SPEC_LIST: &str =
    "Google CT log list v3 (log_list.json / log_list.sig, RSASSA-PKCS1-v1_5 SHA-256)";
const SPEC_INCL: &str = "RFC 6962 §2.1.1, §3.5, §4.3, §4.5; RFC 9162 §2.1.3; c2sp.org/static-ct-api, c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint, c2sp.org/signed-note";
const SPEC_OPS: &str = "blyss-evidence: ≥ min_operators distinct log operators (the original verifier required two logs)";

/// Leaf and issuer of the captured TLS chain.
pub const TLS_LEAF: &str = "evidence/tls/chain-00.der";
pub const TLS_ISSUER: &str = "evidence/tls/chain-01.der";

/// The log list the checks judge against, and where it came from.
struct ActiveList {
    list: Option<LogList>,
    /// Members read for it.
    evidence: Vec<String>,
    /// `bundle` or `trust-snapshot`.
    source: &'static str,
}

fn na_all(reason: &str) -> Vec<CheckResult> {
    [
        ("ct.log-list", "CT log list"),
        ("ct.sct", "Signed certificate timestamps"),
        ("ct.inclusion", "Inclusion in CT logs"),
        ("ct.operators", "Independent CT log operators"),
    ]
    .iter()
    .map(|(id, title)| CheckResult::not_applicable(id, title, reason.to_string()).spec(SPEC_OPS))
    .collect()
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    if ctx.scope() == Scope::Attestation {
        return na_all("scope attestation: Certificate Transparency evidence is not examined");
    }
    let section = ctx.protocol.sections.ct();
    if let Some(reason) = &section.not_applicable {
        return na_all(&format!("protocol {}: {reason}", ctx.protocol.id));
    }
    let mut out = Vec::new();
    let (list_result, active) = log_list(ctx);
    out.push(list_result);

    // The certificate the enclave presented, and its issuer.
    let Some(leaf) = ctx.member(TLS_LEAF) else {
        let why = format!(
            "no captured TLS certificate ({TLS_LEAF}): the certificate's CT evidence cannot be judged"
        );
        out.push(
            CheckResult::fail("ct.sct", "Signed certificate timestamps", why.clone())
                .spec(SPEC_SCT),
        );
        out.push(
            CheckResult::fail("ct.inclusion", "Inclusion in CT logs", why.clone()).spec(SPEC_INCL),
        );
        out.push(operators_result(&section, &[], &[], why));
        return out;
    };
    let issuer = ctx.member(TLS_ISSUER);
    let cert = match load_cert(leaf, issuer) {
        Ok(c) => c,
        Err(p) => {
            let why = match &p {
                CertProblem::NoScts => {
                    "the captured TLS certificate carries no embedded SCTs".to_string()
                }
                CertProblem::Invalid(e) => format!("{TLS_LEAF}: {e}"),
            };
            out.push(
                CheckResult::fail("ct.sct", "Signed certificate timestamps", why.clone())
                    .evidence(TLS_LEAF)
                    .spec(SPEC_SCT),
            );
            out.push(
                CheckResult::fail("ct.inclusion", "Inclusion in CT logs", why.clone())
                    .evidence(TLS_LEAF)
                    .spec(SPEC_INCL),
            );
            out.push(operators_result(&section, &[], &[], why));
            return out;
        }
    };
    let Some(list) = &active.list else {
        let why = "no usable CT log list (none in the bundle, none in the trust set)".to_string();
        out.push(
            CheckResult::fail("ct.sct", "Signed certificate timestamps", why.clone())
                .spec(SPEC_SCT),
        );
        out.push(
            CheckResult::fail("ct.inclusion", "Inclusion in CT logs", why.clone()).spec(SPEC_INCL),
        );
        out.push(operators_result(&section, &[], &[], why));
        return out;
    };

    let verdicts = judge_scts(&cert, list, ctx.eval_time);
    let mut cert_evidence = vec![TLS_LEAF.to_string()];
    if issuer.is_some() {
        cert_evidence.push(TLS_ISSUER.to_string());
    }
    for v in &verdicts {
        out.push(sct_result(v, &cert_evidence, &active));
    }
    let inclusions: Vec<InclusionVerdict> = verdicts
        .iter()
        .map(|v| judge_inclusion(v, ctx.bundle))
        .collect();
    for (v, inc) in verdicts.iter().zip(&inclusions) {
        out.push(inclusion_result(v, inc, &section, &cert_evidence));
    }
    out.push(operators_result(
        &section,
        &verdicts,
        &inclusions,
        String::new(),
    ));
    out
}

fn log_list(ctx: &Context) -> (CheckResult, ActiveList) {
    const ID: &str = "ct.log-list";
    const TITLE: &str = "CT log list";
    let list_path = layout::full(layout::LOG_LIST);
    let sig_path = layout::full(layout::LOG_LIST_SIG);
    let snapshot = || -> Option<LogList> {
        ctx.trust
            .ct_log_list_snapshot
            .as_ref()
            .and_then(|b| LogList::parse(b).ok())
    };
    let fallback = |why: String, status: Status| -> (CheckResult, ActiveList) {
        let snap = snapshot();
        let summary = match &snap {
            Some(l) => format!(
                "{why}; judged against the trust set's embedded snapshot ({})",
                l.describe()
            ),
            None => format!("{why}; the trust set has no usable log-list snapshot either"),
        };
        let status = if snap.is_none() { Status::Fail } else { status };
        let mut r = CheckResult::new(ID, TITLE, status, summary)
            .spec(SPEC_LIST)
            .detail("source", "trust-snapshot");
        if let Some(l) = &snap {
            r = r
                .detail("list_version", l.version.clone().unwrap_or_default())
                .detail("list_timestamp", l.timestamp.clone().unwrap_or_default());
        }
        (
            r,
            ActiveList {
                list: snap,
                evidence: Vec::new(),
                source: "trust-snapshot",
            },
        )
    };
    let Some(json) = ctx.member(&list_path) else {
        return fallback("the bundle holds no log list".to_string(), Status::Warn);
    };
    let with_ev = |r: CheckResult| r.evidence(list_path.clone()).evidence(sig_path.clone());
    let Some(sig) = ctx.member(&sig_path) else {
        let (r, a) = fallback(
            format!("the bundle's log list has no signature ({sig_path}): not used"),
            Status::Fail,
        );
        return (with_ev(r), a);
    };
    let key = match verify_signature(json, sig, &ctx.trust.ct_log_list_keys) {
        Ok(i) => i,
        Err(e) => {
            let (r, a) = fallback(
                format!("the bundle's log list is not trusted: {e}"),
                Status::Fail,
            );
            return (with_ev(r), a);
        }
    };
    let list = match LogList::parse(json) {
        Ok(l) => l,
        Err(e) => {
            let (r, a) = fallback(
                format!("the bundle's signed log list is unusable: {e}"),
                Status::Fail,
            );
            return (with_ev(r), a);
        }
    };
    let fp = crate::util::sha256_hex(&ctx.trust.ct_log_list_keys[key]);
    let r = with_ev(CheckResult::pass(
        ID,
        TITLE,
        format!(
            "log list signed by trusted key {} ({})",
            crate::util::short_hex(&fp),
            list.describe()
        ),
    ))
    .expected("signature by a log-list key of the trust set")
    .actual(format!("signed by {fp}"))
    .spec(SPEC_LIST)
    .detail("source", "bundle")
    .detail("list_version", list.version.clone().unwrap_or_default())
    .detail("list_timestamp", list.timestamp.clone().unwrap_or_default())
    .detail("signing_key_sha256", fp);
    (
        r,
        ActiveList {
            list: Some(list),
            evidence: vec![list_path, sig_path],
            source: "bundle",
        },
    )
}

fn rules_json(rules: &[crate::evidence::ct::verify::Rule]) -> serde_json::Value {
    serde_json::Value::Array(
        rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "rule": r.name,
                    "ok": r.ok,
                    "detail": r.detail,
                })
            })
            .collect(),
    )
}

fn subject(v: &SctVerdict) -> String {
    format!("SCT #{} {}", v.position, v.log_name())
}

fn sct_result(v: &SctVerdict, cert_ev: &[String], active: &ActiveList) -> CheckResult {
    const ID: &str = "ct.sct";
    const TITLE: &str = "Signed certificate timestamp";
    let mut r = if v.ok() {
        CheckResult::pass(
            ID,
            TITLE,
            format!(
                "valid SCT from {} ({}) at {}",
                v.log_name(),
                v.operator().unwrap_or("?"),
                fmt_ms(v.sct.timestamp)
            ),
        )
    } else {
        let f: Vec<String> = v
            .failures()
            .iter()
            .map(|r| format!("{}: {}", r.name, r.detail))
            .collect();
        CheckResult::fail(ID, TITLE, f.join("; "))
    };
    r = r
        .subject(subject(v))
        .expected("known log, acceptable state, notAfter in the log's interval, time within validity, valid signature")
        .actual(if v.ok() {
            "all rules hold".to_string()
        } else {
            format!("{} rule(s) fail", v.failures().len())
        })
        .spec(SPEC_SCT)
        .detail("log", v.log_name())
        .detail("log_id", v.sct.log_id_b64())
        .detail("timestamp", fmt_ms(v.sct.timestamp))
        .detail("list_source", active.source)
        .detail("rules", rules_json(&v.rules));
    if let Some(op) = v.operator() {
        r = r.detail("operator", op);
    }
    if let Some(l) = &v.log {
        r = r.detail("log_type", l.kind.label());
    }
    if let Some(i) = v.leaf_index {
        r = r.detail("leaf_index", i);
    }
    if let Some(h) = &v.leaf_hash {
        r = r.detail("leaf_hash", hex::encode(h));
    }
    for e in cert_ev.iter().chain(&active.evidence) {
        r = r.evidence(e.clone());
    }
    r
}

fn inclusion_result(
    v: &SctVerdict,
    inc: &InclusionVerdict,
    section: &CtSection,
    cert_ev: &[String],
) -> CheckResult {
    const ID: &str = "ct.inclusion";
    const TITLE: &str = "Inclusion in CT log";
    let no_evidence = inc
        .failures()
        .iter()
        .any(|r| r.name == "tree-head" && r.detail.starts_with("no "));
    let mut r = if inc.ok() {
        CheckResult::pass(
            ID,
            TITLE,
            format!(
                "{}: entry {} proven in tree of size {} (root {}…)",
                v.log_name(),
                inc.leaf_index.unwrap_or_default(),
                inc.tree_size.unwrap_or_default(),
                inc.root.map(|h| hex::encode(&h[..8])).unwrap_or_default()
            ),
        )
    } else {
        let f: Vec<String> = inc
            .failures()
            .iter()
            .map(|r| format!("{}: {}", r.name, r.detail))
            .collect();
        let summary = format!("{}: {}", v.log_name(), f.join("; "));
        if no_evidence && section.inclusion == InclusionPolicy::SctOnly {
            CheckResult::warn(
                ID,
                TITLE,
                format!("{summary} (the protocol allows SCT-only)"),
            )
        } else {
            CheckResult::fail(ID, TITLE, summary)
        }
    };
    r = r
        .subject(subject(v))
        .expected("entry proven in a tree head signed by the log, not older than the SCT")
        .actual(match (inc.leaf_index, inc.tree_size) {
            (Some(i), Some(n)) => format!("index {i}, tree size {n}"),
            (None, Some(n)) => format!("tree size {n}"),
            _ => "no proof".to_string(),
        })
        .spec(SPEC_INCL)
        .detail("log", v.log_name())
        .detail("rules", rules_json(&inc.rules));
    if let Some(l) = &v.log {
        r = r
            .detail("operator", l.operator.clone())
            .detail("log_type", l.kind.label());
    }
    if let Some(i) = inc.leaf_index {
        r = r.detail("leaf_index", i);
    }
    if let Some(n) = inc.tree_size {
        r = r.detail("tree_size", n);
    }
    if let Some(h) = inc.root {
        r = r.detail("root_hash", hex::encode(h));
    }
    if let Some(t) = inc.head_timestamp {
        r = r.detail("tree_head_timestamp", fmt_ms(t));
    }
    for e in cert_ev.iter().chain(&inc.evidence) {
        r = r.evidence(e.clone());
    }
    r
}

fn operators_result(
    section: &CtSection,
    verdicts: &[SctVerdict],
    inclusions: &[InclusionVerdict],
    why: String,
) -> CheckResult {
    const ID: &str = "ct.operators";
    const TITLE: &str = "Independent CT log operators";
    let mut counted: BTreeSet<String> = BTreeSet::new();
    let mut logs: Vec<String> = Vec::new();
    for (v, inc) in verdicts.iter().zip(inclusions) {
        let ok = v.ok()
            && match section.inclusion {
                InclusionPolicy::Required => inc.ok(),
                InclusionPolicy::SctOnly => true,
            };
        if let (true, Some(op)) = (ok, v.operator()) {
            counted.insert(op.to_string());
            logs.push(format!(
                "{} ({op}{})",
                v.log_name(),
                match (inc.ok(), inc.leaf_index, inc.tree_size, inc.root) {
                    (true, Some(i), Some(n), Some(root)) =>
                        format!(", index {i} of {n}, root {}…", hex::encode(&root[..4])),
                    _ => ", SCT only".to_string(),
                }
            ));
        }
    }
    let what = match section.inclusion {
        InclusionPolicy::Required => "with a verified SCT and proven inclusion",
        InclusionPolicy::SctOnly => "with a verified SCT",
    };
    let n = counted.len() as u32;
    let ops: Vec<String> = counted.into_iter().collect();
    let summary = if why.is_empty() {
        format!(
            "{n} distinct operator(s) {what}{}{}",
            if ops.is_empty() { "" } else { ": " },
            logs.join("; ")
        )
    } else {
        format!("0 operators: {why}")
    };
    let r = if n >= section.min_operators && why.is_empty() {
        CheckResult::pass(ID, TITLE, summary)
    } else {
        CheckResult::fail(ID, TITLE, summary)
    };
    r.expected(format!(
        "≥ {} distinct operators {what}",
        section.min_operators
    ))
    .actual(format!("{n}: {}", ops.join(", ")))
    .spec(SPEC_OPS)
    .detail("operators", ops)
    .detail("min_operators", section.min_operators)
    .detail(
        "inclusion_policy",
        match section.inclusion {
            InclusionPolicy::Required => "required",
            InclusionPolicy::SctOnly => "sct-only",
        },
    )
    .detail("fact:ct.operators", n)
}

#[cfg(test)]
mod tests {
    /// This family's section, validated as part of a protocol file.
    fn validate_section(v: &serde_json::Value) -> Result<(), String> {
        crate::protocol::validate_one_section("ct", v)
    }

    #[test]
    fn section_is_validated() {
        assert!(validate_section(
            &serde_json::json!({"min_operators": 2, "inclusion": "required"})
        )
        .is_ok());
        assert!(validate_section(
            &serde_json::json!({"min_operators": 2, "inclusion": "sct-only"})
        )
        .is_ok());
        assert!(validate_section(
            &serde_json::json!({"min_operators": 0, "inclusion": "required"})
        )
        .is_err());
        assert!(
            validate_section(&serde_json::json!({"min_operators": 2, "inclusion": "maybe"}))
                .is_err()
        );
        assert!(validate_section(
            &serde_json::json!({"min_operators": 2, "inclusion": "required", "x": 1})
        )
        .is_err());
        assert!(validate_section(&serde_json::json!({})).is_err());
        assert!(validate_section(
            &serde_json::json!({"min_operators": 2, "inclusion": "required", "not_applicable": " "})
        )
        .is_err());
    }
}
