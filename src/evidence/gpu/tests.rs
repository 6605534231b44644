//! Unit tests on the real Blyss documents (both carry H100 evidence).

use super::rim::{Rim, RimKind};
use super::*;
use crate::trust::TrustSet;

const DOC_2024: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2024-01.json");
const DOC_2023: &[u8] = include_bytes!("../../../fixtures/blyss/attestation-2023-12.json");

fn gpu_value(doc: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(doc).unwrap();
    v["gpu_attestation"].clone()
}

fn first(doc: &[u8]) -> GpuEvidence {
    parse(&gpu_value(doc)).unwrap().remove(0)
}

#[test]
fn real_spdm_reports_rebuild_to_3956_bytes_and_verify_with_the_leaf_key() {
    for doc in [DOC_2023, DOC_2024] {
        let g = first(doc);
        let m = g.measurements.as_ref().unwrap();
        assert_eq!(m.signed_message().len(), 3956);
        assert_eq!(m.response.blocks.len(), 64);
        let chain = g.cert_chain.as_ref().unwrap();
        let leaf = certs::CertInfo::parse(&chain[0]).unwrap();
        m.verify(&leaf.spki_der().unwrap()).unwrap();
        assert_eq!(m.driver_version().unwrap(), "535.86.10");
        assert_eq!(m.vbios_version().unwrap(), "96.00.74.00.1A");
        assert_eq!(&m.request.nonce, g.nonce.as_ref().unwrap());
    }
}

#[test]
fn any_change_to_a_signed_field_breaks_the_spdm_signature() {
    let g = first(DOC_2024);
    let chain = g.cert_chain.unwrap();
    let spki = certs::CertInfo::parse(&chain[0])
        .unwrap()
        .spki_der()
        .unwrap();
    let m = g.measurements.unwrap();
    let mut a = m.clone();
    a.response.blocks[7][0] ^= 1;
    assert!(a.verify(&spki).is_err());
    let mut b = m.clone();
    b.request.nonce[31] ^= 1;
    assert!(b.verify(&spki).is_err());
    let mut c = m.clone();
    c.response.nonce[0] ^= 1;
    assert!(c.verify(&spki).is_err());
    let mut d = m.clone();
    d.response.opaque.swap(0, 1);
    assert!(d.verify(&spki).is_err(), "opaque field order is signed");
    let mut e = m.clone();
    e.response.signature[95] ^= 1;
    assert!(e.verify(&spki).is_err());
    m.verify(&spki).unwrap();
}

#[test]
fn real_device_chains_verify_to_the_pinned_nvidia_root_with_the_san_device_id() {
    let t = TrustSet::production();
    for doc in [DOC_2023, DOC_2024] {
        let g = first(doc);
        let chain = certs::verify_chain(
            g.cert_chain.as_ref().unwrap(),
            &t.nvidia_device_roots,
            certs::LeafUse::DigitalSignature,
        )
        .unwrap();
        assert_eq!(chain.certs.len(), 5);
        assert_eq!(
            chain.anchor_sha256,
            "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
        );
        assert_eq!(
            chain.leaf().nvidia_san().as_deref(),
            Some("NVIDIA:GH100:48B02D0D1EF5B3C7")
        );
        let at = crate::util::parse_time("2024-01-15T00:00:00Z").unwrap();
        assert!(chain.time_issues(at, false).is_empty());
    }
}

#[test]
fn device_chain_with_the_rim_root_in_the_trust_set_is_foreign() {
    let t = TrustSet::production();
    let g = first(DOC_2024);
    let e = certs::verify_chain(
        g.cert_chain.as_ref().unwrap(),
        &t.nvidia_rim_roots,
        certs::LeafUse::DigitalSignature,
    )
    .unwrap_err();
    assert!(e.contains("not a pinned root"), "{e}");
}

#[test]
fn device_chain_with_a_link_removed_fails_the_issuer_check() {
    let t = TrustSet::production();
    let mut chain = first(DOC_2024).cert_chain.unwrap();
    chain.remove(2);
    let e = certs::verify_chain(
        &chain,
        &t.nvidia_device_roots,
        certs::LeafUse::DigitalSignature,
    )
    .unwrap_err();
    assert!(e.contains("names issuer"), "{e}");
}

