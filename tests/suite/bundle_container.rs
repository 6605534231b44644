//! Hostile-zip regression tests (issue 13): each finding is a container
//! built by committed code (`common/hostile.rs`) from the real fixture
//! bundle, and each must be refused: `Bundle::from_bytes` names the broken
//! rule, and `audit` exits 2 with a one-line reason. None may PASS.

use crate::common::hostile::{self, Case};

use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::Command;
use blyss_evidence::bundle::{Bundle, BundleBuilder, BundleError, Source};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("blyss-evidence").unwrap();
    c.env("SOURCE_DATE_EPOCH", "1764374400")
        .env_remove("XDG_CONFIG_HOME");
    c
}

fn cases() -> &'static [Case] {
    static C: OnceLock<Vec<Case>> = OnceLock::new();
    C.get_or_init(hostile::cases)
}

fn case(name: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no hostile case {name}"))
}

/// Runs `audit` on a file; asserts exit 2 and a one-line reason holding
/// `expect`; returns stderr.
fn audit_exits_2(path: &std::path::Path, expect: &str) -> String {
    let out = bin()
        .args([
            "audit",
            path.to_str().unwrap(),
            "--scope",
            "attestation",
            "--signer",
        ])
        .arg(root().join("fixtures/keys/fixture-collector.key.pub"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}: stderr {err}",
        path.display()
    );
    assert!(
        err.contains(expect),
        "{}: expected {expect:?} in {err}",
        path.display()
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one-line reason: {err}");
    err
}

/// The reader refuses the case with its rule, and so does the binary.
fn refused(name: &str) {
    let c = case(name);
    match Bundle::from_bytes(&c.bytes, "h.zip") {
        Ok(_) => panic!("{name}: the reader accepted a hostile container"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(c.expect), "{name}: {msg}");
            assert!(
                !matches!(e, BundleError::Zip(_)),
                "{name}: refused for a typed reason, not a generic zip error: {msg}"
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("{name}.zip"));
    std::fs::write(&p, &c.bytes).unwrap();
    audit_exits_2(&p, c.expect);
}

macro_rules! refusal_tests {
    ($($test:ident => $case:literal),* $(,)?) => {
        $(#[test] fn $test() { refused($case); })*
    };
}

refusal_tests! {
    eocd_count_3_with_4_central_entries_is_refused => "eocd_count_3_with_4_central_entries",
    second_zip_appended_after_a_valid_bundle_is_refused => "second_zip_appended",
    classic_and_zip64_eocd_pointing_at_different_directories_are_refused => "classic_and_zip64_eocd_disagree",
    count_wrapping_at_65539_entries_is_refused_with_the_real_count => "count_wraps_65539_entries",
    local_header_name_differing_from_central_is_refused => "local_header_name_differs",
    local_header_method_differing_from_central_is_refused => "local_header_method_differs",
    local_header_flags_differing_from_central_are_refused => "local_header_flags_differ",
    honest_data_descriptors_are_refused => "data_descriptor_honest",
    lying_data_descriptor_is_refused => "data_descriptor_lying",
    bytes_prepended_with_adjusted_offsets_are_refused => "bytes_prepended_offsets_adjusted",
    bytes_appended_after_the_eocd_are_refused => "bytes_appended",
    a_64k_archive_comment_is_refused => "comment_64k",
    zip64_extra_fields_are_refused => "zip64_extra_fields",
    case_variant_names_are_refused_even_when_signed => "case_variant_names_signed",
    file_beside_same_named_directory_is_refused_even_when_signed => "file_beside_same_named_directory_signed",
    three_central_entries_sharing_one_deflate_bomb_are_refused => "three_entries_share_one_deflate_bomb",
    two_central_entries_sharing_one_stream_are_refused_as_overlap => "two_entries_share_one_stream",
    aes_encrypted_entry_is_refused_as_encrypted => "aes_encrypted_entry",
    directory_entry_is_refused_as_a_directory_not_a_traversal => "directory_entry",
    bundle_repacked_by_a_zip_tool_is_refused_saying_so => "repacked_by_zip_tool",
}

#[test]
fn every_hostile_case_has_a_refusal_test() {
    // The list above covers the generator: a case added without a test fails.
    let src = include_str!("bundle_container.rs");
    for c in cases() {
        assert!(
            src.contains(&format!("=> \"{}\"", c.name)),
            "{} untested",
            c.name
        );
    }
}

#[test]
fn directory_entry_message_does_not_suggest_path_traversal() {
    let e = Bundle::from_bytes(&case("directory_entry").bytes, "d.zip").unwrap_err();
    let m = e.to_string();
    assert!(m.contains("re-packed by another zip tool"), "{m}");
    assert!(!m.contains(".."), "{m}");
}

#[test]
fn audit_of_dev_zero_exits_2_at_once_saying_character_device() {
    audit_exits_2(std::path::Path::new("/dev/zero"), "a character device");
}

#[test]
fn audit_of_a_fifo_exits_2_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fifo.zip");
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(ok.success());
    // No writer ever opens the FIFO: a reader that opened it would block
    // until the 60 s timeout of `audit_exits_2`.
    audit_exits_2(&p, "a FIFO");
}

#[test]
fn audit_of_a_sparse_4_gib_file_exits_2_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sparse.zip");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(4 << 30).unwrap();
    audit_exits_2(&p, "more than any bundle may be");
}

#[test]
fn audit_of_a_missing_file_prints_the_os_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("missing.zip");
    let err = audit_exits_2(&p, "No such file or directory");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

fn resigned_file(
    dir: &std::path::Path,
    edit: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<u8>>),
    st: impl FnOnce(&mut blyss_evidence::bundle::format::Statement),
) -> PathBuf {
    let mut m = hostile::real_members();
    edit(&mut m);
    let mut signed = hostile::resign(&m, st);
    // A member name only the test adds after signing stays (e.g. extra).
    for (k, v) in m {
        signed.entry(k).or_insert(v);
    }
    let r: std::collections::BTreeMap<String, &[u8]> = signed
        .iter()
        .map(|(k, v)| (k.clone(), v.as_slice()))
        .collect();
    let bytes = blyss_evidence::bundle::write_zip(&r).unwrap();
    let p = dir.join("resigned.zip");
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn resigned_unmodified_bundle_still_passes_so_the_negative_tests_below_mean_something() {
    let dir = tempfile::tempdir().unwrap();
    let p = resigned_file(dir.path(), |_| (), |_| ());
    bin()
        .args([
            "audit",
            p.to_str().unwrap(),
            "--scope",
            "attestation",
            "--signer",
        ])
        .arg(root().join("fixtures/keys/fixture-collector.key.pub"))
        .assert()
        .code(0);
}

#[test]
fn unknown_predicate_type_is_not_this_format_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = resigned_file(
        dir.path(),
        |_| (),
        |s| s.predicate_type = "https://blyss-evidence.dev/collection/v9".into(),
    );
    audit_exits_2(&p, "not a bundle of this format");
}

