//! `networks`: territorial networks of agencies.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A territorial network of agencies, optionally led by one of them.
/// Agencies are linked twice (lead and members), so there is no
/// `Related<agency::Entity>`: use [`Relation::Lead`] or [`MemberAgencies`].
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "networks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub province: Option<String>,
    /// The lead agency (capofila), if any.
    pub lead_id: Option<String>,
    /// Number of municipalities the network covers.
    pub municipalities: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The lead agency (`lead_id`).
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::LeadId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Lead,
    #[sea_orm(has_many = "super::network_member::Entity")]
    Members,
}

impl Related<super::network_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Members.def()
    }
}

/// The network's member agencies, through `network_members`
/// (use with `find_linked`).
#[derive(Clone, Copy, Debug)]
pub struct MemberAgencies;

impl Linked for MemberAgencies {
    type FromEntity = Entity;
    type ToEntity = super::agency::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![
            Relation::Members.def(),
            super::network_member::Relation::Agency.def(),
        ]
    }
}

impl ActiveModelBehavior for ActiveModel {}
