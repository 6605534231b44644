//! Shared test support, one module per area.
#![allow(dead_code)]

pub mod registry;
pub mod snp;
