//! The hub's tables as sea-orm entities: plain data, no behaviour beyond
//! relations. Table and column names are the contract with
//! `raccordo-migrations`, which creates them.
//!
//! Conventions: ids are `String`; enum-like values are `String`s holding the
//! contract's spelling; dates are [`Date`](sea_orm::prelude::Date),
//! timestamps [`DateTimeUtc`](sea_orm::prelude::DateTimeUtc).

pub mod prelude;

pub mod access_log;
pub mod activity;
pub mod agency;
pub mod case;
pub mod case_exploitation;
pub mod case_note;
pub mod case_phase_change;
pub mod collaboration;
pub mod consent;
pub mod network;
pub mod network_member;
pub mod placement_event;
pub mod placement_offer;
pub mod placement_request;
pub mod project;
pub mod project_ente;
pub mod project_indicator;
pub mod protocol;
pub mod protocol_signatory;
pub mod referral;
pub mod referral_correction;
pub mod referral_interview;
pub mod share;
pub mod shelter;
pub mod shelter_places;
pub mod statistics_release;
pub mod transfer;
