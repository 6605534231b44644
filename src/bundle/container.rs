//! The bundle container: a strict reader and the matching writer for the one
//! ZIP byte layout a bundle may have (`protocol/bundle-format.md` §
//! Container).
//!
//! Why our own code and not the `zip` crate: a bundle is only worth sharing if
//! every tool that opens it sees the bytes `audit` judged. General ZIP readers
//! are lenient in different ways (which end-of-central-directory record wins,
//! whether the local header or the central directory is believed, how counts
//! wrap, how duplicates fold), and each leniency is a way to show one reader
//! one thing and another reader another. Our format is deterministic, so the
//! reader can demand the single layout our writer emits, byte for byte, and
//! the subset is small (three record types, two compression methods, no
//! options): a few hundred lines that can be read in one sitting, on top of a
//! well-kept DEFLATE decoder (`flate2` with its pure-Rust `miniz_oxide`
//! backend), rather than a general library whose choices we would have to
//! pre-validate anyway.
//!
//! The reader is linear in the input and bounded in memory: every structure
//! is checked before anything is inflated, inflation writes into a buffer of
//! the declared size plus one byte (so it stops as soon as the real output
//! exceeds the declaration), and the declared sizes are capped per member
//! and in total before any allocation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;

use super::limits;
use super::BundleError;

const LOCAL_SIG: [u8; 4] = *b"PK\x03\x04";
const CENTRAL_SIG: [u8; 4] = *b"PK\x01\x02";
const EOCD_SIG: [u8; 4] = *b"PK\x05\x06";
const ZIP64_LOCATOR_SIG: [u8; 4] = *b"PK\x06\x07";
const ZIP64_EOCD_SIG: [u8; 4] = *b"PK\x06\x06";
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
const EOCD_LEN: usize = 22;

/// "Version made by": Unix (3), specification 2.0.
pub const VERSION_MADE_BY: u16 = 0x0314;
/// "Version needed to extract": 2.0 (DEFLATE), for every entry.
pub const VERSION_NEEDED: u16 = 20;
/// DOS time 00:00:00.
pub const DOS_TIME: u16 = 0;
/// DOS date 1980-01-01.
pub const DOS_DATE: u16 = 0x0021;
/// External attributes: a regular file, mode 0644, in the high 16 bits.
pub const EXTERNAL_ATTRS: u32 = 0o100644 << 16;
/// Compression method STORED.
pub const STORED: u16 = 0;
/// Compression method DEFLATE.
pub const DEFLATED: u16 = 8;
/// DEFLATE level of the writer.
pub const DEFLATE_LEVEL: u32 = 6;
/// Longest member name, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The container rule a refused bundle breaks; its id is what
/// `protocol/bundle-format.md` lists and what the one-line reason names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Exactly one end-of-central-directory record, at the very end.
    SingleEocd,
    /// No bytes after the EOCD record, no archive or entry comment.
    NoTrailingBytes,
    /// No bytes before the first local header.
    NoLeadingBytes,
    /// Local headers back to back in central-directory order, central
    /// directory right after the last entry's data: no gap, no overlap.
    BackToBack,
    /// No ZIP64 record or extra field.
    NoZip64,
    /// No extra fields.
    NoExtraFields,
    /// No data descriptors.
    NoDataDescriptors,
    /// No encrypted entries.
    NoEncryption,
    /// No directory entries.
    NoDirectoryEntries,
    /// Counts and sizes consistent (EOCD count, central directory size).
    Counts,
    /// Every local header field equal to its central entry.
    LocalMatchesCentral,
    /// Fixed header fields (versions, times, attributes, disk numbers).
    FixedFields,
    /// Compression method STORED or DEFLATE, consistent with the sizes.
    Method,
    /// Member data consistent with its declared sizes and CRC-32.
    Data,
    /// Safe ASCII member names.
    SafeNames,
    /// Names unique, compared without letter case.
    UniqueNames,
    /// No name is a "directory" of another.
    NoFileDirectoryClash,
    /// Entries in ascending byte order of name.
    SortedNames,
}

