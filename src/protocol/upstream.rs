//! Upstream Blyss protocol files (`blyssprivacy/verifier`
//! `protocol-v0.0.1.json` and friends): what the service itself publishes.
//!
//! Such a file says less than ours: the container images, the dm-verity
//! disk, the kernel/initrd/OVMF hashes, the security flags and (v0.0.2) the
//! launch options and expected measurement. It says nothing about the SNP
//! policy and TCB, the firmware descriptor needed to recompute the
//! measurement, TLS, CT, registry evidence or GPU evidence. So an upstream
//! file is translated onto the built-in protocol of the same version
//! (`0.0.1` → `v0.0.1`, …): every requirement it states replaces the
//! built-in value, everything else is the built-in default, and the
//! [`Translation`] lists both so the report can say which file was read and
//! which defaults were added.
//!
//! The upstream format is parsed with `deny_unknown_fields` structs too: a
//! misspelled key is refused with its path (`requirements.firmware.kernal:
//! unknown field ...`). Requirements the translation cannot honour are
//! refused rather than dropped: an OVMF hash other than the built-in
//! descriptor's (the measurement needs the descriptor, which the upstream
//! file lacks), a disk type other than `dm_verity`, an image pinned by tag.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::sections::{CmdlineSection, ImageRule, MeasurementSection};
use super::{from_value_at, Protocol, ProtocolError, EMBEDDED};
use crate::evidence::cmdline::IMAGE_PARAMS;

