//! Offline import: packs evidence captured elsewhere (a saved
//! `attestation.json`, a raw snpguest report + VCEK, a directory laid out
//! like a bundle's `evidence/` tree) into a bundle builder. No network.

use std::path::Path;

use time::OffsetDateTime;

use super::{BundleBuilder, BundleError, Source};
use crate::evidence::attestation::AttestationDocument;

/// What to import.
#[derive(Debug, Default, Clone)]
pub struct ImportRequest<'a> {
    pub attestation: Option<&'a Path>,
    pub report: Option<&'a Path>,
    pub vcek: Option<&'a Path>,
    pub from_dir: Option<&'a Path>,
    /// Local firmware images, each added as `evidence/firmware/<file name>`
    /// (the audit checks it against the protocol's pinned sha256 and
    /// descriptor, and recomputes the measurement from it).
    pub firmware: Vec<&'a Path>,
}

fn read(p: &Path) -> Result<Vec<u8>, BundleError> {
    std::fs::read(p).map_err(|e| BundleError::Io {
        path: p.display().to_string(),
        source: e,
    })
}

/// Adds the requested files to `b`, validating the attestation evidence
/// first so that a malformed document never becomes a bundle.
pub fn import_into(
    b: &mut BundleBuilder,
    req: &ImportRequest,
    at: OffsetDateTime,
) -> Result<(), BundleError> {
    if let Some(dir) = req.from_dir {
        add_dir(b, dir, dir, at)?;
    }
    if let Some(a) = req.attestation {
        let bytes = read(a)?;
        AttestationDocument::parse_json(&bytes)
            .map_err(|e| BundleError::Evidence(format!("{}: {e}", a.display())))?;
        b.add("attestation.json", bytes, Source::file(at))?;
    }
    match (req.report, req.vcek) {
        (Some(r), Some(v)) => {
            let report = read(r)?;
            let vcek = read(v)?;
            let doc = AttestationDocument::from_raw(&report, &vcek)
                .map_err(|e| BundleError::Evidence(format!("{}: {e}", r.display())))?;
            let ext = if vcek.starts_with(b"-----BEGIN") {
                "pem"
            } else {
                "der"
            };
            // The key is recorded under the name of the kind the report's
            // SIGNING_KEY claims (`snp/vlek.*` for a VLEK-signed report);
            // the audit checks that the certificate is that kind.
            let name = match crate::evidence::amd::EndorsementKey::claimed_by(
                &crate::evidence::amd::ReportFields::parse(&doc.report),
            ) {
                crate::evidence::amd::EndorsementKey::Vcek => "vcek",
                crate::evidence::amd::EndorsementKey::Vlek => "vlek",
            };
            b.add("snp/report.bin", report, Source::file(at))?;
            b.add(&format!("snp/{name}.{ext}"), vcek, Source::file(at))?;
        }
        (None, None) => {}
        _ => {
            return Err(BundleError::Evidence(
                "--report and --vcek go together".into(),
            ))
        }
    }
    for f in &req.firmware {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BundleError::BadMemberPath(f.display().to_string()))?;
        b.add(&format!("firmware/{name}"), read(f)?, Source::file(at))?;
    }
    Ok(())
}

fn add_dir(
    b: &mut BundleBuilder,
    root: &Path,
    dir: &Path,
    at: OffsetDateTime,
) -> Result<(), BundleError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| BundleError::Io {
            path: dir.display().to_string(),
            source: e,
        })?
        .collect::<Result<_, _>>()
        .map_err(|e| BundleError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let ft = e.file_type().map_err(|err| BundleError::Io {
            path: p.display().to_string(),
            source: err,
        })?;
        if ft.is_symlink() {
            return Err(BundleError::Evidence(format!(
                "{}: symbolic links are not imported",
                p.display()
            )));
        }
        if ft.is_dir() {
            add_dir(b, root, &p, at)?;
        } else {
            let rel = p.strip_prefix(root).expect("walked under root");
            let rel = rel
                .to_str()
                .ok_or_else(|| BundleError::BadMemberPath(rel.display().to_string()))?;
            if rel == "attestation.json" {
                AttestationDocument::parse_json(&read(&p)?)
                    .map_err(|err| BundleError::Evidence(format!("{}: {err}", p.display())))?;
            }
            b.add(rel, read(&p)?, Source::file(at))?;
        }
    }
    Ok(())
}
