//! The `amd` and `snp` families on the TEST-ONLY synthetic platform
//! (`fixtures/synthetic/`, trust file `test-trust.json`): the platform
//! itself, then a negative test for every rule, each on a report that is
//! otherwise valid and correctly signed, so that only the rule under test
//! can fail.

use crate::common;

use blyss_evidence::checks::Status;
use blyss_evidence::evidence::amd::testing::{self, TestPlatform, VcekSpec};
use blyss_evidence::evidence::amd::{offsets, oid, Product};
use blyss_evidence::evidence::attestation::REPORT_LEN;
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use common::snp::*;
use serde_json::json;

const G: Product = Product::Genoa;
type Rep = [u8; REPORT_LEN];

fn signed(p: &TestPlatform, product: Product, f: impl FnOnce(&mut Rep)) -> Rep {
    let mut r = p.report_template(product);
    f(&mut r);
    p.sign(product, &mut r);
    r
}

fn put_u32(r: &mut Rep, off: usize, v: u32) {
    r[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(r: &mut Rep, off: usize, v: u64) {
    r[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn snp_only() -> Protocol {
    Protocol::load("snp-only").unwrap()
}

/// A Genoa report changed by `f`, re-signed, with the standard VCEK.
fn genoa(f: impl FnOnce(&mut Rep)) -> Report {
    let p = platform();
    let r = signed(p, G, f);
    audit_raw(&r, p.vcek(G).der, &[], &snp_only(), mid_2024())
}

/// The standard Genoa report with a VCEK built from `spec` (signed by the
/// ASK of `signer`).
fn genoa_with_vcek(spec: VcekSpec, signer: Product) -> Report {
    let p = platform();
    let vcek = p.issue_vcek(&spec, signer).unwrap();
    let r = signed(p, spec.product, |_| {});
    audit_raw(&r, &vcek, &[], &snp_only(), mid_2024())
}

fn genoa_under(protocol: &Protocol, f: impl FnOnce(&mut Rep)) -> Report {
    let p = platform();
    let r = signed(p, G, f);
    audit_raw(&r, p.vcek(G).der, &[], protocol, mid_2024())
}

// ---------------------------------------------------------------------------
// The platform
// ---------------------------------------------------------------------------

#[test]
fn generator_reproduces_the_committed_fixtures_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for p in ["milan", "genoa", "turin"] {
        for k in ["ark", "ask"] {
            let name = format!("test-{p}-{k}.key.pem");
            std::fs::copy(synthetic_dir().join(&name), dir.path().join(&name)).unwrap();
        }
    }
    let written = testing::generate(dir.path()).unwrap();
    let mut committed: Vec<String> = std::fs::read_dir(synthetic_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    committed.sort();
    let mut produced: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    produced.sort();
    assert_eq!(committed, produced);
    // Keys were reused, not regenerated.
    assert_eq!(written.len(), committed.len() - 6);
    for name in committed {
        assert_eq!(
            std::fs::read(synthetic_dir().join(&name)).unwrap(),
            std::fs::read(dir.path().join(&name)).unwrap(),
            "{name} differs from what the generator produces"
        );
    }
}

#[test]
fn synthetic_reports_pass_every_check_for_each_product_under_non_production_trust() {
    let p = platform();
    for product in testing::PRODUCTS {
        let r = signed(p, product, |_| {});
        let rep = audit_raw(&r, p.vcek(product).der, &[], &snp_only(), mid_2024());
        for id in [
            "amd.chain",
            "amd.product",
            "snp.report-signature",
            "snp.report-format",
            "snp.tcb",
            "snp.policy",
            "snp.provisional-firmware",
        ] {
            assert_passes(&rep, id, None);
        }
        assert_eq!(rep.facts["snp.product"], json!(product.name()));
        assert!(one(&rep, "amd.chain", None)
            .summary
            .contains(&format!("({product})")));
        assert_eq!(status(&rep, "amd.crl"), Status::Warn);
        assert_eq!(status(&rep, "protocol.cmdline"), Status::NotApplicable);
        assert!(rep.verdict.label.contains("NON-PRODUCTION TRUST"));
        assert!(!rep.trust.production);
    }
    // Turin: version 3, product from CPUID, TCB with FMC.
    let r = signed(p, Product::Turin, |_| {});
    let rep = audit_raw(&r, p.vcek(Product::Turin).der, &[], &snp_only(), mid_2024());
    assert!(one(&rep, "amd.product", None)
        .summary
        .contains("CPUID Turin"));
    assert_eq!(
        rep.facts["snp.reported_tcb"],
        json!({"fmc": 1, "bootloader": 7, "tee": 0, "snp": 11, "microcode": 62})
    );
}

#[test]
fn the_committed_sample_reports_verify() {
    for product in testing::PRODUCTS {
        let report =
            std::fs::read(synthetic_dir().join(testing::file(product, "report.bin"))).unwrap();
        let vcek = std::fs::read(synthetic_dir().join(testing::file(product, "vcek.der"))).unwrap();
        let rep = audit_raw(&report, &vcek, &[], &snp_only(), mid_2024());
        assert_passes(&rep, "snp.report-signature", None);
        assert_passes(&rep, "amd.chain", None);
    }
}

#[test]
fn test_roots_are_not_trusted_in_production() {
    let p = platform();
    let r = signed(p, G, |_| {});
    let b = bundle(
        &[
            ("snp/report.bin", r.to_vec()),
            ("snp/vcek.der", p.vcek(G).der.to_vec()),
        ],
        "snp-only",
        mid_2024(),
    );
    let rep = run(
        &b,
        &snp_only(),
        &blyss_evidence::trust::TrustSet::production(),
    );
    assert_fails(
        &rep,
        "amd.chain",
        None,
        "not signed by any trusted ASK (trust set anchors: Genoa, Milan, Turin); by the trusted Genoa ASK: RSASSA-PSS signature does not verify",
    );
    assert_eq!(rep.verdict.status, blyss_evidence::checks::Verdict::Fail);
}

// ---------------------------------------------------------------------------
// amd.chain
// ---------------------------------------------------------------------------

#[test]
fn chain_rejects_a_vcek_whose_issuer_name_is_not_the_ask() {
    let spec = VcekSpec {
        issuer_cn: "SEV-Milan".into(),
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK issuer SEV-Milan is not the ASK subject SEV-Genoa",
    );
    assert_fails(
        &r,
        "amd.product",
        None,
        "VCEK issuer CN SEV-Milan, expected SEV-Genoa",
    );
}

#[test]
fn chain_rejects_an_expired_or_not_yet_valid_vcek() {
    let spec = VcekSpec {
        not_after: 1_710_000_000, // 2024-03-09
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK is not valid at 2024-06-01T00:00:00Z",
    );
    let spec = VcekSpec {
        not_before: 1_720_000_000, // 2024-07-03
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK is not valid at 2024-06-01T00:00:00Z",
    );
}

#[test]
fn chain_rejects_a_vcek_that_is_a_ca_or_not_named_sev_vcek() {
    use der::Encode;
    let bc = x509_cert::ext::pkix::BasicConstraints {
        ca: true,
        path_len_constraint: None,
    };
    let spec = VcekSpec {
        extra: vec![x509_cert::ext::Extension {
            extn_id: oid::BASIC_CONSTRAINTS,
            critical: true,
            extn_value: der::asn1::OctetString::new(bc.to_der().unwrap()).unwrap(),
        }],
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK BasicConstraints says it is a CA",
    );
    let spec = VcekSpec {
        subject_cn: "SEV-VLEK".into(),
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK subject CN SEV-VLEK, expected SEV-VCEK",
    );
}

#[test]
fn chain_reports_wrong_pss_parameters() {
    // Salt length 32 instead of 48 (byte 53 of AMD's encoding).
    let mut params = testing::AMD_PSS_PARAMS.to_vec();
    assert_eq!(params[53], 0x30);
    params[53] = 0x20;
    let spec = VcekSpec {
        pss_params: params,
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.chain",
        None,
        "VCEK signature: salt length 32, expected 48",
    );
    // SHA-256 instead of SHA-384 (the hash OID's last byte).
    let mut params = testing::AMD_PSS_PARAMS.to_vec();
    assert_eq!(params[16], 0x02);
    params[16] = 0x01;
    let spec = VcekSpec {
        pss_params: params,
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(&r, "amd.chain", None, "expected SHA-384");
}

#[test]
fn chain_rejects_a_vcek_signed_by_another_products_ask() {
    // Genoa-named VCEK signed by the Milan ASK: it verifies under Milan only.
    let r = genoa_with_vcek(VcekSpec::standard(G), Product::Milan);
    assert_fails(&r, "amd.chain", None, "Milan chain: ");
    assert_fails(
        &r,
        "amd.product",
        None,
        "VCEK issuer CN SEV-Genoa, expected SEV-Milan",
    );
}

#[test]
fn chain_checks_the_trusted_ark_and_ask_themselves() {
    let p = platform();
    let r = signed(p, G, |_| {});
    let b = bundle(
        &[
            ("snp/report.bin", r.to_vec()),
            ("snp/vcek.der", p.vcek(G).der.to_vec()),
        ],
        "snp-only",
        mid_2024(),
    );
    // A trust set whose Genoa ARK is the Milan ARK: the ASK does not chain.
    let mut t = test_trust();
    let milan_ark = t.amd["Milan"].ark.clone();
    t.amd.get_mut("Genoa").unwrap().ark = milan_ark;
    let rep = run(&b, &snp_only(), &t);
    let c = one(&rep, "amd.chain", None);
    assert_eq!(c.status, Status::Fail);
    let problems = c.details["problems"].to_string();
    assert!(
        problems.contains("ARK CN ARK-Milan, expected ARK-Genoa"),
        "{problems}"
    );
    assert!(
        problems.contains("ASK signature by the ARK: RSASSA-PSS signature does not verify"),
        "{problems}"
    );
    // An ASK standing in for the ARK is not self-signed.
    let mut t = test_trust();
    let ask = t.amd["Genoa"].ask.clone();
    t.amd.get_mut("Genoa").unwrap().ark = ask;
    let rep = run(&b, &snp_only(), &t);
    let problems = one(&rep, "amd.chain", None).details["problems"].to_string();
    assert!(problems.contains("ARK is not self-issued"), "{problems}");
}

// ---------------------------------------------------------------------------
// amd.product
// ---------------------------------------------------------------------------

#[test]
fn product_rejects_a_vcek_of_the_wrong_product_name() {
    let spec = VcekSpec {
        product_name: Some("Milan-B0".into()),
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "amd.product",
        None,
        "VCEK productName \"Milan-B0\" does not name Genoa",
    );
    assert_fails(&r, "snp.tcb", None, "does not name Genoa");
}

#[test]
fn product_rejects_a_line_the_protocol_does_not_accept() {
    let p = platform();
    let r = signed(p, Product::Milan, |_| {});
    let proto = snp_only_with(|s| s["products"] = json!(["Genoa"]));
    let rep = audit_raw(&r, p.vcek(Product::Milan).der, &[], &proto, mid_2024());
    assert_fails(
        &rep,
        "amd.product",
        None,
        "Milan, but protocol snp-only accepts only Genoa",
    );
    assert_eq!(rep.facts["snp.product"], json!("Milan"));
}

#[test]
fn product_rejects_cpuid_that_contradicts_the_chain() {
    let p = platform();
    // A Turin (v3) report claiming Genoa's CPUID.
    let r = signed(p, Product::Turin, |r| {
        r[offsets::CPUID..offsets::CPUID + 2].copy_from_slice(&[0x19, 0x11]);
    });
    let rep = audit_raw(&r, p.vcek(Product::Turin).der, &[], &snp_only(), mid_2024());
    assert_fails(
        &rep,
        "amd.product",
        None,
        "CPUID says Genoa, the VCEK is signed by the Turin ASK",
    );
    // An unknown CPUID.
    let r = signed(p, Product::Turin, |r| r[offsets::CPUID] = 0x17);
    let rep = audit_raw(&r, p.vcek(Product::Turin).der, &[], &snp_only(), mid_2024());
    assert_fails(&rep, "amd.product", None, "is no known SEV-SNP product");
}

// ---------------------------------------------------------------------------
// amd.root-pinned and amd.vcek-kds
// ---------------------------------------------------------------------------

#[test]
fn root_pinned_compares_the_bundle_cert_chain_with_the_trust_set() {
    let p = platform();
    let r = signed(p, G, |_| {});
    let chain = |prod: Product| {
        std::fs::read(synthetic_dir().join(testing::file(prod, "cert_chain.pem"))).unwrap()
    };
    let rep = audit_raw(
        &r,
        p.vcek(G).der,
        &[("amd/cert_chain.pem", chain(G))],
        &snp_only(),
        mid_2024(),
    );
    assert_passes(&rep, "amd.root-pinned", None);
    let rep = audit_raw(
        &r,
        p.vcek(G).der,
        &[("amd/cert_chain.pem", chain(Product::Turin))],
        &snp_only(),
        mid_2024(),
    );
    assert_fails(
        &rep,
        "amd.root-pinned",
        None,
        "is the Turin chain, the VCEK is Genoa's",
    );
    let rep = audit_raw(
        &r,
        p.vcek(G).der,
        &[("amd/cert_chain.pem", b"junk".to_vec())],
        &snp_only(),
        mid_2024(),
    );
    assert_fails(&rep, "amd.root-pinned", None, "");
}

#[test]
fn vcek_kds_must_be_byte_identical_and_fetched_for_this_chip_and_tcb() {
    let p = platform();
    let r = signed(p, G, |_| {});
    let vcek = p.vcek(G).der.to_vec();
    let rep = audit_raw(
        &r,
        &vcek,
        &[("amd/vcek.der", vcek.clone())],
        &snp_only(),
        mid_2024(),
    );
    assert_passes(&rep, "amd.vcek-kds", None);
    let other = p.vcek(Product::Milan).der.to_vec();
    let rep = audit_raw(
        &r,
        &vcek,
        &[("amd/vcek.der", other)],
        &snp_only(),
        mid_2024(),
    );
    assert_fails(
        &rep,
        "amd.vcek-kds",
        None,
        "differs from the one served with the report",
    );
    // Recorded KDS URL: right chip and TCB passes, another TCB fails.
    let hwid = hex::encode(testing::chip_id(G));
    let good = format!(
        "https://kdsintf.amd.com/vcek/v1/Genoa/{hwid}?blSPL=07&teeSPL=00&snpSPL=11&ucodeSPL=62"
    );
    // Any KDS base, any parameter order, with or without zero padding.
    let reordered = format!(
        "http://127.0.0.1:9/kds/vcek/v1/Genoa/{hwid}?ucodeSPL=62&snpSPL=11&teeSPL=0&blSPL=7"
    );
    let bad = good.replace("snpSPL=11", "snpSPL=10");
    let other_chip = good.replace(&hwid[..4], "0000");
    let milan = good.replace("/Genoa/", "/Milan/");
    let extra = format!("{good}&fmcSPL=01");
    for (url, ok) in [
        (good, true),
        (reordered, true),
        (bad, false),
        (other_chip, false),
        (milan, false),
        (extra, false),
    ] {
        let b = bundle_with_sources(
            &[
                ("snp/report.bin", r.to_vec(), "file"),
                ("snp/vcek.der", vcek.clone(), "file"),
                ("amd/vcek.der", vcek.clone(), &url),
            ],
            "snp-only",
            mid_2024(),
        );
        let rep = run(&b, &snp_only(), &test_trust());
        if ok {
            assert_passes(&rep, "amd.vcek-kds", None);
        } else {
            assert_fails(
                &rep,
                "amd.vcek-kds",
                None,
                "fetched for another chip or TCB",
            );
        }
    }
}

// ---------------------------------------------------------------------------
// amd.crl
// ---------------------------------------------------------------------------

fn crl_audit(crl: Vec<u8>, proto: &Protocol) -> Report {
    let p = platform();
    let r = signed(p, G, |_| {});
    audit_raw(
        &r,
        p.vcek(G).der,
        &[("amd/crl.der", crl)],
        proto,
        mid_2024(),
    )
}

#[test]
fn crl_committed_and_current_passes() {
    let crl = std::fs::read(synthetic_dir().join("test-genoa-crl.der")).unwrap();
    let r = crl_audit(crl, &snp_only());
    assert_passes(&r, "amd.crl", None);
    assert!(one(&r, "amd.crl", None)
        .summary
        .contains("CRL signed by the Genoa ARK"));
}

#[test]
fn crl_revoking_the_ask_or_the_vcek_fails() {
    let p = platform();
    // The test Genoa ASK serial is 7E 01 01.
    let crl = p
        .issue_crl(
            G,
            &[&[0x7E, 0x01, 0x01]],
            testing::NOT_BEFORE,
            testing::ROOT_NOT_AFTER,
        )
        .unwrap();
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "the Genoa ASK (serial 7e0101) is revoked",
    );
    let crl = p
        .issue_crl(
            G,
            &[&[0x55], &[0x00]],
            testing::NOT_BEFORE,
            testing::ROOT_NOT_AFTER,
        )
        .unwrap();
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "the VCEK serial 00 is listed as revoked",
    );
    // Other serials only: passes and counts them.
    let crl = p
        .issue_crl(
            G,
            &[&[0x55], &[0x7E, 0x01, 0x02]],
            testing::NOT_BEFORE,
            testing::ROOT_NOT_AFTER,
        )
        .unwrap();
    let r = crl_audit(crl, &snp_only());
    assert_passes(&r, "amd.crl", None);
    assert_eq!(one(&r, "amd.crl", None).details["revoked_count"], json!(2));
}

#[test]
fn crl_from_another_ark_or_out_of_date_fails() {
    let p = platform();
    let crl = p
        .issue_crl(
            Product::Milan,
            &[],
            testing::NOT_BEFORE,
            testing::ROOT_NOT_AFTER,
        )
        .unwrap();
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "is not the ARK",
    );
    let crl = p
        .issue_crl(G, &[], testing::NOT_BEFORE, 1_710_000_000)
        .unwrap();
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "CRL expired: nextUpdate 2024-03-09",
    );
    let crl = p
        .issue_crl(G, &[], 1_720_000_000, testing::ROOT_NOT_AFTER)
        .unwrap();
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "is after the evaluation time",
    );
    assert_fails(
        &crl_audit(b"not a crl".to_vec(), &snp_only()),
        "amd.crl",
        None,
        "not a DER X.509 CRL",
    );
    // A CRL whose signature was altered.
    let mut crl = std::fs::read(synthetic_dir().join("test-genoa-crl.der")).unwrap();
    let n = crl.len();
    crl[n - 5] ^= 1;
    assert_fails(
        &crl_audit(crl, &snp_only()),
        "amd.crl",
        None,
        "CRL: RSASSA-PSS signature does not verify",
    );
}