#[test]
fn real_rims_verify_their_xmldsig_and_chain_to_the_pinned_rim_root() {
    let t = TrustSet::production();
    let g = first(DOC_2024);
    for (kind, text, version) in [
        (RimKind::Driver, g.driver_rim.as_ref().unwrap(), "535.86.10"),
        (
            RimKind::Vbios,
            g.vbios_rim.as_ref().unwrap(),
            "96.00.74.00.1A",
        ),
    ] {
        let rim = Rim::parse(kind, text).unwrap();
        rim.verify_signature().unwrap();
        assert_eq!(rim.version, version);
        assert_eq!(rim.product, "GH100");
        assert_eq!(rim.entries.len(), 64);
        let chain = certs::verify_chain(
            &rim.signature.certs,
            &t.nvidia_rim_roots,
            certs::LeafUse::DigitalSignature,
        )
        .unwrap();
        // The RIM signing leaf certificates expired in 2025.
        let late = crate::util::parse_time("2026-01-01T00:00:00Z").unwrap();
        assert!(!chain.time_issues(late, false).is_empty());
        assert!(chain
            .time_issues(
                crate::util::parse_time("2024-01-15T00:00:00Z").unwrap(),
                false
            )
            .is_empty());
    }
}

#[test]
fn one_changed_golden_hash_breaks_the_rim_digest() {
    let g = first(DOC_2024);
    let text = g.driver_rim.unwrap();
    let good = "4e55d13fcefc7de8111f2196f55c492c3eaecd5e6578cd0244e4b528d04821938237fbb5569ffb8378a30fb445c22ff5";
    assert!(text.contains(good));
    let bad = text.replace(good, &good.replace("4e55", "4e56"));
    let rim = Rim::parse(RimKind::Driver, &bad).unwrap();
    let e = rim.verify_signature().unwrap_err();
    assert!(e.contains("digest does not match"), "{e}");
}

#[test]
fn whitespace_and_attribute_order_changes_keep_the_rim_signature_valid_only_where_c14n_says_so() {
    let g = first(DOC_2024);
    let text = g.driver_rim.unwrap();
    // Attribute order is not significant in C14N: swapping two attributes
    // keeps the signature valid.
    let swapped = text.replacen(
        "corpus=\"false\" name=\"GH100\"",
        "name=\"GH100\" corpus=\"false\"",
        1,
    );
    assert_ne!(swapped, text);
    Rim::parse(RimKind::Driver, &swapped)
        .unwrap()
        .verify_signature()
        .unwrap();
    // Whitespace inside an element's content is significant.
    let spaced = text.replacen("<ns0:Entity", " <ns0:Entity", 1);
    assert!(Rim::parse(RimKind::Driver, &spaced)
        .unwrap()
        .verify_signature()
        .is_err());
}

#[test]
fn rims_outside_the_profile_are_rejected() {
    let g = first(DOC_2024);
    let text = g.driver_rim.unwrap();
    let two_sigs = {
        let start = text.find("<ds:Signature").unwrap();
        let end = text.rfind("</SoftwareIdentity>").unwrap();
        let sig = &text[start..end];
        format!("{}{}{}", &text[..end], sig, &text[end..])
    };
    assert!(Rim::parse(RimKind::Driver, &two_sigs)
        .unwrap_err()
        .contains("Signature"));
    let other_alg = text.replace("xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256");
    assert!(Rim::parse(RimKind::Driver, &other_alg)
        .unwrap_err()
        .contains("outside the accepted profile"));
    let comment = text.replacen("<ns0:Payload", "<!-- x --><ns0:Payload", 1);
    assert!(Rim::parse(RimKind::Driver, &comment).is_err());
    let doctype = format!("<!DOCTYPE x>{text}");
    assert!(Rim::parse(RimKind::Driver, &doctype).is_err());
}

