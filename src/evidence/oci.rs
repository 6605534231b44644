//! Container images: references, registry manifests, indexes and configs.
//!
//! * [`Reference`] parses an image reference with the docker/distribution
//!   reference grammar (our own implementation; the grammar tests below carry
//!   over the upstream test vectors) and applies Docker Hub normalisation:
//!   a name without a registry lives on `docker.io`, a single-component
//!   Docker Hub name lives under `library/`, and `docker.io` is served by
//!   `registry-1.docker.io`.
//! * [`parse_manifest`] / [`parse_config`] read OCI and Docker v2 manifests,
//!   indexes / manifest lists and image configs into typed values.
//! * [`verify_image`] is the offline verification the `images.manifest`
//!   check runs: the manifest bytes hash to the attested digest, the
//!   `linux/amd64` child of an index matches its descriptor (digest and
//!   size), the config matches its descriptor, and the facts a reviewer
//!   wants (platforms, creation time, labels, entrypoint, layers) come out.
//!
//! Nothing here panics on bad input: every problem is an [`ImageError`]
//! naming what was wrong.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use thiserror::Error;

/// Registry name Docker uses for Docker Hub in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Legacy Docker Hub name, normalised to [`DOCKER_HUB`].
pub const DOCKER_HUB_LEGACY: &str = "index.docker.io";
/// Host that actually serves the Docker Hub registry API.
pub const DOCKER_HUB_REGISTRY: &str = "registry-1.docker.io";
/// Longest repository name (domain + path) the grammar allows.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Largest manifest or index accepted (the limit distribution and containerd
/// apply to manifests).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Largest image config accepted.
pub const MAX_CONFIG_BYTES: usize = 8 * 1024 * 1024;

/// The platform a SEV-SNP guest runs: images are judged by their
/// `linux/amd64` manifest.
pub const PLATFORM_OS: &str = "linux";
pub const PLATFORM_ARCH: &str = "amd64";

/// Media types.
pub mod media {
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Docker schema 1 (signed and unsigned): obsolete, not content-addressed
    /// the same way, rejected.
    pub const DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";

    /// The `Accept` header value a collector sends for a manifest.
    pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
}

// ---------------------------------------------------------------------------
// Digests
// ---------------------------------------------------------------------------

/// A content digest `algorithm:hex`, validated like opencontainers/go-digest:
/// a registered algorithm with the right number of lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: String,
    hex: String,
}

/// Why a reference or digest is invalid. Messages follow the upstream
/// wording so that a reviewer can look them up.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RefError {
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid reference format: repository name must be lowercase")]
    NameContainsUppercase,
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("invalid checksum digest length")]
    DigestLength,
    #[error("invalid checksum digest format")]
    DigestFormat,
}

