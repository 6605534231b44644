//! CT collection → bundle → audit, with in-process TEST-ONLY logs (no
//! sockets): the healthy case and every fault, each with the failure it
//! must produce. The same collector code runs over HTTP in `ct_collect.rs`.
#![cfg(feature = "collect")]

use crate::common;

use std::time::Duration;

use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::collect::ct::{collect_ct, CtOptions};
use blyss_evidence::evidence::ct::layout;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use common::ct_logs::*;
use common::world::TestCa;

struct Run {
    ct: Vec<CheckResult>,
    warnings: Vec<String>,
    failures: Vec<String>,
    members: Vec<String>,
}

/// An offline CT world: logs answering in-process, a CA, and the leaf.
struct Off {
    w: CtWorld,
    ca: TestCa,
    leaf: Vec<u8>,
}

fn off(specs: Vec<LogSpec>) -> Off {
    let (w, ca, leaf) = offline(specs);
    Off { w, ca, leaf }
}

fn opts(world: &CtWorld) -> CtOptions {
    CtOptions {
        log_list_url: world.list_url.clone(),
        merge_wait: Duration::from_secs(2),
        poll_interval: Duration::from_millis(100),
    }
}

fn trust(dir: &std::path::Path, snapshot: Option<&[u8]>) -> TrustSet {
    TrustSet::load(&write_trust(dir, snapshot)).unwrap()
}

/// Collects CT evidence from `world`, seals it with the TLS chain, audits
/// under `protocol`, and returns the `ct.*` results.
fn run_with(
    o: &Off,
    protocol: &Protocol,
    edit: impl Fn(&mut Stored),
    snapshot: Option<&[u8]>,
    scope: Scope,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let t = trust(dir.path(), snapshot);
    let io = DirectIo::new(&o.w);
    collect_ct(&io, &opts(&o.w), &t, &o.leaf, Some(&o.ca.cert.der));
    let mut stored = io.stored.lock().unwrap().clone();
    edit(&mut stored);
    let warnings = io.warnings.lock().unwrap().clone();
    let failures = io.failures.lock().unwrap().clone();
    let bundle = seal_bundle(&o.leaf, Some(&o.ca.cert.der), &stored, &warnings);
    let options = AuditOptions {
        scope,
        ..Default::default()
    };
    let report =
        blyss_evidence::audit::audit(&bundle, protocol, &t, &options, blyss_evidence::util::now());
    common::report::assert_valid_report_json(&report.to_json());
    Run {
        ct: report
            .checks
            .into_iter()
            .filter(|c| c.family == "ct")
            .collect(),
        warnings,
        failures,
        members: stored.keys().cloned().collect(),
    }
}

fn run(o: &Off) -> Run {
    run_with(
        o,
        &Protocol::load("v0.0.1").unwrap(),
        |_| {},
        None,
        Scope::Full,
    )
}

fn by<'a>(r: &'a Run, id: &str) -> Vec<&'a CheckResult> {
    r.ct.iter().filter(|c| c.id == id).collect()
}

fn inclusion_for<'a>(r: &'a Run, log: &str) -> &'a CheckResult {
    r.ct.iter()
        .find(|c| c.id == "ct.inclusion" && c.subject.as_deref().is_some_and(|s| s.contains(log)))
        .unwrap_or_else(|| panic!("no ct.inclusion for {log}: {:#?}", r.ct))
}

