//! The seven real responses of the 2025 H100 case, and negatives built by
//! code (flipped bytes, foreign responders, revoked and on-hold statuses
//! minted with a test PKI).

use super::testca::{self, Mint};
use super::*;
use crate::evidence::gpu::rim::{Rim, RimKind};

const CASE: &str = "../../../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/";

macro_rules! fixture {
    ($f:literal) => {
        include_bytes!(concat!(
            "../../../../fixtures/field/nv-h100-2025-drv550.90.07-with-rims-ocsp/",
            $f
        ))
    };
}

/// (member name, bytes as committed: base64 of DER).
fn real() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (
            "l2",
            fixture!("test_gpu_certificate_l2_base64encoded_ocsp_response.dat"),
        ),
        (
            "l3",
            fixture!("test_gpu_certificate_l3_base64encoded_ocsp_response.dat"),
        ),
        (
            "l4",
            fixture!("test_gpu_certificate_l4_base64encoded_ocsp_response.dat"),
        ),
        (
            "drv_l3",
            fixture!("test_gpu_driver_rim_l3_base64encoded_ocsp_response.dat"),
        ),
        (
            "drv_l4",
            fixture!("test_gpu_driver_rim_l4_base64encoded_ocsp_response.dat"),
        ),
        (
            "rim_l2",
            fixture!("test_gpu_rim_l2_base64encoded_ocsp_response.dat"),
        ),
        (
            "vbios_l4",
            fixture!("test_gpu_vbios_l4_base64encoded_ocsp_response.dat"),
        ),
    ]
}

/// Every chain of the case, leaf first: device, driver RIM, VBIOS RIM.
fn chains() -> Vec<Vec<CertInfo>> {
    let _ = CASE;
    let pem = std::str::from_utf8(fixture!("device_cert_chain.pem")).unwrap();
    let device: Vec<CertInfo> = pem
        .split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("BEGIN"))
        .map(|b| CertInfo::parse(&certs::pem_to_der(b).unwrap()).unwrap())
        .collect();
    assert_eq!(device.len(), 5);
    let rim = |kind, text: &[u8]| -> Vec<CertInfo> {
        let r = Rim::parse(kind, std::str::from_utf8(text).unwrap()).unwrap();
        r.signature
            .certs
            .iter()
            .map(|d| CertInfo::parse(d).unwrap())
            .collect()
    };
    vec![
        device,
        rim(
            RimKind::Driver,
            fixture!("NV_GPU_DRIVER_GH100_550.90.07.xml"),
        ),
        rim(
            RimKind::Vbios,
            fixture!("NV_GPU_VBIOS_1010_0200_882_96009F0001.xml"),
        ),
    ]
}

/// The (certificate, issuer) a response names; exactly one must exist.
fn target<'a>(r: &Response, chains: &'a [Vec<CertInfo>]) -> (&'a CertInfo, &'a CertInfo) {
    let mut hits: Vec<(&CertInfo, &CertInfo)> = Vec::new();
    for c in chains {
        for w in c.windows(2) {
            if r.singles.iter().any(|s| s.names(&w[0], &w[1]))
                && !hits.iter().any(|(h, _)| h.sha256 == w[0].sha256)
            {
                hits.push((&w[0], &w[1]));
            }
        }
    }
    assert_eq!(
        hits.len(),
        1,
        "{} names {} certificates",
        r.member,
        hits.len()
    );
    hits[0]
}

fn t(s: &str) -> OffsetDateTime {
    crate::util::parse_time(s).unwrap()
}

#[test]
fn each_real_response_verifies_and_is_fresh_at_its_own_produced_at() {
    let chains = chains();
    let mut named = Vec::new();
    for (name, bytes) in real() {
        let r = Response::parse(name, bytes).unwrap();
        let (cert, issuer) = target(&r, &chains);
        named.push((cert.sha256.clone(), cert.subject.clone()));
        let who = r.verify_signer(issuer).unwrap();
        assert!(who.contains("NVIDIA OCSP Responder"), "{name}: {who}");
        assert!(who.contains("delegated"), "{name}: {who}");
        let j = judge(cert, issuer, std::slice::from_ref(&r), r.produced_at);
        assert_eq!(j.outcome, Outcome::Fresh, "{name}");
        assert_eq!(j.state.as_deref(), Some("good"));
        assert_eq!(j.member.as_deref(), Some(name));
    }
    // The seven responses name seven distinct certificates, none of them
    // the per-boot FMC leaf or a root.
    named.sort();
    named.dedup();
    assert_eq!(named.len(), 7, "{named:?}");
    assert!(!named
        .iter()
        .any(|(_, n)| n.contains("FMC LF") || n.contains("Root CA")));
}

