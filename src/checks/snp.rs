//! `snp.*`: the SEV-SNP report itself — its signature by the VCEK, its
//! format (version, must-be-zero fields, signing key, policy reserved bits),
//! the TCB and chip id the VCEK certifies, the guest policy and minimum
//! versions the protocol demands, and provisional firmware.
//! (`snp.measurement` lives in `checks::measurement`.)

use std::collections::BTreeMap;

use super::{CheckResult, Context};
use crate::evidence::amd::{
    self, EndorsementKey, FwVersion, Product, ProductFinding, ReportFields, SigningKey, Tcb,
    VcekExtensions,
};
use crate::evidence::attestation::AttestationDocument;
use crate::evidence::layout;
use crate::protocol::{SnpSection, TcbSpec};
use crate::util::short_hex;

const SPEC_REPORT: &str = "AMD SEV-SNP ABI spec 56860, ATTESTATION_REPORT structure";
const SPEC_VCEK: &str = "AMD VCEK/KDS spec 57230, VCEK certificate extensions";

/// Guest policy bits (ABI 56860, guest policy).
pub mod policy_bits {
    pub const SMT: u64 = 1 << 16;
    pub const RESERVED_ONE: u64 = 1 << 17;
    pub const MIGRATE_MA: u64 = 1 << 18;
    pub const DEBUG: u64 = 1 << 19;
    pub const SINGLE_SOCKET: u64 = 1 << 20;
    /// Bits 63:26 must be zero.
    pub const MBZ: u64 = !((1u64 << 26) - 1);
}

/// The protocol's `snp` rules (or the fallback), and whether the protocol
/// stated them.
pub fn section(ctx: &Context) -> (SnpSection, bool) {
    ctx.protocol.sections.snp()
}

/// The bundle member holding the VCEK (or VLEK) the document came with.
pub fn vcek_member(ctx: &Context, doc: &AttestationDocument) -> String {
    if doc.source == layout::SNP_REPORT {
        let mut m = ctx.members_under(layout::SNP_VCEK);
        m.extend(ctx.members_under(layout::SNP_VLEK));
        m.first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| layout::SNP_VCEK.to_string())
    } else {
        doc.source.clone()
    }
}

const IDS: [(&str, &str); 5] = [
    ("snp.report-signature", "Report signed by the VCEK"),
    ("snp.report-format", "Report format"),
    ("snp.tcb", "TCB and chip id match the VCEK"),
    ("snp.policy", "Guest policy and minimum versions"),
    ("snp.provisional-firmware", "Committed firmware"),
];

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => {
            return IDS
                .iter()
                .map(|(id, title)| {
                    CheckResult::fail(id, title, format!("no attestation evidence: {e}"))
                        .spec(SPEC_REPORT)
                })
                .collect()
        }
    };
    let f = ReportFields::parse(&doc.report);
    let (roots, _) = amd::trusted_roots(ctx.trust);
    let finding = ProductFinding::gather(&f, &doc.vcek_der, &roots);
    let product = finding.best_guess();
    let a = Analysis {
        ctx,
        doc,
        f: &f,
        product,
        vcek_path: vcek_member(ctx, doc),
        kind: EndorsementKey::claimed_by(&f),
    };
    vec![
        a.signature(),
        a.format(),
        a.tcb(),
        a.policy(),
        a.provisional(),
    ]
}

struct Analysis<'a> {
    ctx: &'a Context<'a>,
    doc: &'a AttestationDocument,
    f: &'a ReportFields,
    product: Option<Product>,
    vcek_path: String,
    /// What the report claims signed it (SIGNING_KEY).
    kind: EndorsementKey,
}

/// A TCB for display: decoded when the product is known, raw hex otherwise.
fn tcb_text(raw: [u8; 8], product: Option<Product>) -> String {
    match product {
        Some(p) => Tcb::decode(raw, p).to_string(),
        None => format!("raw {} (product line unknown)", hex::encode(raw)),
    }
}

