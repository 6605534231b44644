//! AWS EC2 SEV-SNP reports signed with a VLEK (SIGNING_KEY = 1): the real
//! report of `fixtures/field/snp-aws-milan-v3-vlek/` judged inside its
//! VLEK's validity (2024-12-10 → 2025-12-10), and negatives derived from
//! it (and from the real VCEK-signed Blyss document) by code.

use crate::common;

use assert_cmd::Command;
use blyss_evidence::audit::audit;
use blyss_evidence::checks::{AuditOptions, Scope, Status};
use blyss_evidence::evidence::attestation::AttestationDocument;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use common::snp::*;
use serde_json::json;
use time::OffsetDateTime;

const REPORT: &[u8] = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/report.bin");
const VLEK: &[u8] = include_bytes!("../../fixtures/field/snp-aws-milan-v3-vlek/vlek.der");

/// KEY_INFO (SIGNING_KEY in bits 4:2) and the signature's first byte.
const KEY_INFO: usize = 0x48;
const SIGNATURE: usize = 0x2A0;

/// 2025-06-01T00:00:00Z: inside the AWS VLEK's validity.
fn mid_2025() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_748_736_000).unwrap()
}

/// 2026-06-01T00:00:00Z: after the AWS VLEK expired.
fn mid_2026() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_272_000).unwrap()
}

/// A raw report + key (under `key_member`, relative to `evidence/`),
/// collected at `collected`, audited under `snp-only` at the bundle's time
/// unless `at` is given.
fn audit_raw_key(
    report: &[u8],
    key: &[u8],
    key_member: &str,
    trust: &TrustSet,
    collected: OffsetDateTime,
    opts: AuditOptions,
) -> Report {
    let b = bundle(
        &[
            ("snp/report.bin", report.to_vec()),
            (key_member, key.to_vec()),
        ],
        "snp-only",
        collected,
    );
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..opts
    };
    let r = audit(
        &b,
        &Protocol::load("snp-only").unwrap(),
        trust,
        &opts,
        OffsetDateTime::UNIX_EPOCH,
    );
    common::report::assert_valid_report_json(&r.to_json());
    r
}

fn aws(report: &[u8], opts: AuditOptions) -> Report {
    audit_raw_key(
        report,
        VLEK,
        "snp/vlek.der",
        &TrustSet::production(),
        mid_2025(),
        opts,
    )
}

fn with_signing_key(report: &[u8], key: u8) -> Vec<u8> {
    let mut r = report.to_vec();
    r[KEY_INFO] = (r[KEY_INFO] & !0b1_1100) | (key << 2);
    r
}

#[test]
fn aws_vlek_report_verifies_chain_signature_and_tcb_with_the_production_trust_set() {
    let r = aws(REPORT, AuditOptions::default());
    let chain = one(&r, "amd.chain", None);
    assert_eq!(chain.status, Status::Pass, "{chain:#?}");
    assert_eq!(
        chain.summary,
        "VLEK ← ASVK ← ARK (Milan), valid at 2025-06-01T00:00:00Z"
    );
    assert_eq!(
        chain.details["asvk_sha256"],
        json!("c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5")
    );
    for id in [
        "amd.product",
        "snp.report-signature",
        "snp.report-format",
        "snp.tcb",
        "snp.policy",
    ] {
        assert_passes(&r, id, None);
    }
    assert!(one(&r, "snp.report-signature", None).summary.starts_with(
        "ECDSA P-384 signature verifies with the VLEK: report v3, VMPL 1, policy 0x30000"
    ));
    assert_eq!(r.facts["snp.product"], json!("Milan"));
    assert_eq!(r.facts["snp.signing_key"], json!("VLEK"));
    assert_eq!(
        r.facts["snp.reported_tcb"],
        json!({"bootloader": 4, "tee": 0, "snp": 24, "microcode": 0xD9})
    );
    // No KDS copy of a VLEK exists: not applicable, with the reason.
    let kds = one(&r, "amd.vcek-kds", None);
    assert_eq!(kds.status, Status::NotApplicable);
    assert!(
        kds.summary.contains("AMD KDS serves no VLEK"),
        "{}",
        kds.summary
    );
}

