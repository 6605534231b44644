//! Collector keys: ECDSA P-384, PKCS#8 PEM on disk.

use std::path::{Path, PathBuf};

use p384::ecdsa::{SigningKey, VerifyingKey};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use spki::{DecodePublicKey, EncodePublicKey};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KeyError {
    /// The cause is the error's `source()`, printed once by the CLI's error
    /// chain (not repeated in this message).
    #[error("I/O error on {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a PKCS#8 PEM ECDSA P-384 private key: {reason}")]
    BadPrivate { path: String, reason: String },
    #[error("{path}: not a PEM P-384 public key or sha256 fingerprint: {reason}")]
    BadPublic { path: String, reason: String },
    #[error(
        "{path} holds a PRIVATE key where a public key is expected: pass the public key \
         (e.g. `collector.key.pub`); never hand a private key to a verifier"
    )]
    PrivateWherePublic { path: String },
    #[error("no home directory to keep the default collector key in; pass --key")]
    NoHome,
}

/// Generates a new random signing key.
pub fn generate() -> SigningKey {
    SigningKey::random(&mut rand_core::OsRng)
}

/// PKCS#8 PEM of a signing key.
pub fn private_pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF)
        .expect("P-384 keys always encode")
        .to_string()
}

/// SPKI PEM of a verifying key.
pub fn public_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("P-384 keys always encode")
}

/// Fingerprint (= DSSE keyid): sha256 of the SPKI DER, hex.
pub fn fingerprint(key: &VerifyingKey) -> String {
    super::dsse::keyid(key)
}

/// Parses a PKCS#8 PEM private key.
pub fn parse_private(pem: &str, path: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::BadPrivate {
        path: path.into(),
        reason: e.to_string(),
    })
}

/// Loads a PKCS#8 PEM private key from a file.
pub fn load_private(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    parse_private(&pem, &path.display().to_string())
}

/// Whether PEM text holds a private key block (any `… PRIVATE KEY`
/// label: PKCS#8, SEC1, encrypted), wherever it is in the text.
pub fn holds_private_key(pem: &[u8]) -> bool {
    pem.windows(b"PRIVATE KEY-----".len())
        .any(|w| w == b"PRIVATE KEY-----")
}

/// Parses a public key PEM (SPKI). A private key is refused, not quietly
/// reduced to its public half: where a public key is expected (`--signer`,
/// `signer.pem`) a private key means it is being shared by mistake.
pub fn parse_public(pem: &str, path: &str) -> Result<VerifyingKey, KeyError> {
    if holds_private_key(pem.as_bytes()) {
        return Err(KeyError::PrivateWherePublic { path: path.into() });
    }
    VerifyingKey::from_public_key_pem(pem).map_err(|e| KeyError::BadPublic {
        path: path.into(),
        reason: e.to_string(),
    })
}

/// Writes a key pair: `path` (0600, PKCS#8) and `path.pub` (SPKI PEM).
pub fn write_pair(key: &SigningKey, path: &Path) -> Result<PathBuf, KeyError> {
    let io = |p: &Path, e| KeyError::Io {
        path: p.display().to_string(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
    }
    let private = private_pem(key);
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| io(path, e))?;
        f.write_all(private.as_bytes()).map_err(|e| io(path, e))?;
    }
    let pub_path = pub_path(path);
    std::fs::write(&pub_path, public_pem(key.verifying_key())).map_err(|e| io(&pub_path, e))?;
    Ok(pub_path)
}

/// `collector.key` → `collector.key.pub`.
pub fn pub_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// The per-user default key: `$XDG_CONFIG_HOME/blyss-evidence/collector.key`
/// (or `~/.config/…`).
pub fn default_key_path() -> Result<PathBuf, KeyError> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("blyss-evidence/collector.key"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(KeyError::NoHome)?;
    Ok(PathBuf::from(home).join(".config/blyss-evidence/collector.key"))
}

/// Loads the default key, creating it on first use. Returns the key and
/// whether it was just created (the CLI says so).
pub fn load_or_create_default() -> Result<(SigningKey, PathBuf, bool), KeyError> {
    let path = default_key_path()?;
    if path.exists() {
        return Ok((load_private(&path)?, path, false));
    }
    let key = generate();
    write_pair(&key, &path)?;
    Ok((key, path, true))
}
