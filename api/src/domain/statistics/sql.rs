//! SQL building blocks shared by the statistics: scalar subqueries, the end of a day, and the
//! derived-table grouping every statistics answer goes through.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sea_orm::{
    sea_query::{Alias, Asterisk, Expr, Query, SelectStatement, SimpleExpr},
    ConnectionTrait,
};

use crate::error::{ApiError, ApiResult};

/// Alias of the per-row derived table.
const T: &str = "t";
/// Column of the derived table with the counted row's id.
pub const ROW_ID: &str = "row_id";

/// The first instant after `day` (UTC): a timestamp `at` falls on or before `day` when
/// `at < end_of(day)`. History rows of the demo are dated 09:00 UTC of their day.
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.checked_add_days(Days::new(1))
        .unwrap_or(day)
        .and_time(NaiveTime::MIN)
        .and_utc()
}

/// `(SELECT …)` as a value.
pub fn scalar(select: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(select.into_sub_query_statement()))
}

/// Groups the derived table `inner` (one row per counted row, with the keys `k0` and, for two
/// dimensions, `k1`) and counts its rows: `COUNT(DISTINCT row_id)` when `distinct` (a join
/// repeats rows), else `COUNT(*)`. One statement.
pub async fn grouped<C: ConnectionTrait>(
    db: &C,
    inner: SelectStatement,
    dims: usize,
    distinct: bool,
) -> ApiResult<Vec<(Option<String>, Option<String>, i64)>> {
    let t = Alias::new(T);
    let keys: Vec<&str> = ["k0", "k1"].into_iter().take(dims).collect();
    let mut outer = Query::select();
    outer.from_subquery(inner, t.clone());
    for k in &keys {
        outer
            .expr_as(Expr::col((t.clone(), Alias::new(*k))), Alias::new(*k))
            .add_group_by([Expr::col((t.clone(), Alias::new(*k))).into()]);
    }
    let n = if distinct {
        Expr::col((t.clone(), Alias::new(ROW_ID))).count_distinct()
    } else {
        Expr::col(Asterisk).count()
    };
    outer.expr_as(n, Alias::new("n"));
    let rows = db
        .query_all(db.get_database_backend().build(&outer))
        .await?;
    rows.into_iter()
        .map(|row| {
            let k0: Option<String> = row.try_get("", "k0")?;
            let k1: Option<String> = if dims == 2 {
                row.try_get("", "k1")?
            } else {
                None
            };
            let n: i64 = row.try_get("", "n")?;
            Ok((k0, k1, n))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(ApiError::from)
}

/// Reads a count column of a one-row answer (0 when absent or NULL).
pub fn count_of(row: &sea_orm::QueryResult, column: &str) -> ApiResult<i64> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}
