//! `blyss-evidence measure`, `firmware describe`, and the issue's
//! "done when" audit command, through the real binary.

use crate::common;

use assert_cmd::Command;
use common::measure::*;
use predicates::prelude::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400");
    c
}

/// The January command line the Blyss way (read from the fixture).
fn january_cmdline() -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&document("attestation-2024-01.json")).unwrap();
    v["cpu_attestation"]["launch"]["kernel_cli"]
        .as_str()
        .unwrap()
        .replace(" initrd=initrd", "")
}

const KERNEL: &str = "ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc";
const INITRD: &str = "5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611";

#[test]
fn audit_shows_snp_measurement_passing_from_the_pinned_descriptor() {
    bin()
        .args([
            "audit",
            root()
                .join("fixtures/bundles/blyss-2024-01.zip")
                .to_str()
                .unwrap(),
            "--protocol",
            "v0.0.1",
            "--scope",
            "attestation",
            "-v",
        ])
        .assert()
        .stdout(predicate::str::contains(
            "snp.measurement — 1ee2a500…3704131a == 1ee2a500…3704131a (pinned firmware descriptor)",
        ));
}

#[test]
fn offline_import_with_firmware_makes_the_audit_measure_from_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("with-firmware.zip");
    let key = root().join("fixtures/keys/fixture-collector.key");
    bin()
        .args(["collect", "--attestation"])
        .arg(root().join("fixtures/blyss/attestation-2024-01.json"))
        .args(["--protocol", "v0.0.1", "--key"])
        .arg(&key)
        .arg("--firmware")
        .arg(firmware_path())
        .arg("-o")
        .arg(&bundle)
        .assert()
        .code(0);
    bin()
        .arg("audit")
        .arg(&bundle)
        .args(["--protocol", "v0.0.1", "--scope", "attestation", "-v"])
        .assert()
        .stdout(predicate::str::contains(
            "snp.measurement — 1ee2a500…3704131a == 1ee2a500…3704131a (firmware image",
        ))
        .stdout(predicate::str::contains("snp.firmware-image"));
}

#[test]
fn offline_import_refuses_a_firmware_url() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.zip");
    bin()
        .args(["collect", "--attestation"])
        .arg(root().join("fixtures/blyss/attestation-2024-01.json"))
        .args(["--firmware", "https://example.invalid/OVMF.fd", "--key"])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .arg("-o")
        .arg(&bundle)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("local firmware files only"));
    assert!(!bundle.exists());
}

#[test]
fn firmware_describe_prints_the_pinned_descriptor() {
    let out = bin()
        .arg("firmware")
        .arg("describe")
        .arg(firmware_path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let printed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let p = blyss_evidence::protocol::Protocol::load("v0.0.1").unwrap();
    let sec: serde_json::Value =
        serde_json::to_value(p.sections.measurement.as_ref().unwrap()).unwrap();
    assert_eq!(printed, sec["firmware"]);
}

#[test]
fn measure_reproduces_the_january_report_from_image_and_from_descriptor() {
    let cmdline = january_cmdline();
    let common = |c: &mut Command| {
        c.args(["--kernel-hash", KERNEL, "--initrd-hash", INITRD, "--append"])
            .arg(&cmdline)
            .args(["--vcpus", "8", "--vmsa-fpu", "legacy-zero"]);
    };
    let mut c = bin();
    c.arg("measure").arg("--firmware").arg(firmware_path());
    common(&mut c);
    c.assert()
        .success()
        .stdout(format!("{MEASUREMENT_2024_01}\n"));

    let dir = tempfile::tempdir().unwrap();
    let desc = dir.path().join("ovmf.json");
    let out = bin()
        .arg("firmware")
        .arg("describe")
        .arg(firmware_path())
        .output()
        .unwrap();
    std::fs::write(&desc, out.stdout).unwrap();
    let mut c = bin();
    c.arg("measure").arg("--descriptor").arg(&desc);
    common(&mut c);
    c.assert()
        .success()
        .stdout(format!("{MEASUREMENT_2024_01}\n"));

    // Default FPU mode is today's (kvm-init2): not the Blyss report.
    let mut c = bin();
    c.arg("measure").arg("--descriptor").arg(&desc);
    c.args(["--kernel-hash", KERNEL, "--initrd-hash", INITRD, "--append"])
        .arg(&cmdline)
        .args(["--vcpus", "8"]);
    c.assert()
        .success()
        .stdout(predicate::str::contains(MEASUREMENT_2024_01).not());
}

/// With files, modern mode: sev-snp-measure 0.0.13's answer for the same
/// inputs (see tests/measure_engine.rs for how the vector was made).
#[test]
fn measure_with_files_matches_sev_snp_measure_and_json_has_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("vmlinuz");
    let i = dir.path().join("initrd.img");
    std::fs::write(&k, (0..=255u8).cycle().take(16384).collect::<Vec<_>>()).unwrap();
    std::fs::write(&i, b"initrd\n".repeat(1000)).unwrap();
    let out = bin()
        .arg("measure")
        .arg("--firmware")
        .arg(firmware_path())
        .arg("--kernel")
        .arg(&k)
        .arg("--initrd")
        .arg(&i)
        .args([
            "--append",
            "console=ttyS0 loglevel=7 ",
            "--vcpus",
            "4",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["measurement"],
        "5584d7ee04efb55c6ccb3453af1ca5bb58299fd17e43e66da2cf035ceec7e6c087e58e5189c505f1de065a4c334a8d8d"
    );
    assert_eq!(v["inputs"]["vmsa_fpu"], "kvm-init2");
    assert_eq!(v["inputs"]["vcpu_type"], "EPYC-v4");
    assert_eq!(v["trace"]["firmware_source"], "image");
    assert_eq!(v["trace"]["pages"]["vmsa"], 4);
    assert_eq!(v["trace"]["steps"][0]["what"], "firmware image");
    assert_eq!(v["trace"]["steps"][0]["pages"], 1024);
}

#[test]
fn measure_rejects_bad_input_with_exit_2() {
    let fw = firmware_path();
    for (args, msg) in [
        (vec!["--append", "x"], "need --kernel"),
        (vec!["--vcpu-type", "Xeon"], "unknown vCPU type"),
        (vec!["--vmsa-fpu", "zero"], "unknown VMSA FPU mode"),
        (vec!["--vcpus", "0"], "at least 1"),
        (vec!["--kernel-hash", "abcd"], "expected 32"),
    ] {
        bin()
            .arg("measure")
            .arg("--firmware")
            .arg(&fw)
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\":\"x\"}").unwrap();
    bin()
        .arg("measure")
        .arg("--descriptor")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a firmware descriptor"));
    let junk = dir.path().join("junk.fd");
    std::fs::write(&junk, vec![0u8; 8192]).unwrap();
    bin()
        .args(["firmware", "describe"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no OVMF footer table"));
}

#[test]
fn measure_help_has_examples() {
    bin()
        .args(["measure", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("--vmsa-fpu legacy-zero"));
    bin()
        .args(["firmware", "describe", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Example:"));
}
