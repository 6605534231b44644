//! The Markdown summary: compact, for a ticket or a pull-request comment.
//! GitHub-flavoured Markdown; every value taken from the evidence is escaped
//! (or put in a code span) so that it cannot inject links, images, HTML or
//! table cells into the page it is pasted into.

use super::Report;
use crate::checks::{Status, Verdict};
use crate::util::short_hex;

/// Longest value shown whole in the Markdown summary; longer ones are cut
/// (and say so): the JSON and HTML reports have them in full.
const MAX_VALUE: usize = 160;

/// Renders the summary.
pub fn render(report: &Report) -> String {
    render_with_note(report, None)
}

/// Renders the summary of a saved report (`report render`): as [`render`],
/// with a note under the heading that it was re-rendered, not re-audited.
pub fn render_saved(report: &Report, source: &str) -> String {
    render_with_note(report, Some(super::terminal::saved_note(report, source)))
}

fn render_with_note(report: &Report, note: Option<String>) -> String {
    let r = &report.scrubbed();
    let mut out = String::new();
    let icon = match (r.verdict.status, r.verdict.non_production_trust) {
        (_, true) => "⚠️",
        (Verdict::Pass, _) => "✅",
        (Verdict::Fail, _) => "❌",
    };
    out.push_str(&format!(
        "## {icon} {} — blyss-evidence audit of {}\n\n",
        text(&r.verdict.label),
        code(&r.bundle.file_name)
    ));
    if let Some(n) = note {
        out.push_str(&format!("> [!NOTE]\n> {}\n\n", text(&n)));
    }
    if r.verdict.non_production_trust {
        out.push_str(&format!(
            "> [!WARNING]\n> **NON-PRODUCTION TRUST SET** {} {}: this result says nothing about a production service.\n\n",
            code(&r.trust.name),
            text(&r.trust.version)
        ));
    }
    if r.evaluation_time_source == "declared" {
        out.push_str(&format!(
            "> [!WARNING]\n> {}\n\n",
            super::DECLARED_TIME_NOTE
        ));
    }
    if !r.redacted {
        out.push_str(
            "> [!CAUTION]\n> **Secrets not redacted** (`--no-redact`): this report may contain secrets from the evidence. Do not share it.\n\n",
        );
    }
    let signer = match &r.signer.fingerprint {
        Some(f) if r.signer.pinned => format!("{} (pinned)", code(&short_hex(f))),
        Some(f) => format!("{} (**not pinned**)", code(&short_hex(f))),
        None => "**unreadable**".to_string(),
    };
    let lines = [
        ("Service", text(&r.bundle.target)),
        (
            "Bundle",
            format!(
                "{} sha256 {}",
                code(&r.bundle.file_name),
                code(&short_hex(&r.bundle.sha256))
            ),
        ),
        (
            "Protocol",
            format!("{} · scope {}", code(&r.protocol.id), code(&r.scope)),
        ),
        (
            "Evaluated at",
            format!(
                "{} (from {}) · audited at {}",
                text(&r.evaluation_time),
                text(&r.evaluation_time_source),
                text(&r.audit_time)
            ),
        ),
        (
            "Trust set",
            format!(
                "{} {} ({}) digest {}",
                text(&r.trust.name),
                text(&r.trust.version),
                if r.trust.production {
                    "production"
                } else {
                    "**NON-PRODUCTION**"
                },
                code(&short_hex(&r.trust.digest))
            ),
        ),
        ("Signer", signer),
    ];
    for (k, v) in lines {
        out.push_str(&format!("- **{k}:** {v}\n"));
    }
    for (k, v) in super::tinfoil_facts(r) {
        out.push_str(&format!("- **Tinfoil {k}:** {}\n", code(&v)));
    }
    out.push('\n');

    out.push_str("| | Family | Pass | Fail | Warn | N/A | Key finding |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---|\n");
    for f in &r.families {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            f.status.icon(),
            cell(&f.title),
            f.passed,
            f.failed,
            f.warnings,
            f.not_applicable,
            cell(&cut(&f.line))
        ));
    }
    out.push('\n');

    let failed: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.required && c.status == Status::Fail)
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!(
            "### Failed required checks ({})\n\n",
            failed.len()
        ));
        for c in failed {
            check_item(&mut out, c);
        }
        out.push('\n');
    }
    let warned: Vec<_> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Warn || (c.status == Status::Fail && !c.required))
        .collect();
    if !warned.is_empty() {
        out.push_str(&format!("### Warnings ({})\n\n", warned.len()));
        for c in warned {
            check_item(&mut out, c);
        }
        out.push('\n');
    }
    let total = r.checks.len();
    let pass = r.checks.iter().filter(|c| c.status == Status::Pass).count();
    out.push_str(&format!(
        "<sub>{total} results, {pass} passed. {} {} · JSON report schema_version {} · secrets {}. Full details: the JSON or HTML report.</sub>\n",
        text(&r.tool.name),
        text(&r.tool.version),
        r.schema_version,
        if r.redacted { "redacted" } else { "NOT redacted" }
    ));
    out
}