impl Digest {
    /// Parses `algorithm:hex`.
    pub fn parse(s: &str) -> Result<Digest, RefError> {
        let (alg, hex) = s.split_once(':').ok_or(RefError::InvalidFormat)?;
        if !digest_algorithm_ok(alg)
            || hex.len() < 32
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(RefError::InvalidFormat);
        }
        let want = match alg {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return Err(RefError::UnsupportedAlgorithm(alg.to_string())),
        };
        if hex.len() != want {
            return Err(RefError::DigestLength);
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(RefError::DigestFormat);
        }
        Ok(Digest {
            algorithm: alg.to_string(),
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        Digest {
            algorithm: "sha256".into(),
            hex: crate::util::sha256_hex(data),
        }
    }

    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    pub fn is_sha256(&self) -> bool {
        self.algorithm == "sha256"
    }

    /// Whether `data` hashes to this digest (only sha256 is computed; any
    /// other algorithm never matches).
    pub fn matches(&self, data: &[u8]) -> bool {
        self.is_sha256() && crate::util::sha256_hex(data) == self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// `digest-algorithm := component [separator component]*`,
/// `component := [A-Za-z][A-Za-z0-9]*`, `separator := [+._-]`.
fn digest_algorithm_ok(s: &str) -> bool {
    let mut expect_start = true;
    for c in s.chars() {
        if expect_start {
            if !c.is_ascii_alphabetic() {
                return false;
            }
            expect_start = false;
        } else if matches!(c, '+' | '.' | '-' | '_') {
            expect_start = true;
        } else if !c.is_ascii_alphanumeric() {
            return false;
        }
    }
    !expect_start
}

// ---------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry domain as named in references (`docker.io`, `ghcr.io`,
    /// `localhost:5000`), after normalisation.
    pub domain: String,
    /// Repository path on the registry (`library/ubuntu`, `vllm/vllm-openai`).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference the way `docker pull` does
    /// (`ParseNormalizedNamed`): Docker Hub is the default registry and
    /// single-component Hub names live under `library/`.
    pub fn parse(s: &str) -> Result<Reference, RefError> {
        if s.is_empty() {
            return Err(RefError::NameEmpty);
        }
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(RefError::HexIdentifier(s.to_string()));
        }
        // Split off `@digest`, then `:tag` (a colon followed by a slash is a port).
        let (name_tag, digest) = match s.split_once('@') {
            Some((nt, d)) => (nt, Some(Digest::parse(d)?)),
            None => (s, None),
        };
        let (name, tag) = match name_tag.rfind(':') {
            Some(i) if !name_tag[i + 1..].contains('/') => {
                (&name_tag[..i], Some(&name_tag[i + 1..]))
            }
            _ => (name_tag, None),
        };
        if let Some(t) = tag {
            if !tag_ok(t) {
                return Err(RefError::InvalidFormat);
            }
        }
        if name.is_empty() {
            return Err(if tag.is_none() && digest.is_none() {
                RefError::NameEmpty
            } else {
                RefError::InvalidFormat
            });
        }
        let (domain, path) = split_docker_domain(name);
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(RefError::NameContainsUppercase);
        }
        if !domain_ok(&domain) || !path_ok(&path) {
            return Err(RefError::InvalidFormat);
        }
        if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(RefError::NameTooLong);
        }
        Ok(Reference {
            domain,
            path,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// `domain/path`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The fully qualified reference (`docker.io/library/ubuntu:22.04@sha256:…`).
    pub fn canonical(&self) -> String {
        let mut s = self.name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }

    /// Host (and port) that serves the registry API for this reference:
    /// `registry-1.docker.io` for Docker Hub, the domain otherwise.
    pub fn registry_host(&self) -> &str {
        if self.domain == DOCKER_HUB {
            DOCKER_HUB_REGISTRY
        } else {
            &self.domain
        }
    }

    /// What `GET /v2/<name>/manifests/<reference>` is asked for: the digest
    /// when pinned, the tag otherwise (`latest` when neither is given).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Docker's domain split: the first component is a registry when it contains
/// `.` or `:`, is `localhost`, or contains an upper-case letter (repository
/// paths cannot); otherwise the name is on Docker Hub.
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    if domain == DOCKER_HUB_LEGACY {
        domain = DOCKER_HUB.to_string();
    }
    if domain == DOCKER_HUB && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

/// `tag := [\w][\w.-]{0,127}`.
fn tag_ok(t: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if word(c) => {}
        _ => return false,
    }
    t.len() <= 128 && chars.all(|c| word(c) || c == '.' || c == '-')
}

/// `host [':' port]`, host a domain name, an IPv4 address (a domain name
/// lexically) or a bracketed IPv6 address.
fn domain_ok(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("[v6]", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if host == "[v6]" {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        })
}

/// `path := component ['/' component]*`,
/// `component := [a-z0-9]+ (separator [a-z0-9]+)*`,
/// `separator := [_.] | __ | [-]+`.
fn path_ok(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(path_component_ok)
}

fn path_component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        // alpha-numeric run (at least one)
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        // separator
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

// ---------------------------------------------------------------------------
// Manifests, indexes, configs
// ---------------------------------------------------------------------------

/// A platform as written in an index descriptor or an image config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(rename = "os.version", default)]
    pub os_version: Option<String>,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = self.variant.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A content descriptor, as it appears in manifests and indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

impl RawDescriptor {
    fn typed(self, field: &str) -> Result<Descriptor, ImageError> {
        let digest = Digest::parse(&self.digest).map_err(|e| ImageError::Malformed {
            what: field.to_string(),
            reason: format!("digest {:?}: {e}", self.digest),
        })?;
        let size = u64::try_from(self.size).map_err(|_| ImageError::Malformed {
            what: field.to_string(),
            reason: format!("negative size {}", self.size),
        })?;
        Ok(Descriptor {
            media_type: self.media_type.unwrap_or_default(),
            digest,
            size,
            platform: self.platform,
            annotations: self.annotations.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// An index (OCI image index or Docker manifest list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

/// A single-platform image manifest (OCI or Docker v2 schema 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub annotations: BTreeMap<String, String>,
}

/// A parsed top-level manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Index(Index),
    Image(ImageManifest),
}

impl Manifest {
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Index(i) => &i.media_type,
            Manifest::Image(m) => &m.media_type,
        }
    }
}

/// Human name of a media type for summaries.
pub fn media_type_name(mt: &str) -> &'static str {
    match mt {
        media::OCI_INDEX => "OCI image index",
        media::DOCKER_LIST => "Docker manifest list",
        media::OCI_MANIFEST => "OCI image manifest",
        media::DOCKER_MANIFEST => "Docker v2 manifest",
        _ => "manifest",
    }
}

/// Why image evidence does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ImageError {
    #[error("{what} not captured")]
    Missing { what: String },
    #[error("{what} is {size} bytes, over the {max}-byte cap")]
    TooLarge {
        what: String,
        size: usize,
        max: usize,
    },
    #[error("{what} hashes to {actual}, expected {expected}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what} is {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("{what} is malformed: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what} has unsupported media type {media_type:?}")]
    Unsupported { what: String, media_type: String },
    #[error("index has no linux/amd64 image manifest (platforms: {available})")]
    NoPlatform { available: String },
    #[error("{what} is for platform {actual}, expected linux/amd64")]
    WrongPlatform { what: String, actual: String },
}

