//! `case_notes`: free-text notes written on a case.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A note on a case, written by a user of an agency.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "case_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: String,
    /// The agency the author wrote for.
    pub author_agency_id: String,
    /// The author (token subject).
    pub author_user_id: String,
    pub written_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// Whether partners jointly working the case may read the note; if not,
    /// only the author's agency may.
    pub shared_with_joint_partners: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::case::Entity",
        from = "Column::CaseId",
        to = "super::case::Column::Id",
        on_delete = "Restrict"
    )]
    Case,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::AuthorAgencyId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    AuthorAgency,
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

/// The author's agency.
impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthorAgency.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
