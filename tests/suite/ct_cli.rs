//! `blyss-evidence ct check` on real data: exit codes (0 every SCT verifies
//! and ≥ 2 operators, 1 otherwise, 2 unreadable input) and its lines.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fx(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ct")
        .join(p)
}
fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1706745600"); // 2024-02-01
    c
}

/// The shipped log list of the certificate's time (Google v3 list 32.19,
/// the two real logs), used as is: `--log-list` takes the file the project ships.
fn le_list(_dir: &Path) -> PathBuf {
    fx("le-2024/logs.json")
}

#[test]
fn real_certificate_with_its_issuer_passes_and_names_both_logs() {
    let d = tempfile::tempdir().unwrap();
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("le-2024/issuer-r3.der"))
        .arg("--log-list")
        .arg(le_list(d.path()))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "SCT #0 ✅ Let's Encrypt 'Oak2024H1' log | Let's Encrypt | 2024-01-27T22:30:22.977Z | signature valid",
        ))
        .stdout(predicate::str::contains(
            "SCT #1 ✅ Google 'Argon2024' log | Google | 2024-01-27T22:30:23.042Z | signature valid",
        ))
        .stdout(predicate::str::contains("signature NOT checked"))
        .stdout(predicate::str::contains("result: PASS"));
}

#[test]
fn issuer_may_come_second_in_a_pem_chain() {
    let d = tempfile::tempdir().unwrap();
    let pem =
        |der: &[u8]| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
    let chain = pem(&std::fs::read(fx("le-2024/lencr.org.der")).unwrap())
        + &pem(&std::fs::read(fx("le-2024/issuer-r3.der")).unwrap());
    let f = d.path().join("chain.pem");
    std::fs::write(&f, chain).unwrap();
    bin()
        .args(["ct", "check"])
        .arg(&f)
        .arg("--log-list")
        .arg(le_list(d.path()))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("issuer: second certificate of"));
}

#[test]
fn wrong_issuer_fails_with_exit_1() {
    let d = tempfile::tempdir().unwrap();
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--log-list")
        .arg(le_list(d.path()))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("signature NOT verified"))
        .stdout(predicate::str::contains("result: FAIL"));
}

#[test]
fn missing_issuer_fails_with_exit_1() {
    let d = tempfile::tempdir().unwrap();
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--log-list")
        .arg(le_list(d.path()))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no issuer certificate"));
}

#[test]
fn signed_real_list_verifies_but_does_not_know_the_2024_logs() {
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("le-2024/issuer-r3.der"))
        .arg("--log-list")
        .arg(fx("google-log-list-2021/log_list.json"))
        .arg("--log-list-sig")
        .arg(fx("google-log-list-2021/log_list.sig"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "signature verified with trusted key f1d8b68e",
        ))
        .stdout(predicate::str::contains("is not in the log list"));
}

#[test]
fn a_list_whose_signature_fails_is_refused_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let mut list = std::fs::read(fx("google-log-list-2021/log_list.json")).unwrap();
    let last = list.len() - 2;
    list[last] ^= 0x20; // one byte
    let f = d.path().join("list.json");
    std::fs::write(&f, list).unwrap();
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--log-list")
        .arg(&f)
        .arg("--log-list-sig")
        .arg(fx("google-log-list-2021/log_list.sig"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not verify"));
}

#[test]
fn certificate_without_scts_fails_and_garbage_cannot_be_checked() {
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/issuer-r3.der"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no embedded SCTs"));
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("junk.der");
    std::fs::write(&f, b"\x30\x03\x02\x01").unwrap();
    bin()
        .args(["ct", "check"])
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error:"));
}

#[test]
fn production_snapshot_is_the_default_list() {
    // The 2025 snapshot no longer lists the 2024 shards: honest failure.
    bin()
        .args(["ct", "check"])
        .arg(fx("le-2024/lencr.org.der"))
        .arg("--issuer")
        .arg(fx("le-2024/issuer-r3.der"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "snapshot embedded in trust set blyss-evidence-production",
        ));
}
