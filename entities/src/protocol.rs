//! `protocols`: agreements (protocolli d'intesa) among agencies.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A signed agreement among agencies; it fixes which data-sharing policy
/// version applies between its signatories.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "protocols")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub signed_on: Option<Date>,
    /// Version of the sharing policy the protocol adopts.
    pub policy_version: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::protocol_signatory::Entity")]
    Signatories,
}

impl Related<super::protocol_signatory::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Signatories.def()
    }
}

/// Signatory agencies, through `protocol_signatories`.
impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        super::protocol_signatory::Relation::Agency.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::protocol_signatory::Relation::Protocol.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
