//! The filters partners give on cases and referrals, and the SQL conditions they become. A filter
//! on a case field matches only cases where the viewer may read that field, so no filter reveals
//! a hidden value. Lists, statistics, the report and the export all filter through here.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, Utc};
use raccordo_entities::{case, case_exploitation, referral};
use raccordo_policies::{FieldClass, Policy, RelationshipSet};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition,
};

use super::{
    enums::{CasePhase, Exploitation, Gender, ReferralStatus, Relationship},
    scalars::Date,
};
use crate::{
    access::{granting_relationships, visible_cases_condition, Principal},
    error::{ApiError, ApiResult},
    validate,
};

/// Filters on cases. A filter on a field matches only cases where the viewer may read that field.
#[derive(InputObject, Default, Clone)]
pub struct CaseFilter {
    /// Cases of this project.
    pub project: Option<ID>,
    /// Cases in this phase.
    pub phase: Option<CasePhase>,
    /// Cases held by this agency.
    pub owner: Option<ID>,
    /// Cases of people of this nationality (ISO 3166-1 alpha-2).
    pub nationality: Option<String>,
    /// Cases of people of this gender.
    pub gender: Option<Gender>,
    /// Cases with this type of exploitation.
    pub exploitation: Option<Exploitation>,
    /// Cases that came to light in this province (sigla).
    pub province: Option<String>,
    /// Cases opened on or after this date.
    pub opened_from: Option<Date>,
    /// Cases opened on or before this date.
    pub opened_to: Option<Date>,
    /// Cases whose current permit expires before this date (a questura's "permits expiring"
    /// list). LEGAL: only cases where the viewer may read LEGAL match.
    pub permit_expires_before: Option<Date>,
    /// Cases to which the viewer's agency has this relationship (e.g. a CAV's `JOINT` cases).
    pub relationship: Option<Relationship>,
}

/// Filters on referrals.
#[derive(InputObject, Default, Clone)]
pub struct ReferralFilter {
    /// Referrals of this project.
    pub project: Option<ID>,
    /// Referrals in this status.
    pub status: Option<ReferralStatus>,
    /// Referrals sent to this ente.
    pub target: Option<ID>,
    /// Referrals sent by this agency.
    pub requested_by: Option<ID>,
    /// Referrals in this province.
    pub province: Option<String>,
    /// Received on or after this date.
    pub received_from: Option<Date>,
    /// Received on or before this date.
    pub received_to: Option<Date>,
    /// Only referrals still open (received, scheduled or in progress): the queue (coda).
    pub open: Option<bool>,
}

/// Statuses of a referral still waiting for the ente's work: the queue (coda).
pub const OPEN_REFERRAL_STATUSES: [&str; 3] = ["RECEIVED", "SCHEDULED", "IN_PROGRESS"];

/// Adds `cond` on a case field, restricted to the cases where the viewer may read the field.
fn field_filter(
    policy: &Policy,
    principal: &Principal,
    now: DateTime<Utc>,
    field: &str,
    cond: Condition,
) -> Condition {
    let Some(agency) = principal.agency_id() else {
        return Condition::all().add(Expr::val(1).eq(0));
    };
    let class = match policy.class_of("Case", field) {
        Some(FieldClass::Case(c)) => c,
        _ => return Condition::all().add(Expr::val(1).eq(0)),
    };
    let rels = granting_relationships(policy, &principal.viewer(), class);
    Condition::all()
        .add(cond)
        .add(visible_cases_condition(policy, agency, rels, now))
}

