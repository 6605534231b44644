//! Secret redaction. The real Blyss command line carries a Hugging Face token
//! in `--env HUGGING_FACE_HUB_TOKEN=…`; it is part of the measured bytes, so
//! the evidence keeps it (and the measurement uses the exact bytes), but no
//! report may show it.
//!
//! Three layers, all applied to every string of a report (see
//! [`crate::report::Report::redact`]):
//! 1. **Learned values.** The audit learns secret values from the evidence
//!    (the kernel command line, the raw attestation document, the protocol's
//!    upstream launch configuration): values of `NAME=VALUE` whose NAME looks
//!    like a secret ([`SECRET_NAME_PARTS`], case-insensitive), at least
//!    [`MIN_LEARNED_LEN`] characters long, and Hugging Face tokens. Every exact
//!    occurrence of a learned value is replaced, wherever a check printed it
//!    (even without its `NAME=` prefix).
//! 2. **`NAME=VALUE` in place.** In every string, the VALUE of a secret-looking
//!    `NAME=VALUE` is replaced whatever its length.
//! 3. **Hugging Face tokens in place.** Any `hf_` followed by 20 or more
//!    alphanumerics is replaced.
//!
//! A replaced value keeps its first four characters: `hf_R…[redacted]`, so
//! that a reviewer can tell which secret it was without learning it.
//! `--no-redact` ([`Redactor::disabled`]) turns all of this off and is
//! recorded in the report (`redacted: false`).

/// Substrings (case-insensitive) of env names treated as secrets (one
/// list shared with the checks: `evidence::secrets`).
pub use crate::evidence::secrets::SECRET_NAME_PARTS;

/// Shortest learned value replaced wherever it occurs. Shorter values are
/// still redacted where they appear as `NAME=VALUE`, but not as bare
/// substrings: a 4-character value would otherwise corrupt unrelated hex
/// digests in the report.
pub const MIN_LEARNED_LEN: usize = 8;

/// Most values learned (the real evidence holds one secret); see
/// [`Redactor::learn`].
pub const MAX_LEARNED: usize = 64;

/// Minimum number of characters after `hf_` for a Hugging Face token.
const HF_MIN_BODY: usize = 20;

/// The marker appended to the kept prefix of a redacted value.
pub const MARKER: &str = "…[redacted]";

/// Replaces secrets by `first4…[redacted]`.
#[derive(Debug, Clone)]
pub struct Redactor {
    enabled: bool,
    secrets: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

use crate::evidence::secrets::looks_secret;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// End of a `NAME=VALUE` value: whitespace, a quote, a backslash (JSON
/// escapes), a comma or a semicolon.
fn value_end(rest: &str) -> usize {
    rest.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ',' | ';' | '&'))
        .unwrap_or(rest.len())
}

/// Every `(value_start, value_end)` of a secret-looking `NAME=VALUE` in `text`.
fn secret_assignments(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices('=') {
        // The name starts after the last non-name character, which may be
        // several bytes long (e.g. U+FFFD from a lossy conversion).
        let name_start = text[..i]
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_name_char(c))
            .map(|(p, c)| p + c.len_utf8())
            .unwrap_or(0);
        let name = &text[name_start..i];
        if name.is_empty() || !looks_secret(name) {
            continue;
        }
        let start = i + 1;
        let end = start + value_end(&text[start..]);
        // A value that is itself already redacted stays as it is.
        if end > start && !text[start..].starts_with(MARKER) {
            out.push((start, end));
        }
    }
    out
}

/// Every `(start, end)` of a Hugging Face token in `text`.
fn hf_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("hf_") {
        // Must start a word: `xhf_…` is something else.
        if text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let body = &text[i + 3..];
        let len = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        if len >= HF_MIN_BODY {
            out.push((i, i + 3 + len));
        }
    }
    out
}

fn mask(secret: &str) -> String {
    let shown: String = secret.chars().take(4).collect();
    format!("{shown}{MARKER}")
}