#[test]
fn aws_vlek_tcb_result_says_no_hwid_was_checked_because_vleks_are_not_chip_bound() {
    let r = aws(REPORT, AuditOptions::default());
    let tcb = one(&r, "snp.tcb", None);
    assert_eq!(tcb.status, Status::Pass, "{tcb:#?}");
    assert!(
        tcb.summary.starts_with(
            "REPORTED_TCB bl 4 / tee 0 / snp 24 / ucode 217 = VLEK extensions; productName Milan; no hwID check: CHIP_ID is all zero"
        ),
        "{}",
        tcb.summary
    );
    assert!(tcb.summary.contains("not chip-bound"), "{}", tcb.summary);
}

#[test]
fn aws_vlek_csp_id_is_shown_as_a_fact() {
    let r = aws(REPORT, AuditOptions::default());
    assert_eq!(
        r.facts["snp.vlek.csp_id"],
        json!("CN=cc-us-east-2.amazonaws.com")
    );
    assert!(one(&r, "snp.report-signature", None)
        .summary
        .ends_with("; VLEK CSP_ID CN=cc-us-east-2.amazonaws.com"));
}

#[test]
fn aws_provisional_firmware_fails_by_default_and_warns_only_with_the_unsafe_option_which_is_recorded(
) {
    let r = aws(REPORT, AuditOptions::default());
    assert_fails(
        &r,
        "snp.provisional-firmware",
        None,
        "the protocol does not permit provisional firmware",
    );
    assert_eq!(
        r.verdict.failed_required,
        vec!["snp.provisional-firmware".to_string()]
    );
    let r = aws(
        REPORT,
        AuditOptions {
            allow_provisional_firmware_unsafe: true,
            ..Default::default()
        },
    );
    let p = one(&r, "snp.provisional-firmware", None);
    assert_eq!(p.status, Status::Warn, "{p:#?}");
    assert!(
        p.summary
            .contains("PERMITTED ONLY BY --allow-provisional-firmware-unsafe"),
        "{}",
        p.summary
    );
    assert_eq!(
        p.details["permitted_by"],
        json!("--allow-provisional-firmware-unsafe")
    );
}

#[test]
fn flipped_signature_byte_fails_report_signature() {
    let mut bad = REPORT.to_vec();
    bad[SIGNATURE] ^= 0x01;
    let r = aws(&bad, AuditOptions::default());
    assert_fails(
        &r,
        "snp.report-signature",
        None,
        "signature does not verify with the VLEK",
    );
    // The chain itself is untouched.
    assert_passes(&r, "amd.chain", None);
}

#[test]
fn milan_vlek_fails_the_chain_when_the_milan_asvk_slot_holds_the_genoa_asvk() {
    let mut trust = TrustSet::production();
    trust.production = false;
    let genoa = trust.amd["Genoa"].asvk.clone();
    trust.amd.get_mut("Milan").unwrap().asvk = genoa;
    let r = audit_raw_key(
        REPORT,
        VLEK,
        "snp/vlek.der",
        &trust,
        mid_2025(),
        AuditOptions::default(),
    );
    assert_fails(
        &r,
        "amd.chain",
        None,
        "the VLEK (issuer SEV-VLEK-Milan) is not signed by any trusted ASVK",
    );
    assert_eq!(status(&r, "amd.product"), Status::Fail);
}

#[test]
fn vcek_signed_report_relabelled_as_vlek_fails_chain_and_signature() {
    let d = AttestationDocument::parse_json(DOC_2024).unwrap();
    let relabelled = with_signing_key(&d.report, 1);
    let r = audit_raw_key(
        &relabelled,
        &d.vcek_der,
        "snp/vlek.der",
        &TrustSet::production(),
        jan_2024(),
        AuditOptions::default(),
    );
    assert_fails(
        &r,
        "amd.chain",
        None,
        "it is signed by the Genoa ASK: a VCEK, while the report's SIGNING_KEY claims a VLEK",
    );
    assert_fails(
        &r,
        "snp.report-signature",
        None,
        "the report's SIGNING_KEY says VLEK, but the certificate shipped with it has subject CN SEV-VCEK",
    );
}

#[test]
fn vlek_signed_report_relabelled_as_vcek_fails_chain_and_signature() {
    let relabelled = with_signing_key(REPORT, 0);
    let r = audit_raw_key(
        &relabelled,
        VLEK,
        "snp/vcek.der",
        &TrustSet::production(),
        mid_2025(),
        AuditOptions::default(),
    );
    assert_fails(
        &r,
        "amd.chain",
        None,
        "it is signed by the Milan ASVK: a VLEK, while the report's SIGNING_KEY claims a VCEK",
    );
    assert_fails(&r, "snp.report-signature", None, "subject CN SEV-VLEK");
}

