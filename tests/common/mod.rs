//! Shared test support; each area has its own file.
#![allow(dead_code)]

pub mod registry;
