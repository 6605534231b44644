//! The library's layers (drawn in `src/lib.rs`): which module may name which.
//! Read from the source text, so that an arrow issue 15 removed (`protocol`
//! → `checks`, `checks` → `report`, `collect` → `checks`) cannot come back
//! unnoticed. Unit-test modules (`#[cfg(test)] mod tests`) are not part of
//! the layering and are cut off before reading.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::report::fixture;

/// Top-level modules of the library (`crate::X`).
const MODULES: &[&str] = &[
    "audit", "bundle", "checks", "collect", "evidence", "measure", "protocol", "report", "trust",
    "util",
];

/// Source files of a module: `src/X.rs` and everything under `src/X/`.
fn files_of(module: &str) -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = fixture("src");
    let mut out = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        out.push(file);
    }
    let dir = src.join(module);
    if dir.is_dir() {
        walk(&dir, &mut out);
    }
    assert!(!out.is_empty(), "no source for module {module}");
    out
}

/// The top-level modules a piece of source names as `crate::X`, including
/// grouped imports `use crate::{x::A, y}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let heads: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group, up to the matching brace.
            let mut depth = 0;
            let mut end = group.len();
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = j;
                        break;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            let mut items = Vec::new();
            let (mut d, mut start) = (0, 0);
            let g = &group[..end];
            for (j, c) in g.char_indices() {
                match c {
                    '{' => d += 1,
                    '}' => d -= 1,
                    ',' if d == 0 => {
                        items.push(&g[start..j]);
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            items.push(&g[start..]);
            items
        } else {
            vec![rest]
        };
        for h in heads {
            let ident: String = h
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if MODULES.contains(&ident.as_str()) {
                out.insert(ident);
            }
        }
    }
    out
}

/// What `module`'s non-test code names, file by file.
fn dependencies(module: &str) -> Vec<(String, BTreeSet<String>)> {
    files_of(module)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let mut deps = named_modules(code);
            deps.remove(module);
            (p.display().to_string(), deps)
        })
        .collect()
}

fn assert_only(module: &str, allowed: &[&str]) {
    for (file, deps) in dependencies(module) {
        let bad: Vec<&String> = deps
            .iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(
            bad.is_empty(),
            "{file} ({module}) names {bad:?}; {module} may depend on {allowed:?} only (src/lib.rs)"
        );
    }
}

#[test]
fn the_reader_of_imports_sees_grouped_and_plain_paths() {
    let deps = named_modules(
        "use crate::{checks::{self, A}, report::B};\nlet x = crate::util::now();\n// crate::TOOL_NAME",
    );
    let want: BTreeSet<String> = ["checks", "report", "util"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(deps, want);
}

#[test]
fn protocol_depends_on_evidence_measure_and_util_only_never_checks() {
    assert_only("protocol", &["evidence", "measure", "util"]);
}

#[test]
fn checks_never_import_report_collect_or_audit() {
    assert_only(
        "checks",
        &["bundle", "evidence", "measure", "protocol", "trust", "util"],
    );
}

#[test]
fn collect_depends_on_evidence_bundle_trust_protocol_and_audit_for_verify_only() {
    assert_only(
        "collect",
        &["audit", "bundle", "evidence", "protocol", "trust", "util"],
    );
}

#[test]
fn evidence_and_measure_stay_below_protocol_and_checks() {
    // `evidence` and `bundle` name each other (bundle import parses an
    // attestation document; evidence::ct reads members of a bundle): one
    // layer in two modules, below everything that judges.
    assert_only("evidence", &["bundle", "trust", "util"]);
    assert_only("measure", &[]);
    assert_only("trust", &["util"]);
    assert_only("util", &[]);
}
