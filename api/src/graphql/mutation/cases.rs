//! Case work: shelters, creating and updating cases, closing them, notes. Each resolver hands its
//! arguments to `domain::cases` and shows the result as the viewer now sees it.

use async_graphql::{Context, Object, ID};

use crate::{
    domain::{
        self,
        case_input::{CaseInput, CasePatch},
        enums::{CaseOutcome, CasePhase},
        scalars::Date,
    },
    error::{ApiError, ApiResult},
    graphql::{
        types::{
            case::{load_case_for_viewer, CaseNode, CaseNote},
            network::Shelter,
        },
        ContextExt,
    },
};

/// After a committed change, the case as the viewer now sees it.
async fn reload(ctx: &Context<'_>, id: &str) -> ApiResult<CaseNode> {
    load_case_for_viewer(ctx, id)
        .await?
        .ok_or(ApiError::NotFound("case"))
}

/// The case mutations.
#[derive(Default)]
pub struct CaseMutation;

#[Object]
impl CaseMutation {
    /// Registers a protected shelter of the viewer's agency. Its address is secret.
    async fn create_shelter(
        &self,
        ctx: &Context<'_>,
        name: String,
        address: Option<String>,
        city: Option<String>,
        province: Option<String>,
    ) -> ApiResult<Shelter> {
        let model = domain::cases::create_shelter(
            ctx.state(),
            ctx.request(),
            &name,
            &address,
            &city,
            province.as_deref(),
        )
        .await?;
        Ok(Shelter(model))
    }

    /// Opens a case held by the viewer's agency.
    async fn create_case(&self, ctx: &Context<'_>, input: CaseInput) -> ApiResult<CaseNode> {
        let id = domain::cases::create_case(ctx.state(), ctx.request(), &input).await?;
        reload(ctx, &id).await
    }

    /// Changes fields of a case. `version` must be the case's current version (else `CONFLICT`).
    async fn update_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        patch: CasePatch,
    ) -> ApiResult<CaseNode> {
        let (row, access) =
            domain::cases::update_case(ctx.state(), ctx.request(), &id, version, &patch).await?;
        Ok(CaseNode { row, access })
    }

    /// Ends a case's pathway with an outcome.
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        outcome: CaseOutcome,
        on: Date,
    ) -> ApiResult<CaseNode> {
        domain::cases::close_case(ctx.state(), ctx.request(), &id, version, outcome, on.0).await?;
        reload(ctx, &id).await
    }

    /// Reopens a closed case in a phase, with the reason; the reopening is recorded in its history.
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        phase: CasePhase,
        reason: String,
    ) -> ApiResult<CaseNode> {
        domain::cases::reopen_case(ctx.state(), ctx.request(), &id, version, phase, &reason)
            .await?;
        reload(ctx, &id).await
    }

    /// Adds a note to the case diary. Only the owner can share a note with joint partners.
    async fn add_case_note(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        text: String,
        shared_with_joint_partners: Option<bool>,
    ) -> ApiResult<CaseNote> {
        let model = domain::cases::add_case_note(
            ctx.state(),
            ctx.request(),
            &case_id,
            &text,
            shared_with_joint_partners,
        )
        .await?;
        Ok(CaseNote(model))
    }
}