impl ImageError {
    /// Whether the problem is missing evidence (judged by the protocol's
    /// evidence requirement) rather than evidence that contradicts the
    /// attested digest (always a failure).
    pub fn is_missing(&self) -> bool {
        matches!(self, ImageError::Missing { .. })
    }
}

/// Parses manifest bytes into an index or an image manifest. The kind comes
/// from `mediaType` when present (OCI makes it optional) and otherwise from
/// the shape (`manifests` → index, `config` + `layers` → image manifest).
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<Manifest, ImageError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ImageError::TooLarge {
            what: what.into(),
            size: bytes.len(),
            max: MAX_MANIFEST_BYTES,
        });
    }
    let mal = |reason: String| ImageError::Malformed {
        what: what.into(),
        reason,
    };
    let raw: RawManifest = serde_json::from_slice(bytes).map_err(|e| mal(e.to_string()))?;
    let mt = raw.media_type.clone().unwrap_or_default();
    if mt == media::DOCKER_V1 || mt == media::DOCKER_V1_SIGNED || raw.schema_version == Some(1) {
        return Err(ImageError::Unsupported {
            what: what.into(),
            media_type: if mt.is_empty() {
                "Docker schema 1".into()
            } else {
                mt
            },
        });
    }
    if raw.schema_version != Some(2) {
        return Err(mal(format!(
            "schemaVersion {:?}, expected 2",
            raw.schema_version
        )));
    }
    let is_index = match mt.as_str() {
        media::OCI_INDEX | media::DOCKER_LIST => true,
        media::OCI_MANIFEST | media::DOCKER_MANIFEST => false,
        "" if raw.manifests.is_some() && raw.config.is_none() => true,
        "" if raw.config.is_some() && raw.manifests.is_none() => false,
        "" => {
            return Err(mal(
                "no mediaType and neither an index nor a manifest shape".into(),
            ))
        }
        other => {
            return Err(ImageError::Unsupported {
                what: what.into(),
                media_type: other.into(),
            })
        }
    };
    let annotations = raw.annotations.unwrap_or_default();
    if is_index {
        let list = raw
            .manifests
            .ok_or_else(|| mal("index without `manifests`".into()))?;
        let manifests = list
            .into_iter()
            .enumerate()
            .map(|(i, d)| d.typed(&format!("{what} manifests[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest::Index(Index {
            media_type: if mt.is_empty() {
                media::OCI_INDEX.into()
            } else {
                mt
            },
            manifests,
            annotations,
        }))
    } else {
        let config = raw
            .config
            .ok_or_else(|| mal("manifest without `config`".into()))?
            .typed(&format!("{what} config"))?;
        let layers = raw
            .layers
            .ok_or_else(|| mal("manifest without `layers`".into()))?
            .into_iter()
            .enumerate()
            .map(|(i, d)| d.typed(&format!("{what} layers[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest::Image(ImageManifest {
            media_type: if mt.is_empty() {
                media::OCI_MANIFEST.into()
            } else {
                mt
            },
            config,
            layers,
            annotations,
        }))
    }
}

/// The part of an image config a reviewer reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageConfig {
    pub created: Option<String>,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<RawRunConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRunConfig {
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

/// Parses an image config (OCI or Docker).
pub fn parse_config(bytes: &[u8], what: &str) -> Result<ImageConfig, ImageError> {
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ImageError::TooLarge {
            what: what.into(),
            size: bytes.len(),
            max: MAX_CONFIG_BYTES,
        });
    }
    let raw: RawConfig = serde_json::from_slice(bytes).map_err(|e| ImageError::Malformed {
        what: what.into(),
        reason: e.to_string(),
    })?;
    let rc = raw.config.unwrap_or(RawRunConfig {
        labels: None,
        entrypoint: None,
        cmd: None,
        working_dir: None,
        user: None,
    });
    Ok(ImageConfig {
        created: raw.created,
        architecture: raw.architecture.unwrap_or_default(),
        os: raw.os.unwrap_or_default(),
        variant: raw.variant.filter(|v| !v.is_empty()),
        labels: rc.labels.unwrap_or_default(),
        entrypoint: rc.entrypoint,
        cmd: rc.cmd,
        working_dir: rc.working_dir.filter(|w| !w.is_empty()),
        user: rc.user.filter(|u| !u.is_empty()),
    })
}

