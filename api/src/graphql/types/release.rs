//! `StatisticsRelease` and `ReleaseTable`: network statistics as published (ACCESS.md §7).

use async_graphql::{Object, SimpleObject, ID};

use super::misc::StatCell;
use crate::{
    graphql::scalars::{Date, DateTime},
    releases::{Release, ReleaseCell},
};

/// A published release cell as the contract's `StatCell`.
pub(crate) fn release_cell(c: ReleaseCell) -> StatCell {
    StatCell {
        keys: c.keys,
        count: c.count.map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
        suppressed: c.count.is_none(),
    }
}

/// A stored release, as the GraphQL type `StatisticsRelease`.
pub struct StatisticsRelease(pub Release);

/// One closed period for one population, with differentially private counts: computed once,
/// then served unchanged to every partner.
#[Object]
impl StatisticsRelease {
    /// `period@population`, e.g. `2023-Q2@HUB` or `2023@BG`.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// `2023` (year), `2023-Q2` (quarter) or `2023-06` (month).
    async fn period(&self) -> &str {
        &self.0.period
    }
    /// The province (sigla); null for the whole hub.
    async fn province(&self) -> Option<&str> {
        self.0.population.province()
    }
    /// The rows as they stood on this day.
    async fn cut_off(&self) -> Date {
        Date(self.0.cut_off)
    }
    /// When the release was computed and frozen.
    async fn published_at(&self) -> DateTime {
        DateTime(self.0.published_at)
    }
    /// The privacy loss ε of each table.
    async fn epsilon_per_table(&self) -> f64 {
        self.0.epsilon_per_table
    }
    /// The mechanism, in words.
    async fn method(&self) -> &str {
        &self.0.method
    }
    /// Every table, each with every category of its dimensions (zeros included).
    async fn tables(&self) -> Vec<ReleaseTable> {
        self.0
            .tables
            .iter()
            .map(|t| ReleaseTable {
                subject: t.subject.clone(),
                group_by: t.group_by.clone(),
                cells: t.cells.iter().cloned().map(release_cell).collect(),
            })
            .collect()
    }
}

/// One table of a release.
#[derive(SimpleObject)]
pub struct ReleaseTable {
    /// `cases` (opened in the period) or `referrals` (received in the period).
    pub subject: String,
    /// The dimensions, in the order of each cell's keys.
    pub group_by: Vec<String>,
    /// Every combination of categories; a count below k is suppressed.
    pub cells: Vec<StatCell>,
}
