//! Write operations. Each mutation runs in one transaction: it finds the record as the viewer
//! sees it (a hidden record is `NOT_FOUND`), asks the evaluator whether the change is allowed
//! (`FORBIDDEN` if not), validates its input (`VALIDATION` with the input path), writes, and
//! appends its access-log entry in the same transaction.

mod admin;
mod case_input;
pub(crate) mod cases;
pub(crate) mod guards;
pub(crate) mod import;
mod pathway;
mod referral_rules;
mod referrals;
mod sharing;

use async_graphql::MergedObject;
use raccordo_policies::{ClassSet, RelationshipSet};

use crate::{access::Principal, audit::NewEntry};

/// The root of every write.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    admin::AdminMutation,
    cases::CaseMutation,
    pathway::PathwayMutation,
    sharing::SharingMutation,
    referrals::ReferralMutation,
    import::ImportMutation,
    crate::graphql::places::PlacesMutation,
);

/// An access-log entry for a change made by `principal`.
pub(crate) fn change_entry(
    principal: &Principal,
    case_id: Option<&str>,
    operation: &str,
    rels: RelationshipSet,
    classes: ClassSet,
    detail: Option<String>,
) -> NewEntry {
    NewEntry {
        user_id: principal.user_id.clone(),
        agency_id: principal.agency_id().map(str::to_string),
        role: principal.role,
        case_id: case_id.map(str::to_string),
        operation: operation.to_string(),
        relationships: rels,
        classes,
        detail,
    }
}

/// Appends the access-log entry of a change, in the change's own transaction.
pub(crate) async fn log_change<C: sea_orm::ConnectionTrait>(
    db: &C,
    principal: &Principal,
    case_id: Option<&str>,
    operation: &str,
    rels: RelationshipSet,
    classes: ClassSet,
    detail: Option<String>,
) -> crate::error::ApiResult<()> {
    crate::audit::append(
        db,
        vec![change_entry(
            principal, case_id, operation, rels, classes, detail,
        )],
    )
    .await
}

/// A new random id for a created record.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
