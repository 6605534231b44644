//! Shared test support. Each area has its own module; a test binary uses
//! the parts it needs.
#![allow(dead_code)]

pub mod ct_logs;
pub mod gpu;
pub mod report;
pub mod world;
