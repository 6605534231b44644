//! The HTML report in a real browser (issue 8 §5): `scripts/browser-check.sh`
//! renders the real bundle's report (PASS), a failing audit (FAIL) and a
//! non-production one, opens each in headless Chromium (installed from
//! Debian when missing), saves screenshots and PDF prints under
//! `target/browser-check/`, and fails if a page requested any external
//! resource or lacks its verdict. It also proves its own detectors catch a
//! control page with external references. This test fails, never skips,
//! when Chromium cannot be installed or run.

use crate::common;

#[test]
fn html_report_renders_offline_in_headless_chromium_with_its_verdict() {
    let root = common::report::root();
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/browser-check.sh"))
        .current_dir(&root)
        .env("BIN", env!("CARGO_BIN_EXE_blyss-evidence"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser check failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for page in ["real-pass", "real-fail", "non-production"] {
        assert!(
            stdout.contains(&format!("browser-check: {page} ok")),
            "{page} not checked:\n{stdout}"
        );
    }
    assert!(stdout.contains("control page with external references detected"));
}
