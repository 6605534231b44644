//! Protocol files: the typed sections refuse a misspelled key, a wrong type
//! or a missing value with the JSON path of the offending key; the JSON
//! Schema `protocol/protocol.schema.json` agrees with the structs; upstream
//! Blyss protocol files are translated onto the built-in protocol of their
//! version and audit the real bundles exactly like it; and the layer arrows
//! issue 15 removed stay removed.

use std::collections::BTreeSet;
use std::path::Path;

use blyss_evidence::bundle::Bundle;
use blyss_evidence::checks::AuditOptions;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use serde_json::{json, Value};

use crate::common::report::{fixture, BUNDLE_2023, BUNDLE_2024};

const SCHEMA: &str = include_str!("../../protocol/protocol.schema.json");
const V001: &str = include_str!("../../protocol/blyss-v0.0.1.json");

/// The built-in protocol files in our format (every `protocol/*.json` that
/// is not a JSON Schema).
fn builtin_files() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(fixture("protocol")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.ends_with(".schema.json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        out.push((name, v));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 4, "built-in protocol files not found");
    out
}

/// The error text of loading `v`, which must be refused.
fn refused(v: &Value) -> String {
    match Protocol::parse(v.to_string().as_bytes(), "test.json") {
        Ok(_) => panic!("accepted: {v}"),
        Err(e) => e.to_string(),
    }
}

/// v0.0.1 with `edit` applied.
fn v001_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut v: Value = serde_json::from_str(V001).unwrap();
    edit(&mut v);
    v
}

/// Asserts that `err` names `path` as the offending location, followed by
/// a message containing `what`.
fn assert_at(err: &str, path: &str, what: &str) {
    let want = format!("{path}: ");
    let i = err
        .find(&want)
        .unwrap_or_else(|| panic!("error does not name {path:?}: {err}"));
    assert!(
        err[i..].contains(what),
        "error at {path} lacks {what:?}: {err}"
    );
}

fn rename(obj: &mut Value, from: &str, to: &str) {
    let m = obj.as_object_mut().unwrap();
    let x = m.remove(from).unwrap();
    m.insert(to.into(), x);
}

fn remove(obj: &mut Value, key: &str) {
    obj.as_object_mut().unwrap().remove(key).unwrap();
}

// ---- schema vs structs --------------------------------------------------------

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    assert!(jsonschema::meta::is_valid(&schema));
    jsonschema::draft202012::new(&schema).unwrap()
}

#[test]
fn every_builtin_protocol_file_validates_against_the_schema_and_parses_into_the_structs() {
    let v = validator();
    for (name, file) in builtin_files() {
        let errs: Vec<String> = v
            .iter_errors(&file)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errs.is_empty(), "{name}: {errs:?}");
        let p = Protocol::parse(file.to_string().as_bytes(), &name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(p.id.as_str()), file["id"].as_str(), "{name}");
    }
}

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    // The same three mistakes, judged by the schema: it is not a looser
    // description than the structs.
    let v = validator();
    let typo = v001_with(|v| rename(&mut v["sections"]["snp"], "allow_debug", "allow_debgu"));
    let wrong = v001_with(|v| v["sections"]["ct"]["min_operators"] = json!("2"));
    let missing = v001_with(|v| remove(&mut v["sections"]["images"], "digests"));
    for bad in [typo, wrong, missing] {
        assert!(!v.is_valid(&bad), "schema accepted {bad}");
        refused(&bad);
    }
}

