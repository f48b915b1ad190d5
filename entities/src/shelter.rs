//! `shelters`: protected housing run by agencies.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A shelter (struttura di accoglienza) run by an agency.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "shelters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The agency that runs the shelter.
    pub owner_id: String,
    pub name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::OwnerId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Owner,
    /// Cases housed here (`cases.shelter_id`).
    #[sea_orm(has_many = "super::case::Entity")]
    Cases,
}

impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Cases.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
