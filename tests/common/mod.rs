//! Shared test support.

pub mod ct_logs;
