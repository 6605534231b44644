//! Shared test support. Each area has its own module; a test binary declares
//! `mod common;` and uses what it needs.
#![allow(dead_code)]

pub mod ct_logs;
pub mod gpu;
pub mod hostile;
pub mod hostile_evidence;
pub mod measure;
pub mod nvfield;
pub mod registry;
pub mod report;
pub mod snp;
pub mod world;
