//! Checks of the `snp` family (issue 4): the launch measurement recomputed
//! offline from the protocol's pinned inputs equals the report's.
//!
//! * `snp.measurement` — recompute the launch digest from the firmware (the
//!   image in the bundle when it is the pinned one, else the pinned
//!   descriptor), the pinned kernel and initrd hashes, the document's command
//!   line (minus the protocol's `cmdline_remove` substrings, nothing else
//!   changed) and vCPU count, and the pinned vCPU type, VMM, guest features
//!   and VMSA FPU mode; it must equal `MEASUREMENT` of the signed report.
//!   On a mismatch, single-input alternatives are tried to say which input
//!   differs (vCPU count, FPU mode, vCPU type, VMM, guest features, command
//!   line edits).
//! * `snp.measurement-pinned` — when the protocol pins an expected
//!   measurement (v0.0.2), the recomputation and the report both equal it.
//! * `snp.firmware-image` — each image under `evidence/firmware/` has the
//!   pinned sha256 and yields exactly the pinned descriptor.

use serde_json::json;

use super::{CheckResult, Context};
use crate::evidence::layout;
use crate::measure::{
    self, FirmwareDescriptor, FirmwareSource, Hex, KernelHashes, LaunchParams, Measurement,
    VcpuType, VmmType,
};
pub use crate::protocol::MeasurementSection;
use crate::util::short_hex;

const ID: &str = "snp.measurement";
const TITLE: &str = "Launch measurement recomputed from the protocol's inputs";
const ID_PINNED: &str = "snp.measurement-pinned";
const TITLE_PINNED: &str = "Launch measurement equals the protocol's pinned value";
const ID_IMAGE: &str = "snp.firmware-image";
const TITLE_IMAGE: &str = "Firmware image is the pinned one";
const SPEC: &str = "AMD SEV-SNP ABI 56860 §8.17 (SNP_LAUNCH_UPDATE, PAGE_INFO); QEMU SEV hashes table; blyss verifier snp_calc_launch_digest (sev-snp-measure 0.0.7)";
const SPEC_IMAGE: &str =
    "protocol measurement.firmware (image sha256 + descriptor); edk2 OVMF footer table and SEV metadata";
/// Highest vCPU count tried when diagnosing a mismatch (the document parser's limit).
const MAX_VCPUS_TRIED: u32 = 512;

/// The launch inputs the audit derives from a document and a protocol.
struct LaunchInputs {
    /// The command line QEMU was given (published minus `cmdline_remove`).
    cmdline: String,
    /// How many `cmdline_remove` occurrences were removed.
    removed: usize,
    hashes: KernelHashes,
    params: LaunchParams,
}

/// The one place the rule "published command line → measured inputs"
/// lives; `snp.measurement` and `measure --attestation` both call it.
fn launch_inputs(
    sec: &MeasurementSection,
    launch: &crate::evidence::attestation::Launch,
) -> Result<LaunchInputs, String> {
    let (cmdline, removed) = sec.cmdline(&launch.kernel_cli);
    let hashes = sec.hashes(&cmdline)?;
    let params = sec.params(launch.num_vcpus);
    Ok(LaunchInputs {
        cmdline,
        removed,
        hashes,
        params,
    })
}

