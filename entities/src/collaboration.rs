//! `collaborations`: directed working ties between two agencies.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A directed collaboration edge from one agency to another. Both ends are
/// agencies, so there is no `Related<agency::Entity>`: use
/// [`Relation::FromAgency`] or [`Relation::ToAgency`].
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "collaborations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Kind of collaboration, in the contract's spelling.
    pub kind: String,
    pub from_id: String,
    pub to_id: String,
    /// Date the collaboration started, if known.
    pub since: Option<Date>,
    /// Strength of the tie (defaults to 1), e.g. for graph layouts.
    pub weight: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::FromId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    FromAgency,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::ToId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    ToAgency,
}

impl ActiveModelBehavior for ActiveModel {}
