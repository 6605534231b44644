//! The `amd`, `snp` and `protocol` families on the two real Blyss
//! documents: the values they attest, which protocol each complies with
//! (and why not the others), and negative tests built from them.

use crate::common;

use blyss_evidence::checks::Status;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;
use common::snp::*;
use serde_json::json;

#[test]
fn jan_2024_document_attests_genoa_tcb_firmware_vmpl_and_policy() {
    let r = audit_doc(DOC_2024, "v0.0.1", jan_2024());
    let chain = one(&r, "amd.chain", None);
    assert_eq!(chain.status, Status::Pass, "{chain:#?}");
    assert_eq!(
        chain.summary,
        "VCEK ← ASK ← ARK (Genoa), valid at 2024-01-15T00:00:00Z"
    );
    assert_passes(&r, "amd.product", None);
    for id in [
        "snp.report-signature",
        "snp.report-format",
        "snp.tcb",
        "snp.policy",
        "snp.provisional-firmware",
    ] {
        assert_passes(&r, id, None);
    }
    assert_eq!(r.facts["snp.product"], json!("Genoa"));
    assert_eq!(
        r.facts["snp.reported_tcb"],
        json!({"bootloader": 7, "tee": 0, "snp": 11, "microcode": 62})
    );
    assert_eq!(
        r.facts["snp.firmware"],
        json!({"major": 1, "minor": 54, "build": 6})
    );
    assert_eq!(r.facts["snp.vmpl"], json!(1));
    assert_eq!(r.facts["snp.policy"], json!("0x30000"));
    assert_eq!(r.facts["snp.report_version"], json!(2));
    assert_eq!(
        r.facts["snp.measurement"],
        json!("1ee2a500b58a0c6935b29d0c7cc64cbdf25100a75b574163b8cf8a24bb4aa0a566bfa34a75610f2c7927d2353704131a")
    );
    assert_eq!(r.facts["snp.chip_id"], json!("a50ca20e…d8799d40"));
    let sig = one(&r, "snp.report-signature", None);
    assert!(sig.summary.contains(
        "report v2, VMPL 1, policy 0x30000, reported TCB bl 7 / tee 0 / snp 11 / ucode 62, firmware 1.54 build 6"
    ), "{}", sig.summary);
    // Not in the bundle: reported, never silently passed.
    assert_eq!(status(&r, "amd.crl"), Status::Warn);
    assert_eq!(status(&r, "amd.root-pinned"), Status::NotApplicable);
    assert_eq!(status(&r, "amd.vcek-kds"), Status::NotApplicable);
}

#[test]
fn dec_2023_document_attests_the_same_platform_values() {
    let r = audit_doc(DOC_2023, "v0.0.1-test", dec_2023());
    assert_passes(&r, "amd.chain", None);
    for id in ["snp.report-signature", "snp.tcb", "snp.policy"] {
        assert_passes(&r, id, None);
    }
    assert_eq!(r.facts["snp.product"], json!("Genoa"));
    assert!(r.facts["snp.measurement"]
        .as_str()
        .unwrap()
        .starts_with("a1eee53f"));
}

/// (document, protocol, command line complies, images comply)
#[test]
fn compliance_matrix_of_the_real_documents() {
    let cases = [
        // The December test deployment runs the test flags.
        (DOC_2023, "2023-12", "v0.0.1-test", true, true),
        (DOC_2023, "2023-12", "v0.0.1", false, true),
        // The January production deployment.
        (DOC_2024, "2024-01", "v0.0.1", true, true),
        (DOC_2024, "2024-01", "v0.0.1-test", false, true),
        // The v0.0.2 draft pins the December images and the January flags.
        (DOC_2024, "2024-01", "v0.0.2", true, false),
        (DOC_2023, "2023-12", "v0.0.2", false, true),
    ];
    for (doc, name, proto, cmdline_ok, images_ok) in cases {
        let at = if name == "2023-12" {
            dec_2023()
        } else {
            jan_2024()
        };
        let r = audit_doc(doc, proto, at);
        let cmd_all = results(&r, "protocol.cmdline")
            .iter()
            .all(|c| c.status == Status::Pass);
        let img_all = results(&r, "protocol.images")
            .iter()
            .all(|c| c.status == Status::Pass);
        assert_eq!(cmd_all, cmdline_ok, "{name} under {proto}: cmdline");
        assert_eq!(img_all, images_ok, "{name} under {proto}: images");
        assert_eq!(results(&r, "protocol.cmdline").len(), 3);
        assert_eq!(results(&r, "protocol.images").len(), 3);
    }
}

