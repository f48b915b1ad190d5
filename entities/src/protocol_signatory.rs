//! `protocol_signatories`: which agencies signed which protocol.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An agency's signature on a protocol (pure link row).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "protocol_signatories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub protocol_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agency_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::protocol::Entity",
        from = "Column::ProtocolId",
        to = "super::protocol::Column::Id",
        on_delete = "Cascade"
    )]
    Protocol,
    #[sea_orm(
        belongs_to = "super::agency::Entity",
        from = "Column::AgencyId",
        to = "super::agency::Column::Id",
        on_delete = "Cascade"
    )]
    Agency,
}

impl Related<super::protocol::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Protocol.def()
    }
}

impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agency.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
