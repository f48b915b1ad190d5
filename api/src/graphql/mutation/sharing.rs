//! Consents, shares and transfers (ACCESS.md §3; see `domain::sharing`).

use async_graphql::{Context, Object, ID};

use crate::{
    domain::{
        self,
        enums::SharePurpose,
        scalars::Date,
        sharing::{NewConsent, NewShare},
    },
    error::ApiResult,
    graphql::{
        types::sharing::{Consent, Share, Transfer},
        ContextExt,
    },
};

/// The consent, share and transfer mutations.
#[derive(Default)]
pub struct SharingMutation;

#[Object]
impl SharingMutation {
    /// Records the person's consent to share their case for a purpose with an agency.
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        purpose: SharePurpose,
        recipient: ID,
        given_on: Date,
        expires_on: Option<Date>,
    ) -> ApiResult<Consent> {
        let input = NewConsent {
            case_id: &case_id,
            purpose: purpose.into(),
            recipient: &recipient,
            given_on: given_on.0,
            expires_on: expires_on.map(|d| d.0),
        };
        let model = domain::sharing::record_consent(ctx.state(), ctx.request(), input).await?;
        Ok(Consent(model))
    }

    /// Records that the person withdrew a consent. Every share resting on it ends at once.
    async fn revoke_consent(&self, ctx: &Context<'_>, id: ID, on: Date) -> ApiResult<Consent> {
        let model = domain::sharing::revoke_consent(ctx.state(), ctx.request(), &id, on.0).await?;
        Ok(Consent(model))
    }

    /// Shares a case with an agency for a purpose: with the person's consent (`consentId`), or,
    /// when a life is in immediate danger, as an emergency (`emergencyReason`, coordinators only,
    /// at most the protocol's emergency hours, logged and listed for review).
    #[allow(clippy::too_many_arguments)]
    async fn share_case(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        recipient: ID,
        purpose: SharePurpose,
        consent_id: Option<ID>,
        emergency_reason: Option<String>,
        expires_on: Option<Date>,
    ) -> ApiResult<Share> {
        let request = ctx.request();
        let input = NewShare {
            case_id: &case_id,
            recipient: &recipient,
            purpose: purpose.into(),
            consent_id: consent_id.as_ref().map(|c| c.as_str()),
            emergency_reason: emergency_reason.as_deref(),
            expires_on: expires_on.map(|d| d.0),
        };
        let (model, emergency) = domain::sharing::share_case(ctx.state(), request, input).await?;
        Ok(Share::at(model, !emergency, request.now))
    }

    /// Ends a share at once.
    async fn revoke_share(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Share> {
        let model = domain::sharing::revoke_share(ctx.state(), ctx.request(), &id).await?;
        Ok(Share {
            row: model,
            active: false,
        })
    }

    /// Asks another ente to take the case over (MIR), with the person's consent for `TRANSFER`.
    async fn request_transfer(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        to: ID,
        consent_id: ID,
    ) -> ApiResult<Transfer> {
        let model = domain::sharing::request_transfer(
            ctx.state(),
            ctx.request(),
            &case_id,
            &to,
            &consent_id,
        )
        .await?;
        Ok(Transfer(model))
    }

    /// Accepts a pending transfer: the case moves to the viewer's agency with its id, code and history.
    async fn accept_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        let model = domain::sharing::decide_transfer(ctx.state(), ctx.request(), &id, true).await?;
        Ok(Transfer(model))
    }

    /// Rejects a pending transfer.
    async fn reject_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        let model =
            domain::sharing::decide_transfer(ctx.state(), ctx.request(), &id, false).await?;
        Ok(Transfer(model))
    }

    /// Withdraws a pending transfer request (a coordinator of the agency that made it).
    async fn cancel_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        let model = domain::sharing::cancel_transfer(ctx.state(), ctx.request(), &id).await?;
        Ok(Transfer(model))
    }
}
