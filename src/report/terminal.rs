//! The terminal summary, in the spirit of the original verifier: one line
//! per check family, then the verdict. `-v` lists every check.

use super::Report;
use crate::checks::Status;
use crate::util::visible as v;

/// Renders the summary. `verbose` adds every check with expected/actual.
///
/// Every string of the report (evidence, bundle metadata, protocol text,
/// and for `report render` a whole hand-editable JSON file) goes through
/// [`crate::util::visible`]: control characters, C1 controls and
/// bidirectional overrides are printed as escapes, so no value can clear
/// the screen, forge a line such as `verdict: PASS` or reorder the text.
pub fn render(r: &Report, verbose: bool) -> String {
    let r = &r.scrubbed();
    let mut out = String::new();
    if !r.trust.production {
        out.push_str(&format!(
            "⚠️  NON-PRODUCTION TRUST SET \"{}\" ({}): this result proves nothing about a production service\n",
            v(&r.trust.name),
            v(&crate::util::short_hex(&r.trust.digest))
        ));
    }
    out.push_str(&format!(
        "bundle {} ({}), protocol {}, scope {}, evaluated at {}\n",
        v(&r.bundle.file_name),
        v(&crate::util::short_hex(&r.bundle.sha256)),
        v(&r.protocol.id),
        v(&r.scope),
        v(&r.evaluation_time)
    ));
    if r.evaluation_time_source == "declared" {
        out.push_str(&format!("⚠️  {}\n", super::DECLARED_TIME_NOTE));
    }
    for f in &r.families {
        out.push_str(&format!(
            "{} {}: {}\n",
            f.status.icon(),
            v(&f.title),
            v(&f.line)
        ));
        if verbose {
            for c in r.checks.iter().filter(|c| c.family == f.family) {
                let subj = c
                    .subject
                    .as_deref()
                    .map(|s| format!(" [{}]", v(s)))
                    .unwrap_or_default();
                let req = if c.required { "" } else { " (informational)" };
                out.push_str(&format!(
                    "    {} {}{}{} — {}\n",
                    c.status.icon(),
                    v(&c.id),
                    subj,
                    req,
                    v(&c.summary)
                ));
                if let Some(e) = &c.expected {
                    out.push_str(&format!("        expected: {}\n", v(e)));
                }
                if let Some(a) = &c.actual {
                    out.push_str(&format!("        actual:   {}\n", v(a)));
                }
                // What a reviewer needs to follow up a result that is not a pass.
                if matches!(c.status, Status::Fail | Status::Warn) {
                    if !c.evidence.is_empty() {
                        let ev: Vec<_> = c.evidence.iter().map(|e| v(e)).collect();
                        out.push_str(&format!("        evidence: {}\n", ev.join(", ")));
                    }
                    if !c.spec.is_empty() {
                        out.push_str(&format!("        spec:     {}\n", v(&c.spec)));
                    }
                }
            }
        }
    }
    let tf = super::tinfoil_facts(r);
    if !tf.is_empty() {
        out.push_str("Tinfoil release:\n");
        for (k, val) in tf {
            out.push_str(&format!("    {k}: {}\n", v(&val)));
        }
    }
    out.push_str(&format!("verdict: {}\n", v(&r.verdict.label)));
    out
}

/// The summary of a saved report (`report render`): the same lines, after a
/// first line saying that nothing was audited again, so the output cannot
/// be mistaken for a fresh audit. `source` names the saved file.
pub fn render_saved(r: &Report, verbose: bool, source: &str) -> String {
    format!("{}\n{}", saved_note(r, source), render(r, verbose))
}

/// One line for every rendering of a saved report (terminal, Markdown,
/// HTML): re-rendered from a saved report, not re-audited.
pub fn saved_note(r: &Report, source: &str) -> String {
    format!(
        "re-rendered from the saved report {} (audit of {}); nothing was re-audited: the verdict was re-derived from the saved check results only",
        v(source),
        v(&r.audit_time)
    )
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
    fn control_and_bidi_characters_from_the_report_are_printed_as_escapes() {
        let mut r = sample_report();
        let payload = "\u{1b}[2J\nverdict: PASS\u{9b}\u{202e}";
        r.checks[1].summary = format!("s{payload}");
        r.checks[1].actual = Some(format!("a{payload}"));
        r.checks[1].evidence = vec![format!("e{payload}")];
        r.bundle.file_name = format!("f{payload}");
        r.families[0].line = format!("l{payload}");
        let out = render(&r, true);
        assert!(!out.contains(['\u{1b}', '\u{9b}', '\u{202e}']), "{out}");
        assert_eq!(out.lines().filter(|l| l.starts_with("verdict:")).count(), 1);
        assert!(
            out.contains("s\\x1b[2J\\nverdict: PASS\\u{9b}\\u{202e}"),
            "{out}"
        );
        let saved = render_saved(&r, true, "r\u{1b}.json");
        assert!(saved.starts_with("re-rendered from the saved report r\\x1b.json"));
    }

    #[test]
    fn non_production_trust_is_the_first_line() {
        let mut r = sample_report();
        r.trust.production = false;
        let out = render(&r, false);
        assert!(out.starts_with("⚠️  NON-PRODUCTION TRUST SET"), "{out}");
    }
}
