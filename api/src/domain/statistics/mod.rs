//! Statistics computed from the rows (ACCESS.md §7): one SQL aggregate per call, then the
//! evaluator's suppression for viewers who get suppressed counts.
//!
//! - [`case_counts`] and [`referral_counts`] count cases and referrals, now or "as of" a date
//!   (see each for what the history can and cannot tell), for `caseStatistics`,
//!   `referralStatistics`, the indicators and `raccordo report` (exact, as the project's
//!   coordination).
//!
//! Every answer is one aggregate statement, whatever the number of rows or cells: keys are
//! computed per row in a derived table and grouped outside it, so that PostgreSQL can group keys
//! computed from joins and subqueries (the phase "as of" a date comes from a window over the
//! phase history, the report's referral columns from the interviews).

pub mod case_counts;
pub mod indicators;
pub mod referral_counts;
pub mod sql;

use async_graphql::SimpleObject;
use raccordo_entities::project;
use raccordo_policies::{suppress, Policy, StatsScope};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::enums::StatisticsScope;
use crate::{
    access::RequestContext,
    error::{ApiError, ApiResult},
};

/// One cell of a statistics answer.
#[derive(SimpleObject, Clone)]
pub struct StatCell {
    /// The cell's keys, one per grouping dimension, in the order asked.
    pub keys: Vec<String>,
    /// The count; null when suppressed.
    pub count: Option<i32>,
    /// Whether the count is hidden to protect small numbers.
    pub suppressed: bool,
}

/// Key shown for rows where a dimension has no value.
pub const UNKNOWN: &str = "UNKNOWN";

/// What a statistics answer counts and how: the policy's answer for one viewer (ACCESS.md §7).
#[derive(Debug, Clone)]
pub struct Grant {
    /// Exact counts over the rows the viewer answers for (`true`), or an answer from a release
    /// (`false`).
    pub exact: bool,
    /// For exact answers: which rows. `None` counts the whole network (never given to a
    /// partner: network answers come from releases).
    pub mine: Option<MineRows>,
}

/// The rows an agency answers for (ACCESS.md §7, exact answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MineRows {
    /// The agency.
    pub agency_id: String,
    /// It counts the cases it holds (an agency of a holding kind).
    pub held_cases: bool,
    /// It counts the referrals sent to it (an agency of a kind that receives referrals).
    pub received_referrals: bool,
}

impl Grant {
    /// Exact counts of the projects `coordinator` coordinates: what the coordination of a project
    /// sees with scope `MINE`. Used by `raccordo report`, an operator's tool on the database.
    pub fn coordination(coordinator: &str) -> Grant {
        Grant {
            exact: true,
            mine: Some(MineRows {
                agency_id: coordinator.to_string(),
                held_cases: false,
                received_referrals: false,
            }),
        }
    }
}

/// One or two distinct dimensions, else `VALIDATION` on `groupBy`.
pub fn check_dimensions<T: PartialEq + Copy>(dims: &[T]) -> ApiResult<()> {
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
pub fn cells(
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

/// Whether `agency_id` coordinates at least one project.
async fn coordinates_a_project<C: ConnectionTrait>(db: &C, agency_id: &str) -> ApiResult<bool> {
    Ok(project::Entity::find()
        .filter(project::Column::CoordinatorId.eq(agency_id))
        .count(db)
        .await?
        > 0)
}

/// Asks the policy for the viewer's grant at `scope` (or its default scope). An exact answer
/// needs rows the agency answers for: cases it holds, referrals sent to it, or projects it
/// coordinates; an agency with none is refused.
pub async fn grant<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    request: &RequestContext,
    scope: Option<StatisticsScope>,
) -> ApiResult<Grant> {
    let viewer = request.viewer();
    let requested = scope.map(|s| match s {
        StatisticsScope::Mine => StatsScope::Mine,
        StatisticsScope::Network => StatsScope::Network,
    });
    let granted = policy.statistics(viewer.as_ref(), requested).map_err(|_| {
        ApiError::Forbidden("the protocol does not give you statistics at this scope".into())
    })?;
    if granted.scope == StatsScope::Network {
        return Ok(Grant {
            exact: false,
            mine: None,
        });
    }
    let p = request.require()?;
    let (Some(agency_id), Some(kind)) = (p.agency_id(), p.kind) else {
        return Err(ApiError::Forbidden(
            "statistics of your own cases need a partner agency".into(),
        ));
    };
    let mine = MineRows {
        agency_id: agency_id.to_string(),
        held_cases: policy.may_hold_cases(kind),
        received_referrals: policy.may_receive_referral(kind),
    };
    if !mine.held_cases && !mine.received_referrals && !coordinates_a_project(db, agency_id).await?
    {
        return Err(ApiError::Forbidden(
            "scope MINE counts the cases and referrals your agency answers for, and it answers for none: network counts come from statistics releases (scope NETWORK)".into(),
        ));
    }
    Ok(Grant {
        exact: granted.exact,
        mine: Some(mine),
    })
}

/// Network access at all: the policy's `NETWORK` grant (refused to `PLATFORM_ADMIN` and to
/// anonymous callers).
pub fn require_network(policy: &Policy, request: &RequestContext) -> ApiResult<()> {
    policy
        .statistics(request.viewer().as_ref(), Some(StatsScope::Network))
        .map(|_| ())
        .map_err(|_| {
            ApiError::Forbidden("the protocol gives network statistics to partners only".into())
        })
}
