//! `placement_offers`: an ente's offer of places on a placement request.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An offer of places from one of the ente's shelters. The shelter stays with the ente: the
/// requester learns the ente and its contact, never `shelter_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "placement_offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub request_id: String,
    /// The ente that offers (one offer per ente and request).
    pub ente_id: String,
    /// The shelter whose places the offer holds. Never shown to anyone but the ente.
    pub shelter_id: String,
    /// The user (token subject) who offered.
    pub offered_by: String,
    /// Places held by the offer.
    pub places: i32,
    /// How the requester reaches the ente about this offer.
    pub contact: String,
    /// `OFFERED`, `ACCEPTED`, `DECLINED`, `WITHDRAWN`, `PLACED`.
    pub status: String,
    pub offered_at: DateTimeUtc,
    /// When the status last changed after the offer.
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::placement_request::Entity",
        from = "Column::RequestId",
        to = "super::placement_request::Column::Id",
        on_delete = "Cascade"
    )]
    Request,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::EnteId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Ente,
    #[sea_orm(
        belongs_to = "super::shelter::Entity",
        from = "Column::ShelterId",
        to = "super::shelter::Column::Id",
        on_delete = "Restrict"
    )]
    Shelter,
}

impl Related<super::placement_request::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Request.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
