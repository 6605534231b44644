//! Shared test support, one module per area.
#![allow(dead_code)]

pub mod ct_logs;
pub mod gpu;
pub mod measure;
pub mod snp;
pub mod world;