#[test]
fn dec_2023_fails_v0_0_1_because_of_its_test_flags() {
    let r = audit_doc(DOC_2023, "v0.0.1", dec_2023());
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "extraneous or altered: blyss_disable_server, blyss_use_test_cert",
    );
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("security-flags"),
        "missing security flag(s): systemd.mask=ssh.service",
    );
    assert_passes(&r, "protocol.cmdline", Some("dm-verity"));
}

#[test]
fn jan_2024_fails_v0_0_1_test_because_it_lacks_the_test_flags() {
    let r = audit_doc(DOC_2024, "v0.0.1-test", jan_2024());
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("security-flags"),
        "missing security flag(s): blyss_disable_server blyss_use_test_cert",
    );
}

#[test]
fn v0_0_2_draft_pins_december_images_so_january_fails_on_digests_env_and_args() {
    let r = audit_doc(DOC_2024, "v0.0.2", jan_2024());
    assert_passes(&r, "protocol.cmdline", Some("exact-reconstruction"));
    assert_passes(&r, "protocol.images", Some("blyss_shim_docker_img"));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_ui_docker_img"),
        "digest ef8f9507…d2e798fb instead of the pinned 404c2bfe…c772a3d8",
    );
    let app = one(&r, "protocol.images", Some("blyss_docker_img"));
    assert_eq!(app.status, Status::Fail);
    assert!(app
        .summary
        .contains("digest 4f562980…76bd144f instead of the pinned d4b96484…212afc24"));
    assert!(app.summary.contains("container arguments"));
    // December: images match the draft, the security flag does not.
    let r = audit_doc(DOC_2023, "v0.0.2", dec_2023());
    for p in [
        "blyss_shim_docker_img",
        "blyss_ui_docker_img",
        "blyss_docker_img",
    ] {
        assert_passes(&r, "protocol.images", Some(p));
    }
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("security-flags"),
        "systemd.mask=ssh.service",
    );
}

#[test]
fn images_are_shown_with_their_digests() {
    let r = audit_doc(DOC_2024, "v0.0.1", jan_2024());
    let app = one(&r, "protocol.images", Some("blyss_docker_img"));
    assert_eq!(
        app.actual.as_deref(),
        Some("vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f")
    );
    assert_eq!(app.details["role"], json!("application"));
    assert_eq!(app.details["env"], json!(["HUGGING_FACE_HUB_TOKEN"]));
    let dm = one(&r, "protocol.cmdline", Some("dm-verity"));
    assert_eq!(
        dm.details["disk_hash"],
        json!("c51b4b94ee613a768cf555442582b9bcf6e8b04aacd26ff52cd69f87809b8190")
    );
}

