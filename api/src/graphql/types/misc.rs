//! Small types: the viewer, access-log entries, statistics cells.

use async_graphql::{Context, Object};
use raccordo_entities::access_log;

use super::{agency::Agency, load_agency};
pub use crate::domain::statistics::StatCell;
use crate::{
    access::Principal,
    error::{ApiError, ApiResult},
    graphql::{
        enums::{DataClass, Relationship, UserRole},
        scalars::DateTime,
    },
};

/// Who is asking: the token's user, role and agency.
pub struct Viewer(pub Principal);

/// Who is asking: the token's user, role and agency.
#[Object]
impl Viewer {
    /// The user's id (the token's `sub`).
    async fn user_id(&self) -> &str {
        &self.0.user_id
    }
    /// The user's role.
    async fn role(&self) -> UserRole {
        self.0.role.into()
    }
    /// The user's agency (none for a platform admin).
    async fn agency(&self) -> Option<Agency> {
        self.0.agency.clone().map(Agency)
    }
}

/// One access to a case: who, which relationships, which classes, which operation, when.
/// Never the values.
pub struct AccessLogEntry(pub access_log::Model);

/// One access to a case: who, which relationships, which classes, which operation, when. Never the values.
#[Object]
impl AccessLogEntry {
    /// When.
    async fn at(&self) -> DateTime {
        DateTime(self.0.at)
    }
    /// The user's id.
    async fn user_id(&self) -> &str {
        &self.0.user_id
    }
    /// The user's agency.
    async fn agency(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        let id = self
            .0
            .agency_id
            .as_deref()
            .ok_or_else(|| ApiError::Internal("log entry without agency".into()))?;
        load_agency(ctx, id).await
    }
    /// The user's role.
    async fn role(&self) -> ApiResult<UserRole> {
        self.0
            .role
            .parse::<raccordo_policies::UserRole>()
            .map(Into::into)
            .map_err(|_| ApiError::Internal("unknown role in the log".into()))
    }
    /// What was done: `read`, or the mutation's name.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The relationships the access rested on.
    async fn relationships(&self) -> Vec<Relationship> {
        split(&self.0.relationships)
            .filter_map(|r| r.parse::<raccordo_policies::Relationship>().ok())
            .map(Into::into)
            .collect()
    }
    /// The classes read or changed.
    async fn classes(&self) -> Vec<DataClass> {
        split(&self.0.classes)
            .filter_map(|c| c.parse::<raccordo_policies::DataClass>().ok())
            .map(Into::into)
            .collect()
    }
    /// Context that is not a value of the case (an emergency share's reason).
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|s| !s.is_empty())
}
