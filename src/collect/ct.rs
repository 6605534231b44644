//! Certificate Transparency collection (issue 6).
//!
//! For the TLS leaf the enclave presented: the current log list and its
//! signature, then, concurrently per log, for every embedded SCT:
//! * RFC 6962 logs: `get-sth`, then `get-proof-by-hash` for the leaf hash
//!   we compute ourselves, against that tree size; while the entry is not
//!   merged yet (the proof is refused, or the tree head predates the SCT),
//!   wait and ask again with a fresh tree head, within a bound;
//! * static-ct-api logs: the checkpoint (again, within a bound, until it
//!   covers the SCT's `leaf_index`), then the hash tiles on the proof path
//!   (a partial tile that is gone is replaced by its full tile).
//!
//! Every response is stored byte-exact under `evidence/ct/…` (layout in
//! [`crate::evidence::ct::layout`]), every tree head seen included, so the
//! audit can also tell a tree that shrinks. Nothing fetched here is trusted:
//! the audit verifies it all offline against the trust set.
//!
//! The collector talks to the world through [`CtIo`], so the same code runs
//! against the real HTTP client and against in-process test logs.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::evidence::ct::checkpoint::Checkpoint;
use crate::evidence::ct::layout;
use crate::evidence::ct::loglist::{verify_signature, Log, LogKind, LogList};
use crate::evidence::ct::precert::{issuer_key_hash, leaf_hash, precert_leaf, precert_tbs};
use crate::evidence::ct::sct::{scts_from_cert, Sct};
use crate::evidence::ct::sth::parse_get_sth;
use crate::evidence::ct::tiles::{tiles_for_inclusion, Tile};
use crate::trust::TrustSet;

/// An SCT to prove, with the leaf hash when it could be computed.
type SctJob = (Sct, Option<[u8; 32]>);

/// Google's log list v3.
pub const DEFAULT_LOG_LIST_URL: &str = "https://www.gstatic.com/ct/log_list/v3/log_list.json";

/// A response as fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub fetched_at: OffsetDateTime,
}

/// What the CT collector needs from the outside world.
pub trait CtIo: Sync {
    /// GET `url`. `Ok` for a 2xx response and for statuses in `accept`;
    /// `Err(cause)` otherwise (transport retries are the implementation's).
    fn get(&self, label: &str, url: &str, accept: &[u16]) -> Result<Fetched, String>;
    /// Stores a response byte-exact at `path` (relative to `evidence/`).
    fn store(&self, path: &str, f: &Fetched);
    /// A resource that could not be collected (signed warning; fatal under --strict).
    fn failed(&self, label: &str, url: &str, cause: &str);
    /// Anything else a reviewer should read.
    fn warn(&self, msg: String);
    /// Waits before polling a log again.
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// Knobs of the CT collection.
#[derive(Debug, Clone)]
pub struct CtOptions {
    /// Log list URL; its signature is at the same URL with `.sig` for `.json`.
    pub log_list_url: String,
    /// How long to keep asking a log whose entry is not merged yet.
    pub merge_wait: Duration,
    /// Pause between two polls of the same log.
    pub poll_interval: Duration,
}

impl Default for CtOptions {
    fn default() -> Self {
        CtOptions {
            log_list_url: DEFAULT_LOG_LIST_URL.to_string(),
            merge_wait: Duration::from_secs(30),
            poll_interval: Duration::from_secs(3),
        }
    }
}

/// The signature URL of a log list URL (`….json` → `….sig`).
pub fn signature_url(list_url: &str) -> String {
    match list_url.strip_suffix(".json") {
        Some(base) => format!("{base}.sig"),
        None => format!("{list_url}.sig"),
    }
}

fn join(base: &str, rel: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        rel.trim_start_matches('/')
    )
}

