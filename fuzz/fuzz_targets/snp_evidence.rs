//! SEV-SNP evidence parsers: the Blyss kernel command line, report fields,
//! AMD certificates (VCEK extensions, PSS parameters) and CRLs.
#![no_main]
use blyss_evidence::evidence::amd::{self, Crl, Product, ReportFields, Tcb, VcekExtensions};
use blyss_evidence::evidence::attestation::REPORT_LEN;
use blyss_evidence::evidence::cmdline::{Cmdline, DmVerity, ImageRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = Cmdline::parse(s) {
            for i in &c.images {
                let _ = i.env_names();
            }
        }
        let _ = DmVerity::parse(s);
        let _ = ImageRef::parse(s);
    }
    if let Ok(r) = <[u8; REPORT_LEN]>::try_from(data.get(..REPORT_LEN).unwrap_or(&[])) {
        let f = ReportFields::parse(&r);
        let _ = amd::report_signature(&f);
        for p in Product::ALL {
            let _ = Tcb::decode(f.reported_tcb, p).to_string();
        }
    }
    if let Ok(c) = amd::parse_cert(data, "fuzz") {
        let _ = VcekExtensions::parse(&c).map(|x| x.tcb(Product::Turin));
        let _ = amd::check_pss_params(&c.signature_algorithm);
        let _ = amd::basic_constraints(&c);
        let _ = amd::key_cert_sign(&c);
        let _ = amd::vcek_public_key(&c);
        let _ = amd::validity(&c);
        let _ = amd::common_name(&c.tbs_certificate.issuer);
    }
    let _ = amd::tbs_bytes(data);
    let _ = Crl::parse(data);
});
