//! Google's CT log list, schema v3 (`log_list.json`), and its detached
//! signature (`log_list.sig`: RSASSA-PKCS1-v1_5 with SHA-256 over the exact
//! JSON bytes).
//!
//! Operators are identified by `operators[].name`. RFC 6962 logs are in
//! `logs[]` (with `url`), static-ct-api logs in `tiled_logs[]` (with
//! `submission_url` and `monitoring_url`). Every log's `log_id` must be the
//! SHA-256 of its `key`; a list where that does not hold is rejected whole.

use serde::Deserialize;
use time::OffsetDateTime;

use super::sig::{key_kind, verify_ecdsa_p256, verify_rsa_pkcs1_sha256, KeyKind};
use super::{b64, json_err, CtError};

/// Largest log list accepted (Google's is about 100 KiB).
pub const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;

/// Lifecycle state of a log (Chrome CT log policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StateKind {
    Pending,
    Qualified,
    Usable,
    ReadOnly,
    Retired,
    Rejected,
}

impl StateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Pending => "pending",
            StateKind::Qualified => "qualified",
            StateKind::Usable => "usable",
            StateKind::ReadOnly => "readonly",
            StateKind::Retired => "retired",
            StateKind::Rejected => "rejected",
        }
    }
}

/// A log's state and since when it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    pub kind: StateKind,
    pub since: OffsetDateTime,
}

/// The half-open interval of certificate expiry dates a log (shard) accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemporalInterval {
    pub start_inclusive: OffsetDateTime,
    pub end_exclusive: OffsetDateTime,
}

impl TemporalInterval {
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start_inclusive <= t && t < self.end_exclusive
    }
}

/// How a log is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKind {
    /// RFC 6962 API (`get-sth`, `get-proof-by-hash`) under `url`.
    Rfc6962 { url: String },
    /// static-ct-api: checkpoint and tiles under `monitoring_url`.
    Tiled {
        submission_url: String,
        monitoring_url: String,
    },
}

impl LogKind {
    pub fn is_tiled(&self) -> bool {
        matches!(self, LogKind::Tiled { .. })
    }
    pub fn label(&self) -> &'static str {
        match self {
            LogKind::Rfc6962 { .. } => "rfc6962",
            LogKind::Tiled { .. } => "static-ct-api",
        }
    }
}

/// One log of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    pub description: String,
    /// `operators[].name` of the operator that runs it.
    pub operator: String,
    pub log_id: [u8; 32],
    /// SubjectPublicKeyInfo DER.
    pub key: Vec<u8>,
    pub kind: LogKind,
    /// Maximum merge delay, seconds.
    pub mmd: Option<u64>,
    pub state: Option<LogState>,
    pub temporal_interval: Option<TemporalInterval>,
}

impl Log {
    /// The checkpoint origin of a static-ct-api log: its submission prefix
    /// without scheme and trailing slashes (static-ct-api, Checkpoints).
    pub fn checkpoint_origin(&self) -> Option<String> {
        match &self.kind {
            LogKind::Tiled { submission_url, .. } => Some(origin_of(submission_url)),
            LogKind::Rfc6962 { .. } => None,
        }
    }

    /// Log id in lower-case hex (the directory name used in bundles).
    pub fn log_id_hex(&self) -> String {
        hex::encode(self.log_id)
    }

    /// Whether an SCT issued at `sct_time` is acceptable given the log's
    /// state (Chrome CT policy): qualified, usable and read-only logs are
    /// acceptable; a retired log only for SCTs issued before retirement;
    /// pending and rejected logs never; a log without state is not trusted.
    pub fn state_acceptable_at(&self, sct_time: OffsetDateTime) -> Result<(), String> {
        let Some(st) = self.state else {
            return Err("the log list gives no state for this log".into());
        };
        let since = crate::util::fmt_time(st.since);
        match st.kind {
            StateKind::Qualified | StateKind::Usable | StateKind::ReadOnly => Ok(()),
            StateKind::Retired if sct_time < st.since => Ok(()),
            StateKind::Retired => Err(format!("log retired at {since}, before the SCT was issued")),
            StateKind::Pending => Err(format!("log pending since {since}: not yet trusted")),
            StateKind::Rejected => Err(format!("log rejected since {since}")),
        }
    }
}

/// `https://host/path/` → `host/path`.
pub fn origin_of(url: &str) -> String {
    let no_scheme = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    no_scheme.trim_end_matches('/').to_string()
}

/// A parsed log list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogList {
    pub version: Option<String>,
    /// `log_list_timestamp` as written in the list.
    pub timestamp: Option<String>,
    pub logs: Vec<Log>,
}

#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    log_list_timestamp: Option<String>,
    operators: Vec<RawOperator>,
}

