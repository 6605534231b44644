//! Evidence bundles (format v1): a deterministic zip holding evidence
//! members byte-exact under `evidence/…`, sealed by a DSSE envelope over an
//! in-toto statement. See `protocol/bundle-format.md`.
//!
//! Reading is split in two on purpose:
//! * structural damage (not a zip, traversal paths, bombs, missing or
//!   unparsable envelope) is a [`BundleError`]: the audit cannot start
//!   (exit 2);
//! * altered but well-formed evidence (digest mismatch, member added or
//!   removed, bad signature) is *not* an error here: the `bundle.*` checks
//!   judge it, so the report can name the altered member (exit 1).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use p384::ecdsa::SigningKey;
use thiserror::Error;
use time::OffsetDateTime;

pub mod dsse;
pub mod format;
pub mod import;
pub mod keys;

use format::*;

/// Structural limits of the safe reader.
pub mod limits {
    /// Most entries a bundle may hold.
    pub const MAX_ENTRIES: usize = 10_000;
    /// Largest uncompressed entry.
    pub const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;
    /// Largest total uncompressed size.
    pub const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;
    /// Highest compression ratio accepted for an entry (zip bombs).
    pub const MAX_RATIO: u64 = 200;
}

/// Why a bundle could not be read or written.
#[derive(Debug, Error)]
pub enum BundleError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("file is empty")]
    Empty,
    #[error("not a zip archive: {0}")]
    NotZip(String),
    #[error("unsafe entry {name:?}: {reason}")]
    UnsafeEntry { name: String, reason: String },
    #[error("duplicate entry {0:?}")]
    Duplicate(String),
    #[error("too many entries: {0} (limit {max})", max = limits::MAX_ENTRIES)]
    TooManyEntries(usize),
    #[error("entry {name:?} too large: {size} bytes uncompressed (limit {max})")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("total uncompressed size over {} bytes", limits::MAX_TOTAL_BYTES)]
    TotalTooLarge,
    #[error("entry {name:?} has compression ratio {ratio}:1 (limit {max}:1): possible zip bomb", max = limits::MAX_RATIO)]
    Ratio { name: String, ratio: u64 },
    #[error("missing {}", ENVELOPE_PATH)]
    MissingEnvelope,
    #[error("unparsable envelope: {0}")]
    Envelope(String),
    #[error("unparsable statement in envelope: {0}")]
    Statement(String),
    #[error("invalid member path {0:?}: must be a relative path under evidence/")]
    BadMemberPath(String),
    #[error("invalid evidence: {0}")]
    Evidence(String),
    #[error("zip error: {0}")]
    Zip(String),
}

/// A bundle read from disk. Nothing in it is trusted yet: the statement is
/// parsed but its signature and digests are judged by the `bundle.*` checks.
#[derive(Debug, Clone)]
pub struct Bundle {
    members: BTreeMap<String, Vec<u8>>,
    /// Raw bytes of `envelope.dsse.json`.
    pub envelope_bytes: Vec<u8>,
    pub envelope: dsse::Envelope,
    /// Statement decoded from the envelope payload (unverified).
    pub statement: Statement,
    /// Raw statement bytes (the DSSE payload).
    pub statement_bytes: Vec<u8>,
    /// PEM of the signer public key shipped in the bundle, if any (display only).
    pub signer_pem: Option<Vec<u8>>,
    /// sha256 of the whole zip file, lower-case hex.
    pub sha256: String,
    /// File name of the bundle (no directory), for the report.
    pub file_name: String,
    /// Size of the zip file in bytes.
    pub size: u64,
    /// sha256 of every member, computed once on first use (the integrity
    /// check and the report's manifest both need them; members are
    /// immutable once read, so the cache cannot go stale).
    digests: std::sync::OnceLock<BTreeMap<String, String>>,
}

