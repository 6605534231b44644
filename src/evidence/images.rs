//! The container images an attestation document's kernel command line
//! names (`blyss_docker_img=…` and friends).
//!
//! Why here and not in `checks`: `collect` fetches registry evidence for
//! exactly these images and `checks::images` judges exactly these images;
//! both read them from the document through this one function, which
//! belongs with the evidence parsers (it only parses, it judges nothing).

/// An image named by the attested command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedImage {
    /// Command-line parameter (`blyss_docker_img`), when known.
    pub param: Option<String>,
    /// The reference exactly as attested.
    pub reference: String,
}

impl AttestedImage {
    /// Result subject and record name: the parameter, or the reference.
    pub fn subject(&self) -> &str {
        self.param.as_deref().unwrap_or(&self.reference)
    }
}

/// Images of the attested command line, and image parameters that are
/// missing, repeated or unparsable (parameter, why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestedImages {
    pub images: Vec<AttestedImage>,
    pub errors: Vec<(String, String)>,
}

/// The images an attestation document's command line names, in the order
/// of `evidence::cmdline::IMAGE_PARAMS` (shared with the collector, so that
/// collect fetches exactly what audit judges).
pub fn attested_images_of(
    doc: &crate::evidence::attestation::AttestationDocument,
) -> Result<AttestedImages, String> {
    use crate::evidence::cmdline::{Cmdline, CmdlineError};
    let launch = doc
        .launch
        .as_ref()
        .ok_or("the attestation evidence has no kernel command line")?;
    let c = Cmdline::parse(&launch.kernel_cli).map_err(|e| format!("kernel command line: {e}"))?;
    Ok(AttestedImages {
        images: c
            .images
            .iter()
            .map(|i| AttestedImage {
                param: Some(i.param.clone()),
                reference: i.reference.clone(),
            })
            .collect(),
        errors: c
            .image_errors
            .iter()
            .map(|e| match e {
                CmdlineError::Param { param, reason } => (param.clone(), reason.clone()),
                other => (String::new(), other.to_string()),
            })
            .collect(),
    })
}
