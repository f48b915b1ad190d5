//! The statements that carry the places rules under concurrency: conditional updates whose
//! `WHERE` re-checks the rule, so two writers can never both pass it (on PostgreSQL the second
//! waits for the first's row lock and re-evaluates the condition on the committed row; on
//! SQLite writers are serialised). Written once with `?` placeholders, numbered for PostgreSQL.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::PlacesInput;
use crate::error::ApiResult;

/// People in the open cases placed in a shelter: the person and the minors with them.
const OCCUPANCY: &str = "(SELECT COALESCE(SUM(1 + COALESCE(c.accompanying_minors, 0)), 0) \
     FROM cases c WHERE c.shelter_id = shelter_places.shelter_id AND c.closed_on IS NULL)";

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn execute<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> ApiResult<u64> {
    let backend = db.get_database_backend();
    Ok(db
        .execute(statement(backend, sql, values))
        .await?
        .rows_affected())
}

/// Occupancy of each of `shelters` (absent: nobody placed).
pub(super) async fn occupancy<C: ConnectionTrait>(
    db: &C,
    shelters: &[String],
) -> ApiResult<HashMap<String, i64>> {
    if shelters.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; shelters.len()].join(", ");
    let sql = format!(
        "SELECT shelter_id, COALESCE(SUM(1 + COALESCE(accompanying_minors, 0)), 0) AS n \
         FROM cases WHERE closed_on IS NULL AND shelter_id IN ({marks}) GROUP BY shelter_id"
    );
    let values = shelters.iter().map(|s| Value::from(s.clone())).collect();
    let rows = db
        .query_all(statement(db.get_database_backend(), &sql, values))
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        let id: String = row.try_get("", "shelter_id")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(id, n);
    }
    Ok(out)
}

/// One shelter's places with its province and occupancy, for the vacancy table.
pub(super) struct PlaceRow {
    pub province: Option<String>,
    pub kind: String,
    pub takes: String,
    pub capacity: i64,
    pub unavailable: i64,
    pub on_offer: i64,
    pub occupancy: i64,
}

/// Every shelter's places, in one statement.
pub(super) async fn all_places<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<PlaceRow>> {
    let sql = format!(
        "SELECT s.province AS province, shelter_places.kind AS kind, shelter_places.takes AS takes, \
         shelter_places.capacity AS capacity, shelter_places.unavailable AS unavailable, \
         shelter_places.on_offer AS on_offer, {OCCUPANCY} AS occupancy \
         FROM shelter_places JOIN shelters s ON s.id = shelter_places.shelter_id"
    );
    let rows = db
        .query_all(statement(db.get_database_backend(), &sql, Vec::new()))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let int = |name: &str| -> ApiResult<i64> {
            // SQLite and PostgreSQL type INTEGER columns and SUM()s differently.
            match row.try_get::<i64>("", name) {
                Ok(v) => Ok(v),
                Err(_) => Ok(i64::from(row.try_get::<i32>("", name)?)),
            }
        };
        out.push(PlaceRow {
            province: row.try_get("", "province")?,
            kind: row.try_get("", "kind")?,
            takes: row.try_get("", "takes")?,
            capacity: int("capacity")?,
            unavailable: int("unavailable")?,
            on_offer: int("on_offer")?,
            occupancy: int("occupancy")?,
        });
    }
    Ok(out)
}

/// Changes a shelter's places, only if its version is still `version` and the new capacity still
/// covers the people placed and the places on offer.
pub(super) async fn update_places<C: ConnectionTrait>(
    db: &C,
    shelter_id: &str,
    input: &PlacesInput,
    reason: Option<String>,
    version: i32,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE shelter_places SET kind = ?, takes = ?, capacity = ?, unavailable = ?, \
         unavailable_reason = ?, version = version + 1, updated_at = ? \
         WHERE shelter_id = ? AND version = ? AND ? - ? - on_offer - {OCCUPANCY} >= 0"
    );
    let n = execute(
        db,
        &sql,
        vec![
            input.kind.as_str().into(),
            input.takes.as_str().into(),
            input.capacity.into(),
            input.unavailable.into(),
            reason.into(),
            now.into(),
            shelter_id.into(),
            version.into(),
            input.capacity.into(),
            input.unavailable.into(),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// Holds `places` of a shelter for an offer, only while they are vacant.
pub(super) async fn hold<C: ConnectionTrait>(
    db: &C,
    shelter_id: &str,
    places: i32,
) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE shelter_places SET on_offer = on_offer + ?, version = version + 1 \
         WHERE shelter_id = ? AND capacity - unavailable - on_offer - {OCCUPANCY} >= ?"
    );
    let n = execute(
        db,
        &sql,
        vec![places.into(), shelter_id.into(), places.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Gives back `places` held by an offer.
pub(super) async fn release<C: ConnectionTrait>(
    db: &C,
    shelter_id: &str,
    places: i32,
) -> ApiResult<()> {
    execute(
        db,
        "UPDATE shelter_places SET on_offer = CASE WHEN on_offer > ? THEN on_offer - ? ELSE 0 END, \
         version = version + 1 WHERE shelter_id = ?",
        vec![places.into(), places.into(), shelter_id.into()],
    )
    .await?;
    Ok(())
}

/// Locks an open request's row (PostgreSQL) without changing it: fails when it is no longer
/// open. The version is left alone, so that an ente watching a request it sees cannot count the
/// other enti's offers by its version.
pub(super) async fn touch_open_request<C: ConnectionTrait>(db: &C, id: &str) -> ApiResult<bool> {
    let n = execute(
        db,
        "UPDATE placement_requests SET status = status WHERE id = ? AND status = 'OPEN'",
        vec![id.into()],
    )
    .await?;
    Ok(n == 1)
}

fn in_list(statuses: &[&str]) -> String {
    vec!["?"; statuses.len()].join(", ")
}

/// Moves a request from one of `from` to `to`; fails when it is in none of them.
pub(super) async fn close_request<C: ConnectionTrait>(
    db: &C,
    id: &str,
    from: &[&str],
    to: &str,
    accepted_offer: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE placement_requests SET status = ?, \
         accepted_offer_id = COALESCE(?, accepted_offer_id), \
         closed_at = COALESCE(closed_at, ?), version = version + 1 \
         WHERE id = ? AND status IN ({})",
        in_list(from)
    );
    let mut values: Vec<Value> = vec![
        to.into(),
        accepted_offer.map(str::to_string).into(),
        now.into(),
        id.into(),
    ];
    values.extend(from.iter().map(|s| Value::from(*s)));
    Ok(execute(db, &sql, values).await? == 1)
}

/// Moves an offer from one of `from` to `to`; fails when it is in none of them.
pub(super) async fn set_offer_status<C: ConnectionTrait>(
    db: &C,
    id: &str,
    from: &[&str],
    to: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE placement_offers SET status = ?, decided_at = ? WHERE id = ? AND status IN ({})",
        in_list(from)
    );
    let mut values: Vec<Value> = vec![to.into(), now.into(), id.into()];
    values.extend(from.iter().map(|s| Value::from(*s)));
    Ok(execute(db, &sql, values).await? == 1)
}
