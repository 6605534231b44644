//! Differential test (issue 13 item 8): for every container our reader
//! accepts in a corpus — the fixture bundles (also the `bundle_container`
//! fuzz target's seeds), bundles the tests build (re-signed, STORED members,
//! empty and binary members, nested names) — Python's `zipfile` and Debian's
//! Info-ZIP `unzip` (`-Z1` for names, `-p` for bytes) list the same member
//! names in the same order and yield the same bytes as our reader. And for
//! each hostile container of `common/hostile.rs` our reader refuses; for the
//! findings that were differentials (a lenient reader saw other bytes than
//! the ones signed) the test shows Python still sees different bytes there,
//! i.e. the refusal is what keeps the readers from disagreeing.
//!
//! `unzip` comes from `scripts/install-unzip.sh` (idempotent; apt-get when
//! missing): a machine where it cannot be had fails this test, never skips.

use crate::common::hostile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use blyss_evidence::bundle::container;
use blyss_evidence::bundle::{BundleBuilder, Source};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const PY: &str = r#"
import hashlib, json, sys, zipfile
out = []
try:
    z = zipfile.ZipFile(sys.argv[1])
    for i in z.infolist():
        out.append([i.filename, hashlib.sha256(z.read(i)).hexdigest()])
    print(json.dumps({"members": out}))
except Exception as e:
    print(json.dumps({"error": str(e)}))
"#;

/// What Python's zipfile sees: (name, sha256) in directory order, or Err.
fn python_view(p: &Path) -> Result<Vec<(String, String)>, String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .arg(p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    if let Some(e) = v.get("error") {
        return Err(e.to_string());
    }
    Ok(v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m[0].as_str().unwrap().to_string(),
                m[1].as_str().unwrap().to_string(),
            )
        })
        .collect())
}

fn unzip() -> String {
    let out = Command::new("bash")
        .arg(root().join("scripts/install-unzip.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/install-unzip.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What Info-ZIP unzip sees: names from `-Z1`, bytes from `-p` per name.
fn unzip_view(unzip: &str, p: &Path) -> Vec<(String, String)> {
    let out = Command::new(unzip).arg("-Z1").arg(p).output().unwrap();
    assert!(out.status.success(), "unzip -Z1 {}: {:?}", p.display(), out);
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    names
        .into_iter()
        .map(|n| {
            let o = Command::new(unzip)
                .arg("-p")
                .arg(p)
                .arg(&n)
                .output()
                .unwrap();
            assert!(o.status.success(), "unzip -p {} {n}: {:?}", p.display(), o);
            let d = blyss_evidence::util::sha256_hex(&o.stdout);
            (n, d)
        })
        .collect()
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for f in ["blyss-2024-01.zip", "blyss-2023-12.zip"] {
        v.push((
            f.to_string(),
            std::fs::read(root().join("fixtures/bundles").join(f)).unwrap(),
        ));
    }
    let real = hostile::real_members();
    let signed = hostile::resign(&real, |_| ());
    let r: BTreeMap<String, &[u8]> = signed
        .iter()
        .map(|(k, v)| (k.clone(), v.as_slice()))
        .collect();
    v.push((
        "resigned".into(),
        blyss_evidence::bundle::write_zip(&r).unwrap(),
    ));
    // A whitespace-padded document (STORED) sealed by the builder.
    let at = blyss_evidence::util::parse_time("2024-01-15T00:00:00Z").unwrap();
    let mut doc = real["evidence/attestation.json"].clone();
    let end = doc.iter().rposition(|&c| c == b'}').unwrap();
    doc.splice(end..end, std::iter::repeat_n(b'\n', 1 << 20));
    let mut b = BundleBuilder::new("https://example.test", "v0.0.1", at);
    b.add("attestation.json", doc, Source::file(at)).unwrap();
    let key = blyss_evidence::bundle::keys::parse_private(hostile::FIXTURE_KEY, "k").unwrap();
    v.push(("stored-padded".into(), b.seal(at, &key).unwrap()));
    // Container-level variety: empty, binary (STORED), text, nested names.
    let mut x = 7u64;
    let bin: Vec<u8> = (0..10_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 56) as u8
        })
        .collect();
    let text = b"line of text\n".repeat(1000);
    let mut m: BTreeMap<String, &[u8]> = BTreeMap::new();
    m.insert("a".into(), b"");
    m.insert("a-b/c.d/e_f".into(), &text);
    m.insert("Z/bin".into(), &bin);
    v.push((
        "variety".into(),
        blyss_evidence::bundle::write_zip(&m).unwrap(),
    ));
    v
}

#[test]
fn python_zipfile_and_unzip_see_the_same_members_and_bytes_as_our_reader() {
    let unzip = unzip();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in corpus() {
        let ours: Vec<(String, String)> = container::read(&bytes)
            .unwrap_or_else(|e| panic!("{name}: our reader refused the corpus bundle: {e}"))
            .into_iter()
            .map(|m| (m.name, blyss_evidence::util::sha256_hex(&m.data)))
            .collect();
        let p = dir.path().join(format!("{name}.zip"));
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(
            python_view(&p).as_ref(),
            Ok(&ours),
            "{name}: python zipfile differs"
        );
        assert_eq!(unzip_view(&unzip, &p), ours, "{name}: unzip differs");
    }
}

#[test]
fn hostile_containers_that_other_readers_read_differently_are_refused_by_ours() {
    let dir = tempfile::tempdir().unwrap();
    let signed = hostile::real_members();
    let signed_att = blyss_evidence::util::sha256_hex(&signed["evidence/attestation.json"]);
    for c in hostile::cases() {
        assert!(container::read(&c.bytes).is_err(), "{}: accepted", c.name);
        if !matches!(
            c.name,
            "eocd_count_3_with_4_central_entries"
                | "second_zip_appended"
                | "classic_and_zip64_eocd_disagree"
        ) {
            continue;
        }
        // These were PASS before: what Python reads as attestation.json is
        // not what the signature covers.
        let p = dir.path().join(format!("{}.zip", c.name));
        std::fs::write(&p, &c.bytes).unwrap();
        let py = python_view(&p).unwrap_or_else(|e| panic!("{}: python refused: {e}", c.name));
        let att: Vec<&String> = py
            .iter()
            .filter(|(n, _)| n == "evidence/attestation.json")
            .map(|(_, d)| d)
            .collect();
        assert!(
            att.last().is_some_and(|d| **d != signed_att),
            "{}: python reads the signed attestation ({att:?}): not a differential",
            c.name
        );
    }
}
