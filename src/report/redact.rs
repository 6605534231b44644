//! Secret redaction. The real Blyss command line carries a Hugging Face token
//! in `--env HUGGING_FACE_HUB_TOKEN=…`; it is part of the measured bytes, so
//! the evidence keeps it, but no report may show it.
//!
//! The redactor learns the secret values from the evidence (values of
//! `--env NAME=VALUE` whose name looks like a secret, and any `hf_…` token)
//! and then replaces every occurrence of those exact values anywhere in the
//! report, whichever check printed them.

/// Substrings (case-insensitive) of env names treated as secrets.
pub const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
];

/// Replaces known secret values by `first4…[redacted]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor that changes nothing (`--no-redact`).
    pub fn none() -> Self {
        Redactor::default()
    }

    /// Learns secrets from a kernel command line (or any text).
    pub fn learn(&mut self, text: &str) {
        let mut found = Vec::new();
        // `NAME=VALUE` where NAME looks secret; VALUE ends at whitespace or a quote.
        for (i, _) in text.match_indices('=') {
            let name_start = text[..i]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .map(|p| p + 1)
                .unwrap_or(0);
            let name = &text[name_start..i];
            if name.is_empty() {
                continue;
            }
            let upper = name.to_ascii_uppercase();
            if SECRET_NAME_PARTS.iter().any(|p| upper.contains(p)) {
                let rest = &text[i + 1..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                    .unwrap_or(rest.len());
                let value = &rest[..end];
                if value.len() >= 4 {
                    found.push(value.to_string());
                }
            }
        }
        // Hugging Face tokens anywhere.
        for (i, _) in text.match_indices("hf_") {
            let rest = &text[i..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len());
            if end >= 3 + 20 {
                found.push(rest[..end].to_string());
            }
        }
        for f in found {
            if !self.secrets.contains(&f) {
                self.secrets.push(f);
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }

    /// Whether any secret is known.
    pub fn is_active(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// Redacts every known secret in `s`.
    pub fn apply(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                let shown: String = secret.chars().take(4).collect();
                out = out.replace(secret.as_str(), &format!("{shown}…[redacted]"));
            }
        }
        out
    }

    /// Redacts every string inside a JSON value.
    pub fn apply_json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = self.apply(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.apply_json(x)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| self.apply_json(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_token_in_env_is_redacted() {
        let cli = r#"blyss_docker_img="--env HUGGING_FACE_HUB_TOKEN=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 vllm/vllm-openai@sha256:4f56""#;
        let mut r = Redactor::none();
        r.learn(cli);
        let out = r.apply(cli);
        assert!(!out.contains("RIEwTrIwstrpxUCPVKOIKTHmGzbyjq"), "{out}");
        assert!(
            out.contains("HUGGING_FACE_HUB_TOKEN=hf_R…[redacted]"),
            "{out}"
        );
        assert!(out.contains("vllm/vllm-openai"));
    }

    #[test]
    fn non_secret_env_is_kept() {
        let cli = "--env DEFAULT_MODEL=mistralai/Mistral-7B-Instruct-v0.2 --env API_KEY=abcdef123";
        let mut r = Redactor::none();
        r.learn(cli);
        let out = r.apply(cli);
        assert!(out.contains("DEFAULT_MODEL=mistralai/Mistral-7B-Instruct-v0.2"));
        assert!(out.contains("API_KEY=abcd…[redacted]"), "{out}");
    }
}
