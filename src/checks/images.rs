//! Checks of the `images` family: the container images the attested command
//! line pins, judged against the registry evidence captured at collection
//! time (`evidence/images/`, an OCI image-layout-like tree).
//!
//! One `images.manifest` result per attested image (subject: the command-line
//! parameter, e.g. `blyss_docker_img`):
//! * the reference must parse (docker/distribution grammar) and should pin a
//!   digest: a tag proves nothing (fail when the protocol requires digests,
//!   warn otherwise);
//! * sha256(manifest bytes) must equal the attested digest; for an index the
//!   `linux/amd64` child must match its descriptor (digest and size); the
//!   config must match its descriptor and be a linux/amd64 config;
//! * bytes that contradict the attested digest (tampered body, wrong
//!   platform, malformed JSON) always fail; evidence that is simply missing
//!   fails when the protocol requires image evidence and warns otherwise,
//!   and is not applicable under `--scope attestation`.

use super::{CheckResult, Context, Scope, Status};
use crate::evidence::oci::{self, Digest, ImageError, ImageFacts, ImageRecord, Reference};

/// Check id.
pub const ID: &str = "images.manifest";
const TITLE: &str = "Registry manifest matches the attested image digest";
const SPEC: &str = "OCI image spec v1.1 (manifest, index, config, descriptors); Docker Registry HTTP API v2; docker/distribution reference grammar";

pub use crate::protocol::{ImagesSection, Requirement};

/// The status of missing evidence under a requirement: `required` fails,
/// `optional` warns.
fn status_of(r: Requirement) -> Status {
    match r {
        Requirement::Required => Status::Fail,
        Requirement::Optional => Status::Warn,
    }
}

pub use crate::evidence::images::{attested_images_of, AttestedImage, AttestedImages};

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let section = match &ctx.protocol.sections.images {
        Some(s) => s,
        None => {
            return vec![CheckResult::not_applicable(
                ID,
                TITLE,
                format!(
                    "protocol {} has no images section: container images are not judged",
                    ctx.protocol.id
                ),
            )
            .spec(SPEC)]
        }
    };
    match attested_images(ctx) {
        Err(reason) => vec![CheckResult::fail(
            ID,
            TITLE,
            format!("cannot tell which container images ran: {reason}"),
        )
        .spec(SPEC)],
        Ok(found) => {
            // Image parameters that name no usable image: nothing to check.
            let mut out: Vec<CheckResult> = found
                .errors
                .iter()
                .map(|(param, why)| {
                    let mut r = CheckResult::new(
                        ID,
                        TITLE,
                        status_of(section.evidence),
                        format!("{param}: {why}; no image reference to check"),
                    )
                    .spec(SPEC);
                    if !param.is_empty() {
                        r = r.subject(param.clone());
                    }
                    scrub_result(r)
                })
                .collect();
            if found.images.is_empty() && out.is_empty() {
                out.push(
                    CheckResult::new(
                        ID,
                        TITLE,
                        status_of(section.evidence),
                        "the attested command line names no container image",
                    )
                    .spec(SPEC),
                );
            }
            out.extend(run_with(ctx, section, &found.images));
            out
        }
    }
}

/// The images the attested command line names.
fn attested_images(ctx: &Context) -> Result<AttestedImages, String> {
    let doc = ctx.doc.as_ref().map_err(|e| e.clone())?;
    attested_images_of(doc)
}

/// Judges each image (the testable core of [`run`]).
pub fn run_with(
    ctx: &Context,
    section: &ImagesSection,
    images: &[AttestedImage],
) -> Vec<CheckResult> {
    images
        .iter()
        .map(|i| scrub_result(check_image(ctx, section, i)))
        .collect()
}

/// Registry-controlled strings (labels, media types, platforms, commands)
/// end up in terminal, HTML and Markdown reports: control characters
/// (terminal escapes) and bidirectional overrides are replaced by U+FFFD.
fn scrub(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn scrub_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = scrub(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(scrub_json),
        serde_json::Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut val) in old {
                scrub_json(&mut val);
                o.insert(scrub(&k), val);
            }
        }
        _ => {}
    }
}

fn scrub_result(mut r: CheckResult) -> CheckResult {
    r.summary = scrub(&r.summary);
    r.expected = r.expected.map(|s| scrub(&s));
    r.actual = r.actual.map(|s| scrub(&s));
    r.subject = r.subject.map(|s| scrub(&s));
    for v in r.details.values_mut() {
        scrub_json(v);
    }
    r
}

fn member_path(rel: &str) -> String {
    format!("evidence/{rel}")
}