/// Percent-encodes standard base64 for a query string.
fn query_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Collects CT evidence for `leaf` (DER) issued by `issuer` (DER).
pub fn collect_ct(
    io: &dyn CtIo,
    opts: &CtOptions,
    trust: &TrustSet,
    leaf: &[u8],
    issuer: Option<&[u8]>,
) {
    let sig_url = signature_url(&opts.log_list_url);
    // The log list and its signature, concurrently.
    let (list, sig) = std::thread::scope(|s| {
        let l = s.spawn(|| io.get("CT log list", &opts.log_list_url, &[]));
        let g = s.spawn(|| io.get("CT log list signature", &sig_url, &[]));
        (
            l.join().unwrap_or_else(|_| Err("panicked".into())),
            g.join().unwrap_or_else(|_| Err("panicked".into())),
        )
    });
    let list = match list {
        Ok(f) => {
            io.store(layout::LOG_LIST, &f);
            Some(f.body)
        }
        Err(e) => {
            io.failed("CT log list", &opts.log_list_url, &e);
            None
        }
    };
    let sig = match sig {
        Ok(f) => {
            io.store(layout::LOG_LIST_SIG, &f);
            Some(f.body)
        }
        Err(e) => {
            io.failed("CT log list signature", &sig_url, &e);
            None
        }
    };

    // Which list tells us where the logs are: the fetched one if its
    // signature verifies, else the trust set's snapshot, else (with a
    // warning) the fetched one anyway — fetches are verified at audit time.
    let verified = match (&list, &sig) {
        (Some(l), Some(s)) => verify_signature(l, s, &trust.ct_log_list_keys).is_ok(),
        _ => false,
    };
    let parsed_fetched = list.as_deref().and_then(|l| LogList::parse(l).ok());
    let snapshot = trust
        .ct_log_list_snapshot
        .as_deref()
        .and_then(|l| LogList::parse(l).ok());
    let logs = match (verified, parsed_fetched, snapshot) {
        (true, Some(l), _) => l,
        (_, fetched, Some(snap)) => {
            if list.is_some() {
                io.warn(format!(
                    "CT: the fetched log list {} does not verify with the trust set's keys{}; log URLs taken from the trust set's snapshot",
                    opts.log_list_url,
                    if fetched.is_none() { " or does not parse" } else { "" }
                ));
            }
            snap
        }
        (_, Some(l), None) => {
            io.warn(format!(
                "CT: the fetched log list {} does not verify with the trust set's keys and the trust set has no snapshot; log URLs taken from it unverified",
                opts.log_list_url
            ));
            l
        }
        (_, None, None) => {
            io.warn("CT: no usable log list: no log was asked for proofs".to_string());
            return;
        }
    };

    let scts = match scts_from_cert(leaf) {
        Ok(Some(s)) => s,
        Ok(None) => {
            io.warn("CT: the TLS certificate carries no embedded SCTs: nothing to prove".into());
            return;
        }
        Err(e) => {
            io.warn(format!(
                "CT: the TLS certificate's SCTs cannot be read: {e}"
            ));
            return;
        }
    };
    let leaf_data = match (precert_tbs(leaf), issuer.map(issuer_key_hash)) {
        (Ok(tbs), Some(Ok(ikh))) => Some((tbs, ikh)),
        (Err(e), _) => {
            io.warn(format!(
                "CT: the precertificate entry cannot be rebuilt: {e}"
            ));
            None
        }
        (_, Some(Err(e))) => {
            io.warn(format!("CT: issuer certificate unusable: {e}"));
            None
        }
        (_, None) => {
            io.warn("CT: no issuer certificate captured: RFC 6962 proofs cannot be asked for (leaf hash unknown)".into());
            None
        }
    };

    // Group SCTs by log, then one thread per log.
    let mut jobs: Vec<(Log, Vec<SctJob>)> = Vec::new();
    for sct in scts {
        let Some(log) = logs.find(&sct.log_id) else {
            io.warn(format!(
                "CT: SCT from log {} which the log list does not know: no proof asked",
                sct.log_id_b64()
            ));
            continue;
        };
        let lh = leaf_data
            .as_ref()
            .and_then(|(tbs, ikh)| precert_leaf(&sct, tbs, ikh).ok().map(|l| leaf_hash(&l)));
        match jobs.iter_mut().find(|(l, _)| l.log_id == log.log_id) {
            Some((_, v)) => v.push((sct, lh)),
            None => jobs.push((log.clone(), vec![(sct, lh)])),
        }
    }
    std::thread::scope(|s| {
        for (log, entries) in &jobs {
            s.spawn(move || {
                let mut seq = 0usize;
                for (sct, lh) in entries {
                    match &log.kind {
                        LogKind::Rfc6962 { url } => match lh {
                            Some(lh) => rfc6962(io, opts, log, url, sct, lh, &mut seq),
                            None => io.warn(format!(
                                "CT: {}: leaf hash unknown, no proof asked",
                                log.description
                            )),
                        },
                        LogKind::Tiled { monitoring_url, .. } => {
                            tiled(io, opts, log, monitoring_url, sct, &mut seq)
                        }
                    }
                }
            });
        }
    });
}

