//! End to end over loopback HTTPS: the test world's enclave presents a
//! certificate from the test CA with embedded SCTs from two TEST-ONLY logs
//! run by different operators (RFC 6962 and static-ct-api); `collect`
//! fetches the log list, STHs, proofs, checkpoints and tiles; the audit
//! proves inclusion in both logs offline. Then each fault, over the wire.
//!
//! The attestation document served is the real Blyss one (its report binds
//! Blyss's certificate, not ours): these tests judge the `ct.*` family.
#![cfg(feature = "collect")]

use crate::common;

use std::time::Duration;

use assert_cmd::Command;
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::{AuditOptions, CheckResult, Status};
use blyss_evidence::collect;
use blyss_evidence::protocol::Protocol;
use common::ct_logs::{CtWorld, LogSpec};
use common::world::{self, World};

const DOC: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

fn world(specs: Vec<LogSpec>) -> World {
    let w = World::start_with_ct(specs);
    w.serve_real_blyss(DOC);
    w
}

fn collect_bundle(w: &World) -> Bundle {
    let c = collect::collect(&world::options(w, "v0.0.1"), &world::trust(w)).unwrap();
    let key = blyss_evidence::bundle::keys::generate();
    let bytes = c.builder.seal(blyss_evidence::util::now(), &key).unwrap();
    Bundle::from_bytes(&bytes, "ct-e2e.zip").unwrap()
}

fn audit_ct(w: &World, b: &Bundle) -> Vec<CheckResult> {
    let r = blyss_evidence::audit::audit(
        b,
        &Protocol::load("v0.0.1").unwrap(),
        &world::trust(w),
        &AuditOptions::default(),
        blyss_evidence::util::now(),
    );
    common::report::assert_valid_report_json(&r.to_json());
    r.checks.into_iter().filter(|c| c.family == "ct").collect()
}

fn inclusion<'a>(ct: &'a [CheckResult], log: &str) -> &'a CheckResult {
    ct.iter()
        .find(|c| c.id == "ct.inclusion" && c.subject.as_deref().is_some_and(|s| s.contains(log)))
        .unwrap_or_else(|| panic!("no ct.inclusion for {log}"))
}

fn operators(ct: &[CheckResult]) -> &CheckResult {
    ct.iter().find(|c| c.id == "ct.operators").unwrap()
}

fn warnings(b: &Bundle) -> Vec<String> {
    b.statement.predicate.warnings.clone()
}

#[test]
fn collect_then_audit_proves_inclusion_in_both_test_logs() {
    let w = world(CtWorld::specs());
    let b = collect_bundle(&w);
    assert!(warnings(&b).is_empty(), "{:#?}", warnings(&b));
    // Every CT response is stored byte-exact, with its URL as source.
    let list = b.member("evidence/ct/log_list.json").unwrap();
    assert_eq!(list, w.ct.list_json.as_slice());
    assert_eq!(
        b.member("evidence/ct/log_list.sig").unwrap(),
        w.ct.list_sig.as_slice()
    );
    let rec = b
        .statement
        .predicate
        .members
        .iter()
        .find(|m| m.path == "evidence/ct/log_list.json")
        .unwrap();
    assert_eq!(rec.source, w.ct.list_url);
    assert_eq!(rec.http_status, Some(200));
    let ct = audit_ct(&w, &b);
    for c in &ct {
        assert_eq!(
            c.status,
            Status::Pass,
            "{} {:?}: {}",
            c.id,
            c.subject,
            c.summary
        );
    }
    assert_eq!(ct.iter().filter(|c| c.id == "ct.sct").count(), 2);
    let elm = inclusion(&ct, "elm2025");
    let fir = inclusion(&ct, "fir2025");
    assert_eq!(elm.details["log_type"], "rfc6962");
    assert_eq!(fir.details["log_type"], "static-ct-api");
    assert_eq!(fir.details["leaf_index"], 300);
    assert_eq!(
        operators(&ct).details["operators"],
        serde_json::json!(["Test Operator A", "Test Operator B"])
    );
    // The tiles the proof needed were asked for, and only those.
    let hits = w.ct.servers[1].hits("/fir2025/tile/");
    assert!(!hits.is_empty() && hits.len() <= 4, "{hits:?}");
}

