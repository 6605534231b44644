//! SCT lists and certificates (CT): the embedded SCT list parser, the
//! precertificate rebuild (SCT extension spliced out of the TBS), the issuer
//! key hash and `DigitallySigned` parsing must never panic, and must agree
//! with each other on what they accept.
#![no_main]
use blyss_evidence::evidence::ct::{precert, sct, sig, verify};
use der::Decode;
use libfuzzer_sys::fuzz_target;

const ISSUER: &[u8] = include_bytes!("../../fixtures/ct/le-2024/issuer-r3.der");

fuzz_target!(|data: &[u8]| {
    // The input as a certificate.
    let scts = sct::scts_from_cert(data);
    let tbs = precert::precert_tbs(data);
    if let Ok(Some(list)) = &scts {
        assert!(!list.is_empty(), "a parsed SCT list is never empty");
        // A certificate whose SCTs parse has a rebuildable precert TBS, and
        // that TBS is itself strict DER.
        let tbs = tbs.as_ref().expect("SCTs parsed but no precert TBS");
        x509_cert::TbsCertificate::from_der(tbs).expect("rebuilt precert TBS is not valid DER");
        let ikh = precert::issuer_key_hash(ISSUER).unwrap();
        for s in list {
            let _ = s.leaf_index();
            let leaf = precert::precert_leaf(s, tbs, &ikh).unwrap();
            let _ = precert::leaf_hash(&leaf);
        }
    }
    let _ = precert::spki_der(data);
    let _ = verify::load_cert(data, Some(ISSUER));
    let _ = verify::load_cert(ISSUER, Some(data));
    // The input as a TLS-encoded SCT list, one SCT, a DigitallySigned, a key.
    if let Ok(list) = sct::parse_sct_list(data) {
        for s in &list {
            assert_eq!(sct::Sct::parse(&s.raw).as_ref(), Ok(s), "SCT re-parse differs");
            let _ = s.leaf_index();
        }
    }
    let _ = sct::Sct::parse(data);
    let _ = sct::parse_leaf_index(data);
    let _ = sig::DigitallySigned::parse(data, "fuzz");
    let _ = sig::key_kind(data);
});