/// Tree heads seen from one log, to notice a tree that shrinks.
fn note_head(io: &dyn CtIo, log: &Log, last: &mut Option<u64>, size: u64) {
    if let Some(prev) = *last {
        if size < prev {
            io.warn(format!(
                "CT: {} presented a tree of size {size} after one of size {prev} (a tree that shrinks)",
                log.description
            ));
        }
    }
    *last = Some(size);
}

fn rfc6962(
    io: &dyn CtIo,
    opts: &CtOptions,
    log: &Log,
    url: &str,
    sct: &Sct,
    lh: &[u8; 32],
    seq: &mut usize,
) {
    let deadline = Instant::now() + opts.merge_wait;
    let sth_url = join(url, "ct/v1/get-sth");
    let mut last = None;
    let mut why;
    loop {
        if *seq >= layout::MAX_HEADS {
            io.warn(format!(
                "CT: {}: too many tree heads, giving up",
                log.description
            ));
            return;
        }
        let label = format!("CT {} get-sth", log.description);
        let f = match io.get(&label, &sth_url, &[]) {
            Ok(f) => f,
            Err(e) => {
                io.failed(&label, &sth_url, &e);
                return;
            }
        };
        io.store(&layout::sth(&log.log_id, *seq), &f);
        *seq += 1;
        match parse_get_sth(&f.body) {
            Err(e) => {
                io.warn(format!("CT: {}: unusable STH: {e}", log.description));
                return;
            }
            Ok(sth) => {
                note_head(io, log, &mut last, sth.tree_size);
                if sth.tree_size == 0 || sth.timestamp < sct.timestamp {
                    why = format!(
                        "tree head of size {} at {} predates the SCT",
                        sth.tree_size,
                        crate::evidence::ct::fmt_ms(sth.timestamp)
                    );
                } else {
                    let purl = format!(
                        "{}?hash={}&tree_size={}",
                        join(url, "ct/v1/get-proof-by-hash"),
                        query_b64(lh),
                        sth.tree_size
                    );
                    let label = format!("CT {} get-proof-by-hash", log.description);
                    match io.get(&label, &purl, &[400, 404]) {
                        Ok(p) if (200..300).contains(&p.status) => {
                            io.store(&layout::proof(&log.log_id, lh, sth.tree_size), &p);
                            return;
                        }
                        Ok(p) => {
                            why = format!(
                                "the log does not have the entry in its tree of size {} yet (HTTP {})",
                                sth.tree_size, p.status
                            );
                        }
                        Err(e) => {
                            io.failed(&label, &purl, &e);
                            return;
                        }
                    }
                }
            }
        }
        if Instant::now() + opts.poll_interval > deadline {
            io.warn(format!(
                "CT: {}: entry not merged within {} s ({why})",
                log.description,
                opts.merge_wait.as_secs()
            ));
            return;
        }
        io.sleep(opts.poll_interval);
    }
}

fn tiled(io: &dyn CtIo, opts: &CtOptions, log: &Log, monitoring: &str, sct: &Sct, seq: &mut usize) {
    let index = match sct.leaf_index() {
        Ok(Some(i)) => i,
        Ok(None) | Err(_) => {
            io.warn(format!(
                "CT: {}: the SCT has no valid leaf_index extension: no tiles fetched",
                log.description
            ));
            return;
        }
    };
    let deadline = Instant::now() + opts.merge_wait;
    let cp_url = join(monitoring, "checkpoint");
    let mut last = None;
    let size = loop {
        if *seq >= layout::MAX_HEADS {
            io.warn(format!(
                "CT: {}: too many checkpoints, giving up",
                log.description
            ));
            return;
        }
        let label = format!("CT {} checkpoint", log.description);
        let f = match io.get(&label, &cp_url, &[]) {
            Ok(f) => f,
            Err(e) => {
                io.failed(&label, &cp_url, &e);
                return;
            }
        };
        io.store(&layout::checkpoint(&log.log_id, *seq), &f);
        *seq += 1;
        let cp = match Checkpoint::parse(&f.body) {
            Ok(c) => c,
            Err(e) => {
                io.warn(format!("CT: {}: unusable checkpoint: {e}", log.description));
                return;
            }
        };
        note_head(io, log, &mut last, cp.tree_size);
        if cp.tree_size > index {
            break cp.tree_size;
        }
        if Instant::now() + opts.poll_interval > deadline {
            io.warn(format!(
                "CT: {}: checkpoint of size {} does not cover leaf_index {index} after {} s",
                log.description,
                cp.tree_size,
                opts.merge_wait.as_secs()
            ));
            return;
        }
        io.sleep(opts.poll_interval);
    };
    let tiles = match tiles_for_inclusion(index, size) {
        Ok(t) => t,
        Err(e) => {
            io.warn(format!("CT: {}: {e}", log.description));
            return;
        }
    };
    std::thread::scope(|s| {
        for t in &tiles {
            s.spawn(move || fetch_tile(io, log, monitoring, t));
        }
    });
}

