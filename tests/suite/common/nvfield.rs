//! Support for the NVIDIA field cases imported in NVIDIA's interchange
//! format (`fixtures/field/nv-*`): seal chosen evidence members into a
//! bundle and audit it with the production trust set, and edit the SPDM
//! bytes of an NRAS-shaped file. Used by `blackwell_field`,
//! `switch_field`, `gpu_ocsp` and `switch_ocsp`.
#![allow(dead_code)]

use std::process::Command;

use base64::Engine;
use blyss_evidence::audit::audit;
use blyss_evidence::bundle::{keys, Bundle, BundleBuilder, Source};
use blyss_evidence::checks::{AuditOptions, Scope, Status};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::report::Report;
use blyss_evidence::trust::TrustSet;
use serde_json::Value;

use super::gpu::{result, root, t};

/// Member (under `evidence/`) of imported GPU evidence.
pub const GPU_MEMBER: &str = "gpu/nvidia-evidence.json";
/// Member (under `evidence/`) of imported NVSwitch evidence.
pub const SWITCH_MEMBER: &str = "gpu/nvidia-switch-evidence.json";

pub fn read(case: &str, f: &str) -> Vec<u8> {
    std::fs::read(root().join(case).join(f)).unwrap()
}

pub fn json(case: &str, f: &str) -> Value {
    serde_json::from_slice(&read(case, f)).unwrap()
}

pub fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Seals `members` (path under `evidence/`, bytes) and RIMs (file name,
/// bytes) into a bundle under protocol `snp-only` and audits it at `at`.
pub fn audit_members(members: &[(&str, Vec<u8>)], rims: &[(&str, Vec<u8>)], at: &str) -> Report {
    let members: Vec<(String, Vec<u8>)> = members
        .iter()
        .map(|(m, b)| (m.to_string(), b.clone()))
        .chain(
            rims.iter()
                .map(|(n, r)| (format!("gpu/rims/{n}"), r.clone())),
        )
        .collect();
    audit_sealed(&members, &TrustSet::production(), at)
}

/// Seals `members` (path under `evidence/`, bytes) with the fixture
/// collector key and audits the bundle at `at` (scope attestation,
/// protocol `snp-only`, which requires `gpu.*` and so every `switch.*`
/// result) under `trust`. The one sealing path of the NVIDIA field tests.
pub fn audit_sealed(members: &[(String, Vec<u8>)], trust: &TrustSet, at: &str) -> Report {
    let at = t(at);
    let protocol = Protocol::load("snp-only").unwrap();
    let mut b = BundleBuilder::new("file", &protocol.id, at);
    for (m, bytes) in members {
        b.add(m, bytes.clone(), Source::file(at)).unwrap();
    }
    let key = keys::load_private(&root().join("fixtures/keys/fixture-collector.key")).unwrap();
    let zip = b.seal(at, &key).unwrap();
    let bundle = Bundle::from_bytes(&zip, "nv-field.zip").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        at: Some(at),
        ..AuditOptions::default()
    };
    audit(&bundle, &protocol, trust, &opts, at)
}

pub fn status(r: &Report, id: &str, subject: &str) -> Status {
    result(r, id, subject).status
}

pub fn summary(r: &Report, id: &str, subject: &str) -> String {
    result(r, id, subject).summary.clone()
}

/// Decoded SPDM bytes of entry 0 of an NRAS-shaped value.
pub fn spdm_bytes(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v["evidence_list"][0]["evidence"].as_str().unwrap())
        .unwrap()
}

pub fn set_spdm_bytes(v: &mut Value, b: &[u8]) {
    v["evidence_list"][0]["evidence"] = base64::engine::general_purpose::STANDARD.encode(b).into();
}

/// Reruns `scripts/nvidia-interchange.py ARGS… CASE OUT` into a temp dir
/// and returns its output bytes.
pub fn run_converter(case: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let st = Command::new("python3")
        .arg(root().join("scripts/nvidia-interchange.py"))
        .args(args)
        .arg(root().join(case))
        .arg(&out)
        .status()
        .expect("python3 runs scripts/nvidia-interchange.py");
    assert!(st.success(), "{case}: converter failed");
    std::fs::read(&out).unwrap()
}