/// The fields the loader accepts in the object at `pointer` of `doc`, read
/// from its refusal of an unknown key there (serde lists the expected
/// fields); also checks that the refusal names the key's path.
fn accepted_fields(doc: &Value, pointer: &str, dotted: &str) -> BTreeSet<String> {
    let mut d = doc.clone();
    d.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
        .as_object_mut()
        .unwrap()
        .insert("zz_probe".into(), json!(0));
    let err = refused(&d);
    let path = if dotted.is_empty() {
        "zz_probe".to_string()
    } else {
        format!("{dotted}.zz_probe")
    };
    assert_at(&err, &path, "unknown field `zz_probe`");
    let tail = err
        .split_once("unknown field `zz_probe`, expected ")
        .map(|x| x.1)
        .unwrap_or_default();
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn schema_property_names_equal_the_fields_of_the_structs_for_every_object() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    // v0.0.1 with the one optional object it lacks.
    let doc = v001_with(|v| {
        v["sections"]["snp"]["min_policy_abi"] = json!({"major": 1, "minor": 0});
        let tinfoil: Value =
            serde_json::from_str(include_str!("../../protocol/tinfoil.json")).unwrap();
        v["sections"]["tinfoil"] = tinfoil["sections"]["tinfoil"].clone();
    });
    // (instance pointer, dotted path, schema pointer)
    let objects = [
        ("", "", ""),
        ("/sections", "sections", "/properties/sections"),
        ("/sections/snp", "sections.snp", "/$defs/snp"),
        (
            "/sections/snp/min_tcb/Genoa",
            "sections.snp.min_tcb.Genoa",
            "/$defs/tcb",
        ),
        (
            "/sections/snp/min_firmware",
            "sections.snp.min_firmware",
            "/$defs/snp/properties/min_firmware",
        ),
        (
            "/sections/snp/min_policy_abi",
            "sections.snp.min_policy_abi",
            "/$defs/snp/properties/min_policy_abi",
        ),
        ("/sections/cmdline", "sections.cmdline", "/$defs/cmdline"),
        (
            "/sections/cmdline/dm_verity",
            "sections.cmdline.dm_verity",
            "/$defs/cmdline/properties/dm_verity",
        ),
        (
            "/sections/cmdline/images/blyss_docker_img",
            "sections.cmdline.images.blyss_docker_img",
            "/$defs/image_rule",
        ),
        (
            "/sections/measurement",
            "sections.measurement",
            "/$defs/measurement",
        ),
        (
            "/sections/measurement/firmware",
            "sections.measurement.firmware",
            "/$defs/firmware",
        ),
        (
            "/sections/measurement/firmware/sections/0",
            "sections.measurement.firmware.sections[0]",
            "/$defs/firmware_section",
        ),
        ("/sections/tls", "sections.tls", "/$defs/tls"),
        ("/sections/ct", "sections.ct", "/$defs/ct"),
        ("/sections/images", "sections.images", "/$defs/images"),
        ("/sections/gpu", "sections.gpu", "/$defs/gpu"),
        ("/sections/tinfoil", "sections.tinfoil", "/$defs/tinfoil"),
        (
            "/sections/gpu/rim_pins/0",
            "sections.gpu.rim_pins[0]",
            "/$defs/rim_pin",
        ),
    ];
    for (ptr, dotted, sptr) in objects {
        let s = schema
            .pointer(sptr)
            .unwrap_or_else(|| panic!("schema {sptr}"));
        assert_eq!(s["additionalProperties"], json!(false), "schema {sptr}");
        let props: BTreeSet<String> = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let fields = accepted_fields(&doc, ptr, dotted);
        assert_eq!(props, fields, "schema {sptr} vs struct at {dotted:?}");
    }
    // Every closed object of the schema was compared above.
    fn closed(v: &Value, n: &mut usize) {
        match v {
            Value::Object(m) => {
                if m.get("additionalProperties") == Some(&json!(false)) {
                    *n += 1;
                }
                m.values().for_each(|x| closed(x, n));
            }
            Value::Array(a) => a.iter().for_each(|x| closed(x, n)),
            _ => {}
        }
    }
    let mut n = 0;
    closed(&schema, &mut n);
    assert_eq!(n, objects.len(), "schema objects not compared");
}

// ---- each section: typo, wrong type, missing value ------------------------------

