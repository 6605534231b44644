//! Checks of the `amd` family (issue 3 (SEV-SNP)).

use super::{CheckResult, Context};

pub fn run(_ctx: &Context) -> Vec<CheckResult> {
    Vec::new()
}
