//! Adapts requests to the policy evaluator: who the viewer is, how it relates to records,
//! and the SQL conditions that push the evaluator's row decisions into queries.
//!
//! Nothing here decides access by itself: every yes/no comes from `raccordo_policies::Policy`.

mod lookup;
mod principal;
mod read_log;
mod relationships;

pub use lookup::{
    decide_cases, find_case, referral_access, require_case, require_referral, visible_cases,
    visible_referrals,
};
pub use principal::{local_date, Principal, RequestContext};
pub use read_log::ReadLog;
pub use relationships::{
    active_consent, active_share, case_relationships, granting_relationships, pending_transfer,
    visible_cases_condition, CaseAccessInfo,
};
