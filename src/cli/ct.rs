//! `blyss-evidence ct check`: the SCTs embedded in any certificate, judged
//! offline by the same code as the audit's `ct.sct` / `ct.operators`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use blyss_evidence::evidence::ct::fmt_ms;
use blyss_evidence::evidence::ct::loglist::{verify_signature, LogList};
use blyss_evidence::evidence::ct::verify::{judge_scts, load_cert, CertProblem};
use clap::Subcommand;

use super::Outcome;

/// Operators a certificate must be logged with for `ct check` to pass.
const MIN_OPERATORS: usize = 2;

#[derive(Subcommand)]
pub enum CtCommand {
    /// Verify the SCTs embedded in a certificate, offline.
    ///
    /// Prints one line per SCT (log, operator, timestamp, leaf index for
    /// tiled logs, status) and exits 0 only if every SCT verifies and at
    /// least two log operators are covered; 1 otherwise; 2 if the input
    /// cannot be read.
    #[command(after_help = "Examples:\n  \
# a 2024 certificate, judged against the log list of its time (shipped fixture)\n  \
blyss-evidence ct check fixtures/ct/le-2024/lencr.org.der \\\n      \
--issuer fixtures/ct/le-2024/issuer-r3.der --log-list fixtures/ct/le-2024/logs.json\n  \
# a PEM chain (issuer second), against the trust set's embedded list\n  \
blyss-evidence ct check fullchain.pem\n  \
# a list with Google's detached signature, verified with the trust set's key\n  \
blyss-evidence ct check cert.der --issuer issuer.der --log-list log_list.json --log-list-sig log_list.sig\n\n\
The log list must be the one of the certificate's time: a current list drops or rejects\n\
expired shards (such as Argon2024), and an SCT from a log it does not hold fails with\n\
\"log ... is not in the log list dated ...\".")]
    Check {
        /// Certificate (PEM or DER; a PEM chain may carry the issuer second).
        cert: PathBuf,
        /// Issuer certificate (PEM or DER); default: the second certificate of CERT.
        #[arg(long)]
        issuer: Option<PathBuf>,
        /// Log list (Google v3 JSON, like fixtures/ct/le-2024/logs.json) to judge against;
        /// default: the trust set's snapshot (a recent list: old shards are absent).
        #[arg(long)]
        log_list: Option<PathBuf>,
        /// Detached signature of --log-list, verified with the trust set's log-list keys.
        #[arg(long, requires = "log_list")]
        log_list_sig: Option<PathBuf>,
        /// Trust file instead of the embedded production set (NON-PRODUCTION).
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Judge at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
    },
}

fn read(p: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
}