fn blob_path(d: &Digest) -> String {
    member_path(&oci::layout::blob(d.hex()))
}

fn check_image(ctx: &Context, section: &ImagesSection, img: &AttestedImage) -> CheckResult {
    let subject = img.subject().to_string();
    let record_path = member_path(&oci::layout::record(&subject));
    let record = ctx.member(&record_path).map(ImageRecord::parse);
    let base = |status: Status, summary: String| {
        let mut r = CheckResult::new(ID, TITLE, status, summary)
            .subject(subject.clone())
            .spec(SPEC)
            .detail("reference", img.reference.clone());
        if record.is_some() {
            r = r.evidence(record_path.clone());
        }
        if let Some(Ok(rec)) = &record {
            r = r.detail("registry", rec.registry.clone());
            if !rec.errors.is_empty() {
                r = r.detail("collection_errors", rec.errors.clone());
            }
            if rec.reference != img.reference {
                r = r.detail("record_reference", rec.reference.clone());
            }
        }
        if let Some(Err(e)) = &record {
            r = r.detail("record_error", format!("{record_path}: {e}"));
        }
        r
    };

    let reference = match Reference::parse(&img.reference) {
        Ok(r) => r,
        Err(e) => {
            return base(
                Status::Fail,
                format!("{:?} is not a valid image reference: {e}", img.reference),
            )
            .expected("a docker/distribution image reference pinned by digest")
            .actual(img.reference.clone())
        }
    };
    let Some(attested) = reference.digest.clone() else {
        let mut r = base(
            status_of(section.digests),
            format!(
                "{}: tag only, no digest: a tag can be moved and proves nothing about what ran",
                reference.canonical()
            ),
        )
        .expected("a reference pinned by digest (name@sha256:…)")
        .actual(reference.canonical());
        if let Some(Ok(rec)) = &record {
            if let Some(m) = &rec.manifest {
                r = r.detail("tag_resolved_at_collection", m.digest.clone());
            }
        }
        return r;
    };
    // `docker.io/vllm/vllm-openai@sha256:4f562980…76bd144f` for summaries.
    let canonical = format!(
        "{}@{}:{}",
        reference.name(),
        attested.algorithm(),
        crate::util::short_hex(attested.hex())
    );
    let expected = attested.to_string();
    let lookup = |d: &Digest| -> Option<&[u8]> {
        if d.is_sha256() {
            ctx.member(&blob_path(d))
        } else {
            None
        }
    };

    // Nothing captured for this image at all.
    if lookup(&attested).is_none() && record.is_none() {
        let (status, tail) = if ctx.scope() == Scope::Attestation {
            (
                Status::NotApplicable,
                " (not applicable under --scope attestation)",
            )
        } else {
            (status_of(section.evidence), "")
        };
        return base(
            status,
            format!("{canonical}: digest pinned, manifest not captured{tail}"),
        )
        .expected(format!("manifest bytes hashing to {expected}"))
        .actual("not captured");
    }

    // The registry served bytes that do not hash to the attested digest: the
    // collector kept them under their own digest.
    if let Some(Ok(rec)) = &record {
        if let Some(m) = &rec.manifest {
            // Only a record of a fetch of this very digest says anything
            // about it (a record for another reference is ignored here).
            if m.requested == expected && m.digest != expected {
                let served = Digest::parse(&m.digest).ok();
                let bytes = served.as_ref().and_then(lookup);
                let mut r = base(Status::Fail, String::new()).expected(expected.clone());
                match (served, bytes) {
                    (Some(d), Some(b)) => {
                        let actual = Digest::sha256_of(b).to_string();
                        r.summary = format!(
                            "{canonical}: the registry served manifest bytes hashing to {actual}, not the attested digest (tampered or wrong body)"
                        );
                        r = r.actual(actual).evidence(blob_path(&d));
                    }
                    _ => {
                        r.summary = format!(
                            "{canonical}: the collector recorded a manifest digest {} that differs from the attested one, and its bytes are not in the bundle",
                            m.digest
                        );
                        r = r.actual(m.digest.clone());
                    }
                }
                return r;
            }
        }
    }

    let (facts, outcome) = oci::verify_image(&attested, &lookup);
    let mut r = base(Status::Pass, String::new()).expected(expected.clone());
    for d in [
        Some(&attested),
        facts.child.as_ref().map(|c| &c.digest),
        facts.config_digest.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        if lookup(d).is_some() {
            r = r.evidence(blob_path(d));
        }
    }
    r = with_facts(r, &facts);
    match outcome {
        Ok(()) => {
            if let Some(why) = record_contradiction(ctx, &record, img, &reference, &facts) {
                r.status = Status::Fail;
                r.summary = format!("{canonical}: {why}");
                return r.actual(why);
            }
            r.summary = pass_summary(&canonical, &facts);
            r.actual(expected)
        }
        Err(e) => {
            // A child or config the registry served with the wrong bytes:
            // the collector kept them under their own digest, so the blob the
            // descriptor names is absent. That is a contradiction, not
            // missing evidence.
            if e.is_missing() {
                if let Some(Ok(rec)) = &record {
                    let served = [
                        ("linux/amd64 manifest", &rec.child),
                        ("config", &rec.config),
                    ]
                    .into_iter()
                    .find_map(|(kind, b)| {
                        b.as_ref()
                            .filter(|b| b.requested != b.digest)
                            .map(|b| (kind, b))
                    });
                    if let Some((kind, b)) = served {
                        r.status = Status::Fail;
                        r.summary = format!(
                            "{canonical}: the registry served {kind} bytes hashing to {}, not the requested {} (tampered or wrong body)",
                            b.digest, b.requested
                        );
                        if let Ok(d) = Digest::parse(&b.digest) {
                            if lookup(&d).is_some() {
                                r = r.evidence(blob_path(&d));
                            }
                        }
                        return r.actual(b.digest.clone());
                    }
                }
            }
            let missing = e.is_missing();
            r.status = if !missing {
                Status::Fail
            } else if ctx.scope() == Scope::Attestation {
                Status::NotApplicable
            } else {
                status_of(section.evidence)
            };
            let why = match (&record, missing) {
                (Some(Ok(rec)), true) if !rec.errors.is_empty() => {
                    format!("{e} ({})", rec.errors.join("; "))
                }
                _ => e.to_string(),
            };
            r.summary = format!("{canonical}: {why}");
            let actual = match &e {
                ImageError::DigestMismatch { actual, .. } => actual.clone(),
                _ => why,
            };
            r.actual(actual)
        }
    }
}

