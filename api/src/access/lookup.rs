//! Finding cases and referrals as a viewer: hidden records are indistinguishable from
//! records that never existed.

use chrono::{DateTime, Utc};
use raccordo_entities::{case, referral};
use raccordo_policies::{Policy, ReferralClassSet, ReferralRelation, RelationshipSet};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::{case_relationships, visible_cases_condition, CaseAccessInfo, Principal};
use crate::error::{ApiError, ApiResult};

/// The row condition for cases `principal` may see at all (pushed into SQL).
pub fn visible_cases(policy: &Policy, principal: &Principal, now: DateTime<Utc>) -> Condition {
    if cfg!(feature = "unenforced-baseline") {
        return Condition::all();
    }
    match principal.agency_id() {
        Some(agency) => {
            let viewer = principal.viewer();
            let rels =
                super::granting_relationships(policy, &viewer, raccordo_policies::DataClass::Base);
            visible_cases_condition(policy, agency, rels, now)
        }
        None => visible_cases_condition(policy, "", RelationshipSet::empty(), now),
    }
}

/// Decides access for rows already loaded: two statements for the relationships, whatever the count.
pub async fn decide_cases<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    rows: Vec<case::Model>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<(case::Model, CaseAccessInfo)>> {
    let Some(agency) = principal.agency_id() else {
        return Ok(Vec::new());
    };
    if cfg!(feature = "unenforced-baseline") {
        let all = CaseAccessInfo::unenforced();
        return Ok(rows.into_iter().map(|row| (row, all)).collect());
    }
    let refs: Vec<&case::Model> = rows.iter().collect();
    let rels = case_relationships(db, policy, agency, &refs, now).await?;
    let viewer = principal.viewer();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let r = rels.get(&row.id).copied().unwrap_or_default();
            let access = CaseAccessInfo::decide(policy, &viewer, r);
            access.exists().then_some((row, access))
        })
        .collect())
}

/// One case as `principal` sees it, or `None` when it does not exist for them.
pub async fn find_case<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<(case::Model, CaseAccessInfo)>> {
    let row = case::Entity::find_by_id(id.to_string())
        .filter(visible_cases(policy, principal, now))
        .one(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(decide_cases(db, policy, principal, vec![row], now)
        .await?
        .pop())
}

/// Like [`find_case`], but a missing case is the `NOT_FOUND` error.
pub async fn require_case<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<(case::Model, CaseAccessInfo)> {
    find_case(db, policy, principal, id, now)
        .await?
        .ok_or(ApiError::NotFound("case"))
}

/// How `principal` relates to a referral, and what it may therefore see.
pub fn referral_access(
    policy: &Policy,
    principal: &Principal,
    row: &referral::Model,
) -> (ReferralRelation, ReferralClassSet) {
    let agency = principal.agency_id();
    let relation = ReferralRelation {
        is_target: agency == Some(row.target_id.as_str()),
        is_requester: agency == Some(row.requested_by_id.as_str()),
    };
    (
        relation,
        policy.referral_classes(&principal.viewer(), relation),
    )
}

/// The row condition for referrals `principal` may see (target or requester, if its role gets rows).
pub fn visible_referrals(policy: &Policy, principal: &Principal) -> Condition {
    let viewer = principal.viewer();
    let mut any = Condition::any();
    let mut empty = true;
    if let Some(agency) = principal.agency_id() {
        let as_target = ReferralRelation {
            is_target: true,
            is_requester: false,
        };
        let as_requester = ReferralRelation {
            is_target: false,
            is_requester: true,
        };
        if !policy.referral_classes(&viewer, as_target).is_empty() {
            any = any.add(referral::Column::TargetId.eq(agency));
            empty = false;
        }
        if !policy.referral_classes(&viewer, as_requester).is_empty() {
            any = any.add(referral::Column::RequestedById.eq(agency));
            empty = false;
        }
    }
    if empty {
        return Condition::all().add(sea_orm::sea_query::Expr::val(1).eq(0));
    }
    any
}

/// One referral as `principal` sees it; `NOT_FOUND` when it does not exist for them.
pub async fn require_referral<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    id: &str,
) -> ApiResult<(referral::Model, ReferralRelation, ReferralClassSet)> {
    let row = referral::Entity::find_by_id(id.to_string())
        .filter(visible_referrals(policy, principal))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("referral"))?;
    let (relation, classes) = referral_access(policy, principal, &row);
    if classes.is_empty() {
        return Err(ApiError::NotFound("referral"));
    }
    Ok((row, relation, classes))
}