impl Bundle {
    /// Opens and structurally checks a bundle file.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        let bytes = std::fs::read(path).map_err(|e| BundleError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::from_bytes(&bytes, &name)
    }

    /// Structurally checks bundle bytes (see module docs for what is an error).
    pub fn from_bytes(bytes: &[u8], file_name: &str) -> Result<Bundle, BundleError> {
        if bytes.is_empty() {
            return Err(BundleError::Empty);
        }
        // The zip crate folds duplicate names into one entry, so count and
        // name the entries from the central directory ourselves first.
        let names = central_directory_names(bytes)?;
        if names.len() > limits::MAX_ENTRIES {
            return Err(BundleError::TooManyEntries(names.len()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for n in &names {
            let name = String::from_utf8(n.clone()).map_err(|_| BundleError::UnsafeEntry {
                name: String::from_utf8_lossy(n).into_owned(),
                reason: "name is not UTF-8".into(),
            })?;
            check_entry_name(&name)?;
            if !seen.insert(name.clone()) {
                return Err(BundleError::Duplicate(name));
            }
        }
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| BundleError::NotZip(e.to_string()))?;
        if zip.len() != names.len() {
            return Err(BundleError::Zip(format!(
                "central directory lists {} entries, the archive reader found {}",
                names.len(),
                zip.len()
            )));
        }
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            // Metadata first, without decompressing anything.
            let (name, size) = {
                let f = zip
                    .by_index_raw(i)
                    .map_err(|e| BundleError::Zip(format!("entry {i}: {e}")))?;
                let name = String::from_utf8(f.name_raw().to_vec()).map_err(|_| {
                    BundleError::UnsafeEntry {
                        name: String::from_utf8_lossy(f.name_raw()).into_owned(),
                        reason: "name is not UTF-8".into(),
                    }
                })?;
                check_entry_name(&name)?;
                if f.encrypted() {
                    return Err(BundleError::UnsafeEntry {
                        name,
                        reason: "encrypted entry".into(),
                    });
                }
                if f.is_symlink() {
                    return Err(BundleError::UnsafeEntry {
                        name,
                        reason: "symbolic link".into(),
                    });
                }
                if f.is_dir() {
                    return Err(BundleError::UnsafeEntry {
                        name,
                        reason: "directory entries are not allowed".into(),
                    });
                }
                let size = f.size();
                if size > limits::MAX_ENTRY_BYTES {
                    return Err(BundleError::TooLarge {
                        name,
                        size,
                        max: limits::MAX_ENTRY_BYTES,
                    });
                }
                let csize = f.compressed_size().max(1);
                let ratio = size / csize;
                if ratio > limits::MAX_RATIO {
                    return Err(BundleError::Ratio { name, ratio });
                }
                (name, size)
            };
            total = total.saturating_add(size);
            if total > limits::MAX_TOTAL_BYTES {
                return Err(BundleError::TotalTooLarge);
            }
            let mut f = zip
                .by_index(i)
                .map_err(|e| BundleError::Zip(format!("{name}: {e}")))?;
            // Never trust the declared size: read at most size+1 bytes.
            let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
            (&mut f)
                .take(size + 1)
                .read_to_end(&mut data)
                .map_err(|e| BundleError::Zip(format!("{name}: {e}")))?;
            if data.len() as u64 != size {
                return Err(BundleError::Zip(format!(
                    "{name}: declared {size} bytes, found {}",
                    data.len()
                )));
            }
            entries.insert(name, data);
        }
        let envelope_bytes = entries
            .remove(ENVELOPE_PATH)
            .ok_or(BundleError::MissingEnvelope)?;
        let envelope: dsse::Envelope = serde_json::from_slice(&envelope_bytes)
            .map_err(|e| BundleError::Envelope(e.to_string()))?;
        let statement_bytes = envelope.payload_bytes()?;
        let statement: Statement = serde_json::from_slice(&statement_bytes)
            .map_err(|e| BundleError::Statement(e.to_string()))?;
        let signer_pem = entries.remove(SIGNER_PATH);
        Ok(Bundle {
            members: entries,
            envelope_bytes,
            envelope,
            statement,
            statement_bytes,
            signer_pem,
            sha256: crate::util::sha256_hex(bytes),
            file_name: file_name.to_string(),
            size: bytes.len() as u64,
            digests: std::sync::OnceLock::new(),
        })
    }

    /// sha256 (lower-case hex) of a member's bytes, `None` if absent.
    pub fn member_sha256(&self, path: &str) -> Option<&str> {
        self.digests
            .get_or_init(|| {
                self.members
                    .iter()
                    .map(|(p, b)| (p.clone(), crate::util::sha256_hex(b)))
                    .collect()
            })
            .get(path)
            .map(String::as_str)
    }

    /// Bytes of a member (full path inside the zip).
    pub fn member(&self, path: &str) -> Option<&[u8]> {
        self.members.get(path).map(|v| v.as_slice())
    }

    /// Paths of members starting with `prefix`, sorted.
    pub fn members_under(&self, prefix: &str) -> Vec<&str> {
        self.members
            .keys()
            .filter(|k| k.starts_with(prefix))
            .map(|k| k.as_str())
            .collect()
    }

    /// Every member except the envelope and the signer key, sorted.
    pub fn members(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.members
    }

    /// Collection start time recorded in the statement (unverified).
    pub fn collected_at(&self) -> Option<OffsetDateTime> {
        crate::util::parse_time(&self.statement.predicate.started_at).ok()
    }

    /// Observation time declared by an importer (`collect --observed-at`,
    /// statement v2; unverified, and not witnessed by anyone).
    pub fn declared_observed_at(&self) -> Option<OffsetDateTime> {
        self.statement
            .predicate
            .declared_observed_at
            .as_deref()
            .and_then(|t| crate::util::parse_time(t).ok())
    }
}

