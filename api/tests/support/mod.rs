//! The harness of the tests that run the real `raccordo` binary as a child process (`crash`,
//! `multi_instance`, `fuzz`, `demo_seed`, `logs`): the workspace's test kit (`raccordo_tests`),
//! with this crate's binary.

// Every test binary compiles this module on its own and uses a different part of it.
#![allow(dead_code, unused_imports)]

pub use raccordo_tests::{
    http_client, hub_settings, ok, post, serve_args, Harness, Hub, PgDatabase, Reply, Starting,
    WorkDir,
};

/// The binary under test, as Cargo built it for the integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_raccordo");
