//! The CT judgement shared by the audit (`ct.*` checks) and
//! `blyss-evidence ct check`: per SCT, the rules of RFC 6962 and the Chrome
//! CT policy; per log, the inclusion of the certificate's entry in a signed
//! tree head (RFC 6962 STH or static-ct-api checkpoint).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::checkpoint::Checkpoint;
use super::layout;
use super::loglist::{Log, LogKind, LogList};
use super::merkle::verify_inclusion;
use super::precert::{issuer_key_hash, leaf_hash, precert_leaf, precert_tbs};
use super::sct::{scts_from_cert, Sct};
use super::sth::{parse_get_sth, parse_proof_by_hash, TreeHead};
use super::tiles::{parse_path, proof_from_tiles, TileStore};
use super::{fmt_ms, ms_to_time, CtError};

/// Clock skew allowed between a log and the evaluation time (the collection
/// start, second precision) when asking whether an SCT is from the future.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// A certificate with embedded SCTs, ready to be judged.
#[derive(Debug, Clone)]
pub struct CertScts {
    /// SHA-256 of the certificate DER, hex.
    pub sha256: String,
    pub subject: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub scts: Vec<Sct>,
    /// TBS without the SCT list extension.
    pub precert_tbs: Vec<u8>,
    /// SHA-256 of the issuer's SPKI; `None` when no issuer was given.
    pub issuer_key_hash: Option<[u8; 32]>,
}

/// Why a certificate's SCTs cannot be judged at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    /// The certificate has no embedded SCT list.
    NoScts,
    /// The certificate, its SCT list or the issuer is malformed.
    Invalid(String),
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertProblem::NoScts => write!(f, "the certificate carries no embedded SCT list"),
            CertProblem::Invalid(s) => f.write_str(s),
        }
    }
}

