//! `transfers`: handing a case's ownership from one agency to another.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A request to transfer a case from one agency to another, backed by a
/// consent, and its decision. Both ends are agencies, so there is no
/// `Related<agency::Entity>`: use [`Relation::FromAgency`] or
/// [`Relation::ToAgency`].
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: String,
    /// The agency giving the case up (its owner at request time).
    pub from_id: String,
    /// The agency asked to take the case.
    pub to_id: String,
    pub consent_id: String,
    /// Request status, in the contract's spelling.
    pub status: String,
    pub requested_on: Date,
    /// The user (token subject) who requested the transfer.
    pub requested_by: String,
    pub decided_at: Option<DateTimeUtc>,
    /// The user (token subject) who accepted or refused it.
    pub decided_by: Option<String>,
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
    #[sea_orm(
        belongs_to = "super::consent::Entity",
        from = "Column::ConsentId",
        to = "super::consent::Column::Id",
        on_delete = "Restrict"
    )]
    Consent,
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Case.def()
    }
}

impl Related<super::consent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
