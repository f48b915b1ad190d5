//! The guards of reads: what a partner must be allowed before a query reads anything. Field
//! decisions (which class a field belongs to, whether the viewer reads it) are the types'
//! (`graphql::types`), each asked of the evaluator; the yes/no of a whole query is asked here.

use chrono::{DateTime, Utc};
use raccordo_entities::{case, case_note};
use raccordo_policies::{
    CaseAction, FieldClass, NetworkClass, NotesScope, Policy, Relationship, RelationshipSet,
};
use sea_orm::ConnectionTrait;

use crate::{
    access::{require_case, CaseAccessInfo, Principal, RequestContext},
    error::{ApiError, ApiResult},
};

/// `FORBIDDEN` with `refusal` unless `allowed`.
pub fn allow(allowed: bool, refusal: &str) -> ApiResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(refusal.into()))
    }
}

/// Case `id` as `principal` sees it, for an `action` it must be allowed: `NOT_FOUND` when the
/// case does not exist for it, `FORBIDDEN` with `refusal` when the evaluator refuses.
pub async fn case_for<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    now: DateTime<Utc>,
    id: &str,
    (action, refusal): (CaseAction, &str),
) -> ApiResult<(case::Model, CaseAccessInfo)> {
    let (row, access) = require_case(db, policy, principal, id, now).await?;
    allow(
        policy.may(&principal.viewer(), access.rels, action),
        refusal,
    )?;
    Ok((row, access))
}

/// A partner allowed to read network data of `class` (`UNAUTHENTICATED` when anonymous).
pub fn require_network(
    policy: &Policy,
    request: &RequestContext,
    class: NetworkClass,
) -> ApiResult<()> {
    request.require()?;
    allow(
        policy.may_read_network(request.viewer().as_ref(), class, false),
        "the protocol does not let you read network data",
    )
}

/// The principal's agency, if its role may read the agency's own shelters.
pub fn own_shelters<'a>(policy: &Policy, request: &'a RequestContext) -> ApiResult<&'a str> {
    let (principal, agency) = request.require_agency()?;
    allow(
        policy.may_read_network(Some(&principal.viewer()), NetworkClass::OwnerOnly, true),
        "the protocol does not let your role read shelters",
    )?;
    Ok(agency)
}

/// The principal's agency, if the principal reviews its emergency shares (coordinators).
pub fn emergency_reviewer<'a>(policy: &Policy, request: &'a RequestContext) -> ApiResult<&'a str> {
    let (principal, agency) = request.require_agency()?;
    let owner = RelationshipSet::empty().with(Relationship::Owner);
    allow(
        policy.may(
            &principal.viewer(),
            owner,
            CaseAction::ReviewEmergencyShares,
        ),
        "only coordinators review emergency shares",
    )?;
    Ok(agency)
}

/// Whether a note of the case diary is shown to a viewer whose access gives it `scope` and whose
/// agency is `own_agency`: all notes for the owner; for joint partners, the notes their agency
/// wrote and those the owner shared with joint partners.
pub fn note_visible(scope: NotesScope, note: &case_note::Model, own_agency: Option<&str>) -> bool {
    match scope {
        NotesScope::All => true,
        NotesScope::OwnAndSharedWithJoint => {
            note.shared_with_joint_partners || Some(note.author_agency_id.as_str()) == own_agency
        }
        NotesScope::None => false,
    }
}

/// Whether the request's viewer reads `field` of agency `agency_id`, as the policy document
/// classifies it (an unclassified field is never read).
pub fn agency_field_readable(
    policy: &Policy,
    request: &RequestContext,
    agency_id: &str,
    field: &str,
) -> bool {
    let is_owner = request.principal.as_ref().and_then(|p| p.agency_id()) == Some(agency_id);
    match policy.class_of("Agency", field) {
        Some(FieldClass::Network(class)) => {
            policy.may_read_network(request.viewer().as_ref(), class, is_owner)
        }
        Some(FieldClass::Open) => true,
        _ => false,
    }
}