impl Analysis<'_> {
    fn base(&self, r: CheckResult) -> CheckResult {
        let r = r.evidence(self.doc.source.clone());
        r.evidence(self.vcek_path.clone())
    }

    fn signature(&self) -> CheckResult {
        const ID: &str = "snp.report-signature";
        let k = self.kind.name();
        let title = format!("Report signed by the {k}");
        let title = title.as_str();
        let spec = format!(
            "{SPEC_REPORT}: SIGNATURE_ALGO 1 = ECDSA P-384 with SHA-384 over bytes 0x0–0x29F, R and S little-endian in 72-byte fields"
        );
        let fail = |s: String| {
            self.base(CheckResult::fail(ID, title, s))
                .spec(spec.clone())
        };
        if self.f.sig_algo != 1 {
            return fail(format!(
                "SIGNATURE_ALGO is {}, expected 1 (ECDSA P-384 with SHA-384)",
                self.f.sig_algo
            ))
            .expected("1")
            .actual(self.f.sig_algo.to_string());
        }
        let cert = match amd::parse_cert(&self.doc.vcek_der, k) {
            Ok(c) => c,
            Err(e) => return fail(format!("{k} unusable: {e}")),
        };
        // The certificate must be the kind the report names: a VLEK-signed
        // claim with a VCEK (or the reverse) is refused before any key use.
        let subject = amd::common_name(&cert.tbs_certificate.subject);
        if subject.as_deref() != Some(self.kind.subject_cn()) {
            return fail(format!(
                "the report's SIGNING_KEY says {k}, but the certificate shipped with it has subject CN {}",
                crate::util::visible(subject.as_deref().unwrap_or("(none)"))
            ))
            .expected(format!("a certificate with subject CN {}", self.kind.subject_cn()))
            .actual(format!("subject CN {}", crate::util::visible(subject.as_deref().unwrap_or("(none)"))));
        }
        let key = match amd::vcek_public_key(&cert) {
            Ok(k) => k,
            Err(e) => return fail(format!("{k} unusable: {e}")),
        };
        if let Err(e) = amd::verify_report(&self.doc.report, &key) {
            return fail(e.replace("VCEK", k));
        }
        let f = self.f;
        let measurement = hex::encode(f.measurement);
        let mut r = self
            .base(CheckResult::pass(
                ID,
                title,
                format!(
                    "ECDSA P-384 signature verifies with the {k}: report v{}, VMPL {}, policy {:#x}, reported TCB {}, firmware {}",
                    f.version,
                    f.vmpl,
                    f.policy,
                    tcb_text(f.reported_tcb, self.product),
                    f.current
                ),
            ))
            .spec(spec)
            .detail("fact:snp.report_version", f.version)
            .detail("fact:snp.vmpl", f.vmpl)
            .detail("fact:snp.policy", format!("{:#x}", f.policy))
            .detail("fact:snp.measurement", measurement.clone())
            .detail("fact:snp.chip_id", short_hex(&hex::encode(f.chip_id)))
            .detail(
                "fact:snp.firmware",
                serde_json::json!({"major": f.current.major, "minor": f.current.minor, "build": f.current.build}),
            )
            .detail("measurement", measurement)
            .detail("report_data", hex::encode(f.report_data))
            .detail("chip_id", hex::encode(f.chip_id));
        r = r.detail("fact:snp.signing_key", k);
        if self.kind == EndorsementKey::Vlek {
            // The cloud provider the VLEK was issued to, as AMD signed it
            // into the certificate (shown, control characters made visible).
            let csp = match VcekExtensions::parse(&cert).map(|x| x.csp_id) {
                Ok(Some(csp)) => crate::util::visible(&csp).into_owned(),
                Ok(None) => "(absent)".to_string(),
                Err(e) => format!("(unreadable: {e})"),
            };
            r.summary.push_str(&format!("; VLEK CSP_ID {csp}"));
            r = r.detail("fact:snp.vlek.csp_id", csp);
        }
        if let Some(p) = self.product {
            r = r.detail(
                "fact:snp.reported_tcb",
                Tcb::decode(f.reported_tcb, p).to_json(),
            );
        }
        r
    }

    fn format(&self) -> CheckResult {
        const ID: &str = "snp.report-format";
        const TITLE: &str = "Report format";
        let f = self.f;
        let r = &self.doc.report;
        let mut problems: Vec<String> = Vec::new();
        if !(2..=5).contains(&f.version) {
            problems.push(format!(
                "report version {} is not one this tool knows (2 to 5)",
                f.version
            ));
        }
        for (start, end, name) in ReportFields::mbz_ranges(f.version) {
            if r[start..end].iter().any(|b| *b != 0) {
                problems.push(format!("{name} (bytes {start:#x}..{end:#x}) is not zero"));
            }
        }
        if f.key_info >> 5 != 0 {
            problems.push(format!(
                "KEY_INFO reserved bits 31:5 are not zero ({:#x})",
                f.key_info
            ));
        }
        match f.signing_key() {
            SigningKey::Vcek | SigningKey::Vlek => {}
            SigningKey::None => problems.push("SIGNING_KEY 7: the report is not signed".into()),
            SigningKey::Reserved(n) => {
                problems.push(format!("SIGNING_KEY {n} is a reserved value"))
            }
        }
        if f.policy & policy_bits::RESERVED_ONE == 0 {
            problems.push(format!(
                "policy {:#x}: bit 17 (reserved, must be one) is zero",
                f.policy
            ));
        }
        if f.policy & policy_bits::MBZ != 0 {
            problems.push(format!(
                "policy {:#x}: reserved bits 63:26 are not zero",
                f.policy
            ));
        }
        if f.vmpl > 3 {
            problems.push(format!("VMPL {} is not 0 to 3", f.vmpl));
        }
        match self.product {
            Some(p) => {
                for (raw, name) in [
                    (f.current_tcb, "CURRENT_TCB"),
                    (f.reported_tcb, "REPORTED_TCB"),
                    (f.committed_tcb, "COMMITTED_TCB"),
                    (f.launch_tcb, "LAUNCH_TCB"),
                ] {
                    let res = Tcb::reserved_bytes(p);
                    if raw[res.clone()].iter().any(|b| *b != 0) {
                        problems.push(format!(
                            "{name} {}: reserved bytes {}..{} are not zero ({p} layout)",
                            hex::encode(raw),
                            res.start,
                            res.end
                        ));
                    }
                }
            }
            None => problems.push(
                "product line unknown: the TCB layout (and its reserved bytes) cannot be checked"
                    .into(),
            ),
        }
        let spec = format!(
            "{SPEC_REPORT} (reserved fields must be zero, KEY_INFO, TCB_VERSION); guest policy bit 17 = 1, bits 63:26 = 0"
        );
        if problems.is_empty() {
            let layout = self.product.map(|p| p.name()).unwrap_or("?");
            self.base(CheckResult::pass(
                ID,
                TITLE,
                format!(
                    "version {} ({layout} TCB layout), reserved fields zero, signed with the {} (SIGNING_KEY), policy {:#x} reserved bits valid",
                    f.version, self.kind, f.policy
                ),
            ))
            .spec(spec)
            .detail("platform_info", format!("{:#x}", f.plat_info))
            .detail("author_key_en", f.author_key_en())
            .detail("mask_chip_key", f.mask_chip_key())
        } else {
            self.base(CheckResult::fail(ID, TITLE, problems[0].clone()))
                .spec(spec)
                .actual(problems.join("; "))
                .detail("problems", problems)
        }
    }

    fn tcb(&self) -> CheckResult {
        const ID: &str = "snp.tcb";
        let vlek = self.kind == EndorsementKey::Vlek;
        let k = self.kind.name();
        let title = if vlek {
            "TCB matches the VLEK (no chip id: VLEKs are not chip-bound)".to_string()
        } else {
            "TCB and chip id match the VCEK".to_string()
        };
        let title = title.as_str();
        let spec = format!(
            "{SPEC_VCEK} (blSPL .3.1, teeSPL .3.2, snpSPL .3.3, ucodeSPL .3.8, fmcSPL .3.9 on Turin, hwID .4, productName .2) = REPORTED_TCB / CHIP_ID; VCEK TCB <= CURRENT_TCB (go-sev-guest validate); a VLEK carries the same TCB extensions and no hwID"
        );
        let fail = |s: String| {
            self.base(CheckResult::fail(ID, title, s))
                .spec(spec.clone())
        };
        let Some(p) = self.product else {
            return fail("product line unknown: the TCB cannot be decoded".into());
        };
        let cert = match amd::parse_cert(&self.doc.vcek_der, k) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let x = match VcekExtensions::parse(&cert) {
            Ok(x) => x,
            Err(e) => return fail(format!("{k} extensions: {e}")),
        };
        let f = self.f;
        let reported = Tcb::decode(f.reported_tcb, p);
        let current = Tcb::decode(f.current_tcb, p);
        let mut problems = Vec::new();
        let cert_tcb = match x.tcb(p) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(e);
                None
            }
        };
        if let Some(t) = cert_tcb {
            if t != reported {
                problems.push(format!(
                    "REPORTED_TCB {reported} differs from the {k}'s TCB {t}"
                ));
            }
            let lower = t.lower_components(&current);
            if !lower.is_empty() {
                problems.push(format!(
                    "the {k}'s TCB {t} exceeds CURRENT_TCB {current} ({})",
                    lower.join(", ")
                ));
            }
        }
        let n = p.hwid_len();
        // A VLEK is not chip-bound (AMD loads it into every machine of the
        // cloud provider's fleet): there is no hwID to compare, and the
        // report's CHIP_ID is not checked against anything. Said in the
        // result, never implied.
        let hwid = if vlek { &None } else { &x.hwid };
        match hwid {
            None if vlek => {}
            None => problems.push(format!("missing VCEK extension hwID ({})", amd::oid::HWID)),
            Some(h) if h.len() != n => problems.push(format!(
                "VCEK hwID is {} bytes, expected {n} for {p}",
                h.len()
            )),
            Some(_) if f.mask_chip_key() => problems.push(
                "MASK_CHIP_KEY is set: CHIP_ID is masked and cannot be matched to the VCEK hwID"
                    .into(),
            ),
            Some(h) => {
                if h.as_slice() != &f.chip_id[..n] {
                    problems.push(format!(
                        "CHIP_ID {} differs from the VCEK hwID {}",
                        short_hex(&hex::encode(&f.chip_id[..n])),
                        short_hex(&hex::encode(h))
                    ));
                }
                if f.chip_id[n..].iter().any(|b| *b != 0) {
                    problems.push(format!("CHIP_ID bytes {n}..64 are not zero ({p})"));
                }
            }
        }
        match &x.product_name {
            None => problems.push(format!(
                "missing {k} extension productName ({})",
                amd::oid::PRODUCT_NAME
            )),
            Some(name) if !p.matches_product_name(name) => {
                problems.push(format!("{k} productName {name:?} does not name {p}"))
            }
            Some(_) => {}
        }
        let chip = short_hex(&hex::encode(&f.chip_id[..n]));
        if vlek && problems.is_empty() {
            let chip_note = if f.chip_id.iter().all(|b| *b == 0) {
                "CHIP_ID is all zero".to_string()
            } else {
                format!("CHIP_ID {chip} is not checked")
            };
            return self
                .base(CheckResult::pass(
                    ID,
                    title,
                    format!(
                        "REPORTED_TCB {reported} = VLEK extensions; productName {}; no hwID check: {chip_note}, and a VLEK is not chip-bound, so the report is tied to the cloud provider's fleet, not to one chip",
                        crate::util::visible(&x.product_name.clone().unwrap_or_default())
                    ),
                ))
                .spec(spec)
                .expected(format!("VLEK TCB {reported} (no hwID: VLEKs are not chip-bound)"))
                .actual(format!("REPORTED_TCB {reported}"))
                .detail("hwid_check", "not performed: VLEK-signed report, CHIP_ID is not bound to the key")
                .detail("current_tcb", current.to_json())
                .detail("reported_tcb", reported.to_json())
                .detail("committed_tcb", Tcb::decode(f.committed_tcb, p).to_json())
                .detail("launch_tcb", Tcb::decode(f.launch_tcb, p).to_json());
        }
        if problems.is_empty() {
            self.base(CheckResult::pass(
                ID,
                title,
                format!(
                    "REPORTED_TCB {reported} = VCEK extensions; CHIP_ID {chip} = VCEK hwID; productName {}",
                    x.product_name.clone().unwrap_or_default()
                ),
            ))
            .spec(spec)
            .expected(format!("VCEK TCB {reported}, hwID {chip}"))
            .actual(format!("REPORTED_TCB {reported}, CHIP_ID {chip}"))
            .detail("current_tcb", current.to_json())
            .detail("reported_tcb", reported.to_json())
            .detail("committed_tcb", Tcb::decode(f.committed_tcb, p).to_json())
            .detail("launch_tcb", Tcb::decode(f.launch_tcb, p).to_json())
        } else {
            fail(problems[0].clone())
                .expected(
                    cert_tcb
                        .map(|t| format!("VCEK TCB {t}"))
                        .unwrap_or_else(|| "all VCEK TCB extensions".into()),
                )
                .actual(format!("REPORTED_TCB {reported}"))
                .detail("problems", problems)
        }
    }

    fn policy(&self) -> CheckResult {
        const ID: &str = "snp.policy";
        const TITLE: &str = "Guest policy and minimum versions";
        let spec = "AMD SEV-SNP ABI spec 56860, guest policy (SMT bit 16, MIGRATE_MA 18, DEBUG 19, SINGLE_SOCKET 20, ABI 15:0); go-sev-guest validate (minimum TCB, launch TCB, firmware version, VMPL)";
        let (s, from_file) = section(self.ctx);
        let f = self.f;
        let pol = f.policy;
        let mut problems: Vec<String> = Vec::new();
        let mut ok: Vec<String> = Vec::new();
        let flag = |bit: u64| pol & bit != 0;
        if flag(policy_bits::DEBUG) && !s.allow_debug {
            problems.push("DEBUG is allowed by the guest policy (bit 19)".into());
        } else {
            ok.push(format!(
                "debug {}",
                if flag(policy_bits::DEBUG) {
                    "on (allowed)"
                } else {
                    "off"
                }
            ));
        }
        if flag(policy_bits::MIGRATE_MA) && !s.allow_migration_agent {
            problems.push("a migration agent is allowed by the guest policy (bit 18)".into());
        } else {
            ok.push(format!(
                "migration agent {}",
                if flag(policy_bits::MIGRATE_MA) {
                    "allowed"
                } else {
                    "off"
                }
            ));
        }
        if flag(policy_bits::SMT) && !s.allow_smt {
            problems.push(
                "SMT is allowed by the guest policy (bit 16), the protocol forbids it".into(),
            );
        } else {
            ok.push(format!(
                "SMT {}",
                if flag(policy_bits::SMT) {
                    "allowed"
                } else {
                    "off"
                }
            ));
        }
        if s.require_single_socket && !flag(policy_bits::SINGLE_SOCKET) {
            problems.push(
                "the guest policy does not restrict the guest to a single socket (bit 20)".into(),
            );
        }
        let (abi_major, abi_minor) = (((pol >> 8) & 0xFF) as u8, (pol & 0xFF) as u8);
        if let Some(min) = s.min_policy_abi {
            if (abi_major, abi_minor) < (min.major, min.minor) {
                problems.push(format!(
                    "guest policy ABI {abi_major}.{abi_minor} is below the required {}.{}",
                    min.major, min.minor
                ));
            } else {
                ok.push(format!(
                    "ABI {abi_major}.{abi_minor} >= {}.{}",
                    min.major, min.minor
                ));
            }
        }
        match s.vmpl {
            Some(v) if v != f.vmpl => {
                problems.push(format!("VMPL {}, the protocol requires {v}", f.vmpl))
            }
            Some(v) => ok.push(format!("VMPL {v}")),
            None => ok.push(format!("VMPL {} (any accepted)", f.vmpl)),
        }
        if f.guest_svn < s.min_guest_svn {
            problems.push(format!(
                "GUEST_SVN {} is below the required {}",
                f.guest_svn, s.min_guest_svn
            ));
        }
        let tcb_rule = |map: &BTreeMap<String, TcbSpec>,
                        fields: &[([u8; 8], &str)],
                        what: &str,
                        problems: &mut Vec<String>,
                        ok: &mut Vec<String>| {
            if map.is_empty() {
                return;
            }
            let Some(p) = self.product else {
                problems.push(format!(
                    "{what}: product line unknown, TCB cannot be compared"
                ));
                return;
            };
            let Some(min) = map.get(p.name()) else {
                problems.push(format!("{what}: the protocol sets none for {p}"));
                return;
            };
            let min = min.tcb();
            let mut good = true;
            for (raw, name) in fields {
                let t = Tcb::decode(*raw, p);
                let lower = min.lower_components(&t);
                if !lower.is_empty() {
                    good = false;
                    problems.push(format!(
                        "{name} {t} is below the {what} {min} ({})",
                        lower.join(", ")
                    ));
                }
            }
            if good {
                ok.push(format!("{what} {min} met"));
            }
        };
        tcb_rule(
            &s.min_tcb,
            &[
                (f.reported_tcb, "REPORTED_TCB"),
                (f.current_tcb, "CURRENT_TCB"),
                (f.committed_tcb, "COMMITTED_TCB"),
            ],
            "minimum TCB",
            &mut problems,
            &mut ok,
        );
        tcb_rule(
            &s.min_launch_tcb,
            &[(f.launch_tcb, "LAUNCH_TCB")],
            "minimum launch TCB",
            &mut problems,
            &mut ok,
        );
        if let Some(min) = s.min_firmware {
            let min = FwVersion {
                major: min.major,
                minor: min.minor,
                build: min.build,
            };
            if f.current < min {
                problems.push(format!(
                    "firmware {} is below the required {min}",
                    f.current
                ));
            } else {
                ok.push(format!("firmware {} >= {min}", f.current));
            }
        }
        let mut r = if problems.is_empty() {
            CheckResult::pass(ID, TITLE, format!("policy {pol:#x}: {}", ok.join(", ")))
        } else {
            CheckResult::fail(ID, TITLE, problems[0].clone()).detail("problems", problems.clone())
        };
        r = r
            .expected(format!(
                "debug {}, migration agent {}, SMT {}{}{}",
                if s.allow_debug { "allowed" } else { "off" },
                if s.allow_migration_agent {
                    "allowed"
                } else {
                    "off"
                },
                if s.allow_smt { "allowed" } else { "off" },
                s.vmpl.map(|v| format!(", VMPL {v}")).unwrap_or_default(),
                s.min_firmware
                    .map(|m| format!(", firmware >= {}.{} build {}", m.major, m.minor, m.build))
                    .unwrap_or_default()
            ))
            .actual(format!(
                "policy {pol:#x}, VMPL {}, firmware {}",
                f.vmpl, f.current
            ));
        if !from_file {
            r = r.detail(
                "note",
                "the protocol has no snp section: defaults applied (no debug, no migration agent)",
            );
        }
        self.base(r).spec(spec)
    }

    fn provisional(&self) -> CheckResult {
        const ID: &str = "snp.provisional-firmware";
        const TITLE: &str = "Committed firmware";
        let spec = "AMD SEV-SNP ABI spec 56860, COMMITTED_TCB / COMMITTED version vs CURRENT; go-sev-guest validate (PermitProvisionalFirmware)";
        let by_protocol = section(self.ctx).0.permit_provisional_firmware;
        let by_option = self.ctx.options.allow_provisional_firmware_unsafe;
        let permit = by_protocol || by_option;
        let f = self.f;
        let cur = tcb_text(f.current_tcb, self.product);
        let com = tcb_text(f.committed_tcb, self.product);
        let same = f.committed_tcb == f.current_tcb && f.committed == f.current;
        let r = if same {
            CheckResult::pass(
                ID,
                TITLE,
                format!("committed = current: firmware {}, TCB {cur}", f.current),
            )
        } else {
            let lagging = f.committed <= f.current
                && match self.product {
                    Some(p) => Tcb::decode(f.committed_tcb, p).le(&Tcb::decode(f.current_tcb, p)),
                    None => false,
                };
            let what = format!(
                "provisional firmware: current {} / TCB {cur}, committed {} / TCB {com}",
                f.current, f.committed
            );
            if permit && lagging {
                let who = if by_protocol {
                    format!("permitted by protocol {}", self.ctx.protocol.id)
                } else {
                    "PERMITTED ONLY BY --allow-provisional-firmware-unsafe (the protocol does not permit it)".to_string()
                };
                CheckResult::warn(ID, TITLE, format!("{what} ({who})")).detail(
                    "permitted_by",
                    if by_protocol {
                        "protocol"
                    } else {
                        "--allow-provisional-firmware-unsafe"
                    },
                )
            } else if lagging {
                CheckResult::fail(
                    ID,
                    TITLE,
                    format!("{what}; the protocol does not permit provisional firmware"),
                )
            } else {
                CheckResult::fail(ID, TITLE, format!("{what}; committed is above current"))
            }
        };
        let r = if by_option {
            r.detail(
                "option",
                "--allow-provisional-firmware-unsafe given: provisional firmware is not a failure in this audit",
            )
        } else {
            r
        };
        self.base(r)
            .spec(spec)
            .expected(format!("committed firmware {} / TCB {cur}", f.current))
            .actual(format!("committed firmware {} / TCB {com}", f.committed))
    }
}