#[test]
fn the_hugging_face_token_never_reaches_a_report() {
    let cli = serde_json::from_slice::<serde_json::Value>(DOC_2024).unwrap()["cpu_attestation"]
        ["launch"]["kernel_cli"]
        .as_str()
        .unwrap()
        .to_string();
    let start = cli.find("hf_").unwrap();
    let token: String = cli[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert!(token.len() > 20);
    for proto in ["v0.0.1", "v0.0.1-test", "v0.0.2"] {
        for doc in [DOC_2023, DOC_2024] {
            let r = audit_doc(doc, proto, jan_2024());
            let text = serde_json::to_string(&r).unwrap();
            assert!(!text.contains(&token), "token leaked under {proto}");
            assert!(text.contains("hf_R…[redacted]"));
        }
    }
}

// ---------------------------------------------------------------------------
// Negative tests from the real documents
// ---------------------------------------------------------------------------

#[test]
fn a_flipped_bit_in_each_signed_field_breaks_the_signature() {
    let ints = [
        "version",
        "guest_svn",
        "policy",
        "vmpl",
        "sig_algo",
        "plat_info",
        "_author_key_en",
        "_reserved_0",
        "current_build",
        "current_minor",
        "current_major",
        "_reserved_2",
        "committed_build",
        "committed_minor",
        "committed_major",
        "_reserved_3",
    ];
    let arrays = [
        "family_id",
        "image_id",
        "report_data",
        "measurement",
        "host_data",
        "id_key_digest",
        "author_key_digest",
        "report_id",
        "report_id_ma",
        "_reserved_1",
        "chip_id",
        "_reserved_4",
    ];
    let tcbs = ["current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"];
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for f in ints {
        cases.push((
            f.into(),
            mutate_doc(DOC_2024, |c| {
                c[f] = json!(c[f].as_u64().unwrap() ^ 1);
            }),
        ));
    }
    for f in arrays {
        cases.push((
            f.into(),
            mutate_doc(DOC_2024, |c| {
                c[f][3] = json!(c[f][3].as_u64().unwrap() ^ 0x10);
            }),
        ));
    }
    for f in tcbs {
        for part in ["bootloader", "snp", "microcode"] {
            cases.push((
                format!("{f}.{part}"),
                mutate_doc(DOC_2024, |c| {
                    c[f][part] = json!(c[f][part].as_u64().unwrap() ^ 1);
                }),
            ));
        }
        cases.push((
            format!("{f}._reserved"),
            mutate_doc(DOC_2024, |c| {
                c[f]["_reserved"][0] = json!(1);
            }),
        ));
    }
    for f in ["r", "s"] {
        cases.push((
            format!("signature.{f}"),
            mutate_doc(DOC_2024, |c| {
                c["signature"][f][0] = json!(c["signature"][f][0].as_u64().unwrap() ^ 1);
            }),
        ));
    }
    assert_eq!(cases.len(), 16 + 12 + 16 + 2);
    for (name, doc) in cases {
        let r = audit_doc(&doc, "v0.0.1", jan_2024());
        let sig = one(&r, "snp.report-signature", None);
        assert_eq!(sig.status, Status::Fail, "flipping {name} went unnoticed");
        assert_eq!(r.verdict.status, blyss_evidence::checks::Verdict::Fail);
        if name == "sig_algo" {
            assert!(
                sig.summary.contains("SIGNATURE_ALGO is 0"),
                "{}",
                sig.summary
            );
        } else {
            assert!(
                sig.summary.contains("does not verify"),
                "{name}: {}",
                sig.summary
            );
        }
    }
}

#[test]
fn the_other_documents_vcek_is_the_same_key_but_not_valid_before_its_issue_date() {
    // A VCEK is derived from the chip and its TCB: both documents come from
    // the same chip at the same TCB, so their VCEKs carry the same key and
    // differ only in their validity period.
    let vcek_2023 = serde_json::from_slice::<serde_json::Value>(DOC_2023).unwrap()
        ["cpu_attestation"]["vcek"]
        .clone();
    let vcek_2024 = serde_json::from_slice::<serde_json::Value>(DOC_2024).unwrap()
        ["cpu_attestation"]["vcek"]
        .clone();
    assert_ne!(vcek_2023, vcek_2024);
    let jan_with_dec_vcek = mutate_doc(DOC_2024, |c| c["vcek"] = vcek_2023.clone());
    let r = audit_doc(&jan_with_dec_vcek, "v0.0.1", jan_2024());
    assert_passes(&r, "snp.report-signature", None);
    assert_passes(&r, "amd.chain", None);
    // The January VCEK was issued 2024-01-10: not valid in December 2023.
    let dec_with_jan_vcek = mutate_doc(DOC_2023, |c| c["vcek"] = vcek_2024.clone());
    let r = audit_doc(&dec_with_jan_vcek, "v0.0.1-test", dec_2023());
    assert_passes(&r, "snp.report-signature", None);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK is not valid at 2023-12-20T00:00:00Z (valid 2024-01-10T23:03:24Z to 2031-01-10T23:03:24Z)",
    );
}

