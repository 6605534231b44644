//! Air-gap proof: `audit` runs and passes inside a network namespace with no
//! interfaces but a downed loopback (`unshare -n`). Needs root (CI runs as
//! root); without the privilege the test fails rather than skipping.

use crate::common;

use std::process::Command;

#[test]
fn audit_passes_in_a_network_namespace_without_interfaces() {
    let bin = assert_cmd::cargo::cargo_bin("blyss-evidence");
    let root = env!("CARGO_MANIFEST_DIR");
    // The namespace really has no usable interface: only `lo`, and it is down.
    let probe = Command::new("unshare")
        .args(["-n", "--", "cat", "/proc/net/dev"])
        .output()
        .expect("unshare(1) must be installed (util-linux)");
    assert!(
        probe.status.success(),
        "unshare -n failed (needs root): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let dev = String::from_utf8_lossy(&probe.stdout);
    let ifaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, vec!["lo"], "namespace interfaces: {ifaces:?}");
    let out = Command::new("unshare")
        .args(["-n", "--"])
        .arg(&bin)
        .args([
            "audit",
            &format!("{root}/fixtures/bundles/blyss-2024-01.zip"),
            "--scope",
            "attestation",
            "--signer",
            &format!("{root}/fixtures/keys/fixture-collector.key.pub"),
        ])
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("verdict: PASS (attestation only)"),
        "{stdout}"
    );
}

#[test]
fn audit_makes_no_socket_syscall() {
    // Belt and braces: trace the audit and require that it never even creates
    // a socket (strace ships with the base image; its absence fails the test).
    let bin = assert_cmd::cargo::cargo_bin("blyss-evidence");
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let json = dir.path().join("r.json");
    let out = Command::new("strace")
        .args(["-f", "-e", "trace=socket,connect,bind,sendto,sendmsg", "-o"])
        .arg(&trace)
        .arg(&bin)
        .args([
            "audit",
            &format!("{root}/fixtures/bundles/blyss-2024-01.zip"),
            "--scope",
            "attestation",
            "--json",
        ])
        .arg(&json)
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .output()
        .expect("strace must be installed");
    assert!(out.status.code().is_some(), "audit did not exit normally");
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(t.contains("exited with"), "trace incomplete: {t}");
    let calls: Vec<&str> = t
        .lines()
        .filter(|l| !l.contains("+++") && !l.contains("---"))
        .collect();
    assert!(calls.is_empty(), "audit made network syscalls: {calls:?}");
    assert!(json.exists());
    common::report::assert_valid_report_file(&json);
}
