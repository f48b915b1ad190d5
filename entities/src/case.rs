//! `cases`: the people taken in charge, one row per case.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A case: a person taken in charge by an owning agency. Fields go from the
/// least identifying (phase, gender, age group) to the most (legal name,
/// birth date, phone); which of them a reader may see is decided by the
/// policies crate, not here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Human-facing case code, unique across the hub.
    #[sea_orm(unique)]
    pub code: String,
    /// The agency that holds (owns) the case.
    pub owner_id: String,
    /// The project the case is counted under, if any.
    pub project_id: Option<String>,
    /// Current phase, in the contract's spelling.
    pub phase: String,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    /// Optimistic-concurrency counter (starts at 1), bumped on each update.
    pub version: i32,
    pub gender: Option<String>,
    pub age_group: Option<String>,
    pub nationality: Option<String>,
    /// How the person came to light (emersione), in the contract's spelling.
    pub emersion_channel: Option<String>,
    /// Province where the person came to light.
    pub emersion_province: Option<String>,
    /// Number of minors accompanying the person.
    pub accompanying_minors: Option<i32>,
    pub pregnant: Option<bool>,
    /// Name the person is known by in daily work (not the legal name).
    pub alias: Option<String>,
    pub legal_name: Option<String>,
    pub birth_date: Option<Date>,
    pub phone: Option<String>,
    /// Shelter currently housing the person, if any.
    pub shelter_id: Option<String>,
    /// Residence-permit status when the case was opened.
    pub permit_at_start: Option<String>,
    /// Residence-permit status now.
    pub permit_current: Option<String>,
    pub permit_expires_on: Option<Date>,
    pub asylum_status: Option<String>,
    /// Whether a criminal complaint (denuncia) was filed.
    pub complaint_filed: Option<bool>,
    pub complaint_filed_on: Option<Date>,
    #[sea_orm(column_type = "Text", nullable)]
    pub health_notes: Option<String>,
    /// Psychological support received, in the contract's spelling.
    pub psych_support: Option<String>,
    /// Gender-based-violence indicators: a JSON array of strings, as TEXT.
    #[sea_orm(column_type = "Text", nullable)]
    pub gbv_indicators: Option<String>,
    pub gbv_risk_level: Option<String>,
    /// Outcome of the path, in the contract's spelling.
    pub outcome: Option<String>,
    pub outcome_on: Option<Date>,
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
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "Column::ProjectId",
        to = "super::project::Column::Id",
        on_delete = "Restrict"
    )]
    Project,
    #[sea_orm(
        belongs_to = "super::shelter::Entity",
        from = "Column::ShelterId",
        to = "super::shelter::Column::Id",
        on_delete = "Restrict"
    )]
    Shelter,
    #[sea_orm(has_many = "super::case_exploitation::Entity")]
    Exploitations,
    #[sea_orm(has_many = "super::case_phase_change::Entity")]
    PhaseChanges,
    #[sea_orm(has_many = "super::activity::Entity")]
    Activities,
    #[sea_orm(has_many = "super::case_note::Entity")]
    Notes,
    #[sea_orm(has_many = "super::consent::Entity")]
    Consents,
    #[sea_orm(has_many = "super::share::Entity")]
    Shares,
    #[sea_orm(has_many = "super::transfer::Entity")]
    Transfers,
    #[sea_orm(has_many = "super::referral::Entity")]
    Referrals,
}

/// The owning agency.
impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<super::shelter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shelter.def()
    }
}

impl Related<super::case_exploitation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Exploitations.def()
    }
}

impl Related<super::case_phase_change::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PhaseChanges.def()
    }
}

impl Related<super::activity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Activities.def()
    }
}

impl Related<super::case_note::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notes.def()
    }
}

impl Related<super::consent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consents.def()
    }
}

impl Related<super::share::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shares.def()
    }
}

impl Related<super::transfer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transfers.def()
    }
}

impl Related<super::referral::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Referrals.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