/// Picks the `linux/amd64` image manifest of an index. Candidates are
/// descriptors with `os` linux, `architecture` amd64 and an image-manifest
/// media type (nested indexes and attestation manifests, whose platform is
/// `unknown/unknown`, never qualify). Among candidates one without a variant
/// (or with `v1`, the baseline) is preferred, then the first in index order:
/// this is what containerd's default platform matcher picks on a baseline
/// x86-64 host. Returns the descriptor's position in `manifests`.
pub fn select_platform(index: &Index) -> Result<usize, ImageError> {
    let candidates: Vec<usize> = index
        .manifests
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == PLATFORM_OS && p.architecture == PLATFORM_ARCH)
                && matches!(
                    d.media_type.as_str(),
                    media::OCI_MANIFEST | media::DOCKER_MANIFEST | ""
                )
        })
        .map(|(i, _)| i)
        .collect();
    let baseline = candidates.iter().copied().find(|&i| {
        index.manifests[i]
            .platform
            .as_ref()
            .and_then(|p| p.variant.as_deref())
            .is_none_or(|v| v.is_empty() || v == "v1")
    });
    baseline
        .or_else(|| candidates.first().copied())
        .ok_or_else(|| ImageError::NoPlatform {
            available: platforms_of(index).join(", "),
        })
}

/// Platforms named by an index, in order (`?` for descriptors without one).
pub fn platforms_of(index: &Index) -> Vec<String> {
    index
        .manifests
        .iter()
        .map(|d| match &d.platform {
            Some(p) => p.to_string(),
            None => "?".into(),
        })
        .collect()
}

/// Checks that `bytes` are what `desc` describes (digest and size).
pub fn check_descriptor(desc: &Descriptor, bytes: &[u8], what: &str) -> Result<(), ImageError> {
    if !desc.digest.is_sha256() {
        return Err(ImageError::Malformed {
            what: what.into(),
            reason: format!(
                "descriptor digest algorithm {} is not supported (sha256 only)",
                desc.digest.algorithm()
            ),
        });
    }
    let actual = Digest::sha256_of(bytes);
    if actual != desc.digest {
        return Err(ImageError::DigestMismatch {
            what: what.into(),
            expected: desc.digest.to_string(),
            actual: actual.to_string(),
        });
    }
    if bytes.len() as u64 != desc.size {
        return Err(ImageError::SizeMismatch {
            what: what.into(),
            expected: desc.size,
            actual: bytes.len() as u64,
        });
    }
    Ok(())
}

/// What a verified image is, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageFacts {
    /// Media type of the manifest the attested digest names.
    pub media_type: String,
    /// Platforms of the index (empty for a single manifest).
    pub platforms: Vec<String>,
    /// The linux/amd64 child picked from an index.
    pub child: Option<Descriptor>,
    /// Media type of the image manifest (the child's for an index).
    pub image_media_type: String,
    pub config_digest: Option<Digest>,
    pub config: ImageConfig,
    pub layer_count: usize,
    /// Sum of the layer descriptors' sizes (compressed bytes).
    pub layer_total_size: u64,
}

/// Verifies a captured image offline. `blob` looks up bytes by digest (from
/// the bundle's `blobs/sha256/` tree); `attested` is the digest from the
/// attested command line. Errors say which blob failed and why.
///
/// Returns the facts gathered so far together with the first error, so that
/// a failing result can still show the media type and platforms.
pub fn verify_image<'a>(
    attested: &Digest,
    blob: &dyn Fn(&Digest) -> Option<&'a [u8]>,
) -> (ImageFacts, Result<(), ImageError>) {
    let mut facts = ImageFacts::default();
    let r = verify_into(attested, blob, &mut facts);
    (facts, r)
}