#[test]
fn head_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(v, "required_checks", "required_check")
    }));
    assert_at(&e, "required_check", "unknown field");
    let e = refused(&v001_with(|v| v["title"] = json!(1)));
    assert_at(&e, "title", "invalid type");
    let e = refused(&v001_with(|v| remove(v, "source")));
    assert!(e.contains("missing field `source`"), "{e}");
    let e = refused(&v001_with(|v| v["required_checks"][1] = json!("amd")));
    assert_at(&e, "required_checks[1]", "not a check id");
    let e = refused(&v001_with(|v| v["sections"]["snpx"] = json!({})));
    assert_at(&e, "sections.snpx", "unknown field");
}

#[test]
fn a_key_given_twice_is_refused_not_last_one_wins() {
    // One interpretation per file: `"id"` twice is an error, in our format
    // and in a section.
    let twice = V001.replacen('{', r#"{"id": "v0.0.2","#, 1);
    let e = Protocol::parse(twice.as_bytes(), "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate key `id`"), "{e}");
    let twice = V001.replacen(r#""ct": {"#, r#""ct": {"min_operators": 1,"#, 1);
    let e = Protocol::parse(twice.as_bytes(), "t")
        .unwrap_err()
        .to_string();
    assert_at(&e, "sections.ct", "duplicate key `min_operators`");
    // In a map, where serde would otherwise keep the last entry.
    let twice = V001.replacen(
        r#""min_tcb": {"#,
        r#""min_tcb": {"Genoa": {"bootloader": 0, "tee": 0, "snp": 0, "microcode": 0},"#,
        1,
    );
    let e = Protocol::parse(twice.as_bytes(), "t")
        .unwrap_err()
        .to_string();
    assert_at(&e, "sections.snp.min_tcb", "duplicate key `Genoa`");
}

#[test]
fn snp_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["snp"], "allow_debug", "allow_debgu")
    }));
    assert_at(
        &e,
        "sections.snp.allow_debgu",
        "unknown field `allow_debgu`",
    );
    let e = refused(&v001_with(|v| {
        v["sections"]["snp"]["min_tcb"]["Genoa"]["snp"] = json!("11")
    }));
    assert_at(&e, "sections.snp.min_tcb.Genoa.snp", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(&mut v["sections"]["snp"], "require_crl")
    }));
    assert_at(&e, "sections.snp", "missing field `require_crl`");
    let e = refused(&v001_with(|v| v["sections"]["snp"]["vmpl"] = json!(4)));
    assert_at(&e, "sections.snp.vmpl", "not 0..=3");
    let e = refused(&v001_with(|v| {
        v["sections"]["snp"]["products"] = json!(["Genoa", "Bergamo"])
    }));
    assert_at(&e, "sections.snp.products[1]", "unknown product line");
}

#[test]
fn cmdline_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["cmdline"], "security", "securty")
    }));
    assert_at(&e, "sections.cmdline.securty", "unknown field");
    let e = refused(&v001_with(|v| {
        v["sections"]["cmdline"]["dm_verity"]["size"] = json!("535741399040")
    }));
    assert_at(&e, "sections.cmdline.dm_verity.size", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(
            &mut v["sections"]["cmdline"]["images"]["blyss_docker_img"],
            "require_digest",
        )
    }));
    assert_at(
        &e,
        "sections.cmdline.images.blyss_docker_img",
        "missing field `require_digest`",
    );
    let e = refused(&v001_with(|v| {
        v["sections"]["cmdline"]["dm_verity"]["hash"] = json!("C51B")
    }));
    assert_at(&e, "sections.cmdline.dm_verity.hash", "hex");
    let e = refused(&v001_with(|v| {
        v["sections"]["cmdline"]["layout"]
            .as_array_mut()
            .unwrap()
            .pop();
    }));
    assert_at(&e, "sections.cmdline.layout", "exactly once");
}