/// Names of every central-directory entry, in order, read directly from the
/// end-of-central-directory record. Zip64 is not part of bundle format v1.
fn central_directory_names(bytes: &[u8]) -> Result<Vec<Vec<u8>>, BundleError> {
    let nz = |m: &str| BundleError::NotZip(m.to_string());
    let u16le = |b: &[u8], o: usize| -> Result<usize, BundleError> {
        b.get(o..o + 2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]) as usize)
            .ok_or_else(|| nz("truncated header"))
    };
    let u32le = |b: &[u8], o: usize| -> Result<usize, BundleError> {
        b.get(o..o + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
            .ok_or_else(|| nz("truncated header"))
    };
    if bytes.len() < 22 {
        return Err(nz("too short for an end-of-central-directory record"));
    }
    let lowest = bytes.len().saturating_sub(22 + 65535);
    let eocd = (lowest..=bytes.len() - 22)
        .rev()
        .find(|&i| &bytes[i..i + 4] == b"PK\x05\x06")
        .ok_or_else(|| nz("no end-of-central-directory record"))?;
    let count = u16le(bytes, eocd + 10)?;
    let cd_size = u32le(bytes, eocd + 12)?;
    let cd_off = u32le(bytes, eocd + 16)?;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_off == 0xFFFF_FFFF {
        return Err(nz("zip64 archives are not bundle format v1"));
    }
    if cd_off.checked_add(cd_size).is_none_or(|end| end > eocd) {
        return Err(nz("central directory lies outside the file"));
    }
    let mut names = Vec::with_capacity(count.min(limits::MAX_ENTRIES + 1));
    let mut p = cd_off;
    for _ in 0..count {
        if bytes.get(p..p + 4) != Some(b"PK\x01\x02") {
            return Err(nz("corrupt central directory"));
        }
        let name_len = u16le(bytes, p + 28)?;
        let extra_len = u16le(bytes, p + 30)?;
        let comment_len = u16le(bytes, p + 32)?;
        let name = bytes
            .get(p + 46..p + 46 + name_len)
            .ok_or_else(|| nz("truncated central directory"))?;
        names.push(name.to_vec());
        p += 46 + name_len + extra_len + comment_len;
        if names.len() > limits::MAX_ENTRIES {
            break;
        }
    }
    Ok(names)
}

