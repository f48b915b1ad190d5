//! Referrals (richieste di valutazione): made by a requester, worked by the target ente (see
//! `domain::referrals`).

use async_graphql::{Context, Object, ID};
use raccordo_entities::referral;

use crate::{
    access::referral_access,
    domain::{
        self,
        enums::ReferralOutcome,
        referrals::{Correction, ReferralInput},
        scalars::Date,
    },
    error::ApiResult,
    graphql::{types::referral::ReferralNode, ContextExt},
};

/// The referral as the viewer sees it after a change.
fn node(ctx: &Context<'_>, row: referral::Model) -> ApiResult<ReferralNode> {
    let principal = ctx.request().require()?;
    let (_, classes) = referral_access(&ctx.state().policy, principal, &row);
    Ok(ReferralNode {
        row,
        classes,
        interviews: None,
    })
}

/// The referral mutations.
#[derive(Default)]
pub struct ReferralMutation;

#[Object]
impl ReferralMutation {
    /// Asks an ente to assess whether a person shows trafficking indicators.
    async fn create_referral(
        &self,
        ctx: &Context<'_>,
        input: ReferralInput,
    ) -> ApiResult<ReferralNode> {
        let model = domain::referrals::create_referral(ctx.state(), ctx.request(), &input).await?;
        node(ctx, model)
    }

    /// Schedules the first interview (target ente).
    async fn schedule_referral(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
    ) -> ApiResult<ReferralNode> {
        let model =
            domain::referrals::schedule_referral(ctx.state(), ctx.request(), &id, on.0).await?;
        node(ctx, model)
    }

    /// Records an interview held with the person (target ente).
    async fn record_referral_interview(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
        notes: Option<String>,
    ) -> ApiResult<ReferralNode> {
        let model = domain::referrals::record_referral_interview(
            ctx.state(),
            ctx.request(),
            &id,
            on.0,
            &notes,
        )
        .await?;
        node(ctx, model)
    }

    /// Concludes the assessment (target ente). Adhesion opens a case held by the ente.
    async fn conclude_referral(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
        outcome: ReferralOutcome,
        programme_adhesion: bool,
        outcome_note: Option<String>,
    ) -> ApiResult<ReferralNode> {
        let model = domain::referrals::conclude_referral(
            ctx.state(),
            ctx.request(),
            &id,
            on.0,
            outcome,
            programme_adhesion,
            &outcome_note,
        )
        .await?;
        node(ctx, model)
    }

    /// Records that the person could not be reached (target ente).
    async fn mark_referral_unreachable(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
    ) -> ApiResult<ReferralNode> {
        let model =
            domain::referrals::mark_referral_unreachable(ctx.state(), ctx.request(), &id, on.0)
                .await?;
        node(ctx, model)
    }

    /// Corrects a concluded referral (a coordinator of the target ente), giving a reason. Only
    /// the fields given change; the same rules as a conclusion apply, the correction is recorded
    /// in the referral's `corrections`, and adhesion opens the case if none was opened yet (a
    /// case already opened stays: close it with its outcome instead).
    #[allow(clippy::too_many_arguments)]
    async fn correct_referral(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        outcome: Option<ReferralOutcome>,
        concluded_on: Option<Date>,
        programme_adhesion: Option<bool>,
        outcome_note: Option<String>,
    ) -> ApiResult<ReferralNode> {
        let correction = Correction {
            reason: &reason,
            outcome,
            concluded_on: concluded_on.map(|d| d.0),
            programme_adhesion,
            outcome_note: &outcome_note,
        };
        let model =
            domain::referrals::correct_referral(ctx.state(), ctx.request(), &id, correction)
                .await?;
        node(ctx, model)
    }

    /// Withdraws a referral the viewer's agency sent, while it is not concluded.
    async fn withdraw_referral(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ReferralNode> {
        let model = domain::referrals::withdraw_referral(ctx.state(), ctx.request(), &id).await?;
        node(ctx, model)
    }
}