/// The command-line rule applied, in words (report detail `cmdline.rule`
/// and the output of `measure --attestation`).
fn cmdline_rule(sec: &MeasurementSection, source: &str, removed: usize) -> String {
    format!(
        "{source} cpu_attestation.launch.kernel_cli with {} removed ({removed} occurrence(s)), not trimmed, hashed as sha256(cmdline || NUL)",
        if sec.cmdline_remove.is_empty() {
            "nothing".to_string()
        } else {
            sec.cmdline_remove
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

/// What `measure --attestation` recomputed, with the inputs it used.
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub measurement: Measurement,
    /// `MEASUREMENT` of the document's signed report.
    pub report: [u8; 48],
    /// The command line hashed (after the protocol's removals).
    pub cmdline: String,
    /// The command-line rule, in words.
    pub rule: String,
    pub hashes: KernelHashes,
    pub params: LaunchParams,
    /// Firmware used: sha256 and where it came from.
    pub firmware_sha256: String,
    pub firmware_source: String,
}

/// Recomputes a document's launch measurement exactly as `snp.measurement`
/// does (same section, same command-line rule, same vCPU count), with the
/// protocol's pinned firmware descriptor unless `firmware` gives another
/// (an image or a descriptor, with a label saying which).
pub fn recompute_document(
    protocol: &crate::protocol::Protocol,
    doc: &crate::evidence::attestation::AttestationDocument,
    firmware: Option<(FirmwareDescriptor, FirmwareSource, String)>,
) -> Result<Recomputed, String> {
    let sec = protocol.sections.measurement.clone().ok_or_else(|| {
        format!(
            "protocol {} pins no launch inputs (no measurement section): nothing to recompute",
            protocol.id
        )
    })?;
    let launch = doc.launch.as_ref().ok_or_else(|| {
        format!(
            "{} carries no launch parameters (kernel command line, vCPU count)",
            doc.source
        )
    })?;
    let i = launch_inputs(&sec, launch)?;
    let (desc, source, label) = firmware.unwrap_or_else(|| {
        (
            sec.firmware.clone(),
            FirmwareSource::Descriptor,
            format!("pinned descriptor (protocol {})", protocol.id),
        )
    });
    let measurement = measure::measure_with(&desc, source, Some(&i.hashes), &i.params)
        .map_err(|e| e.to_string())?;
    Ok(Recomputed {
        measurement,
        report: doc.measurement(),
        rule: cmdline_rule(&sec, &doc.source, i.removed),
        cmdline: i.cmdline,
        hashes: i.hashes,
        params: i.params,
        firmware_sha256: desc.sha256.clone(),
        firmware_source: label,
    })
}

/// The firmware chosen for the recomputation.
struct Chosen {
    desc: FirmwareDescriptor,
    source: FirmwareSource,
    /// Bundle member, for image mode.
    member: Option<String>,
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let sec = match &ctx.protocol.sections.measurement {
        Some(s) => s,
        None => {
            out.push(
                CheckResult::not_applicable(
                    ID,
                    TITLE,
                    format!(
                        "protocol {} pins no launch inputs (no measurement section): nothing to recompute",
                        ctx.protocol.id
                    ),
                )
                .spec(SPEC),
            );
            return out;
        }
    };
    let (image_results, chosen) = firmware_images(ctx, sec);
    out.extend(image_results);
    let chosen = chosen.unwrap_or_else(|| Chosen {
        desc: sec.firmware.clone(),
        source: FirmwareSource::Descriptor,
        member: None,
    });
    let (result, recomputed) = measurement(ctx, sec, &chosen);
    out.push(result);
    if let Some(pin) = &sec.expected_measurement {
        out.push(pinned(ctx, pin, recomputed.as_ref()));
    }
    out
}

/// `snp.firmware-image` results, and the first image usable for measuring.
fn firmware_images(ctx: &Context, sec: &MeasurementSection) -> (Vec<CheckResult>, Option<Chosen>) {
    let pin = &sec.firmware;
    let members = ctx.members_under(layout::FIRMWARE_DIR);
    if members.is_empty() {
        return (
            vec![CheckResult::not_applicable(
                ID_IMAGE,
                TITLE_IMAGE,
                format!(
                    "no firmware image in the bundle ({}); {ID} uses the pinned descriptor",
                    layout::FIRMWARE_DIR
                ),
            )
            .spec(SPEC_IMAGE)],
            None,
        );
    }
    let mut results = Vec::new();
    let mut chosen = None;
    for path in members {
        let Some(bytes) = ctx.member(path) else {
            continue;
        };
        // describe() hashes the image once (SHA-256 and page SHA-384s).
        let described = measure::describe(bytes);
        let sha = match &described {
            Ok(d) => d.sha256.clone(),
            Err(_) => crate::util::sha256_hex(bytes),
        };
        let base = |r: CheckResult| {
            r.subject(path)
                .evidence(path)
                .spec(SPEC_IMAGE)
                .detail("image.sha256", sha.clone())
                .detail("image.size", bytes.len() as u64)
                .detail("pinned.sha256", pin.sha256.clone())
        };
        if sha != pin.sha256 {
            results.push(
                base(CheckResult::fail(
                    ID_IMAGE,
                    TITLE_IMAGE,
                    format!(
                        "sha256 differs: image {} != pinned {}",
                        short_hex(&sha),
                        short_hex(&pin.sha256)
                    ),
                ))
                .expected(pin.sha256.clone())
                .actual(sha.clone()),
            );
            continue;
        }
        match described {
            Err(e) => results.push(base(CheckResult::fail(
                ID_IMAGE,
                TITLE_IMAGE,
                format!("image has the pinned sha256 but cannot be described: {e}"),
            ))),
            Ok(d) => {
                let diffs = pin.differences(&d);
                let r = if diffs.is_empty() {
                    base(CheckResult::pass(
                        ID_IMAGE,
                        TITLE_IMAGE,
                        format!(
                            "sha256 {} and the derived descriptor equal the pinned ones",
                            short_hex(&sha)
                        ),
                    ))
                } else {
                    base(CheckResult::fail(
                        ID_IMAGE,
                        TITLE_IMAGE,
                        format!(
                            "the descriptor derived from the image differs from the pinned one (pinned != derived): {}",
                            diffs.join("; ")
                        ),
                    ))
                    .detail("differences", diffs.clone())
                };
                results.push(
                    r.expected(serde_json::to_string(pin).unwrap_or_default())
                        .actual(serde_json::to_string(&d).unwrap_or_default()),
                );
                if chosen.is_none() {
                    chosen = Some(Chosen {
                        desc: d,
                        source: FirmwareSource::Image,
                        member: Some(path.to_string()),
                    });
                }
            }
        }
    }
    (results, chosen)
}

/// `snp.measurement`, and the recomputed digest when it could be computed.
fn measurement(
    ctx: &Context,
    sec: &MeasurementSection,
    fw: &Chosen,
) -> (CheckResult, Option<[u8; 48]>) {
    let fail = |s: String| CheckResult::fail(ID, TITLE, s).spec(SPEC);
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => {
            return (
                fail(format!("no attestation report to compare with: {e}")),
                None,
            )
        }
    };
    let Some(launch) = &doc.launch else {
        return (
            fail(
                "the attestation evidence carries no launch parameters (kernel command line, vCPU count): the measurement cannot be recomputed".into(),
            )
            .evidence(doc.source.clone()),
            None,
        );
    };
    let LaunchInputs {
        cmdline,
        removed,
        hashes,
        params,
    } = match launch_inputs(sec, launch) {
        Ok(i) => i,
        Err(e) => return (fail(e), None),
    };
    let report = doc.measurement();
    let report_hex = hex::encode(report);

    let mut r = CheckResult::fail(ID, TITLE, String::new())
        .spec(SPEC)
        .evidence(doc.source.clone());
    if let Some(m) = &fw.member {
        r = r.evidence(m.clone());
    }
    r = r
        .detail(
            "firmware.source",
            match &fw.member {
                Some(m) => format!("image {m} (pages hashed)"),
                None => format!("pinned descriptor (protocol {})", ctx.protocol.id),
            },
        )
        .detail("firmware.sha256", fw.desc.sha256.clone())
        .detail(
            "firmware.gctx_after_image",
            fw.desc.gctx_after_image.clone(),
        )
        .detail(
            "firmware.sev_es_reset_eip",
            fw.desc.sev_es_reset_eip.to_string(),
        )
        .detail(
            "firmware.sev_hashes_table_gpa",
            fw.desc
                .sev_hashes_table_gpa
                .map(|g| g.to_string())
                .unwrap_or_else(|| "none".into()),
        )
        .detail("firmware.sections", fw.desc.sections_summary())
        .detail("kernel.sha256", sec.kernel_sha256.clone())
        .detail("initrd.sha256", sec.initrd_sha256.clone())
        .detail("cmdline.sha256", hex::encode(hashes.cmdline))
        .detail("cmdline.rule", cmdline_rule(sec, &doc.source, removed))
        .detail("cmdline.bytes", cmdline.len() as u64)
        .detail("vcpus", u64::from(params.vcpus))
        .detail(
            "vcpu_type",
            format!(
                "{} (CPUID signature {:#x})",
                params.vcpu_type,
                params.vcpu_type.signature()
            ),
        )
        .detail("vmm", params.vmm.as_str())
        .detail("guest_features", Hex(params.guest_features).to_string())
        .detail("vmsa_fpu", params.vmsa_fpu.as_str())
        .detail("report.measurement", report_hex.clone())
        .detail("fact:snp.measurement", report_hex.clone());

    let m: Measurement = match measure::measure_with(&fw.desc, fw.source, Some(&hashes), &params) {
        Ok(m) => m,
        Err(e) => {
            r.summary = format!("cannot recompute the measurement: {e}");
            return (r, None);
        }
    };
    let ours = m.hex();
    r = r
        .detail("pages", json!(m.trace.pages))
        .expected(ours.clone())
        .actual(report_hex.clone());
    if m.digest == report {
        r.status = super::Status::Pass;
        r.summary = format!(
            "{} == {} ({})",
            short_hex(&ours),
            short_hex(&report_hex),
            match &fw.member {
                Some(m) => format!("firmware image {m}"),
                None => "pinned firmware descriptor".to_string(),
            }
        );
    } else {
        let diag = diagnose(sec, fw, &launch.kernel_cli, &cmdline, &params, &report);
        r.summary = format!(
            "{} != {} (recomputed != report): {}",
            short_hex(&ours),
            short_hex(&report_hex),
            diag.join("; ")
        );
        r = r.detail("diagnosis", diag);
    }
    (r, Some(m.digest))
}

/// Tries single-input alternatives; says which reproduce the report.
fn diagnose(
    sec: &MeasurementSection,
    fw: &Chosen,
    published: &str,
    cmdline: &str,
    p: &LaunchParams,
    report: &[u8; 48],
) -> Vec<String> {
    let try_with = |cmd: &str, q: &LaunchParams| -> bool {
        sec.hashes(cmd)
            .ok()
            .and_then(|h| measure::measure(&fw.desc, Some(&h), q).ok())
            .is_some_and(|m| &m.digest == report)
    };
    let mut found = Vec::new();
    if let Ok(h) = sec.hashes(cmdline) {
        if let Ok(all) = measure::digests_by_vcpu_count(&fw.desc, Some(&h), p, MAX_VCPUS_TRIED) {
            if let Some(i) = all.iter().position(|d| d == report) {
                found.push(format!(
                    "vcpus differs: the report is reproduced with {} vCPUs, the document says {}",
                    i + 1,
                    p.vcpus
                ));
            }
        }
    }
    let other = p.vmsa_fpu.other();
    if try_with(
        cmdline,
        &LaunchParams {
            vmsa_fpu: other,
            ..*p
        },
    ) {
        found.push(format!(
            "vmsa_fpu differs: the report is reproduced with {other}, the protocol says {}",
            p.vmsa_fpu
        ));
    }
    for name in [
        "EPYC",
        "EPYC-Rome",
        "EPYC-Milan",
        "EPYC-Genoa",
        "EPYC-Turin",
    ] {
        if let Ok(t) = name.parse::<VcpuType>() {
            if t.signature() != p.vcpu_type.signature()
                && try_with(cmdline, &LaunchParams { vcpu_type: t, ..*p })
            {
                found.push(format!(
                    "vcpu_type differs: the report is reproduced with {t}, the protocol says {}",
                    p.vcpu_type
                ));
            }
        }
    }
    for vmm in [VmmType::Qemu, VmmType::Ec2] {
        if vmm != p.vmm && try_with(cmdline, &LaunchParams { vmm, ..*p }) {
            found.push(format!(
                "vmm differs: the report is reproduced with {vmm}, the protocol says {}",
                p.vmm
            ));
        }
    }
    for f in [0x1u64, 0x21] {
        if f != p.guest_features
            && try_with(
                cmdline,
                &LaunchParams {
                    guest_features: f,
                    ..*p
                },
            )
        {
            found.push(format!(
                "guest_features differs: the report is reproduced with {:#x}, the protocol says {:#x}",
                f, p.guest_features
            ));
        }
    }
    if cmdline != published && try_with(published, p) {
        found.push(
            "command line rule differs: the report is reproduced with the published command line unchanged".into(),
        );
    }
    let trimmed = cmdline.trim();
    if trimmed != cmdline && try_with(trimmed, p) {
        found.push(
            "command line rule differs: the report is reproduced with the command line trimmed"
                .into(),
        );
    }
    if found.is_empty() {
        found.push(format!(
            "no single-input change tried (vCPU count 1..={MAX_VCPUS_TRIED}, VMSA FPU mode, vCPU type, VMM, guest features 0x1/0x21, command line unchanged or trimmed) reproduces the report: the firmware, kernel, initrd or command line bytes differ from what was launched"
        ));
    }
    found
}

/// `snp.measurement-pinned`.
fn pinned(ctx: &Context, pin: &str, recomputed: Option<&[u8; 48]>) -> CheckResult {
    let mut r = CheckResult::fail(ID_PINNED, TITLE_PINNED, String::new())
        .spec("protocol measurement.expected_measurement (upstream protocol v0.0.2 expected_measurement)")
        .expected(pin.to_string())
        .detail("pinned", pin.to_string());
    let Some(ours) = recomputed else {
        r.summary = format!(
            "cannot compare with the pinned {}: {ID} could not recompute the measurement",
            short_hex(pin)
        );
        return r;
    };
    let ours = hex::encode(ours);
    r = r.actual(ours.clone()).detail("recomputed", ours.clone());
    let report = ctx.doc.as_ref().ok().map(|d| hex::encode(d.measurement()));
    if let (Some(rep), Ok(d)) = (&report, ctx.doc) {
        r = r.detail("report", rep.clone()).evidence(d.source.clone());
    }
    let report_ok = report.as_deref() == Some(pin);
    if ours == pin && report_ok {
        r.status = super::Status::Pass;
        r.summary = format!("{} == {}", short_hex(&ours), short_hex(pin));
    } else if ours != pin {
        r.summary = format!(
            "{} != {} (recomputed != pinned)",
            short_hex(&ours),
            short_hex(pin)
        );
    } else {
        r.summary = format!(
            "recomputed equals the pin {} but the report's measurement {} does not",
            short_hex(pin),
            report
                .as_deref()
                .map(short_hex)
                .unwrap_or_else(|| "(none)".into())
        );
    }
    r
}