/// What was read from an upstream file and what our built-in protocol added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The built-in protocol whose defaults fill the gaps (`v0.0.1`).
    pub base: String,
    /// `upstream path → our section path`, for each requirement taken.
    pub taken: Vec<(String, String)>,
    /// Our section paths whose values are the built-in defaults.
    pub defaults: Vec<String>,
    /// Upstream fields read but not checked by any section (informational).
    pub informational: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamFile {
    version: String,
    #[allow(dead_code)]
    author: String,
    requirements: Requirements,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirements {
    /// v0.0.1: repository of `blyss_docker_img`.
    #[serde(default)]
    application: Option<String>,
    /// v0.0.1: repository of `blyss_ui_docker_img`.
    #[serde(default)]
    ui: Option<String>,
    /// v0.0.1: repository of `blyss_shim_docker_img`.
    #[serde(default)]
    shim: Option<String>,
    firmware: Firmware,
    /// v0.0.1: security flags.
    #[serde(default)]
    security: Option<String>,
    /// v0.0.2: launch options per image parameter, and security flags.
    #[serde(default)]
    launch: Option<Launch>,
    #[serde(default)]
    expected_measurement: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Firmware {
    /// Kernel build name (informational: nothing attests it by name).
    #[allow(dead_code)]
    name: String,
    disk: Disk,
    ovmf: String,
    kernel: String,
    initrd: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Disk {
    #[serde(rename = "type")]
    kind: String,
    hash: String,
    size: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Launch {
    docker: BTreeMap<String, Docker>,
    security: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Docker {
    image: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    args: Option<Vec<String>>,
}

/// Whether `v` looks like an upstream Blyss protocol file: a `version` and
/// `requirements` head and no `schema` (ours always has `schema`).
pub fn is_upstream(v: &Value) -> bool {
    v.get("schema").is_none() && v.get("version").is_some() && v.get("requirements").is_some()
}

/// Translates an upstream file (already parsed as JSON) onto the built-in
/// protocol of its version.
pub(super) fn translate(
    value: Value,
    bytes: &[u8],
    origin: &str,
) -> Result<Protocol, ProtocolError> {
    let inv = |r: String| ProtocolError::Invalid {
        name: origin.into(),
        reason: r,
    };
    let f: UpstreamFile = from_value_at(value.clone()).map_err(|e| inv(e.to_string()))?;
    let base_id = format!("v{}", f.version);
    let Some((_, text)) = EMBEDDED.iter().find(|(id, _)| *id == base_id) else {
        return Err(inv(format!(
            "version: upstream version {:?} has no built-in protocol {base_id:?} to take defaults from (built-in: {})",
            f.version,
            EMBEDDED.iter().map(|e| e.0).collect::<Vec<_>>().join(", ")
        )));
    };
    let base = Protocol::parse(text.as_bytes(), "embedded")?;
    let r = &f.requirements;
    let mut taken: Vec<(String, String)> = Vec::new();
    let mut defaults: Vec<String> = Vec::new();
    let take = |t: &mut Vec<(String, String)>, a: &str, b: &str| t.push((a.into(), b.into()));

    // ---- cmdline ----
    let mut cmd: CmdlineSection = base.sections.cmdline.clone().ok_or_else(|| {
        inv(format!(
            "built-in protocol {base_id} has no cmdline section to translate onto"
        ))
    })?;
    if r.firmware.disk.kind != "dm_verity" {
        return Err(inv(format!(
            "requirements.firmware.disk.type: {:?} is not supported (only dm_verity)",
            r.firmware.disk.kind
        )));
    }
    cmd.dm_verity.hash = r.firmware.disk.hash.clone();
    cmd.dm_verity.size = r.firmware.disk.size;
    take(
        &mut taken,
        "requirements.firmware.disk",
        "sections.cmdline.dm_verity",
    );
    let security = match (&r.security, &r.launch) {
        (Some(_), Some(_)) => {
            return Err(inv(
                "requirements: both security and launch.security are set; an upstream file states the flags once".into(),
            ))
        }
        (Some(s), None) => {
            take(&mut taken, "requirements.security", "sections.cmdline.security");
            s.clone()
        }
        (None, Some(l)) => {
            take(
                &mut taken,
                "requirements.launch.security",
                "sections.cmdline.security",
            );
            l.security.clone()
        }
        (None, None) => {
            return Err(inv(
                "requirements: neither security nor launch.security is set".into(),
            ))
        }
    };
    cmd.security = security;
    // Image rules: the v0.0.1 short form names the repository per role; the
    // v0.0.2 launch form describes each parameter completely (an absent env
    // or args list means none).
    let mut images: BTreeMap<String, ImageRule> = BTreeMap::new();
    for (param, role) in IMAGE_PARAMS {
        let short = match role {
            "application" => &r.application,
            "ui" => &r.ui,
            _ => &r.shim,
        };
        let launch = r.launch.as_ref().and_then(|l| l.docker.get(param));
        let require_digest = cmd
            .images
            .get(param)
            .map(|b| b.require_digest)
            .unwrap_or(true);
        let rule = match (short, launch) {
            (Some(_), Some(_)) => {
                return Err(inv(format!(
                    "requirements: image {param} is given both as requirements.{role} and requirements.launch.docker.{param}"
                )))
            }
            (Some(image), None) => {
                take(
                    &mut taken,
                    &format!("requirements.{role}"),
                    &format!("sections.cmdline.images.{param}.image"),
                );
                ImageRule {
                    image: image.clone(),
                    require_digest,
                    digest: None,
                    env: None,
                    args: None,
                }
            }
            (None, Some(d)) => {
                let up = format!("requirements.launch.docker.{param}");
                if let Some(tag) = &d.tag {
                    return Err(inv(format!(
                        "{up}.tag: {tag:?}: a tag proves nothing about the image; pin a digest instead"
                    )));
                }
                take(
                    &mut taken,
                    &up,
                    &format!("sections.cmdline.images.{param}"),
                );
                ImageRule {
                    image: d.image.clone(),
                    require_digest,
                    digest: d.digest.clone(),
                    env: Some(d.env.clone().unwrap_or_default()),
                    args: Some(d.args.clone().unwrap_or_default()),
                }
            }
            (None, None) => continue,
        };
        defaults.push(format!("sections.cmdline.images.{param}.require_digest"));
        images.insert(param.to_string(), rule);
    }
    if let Some(l) = &r.launch {
        if let Some(unknown) = l
            .docker
            .keys()
            .find(|k| !IMAGE_PARAMS.iter().any(|(p, _)| p == k))
        {
            return Err(inv(format!(
                "requirements.launch.docker.{unknown}: unknown image parameter (known: {})",
                IMAGE_PARAMS.map(|p| p.0).join(", ")
            )));
        }
    }
    if images.is_empty() {
        return Err(inv("requirements: names no container image".into()));
    }
    // The reconstruction order: the built-in layout, restricted to what the
    // upstream file names.
    cmd.layout
        .retain(|item| !item.contains("docker_img") || images.contains_key(item));
    cmd.images = images;
    defaults.push("sections.cmdline.layout".into());

    // ---- measurement ----
    let mut meas: MeasurementSection = base.sections.measurement.clone().ok_or_else(|| {
        inv(format!(
            "built-in protocol {base_id} has no measurement section to translate onto"
        ))
    })?;
    if r.firmware.ovmf != meas.firmware.sha256 {
        return Err(inv(format!(
            "requirements.firmware.ovmf: {:?} is not the firmware whose descriptor built-in protocol {base_id} pins ({}); the launch measurement cannot be recomputed without its descriptor: write a protocol file in our format with `sections.measurement.firmware`",
            r.firmware.ovmf, meas.firmware.sha256
        )));
    }
    take(
        &mut taken,
        "requirements.firmware.ovmf",
        "sections.measurement.firmware.sha256",
    );
    meas.kernel_sha256 = r.firmware.kernel.clone();
    take(
        &mut taken,
        "requirements.firmware.kernel",
        "sections.measurement.kernel_sha256",
    );
    meas.initrd_sha256 = r.firmware.initrd.clone();
    take(
        &mut taken,
        "requirements.firmware.initrd",
        "sections.measurement.initrd_sha256",
    );
    meas.expected_measurement = r.expected_measurement.clone();
    if r.expected_measurement.is_some() {
        take(
            &mut taken,
            "requirements.expected_measurement",
            "sections.measurement.expected_measurement",
        );
    }
    for d in [
        "firmware (descriptor)",
        "cmdline_remove",
        "vcpu_type",
        "vmm",
        "guest_features",
        "vmsa_fpu",
    ] {
        defaults.push(format!("sections.measurement.{d}"));
    }

    let mut sections = base.sections.clone();
    sections.cmdline = Some(cmd);
    sections.measurement = Some(meas);
    for (name, present) in [
        ("snp", sections.snp.is_some()),
        ("tls", sections.tls.is_some()),
        ("ct", sections.ct.is_some()),
        ("images", sections.images.is_some()),
        ("gpu", sections.gpu.is_some()),
    ] {
        if present {
            defaults.push(format!("sections.{name}"));
        }
    }
    defaults.push("required_checks".into());
    sections
        .validate()
        .map_err(|e| inv(format!("{e} (translated from the upstream file)")))?;
    Ok(Protocol {
        id: base.id.clone(),
        title: format!("{} — requirements from upstream file {origin}", base.title),
        source: format!("upstream Blyss protocol file {origin}, onto built-in {base_id}"),
        origin: origin.into(),
        digest: crate::util::sha256_hex(bytes),
        required: base.required.clone(),
        sections,
        not_judged: base.not_judged.clone(),
        upstream: Some(value),
        translated: Some(Translation {
            base: base_id,
            taken,
            defaults,
            informational: vec!["author".into(), "requirements.firmware.name".into()],
        }),
    })
}