fn verify_into<'a>(
    attested: &Digest,
    blob: &dyn Fn(&Digest) -> Option<&'a [u8]>,
    facts: &mut ImageFacts,
) -> Result<(), ImageError> {
    if !attested.is_sha256() {
        return Err(ImageError::Unsupported {
            what: "attested digest".into(),
            media_type: format!("{} (only sha256 is verified)", attested.algorithm()),
        });
    }
    let top = blob(attested).ok_or_else(|| ImageError::Missing {
        what: format!("manifest {attested}"),
    })?;
    if top.len() > MAX_MANIFEST_BYTES {
        return Err(ImageError::TooLarge {
            what: "manifest".into(),
            size: top.len(),
            max: MAX_MANIFEST_BYTES,
        });
    }
    let actual = Digest::sha256_of(top);
    if &actual != attested {
        return Err(ImageError::DigestMismatch {
            what: "manifest".into(),
            expected: attested.to_string(),
            actual: actual.to_string(),
        });
    }
    let manifest = parse_manifest(top, "manifest")?;
    facts.media_type = manifest.media_type().to_string();
    let image = match manifest {
        Manifest::Image(m) => m,
        Manifest::Index(idx) => {
            facts.platforms = platforms_of(&idx);
            let i = select_platform(&idx)?;
            let desc = idx.manifests[i].clone();
            facts.child = Some(desc.clone());
            let what = format!("linux/amd64 manifest {}", desc.digest);
            let bytes =
                blob(&desc.digest).ok_or_else(|| ImageError::Missing { what: what.clone() })?;
            check_descriptor(&desc, bytes, &what)?;
            match parse_manifest(bytes, &what)? {
                Manifest::Image(m) => {
                    if !desc.media_type.is_empty() && desc.media_type != m.media_type {
                        return Err(ImageError::Malformed {
                            what,
                            reason: format!(
                                "media type {} but its index descriptor says {}",
                                m.media_type, desc.media_type
                            ),
                        });
                    }
                    m
                }
                Manifest::Index(_) => {
                    return Err(ImageError::Unsupported {
                        what,
                        media_type: "nested index".into(),
                    })
                }
            }
        }
    };
    facts.image_media_type = image.media_type.clone();
    facts.layer_count = image.layers.len();
    facts.layer_total_size = image
        .layers
        .iter()
        .fold(0u64, |a, l| a.saturating_add(l.size));
    facts.config_digest = Some(image.config.digest.clone());
    let what = format!("config {}", image.config.digest);
    let cbytes =
        blob(&image.config.digest).ok_or_else(|| ImageError::Missing { what: what.clone() })?;
    check_descriptor(&image.config, cbytes, &what)?;
    facts.config = parse_config(cbytes, &what)?;
    let c = &facts.config;
    if c.os != PLATFORM_OS || c.architecture != PLATFORM_ARCH {
        let mut actual = format!("{}/{}", c.os, c.architecture);
        if let Some(v) = &c.variant {
            actual.push('/');
            actual.push_str(v);
        }
        return Err(ImageError::WrongPlatform { what, actual });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Evidence layout and the per-image record
// ---------------------------------------------------------------------------

/// Bundle paths of image evidence (under `evidence/`, i.e. relative paths as
/// given to `BundleBuilder::add`; prefix with `evidence/` to read).
pub mod layout {
    /// OCI image-layout marker.
    pub const OCI_LAYOUT: &str = "images/oci-layout";
    /// Content of the marker.
    pub const OCI_LAYOUT_CONTENT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";
    /// Blobs by digest: `images/blobs/sha256/<hex>`.
    pub const BLOBS: &str = "images/blobs/sha256/";
    /// Per-image records: `images/refs/<name>.json`.
    pub const REFS: &str = "images/refs/";

    /// Relative path of a sha256 blob.
    pub fn blob(hex: &str) -> String {
        format!("{BLOBS}{hex}")
    }

    /// Relative path of the record for an image subject (a parameter name
    /// such as `blyss_docker_img`, or a reference). Subjects that are not a
    /// safe file name are named by the sha256 of the subject.
    pub fn record(subject: &str) -> String {
        let safe = !subject.is_empty()
            && subject.len() <= 64
            && subject
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if safe {
            format!("{REFS}{subject}.json")
        } else {
            format!(
                "{REFS}ref-{}.json",
                &crate::util::sha256_hex(subject.as_bytes())[..16]
            )
        }
    }
}

/// Schema id of a per-image record.
pub const RECORD_SCHEMA: &str = "blyss-evidence.image-record/v1";

/// One blob the collector fetched, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedBlob {
    /// What was asked for (`sha256:…` or a tag).
    pub requested: String,
    /// sha256 of the bytes received (the blob's name in `blobs/sha256/`).
    pub digest: String,
    pub size: u64,
    /// `Content-Type` the registry sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// URL the bytes came from.
    pub url: String,
}

/// The small per-image record the collector writes beside the blobs. The
/// audit never trusts it for verification (it re-derives everything from
/// the attested digest and the blobs); it names the reference, where the
/// bytes came from and what went wrong during collection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    pub schema: String,
    /// Command-line parameter the image came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The reference as attested.
    pub reference: String,
    /// Normalised reference (`docker.io/library/…`).
    pub canonical: String,
    /// Registry host contacted (after `--registry-mirror`).
    pub registry: String,
    pub platform: String,
    /// The manifest the reference names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<RecordedBlob>,
    /// The linux/amd64 child of an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<RecordedBlob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RecordedBlob>,
    /// Problems met while collecting (sorted as met).
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Largest per-image collection record read (a real one is under 4 KiB):
/// checked before `serde_json` builds anything.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

impl ImageRecord {
    pub fn parse(bytes: &[u8]) -> Result<ImageRecord, String> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "{} bytes, over the cap of {MAX_RECORD_BYTES} bytes",
                bytes.len()
            ));
        }
        let r: ImageRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.schema != RECORD_SCHEMA {
            return Err(format!("schema {:?}, expected {RECORD_SCHEMA:?}", r.schema));
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn ok(s: &str, domain: &str, path: &str, tag: Option<&str>, digest: Option<&str>) {
        let r = Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(r.domain, domain, "{s}");
        assert_eq!(r.path, path, "{s}");
        assert_eq!(r.tag.as_deref(), tag, "{s}");
        assert_eq!(
            r.digest.as_ref().map(|d| d.to_string()).as_deref(),
            digest,
            "{s}"
        );
    }

    fn err(s: &str, e: RefError) {
        assert_eq!(Reference::parse(s), Err(e), "{s}");
    }

    #[test]
    fn grammar_accepts_upstream_valid_references() {
        let d = format!("sha256:{H64}");
        ok("test_com", "docker.io", "library/test_com", None, None);
        ok(
            "test.com:tag",
            "docker.io",
            "library/test.com",
            Some("tag"),
            None,
        );
        ok(
            "test.com:5000",
            "docker.io",
            "library/test.com",
            Some("5000"),
            None,
        );
        ok("test.com/repo:tag", "test.com", "repo", Some("tag"), None);
        ok("test:5000/repo", "test:5000", "repo", None, None);
        ok("test:5000/repo:tag", "test:5000", "repo", Some("tag"), None);
        ok(
            &format!("test:5000/repo@{d}"),
            "test:5000",
            "repo",
            None,
            Some(&d),
        );
        ok(
            &format!("test:5000/repo:tag@{d}"),
            "test:5000",
            "repo",
            Some("tag"),
            Some(&d),
        );
        ok(
            "lowercase:Uppercase",
            "docker.io",
            "library/lowercase",
            Some("Uppercase"),
            None,
        );
        ok(
            "sub-dom1.foo.com/bar/baz/quux",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            None,
            None,
        );
        ok(
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            Some("some-long-tag"),
            None,
        );
        ok(
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "b.gcr.io",
            "test.example.com/my-app",
            Some("test.example.com"),
            None,
        );
        ok(
            "xn--n3h.com/myimage:xn--n3h.com",
            "xn--n3h.com",
            "myimage",
            Some("xn--n3h.com"),
            None,
        );
        let d512 = format!("sha512:{H64}{H64}");
        ok(
            &format!("xn--7o8h.com/myimage:xn--7o8h.com@{d512}"),
            "xn--7o8h.com",
            "myimage",
            Some("xn--7o8h.com"),
            Some(&d512),
        );
        ok(
            "foo_bar.com:8080",
            "docker.io",
            "library/foo_bar.com",
            Some("8080"),
            None,
        );
        ok(
            "foo/foo_bar.com:8080",
            "docker.io",
            "foo/foo_bar.com",
            Some("8080"),
            None,
        );
        ok(
            "[2001:db8::1]:5000/repo",
            "[2001:db8::1]:5000",
            "repo",
            None,
            None,
        );
        ok(
            "[2001:db8::1]/repo:tag",
            "[2001:db8::1]",
            "repo",
            Some("tag"),
            None,
        );
        ok("localhost/foo", "localhost", "foo", None, None);
        ok(
            "localhost:5000/foo/bar:v1",
            "localhost:5000",
            "foo/bar",
            Some("v1"),
            None,
        );
        ok(
            "a/b__c/d-e--f/g.h",
            "docker.io",
            "a/b__c/d-e--f/g.h",
            None,
            None,
        );
        ok("Docker.example/a", "Docker.example", "a", None, None);
    }

    #[test]
    fn docker_hub_names_are_normalised() {
        ok("ubuntu", "docker.io", "library/ubuntu", None, None);
        ok(
            "docker.io/ubuntu",
            "docker.io",
            "library/ubuntu",
            None,
            None,
        );
        ok(
            "index.docker.io/ubuntu:22.04",
            "docker.io",
            "library/ubuntu",
            Some("22.04"),
            None,
        );
        ok(
            "docker.io/library/ubuntu",
            "docker.io",
            "library/ubuntu",
            None,
            None,
        );
        ok(
            "vllm/vllm-openai",
            "docker.io",
            "vllm/vllm-openai",
            None,
            None,
        );
        let r = Reference::parse("vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f").unwrap();
        assert_eq!(r.registry_host(), "registry-1.docker.io");
        assert_eq!(
            r.canonical(),
            "docker.io/vllm/vllm-openai@sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f"
        );
        assert_eq!(
            r.manifest_reference(),
            "sha256:4f56298007646cbb5bb110f59ea45e2b8abeb2ffb8ce2e856c142eb376bd144f"
        );
        let g = Reference::parse("ghcr.io/org/img:1").unwrap();
        assert_eq!(g.registry_host(), "ghcr.io");
        assert_eq!(g.manifest_reference(), "1");
        assert_eq!(
            Reference::parse("busybox").unwrap().manifest_reference(),
            "latest"
        );
    }

    #[test]
    fn grammar_rejects_upstream_invalid_references() {
        err("", RefError::NameEmpty);
        err(":justtag", RefError::InvalidFormat);
        err(&format!("@sha256:{H64}"), RefError::InvalidFormat);
        err(
            "repo@sha256:ffffffffffffffffffffffffffffffff",
            RefError::DigestLength,
        );
        err("repo@sha256:ffffff", RefError::InvalidFormat);
        err(
            &format!("validname@invaliddigest:{H64}"),
            RefError::UnsupportedAlgorithm("invaliddigest".into()),
        );
        err(
            &format!("repo@sha256:{}", H64.to_uppercase()),
            RefError::DigestFormat,
        );
        err("Uppercase:tag", RefError::NameContainsUppercase);
        err(
            "test:5000/Uppercase/lowercase:tag",
            RefError::NameContainsUppercase,
        );
        err(&format!("{}a:tag", "a/".repeat(128)), RefError::NameTooLong);
        err("aa/asdf$$^/aa", RefError::InvalidFormat);
        err("a/b___c", RefError::InvalidFormat);
        err("a/-b", RefError::InvalidFormat);
        err("a/b-", RefError::InvalidFormat);
        err("a//b", RefError::InvalidFormat);
        err("repo:-tag", RefError::InvalidFormat);
        err(
            &format!("repo:{}", "t".repeat(129)),
            RefError::InvalidFormat,
        );
        err("-bad.com/repo", RefError::InvalidFormat);
        err("bad.com:/repo", RefError::InvalidFormat);
        err("foo:bar:baz", RefError::InvalidFormat);
        err(H64, RefError::HexIdentifier(H64.into()));
        err("repo with space", RefError::InvalidFormat);
    }

    fn blobs(list: &[&[u8]]) -> BTreeMap<Digest, Vec<u8>> {
        list.iter()
            .map(|b| (Digest::sha256_of(b), b.to_vec()))
            .collect()
    }

    fn config(arch: &str) -> Vec<u8> {
        format!(r#"{{"created":"2024-01-02T03:04:05Z","architecture":"{arch}","os":"linux","config":{{"Labels":{{"org.opencontainers.image.source":"https://example.test/src","org.opencontainers.image.revision":"abc123"}},"Entrypoint":["/bin/app"],"Cmd":["--serve"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#).into_bytes()
    }

    fn manifest(mt: &str, cfg: &[u8]) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{mt}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{H64}","size":100}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{H64}","size":23}}]}}"#,
            media::OCI_CONFIG,
            Digest::sha256_of(cfg),
            cfg.len()
        )
        .into_bytes()
    }

    fn index(children: &[(&[u8], &str)]) -> Vec<u8> {
        let m: Vec<String> = children
            .iter()
            .map(|(b, p)| {
                let (os, arch) = p.split_once('/').unwrap();
                format!(
                    r#"{{"mediaType":"{}","digest":"{}","size":{},"platform":{{"os":"{os}","architecture":"{arch}"}}}}"#,
                    media::OCI_MANIFEST,
                    Digest::sha256_of(b),
                    b.len()
                )
            })
            .collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
            media::OCI_INDEX,
            m.join(",")
        )
        .into_bytes()
    }

    fn run(
        attested: &Digest,
        store: &BTreeMap<Digest, Vec<u8>>,
    ) -> (ImageFacts, Result<(), ImageError>) {
        verify_image(attested, &|d| store.get(d).map(|v| v.as_slice()))
    }

    #[test]
    fn single_docker_manifest_verifies_and_yields_facts() {
        let c = config("amd64");
        let m = manifest(media::DOCKER_MANIFEST, &c);
        let (f, r) = run(&Digest::sha256_of(&m), &blobs(&[&c, &m]));
        r.unwrap();
        assert_eq!(f.media_type, media::DOCKER_MANIFEST);
        assert_eq!(f.layer_count, 2);
        assert_eq!(f.layer_total_size, 123);
        assert_eq!(f.config.created.as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(
            f.config.labels["org.opencontainers.image.revision"],
            "abc123"
        );
        assert_eq!(f.config.entrypoint, Some(vec!["/bin/app".to_string()]));
        assert_eq!(f.config.cmd, Some(vec!["--serve".to_string()]));
    }

    #[test]
    fn index_picks_linux_amd64_child() {
        let ca = config("amd64");
        let cb = config("arm64");
        let ma = manifest(media::OCI_MANIFEST, &ca);
        let mb = manifest(media::OCI_MANIFEST, &cb);
        let idx = index(&[(&mb, "linux/arm64"), (&ma, "linux/amd64")]);
        let (f, r) = run(
            &Digest::sha256_of(&idx),
            &blobs(&[&ca, &cb, &ma, &mb, &idx]),
        );
        r.unwrap();
        assert_eq!(f.platforms, vec!["linux/arm64", "linux/amd64"]);
        assert_eq!(f.child.unwrap().digest, Digest::sha256_of(&ma));
    }

    #[test]
    fn tampered_manifest_fails_on_digest() {
        let c = config("amd64");
        let m = manifest(media::OCI_MANIFEST, &c);
        let attested = Digest::sha256_of(&m);
        let mut store = blobs(&[&c]);
        let mut t = m.clone();
        t[20] ^= 1;
        store.insert(attested.clone(), t);
        let (_, r) = run(&attested, &store);
        assert!(matches!(r, Err(ImageError::DigestMismatch { .. })), "{r:?}");
    }

    #[test]
    fn index_without_amd64_fails_naming_platforms() {
        let cb = config("arm64");
        let mb = manifest(media::OCI_MANIFEST, &cb);
        let idx = index(&[(&mb, "linux/arm64"), (&mb, "windows/amd64")]);
        let (_, r) = run(&Digest::sha256_of(&idx), &blobs(&[&cb, &mb, &idx]));
        assert_eq!(
            r,
            Err(ImageError::NoPlatform {
                available: "linux/arm64, windows/amd64".into()
            })
        );
    }

    #[test]
    fn platform_choice_prefers_baseline_amd64_and_skips_attestations() {
        let d = |n: u8| format!("sha256:{}", format!("{n:02x}").repeat(32));
        let idx = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
            {{"mediaType":"{m}","digest":"{}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}}}},
            {{"mediaType":"{m}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64","variant":"v3"}}}},
            {{"mediaType":"{}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"{m}","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
            media::OCI_INDEX,
            d(1),
            d(2),
            media::OCI_INDEX,
            d(3),
            d(4),
            m = media::OCI_MANIFEST
        );
        let Manifest::Index(i) = parse_manifest(idx.as_bytes(), "i").unwrap() else {
            panic!("not an index")
        };
        // The nested index (3) does not qualify; the baseline manifest (4) wins over v3 (2).
        assert_eq!(select_platform(&i).unwrap(), 3);
        assert_eq!(
            platforms_of(&i),
            [
                "unknown/unknown",
                "linux/amd64/v3",
                "linux/amd64",
                "linux/amd64"
            ]
        );
        let only_v3 = Index {
            manifests: vec![i.manifests[0].clone(), i.manifests[1].clone()],
            ..i.clone()
        };
        assert_eq!(select_platform(&only_v3).unwrap(), 1);
    }

    #[test]
    fn child_size_mismatch_fails() {
        let ca = config("amd64");
        let ma = manifest(media::OCI_MANIFEST, &ca);
        let idx = String::from_utf8(index(&[(&ma, "linux/amd64")]))
            .unwrap()
            .replace(
                &format!("\"size\":{}", ma.len()),
                &format!("\"size\":{}", ma.len() + 1),
            )
            .into_bytes();
        let (_, r) = run(&Digest::sha256_of(&idx), &blobs(&[&ca, &ma, &idx]));
        assert!(matches!(r, Err(ImageError::SizeMismatch { .. })), "{r:?}");
    }

    #[test]
    fn config_tamper_and_wrong_platform_fail() {
        let c = config("amd64");
        let m = manifest(media::OCI_MANIFEST, &c);
        let mut store = blobs(&[&m]);
        let mut t = c.clone();
        t[5] ^= 1;
        store.insert(Digest::sha256_of(&c), t);
        let (_, r) = run(&Digest::sha256_of(&m), &store);
        assert!(matches!(r, Err(ImageError::DigestMismatch { .. })), "{r:?}");

        let c = config("arm64");
        let m = manifest(media::OCI_MANIFEST, &c);
        let (_, r) = run(&Digest::sha256_of(&m), &blobs(&[&c, &m]));
        assert!(matches!(r, Err(ImageError::WrongPlatform { .. })), "{r:?}");
    }

    #[test]
    fn missing_blobs_are_reported_as_missing() {
        let c = config("amd64");
        let m = manifest(media::OCI_MANIFEST, &c);
        let (_, r) = run(&Digest::sha256_of(&m), &blobs(&[]));
        assert!(r.unwrap_err().is_missing());
        let (f, r) = run(&Digest::sha256_of(&m), &blobs(&[&m]));
        assert!(r.unwrap_err().is_missing());
        assert_eq!(f.layer_count, 2);
    }

    #[test]
    fn malformed_and_oversized_manifests_are_errors_not_panics() {
        for bad in [&b"{"[..], b"[]", b"null", b"{\"schemaVersion\":2}", b"{\"schemaVersion\":1}", b"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"digest\":\"x\",\"size\":1}]}", b"{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:00\",\"size\":-1},\"layers\":[]}"] {
            let (_, r) = run(&Digest::sha256_of(bad), &blobs(&[bad]));
            assert!(matches!(r, Err(ImageError::Malformed { .. } | ImageError::Unsupported { .. })), "{r:?}");
        }
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        let (_, r) = run(&Digest::sha256_of(&big), &blobs(&[&big]));
        assert!(matches!(r, Err(ImageError::TooLarge { .. })), "{r:?}");
    }

    #[test]
    fn manifest_without_media_type_is_judged_by_shape() {
        let c = config("amd64");
        let m = String::from_utf8(manifest(media::OCI_MANIFEST, &c))
            .unwrap()
            .replace(&format!("\"mediaType\":\"{}\",", media::OCI_MANIFEST), "")
            .into_bytes();
        match parse_manifest(&m, "m").unwrap() {
            Manifest::Image(i) => assert_eq!(i.media_type, media::OCI_MANIFEST),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn record_paths_are_safe() {
        assert_eq!(
            layout::record("blyss_docker_img"),
            "images/refs/blyss_docker_img.json"
        );
        let p = layout::record("../../etc/passwd");
        assert!(
            p.starts_with("images/refs/ref-") && !p.contains(".."),
            "{p}"
        );
    }
}