#[test]
fn missing_crl_warns_or_fails_when_the_protocol_requires_it() {
    let p = platform();
    let r = signed(p, G, |_| {});
    let rep = audit_raw(&r, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_eq!(status(&rep, "amd.crl"), Status::Warn);
    let proto = snp_only_with(|s| s["require_crl"] = json!(true));
    let rep = audit_raw(&r, p.vcek(G).der, &[], &proto, mid_2024());
    assert_fails(&rep, "amd.crl", None, "protocol snp-only requires it");
}

// ---------------------------------------------------------------------------
// snp.report-signature
// ---------------------------------------------------------------------------

#[test]
fn signature_requires_algo_1_and_zero_r_s_tails() {
    let r = genoa(|r| put_u32(r, offsets::SIG_ALGO, 2));
    assert_fails(&r, "snp.report-signature", None, "SIGNATURE_ALGO is 2");
    // A valid signature with a non-zero byte above the 48 significant ones.
    let p = platform();
    let mut rep = signed(p, G, |_| {});
    rep[offsets::SIGNATURE_R + 50] = 1;
    let a = audit_raw(&rep, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_fails(
        &a,
        "snp.report-signature",
        None,
        "R bytes 48..72 are not zero",
    );
    let mut rep = signed(p, G, |_| {});
    rep[offsets::SIGNATURE_S + 71] = 1;
    let a = audit_raw(&rep, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_fails(
        &a,
        "snp.report-signature",
        None,
        "S bytes 48..72 are not zero",
    );
    // Zero r.
    let mut rep = signed(p, G, |_| {});
    rep[offsets::SIGNATURE_R..offsets::SIGNATURE_R + 48].fill(0);
    let a = audit_raw(&rep, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_fails(&a, "snp.report-signature", None, "R or S is zero");
}

#[test]
fn signature_by_another_key_fails() {
    let p = platform();
    let mut r = p.report_template(G);
    testing::sign_report(&mut r, &testing::vcek_key(Product::Milan));
    let a = audit_raw(&r, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_fails(
        &a,
        "snp.report-signature",
        None,
        "does not verify with the VCEK key",
    );
    assert!(!a.facts.contains_key("snp.measurement"));
}

// ---------------------------------------------------------------------------
// snp.report-format
// ---------------------------------------------------------------------------

#[test]
fn format_rejects_unknown_versions() {
    for v in [1u32, 6] {
        let r = genoa(|r| put_u32(r, offsets::VERSION, v));
        assert_fails(
            &r,
            "snp.report-format",
            None,
            &format!("report version {v} is not one this tool knows"),
        );
    }
}

#[test]
fn format_rejects_non_zero_reserved_ranges() {
    for (off, name) in [
        (0x4C, "reserved at 0x4C"),
        (0x190, "reserved at 0x188"),
        (0x1EB, "reserved at 0x1EB"),
        (0x1EF, "reserved at 0x1EF"),
        (0x250, "reserved at 0x1F8"),
    ] {
        let r = genoa(|r| r[off] = 1);
        assert_fails(&r, "snp.report-format", None, name);
        assert_passes(&r, "snp.report-signature", None);
    }
    // The signature's reserved tail (not signed, still must be zero).
    let p = platform();
    let mut rep = signed(p, G, |_| {});
    rep[0x400] = 1;
    let a = audit_raw(&rep, p.vcek(G).der, &[], &snp_only(), mid_2024());
    assert_fails(&a, "snp.report-format", None, "signature reserved at 0x330");
    // A reserved TCB byte (Genoa layout: bytes 2..6).
    let r = genoa(|r| r[offsets::LAUNCH_TCB + 3] = 1);
    assert_fails(&r, "snp.report-format", None, "LAUNCH_TCB");
    // KEY_INFO reserved bits.
    let r = genoa(|r| put_u32(r, offsets::KEY_INFO, 1 << 5));
    assert_fails(&r, "snp.report-format", None, "KEY_INFO reserved bits 31:5");
}

#[test]
fn vlek_claim_with_a_vcek_fails_chain_and_signature_and_unsigned_reports_fail_format() {
    // SIGNING_KEY 1 (VLEK) is a valid format; a VCEK shipped with it is not.
    let r = genoa(|r| put_u32(r, offsets::KEY_INFO, 1 << 2));
    assert_passes(&r, "snp.report-format", None);
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
        "the report's SIGNING_KEY says VLEK",
    );
    let r = genoa(|r| put_u32(r, offsets::KEY_INFO, 7 << 2));
    assert_fails(&r, "snp.report-format", None, "SIGNING_KEY 7");
}

#[test]
fn format_checks_policy_reserved_bits_and_vmpl_range() {
    let r = genoa(|r| put_u64(r, offsets::POLICY, 0x10000));
    assert_fails(
        &r,
        "snp.report-format",
        None,
        "bit 17 (reserved, must be one) is zero",
    );
    let r = genoa(|r| put_u64(r, offsets::POLICY, 0x30000 | 1 << 26));
    assert_fails(
        &r,
        "snp.report-format",
        None,
        "reserved bits 63:26 are not zero",
    );
    let r = genoa(|r| put_u32(r, offsets::VMPL, 4));
    assert_fails(&r, "snp.report-format", None, "VMPL 4 is not 0 to 3");
}

// ---------------------------------------------------------------------------
// snp.tcb
// ---------------------------------------------------------------------------

#[test]
fn tcb_fails_on_each_missing_vcek_extension() {
    for (o, name) in [
        (oid::BL_SPL, "blSPL"),
        (oid::TEE_SPL, "teeSPL"),
        (oid::SNP_SPL, "snpSPL"),
        (oid::UCODE_SPL, "ucodeSPL"),
        (oid::HWID, "hwID"),
        (oid::PRODUCT_NAME, "productName"),
    ] {
        let spec = VcekSpec {
            omit: vec![o],
            ..VcekSpec::standard(G)
        };
        let r = genoa_with_vcek(spec, G);
        let c = one(&r, "snp.tcb", None);
        assert_eq!(c.status, Status::Fail, "{name}");
        assert!(
            c.details["problems"]
                .to_string()
                .contains(&format!("{name} ({o})"))
                || c.details["problems"]
                    .to_string()
                    .contains(&format!("extension {name} ({o})")),
            "{name}: {:?}",
            c.details
        );
    }
    // Turin needs fmcSPL.
    let p = platform();
    let spec = VcekSpec {
        omit: vec![oid::FMC_SPL],
        ..VcekSpec::standard(Product::Turin)
    };
    let vcek = p.issue_vcek(&spec, Product::Turin).unwrap();
    let r = signed(p, Product::Turin, |_| {});
    let a = audit_raw(&r, &vcek, &[], &snp_only(), mid_2024());
    assert_fails(&a, "snp.tcb", None, "fmcSPL");
}

#[test]
fn tcb_fails_when_reported_tcb_differs_from_the_vcek() {
    let spec = VcekSpec {
        tcb: blyss_evidence::evidence::amd::Tcb {
            snp: 10,
            ..testing::TEST_TCB
        },
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "snp.tcb",
        None,
        "REPORTED_TCB bl 7 / tee 0 / snp 11 / ucode 62 differs from the VCEK's TCB bl 7 / tee 0 / snp 10 / ucode 62",
    );
}

#[test]
fn tcb_fails_when_the_vcek_tcb_exceeds_current_tcb() {
    let r = genoa(|r| r[offsets::CURRENT_TCB + 7] = 60);
    assert_fails(&r, "snp.tcb", None, "exceeds CURRENT_TCB");
}

#[test]
fn tcb_fails_when_chip_id_differs_from_hwid_or_is_masked() {
    let r = genoa(|r| r[offsets::CHIP_ID + 10] ^= 1);
    assert_fails(&r, "snp.tcb", None, "differs from the VCEK hwID");
    let r = genoa(|r| {
        put_u32(r, offsets::KEY_INFO, 2);
        r[offsets::CHIP_ID..offsets::CHIP_ID + 64].fill(0);
    });
    assert_fails(&r, "snp.tcb", None, "MASK_CHIP_KEY is set");
    let spec = VcekSpec {
        hwid: Some(vec![1; 8]),
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "snp.tcb",
        None,
        "VCEK hwID is 8 bytes, expected 64 for Genoa",
    );
    // Turin: only 8 bytes are meaningful, the rest must be zero.
    let p = platform();
    let r = signed(p, Product::Turin, |r| r[offsets::CHIP_ID + 20] = 1);
    let a = audit_raw(&r, p.vcek(Product::Turin).der, &[], &snp_only(), mid_2024());
    assert_fails(&a, "snp.tcb", None, "CHIP_ID bytes 8..64 are not zero");
}

#[test]
fn malformed_vcek_extension_is_reported() {
    use der::Encode;
    let spec = VcekSpec {
        omit: vec![oid::SNP_SPL],
        extra: vec![x509_cert::ext::Extension {
            extn_id: oid::SNP_SPL,
            critical: false,
            extn_value: der::asn1::OctetString::new(300u16.to_der().unwrap()).unwrap(),
        }],
        ..VcekSpec::standard(G)
    };
    let r = genoa_with_vcek(spec, G);
    assert_fails(
        &r,
        "snp.tcb",
        None,
        "snpSPL (1.3.6.1.4.1.3704.1.3.3) is not an INTEGER 0..=255",
    );
}

// ---------------------------------------------------------------------------
// snp.policy
// ---------------------------------------------------------------------------

#[test]
fn policy_rejects_debug_migration_agent_and_forbidden_smt() {
    let r = genoa(|r| put_u64(r, offsets::POLICY, 0x30000 | 1 << 19));
    assert_fails(
        &r,
        "snp.policy",
        None,
        "DEBUG is allowed by the guest policy",
    );
    let r = genoa(|r| put_u64(r, offsets::POLICY, 0x30000 | 1 << 18));
    assert_fails(&r, "snp.policy", None, "a migration agent is allowed");
    let no_smt = snp_only_with(|s| s["allow_smt"] = json!(false));
    let r = genoa_under(&no_smt, |_| {});
    assert_fails(&r, "snp.policy", None, "SMT is allowed by the guest policy");
    let single = snp_only_with(|s| s["require_single_socket"] = json!(true));
    let r = genoa_under(&single, |_| {});
    assert_fails(&r, "snp.policy", None, "single socket");
    // Debug allowed by the protocol: passes.
    let dbg = snp_only_with(|s| s["allow_debug"] = json!(true));
    let r = genoa_under(&dbg, |r| put_u64(r, offsets::POLICY, 0x30000 | 1 << 19));
    assert_passes(&r, "snp.policy", None);
}

#[test]
fn policy_enforces_vmpl_abi_and_guest_svn() {
    let vmpl0 = snp_only_with(|s| s["vmpl"] = json!(0));
    let r = genoa_under(&vmpl0, |_| {});
    assert_fails(&r, "snp.policy", None, "VMPL 1, the protocol requires 0");
    let abi = snp_only_with(|s| s["min_policy_abi"] = json!({"major": 1, "minor": 51}));
    let r = genoa_under(&abi, |_| {});
    assert_fails(
        &r,
        "snp.policy",
        None,
        "guest policy ABI 0.0 is below the required 1.51",
    );
    let r = genoa_under(&abi, |r| put_u64(r, offsets::POLICY, 0x30000 | 0x0133));
    assert_passes(&r, "snp.policy", None);
    let svn = snp_only_with(|s| s["min_guest_svn"] = json!(2));
    let r = genoa_under(&svn, |_| {});
    assert_fails(
        &r,
        "snp.policy",
        None,
        "GUEST_SVN 0 is below the required 2",
    );
}

#[test]
fn policy_enforces_minimum_tcb_launch_tcb_and_firmware() {
    let tcb = |snp: u8| json!({"Genoa": {"bootloader": 7, "tee": 0, "snp": snp, "microcode": 62}});
    let p = snp_only_with(|s| s["min_tcb"] = tcb(12));
    let r = genoa_under(&p, |_| {});
    assert_fails(
        &r,
        "snp.policy",
        None,
        "REPORTED_TCB bl 7 / tee 0 / snp 11 / ucode 62 is below the minimum TCB bl 7 / tee 0 / snp 12 / ucode 62 (snp 11 < 12)",
    );
    let p = snp_only_with(|s| s["min_tcb"] = tcb(11));
    assert_passes(&genoa_under(&p, |_| {}), "snp.policy", None);
    let p = snp_only_with(|s| s["min_launch_tcb"] = tcb(11));
    let r = genoa_under(&p, |r| r[offsets::LAUNCH_TCB + 6] = 9);
    assert_fails(
        &r,
        "snp.policy",
        None,
        "LAUNCH_TCB bl 7 / tee 0 / snp 9 / ucode 62 is below",
    );
    // A minimum for another product only: fail closed.
    let p = snp_only_with(|s| {
        s["min_tcb"] = json!({"Milan": {"bootloader": 0, "tee": 0, "snp": 0, "microcode": 0}})
    });
    assert_fails(
        &genoa_under(&p, |_| {}),
        "snp.policy",
        None,
        "the protocol sets none for Genoa",
    );
    let p = snp_only_with(|s| s["min_firmware"] = json!({"major": 1, "minor": 55, "build": 0}));
    let r = genoa_under(&p, |_| {});
    assert_fails(
        &r,
        "snp.policy",
        None,
        "firmware 1.54 build 6 is below the required 1.55 build 0",
    );
    let p = snp_only_with(|s| s["min_firmware"] = json!({"major": 1, "minor": 54, "build": 6}));
    assert_passes(&genoa_under(&p, |_| {}), "snp.policy", None);
}

// ---------------------------------------------------------------------------
// snp.provisional-firmware
// ---------------------------------------------------------------------------

#[test]
fn provisional_firmware_fails_unless_permitted() {
    let lagging = |r: &mut Rep| {
        r[offsets::COMMITTED_VERSION] = 5; // committed build 5 < current 6
    };
    let r = genoa(lagging);
    assert_fails(
        &r,
        "snp.provisional-firmware",
        None,
        "provisional firmware: current 1.54 build 6 / TCB bl 7 / tee 0 / snp 11 / ucode 62, committed 1.54 build 5",
    );
    let permit = snp_only_with(|s| s["permit_provisional_firmware"] = json!(true));
    let r = genoa_under(&permit, lagging);
    assert_eq!(status(&r, "snp.provisional-firmware"), Status::Warn);
    // Committed above current is never acceptable.
    let r = genoa_under(&permit, |r| r[offsets::COMMITTED_VERSION] = 7);
    assert_fails(
        &r,
        "snp.provisional-firmware",
        None,
        "committed is above current",
    );
    let r = genoa_under(&permit, |r| r[offsets::COMMITTED_TCB + 6] = 12);
    assert_fails(
        &r,
        "snp.provisional-firmware",
        None,
        "committed is above current",
    );
}

// ---------------------------------------------------------------------------
// Protocol sections are validated at load time
// ---------------------------------------------------------------------------

#[test]
fn snp_sections_with_mistakes_are_rejected_at_load() {
    let bad = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../protocol/snp-only.json")).unwrap();
        f(&mut v["sections"]["snp"]);
        Protocol::parse(&serde_json::to_vec(&v).unwrap(), "t")
            .unwrap_err()
            .to_string()
    };
    assert!(bad(&|s| s["allow_debugg"] = json!(true)).contains("unknown field"));
    assert!(bad(&|s| {
        s.as_object_mut().unwrap().remove("allow_debug");
    })
    .contains("missing field `allow_debug`"));
    assert!(bad(&|s| s["vmpl"] = json!(4)).contains("sections.snp.vmpl: 4 is not 0..=3"));
    assert!(bad(&|s| s["products"] = json!(["Naples"])).contains("unknown product line"));
    assert!(bad(&|s| {
        s["min_tcb"] = json!({"Turin": {"bootloader": 1, "tee": 0, "snp": 1, "microcode": 1}})
    })
    .contains("fmc is required for Turin"));
}