#[test]
fn extra_top_level_member_is_not_this_format_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = resigned_file(
        dir.path(),
        |m| {
            m.insert("README.txt".into(), b"hello".to_vec());
        },
        |_| (),
    );
    audit_exits_2(&p, "unexpected top-level member");
}

#[test]
fn statement_time_with_offset_or_fraction_is_refused() {
    for (t, what) in [
        ("2024-01-15T14:00:00+14:00", "offset"),
        ("2024-01-15T00:00:00.5Z", "fraction"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = resigned_file(dir.path(), |_| (), |s| s.predicate.started_at = t.into());
        let err = audit_exits_2(&p, "YYYY-MM-DDTHH:MM:SSZ");
        assert!(err.contains(t), "{what}: {err}");
    }
}

#[test]
fn private_key_in_signer_pem_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = resigned_file(dir.path(), |_| (), |_| ());
    // Replace signer.pem by the private key (an easy mistake to make).
    let mut m: std::collections::BTreeMap<String, Vec<u8>> =
        blyss_evidence::bundle::container::read(&std::fs::read(&p).unwrap())
            .unwrap()
            .into_iter()
            .map(|x| (x.name, x.data))
            .collect();
    m.insert(
        "signer.pem".into(),
        hostile::FIXTURE_KEY.as_bytes().to_vec(),
    );
    let r: std::collections::BTreeMap<String, &[u8]> =
        m.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect();
    std::fs::write(&p, blyss_evidence::bundle::write_zip(&r).unwrap()).unwrap();
    audit_exits_2(&p, "signer.pem holds a PRIVATE key");
}

