//! Each change to places as a change of its own: one write transaction for the request's
//! principal, committed when the service call succeeds and rolled back otherwise. GraphQL calls
//! these, so that no resolver opens a transaction itself.

use raccordo_entities::{placement_offer, placement_request};

use super::{OwnShelter, PlacesCtx, PlacesInput, RequestInput};
use crate::{access::RequestContext, domain::Change, error::ApiResult, state::AppState};

/// Runs `$body` with `$p`, a [`PlacesCtx`] on a new change's transaction, then commits.
macro_rules! as_change {
    ($state:expr, $request:expr, |$p:ident| $body:expr) => {{
        let change = Change::begin($state, $request).await?;
        let out = {
            let $p = PlacesCtx {
                db: change.db(),
                policy: change.policy,
                principal: change.principal,
                now: change.now,
            };
            $body.await?
        };
        change.commit().await?;
        Ok(out)
    }};
}

/// [`super::set_places`] as a change of its own.
pub async fn set_places(
    state: &AppState,
    request: &RequestContext,
    shelter_id: &str,
    input: &PlacesInput,
    version: Option<i32>,
) -> ApiResult<OwnShelter> {
    as_change!(state, request, |p| super::set_places(
        &p, shelter_id, input, version
    ))
}

/// [`super::request_placement`] as a change of its own.
pub async fn request_placement(
    state: &AppState,
    request: &RequestContext,
    input: &RequestInput,
) -> ApiResult<placement_request::Model> {
    as_change!(state, request, |p| super::request_placement(&p, input))
}

/// [`super::offer`] as a change of its own.
pub async fn offer(
    state: &AppState,
    request: &RequestContext,
    request_id: &str,
    shelter_id: &str,
    contact: &str,
) -> ApiResult<placement_offer::Model> {
    as_change!(state, request, |p| super::offer(
        &p, request_id, shelter_id, contact
    ))
}

/// [`super::accept`] as a change of its own.
pub async fn accept(
    state: &AppState,
    request: &RequestContext,
    offer_id: &str,
) -> ApiResult<String> {
    as_change!(state, request, |p| super::accept(&p, offer_id))
}

/// [`super::withdraw_request`] as a change of its own.
pub async fn withdraw_request(
    state: &AppState,
    request: &RequestContext,
    id: &str,
) -> ApiResult<String> {
    as_change!(state, request, |p| super::withdraw_request(&p, id))
}

/// [`super::withdraw_offer`] as a change of its own.
pub async fn withdraw_offer(
    state: &AppState,
    request: &RequestContext,
    offer_id: &str,
) -> ApiResult<String> {
    as_change!(state, request, |p| super::withdraw_offer(&p, offer_id))
}

/// [`super::complete`] as a change of its own.
pub async fn complete(
    state: &AppState,
    request: &RequestContext,
    request_id: &str,
) -> ApiResult<String> {
    as_change!(state, request, |p| super::complete(&p, request_id))
}