#[test]
fn a_vcek_of_another_chip_does_not_verify_the_report() {
    let p = platform();
    let test_vcek = p
        .vcek(blyss_evidence::evidence::amd::Product::Genoa)
        .der
        .to_vec();
    let b64 = base64_no_pad(&test_vcek);
    let doc = mutate_doc(DOC_2024, |c| c["vcek"] = json!(b64));
    let r = audit_doc(&doc, "v0.0.1", jan_2024());
    assert_fails(&r, "snp.report-signature", None, "does not verify");
    // Its TEST-ONLY issuer is not trusted in production.
    assert_fails(&r, "amd.chain", None, "not signed by any trusted ASK");
    assert_fails(&r, "snp.tcb", None, "CHIP_ID");
}

fn base64_no_pad(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
}

#[test]
fn a_milan_only_trust_set_rejects_the_genoa_chain() {
    let mut t = TrustSet::production();
    t.amd.retain(|k, _| k == "Milan");
    let b = bundle(
        &[("attestation.json", DOC_2024.to_vec())],
        "v0.0.1",
        jan_2024(),
    );
    let r = run(&b, &Protocol::load("v0.0.1").unwrap(), &t);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "not signed by any trusted ASK (trust set anchors: Milan)",
    );
    assert_fails(&r, "amd.product", None, "no trusted ASK verifies the VCEK");
    assert!(!r.facts.contains_key("snp.product"));
}

fn pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap()
}

#[test]
fn bundle_provided_roots_must_equal_the_pinned_ones() {
    let prod = TrustSet::production();
    let chain = |p: &str| {
        let r = &prod.amd[p];
        format!("{}{}", pem(&r.ask), pem(&r.ark)).into_bytes()
    };
    let with_chain = |c: Vec<u8>| {
        let b = bundle(
            &[
                ("attestation.json", DOC_2024.to_vec()),
                ("amd/cert_chain.pem", c),
            ],
            "v0.0.1",
            jan_2024(),
        );
        run(&b, &Protocol::load("v0.0.1").unwrap(), &prod)
    };
    let r = with_chain(chain("Genoa"));
    assert_passes(&r, "amd.root-pinned", None);
    let r = with_chain(chain("Milan"));
    assert_fails(
        &r,
        "amd.root-pinned",
        None,
        "the bundle's cert_chain is the Milan chain, the VCEK is Genoa's",
    );
    // A look-alike ARK (the TEST-ONLY Genoa ARK) is never accepted, and the
    // chain is still judged on the pinned roots only.
    let fake_ark = platform()
        .product(blyss_evidence::evidence::amd::Product::Genoa)
        .ark_der
        .clone();
    let r = with_chain(format!("{}{}", pem(&prod.amd["Genoa"].ask), pem(&fake_ark)).into_bytes());
    assert_fails(
        &r,
        "amd.root-pinned",
        None,
        "the bundle's ARK differs from the pinned Genoa root(s)",
    );
    assert_passes(&r, "amd.chain", None);
    let r = with_chain(pem(&prod.amd["Genoa"].ask).into_bytes());
    assert_fails(
        &r,
        "amd.root-pinned",
        None,
        "holds 1 certificates, expected 2",
    );
}

#[test]
fn a_truncated_vcek_fails_the_chain_and_the_signature() {
    // Cut at a base64 quantum boundary: valid base64, truncated DER.
    let doc = mutate_doc(DOC_2024, |c| {
        let v = c["vcek"].as_str().unwrap();
        c["vcek"] = json!(v[..900].to_string());
    });
    let r = audit_doc(&doc, "v0.0.1", jan_2024());
    assert_fails(
        &r,
        "amd.chain",
        None,
        "the VCEK is not a DER X.509 certificate",
    );
    assert_fails(&r, "snp.report-signature", None, "VCEK unusable");
    assert_fails(&r, "snp.tcb", None, "");
    assert_fails(&r, "amd.product", None, "undetermined");
    // Cut anywhere: the document itself is rejected, naming the field.
    let doc = mutate_doc(DOC_2024, |c| {
        let v = c["vcek"].as_str().unwrap();
        c["vcek"] = json!(v[..905].to_string());
    });
    let r = audit_doc(&doc, "v0.0.1", jan_2024());
    assert_fails(
        &r,
        "amd.chain",
        None,
        "field `cpu_attestation.vcek`: not base64",
    );
}