#[test]
fn measurement_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["measurement"], "vcpu_type", "vcpus")
    }));
    assert_at(&e, "sections.measurement.vcpus", "unknown field `vcpus`");
    let e = refused(&v001_with(|v| {
        v["sections"]["measurement"]["guest_features"] = json!(1)
    }));
    assert_at(&e, "sections.measurement.guest_features", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(&mut v["sections"]["measurement"], "vmm")
    }));
    assert_at(&e, "sections.measurement", "missing field `vmm`");
    let e = refused(&v001_with(|v| {
        v["sections"]["measurement"]["vcpu_type"] = json!("EPYC-v9")
    }));
    assert_at(&e, "sections.measurement.vcpu_type", "unknown vCPU type");
    let e = refused(&v001_with(|v| {
        v["sections"]["measurement"]["firmware"]["sections"][0]["type"] = json!("snp-sec-memory")
    }));
    assert_at(
        &e,
        "sections.measurement.firmware.sections[0].type",
        "unknown variant",
    );
    let e = refused(&v001_with(|v| {
        v["sections"]["measurement"]["kernel_sha256"] = json!("ff")
    }));
    assert_at(
        &e,
        "sections.measurement.kernel_sha256",
        "64 lower-case hex",
    );
}

#[test]
fn tls_section_typo_and_wrong_type_are_refused_with_their_path() {
    // Every tls key has a default: there is no missing value to refuse.
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["tls"], "chain", "chains")
    }));
    assert_at(&e, "sections.tls.chains", "unknown field");
    let e = refused(&v001_with(|v| v["sections"]["tls"]["chain"] = json!(true)));
    assert_at(&e, "sections.tls.chain", "invalid type");
    let e = refused(&v001_with(|v| {
        v["sections"]["tls"]["report_data_tail"] = json!("zeros")
    }));
    assert_at(
        &e,
        "sections.tls.report_data_tail",
        "unknown variant `zeros`",
    );
}

#[test]
fn ct_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["ct"], "min_operators", "min_operator")
    }));
    assert_at(&e, "sections.ct.min_operator", "unknown field");
    let e = refused(&v001_with(|v| {
        v["sections"]["ct"]["min_operators"] = json!("2")
    }));
    assert_at(&e, "sections.ct.min_operators", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(&mut v["sections"]["ct"], "inclusion")
    }));
    assert_at(&e, "sections.ct", "missing field `inclusion`");
    let e = refused(&v001_with(|v| {
        v["sections"]["ct"]["min_operators"] = json!(0)
    }));
    assert_at(&e, "sections.ct.min_operators", "between 1 and 16");
}

#[test]
fn images_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["images"], "digests", "digest")
    }));
    assert_at(&e, "sections.images.digest", "unknown field");
    let e = refused(&v001_with(|v| {
        v["sections"]["images"]["evidence"] = json!(1)
    }));
    assert_at(&e, "sections.images.evidence", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(&mut v["sections"]["images"], "digests")
    }));
    assert_at(&e, "sections.images", "missing field `digests`");
}

#[test]
fn gpu_section_typo_wrong_type_and_missing_value_are_refused_with_their_path() {
    let e = refused(&v001_with(|v| {
        rename(&mut v["sections"]["gpu"], "cert_time", "cert_times")
    }));
    assert_at(&e, "sections.gpu.cert_times", "unknown field");
    let e = refused(&v001_with(|v| {
        v["sections"]["gpu"]["rim_pins"][1]["sha256"] = json!(1)
    }));
    assert_at(&e, "sections.gpu.rim_pins[1].sha256", "invalid type");
    let e = refused(&v001_with(|v| {
        remove(&mut v["sections"]["gpu"]["rim_pins"][0], "version")
    }));
    assert_at(&e, "sections.gpu.rim_pins[0]", "missing field `version`");
    let e = refused(&v001_with(|v| {
        v["sections"]["gpu"]["cert_time"] = json!("later")
    }));
    assert_at(&e, "sections.gpu.cert_time", "RFC 3339");
}

// ---- upstream Blyss protocol files -------------------------------------------------

