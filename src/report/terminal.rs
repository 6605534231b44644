//! The terminal summary, in the spirit of the original verifier: one line
//! per check family, then the verdict. `-v` lists every check.

use super::Report;
use crate::checks::Status;

/// Renders the summary. `verbose` adds every check with expected/actual.
pub fn render(r: &Report, verbose: bool) -> String {
    let r = &r.scrubbed();
    let mut out = String::new();
    if !r.trust.production {
        out.push_str(&format!(
            "⚠️  NON-PRODUCTION TRUST SET {:?} ({}): this result proves nothing about a production service\n",
            r.trust.name,
            crate::util::short_hex(&r.trust.digest)
        ));
    }
    out.push_str(&format!(
        "bundle {} ({}), protocol {}, scope {}, evaluated at {}\n",
        r.bundle.file_name,
        crate::util::short_hex(&r.bundle.sha256),
        r.protocol.id,
        r.scope,
        r.evaluation_time
    ));
    if r.evaluation_time_source == "declared" {
        out.push_str(&format!("⚠️  {}\n", super::DECLARED_TIME_NOTE));
    }
    for f in &r.families {
        out.push_str(&format!("{} {}: {}\n", f.status.icon(), f.title, f.line));
        if verbose {
            for c in r.checks.iter().filter(|c| c.family == f.family) {
                let subj = c
                    .subject
                    .as_deref()
                    .map(|s| format!(" [{s}]"))
                    .unwrap_or_default();
                let req = if c.required { "" } else { " (informational)" };
                out.push_str(&format!(
                    "    {} {}{}{} — {}\n",
                    c.status.icon(),
                    c.id,
                    subj,
                    req,
                    c.summary
                ));
                if let Some(e) = &c.expected {
                    out.push_str(&format!("        expected: {e}\n"));
                }
                if let Some(a) = &c.actual {
                    out.push_str(&format!("        actual:   {a}\n"));
                }
                // What a reviewer needs to follow up a result that is not a pass.
                if matches!(c.status, Status::Fail | Status::Warn) {
                    if !c.evidence.is_empty() {
                        out.push_str(&format!("        evidence: {}\n", c.evidence.join(", ")));
                    }
                    if !c.spec.is_empty() {
                        out.push_str(&format!("        spec:     {}\n", c.spec));
                    }
                }
            }
        }
    }
    out.push_str(&format!("verdict: {}\n", r.verdict.label));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_report;

    #[test]
    fn summary_has_one_line_per_family_and_the_verdict() {
        let r = sample_report();
        let out = render(&r, false);
        for f in &r.families {
            assert!(out.contains(&format!("{}: ", f.title)), "{out}");
        }
        assert!(out.ends_with("verdict: PASS\n"), "{out}");
        assert!(!out.contains("expected:"), "details only with -v");
    }

    #[test]
    fn verbose_shows_expected_actual_and_follow_up_for_warnings() {
        let r = sample_report();
        let out = render(&r, true);
        assert!(out.contains("expected: "), "{out}");
        assert!(out.contains("evidence: evidence/attestation.json, envelope.dsse.json"));
        assert!(out.contains("spec:     spec §1"));
    }

    #[test]
    fn non_production_trust_is_the_first_line() {
        let mut r = sample_report();
        r.trust.production = false;
        let out = render(&r, false);
        assert!(out.starts_with("⚠️  NON-PRODUCTION TRUST SET"), "{out}");
    }
}
