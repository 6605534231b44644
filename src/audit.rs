//! The audit pipeline: bundle + protocol + trust set + options → [`Report`].
//! Pure and offline: no file, network or clock access happens in here (the
//! audit time is passed in).

use time::OffsetDateTime;

use crate::bundle::Bundle;
use crate::checks::{self, Context};
// What a caller of the audit (the CLI, `collect --verify`) needs to call it
// and read its outcome, so that such callers depend on `audit` alone.
pub use crate::checks::{AuditOptions, Scope, SignerPin, Verdict};
use crate::evidence::attestation::AttestationDocument;
use crate::evidence::layout;
use crate::protocol::Protocol;
use crate::report::redact::Redactor;
pub use crate::report::Report;
use crate::report::*;
use crate::trust::TrustSet;
use crate::util::fmt_time;

/// Finds and parses the attestation evidence in a bundle: the served
/// document, or a raw report + VCEK import.
pub fn attestation_of(bundle: &Bundle) -> Result<AttestationDocument, String> {
    if let Some(bytes) = bundle.member(layout::TINFOIL_BUNDLE) {
        // One interpretation per bundle: a Tinfoil bundle carries its own
        // report, so a second source of one is ambiguous.
        if bundle.member(layout::ATTESTATION).is_some()
            || bundle.member(layout::SNP_REPORT).is_some()
        {
            return Err(format!(
                "{} holds an SNP report and so does {} or {}: two reports, no single interpretation",
                layout::TINFOIL_BUNDLE,
                layout::ATTESTATION,
                layout::SNP_REPORT
            ));
        }
        let t = crate::evidence::tinfoil::TinfoilBundle::parse(bytes)
            .map_err(|e| format!("{}: {e}", layout::TINFOIL_BUNDLE))?;
        let mut doc = AttestationDocument::from_raw(&t.report, &t.vcek_der)
            .map_err(|e| format!("{}: {e}", layout::TINFOIL_BUNDLE))?;
        doc.source = layout::TINFOIL_BUNDLE.into();
        return Ok(doc);
    }
    if let Some(bytes) = bundle.member(layout::ATTESTATION) {
        return AttestationDocument::parse_json(bytes)
            .map_err(|e| format!("{}: {e}", layout::ATTESTATION));
    }
    if let Some(report) = bundle.member(layout::SNP_REPORT) {
        // The report's key: a VCEK or a VLEK, exactly one (two keys would
        // be two interpretations of one bundle).
        let mut keys = bundle.members_under(layout::SNP_VCEK);
        keys.extend(bundle.members_under(layout::SNP_VLEK));
        if keys.len() > 1 {
            return Err(format!(
                "{} has several keys beside it ({}): expected exactly one VCEK or VLEK",
                layout::SNP_REPORT,
                keys.join(", ")
            ));
        }
        let vcek = keys.first().and_then(|p| bundle.member(p)).ok_or_else(|| {
            format!(
                "{} has no VCEK or VLEK beside it ({}.der|.pem or {}.der|.pem)",
                layout::SNP_REPORT,
                layout::SNP_VCEK,
                layout::SNP_VLEK
            )
        })?;
        return AttestationDocument::from_raw(report, vcek)
            .map_err(|e| format!("{}: {e}", layout::SNP_REPORT));
    }
    Err(format!(
        "the bundle holds no attestation evidence ({} or {})",
        layout::ATTESTATION,
        layout::SNP_REPORT
    ))
}

