//! "What this proves / what it does not prove", per check family, for readers
//! who are not specialists in confidential computing. Shown in the HTML
//! report next to each family's results. The text is static: it describes
//! what a *passing* family establishes, never what this particular audit
//! found (that is what the results say).

/// The plain-language meaning of one family of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Explanation {
    /// One sentence: the question the family answers.
    pub question: &'static str,
    /// What passing checks establish.
    pub proves: &'static [&'static str],
    /// Limits a reader must not read into a pass.
    pub does_not_prove: &'static [&'static str],
}

const BUNDLE: Explanation = Explanation {
    question: "Is this the evidence that was collected, unchanged?",
    proves: &[
        "Every evidence file in the bundle is byte for byte what the collector sealed: nothing was altered, added or removed afterwards.",
        "When the signer is pinned (--signer), the bundle was sealed by that collector key and no other.",
    ],
    does_not_prove: &[
        "That the evidence is true or that the service is trustworthy: the other families check that.",
        "Anything about who made the bundle when the signer is not pinned: anyone can seal a bundle with their own key.",
        "That the recorded collection time and sources are correct: they are the collector's own statements.",
    ],
};

const AMD: Explanation = Explanation {
    question: "Was the attestation report signed by a genuine AMD processor?",
    proves: &[
        "The key that signed the SEV-SNP report (the VCEK) is certified, through AMD's intermediate key (ASK), by the AMD root key (ARK) held in the trust set for that CPU product line.",
        "The certificates were valid at the evaluation time, and not revoked according to the AMD revocation list when one was collected.",
    ],
    does_not_prove: &[
        "More than the trust set allows: the roots come from the trust set, never from the bundle, and a non-production trust set proves nothing about a real service.",
        "That the processor's firmware has no known vulnerabilities: only which security version (TCB) it reports.",
    ],
};

const SNP: Explanation = Explanation {
    question: "What software did the confidential VM start, under which protections?",
    proves: &[
        "A genuine AMD SEV-SNP processor reported the launch measurement of the VM: a hash of the firmware, kernel, initrd and kernel command line it was started with.",
        "That measurement equals the one recomputed from the expected firmware and launch configuration, and the guest policy (for example: debugging disabled) is as required.",
        "The report data field binds the report to the data the service committed to (for example its TLS key).",
    ],
    does_not_prove: &[
        "That the measured software is free of bugs or back doors: the measurement says which software started, not that it is good.",
        "What happened after boot, beyond what the measured software itself enforces.",
        "Anything about the GPU: the SNP report covers the CPU side only.",
    ],
};

const PROTOCOL: Explanation = Explanation {
    question: "Was the VM launched with the configuration this service version promises?",
    proves: &[
        "The measured kernel command line (disk hash, container images, model, options) matches what the protocol file for this service version expects.",
    ],
    does_not_prove: &[
        "That the protocol file itself describes a trustworthy configuration: it records what the operator published.",
        "That the code inside the named containers or the model behaves as advertised.",
    ],
};

const TLS: Explanation = Explanation {
    question: "Does the attested VM itself terminate the TLS connection?",
    proves: &[
        "The TLS certificate the service presented during collection carries the key that the attestation report commits to, so a connection using that certificate ends inside the attested VM.",
        "The certificate chains to a root in the trust set and was valid for the service name at the evaluation time.",
    ],
    does_not_prove: &[
        "That every connection to the domain reaches the attested VM: other valid certificates for the same name may exist (Certificate Transparency is how they can be found).",
        "Anything about connections made at another time than the collection.",
    ],
};

const CT: Explanation = Explanation {
    question: "Was the service's TLS certificate publicly logged?",
    proves: &[
        "The certificate carries valid signed timestamps (SCTs) from Certificate Transparency logs listed in the trusted log list: it was submitted to public, append-only logs where anyone can see it.",
    ],
    does_not_prove: &[
        "That the certificate is legitimate: Certificate Transparency proves public logging, not legitimacy.",
        "That no other certificate exists for the domain: someone has to monitor the logs for that.",
    ],
};

const IMAGES: Explanation = Explanation {
    question: "Which container images does the VM run?",
    proves: &[
        "The container images named by digest in the measured launch configuration resolve to the image manifests recorded from the registry, whose digests match.",
    ],
    does_not_prove: &[
        "That the image contents are safe, or that they were built from the source code their publisher claims: a digest identifies bytes, not their origin.",
    ],
};