/// The SQL condition for a case filter.
pub fn case_filter_condition(
    policy: &Policy,
    principal: &Principal,
    now: DateTime<Utc>,
    filter: &CaseFilter,
) -> ApiResult<Condition> {
    let mut cond = Condition::all();
    if let Some(p) = &filter.project {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "project",
            Condition::all().add(case::Column::ProjectId.eq(p.as_str())),
        ));
    }
    if let Some(phase) = filter.phase {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "phase",
            Condition::all().add(case::Column::Phase.eq(phase.as_str())),
        ));
    }
    if let Some(owner) = &filter.owner {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "owner",
            Condition::all().add(case::Column::OwnerId.eq(owner.as_str())),
        ));
    }
    if let Some(n) = &filter.nationality {
        let n = validate::nationality("filter.nationality", n)?;
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "nationality",
            Condition::all().add(case::Column::Nationality.eq(n)),
        ));
    }
    if let Some(g) = filter.gender {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "gender",
            Condition::all().add(case::Column::Gender.eq(g.as_str())),
        ));
    }
    if let Some(e) = filter.exploitation {
        let sub = Query::select()
            .column(case_exploitation::Column::CaseId)
            .from(case_exploitation::Entity)
            .and_where(case_exploitation::Column::Exploitation.eq(e.as_str()))
            .to_owned();
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "exploitation",
            Condition::all().add(case::Column::Id.in_subquery(sub)),
        ));
    }
    if let Some(p) = &filter.province {
        let p = validate::province("filter.province", p)?;
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "emersionProvince",
            Condition::all().add(case::Column::EmersionProvince.eq(p)),
        ));
    }
    if let Some(d) = filter.opened_from {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "openedOn",
            Condition::all().add(case::Column::OpenedOn.gte(d.0)),
        ));
    }
    if let Some(d) = filter.opened_to {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "openedOn",
            Condition::all().add(case::Column::OpenedOn.lte(d.0)),
        ));
    }
    if let Some(d) = filter.permit_expires_before {
        cond = cond.add(field_filter(
            policy,
            principal,
            now,
            "permitExpiresOn",
            Condition::all().add(case::Column::PermitExpiresOn.lt(d.0)),
        ));
    }
    if let (Some(from), Some(to)) = (filter.opened_from, filter.opened_to) {
        if to < from {
            return Err(ApiError::validation(
                "filter.openedTo",
                "openedTo is before openedFrom",
            ));
        }
    }
    if let Some(rel) = filter.relationship {
        let agency = principal.agency_id().unwrap_or_default();
        let only = RelationshipSet::empty().with(rel.into());
        cond = cond.add(visible_cases_condition(policy, agency, only, now));
    }
    Ok(cond)
}

/// The SQL condition for a referral filter (every filterable field is in the class every viewer
/// of a referral reads, so no filter can reveal a hidden value).
pub fn referral_filter_condition(filter: &ReferralFilter) -> ApiResult<Condition> {
    let mut cond = Condition::all();
    if let Some(p) = &filter.project {
        cond = cond.add(referral::Column::ProjectId.eq(p.as_str()));
    }
    if let Some(s) = filter.status {
        cond = cond.add(referral::Column::Status.eq(s.as_str()));
    }
    if let Some(t) = &filter.target {
        cond = cond.add(referral::Column::TargetId.eq(t.as_str()));
    }
    if let Some(r) = &filter.requested_by {
        cond = cond.add(referral::Column::RequestedById.eq(r.as_str()));
    }
    if let Some(p) = &filter.province {
        cond = cond.add(referral::Column::Province.eq(validate::province("filter.province", p)?));
    }
    if let Some(d) = filter.received_from {
        cond = cond.add(referral::Column::ReceivedOn.gte(d.0));
    }
    if let Some(d) = filter.received_to {
        cond = cond.add(referral::Column::ReceivedOn.lte(d.0));
    }
    match filter.open {
        Some(true) => cond = cond.add(referral::Column::Status.is_in(OPEN_REFERRAL_STATUSES)),
        Some(false) => cond = cond.add(referral::Column::Status.is_not_in(OPEN_REFERRAL_STATUSES)),
        None => {}
    }
    if let (Some(from), Some(to)) = (filter.received_from, filter.received_to) {
        if to < from {
            return Err(ApiError::validation(
                "filter.receivedTo",
                "receivedTo is before receivedFrom",
            ));
        }
    }
    Ok(cond)
}
