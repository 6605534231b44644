//! `snp.measurement`, `snp.measurement-pinned` and `snp.firmware-image`
//! through the audit pipeline, on real bundles and on bundles built from
//! the real documents with one input changed.

use crate::common;

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, CheckResult, Scope, Status};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use common::measure::*;
use p384::ecdsa::SigningKey;

fn t0() -> time::OffsetDateTime {
    blyss_evidence::util::parse_time("2024-01-20T00:00:00Z").unwrap()
}

/// A bundle holding `doc` (and `firmware`, if any) built with the bundle
/// writer and a throw-away test key.
fn bundle(doc: &[u8], firmware: Option<Vec<u8>>) -> Bundle {
    let mut b = BundleBuilder::new("https://enclave.blyss.dev", "v0.0.1", t0());
    b.add("attestation.json", doc.to_vec(), Source::file(t0()))
        .unwrap();
    if let Some(f) = firmware {
        b.add("firmware/OVMF_v0.0.1.fd", f, Source::file(t0()))
            .unwrap();
    }
    let key = SigningKey::from_bytes(&[7u8; 48].into()).unwrap();
    Bundle::from_bytes(&b.seal(t0(), &key).unwrap(), "test.zip").unwrap()
}

fn run(bundle: &Bundle, protocol: &Protocol) -> Vec<CheckResult> {
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..Default::default()
    };
    let r = audit(bundle, protocol, &TrustSet::production(), &opts, t0());
    common::report::assert_valid_report_json(&r.to_json());
    r.checks
}

fn one<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
    let found: Vec<_> = results.iter().filter(|r| r.id == id).collect();
    assert_eq!(found.len(), 1, "{id}: {found:?}");
    found[0]
}

/// The real document with its launch parameters edited.
fn edited_doc(name: &str, f: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&document(name)).unwrap();
    f(&mut v["cpu_attestation"]["launch"]);
    serde_json::to_vec(&v).unwrap()
}

/// An embedded protocol with its measurement section edited.
fn protocol_with(id: &str, f: impl Fn(&mut serde_json::Value)) -> Protocol {
    common::snp::protocol_with(id, |v| f(&mut v["sections"]["measurement"]))
}

#[test]
fn real_bundle_passes_from_the_pinned_descriptor_and_lists_every_input() {
    let b = Bundle::open(&root().join("fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let r = run(&b, &Protocol::load("v0.0.1").unwrap());
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Pass, "{m:?}");
    assert!(m.required);
    assert_eq!(
        m.summary,
        "1ee2a500…3704131a == 1ee2a500…3704131a (pinned firmware descriptor)"
    );
    assert_eq!(m.expected.as_deref(), Some(MEASUREMENT_2024_01));
    assert_eq!(m.actual.as_deref(), Some(MEASUREMENT_2024_01));
    let d = &m.details;
    assert_eq!(d["firmware.sha256"], FIRMWARE_SHA256);
    assert!(d["firmware.source"]
        .as_str()
        .unwrap()
        .starts_with("pinned descriptor"));
    assert_eq!(
        d["kernel.sha256"],
        "ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc"
    );
    assert_eq!(
        d["initrd.sha256"],
        "5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611"
    );
    assert_eq!(d["cmdline.sha256"].as_str().unwrap().len(), 64);
    assert_eq!(d["vcpus"], 8);
    assert!(d["vcpu_type"].as_str().unwrap().starts_with("EPYC-v4"));
    assert_eq!(d["vmm"], "qemu");
    assert_eq!(d["guest_features"], "0x1");
    assert_eq!(d["vmsa_fpu"], "legacy-zero");
    assert_eq!(d["fact:snp.measurement"], MEASUREMENT_2024_01);
    assert_eq!(d["pages"]["vmsa"], 8);
    // The raw command line (it carries a token) appears nowhere in the result.
    let json = serde_json::to_string(m).unwrap();
    assert!(!json.contains("systemd.mask"), "{json}");
    assert!(!json.contains("hf_"), "{json}");
    assert_eq!(one(&r, "snp.firmware-image").status, Status::NotApplicable);
    assert!(r.iter().all(|x| x.id != "snp.measurement-pinned"));
}

#[test]
fn december_bundle_passes_under_the_test_protocol() {
    let b = Bundle::open(&root().join("fixtures/bundles/blyss-2023-12.zip")).unwrap();
    let m = one(
        &run(&b, &Protocol::load("v0.0.1-test").unwrap()),
        "snp.measurement",
    )
    .clone();
    assert_eq!(m.status, Status::Pass, "{m:?}");
    assert!(m.summary.starts_with("a1eee53f…"), "{}", m.summary);
    assert_eq!(m.details["vcpus"], 4);
}

#[test]
fn bundle_with_the_real_image_measures_from_the_image_and_the_image_check_passes() {
    let b = bundle(
        &document("attestation-2024-01.json"),
        Some(firmware_image()),
    );
    let r = run(&b, &Protocol::load("v0.0.1").unwrap());
    let img = one(&r, "snp.firmware-image");
    assert_eq!(img.status, Status::Pass, "{img:?}");
    assert_eq!(
        img.subject.as_deref(),
        Some("evidence/firmware/OVMF_v0.0.1.fd")
    );
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Pass, "{m:?}");
    assert!(m
        .summary
        .ends_with("(firmware image evidence/firmware/OVMF_v0.0.1.fd)"));
    assert!(m
        .evidence
        .contains(&"evidence/firmware/OVMF_v0.0.1.fd".to_string()));
    assert_eq!(m.details["pages"]["normal"], 1025);
}

