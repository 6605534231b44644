//! `protocol.*`: compliance of the attested kernel command line with the
//! protocol, with exactly the original Blyss verifier's rules
//! (blyssprivacy/verifier `verify.py`, `complies_with_protocol` and
//! `has_docker_image`), made stricter where the original is lenient:
//!
//! * the trailing ` initrd=initrd` is removed (only at the end; the original
//!   removes every occurrence);
//! * the rest is shell-split; each of `blyss_docker_img`,
//!   `blyss_ui_docker_img`, `blyss_shim_docker_img` must name the protocol's
//!   image as `image` or `image@sha256:<64 hex>` (the original accepts any
//!   text after `sha256:`), preceded only by `--env K=V` options;
//! * the dm-verity sequence built from the protocol's disk hash and size
//!   must be present, and the protocol's security flags;
//! * the command line must equal its reconstruction from those parts in
//!   the protocol's order, so no extraneous parameter can hide;
//! * a repeated parameter is an error (the original keeps the last one).
//!
//! Protocols may additionally demand digests, pin them, and pin the `--env`
//! options and container arguments (the v0.0.2 draft does).

use super::{CheckResult, Context};
use crate::evidence::cmdline::{
    self, disk_check_sequence, shell_split, Cmdline, ImageArg, IMAGE_PARAMS,
};
use crate::protocol::{CmdlineSection, ImageRule, DM_VERITY, SECURITY};
use crate::util::short_hex;

const SPEC_CMDLINE: &str = "blyssprivacy/verifier verify.py complies_with_protocol: strip ' initrd=initrd', shlex.split, dm-verity sequence from disk hash/size, security flags, exact reconstruction";
const SPEC_IMAGES: &str = "blyssprivacy/verifier verify.py has_docker_image: only --env K=V before <image> or <image>@sha256:<hash>";

/// Is an env variable name secret-looking (its value never shown)?
fn secret_name(name: &str) -> bool {
    crate::evidence::secrets::looks_secret(name)
}

/// `K=V` for display, `K=…` when K looks secret.
fn show_env(kv: &str) -> String {
    match kv.split_once('=') {
        Some((k, _)) if secret_name(k) => format!("{k}=…"),
        _ => kv.to_string(),
    }
}

pub fn run(ctx: &Context) -> Vec<CheckResult> {
    let pid = ctx.protocol.id.clone();
    let section = match &ctx.protocol.sections.cmdline {
        Some(s) => s,
        None => {
            return vec![
                CheckResult::not_applicable(
                    "protocol.cmdline",
                    "Kernel command line complies",
                    format!("protocol {pid} has no command-line rules"),
                )
                .spec(SPEC_CMDLINE),
                CheckResult::not_applicable(
                    "protocol.images",
                    "Container images named on the command line",
                    format!("protocol {pid} names no container images"),
                )
                .spec(SPEC_IMAGES),
            ]
        }
    };
    let fail_both = |why: String| {
        vec![
            CheckResult::fail(
                "protocol.cmdline",
                "Kernel command line complies",
                why.clone(),
            )
            .spec(SPEC_CMDLINE),
            CheckResult::fail(
                "protocol.images",
                "Container images named on the command line",
                why,
            )
            .spec(SPEC_IMAGES),
        ]
    };
    let doc = match ctx.doc {
        Ok(d) => d,
        Err(e) => return fail_both(format!("no attestation evidence: {e}")),
    };
    let Some(launch) = &doc.launch else {
        return fail_both(format!(
            "the attestation evidence carries no kernel command line ({}); protocol {pid} requires one",
            doc.source
        ));
    };
    let c = match Cmdline::parse(&launch.kernel_cli) {
        Ok(c) => c,
        Err(e) => {
            return fail_both(format!("the kernel command line does not shell-split: {e}"))
                .into_iter()
                .map(|r| r.evidence(doc.source.clone()))
                .collect()
        }
    };
    let out = vec![
        reconstruction(section, &c, &pid),
        dm_verity(section, &c),
        security(section, &c),
    ];
    let mut out: Vec<CheckResult> = out
        .into_iter()
        .map(|r| r.evidence(doc.source.clone()))
        .collect();
    for (param, _) in IMAGE_PARAMS {
        if let Some(rule) = section.images.get(param) {
            out.push(image(param, rule, &c).evidence(doc.source.clone()));
        }
    }
    out
}

