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
use std::io::Read;
use std::path::Path;

use p384::ecdsa::SigningKey;
use thiserror::Error;
use time::OffsetDateTime;

pub mod container;
pub mod dsse;
pub mod format;
pub mod import;
pub mod keys;

use format::*;

/// Structural limits of the reader (`protocol/bundle-format.md` § Caps).
/// Real bundles are under 10 MiB and their largest member is a 4 MiB
/// firmware image; the caps leave room for growth while keeping every audit
/// well under 256 MiB of memory.
pub mod limits {
    /// Most entries a bundle may hold.
    pub const MAX_ENTRIES: usize = 10_000;
    /// Largest uncompressed member.
    pub const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;
    /// Largest total uncompressed size.
    pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
    /// Highest uncompressed/compressed ratio of a DEFLATE member (zip bombs);
    /// with sizes checked against the real output, this holds on real bytes.
    pub const MAX_RATIO: u64 = 200;
    /// Largest `envelope.dsse.json`, checked before it is parsed: a statement
    /// lists at most [`MAX_ENTRIES`] members (≈ 200 bytes each, base64 in the
    /// envelope), so 8 MiB leaves room, while a JSON tree of millions of
    /// tiny strings built from a 32 MiB member would not stay small.
    pub const MAX_ENVELOPE_BYTES: usize = 8 * 1024 * 1024;
    /// Largest bundle file: the total cap plus room for the headers of the
    /// most entries with the longest names (a DEFLATE member is always
    /// smaller than its data, a STORED one the same size). Checked on the
    /// file's metadata before reading a byte of it.
    pub const MAX_FILE_BYTES: u64 = MAX_TOTAL_BYTES + 8 * 1024 * 1024;
}

