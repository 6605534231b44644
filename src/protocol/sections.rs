//! The typed sections of a protocol file (`sections.*`), one struct per check
//! family, with every default in one place ([`Sections`]'s accessors).
//!
//! Why typed and here: a protocol file is configuration an auditor trusts to
//! say what a service must look like. Parsing it once, at load, into structs
//! that refuse unknown keys (`deny_unknown_fields`) means a misspelled key, a
//! wrong type or a missing value is an error naming its JSON path before any
//! check runs — never a silent default found (or not) where a check happens
//! to look. The checks receive these structs and never see JSON.
//!
//! Semantic rules that serde cannot express (hex lengths, product names,
//! layout completeness) are checked by each section's `validate`, which
//! reports the same kind of path (`sections.snp.vmpl: …`).
//!
//! The JSON Schema `protocol/protocol.schema.json` describes the same
//! structure for other tools; `tests/suite/protocol_files.rs` proves that its
//! property names equal these structs' fields and that every built-in file
//! validates against it and parses here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evidence::amd::{Product, Tcb};
use crate::evidence::cmdline::{parse_digest, shell_split, ImageRef, IMAGE_PARAMS};
use crate::measure::{
    cmdline_hash, FirmwareDescriptor, Hex, KernelHashes, LaunchParams, VcpuType, VmmType, VmsaFpu,
};
use crate::util::{fmt_time, parse_time};

/// An error at a JSON path of the protocol file (`sections.snp.vmpl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

fn at(path: impl Into<String>, message: impl Into<String>) -> PathError {
    PathError {
        path: path.into(),
        message: message.into(),
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `sections` of a protocol file. An absent section means: for `cmdline`,
/// `measurement` and `images`, the family's checks are not applicable; for
/// `snp`, `tls`, `ct` and `gpu`, the defaults of the accessors below apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sections {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snp: Option<SnpSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<CmdlineSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<MeasurementSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct: Option<CtSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<ImagesSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tinfoil: Option<TinfoilSection>,
}

impl Sections {
    /// The `snp` rules, and whether the protocol stated them (`false`: the
    /// fallback of [`SnpSection::fallback`] applies).
    pub fn snp(&self) -> (SnpSection, bool) {
        match &self.snp {
            Some(s) => (s.clone(), true),
            None => (SnpSection::fallback(), false),
        }
    }

    /// The `tls` rules; default: chain required, `report_data[32..64]` zero.
    pub fn tls(&self) -> TlsSection {
        self.tls.clone().unwrap_or_default()
    }

    /// The `ct` rules; default: two operators, inclusion required.
    pub fn ct(&self) -> CtSection {
        self.ct.clone().unwrap_or_default()
    }

    /// The `gpu` rules; default: GPU evidence verified when present, at the
    /// evaluation time, no RIM pins.
    pub fn gpu(&self) -> GpuSection {
        self.gpu.clone().unwrap_or_default()
    }

    /// Checks what serde cannot (formats, ranges, completeness).
    pub fn validate(&self) -> Result<(), PathError> {
        if let Some(s) = &self.snp {
            s.validate("sections.snp")?;
        }
        if let Some(s) = &self.cmdline {
            s.validate("sections.cmdline")?;
        }
        if let Some(s) = &self.measurement {
            s.validate("sections.measurement")?;
        }
        if let Some(s) = &self.ct {
            s.validate("sections.ct")?;
        }
        if let Some(s) = &self.gpu {
            s.validate("sections.gpu")?;
        }
        if let Some(s) = &self.tinfoil {
            s.validate("sections.tinfoil")?;
        }
        Ok(())
    }
}

// ---- snp --------------------------------------------------------------------

/// A minimum TCB in a protocol file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcbSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fmc: Option<u8>,
    pub bootloader: u8,
    pub tee: u8,
    pub snp: u8,
    pub microcode: u8,
}

impl TcbSpec {
    pub fn tcb(&self) -> Tcb {
        Tcb {
            fmc: self.fmc,
            bootloader: self.bootloader,
            tee: self.tee,
            snp: self.snp,
            microcode: self.microcode,
        }
    }
}

/// A minimum firmware version (compared as major, minor, build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FwSpec {
    pub major: u8,
    pub minor: u8,
    pub build: u8,
}

/// A minimum guest-policy ABI version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiSpec {
    pub major: u8,
    pub minor: u8,
}

