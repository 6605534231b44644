//! The self-contained HTML report.
//!
//! Rendered with minijinja from the templates in `templates/`, which are
//! compiled into the binary (`include_str!`), so the tool needs no files at
//! run time and the page needs nothing at view time: inline CSS, inline SVG
//! icons, no fonts, scripts, images or links to anything outside the page.
//!
//! The environment is strict: an undefined variable is an error, never an
//! empty string, and every value is HTML-escaped unless it was built as safe
//! markup here (the `hex` filter, which escapes its input itself).
//!
//! The page is a function of the [`Report`] alone (plus the static
//! explanations of [`super::explain`]): `report render` of a saved JSON
//! report gives the same bytes as `audit --html`.

use minijinja::{context, AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;
use thiserror::Error;

use super::explain::{self, Explanation};
use super::Report;
use crate::checks::{CheckResult, Status};

/// The templates, embedded at compile time: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "report.html.j2",
        include_str!("../../templates/report.html.j2"),
    ),
    ("style.css.j2", include_str!("../../templates/style.css.j2")),
    ("icons.svg.j2", include_str!("../../templates/icons.svg.j2")),
];

#[derive(Debug, Error)]
#[error("HTML report template error: {0:#}")]
pub struct RenderError(#[from] minijinja::Error);

/// Renders the report as one self-contained HTML page.
pub fn render(report: &Report) -> Result<String, RenderError> {
    render_with_note(report, None)
}

/// Renders a saved report (`report render`): as [`render`], with a notice
/// under the verdict that it was re-rendered, not re-audited.
pub fn render_saved(report: &Report, source: &str) -> Result<String, RenderError> {
    render_with_note(report, Some(super::terminal::saved_note(report, source)))
}

fn render_with_note(report: &Report, note: Option<String>) -> Result<String, RenderError> {
    let env = environment()?;
    let report = report.scrubbed();
    let view = View::new(&report);
    let out = env
        .get_template("report.html.j2")?
        .render(context! { r => Value::from_serialize(&view), saved_note => note })?;
    Ok(out)
}

fn environment() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every template is HTML (the CSS and SVG ones are literal text), so
    // escape everything, whatever the name says.
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // Before HTML escaping, control characters, C1 controls and
    // bidirectional overrides in any value become visible escapes
    // (`util::visible_multiline`): an override in a check summary would
    // otherwise reorder what the reader sees. Line breaks stay (the JSON
    // details are pretty-printed in `<pre>` blocks).
    env.set_formatter(|out, state, value| {
        if !value.is_safe() {
            if let Some(s) = value.as_str() {
                if let std::borrow::Cow::Owned(v) = crate::util::visible_multiline(s) {
                    return minijinja::escape_formatter(out, state, &Value::from(v));
                }
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    for (name, src) in TEMPLATES {
        env.add_template(name, src)?;
    }
    env.add_filter("hex", hex_filter);
    Ok(env)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::util::visible_multiline(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            // Like minijinja's own escaping: no literal `//` in the page, so
            // a static scan for URLs finds only real ones.
            '/' => out.push_str("&#x2f;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `s` is (an optional `alg:` prefix and) a long hex string worth
/// shortening.
pub fn is_long_hex(s: &str) -> bool {
    let body = s.split_once(':').map(|(_, b)| b).unwrap_or(s);
    body.len() > 20 && body.chars().all(|c| c.is_ascii_hexdigit())
}

/// `{{ value | hex }}`: a long hex value is shown as `1ee2a500…3704131a`,
/// with the full value in the title attribute (hover) and in a span that
/// print CSS shows instead of the short form, so paper copies stay
/// checkable. Anything else is escaped and shown as it is.
fn hex_filter(v: Value) -> Value {
    let s = match v.as_str() {
        Some(s) => s.to_string(),
        None if v.is_none() || v.is_undefined() => "—".to_string(),
        None => v.to_string(),
    };
    if !is_long_hex(&s) {
        return Value::from_safe_string(escape(&s));
    }
    let full = escape(&s);
    let short = escape(&crate::util::short_hex(
        s.split_once(':').map(|(_, b)| b).unwrap_or(&s),
    ));
    let prefix = s
        .split_once(':')
        .map(|(p, _)| format!("{}:", escape(p)))
        .unwrap_or_default();
    Value::from_safe_string(format!(
        "<span class=\"hex\" title=\"{full}\"><span class=\"hex-short\">{prefix}{short}</span><span class=\"hex-full\">{full}</span></span>"
    ))
}

/// CSS class and label of a status.
fn status_view(s: Status, required: bool) -> (&'static str, &'static str) {
    match (s, required) {
        (Status::Pass, _) => ("pass", "PASS"),
        (Status::Fail, true) => ("fail", "FAIL"),
        // A failing check the protocol does not require is a warning for
        // the verdict; say both.
        (Status::Fail, false) => ("warn", "FAIL (informational)"),
        (Status::Warn, _) => ("warn", "WARN"),
        (Status::NotApplicable, _) => ("na", "N/A"),
    }
}

fn family_status_view(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Pass => ("pass", "PASS"),
        Status::Fail => ("fail", "FAIL"),
        Status::Warn => ("warn", "WARN"),
        Status::NotApplicable => ("na", "N/A"),
    }
}

/// Everything the template shows, derived from the report alone.
#[derive(Serialize)]
struct View<'a> {
    report: &'a Report,
    verdict_class: &'static str,
    verdict_headline: String,
    title: String,
    families: Vec<FamilyView<'a>>,
    counts: Counts,
    facts: Vec<DetailView<'a>>,
    members: Vec<MemberView<'a>>,
}

#[derive(Serialize)]
struct MemberView<'a> {
    path: &'a str,
    size: u64,
    sha256: &'a str,
    source: &'a str,
    http_status: Option<u16>,
    fetched_at: &'a str,
}

#[derive(Serialize, Default)]
struct Counts {
    total: usize,
    pass: usize,
    fail: usize,
    warn: usize,
    na: usize,
    required_failed: usize,
}

#[derive(Serialize)]
struct FamilyView<'a> {
    id: &'a str,
    anchor: String,
    title: &'a str,
    class: &'static str,
    label: &'static str,
    passed: usize,
    failed: usize,
    warnings: usize,
    not_applicable: usize,
    line: &'a str,
    explain: &'static Explanation,
    checks: Vec<CheckView<'a>>,
}

#[derive(Serialize)]
struct CheckView<'a> {
    c: &'a CheckResult,
    subject: Option<&'a str>,
    expected: Option<&'a str>,
    actual: Option<&'a str>,
    anchor: String,
    class: &'static str,
    label: &'static str,
    /// `Some(true)` when expected and actual are both present and equal.
    same: Option<bool>,
    /// A failing or warning check whose expected and actual differ: the
    /// actual value is highlighted. (Expected and actual are not always
    /// comparable strings, so a passing check is never marked.)
    differs: bool,
    evidence: Vec<EvidenceView<'a>>,
    details: Vec<DetailView<'a>>,
}

#[derive(Serialize)]
struct EvidenceView<'a> {
    path: &'a str,
    /// From the bundle manifest; `None` if the path is not an evidence member.
    sha256: Option<&'a str>,
    size: Option<u64>,
    note: &'static str,
}

#[derive(Serialize)]
struct DetailView<'a> {
    key: &'a str,
    /// `text` (a string or scalar shown inline), `list` (a JSON array of
    /// scalars on one wrapping line) or `json` (pretty JSON block).
    kind: &'static str,
    text: String,
}

