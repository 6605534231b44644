//! A real Blackwell B200 (`fixtures/field/nv-b200-blackwell-drv575.32`) in
//! NVIDIA's interchange format: its report is SPDM 1.1 (as the bytes say),
//! with Blackwell's opaque fields 33/34 and an FWID that the GB100 leaf
//! carries under 2.23.133.5.4.1.1. Signature, GB100 chain, nonce and FWID
//! verify; no public RIM exists for driver 575.32 / VBIOS 97.00.88.00.0F,
//! so `gpu.measurements` fails saying so (never passes, never n/a).
//! Negatives are made by code from the real file.

use blyss_evidence::checks::Status;
use blyss_evidence::report::Report;

use crate::common::nvfield::*;

const CASE: &str = "fixtures/field/nv-b200-blackwell-drv575.32";
const H100: &str = "fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp";
const FILE: &str = "nvidia-evidence.json";
/// Inside the GB100 chain's validity (2023-06-20 → 9999).
const AT: &str = "2025-10-01T00:00:00Z";

fn audit_b200(file: &[u8]) -> Report {
    audit_members(&[(GPU_MEMBER, file.to_vec())], &[], AT)
}

fn st(r: &Report, id: &str) -> Status {
    status(r, id, "gpu0")
}

fn sum(r: &Report, id: &str) -> String {
    summary(r, id, "gpu0")
}

#[test]
fn converter_script_regenerates_the_committed_b200_interchange_json_byte_for_byte() {
    assert_eq!(
        run_converter(CASE, &["--arch", "BLACKWELL"]),
        read(CASE, FILE)
    );
}

#[test]
fn b200_signature_gb100_chain_nonce_and_fwid_verify_but_measurements_fail_for_want_of_rims() {
    let r = audit_b200(&read(CASE, FILE));
    for id in [
        "gpu.spdm-signature",
        "gpu.nonce",
        "gpu.device-chain",
        "gpu.fwid",
    ] {
        assert_eq!(st(&r, id), Status::Pass, "{id}: {}", sum(&r, id));
    }
    assert!(sum(&r, "gpu.device-chain").contains("5 certificates"));
    assert!(sum(&r, "gpu.spdm-signature").contains("SPDM 1.1"));
    let m = sum(&r, "gpu.measurements");
    assert_eq!(st(&r, "gpu.measurements"), Status::Fail, "{m}");
    assert!(
        m.contains("no driver RIM for version 575.32 was supplied"),
        "{m}"
    );
    assert!(
        m.contains("no vbios RIM for version 97.00.88.00.0F was supplied"),
        "{m}"
    );
    let spdm = r
        .checks
        .iter()
        .find(|c| c.id == "gpu.spdm-signature")
        .unwrap();
    let fields = spdm.details["opaque_fields"].to_string();
    assert!(
        fields.contains("OPAQUE_FIELD_ID_SYS_ENABLE_STATUS"),
        "{fields}"
    );
    assert!(
        fields.contains("OPAQUE_FIELD_ID_OPAQUE_DATA_VERSION"),
        "{fields}"
    );
}

#[test]
fn flipped_signature_byte_fails_b200_spdm_signature() {
    let mut v = json(CASE, FILE);
    let mut b = spdm_bytes(&v);
    let last = b.len() - 1;
    b[last] ^= 0x01;
    set_spdm_bytes(&mut v, &b);
    let r = audit_b200(&to_vec(&v));
    assert_eq!(st(&r, "gpu.spdm-signature"), Status::Fail);
    assert_eq!(st(&r, "gpu.nonce"), Status::Fail);
    assert_eq!(st(&r, "gpu.device-chain"), Status::Pass);
}

#[test]
fn h100_chain_under_the_b200_report_fails_spdm_signature_and_fwid() {
    let mut v = json(CASE, FILE);
    v["evidence_list"][0]["certificate"] =
        json(H100, FILE)["evidence_list"][0]["certificate"].clone();
    let r = audit_b200(&to_vec(&v));
    assert_eq!(
        st(&r, "gpu.spdm-signature"),
        Status::Fail,
        "{}",
        sum(&r, "gpu.spdm-signature")
    );
    assert_eq!(st(&r, "gpu.fwid"), Status::Fail, "{}", sum(&r, "gpu.fwid"));
}

#[test]
fn nonce_in_the_file_that_was_not_asked_fails_b200_gpu_nonce() {
    let mut v = json(CASE, FILE);
    v["nonce"] = "22".repeat(32).into();
    let r = audit_b200(&to_vec(&v));
    assert_eq!(st(&r, "gpu.nonce"), Status::Fail);
    assert!(
        sum(&r, "gpu.nonce").contains("931d8dd0"),
        "{}",
        sum(&r, "gpu.nonce")
    );
}

#[test]
fn b200_fwid_that_is_not_the_gb100_leafs_fails_gpu_fwid() {
    let mut v = json(CASE, FILE);
    let mut b = spdm_bytes(&v);
    let fwid = hex::decode("d090cab1b6e6ffddca83d1781e25b3f0").unwrap();
    let at = b
        .windows(fwid.len())
        .position(|w| w == fwid.as_slice())
        .expect("FWID in the report");
    b[at] ^= 0xff;
    set_spdm_bytes(&mut v, &b);
    let r = audit_b200(&to_vec(&v));
    let s = sum(&r, "gpu.fwid");
    assert_eq!(st(&r, "gpu.fwid"), Status::Fail, "{s}");
    assert!(s.contains("is not the leaf certificate's"), "{s}");
}