#[test]
fn aws_vlek_judged_after_its_validity_fails_the_chain_with_the_time_hint() {
    let r = audit_raw_key(
        REPORT,
        VLEK,
        "snp/vlek.der",
        &TrustSet::production(),
        mid_2026(),
        AuditOptions::default(),
    );
    let c = one(&r, "amd.chain", None);
    assert_eq!(c.status, Status::Fail, "{c:#?}");
    assert!(
        c.summary.contains(
            "VLEK is not valid at 2026-06-01T00:00:00Z (valid 2024-12-10T22:14:21Z to 2025-12-10T22:14:21Z): expired"
        ),
        "{}",
        c.summary
    );
    assert!(c.summary.contains("audit --at"), "{}", c.summary);
    // The same bundle judged with --at inside the window passes.
    let r = audit_raw_key(
        REPORT,
        VLEK,
        "snp/vlek.der",
        &TrustSet::production(),
        mid_2026(),
        AuditOptions {
            at: Some(mid_2025()),
            ..Default::default()
        },
    );
    assert_passes(&r, "amd.chain", None);
}

#[test]
fn a_bundle_with_both_a_vcek_and_a_vlek_beside_the_report_cannot_be_audited() {
    let d = AttestationDocument::parse_json(DOC_2024).unwrap();
    let b = bundle(
        &[
            ("snp/report.bin", REPORT.to_vec()),
            ("snp/vlek.der", VLEK.to_vec()),
            ("snp/vcek.der", d.vcek_der.clone()),
        ],
        "snp-only",
        mid_2025(),
    );
    let err = blyss_evidence::audit::attestation_of(&b).unwrap_err();
    assert!(err.contains("expected exactly one VCEK or VLEK"), "{err}");
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    // 2025-06-01: inside the AWS VLEK's validity.
    c.env("SOURCE_DATE_EPOCH", "1748736000")
        .env_remove("XDG_CONFIG_HOME");
    c
}