/// A fragment id built from a check id: only `[a-z0-9-]`, so it is safe in
/// an attribute and a URL fragment.
fn anchor(prefix: &str, s: &str, n: usize) -> String {
    let mut out = String::from(prefix);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push('-');
        }
    }
    out.push_str(&format!("-{n}"));
    out
}

impl<'a> View<'a> {
    fn new(r: &'a Report) -> Self {
        let mut counts = Counts::default();
        let mut n = 0usize;
        let mut families = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for f in &r.families {
            if seen.contains(&f.family.as_str()) {
                continue;
            }
            seen.push(&f.family);
            let fv = family_view(
                r,
                FamilyHead {
                    id: &f.family,
                    title: &f.title,
                    status: f.status,
                    counts: (f.passed, f.failed, f.warnings, f.not_applicable),
                    line: &f.line,
                },
                families.len() + 1,
                &mut counts,
                &mut n,
            );
            families.push(fv);
        }
        // Results whose family has no summary (a hand-edited or partial
        // report) are still shown, never dropped.
        let mut orphans: Vec<&'a str> = r
            .checks
            .iter()
            .map(|c| c.family.as_str())
            .filter(|f| !seen.contains(f))
            .collect();
        orphans.sort();
        orphans.dedup();
        for f in orphans {
            let rs: Vec<&CheckResult> = r.checks.iter().filter(|c| c.family == f).collect();
            let st = crate::checks::worst(&rs);
            let cnt = |s: Status| rs.iter().filter(|c| c.status == s).count();
            let fv = family_view(
                r,
                FamilyHead {
                    id: f,
                    title: f,
                    status: st,
                    counts: (
                        cnt(Status::Pass),
                        cnt(Status::Fail),
                        cnt(Status::Warn),
                        cnt(Status::NotApplicable),
                    ),
                    line: "",
                },
                families.len() + 1,
                &mut counts,
                &mut n,
            );
            families.push(fv);
        }
        let pass = r.verdict.status == crate::checks::Verdict::Pass;
        let verdict_class = match (pass, r.verdict.non_production_trust) {
            (_, true) => "nonprod",
            (true, false) => "pass",
            (false, false) => "fail",
        };
        let verdict_headline = if pass {
            "The audit passed: every required check holds on the evidence.".to_string()
        } else {
            let k = r.verdict.failed_required.len();
            format!(
                "The audit failed: {k} required check{} did not hold.",
                if k == 1 { "" } else { "s" }
            )
        };
        View {
            report: r,
            verdict_class,
            verdict_headline,
            title: format!(
                "{} — {} — blyss-evidence audit of {}",
                r.verdict.label, r.bundle.target, r.bundle.file_name
            ),
            families,
            counts,
            facts: r.facts.iter().map(|(k, v)| detail_view(k, v)).collect(),
            members: r
                .bundle
                .members
                .iter()
                .map(|m| MemberView {
                    path: &m.path,
                    size: m.size,
                    sha256: &m.sha256,
                    source: &m.source,
                    http_status: m.http_status,
                    fetched_at: &m.fetched_at,
                })
                .collect(),
        }
    }
}

