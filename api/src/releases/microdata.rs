//! The rows one release counts, read once: the cases opened, the referrals received and the
//! placement requests made in the period (in the population's province), and the public agency
//! list for `OWNER` and `TARGET`. Three statements for the cases, one for the referrals, one for
//! the placement requests and one for the agencies, whatever the number of rows; the tables are
//! then counted in memory.

use std::collections::HashMap;

use chrono::NaiveTime;
use raccordo_entities::{agency, case, case_exploitation, placement_request, referral};
use raccordo_policies::{AgencyKind, Policy};
use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::{
    period::{Population, ReleasePeriod},
    tables::{Agencies, CaseRow, PlacementRow, ReferralRow},
};
use crate::error::ApiResult;

/// Everything one release counts.
pub(super) struct Rows {
    pub cases: Vec<CaseRow>,
    pub referrals: Vec<ReferralRow>,
    pub placements: Vec<PlacementRow>,
    pub agencies: Agencies,
}

/// Reads the rows of `period` for `population`.
pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    period: &ReleasePeriod,
    population: &Population,
) -> ApiResult<Rows> {
    let all_agencies: Vec<(String, String)> = agency::Entity::find()
        .select_only()
        .column(agency::Column::Id)
        .column(agency::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let kind_of: HashMap<&str, &str> = all_agencies
        .iter()
        .map(|(id, kind)| (id.as_str(), kind.as_str()))
        .collect();
    let mut agencies = Agencies::default();
    for (id, kind) in &all_agencies {
        let Ok(kind) = kind.parse::<AgencyKind>() else {
            continue;
        };
        if policy.may_hold_cases(kind) {
            agencies.holders.push(id.clone());
        }
        if policy.may_receive_referral(kind) {
            agencies.targets.push(id.clone());
        }
    }
    agencies.holders.sort();
    agencies.targets.sort();

    let mut in_cases = Condition::all()
        .add(case::Column::OpenedOn.gte(period.from))
        .add(case::Column::OpenedOn.lte(period.to));
    if let Some(p) = population.province() {
        in_cases = in_cases.add(case::Column::EmersionProvince.eq(p));
    }
    type CaseTuple = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        String,
    );
    let case_rows: Vec<CaseTuple> = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .column(case::Column::EmersionProvince)
        .column(case::Column::Nationality)
        .column(case::Column::Gender)
        .column(case::Column::PermitAtStart)
        .column(case::Column::PermitCurrent)
        .column(case::Column::EmersionChannel)
        .column(case::Column::Phase)
        .column(case::Column::Outcome)
        .column(case::Column::OwnerId)
        .filter(in_cases.clone())
        .into_tuple()
        .all(db)
        .await?;
    let ids = Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .cond_where(in_cases)
        .to_owned();
    let exploitations: Vec<(String, String)> = case_exploitation::Entity::find()
        .select_only()
        .column(case_exploitation::Column::CaseId)
        .column(case_exploitation::Column::Exploitation)
        .filter(case_exploitation::Column::CaseId.in_subquery(ids))
        .into_tuple()
        .all(db)
        .await?;
    let mut by_case: HashMap<String, Vec<String>> = HashMap::new();
    for (case_id, e) in exploitations {
        by_case.entry(case_id).or_default().push(e);
    }
    let cases = case_rows
        .into_iter()
        .map(
            |(
                id,
                province,
                nationality,
                gender,
                permit_at_start,
                permit_current,
                channel,
                phase,
                outcome,
                owner,
            )| {
                CaseRow {
                    exploitations: by_case.remove(&id).unwrap_or_default(),
                    province,
                    nationality,
                    gender,
                    permit_at_start,
                    permit_current,
                    emersion_channel: channel,
                    phase: Some(phase),
                    outcome,
                    owner: Some(owner),
                }
            },
        )
        .collect();

    let mut in_referrals = Condition::all()
        .add(referral::Column::ReceivedOn.gte(period.from))
        .add(referral::Column::ReceivedOn.lte(period.to));
    if let Some(p) = population.province() {
        in_referrals = in_referrals.add(referral::Column::Province.eq(p));
    }
    type ReferralTuple = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let referral_rows: Vec<ReferralTuple> = referral::Entity::find()
        .select_only()
        .column(referral::Column::RequestedById)
        .column(referral::Column::TargetId)
        .column(referral::Column::Province)
        .column(referral::Column::Status)
        .column(referral::Column::Outcome)
        .column(referral::Column::SubjectNationality)
        .filter(in_referrals)
        .into_tuple()
        .all(db)
        .await?;
    let referrals = referral_rows
        .into_iter()
        .map(
            |(requester, target, province, status, outcome, nationality)| ReferralRow {
                requester_kind: kind_of.get(requester.as_str()).map(|k| k.to_string()),
                target: Some(target),
                province,
                status: Some(status),
                outcome,
                nationality,
            },
        )
        .collect();
    let placements = placements(db, period, population, &kind_of).await?;
    Ok(Rows {
        cases,
        referrals,
        placements,
        agencies,
    })
}

/// The placement requests made in the period (in the population's province), one statement.
/// The period's days are taken in UTC: a request made within an hour of midnight in Italy may
/// count in the neighbouring day, which moves no month's, quarter's or year's count but at its
/// edges.
async fn placements<C: ConnectionTrait>(
    db: &C,
    period: &ReleasePeriod,
    population: &Population,
    kind_of: &HashMap<&str, &str>,
) -> ApiResult<Vec<PlacementRow>> {
    let from = period.from.and_time(NaiveTime::MIN).and_utc();
    let until = (period.to + chrono::Days::new(1))
        .and_time(NaiveTime::MIN)
        .and_utc();
    let mut in_period = Condition::all()
        .add(placement_request::Column::RequestedAt.gte(from))
        .add(placement_request::Column::RequestedAt.lt(until));
    if let Some(p) = population.province() {
        in_period = in_period.add(placement_request::Column::Province.eq(p));
    }
    let rows = placement_request::Entity::find()
        .filter(in_period)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let accepted = r.accepted_offer_id.is_some() && r.status != "WITHDRAWN";
            let wait = match r.closed_at {
                Some(at) if accepted => {
                    let hours = (at - r.requested_at).num_hours();
                    if hours < 24 {
                        "WITHIN_24_HOURS"
                    } else if hours < 72 {
                        "WITHIN_72_HOURS"
                    } else {
                        "LONGER"
                    }
                }
                _ => "NONE",
            };
            PlacementRow {
                province: Some(r.province),
                takes: Some(r.takes),
                urgency: Some(r.urgency),
                status: Some(r.status),
                requester_kind: kind_of.get(r.requester_id.as_str()).map(|k| k.to_string()),
                wait: Some(wait.to_string()),
            }
        })
        .collect())
}
