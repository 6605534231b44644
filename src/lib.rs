//! blyss-evidence: collect, seal and audit offline the evidence behind
//! confidential AI services (AMD SEV-SNP guests with NVIDIA H100 GPUs).
//!
//! The library is split so that everything an auditor runs is pure and
//! offline: [`bundle`] opens sealed evidence, [`evidence`] parses it into
//! typed values, [`protocol`] loads what a service must look like into typed
//! sections, [`checks`] turns evidence + protocol + trust set + time into
//! results, [`report`] renders them and [`audit`] runs the whole pipeline.
//! Only [`collect`] (behind the `collect` cargo feature) touches the network.
//!
//! # Layers
//!
//! A module names only modules on its own row or below (`tests/suite/layers.rs`
//! reads the sources and fails on any other arrow):
//!
//! ```text
//!   cli (binary: src/main.rs, src/cli/)        anything below
//!   collect   [feature `collect`]              audit (for `--verify` only), protocol,
//!                                              bundle, evidence, trust, util
//!   audit     the pipeline                     report, checks, protocol, bundle, evidence, trust, util
//!   report    renderers, redaction             checks (result types), evidence, trust, util
//!   checks    one room per family              protocol, bundle, evidence, measure, trust, util
//!   protocol  typed protocol sections          evidence, measure, util
//!   bundle ⇄ evidence  bundle format, parsers  each other, trust, util
//!   measure   launch-digest engine             (nothing)
//!   trust     trust sets (roots as data)       util
//!   util      time, hex, hashing               (nothing)
//! ```
//!
//! What `collect` writes and `checks` read (handshake records, the images a
//! document names) and what both `report` and `checks` need (secret names)
//! live in [`evidence`], below all of them. `bundle` and `evidence` name each
//! other (an import parses an attestation document; the CT verifier reads
//! bundle members): they form one layer.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bundle;
pub mod checks;
#[cfg(feature = "collect")]
pub mod collect;
pub mod evidence;
pub mod measure;
pub mod protocol;
pub mod report;
pub mod trust;
pub mod util;

/// Name of the tool as recorded in bundles and reports.
pub const TOOL_NAME: &str = "blyss-evidence";
/// Version of the tool as recorded in bundles and reports.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
