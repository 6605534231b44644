//! Evidence parsers facing what the audited service can serve (issue 13
//! item 3): a RIM with hundreds of thousands of attributes, a kernel command
//! line with millions of words. Each is refused by a stated cap (or parsed)
//! and fails its check; the time and memory figures live in
//! `scripts/bench-parsers.sh`, never in these asserts.

use crate::common::hostile_evidence as hostile;

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::evidence::attestation::{AttestationDocument, DocError, MAX_DOC_BYTES};
use blyss_evidence::evidence::cmdline::{self, Cmdline, CmdlineError};
use blyss_evidence::evidence::gpu::rim::{Rim, RimKind};
use blyss_evidence::evidence::gpu::xml;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;

fn audit_value(doc: &serde_json::Value) -> Report {
    let zip = hostile::seal(doc, "v0.0.1");
    let b = Bundle::from_bytes(&zip, "hostile.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..Default::default()
    };
    let at = blyss_evidence::util::parse_time("2024-01-15T12:00:00Z").unwrap();
    audit(
        &b,
        &Protocol::load("v0.0.1").unwrap(),
        &TrustSet::production(),
        &opts,
        at,
    )
}

fn results<'a>(r: &'a Report, id: &str) -> Vec<&'a CheckResult> {
    let v: Vec<_> = r.checks.iter().filter(|c| c.id == id).collect();
    assert!(!v.is_empty(), "no {id}");
    v
}

fn text_of(c: &CheckResult) -> String {
    serde_json::to_string(c).unwrap()
}

#[test]
fn rim_with_200k_attributes_is_refused_by_the_size_cap_and_fails_the_rim_check() {
    let rim = hostile::rim_with_attributes(200_000);
    assert!(rim.len() > xml::MAX_LEN);
    let e = Rim::parse(RimKind::Driver, &rim).unwrap_err();
    assert!(e.contains(&format!("more than {}", xml::MAX_LEN)), "{e}");
    let r = audit_value(&hostile::doc_with_driver_rim(&rim));
    let c = results(&r, "gpu.rim-signature");
    assert!(c.iter().all(|c| c.status == Status::Fail));
    assert!(
        c.iter().any(|c| text_of(c).contains("more than 1048576")),
        "{c:#?}"
    );
    assert_eq!(r.verdict.status, blyss_evidence::checks::Verdict::Fail);
}

#[test]
fn rim_with_25k_attributes_on_one_element_is_refused_by_the_attribute_cap() {
    let rim = hostile::rim_with_attributes(25_000);
    assert!(rim.len() < xml::MAX_LEN, "under the size cap");
    let e = Rim::parse(RimKind::Driver, &rim).unwrap_err();
    assert!(
        e.contains(&format!(
            "more than {} attributes on one element",
            xml::MAX_ATTRS_PER_ELEMENT
        )),
        "{e}"
    );
    let r = audit_value(&hostile::doc_with_driver_rim(&rim));
    assert!(results(&r, "gpu.rim-signature")
        .iter()
        .any(|c| c.status == Status::Fail && text_of(c).contains("attributes on one element")));
}

#[test]
fn rim_with_a_few_extra_attributes_parses_and_only_its_digest_breaks() {
    // Under every cap: parsed, canonicalized, and the extra attributes
    // change the signed digest (the caps refuse nothing a real RIM needs).
    let rim = hostile::rim_with_attributes(100);
    let parsed = Rim::parse(RimKind::Driver, &rim).unwrap();
    let e = parsed.verify_signature().unwrap_err();
    assert!(e.contains("document digest does not match"), "{e}");
}

#[test]
fn duplicate_attribute_among_many_is_still_detected() {
    let mut rim = hostile::rim_with_attributes(200);
    let at = "<SoftwareIdentity".len();
    rim.insert_str(at, " a199=\"2\"");
    let e = Rim::parse(RimKind::Driver, &rim).unwrap_err();
    assert!(e.contains("duplicate attribute a199"), "{e}");
}

#[test]
fn command_line_with_millions_of_words_is_refused_by_the_word_cap() {
    let words = "a ".repeat(2_000_000);
    assert_eq!(
        Cmdline::parse(&words).unwrap_err(),
        CmdlineError::TooLong { len: words.len() }
    );
    // Under the length cap, over the word cap.
    let words = "a ".repeat(cmdline::MAX_WORDS + 1);
    assert_eq!(
        Cmdline::parse(&words).unwrap_err(),
        CmdlineError::TooManyWords
    );
}

#[test]
fn one_megabyte_command_line_fails_both_protocol_checks_with_the_cap_and_a_small_report() {
    // Under the document cap, over the command-line cap.
    let cli = hostile::cmdline_with_extra(1024 * 1024);
    let r = audit_value(&hostile::doc_with_cmdline(&cli));
    for id in ["protocol.cmdline", "protocol.images"] {
        for c in results(&r, id) {
            assert_eq!(c.status, Status::Fail, "{id}");
            assert!(
                c.summary
                    .contains(&format!("more than the {} accepted", cmdline::MAX_LEN)),
                "{id}: {}",
                c.summary
            );
        }
    }
    // No check copies the megabyte into the report (the measurement keeps
    // its hash): the report stays small.
    let json = r.to_json();
    assert!(json.len() < 512 * 1024, "report is {} bytes", json.len());
}

#[test]
fn ten_megabyte_attestation_document_is_refused_by_the_document_cap() {
    let cli = hostile::cmdline_with_extra(10 * 1024 * 1024);
    let doc = serde_json::to_vec(&hostile::doc_with_cmdline(&cli)).unwrap();
    assert_eq!(
        AttestationDocument::parse_json(&doc).unwrap_err(),
        DocError::TooLarge { len: doc.len() }
    );
    let r = audit_value(&hostile::doc_with_cmdline(&cli));
    let c = results(&r, "protocol.cmdline");
    assert!(
        c.iter().all(|c| c.status == Status::Fail
            && c.summary
                .contains(&format!("more than the {MAX_DOC_BYTES} accepted"))),
        "{c:#?}"
    );
    assert!(r.to_json().len() < 512 * 1024);
}

#[test]
fn command_line_under_the_caps_with_extra_words_fails_reconstruction_naming_a_few() {
    let cli = hostile::cmdline_with_extra(20_000);
    let r = audit_value(&hostile::doc_with_cmdline(&cli));
    let c = results(&r, "protocol.cmdline")
        .into_iter()
        .find(|c| c.subject.as_deref() == Some("exact-reconstruction"))
        .unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary.contains("extraneous or altered: x0=0, x1=1"),
        "{}",
        c.summary
    );
    assert!(c.summary.contains(" more"), "{}", c.summary);
    assert!(c.summary.len() < 2000, "{}", c.summary.len());
}