/// Rejects names that could escape a directory or are otherwise unsafe.
fn check_entry_name(name: &str) -> Result<(), BundleError> {
    let bad = |reason: &str| {
        Err(BundleError::UnsafeEntry {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return bad("empty name");
    }
    if name.starts_with('/') || name.starts_with('\\') || name.contains(':') {
        return bad("absolute path");
    }
    if name.contains('\\') {
        return bad("backslash in path");
    }
    if name.chars().any(|c| c.is_control()) {
        return bad("control character in path");
    }
    if name
        .split('/')
        .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return bad("`..`, `.` or empty path component");
    }
    Ok(())
}

/// Where one member came from, as recorded in the statement.
#[derive(Debug, Clone)]
pub struct Source {
    /// URL, `tls://host:port`, or `file`.
    pub origin: String,
    pub http_status: Option<u16>,
    pub fetched_at: OffsetDateTime,
}

impl Source {
    /// A member imported from a local file.
    pub fn file(at: OffsetDateTime) -> Self {
        Source {
            origin: "file".into(),
            http_status: None,
            fetched_at: at,
        }
    }
}

/// Assembles and seals a bundle. Output is deterministic: members sorted,
/// fixed timestamps and permissions, no extra fields, RFC 6979 signatures.
pub struct BundleBuilder {
    target: String,
    protocol: String,
    started_at: OffsetDateTime,
    members: BTreeMap<String, (Vec<u8>, Source)>,
    warnings: Vec<String>,
    /// v2 statement fields (see `format::Collection`).
    pub declared_observed_at: Option<OffsetDateTime>,
    pub redirects: Vec<RedirectChain>,
    pub document_connection: Option<ConnectionRecord>,
    pub unsafe_options: Vec<String>,
}

impl BundleBuilder {
    pub fn new(target: &str, protocol: &str, started_at: OffsetDateTime) -> Self {
        BundleBuilder {
            target: target.to_string(),
            protocol: protocol.to_string(),
            started_at,
            members: BTreeMap::new(),
            warnings: Vec::new(),
            declared_observed_at: None,
            redirects: Vec::new(),
            document_connection: None,
            unsafe_options: Vec::new(),
        }
    }

    /// Adds an evidence member; `path` is relative to `evidence/`.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>, source: Source) -> Result<(), BundleError> {
        let full = format!("{EVIDENCE_PREFIX}{path}");
        check_entry_name(&full).map_err(|_| BundleError::BadMemberPath(path.to_string()))?;
        if self.members.contains_key(&full) {
            return Err(BundleError::Duplicate(full));
        }
        self.members.insert(full, (bytes, source));
        Ok(())
    }

    /// Whether a member (relative to `evidence/`) is present.
    pub fn has(&self, path: &str) -> bool {
        self.members
            .contains_key(&format!("{EVIDENCE_PREFIX}{path}"))
    }

    /// Records a collection warning in the signed statement.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }

    /// The statement that [`BundleBuilder::seal`] signs.
    pub fn statement(&self, finished_at: OffsetDateTime) -> Statement {
        let fmt = crate::util::fmt_time;
        Statement {
            type_: STATEMENT_TYPE.into(),
            subject: self
                .members
                .iter()
                .map(|(p, (b, _))| Subject {
                    name: p.clone(),
                    digest: SubjectDigest {
                        sha256: crate::util::sha256_hex(b),
                    },
                })
                .collect(),
            predicate_type: PREDICATE_TYPE.into(),
            predicate: Collection {
                target: self.target.clone(),
                protocol: self.protocol.clone(),
                tool: Tool {
                    name: crate::TOOL_NAME.into(),
                    version: crate::TOOL_VERSION.into(),
                },
                started_at: fmt(self.started_at),
                finished_at: fmt(finished_at),
                members: self
                    .members
                    .iter()
                    .map(|(p, (_, s))| MemberRecord {
                        path: p.clone(),
                        source: s.origin.clone(),
                        http_status: s.http_status,
                        fetched_at: fmt(s.fetched_at),
                    })
                    .collect(),
                warnings: self.warnings.clone(),
                declared_observed_at: self.declared_observed_at.map(fmt),
                redirects: {
                    let mut r = self.redirects.clone();
                    r.sort_by(|a, b| a.requested.cmp(&b.requested).then(a.hops.cmp(&b.hops)));
                    r
                },
                document_connection: self.document_connection.clone(),
                unsafe_options: {
                    let mut u = self.unsafe_options.clone();
                    u.sort();
                    u.dedup();
                    u
                },
            },
        }
    }

    /// Signs and serialises the bundle to zip bytes.
    pub fn seal(
        &self,
        finished_at: OffsetDateTime,
        key: &SigningKey,
    ) -> Result<Vec<u8>, BundleError> {
        let statement = self.statement(finished_at);
        let payload = serde_json::to_vec(&statement).expect("statement serialises");
        let envelope = dsse::sign(PAYLOAD_TYPE, &payload, key);
        let mut env_bytes = serde_json::to_vec_pretty(&envelope).expect("envelope serialises");
        env_bytes.push(b'\n');
        let signer_pem = keys::public_pem(key.verifying_key());
        let mut entries: BTreeMap<String, &[u8]> = BTreeMap::new();
        for (p, (b, _)) in &self.members {
            entries.insert(p.clone(), b);
        }
        entries.insert(ENVELOPE_PATH.into(), &env_bytes);
        entries.insert(SIGNER_PATH.into(), signer_pem.as_bytes());
        write_zip(&entries)
    }

    /// Seals and writes atomically to `out` (temp file + rename).
    pub fn write(
        &self,
        out: &Path,
        finished_at: OffsetDateTime,
        key: &SigningKey,
    ) -> Result<(), BundleError> {
        let bytes = self.seal(finished_at, key)?;
        crate::util::write_atomic(out, &bytes).map_err(|e| BundleError::Io {
            path: out.display().to_string(),
            source: e,
        })
    }
}

/// Writes entries (already sorted) as a deterministic zip: deflate level 6,
/// DOS timestamp 1980-01-01 00:00:00, permissions 0644, no extra fields.
pub fn write_zip(entries: &BTreeMap<String, &[u8]>) -> Result<Vec<u8>, BundleError> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644)
        .large_file(false);
    for (name, data) in entries {
        w.start_file(name.as_str(), opts)
            .map_err(|e| BundleError::Zip(e.to_string()))?;
        w.write_all(data)
            .map_err(|e| BundleError::Zip(e.to_string()))?;
    }
    let cur = w.finish().map_err(|e| BundleError::Zip(e.to_string()))?;
    Ok(cur.into_inner())
}