fn dump(r: &Run) -> String {
    r.ct.iter()
        .map(|c| format!("{} {:?} {:?}: {}", c.id, c.status, c.subject, c.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn healthy_logs_prove_inclusion_in_both_logs_and_two_operators() {
    let w = off(CtWorld::specs());
    let r = run(&w);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    for c in &r.ct {
        assert_eq!(c.status, Status::Pass, "{}", dump(&r));
    }
    assert_eq!(by(&r, "ct.sct").len(), 2);
    assert_eq!(by(&r, "ct.inclusion").len(), 2);
    let ops = by(&r, "ct.operators")[0];
    assert_eq!(
        ops.details["operators"],
        serde_json::json!(["Test Operator A", "Test Operator B"])
    );
    // The tiled SCT carries its leaf index, and the proof is at that index.
    let fir = inclusion_for(&r, "fir2025");
    let idx = fir.details["leaf_index"].as_u64().unwrap();
    assert_eq!(idx, 300);
    assert!(fir.details["tree_size"].as_u64().unwrap() > idx);
    assert!(fir.evidence.iter().any(|e| e.contains("/tile/0/001")));
    let elm = inclusion_for(&r, "elm2025");
    assert_eq!(elm.details["leaf_index"].as_u64().unwrap(), 5);
    assert!(elm
        .evidence
        .iter()
        .any(|e| e.contains("/get-proof-by-hash/")));
    // Everything the collector stored is under evidence/ct/.
    assert!(r.members.iter().all(|m| m.starts_with("ct/")));
    assert!(r.members.contains(&layout::LOG_LIST.to_string()));
}

#[test]
fn merge_delay_is_waited_out_and_every_tree_head_is_kept() {
    let mut specs = CtWorld::specs();
    specs[0].merge_delay = Duration::from_millis(400);
    let w = off(specs);
    let r = run(&w);
    assert!(
        r.failures.is_empty() && r.warnings.is_empty(),
        "{:?} {:?}",
        r.failures,
        r.warnings
    );
    let heads = r.members.iter().filter(|m| m.contains("/get-sth-")).count();
    assert!(
        heads >= 2,
        "the unmerged entry should have needed a second STH: {heads}"
    );
    assert_eq!(
        inclusion_for(&r, "elm2025").status,
        Status::Pass,
        "{}",
        dump(&r)
    );
    assert_eq!(by(&r, "ct.operators")[0].status, Status::Pass);
}

#[test]
fn a_merge_delay_beyond_the_bound_leaves_a_warning_and_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[0].merge_delay = Duration::from_secs(3600);
    let w = off(specs);
    let dir = tempfile::tempdir().unwrap();
    let t = trust(dir.path(), None);
    let io = DirectIo::new(&w.w);
    let mut o = opts(&w.w);
    o.merge_wait = Duration::from_millis(300);
    collect_ct(&io, &o, &t, &w.leaf, Some(&w.ca.cert.der));
    let warnings = io.warnings.lock().unwrap().clone();
    assert!(
        warnings.iter().any(|m| m.contains("not merged within")),
        "{warnings:?}"
    );
    let stored = io.stored.lock().unwrap().clone();
    let bundle = seal_bundle(&w.leaf, Some(&w.ca.cert.der), &stored, &warnings);
    let report = blyss_evidence::audit::audit(
        &bundle,
        &Protocol::load("v0.0.1").unwrap(),
        &t,
        &AuditOptions::default(),
        blyss_evidence::util::now(),
    );
    common::report::assert_valid_report_json(&report.to_json());
    let elm = report
        .checks
        .iter()
        .find(|c| c.id == "ct.inclusion" && c.summary.contains("elm2025"))
        .unwrap();
    assert_eq!(elm.status, Status::Fail);
    assert!(
        elm.summary.contains("no inclusion proof"),
        "{}",
        elm.summary
    );
}

#[test]
fn a_log_that_is_down_is_a_collection_failure_and_leaves_one_operator() {
    let mut specs = CtWorld::specs();
    specs[1].faults.down = true;
    let w = off(specs);
    let r = run(&w);
    assert!(
        r.failures
            .iter()
            .any(|f| f.contains("fir2025") && f.contains("connection refused")),
        "{:?}",
        r.failures
    );
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(
        fir.summary.contains("no checkpoint in the bundle"),
        "{}",
        fir.summary
    );
    assert_eq!(inclusion_for(&r, "elm2025").status, Status::Pass);
    let ops = by(&r, "ct.operators")[0];
    assert_eq!(ops.status, Status::Fail);
    assert_eq!(
        ops.details["operators"],
        serde_json::json!(["Test Operator A"])
    );
}

#[test]
fn a_proof_for_the_wrong_index_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[0].faults.wrong_index = true;
    let w = off(specs);
    let r = run(&w);
    let elm = inclusion_for(&r, "elm2025");
    assert_eq!(elm.status, Status::Fail, "{}", dump(&r));
    assert!(elm.summary.contains("proof for index 6"), "{}", elm.summary);
    assert!(
        elm.summary.contains("does not lead to the signed root"),
        "{}",
        elm.summary
    );
    assert_eq!(by(&r, "ct.operators")[0].status, Status::Fail);
}

#[test]
fn an_sth_with_a_bad_signature_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[0].faults.bad_sth_signature = true;
    let w = off(specs);
    let r = run(&w);
    let elm = inclusion_for(&r, "elm2025");
    assert_eq!(elm.status, Status::Fail);
    assert!(
        elm.summary.contains("tree-head-signature"),
        "{}",
        elm.summary
    );
    assert!(elm.summary.contains("does not verify"), "{}", elm.summary);
}

