//! The integration suite: one test binary, one module per area.
//!
//! Why one binary: on the 2-core CI machine, linking ~30 separate test
//! binaries (each with the whole library and `common/` compiled again) cost
//! most of `cargo test`'s time. Modules share `common/`, compiled once, and
//! libtest runs all tests in one thread pool.
//!
//! Nothing here needs a process of its own: no test changes environment
//! variables, the working directory or other process-wide state (the only
//! process-wide state in the library, the signature memo, is keyed on all
//! of its inputs, so sharing it cannot change a result). Tests that need
//! isolation get it from a child process (`assert_cmd`, `unshare -n` in
//! `airgap`). Run one area with `cargo test --test suite <module>::`.

mod common;

mod airgap;
mod blackwell_field;
mod bundle_container;
mod bundle_differential;
mod bundle_tamper;
mod cli_acceptance;
mod collect_cli;
mod collect_e2e;
mod collect_faults;
mod collect_field_online;
mod collect_hostile;
mod collect_tls_audit;
mod ct_audit;
mod ct_cli;
mod ct_collect;
mod ct_real_data;
mod docs_examples;
mod gpu_checks;
mod gpu_cli;
mod gpu_field;
mod gpu_ocsp;
mod gpu_only;
mod hgx_field;
mod hostile_parsers;
mod images_blyss_fixtures;
mod images_cli;
mod images_collect;
mod images_registry;
mod layers;
mod measure_check;
mod measure_cli;
mod measure_engine;
mod newcomer;
mod observed_at;
mod protocol_files;
mod report_browser;
mod report_determinism;
mod report_redaction;
mod report_schema;
mod report_snapshots;
mod sigstore_bundle;
mod snp_import;
mod snp_real;
mod snp_synthetic;
mod switch_field;
mod switch_ocsp;
mod switch_online;
mod tamper_campaign;
mod terminal_safety;
mod tinfoil;
mod tinfoil_online;
mod tls_chain_real;
mod vlek;