fn detail_view<'a>(k: &'a str, v: &serde_json::Value) -> DetailView<'a> {
    match v {
        serde_json::Value::String(s) => DetailView {
            key: k,
            kind: "text",
            text: s.clone(),
        },
        // A list of scalars reads best on one (wrapping) line.
        serde_json::Value::Array(items)
            if items.iter().all(|x| !x.is_array() && !x.is_object()) =>
        {
            let parts: Vec<String> = items.iter().map(|x| x.to_string()).collect();
            DetailView {
                key: k,
                kind: "list",
                text: format!("[{}]", parts.join(", ")),
            }
        }
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => DetailView {
            key: k,
            kind: "json",
            text: serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()),
        },
        other => DetailView {
            key: k,
            kind: "text",
            text: other.to_string(),
        },
    }
}

struct FamilyHead<'a> {
    id: &'a str,
    title: &'a str,
    status: Status,
    /// passed, failed, warnings, not applicable.
    counts: (usize, usize, usize, usize),
    line: &'a str,
}

fn family_view<'a>(
    r: &'a Report,
    h: FamilyHead<'a>,
    index: usize,
    counts: &mut Counts,
    n: &mut usize,
) -> FamilyView<'a> {
    let checks = r
        .checks
        .iter()
        .filter(|c| c.family == h.id)
        .map(|c| {
            *n += 1;
            check_view(r, c, *n, counts)
        })
        .collect();
    let (class, label) = family_status_view(h.status);
    FamilyView {
        id: h.id,
        anchor: anchor("family-", h.id, index),
        title: h.title,
        class,
        label,
        passed: h.counts.0,
        failed: h.counts.1,
        warnings: h.counts.2,
        not_applicable: h.counts.3,
        line: h.line,
        explain: explain::family(h.id),
        checks,
    }
}

