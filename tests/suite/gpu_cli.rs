//! `audit --gpu-cert-time` through the real binary: exit codes and what the
//! terminal summary says about the GPU family and its time policy.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn audit(extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .env_remove("XDG_CONFIG_HOME")
        .arg("audit")
        .arg(root().join("fixtures/bundles/blyss-2024-01.zip"))
        .args(["--scope", "attestation", "--signer"])
        .arg(root().join("fixtures/keys/fixture-collector.key.pub"))
        .args(extra);
    c.assert()
}

#[test]
fn real_bundle_shows_the_gpu_family_with_its_caveat_and_exits_0() {
    audit(&[]).code(0).stdout(predicate::str::contains(
        "⚠️ NVIDIA GPU: gpu.binding: GPU NVIDIA:GH100:48B02D0D1EF5B3C7 verified on its own (driver 535.86.10, VBIOS 96.00.74.00.1A, 33/33 measurements) but NOT bound to the SNP report or the TLS session",
    ));
}

#[test]
fn judged_after_the_rim_signers_expired_the_audit_fails_with_exit_1() {
    audit(&["--at", "2026-01-01T00:00:00Z"])
        .code(1)
        .stdout(predicate::str::contains(
            "❌ NVIDIA GPU: gpu.rim-signature:",
        ))
        .stdout(predicate::str::contains("expired at 2025-07-25T22:42:14Z"));
}

#[test]
fn a_relaxed_gpu_cert_time_passes_but_says_so() {
    audit(&[
        "--at",
        "2026-01-01T00:00:00Z",
        "--gpu-cert-time",
        "ignore-expiry-unsafe",
        "-v",
    ])
    .code(0)
    .stdout(predicate::str::contains(
        "⚠️ NVIDIA GPU: gpu.binding: GPU NVIDIA:GH100:48B02D0D1EF5B3C7 verified on its own only under the RELAXED certificate time policy ignore-expiry-unsafe (driver 535.86.10",
    ))
    .stdout(predicate::str::contains(
        "gpu.rim-signature [gpu0] — driver RIM GH100 535.86.10, vbios RIM GH100 96.00.74.00.1A: signatures verify only under a relaxed time policy",
    ))
    .stdout(predicate::str::contains("expiry NOT checked (--gpu-cert-time ignore-expiry-unsafe)"));
}

#[test]
fn an_unknown_gpu_cert_time_is_a_usage_error_exit_2() {
    audit(&["--gpu-cert-time", "whenever"])
        .code(2)
        .stderr(predicate::str::contains("--gpu-cert-time"));
}
