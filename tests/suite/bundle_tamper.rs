//! Negative tests for bundle format v1: structural damage is a read error
//! (exit 2 in the CLI), altered evidence is a failed `bundle.*` check (exit 1)
//! naming the altered member.

use crate::common;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use blyss_evidence::audit::audit;
use blyss_evidence::bundle::container::Rule;
use blyss_evidence::bundle::{keys, write_zip, Bundle, BundleError};
use blyss_evidence::checks::{AuditOptions, Scope, SignerPin, Status, Verdict};
use blyss_evidence::protocol::Protocol;
use blyss_evidence::trust::TrustSet;

const REAL: &[u8] = include_bytes!("../../fixtures/bundles/blyss-2024-01.zip");
const FIXTURE_FP: &str = "b244c7ca5b5ba3d7508a0515877b8ff65f6c72f9c04336d890f95c62b7325729";

/// All entries of a zip, by name.
fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut d = Vec::new();
        f.read_to_end(&mut d).unwrap();
        out.insert(f.name().to_string(), d);
    }
    out
}

fn rezip(e: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let m: BTreeMap<String, &[u8]> = e.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect();
    write_zip(&m).unwrap()
}

fn options() -> AuditOptions {
    AuditOptions {
        scope: Scope::Attestation,
        signer_pin: Some(SignerPin::Fingerprint(FIXTURE_FP.into())),
        ..Default::default()
    }
}

fn run(bytes: &[u8]) -> Result<blyss_evidence::report::Report, BundleError> {
    let b = Bundle::from_bytes(bytes, "t.zip")?;
    let p = Protocol::load("v0.0.1").unwrap();
    let t = TrustSet::production();
    let r = audit(&b, &p, &t, &options(), blyss_evidence::util::now());
    common::report::assert_valid_report_json(&r.to_json());
    Ok(r)
}

fn status(r: &blyss_evidence::report::Report, id: &str) -> Status {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .status
}

#[test]
fn untouched_real_bundle_passes_bundle_checks() {
    let r = run(REAL).unwrap();
    assert_eq!(status(&r, "bundle.signature"), Status::Pass);
    assert_eq!(status(&r, "bundle.integrity"), Status::Pass);
}

#[test]
fn flipped_byte_in_evidence_member_fails_integrity_and_names_it() {
    let e = entries(REAL);
    let path = "evidence/attestation.json";
    let len = e[path].len();
    for pos in [0, 1, len / 3, len / 2, len - 2, len - 1] {
        let mut e2 = e.clone();
        e2.get_mut(path).unwrap()[pos] ^= 0x01;
        let r = run(&rezip(&e2)).unwrap();
        assert_eq!(r.verdict.status, Verdict::Fail, "flip at {pos}");
        let c = r
            .checks
            .iter()
            .find(|c| c.id == "bundle.integrity")
            .unwrap();
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.summary.contains(path) && c.summary.contains("altered"),
            "{}",
            c.summary
        );
        assert!(c.evidence.contains(&path.to_string()));
    }
}

#[test]
fn flipped_byte_in_envelope_is_never_accepted() {
    let e = entries(REAL);
    let env = "envelope.dsse.json";
    let len = e[env].len();
    let mut structural = 0;
    let mut failed = 0;
    for pos in (0..len).step_by(7) {
        let mut e2 = e.clone();
        e2.get_mut(env).unwrap()[pos] ^= 0x01;
        match run(&rezip(&e2)) {
            Err(_) => structural += 1,
            Ok(r) => {
                // Flips in insignificant JSON whitespace leave the envelope
                // identical in meaning; everything else must fail.
                let meaning_same = serde_json::from_slice::<serde_json::Value>(&e2[env]).ok()
                    == serde_json::from_slice::<serde_json::Value>(&e[env]).ok();
                if meaning_same {
                    assert_eq!(r.verdict.status, Verdict::Pass);
                } else {
                    assert_eq!(r.verdict.status, Verdict::Fail, "flip at {pos} accepted");
                    failed += 1;
                }
            }
        }
    }
    assert!(
        structural > 0 && failed > 0,
        "structural {structural}, failed {failed}"
    );
}

#[test]
fn flipped_byte_in_signer_key_fails_signature() {
    let e = entries(REAL);
    let len = e["signer.pem"].len();
    for pos in [30, len / 2, len - 40] {
        let mut e2 = e.clone();
        e2.get_mut("signer.pem").unwrap()[pos] ^= 0x02;
        let r = run(&rezip(&e2)).unwrap();
        assert_eq!(
            status(&r, "bundle.signature"),
            Status::Fail,
            "flip at {pos}"
        );
    }
}

#[test]
fn added_member_fails_integrity() {
    let mut e = entries(REAL);
    e.insert("evidence/extra.txt".into(), b"surprise".to_vec());
    let r = run(&rezip(&e)).unwrap();
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "bundle.integrity")
        .unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary
            .contains("evidence/extra.txt is present but not in the signed statement"),
        "{}",
        c.summary
    );
}