fn expected_cmdline(s: &CmdlineSection, c: &Cmdline) -> String {
    s.layout
        .iter()
        .map(|item| match item.as_str() {
            SECURITY => s.security.clone(),
            DM_VERITY => disk_check_sequence(&s.dm_verity.hash, s.dm_verity.size),
            param => match c.value(param) {
                Ok(Some(v)) => format!("{param}=\"{v}\""),
                _ => format!("{param}=\"…\""),
            },
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn reconstruction(s: &CmdlineSection, c: &Cmdline, pid: &str) -> CheckResult {
    const ID: &str = "protocol.cmdline";
    const TITLE: &str = "Kernel command line complies";
    let expected = expected_cmdline(s, c);
    let base = |r: CheckResult| {
        r.subject("exact-reconstruction")
            .spec(SPEC_CMDLINE)
            .expected(expected.clone())
            .actual(c.stripped.clone())
            .detail("initrd_suffix_removed", c.initrd_suffix)
    };
    let problems: Vec<String> = s
        .images
        .keys()
        .filter_map(|p| match c.value(p) {
            Ok(Some(_)) => None,
            Ok(None) => Some(format!("{p} is missing")),
            Err(e) => Some(e.to_string()),
        })
        .collect();
    if problems.is_empty() && expected == c.stripped {
        let images: Vec<String> = s
            .layout
            .iter()
            .filter_map(|p| c.image(p))
            .map(|i| match &i.image.digest {
                Some(d) => format!(
                    "{}@{}",
                    i.image.repository,
                    short_hex(d.trim_start_matches("sha256:"))
                ),
                None => i.image.repository.clone(),
            })
            .collect();
        return base(CheckResult::pass(
            ID,
            TITLE,
            format!(
                "complies with {pid}: {}, dm-verity {}, images {}; nothing else",
                s.security,
                short_hex(&s.dm_verity.hash),
                images.join(", ")
            ),
        ));
    }
    // Explain the difference in words.
    let words = |t: &str| shell_split(t).unwrap_or_default();
    let exp_words = words(&expected);
    let act_words = words(&c.stripped);
    // Sets, so that the comparison is not words × words.
    let exp_set: std::collections::BTreeSet<&String> = exp_words.iter().collect();
    let act_set: std::collections::BTreeSet<&String> = act_words.iter().collect();
    let key = |w: &String| w.split('=').next().unwrap_or_default().to_string();
    let extra: Vec<String> = act_words
        .iter()
        .filter(|w| !exp_set.contains(w))
        .map(|w| {
            if w.contains('=') && !w.starts_with("dm-mod") && !w.starts_with("blyss_") {
                w.clone()
            } else {
                key(w)
            }
        })
        .collect();
    let missing: Vec<String> = exp_words
        .iter()
        .filter(|w| !act_set.contains(w))
        .map(key)
        .collect();
    let mut why = problems;
    if !extra.is_empty() {
        why.push(format!("extraneous or altered: {}", first_few(&extra)));
    }
    if !missing.is_empty() {
        why.push(format!("missing or altered: {}", first_few(&missing)));
    }
    if why.is_empty() {
        why.push(if exp_words == act_words {
            "same parameters, different quoting or spacing".into()
        } else {
            "same parameters in a different order".into()
        });
    }
    base(CheckResult::fail(
        ID,
        TITLE,
        format!(
            "the command line is not its reconstruction from protocol {pid}: {}",
            why.join("; ")
        ),
    ))
}

/// The first 12 items joined, then how many more: a hostile command line
/// of thousands of words must not turn into a summary of the same size.
fn first_few(items: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

fn dm_verity(s: &CmdlineSection, c: &Cmdline) -> CheckResult {
    const ID: &str = "protocol.cmdline";
    const TITLE: &str = "dm-verity protects the root disk";
    let seq = disk_check_sequence(&s.dm_verity.hash, s.dm_verity.size);
    let want = cmdline::dm_verity_value(&s.dm_verity.hash, s.dm_verity.size);
    let found = match &c.dm_verity {
        Some(Ok(d)) => d.value.clone(),
        Some(Err(e)) => format!("(unparsable: {e})"),
        None => "(absent)".into(),
    };
    let base = |r: CheckResult| {
        r.subject("dm-verity")
            .spec(format!(
                "{SPEC_CMDLINE}: the disk-check sequence, sectors = size/512, blocks = size/4096"
            ))
            .expected(seq.clone())
            .actual(format!("{}=\"{found}\"", cmdline::DM_PARAM))
            .detail("disk_hash", s.dm_verity.hash.clone())
            .detail("disk_size", s.dm_verity.size)
    };
    if c.stripped.contains(&seq) && c.count(cmdline::DM_PARAM) == 1 {
        return base(CheckResult::pass(
            ID,
            TITLE,
            format!(
                "dm-verity root hash {} over {} bytes ({} sectors, {} blocks), panic_on_corruption",
                short_hex(&s.dm_verity.hash),
                s.dm_verity.size,
                s.dm_verity.size / 512,
                s.dm_verity.size / 4096
            ),
        ));
    }
    let why = match &c.dm_verity {
        None => "no dm-mod.create parameter".to_string(),
        Some(Err(e)) => format!("dm-mod.create: {e}"),
        Some(Ok(d)) => {
            let mut w = Vec::new();
            if let Ok(exp) = cmdline::DmVerity::parse(&want) {
                if d.root_hash != exp.root_hash {
                    w.push(format!(
                        "root hash {} instead of {}",
                        short_hex(&d.root_hash),
                        short_hex(&exp.root_hash)
                    ));
                }
                if d.sectors != exp.sectors || d.data_blocks != exp.data_blocks {
                    w.push(format!(
                        "{} sectors / {} blocks instead of {} / {}",
                        d.sectors, d.data_blocks, exp.sectors, exp.data_blocks
                    ));
                }
                if d.options != exp.options {
                    w.push(format!(
                        "options {:?} instead of {:?}",
                        d.options, exp.options
                    ));
                }
            }
            if w.is_empty() {
                if d.value != want {
                    w.push("the dm-verity target differs from the expected one".into());
                } else if c.count(cmdline::DM_PARAM) > 1 {
                    w.push("dm-mod.create appears more than once".into());
                } else {
                    w.push("the root file-system flags before dm-mod.create differ".into());
                }
            }
            w.join("; ")
        }
    };
    base(CheckResult::fail(ID, TITLE, format!("disk check: {why}")))
}

fn security(s: &CmdlineSection, c: &Cmdline) -> CheckResult {
    const ID: &str = "protocol.cmdline";
    const TITLE: &str = "Security flags present";
    let flags = shell_split(&s.security).unwrap_or_default();
    let words = shell_split(&c.stripped).unwrap_or_default();
    let word_set: std::collections::BTreeSet<&String> = words.iter().collect();
    let missing: Vec<&String> = flags.iter().filter(|f| !word_set.contains(f)).collect();
    let base = |r: CheckResult| {
        r.subject("security-flags")
            .spec(format!(
                "{SPEC_CMDLINE}: protocol security flags in the command line"
            ))
            .expected(s.security.clone())
    };
    if missing.is_empty() && c.stripped.contains(&s.security) {
        base(CheckResult::pass(
            ID,
            TITLE,
            format!("security flags present: {}", s.security),
        ))
        .actual(s.security.clone())
    } else {
        let m: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
        base(CheckResult::fail(
            ID,
            TITLE,
            if m.is_empty() {
                format!(
                    "the security flags {:?} are not present as one sequence",
                    s.security
                )
            } else {
                format!("missing security flag(s): {}", m.join(" "))
            },
        ))
        .actual(
            words
                .iter()
                .filter(|w| {
                    !w.contains('"')
                        && !w.contains(' ')
                        && !w.starts_with("blyss_")
                        && !w.starts_with("dm-mod")
                })
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

fn image(param: &str, rule: &ImageRule, c: &Cmdline) -> CheckResult {
    const ID: &str = "protocol.images";
    const TITLE: &str = "Container images named on the command line";
    let role = IMAGE_PARAMS
        .iter()
        .find(|(p, _)| *p == param)
        .map(|(_, r)| *r)
        .unwrap_or("");
    let form = match &rule.digest {
        Some(d) => format!("{}@{d}", rule.image),
        None if rule.require_digest => format!("{}@sha256:<64 hex>", rule.image),
        None => format!("{} or {}@sha256:<64 hex>", rule.image, rule.image),
    };
    let base = |r: CheckResult| {
        r.subject(param)
            .spec(SPEC_IMAGES)
            .expected(form.clone())
            .detail("param", param)
            .detail("role", role)
    };
    let arg: &ImageArg = match c.image(param) {
        Some(a) => a,
        None => {
            let why = c
                .image_errors
                .iter()
                .find(|e| matches!(e, cmdline::CmdlineError::Param { param: p, .. } if p == param))
                .map(|e| e.to_string())
                .unwrap_or_else(|| format!("{param}: not found"));
            return base(CheckResult::fail(ID, TITLE, why));
        }
    };
    let img = &arg.image;
    let mut problems = Vec::new();
    if img.repository != rule.image {
        problems.push(format!("image {}, expected {}", img.repository, rule.image));
    }
    if let Some(t) = &img.tag {
        problems.push(format!(
            "tag `:{t}` is not allowed (only {0} or {0}@sha256:<64 hex>)",
            rule.image
        ));
    }
    match (&img.digest, &rule.digest) {
        (None, _) if rule.require_digest || rule.digest.is_some() => {
            problems.push("unpinned: no @sha256 digest, the protocol demands one".into())
        }
        (Some(d), Some(want)) if d != want => problems.push(format!(
            "digest {} instead of the pinned {}",
            short_hex(d.trim_start_matches("sha256:")),
            short_hex(want.trim_start_matches("sha256:"))
        )),
        _ => {}
    }
    if let Some(want) = &rule.env {
        if &arg.env != want {
            problems.push(format!(
                "--env options [{}] instead of [{}]",
                arg.env
                    .iter()
                    .map(|e| show_env(e))
                    .collect::<Vec<_>>()
                    .join(", "),
                want.iter()
                    .map(|e| show_env(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let Some(want) = &rule.args {
        let want_words: Vec<String> = want
            .iter()
            .flat_map(|a| shell_split(a).unwrap_or_default())
            .collect();
        if arg.args != want_words {
            problems.push(format!(
                "container arguments {:?} instead of {:?}",
                arg.args, want_words
            ));
        }
    }
    let r = if problems.is_empty() {
        CheckResult::pass(
            ID,
            TITLE,
            format!(
                "{role}: {}{}",
                arg.reference,
                if img.digest.is_none() {
                    " (unpinned, allowed by the protocol)"
                } else {
                    ""
                }
            ),
        )
    } else {
        CheckResult::fail(ID, TITLE, format!("{param}: {}", problems.join("; ")))
            .detail("problems", problems)
    };
    base(r)
        .actual(arg.reference.clone())
        .detail("image", img.repository.clone())
        .detail(
            "digest",
            img.digest
                .clone()
                .map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null),
        )
        .detail("env", arg.env_names())
        .detail("args", arg.args.clone())
}