#[test]
fn real_responses_are_stale_in_december_2026_never_fresh() {
    let chains = chains();
    for (name, bytes) in real() {
        let r = Response::parse(name, bytes).unwrap();
        let (cert, issuer) = target(&r, &chains);
        let j = judge(
            cert,
            issuer,
            std::slice::from_ref(&r),
            t("2026-12-05T00:00:00Z"),
        );
        assert!(
            matches!(&j.outcome, Outcome::Stale(w) if w.contains("nextUpdate")),
            "{name}: {:?}",
            j.outcome
        );
    }
}

#[test]
fn a_time_before_this_update_is_stale() {
    let chains = chains();
    let (name, bytes) = real()[0];
    let r = Response::parse(name, bytes).unwrap();
    let (cert, issuer) = target(&r, &chains);
    let j = judge(cert, issuer, &[r], t("2025-08-20T00:00:00Z"));
    assert!(matches!(&j.outcome, Outcome::Stale(w) if w.contains("thisUpdate")));
}

#[test]
fn der_and_base64_members_parse_to_the_same_response() {
    let (_, b64) = real()[2];
    let der = decode_member(b64).unwrap();
    assert_eq!(der[0], 0x30);
    let a = Response::parse("a", b64).unwrap();
    let b = Response::parse("b", &der).unwrap();
    assert_eq!(a.tbs, b.tbs);
    assert_eq!(a.produced_at, b.produced_at);
}

#[test]
fn flipped_signature_byte_is_an_invalid_response() {
    let chains = chains();
    for (name, bytes) in real() {
        let mut der = decode_member(bytes).unwrap();
        let r = Response::parse(name, &der).unwrap();
        let (cert, issuer) = target(&r, &chains);
        // The last byte of the ECDSA signature (inside `s`; DER stays valid).
        let at = der
            .windows(r.signature.len())
            .position(|w| w == r.signature)
            .unwrap()
            + r.signature.len()
            - 1;
        der[at] ^= 0x01;
        let bad = Response::parse(name, &der).unwrap();
        let j = judge(cert, issuer, &[bad], r.produced_at);
        assert!(
            matches!(&j.outcome, Outcome::Invalid(e) if e.contains("does not verify")),
            "{name}: {:?}",
            j.outcome
        );
    }
}

#[test]
fn flipped_byte_in_the_signed_data_is_an_invalid_response() {
    let chains = chains();
    let (name, bytes) = real()[1];
    let mut der = decode_member(bytes).unwrap();
    let r = Response::parse(name, &der).unwrap();
    let (cert, issuer) = target(&r, &chains);
    // producedAt's seconds digit: still a valid time, no longer signed.
    let gt = b"20250821064707Z";
    let at = der.windows(gt.len()).position(|w| w == gt).unwrap() + 13;
    der[at] = b'8';
    let bad = Response::parse(name, &der).unwrap();
    let j = judge(cert, issuer, &[bad], r.produced_at);
    assert!(matches!(j.outcome, Outcome::Invalid(_)), "{:?}", j.outcome);
}

#[test]
fn a_response_for_another_certificate_names_nothing_and_leaves_it_missing() {
    let chains = chains();
    let rs: Vec<Response> = real()
        .into_iter()
        .map(|(n, b)| Response::parse(n, b).unwrap())
        .collect();
    // The BROM (device L4) judged with only the L2 and L3 responses.
    let brom = &chains[0][1];
    let ica = &chains[0][2];
    let j = judge(brom, ica, &rs[..2], rs[0].produced_at);
    assert_eq!(j.outcome, Outcome::Missing);
    // The per-boot FMC leaf has no response at all.
    let j = judge(&chains[0][0], brom, &rs, rs[0].produced_at);
    assert_eq!(j.outcome, Outcome::Missing);
}

#[test]
fn a_response_naming_an_issuer_but_judged_against_another_issuer_is_refused() {
    // The L4 response judged as if the BROM's issuer were GH100 Identity:
    // the CertID's issuer hashes do not match, so it names nothing.
    let chains = chains();
    let r = Response::parse("l4", real()[2].1).unwrap();
    assert!(!r.singles[0].names(&chains[0][1], &chains[0][3]));
    assert!(r.singles[0].names(&chains[0][1], &chains[0][2]));
}

/// A test PKI: root → ICA → leaf, responder issued by the ICA.
struct Pki {
    ica: testca::Issued,
    leaf: testca::Issued,
    responder: testca::Issued,
}

fn pki(seed: &str) -> Pki {
    let root = testca::root(seed);
    let ica = testca::issue(&root, &format!("ICA {seed}"), 2, true, false);
    let leaf = testca::issue(&ica, &format!("leaf {seed}"), 3, false, false);
    let responder = testca::issue(&ica, &format!("OCSP responder {seed}"), 4, false, true);
    Pki {
        ica,
        leaf,
        responder,
    }
}