#[test]
fn private_key_given_as_signer_is_refused() {
    let out = bin()
        .args(["audit"])
        .arg(root().join("fixtures/bundles/blyss-2024-01.zip"))
        .args(["--scope", "attestation", "--signer"])
        .arg(root().join("fixtures/keys/fixture-collector.key"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds a PRIVATE key where a public key is expected"),
        "{err}"
    );
}

#[test]
fn whitespace_padded_5_mib_document_is_stored_and_reads_back() {
    let real = hostile::real_members();
    let mut doc = real["evidence/attestation.json"].clone();
    let end = doc.iter().rposition(|&c| c == b'}').unwrap();
    doc.splice(end..end, std::iter::repeat_n(b' ', 5 << 20));
    let at = blyss_evidence::util::parse_time("2024-01-15T00:00:00Z").unwrap();
    let mut b = BundleBuilder::new("https://example.test", "v0.0.1", at);
    b.add("attestation.json", doc.clone(), Source::file(at))
        .unwrap();
    let key = blyss_evidence::bundle::keys::parse_private(hostile::FIXTURE_KEY, "k").unwrap();
    let zip = b.seal(at, &key).unwrap();
    let members = blyss_evidence::bundle::container::read(&zip).unwrap();
    let m = members
        .iter()
        .find(|m| m.name == "evidence/attestation.json")
        .unwrap();
    assert_eq!(m.method, blyss_evidence::bundle::container::STORED);
    let bundle = Bundle::from_bytes(&zip, "w.zip").unwrap();
    assert_eq!(
        bundle.member("evidence/attestation.json").unwrap(),
        doc.as_slice()
    );
}

#[test]
fn writer_refuses_to_emit_a_member_holding_the_eocd_signature_when_stored() {
    // Incompressible data with the signature inside: STORED (the level-6
    // stream does not shrink), so the container would hold a second EOCD
    // signature; the writer refuses instead of emitting it.
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut data: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    data[100..104].copy_from_slice(b"PK\x05\x06");
    let mut m = std::collections::BTreeMap::new();
    m.insert("evidence/firmware/x.bin".to_string(), data.as_slice());
    match blyss_evidence::bundle::write_zip(&m) {
        Err(BundleError::WouldBeRefused(e)) => {
            assert!(e.to_string().contains("single-eocd"), "{e}")
        }
        other => panic!("expected WouldBeRefused, got {:?}", other.map(|v| v.len())),
    }
}

#[test]
fn zip64_archive_of_100003_entries_is_refused_with_the_real_count() {
    // The `zip` crate (a lenient third-party writer) switches to ZIP64
    // above 65,535 entries; the refusal names the real count and the limit.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..100_003 {
        w.start_file(format!("evidence/{i:06}"), o).unwrap();
    }
    let z = w.finish().unwrap().into_inner();
    let e = Bundle::from_bytes(&z, "t").unwrap_err();
    assert!(matches!(e, BundleError::TooManyEntries(100_003)), "{e}");
    assert!(e.to_string().contains("100003 (limit 10000)"), "{e}");
}
