//! The statistics a partner asks for (ACCESS.md §7): the policy's grant for the viewer, then
//! exact counts over the viewer's rows (computed by `domain::statistics`) or an answer from a
//! network release.
//!
//! - [`cases`] and [`referrals`] answer `caseStatistics` and `referralStatistics`, now or "as of"
//!   a date.
//! - `indicators` (in `domain::statistics`) answers a project's expected results against what
//!   its rows say.

mod network;

use async_graphql::Context;

use super::{types::release::StatisticsRelease, ContextExt};
pub use crate::domain::statistics::{cells, check_dimensions, grant, require_network};
use crate::{
    domain::{
        enums::{CaseDimension, ReferralDimension, StatisticsScope},
        filters::{CaseFilter, ReferralFilter},
        scalars::Date,
        statistics::{case_counts, referral_counts, StatCell},
    },
    error::{ApiError, ApiResult},
};

pub use crate::domain::statistics::indicators::Indicator;

/// `caseStatistics`: exact over the viewer's rows, or from a release.
pub async fn cases(
    ctx: &Context<'_>,
    dims: Vec<CaseDimension>,
    filter: CaseFilter,
    scope: Option<StatisticsScope>,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(&ctx.state().db, &ctx.state().policy, ctx.request(), scope).await?;
    check_dimensions(&dims)?;
    if !grant.exact {
        return network::case_cells(ctx, &dims, filter, as_of).await;
    }
    let query = case_counts::CaseQuery {
        dims: &dims,
        filter: &filter,
        as_of: as_of.map(|d| d.0),
        period: None,
    };
    let state = ctx.state();
    case_counts::count(&state.db, &grant, &query, state.policy.suppression_k()).await
}

/// `referralStatistics`: exact over the referrals the viewer answers for, or from a release.
pub async fn referrals(
    ctx: &Context<'_>,
    dims: Vec<ReferralDimension>,
    filter: ReferralFilter,
    scope: Option<StatisticsScope>,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(&ctx.state().db, &ctx.state().policy, ctx.request(), scope).await?;
    check_dimensions(&dims)?;
    if !grant.exact {
        return network::referral_cells(ctx, &dims, filter, as_of).await;
    }
    let state = ctx.state();
    referral_counts::count(
        &state.db,
        &grant,
        &dims,
        &filter,
        as_of.map(|d| d.0),
        state.policy.suppression_k(),
    )
    .await
}

/// `referralQueue`: the open referrals per target ente. Exact over the viewer's own (scope
/// `MINE`, by target and province); across the network, from the release of `period` (by
/// target and status, open statuses only).
pub async fn queue(
    ctx: &Context<'_>,
    province: Option<String>,
    scope: Option<StatisticsScope>,
    period: Option<String>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(&ctx.state().db, &ctx.state().policy, ctx.request(), scope).await?;
    if !grant.exact {
        return network::queue_cells(ctx, province, period).await;
    }
    if period.is_some() {
        return Err(ApiError::validation(
            "period",
            "your own queue is counted now: a period names a network release (scope NETWORK)",
        ));
    }
    let filter = ReferralFilter {
        province,
        open: Some(true),
        ..Default::default()
    };
    let dims = [ReferralDimension::Target, ReferralDimension::Province];
    let state = ctx.state();
    referral_counts::count(
        &state.db,
        &grant,
        &dims,
        &filter,
        None,
        state.policy.suppression_k(),
    )
    .await
}

/// `statisticsRelease(period, province)`.
pub async fn release(
    ctx: &Context<'_>,
    period: &str,
    province: Option<&str>,
) -> ApiResult<StatisticsRelease> {
    require_network(&ctx.state().policy, ctx.request())?;
    let period = crate::releases::ReleasePeriod::parse("period", period)?;
    let population = crate::releases::Population::parse("province", province)?;
    network::release(ctx, "period", &period, &population)
        .await
        .map(StatisticsRelease)
}

/// `statisticsReleases`.
pub async fn releases(ctx: &Context<'_>) -> ApiResult<Vec<StatisticsRelease>> {
    require_network(&ctx.state().policy, ctx.request())?;
    Ok(crate::releases::published(&ctx.state().db)
        .await?
        .into_iter()
        .map(StatisticsRelease)
        .collect())
}