const P: u64 = 1_750_000_000; // 2025-06-15

fn mint(p: &Pki, signer: &testca::Issued, status: CertStatus) -> Response {
    let der = testca::mint(&Mint {
        cert: &p.leaf.der,
        issuer: &p.ica.der,
        signer,
        status,
        produced_at: P,
        this_update: P,
        next_update: Some(P + 86_400),
    });
    Response::parse("minted", &der).unwrap()
}

fn judge_minted(p: &Pki, r: Response) -> Outcome {
    let leaf = CertInfo::parse(&p.leaf.der).unwrap();
    let ica = CertInfo::parse(&p.ica.der).unwrap();
    judge(
        &leaf,
        &ica,
        &[r],
        OffsetDateTime::from_unix_timestamp(P as i64 + 60).unwrap(),
    )
    .outcome
}

#[test]
fn minted_good_response_from_a_delegated_responder_is_fresh() {
    // The positive control for the minted negatives below.
    let p = pki("good");
    let r = mint(&p, &p.responder, CertStatus::good());
    assert_eq!(judge_minted(&p, r), Outcome::Fresh);
}

#[test]
fn minted_response_signed_by_the_issuing_ca_itself_is_fresh() {
    let p = pki("ca-signed");
    let r = mint(&p, &p.ica, CertStatus::good());
    assert_eq!(judge_minted(&p, r), Outcome::Fresh);
}

#[test]
fn revoked_response_fails() {
    let p = pki("revoked");
    let info = x509_ocsp::RevokedInfo {
        revocation_time: x509_ocsp::OcspGeneralizedTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(P - 10))
                .unwrap(),
        ),
        revocation_reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
    };
    let o = judge_minted(&p, mint(&p, &p.responder, CertStatus::revoked(info)));
    assert!(
        matches!(&o, Outcome::Bad(s) if s.contains("revoked") && s.contains("KeyCompromise")),
        "{o:?}"
    );
    assert!(o.fails());
}

#[test]
fn on_hold_response_fails() {
    let p = pki("hold");
    let info = x509_ocsp::RevokedInfo {
        revocation_time: x509_ocsp::OcspGeneralizedTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(P - 10))
                .unwrap(),
        ),
        revocation_reason: Some(x509_cert::ext::pkix::CrlReason::CertificateHold),
    };
    let o = judge_minted(&p, mint(&p, &p.responder, CertStatus::revoked(info)));
    assert!(
        matches!(&o, Outcome::Bad(s) if s.contains("CertificateHold")),
        "{o:?}"
    );
}

#[test]
fn unknown_status_fails() {
    let p = pki("unknown");
    let o = judge_minted(&p, mint(&p, &p.responder, CertStatus::unknown()));
    assert!(o.fails(), "{o:?}");
}

#[test]
fn responder_issued_by_another_ca_is_refused() {
    let p = pki("foreign");
    let other = testca::root("other");
    let foreign = testca::issue(&other, "foreign OCSP responder", 9, false, true);
    let o = judge_minted(&p, mint(&p, &foreign, CertStatus::good()));
    assert!(
        matches!(&o, Outcome::Invalid(e) if e.contains("not by the certificate's issuer")),
        "{o:?}"
    );
}

#[test]
fn responder_without_the_ocsp_signing_eku_is_refused() {
    let p = pki("no-eku");
    let plain = testca::issue(&p.ica, "not a responder", 7, false, false);
    let o = judge_minted(&p, mint(&p, &plain, CertStatus::good()));
    assert!(
        matches!(&o, Outcome::Invalid(e) if e.contains("OCSPSigning")),
        "{o:?}"
    );
}

#[test]
fn real_l4_answer_forged_by_a_test_responder_is_refused() {
    // A test responder outside the trust set answers `good` for the real
    // BROM certificate (a correct CertID): the signature is its own, but it
    // is not issued by the BROM's issuer.
    let chains = chains();
    let other = testca::root("forger");
    let forger = testca::issue(
        &other,
        "NVIDIA OCSP Responder L3 GH100 ICA1 Identity",
        5,
        false,
        true,
    );
    let der = testca::mint(&Mint {
        cert: &chains[0][1].der,
        issuer: &chains[0][2].der,
        signer: &forger,
        status: CertStatus::good(),
        produced_at: P,
        this_update: P,
        next_update: Some(P + 86_400),
    });
    let r = Response::parse("forged", &der).unwrap();
    let j = judge(
        &chains[0][1],
        &chains[0][2],
        &[r],
        t("2025-06-15T00:00:00Z"),
    );
    assert!(matches!(j.outcome, Outcome::Invalid(_)), "{:?}", j.outcome);
}

