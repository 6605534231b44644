//! The `collect` and `verify` commands end to end through the binary,
//! against the loopback world: exit codes, one-line errors, no partial
//! bundle, and `--help` documenting every option with an example.
#![cfg(feature = "collect")]

use crate::common;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use common::world::{self, Fault, World};

const DOC: &[u8] = include_bytes!("../../fixtures/blyss/attestation-2024-01.json");

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .env_remove("XDG_CONFIG_HOME");
    c
}

fn key(dir: &Path) -> String {
    let p = dir.join("collector.key");
    if !p.exists() {
        blyss_evidence::bundle::keys::write_pair(&blyss_evidence::bundle::keys::generate(), &p)
            .unwrap();
    }
    p.display().to_string()
}

/// Common network arguments for the world (short deadlines).
fn net(w: &World) -> Vec<String> {
    vec![
        "--trust".into(),
        w.trust_file().display().to_string(),
        "--kds-url".into(),
        w.kds.url(),
        "--log-list-url".into(),
        w.ct.list_url.clone(),
        "--connect-timeout".into(),
        "2".into(),
        "--read-timeout".into(),
        "2".into(),
        "--timeout".into(),
        "5".into(),
        "--retries".into(),
        "1".into(),
        "--backoff".into(),
        "0.02".into(),
        // No registry in the world: never reach Docker Hub from a test.
        "--no-images".into(),
    ]
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Files in `dir` other than the ones named.
fn others(dir: &Path, known: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !known.contains(&n.as_str()))
        .collect()
}

#[test]
fn collect_writes_a_signed_bundle_that_records_its_warnings() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    w.kds.fault("/vcek/v1/Genoa/crl", Fault::Status(500));
    let out = w.path("b.zip");
    let o = bin()
        .arg("collect")
        .arg(w.url())
        .args([
            "-o",
            &out.display().to_string(),
            "--key",
            &key(w.dir.path()),
        ])
        .args(net(&w))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("1 warning(s)"), "{}", stdout(&o));
    assert!(stderr(&o).contains("/vcek/v1/Genoa/crl"), "{}", stderr(&o));
    let b = blyss_evidence::bundle::Bundle::open(&out).unwrap();
    assert_eq!(b.statement.predicate.warnings.len(), 1);
    assert_eq!(b.statement.predicate.target, w.url());
}

#[test]
fn quiet_collect_prints_no_warning_list() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    w.kds.fault("/vcek/v1/Genoa/crl", Fault::Status(500));
    let out = w.path("b.zip");
    let o = bin()
        .arg("collect")
        .arg(w.url())
        .args([
            "-q",
            "-o",
            &out.display().to_string(),
            "--key",
            &key(w.dir.path()),
        ])
        .args(net(&w))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn strict_failure_exits_2_with_one_line_naming_url_and_cause_and_writes_nothing() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    w.kds.fault("/vcek/v1/Genoa/crl", Fault::Status(500));
    let out = w.path("b.zip");
    let k = key(w.dir.path());
    let o = bin()
        .arg("collect")
        .arg(w.url())
        .args(["--strict", "-o", &out.display().to_string(), "--key", &k])
        .args(net(&w))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let line = e.lines().find(|l| l.starts_with("error:")).expect(&e);
    assert!(
        line.contains(&format!("{}/vcek/v1/Genoa/crl", w.kds.url())),
        "{line}"
    );
    assert!(line.contains("HTTP 500"), "{line}");
    assert!(!out.exists());
    let stray = others(w.dir.path(), &[]);
    assert!(
        stray.iter().all(|n| !n.starts_with(".tmp") && n != "b.zip"),
        "{stray:?}"
    );
}

#[test]
fn malformed_document_exits_2_and_leaves_no_bundle() {
    let w = World::start();
    w.serve_document(br#"{"cert_sha256_fingerprint": "00", "cpu_attestation": []}"#.to_vec());
    let out = w.path("b.zip");
    let o = bin()
        .arg("collect")
        .arg(w.url())
        .args([
            "-o",
            &out.display().to_string(),
            "--key",
            &key(w.dir.path()),
        ])
        .args(net(&w))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("malformed attestation document"), "{e}");
    assert!(e.contains(world::ATTESTATION_PATH), "{e}");
    assert!(!out.exists());
}

