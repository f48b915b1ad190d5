//! `placement_requests`: a request for emergency places (inserimento in emergenza). No names.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A request for places: how many, for whom, how urgent, where, and a contact. It holds no
/// name or identity data of the people it is for.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "placement_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The agency that asked.
    pub requester_id: String,
    /// The user (token subject) who asked.
    pub requested_by: String,
    /// Places needed: every person, children included.
    pub people: i32,
    /// Of them, minors.
    pub minors: i32,
    /// Who the places are for (`WOMEN`, `MOTHERS_WITH_CHILDREN`...).
    pub takes: String,
    /// The kind of shelter asked for; `None`: any.
    pub kind: Option<String>,
    /// `IMMEDIATE`, `WITHIN_24_HOURS`, `WITHIN_72_HOURS`.
    pub urgency: String,
    /// The province asked for (sigla).
    pub province: String,
    /// How the enti reach the requester (an office phone, a desk e-mail).
    pub contact: String,
    /// `OPEN`, `ACCEPTED`, `PLACED`, `WITHDRAWN`.
    pub status: String,
    /// The offer accepted, once one is.
    pub accepted_offer_id: Option<String>,
    pub requested_at: DateTimeUtc,
    /// When an offer was accepted or the request withdrawn.
    pub closed_at: Option<DateTimeUtc>,
    /// Optimistic-concurrency counter, bumped on each change.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::RequesterId",
        to = "super::agency::Column::Id",
        on_delete = "Restrict"
    )]
    Requester,
    #[sea_orm(has_many = "super::placement_offer::Entity")]
    Offers,
}

impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Requester.def()
    }
}

impl Related<super::placement_offer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Offers.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