/// `sections.snp` (documented in `protocol/checks.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnpSection {
    /// Accepted product lines; absent = any the trust set anchors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// VMPL the report must state; absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmpl: Option<u32>,
    pub allow_debug: bool,
    pub allow_migration_agent: bool,
    pub allow_smt: bool,
    pub require_single_socket: bool,
    /// Minimum ABI in the guest policy (bits 15:0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_policy_abi: Option<AbiSpec>,
    pub min_guest_svn: u32,
    /// Minimum REPORTED/CURRENT/COMMITTED TCB per product line.
    pub min_tcb: BTreeMap<String, TcbSpec>,
    /// Minimum LAUNCH_TCB per product line.
    pub min_launch_tcb: BTreeMap<String, TcbSpec>,
    /// Minimum CURRENT firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_firmware: Option<FwSpec>,
    /// Whether COMMITTED may lag CURRENT (then reported as a warning).
    pub permit_provisional_firmware: bool,
    /// Whether a bundle without the AMD KDS CRL fails `amd.crl`.
    pub require_crl: bool,
}

impl SnpSection {
    /// The rules applied when a protocol has no `snp` section: no debug, no
    /// migration agent, no provisional firmware, no minimums.
    pub fn fallback() -> SnpSection {
        SnpSection {
            products: None,
            vmpl: None,
            allow_debug: false,
            allow_migration_agent: false,
            allow_smt: true,
            require_single_socket: false,
            min_policy_abi: None,
            min_guest_svn: 0,
            min_tcb: BTreeMap::new(),
            min_launch_tcb: BTreeMap::new(),
            min_firmware: None,
            permit_provisional_firmware: false,
            require_crl: false,
        }
    }

    fn validate(&self, path: &str) -> Result<(), PathError> {
        for (i, p) in self.products.iter().flatten().enumerate() {
            if Product::from_name(p).is_none() {
                return Err(at(
                    format!("{path}.products[{i}]"),
                    format!("unknown product line {p:?}"),
                ));
            }
        }
        if let Some(v) = self.vmpl {
            if v > 3 {
                return Err(at(format!("{path}.vmpl"), format!("{v} is not 0..=3")));
            }
        }
        for (field, map) in [
            ("min_tcb", &self.min_tcb),
            ("min_launch_tcb", &self.min_launch_tcb),
        ] {
            for (p, t) in map {
                let prod = Product::from_name(p).ok_or_else(|| {
                    at(
                        format!("{path}.{field}.{p}"),
                        format!("unknown product line {p:?}"),
                    )
                })?;
                if (prod == Product::Turin) != t.fmc.is_some() {
                    return Err(at(
                        format!("{path}.{field}.{p}.fmc"),
                        "fmc is required for Turin and only for Turin",
                    ));
                }
            }
        }
        Ok(())
    }
}

// ---- cmdline ------------------------------------------------------------------

/// Layout item for the security flags.
pub const SECURITY: &str = "security";
/// Layout item for the dm-verity sequence.
pub const DM_VERITY: &str = "dm-verity";

/// `sections.cmdline`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmdlineSection {
    /// Order of the reconstruction: `security`, `dm-verity` and each image
    /// parameter, exactly once each.
    pub layout: Vec<String>,
    /// Security flags, verbatim (e.g. `systemd.mask=ssh.service`).
    pub security: String,
    pub dm_verity: DiskSpec,
    /// Rules per image parameter (`blyss_docker_img`, …).
    pub images: BTreeMap<String, ImageRule>,
}

/// The dm-verity protected disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskSpec {
    /// Root hash, 64 lower-case hex digits.
    pub hash: String,
    /// Size in bytes (a multiple of 4096).
    pub size: u64,
}

/// What one image parameter must contain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRule {
    /// Repository, e.g. `vllm/vllm-openai` (no tag).
    pub image: String,
    /// Whether `@sha256:<digest>` is mandatory.
    pub require_digest: bool,
    /// A pinned digest `sha256:<64 hex>`; absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Exact `--env` options (`K=V`, in order); absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Exact container arguments (shell-split and concatenated); absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
}