fn check_view<'a>(
    r: &'a Report,
    c: &'a CheckResult,
    n: usize,
    counts: &mut Counts,
) -> CheckView<'a> {
    let (class, label) = status_view(c.status, c.required);
    counts.total += 1;
    match class {
        "pass" => counts.pass += 1,
        "fail" => counts.fail += 1,
        "warn" => counts.warn += 1,
        _ => counts.na += 1,
    }
    if c.required && c.status == Status::Fail {
        counts.required_failed += 1;
    }
    let evidence = c
        .evidence
        .iter()
        .map(|p| {
            let m = r.bundle.members.iter().find(|m| &m.path == p);
            EvidenceView {
                path: p,
                sha256: m.map(|m| m.sha256.as_str()),
                size: m.map(|m| m.size),
                note: match m {
                    Some(_) => "",
                    None if p.starts_with("evidence/") => "not in the bundle",
                    None => "bundle metadata, covered by the bundle sha256",
                },
            }
        })
        .collect();
    let details = c.details.iter().map(|(k, v)| detail_view(k, v)).collect();
    let same = match (&c.expected, &c.actual) {
        (Some(e), Some(a)) => Some(e == a),
        _ => None,
    };
    let differs = same == Some(false) && matches!(c.status, Status::Fail | Status::Warn);
    CheckView {
        c,
        differs,
        subject: c.subject.as_deref(),
        expected: c.expected.as_deref(),
        actual: c.actual.as_deref(),
        anchor: anchor("check-", &c.id, n),
        class,
        label,
        same,
        evidence,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_report;

    #[test]
    fn markup_in_evidence_strings_is_escaped() {
        let mut r = sample_report();
        r.checks[0].summary = "<script>alert(1)</script>".into();
        r.checks[0].actual = Some("\"><img src=x onerror=alert(1)>".into());
        r.checks[0]
            .details
            .insert("k".into(), serde_json::json!({"a": "<b>bold</b>"}));
        r.bundle.target = "<a href=\"http://evil.example\">x</a>".into();
        let html = render(&r).unwrap();
        assert!(!html.contains("<script>alert"), "summary not escaped");
        assert!(!html.contains("<img src=x"), "actual not escaped");
        assert!(!html.contains("<b>bold</b>"), "details not escaped");
        assert!(
            !html.contains("<a href=\"http://evil"),
            "target not escaped"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("&lt;a href=&quot;http:&#x2f;&#x2f;evil.example&quot;&gt;"));
    }

    #[test]
    fn hex_filter_shortens_and_keeps_full_value() {
        let h = "1ee2a500b58a0c6935b29d0c7cc64cbdf25100a75b574163b8cf8a24bb4aa0a566bfa34a75610f2c7927d2353704131a";
        let out = hex_filter(Value::from(h)).to_string();
        assert!(out.contains("1ee2a500…3704131a"), "{out}");
        assert!(out.contains(&format!("title=\"{h}\"")), "{out}");
        assert_eq!(hex_filter(Value::from("a<b")).to_string(), "a&lt;b");
        let pre = hex_filter(Value::from(format!("sha256:{}", &h[..64]))).to_string();
        assert!(pre.contains("sha256:1ee2a500…"), "{pre}");
    }

    #[test]
    fn details_render_by_shape() {
        let v = serde_json::json!(["a", 1, null]);
        let d = detail_view("k", &v);
        assert_eq!((d.kind, d.text.as_str()), ("list", "[\"a\", 1, null]"));
        let d = detail_view("k", &serde_json::json!([{"x": 1}]));
        assert_eq!(d.kind, "json");
        assert!(d.text.contains("\n"), "objects are pretty-printed");
        let d = detail_view("k", &serde_json::json!(true));
        assert_eq!((d.kind, d.text.as_str()), ("text", "true"));
    }

    #[test]
    fn undefined_variables_are_errors() {
        let mut env = environment().unwrap();
        env.add_template("t.html", "{{ nope }}").unwrap();
        assert!(env
            .get_template("t.html")
            .unwrap()
            .render(context! {})
            .is_err());
    }

    #[test]
    fn every_check_and_family_is_rendered_even_without_summary() {
        let mut r = sample_report();
        let mut extra = r.checks[0].clone();
        extra.id = "zzz.orphan".into();
        extra.family = "zzz".into();
        r.checks.push(extra);
        let html = render(&r).unwrap();
        for c in &r.checks {
            assert!(html.contains(&escape(&c.id)), "{} missing", c.id);
        }
    }

    #[test]
    fn verdict_banner_marks_non_production_trust() {
        let mut r = sample_report();
        r.verdict.non_production_trust = true;
        r.trust.production = false;
        r.verdict.label = "PASS — NON-PRODUCTION TRUST".into();
        let html = render(&r).unwrap();
        assert!(html.contains("class=\"verdict nonprod\""));
        assert!(html.contains("NON-PRODUCTION TRUST"));
    }

    #[test]
    fn rendering_is_deterministic() {
        let r = sample_report();
        assert_eq!(render(&r).unwrap(), render(&r).unwrap());
    }
}