impl Rule {
    /// The id used in `protocol/bundle-format.md`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::SingleEocd => "single-eocd",
            Rule::NoTrailingBytes => "no-trailing-bytes",
            Rule::NoLeadingBytes => "no-leading-bytes",
            Rule::BackToBack => "back-to-back",
            Rule::NoZip64 => "no-zip64",
            Rule::NoExtraFields => "no-extra-fields",
            Rule::NoDataDescriptors => "no-data-descriptors",
            Rule::NoEncryption => "no-encryption",
            Rule::NoDirectoryEntries => "no-directory-entries",
            Rule::Counts => "consistent-counts",
            Rule::LocalMatchesCentral => "local-matches-central",
            Rule::FixedFields => "fixed-fields",
            Rule::Method => "method",
            Rule::Data => "data",
            Rule::SafeNames => "safe-names",
            Rule::UniqueNames => "unique-names",
            Rule::NoFileDirectoryClash => "no-file-directory-clash",
            Rule::SortedNames => "sorted-names",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

fn broken(rule: Rule, detail: impl Into<String>) -> BundleError {
    BundleError::Container {
        rule,
        detail: detail.into(),
    }
}

/// One member as the reader accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// [`STORED`] or [`DEFLATED`].
    pub method: u16,
    /// The member's bytes (inflated).
    pub data: Vec<u8>,
    /// Where the member's compressed bytes are in the container (offsets
    /// into the input, not a copy: the reader's memory stays bounded by the
    /// input plus the inflated members).
    pub compressed: std::ops::Range<usize>,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// A central directory entry's fields (names as in APPNOTE 4.3.12).
struct Central<'a> {
    made_by: u16,
    needed: u16,
    flags: u16,
    method: u16,
    time: u16,
    date: u16,
    crc: u32,
    csize: u32,
    usize: u32,
    name: &'a [u8],
    extra: &'a [u8],
    comment_len: u16,
    disk: u16,
    internal: u16,
    external: u32,
    offset: u32,
}

fn parse_central(b: &[u8], p: usize) -> Result<(Central<'_>, usize), BundleError> {
    let bad = |what: &str| {
        broken(
            Rule::Counts,
            format!("central directory entry at offset {p}: {what}"),
        )
    };
    if b.len() < p + CENTRAL_LEN {
        return Err(bad("truncated"));
    }
    if b[p..p + 4] != CENTRAL_SIG {
        return Err(bad("no central directory signature"));
    }
    let name_len = u16_at(b, p + 28) as usize;
    let extra_len = u16_at(b, p + 30) as usize;
    let comment_len = u16_at(b, p + 32);
    let end = p + CENTRAL_LEN + name_len + extra_len + comment_len as usize;
    if end > b.len() {
        return Err(bad("runs past the end of the file"));
    }
    let name = &b[p + CENTRAL_LEN..p + CENTRAL_LEN + name_len];
    Ok((
        Central {
            made_by: u16_at(b, p + 4),
            needed: u16_at(b, p + 6),
            flags: u16_at(b, p + 8),
            method: u16_at(b, p + 10),
            time: u16_at(b, p + 12),
            date: u16_at(b, p + 14),
            crc: u32_at(b, p + 16),
            csize: u32_at(b, p + 20),
            usize: u32_at(b, p + 24),
            name,
            extra: &b[p + CENTRAL_LEN + name_len..p + CENTRAL_LEN + name_len + extra_len],
            comment_len,
            disk: u16_at(b, p + 34),
            internal: u16_at(b, p + 36),
            external: u32_at(b, p + 38),
            offset: u32_at(b, p + 42),
        },
        end,
    ))
}

/// Checks a member name against the safe set: segments of `[A-Za-z0-9._-]`
/// joined by `/`, none empty, `.` or `..`, at most [`MAX_NAME_LEN`] bytes.
pub fn check_name(name: &[u8]) -> Result<&str, BundleError> {
    let shown = || String::from_utf8_lossy(name).escape_debug().to_string();
    if name.last() == Some(&b'/') {
        return Err(broken(
            Rule::NoDirectoryEntries,
            format!(
                "entry \"{}\" is a directory entry: a bundle holds only files \
                 (was it re-packed by another zip tool, e.g. `zip -r`? audit the file `collect` wrote)",
                shown()
            ),
        ));
    }
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(broken(
            Rule::SafeNames,
            format!(
                "entry name of {} bytes (1 to {MAX_NAME_LEN} allowed)",
                name.len()
            ),
        ));
    }
    if let Some(c) = name
        .iter()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/')))
    {
        return Err(broken(
            Rule::SafeNames,
            format!(
                "entry name \"{}\" holds byte 0x{c:02x}: names are `[A-Za-z0-9._-]` segments joined by `/`",
                shown()
            ),
        ));
    }
    if name
        .split(|&c| c == b'/')
        .any(|s| s.is_empty() || s == b"." || s == b"..")
    {
        return Err(broken(
            Rule::SafeNames,
            format!(
                "entry name \"{}\" has an empty, `.` or `..` segment",
                shown()
            ),
        ));
    }
    Ok(std::str::from_utf8(name).expect("ASCII"))
}

