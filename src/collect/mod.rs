//! `collect`: the only networked code in the project (cargo feature `collect`).
pub mod registry;