#[test]
fn a_wrong_length_array_fails_every_attestation_check_naming_the_field() {
    let doc = mutate_doc(DOC_2024, |c| {
        c["chip_id"].as_array_mut().unwrap().pop();
    });
    let r = audit_doc(&doc, "v0.0.1", jan_2024());
    for id in [
        "amd.chain",
        "amd.product",
        "snp.report-signature",
        "snp.tcb",
        "snp.policy",
        "protocol.cmdline",
        "protocol.images",
    ] {
        for c in results(&r, id) {
            assert_eq!(c.status, Status::Fail, "{id}");
            assert!(
                c.summary
                    .contains("field `cpu_attestation.chip_id`: 63 elements, expected 64"),
                "{id}: {}",
                c.summary
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Each command-line rule broken once (January document, protocol v0.0.1)
// ---------------------------------------------------------------------------

fn jan_cmdline(f: impl FnOnce(&str) -> String) -> blyss_evidence::report::Report {
    audit_doc(&with_cmdline(DOC_2024, f), "v0.0.1", jan_2024())
}

#[test]
fn an_extra_parameter_fails_the_reconstruction_only() {
    let r = jan_cmdline(|c| c.replace(" initrd=initrd", " init=/bin/sh initrd=initrd"));
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "extraneous or altered: init=/bin/sh",
    );
    assert_passes(&r, "protocol.cmdline", Some("dm-verity"));
    assert_passes(&r, "protocol.cmdline", Some("security-flags"));
    for c in results(&r, "protocol.images") {
        assert_eq!(c.status, Status::Pass);
    }
}

#[test]
fn initrd_elsewhere_than_at_the_end_is_not_stripped() {
    let r = jan_cmdline(|c| {
        c.replace(" initrd=initrd", "")
            .replace("fsck.mode=skip", "initrd=initrd fsck.mode=skip")
            + " initrd=initrd"
    });
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "extraneous or altered: initrd=initrd",
    );
}

#[test]
fn another_image_fails_protocol_images() {
    let r = jan_cmdline(|c| c.replace("vllm/vllm-openai@", "vllm/vllm-evil@"));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_docker_img"),
        "image vllm/vllm-evil, expected vllm/vllm-openai",
    );
    let r = jan_cmdline(|c| c.replace("blintzbase/shim@", "blintzbase/shimx@"));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_shim_docker_img"),
        "expected blintzbase/shim",
    );
}

#[test]
fn other_digest_forms_fail_protocol_images() {
    let digest = "@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f";
    // A tag instead of a digest.
    let r = jan_cmdline(|c| c.replace(digest, ":latest"));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_docker_img"),
        "tag `:latest` is not allowed",
    );
    // A short digest (the original verifier accepted any sha256: prefix).
    let r = jan_cmdline(|c| c.replace(digest, "@sha256:4f562980"));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_docker_img"),
        "is not sha256: followed by 64 lower-case hex digits",
    );
    // Another algorithm.
    let r = jan_cmdline(|c| c.replace(digest, &digest.replace("sha256", "sha512")));
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_docker_img"),
        "is not sha256:<hex>",
    );
    // Unpinned: fails because our v0.0.1 demands digests…
    let unpinned = with_cmdline(DOC_2024, |c| c.replace(digest, ""));
    let r = audit_doc(&unpinned, "v0.0.1", jan_2024());
    assert_fails(&r, "protocol.images", Some("blyss_docker_img"), "unpinned");
    // …and passes under the original (lenient) rule.
    let lenient = protocol_with("v0.0.1", |v| {
        v["sections"]["cmdline"]["images"]["blyss_docker_img"]["require_digest"] = json!(false);
    });
    let b = bundle(&[("attestation.json", unpinned)], "v0.0.1", jan_2024());
    let r = run(&b, &lenient, &TrustSet::production());
    let c = one(&r, "protocol.images", Some("blyss_docker_img"));
    assert_eq!(c.status, Status::Pass);
    assert!(c.summary.contains("unpinned, allowed by the protocol"));
}