#[test]
fn golden_values_of_both_real_documents_match_33_of_33() {
    for doc in [DOC_2023, DOC_2024] {
        let g = first(doc);
        let d = Rim::parse(RimKind::Driver, g.driver_rim.as_ref().unwrap()).unwrap();
        let v = Rim::parse(RimKind::Vbios, g.vbios_rim.as_ref().unwrap()).unwrap();
        let m = g.measurements.unwrap();
        let c = golden::compare(&m.response.blocks, &d, &v).unwrap();
        assert_eq!(c.compared.len(), 33);
        assert_eq!(c.matched(), 33);
        assert_eq!(c.uncompared_blocks, 31);
    }
}

#[test]
fn golden_comparison_reports_mismatch_and_double_activation() {
    let g = first(DOC_2024);
    let d = Rim::parse(RimKind::Driver, g.driver_rim.as_ref().unwrap()).unwrap();
    let v = Rim::parse(RimKind::Vbios, g.vbios_rim.as_ref().unwrap()).unwrap();
    let mut blocks = g.measurements.unwrap().response.blocks;
    blocks[21][5] ^= 0xff;
    let c = golden::compare(&blocks, &d, &v).unwrap();
    assert_eq!(c.matched(), 32);
    let bad: Vec<_> = c.mismatches().collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].index, 21);
    let mut v2 = v.clone();
    let idx = d.active().next().unwrap().index;
    v2.entries
        .iter_mut()
        .find(|e| e.index == idx)
        .unwrap()
        .active = true;
    let e = golden::compare(&blocks, &d, &v2).unwrap_err();
    assert!(e.contains("active in both"), "{e}");
    blocks.truncate(20);
    let c = golden::compare(&blocks, &d, &v).unwrap();
    assert!(c
        .mismatches()
        .any(|m| m.reason.as_deref().unwrap().contains("no block")));
}

#[test]
fn malformed_components_are_reported_per_field() {
    let mut v = gpu_value(DOC_2024);
    v["gpus"][0]["attestation_report_obj"]["response"]["measurement_record"]["measurements"][3] =
        "zz".into();
    v["gpus"][0]["nonce"] = "00".into();
    let g = parse(&v).unwrap().remove(0);
    let e = g.measurements.unwrap_err();
    assert!(
        e.contains("measurements[3]") && e.contains("not hex"),
        "{e}"
    );
    assert!(g.nonce.unwrap_err().contains("expected 32"));
    assert!(g.cert_chain.is_ok() && g.driver_rim.is_ok());

    let mut v = gpu_value(DOC_2024);
    v["gpus"][0]["attestation_report_obj"]["response"]["measurement_record"]["measurements"]
        .as_array_mut()
        .unwrap()
        .pop();
    let e = parse(&v).unwrap().remove(0).measurements.unwrap_err();
    assert!(e.contains("63 blocks") && e.contains("says 64"), "{e}");

    let mut v = gpu_value(DOC_2024);
    v["gpus"][0]["attestation_report_obj"]["response"]["opaque_data"]["opaque_data"]
        ["OPAQUE_FIELD_ID_NEW"] = "00".into();
    let e = parse(&v).unwrap().remove(0).measurements.unwrap_err();
    assert!(e.contains("no known type id"), "{e}");

    let mut v = gpu_value(DOC_2024);
    v["gpus"][0]["extra"] = 1.into();
    assert!(parse(&v).unwrap()[0]
        .entry_error
        .as_ref()
        .unwrap()
        .contains("extra"));
    assert!(parse(&serde_json::json!({"gpus": 1})).is_err());
    assert!(parse(&serde_json::json!({"gpus": [], "x": 1})).is_err());
}

#[test]
fn overlong_and_empty_chains_are_rejected_before_any_crypto() {
    let t = TrustSet::production();
    let leaf = first(DOC_2024).cert_chain.unwrap().remove(0);
    let long = vec![leaf; certs::MAX_CHAIN + 1];
    let e = certs::verify_chain(
        &long,
        &t.nvidia_device_roots,
        certs::LeafUse::DigitalSignature,
    )
    .unwrap_err();
    assert!(e.contains("more than 16"), "{e}");
    let e = certs::verify_chain(
        &[],
        &t.nvidia_device_roots,
        certs::LeafUse::DigitalSignature,
    )
    .unwrap_err();
    assert!(e.contains("empty"), "{e}");
}