/// Why a bundle could not be read or written.
#[derive(Debug, Error)]
pub enum BundleError {
    /// The cause is the error's `source()`, printed once by the CLI's error
    /// chain (not repeated in this message).
    #[error("I/O error on {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {kind}, not a regular file: a bundle is read from a regular file")]
    NotRegularFile { path: String, kind: &'static str },
    #[error(
        "file is {size} bytes, more than any bundle may be ({} bytes)",
        limits::MAX_FILE_BYTES
    )]
    FileTooLarge { size: u64 },
    #[error("file is empty")]
    Empty,
    #[error("not a zip archive: {0}")]
    NotZip(String),
    /// A container rule of `protocol/bundle-format.md` is broken; `rule` is
    /// its id there.
    #[error("bundle container rule `{rule}` broken: {detail}")]
    Container {
        rule: container::Rule,
        detail: String,
    },
    #[error("not a bundle of this format: {0}")]
    NotThisFormat(String),
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
    #[error(
        "{SIGNER_PATH} holds a PRIVATE key: a bundle ships only the collector's public key \
         (whoever shared this bundle shared the signing key too; treat that key as exposed)"
    )]
    SignerIsPrivate,
    #[error("invalid member path {0:?}: must be a relative path under evidence/")]
    BadMemberPath(String),
    #[error("invalid evidence: {0}")]
    Evidence(String),
    /// The writer refuses to emit a container its own reader would refuse.
    #[error("refusing to write a bundle that audit would refuse: {0}")]
    WouldBeRefused(Box<BundleError>),
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
    /// Opens and structurally checks a bundle file. The file's metadata is
    /// checked before a byte is read: only a regular file no larger than
    /// [`limits::MAX_FILE_BYTES`] is read (a device, FIFO or socket could
    /// stream forever), and the read itself stops one byte past the cap in
    /// case the file grows meanwhile.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        let bytes = read_input(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::from_bytes(&bytes, &name)
    }

    /// Structurally checks bundle bytes (see module docs for what is an error).
    pub fn from_bytes(bytes: &[u8], file_name: &str) -> Result<Bundle, BundleError> {
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for m in container::read(bytes)? {
            // Top-level members are fixed by the format: anything else means
            // this is not a bundle of this format (not an altered one).
            if m.name != ENVELOPE_PATH
                && m.name != SIGNER_PATH
                && !m.name.starts_with(EVIDENCE_PREFIX)
            {
                return Err(BundleError::NotThisFormat(format!(
                    "unexpected top-level member {:?} (only {ENVELOPE_PATH}, {SIGNER_PATH} and {EVIDENCE_PREFIX}…)",
                    m.name
                )));
            }
            entries.insert(m.name, m.data);
        }
        let envelope_bytes = entries
            .remove(ENVELOPE_PATH)
            .ok_or(BundleError::MissingEnvelope)?;
        if envelope_bytes.len() > limits::MAX_ENVELOPE_BYTES {
            return Err(BundleError::Envelope(format!(
                "{} bytes, over the cap of {} bytes",
                envelope_bytes.len(),
                limits::MAX_ENVELOPE_BYTES
            )));
        }
        let envelope: dsse::Envelope = serde_json::from_slice(&envelope_bytes)
            .map_err(|e| BundleError::Envelope(e.to_string()))?;
        let statement_bytes = envelope.payload_bytes()?;
        let statement: Statement = serde_json::from_slice(&statement_bytes)
            .map_err(|e| BundleError::Statement(e.to_string()))?;
        check_statement(&statement)?;
        let signer_pem = entries.remove(SIGNER_PATH);
        if let Some(pem) = &signer_pem {
            if keys::holds_private_key(pem) {
                return Err(BundleError::SignerIsPrivate);
            }
        }
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

/// Reads a bundle file with the checks of [`Bundle::open`].
pub fn read_input(path: &Path) -> Result<Vec<u8>, BundleError> {
    let io = |e| BundleError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let check = |m: &std::fs::Metadata| -> Result<(), BundleError> {
        let kind = file_kind(&m.file_type());
        if kind != "a regular file" {
            return Err(BundleError::NotRegularFile {
                path: path.display().to_string(),
                kind,
            });
        }
        if m.len() > limits::MAX_FILE_BYTES {
            return Err(BundleError::FileTooLarge { size: m.len() });
        }
        Ok(())
    };
    // Before opening: opening a FIFO blocks until a writer appears.
    check(&std::fs::metadata(path).map_err(io)?)?;
    let f = std::fs::File::open(path).map_err(io)?;
    // Again on the opened file, in case the path was swapped meanwhile.
    let meta = f.metadata().map_err(io)?;
    check(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(limits::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(BundleError::FileTooLarge {
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// What a file is, in words, for the refusal message.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Rejects a statement this reader does not know (another `_type` or
/// `predicateType`: not a bundle of this format, exit 2) and times that are
/// not strict RFC 3339 UTC `YYYY-MM-DDTHH:MM:SSZ` (no offset, no fraction:
/// one spelling per instant, as the writer emits).
fn check_statement(s: &Statement) -> Result<(), BundleError> {
    // Both known predicate versions are read (v1: bundles of earlier
    // releases); whether a v1 statement carries v2 fields is judged by
    // `bundle.signature` (`Statement::version_problem`), so the report can say so.
    if s.type_ != STATEMENT_TYPE || s.version().is_none() {
        return Err(BundleError::NotThisFormat(format!(
            "statement type {:?} / predicate type {:?} (this reader knows {STATEMENT_TYPE} / {PREDICATE_TYPE_V1} or {PREDICATE_TYPE})",
            s.type_, s.predicate_type
        )));
    }
    let p = &s.predicate;
    let times = [
        ("started_at", &p.started_at),
        ("finished_at", &p.finished_at),
    ]
    .into_iter()
    .chain(
        p.members
            .iter()
            .map(|m| ("members[].fetched_at", &m.fetched_at)),
    );
    for (field, t) in times {
        if !is_strict_utc_time(t) {
            return Err(BundleError::Statement(format!(
                "{field} {t:?} is not an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SSZ"
            )));
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ`, a valid date and time, nothing else.
pub fn is_strict_utc_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
        && crate::util::parse_time(t).is_ok()
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
        container::check_name(full.as_bytes())
            .map_err(|_| BundleError::BadMemberPath(path.to_string()))?;
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

/// Writes entries (sorted by the map) as the one container layout of
/// `protocol/bundle-format.md` (see [`container::write`]): refuses, with
/// [`BundleError::WouldBeRefused`], anything the reader would refuse.
pub fn write_zip(entries: &BTreeMap<String, &[u8]>) -> Result<Vec<u8>, BundleError> {
    container::write(entries)
}