#[test]
fn an_option_before_the_image_fails_protocol_images() {
    let r = jan_cmdline(|c| {
        c.replace(
            "blyss_docker_img=\"--env",
            "blyss_docker_img=\"--privileged --env",
        )
    });
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_docker_img"),
        "option `--privileged` precedes the image",
    );
}

#[test]
fn a_repeated_image_parameter_fails() {
    let r = jan_cmdline(|c| {
        c.replace(
            " initrd=initrd",
            " blyss_shim_docker_img=\"blintzbase/shim\" initrd=initrd",
        )
    });
    assert_fails(
        &r,
        "protocol.images",
        Some("blyss_shim_docker_img"),
        "appears 2 times",
    );
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "appears 2 times",
    );
}

#[test]
fn a_wrong_disk_hash_fails_the_dm_verity_rule() {
    let r = jan_cmdline(|c| {
        c.replace(
            "c51b4b94ee613a768cf555442582b9bcf6e8b04aacd26ff52cd69f87809b8190",
            "d51b4b94ee613a768cf555442582b9bcf6e8b04aacd26ff52cd69f87809b8190",
        )
    });
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("dm-verity"),
        "root hash d51b4b94…809b8190 instead of c51b4b94…809b8190",
    );
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "dm-mod.create",
    );
    // A different disk size.
    let r = jan_cmdline(|c| c.replace("0 1046369920 verity", "0 1046369912 verity"));
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("dm-verity"),
        "1046369912 sectors",
    );
    // No panic on corruption.
    let r = jan_cmdline(|c| c.replace(" 1 panic_on_corruption", " 0"));
    assert_fails(&r, "protocol.cmdline", Some("dm-verity"), "options");
}

#[test]
fn a_missing_security_flag_fails() {
    let r = jan_cmdline(|c| c.replace("systemd.mask=ssh.service ", ""));
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("security-flags"),
        "missing security flag(s): systemd.mask=ssh.service",
    );
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "missing or altered",
    );
}

#[test]
fn reordered_parameters_fail_the_reconstruction() {
    let r = jan_cmdline(|c| {
        let c = c.replace("systemd.mask=ssh.service ", "");
        c.replace(" initrd=initrd", " systemd.mask=ssh.service initrd=initrd")
    });
    assert_passes(&r, "protocol.cmdline", Some("security-flags"));
    assert_fails(
        &r,
        "protocol.cmdline",
        Some("exact-reconstruction"),
        "same parameters in a different order",
    );
}

#[test]
fn unbalanced_quotes_fail_both_checks() {
    let r = jan_cmdline(|c| c.replacen('"', "", 1));
    for id in ["protocol.cmdline", "protocol.images"] {
        assert_fails(&r, id, None, "does not shell-split");
    }
}

#[test]
fn cmdline_sections_with_mistakes_are_rejected_at_load() {
    let bad = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../protocol/blyss-v0.0.1.json")).unwrap();
        f(&mut v["sections"]["cmdline"]);
        Protocol::parse(&serde_json::to_vec(&v).unwrap(), "t")
            .unwrap_err()
            .to_string()
    };
    assert!(bad(&|c| c["dm_verity"]["hash"] = json!("C51B")).contains("64 lower-case hex"));
    assert!(bad(&|c| c["dm_verity"]["size"] = json!(4095)).contains("multiple of 4096"));
    assert!(bad(&|c| {
        c["layout"].as_array_mut().unwrap().pop();
    })
    .contains("sections.cmdline.layout: must list"));
    assert!(bad(
        &|c| c["images"]["blyss_other_img"] = json!({"image": "a", "require_digest": true})
    )
    .contains("unknown image parameter"));
    assert!(
        bad(&|c| c["images"]["blyss_docker_img"]["image"] = json!("vllm/vllm-openai:latest"))
            .contains("is not a bare repository")
    );
    assert!(
        bad(&|c| c["images"]["blyss_docker_img"]["digest"] = json!("sha256:abc"))
            .contains("digest")
    );
    assert!(bad(&|c| c["security"] = json!(" ")).contains("sections.cmdline.security: is empty"));
    assert!(bad(&|c| c["extra"] = json!(1)).contains("unknown field"));
}