/// Runs every check and assembles the report.
pub fn audit(
    bundle: &Bundle,
    protocol: &Protocol,
    trust: &TrustSet,
    options: &AuditOptions,
    audit_time: OffsetDateTime,
) -> Report {
    let doc = attestation_of(bundle);
    let (eval_time, eval_source) = match (
        options.at,
        bundle.declared_observed_at(),
        bundle.collected_at(),
    ) {
        (Some(t), _, _) => (t, "option"),
        // An import's declared observation time (statement v2): claimed by
        // the importer, not witnessed; the report says so.
        (None, Some(t), _) => (t, "declared"),
        (None, None, Some(t)) => (t, "bundle"),
        // No usable collection time: judge at audit time and say so.
        (None, None, None) => (audit_time, "audit-time"),
    };
    let ctx = Context {
        bundle,
        doc: &doc,
        protocol,
        trust,
        options,
        eval_time,
    };
    let mut results = checks::run_all(&ctx);
    checks::add_time_remedy(&mut results, eval_time, eval_source);

    let redactor = redactor_for(bundle, &doc, protocol, options);

    let verdict = crate::report::derive_verdict(
        &results,
        options.scope == Scope::Attestation,
        trust.production,
    );

    let signer_fp = bundle
        .signer_pem
        .as_ref()
        .and_then(|p| std::str::from_utf8(p).ok())
        .and_then(|p| crate::bundle::keys::parse_public(p, "signer.pem").ok())
        .map(|k| crate::bundle::keys::fingerprint(&k));
    let pinned = matches!((&options.signer_pin, &signer_fp), (Some(SignerPin::Fingerprint(p)), Some(f)) if p == f);

    let pred = &bundle.statement.predicate;
    let members = pred
        .members
        .iter()
        .map(|m| {
            let data = bundle.member(&m.path);
            MemberInfo {
                path: m.path.clone(),
                size: data.map(|d| d.len() as u64).unwrap_or(0),
                sha256: bundle
                    .member_sha256(&m.path)
                    .map(str::to_string)
                    .unwrap_or_default(),
                source: m.source.clone(),
                http_status: m.http_status,
                fetched_at: m.fetched_at.clone(),
            }
        })
        .collect();

    let mut facts = std::collections::BTreeMap::new();
    for r in &results {
        for (k, v) in &r.details {
            if let Some(fact) = k.strip_prefix("fact:") {
                facts.insert(fact.to_string(), v.clone());
            }
        }
    }

    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: crate::TOOL_NAME.into(),
            version: crate::TOOL_VERSION.into(),
        },
        bundle: BundleInfo {
            file_name: bundle.file_name.clone(),
            sha256: bundle.sha256.clone(),
            size: bundle.size,
            target: pred.target.clone(),
            declared_protocol: pred.protocol.clone(),
            collected_by: ToolInfo {
                name: pred.tool.name.clone(),
                version: pred.tool.version.clone(),
            },
            started_at: pred.started_at.clone(),
            finished_at: pred.finished_at.clone(),
            warnings: pred.warnings.clone(),
            members,
        },
        signer: SignerInfo {
            fingerprint: signer_fp,
            pinned,
        },
        trust: TrustInfo {
            name: trust.name.clone(),
            version: trust.version.clone(),
            digest: trust.digest(),
            production: trust.production,
            anchors: trust.anchors(),
        },
        protocol: ProtocolInfo {
            id: protocol.id.clone(),
            title: protocol.title.clone(),
            origin: protocol.origin.clone(),
            digest: protocol.digest.clone(),
        },
        scope: options.scope.as_str().into(),
        evaluation_time: fmt_time(eval_time),
        evaluation_time_source: eval_source.into(),
        audit_time: fmt_time(audit_time),
        redacted: !options.no_redact,
        facts,
        families: summarize_families(&results),
        checks: results,
        verdict,
    };
    // Every string of the report goes through the redactor, whichever check,
    // bundle field or protocol text it came from.
    report.redact(&redactor);
    report
}

/// The redactor for an audit: disabled under `--no-redact`; otherwise it
/// learns secret values from the kernel command line, the raw attestation
/// document (so that secrets are known even when the document does not
/// parse) and the protocol's upstream launch configuration.
pub fn redactor_for(
    bundle: &Bundle,
    doc: &Result<AttestationDocument, String>,
    protocol: &Protocol,
    options: &AuditOptions,
) -> Redactor {
    if options.no_redact {
        return Redactor::disabled();
    }
    let mut redactor = Redactor::new();
    if let Ok(d) = doc {
        if let Some(l) = &d.launch {
            redactor.learn(&l.kernel_cli);
        }
    }
    if let Some(raw) = bundle.member(layout::ATTESTATION) {
        redactor.learn(&String::from_utf8_lossy(raw));
    }
    if let Some(up) = &protocol.upstream {
        redactor.learn_json(up);
    }
    redactor
}
