//! `agencies`: the organisations in the hub's directory.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An agency (ente): an organisation that takes part in the network, owns
/// cases, signs protocols and sends or receives referrals. Never deleted in
/// normal operation: it is `disabled` instead.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// The agency's kind, in the contract's spelling (e.g. `ENTE_ANTITRATTA`).
    pub kind: String,
    /// Province code (sigla), if the agency is tied to one.
    pub province: Option<String>,
    pub city: Option<String>,
    /// Contact that may be published to anyone (phone, e-mail, hotline).
    pub public_contact: Option<String>,
    pub website: Option<String>,
    /// Contact reserved to partners for sending referrals.
    pub referral_contact: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    /// WGS84 latitude, in degrees.
    pub latitude: Option<f64>,
    /// WGS84 longitude, in degrees.
    pub longitude: Option<f64>,
    /// A disabled agency stays for history but takes no new work.
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Shelters this agency runs (`shelters.owner_id`).
    #[sea_orm(has_many = "super::shelter::Entity")]
    Shelters,
    /// Cases this agency owns (`cases.owner_id`).
    #[sea_orm(has_many = "super::case::Entity")]
    Cases,
    #[sea_orm(has_many = "super::network_member::Entity")]
    NetworkMembers,
    #[sea_orm(has_many = "super::protocol_signatory::Entity")]
    ProtocolSignatories,
    #[sea_orm(has_many = "super::project_ente::Entity")]
    ProjectEnti,
}

impl Related<super::shelter::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shelters.def()
    }
}

impl Related<super::case::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Cases.def()
    }
}

impl Related<super::network_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::NetworkMembers.def()
    }
}

impl Related<super::protocol_signatory::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProtocolSignatories.def()
    }
}

impl Related<super::project_ente::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProjectEnti.def()
    }
}

/// Protocols the agency signed, through `protocol_signatories`.
impl Related<super::protocol::Entity> for Entity {
    fn to() -> RelationDef {
        super::protocol_signatory::Relation::Protocol.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::protocol_signatory::Relation::Agency.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
