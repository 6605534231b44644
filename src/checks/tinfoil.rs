//! `tinfoil.*`: the release a Tinfoil enclave runs (issue 17).
//!
//! A Tinfoil attestation bundle (`evidence/tinfoil/attestation-bundle.json`)
//! carries, beside the SNP report the `snp.*` and `amd.*` checks judge, a
//! Sigstore bundle in which a GitHub Actions release workflow signed an
//! in-toto statement naming the launch measurement of the release. The
//! chain this family establishes, link by link:
//!
//! * `tinfoil.release`: the Sigstore bundle verifies offline against the
//!   trust set's Sigstore root (DSSE signature, Fulcio chain, SCT, Rekor
//!   entry, inclusion proof, checkpoint, SET) and its Fulcio certificate
//!   names the OIDC issuer, repository, workflow and tag pattern of the
//!   protocol's `sections.tinfoil`. Each step is shown.
//! * `tinfoil.measurement`: the statement's predicate type is the
//!   protocol's, its `snp_measurement` equals the report's MEASUREMENT, and
//!   its subject digest equals the bundle's `digest`.
//! * `tinfoil.config`: sha256 of the predicate's `config` equals the
//!   `tinfoil-config-hash=` of its `cmdline` (so the configuration shown is
//!   the one the measured command line commits to).
//! * `tinfoil.images`: each container image the config names, one result
//!   each; an image pinned by tag only is a warning (a tag is mutable and
//!   proves nothing about the bytes that ran).
//! * `tinfoil.collection`: for an online collection, every field of the
//!   assembled bundle equals its re-derivation from the answers stored as
//!   received (see [`collection`]); not applicable to the offline import.
//!
//! The statement is read only from the payload `tinfoil.release` verified:
//! when the release does not verify, the three others fail (an unverified
//! statement proves nothing), showing the unverified values for diagnosis.

use super::{CheckResult, Context};
use crate::evidence::layout;
use crate::evidence::sigstore::{self, BundleVerification, IdentityPolicy};
use crate::evidence::tinfoil::{config_containers, Statement, TinfoilBundle};
use crate::protocol::TinfoilSection;

const SPEC: &str = "Tinfoil verifier (tinfoilsh/verifier); Sigstore bundle v0.3; blyss-evidence protocol/checks.md#tinfoil";

const RELEASE: (&str, &str) = (
    "tinfoil.release",
    "Release signed by the protocol's workflow (Sigstore)",
);
const MEASUREMENT: (&str, &str) = ("tinfoil.measurement", "Report measurement is the release's");
const CONFIG: (&str, &str) = (
    "tinfoil.config",
    "Launch configuration matches the command line",
);
const IMAGES: (&str, &str) = (
    "tinfoil.images",
    "Container images of the launch configuration",
);
const COLLECTION: (&str, &str) = (
    "tinfoil.collection",
    "Assembled bundle re-derived from the collected answers",
);
const ALL: [(&str, &str); 5] = [RELEASE, MEASUREMENT, CONFIG, IMAGES, COLLECTION];

