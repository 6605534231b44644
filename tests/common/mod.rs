//! Shared integration-test support, one module per area.

pub mod gpu;
