//! Raccordo: the GraphQL hub of Italy's anti-trafficking multi-agency network.
//!
//! A request flows: `http` (GraphQL over HTTP, token) → `access` (who the viewer is, how it
//! relates to records, row conditions) → `graphql` (resolvers, which ask the policy evaluator of
//! the `raccordo-policies` crate for every field) → `entities` (sea-orm) → the database; reads of
//! protected classes and every change go to the hash-chained access log (`audit`).

pub mod access;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod cli;
pub mod config;
pub mod cost;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod limits;
pub mod logging;
pub mod pages;
pub mod places;
pub mod releases;
pub mod report;
mod server;
pub mod spreadsheet;
pub mod state;
pub mod throttle;
pub mod validate;
pub mod view;
pub mod writer;

pub use server::{load_policy, prepare, start, RunningHub};
