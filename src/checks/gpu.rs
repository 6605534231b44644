//! Checks of the `gpu` family (issue 9 (GPU)).

use super::{CheckResult, Context};

pub fn run(_ctx: &Context) -> Vec<CheckResult> {
    Vec::new()
}

/// Validates this family's protocol section (`sections.gpu`); called when
/// a protocol file is loaded. Replace with a typed `deny_unknown_fields` parse.
pub fn validate_section(v: &serde_json::Value) -> Result<(), String> {
    match v.as_object() {
        Some(o) if o.is_empty() => Ok(()),
        _ => Err("section not supported yet".into()),
    }
}
