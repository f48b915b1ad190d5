//! The multi-agency protocol as data, and the one evaluator that decides access.
//!
//! This crate knows nothing of HTTP or SQL. It loads the protocol document
//! (`policies/protocol.toml`), validates it, and answers pure questions:
//! which classes of a case a viewer may read or change given its relationships,
//! what of a referral it may see, which statistics scope it may use, and how
//! small counts are suppressed. The `api` crate asks; it never decides.

mod document;
mod hash;
mod matrix;
#[macro_use]
mod model;
pub mod places;
mod policy;
mod reach;
pub mod release;
mod suppress;
mod validate;
pub use model::{
    AgencyKind, CaseAction, ClassSet, DataClass, FieldClass, NetworkClass, NotesScope,
    ReferralClass, ReferralClassSet, ReferralRelation, Relationship, RelationshipSet, SharePurpose,
    StatCell, StatsGrant, StatsScope, UnknownName, UserRole, Viewer,
};
pub use policy::{suppress, AgencyEdit, Policy, PolicyError, PolicyErrorKind, DEFAULT_PROTOCOL};
