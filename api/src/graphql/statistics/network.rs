//! Network answers (ACCESS.md §7): only from releases. A network answer names one whole closed
//! period and at most a province; anything narrower (an owner, a requester, a target, a day, a
//! phase, an `asOf`...) is `VALIDATION` on its input path, before anything is read or written.

use async_graphql::Context;
use raccordo_policies::release::{ReleaseSpec, ReleaseSubject};

use crate::{
    domain::{
        enums::{CaseDimension, ReferralDimension},
        filters::{CaseFilter, ReferralFilter, OPEN_REFERRAL_STATUSES},
        scalars::Date,
        statistics::StatCell,
    },
    error::{ApiError, ApiResult},
    graphql::{types::release::release_cell, ContextExt},
    releases::{self, Population, Release, ReleasePeriod},
};

const WHOLE_PERIOD: &str =
    "a network answer covers one whole closed month, quarter or year: give its first and last day";

/// Refuses the first input that would narrow a network answer.
fn refuse_narrowing(inputs: &[(&str, bool)]) -> ApiResult<()> {
    match inputs.iter().find(|(_, given)| *given) {
        Some((path, _)) => Err(ApiError::validation(
            *path,
            "network answers come from statistics releases, which are not narrowed by this: use scope MINE for your own rows, or leave it out",
        )),
        None => Ok(()),
    }
}

fn refuse_as_of(as_of: Option<Date>) -> ApiResult<()> {
    match as_of {
        Some(_) => Err(ApiError::validation(
            "asOf",
            "a network answer comes from a release, which has its own cut-off date: asOf is for exact answers (scope MINE)",
        )),
        None => Ok(()),
    }
}

/// The period that `from..=to` spans, which must be a whole month, quarter or year.
fn period_of(
    from_path: &str,
    to_path: &str,
    from: Option<Date>,
    to: Option<Date>,
) -> ApiResult<ReleasePeriod> {
    let from = from.ok_or_else(|| ApiError::validation(from_path, WHOLE_PERIOD))?;
    let to = to.ok_or_else(|| ApiError::validation(to_path, WHOLE_PERIOD))?;
    ReleasePeriod::from_bounds(from.0, to.0)
        .ok_or_else(|| ApiError::validation(from_path, WHOLE_PERIOD))
}

/// The release of a checked period and population: published the first time it is asked for.
pub(crate) async fn release(
    ctx: &Context<'_>,
    period_path: &str,
    period: &ReleasePeriod,
    population: &Population,
) -> ApiResult<Release> {
    let state = ctx.state();
    let request = ctx.request();
    period.check_releasable(period_path, state.policy.release_spec(), request.today())?;
    releases::get_or_publish(&state.db, &state.policy, period, population, request.now).await
}

fn answer(
    ctx: &Context<'_>,
    release: &Release,
    subject: ReleaseSubject,
    dims: &[&str],
) -> ApiResult<Vec<StatCell>> {
    let spec = ctx.state().policy.release_spec();
    let cells = release
        .answer(spec, subject, dims)
        .ok_or_else(|| no_table(spec, subject))?;
    Ok(cells.into_iter().map(release_cell).collect())
}

/// `VALIDATION` on `groupBy`, listing the tables a release holds.
fn no_table(spec: &ReleaseSpec, subject: ReleaseSubject) -> ApiError {
    let tables: Vec<String> = spec
        .tables
        .iter()
        .filter(|t| t.subject == subject)
        .map(|t| t.dimensions.join(" × "))
        .collect();
    ApiError::validation(
        "groupBy",
        format!(
            "network releases hold these {} tables: {}",
            subject.as_str(),
            tables.join(", ")
        ),
    )
}