/// Reads a bundle container, admitting exactly the layout [`write`] emits.
/// Returns the members in container (= name) order.
pub fn read(b: &[u8]) -> Result<Vec<Member>, BundleError> {
    if b.is_empty() {
        return Err(BundleError::Empty);
    }
    if b.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(BundleError::FileTooLarge {
            size: b.len() as u64,
        });
    }
    // 1. The EOCD record: the last 22 bytes, nothing after it.
    let eocd = b.len().checked_sub(EOCD_LEN).ok_or_else(|| {
        BundleError::NotZip(format!("{} bytes: too short to be a zip archive", b.len()))
    })?;
    if b[eocd..eocd + 4] != EOCD_SIG {
        // Say why, if an EOCD record is nearby (a comment or appended bytes).
        let lowest = b.len().saturating_sub(EOCD_LEN + 65_535);
        let found = (lowest..eocd).rev().find(|&i| b[i..i + 4] == EOCD_SIG);
        return Err(match found {
            Some(i) if u16_at(b, i + 20) as usize == b.len() - i - EOCD_LEN => broken(
                Rule::NoTrailingBytes,
                format!(
                    "an archive comment of {} bytes follows the end-of-central-directory record",
                    b.len() - i - EOCD_LEN
                ),
            ),
            Some(i) => broken(
                Rule::NoTrailingBytes,
                format!(
                    "{} bytes follow the end-of-central-directory record",
                    b.len() - i - EOCD_LEN
                ),
            ),
            None => BundleError::NotZip(
                "no end-of-central-directory record at the end of the file".into(),
            ),
        });
    }
    // 2. Exactly one EOCD signature in the whole file: a second one (another
    // zip appended, or one embedded in a member) is what lenient readers
    // disagree about.
    if let Some(i) = b[..eocd].windows(4).position(|w| w == EOCD_SIG) {
        return Err(broken(
            Rule::SingleEocd,
            format!(
                "a second end-of-central-directory signature at offset {i} \
                 (another zip appended or embedded?)"
            ),
        ));
    }
    // 3. No ZIP64: neither a locator right before the EOCD nor any ZIP64
    // marker value in it.
    if eocd >= 20 && b[eocd - 20..eocd - 16] == ZIP64_LOCATOR_SIG {
        // Say how many entries there really are if that is the larger
        // problem (writers switch to ZIP64 above 65,535 entries).
        if let Some(n) = zip64_entry_count(b, eocd - 20).filter(|&n| n > limits::MAX_ENTRIES) {
            return Err(BundleError::TooManyEntries(n));
        }
        return Err(broken(
            Rule::NoZip64,
            "a ZIP64 end-of-central-directory locator precedes the EOCD record",
        ));
    }
    let disk = u16_at(b, eocd + 4);
    let cd_disk = u16_at(b, eocd + 6);
    let n_disk = u16_at(b, eocd + 8);
    let n = u16_at(b, eocd + 10);
    let cd_size = u32_at(b, eocd + 12);
    let cd_off = u32_at(b, eocd + 16);
    let comment = u16_at(b, eocd + 20);
    if comment != 0 {
        // The last 22 bytes are an EOCD whose comment would lie beyond the file.
        return Err(broken(
            Rule::NoTrailingBytes,
            format!("the EOCD record declares a {comment}-byte comment"),
        ));
    }
    if n == 0xFFFF || n_disk == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_off == 0xFFFF_FFFF {
        return Err(broken(
            Rule::NoZip64,
            "the EOCD record holds ZIP64 marker values",
        ));
    }
    if disk != 0 || cd_disk != 0 {
        return Err(broken(Rule::FixedFields, "multi-disk archive"));
    }
    let (cd_off, cd_size) = (cd_off as usize, cd_size as usize);
    let cd_end = cd_off
        .checked_add(cd_size)
        .filter(|&e| e <= eocd)
        .ok_or_else(|| {
            broken(
                Rule::Counts,
                format!("central directory ({cd_size} bytes at offset {cd_off}) overlaps the EOCD record or lies beyond the file"),
            )
        })?;
    if cd_end != eocd {
        let zip64 = b[cd_end..eocd].windows(4).any(|w| w == ZIP64_EOCD_SIG);
        return Err(broken(
            if zip64 {
                Rule::NoZip64
            } else {
                Rule::BackToBack
            },
            format!(
                "{} bytes between the central directory and the EOCD record{}",
                eocd - cd_end,
                if zip64 {
                    " (a ZIP64 end-of-central-directory record)"
                } else {
                    ""
                }
            ),
        ));
    }
    // 4. Walk the central directory once to count its entries (the real
    // count, whatever the 16-bit EOCD field says).
    let count = count_entries(b, cd_off, cd_end)?;
    if count > limits::MAX_ENTRIES {
        return Err(BundleError::TooManyEntries(count));
    }
    if count != n as usize || n != n_disk {
        return Err(broken(
            Rule::Counts,
            format!(
                "the EOCD record says {n} entries ({n_disk} on this disk), the central directory holds {count}"
            ),
        ));
    }
    // 5. Each entry: central fields, name, local header, data position.
    let mut expected_offset = 0usize;
    let mut p = cd_off;
    let mut names_lower: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut previous: Option<&[u8]> = None;
    let mut total: u64 = 0;
    let mut checked: Vec<(usize, Central)> = Vec::with_capacity(count);
    for i in 0..count {
        let (c, next) = parse_central(b, p)?;
        p = next;
        let name = check_name(c.name)?;
        if c.flags & 0x0041 != 0 || c.method == 99 {
            return Err(broken(
                Rule::NoEncryption,
                format!(
                    "entry \"{name}\" is encrypted{}: bundles are never encrypted",
                    if c.method == 99 { " (AES)" } else { "" }
                ),
            ));
        }
        if c.flags & 0x0008 != 0 {
            return Err(broken(
                Rule::NoDataDescriptors,
                format!("entry \"{name}\" uses a data descriptor (general purpose flag bit 3)"),
            ));
        }
        if !c.extra.is_empty() {
            let id = if c.extra.len() >= 2 {
                u16_at(c.extra, 0)
            } else {
                0
            };
            return Err(if id == 0x0001 {
                broken(
                    Rule::NoZip64,
                    format!("entry \"{name}\" has a ZIP64 extra field"),
                )
            } else {
                broken(
                    Rule::NoExtraFields,
                    format!(
                        "entry \"{name}\" has {} bytes of extra fields (first id 0x{id:04x}): \
                         the bundle was re-packed by another zip tool; audit the file `collect` wrote",
                        c.extra.len()
                    ),
                )
            });
        }
        if c.comment_len != 0 {
            return Err(broken(
                Rule::NoTrailingBytes,
                format!("entry \"{name}\" has a {}-byte comment", c.comment_len),
            ));
        }
        if (c.external >> 16) & 0o170000 == 0o120000 {
            return Err(broken(
                Rule::FixedFields,
                format!("entry \"{name}\" is a symbolic link: a bundle holds only regular files"),
            ));
        }
        let fixed = [
            ("flags", c.flags as u32, 0),
            ("version made by", c.made_by as u32, VERSION_MADE_BY as u32),
            ("version needed", c.needed as u32, VERSION_NEEDED as u32),
            ("time", c.time as u32, DOS_TIME as u32),
            ("date", c.date as u32, DOS_DATE as u32),
            ("disk number", c.disk as u32, 0),
            ("internal attributes", c.internal as u32, 0),
            ("external attributes", c.external, EXTERNAL_ATTRS),
        ];
        if let Some((field, got, want)) = fixed.iter().find(|(_, g, w)| g != w) {
            return Err(broken(
                Rule::FixedFields,
                format!("entry \"{name}\": {field} is 0x{got:x}, the format fixes it to 0x{want:x} (re-packed by another zip tool?)"),
            ));
        }
        // Names: unique without case, no file/"directory" clash, sorted.
        let lower = c.name.to_ascii_lowercase();
        if !names_lower.insert(lower.clone()) {
            return Err(broken(
                Rule::UniqueNames,
                format!("entry \"{name}\" repeats an earlier name (compared without letter case)"),
            ));
        }
        if let Some(prev) = previous {
            if prev >= c.name {
                return Err(broken(
                    Rule::SortedNames,
                    format!(
                        "entry \"{name}\" follows \"{}\": entries must be in ascending byte order of name",
                        String::from_utf8_lossy(prev)
                    ),
                ));
            }
        }
        previous = Some(c.name);
        // Per-entry sizes and method, before reading any data.
        match c.method {
            STORED if c.csize != c.usize => {
                return Err(broken(
                    Rule::Method,
                    format!("STORED entry \"{name}\" declares {} compressed and {} uncompressed bytes", c.csize, c.usize),
                ))
            }
            DEFLATED if c.csize >= c.usize => {
                return Err(broken(
                    Rule::Method,
                    format!("DEFLATE entry \"{name}\" does not shrink ({} compressed, {} uncompressed bytes): it must be STORED", c.csize, c.usize),
                ))
            }
            STORED | DEFLATED => {}
            m => {
                return Err(broken(
                    Rule::Method,
                    format!("entry \"{name}\" uses compression method {m}: only STORED (0) and DEFLATE (8)"),
                ))
            }
        }
        if c.usize as u64 > limits::MAX_ENTRY_BYTES {
            return Err(BundleError::TooLarge {
                name: name.to_string(),
                size: c.usize as u64,
                max: limits::MAX_ENTRY_BYTES,
            });
        }
        total += c.usize as u64;
        if total > limits::MAX_TOTAL_BYTES {
            return Err(BundleError::TotalTooLarge);
        }
        if c.usize as u64 > (c.csize as u64).max(1) * limits::MAX_RATIO {
            return Err(BundleError::Ratio {
                name: name.to_string(),
                ratio: c.usize as u64 / (c.csize as u64).max(1),
            });
        }
        // The local header, exactly where the previous entry ended.
        let off = c.offset as usize;
        if off != expected_offset {
            return Err(if i == 0 && off > 0 {
                broken(
                    Rule::NoLeadingBytes,
                    format!("{off} bytes precede the first entry"),
                )
            } else {
                broken(
                    Rule::BackToBack,
                    format!(
                        "entry \"{name}\" starts at offset {off}, expected {expected_offset}: \
                         entries must follow each other with no gap or overlap"
                    ),
                )
            });
        }
        let end = check_local(b, off, &c, name)?;
        if end > cd_off {
            return Err(broken(
                Rule::BackToBack,
                format!("entry \"{name}\"'s data runs into the central directory"),
            ));
        }
        expected_offset = end;
        checked.push((off, c));
    }
    if expected_offset != cd_off {
        return Err(broken(
            Rule::BackToBack,
            format!(
                "{} bytes between the last entry's data and the central directory",
                cd_off - expected_offset
            ),
        ));
    }
    // A name may not be the "directory" of another (`a` beside `a/b`).
    for (_, c) in &checked {
        let lower = c.name.to_ascii_lowercase();
        for (j, _) in lower.iter().enumerate().filter(|(_, &ch)| ch == b'/') {
            if names_lower.contains(&lower[..j]) {
                return Err(broken(
                    Rule::NoFileDirectoryClash,
                    format!(
                        "entry \"{}\" lies under \"{}\", which is also a file",
                        String::from_utf8_lossy(c.name),
                        String::from_utf8_lossy(&c.name[..j])
                    ),
                ));
            }
        }
    }
    // 6. Only now inflate, with real-byte accounting.
    let mut out = Vec::with_capacity(count);
    for (off, c) in checked {
        let start = off + LOCAL_LEN + c.name.len();
        let compressed = &b[start..start + c.csize as usize];
        let name = std::str::from_utf8(c.name).expect("checked ASCII");
        let data = match c.method {
            STORED => compressed.to_vec(),
            _ => inflate(compressed, c.usize as usize, name)?,
        };
        let mut crc = flate2::Crc::new();
        crc.update(&data);
        if crc.sum() != c.crc {
            return Err(broken(
                Rule::Data,
                format!(
                    "entry \"{name}\": CRC-32 {:08x}, declared {:08x}",
                    crc.sum(),
                    c.crc
                ),
            ));
        }
        out.push(Member {
            name: name.to_string(),
            method: c.method,
            data,
            compressed: start..start + c.csize as usize,
        });
    }
    Ok(out)
}