fn check_item(out: &mut String, c: &crate::checks::CheckResult) {
    let subject = c
        .subject
        .as_deref()
        .map(|s| format!(" [{}]", text(s)))
        .unwrap_or_default();
    out.push_str(&format!(
        "- {} {}{} — {}\n",
        c.status.icon(),
        code(&c.id),
        subject,
        text(&c.summary)
    ));
    if let Some(e) = &c.expected {
        out.push_str(&format!("  - expected: {}\n", code(&cut(e))));
    }
    if let Some(a) = &c.actual {
        out.push_str(&format!("  - actual: {}\n", code(&cut(a))));
    }
    if !c.evidence.is_empty() {
        let ev: Vec<String> = c.evidence.iter().map(|e| code(e)).collect();
        out.push_str(&format!("  - evidence: {}\n", ev.join(", ")));
    }
    if !c.spec.is_empty() {
        out.push_str(&format!("  - spec: {}\n", text(&c.spec)));
    }
}

/// Shortens a long value, saying how long it was: prose keeps its start,
/// a single token (a digest, a command-line word) its start and its end.
fn cut(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_VALUE {
        return s.to_string();
    }
    if s.contains(char::is_whitespace) {
        let head: String = s.chars().take(MAX_VALUE - 30).collect();
        return format!("{} … ({n} characters)", head.trim_end());
    }
    let head: String = s.chars().take(MAX_VALUE - 50).collect();
    let tail: String = s.chars().skip(n - 24).collect();
    format!("{head}…{tail} ({n} characters)")
}

/// One line of visible characters: newlines, tabs, every other control
/// character (C0, DEL, C1) and the bidirectional overrides become visible
/// escapes ([`crate::util::visible`]), so a value can neither leave its
/// list item or table cell nor reorder or hide text where the Markdown is
/// shown (or printed to a terminal).
fn one_line(s: &str) -> String {
    crate::util::visible(s).into_owned()
}

/// Escapes Markdown and inline HTML in text.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A code span that holds `s` verbatim, whatever backticks it contains.
/// Pipes are escaped so that the span is also safe inside a table cell.
pub fn code(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') {
        " "
    } else {
        ""
    };
    if s.is_empty() {
        return "` `".to_string();
    }
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A table cell: escaped text.
fn cell(s: &str) -> String {
    text(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_report;

    #[test]
    fn injected_markdown_and_html_are_neutralised() {
        let mut r = sample_report();
        r.checks[0].status = Status::Fail;
        r.checks[0].required = true;
        r.checks[0].summary = "[click](http://evil.example) <img src=x> | col".into();
        r.checks[0].actual = Some("a`b``c | d".into());
        let md = render(&r);
        assert!(!md.contains("[click](http"), "{md}");
        assert!(!md.contains("<img"), "{md}");
        assert!(
            md.contains("\\[click\\](http://evil.example) &lt;img src=x&gt; \\| col"),
            "{md}"
        );
        assert!(md.contains("```a`b``c \\| d```"), "{md}");
    }

    #[test]
    fn control_and_bidi_characters_stay_inside_their_cell_as_escapes() {
        let mut r = sample_report();
        let payload = "\u{1b}[2J\n| x | y |\nverdict: PASS\u{9b}\u{202e}`";
        r.families[0].line = format!("l{payload}");
        r.checks[1].actual = Some(format!("a{payload}"));
        let md = render(&r);
        assert!(!md.contains(['\u{1b}', '\u{9b}', '\u{202e}']), "{md}");
        let row = md.lines().find(|l| l.contains("l\\\\x1b")).unwrap();
        // The whole family row is one table row of 8 unescaped pipes.
        let pipes = row.matches('|').count() - row.matches("\\|").count();
        assert_eq!(pipes, 8, "{row}");
        assert!(
            md.contains("a\\x1b[2J\\n\\| x \\| y \\|\\nverdict: PASS\\u{9b}\\u{202e}`"),
            "{md}"
        );
        let saved = render_saved(&r, "saved.json");
        assert!(saved.contains("> [!NOTE]\n> re-rendered from the saved report saved.json"));
    }

    #[test]
    fn long_values_are_cut_and_say_so() {
        let token = format!("{}{}", "a".repeat(500), "z".repeat(500));
        let c = cut(&token);
        assert!(c.ends_with("zzz (1000 characters)"), "{c}");
        assert!(c.starts_with("aaa"));
        assert!(c.chars().count() < 200);
        let prose = "word ".repeat(100);
        let c = cut(&prose);
        assert!(
            c.starts_with("word word") && c.ends_with("word … (500 characters)"),
            "{c}"
        );
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn code_spans_survive_backticks_and_empty_values() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code(""), "` `");
    }

    #[test]
    fn non_production_and_unredacted_are_flagged() {
        let mut r = sample_report();
        r.verdict.non_production_trust = true;
        r.trust.production = false;
        r.redacted = false;
        let md = render(&r);
        assert!(md.contains("NON-PRODUCTION TRUST SET"), "{md}");
        assert!(md.contains("Secrets not redacted"), "{md}");
    }
}