/// The payload type of an in-toto statement in DSSE.
const IN_TOTO: &str = "application/vnd.in-toto+json";

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let member = ctx.member(layout::TINFOIL_BUNDLE);
    let sec = ctx.protocol.sections.tinfoil.as_ref();
    let all = |mk: &dyn Fn(&str, &str) -> CheckResult| -> Vec<CheckResult> {
        ALL.iter().map(|(id, t)| mk(id, t).spec(SPEC)).collect()
    };
    let (sec, bytes) = match (sec, member) {
        // Neither a Tinfoil protocol nor Tinfoil evidence: nothing to say.
        (None, None) => return Vec::new(),
        (None, Some(_)) => {
            let why = format!(
                "protocol {} names no Tinfoil release (no sections.tinfoil): the Tinfoil bundle's release is not judged",
                ctx.protocol.id
            );
            return all(&|id, t| {
                CheckResult::not_applicable(id, t, why.clone()).evidence(layout::TINFOIL_BUNDLE)
            });
        }
        (Some(_), None) => {
            let why = format!(
                "no Tinfoil attestation bundle in the evidence ({} missing)",
                layout::TINFOIL_BUNDLE
            );
            return all(&|id, t| CheckResult::fail(id, t, why.clone()));
        }
        (Some(s), Some(b)) => (s, b),
    };
    // Judged on its own: it says which piece of an online collection is
    // missing or differs even when the assembled file cannot be parsed.
    let coll = collection(ctx, sec, bytes).spec(SPEC);
    let tb = match TinfoilBundle::parse(bytes) {
        Ok(t) => t,
        Err(e) => {
            let why = format!("{}: {e}", layout::TINFOIL_BUNDLE);
            let mut out: Vec<CheckResult> = ALL[..4]
                .iter()
                .map(|(id, t)| {
                    CheckResult::fail(id, t, why.clone())
                        .spec(SPEC)
                        .evidence(layout::TINFOIL_BUNDLE)
                })
                .collect();
            // Consistent answers do not make an unreadable (or TDX) bundle
            // auditable: never a pass beside four failures.
            out.push(if coll.status == super::Status::Pass {
                let mut c = coll;
                c.status = super::Status::Fail;
                c.summary = format!(
                    "the assembled bundle is what the stored answers say, but it cannot be audited: {why}"
                );
                c
            } else {
                coll
            });
            return out;
        }
    };
    let v = verify_release(ctx, sec, &tb);
    let verified: Result<Statement, String> = match (&v, v.as_ref().map(|v| v.facts.as_ref())) {
        (Err(e), _) => Err(e.clone()),
        (Ok(v), Ok(Some(f))) if v.passed() => {
            if f.payload_type != IN_TOTO {
                Err(format!(
                    "the signed payload type is {:?}, not {IN_TOTO}",
                    crate::util::visible(&f.payload_type)
                ))
            } else {
                Statement::parse(&f.payload).map_err(|e| format!("the signed statement: {e}"))
            }
        }
        _ => Err("the release statement did not verify (see tinfoil.release): what it says proves nothing".into()),
    };
    // What the envelope says, unverified: shown beside a failure only.
    let unverified = tb
        .sigstore_bundle
        .pointer("/dsseEnvelope/payload")
        .and_then(|p| p.as_str())
        .and_then(|p| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, p).ok())
        .and_then(|p| Statement::parse(&p).ok());
    let doc_measurement = ctx.doc.as_ref().ok().map(|d| hex::encode(d.measurement()));
    let stmt = Judged {
        verified: &verified,
        unverified: unverified.as_ref(),
    };
    let coll = release_tag_agrees(ctx, coll, &v);
    let mut rel = release_result(ctx, sec, &v);
    if let Some(d) = &tb.domain {
        // Unsigned: shown for what it is, used by no rule.
        rel = rel.detail("served_domain", d.clone());
    }
    let mut out = vec![rel];
    out.push(measurement(
        ctx.doc,
        sec,
        &tb,
        &stmt,
        doc_measurement.as_deref(),
    ));
    out.push(config(&stmt));
    out.extend(images(&stmt));
    let mut out: Vec<CheckResult> = out
        .into_iter()
        .map(|r| r.spec(SPEC).evidence(layout::TINFOIL_BUNDLE))
        .collect();
    out.push(coll);
    out
}

/// An online collection names the release it compared against (the latest,
/// or `--tinfoil-release`); the Sigstore certificate that signed the digest
/// that release publishes names the tag it was built from. When both are
/// established and differ, the collection record says more than the
/// evidence does — the release notes of one tag publish another tag's
/// build — and `tinfoil.collection` fails saying so.
fn release_tag_agrees(
    ctx: &Context,
    coll: CheckResult,
    v: &Result<sigstore::BundleVerification, String>,
) -> CheckResult {
    if coll.status != super::Status::Pass {
        return coll;
    }
    let Some(f) = v
        .as_ref()
        .ok()
        .filter(|v| v.passed())
        .and_then(|v| v.facts.as_ref())
    else {
        return coll;
    };
    let recorded = ctx
        .member(COLLECT_RECORD)
        .and_then(|b| crate::evidence::tinfoil::parse_json_unique(b).ok())
        .and_then(|r| {
            r.get("release")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        });
    let Some(tag) = recorded else {
        return coll;
    };
    let want = format!("refs/tags/{tag}");
    if f.git_ref == want {
        return coll.detail(
            "release_tag_signed",
            crate::util::visible(&f.git_ref).into_owned(),
        );
    }
    let mut c = coll;
    c.status = super::Status::Fail;
    c.summary = format!(
        "the collector compared against release {}, but the Sigstore certificate that signed its digest was issued for {}: that release publishes another tag's build",
        crate::util::visible(&tag),
        crate::util::visible(&f.git_ref)
    );
    c.expected = Some(want);
    c.actual = Some(crate::util::visible(&f.git_ref).into_owned());
    c
}

/// The statement as `tinfoil.release` left it.
struct Judged<'a> {
    verified: &'a Result<Statement, String>,
    unverified: Option<&'a Statement>,
}

/// The trust set's Sigstore trusted root.
fn sigstore_root(ctx: &Context) -> Result<sigstore::TrustedRoot, String> {
    sigstore::trusted_root_of(ctx.trust)
}