#[test]
fn verify_exits_1_on_a_failed_audit_and_keep_writes_the_bundle() {
    // The real Blyss document binds the real Blyss certificate, not the
    // world's: the audit fails (tls.binding among others).
    let w = World::start();
    w.serve_real_blyss(DOC);
    let kept = w.path("kept.zip");
    let o = bin()
        .arg("verify")
        .arg(w.url())
        .args(["-v", "--keep", &kept.display().to_string()])
        .args(net(&w))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("NON-PRODUCTION TRUST SET"), "{s}");
    assert!(s.contains("tls.binding"), "{s}");
    assert!(s.contains("verdict: FAIL"), "{s}");
    assert!(kept.exists());
    // The kept bundle audits to the same verdict offline.
    let a = bin()
        .args(["audit", &kept.display().to_string(), "--trust"])
        .arg(w.trust_file())
        .output()
        .unwrap();
    assert_eq!(a.status.code(), Some(1));
}

#[test]
fn verify_of_an_unreachable_service_exits_2() {
    let w = World::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let o = bin()
        .arg("verify")
        .arg(format!("https://127.0.0.1:{port}"))
        .args(net(&w))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn non_https_url_is_refused_before_any_network_access() {
    let o = bin()
        .args([
            "collect",
            "http://enclave.blyss.dev",
            "-o",
            "/nonexistent/x.zip",
            "--key",
            "/nonexistent/k",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Splits `--help` output into option blocks and checks each has an example.
fn assert_every_option_has_an_example(cmd: &str) {
    let o = bin().args([cmd, "--help"]).output().unwrap();
    assert!(o.status.success());
    let help = stdout(&o);
    let mut blocks: Vec<String> = Vec::new();
    let mut in_opts = false;
    for line in help.lines() {
        if line.starts_with("Arguments:") || line.starts_with("Options:") {
            in_opts = true;
            continue;
        }
        if line.starts_with("Examples:") {
            in_opts = false;
        }
        if !in_opts {
            continue;
        }
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if (t.starts_with('-') || t.starts_with('[')) && indent <= 6 {
            blocks.push(t.to_string());
        } else if let Some(b) = blocks.last_mut() {
            b.push(' ');
            b.push_str(t);
        }
    }
    assert!(
        blocks.len() > 10,
        "{cmd}: parsed {} option blocks",
        blocks.len()
    );
    for b in &blocks {
        if b.starts_with("-h, --help") || b.starts_with("-V") {
            continue;
        }
        assert!(b.contains("e.g."), "{cmd}: option without an example: {b}");
    }
    assert!(help.contains("Examples:"), "{cmd}");
}

#[test]
fn collect_help_gives_every_option_an_example() {
    assert_every_option_has_an_example("collect");
}

#[test]
fn verify_help_gives_every_option_an_example() {
    assert_every_option_has_an_example("verify");
}

#[test]
fn an_interrupted_collect_leaves_no_bundle_and_no_temporary_file() {
    let w = World::start();
    w.serve_real_blyss(DOC);
    // The document takes 3 s: the collector is killed while waiting for it.
    w.enclave.fault(
        world::ATTESTATION_PATH,
        Fault::Latency(std::time::Duration::from_secs(3)),
    );
    let out = w.path("b.zip");
    let k = key(w.dir.path());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("blyss-evidence"))
        .arg("collect")
        .arg(w.url())
        .args(["-q", "-o", &out.display().to_string(), "--key", &k])
        .args(net(&w))
        .spawn()
        .unwrap();
    // Wait until the request is in flight, then kill (SIGKILL: no clean-up runs).
    let start = std::time::Instant::now();
    while w.enclave.hits(world::ATTESTATION_PATH).is_empty() {
        assert!(
            start.elapsed().as_secs() < 30,
            "collector never asked for the document"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!out.exists());
    let left = others(w.dir.path(), &["collector.key", "collector.key.pub"]);
    assert!(
        left.iter()
            .all(|n| !n.starts_with(".tmp") && !n.ends_with(".zip")),
        "{left:?}"
    );
}
