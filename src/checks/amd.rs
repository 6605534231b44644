//! `amd.*`: the AMD certificate chain behind the report — ARK → ASK → VCEK
//! anchored on the trust set only, the product line, roots found in the
//! bundle, the KDS CRL and a KDS-fetched VCEK.

use time::OffsetDateTime;

use super::{CheckResult, Context};
use crate::evidence::amd::{
    self, Crl, EndorsementKey, Product, ProductFinding, ReportFields, Roots, Tcb,
};
use crate::evidence::attestation::AttestationDocument;
use crate::evidence::layout;
use crate::util::{fmt_time, sha256_hex, short_hex};

const SPEC_CHAIN: &str = "AMD VCEK/KDS spec 57230 (ARK self-signed, ASK signed by ARK, VCEK signed by ASK; for a VLEK: ASVK signed by ARK, VLEK signed by ASVK; RSASSA-PSS); RFC 4055 §3.1 (PSS parameters); RFC 5280 §4.1.2.4–5, §4.2.1.3, §4.2.1.9";

const IDS: [(&str, &str); 5] = [
    ("amd.chain", "VCEK ← ASK ← ARK"),
    ("amd.product", "Product line"),
    ("amd.root-pinned", "Bundle roots equal the pinned roots"),
    ("amd.crl", "AMD CRL"),
    ("amd.vcek-kds", "KDS VCEK equals the attestation's VCEK"),
];

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => {
            return IDS
                .iter()
                .map(|(id, title)| {
                    CheckResult::fail(id, title, format!("no attestation evidence: {e}"))
                        .spec(SPEC_CHAIN)
                })
                .collect()
        }
    };
    let (roots, trust_problems) = amd::trusted_roots(ctx.trust);
    let fields = ReportFields::parse(&doc.report);
    let kind = EndorsementKey::claimed_by(&fields);
    let finding = ProductFinding::gather(&fields, &doc.vcek_der, &roots);
    let a = Analysis {
        ctx,
        doc,
        fields,
        roots,
        trust_problems,
        finding,
        vcek_path: super::snp::vcek_member(ctx, doc),
        kind,
    };
    vec![
        a.chain(),
        a.product(),
        a.root_pinned(),
        a.crl(),
        a.vcek_kds(),
    ]
}

struct Analysis<'a> {
    ctx: &'a Context<'a>,
    doc: &'a AttestationDocument,
    fields: ReportFields,
    roots: Vec<Roots>,
    trust_problems: Vec<String>,
    finding: ProductFinding,
    vcek_path: String,
    /// What the report claims signed it (SIGNING_KEY): VCEK or VLEK.
    kind: EndorsementKey,
}

