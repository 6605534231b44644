//! Golden-file snapshots of the JSON report and the Markdown summary of the
//! real fixture bundles, so that any change in output is a reviewed change.
//!
//! Snapshots live in `tests/snapshots/`. When an output changes on purpose
//! (a check family landed, a wording changed), regenerate them with
//!
//!     UPDATE_SNAPSHOTS=1 cargo test --test suite report_snapshots::
//!
//! and review the diff (`git diff tests/snapshots`) before committing.
//! Without the variable the test never writes anything.

use crate::common;

use std::path::PathBuf;

use common::report::*;

fn snapshot_dir() -> PathBuf {
    root().join("tests/snapshots")
}

/// Compares `actual` with the snapshot `name`, or rewrites it when
/// UPDATE_SNAPSHOTS is set. Returns a description of the mismatch.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = snapshot_dir().join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        if std::fs::read_to_string(&path).ok().as_deref() != Some(actual) {
            std::fs::write(&path, actual).unwrap();
            eprintln!("updated {}", path.display());
        }
        return None;
    }
    let Ok(expected) = std::fs::read_to_string(&path) else {
        return Some(format!(
            "{name}: no snapshot (run UPDATE_SNAPSHOTS=1 cargo test --test suite report_snapshots::)"
        ));
    };
    if expected == actual {
        return None;
    }
    let (n, e, a) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .map(|(i, (e, a))| (i + 1, e.to_string(), a.to_string()))
        .unwrap_or((
            expected.lines().count().min(actual.lines().count()) + 1,
            "(end)".into(),
            "(end)".into(),
        ));
    Some(format!(
        "{name} differs from its snapshot at line {n}:\n  snapshot: {e}\n  actual:   {a}\n\
         If the change is intended: UPDATE_SNAPSHOTS=1 cargo test --test suite report_snapshots::, then review git diff."
    ))
}

#[test]
fn json_and_markdown_of_the_real_bundles_match_their_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let wanted = [
        "blyss-2024-01-attestation",
        "blyss-2023-12-attestation",
        "blyss-2024-01-full",
    ];
    let all = scenarios(dir.path());
    for name in wanted {
        let sc = all
            .iter()
            .find(|s| s.name == name)
            .expect("scenario exists");
        let out = run_scenario(sc, dir.path());
        assert_valid_report_json(&out.json);
        problems.extend(check(&format!("{name}.json"), &out.json));
        problems.extend(check(&format!("{name}.md"), &out.md));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn snapshot_comparison_reports_a_changed_line() {
    // The comparison itself can fail: a changed line is reported with its number.
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        return;
    }
    let real = std::fs::read_to_string(snapshot_dir().join("blyss-2024-01-attestation.md"))
        .expect("snapshot exists");
    let changed = format!("x{real}");
    let msg = check("blyss-2024-01-attestation.md", &changed).expect("difference detected");
    assert!(msg.contains("at line 1"), "{msg}");
}
