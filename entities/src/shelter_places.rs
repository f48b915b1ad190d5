//! `shelter_places`: a shelter's kind, who it takes, its capacity and the places out of use.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// The places of one shelter (one row per shelter that records them). Occupancy is not kept
/// here: it is counted from the open cases placed in the shelter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "shelter_places")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub shelter_id: String,
    /// `PRONTO_INTERVENTO`, `PRIMA_ACCOGLIENZA`, `SECONDA_ACCOGLIENZA`, `SEMI_AUTONOMY`,
    /// `LOW_THRESHOLD`.
    pub kind: String,
    /// Who it takes: `WOMEN`, `MEN`, `TRANS`, `MOTHERS_WITH_CHILDREN`, `MINORS`.
    pub takes: String,
    pub capacity: i32,
    /// Places temporarily out of use (repairs, quarantine...), with a reason.
    pub unavailable: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub unavailable_reason: Option<String>,
    /// Places promised by live offers (offered, or accepted and not yet placed); kept by the
    /// hub in the same transaction as each offer's change, never typed in.
    pub on_offer: i32,
    /// Optimistic-concurrency counter, bumped on each change.
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shelter::Entity",
        from = "Column::ShelterId",
        to = "super::shelter::Column::Id",
        on_delete = "Cascade"
    )]
    Shelter,
}

impl Related<super::shelter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shelter.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