impl CmdlineSection {
    // MSRV note kept from the checks: `u64::is_multiple_of` is used.
    fn validate(&self, path: &str) -> Result<(), PathError> {
        if self.security.trim().is_empty() {
            return Err(at(format!("{path}.security"), "is empty"));
        }
        shell_split(&self.security).map_err(|e| at(format!("{path}.security"), e.to_string()))?;
        if !is_lower_hex(&self.dm_verity.hash, 64) {
            return Err(at(
                format!("{path}.dm_verity.hash"),
                "is not 64 lower-case hex digits",
            ));
        }
        if self.dm_verity.size == 0 || !self.dm_verity.size.is_multiple_of(4096) {
            return Err(at(
                format!("{path}.dm_verity.size"),
                "is not a positive multiple of 4096",
            ));
        }
        for (param, rule) in &self.images {
            let p = format!("{path}.images.{param}");
            if !IMAGE_PARAMS.iter().any(|(n, _)| n == param) {
                return Err(at(&p, format!("unknown image parameter {param:?}")));
            }
            ImageRef::parse(&rule.image)
                .ok()
                .filter(|r| r.tag.is_none() && r.digest.is_none() && r.repository == rule.image)
                .ok_or_else(|| {
                    at(
                        format!("{p}.image"),
                        format!("{:?} is not a bare repository", rule.image),
                    )
                })?;
            if let Some(d) = &rule.digest {
                parse_digest(d).map_err(|e| at(format!("{p}.digest"), e.to_string()))?;
            }
            for (i, a) in rule.args.iter().flatten().enumerate() {
                shell_split(a).map_err(|e| at(format!("{p}.args[{i}]"), e.to_string()))?;
            }
        }
        let mut want: Vec<String> = vec![SECURITY.into(), DM_VERITY.into()];
        want.extend(self.images.keys().cloned());
        let mut got = self.layout.clone();
        want.sort();
        got.sort();
        if want != got {
            return Err(at(
                format!("{path}.layout"),
                format!(
                    "must list security, dm-verity and each image parameter exactly once (got {:?})",
                    self.layout
                ),
            ));
        }
        Ok(())
    }
}

// ---- measurement ----------------------------------------------------------------

/// `sections.measurement`: the pinned launch inputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementSection {
    /// The pinned firmware: image sha256 and descriptor.
    pub firmware: FirmwareDescriptor,
    /// SHA-256 of the kernel (lower-case hex).
    pub kernel_sha256: String,
    /// SHA-256 of the initrd (lower-case hex).
    pub initrd_sha256: String,
    /// Exact substrings removed, every occurrence, from the published
    /// command line before hashing; nothing else is changed (no trimming).
    pub cmdline_remove: Vec<String>,
    pub vcpu_type: VcpuType,
    pub vmm: VmmType,
    /// SEV_FEATURES of the VMSAs.
    pub guest_features: Hex,
    pub vmsa_fpu: VmsaFpu,
    /// The measurement the protocol expects (v0.0.2), lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_measurement: Option<String>,
}

impl MeasurementSection {
    fn validate(&self, path: &str) -> Result<(), PathError> {
        self.firmware
            .validate()
            .map_err(|e| at(format!("{path}.firmware"), e.to_string()))?;
        for (name, v) in [
            ("kernel_sha256", &self.kernel_sha256),
            ("initrd_sha256", &self.initrd_sha256),
        ] {
            if !is_lower_hex(v, 64) {
                return Err(at(
                    format!("{path}.{name}"),
                    "must be 64 lower-case hex digits",
                ));
            }
        }
        if let Some(i) = self.cmdline_remove.iter().position(|s| s.is_empty()) {
            return Err(at(
                format!("{path}.cmdline_remove[{i}]"),
                "must not be empty",
            ));
        }
        if let Some(m) = &self.expected_measurement {
            if !is_lower_hex(m, 96) {
                return Err(at(
                    format!("{path}.expected_measurement"),
                    "must be 96 lower-case hex digits",
                ));
            }
        }
        Ok(())
    }

    /// The SEV hashes-table entries for `cmdline` (as given to QEMU).
    pub fn hashes(&self, cmdline: &str) -> Result<KernelHashes, String> {
        let h32 = |name: &str, v: &str| -> Result<[u8; 32], String> {
            hex::decode(v)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("{name} is not 32 bytes of hex"))
        };
        Ok(KernelHashes {
            kernel: h32("kernel_sha256", &self.kernel_sha256)?,
            initrd: h32("initrd_sha256", &self.initrd_sha256)?,
            cmdline: cmdline_hash(cmdline),
        })
    }

    /// Launch parameters with the pinned vCPU type, VMM, features, FPU mode.
    pub fn params(&self, vcpus: u32) -> LaunchParams {
        LaunchParams {
            vcpus,
            vcpu_type: self.vcpu_type,
            vmm: self.vmm,
            guest_features: self.guest_features.0,
            vmsa_fpu: self.vmsa_fpu,
        }
    }

    /// The command line QEMU was given: the published one minus the
    /// `cmdline_remove` substrings; also how many were removed.
    pub fn cmdline(&self, published: &str) -> (String, usize) {
        let mut s = published.to_string();
        let mut n = 0;
        for r in &self.cmdline_remove {
            n += s.matches(r.as_str()).count();
            s = s.replace(r.as_str(), "");
        }
        (s, n)
    }
}

