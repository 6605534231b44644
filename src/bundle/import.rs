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
    /// NVIDIA's evidence interchange JSON, stored as received under
    /// `evidence/gpu/nvidia-evidence.json` (see `evidence::gpu::nvidia`).
    pub gpu_evidence: Option<&'a Path>,
    /// NVIDIA's interchange JSON for NVSwitches (`arch` `LS10`), stored as
    /// received under `evidence/gpu/nvidia-switch-evidence.json`.
    pub switch_evidence: Option<&'a Path>,
    /// Reference manifests for that evidence (GPU driver/VBIOS RIMs and
    /// switch-BIOS RIMs alike), each stored as
    /// `evidence/gpu/rims/<file name>`.
    pub rims: Vec<&'a Path>,
    /// OCSP responses for that evidence's chains, each stored as received
    /// as `evidence/gpu/ocsp/<file name>` (see `evidence::gpu::ocsp`).
    pub ocsp: Vec<&'a Path>,
    /// A Tinfoil enclave's attestation bundle (`attestation-bundle.json`),
    /// stored as received under `evidence/tinfoil/attestation-bundle.json`
    /// and decoded only at audit time (`evidence::tinfoil`).
    pub tinfoil_bundle: Option<&'a Path>,
}

/// Reads at most `cap` bytes; a longer file is refused before it is
/// parsed (or held in memory beyond the cap).
fn read_capped(p: &Path, cap: usize) -> Result<Vec<u8>, BundleError> {
    use std::io::Read;
    let io = |e| BundleError::Io {
        path: p.display().to_string(),
        source: e,
    };
    let mut buf = Vec::new();
    std::fs::File::open(p)
        .map_err(io)?
        .take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() > cap {
        return Err(BundleError::Evidence(format!(
            "{}: larger than its {cap}-byte cap",
            p.display()
        )));
    }
    Ok(buf)
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
    if req.gpu_evidence.is_none() && req.switch_evidence.is_none() && !req.rims.is_empty() {
        return Err(BundleError::Evidence(
            "--rim goes with --gpu-evidence or --switch-evidence".into(),
        ));
    }
    if req.gpu_evidence.is_none() && req.switch_evidence.is_none() && !req.ocsp.is_empty() {
        return Err(BundleError::Evidence(
            "--ocsp goes with --gpu-evidence or --switch-evidence".into(),
        ));
    }
    if req.gpu_evidence.is_some() || req.switch_evidence.is_some() {
        use crate::evidence::gpu::{nvidia, DeviceKind};
        if req.rims.len() > nvidia::MAX_RIMS {
            return Err(BundleError::Evidence(format!(
                "{} RIMs given, more than {}",
                req.rims.len(),
                nvidia::MAX_RIMS
            )));
        }
        let mut rims = Vec::new();
        for r in &req.rims {
            let name = r
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| BundleError::BadMemberPath(r.display().to_string()))?;
            let text = read_capped(r, nvidia::MAX_RIM)?;
            rims.push((name.to_string(), text));
        }
        let texts: Vec<(String, String)> = rims
            .iter()
            .map(|(n, t)| (n.clone(), String::from_utf8_lossy(t).into_owned()))
            .collect();
        for (kind, file) in [
            (DeviceKind::Gpu, req.gpu_evidence),
            (DeviceKind::Switch, req.switch_evidence),
        ] {
            let Some(f) = file else { continue };
            let bytes = read_capped(f, nvidia::MAX_FILE)?;
            // Refuse a file no device can be read from; per-device problems
            // (a bad signature, a missing RIM) are the audit's to report.
            nvidia::parse_as(kind, &bytes, &texts, 0)
                .map_err(|e| BundleError::Evidence(format!("{}: {e}", f.display())))?;
            b.add(nvidia::member_of(kind), bytes, Source::file(at))?;
        }
        for (name, text) in rims {
            b.add(
                &format!("{}{name}", nvidia::RIM_DIR),
                text,
                Source::file(at),
            )?;
        }
        add_ocsp(b, &req.ocsp, at)?;
    }
    if let Some(t) = req.tinfoil_bundle {
        use crate::evidence::tinfoil;
        if req.attestation.is_some() || req.report.is_some() {
            // One interpretation per bundle: a second SNP report beside the
            // Tinfoil one would leave the audit to choose.
            return Err(BundleError::Evidence(
                "--tinfoil-bundle carries its own SNP report: give it without --attestation or --report".into(),
            ));
        }
        let bytes = read_capped(t, tinfoil::MAX_FILE)?;
        // Refuse a file no report can be read from (or TDX evidence, not
        // supported yet); the Sigstore bundle inside is the audit's to judge.
        tinfoil::TinfoilBundle::parse(&bytes)
            .map_err(|e| BundleError::Evidence(format!("{}: {e}", t.display())))?;
        let rel = tinfoil::MEMBER
            .strip_prefix("evidence/")
            .expect("member under evidence/");
        b.add(rel, bytes, Source::file(at))?;
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

/// Stores OCSP responses as received under `evidence/gpu/ocsp/`, after the
/// count and size caps and a parse (a file that is not an OCSP response at
/// all is refused here; whether it verifies is the audit's to say).
fn add_ocsp(b: &mut BundleBuilder, files: &[&Path], at: OffsetDateTime) -> Result<(), BundleError> {
    use crate::evidence::gpu::ocsp;
    if files.len() > ocsp::MAX_MEMBERS {
        return Err(BundleError::Evidence(format!(
            "{} OCSP responses given, more than {}",
            files.len(),
            ocsp::MAX_MEMBERS
        )));
    }
    for f in files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BundleError::BadMemberPath(f.display().to_string()))?;
        let bytes = read_capped(f, ocsp::MAX_MEMBER)?;
        ocsp::Response::parse(name, &bytes)
            .map_err(|e| BundleError::Evidence(format!("{}: {e}", f.display())))?;
        b.add(&format!("{}{name}", ocsp::DIR), bytes, Source::file(at))?;
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