const UPSTREAM: [(&str, &str); 3] = [
    ("fixtures/blyss/protocol-v0.0.1.json", "v0.0.1"),
    ("fixtures/blyss/protocol-v0.0.1-test.json", "v0.0.1-test"),
    ("fixtures/blyss/protocol-v0.0.2.json", "v0.0.2"),
];

fn load_upstream(rel: &str) -> Protocol {
    Protocol::load(fixture(rel).to_str().unwrap()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn upstream_blyss_files_translate_onto_the_builtin_sections_of_their_version() {
    for (rel, id) in UPSTREAM {
        let up = load_upstream(rel);
        let builtin = Protocol::load(id).unwrap();
        assert_eq!(up.id, id, "{rel}");
        // Everything the upstream file states equals what our built-in
        // protocol (which extends the same file) pins; the rest is its
        // defaults: the two load to the same rules.
        assert_eq!(
            serde_json::to_value(&up.sections).unwrap(),
            serde_json::to_value(&builtin.sections).unwrap(),
            "{rel}"
        );
        assert_eq!(up.required_checks(), builtin.required_checks(), "{rel}");
        let t = up.translated.as_ref().expect("translation recorded");
        assert_eq!(t.base, id);
        assert!(t
            .taken
            .iter()
            .any(|(a, b)| a == "requirements.firmware.kernel"
                && b == "sections.measurement.kernel_sha256"));
        assert!(t.defaults.iter().any(|d| d == "sections.snp"), "{rel}");
        assert_eq!(up.origin, fixture(rel).to_str().unwrap());
        assert!(builtin.translated.is_none());
    }
}

#[test]
fn upstream_files_audit_the_real_bundles_with_the_same_results_as_the_builtin_id() {
    let trust = TrustSet::production();
    let options = AuditOptions::default();
    let at = blyss_evidence::util::parse_time("2024-02-01T00:00:00Z").unwrap();
    for bundle_rel in [BUNDLE_2024, BUNDLE_2023] {
        let bundle = Bundle::open(Path::new(&fixture(bundle_rel))).unwrap();
        for (rel, id) in UPSTREAM {
            let a = blyss_evidence::audit::audit(
                &bundle,
                &Protocol::load(id).unwrap(),
                &trust,
                &options,
                at,
            );
            let b =
                blyss_evidence::audit::audit(&bundle, &load_upstream(rel), &trust, &options, at);
            let statuses = |r: &blyss_evidence::report::Report| {
                r.checks
                    .iter()
                    .map(|c| (c.id.clone(), c.subject.clone(), c.status))
                    .collect::<Vec<_>>()
            };
            assert_eq!(a.verdict.status, b.verdict.status, "{bundle_rel} {rel}");
            assert_eq!(statuses(&a), statuses(&b), "{bundle_rel} {rel}");
            // The report says which file was read and what was added.
            let bp = b.checks.iter().find(|c| c.id == "bundle.protocol").unwrap();
            assert!(bp.summary.contains("upstream Blyss file"), "{}", bp.summary);
            assert_eq!(bp.details["protocol_base"], json!(id));
            assert!(bp.details["protocol_defaults_added"]
                .as_array()
                .unwrap()
                .contains(&json!("sections.snp")));
            assert_eq!(b.protocol.origin, fixture(rel).to_str().unwrap());
            crate::common::report::assert_valid_report_json(&b.to_json());
        }
    }
}

fn upstream_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(fixture(UPSTREAM[0].0)).unwrap()).unwrap();
    edit(&mut v);
    v
}

#[test]
fn misspelled_key_in_an_upstream_file_is_refused_with_its_path() {
    let e = refused(&upstream_with(|v| {
        rename(&mut v["requirements"]["firmware"], "kernel", "kernal")
    }));
    assert_at(&e, "requirements.firmware.kernal", "unknown field `kernal`");
    let e = refused(&upstream_with(|v| {
        v["requirements"]["firmware"]["disk"]["size"] = json!("1")
    }));
    assert_at(&e, "requirements.firmware.disk.size", "invalid type");
}

