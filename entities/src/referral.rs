//! `referrals`: requests (segnalazioni) sent by one agency to another.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A referral of a possible victim from a requesting agency to a target
/// agency, followed through interviews to an outcome; it may end up as a
/// case. Agencies are linked twice, so there is no
/// `Related<agency::Entity>`: use [`Relation::RequestedBy`] or
/// [`Relation::Target`].
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The agency that sent the referral.
    pub requested_by_id: String,
    /// The agency the referral is addressed to.
    pub target_id: String,
    /// The project the referral is counted under, if any.
    pub project_id: Option<String>,
    pub received_on: Date,
    pub province: Option<String>,
    /// Referral status, in the contract's spelling.
    pub status: String,
    /// Date of the scheduled interview, if any.
    pub scheduled_on: Option<Date>,
    pub concluded_on: Option<Date>,
    /// The requesting agency's own reference for the person (no name).
    pub subject_ref: Option<String>,
    pub subject_gender: Option<String>,
    pub subject_nationality: Option<String>,
    /// Outcome, in the contract's spelling.
    pub outcome: Option<String>,
    /// Whether the person joined the protection programme.
    pub programme_adhesion: Option<bool>,
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome_note: Option<String>,
    /// The case opened from this referral, if any.
    pub case_id: Option<String>,
    /// Optimistic-concurrency counter (starts at 1), bumped on each update.
    pub version: i32,
    /// The user (token subject) who created the referral.
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::RequestedById",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    RequestedBy,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::TargetId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Target,
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "Column::ProjectId",
        to = "super::project::Column::Id",
        on_delete = "Restrict"
    )]
    Project,
    #[sea_orm(
        belongs_to = "super::case::Entity",
        from = "Column::CaseId",
        to = "super::case::Column::Id",
        on_delete = "Restrict"
    )]
    Case,
    #[sea_orm(has_many = "super::referral_interview::Entity")]
    Interviews,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

impl Related<super::referral_interview::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Interviews.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
