//! How a viewer's agency relates to cases (ACCESS.md §3), loaded in bounded SQL, and the
//! row conditions that push "which cases exist for this viewer" into queries.
//!
//! A share is active when it is not revoked, not expired, and either an emergency share or
//! backed by an active consent for the same case, purpose and recipient. A transfer relationship
//! needs a pending request backed by an active `TRANSFER` consent. These conditions are written
//! once here and used both for loading relationships and for filtering rows, so the two agree.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::{case, consent, share, transfer};
use raccordo_policies::{
    ClassSet, DataClass, NotesScope, Policy, Relationship, RelationshipSet, SharePurpose, Viewer,
};
use sea_orm::{
    sea_query::{Expr, Query, SelectStatement},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::error::ApiResult;

/// What one viewer may do with one case, decided by the evaluator from its relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseAccessInfo {
    /// The viewer's agency's relationships to the case.
    pub rels: RelationshipSet,
    /// The classes of the case the viewer reads.
    pub readable: ClassSet,
    /// Which notes of the case diary the viewer reads.
    pub notes: NotesScope,
}

impl CaseAccessInfo {
    /// Asks the evaluator what `viewer` may read given `rels`.
    pub fn decide(policy: &Policy, viewer: &Viewer, rels: RelationshipSet) -> Self {
        CaseAccessInfo {
            rels,
            readable: policy.readable_classes(viewer, rels),
            notes: policy.notes_scope(viewer, rels),
        }
    }

    /// Everything readable, for the benchmark baseline only (`unenforced-baseline` feature).
    pub fn unenforced() -> Self {
        CaseAccessInfo {
            rels: RelationshipSet::empty().with(Relationship::Owner),
            readable: ClassSet::all(),
            notes: NotesScope::All,
        }
    }

    /// A case exists for the viewer only when it may read at least its `BASE` class.
    pub fn exists(&self) -> bool {
        self.readable.contains(DataClass::Base)
    }
}

/// Consents that back the share in the enclosing query: same case, purpose and recipient,
/// not revoked, not expired.
fn consents_backing_share(today: NaiveDate) -> SelectStatement {
    Query::select()
        .column((consent::Entity, consent::Column::Id))
        .from(consent::Entity)
        .and_where(
            Expr::col((consent::Entity, consent::Column::CaseId))
                .equals((share::Entity, share::Column::CaseId)),
        )
        .and_where(
            Expr::col((consent::Entity, consent::Column::Purpose))
                .equals((share::Entity, share::Column::Purpose)),
        )
        .and_where(
            Expr::col((consent::Entity, consent::Column::RecipientId))
                .equals((share::Entity, share::Column::RecipientId)),
        )
        .cond_where(active_consent(today))
        .to_owned()
}

/// A consent that is neither revoked nor past its expiry date (inclusive).
pub fn active_consent(today: NaiveDate) -> Condition {
    Condition::all()
        .add(Expr::col((consent::Entity, consent::Column::RevokedOn)).is_null())
        .add(
            Condition::any()
                .add(Expr::col((consent::Entity, consent::Column::ExpiresOn)).is_null())
                .add(Expr::col((consent::Entity, consent::Column::ExpiresOn)).gte(today)),
        )
}

/// An active share (see the module docs), as a condition on the `shares` table.
pub fn active_share(now: DateTime<Utc>) -> Condition {
    let today = super::principal::local_date(now);
    Condition::all()
        .add(Expr::col((share::Entity, share::Column::RevokedAt)).is_null())
        .add(
            Condition::any()
                .add(Expr::col((share::Entity, share::Column::ExpiresAt)).is_null())
                .add(Expr::col((share::Entity, share::Column::ExpiresAt)).gt(now)),
        )
        .add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(Expr::col((share::Entity, share::Column::Emergency)).eq(true))
                        .add(Expr::col((share::Entity, share::Column::ConsentId)).is_null()),
                )
                .add(
                    Expr::col((share::Entity, share::Column::ConsentId))
                        .in_subquery(consents_backing_share(today)),
                ),
        )
}

/// A pending transfer backed by an active `TRANSFER` consent to its receiver.
pub fn pending_transfer(today: NaiveDate) -> Condition {
    let backing = Query::select()
        .column((consent::Entity, consent::Column::Id))
        .from(consent::Entity)
        .and_where(
            Expr::col((consent::Entity, consent::Column::CaseId))
                .equals((transfer::Entity, transfer::Column::CaseId)),
        )
        .and_where(
            Expr::col((consent::Entity, consent::Column::RecipientId))
                .equals((transfer::Entity, transfer::Column::ToId)),
        )
        .and_where(
            Expr::col((consent::Entity, consent::Column::Purpose))
                .eq(SharePurpose::Transfer.as_str()),
        )
        .cond_where(active_consent(today))
        .to_owned();
    Condition::all()
        .add(Expr::col((transfer::Entity, transfer::Column::Status)).eq("REQUESTED"))
        .add(Expr::col((transfer::Entity, transfer::Column::ConsentId)).in_subquery(backing))
}