#[test]
fn collect_and_audit_from_the_command_line() {
    let w = world(CtWorld::specs());
    let trust = w.trust_file();
    let out = w.path("bundle.zip");
    let json = w.path("report.json");
    let key = w.path("collector.key");
    Command::cargo_bin("blyss-evidence")
        .unwrap()
        .args(["keygen", "-o"])
        .arg(&key)
        .assert()
        .success();
    Command::cargo_bin("blyss-evidence")
        .unwrap()
        .arg("collect")
        .arg(w.url())
        .arg("-o")
        .arg(&out)
        .arg("--key")
        .arg(&key)
        .arg("--trust")
        .arg(&trust)
        .args(["--kds-url", &w.kds.url(), "--log-list-url", &w.ct.list_url])
        .args(["--ct-merge-wait", "5", "--quiet", "--no-images"])
        .assert()
        .success();
    // The audit fails overall (the real Blyss report binds Blyss's
    // certificate), but every CT check passes.
    Command::cargo_bin("blyss-evidence")
        .unwrap()
        .arg("audit")
        .arg(&out)
        .arg("--trust")
        .arg(&trust)
        .arg("--json")
        .arg(&json)
        .assert()
        .code(1);
    let r = common::report::assert_valid_report_file(&json);
    let ct: Vec<&serde_json::Value> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["family"] == "ct")
        .collect();
    assert_eq!(ct.len(), 6, "{ct:#?}");
    assert!(ct.iter().all(|c| c["status"] == "pass"), "{ct:#?}");
    assert_eq!(r["facts"]["ct.operators"], 2);
}

#[test]
fn merge_delay_over_http_is_waited_out() {
    let mut specs = CtWorld::specs();
    specs[0].merge_delay = Duration::from_millis(600);
    let w = world(specs);
    let b = collect_bundle(&w);
    assert!(warnings(&b).is_empty(), "{:#?}", warnings(&b));
    assert!(w.ct.servers[0].hits("/elm2025/ct/v1/get-sth").len() >= 2);
    let ct = audit_ct(&w, &b);
    assert_eq!(inclusion(&ct, "elm2025").status, Status::Pass);
    assert_eq!(operators(&ct).status, Status::Pass);
}

#[test]
fn a_log_that_is_down_is_a_signed_warning_and_fails_the_operator_count() {
    let mut specs = CtWorld::specs();
    specs[0].faults.down = true;
    let w = world(specs);
    let b = collect_bundle(&w);
    let ws = warnings(&b);
    assert!(
        ws.iter()
            .any(|m| m.contains("elm2025 get-sth") && m.contains("127.0.0.1")),
        "{ws:#?}"
    );
    let ct = audit_ct(&w, &b);
    assert_eq!(inclusion(&ct, "elm2025").status, Status::Fail);
    assert_eq!(inclusion(&ct, "fir2025").status, Status::Pass);
    assert_eq!(operators(&ct).status, Status::Fail);
}

type Case = (usize, fn(&mut LogSpec), &'static str, &'static str);

#[test]
fn wrong_index_bad_sth_other_origin_and_shrink_each_fail_inclusion() {
    // (log position, fault, log name, expected words in the failure)
    let cases: Vec<Case> = vec![
        (
            0,
            |s| s.faults.wrong_index = true,
            "elm2025",
            "does not lead to the signed root",
        ),
        (
            0,
            |s| s.faults.bad_sth_signature = true,
            "elm2025",
            "tree-head-signature",
        ),
        (
            1,
            |s| s.faults.other_origin = true,
            "fir2025",
            "checkpoint origin",
        ),
        (1, |s| s.faults.shrink = true, "fir2025", "shrinks"),
    ];
    for (i, fault, log, needle) in cases {
        let mut specs = CtWorld::specs();
        fault(&mut specs[i]);
        let w = world(specs);
        let b = collect_bundle(&w);
        let ct = audit_ct(&w, &b);
        let inc = inclusion(&ct, log);
        assert_eq!(inc.status, Status::Fail, "{log}: {}", inc.summary);
        assert!(
            inc.summary.contains(needle),
            "{needle:?} not in {}",
            inc.summary
        );
        assert_eq!(operators(&ct).status, Status::Fail);
        // The other log is unaffected.
        let other = if log == "elm2025" {
            "fir2025"
        } else {
            "elm2025"
        };
        assert_eq!(inclusion(&ct, other).status, Status::Pass);
    }
}