/// Number of central entries in `b[start..end]`, walked header by header
/// (linear: each step advances at least 46 bytes).
fn count_entries(b: &[u8], start: usize, end: usize) -> Result<usize, BundleError> {
    let mut count = 0usize;
    let mut p = start;
    while p < end {
        let (_, next) = parse_central(b, p)?;
        if next > end {
            return Err(broken(
                Rule::Counts,
                format!("central directory entry at offset {p} runs past the central directory's declared size"),
            ));
        }
        p = next;
        count += 1;
    }
    Ok(count)
}

/// The real entry count of a ZIP64 archive whose locator is at `loc`, if
/// its records are readable (only to word the refusal).
fn zip64_entry_count(b: &[u8], loc: usize) -> Option<usize> {
    let u64_at = |o: usize| -> Option<usize> {
        let s = b.get(o..o + 8)?;
        usize::try_from(u64::from_le_bytes(s.try_into().ok()?)).ok()
    };
    let rec = u64_at(loc + 8)?;
    if b.get(rec..rec + 4)? != ZIP64_EOCD_SIG {
        return None;
    }
    let (size, off) = (u64_at(rec + 40)?, u64_at(rec + 48)?);
    let end = off.checked_add(size).filter(|&e| e <= rec)?;
    count_entries(b, off, end).ok()
}

