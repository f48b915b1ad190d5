//! Write operations. Each resolver hands its arguments to the domain (`crate::domain`), which
//! runs the mutation in one transaction: it finds the record as the viewer sees it (a hidden
//! record is `NOT_FOUND`), asks the evaluator whether the change is allowed (`FORBIDDEN` if not),
//! validates its input (`VALIDATION` with the input path), writes, and appends its access-log
//! entry in the same transaction. The resolver then shows the result as the viewer sees it.

mod admin;
mod cases;
mod import;
mod pathway;
mod referrals;
mod sharing;

use async_graphql::MergedObject;

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
