//! `statistics_releases`: network statistics releases (ACCESS.md §7), written once, then only read.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One frozen release: the differentially private tables of one closed period for one
/// population. `(period, population)` is unique.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "statistics_releases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `2023`, `2023-Q2` or `2023-06`.
    pub period: String,
    /// `HUB` for the whole hub, else a province sigla.
    pub population: String,
    /// The rows as they stood on this day.
    pub cut_off: Date,
    pub published_at: DateTimeUtc,
    pub epsilon_per_table: f64,
    /// The mechanism, in words.
    pub method: String,
    /// The protocol version whose tables and parameters the release follows.
    pub policy_version: String,
    /// The tables, as JSON (see the api's `releases` module).
    #[sea_orm(column_type = "Text")]
    pub tables: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