/// The share purposes whose active shares create one of `rels`.
fn purposes_for(policy: &Policy, rels: RelationshipSet) -> Vec<&'static str> {
    SharePurpose::ALL
        .iter()
        .filter(|p| policy.purpose_uses_share(**p) && rels.contains(policy.relationship_for(**p)))
        .map(|p| p.as_str())
        .collect()
}

/// The relationships that, each on its own, let `viewer` read `class`.
pub fn granting_relationships(
    policy: &Policy,
    viewer: &Viewer,
    class: DataClass,
) -> RelationshipSet {
    Relationship::ALL
        .iter()
        .copied()
        .filter(|r| {
            policy
                .readable_classes(viewer, RelationshipSet::empty().with(*r))
                .contains(class)
        })
        .collect()
}

/// A condition on `cases` that holds when `agency_id` has at least one of `rels` to the case.
/// An empty set gives a condition that never holds.
pub fn visible_cases_condition(
    policy: &Policy,
    agency_id: &str,
    rels: RelationshipSet,
    now: DateTime<Utc>,
) -> Condition {
    let mut any = Condition::any();
    let mut empty = true;
    if rels.contains(Relationship::Owner) {
        any = any.add(Expr::col((case::Entity, case::Column::OwnerId)).eq(agency_id));
        empty = false;
    }
    let purposes = purposes_for(policy, rels);
    if !purposes.is_empty() {
        let shared = Query::select()
            .column((share::Entity, share::Column::CaseId))
            .from(share::Entity)
            .and_where(Expr::col((share::Entity, share::Column::RecipientId)).eq(agency_id))
            .and_where(Expr::col((share::Entity, share::Column::Purpose)).is_in(purposes))
            .cond_where(active_share(now))
            .to_owned();
        any = any.add(Expr::col((case::Entity, case::Column::Id)).in_subquery(shared));
        empty = false;
    }
    if rels.contains(Relationship::Transfer) {
        let pending = Query::select()
            .column((transfer::Entity, transfer::Column::CaseId))
            .from(transfer::Entity)
            .and_where(Expr::col((transfer::Entity, transfer::Column::ToId)).eq(agency_id))
            .cond_where(pending_transfer(super::principal::local_date(now)))
            .to_owned();
        any = any.add(Expr::col((case::Entity, case::Column::Id)).in_subquery(pending));
        empty = false;
    }
    if empty {
        return Condition::all().add(Expr::val(1).eq(0));
    }
    any
}

/// The relationships of `agency_id` to each case in `cases`, in two statements whatever their number.
pub async fn case_relationships<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    agency_id: &str,
    cases: &[&case::Model],
    now: DateTime<Utc>,
) -> ApiResult<HashMap<String, RelationshipSet>> {
    let mut out: HashMap<String, RelationshipSet> = cases
        .iter()
        .map(|c| {
            let mut set = RelationshipSet::empty();
            if c.owner_id == agency_id {
                set.insert(Relationship::Owner);
            }
            (c.id.clone(), set)
        })
        .collect();
    if cases.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let shares: Vec<(String, String)> = share::Entity::find()
        .select_only()
        .column(share::Column::CaseId)
        .column(share::Column::Purpose)
        .filter(share::Column::CaseId.is_in(ids.clone()))
        .filter(share::Column::RecipientId.eq(agency_id))
        .filter(active_share(now))
        .into_tuple()
        .all(db)
        .await?;
    for (case_id, purpose) in shares {
        if let (Some(set), Ok(purpose)) = (out.get_mut(&case_id), purpose.parse::<SharePurpose>()) {
            if policy.purpose_uses_share(purpose) {
                set.insert(policy.relationship_for(purpose));
            }
        }
    }
    let pending: Vec<String> = transfer::Entity::find()
        .select_only()
        .column(transfer::Column::CaseId)
        .filter(transfer::Column::CaseId.is_in(ids))
        .filter(transfer::Column::ToId.eq(agency_id))
        .filter(pending_transfer(super::principal::local_date(now)))
        .into_tuple()
        .all(db)
        .await?;
    for case_id in pending {
        if let Some(set) = out.get_mut(&case_id) {
            set.insert(Relationship::Transfer);
        }
    }
    Ok(out)
}