// ---- tls --------------------------------------------------------------------------

/// `sections.tls`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// Whether `tls.chain` applies (default `required`).
    #[serde(default)]
    pub chain: ChainRule,
    /// Why (shown when not applicable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_reason: Option<String>,
    /// What `report_data[32..64]` must hold (default `zero`).
    #[serde(default)]
    pub report_data_tail: TailRule,
    /// Why neither TLS check applies (a protocol that binds no TLS
    /// certificate, such as `snp-only`): both results are not-applicable
    /// with this reason instead of judging `report_data` against a Blyss rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// What `report_data[0..32]` hashes (default `certificate`: Blyss).
    #[serde(default)]
    pub binding: BindingForm,
}

/// What the first half of REPORT_DATA commits to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BindingForm {
    /// sha256 of the TLS certificate DER (Blyss); the document's
    /// `cert_sha256_fingerprint` repeats it.
    #[default]
    Certificate,
    /// sha256 of the certificate's SubjectPublicKeyInfo DER, with the
    /// enclave's HPKE X25519 public key in `report_data[32..64]` (Tinfoil);
    /// the certificate is the enclave certificate of the Tinfoil bundle,
    /// or the served one when a handshake was captured.
    TinfoilSpki,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainRule {
    #[default]
    Required,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TailRule {
    /// 32 zero bytes (the Blyss enclave).
    #[default]
    Zero,
    /// Not constrained.
    Any,
}

// ---- ct -----------------------------------------------------------------------------

/// `sections.ct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CtSection {
    /// Distinct log operators required (1..=16).
    pub min_operators: u32,
    /// `required`: inclusion proven in each counted log; `sct-only`: valid
    /// SCTs suffice (inclusion still checked when the bundle has evidence).
    pub inclusion: InclusionPolicy,
    /// When set, CT does not apply to this protocol (for example a test
    /// configuration serving a self-signed certificate): every `ct.*`
    /// result is not-applicable with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InclusionPolicy {
    Required,
    SctOnly,
}

impl Default for CtSection {
    fn default() -> Self {
        CtSection {
            min_operators: 2,
            inclusion: InclusionPolicy::Required,
            not_applicable: None,
        }
    }
}

impl CtSection {
    fn validate(&self, path: &str) -> Result<(), PathError> {
        if self.min_operators == 0 || self.min_operators > 16 {
            return Err(at(
                format!("{path}.min_operators"),
                format!(
                    "{} must be between 1 and 16 (use not_applicable to disable CT)",
                    self.min_operators
                ),
            ));
        }
        if let Some(r) = &self.not_applicable {
            if r.trim().is_empty() {
                return Err(at(
                    format!("{path}.not_applicable"),
                    "must give a reason when set",
                ));
            }
        }
        Ok(())
    }
}

// ---- images -------------------------------------------------------------------------

/// Whether something is required (fail when absent) or optional (warn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    Required,
    Optional,
}

/// `sections.images`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesSection {
    /// Captured registry evidence for every attested image: `required`
    /// (missing → fail) or `optional` (missing → warn).
    pub evidence: Requirement,
    /// Digest-pinned references: `required` (a tag-only reference fails) or
    /// `optional` (it warns).
    pub digests: Requirement,
}

// ---- gpu ----------------------------------------------------------------------------

/// Whether a protocol demands GPU evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// A document without GPU evidence fails every GPU check.
    Required,
    /// GPU evidence, when published, must verify; without it the checks are
    /// not applicable.
    #[default]
    WhenPresent,
}

/// A RIM the protocol pins by the sha256 of its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RimPin {
    /// `driver` or `vbios`.
    pub kind: String,
    /// The RIM's `colloquialVersion`, checked too.
    pub version: String,
    /// Lower-case hex sha256 of the RIM text (UTF-8).
    pub sha256: String,
}

/// `sections.gpu`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuSection {
    #[serde(default)]
    pub evidence: Presence,
    /// Time policy for GPU certificates (see [`CertTimePolicy::parse`]);
    /// `--gpu-cert-time` overrides it. Default `evaluation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_time: Option<String>,
    /// If non-empty, each RIM must be one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rim_pins: Vec<RimPin>,
}