#[test]
fn pinned_measurement_of_v0_0_2_passes_on_january_and_fails_on_december() {
    let p = Protocol::load("v0.0.2").unwrap();
    let jan = Bundle::open(&root().join("fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let r = run(&jan, &p);
    let pin = one(&r, "snp.measurement-pinned");
    assert_eq!(pin.status, Status::Pass, "{pin:?}");
    assert_eq!(pin.summary, "1ee2a500…3704131a == 1ee2a500…3704131a");
    let dec = Bundle::open(&root().join("fixtures/bundles/blyss-2023-12.zip")).unwrap();
    let r = run(&dec, &p);
    // December's report is reproduced from its own inputs, but it is not the pin.
    assert_eq!(one(&r, "snp.measurement").status, Status::Pass);
    let pin = one(&r, "snp.measurement-pinned");
    assert_eq!(pin.status, Status::Fail);
    assert!(
        pin.summary.contains("recomputed != pinned"),
        "{}",
        pin.summary
    );
}

#[test]
fn one_changed_byte_in_the_command_line_fails() {
    let doc = edited_doc("attestation-2024-01.json", |l| {
        let s = l["kernel_cli"]
            .as_str()
            .unwrap()
            .replace("systemd.mask=ssh.service", "systemd.mask=ssh.servicf");
        l["kernel_cli"] = s.into();
    });
    let r = run(&bundle(&doc, None), &Protocol::load("v0.0.1").unwrap());
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Fail);
    assert!(m.summary.contains("recomputed != report"), "{}", m.summary);
    assert!(
        m.summary.contains("no single-input change tried"),
        "{}",
        m.summary
    );
    // The digest of the changed command line is reported, not the line.
    assert!(!serde_json::to_string(m).unwrap().contains("ssh.servicf"));
}

#[test]
fn wrong_vcpu_count_fails_and_says_which_count_reproduces_the_report() {
    let doc = edited_doc("attestation-2024-01.json", |l| l["num_vcpus"] = 4.into());
    let r = run(&bundle(&doc, None), &Protocol::load("v0.0.1").unwrap());
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Fail);
    assert!(
        m.summary
            .contains("vcpus differs: the report is reproduced with 8 vCPUs, the document says 4"),
        "{}",
        m.summary
    );
}