fn x509_time(t: &x509_cert::time::Time) -> OffsetDateTime {
    let d = t.to_unix_duration();
    OffsetDateTime::from_unix_timestamp(d.as_secs() as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Parses a certificate's SCTs and rebuilds what they sign.
pub fn load_cert(leaf: &[u8], issuer: Option<&[u8]>) -> Result<CertScts, CertProblem> {
    let inv = |e: CtError| CertProblem::Invalid(e.to_string());
    let cert = super::sct::check_certificate(leaf).map_err(inv)?;
    let scts = scts_from_cert(leaf)
        .map_err(inv)?
        .ok_or(CertProblem::NoScts)?;
    let tbs = precert_tbs(leaf).map_err(inv)?;
    let ikh = match issuer {
        Some(i) => {
            Some(issuer_key_hash(i).map_err(|e| CertProblem::Invalid(format!("issuer: {e}")))?)
        }
        None => None,
    };
    let v = &cert.tbs_certificate.validity;
    Ok(CertScts {
        sha256: crate::util::sha256_hex(leaf),
        subject: cert.tbs_certificate.subject.to_string(),
        not_before: x509_time(&v.not_before),
        not_after: x509_time(&v.not_after),
        scts,
        precert_tbs: tbs,
        issuer_key_hash: ikh,
    })
}

/// One rule applied to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn rule(name: &'static str, ok: bool, detail: impl Into<String>) -> Rule {
    Rule {
        name,
        ok,
        detail: detail.into(),
    }
}

/// The judgement of one SCT.
#[derive(Debug, Clone)]
pub struct SctVerdict {
    /// Position in the certificate's SCT list.
    pub position: usize,
    pub sct: Sct,
    /// The log, when the list knows it.
    pub log: Option<Log>,
    /// The precert `MerkleTreeLeaf` (needs the issuer).
    pub leaf: Option<Vec<u8>>,
    pub leaf_hash: Option<[u8; 32]>,
    /// static-ct-api `leaf_index`, when present and well-formed.
    pub leaf_index: Option<u64>,
    pub rules: Vec<Rule>,
}

impl SctVerdict {
    pub fn ok(&self) -> bool {
        self.rules.iter().all(|r| r.ok)
    }
    /// Whether the SCT signature itself verified.
    pub fn signature_ok(&self) -> bool {
        self.rules.iter().any(|r| r.name == "signature" && r.ok)
    }
    pub fn failures(&self) -> Vec<&Rule> {
        self.rules.iter().filter(|r| !r.ok).collect()
    }
    /// Log description, or the log id when unknown.
    pub fn log_name(&self) -> String {
        match &self.log {
            Some(l) => l.description.clone(),
            None => format!("unknown log {}", self.sct.log_id_b64()),
        }
    }
    pub fn operator(&self) -> Option<&str> {
        self.log.as_ref().map(|l| l.operator.as_str())
    }
}

/// Judges every SCT of a certificate against a log list, at `now`.
pub fn judge_scts(cert: &CertScts, list: &LogList, now: OffsetDateTime) -> Vec<SctVerdict> {
    cert.scts
        .iter()
        .enumerate()
        .map(|(i, s)| judge_sct(cert, i, s, list, now))
        .collect()
}

fn judge_sct(
    cert: &CertScts,
    position: usize,
    sct: &Sct,
    list: &LogList,
    now: OffsetDateTime,
) -> SctVerdict {
    let mut rules = Vec::new();
    let log = list.find(&sct.log_id).cloned();
    let sct_time = ms_to_time(sct.timestamp);
    let ts = fmt_ms(sct.timestamp);
    match &log {
        Some(l) => rules.push(rule(
            "log-known",
            true,
            format!("{} ({}, {})", l.description, l.operator, l.kind.label()),
        )),
        None => rules.push(rule(
            "log-known",
            false,
            format!("log id {} is not in the log list", sct.log_id_b64()),
        )),
    }
    if let (Some(l), Some(t)) = (&log, sct_time) {
        match l.state_acceptable_at(t) {
            Ok(()) => {
                let st = l.state.map(|s| s.kind.as_str()).unwrap_or("?");
                rules.push(rule("log-state", true, format!("log {st}")))
            }
            Err(e) => rules.push(rule("log-state", false, e)),
        }
        if let Some(iv) = l.temporal_interval {
            let ok = iv.contains(cert.not_after);
            rules.push(rule(
                "temporal-interval",
                ok,
                format!(
                    "certificate notAfter {} {} the log's interval [{}, {})",
                    crate::util::fmt_time(cert.not_after),
                    if ok { "is within" } else { "is outside" },
                    crate::util::fmt_time(iv.start_inclusive),
                    crate::util::fmt_time(iv.end_exclusive)
                ),
            ));
        }
    }
    match sct_time {
        None => rules.push(rule(
            "sct-time",
            false,
            format!("timestamp {ts} out of range"),
        )),
        Some(t) => {
            let in_validity = cert.not_before <= t && t <= cert.not_after;
            let not_future = t <= now + MAX_CLOCK_SKEW;
            let detail = if !in_validity {
                format!(
                    "SCT time {ts} is outside the certificate validity [{}, {}]",
                    crate::util::fmt_time(cert.not_before),
                    crate::util::fmt_time(cert.not_after)
                )
            } else if !not_future {
                format!(
                    "SCT time {ts} is after the evaluation time {} (+{} s allowed clock skew)",
                    crate::util::fmt_time(now),
                    MAX_CLOCK_SKEW.whole_seconds()
                )
            } else {
                format!("SCT time {ts} within the certificate validity")
            };
            rules.push(rule("sct-time", in_validity && not_future, detail));
        }
    }
    let leaf_index = match sct.leaf_index() {
        Ok(i) => i,
        Err(e) => {
            rules.push(rule("extensions", false, e.to_string()));
            None
        }
    };
    if let Some(l) = &log {
        if l.kind.is_tiled() {
            rules.push(match leaf_index {
                Some(i) => rule("leaf-index", true, format!("leaf_index {i}")),
                None => rule(
                    "leaf-index",
                    false,
                    "SCT from a static-ct-api log without a leaf_index extension",
                ),
            });
        }
    }
    let (leaf, lh) = match &cert.issuer_key_hash {
        None => {
            rules.push(rule(
                "signature",
                false,
                "no issuer certificate: the precertificate leaf cannot be rebuilt",
            ));
            (None, None)
        }
        Some(ikh) => match precert_leaf(sct, &cert.precert_tbs, ikh) {
            Err(e) => {
                rules.push(rule("signature", false, e.to_string()));
                (None, None)
            }
            Ok(leaf) => {
                match &log {
                    Some(l) => match super::sig::verify(
                        &l.key,
                        sct.hash_alg,
                        sct.sig_alg,
                        &sct.signature,
                        &leaf,
                    ) {
                        Ok(()) => rules.push(rule(
                            "signature",
                            true,
                            "SCT signature verifies over the rebuilt precertificate entry",
                        )),
                        Err(e) => rules.push(rule("signature", false, e.to_string())),
                    },
                    None => rules.push(rule("signature", false, "no key: the log is unknown")),
                }
                let h = leaf_hash(&leaf);
                (Some(leaf), Some(h))
            }
        },
    };
    SctVerdict {
        position,
        sct: sct.clone(),
        log,
        leaf,
        leaf_hash: lh,
        leaf_index,
        rules,
    }
}

/// Read access to bundle members (full member names).
pub trait Members {
    fn get(&self, path: &str) -> Option<&[u8]>;
    fn under(&self, prefix: &str) -> Vec<String>;
}

impl Members for crate::bundle::Bundle {
    fn get(&self, path: &str) -> Option<&[u8]> {
        self.member(path)
    }
    fn under(&self, prefix: &str) -> Vec<String> {
        self.members_under(prefix)
            .into_iter()
            .map(String::from)
            .collect()
    }
}

impl Members for BTreeMap<String, Vec<u8>> {
    fn get(&self, path: &str) -> Option<&[u8]> {
        BTreeMap::get(self, path).map(|v| v.as_slice())
    }
    fn under(&self, prefix: &str) -> Vec<String> {
        self.keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// The judgement of one SCT's inclusion in its log.
#[derive(Debug, Clone, Default)]
pub struct InclusionVerdict {
    pub rules: Vec<Rule>,
    pub leaf_index: Option<u64>,
    pub tree_size: Option<u64>,
    pub root: Option<[u8; 32]>,
    /// Timestamp of the tree head the proof is against (ms).
    pub head_timestamp: Option<u64>,
    /// Bundle members read.
    pub evidence: Vec<String>,
}

impl InclusionVerdict {
    pub fn ok(&self) -> bool {
        !self.rules.is_empty() && self.rules.iter().all(|r| r.ok)
    }
    pub fn failures(&self) -> Vec<&Rule> {
        self.rules.iter().filter(|r| !r.ok).collect()
    }
    fn fail(mut self, name: &'static str, detail: impl Into<String>) -> Self {
        self.rules.push(rule(name, false, detail));
        self
    }
}

/// Tree heads a log presented, in order, with the member each came from.
fn heads_history(v: &mut InclusionVerdict, heads: &[(String, TreeHead)]) {
    let mut ok = true;
    let mut detail = format!("{} tree head(s), never shrinking", heads.len());
    for w in heads.windows(2) {
        let (a, b) = (&w[0].1, &w[1].1);
        if b.tree_size < a.tree_size || b.timestamp < a.timestamp {
            ok = false;
            detail = format!(
                "the log's tree went from size {} ({}) to size {} ({}): a tree that shrinks or goes back in time",
                a.tree_size,
                fmt_ms(a.timestamp),
                b.tree_size,
                fmt_ms(b.timestamp)
            );
            break;
        }
        if a.tree_size == b.tree_size && a.root != b.root {
            ok = false;
            detail = format!(
                "two signed tree heads of size {} with different roots (split view)",
                a.tree_size
            );
            break;
        }
    }
    v.rules.push(rule("history", ok, detail));
}

/// Judges the inclusion of an SCT's entry in its log from bundle evidence.
pub fn judge_inclusion(s: &SctVerdict, members: &dyn Members) -> InclusionVerdict {
    let v = InclusionVerdict::default();
    let Some(log) = &s.log else {
        return v.fail("log-known", "the log is not in the log list");
    };
    let (Some(leaf), Some(lh)) = (&s.leaf, &s.leaf_hash) else {
        return v.fail(
            "leaf",
            "the precertificate entry could not be rebuilt (no issuer certificate)",
        );
    };
    let dir = layout::full(&layout::log_dir(&log.log_id));
    let names = members.under(&dir);
    match &log.kind {
        LogKind::Rfc6962 { .. } => judge_rfc6962(v, s, log, leaf, lh, &dir, &names, members),
        LogKind::Tiled { .. } => judge_tiled(v, s, log, leaf, &dir, &names, members),
    }
}

#[allow(clippy::too_many_arguments)]
fn judge_rfc6962(
    mut v: InclusionVerdict,
    s: &SctVerdict,
    log: &Log,
    leaf: &[u8],
    lh: &[u8; 32],
    dir: &str,
    names: &[String],
    members: &dyn Members,
) -> InclusionVerdict {
    let mut heads: Vec<(String, TreeHead)> = Vec::new();
    let mut sth_names: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            layout::parse_seq(n.strip_prefix(dir)?, "get-sth-", ".json").map(|i| (i, n))
        })
        .collect();
    sth_names.sort();
    if sth_names.is_empty() {
        return v.fail(
            "tree-head",
            format!("no signed tree head in the bundle for this log ({dir}get-sth-NN.json)"),
        );
    }
    for (_, name) in &sth_names {
        v.evidence.push((*name).clone());
        let bytes = members.get(name).unwrap_or_default();
        let head = match parse_get_sth(bytes) {
            Ok(h) => h,
            Err(e) => return v.fail("tree-head", format!("{name}: {e}")),
        };
        if let Err(e) = head.verify(&log.key) {
            return v.fail("tree-head-signature", format!("{name}: {e}"));
        }
        heads.push(((*name).clone(), head));
    }
    v.rules.push(rule(
        "tree-head-signature",
        true,
        format!("{} STH signature(s) verify with the log key", heads.len()),
    ));
    heads_history(&mut v, &heads);

    // The proof for our leaf hash against the largest tree we have an STH for.
    let proof_dir = format!("{dir}get-proof-by-hash/");
    let mut proofs: Vec<(u64, &String)> = names
        .iter()
        .filter_map(|n| {
            let (h, size) = layout::parse_proof_name(n.strip_prefix(&proof_dir)?)?;
            (&h == lh).then_some((size, n))
        })
        .collect();
    proofs.sort();
    let Some((size, pname)) = proofs
        .iter()
        .rev()
        .find(|(size, _)| heads.iter().any(|(_, h)| h.tree_size == *size))
    else {
        return v.fail(
            "proof",
            format!(
                "no inclusion proof for leaf hash {} against a signed tree head in the bundle",
                hex::encode(lh)
            ),
        );
    };
    let (hname, head) = heads
        .iter()
        .rev()
        .find(|(_, h)| h.tree_size == *size)
        .expect("found above");
    let _ = hname;
    v.evidence.push((*pname).clone());
    v.tree_size = Some(head.tree_size);
    v.root = Some(head.root);
    v.head_timestamp = Some(head.timestamp);
    after_sct(&mut v, s, head);
    let proof = match parse_proof_by_hash(members.get(pname).unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return v.fail("proof", format!("{pname}: {e}")),
    };
    v.leaf_index = Some(proof.leaf_index);
    if let Some(promised) = s.leaf_index {
        v.rules.push(rule(
            "leaf-index",
            promised == proof.leaf_index,
            format!(
                "proof index {} vs the SCT's leaf_index {promised}",
                proof.leaf_index
            ),
        ));
    }
    match verify_inclusion(
        leaf,
        proof.leaf_index,
        head.tree_size,
        &proof.audit_path,
        &head.root,
    ) {
        Ok(()) => v.rules.push(rule(
            "proof",
            true,
            format!(
                "entry {} is in the tree of size {} signed at {}",
                proof.leaf_index,
                head.tree_size,
                fmt_ms(head.timestamp)
            ),
        )),
        Err(e) => v.rules.push(rule(
            "proof",
            false,
            format!("proof for index {}: {e}", proof.leaf_index),
        )),
    }
    v
}

fn after_sct(v: &mut InclusionVerdict, s: &SctVerdict, head: &TreeHead) {
    let ok = head.timestamp >= s.sct.timestamp;
    v.rules.push(rule(
        "after-sct",
        ok,
        format!(
            "tree head {} {} the SCT {}",
            fmt_ms(head.timestamp),
            if ok {
                "is not older than"
            } else {
                "is older than"
            },
            fmt_ms(s.sct.timestamp)
        ),
    ));
}

fn judge_tiled(
    mut v: InclusionVerdict,
    s: &SctVerdict,
    log: &Log,
    leaf: &[u8],
    dir: &str,
    names: &[String],
    members: &dyn Members,
) -> InclusionVerdict {
    let origin = log.checkpoint_origin().unwrap_or_default();
    let mut cp_names: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| layout::parse_seq(n.strip_prefix(dir)?, "checkpoint-", "").map(|i| (i, n)))
        .collect();
    cp_names.sort();
    if cp_names.is_empty() {
        return v.fail(
            "tree-head",
            format!("no checkpoint in the bundle for this log ({dir}checkpoint-NN)"),
        );
    }
    let mut heads = Vec::new();
    for (_, name) in &cp_names {
        v.evidence.push((*name).clone());
        let bytes = members.get(name).unwrap_or_default();
        let cp = match Checkpoint::parse(bytes) {
            Ok(c) => c,
            Err(e) => return v.fail("tree-head", format!("{name}: {e}")),
        };
        match cp.verify(&origin, &log.log_id, &log.key) {
            Ok(h) => heads.push(((*name).clone(), h)),
            Err(e) => return v.fail("tree-head-signature", format!("{name}: {e}")),
        }
    }
    v.rules.push(rule(
        "tree-head-signature",
        true,
        format!(
            "{} checkpoint signature(s) verify with the log key, origin {origin}",
            heads.len()
        ),
    ));
    heads_history(&mut v, &heads);
    let Some((_, head)) = heads.last().cloned() else {
        return v.fail("tree-head", "no checkpoint");
    };
    v.tree_size = Some(head.tree_size);
    v.root = Some(head.root);
    v.head_timestamp = Some(head.timestamp);
    after_sct(&mut v, s, &head);
    let Some(index) = s.leaf_index else {
        return v.fail("leaf-index", "the SCT carries no leaf_index extension");
    };
    v.leaf_index = Some(index);
    if index >= head.tree_size {
        return v.fail(
            "bounds",
            format!(
                "the latest checkpoint (size {}) does not contain leaf_index {index} that the SCT promised: the tree is smaller than when the SCT was issued",
                head.tree_size
            ),
        );
    }
    let tile_prefix = format!("{dir}tile/");
    let mut store = TileStore::new();
    let mut paths = BTreeMap::new();
    for n in names.iter().filter(|n| n.starts_with(&tile_prefix)) {
        let rel = &n[dir.len()..];
        if let (Some(t), Some(d)) = (parse_path(rel), members.get(n)) {
            store.insert(t, d);
            paths.insert(t, n.clone());
        }
    }
    let (proof, tiles_used) = match proof_from_tiles(index, head.tree_size, &store) {
        Ok((p, used)) => {
            v.evidence
                .extend(used.iter().filter_map(|t| paths.get(t).cloned()));
            (p, used.len())
        }
        Err(e) => return v.fail("proof", format!("tiles: {e}")),
    };
    match verify_inclusion(leaf, index, head.tree_size, &proof, &head.root) {
        Ok(()) => v.rules.push(rule(
            "proof",
            true,
            format!(
                "entry {index} is in the tree of size {} signed at {} (proof from {} tiles)",
                head.tree_size,
                fmt_ms(head.timestamp),
                tiles_used
            ),
        )),
        Err(e) => v.rules.push(rule(
            "proof",
            false,
            format!("proof for index {index}: {e}"),
        )),
    }
    v
}
