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
                if c.status != Status::Pass || verbose {
                    if let Some(e) = &c.expected {
                        out.push_str(&format!("        expected: {e}\n"));
                    }
                    if let Some(a) = &c.actual {
                        out.push_str(&format!("        actual:   {a}\n"));
                    }
                }
            }
        }
    }
    out.push_str(&format!("verdict: {}\n", r.verdict.label));
    out
}
