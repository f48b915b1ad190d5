//! `projects`: funded anti-trafficking projects.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A project, run by a coordinating agency together with partner agencies
/// (enti, see `project_enti`). Agencies are linked twice (coordinator and
/// partners), so there is no `Related<agency::Entity>`: use
/// [`Relation::Coordinator`] or [`Enti`].
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// The coordinating agency (capofila).
    pub coordinator_id: String,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::CoordinatorId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Coordinator,
    #[sea_orm(has_many = "super::project_ente::Entity")]
    ProjectEnti,
    #[sea_orm(has_many = "super::project_indicator::Entity")]
    Indicators,
    #[sea_orm(has_many = "super::case::Entity")]
    Cases,
    #[sea_orm(has_many = "super::referral::Entity")]
    Referrals,
}

impl Related<super::project_ente::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProjectEnti.def()
    }
}

impl Related<super::project_indicator::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Indicators.def()
    }
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Cases.def()
    }
}

impl Related<super::referral::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Referrals.def()
    }
}

/// The project's partner agencies, through `project_enti`
/// (use with `find_linked`).
#[derive(Clone, Copy, Debug)]
pub struct Enti;

impl Linked for Enti {
    type FromEntity = Entity;
    type ToEntity = super::agency::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![
            Relation::ProjectEnti.def(),
            super::project_ente::Relation::Agency.def(),
        ]
    }
}

impl ActiveModelBehavior for ActiveModel {}
