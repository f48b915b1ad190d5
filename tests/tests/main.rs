//! Integration tests: one binary, so the hub is linked once.

mod common;

mod access;
mod demo;
mod federation;
mod foundation;
mod hardening;
mod import;
mod network;
mod pages;
mod places;
mod referrals;
mod releases;
mod sharing;
mod statistics;
mod workflows;