/// Checks the local header at `off` against its central entry; returns the
/// offset just past the entry's data.
fn check_local(b: &[u8], off: usize, c: &Central, name: &str) -> Result<usize, BundleError> {
    let mismatch = |field: &str| {
        broken(
            Rule::LocalMatchesCentral,
            format!(
                "entry \"{name}\": the local header's {field} differs from the central directory's"
            ),
        )
    };
    if off + LOCAL_LEN > b.len() || b[off..off + 4] != LOCAL_SIG {
        return Err(broken(
            Rule::BackToBack,
            format!("entry \"{name}\": no local header at offset {off}"),
        ));
    }
    let flags = u16_at(b, off + 6);
    if flags & 0x0008 != 0 {
        return Err(broken(
            Rule::NoDataDescriptors,
            format!("entry \"{name}\": the local header announces a data descriptor (flag bit 3)"),
        ));
    }
    if flags & 0x0041 != 0 {
        return Err(broken(
            Rule::NoEncryption,
            format!("entry \"{name}\": the local header says the entry is encrypted"),
        ));
    }
    let fields = [
        ("version needed", u16_at(b, off + 4) as u32, c.needed as u32),
        ("flags", flags as u32, c.flags as u32),
        (
            "compression method",
            u16_at(b, off + 8) as u32,
            c.method as u32,
        ),
        ("time", u16_at(b, off + 10) as u32, c.time as u32),
        ("date", u16_at(b, off + 12) as u32, c.date as u32),
        ("CRC-32", u32_at(b, off + 14), c.crc),
        ("compressed size", u32_at(b, off + 18), c.csize),
        ("uncompressed size", u32_at(b, off + 22), c.usize),
        (
            "name length",
            u16_at(b, off + 26) as u32,
            c.name.len() as u32,
        ),
    ];
    if let Some((field, _, _)) = fields.iter().find(|(_, l, c)| l != c) {
        return Err(mismatch(field));
    }
    let extra_len = u16_at(b, off + 28) as usize;
    if extra_len != 0 {
        let id = if off + LOCAL_LEN + c.name.len() + 2 <= b.len() {
            u16_at(b, off + LOCAL_LEN + c.name.len())
        } else {
            0
        };
        return Err(if id == 0x0001 {
            broken(
                Rule::NoZip64,
                format!("entry \"{name}\": a ZIP64 extra field in the local header"),
            )
        } else {
            broken(
                Rule::NoExtraFields,
                format!("entry \"{name}\": {extra_len} bytes of extra fields in the local header (re-packed by another zip tool?)"),
            )
        });
    }
    let name_at = off + LOCAL_LEN;
    if b.get(name_at..name_at + c.name.len()) != Some(c.name) {
        return Err(mismatch("name"));
    }
    let end = name_at + c.name.len() + c.csize as usize;
    if end > b.len() {
        return Err(broken(
            Rule::Data,
            format!("entry \"{name}\": data runs past the end of the file"),
        ));
    }
    Ok(end)
}

