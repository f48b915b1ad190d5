//! Statistics computed from the rows (ACCESS.md §7): one SQL aggregate per call, then the
//! evaluator's suppression for viewers who get suppressed counts.
//!
//! - [`cases`] and [`referrals`] answer `caseStatistics` and `referralStatistics`, now or "as of"
//!   a date (see [`case_counts`] and [`referral_counts`] for what the history can and cannot
//!   tell).
//! - [`indicators`] answers a project's expected results against what its rows say.
//! - [`case_counts::count`] and [`referral_counts::province_table`] are the same computations
//!   without a GraphQL request, for `raccordo report` (exact, as the project's coordination).
//!
//! Every answer is one aggregate statement, whatever the number of rows or cells: keys are
//! computed per row in a derived table and grouped outside it, so that PostgreSQL can group keys
//! computed from joins and subqueries (the phase "as of" a date comes from a window over the
//! phase history, the report's referral columns from the interviews).

pub(crate) mod case_counts;
pub(crate) mod indicators;
pub(crate) mod referral_counts;
mod sql;

use async_graphql::Context;
use raccordo_policies::{suppress, AgencyKind, StatsScope};

use super::{
    enums::{CaseDimension, ReferralDimension, StatisticsScope},
    query::{CaseFilter, ReferralFilter},
    scalars::Date,
    types::misc::StatCell,
    ContextExt,
};
use crate::error::{ApiError, ApiResult};

pub use indicators::Indicator;

/// Key shown for rows where a dimension has no value.
pub const UNKNOWN: &str = "UNKNOWN";

/// What a statistics answer counts and how: the policy's answer for one viewer (ACCESS.md §7).
#[derive(Debug, Clone)]
pub struct Grant {
    /// Exact counts (`true`) or small counts suppressed (`false`).
    pub exact: bool,
    /// For scope `MINE`: the agency and its kind (an ente counts the cases it holds and the
    /// referrals sent to it, a coordination those of the projects it coordinates). `None`
    /// counts the whole network.
    pub mine: Option<(String, AgencyKind)>,
}

impl Grant {
    /// Exact counts of the projects `coordinator` coordinates: what the coordination of a project
    /// sees with scope `MINE`. Used by `raccordo report`, an operator's tool on the database.
    pub fn coordination(coordinator: &str) -> Grant {
        Grant {
            exact: true,
            mine: Some((coordinator.to_string(), AgencyKind::Coordinamento)),
        }
    }
}

/// Asks the policy for the viewer's grant at `scope` (or its default scope).
fn grant(ctx: &Context<'_>, scope: Option<StatisticsScope>) -> ApiResult<Grant> {
    let request = ctx.request();
    let viewer = request.viewer();
    let requested = scope.map(|s| match s {
        StatisticsScope::Mine => StatsScope::Mine,
        StatisticsScope::Network => StatsScope::Network,
    });
    let granted = ctx
        .state()
        .policy
        .statistics(viewer.as_ref(), requested)
        .map_err(|_| {
            ApiError::Forbidden("the protocol does not give you statistics at this scope".into())
        })?;
    let mine = match granted.scope {
        StatsScope::Network => None,
        StatsScope::Mine => {
            let p = request.require()?;
            match (p.agency_id(), p.kind) {
                (Some(a), Some(k)) => Some((a.to_string(), k)),
                _ => {
                    return Err(ApiError::Forbidden(
                        "statistics of your own cases need a partner agency".into(),
                    ))
                }
            }
        }
    };
    Ok(Grant {
        exact: granted.exact,
        mine,
    })
}

/// One or two distinct dimensions, else `VALIDATION` on `groupBy`.
pub(crate) fn check_dimensions<T: PartialEq + Copy>(dims: &[T]) -> ApiResult<()> {
    if dims.is_empty() || dims.len() > 2 {
        return Err(ApiError::validation(
            "groupBy",
            "group by one or two dimensions",
        ));
    }
    if dims.len() == 2 && dims[0] == dims[1] {
        return Err(ApiError::validation(
            "groupBy",
            "the two dimensions must differ",
        ));
    }
    Ok(())
}

/// Turns grouped counts into the answer's cells: zero counts dropped, missing keys shown as
/// [`UNKNOWN`], cells sorted by keys, and, unless `exact`, the evaluator's primary and secondary
/// suppression with threshold `k`.
pub(crate) fn cells(
    rows: Vec<(Option<String>, Option<String>, i64)>,
    dims: usize,
    exact: bool,
    k: u64,
) -> Vec<StatCell> {
    let mut cells: Vec<raccordo_policies::StatCell> = rows
        .into_iter()
        .filter(|r| r.2 > 0)
        .map(|(a, b, n)| {
            let mut keys = vec![a.unwrap_or_else(|| UNKNOWN.to_string())];
            if dims == 2 {
                keys.push(b.unwrap_or_else(|| UNKNOWN.to_string()));
            }
            raccordo_policies::StatCell {
                keys,
                count: n as u64,
                suppressed: false,
            }
        })
        .collect();
    cells.sort_by(|x, y| x.keys.cmp(&y.keys));
    if !exact {
        suppress(&mut cells, dims, k);
    }
    cells
        .into_iter()
        .map(|c| StatCell {
            keys: c.keys,
            count: (!c.suppressed).then(|| i32::try_from(c.count).unwrap_or(i32::MAX)),
            suppressed: c.suppressed,
        })
        .collect()
}

/// `caseStatistics`.
pub async fn cases(
    ctx: &Context<'_>,
    dims: Vec<CaseDimension>,
    filter: CaseFilter,
    scope: Option<StatisticsScope>,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(ctx, scope)?;
    check_dimensions(&dims)?;
    let query = case_counts::CaseQuery {
        dims: &dims,
        filter: &filter,
        as_of: as_of.map(|d| d.0),
        period: None,
    };
    let state = ctx.state();
    case_counts::count(&state.db, &grant, &query, state.policy.suppression_k()).await
}

/// `referralStatistics` (and `referralQueue`).
pub async fn referrals(
    ctx: &Context<'_>,
    dims: Vec<ReferralDimension>,
    filter: ReferralFilter,
    scope: Option<StatisticsScope>,
    as_of: Option<Date>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(ctx, scope)?;
    check_dimensions(&dims)?;
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