#[test]
fn removed_member_fails_integrity() {
    let mut e = entries(REAL);
    e.remove("evidence/attestation.json");
    let r = run(&rezip(&e)).unwrap();
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "bundle.integrity")
        .unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary
            .contains("evidence/attestation.json is listed but missing"),
        "{}",
        c.summary
    );
}

#[test]
fn resigned_with_another_key_fails_when_first_key_is_pinned() {
    // Re-seal the same evidence with a fresh key: the envelope is valid, but
    // not by the pinned collector.
    let b = Bundle::from_bytes(REAL, "t.zip").unwrap();
    let other = keys::generate();
    let mut builder = blyss_evidence::bundle::BundleBuilder::new(
        "https://enclave.blyss.dev",
        "v0.0.1",
        b.collected_at().unwrap(),
    );
    builder
        .add(
            "attestation.json",
            b.member("evidence/attestation.json").unwrap().to_vec(),
            blyss_evidence::bundle::Source::file(b.collected_at().unwrap()),
        )
        .unwrap();
    let bytes = builder.seal(b.collected_at().unwrap(), &other).unwrap();
    let r = run(&bytes).unwrap();
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "bundle.signature")
        .unwrap();
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.expected.as_deref(), Some(FIXTURE_FP));
    assert_eq!(
        c.actual.as_deref(),
        Some(keys::fingerprint(other.verifying_key()).as_str())
    );
    assert_eq!(r.verdict.status, Verdict::Fail);
}

#[test]
fn unpinned_signer_is_a_warning_not_a_pass() {
    let b = Bundle::from_bytes(REAL, "t.zip").unwrap();
    let p = Protocol::load("v0.0.1").unwrap();
    let opts = AuditOptions {
        scope: Scope::Attestation,
        ..Default::default()
    };
    let r = audit(
        &b,
        &p,
        &TrustSet::production(),
        &opts,
        blyss_evidence::util::now(),
    );
    assert_eq!(status(&r, "bundle.signature"), Status::Warn);
}

#[test]
fn signature_over_altered_statement_fails() {
    // Change the statement's target inside the envelope without re-signing.
    let mut e = entries(REAL);
    let mut env: serde_json::Value = serde_json::from_slice(&e["envelope.dsse.json"]).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(env["payload"].as_str().unwrap()).unwrap();
    let altered = String::from_utf8(payload)
        .unwrap()
        .replace("https://enclave.blyss.dev", "https://evil.example");
    env["payload"] = b64.encode(altered).into();
    e.insert(
        "envelope.dsse.json".into(),
        serde_json::to_vec(&env).unwrap(),
    );
    let r = run(&rezip(&e)).unwrap();
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "bundle.signature")
        .unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(c.summary.contains("does not verify"), "{}", c.summary);
}

#[test]
fn bundle_sealing_is_byte_reproducible() {
    let b = Bundle::from_bytes(REAL, "t.zip").unwrap();
    let key = keys::load_private(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/fixture-collector.key"
    )))
    .unwrap();
    let at = b.collected_at().unwrap();
    let mut builder =
        blyss_evidence::bundle::BundleBuilder::new("https://enclave.blyss.dev", "v0.0.1", at);
    builder
        .add(
            "attestation.json",
            b.member("evidence/attestation.json").unwrap().to_vec(),
            blyss_evidence::bundle::Source::file(at),
        )
        .unwrap();
    let one = builder.seal(at, &key).unwrap();
    let two = builder.seal(at, &key).unwrap();
    assert_eq!(one, two);
    // And equal to the committed fixture, which was produced by the CLI import.
    assert_eq!(
        one, REAL,
        "fixture bundle no longer reproduces: run fixtures/regenerate-bundles.sh and review"
    );
}

// ---- structural damage: read errors ----

/// A zip with two entries whose names we patch afterwards (same length).
fn zip_with(names: &[&str], data: &[&[u8]]) -> Vec<u8> {
    let m: BTreeMap<String, &[u8]> = names
        .iter()
        .zip(data)
        .map(|(n, d)| (n.to_string(), *d))
        .collect();
    write_zip(&m).unwrap()
}