/// Replaces the given byte ranges (sorted or not, possibly overlapping).
fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> String {
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in ranges {
        if e <= pos {
            continue;
        }
        let s = s.max(pos);
        out.push_str(&text[pos..s]);
        out.push_str(&mask(&text[s..e]));
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}

impl Redactor {
    /// An enabled redactor that knows no specific secret yet: it still
    /// redacts `NAME=VALUE` secrets and Hugging Face tokens in place.
    pub fn new() -> Self {
        Redactor {
            enabled: true,
            secrets: Vec::new(),
        }
    }

    /// A redactor that changes nothing (`--no-redact`).
    pub fn disabled() -> Self {
        Redactor {
            enabled: false,
            secrets: Vec::new(),
        }
    }

    /// Whether this redactor changes anything at all.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether any specific secret value has been learned.
    pub fn is_active(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Learns secrets from a kernel command line (or any text).
    pub fn learn(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut found: Vec<String> = secret_assignments(text)
            .into_iter()
            .map(|(s, e)| text[s..e].to_string())
            .filter(|v| v.chars().count() >= MIN_LEARNED_LEN)
            .collect();
        found.extend(
            hf_tokens(text)
                .into_iter()
                .map(|(s, e)| text[s..e].to_string()),
        );
        // A set for the duplicate test (a hostile document can repeat one
        // assignment a million times), and at most MAX_LEARNED values: each
        // learned value costs one scan of every report string. Values past
        // the cap are still redacted where they appear as `NAME=VALUE`.
        let mut known: std::collections::HashSet<String> = self.secrets.iter().cloned().collect();
        for f in found {
            if self.secrets.len() >= MAX_LEARNED {
                break;
            }
            if known.insert(f.clone()) {
                self.secrets.push(f);
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// Learns from every string inside a JSON value.
    pub fn learn_json(&mut self, v: &serde_json::Value) {
        match v {
            serde_json::Value::String(s) => self.learn(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| self.learn_json(x)),
            serde_json::Value::Object(o) => o.values().for_each(|x| self.learn_json(x)),
            _ => {}
        }
    }

    /// Redacts every secret in `s`.
    pub fn apply(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &mask(secret));
            }
        }
        let mut ranges = secret_assignments(&out);
        ranges.extend(hf_tokens(&out));
        replace_ranges(&out, ranges)
    }

    /// Redacts in place.
    pub fn apply_mut(&self, s: &mut String) {
        if self.enabled {
            *s = self.apply(s);
        }
    }

    /// Redacts every string inside a JSON value (object keys are kept).
    pub fn apply_json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => self.apply_mut(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.apply_json(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.apply_json(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "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";

    #[test]
    fn hugging_face_token_in_env_is_redacted() {
        let cli = r#"blyss_docker_img="--env HUGGING_FACE_HUB_TOKEN=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 vllm/vllm-openai@sha256:4f56""#;
        let mut r = Redactor::new();
        r.learn(cli);
        assert!(r.is_active());
        let out = r.apply(cli);
        assert!(!out.contains("RIEwTrIwstrpxUCPVKOIKTHmGzbyjq"), "{out}");
        assert!(
            out.contains("HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]"),
            "{out}"
        );
        assert!(out.contains("vllm/vllm-openai@sha256:4f56"));
    }

    #[test]
    fn learned_value_is_redacted_where_it_appears_alone() {
        let mut r = Redactor::new();
        r.learn("--env API_PASSWORD=correct-horse-battery");
        let out = r.apply("value printed alone: correct-horse-battery.");
        assert_eq!(out, "value printed alone: corr…[redacted].");
    }

    #[test]
    fn non_secret_env_is_kept_and_short_secret_is_redacted_only_in_place() {
        let cli = "--env DEFAULT_MODEL=mistralai/Mistral-7B-Instruct-v0.2 --env API_KEY=abcdef123 --env X_AUTH=ab12";
        let mut r = Redactor::new();
        r.learn(cli);
        let out = r.apply(cli);
        assert!(out.contains("DEFAULT_MODEL=mistralai/Mistral-7B-Instruct-v0.2"));
        assert!(out.contains("API_KEY=abcd…[redacted]"), "{out}");
        assert!(out.contains("X_AUTH=ab12…[redacted]"), "{out}");
        // A short secret is not learned as a bare substring: hex stays intact.
        assert_eq!(r.apply("digest ab12ab12"), "digest ab12ab12");
    }

    #[test]
    fn hf_token_is_redacted_without_learning() {
        let r = Redactor::new();
        let out = r.apply(&format!("json error near \"{TOKEN}\" at line 1"));
        assert_eq!(out, "json error near \"hf_R…[redacted]\" at line 1");
        // Not a token: too short, or part of a longer word.
        assert_eq!(r.apply("hf_short"), "hf_short");
        let word = format!("x{TOKEN}");
        assert_eq!(r.apply(&word), word);
    }

    #[test]
    fn secret_name_match_is_case_insensitive_and_stops_at_json_escapes() {
        let mut r = Redactor::new();
        r.learn(r#"{"kernel_cli":"a=\"--env hf_api_token=s3cretvalue42\" b"}"#);
        assert_eq!(r.apply("s3cretvalue42"), "s3cr…[redacted]");
        assert_eq!(
            r.apply("--env Hf_Api_Token=anothervalue"),
            "--env Hf_Api_Token=anot…[redacted]"
        );
    }

    #[test]
    fn multibyte_character_before_an_assignment_does_not_panic() {
        // Caught by the tamper campaign (tests/suite/tamper_campaign.rs): a flipped
        // byte in attestation.json became U+FFFD (3 bytes) right before a
        // `NAME=` and the name start landed inside it.
        let mut r = Redactor::new();
        r.learn("x\u{fffd}HF_TOKEN=abcdefghijklmnop \u{e9}=v \u{fffd}=");
        assert_eq!(
            r.apply("HF_TOKEN=abcdefghijklmnop"),
            format!("HF_TOKEN=abcd{MARKER}")
        );
    }

    #[test]
    fn redaction_is_idempotent() {
        let mut r = Redactor::new();
        let cli = format!("--env HUGGING_FACE_HUB_TOKEN={TOKEN} --env A_KEY=abcdefghijk");
        r.learn(&cli);
        let once = r.apply(&cli);
        assert_eq!(r.apply(&once), once);
    }

    #[test]
    fn disabled_redactor_changes_nothing() {
        let mut r = Redactor::disabled();
        let cli = format!("--env HUGGING_FACE_HUB_TOKEN={TOKEN}");
        r.learn(&cli);
        assert!(!r.is_active());
        assert_eq!(r.apply(&cli), cli);
        let mut v = serde_json::json!({ "a": [cli.clone()] });
        r.apply_json(&mut v);
        assert_eq!(v["a"][0], cli);
    }

    #[test]
    fn json_values_are_redacted_recursively() {
        let r = Redactor::new();
        let mut v = serde_json::json!({ "k": { "l": [format!("t={TOKEN}"), 3] } });
        r.apply_json(&mut v);
        assert_eq!(v["k"]["l"][0], "t=hf_R…[redacted]");
        assert_eq!(v["k"]["l"][1], 3);
    }
}