#[test]
fn a_checkpoint_with_a_bad_signature_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[1].faults.bad_sth_signature = true;
    let w = off(specs);
    let r = run(&w);
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(
        fir.summary.contains("tree-head-signature"),
        "{}",
        fir.summary
    );
}

#[test]
fn a_checkpoint_from_another_origin_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[1].faults.other_origin = true;
    let w = off(specs);
    let r = run(&w);
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(
        fir.summary
            .contains("checkpoint origin \"other-log.test.invalid/elsewhere\""),
        "{}",
        fir.summary
    );
}

#[test]
fn a_tiled_tree_that_shrinks_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[1].faults.shrink = true;
    let w = off(specs);
    let r = run(&w);
    assert!(
        r.warnings.iter().any(|m| m.contains("a tree that shrinks")),
        "{:?}",
        r.warnings
    );
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(fir.summary.contains("history"), "{}", fir.summary);
    assert!(fir.summary.contains("shrinks"), "{}", fir.summary);
}

#[test]
fn an_rfc6962_tree_that_shrinks_fails_inclusion() {
    let mut specs = CtWorld::specs();
    specs[0].faults.shrink = true;
    let w = off(specs);
    let r = run(&w);
    let elm = inclusion_for(&r, "elm2025");
    assert_eq!(elm.status, Status::Fail);
    assert!(elm.summary.contains("shrinks"), "{}", elm.summary);
}

#[test]
fn a_single_shrunken_checkpoint_below_the_promised_index_fails_inclusion() {
    // One checkpoint only (the collector gives up at once): no history to
    // compare, but the SCT promised an index the tree does not reach.
    let mut specs = CtWorld::specs();
    specs[1].faults.shrink = true;
    let w = off(specs);
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        |m| m.retain(|k, _| !k.contains("/checkpoint-") || k.ends_with("/checkpoint-00")),
        None,
        Scope::Full,
    );
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(
        fir.summary
            .contains("the tree is smaller than when the SCT was issued"),
        "{}",
        fir.summary
    );
}

#[test]
fn a_missing_tile_fails_inclusion() {
    let w = off(CtWorld::specs());
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        |m| m.retain(|k, _| !k.contains("/tile/0/")),
        None,
        Scope::Full,
    );
    let fir = inclusion_for(&r, "fir2025");
    assert_eq!(fir.status, Status::Fail);
    assert!(fir.summary.contains("is missing"), "{}", fir.summary);
}

#[test]
fn a_tampered_log_list_fails_the_list_check_and_falls_back_to_the_snapshot() {
    let w = off(CtWorld::specs());
    let tamper = |m: &mut Stored| {
        let l = &mut m.get_mut(layout::LOG_LIST).unwrap().0;
        let pos = l.windows(7).position(|x| x == b"1.0-tes").unwrap();
        l[pos] = b'9';
    };
    // Without a snapshot: nothing trusted to judge with.
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        tamper,
        None,
        Scope::Full,
    );
    let list = by(&r, "ct.log-list")[0];
    assert_eq!(list.status, Status::Fail);
    assert!(list.summary.contains("not trusted"), "{}", list.summary);
    assert!(by(&r, "ct.sct").iter().all(|c| c.status == Status::Fail));
    // With the genuine list as the trust set's snapshot: SCTs judged, list still fails.
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        tamper,
        Some(&w.w.list_json),
        Scope::Full,
    );
    assert_eq!(by(&r, "ct.log-list")[0].status, Status::Fail);
    assert!(
        by(&r, "ct.sct").iter().all(|c| c.status == Status::Pass),
        "{}",
        dump(&r)
    );
}