impl GpuSection {
    fn validate(&self, path: &str) -> Result<(), PathError> {
        if let Some(t) = &self.cert_time {
            CertTimePolicy::parse(t).map_err(|e| at(format!("{path}.cert_time"), e))?;
        }
        for (i, p) in self.rim_pins.iter().enumerate() {
            let pp = format!("{path}.rim_pins[{i}]");
            if p.kind != "driver" && p.kind != "vbios" {
                return Err(at(
                    format!("{pp}.kind"),
                    format!("{:?}: driver or vbios", p.kind),
                ));
            }
            if !is_lower_hex(&p.sha256, 64) {
                return Err(at(
                    format!("{pp}.sha256"),
                    "is not 64 lower-case hex digits",
                ));
            }
            if self.rim_pins[..i].iter().any(|q| q.sha256 == p.sha256) {
                return Err(at(&pp, format!("repeats sha256 {}", p.sha256)));
            }
        }
        Ok(())
    }
}

/// At which instant GPU certificates (device chain, RIM signing chains)
/// must be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertTimePolicy {
    /// `evaluation`: at the evaluation time (`--at`, else the bundle's
    /// collection time). The default and the only non-relaxing policy.
    Evaluation,
    /// An RFC 3339 instant: judged then instead. Relaxing; reported.
    At(time::OffsetDateTime),
    /// `ignore-expiry-unsafe`: notAfter is not checked (notBefore still is,
    /// at the evaluation time). Relaxing; reported.
    IgnoreExpiryUnsafe,
}

impl CertTimePolicy {
    /// Parses `evaluation`, `ignore-expiry-unsafe` or an RFC 3339 instant.
    pub fn parse(s: &str) -> Result<CertTimePolicy, String> {
        match s {
            "evaluation" => Ok(CertTimePolicy::Evaluation),
            "ignore-expiry-unsafe" => Ok(CertTimePolicy::IgnoreExpiryUnsafe),
            _ => parse_time(s).map(CertTimePolicy::At).map_err(|_| {
                format!(
                    "GPU certificate time policy {s:?}: expected `evaluation`, `ignore-expiry-unsafe` or an RFC 3339 instant"
                )
            }),
        }
    }

    pub fn label(&self) -> String {
        match self {
            CertTimePolicy::Evaluation => "evaluation".into(),
            CertTimePolicy::At(t) => fmt_time(*t),
            CertTimePolicy::IgnoreExpiryUnsafe => "ignore-expiry-unsafe".into(),
        }
    }

    /// Whether the policy relaxes the evaluation time (reported as such).
    pub fn relaxing(&self) -> bool {
        !matches!(self, CertTimePolicy::Evaluation)
    }
}

// ---- tinfoil ------------------------------------------------------------------------

/// `sections.tinfoil`: the release a Tinfoil enclave must run, named by the
/// identity of the workflow that signed it (checked by `tinfoil.release`
/// against the Sigstore bundle's Fulcio certificate).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TinfoilSection {
    /// OIDC issuer the Fulcio certificate must carry
    /// (`https://token.actions.githubusercontent.com`).
    pub oidc_issuer: String,
    /// GitHub repository `owner/name` whose workflow signed the release.
    pub repository: String,
    /// Workflow file path in that repository (`.github/workflows/build.yml`).
    pub workflow_path: String,
    /// Glob on the git ref the workflow ran for (`refs/tags/v*`): `*`
    /// matches any run of characters, nothing else is special.
    pub ref_pattern: String,
    /// The in-toto predicate type of the signed statement.
    pub predicate_type: String,
}

impl TinfoilSection {
    fn validate(&self, path: &str) -> Result<(), PathError> {
        if !self.oidc_issuer.starts_with("https://") {
            return Err(at(format!("{path}.oidc_issuer"), "must be an https:// URL"));
        }
        let mut parts = self.repository.split('/');
        let ok = matches!((parts.next(), parts.next(), parts.next()), (Some(o), Some(n), None) if !o.is_empty() && !n.is_empty());
        if !ok {
            return Err(at(format!("{path}.repository"), "must be owner/name"));
        }
        if !self.workflow_path.starts_with(".github/workflows/") {
            return Err(at(
                format!("{path}.workflow_path"),
                "must be a path under .github/workflows/",
            ));
        }
        if !self.ref_pattern.starts_with("refs/") {
            return Err(at(format!("{path}.ref_pattern"), "must start with refs/"));
        }
        if self.predicate_type.is_empty() {
            return Err(at(format!("{path}.predicate_type"), "must not be empty"));
        }
        Ok(())
    }
}
