//! GraphQL object types. Each protected field asks the policy evaluator, through the helpers
//! of its type, whether the viewer may read it; no field decides access by itself.

pub mod agency;
pub mod case;
pub mod misc;
pub mod network;
pub mod referral;
pub mod release;
pub mod sharing;

use async_graphql::Context;

use super::ContextExt;
use crate::error::{ApiError, ApiResult};
use agency::Agency;

/// Loads one agency by id through the request's loader.
pub(crate) async fn load_agency(ctx: &Context<'_>, id: &str) -> ApiResult<Agency> {
    let row = ctx
        .loaders()
        .agency
        .load_one(id.to_string())
        .await
        .map_err(|e| ApiError::Internal(e.to_string().into()))?
        .ok_or_else(|| ApiError::Internal(format!("dangling agency reference {id}").into()))?;
    Ok(Agency(row))
}

/// Loads several agencies by id, in the order given.
pub(crate) async fn load_agencies(ctx: &Context<'_>, ids: Vec<String>) -> ApiResult<Vec<Agency>> {
    let loader = &ctx.loaders().agency;
    let map = loader
        .load_many(ids.clone())
        .await
        .map_err(|e| ApiError::Internal(e.to_string().into()))?;
    Ok(ids
        .iter()
        .filter_map(|id| map.get(id).cloned().map(Agency))
        .collect())
}