/// Why the collector's per-image record, or the OCI layout marker,
/// contradicts an image that verified from the attested digest and the
/// blobs, if they do. The record is never used to verify; but a record that
/// does not parse, names another reference or platform, or other blobs
/// (digest, size) than the verified chain was not written by this collector
/// for this image (or was edited), so the image does not pass. Only the
/// record's provenance strings (`registry`, `url`, `content_type`, `errors`)
/// are informational (protocol/checks.md § tamper-tolerant fields).
fn record_contradiction(
    ctx: &Context,
    record: &Option<Result<ImageRecord, String>>,
    img: &AttestedImage,
    reference: &Reference,
    facts: &ImageFacts,
) -> Option<String> {
    let marker = member_path(oci::layout::OCI_LAYOUT);
    if ctx.member(&marker) != Some(oci::layout::OCI_LAYOUT_CONTENT.as_bytes()) {
        return Some(format!(
            "{marker} is missing or altered (expected {})",
            oci::layout::OCI_LAYOUT_CONTENT
        ));
    }
    let rec = match record {
        None => return None,
        Some(Err(e)) => return Some(format!("the collector's record does not parse: {e}")),
        Some(Ok(r)) => r,
    };
    if rec.reference != img.reference || (rec.param.is_some() && rec.param != img.param) {
        return Some(format!(
            "the collector's record is for {:?} ({:?}), not this image",
            rec.reference, rec.param
        ));
    }
    if rec.canonical != reference.canonical() {
        return Some(format!(
            "the collector's record names {:?}, not {}",
            rec.canonical,
            reference.canonical()
        ));
    }
    let platform = format!("{}/{}", oci::PLATFORM_OS, oci::PLATFORM_ARCH);
    if rec.platform != platform {
        return Some(format!(
            "the collector's record is for platform {:?}, not {platform}",
            rec.platform
        ));
    }
    let attested = reference.digest.as_ref();
    let child = facts.child.as_ref().map(|c| &c.digest);
    [
        ("manifest", &rec.manifest, attested),
        ("linux/amd64 manifest", &rec.child, child),
        ("config", &rec.config, facts.config_digest.as_ref()),
    ]
    .into_iter()
    .find_map(|(what, got, want)| match (got, want) {
        (None, None) => None,
        (Some(b), Some(d)) => {
            let size = ctx.member(&blob_path(d)).map(|x| x.len() as u64);
            let d = d.to_string();
            (b.requested != d || b.digest != d || Some(b.size) != size).then(|| {
                format!(
                    "the collector's record of the {what} (requested {}, received {}, {} bytes) is not the verified {d}",
                    b.requested, b.digest, b.size
                )
            })
        }
        (Some(b), None) => Some(format!(
            "the collector's record names a {what} {} the verified image does not have",
            b.digest
        )),
        (None, Some(d)) => Some(format!(
            "the collector's record names no {what}; the verified image has {d}"
        )),
    })
}

