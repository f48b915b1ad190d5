//! `shares`: a case made visible to another agency.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A share of a case with a recipient agency for a purpose. Normally backed
/// by a consent; an emergency share has no consent but a reason, and should
/// expire.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub case_id: String,
    /// Purpose of the sharing, in the contract's spelling.
    pub purpose: String,
    /// The agency the case is shared with.
    pub recipient_id: String,
    /// The consent the share rests on; `None` for an emergency share.
    pub consent_id: Option<String>,
    /// Shared without consent because of an emergency.
    pub emergency: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub emergency_reason: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// The user (token subject) who created the share.
    pub created_by: String,
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

/// The recipient agency.
impl Related<super::agency::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Recipient.def()
    }
}

impl Related<super::consent::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Consent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
