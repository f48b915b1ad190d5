//! Network statistics releases (ACCESS.md §7): every network answer comes from one of these.
//!
//! A release is one closed period ([`ReleasePeriod`]) for one [`Population`]. It is computed
//! once, from the rows as they stand that day, with noise on every count ([`noise`]), then
//! stored; from then on every caller on every hub instance reads the stored row. Two instances
//! that publish the same release at once both insert; the unique index keeps the first, and both
//! serve it. Asking again, or asking for an overlapping period, never draws new noise for a
//! stored table, so repeating a question averages nothing away.

pub mod command;
mod microdata;
pub mod noise;
mod period;
pub mod tables;

use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::statistics_release;
use raccordo_policies::{
    release::{ReleaseSpec, ReleaseSubject, TableMatch},
    Policy,
};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

pub use period::{Population, ReleasePeriod};

use crate::error::{ApiError, ApiResult};

/// One published cell: its keys and its protected count (`None`: suppressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseCell {
    /// One key per dimension, in the table's order.
    pub keys: Vec<String>,
    /// The noisy count after post-processing; `None` when below k.
    pub count: Option<u64>,
}

/// One published table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseTable {
    /// `cases` or `referrals`.
    pub subject: String,
    /// The dimensions, in the order the keys follow.
    pub group_by: Vec<String>,
    /// Every combination of categories, zeros included.
    pub cells: Vec<ReleaseCell>,
}

/// A stored release.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// Stable id: `period@population`.
    pub id: String,
    /// The period.
    pub period: String,
    /// The population.
    pub population: Population,
    /// The rows as they stood on this day.
    pub cut_off: NaiveDate,
    /// When it was computed and frozen.
    pub published_at: DateTime<Utc>,
    /// ε spent per table.
    pub epsilon_per_table: f64,
    /// The mechanism, in words.
    pub method: String,
    /// The protocol version it follows.
    pub policy_version: String,
    /// Its tables, in the document's order.
    pub tables: Vec<ReleaseTable>,
}

impl Release {
    /// The cells answering a grouping by `dimensions` of `subject`, keys in the caller's order;
    /// `None` when the release has no such table.
    pub fn answer(
        &self,
        spec: &ReleaseSpec,
        subject: ReleaseSubject,
        dimensions: &[&str],
    ) -> Option<Vec<ReleaseCell>> {
        let TableMatch { index, swapped } = spec.find(subject, dimensions)?;
        let spec_table = spec.tables.get(index)?;
        let table = self
            .tables
            .iter()
            .find(|t| t.subject == subject.as_str() && t.group_by == spec_table.dimensions)?;
        let mut cells = table.cells.clone();
        if swapped {
            for c in &mut cells {
                c.keys.reverse();
            }
            cells.sort_by(|a, b| a.keys.cmp(&b.keys));
        }
        Some(cells)
    }

    fn from_row(row: statistics_release::Model) -> ApiResult<Release> {
        let tables: Vec<ReleaseTable> = serde_json::from_str(&row.tables).map_err(|e| {
            ApiError::Internal(format!("stored release {} unreadable: {e}", row.id).into())
        })?;
        Ok(Release {
            id: row.id,
            period: row.period,
            population: Population::from_key(&row.population),
            cut_off: row.cut_off,
            published_at: row.published_at,
            epsilon_per_table: row.epsilon_per_table,
            method: row.method,
            policy_version: row.policy_version,
            tables,
        })
    }
}

fn release_id(period: &ReleasePeriod, population: &Population) -> String {
    format!("{}@{}", period.label, population.key())
}

/// The stored release, if it was published.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    period: &ReleasePeriod,
    population: &Population,
) -> ApiResult<Option<Release>> {
    statistics_release::Entity::find()
        .filter(statistics_release::Column::Period.eq(period.label.as_str()))
        .filter(statistics_release::Column::Population.eq(population.key()))
        .one(db)
        .await?
        .map(Release::from_row)
        .transpose()
}

/// Every published release, oldest period first, hub before provinces.
pub async fn published<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<Release>> {
    statistics_release::Entity::find()
        .order_by_asc(statistics_release::Column::Period)
        .order_by_asc(statistics_release::Column::Population)
        .all(db)
        .await?
        .into_iter()
        .map(Release::from_row)
        .collect()
}

/// The release of `period` for `population`: the stored one, or, the first time, computed now,
/// stored, and then read back (so that when two instances publish at once both answer with the
/// one stored). The caller has checked that the period is closed.
pub async fn get_or_publish<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    period: &ReleasePeriod,
    population: &Population,
    now: DateTime<Utc>,
) -> ApiResult<Release> {
    if let Some(release) = find(db, period, population).await? {
        return Ok(release);
    }
    let spec = policy.release_spec();
    let rows = microdata::load(db, policy, period, population).await?;
    let mut tables = Vec::with_capacity(spec.tables.len());
    let mut spent: f64 = 0.0;
    for table in &spec.tables {
        let truth = match table.subject {
            ReleaseSubject::Cases => tables::count(spec, table, &rows.agencies, &rows.cases),
            ReleaseSubject::Placements => {
                tables::count(spec, table, &rows.agencies, &rows.placements)
            }
            ReleaseSubject::Referrals => {
                tables::count(spec, table, &rows.agencies, &rows.referrals)
            }
        };
        let (noisy, epsilon) = noise::add(
            &truth.counts,
            spec.noise_scale(table),
            spec.sensitivity(table),
        )?;
        spent = spent.max(epsilon);
        tables.push(ReleaseTable {
            subject: table.subject.as_str().to_string(),
            group_by: table.dimensions.clone(),
            cells: truth
                .keys
                .into_iter()
                .zip(noisy)
                .map(|(keys, n)| ReleaseCell {
                    keys,
                    count: spec.publish(n),
                })
                .collect(),
        });
    }
    // The library's own privacy map must agree with the document: never publish a table that
    // spends more than the protocol states.
    if spent > spec.epsilon_per_table * (1.0 + 1e-9) {
        return Err(ApiError::Internal(
            format!(
                "a release table would spend ε = {spent}, above the protocol's {}",
                spec.epsilon_per_table
            )
            .into(),
        ));
    }
    let json = serde_json::to_string(&tables)
        .map_err(|e| ApiError::Internal(format!("release not serialisable: {e}").into()))?;
    let row = statistics_release::ActiveModel {
        id: Set(release_id(period, population)),
        period: Set(period.label.clone()),
        population: Set(population.key().to_string()),
        cut_off: Set(crate::access::local_date(now)),
        published_at: Set(now),
        epsilon_per_table: Set(spec.epsilon_per_table),
        method: Set(noise::describe(spec.k)),
        policy_version: Set(policy.version().to_string()),
        tables: Set(json),
    };
    statistics_release::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                statistics_release::Column::Period,
                statistics_release::Column::Population,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    find(db, period, population)
        .await?
        .ok_or_else(|| ApiError::Internal("a release just stored could not be read back".into()))
}