#[test]
fn a_revoked_answer_is_not_outweighed_by_a_fresh_good_one() {
    let p = pki("both");
    let info = x509_ocsp::RevokedInfo {
        revocation_time: x509_ocsp::OcspGeneralizedTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(P))
                .unwrap(),
        ),
        revocation_reason: None,
    };
    let good = mint(&p, &p.responder, CertStatus::good());
    let bad = mint(&p, &p.responder, CertStatus::revoked(info));
    let leaf = CertInfo::parse(&p.leaf.der).unwrap();
    let ica = CertInfo::parse(&p.ica.der).unwrap();
    let at = OffsetDateTime::from_unix_timestamp(P as i64 + 60).unwrap();
    for rs in [vec![good.clone(), bad.clone()], vec![bad, good]] {
        assert!(judge(&leaf, &ica, &rs, at).outcome.fails());
    }
}

#[test]
fn truncated_and_garbage_input_is_refused_without_panicking() {
    let der = decode_member(real()[0].1).unwrap();
    for n in 0..der.len() {
        assert!(
            Response::parse("t", &der[..n]).is_err(),
            "prefix {n} accepted"
        );
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(Response::parse("t", &trailing).is_err());
    assert!(Response::parse("t", b"not base64 !!").is_err());
    assert!(Response::parse("t", &vec![b'A'; MAX_MEMBER + 1]).is_err());
    // A non-successful status is refused.
    assert!(Response::parse("t", &[0x30, 0x03, 0x0a, 0x01, 0x01]).is_err());
}

#[test]
fn cert_id_under_sha1_and_sha256_names_the_same_certificate() {
    // CertIDs are matched under whatever hash the response uses.
    use sha2::Digest;
    let chains = chains();
    let (brom, ica) = (&chains[0][1], &chains[0][2]);
    let tbs = &ica.cert.tbs_certificate;
    let name = tbs.subject.to_der().unwrap();
    let key = tbs.subject_public_key_info.subject_public_key.raw_bytes();
    let real = Response::parse("l4", real()[2].1).unwrap().singles[0].clone();
    for (alg, oid, n, k) in [
        (
            HashAlg::Sha1,
            "1.3.14.3.2.26",
            sha1::Sha1::digest(&name).to_vec(),
            sha1::Sha1::digest(key).to_vec(),
        ),
        (
            HashAlg::Sha256,
            "2.16.840.1.101.3.4.2.1",
            sha2::Sha256::digest(&name).to_vec(),
            sha2::Sha256::digest(key).to_vec(),
        ),
    ] {
        let mut s = real.clone();
        s.hash = HashAlg::from_oid(oid);
        assert_eq!(s.hash, Some(alg));
        s.issuer_name_hash = n;
        s.issuer_key_hash = k;
        assert!(s.names(brom, ica), "{oid}");
        // Hashes of one algorithm do not match under another.
        s.hash = Some(HashAlg::Sha384);
        assert!(!s.names(brom, ica), "{oid} as sha384");
    }
    // An algorithm we do not compute names nothing.
    let mut s = real.clone();
    s.hash = HashAlg::from_oid("1.2.3.4");
    assert!(!s.names(brom, ica));
}

#[test]
fn responder_id_that_names_no_embedded_certificate_is_refused() {
    // The L4 response with its embedded responder swapped for the L3
    // response's (a valid NVIDIA responder, but not the one named).
    let chains = chains();
    let mut r = Response::parse("l4", real()[2].1).unwrap();
    let other = Response::parse("l3", real()[1].1).unwrap();
    r.certs = other.certs.clone();
    let (cert, issuer) = target(&r, &chains);
    let j = judge(cert, issuer, &[r.clone()], r.produced_at);
    assert!(
        matches!(&j.outcome, Outcome::Invalid(e) if e.contains("no certificate in the response is the responder")),
        "{:?}",
        j.outcome
    );
}

#[test]
fn delegated_responder_is_judged_at_produced_at_not_later() {
    // NVIDIA's device-chain responders expired in 2025-09/12; the answers
    // still verify (at their producedAt) and are merely stale today.
    let chains = chains();
    let r = Response::parse("l2", real()[0].1).unwrap();
    let responder = &r.certs[0];
    assert!(responder.not_after < t("2026-01-01T00:00:00Z"));
    let (cert, issuer) = target(&r, &chains);
    assert!(r.verify_signer(issuer).is_ok());
    let j = judge(cert, issuer, &[r], t("2026-12-05T00:00:00Z"));
    assert!(matches!(j.outcome, Outcome::Stale(_)));
}