/// Inflates one raw DEFLATE stream that must produce exactly `size` bytes
/// and end exactly at the end of `compressed`. The output buffer holds
/// `size + 1` bytes: inflation stops as soon as the real output exceeds the
/// declaration, whatever the stream says.
fn inflate(compressed: &[u8], size: usize, name: &str) -> Result<Vec<u8>, BundleError> {
    let mut d = flate2::Decompress::new(false);
    let mut out = vec![0u8; size + 1];
    let status = d
        .decompress(compressed, &mut out, flate2::FlushDecompress::Finish)
        .map_err(|e| {
            broken(
                Rule::Data,
                format!("entry \"{name}\": corrupt DEFLATE data: {e}"),
            )
        })?;
    let (used, made) = (d.total_in() as usize, d.total_out() as usize);
    if made > size {
        return Err(broken(
            Rule::Data,
            format!("entry \"{name}\" inflates to more than its declared {size} bytes"),
        ));
    }
    if status != flate2::Status::StreamEnd {
        return Err(broken(
            Rule::Data,
            format!("entry \"{name}\": DEFLATE data ends early ({made} of {size} bytes)"),
        ));
    }
    if made != size {
        return Err(broken(
            Rule::Data,
            format!("entry \"{name}\" inflates to {made} bytes, declared {size}"),
        ));
    }
    if used != compressed.len() {
        return Err(broken(
            Rule::Data,
            format!(
                "entry \"{name}\": the DEFLATE stream ends after {used} of its {} compressed bytes",
                compressed.len()
            ),
        ));
    }
    out.truncate(size);
    if padding_bit_set(compressed, &out) {
        return Err(broken(
            Rule::Data,
            format!(
                "entry \"{name}\": the DEFLATE stream's final byte has padding bits set \
                 (bits no inflater reads must be zero, so the container has one spelling)"
            ),
        ));
    }
    Ok(out)
}