#[test]
fn a_bundle_without_a_list_is_judged_against_the_snapshot_with_a_warning() {
    let w = off(CtWorld::specs());
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        |m| {
            m.remove(layout::LOG_LIST);
            m.remove(layout::LOG_LIST_SIG);
        },
        Some(&w.w.list_json),
        Scope::Full,
    );
    let list = by(&r, "ct.log-list")[0];
    assert_eq!(list.status, Status::Warn);
    assert!(
        list.summary.contains("embedded snapshot"),
        "{}",
        list.summary
    );
    assert_eq!(list.details["source"], "trust-snapshot");
    assert_eq!(
        by(&r, "ct.operators")[0].status,
        Status::Pass,
        "{}",
        dump(&r)
    );
}

#[test]
fn sct_only_protocol_counts_operators_with_valid_scts_when_a_log_is_down() {
    let mut specs = CtWorld::specs();
    specs[1].faults.down = true;
    let w = off(specs);
    let text = include_str!("../../protocol/blyss-v0.0.1.json")
        .replace("\"inclusion\": \"required\"", "\"inclusion\": \"sct-only\"");
    let p = Protocol::parse(text.as_bytes(), "test").unwrap();
    let r = run_with(&w, &p, |_| {}, None, Scope::Full);
    assert_eq!(
        inclusion_for(&r, "fir2025").status,
        Status::Warn,
        "{}",
        dump(&r)
    );
    assert_eq!(
        by(&r, "ct.operators")[0].status,
        Status::Pass,
        "{}",
        dump(&r)
    );
    // ... but a proof that fails is still a failure under sct-only.
    let mut specs = CtWorld::specs();
    specs[0].faults.wrong_index = true;
    let w = off(specs);
    let r = run_with(&w, &p, |_| {}, None, Scope::Full);
    assert_eq!(inclusion_for(&r, "elm2025").status, Status::Fail);
}

#[test]
fn logs_of_one_operator_count_once() {
    let mut specs = CtWorld::specs();
    specs[1].operator = specs[0].operator.clone();
    let w = off(specs);
    let r = run(&w);
    assert!(by(&r, "ct.inclusion")
        .iter()
        .all(|c| c.status == Status::Pass));
    let ops = by(&r, "ct.operators")[0];
    assert_eq!(ops.status, Status::Fail);
    assert!(
        ops.summary.starts_with("1 distinct operator"),
        "{}",
        ops.summary
    );
}

#[test]
fn a_wrong_issuer_in_the_chain_fails_every_sct() {
    let w = off(CtWorld::specs());
    let dir = tempfile::tempdir().unwrap();
    let t = trust(dir.path(), None);
    let io = DirectIo::new(&w.w);
    collect_ct(&io, &opts(&w.w), &t, &w.leaf, Some(&w.ca.cert.der));
    let stored = io.stored.lock().unwrap().clone();
    let other = TestCa::new("another CA");
    let bundle = seal_bundle(&w.leaf, Some(&other.cert.der), &stored, &[]);
    let report = blyss_evidence::audit::audit(
        &bundle,
        &Protocol::load("v0.0.1").unwrap(),
        &t,
        &AuditOptions::default(),
        blyss_evidence::util::now(),
    );
    common::report::assert_valid_report_json(&report.to_json());
    let scts: Vec<_> = report.checks.iter().filter(|c| c.id == "ct.sct").collect();
    assert_eq!(scts.len(), 2);
    assert!(scts
        .iter()
        .all(|c| c.status == Status::Fail && c.summary.contains("signature")));
}

#[test]
fn attestation_scope_makes_ct_not_applicable_and_test_protocol_opts_out() {
    let w = off(CtWorld::specs());
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1").unwrap(),
        |_| {},
        None,
        Scope::Attestation,
    );
    assert_eq!(r.ct.len(), 4);
    assert!(r.ct.iter().all(|c| c.status == Status::NotApplicable));
    let r = run_with(
        &w,
        &Protocol::load("v0.0.1-test").unwrap(),
        |_| {},
        None,
        Scope::Full,
    );
    assert!(r.ct.iter().all(|c| c.status == Status::NotApplicable));
    assert!(
        r.ct[0].summary.contains("self-signed"),
        "{}",
        r.ct[0].summary
    );
}