fn verify_release(
    ctx: &Context,
    sec: &TinfoilSection,
    tb: &TinfoilBundle,
) -> Result<BundleVerification, String> {
    let root = sigstore_root(ctx).map_err(|e| {
        format!(
            "no usable Sigstore trusted root in trust set {:?}: {e}",
            ctx.trust.name
        )
    })?;
    let policy = IdentityPolicy {
        oidc_issuer: sec.oidc_issuer.clone(),
        repository: sec.repository.clone(),
        workflow_path: sec.workflow_path.clone(),
        ref_pattern: sec.ref_pattern.clone(),
    };
    Ok(sigstore::verify_bundle(&tb.sigstore_bundle, &root, &policy))
}

fn release_result(
    ctx: &Context,
    sec: &TinfoilSection,
    v: &Result<BundleVerification, String>,
) -> CheckResult {
    let (id, title) = RELEASE;
    let expected = format!(
        "a Sigstore bundle valid under trust set {:?}, signed by {} workflow {} of {} at a ref matching {}",
        ctx.trust.name, sec.oidc_issuer, sec.workflow_path, sec.repository, sec.ref_pattern
    );
    let v = match v {
        Err(e) => return CheckResult::fail(id, title, e.clone()).expected(expected),
        Ok(v) => v,
    };
    let failed: Vec<String> = v
        .steps
        .iter()
        .filter_map(|s| s.outcome.as_ref().err().map(|e| format!("{}: {e}", s.name)))
        .collect();
    let mut r = if let (true, Some(f)) = (v.passed(), v.facts.as_ref()) {
        CheckResult::pass(
            id,
            title,
            format!(
                "{} built by {} at {} (Rekor log index {}), every Sigstore step verified",
                f.repository,
                f.workflow_path,
                f.git_ref,
                f.rekor_log_index
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| format!("shard {}", f.rekor_shard_index))
            ),
        )
    } else if failed.is_empty() {
        CheckResult::fail(id, title, "the Sigstore verification stated no facts")
    } else {
        CheckResult::fail(id, title, failed.join("; "))
    };
    r = r.expected(expected);
    for (i, s) in v.steps.iter().enumerate() {
        let text = match &s.outcome {
            Ok(w) => format!("ok: {w}"),
            Err(e) => format!("FAILED: {e}"),
        };
        r = r.detail(&format!("step.{i:02}.{}", s.name), text);
    }
    if let Some(f) = &v.facts {
        r = r.actual(format!("{} ({})", f.san_uri, f.issuer));
        // Facts only when established.
        if r.status == super::Status::Pass {
            r = r
                .detail("fact:tinfoil.repository", f.repository.clone())
                .detail("fact:tinfoil.workflow", f.workflow_path.clone())
                .detail("fact:tinfoil.tag", f.git_ref.clone())
                .detail("fact:tinfoil.rekor_shard_index", f.rekor_shard_index);
            if let Some(i) = f.rekor_log_index {
                r = r.detail("fact:tinfoil.rekor_log_index", i);
            }
            if let Some(t) = f.integrated_time {
                let at = time::OffsetDateTime::from_unix_timestamp(t)
                    .map(crate::util::fmt_time)
                    .unwrap_or_else(|_| t.to_string());
                r = r.detail("fact:tinfoil.rekor_integrated_time", at);
            }
        } else {
            r = r
                .detail("repository", f.repository.clone())
                .detail("workflow", f.workflow_path.clone())
                .detail("tag", f.git_ref.clone());
        }
        r = r
            .detail("rekor_tree_size", f.tree_size)
            .detail("rekor_log_id", f.log_id_hex.clone())
            .detail("checkpoint_origin", f.checkpoint_origin.clone());
    }
    r
}