#[test]
fn collect_vlek_alias_imports_under_evidence_snp_vlek_and_the_cli_option_permits_provisional_firmware(
) {
    let dir = tempfile::tempdir().unwrap();
    let field = root().join("fixtures/field/snp-aws-milan-v3-vlek");
    let out = dir.path().join("aws.zip");
    bin()
        .args(["collect", "--protocol", "snp-only", "--key"])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("--report")
        .arg(field.join("report.bin"))
        .arg("--vlek")
        .arg(field.join("vlek.der"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let b = blyss_evidence::bundle::Bundle::from_bytes(&std::fs::read(&out).unwrap(), "aws.zip")
        .unwrap();
    assert_eq!(b.member("evidence/snp/vlek.der"), Some(VLEK));
    assert!(b.member("evidence/snp/vcek.der").is_none());
    let audit_json = |extra: &[&str], code: i32| {
        let json = dir.path().join(format!("r{code}.json"));
        bin()
            .arg("audit")
            .arg(&out)
            .args(["--protocol", "snp-only", "--scope", "attestation", "--json"])
            .arg(&json)
            .args(extra)
            .assert()
            .code(code);
        common::report::assert_valid_report_file(&json)
    };
    let find = |r: &serde_json::Value, id: &str| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let r = audit_json(&[], 1);
    assert_eq!(find(&r, "snp.provisional-firmware")["status"], "fail");
    assert_eq!(find(&r, "amd.chain")["status"], "pass");
    let r = audit_json(&["--allow-provisional-firmware-unsafe"], 0);
    let p = find(&r, "snp.provisional-firmware");
    assert_eq!(p["status"], "warn");
    assert!(p["summary"]
        .as_str()
        .unwrap()
        .contains("--allow-provisional-firmware-unsafe"));
}

#[test]
fn csp_id_with_control_characters_is_shown_with_them_made_visible() {
    use blyss_evidence::evidence::amd::testing::VcekSpec;
    use blyss_evidence::evidence::amd::{offsets, oid, Product};
    use der::Encode;
    // A TEST-ONLY "VLEK" from the synthetic platform whose CSP_ID carries
    // an escape sequence and a newline.
    let p = platform();
    let csp = der::asn1::Utf8StringRef::new("CN=evil\u{1b}[2J\nnext")
        .unwrap()
        .to_der()
        .unwrap();
    let spec = VcekSpec {
        subject_cn: "SEV-VLEK".into(),
        issuer_cn: "SEV-VLEK-Genoa".into(),
        hwid: None,
        extra: vec![x509_cert::ext::Extension {
            extn_id: oid::CSP_ID,
            critical: false,
            extn_value: der::asn1::OctetString::new(csp).unwrap(),
        }],
        ..VcekSpec::standard(Product::Genoa)
    };
    let vlek = p.issue_vcek(&spec, Product::Genoa).unwrap();
    let mut report = p.report_template(Product::Genoa);
    report[offsets::KEY_INFO] |= 1 << 2;
    p.sign(Product::Genoa, &mut report);
    let r = audit_raw_key(
        &report,
        &vlek,
        "snp/vlek.der",
        &test_trust(),
        mid_2024(),
        AuditOptions::default(),
    );
    assert_passes(&r, "snp.report-signature", None);
    let fact = r.facts["snp.vlek.csp_id"].as_str().unwrap();
    assert!(fact.starts_with("CN=evil"), "{fact:?}");
    assert!(!fact.chars().any(char::is_control), "{fact:?}");
    let sig = one(&r, "snp.report-signature", None);
    assert!(
        !sig.summary.chars().any(char::is_control),
        "{:?}",
        sig.summary
    );
    // Signed by a test ASK, not an ASVK: the chain says so.
    assert_fails(&r, "amd.chain", None, "not signed by any trusted ASVK");
}

/// The AWS report with a KDS VLEK `cert_chain` (ASVK, ARK) in the bundle.
fn aws_with_cert_chain(chain: &[u8]) -> Report {
    let b = bundle(
        &[
            ("snp/report.bin", REPORT.to_vec()),
            ("snp/vlek.der", VLEK.to_vec()),
            ("amd/cert_chain.pem", chain.to_vec()),
        ],
        "snp-only",
        mid_2025(),
    );
    audit(
        &b,
        &Protocol::load("snp-only").unwrap(),
        &TrustSet::production(),
        &AuditOptions {
            scope: Scope::Attestation,
            ..Default::default()
        },
        OffsetDateTime::UNIX_EPOCH,
    )
}

#[test]
fn kds_vlek_cert_chain_in_the_bundle_must_be_the_pinned_milan_asvk_and_ark() {
    let chains = root().join("fixtures/field/amd-vlek-chains");
    let milan = std::fs::read(chains.join("ask_ark_milan_vlek.pem")).unwrap();
    let r = aws_with_cert_chain(&milan);
    assert_passes(&r, "amd.root-pinned", None);
    let genoa = std::fs::read(chains.join("ask_ark_genoa_vlek.pem")).unwrap();
    let r = aws_with_cert_chain(&genoa);
    assert_fails(
        &r,
        "amd.root-pinned",
        None,
        "the bundle's cert_chain is the Genoa chain, the VLEK is Milan's",
    );
    // The copy beside the AWS report is the same KDS chain.
    let beside =
        std::fs::read(root().join("fixtures/field/snp-aws-milan-v3-vlek/ask_ark_milan_vlek.pem"))
            .unwrap();
    assert_eq!(
        beside, milan,
        "the two copies of the Milan VLEK chain agree"
    );
}

#[test]
fn aws_provisional_firmware_warns_when_the_protocol_permits_it_and_says_the_protocol_did() {
    let protocol = snp_only_with(|s| s["permit_provisional_firmware"] = json!(true));
    let b = bundle(
        &[
            ("snp/report.bin", REPORT.to_vec()),
            ("snp/vlek.der", VLEK.to_vec()),
        ],
        &protocol.id,
        mid_2025(),
    );
    let r = run(&b, &protocol, &TrustSet::production());
    let p = one(&r, "snp.provisional-firmware", None);
    assert_eq!(p.status, Status::Warn, "{p:#?}");
    assert!(
        p.summary.contains("permitted by protocol snp-only"),
        "{}",
        p.summary
    );
    assert_eq!(p.details["permitted_by"], json!("protocol"));
}
