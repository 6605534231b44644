//! Typed parsers for the evidence a bundle holds. Parsers never panic on
//! bad input: they return typed errors naming the offending field.

pub mod amd;
pub mod attestation;
pub mod cmdline;
pub mod ct;
pub mod gpu;
pub mod images;
pub mod oci;
pub mod secrets;
pub mod sigstore;
pub mod tinfoil;
pub mod tls;

/// Where each kind of evidence lives inside a bundle (normative list in
/// `protocol/bundle-format.md`).
pub mod layout {
    /// The served attestation document, byte-exact.
    pub const ATTESTATION: &str = "evidence/attestation.json";
    /// A raw 1184-byte SNP report (import of non-Blyss services).
    pub const SNP_REPORT: &str = "evidence/snp/report.bin";
    /// The VCEK that came with a raw report (DER or PEM).
    pub const SNP_VCEK: &str = "evidence/snp/vcek";
    /// The VLEK that came with a raw VLEK-signed report (DER or PEM); a
    /// bundle holds a VCEK or a VLEK beside the report, never both.
    pub const SNP_VLEK: &str = "evidence/snp/vlek";
    /// A Tinfoil enclave's attestation bundle, byte-exact (report, VCEK,
    /// enclave certificate and Sigstore release bundle in one JSON file).
    pub const TINFOIL_BUNDLE: &str = super::tinfoil::MEMBER;
    /// AMD KDS `cert_chain` (PEM, ASK then ARK).
    pub const KDS_CERT_CHAIN: &str = "evidence/amd/cert_chain.pem";
    /// AMD KDS CRL (DER).
    pub const KDS_CRL: &str = "evidence/amd/crl.der";
    /// AMD KDS VCEK for the report's chip id and TCB (DER).
    pub const KDS_VCEK: &str = "evidence/amd/vcek.der";
    /// TLS handshake capture: `evidence/tls/chain-NN.der` in presented order.
    pub const TLS_DIR: &str = "evidence/tls/";
    /// TLS handshake metadata (JSON).
    pub const TLS_HANDSHAKE: &str = "evidence/tls/handshake.json";
    /// Certificate Transparency evidence.
    pub const CT_DIR: &str = "evidence/ct/";
    /// Container registry evidence.
    pub const IMAGES_DIR: &str = "evidence/images/";
    /// Firmware image(s).
    pub const FIRMWARE_DIR: &str = "evidence/firmware/";
}
