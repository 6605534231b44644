//! Shared test support. Each area has its own module; integration tests
//! declare `mod common;` and use what they need.
#![allow(dead_code)]

pub mod report;
