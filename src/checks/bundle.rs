//! `bundle.*`: the envelope signature, the pinned signer, and that the
//! evidence members are exactly those the signed statement lists.

use std::collections::BTreeSet;

use super::{CheckResult, Context, SignerPin};
use crate::bundle::format::{
    ENVELOPE_PATH, EVIDENCE_PREFIX, PAYLOAD_TYPE, PREDICATE_TYPE, PREDICATE_TYPE_V1, SIGNER_PATH,
    STATEMENT_TYPE,
};
use crate::bundle::keys;

const SPEC: &str = "protocol/bundle-format.md";

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    vec![
        signature(ctx),
        integrity(ctx),
        protocol(ctx),
        collection(ctx),
    ]
}

/// How the evidence was collected, as the signed statement records it:
/// redirects followed (statement v2 records each hop), safety rules the
/// collector relaxed (`*-unsafe` options) and an observation time declared
/// by an importer. Never more than a pass when nothing of the kind
/// happened; a v1 statement cannot say, so it warns.
fn collection(ctx: &Context) -> CheckResult {
    const ID: &str = "bundle.collection";
    const TITLE: &str = "How the evidence was collected";
    let st = &ctx.bundle.statement;
    let p = &st.predicate;
    let base = |r: CheckResult| {
        r.evidence(ENVELOPE_PATH)
            .spec(format!("{SPEC} §Statement (v2: redirects, document_connection, unsafe_options, declared_observed_at)"))
    };
    if st.version() == Some(1) {
        return base(CheckResult::warn(
            ID,
            TITLE,
            "statement v1: redirects the collector may have followed, the connection that delivered the document and any relaxed safety rule were not recorded",
        ))
        .expected(PREDICATE_TYPE)
        .actual(PREDICATE_TYPE_V1);
    }
    let hops: Vec<String> = p
        .redirects
        .iter()
        .map(|c| {
            let mut s = c.requested.clone();
            for h in &c.hops {
                s.push_str(&format!(" →{} {}", h.status, h.location));
            }
            s
        })
        .collect();
    let mut notes = Vec::new();
    if !p.unsafe_options.is_empty() {
        notes.push(format!(
            "UNSAFE collector option(s) in force: {}",
            p.unsafe_options.join(", ")
        ));
    }
    if let Some(t) = &p.declared_observed_at {
        notes.push(format!(
            "observation time {t} DECLARED by whoever imported the evidence (collect --observed-at), not witnessed by the collector"
        ));
    }
    let redirects = if hops.is_empty() {
        "no redirect followed".to_string()
    } else {
        format!(
            "{} redirect chain(s) followed: {}",
            hops.len(),
            hops.join("; ")
        )
    };
    let mut r = if notes.is_empty() {
        CheckResult::pass(ID, TITLE, format!("{redirects}; no safety rule relaxed"))
    } else {
        CheckResult::warn(ID, TITLE, format!("{}; {redirects}", notes.join("; ")))
    };
    r = r
        .expected("redirects only https → https to public addresses, no unsafe option, a witnessed collection time")
        .actual(redirects)
        .detail("redirect_chains", hops.len() as u64)
        .detail(
            "unsafe_options",
            serde_json::Value::from(p.unsafe_options.clone()),
        );
    if let Some(t) = &p.declared_observed_at {
        r = r.detail("declared_observed_at", t.clone());
    }
    base(r)
}

/// The protocol the collector recorded vs the one being audited against.
/// The audited protocol always comes from the command line (or the default),
/// never from the bundle: a bundle must not choose its own expectations.
fn protocol(ctx: &Context) -> CheckResult {
    const ID: &str = "bundle.protocol";
    const TITLE: &str = "Protocol recorded at collection";
    let declared = &ctx.bundle.statement.predicate.protocol;
    let audited = &ctx.protocol.id;
    let r = if declared == audited {
        CheckResult::pass(
            ID,
            TITLE,
            format!("collected for protocol {declared}, audited against {audited}"),
        )
    } else {
        CheckResult::warn(
            ID,
            TITLE,
            format!("collected for protocol {declared} but audited against {audited}: results judge the evidence by {audited}'s rules"),
        )
    };
    let r = r
        .expected(audited.clone())
        .actual(declared.clone())
        .evidence(ENVELOPE_PATH)
        .spec(format!("{SPEC} §Statement (predicate.protocol)"));
    match &ctx.protocol.translated {
        None => r,
        // An upstream Blyss protocol file: say which file was read, what it
        // set and which of our built-in defaults filled the rest.
        Some(t) => {
            let mut r = r;
            r.summary = format!(
                "{}; protocol read from upstream Blyss file {} and translated onto built-in {} ({} requirement(s) taken, {} default(s) added from {})",
                r.summary,
                ctx.protocol.origin,
                t.base,
                t.taken.len(),
                t.defaults.len(),
                t.base
            );
            r.detail("protocol_file", ctx.protocol.origin.clone())
                .detail("protocol_base", t.base.clone())
                .detail(
                    "protocol_taken",
                    t.taken
                        .iter()
                        .map(|(a, b)| format!("{a} -> {b}"))
                        .collect::<Vec<_>>(),
                )
                .detail("protocol_defaults_added", t.defaults.clone())
                .detail("protocol_not_checked", t.informational.clone())
        }
    }
}

