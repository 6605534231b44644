//! Real Certificate Transparency data: a Let's Encrypt certificate for
//! lencr.org (January 2024) with two embedded SCTs (Let's Encrypt Oak
//! 2024H1, Google Argon2024), its issuer R3, the two logs' real keys, and a
//! real log list signed by Google (2021) with Google's list key.

use blyss_evidence::evidence::ct::loglist::{verify_signature, LogList};
use blyss_evidence::evidence::ct::precert::{issuer_key_hash, precert_leaf, precert_tbs};
use blyss_evidence::evidence::ct::sct::scts_from_cert;
use blyss_evidence::evidence::ct::verify::{judge_scts, load_cert, CertProblem};
use blyss_evidence::trust::TrustSet;

const LEAF: &[u8] = include_bytes!("../../fixtures/ct/le-2024/lencr.org.der");
const ISSUER: &[u8] = include_bytes!("../../fixtures/ct/le-2024/issuer-r3.der");
const LOGS: &[u8] = include_bytes!("../../fixtures/ct/le-2024/logs.json");
const LIST_2021: &[u8] = include_bytes!("../../fixtures/ct/google-log-list-2021/log_list.json");
const SIG_2021: &[u8] = include_bytes!("../../fixtures/ct/google-log-list-2021/log_list.sig");

/// The shipped log list: the two real logs of Google's v3 list 32.19
/// (2024-03-03), transcribed with their keys, ids, URLs, states and
/// intervals (fixtures/ATTRIBUTION.md).
fn le_2024_list() -> Vec<u8> {
    LOGS.to_vec()
}

fn at() -> time::OffsetDateTime {
    blyss_evidence::util::parse_time("2024-02-01T00:00:00Z").unwrap()
}

#[test]
fn both_real_scts_verify_against_the_real_log_keys() {
    let list = LogList::parse(&le_2024_list()).unwrap();
    let cert = load_cert(LEAF, Some(ISSUER)).unwrap();
    assert_eq!(cert.scts.len(), 2);
    let v = judge_scts(&cert, &list, at());
    let names: Vec<String> = v.iter().map(|s| s.log_name()).collect();
    assert_eq!(
        names,
        vec!["Let's Encrypt 'Oak2024H1' log", "Google 'Argon2024' log"]
    );
    for s in &v {
        assert!(s.ok(), "{}: {:?}", s.log_name(), s.failures());
        assert!(s.signature_ok());
    }
    let ops: Vec<&str> = v.iter().filter_map(|s| s.operator()).collect();
    assert_eq!(ops, vec!["Let's Encrypt", "Google"]);
    // RFC 6962 logs: no leaf_index extension.
    assert!(v.iter().all(|s| s.leaf_index.is_none()));
}

#[test]
fn real_scts_fail_with_the_wrong_issuer() {
    let list = LogList::parse(&le_2024_list()).unwrap();
    // The leaf itself is not its issuer: another SPKI, another issuer_key_hash.
    let cert = load_cert(LEAF, Some(LEAF)).unwrap();
    let v = judge_scts(&cert, &list, at());
    assert_eq!(v.len(), 2);
    for s in &v {
        assert!(
            !s.signature_ok(),
            "{} verified with the wrong issuer",
            s.log_name()
        );
        assert!(!s.ok());
    }
    // And without any issuer the leaf cannot be rebuilt at all.
    let cert = load_cert(LEAF, None).unwrap();
    for s in judge_scts(&cert, &list, at()) {
        assert!(!s.signature_ok());
        assert!(s.failures().iter().any(|r| r.detail.contains("issuer")));
    }
}

#[test]
fn real_scts_fail_when_the_tbs_is_modified() {
    let list = LogList::parse(&le_2024_list()).unwrap();
    // Change one byte of a SAN dNSName: still a well-formed certificate.
    let pos = LEAF
        .windows(19)
        .position(|w| w == b"www.letsencrypt.org")
        .unwrap();
    let mut modified = LEAF.to_vec();
    modified[pos] = b'x';
    let cert = load_cert(&modified, Some(ISSUER)).unwrap();
    for s in judge_scts(&cert, &list, at()) {
        assert!(
            !s.signature_ok(),
            "{} verified a modified TBS",
            s.log_name()
        );
    }
}

#[test]
fn the_precert_tbs_is_the_final_tbs_minus_exactly_the_sct_extension() {
    let tbs = precert_tbs(LEAF).unwrap();
    let scts = scts_from_cert(LEAF).unwrap().unwrap();
    // The SCT extension (OID + OCTET STRING with both SCTs) is gone ...
    assert!(!tbs
        .windows(10)
        .any(|w| w == [0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02]));
    assert!(!tbs.windows(32).any(|w| w == scts[0].log_id));
    // ... and the result is a DER TBSCertificate that x509-cert accepts.
    use der::Decode;
    let parsed = x509_cert::TbsCertificate::from_der(&tbs).unwrap();
    assert_eq!(parsed.subject.to_string(), "CN=lencr.org");
    // Every other extension survived unchanged.
    let full = x509_cert::Certificate::from_der(LEAF).unwrap();
    let before = full.tbs_certificate.extensions.unwrap();
    let after = parsed.extensions.unwrap();
    assert_eq!(after.len(), before.len() - 1);
    // The leaf the logs hashed embeds the rebuilt TBS verbatim.
    let leaf = precert_leaf(&scts[0], &tbs, &issuer_key_hash(ISSUER).unwrap()).unwrap();
    assert!(leaf.windows(tbs.len()).any(|w| w == tbs.as_slice()));
}

#[test]
fn the_real_google_log_list_signature_verifies_with_the_pinned_key() {
    let keys = TrustSet::production().ct_log_list_keys;
    assert_eq!(verify_signature(LIST_2021, SIG_2021, &keys).unwrap(), 0);
    let list = LogList::parse(LIST_2021).unwrap();
    assert!(list
        .logs
        .iter()
        .any(|l| l.description == "Google 'Argon2021' log"));
}

#[test]
fn a_one_byte_change_to_the_real_log_list_breaks_its_signature() {
    let keys = TrustSet::production().ct_log_list_keys;
    let mut changed = LIST_2021.to_vec();
    // Argon2021 → Argon2022 in a description: still valid JSON.
    let pos = changed
        .windows(10)
        .position(|w| w == b"Argon2021'")
        .unwrap();
    changed[pos + 8] = b'2';
    assert!(verify_signature(&changed, SIG_2021, &keys).is_err());
    let mut sig = SIG_2021.to_vec();
    sig[100] ^= 1;
    assert!(verify_signature(LIST_2021, &sig, &keys).is_err());
}

#[test]
fn the_2021_list_does_not_know_the_2024_logs() {
    let list = LogList::parse(LIST_2021).unwrap();
    let cert = load_cert(LEAF, Some(ISSUER)).unwrap();
    for s in judge_scts(&cert, &list, at()) {
        assert!(s.log.is_none());
        assert!(!s.ok());
    }
}

#[test]
fn a_certificate_without_scts_is_reported_as_such() {
    assert_eq!(load_cert(ISSUER, None).unwrap_err(), CertProblem::NoScts);
    assert!(matches!(
        load_cert(&LEAF[..100], None).unwrap_err(),
        CertProblem::Invalid(_)
    ));
}