fn patch_all(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

#[test]
fn path_traversal_entry_is_rejected() {
    // Written with a safe name of the same length, then patched (the writer
    // refuses unsafe names).
    let mut z = zip_with(&["xx/aa/aa/evil", "envelope.dsse.json"], &[b"x", b"{}"]);
    assert_eq!(patch_all(&mut z, b"xx/aa/aa/evil", b"xx/../../evil"), 2);
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(is_rule(&e, Rule::SafeNames), "{e}");
    assert!(e.to_string().contains(".."), "{e}");
    // Absolute path: an empty first segment.
    assert_eq!(patch_all(&mut z, b"xx/../../evil", b"/etc/passwdxx"), 2);
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(is_rule(&e, Rule::SafeNames), "{e}");
}

fn is_rule(e: &BundleError, r: Rule) -> bool {
    matches!(e, BundleError::Container { rule, .. } if *rule == r)
}

#[test]
fn duplicate_entries_are_rejected() {
    let mut z = zip_with(
        &["evidence/a1", "evidence/a2", "envelope.dsse.json"],
        &[b"x", b"y", b"{}"],
    );
    assert_eq!(patch_all(&mut z, b"evidence/a2", b"evidence/a1"), 2);
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(is_rule(&e, Rule::UniqueNames), "{e}");
}

#[test]
fn zip_bomb_ratio_is_rejected() {
    // The writer would STORE this member (its DEFLATE ratio is over the
    // limit); an attacker's writer DEFLATEs it.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let mut z = common::hostile::Z::default();
    let mut e = common::hostile::entry("evidence/bomb", &zeros);
    e.method = blyss_evidence::bundle::container::DEFLATED;
    e.data = common::hostile::deflate(&zeros);
    e.csize = e.data.len() as u32;
    z.entries.push(e);
    z.entries
        .push(common::hostile::entry("envelope.dsse.json", b"{}"));
    let err = Bundle::from_bytes(&z.build(), "t").unwrap_err();
    assert!(matches!(err, BundleError::Ratio { .. }), "{err}");
    assert!(err.to_string().contains("zip bomb"), "{err}");
}

#[test]
fn truncated_zip_is_rejected() {
    for cut in [REAL.len() / 2, REAL.len() - 10, 30] {
        let e = Bundle::from_bytes(&REAL[..cut], "t").unwrap_err();
        assert!(
            matches!(e, BundleError::NotZip(_) | BundleError::Zip(_)),
            "{e}"
        );
    }
}

#[test]
fn non_zip_and_empty_files_are_rejected() {
    assert!(matches!(
        Bundle::from_bytes(b"{\"not\": \"a zip\"}", "t"),
        Err(BundleError::NotZip(_))
    ));
    assert!(matches!(
        Bundle::from_bytes(b"", "t"),
        Err(BundleError::Empty)
    ));
}

#[test]
fn missing_or_unparsable_envelope_is_rejected() {
    let z = zip_with(&["evidence/a"], &[b"x"]);
    assert!(matches!(
        Bundle::from_bytes(&z, "t"),
        Err(BundleError::MissingEnvelope)
    ));
    let z = zip_with(&["evidence/a", "envelope.dsse.json"], &[b"x", b"not json"]);
    assert!(matches!(
        Bundle::from_bytes(&z, "t"),
        Err(BundleError::Envelope(_))
    ));
}

#[test]
fn corrupted_compressed_data_is_a_read_error() {
    let mut z = REAL.to_vec();
    // Flip a byte inside the first entry's compressed data (after its header).
    let pos = 30 + "envelope.dsse.json".len() + 40;
    z[pos] ^= 0xff;
    assert!(Bundle::from_bytes(&z, "t").is_err());
}

#[test]
fn symlink_entry_is_rejected() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    w.add_symlink("evidence/link", "/etc/passwd", o).unwrap();
    let z = w.finish().unwrap().into_inner();
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
}

#[test]
fn encrypted_entry_is_rejected() {
    let mut z = zip_with(&["evidence/a", "envelope.dsse.json"], &[b"x", b"{}"]);
    // Set general-purpose bit 0 (encrypted) in every local and central header.
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let mut i = 0;
        while let Some(p) = z[i..].windows(4).position(|w| w == sig) {
            let at = i + p;
            let flag_off = if sig == b"PK\x03\x04" { at + 6 } else { at + 8 };
            z[flag_off] |= 1;
            i = at + 4;
        }
    }
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");
}

#[test]
fn too_many_entries_are_rejected() {
    // The writer refuses this many; an attacker's writer does not.
    let mut z = common::hostile::Z::default();
    for i in 0..10_001 {
        z.entries
            .push(common::hostile::entry(&format!("evidence/{i:05}"), b"x"));
    }
    let e = Bundle::from_bytes(&z.build(), "t").unwrap_err();
    assert!(matches!(e, BundleError::TooManyEntries(10_001)), "{e}");
}

#[test]
fn non_utf8_byte_inside_a_secret_name_fails_without_panic() {
    // Caught by the tamper campaign (tests/tamper_campaign.rs): a byte of
    // attestation.json flipped to a non-UTF-8 value inside `NAME=` made the
    // redactor slice the (lossily decoded) document inside U+FFFD and panic.
    let mut e = entries(REAL);
    let path = "evidence/attestation.json";
    let doc = e.get_mut(path).unwrap();
    let at = doc
        .windows(23)
        .position(|w| w == b"HUGGING_FACE_HUB_TOKEN=")
        .unwrap();
    doc[at + 3] = 0x92;
    let r = run(&rezip(&e)).unwrap();
    assert_eq!(r.verdict.status, Verdict::Fail);
    assert_eq!(status(&r, "bundle.integrity"), Status::Fail);
}