fn signature(ctx: &Context) -> CheckResult {
    const ID: &str = "bundle.signature";
    const TITLE: &str = "Bundle signature and signer";
    let b = ctx.bundle;
    let base = |r: CheckResult| {
        r.evidence(ENVELOPE_PATH)
            .evidence(SIGNER_PATH)
            .spec(format!("{SPEC} §Signature; DSSE v1 PAE"))
    };
    if b.envelope.payload_type != PAYLOAD_TYPE {
        return base(CheckResult::fail(ID, TITLE, "unexpected DSSE payloadType"))
            .expected(PAYLOAD_TYPE)
            .actual(b.envelope.payload_type.clone());
    }
    let version_problem = b.statement.version_problem();
    if b.statement.type_ != STATEMENT_TYPE || version_problem.is_some() {
        return base(CheckResult::fail(
            ID,
            TITLE,
            version_problem.unwrap_or_else(|| "unknown statement type".into()),
        ))
        .expected(format!(
            "{STATEMENT_TYPE} / {PREDICATE_TYPE} (or {PREDICATE_TYPE_V1} without v2 fields)"
        ))
        .actual(format!(
            "{} / {}",
            b.statement.type_, b.statement.predicate_type
        ));
    }
    let Some(pem) = &b.signer_pem else {
        return base(CheckResult::fail(
            ID,
            TITLE,
            format!("the bundle carries no {SIGNER_PATH}: the signature cannot be checked"),
        ));
    };
    let key = match std::str::from_utf8(pem)
        .map_err(|e| e.to_string())
        .and_then(|p| keys::parse_public(p, SIGNER_PATH).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => {
            return base(CheckResult::fail(
                ID,
                TITLE,
                format!("signer key unreadable: {e}"),
            ))
        }
    };
    let fp = keys::fingerprint(&key);
    if let Err(e) = b.envelope.verify(&key) {
        return base(CheckResult::fail(ID, TITLE, e)).actual(format!("signer {fp}"));
    }
    match &ctx.options.signer_pin {
        Some(SignerPin::Fingerprint(pin)) if pin == &fp => base(CheckResult::pass(
            ID,
            TITLE,
            format!("signed by the pinned collector key {}", crate::util::short_hex(&fp)),
        ))
        .expected(pin.clone())
        .actual(fp),
        Some(SignerPin::Fingerprint(pin)) => base(CheckResult::fail(
            ID,
            TITLE,
            "signed by a key other than the pinned collector key",
        ))
        .expected(pin.clone())
        .actual(fp),
        None => base(CheckResult::warn(
            ID,
            TITLE,
            format!(
                "signature valid, but the signer {} is not pinned (use --signer): anyone could have sealed this bundle",
                crate::util::short_hex(&fp)
            ),
        ))
        .expected("a signer pinned with --signer")
        .actual(fp),
    }
}

fn integrity(ctx: &Context) -> CheckResult {
    const ID: &str = "bundle.integrity";
    const TITLE: &str = "Evidence members match the signed statement";
    let b = ctx.bundle;
    let spec = format!("{SPEC} §Members; in-toto Statement v1 subject");
    let mut problems = Vec::new();
    let mut altered = Vec::new();
    let listed: BTreeSet<&str> = b
        .statement
        .subject
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    if listed.len() != b.statement.subject.len() {
        problems.push("the statement lists a member twice".to_string());
    }
    for s in &b.statement.subject {
        match b.member_sha256(&s.name) {
            None => {
                problems.push(format!("{} is listed but missing", s.name));
                altered.push(s.name.clone());
            }
            Some(d) => {
                if d != s.digest.sha256 {
                    problems.push(format!(
                        "{} was altered (sha256 {} ≠ signed {})",
                        s.name,
                        crate::util::short_hex(d),
                        crate::util::short_hex(&s.digest.sha256)
                    ));
                    altered.push(s.name.clone());
                }
            }
        }
        if !s.name.starts_with(EVIDENCE_PREFIX) {
            problems.push(format!("{} is outside {EVIDENCE_PREFIX}", s.name));
        }
    }
    for p in b.members().keys() {
        if !listed.contains(p.as_str()) {
            problems.push(format!("{p} is present but not in the signed statement"));
            altered.push(p.clone());
        }
    }
    let records: BTreeSet<&str> = b
        .statement
        .predicate
        .members
        .iter()
        .map(|m| m.path.as_str())
        .collect();
    if records != listed {
        problems.push("the provenance records do not name exactly the signed members".into());
    }
    let mut r = if problems.is_empty() {
        CheckResult::pass(
            ID,
            TITLE,
            format!(
                "{} evidence members, each matching its signed sha256",
                listed.len()
            ),
        )
    } else {
        CheckResult::fail(ID, TITLE, problems.join("; "))
    };
    r = r
        .spec(spec)
        .evidence(ENVELOPE_PATH)
        .expected(format!("{} members as signed", listed.len()))
        .actual(format!("{} members present", b.members().len()));
    for a in altered {
        r = r.evidence(a);
    }
    r
}
