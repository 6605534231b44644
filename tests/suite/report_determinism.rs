//! Reproducible reports: with the same bundle, options, `--at` and
//! SOURCE_DATE_EPOCH, two audits write byte-identical JSON, HTML and
//! Markdown and print the same terminal summary; the audit time comes from
//! SOURCE_DATE_EPOCH (so the comparison is not vacuous: another epoch
//! changes the outputs).

use crate::common;

use common::report::*;

#[test]
fn two_runs_with_same_at_and_source_date_epoch_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let mut all = scenarios(dir.path());
    for sc in &mut all {
        sc.args
            .extend(["--at".to_string(), "2024-01-20T12:00:00Z".to_string()]);
    }
    for sc in all.iter().filter(|s| {
        [
            "blyss-2024-01-attestation",
            "blyss-2023-12-attestation",
            "blyss-2024-01-full",
            "altered-member_fail",
            "non-production-trust",
        ]
        .contains(&s.name)
    }) {
        let x = run_scenario(sc, &a);
        let y = run_scenario(sc, &b);
        assert_eq!(x.json, y.json, "{}: JSON differs", sc.name);
        assert_eq!(x.html, y.html, "{}: HTML differs", sc.name);
        assert_eq!(x.md, y.md, "{}: Markdown differs", sc.name);
        assert_eq!(x.stdout, y.stdout, "{}: terminal differs", sc.name);
        let v = assert_valid_report_json(&x.json);
        assert_eq!(v["evaluation_time"], "2024-01-20T12:00:00Z");
        assert_eq!(v["evaluation_time_source"], "option");
        assert_eq!(
            v["audit_time"], "2024-02-01T00:00:00Z",
            "from SOURCE_DATE_EPOCH"
        );
    }
}

#[test]
fn another_source_date_epoch_changes_only_the_audit_time() {
    let dir = tempfile::tempdir().unwrap();
    let render = |epoch: &str, name: &str| {
        let json = dir.path().join(format!("{name}.json"));
        let o = bin()
            .env("SOURCE_DATE_EPOCH", epoch)
            .args([
                "audit",
                BUNDLE_2024,
                "--scope",
                "attestation",
                "--json",
                json.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_ne!(code(&o), 2);
        std::fs::read_to_string(json).unwrap()
    };
    let x = render(EPOCH, "x");
    let y = render("1717200000", "y");
    assert_ne!(x, y);
    let (vx, vy): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&x).unwrap(),
        serde_json::from_str(&y).unwrap(),
    );
    assert_eq!(vy["audit_time"], "2024-06-01T00:00:00Z");
    let strip = |mut v: serde_json::Value| {
        v["audit_time"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(vx), strip(vy));
}