fn anchored(roots: &[Roots]) -> String {
    if roots.is_empty() {
        "none".into()
    } else {
        roots
            .iter()
            .map(|r| r.product.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Checks of one certificate of the chain, appended to `problems`.
fn check_validity(
    c: &x509_cert::Certificate,
    what: &str,
    at: OffsetDateTime,
    problems: &mut Vec<String>,
) {
    match amd::validity(c) {
        Ok((nb, na)) => {
            if at < nb || at > na {
                // "expired" / "not yet valid" let the audit add the
                // `--at` / `--observed-at` remedy (checks::add_time_remedy).
                problems.push(format!(
                    "{what} is not valid at {} (valid {} to {}): {}",
                    fmt_time(at),
                    fmt_time(nb),
                    fmt_time(na),
                    if at < nb { "not yet valid" } else { "expired" }
                ));
            }
        }
        Err(e) => problems.push(format!("{what} validity: {e}")),
    }
}

fn check_ca(c: &x509_cert::Certificate, what: &str, problems: &mut Vec<String>) {
    match amd::basic_constraints(c) {
        Ok(Some((true, _))) => {}
        Ok(Some((false, _))) => problems.push(format!("{what} BasicConstraints cA is false")),
        Ok(None) => problems.push(format!("{what} has no BasicConstraints (must be a CA)")),
        Err(e) => problems.push(format!("{what}: {e}")),
    }
    match amd::key_cert_sign(c) {
        Ok(Some(false)) => problems.push(format!("{what} KeyUsage lacks keyCertSign")),
        Err(e) => problems.push(format!("{what}: {e}")),
        _ => {}
    }
    match amd::rsa_public_key(c) {
        Ok(k) if amd::rsa_bits(&k) == 4096 => {}
        Ok(k) => problems.push(format!(
            "{what} RSA key is {} bits, expected 4096",
            amd::rsa_bits(&k)
        )),
        Err(e) => problems.push(format!("{what}: {e}")),
    }
}

fn cn(name: &x509_cert::name::Name) -> String {
    amd::common_name(name).unwrap_or_else(|| "(no single CN)".into())
}

impl Analysis<'_> {
    fn base(&self, r: CheckResult) -> CheckResult {
        r.evidence(self.doc.source.clone())
            .evidence(self.vcek_path.clone())
    }

    fn chain_product(&self) -> Option<Product> {
        match self.finding.by_signature.as_slice() {
            [p] => Some(*p),
            _ => None,
        }
    }

    fn chain(&self) -> CheckResult {
        const ID: &str = "amd.chain";
        let kind = self.kind;
        let (k, sk) = (kind.name(), kind.signer_name());
        let title = format!("{k} ← {sk} ← ARK");
        let title = title.as_str();
        let at = self.ctx.eval_time;
        let fail = |s: String| self.base(CheckResult::fail(ID, title, s)).spec(SPEC_CHAIN);
        let vcek = match amd::parse_cert(&self.doc.vcek_der, &format!("the {k}")) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let issuer = cn(&vcek.tbs_certificate.issuer);
        let product = match self.finding.by_signature.as_slice() {
            [p] => *p,
            [] => {
                let anchors = self
                    .roots
                    .iter()
                    .filter(|r| r.signer(kind).is_some())
                    .map(|r| r.product.name())
                    .collect::<Vec<_>>();
                let anchors = if anchors.is_empty() {
                    "none".to_string()
                } else {
                    anchors.join(", ")
                };
                let mut why = format!(
                    "the {k} (issuer {issuer}) is not signed by any trusted {sk} (trust set anchors: {anchors}){}",
                    self.finding.other_kind_note()
                );
                // Say why the intermediate the certificate names (if
                // trusted) does not verify it.
                let named = self
                    .finding
                    .by_issuer
                    .and_then(|p| self.roots.iter().find(|r| r.product == p))
                    .and_then(|r| r.signer(kind).map(|(_, c)| (r.product, c)));
                if let Err(e) = amd::check_pss_params(&vcek.signature_algorithm) {
                    why.push_str(&format!("; {k} signature: {e}"));
                } else if let Some((p, c)) = named {
                    if let Err(e) = amd::verify_cert_signature(&self.doc.vcek_der, c) {
                        why.push_str(&format!("; by the trusted {p} {sk}: {e}"));
                    }
                }
                let mut r = fail(why)
                    .expected(format!("a {k} signed by the {sk} of one of: {anchors}"))
                    .actual(format!("issuer {issuer}"))
                    .detail("signing_key_claimed", k);
                if !self.trust_problems.is_empty() {
                    r = r.detail("trust_problems", self.trust_problems.clone());
                }
                return r;
            }
            many => {
                return fail(format!(
                    "the {k} verifies under several trusted {sk}s ({}): the trust set is ambiguous",
                    many.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                ))
            }
        };
        let Some(r) = self.roots.iter().find(|r| r.product == product) else {
            return fail(format!("no trusted roots for {product}"));
        };
        let Some((mid_der, mid)) = r.signer(kind) else {
            return fail(format!("the trust set has no {product} {sk}"));
        };
        let mut problems = Vec::new();
        // ARK: self-signed root.
        if r.ark.tbs_certificate.issuer != r.ark.tbs_certificate.subject {
            problems.push("ARK is not self-issued (issuer differs from subject)".into());
        }
        if let Err(e) = amd::verify_cert_signature(&r.ark_der, &r.ark) {
            problems.push(format!("ARK self-signature: {e}"));
        }
        if cn(&r.ark.tbs_certificate.subject) != product.ark_cn() {
            problems.push(format!(
                "ARK CN {}, expected {}",
                cn(&r.ark.tbs_certificate.subject),
                product.ark_cn()
            ));
        }
        check_ca(&r.ark, "ARK", &mut problems);
        check_validity(&r.ark, "ARK", at, &mut problems);
        // ASK (or ASVK), signed by the ARK.
        if mid.tbs_certificate.issuer != r.ark.tbs_certificate.subject {
            problems.push(format!(
                "{sk} issuer {} is not the ARK subject",
                cn(&mid.tbs_certificate.issuer)
            ));
        }
        if let Err(e) = amd::verify_cert_signature(mid_der, &r.ark) {
            problems.push(format!("{sk} signature by the ARK: {e}"));
        }
        if cn(&mid.tbs_certificate.subject) != kind.signer_cn(product) {
            problems.push(format!(
                "{sk} CN {}, expected {}",
                cn(&mid.tbs_certificate.subject),
                kind.signer_cn(product)
            ));
        }
        check_ca(mid, sk, &mut problems);
        check_validity(mid, sk, at, &mut problems);
        // VCEK/VLEK, signed by the intermediate (already verified to find
        // the product, repeated here so the parameters are reported).
        if let Err(e) = amd::verify_cert_signature(&self.doc.vcek_der, mid) {
            problems.push(format!("{k} signature by the {sk}: {e}"));
        }
        if vcek.tbs_certificate.issuer != mid.tbs_certificate.subject {
            problems.push(format!(
                "{k} issuer {issuer} is not the {sk} subject {}",
                kind.signer_cn(product)
            ));
        }
        if cn(&vcek.tbs_certificate.subject) != kind.subject_cn() {
            problems.push(format!(
                "{k} subject CN {}, expected {}",
                cn(&vcek.tbs_certificate.subject),
                kind.subject_cn()
            ));
        }
        if vcek.tbs_certificate.version != x509_cert::Version::V3 {
            problems.push(format!("{k} is not an X.509 v3 certificate"));
        }
        match amd::basic_constraints(&vcek) {
            Ok(Some((true, _))) => problems.push(format!("{k} BasicConstraints says it is a CA")),
            Err(e) => problems.push(format!("{k}: {e}")),
            _ => {}
        }
        if let Err(e) = amd::vcek_public_key(&vcek) {
            problems.push(e);
        }
        check_validity(&vcek, k, at, &mut problems);
        let (vnb, vna) = amd::validity(&vcek).unwrap_or((at, at));
        let res = if problems.is_empty() {
            CheckResult::pass(
                ID,
                title,
                format!("{k} ← {sk} ← ARK ({product}), valid at {}", fmt_time(at)),
            )
        } else {
            CheckResult::fail(ID, title, format!("{product} chain: {}", problems[0]))
                .detail("problems", problems.clone())
        };
        let mut res = self
            .base(res)
            .spec(SPEC_CHAIN)
            .expected(format!(
                "ARK-{0} (self-signed) → {1} → {2}, RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48, valid at {3}",
                product.name(),
                kind.signer_cn(product),
                kind.subject_cn(),
                fmt_time(at)
            ))
            .actual(format!(
                "{k} issuer {issuer}, valid {} to {}",
                fmt_time(vnb),
                fmt_time(vna)
            ))
            .detail("product", product.name())
            .detail("signing_key", k)
            .detail("ark_sha256", sha256_hex(&r.ark_der))
            .detail(
                match kind {
                    EndorsementKey::Vcek => "ask_sha256",
                    EndorsementKey::Vlek => "asvk_sha256",
                },
                sha256_hex(mid_der),
            )
            .detail(
                match kind {
                    EndorsementKey::Vcek => "vcek_sha256",
                    EndorsementKey::Vlek => "vlek_sha256",
                },
                sha256_hex(&self.doc.vcek_der),
            )
            .detail("vcek_not_before", fmt_time(vnb))
            .detail("vcek_not_after", fmt_time(vna));
        if !self.ctx.trust.production {
            res = res.detail("trust", "NON-PRODUCTION trust set");
        }
        res
    }

    fn product(&self) -> CheckResult {
        const ID: &str = "amd.product";
        const TITLE: &str = "Product line";
        let spec = "AMD VCEK/KDS spec 57230 (VCEK issuer SEV-<product>, VLEK issuer SEV-VLEK-<product>, productName extension 1.3.6.1.4.1.3704.1.2); AMD SEV-SNP ABI spec 56860 (CPUID_FAM_ID/CPUID_MOD_ID, report version 3+)";
        let f = &self.finding;
        let sources = {
            let mut v = Vec::new();
            if let Some(c) = &f.by_cpuid {
                v.push(match c {
                    Ok(p) => format!("CPUID {p}"),
                    Err(e) => e.clone(),
                });
            }
            v.push(format!(
                "{} issuer {}",
                self.kind,
                f.issuer_cn.as_deref().unwrap_or("(none)")
            ));
            v.push(format!(
                "productName {}",
                f.product_name.as_deref().unwrap_or("(absent)")
            ));
            let (k, sk) = (self.kind.name(), self.kind.signer_name());
            v.push(match f.by_signature.as_slice() {
                [] => format!("no trusted {sk} signs the {k}{}", f.other_kind_note()),
                s => format!(
                    "signed by the {} {sk}",
                    s.iter().map(|p| p.name()).collect::<Vec<_>>().join("/")
                ),
            });
            v.join(", ")
        };
        let allowed = super::snp::section(self.ctx).0.products;
        let r = match f.decide() {
            Ok(p) => {
                let version = self.fields.version;
                match &allowed {
                    Some(list) if !list.iter().any(|x| x == p.name()) => CheckResult::fail(
                        ID,
                        TITLE,
                        format!(
                            "{p}, but protocol {} accepts only {}",
                            self.ctx.protocol.id,
                            list.join(", ")
                        ),
                    ),
                    _ => {
                        CheckResult::pass(ID, TITLE, format!("{p} (report v{version}: {sources})"))
                    }
                }
                .detail("fact:snp.product", p.name())
            }
            Err(e) => CheckResult::fail(ID, TITLE, format!("product line undetermined: {e}")),
        };
        let r = r.actual(sources);
        let r = match &allowed {
            Some(list) => r.expected(format!(
                "one of {}, all indications agreeing",
                list.join(", ")
            )),
            None => r.expected("all indications agreeing on one product line"),
        };
        self.base(r).spec(spec)
    }

    fn root_pinned(&self) -> CheckResult {
        const ID: &str = "amd.root-pinned";
        const TITLE: &str = "Bundle roots equal the pinned roots";
        let spec = "blyss-evidence: an ARK/ASK found in the bundle (KDS cert_chain, ASK then ARK) must equal the trust set's, compared by full DER; anchors never come from the bundle";
        let path = layout::KDS_CERT_CHAIN;
        let Some(bytes) = self.ctx.member(path) else {
            return CheckResult::not_applicable(
                ID,
                TITLE,
                format!(
                    "the bundle carries no KDS cert_chain; the chain is anchored on the trust set's roots only ({})",
                    anchored(&self.roots)
                ),
            )
            .spec(spec);
        };
        let base = |r: CheckResult| r.evidence(path).spec(spec);
        let certs = match crate::trust::parse_certs(bytes) {
            Ok(c) => c,
            Err(e) => {
                return base(CheckResult::fail(
                    ID,
                    TITLE,
                    format!("cert_chain unreadable: {e}"),
                ))
            }
        };
        let [ask, ark] = certs.as_slice() else {
            return base(CheckResult::fail(
                ID,
                TITLE,
                format!(
                    "cert_chain holds {} certificates, expected 2 (ASK, ARK)",
                    certs.len()
                ),
            ));
        };
        // For a VLEK the chain is KDS's `/vlek/v1/{product}/cert_chain`
        // (ASVK then ARK): compared with the trust set's ASVK.
        let kind = self.kind;
        let mid_of = |r: &Roots| r.signer(kind).map(|(d, _)| d.to_vec());
        let which = |ask: &[u8], ark: &[u8]| {
            self.roots
                .iter()
                .find(|r| mid_of(r).as_deref() == Some(ask) && r.ark_der == ark)
                .map(|r| r.product)
        };
        let found = which(ask, ark);
        let actual = format!(
            "{} {} / ARK {}",
            kind.signer_name(),
            short_hex(&sha256_hex(ask)),
            short_hex(&sha256_hex(ark))
        );
        let r = match (self.chain_product(), found) {
            (Some(p), Some(q)) if p == q => CheckResult::pass(
                ID,
                TITLE,
                format!("the bundle's cert_chain equals the trust set's {p} ASK and ARK (full DER)"),
            ),
            (Some(p), Some(q)) => CheckResult::fail(
                ID,
                TITLE,
                format!("the bundle's cert_chain is the {q} chain, the {} is {p}'s", self.kind),
            ),
            (Some(p), None) => {
                let tr = self.roots.iter().find(|r| r.product == p);
                let mut diff = Vec::new();
                if tr.is_some_and(|t| mid_of(t).as_deref() != Some(ask.as_slice())) {
                    diff.push(kind.signer_name());
                }
                if tr.is_some_and(|t| t.ark_der != *ark) {
                    diff.push("ARK");
                }
                CheckResult::fail(
                    ID,
                    TITLE,
                    format!(
                        "the bundle's {} differs from the pinned {p} root(s): a bundle-provided root is never trusted",
                        diff.join(" and ")
                    ),
                )
                .expected(
                    tr.map(|t| {
                        format!(
                            "{} {} / ARK {}",
                            kind.signer_name(),
                            short_hex(&sha256_hex(&mid_of(t).unwrap_or_default())),
                            short_hex(&sha256_hex(&t.ark_der))
                        )
                    })
                    .unwrap_or_default(),
                )
            }
            (None, _) => CheckResult::fail(
                ID,
                TITLE,
                format!("the {}'s product line is undetermined: cannot tell which pinned roots the cert_chain must equal", self.kind),
            ),
        };
        base(r.actual(actual))
    }

    fn crl(&self) -> CheckResult {
        const ID: &str = "amd.crl";
        const TITLE: &str = "AMD CRL";
        let spec = "AMD VCEK/KDS spec 57230 (KDS CRL signed by the ARK); RFC 5280 §5 and §6.3 (thisUpdate/nextUpdate, revoked serials)";
        let path = layout::KDS_CRL;
        let require = super::snp::section(self.ctx).0.require_crl;
        let product = self.chain_product();
        let pname = product.map(|p| p.name()).unwrap_or("AMD");
        let Some(der) = self.ctx.member(path) else {
            let msg = format!(
                "no AMD KDS CRL in the bundle: revocation of the {pname} {} and {} was not checked",
                self.kind.signer_name(),
                self.kind
            );
            let r = if require {
                CheckResult::fail(
                    ID,
                    TITLE,
                    format!("{msg}; protocol {} requires it", self.ctx.protocol.id),
                )
            } else {
                CheckResult::warn(ID, TITLE, msg)
            };
            return r.spec(spec);
        };
        let base = |r: CheckResult| r.evidence(path).evidence(self.vcek_path.clone()).spec(spec);
        let fail = |s: String| base(CheckResult::fail(ID, TITLE, s));
        let crl = match Crl::parse(der) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let Some(p) = product else {
            return fail(
                "the VCEK's product line is undetermined: no ARK to check the CRL with".into(),
            );
        };
        let Some(roots) = self.roots.iter().find(|r| r.product == p) else {
            return fail(format!("no trusted roots for {p}"));
        };
        let mut problems = Vec::new();
        if let Err(e) = crl.verify(der, &roots.ark) {
            problems.push(e);
        }
        let at = self.ctx.eval_time;
        if at < crl.this_update {
            problems.push(format!(
                "CRL thisUpdate {} is after the evaluation time {}",
                fmt_time(crl.this_update),
                fmt_time(at)
            ));
        }
        match crl.next_update {
            None => problems.push("CRL has no nextUpdate: its freshness cannot be judged".into()),
            Some(n) if at > n => problems.push(format!(
                "CRL expired: nextUpdate {} is before the evaluation time {}",
                fmt_time(n),
                fmt_time(at)
            )),
            _ => {}
        }
        // For a VLEK the intermediate is the ASVK (KDS serves its CRL at
        // `/vlek/v1/{product}/crl`, also signed by the ARK).
        let sk = self.kind.signer_name();
        if let Some((_, mid)) = roots.signer(self.kind) {
            let mid_serial = mid.tbs_certificate.serial_number.as_bytes().to_vec();
            if crl.is_revoked(&mid_serial) {
                problems.push(format!(
                    "the {p} {sk} (serial {}) is revoked",
                    hex::encode(&mid_serial)
                ));
            }
        }
        if let Ok(v) = amd::parse_cert(&self.doc.vcek_der, "VCEK") {
            let s = v.tbs_certificate.serial_number.as_bytes().to_vec();
            if crl.is_revoked(&s) {
                problems.push(format!(
                    "the {} serial {} is listed as revoked",
                    self.kind,
                    hex::encode(&s)
                ));
            }
        }
        let window = format!(
            "thisUpdate {}, nextUpdate {}",
            fmt_time(crl.this_update),
            crl.next_update
                .map(fmt_time)
                .unwrap_or_else(|| "(none)".into())
        );
        let r = if problems.is_empty() {
            CheckResult::pass(
                ID,
                TITLE,
                format!(
                    "CRL signed by the {p} ARK, current at {} ({window}); {sk} and {} not among its {} revoked serial(s)",
                    fmt_time(at),
                    self.kind,
                    crl.revoked.len()
                ),
            )
        } else {
            CheckResult::fail(ID, TITLE, problems[0].clone()).detail("problems", problems)
        };
        base(r.actual(window).detail("revoked_count", crl.revoked.len()))
    }

    fn vcek_kds(&self) -> CheckResult {
        const ID: &str = "amd.vcek-kds";
        const TITLE: &str = "KDS VCEK equals the attestation's VCEK";
        let spec =
            "AMD VCEK/KDS spec 57230 (GET /vcek/v1/{product}/{hwid}?blSPL&teeSPL&snpSPL&ucodeSPL)";
        let path = layout::KDS_VCEK;
        let Some(kds) = self.ctx.member(path) else {
            let why = match self.kind {
                EndorsementKey::Vcek => "the bundle carries no KDS-fetched VCEK",
                EndorsementKey::Vlek => "the report is VLEK-signed: AMD KDS serves no VLEK (the cloud provider loads it), so there is no KDS copy to compare",
            };
            return CheckResult::not_applicable(ID, TITLE, why).spec(spec);
        };
        let base = |r: CheckResult| {
            r.evidence(path)
                .evidence(self.vcek_path.clone())
                .spec(spec)
                .expected(format!("sha256 {}", sha256_hex(&self.doc.vcek_der)))
                .actual(format!("sha256 {}", sha256_hex(kds)))
        };
        if kds != self.doc.vcek_der.as_slice() {
            return base(CheckResult::fail(
                ID,
                TITLE,
                "the VCEK fetched from AMD KDS differs from the one served with the report",
            ));
        }
        // When the member records the KDS URL it came from, it must be the
        // URL for this report's chip and reported TCB.
        let source = self
            .ctx
            .bundle
            .statement
            .predicate
            .members
            .iter()
            .find(|m| m.path == path)
            .map(|m| m.source.clone())
            .unwrap_or_default();
        if let (Some(i), Some(p)) = (source.find("/vcek/v1/"), self.chain_product()) {
            let f = &self.fields;
            let t = Tcb::decode(f.reported_tcb, p);
            let hwid = hex::encode(&f.chip_id[..p.hwid_len()]);
            let mut want: Vec<(&str, u8)> = vec![
                ("blSPL", t.bootloader),
                ("teeSPL", t.tee),
                ("snpSPL", t.snp),
                ("ucodeSPL", t.microcode),
            ];
            if let Some(fmc) = t.fmc {
                want.push(("fmcSPL", fmc));
            }
            let expected = format!(
                "{}/{hwid}?{}",
                p.name(),
                want.iter()
                    .map(|(k, v)| format!("{k}={v:02}"))
                    .collect::<Vec<_>>()
                    .join("&")
            );
            let mismatch = kds_url_mismatch(&source[i + "/vcek/v1/".len()..], p, &hwid, &want);
            if let Some(why) = mismatch {
                return base(CheckResult::fail(
                    ID,
                    TITLE,
                    format!(
                        "the KDS VCEK was fetched for another chip or TCB than the report's: {why}"
                    ),
                ))
                .detail("kds_url", source.clone())
                .detail("expected_url_path", format!("/vcek/v1/{expected}"));
            }
        }
        base(CheckResult::pass(
            ID,
            TITLE,
            format!(
                "the VCEK fetched from AMD KDS is byte-identical to the attestation's ({})",
                short_hex(&sha256_hex(kds))
            ),
        ))
        .detail("kds_source", source)
    }
}

/// Compares the path and query of a recorded KDS VCEK URL
/// (`<product>/<hwid>?k=v&…`) with the report's product, hwID and TCB:
/// order-independent, numbers compared as numbers. `None` when they agree.
fn kds_url_mismatch(rest: &str, p: Product, hwid: &str, want: &[(&str, u8)]) -> Option<String> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (prod, id) = path.split_once('/').unwrap_or((path, ""));
    if prod != p.name() {
        return Some(format!("product {prod}, expected {p}"));
    }
    if !id.eq_ignore_ascii_case(hwid) {
        return Some(format!(
            "hwID {}, expected {}",
            short_hex(id),
            short_hex(hwid)
        ));
    }
    let mut got: Vec<(&str, &str)> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .collect();
    got.sort();
    let mut exp: Vec<(&str, u8)> = want.to_vec();
    exp.sort();
    let same = got.len() == exp.len()
        && got
            .iter()
            .zip(&exp)
            .all(|((k, v), (ek, ev))| k == ek && v.parse::<u16>().ok() == Some(u16::from(*ev)));
    if same {
        None
    } else {
        Some(format!(
            "query {query:?}, expected {}",
            exp.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        ))
    }
}