#[derive(Deserialize)]
struct RawOperator {
    name: String,
    #[serde(default)]
    logs: Vec<RawLog>,
    #[serde(default)]
    tiled_logs: Vec<RawLog>,
}

#[derive(Deserialize)]
struct RawLog {
    #[serde(default)]
    description: String,
    log_id: String,
    key: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    submission_url: Option<String>,
    #[serde(default)]
    monitoring_url: Option<String>,
    #[serde(default)]
    mmd: Option<u64>,
    #[serde(default)]
    state: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    temporal_interval: Option<RawInterval>,
}

#[derive(Deserialize)]
struct RawInterval {
    start_inclusive: String,
    end_exclusive: String,
}

fn parse_time(s: &str, what: &str) -> Result<OffsetDateTime, CtError> {
    crate::util::parse_time(s).map_err(|e| json_err("log list", format!("{what}: {s:?}: {e}")))
}

impl LogList {
    /// Parses a v3 log list (unknown fields ignored: the schema grows).
    pub fn parse(bytes: &[u8]) -> Result<LogList, CtError> {
        if bytes.len() > MAX_LIST_BYTES {
            return Err(json_err(
                "log list",
                format!("{} bytes (limit {MAX_LIST_BYTES})", bytes.len()),
            ));
        }
        let raw: RawList =
            serde_json::from_slice(bytes).map_err(|e| json_err("log list", e.to_string()))?;
        let mut logs = Vec::new();
        for op in raw.operators {
            if op.name.trim().is_empty() {
                return Err(json_err("log list", "operator with an empty name"));
            }
            for (tiled, l) in op
                .logs
                .into_iter()
                .map(|l| (false, l))
                .chain(op.tiled_logs.into_iter().map(|l| (true, l)))
            {
                let what = format!("log {:?}", l.description);
                let key =
                    b64(&l.key).map_err(|e| json_err("log list", format!("{what}: key: {e}")))?;
                let id = b64(&l.log_id)
                    .map_err(|e| json_err("log list", format!("{what}: log_id: {e}")))?;
                let log_id: [u8; 32] = id
                    .as_slice()
                    .try_into()
                    .map_err(|_| json_err("log list", format!("{what}: log_id is not 32 bytes")))?;
                if crate::util::sha256(&key) != log_id {
                    return Err(json_err(
                        "log list",
                        format!("{what}: log_id is not the SHA-256 of its key"),
                    ));
                }
                let kind = if tiled {
                    match (l.submission_url, l.monitoring_url) {
                        (Some(s), Some(m)) => LogKind::Tiled {
                            submission_url: s,
                            monitoring_url: m,
                        },
                        _ => {
                            return Err(json_err(
                                "log list",
                                format!("{what}: tiled log without submission_url/monitoring_url"),
                            ))
                        }
                    }
                } else {
                    LogKind::Rfc6962 {
                        url: l
                            .url
                            .ok_or_else(|| json_err("log list", format!("{what}: no url")))?,
                    }
                };
                let state = match l.state {
                    None => None,
                    Some(m) => {
                        let mut it = m.iter();
                        let (name, v) = match (it.next(), it.next()) {
                            (Some(x), None) => x,
                            _ => {
                                return Err(json_err(
                                    "log list",
                                    format!("{what}: state must have exactly one entry"),
                                ))
                            }
                        };
                        let kind = match name.as_str() {
                            "pending" => StateKind::Pending,
                            "qualified" => StateKind::Qualified,
                            "usable" => StateKind::Usable,
                            "readonly" => StateKind::ReadOnly,
                            "retired" => StateKind::Retired,
                            "rejected" => StateKind::Rejected,
                            other => {
                                return Err(json_err(
                                    "log list",
                                    format!("{what}: unknown state {other:?}"),
                                ))
                            }
                        };
                        let ts = v.get("timestamp").and_then(|t| t.as_str()).ok_or_else(|| {
                            json_err("log list", format!("{what}: state without timestamp"))
                        })?;
                        Some(LogState {
                            kind,
                            since: parse_time(ts, &what)?,
                        })
                    }
                };
                let temporal_interval = match l.temporal_interval {
                    None => None,
                    Some(i) => Some(TemporalInterval {
                        start_inclusive: parse_time(&i.start_inclusive, &what)?,
                        end_exclusive: parse_time(&i.end_exclusive, &what)?,
                    }),
                };
                if logs.iter().any(|x: &Log| x.log_id == log_id) {
                    return Err(json_err("log list", format!("{what}: duplicate log_id")));
                }
                logs.push(Log {
                    description: l.description,
                    operator: op.name.clone(),
                    log_id,
                    key,
                    kind,
                    mmd: l.mmd,
                    state,
                    temporal_interval,
                });
            }
        }
        Ok(LogList {
            version: raw.version,
            timestamp: raw.log_list_timestamp,
            logs,
        })
    }