/// Whether the highest set bit of the stream's final byte is padding (bits
/// after the end-of-block code, which every inflater ignores): the stream
/// with that bit cleared still inflates to exactly `data`. Padding bits are
/// the top bits of the final byte, so if its highest set bit is used, every
/// padding bit is zero. Encoders write zeros there; a set padding bit is a
/// container byte that could change without changing any member, and the
/// format pins every byte but the compressed data's own choices.
fn padding_bit_set(compressed: &[u8], data: &[u8]) -> bool {
    let Some((&last, head)) = compressed.split_last() else {
        return false;
    };
    if last == 0 {
        return false;
    }
    let cleared = last & !(0x80u8 >> last.leading_zeros());
    let mut d = flate2::Decompress::new(false);
    let mut out = vec![0u8; data.len() + 1];
    if d.decompress(head, &mut out, flate2::FlushDecompress::None)
        .is_err()
    {
        return false;
    }
    let at = d.total_out() as usize;
    let status = d.decompress(&[cleared], &mut out[at..], flate2::FlushDecompress::Finish);
    matches!(status, Ok(flate2::Status::StreamEnd))
        && d.total_in() as usize == compressed.len()
        && d.total_out() as usize == data.len()
        && &out[..data.len()] == data
}

/// Level-6 raw DEFLATE of `data` (the writer's encoder).
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::new(DEFLATE_LEVEL),
    );
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

/// The writer's method choice (`protocol/bundle-format.md` § Determinism):
/// DEFLATE unless the level-6 stream is not shorter than the data, exceeds
/// the ratio limit, or contains the EOCD signature; then STORED.
pub fn encode(data: &[u8]) -> (u16, Vec<u8>) {
    let d = deflate(data);
    let shrinks = d.len() < data.len();
    let ratio_ok = data.len() as u64 <= (d.len() as u64).max(1) * limits::MAX_RATIO;
    let no_sig = !d.windows(4).any(|w| w == EOCD_SIG);
    if shrinks && ratio_ok && no_sig {
        (DEFLATED, d)
    } else {
        (STORED, data.to_vec())
    }
}