/// `caseStatistics` at scope `NETWORK`.
pub(super) async fn case_cells(
    ctx: &Context<'_>,
    dims: &[CaseDimension],
    filter: CaseFilter,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    // Every field named, so that a filter added later cannot slip past this check unnoticed.
    let CaseFilter {
        project,
        phase,
        owner,
        nationality,
        gender,
        exploitation,
        province,
        opened_from,
        opened_to,
        permit_expires_before,
        relationship,
    } = filter;
    refuse_narrowing(&[
        (
            "filter.permitExpiresBefore",
            permit_expires_before.is_some(),
        ),
        ("filter.project", project.is_some()),
        ("filter.phase", phase.is_some()),
        ("filter.owner", owner.is_some()),
        ("filter.nationality", nationality.is_some()),
        ("filter.gender", gender.is_some()),
        ("filter.exploitation", exploitation.is_some()),
        ("filter.relationship", relationship.is_some()),
    ])?;
    refuse_as_of(as_of)?;
    let period = period_of(
        "filter.openedFrom",
        "filter.openedTo",
        opened_from,
        opened_to,
    )?;
    let population = Population::parse("filter.province", province.as_deref())?;
    let names: Vec<&str> = dims.iter().map(|d| d.as_str()).collect();
    let spec = ctx.state().policy.release_spec();
    if spec.find(ReleaseSubject::Cases, &names).is_none() {
        // Checked before publishing, so that a refused request writes nothing.
        return Err(no_table(spec, ReleaseSubject::Cases));
    }
    let release = release(ctx, "filter.openedTo", &period, &population).await?;
    answer(ctx, &release, ReleaseSubject::Cases, &names)
}

/// `referralStatistics` at scope `NETWORK`.
pub(super) async fn referral_cells(
    ctx: &Context<'_>,
    dims: &[ReferralDimension],
    filter: ReferralFilter,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    let ReferralFilter {
        project,
        status,
        target,
        requested_by,
        province,
        received_from,
        received_to,
        open,
    } = filter;
    refuse_narrowing(&[
        ("filter.project", project.is_some()),
        ("filter.status", status.is_some()),
        ("filter.target", target.is_some()),
        ("filter.requestedBy", requested_by.is_some()),
        ("filter.open", open.is_some()),
    ])?;
    refuse_as_of(as_of)?;
    let period = period_of(
        "filter.receivedFrom",
        "filter.receivedTo",
        received_from,
        received_to,
    )?;
    let population = Population::parse("filter.province", province.as_deref())?;
    let names: Vec<&str> = dims.iter().map(|d| d.as_str()).collect();
    let spec = ctx.state().policy.release_spec();
    if spec.find(ReleaseSubject::Referrals, &names).is_none() {
        return Err(no_table(spec, ReleaseSubject::Referrals));
    }
    let release = release(ctx, "filter.receivedTo", &period, &population).await?;
    answer(ctx, &release, ReleaseSubject::Referrals, &names)
}

/// `referralQueue` at scope `NETWORK`: the release's referrals by target and status, open
/// statuses only, for `period` (the last closed month when not given).
pub(super) async fn queue_cells(
    ctx: &Context<'_>,
    province: Option<String>,
    period: Option<String>,
) -> ApiResult<Vec<StatCell>> {
    let population = Population::parse("province", province.as_deref())?;
    let period = match period {
        Some(p) => ReleasePeriod::parse("period", &p)?,
        None => last_closed_month(ctx)?,
    };
    let names = ["TARGET", "STATUS"];
    let spec = ctx.state().policy.release_spec();
    if spec.find(ReleaseSubject::Referrals, &names).is_none() {
        return Err(ApiError::validation(
            "scope",
            "the protocol's releases have no table of referrals by target and status",
        ));
    }
    let release = release(ctx, "period", &period, &population).await?;
    let cells = answer(ctx, &release, ReleaseSubject::Referrals, &names)?;
    Ok(cells
        .into_iter()
        .filter(|c| {
            c.keys
                .get(1)
                .is_some_and(|s| OPEN_REFERRAL_STATUSES.contains(&s.as_str()))
        })
        .collect())
}

/// The most recent month that can be released today.
fn last_closed_month(ctx: &Context<'_>) -> ApiResult<ReleasePeriod> {
    use chrono::Datelike;
    let spec = ctx.state().policy.release_spec();
    let today = ctx.request().today();
    let mut month = today.with_day(1).unwrap_or(today);
    for _ in 0..15 {
        month = month
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(month);
        let label = format!("{:04}-{:02}", month.year(), month.month());
        let p = ReleasePeriod::parse("period", &label)?;
        if p.check_releasable("period", spec, today).is_ok() {
            return Ok(p);
        }
    }
    Err(ApiError::validation(
        "period",
        "no month can be released yet: name a period",
    ))
}
