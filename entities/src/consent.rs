//! `consents`: the person's consent to share their case with an agency.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Consent given by the person of a case for a purpose and a recipient
/// agency. It is valid from `given_on` until `expires_on` or `revoked_on`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: String,
    /// Purpose of the sharing, in the contract's spelling.
    pub purpose: String,
    /// The agency the data may be shared with.
    pub recipient_id: String,
    pub given_on: Date,
    pub expires_on: Option<Date>,
    pub revoked_on: Option<Date>,
    /// The user (token subject) who recorded the consent.
    pub recorded_by: String,
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
        from = "Column::RecipientId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Recipient,
    #[sea_orm(has_many = "super::share::Entity")]
    Shares,
    #[sea_orm(has_many = "super::transfer::Entity")]
    Transfers,
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

/// The recipient agency.
impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Recipient.def()
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

impl ActiveModelBehavior for ActiveModel {}
