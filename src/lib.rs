//! blyss-evidence: collect, seal and audit offline the evidence behind
//! confidential AI services (AMD SEV-SNP guests with NVIDIA H100 GPUs).
//!
//! The library is split so that everything an auditor runs is pure and
//! offline: [`bundle`] opens sealed evidence, [`evidence`] parses it into
//! typed values, [`checks`] turns evidence + protocol + trust set + time into
//! results, and [`report`] renders them. Only [`collect`] (behind the
//! `collect` cargo feature) touches the network.
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
