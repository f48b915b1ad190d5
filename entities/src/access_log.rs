//! `access_log`: the append-only, hash-chained record of data access.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of the access log. Entries form a hash chain: `prev_hash` is
/// the previous entry's `hash`. Both are unique, so the database refuses a
/// fork (two entries claiming the same predecessor). No foreign keys: the
/// log must outlive whatever it mentions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    /// Position in the log, assigned by the database.
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub at: DateTimeUtc,
    /// The user (token subject) who accessed.
    pub user_id: String,
    /// The agency the user acted for (not a foreign key).
    pub agency_id: Option<String>,
    /// The user's role, in the contract's spelling.
    pub role: String,
    /// The case accessed, if any (not a foreign key).
    pub case_id: Option<String>,
    /// What was done (e.g. a GraphQL operation name).
    pub operation: String,
    /// The relationships the access relied on, comma-separated.
    pub relationships: String,
    /// The data classes read or written, comma-separated.
    pub classes: String,
    /// Free detail, e.g. an emergency reason.
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
    /// Hex hash of the previous entry (unique).
    #[sea_orm(unique)]
    pub prev_hash: String,
    /// Hex hash of this entry, chained over `prev_hash` (unique).
    #[sea_orm(unique)]
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
