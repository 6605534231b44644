//! Which names in evidence hold secrets (`HUGGING_FACE_HUB_TOKEN=…` in a
//! container's `--env`, and the like).
//!
//! Why one list, here: the redactor (`report::redact`) hides the values of
//! such names in every output, and `checks::cmdline` hides them already in
//! the texts it writes. Both must agree on what is a secret, and `checks`
//! must not depend on `report` (the layer above it); so the list lives with
//! the evidence parsers, below both.

/// Substrings (case-insensitive) of env names treated as secrets.
pub const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "AUTH",
    "PRIVATE",
    "COOKIE",
    "SESSION",
];

/// Whether `name` (an env variable or parameter name) looks like it holds
/// a secret: it contains one of [`SECRET_NAME_PARTS`], in any case.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_match_in_any_case_and_ordinary_names_do_not() {
        assert!(looks_secret("HUGGING_FACE_HUB_TOKEN"));
        assert!(looks_secret("hf_api_token"));
        assert!(looks_secret("Db_Password"));
        assert!(!looks_secret("DEFAULT_MODEL"));
        assert!(!looks_secret("OPENAI_API_HOST"));
    }
}