fn measurement(
    doc: &Result<crate::evidence::attestation::AttestationDocument, String>,
    sec: &TinfoilSection,
    tb: &TinfoilBundle,
    st: &Judged,
    report: Option<&str>,
) -> CheckResult {
    let (id, title) = MEASUREMENT;
    let expected = format!(
        "predicate type {}, snp_measurement = the report's MEASUREMENT, subject sha256 = the bundle's digest {}",
        sec.predicate_type, tb.digest
    );
    let s = match st.verified {
        Ok(s) => s,
        Err(e) => {
            let mut r = CheckResult::fail(id, title, e.clone()).expected(expected);
            if let Some(u) = st.unverified {
                r = r.actual(format!(
                    "unverified statement: snp_measurement {}",
                    u.snp_measurement.as_deref().unwrap_or("(none)")
                ));
            }
            return r;
        }
    };
    let mut problems = Vec::new();
    if s.predicate_type != sec.predicate_type {
        problems.push(format!(
            "predicate type {:?}, expected {}",
            crate::util::visible(&s.predicate_type),
            sec.predicate_type
        ));
    }
    let Some(report) = report else {
        return CheckResult::fail(
            id,
            title,
            match doc {
                Err(e) => format!("no usable SNP report: {e}"),
                Ok(_) => "no usable SNP report".into(),
            },
        )
        .expected(expected);
    };
    match &s.snp_measurement {
        Some(m) if m == report => {}
        Some(m) => problems.push(format!(
            "the release's snp_measurement {} is not the report's MEASUREMENT {report}",
            crate::util::visible(m)
        )),
        None => problems.push("the statement has no snp_measurement".into()),
    }
    let digests: Vec<&str> = s
        .subjects
        .iter()
        .filter_map(|(_, d)| d.as_deref())
        .collect();
    if !digests.contains(&tb.digest.as_str()) {
        problems.push(format!(
            "no subject of the statement has sha256 {} (the bundle's digest); subjects: {}",
            tb.digest,
            if digests.is_empty() {
                "(none with sha256)".to_string()
            } else {
                digests.join(", ")
            }
        ));
    }
    let r = if problems.is_empty() {
        CheckResult::pass(
            id,
            title,
            format!(
                "the release's snp_measurement = the report's MEASUREMENT {}; subject digest = the bundle's digest",
                crate::util::short_hex(report)
            ),
        )
        .detail("fact:tinfoil.measurement", report.to_string())
        .detail("fact:tinfoil.deployment_digest", tb.digest.clone())
    } else {
        CheckResult::fail(id, title, problems.join("; "))
    };
    r.expected(expected)
        .actual(format!(
            "snp_measurement {}, report MEASUREMENT {report}",
            s.snp_measurement.as_deref().unwrap_or("(none)")
        ))
        .evidence(
            doc.as_ref()
                .map(|d| d.source.clone())
                .unwrap_or_else(|_| layout::TINFOIL_BUNDLE.into()),
        )
}

fn config(st: &Judged) -> CheckResult {
    let (id, title) = CONFIG;
    let expected = "sha256(predicate.config) = tinfoil-config-hash= of predicate.cmdline";
    let s = match st.verified {
        Ok(s) => s,
        Err(e) => return CheckResult::fail(id, title, e.clone()).expected(expected),
    };
    let Some(config) = &s.config else {
        return CheckResult::fail(id, title, "the statement has no predicate.config")
            .expected(expected);
    };
    let got = crate::util::sha256_hex(config);
    let want = match s.config_hash_param() {
        Ok(Some(w)) => w,
        Ok(None) => {
            return CheckResult::fail(
                id,
                title,
                "the statement's command line has no tinfoil-config-hash=: nothing commits to the configuration",
            )
            .expected(expected)
            .actual(got)
        }
        Err(e) => return CheckResult::fail(id, title, e).expected(expected).actual(got),
    };
    let r = if got == want {
        CheckResult::pass(
            id,
            title,
            format!(
                "sha256 of the launch configuration = tinfoil-config-hash {}",
                crate::util::short_hex(&got)
            ),
        )
        .detail("fact:tinfoil.config_sha256", got.clone())
    } else {
        CheckResult::fail(
            id,
            title,
            format!(
                "the launch configuration hashes to {got}, but the command line commits to tinfoil-config-hash={}",
                crate::util::visible(&want)
            ),
        )
    };
    r.expected(want.clone()).actual(got)
}

fn images(st: &Judged) -> Vec<CheckResult> {
    let (id, title) = IMAGES;
    let s = match st.verified {
        Ok(s) => s,
        Err(e) => return vec![CheckResult::fail(id, title, e.clone())],
    };
    // Images only count when the configuration is the committed one; the
    // config check says whether it is, and this one refuses to show a
    // green image list from a config that does not hash to the cmdline.
    let Some(config) = &s.config else {
        return vec![CheckResult::fail(
            id,
            title,
            "the statement has no predicate.config",
        )];
    };
    if s.config_hash_param().ok().flatten().as_deref() != Some(&crate::util::sha256_hex(config)) {
        return vec![CheckResult::fail(
            id,
            title,
            "the launch configuration is not the one the command line commits to (see tinfoil.config): its images prove nothing",
        )];
    }
    let containers = match config_containers(config) {
        Ok(c) => c,
        Err(e) => {
            return vec![CheckResult::fail(
                id,
                title,
                format!("the launch configuration cannot be read: {e}"),
            )]
        }
    };
    if containers.is_empty() {
        return vec![CheckResult::fail(
            id,
            title,
            "the launch configuration names no container",
        )];
    }
    containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let subject = if c.name.is_empty() {
                format!("containers[{i}]")
            } else {
                crate::util::visible(&c.name).into_owned()
            };
            let r = match c.image() {
                Err(e) => CheckResult::fail(id, title, e),
                Ok((img, from)) => {
                    let shown = crate::util::visible(&img.to_string()).into_owned();
                    let r = if img.digest.is_some() {
                        CheckResult::pass(
                            id,
                            title,
                            format!("{shown} (from {from}) is pinned by digest"),
                        )
                    } else {
                        CheckResult::warn(
                            id,
                            title,
                            format!(
                                "{shown} (from {from}) is pinned by tag only: a tag is mutable and proves nothing about the image that ran"
                            ),
                        )
                    };
                    r.actual(shown.clone()).detail("image_source", from)
                }
            };
            r.subject(subject)
                .expected("an image reference pinned by digest (repository@sha256:…)")
        })
        .collect()
}