pub fn run(c: CtCommand) -> anyhow::Result<Outcome> {
    let CtCommand::Check {
        cert,
        issuer,
        log_list,
        log_list_sig,
        trust,
        at,
    } = c;
    let trust = super::load_trust(trust.as_ref())?;
    let now = match &at {
        Some(s) => blyss_evidence::util::parse_time(s)
            .map_err(|_| {
                anyhow::anyhow!("--at {s:?} is not an RFC 3339 time; expected a date, time and offset such as 2024-02-01T00:00:00Z")
            })?,
        None => blyss_evidence::util::now(),
    };
    let certs = blyss_evidence::trust::parse_certs(&read(&cert)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", cert.display()))?;
    let Some(leaf) = certs.first() else {
        bail!("{}: no certificate", cert.display());
    };
    let (issuer_der, issuer_from) = match &issuer {
        Some(p) => {
            let v = blyss_evidence::trust::parse_certs(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            match v.into_iter().next() {
                Some(c) => (Some(c), p.display().to_string()),
                None => bail!("{}: no certificate", p.display()),
            }
        }
        None => match certs.get(1) {
            Some(c) => (
                Some(c.clone()),
                format!("second certificate of {}", cert.display()),
            ),
            None => (None, "none given".to_string()),
        },
    };

    // The log list: given (signature checked when given), or the trust set's snapshot.
    let (list_bytes, list_note) = match &log_list {
        Some(p) => {
            let bytes = read(p)?;
            let note = match &log_list_sig {
                Some(sp) => {
                    let sig = read(sp)?;
                    let k = verify_signature(&bytes, &sig, &trust.ct_log_list_keys)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                    format!(
                        "signature verified with trusted key {}",
                        blyss_evidence::util::short_hex(&blyss_evidence::util::sha256_hex(
                            &trust.ct_log_list_keys[k]
                        ))
                    )
                }
                None => "signature NOT checked (no --log-list-sig): trusted as given".to_string(),
            };
            (bytes, format!("{} — {note}", p.display()))
        }
        None => match &trust.ct_log_list_snapshot {
            Some(b) => (
                b.clone(),
                format!(
                    "snapshot embedded in trust set {} {}",
                    trust.name, trust.version
                ),
            ),
            None => bail!("the trust set has no log-list snapshot: give --log-list"),
        },
    };
    let list = LogList::parse(&list_bytes).map_err(|e| anyhow::anyhow!("log list: {e}"))?;

    if !trust.production {
        println!("trust: {} {} (NON-PRODUCTION)", trust.name, trust.version);
    }
    println!("log list: {list_note} ({})", list.describe());
    let c = match load_cert(leaf, issuer_der.as_deref()) {
        Ok(c) => c,
        Err(CertProblem::NoScts) => {
            println!("certificate: {}", cert.display());
            println!("result: FAIL — the certificate carries no embedded SCTs");
            return Ok(Outcome::Fail);
        }
        Err(CertProblem::Invalid(e)) => bail!("{}: {e}", cert.display()),
    };
    println!(
        "certificate: {} sha256 {} valid {} – {}",
        // Certificate and log-list text: control characters made visible.
        blyss_evidence::util::visible(&c.subject),
        c.sha256,
        blyss_evidence::util::fmt_time(c.not_before),
        blyss_evidence::util::fmt_time(c.not_after)
    );
    println!("issuer: {issuer_from}");
    let verdicts = judge_scts(&c, &list, now);
    let mut operators = BTreeSet::new();
    for v in &verdicts {
        let status = if v.ok() { "✅" } else { "❌" };
        let sig = if v.signature_ok() {
            "signature valid"
        } else {
            "signature NOT verified"
        };
        let idx = v
            .leaf_index
            .map(|i| format!(" | leaf index {i}"))
            .unwrap_or_default();
        println!(
            "SCT #{} {status} {} | {} | {}{idx} | {sig}",
            v.position,
            blyss_evidence::util::visible(&v.log_name()),
            blyss_evidence::util::visible(v.operator().unwrap_or("operator unknown")),
            fmt_ms(v.sct.timestamp),
        );
        for f in v.failures() {
            println!(
                "    {}: {}",
                f.name,
                blyss_evidence::util::visible(&f.detail)
            );
        }
        if v.log.is_none() {
            // The usual cause is an old certificate judged against a newer
            // list (expired shards are dropped or rejected): say so plainly.
            println!(
                "    log {} is not in the log list dated {}; pass the list of the certificate's time with --log-list",
                v.sct.log_id_b64(),
                list.timestamp.as_deref().unwrap_or("(undated)")
            );
        }
        if v.ok() {
            if let Some(op) = v.operator() {
                operators.insert(op.to_string());
            }
        }
    }
    let all_ok = verdicts.iter().all(|v| v.ok());
    let ops: Vec<String> = operators.into_iter().collect();
    println!(
        "operators with valid SCTs: {} ({}) — at least {MIN_OPERATORS} required",
        ops.len(),
        blyss_evidence::util::visible(&ops.join(", "))
    );
    if all_ok && ops.len() >= MIN_OPERATORS {
        println!("result: PASS");
        Ok(Outcome::Pass)
    } else {
        println!(
            "result: FAIL — {}",
            if all_ok {
                "too few operators"
            } else {
                "not every SCT verifies"
            }
        );
        Ok(Outcome::Fail)
    }
}
