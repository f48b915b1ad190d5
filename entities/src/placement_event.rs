//! `placement_events`: every step of a placement request, in order.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One step: asked, offered, accepted, declined, withdrawn, placed. Who and when; never a
/// shelter.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "placement_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub request_id: String,
    /// The offer the step is about, if any.
    pub offer_id: Option<String>,
    pub at: DateTimeUtc,
    /// The agency that took the step (`None`: the hub itself, e.g. an offer declined because
    /// another was accepted).
    pub agency_id: Option<String>,
    pub user_id: Option<String>,
    /// `REQUESTED`, `OFFERED`, `ACCEPTED`, `DECLINED`, `OFFER_WITHDRAWN`, `WITHDRAWN`, `PLACED`.
    pub event: String,
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
}

impl Related<super::placement_request::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Request.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