/// Members an online collection stores as received beside the assembled
/// bundle (`collect::tinfoil`; `protocol/tinfoil-collect.md`).
const COLLECT_RECORD: &str = "evidence/tinfoil/collect.json";
const ENCLAVE_ATTESTATION: &str = "evidence/tinfoil/enclave-attestation.json";
const ENCLAVE_CERTIFICATE: &str = "evidence/tinfoil/enclave-certificate.json";
const RELEASE_ANSWER: &str = "evidence/tinfoil/release.json";
const TINFOIL_HASH: &str = "evidence/tinfoil/tinfoil.hash";
const ATTESTATIONS_ANSWER: &str = "evidence/tinfoil/github-attestations.json";
const ANSWERS: [&str; 5] = [
    ENCLAVE_ATTESTATION,
    ENCLAVE_CERTIFICATE,
    RELEASE_ANSWER,
    TINFOIL_HASH,
    ATTESTATIONS_ANSWER,
];
/// The schema of `tinfoil/collect.json`.
const COLLECT_SCHEMA: &str = "blyss-evidence.tinfoil-collect/v1";

/// `tinfoil.collection`: an online collection ASSEMBLES
/// `tinfoil/attestation-bundle.json` (the member every other check reads)
/// from the answers it stored as received beside it. Taking the assembled
/// file on the collector's word would let a collector (buggy or hostile)
/// show the audit a report, digest or Sigstore bundle that no server sent,
/// so every field is re-derived here from the stored answers and any
/// difference fails: `enclaveAttestationReport` from the enclave's
/// attestation answer, `digest` from the release answer (its body, else the
/// `tinfoil.hash` asset) and the collection record, `sigstoreBundle` from
/// GitHub's attestations answer (`attestations[0].bundle`), `vcek` from the
/// KDS VCEK, `enclaveCert` from the enclave's certificate answer (never
/// from the handshake: `tls.binding` judges the handshake), `domain` from
/// the enclave URL of the record. A piece the collector could not fetch is
/// a failure too: the collection is incomplete. Without `tinfoil/collect.json`
/// (the offline import: the file is Tinfoil's as served) the check is not
/// applicable, unless as-received answers are present without their record
/// (then it fails: answers without the record that says what they are).
fn collection(ctx: &Context, sec: &TinfoilSection, assembled: &[u8]) -> CheckResult {
    let (id, title) = COLLECTION;
    let expected = format!(
        "each field of {} equal to its value re-derived from the answers stored beside it ({})",
        layout::TINFOIL_BUNDLE,
        ANSWERS.join(", ")
    );
    let present: Vec<&str> = ANSWERS
        .iter()
        .copied()
        .filter(|m| ctx.member(m).is_some())
        .collect();
    if ctx.member(COLLECT_RECORD).is_none() {
        if present.is_empty() {
            return CheckResult::not_applicable(
                id,
                title,
                format!(
                    "no {COLLECT_RECORD}: not an online collection (the offline import stores Tinfoil's bundle as served; there are no answers to re-derive it from)"
                ),
            )
            .evidence(layout::TINFOIL_BUNDLE);
        }
        let mut r = CheckResult::fail(
            id,
            title,
            format!(
                "as-received answers of an online collection ({}) without the collection record {COLLECT_RECORD}: nothing says what they were fetched for",
                present.join(", ")
            ),
        )
        .expected(expected);
        for m in present {
            r = r.evidence(m);
        }
        return r;
    }
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut r = CheckResult::pass(id, title, "").evidence(COLLECT_RECORD);
    let json = |m: &str, problems: &mut Vec<String>| -> Option<serde_json::Value> {
        let b = ctx.member(m)?;
        match crate::evidence::tinfoil::parse_json_unique(b) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{m}: {e}"));
                None
            }
        }
    };
    let rec = json(COLLECT_RECORD, &mut problems).unwrap_or(serde_json::Value::Null);
    let rec_str = |k: &str| rec.get(k).and_then(serde_json::Value::as_str);
    if !rec.is_null() && rec_str("schema") != Some(COLLECT_SCHEMA) {
        problems.push(format!(
            "{COLLECT_RECORD}: schema {:?}, expected {COLLECT_SCHEMA}",
            crate::util::visible(rec_str("schema").unwrap_or("(none)"))
        ));
    }
    let shown = |s: &str| crate::util::visible(s).into_owned();
    // The release compared against, and why (facts when the check passes;
    // shown as plain details otherwise).
    let recorded: Vec<(&str, String)> = [
        ("repository", "tinfoil.collected_repository"),
        ("release", "tinfoil.collected_release"),
        ("why", "tinfoil.release_choice"),
        ("digest_from", "tinfoil.digest_from"),
    ]
    .into_iter()
    .filter_map(|(k, name)| rec_str(k).map(|v| (name, shown(v))))
    .collect();
    if let Some(repo) = rec_str("repository") {
        if repo != sec.repository {
            problems.push(format!(
                "the release was read from repository {}, but the protocol's release repository is {}: the digest compared is another repository's",
                shown(repo),
                sec.repository
            ));
        }
    }
    let asm = match crate::evidence::tinfoil::parse_json_unique(assembled) {
        Ok(v) if v.is_object() => v,
        Ok(_) => {
            problems.push(format!("{}: not a JSON object", layout::TINFOIL_BUNDLE));
            serde_json::Value::Null
        }
        Err(e) => {
            problems.push(format!("{}: {e}", layout::TINFOIL_BUNDLE));
            serde_json::Value::Null
        }
    };
    let null = serde_json::Value::Null;
    let field = |k: &str| asm.get(k).unwrap_or(&null);
    // Compares one field with its re-derivation; `None`: not collected.
    let compare = |name: &str,
                   derived: Option<serde_json::Value>,
                   from: &str,
                   problems: &mut Vec<String>,
                   notes: &mut Vec<String>| {
        let got = field(name);
        match derived {
            None => problems.push(format!(
                "{name}: not collected ({from} is missing or unusable), the assembled bundle holds {}",
                if got.is_null() { "null" } else { "a value no stored answer supports" }
            )),
            Some(d) if &d == got => notes.push(format!("{name} = {from}")),
            Some(_) => problems.push(format!(
                "{name} of the assembled bundle differs from {from}: the collector's bundle is not what was received"
            )),
        }
    };
    // enclaveAttestationReport: the enclave's answer, `format` and `body`.
    let att = json(ENCLAVE_ATTESTATION, &mut problems);
    let derived = att.as_ref().map(|a| {
        serde_json::json!({
            "format": a.get("format").cloned().unwrap_or(serde_json::Value::Null),
            "body": a.get("body").cloned().unwrap_or(serde_json::Value::Null),
        })
    });
    compare(
        "enclaveAttestationReport",
        derived,
        &format!("{ENCLAVE_ATTESTATION} (format, body)"),
        &mut problems,
        &mut notes,
    );
    // digest: the release answer's body, else the tinfoil.hash asset; the
    // tag must be the one the record names.
    let rel = json(RELEASE_ANSWER, &mut problems);
    let derived_digest = rel.as_ref().and_then(|rel| {
        let tag = rel.get("tag_name").and_then(serde_json::Value::as_str);
        if tag != rec_str("release") {
            problems.push(format!(
                "{RELEASE_ANSWER} is release {}, but {COLLECT_RECORD} says {}",
                shown(tag.unwrap_or("(none)")),
                shown(rec_str("release").unwrap_or("(none)"))
            ));
        }
        if let Some(d) = rel
            .get("body")
            .and_then(serde_json::Value::as_str)
            .and_then(crate::evidence::tinfoil::digest_in_release_body)
        {
            return Some((d, format!("the body of {RELEASE_ANSWER}")));
        }
        let h = ctx.member(TINFOIL_HASH)?;
        let t = String::from_utf8_lossy(h).trim().to_ascii_lowercase();
        (t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| (t, TINFOIL_HASH.to_string()))
    });
    if let (Some((d, _)), Some(rd)) = (&derived_digest, rec_str("digest")) {
        if d != rd {
            problems.push(format!(
                "{COLLECT_RECORD} records digest {}, but the release answer gives {d}",
                shown(rd)
            ));
        }
    }
    let digest_from = derived_digest
        .as_ref()
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| format!("{RELEASE_ANSWER} (body) or {TINFOIL_HASH}"));
    compare(
        "digest",
        derived_digest.map(|(d, _)| serde_json::Value::from(d)),
        &digest_from,
        &mut problems,
        &mut notes,
    );
    // sigstoreBundle: GitHub's attestations answer, the first one.
    let atts = json(ATTESTATIONS_ANSWER, &mut problems);
    compare(
        "sigstoreBundle",
        atts.and_then(|a| a.pointer("/attestations/0/bundle").cloned()),
        &format!("{ATTESTATIONS_ANSWER} attestations[0].bundle"),
        &mut problems,
        &mut notes,
    );
    // vcek: the KDS answer (compared as bytes: one spelling is not the point).
    let kds = ctx.member(layout::KDS_VCEK);
    let asm_vcek = field("vcek").as_str().map(|s| {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s)
            .map_err(|e| e.to_string())
    });
    match (kds, asm_vcek) {
        (Some(k), Some(Ok(a))) if a == k => notes.push(format!("vcek = {}", layout::KDS_VCEK)),
        (Some(_), Some(Ok(_))) => problems.push(format!(
            "vcek of the assembled bundle differs from {}: the collector's bundle is not what was received",
            layout::KDS_VCEK
        )),
        (_, Some(Err(e))) => problems.push(format!("vcek of the assembled bundle is not base64: {e}")),
        (None, _) => problems.push(format!(
            "vcek: not collected ({} is missing)",
            layout::KDS_VCEK
        )),
        (Some(_), None) => problems.push(format!(
            "vcek: the assembled bundle holds none although {} was fetched",
            layout::KDS_VCEK
        )),
    }
    // enclaveCert: the enclave's certificate answer.
    let cert = json(ENCLAVE_CERTIFICATE, &mut problems);
    compare(
        "enclaveCert",
        cert.and_then(|c| c.get("certificate").filter(|c| c.is_string()).cloned()),
        &format!("{ENCLAVE_CERTIFICATE} certificate"),
        &mut problems,
        &mut notes,
    );
    // domain: the host of the enclave collected.
    let host = rec_str("enclave").and_then(|e| {
        let auth = e.strip_prefix("https://")?.split('/').next()?;
        Some(match auth.strip_prefix('[') {
            Some(h) => h.split(']').next()?.to_string(),
            None => auth
                .rsplit_once(':')
                .map(|(h, _)| h)
                .unwrap_or(auth)
                .to_string(),
        })
    });
    compare(
        "domain",
        host.map(serde_json::Value::from),
        &format!("the host of {COLLECT_RECORD} enclave"),
        &mut problems,
        &mut notes,
    );
    if let Some(o) = asm.as_object() {
        let extra: Vec<&str> = o
            .keys()
            .map(String::as_str)
            .filter(|k| {
                !matches!(
                    *k,
                    "domain"
                        | "enclaveAttestationReport"
                        | "digest"
                        | "sigstoreBundle"
                        | "vcek"
                        | "enclaveCert"
                )
            })
            .collect();
        if !extra.is_empty() {
            problems.push(format!(
                "the assembled bundle has fields no answer supports: {}",
                extra
                    .iter()
                    .map(|k| shown(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    r.summary = if problems.is_empty() {
        format!(
            "every field of the assembled bundle re-derived from the stored answers; compared against release {} ({})",
            shown(rec_str("release").unwrap_or("?")),
            shown(rec_str("why").unwrap_or("no reason recorded"))
        )
    } else {
        r.status = super::Status::Fail;
        problems.join("; ")
    };
    if !notes.is_empty() {
        r = r.detail("re_derived", notes.join("; "));
    }
    for (name, v) in recorded {
        r = if r.status == super::Status::Pass {
            r.detail(&format!("fact:{name}"), v)
        } else {
            r.detail(name, v)
        };
    }
    for m in ANSWERS.iter().chain([&layout::KDS_VCEK]) {
        if ctx.member(m).is_some() {
            r = r.evidence(*m);
        }
    }
    r.expected(expected).evidence(layout::TINFOIL_BUNDLE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::protocol::Protocol;

    const REAL: &[u8] = include_bytes!(
        "../../fixtures/field/tinfoil-bundle-inference-genoa-v3-sigstore/attestation-bundle.json"
    );

    fn sec() -> TinfoilSection {
        Protocol::load("tinfoil").unwrap().sections.tinfoil.unwrap()
    }

    fn real() -> (TinfoilBundle, Statement) {
        let tb = TinfoilBundle::parse(REAL).unwrap();
        let p = tb.sigstore_bundle["dsseEnvelope"]["payload"]
            .as_str()
            .unwrap();
        let p = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, p).unwrap();
        let st = Statement::parse(&p).unwrap();
        (tb, st)
    }

    fn doc(
        tb: &TinfoilBundle,
    ) -> Result<crate::evidence::attestation::AttestationDocument, String> {
        crate::evidence::attestation::AttestationDocument::from_raw(&tb.report, &tb.vcek_der)
            .map_err(|e| e.to_string())
    }

    /// Judges `st` as if `tinfoil.release` had verified it: these tests
    /// prove the rules of the three statement checks on their own.
    fn judge(tb: &TinfoilBundle, st: Statement) -> (CheckResult, CheckResult, Vec<CheckResult>) {
        let d = doc(tb);
        let m = d.as_ref().ok().map(|d| hex::encode(d.measurement()));
        let v = Ok(st);
        let j = Judged {
            verified: &v,
            unverified: None,
        };
        (
            measurement(&d, &sec(), tb, &j, m.as_deref()),
            config(&j),
            images(&j),
        )
    }

    #[test]
    fn the_real_statement_matches_the_report_and_its_config_and_warns_on_the_tag_pinned_image() {
        let (tb, st) = real();
        let (m, c, i) = judge(&tb, st);
        assert_eq!(m.status, Status::Pass, "{m:?}");
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].status, Status::Warn, "{:?}", i[0]);
        assert_eq!(i[0].subject.as_deref(), Some("proxy"));
        assert_eq!(
            i[0].actual.as_deref(),
            Some("ghcr.io/tinfoilsh/confidential-model-router:0.0.38")
        );
    }

    #[test]
    fn a_changed_measurement_in_the_statement_fails_tinfoil_measurement() {
        let (tb, mut st) = real();
        st.snp_measurement = Some("00".repeat(48));
        let (m, _, _) = judge(&tb, st);
        assert_eq!(m.status, Status::Fail);
        assert!(
            m.summary.contains("is not the report's MEASUREMENT"),
            "{}",
            m.summary
        );
    }

    #[test]
    fn a_subject_digest_other_than_the_bundle_digest_fails_tinfoil_measurement() {
        let (tb, mut st) = real();
        st.subjects[0].1 = Some("11".repeat(32));
        let (m, _, _) = judge(&tb, st);
        assert_eq!(m.status, Status::Fail);
        assert!(m.summary.contains("the bundle's digest"), "{}", m.summary);
    }

    #[test]
    fn another_predicate_type_fails_tinfoil_measurement() {
        let (tb, mut st) = real();
        st.predicate_type = "https://example.com/other".into();
        let (m, _, _) = judge(&tb, st);
        assert_eq!(m.status, Status::Fail);
    }

    #[test]
    fn a_config_that_does_not_hash_to_the_command_line_fails_config_and_images() {
        let (tb, mut st) = real();
        let mut cfg = st.config.take().unwrap();
        cfg.extend_from_slice(b"# one more line\n");
        st.config = Some(cfg);
        let (_, c, i) = judge(&tb, st);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.summary.contains("commits to tinfoil-config-hash="),
            "{}",
            c.summary
        );
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].status, Status::Fail);
    }

    #[test]
    fn a_command_line_without_config_hash_fails_tinfoil_config() {
        let (tb, mut st) = real();
        st.cmdline = Some("readonly=on".into());
        let (_, c, _) = judge(&tb, st);
        assert_eq!(c.status, Status::Fail);
    }

    #[test]
    fn a_digest_pinned_image_passes_and_a_container_without_image_fails() {
        let (tb, mut st) = real();
        let cfg = format!(
            "containers:\n  - name: a\n    image: \"ghcr.io/x/y@sha256:{}\"\n  - name: b\n    image: \"\"\n",
            "ab".repeat(32)
        );
        st.cmdline = Some(format!(
            "x tinfoil-config-hash={}",
            crate::util::sha256_hex(cfg.as_bytes())
        ));
        st.config = Some(cfg.into_bytes());
        let (_, c, i) = judge(&tb, st);
        assert_eq!(c.status, Status::Pass);
        assert_eq!(i.len(), 2);
        assert_eq!(i[0].status, Status::Pass, "{:?}", i[0]);
        assert_eq!(i[1].status, Status::Fail, "{:?}", i[1]);
    }

    #[test]
    fn an_unverified_statement_fails_all_three_statement_checks() {
        let (tb, st) = real();
        let d = doc(&tb);
        let m = d.as_ref().ok().map(|d| hex::encode(d.measurement()));
        let v = Err("release did not verify".to_string());
        let j = Judged {
            verified: &v,
            unverified: Some(&st),
        };
        assert_eq!(
            measurement(&d, &sec(), &tb, &j, m.as_deref()).status,
            Status::Fail
        );
        assert_eq!(config(&j).status, Status::Fail);
        assert!(images(&j).iter().all(|r| r.status == Status::Fail));
    }
}