const GPU: Explanation = Explanation {
    question: "Is the GPU a genuine NVIDIA H100 in confidential-computing mode?",
    proves: &[
        "The GPU attestation report was signed by a device key that chains to NVIDIA's device identity root in the trust set.",
        "The GPU's firmware measurements match NVIDIA's signed reference values, and confidential-computing mode is on.",
    ],
    does_not_prove: &[
        "That this GPU is the one attached to the attested VM: the GPU evidence is not cryptographically bound to the SNP report; it proves that a genuine GPU in CC mode produced it, nothing more.",
        "That the GPU evidence is fresh, unless it answers a nonce chosen by the verifier.",
    ],
};

const SWITCH: Explanation = Explanation {
    question: "Are the NVSwitches genuine NVIDIA switches running firmware NVIDIA signed reference values for?",
    proves: &[
        "Each switch's attestation report was signed by a device key that chains to NVIDIA's device identity root in the trust set.",
        "Each switch's firmware measurements match NVIDIA's signed switch-BIOS reference values.",
    ],
    does_not_prove: &[
        "That these switches are the ones linked to the attested GPUs or VM: switch evidence is not cryptographically bound to the SNP report; the PPCIe topology check compares it with the GPUs' signed link lists when both are imported.",
        "That two entries are two switches: the same report listed twice is said, not counted twice.",
    ],
};

const TINFOIL: Explanation = Explanation {
    question: "Is this enclave running a release built by Tinfoil's public workflow, and is the TLS key the enclave's?",
    proves: &[
        "This binary was built by that public workflow at that tag: the launch measurement was signed with a Fulcio certificate issued to the named GitHub Actions workflow of the named repository, and the signature is logged in Rekor (inclusion proof, signed checkpoint, signed entry timestamp), all verified offline against the Sigstore root in the trust set.",
        "It runs in this SNP guest: the AMD-signed report's measurement is the one the release signed.",
        "Behind this TLS key: the report's REPORT_DATA names the key of the enclave certificate (with an offline import, of the certificate in the bundle, not of a live handshake), and the launch configuration shown is the one the measured command line commits to.",
        "For an online collection: the Tinfoil bundle the other checks read is exactly what the enclave, GitHub and AMD KDS answered, each field re-derived from the answers stored as received (tinfoil.collection).",
    ],
    does_not_prove: &[
        "What the workflow built: the source code at that tag, and the build itself, are not reviewed here; a signed release is only as good as the workflow that produced it.",
        "Whether the model served is the one advertised: the configuration names container images (by tag, a tag proves nothing), not model weights.",
        "That a client connecting today reaches this enclave, unless a TLS handshake was captured and bound (scope full).",
        "That the release compared against is the one the enclave should run: an online collection compares with the latest release at collection time unless a tag was given, and says which.",
    ],
};

const PPCIE: Explanation = Explanation {
    question: "Were these GPUs and NVSwitches attested together, as one protected-PCIe box?",
    proves: &[
        "Every GPU's and every switch's report is signed by a device key that chains to NVIDIA's device identity root in the trust set, and all of them answered the same nonce.",
        "The switches are distinct, and each GPU's signed list of NVLink partners names exactly the switches in the evidence: none missing, none unknown.",
    ],
    does_not_prove: &[
        "That the box is the one attached to the attested VM: device evidence is not cryptographically bound to the SNP report.",
        "That the nonce was fresh or chosen by the verifier: only that every device answered the same one.",
        "Anything about the devices' firmware: their measurements are the gpu and switch checks' business.",
    ],
};

const OTHER: Explanation = Explanation {
    question: "Checks outside the known families.",
    proves: &["Whatever each check's rule and spec reference below state."],
    does_not_prove: &["Anything beyond each check's own rule."],
};

/// The explanation for a family id; a generic one for unknown families.
pub fn family(id: &str) -> &'static Explanation {
    match id {
        "bundle" => &BUNDLE,
        "amd" => &AMD,
        "snp" => &SNP,
        "protocol" => &PROTOCOL,
        "tls" => &TLS,
        "ct" => &CT,
        "images" => &IMAGES,
        "gpu" => &GPU,
        "switch" => &SWITCH,
        "tinfoil" => &TINFOIL,
        "ppcie" => &PPCIE,
        _ => &OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_family_has_its_own_explanation() {
        for f in crate::checks::families() {
            let e = family(f.id);
            assert_ne!(e, &OTHER, "family {} has no explanation", f.id);
            assert!(!e.proves.is_empty() && !e.does_not_prove.is_empty());
        }
        assert_eq!(family("no-such-family"), &OTHER);
    }

    #[test]
    fn gpu_and_ct_state_their_key_limits() {
        assert!(family("gpu")
            .does_not_prove
            .iter()
            .any(|s| s.contains("not cryptographically bound to the SNP report")));
        assert!(family("ct")
            .does_not_prove
            .iter()
            .any(|s| s.contains("public logging, not legitimacy")));
    }
}