#[test]
fn other_fpu_mode_fails_and_names_the_mode_that_reproduces_the_report() {
    let p = protocol_with("v0.0.1", |s| s["vmsa_fpu"] = "kvm-init2".into());
    let b = Bundle::open(&root().join("fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let m = one(&run(&b, &p), "snp.measurement").clone();
    assert_eq!(m.status, Status::Fail);
    assert!(
        m.summary.contains(
            "vmsa_fpu differs: the report is reproduced with legacy-zero, the protocol says kvm-init2"
        ),
        "{}",
        m.summary
    );
}

#[test]
fn wrong_pinned_descriptor_fails_the_measurement_without_image() {
    let p = protocol_with("v0.0.1", |s| {
        s["firmware"]["sev_es_reset_eip"] = "0x80b000".into();
    });
    let b = Bundle::open(&root().join("fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let m = one(&run(&b, &p), "snp.measurement").clone();
    assert_eq!(m.status, Status::Fail, "{m:?}");
    assert_eq!(m.details["firmware.sev_es_reset_eip"], "0x80b000");
}

#[test]
fn wrong_pinned_descriptor_is_named_field_by_field_when_the_image_is_present() {
    let p = protocol_with("v0.0.1", |s| {
        s["firmware"]["gctx_after_image"] = "00".repeat(48).into();
    });
    let b = bundle(
        &document("attestation-2024-01.json"),
        Some(firmware_image()),
    );
    let r = run(&b, &p);
    let img = one(&r, "snp.firmware-image");
    assert_eq!(img.status, Status::Fail);
    assert!(
        img.summary.contains("gctx_after_image: 0000"),
        "{}",
        img.summary
    );
    assert_eq!(img.details["differences"].as_array().unwrap().len(), 1);
    // The image (with the pinned sha256) is the truth the measurement uses.
    assert_eq!(one(&r, "snp.measurement").status, Status::Pass);
}

#[test]
fn firmware_image_whose_sha256_differs_fails_and_is_not_used() {
    let mut image = firmware_image();
    image[0x1000] ^= 0xff;
    let b = bundle(&document("attestation-2024-01.json"), Some(image.clone()));
    let r = run(&b, &Protocol::load("v0.0.1").unwrap());
    let img = one(&r, "snp.firmware-image");
    assert_eq!(img.status, Status::Fail);
    assert!(
        img.summary.starts_with("sha256 differs: image "),
        "{}",
        img.summary
    );
    assert_eq!(img.expected.as_deref(), Some(FIRMWARE_SHA256));
    assert_eq!(
        img.actual.as_deref(),
        Some(blyss_evidence::util::sha256_hex(&image).as_str())
    );
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Pass);
    assert!(m.summary.ends_with("(pinned firmware descriptor)"));
}

#[test]
fn protocol_without_measurement_section_is_not_applicable() {
    let b = Bundle::open(&root().join("fixtures/bundles/blyss-2024-01.zip")).unwrap();
    let r = run(&b, &Protocol::load("snp-only").unwrap());
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::NotApplicable);
    assert!(m.summary.contains("pins no launch inputs"));
}

#[test]
fn document_without_launch_parameters_fails() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&document("attestation-2024-01.json")).unwrap();
    v["cpu_attestation"]
        .as_object_mut()
        .unwrap()
        .remove("launch");
    let r = run(
        &bundle(&serde_json::to_vec(&v).unwrap(), None),
        &Protocol::load("v0.0.1").unwrap(),
    );
    let m = one(&r, "snp.measurement");
    assert_eq!(m.status, Status::Fail);
    assert!(m.summary.contains("no launch parameters"), "{}", m.summary);
}

#[test]
fn invalid_measurement_sections_are_rejected_at_load_time() {
    let text = blyss_evidence::protocol::EMBEDDED
        .iter()
        .find(|(i, _)| *i == "v0.0.1")
        .unwrap()
        .1;
    type Edit = (&'static str, fn(&mut serde_json::Value));
    let edits: [Edit; 7] = [
        ("unknown field", |s| s["vcpus"] = 8.into()),
        ("bad fpu mode", |s| s["vmsa_fpu"] = "zero".into()),
        ("bad vcpu type", |s| s["vcpu_type"] = "Xeon".into()),
        ("bad kernel hash", |s| s["kernel_sha256"] = "ff".into()),
        ("bad gpa", |s| s["firmware"]["gpa"] = "0xffb00000".into()),
        ("bad hex", |s| s["guest_features"] = "1".into()),
        ("empty section", |s| *s = serde_json::json!({})),
    ];
    for (what, f) in edits {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        f(&mut v["sections"]["measurement"]);
        let err = Protocol::parse(&serde_json::to_vec(&v).unwrap(), "t").unwrap_err();
        assert!(
            err.to_string().contains("sections.measurement"),
            "{what}: {err}"
        );
    }
}