#[test]
fn upstream_requirements_that_cannot_be_honoured_are_refused_not_dropped() {
    let e = refused(&upstream_with(|v| v["version"] = json!("0.0.9")));
    assert_at(&e, "version", "no built-in protocol");
    let e = refused(&upstream_with(|v| {
        v["requirements"]["firmware"]["ovmf"] = json!("00".repeat(32))
    }));
    assert_at(&e, "requirements.firmware.ovmf", "descriptor");
    let e = refused(&upstream_with(|v| {
        v["requirements"]["firmware"]["disk"]["type"] = json!("plain")
    }));
    assert_at(&e, "requirements.firmware.disk.type", "dm_verity");
    // A translated value that breaks a section rule is refused too.
    let e = refused(&upstream_with(|v| {
        v["requirements"]["firmware"]["kernel"] = json!("FF")
    }));
    assert_at(&e, "sections.measurement.kernel_sha256", "hex");
}

#[test]
fn upstream_file_with_a_different_kernel_fails_the_measurement_of_the_real_bundle() {
    // The translation is not cosmetic: a requirement taken from the file
    // changes what the audit demands.
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(fixture(UPSTREAM[0].0)).unwrap()).unwrap();
    v["requirements"]["firmware"]["kernel"] = json!("ab".repeat(32));
    let p = Protocol::parse(v.to_string().as_bytes(), "edited.json").unwrap();
    let bundle = Bundle::open(Path::new(&fixture(BUNDLE_2024))).unwrap();
    let at = blyss_evidence::util::parse_time("2024-02-01T00:00:00Z").unwrap();
    let r = blyss_evidence::audit::audit(
        &bundle,
        &p,
        &TrustSet::production(),
        &AuditOptions::default(),
        at,
    );
    let m = r.checks.iter().find(|c| c.id == "snp.measurement").unwrap();
    assert_eq!(
        m.status,
        blyss_evidence::checks::Status::Fail,
        "{}",
        m.summary
    );
}

#[test]
fn cli_audit_with_an_upstream_protocol_file_exits_like_the_builtin_id_and_names_the_file() {
    // Issue 14 item 4: `audit B --protocol fixtures/blyss/protocol-v0.0.1.json`
    // was refused with "unknown field `version`" (exit 2).
    let run = |protocol: &str| {
        let mut c = assert_cmd::Command::cargo_bin("blyss-evidence").unwrap();
        c.env("SOURCE_DATE_EPOCH", "1706745600")
            .env_remove("XDG_CONFIG_HOME")
            .arg("audit")
            .arg(fixture(BUNDLE_2024))
            .args(["--scope", "attestation", "--signer"])
            .arg(fixture(crate::common::report::SIGNER_PUB))
            .args(["--protocol", protocol, "-v"]);
        c.output().unwrap()
    };
    let file = fixture(UPSTREAM[0].0);
    let builtin = run("v0.0.1");
    let upstream = run(file.to_str().unwrap());
    assert_ne!(upstream.status.code(), Some(2), "{upstream:?}");
    assert_eq!(builtin.status.code(), upstream.status.code());
    let out = String::from_utf8_lossy(&upstream.stdout);
    assert!(
        out.contains("protocol-v0.0.1.json") && out.contains("upstream Blyss file"),
        "{out}"
    );
}

#[test]
fn a_protocol_file_over_one_mib_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    // Valid JSON, so only the size can be the reason.
    let pad = " ".repeat(blyss_evidence::protocol::MAX_FILE_BYTES as usize);
    std::fs::write(&path, format!("{V001}{pad}")).unwrap();
    let e = Protocol::load(path.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than 1048576 bytes"), "{e}");
    // The same content under the cap loads.
    std::fs::write(&path, V001).unwrap();
    Protocol::load(path.to_str().unwrap()).unwrap();
}