    /// The log with this id.
    pub fn find(&self, log_id: &[u8; 32]) -> Option<&Log> {
        self.logs.iter().find(|l| &l.log_id == log_id)
    }

    /// One line naming the list: version and timestamp when present.
    pub fn describe(&self) -> String {
        format!(
            "version {}, timestamp {}, {} logs",
            self.version.as_deref().unwrap_or("(none)"),
            self.timestamp.as_deref().unwrap_or("(none)"),
            self.logs.len()
        )
    }
}

/// Verifies the list's detached signature with any of `keys` (SPKI DER):
/// RSASSA-PKCS1-v1_5/SHA-256 for RSA keys, ECDSA P-256/SHA-256 (DER) for EC
/// keys. Returns the index of the key that verified.
pub fn verify_signature(json: &[u8], sig: &[u8], keys: &[Vec<u8>]) -> Result<usize, CtError> {
    if keys.is_empty() {
        return Err(CtError::Signature(
            "the trust set holds no log-list signing key".into(),
        ));
    }
    let mut reasons = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let r = match key_kind(k) {
            Ok(KeyKind::Rsa) => verify_rsa_pkcs1_sha256(k, sig, json),
            Ok(KeyKind::EcdsaP256) => verify_ecdsa_p256(k, sig, json),
            Err(e) => Err(e),
        };
        match r {
            Ok(()) => return Ok(i),
            Err(e) => reasons.push(format!("key {}: {e}", &crate::util::sha256_hex(k)[..16])),
        }
    }
    Err(CtError::Signature(format!(
        "log list signature does not verify with any trusted key ({})",
        reasons.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_snapshot_parses_with_operators_and_tiled_logs() {
        let t = crate::trust::TrustSet::production();
        let l = LogList::parse(t.ct_log_list_snapshot.as_ref().unwrap()).unwrap();
        assert!(l.logs.iter().any(|x| x.kind.is_tiled()));
        let ops: std::collections::BTreeSet<_> = l.logs.iter().map(|x| &x.operator).collect();
        assert!(ops.len() >= 5, "{ops:?}");
        let tiled = l.logs.iter().find(|x| x.kind.is_tiled()).unwrap();
        let origin = tiled.checkpoint_origin().unwrap();
        assert!(
            !origin.contains("://") && !origin.ends_with('/'),
            "{origin}"
        );
    }

    #[test]
    fn log_id_must_match_key() {
        let key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVkPXfnvUcre6qVG9NpO36bWSD+pet0Wjkv3JpTyArBog7yUvuOEg96g6LgeN5uuk4n0kY59Gv5RzUo2Wrqkm/Q==";
        let good = "O1N3dT4tuYBOizBbBv5AO2fYT8P0x70ADS1yb+H61Bc=";
        let bad = "AAN3dT4tuYBOizBbBv5AO2fYT8P0x70ADS1yb+H61Bc=";
        let doc = |id: &str| {
            format!(
                r#"{{"operators":[{{"name":"X","logs":[{{"description":"d","log_id":"{id}","key":"{key}","url":"https://x/"}}]}}]}}"#
            )
        };
        assert_eq!(LogList::parse(doc(good).as_bytes()).unwrap().logs.len(), 1);
        assert!(LogList::parse(doc(bad).as_bytes()).is_err());
    }

    #[test]
    fn retired_log_accepts_only_earlier_scts() {
        let t = |s| crate::util::parse_time(s).unwrap();
        let log = Log {
            description: "d".into(),
            operator: "o".into(),
            log_id: [0; 32],
            key: vec![],
            kind: LogKind::Rfc6962 { url: "u".into() },
            mmd: None,
            state: Some(LogState {
                kind: StateKind::Retired,
                since: t("2024-01-01T00:00:00Z"),
            }),
            temporal_interval: None,
        };
        assert!(log.state_acceptable_at(t("2023-12-31T00:00:00Z")).is_ok());
        assert!(log.state_acceptable_at(t("2024-01-02T00:00:00Z")).is_err());
        let mut pending = log.clone();
        pending.state = Some(LogState {
            kind: StateKind::Pending,
            since: t("2020-01-01T00:00:00Z"),
        });
        assert!(pending
            .state_acceptable_at(t("2023-12-31T00:00:00Z"))
            .is_err());
        let mut none = log;
        none.state = None;
        assert!(none.state_acceptable_at(t("2023-12-31T00:00:00Z")).is_err());
    }

    #[test]
    fn origin_strips_scheme_and_trailing_slashes() {
        assert_eq!(
            origin_of("https://rome.ct.example.com/2024h1/"),
            "rome.ct.example.com/2024h1"
        );
        assert_eq!(origin_of("http://127.0.0.1:80/a"), "127.0.0.1:80/a");
    }
}