fn fetch_tile(io: &dyn CtIo, log: &Log, monitoring: &str, t: &Tile) {
    let label = format!("CT {} {}", log.description, t.path());
    let url = join(monitoring, &t.path());
    let accept: &[u16] = if t.is_partial() { &[404] } else { &[] };
    match io.get(&label, &url, accept) {
        Ok(f) if (200..300).contains(&f.status) => {
            io.store(&layout::tile(&log.log_id, t), &f);
            return;
        }
        Ok(_) => {} // partial tile gone: its full tile replaces it
        Err(e) => {
            io.failed(&label, &url, &e);
            return;
        }
    }
    let full = t.full();
    let url = join(monitoring, &full.path());
    match io.get(&label, &url, &[]) {
        Ok(f) => io.store(&layout::tile(&log.log_id, &full), &f),
        Err(e) => io.failed(&label, &url, &e),
    }
}

/// The orchestrator's plug-in: collects CT evidence for the captured leaf
/// through the shared HTTP client, concurrently per log (see the module
/// docs). Called once, on its own thread, as soon as the first TLS
/// handshake is captured.
pub fn collect(ctx: &super::CollectCtx, tls: &super::tls::TlsCapture, out: &super::Evidence) {
    let Some(leaf) = tls.leaf() else {
        out.warn("CT: no TLS leaf certificate captured: no CT evidence collected");
        return;
    };
    let wait = ctx.options.ct_merge_wait;
    let opts = CtOptions {
        log_list_url: ctx
            .options
            .log_list_url
            .clone()
            .unwrap_or_else(|| DEFAULT_LOG_LIST_URL.to_string()),
        merge_wait: wait,
        poll_interval: (wait / 10).clamp(Duration::from_millis(100), Duration::from_secs(5)),
    };
    let io = ClientIo { ctx, out };
    collect_ct(&io, &opts, ctx.trust, leaf, tls.issuer());
}

/// [`CtIo`] over the collector's HTTP client and evidence store.
struct ClientIo<'a, 'b> {
    ctx: &'a super::CollectCtx<'b>,
    out: &'a super::Evidence,
}

impl CtIo for ClientIo<'_, '_> {
    fn get(&self, label: &str, url: &str, accept: &[u16]) -> Result<Fetched, String> {
        let mut req = super::http::Request::get(url);
        for s in accept {
            req = req.accept_status(*s);
        }
        match self.ctx.fetch(label, &req) {
            Ok(r) => Ok(Fetched {
                url: r.url,
                status: r.status,
                body: r.body,
                fetched_at: self.ctx.now(),
            }),
            // The cause without the URL (which `failed` adds back).
            Err(e) => {
                let m = e.to_string();
                Err(m
                    .strip_prefix(&format!("{}: ", e.url()))
                    .map(str::to_string)
                    .unwrap_or(m))
            }
        }
    }
    fn store(&self, path: &str, f: &Fetched) {
        self.out.add(
            path,
            f.body.clone(),
            crate::bundle::Source {
                origin: f.url.clone(),
                http_status: Some(f.status),
                fetched_at: f.fetched_at,
            },
        );
    }
    fn failed(&self, label: &str, url: &str, cause: &str) {
        self.out.failed(label, url, cause);
    }
    fn warn(&self, msg: String) {
        self.out.warn(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_built_as_logs_expect() {
        assert_eq!(
            signature_url("https://www.gstatic.com/ct/log_list/v3/log_list.json"),
            "https://www.gstatic.com/ct/log_list/v3/log_list.sig"
        );
        assert_eq!(
            join("https://x/log/", "ct/v1/get-sth"),
            "https://x/log/ct/v1/get-sth"
        );
        assert_eq!(
            join("https://x/log", "/checkpoint"),
            "https://x/log/checkpoint"
        );
        assert_eq!(query_b64(&[0xfb, 0xff, 0xfe]), "%2B%2F%2F%2B");
        assert_eq!(query_b64(&[0]), "AA%3D%3D");
    }
}
