//! `referral_corrections`: the history of corrections to concluded referrals (ACCESS.md §6).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One correction of a concluded referral by its target ente: when, by whom, why, and which
/// fields it changed (their contract names). Values are not kept here: the referral holds the
/// corrected ones.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "referral_corrections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub referral_id: String,
    pub corrected_at: DateTimeUtc,
    /// The user (token subject) who corrected it.
    pub corrected_by: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// The fields changed, contract names separated by commas (`outcome,programmeAdhesion`).
    pub fields: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::referral::Entity",
        from = "Column::ReferralId",
        to = "super::referral::Column::Id",
        on_delete = "Cascade"
    )]
    Referral,
}

impl Related<super::referral::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Referral.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