/// Writes members as the one container layout, then re-reads the result
/// with [`read`] and refuses to return anything the reader would refuse
/// (so `collect` can never sign a bundle `audit` must refuse).
pub fn write(entries: &BTreeMap<String, &[u8]>) -> Result<Vec<u8>, BundleError> {
    let refuse = |e: BundleError| BundleError::WouldBeRefused(Box::new(e));
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        check_name(name.as_bytes()).map_err(refuse)?;
        let size = u32::try_from(data.len())
            .ok()
            .filter(|&s| s as u64 <= limits::MAX_ENTRY_BYTES)
            .ok_or_else(|| {
                refuse(BundleError::TooLarge {
                    name: name.clone(),
                    size: data.len() as u64,
                    max: limits::MAX_ENTRY_BYTES,
                })
            })?;
        let (method, bytes) = encode(data);
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = u32::try_from(out.len()).map_err(|_| refuse(BundleError::TotalTooLarge))?;
        let name_len = name.len() as u16;
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&VERSION_NEEDED.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&method.to_le_bytes());
            v.extend_from_slice(&DOS_TIME.to_le_bytes());
            v.extend_from_slice(&DOS_DATE.to_le_bytes());
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&LOCAL_SIG);
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&bytes);
        central.extend_from_slice(&CENTRAL_SIG);
        central.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&EXTERNAL_ATTRS.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(entries.len())
        .ok()
        .filter(|&n| n as usize <= limits::MAX_ENTRIES)
        .ok_or_else(|| refuse(BundleError::TooManyEntries(entries.len())))?;
    let cd_off = u32::try_from(out.len()).map_err(|_| refuse(BundleError::TotalTooLarge))?;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&EOCD_SIG);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    // Re-read our own bytes: the writer never emits what the reader refuses.
    let back = read(&out).map_err(refuse)?;
    let same = back.len() == entries.len()
        && back
            .iter()
            .zip(entries)
            .all(|(m, (n, d))| &m.name == n && m.data == *d);
    if !same {
        return Err(refuse(BundleError::NotZip(
            "the written container does not read back as its members".into(),
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, data: &[u8]) -> Vec<u8> {
        let mut m = BTreeMap::new();
        m.insert(name.to_string(), data);
        write(&m).unwrap()
    }

    #[test]
    fn written_container_reads_back_with_both_methods() {
        let text = b"{\"a\": 1}".repeat(100);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        let mut m = BTreeMap::new();
        m.insert("a/text.json".to_string(), text.as_slice());
        m.insert("b.bin".to_string(), random.as_slice());
        m.insert("empty".to_string(), &b""[..]);
        let z = write(&m).unwrap();
        let r = read(&z).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].method, r[0].data.as_slice()),
            (DEFLATED, text.as_slice())
        );
        assert_eq!(
            (r[1].method, r[1].data.as_slice()),
            (STORED, random.as_slice())
        );
        assert_eq!((r[2].method, r[2].data.len()), (STORED, 0));
    }

    #[test]
    fn whitespace_padded_member_over_the_ratio_limit_is_stored_not_refused() {
        let mut doc = b"{\"a\": 1".to_vec();
        doc.extend(std::iter::repeat_n(b' ', 5 << 20));
        doc.push(b'}');
        let z = one("evidence/attestation.json", &doc);
        let r = read(&z).unwrap();
        assert_eq!(r[0].method, STORED);
        assert_eq!(r[0].data, doc);
    }

    #[test]
    fn names_outside_the_safe_set_are_refused() {
        for bad in ["a//b", "./a", "a/../b", "a b", "a\\b", "é", "a/", "", "a:b"] {
            assert!(check_name(bad.as_bytes()).is_err(), "{bad:?}");
        }
        for good in ["a", "evidence/tls/chain-00.der", "A.b_c-D"] {
            assert_eq!(check_name(good.as_bytes()).unwrap(), good);
        }
    }

    #[test]
    fn writer_refuses_a_member_over_the_per_member_cap() {
        let big = vec![0u8; limits::MAX_ENTRY_BYTES as usize + 1];
        let mut m = BTreeMap::new();
        m.insert("big".to_string(), big.as_slice());
        assert!(matches!(write(&m), Err(BundleError::WouldBeRefused(_))));
    }

    #[test]
    fn fixture_bundles_rewritten_are_byte_identical() {
        for z in [
            &include_bytes!("../../fixtures/bundles/blyss-2024-01.zip")[..],
            &include_bytes!("../../fixtures/bundles/blyss-2023-12.zip")[..],
        ] {
            let members = read(z).unwrap();
            let m: BTreeMap<String, &[u8]> = members
                .iter()
                .map(|m| (m.name.clone(), m.data.as_slice()))
                .collect();
            assert_eq!(write(&m).unwrap(), z);
        }
    }

    #[test]
    fn a_set_padding_bit_in_the_final_deflate_byte_is_refused() {
        let data = b"hello hello hello hello".repeat(10);
        let mut d = deflate(&data);
        assert_eq!(inflate(&d, data.len(), "x").unwrap(), data);
        let last = d.len() - 1;
        let free = d[last].leading_zeros();
        assert!(free > 0, "this stream has padding bits in its final byte");
        d[last] |= 0x80;
        let e = inflate(&d, data.len(), "x").unwrap_err();
        assert!(e.to_string().contains("padding bits"), "{e}");
    }

    #[test]
    fn inflate_stops_at_the_declared_size_plus_one() {
        let d = deflate(&vec![0u8; 1 << 20]);
        let e = inflate(&d, 1000, "x").unwrap_err();
        assert!(e.to_string().contains("more than its declared 1000"), "{e}");
    }
}