fn with_facts(mut r: CheckResult, f: &ImageFacts) -> CheckResult {
    if !f.media_type.is_empty() {
        r = r.detail("media_type", f.media_type.clone());
    }
    if !f.platforms.is_empty() {
        r = r.detail("platforms", f.platforms.clone());
    }
    if let Some(c) = &f.child {
        r = r
            .detail("platform", "linux/amd64")
            .detail("child_digest", c.digest.to_string())
            .detail("child_size", c.size);
    }
    if !f.image_media_type.is_empty() {
        r = r
            .detail("layers", f.layer_count as u64)
            .detail("layers_size", f.layer_total_size);
    }
    if let Some(d) = &f.config_digest {
        r = r.detail("config_digest", d.to_string());
    }
    let c = &f.config;
    if let Some(t) = &c.created {
        r = r.detail("created", t.clone());
    }
    if !c.labels.is_empty() {
        let labels: serde_json::Map<String, serde_json::Value> = c
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        r = r.detail("labels", serde_json::Value::Object(labels));
    }
    for (key, label) in [
        ("source", "org.opencontainers.image.source"),
        ("revision", "org.opencontainers.image.revision"),
    ] {
        if let Some(v) = c.labels.get(label) {
            r = r.detail(key, v.clone());
        }
    }
    if let Some(e) = &c.entrypoint {
        r = r.detail("entrypoint", e.clone());
    }
    if let Some(cmd) = &c.cmd {
        r = r.detail("cmd", cmd.clone());
    }
    r
}

fn pass_summary(canonical: &str, f: &ImageFacts) -> String {
    let mut s = format!("{canonical}: {}", oci::media_type_name(&f.media_type));
    if let Some(c) = &f.child {
        s.push_str(&format!(
            " of {}, linux/amd64 child {}:{}",
            f.platforms.join(", "),
            c.digest.algorithm(),
            crate::util::short_hex(c.digest.hex())
        ));
    }
    if let Some(t) = &f.config.created {
        s.push_str(&format!(", created {t}"));
    }
    s.push_str(&format!(
        ", {} layers, {}",
        f.layer_count,
        human_size(f.layer_total_size)
    ));
    if let Some(src) = f.config.labels.get("org.opencontainers.image.source") {
        s.push_str(&format!(", source {src}"));
    }
    s
}

/// `123 bytes`, `4.2 MB`, `1.3 GB` (decimal units, as registries show).
fn human_size(n: u64) -> String {
    const UNITS: &[(&str, u64)] = &[("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1_000)];
    for (u, f) in UNITS {
        if n >= *f {
            return format!("{:.1} {u}", n as f64 / *f as f64);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This family's section, validated as part of a protocol file.
    fn validate_section(v: &serde_json::Value) -> Result<(), String> {
        crate::protocol::validate_one_section("images", v)
    }

    #[test]
    fn section_requires_known_fields_and_values() {
        assert!(
            validate_section(&serde_json::json!({"evidence":"required","digests":"optional"}))
                .is_ok()
        );
        assert!(validate_section(&serde_json::json!({})).is_err());
        assert!(validate_section(
            &serde_json::json!({"evidence":"required","digests":"optional","x":1})
        )
        .is_err());
        assert!(
            validate_section(&serde_json::json!({"evidence":"maybe","digests":"optional"}))
                .is_err()
        );
    }

    #[test]
    fn registry_strings_lose_control_and_bidi_characters() {
        assert_eq!(
            scrub("a\u{1b}[31mb\u{202E}c\nd"),
            "a\u{FFFD}[31mb\u{FFFD}c\u{FFFD}d"
        );
        let mut r = CheckResult::pass(ID, TITLE, "x\u{7}")
            .detail("labels", serde_json::json!({"k\u{1b}": ["v\u{9b}"]}));
        r = scrub_result(r);
        assert_eq!(r.summary, "x\u{FFFD}");
        assert_eq!(
            r.details["labels"],
            serde_json::json!({"k\u{FFFD}": ["v\u{FFFD}"]})
        );
    }

    #[test]
    fn human_sizes_use_decimal_units() {
        assert_eq!(human_size(123), "123 bytes");
        assert_eq!(human_size(4_200_000), "4.2 MB");
        assert_eq!(human_size(1_300_000_000), "1.3 GB");
    }
}
