//! Referrals (richieste di valutazione): each field is read through its referral class and the
//! viewer's relation to the referral (target ente, requester, law-enforcement requester).

use async_graphql::{Context, Object, ID};
use raccordo_entities::referral;
use raccordo_policies::{FieldClass, ReferralClassSet};

use super::{agency::Agency, case::CaseNode, load_agency, network::internal};
use crate::{
    error::{ApiError, ApiResult},
    graphql::{
        enums::{Gender, ReferralOutcome, ReferralStatus},
        query::load_case_for_viewer,
        scalars::Date,
        ContextExt,
    },
};

/// A referral as one viewer may see it.
#[derive(Clone)]
pub struct ReferralNode {
    pub row: referral::Model,
    pub classes: ReferralClassSet,
    /// Interviews held, when the caller already counted them (lists load them in one batch).
    pub interviews: Option<i32>,
}

impl ReferralNode {
    fn read(&self, ctx: &Context<'_>, field: &str) -> bool {
        matches!(ctx.state().policy.class_of("Referral", field),
            Some(FieldClass::Referral(class)) if self.classes.contains(class))
    }

    fn core(&self, ctx: &Context<'_>, field: &str) -> ApiResult<()> {
        if self.read(ctx, field) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the protocol does not let you read {field}"
            )))
        }
    }
}

/// A referral (richiesta di valutazione): a request to an ente to assess trafficking indicators, as the viewer may see it.
#[Object(name = "Referral")]
impl ReferralNode {
    /// The referral's id.
    async fn id(&self, ctx: &Context<'_>) -> ApiResult<ID> {
        self.core(ctx, "id").map(|_| ID(self.row.id.clone()))
    }
    /// The agency that asked for the assessment.
    async fn requested_by(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        self.core(ctx, "requestedBy")?;
        load_agency(ctx, &self.row.requested_by_id).await
    }
    /// The ente asked to assess.
    async fn target(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        self.core(ctx, "target")?;
        load_agency(ctx, &self.row.target_id).await
    }
    /// When the ente received it.
    async fn received_on(&self, ctx: &Context<'_>) -> ApiResult<Date> {
        self.core(ctx, "receivedOn")
            .map(|_| Date(self.row.received_on))
    }
    /// Province.
    async fn province(&self, ctx: &Context<'_>) -> Option<&str> {
        self.read(ctx, "province")
            .then_some(self.row.province.as_deref())
            .flatten()
    }
    /// Where it stands.
    async fn status(&self, ctx: &Context<'_>) -> ApiResult<ReferralStatus> {
        self.core(ctx, "status")?;
        ReferralStatus::parse(&self.row.status).ok_or_else(|| internal("unknown referral status"))
    }
    /// When it was concluded.
    async fn concluded_on(&self, ctx: &Context<'_>) -> Option<Date> {
        self.read(ctx, "concludedOn")
            .then_some(self.row.concluded_on.map(Date))
            .flatten()
    }
    /// The requester's own dossier reference.
    async fn subject_ref(&self, ctx: &Context<'_>) -> Option<&str> {
        self.read(ctx, "subjectRef")
            .then_some(self.row.subject_ref.as_deref())
            .flatten()
    }
    /// Gender of the person to assess.
    async fn subject_gender(&self, ctx: &Context<'_>) -> Option<Gender> {
        self.read(ctx, "subjectGender")
            .then_some(self.row.subject_gender.as_deref())
            .flatten()
            .and_then(Gender::parse)
    }
    /// Nationality of the person to assess (ISO 3166-1 alpha-2).
    async fn subject_nationality(&self, ctx: &Context<'_>) -> Option<&str> {
        self.read(ctx, "subjectNationality")
            .then_some(self.row.subject_nationality.as_deref())
            .flatten()
    }
    /// Number of interviews held.
    async fn interviews_held(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        if !self.read(ctx, "interviewsHeld") {
            return Ok(None);
        }
        if let Some(n) = self.interviews {
            return Ok(Some(n));
        }
        let rows = ctx
            .loaders()
            .interviews
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        Ok(Some(rows.map(|r| r.len() as i32).unwrap_or(0)))
    }
    /// The assessment's result.
    async fn outcome(&self, ctx: &Context<'_>) -> Option<ReferralOutcome> {
        self.read(ctx, "outcome")
            .then_some(self.row.outcome.as_deref())
            .flatten()
            .and_then(ReferralOutcome::parse)
    }
    /// Whether the person agreed to enter the programme.
    async fn programme_adhesion(&self, ctx: &Context<'_>) -> Option<bool> {
        self.read(ctx, "programmeAdhesion")
            .then_some(self.row.programme_adhesion)
            .flatten()
    }
    /// The note written for the requester with the outcome.
    async fn outcome_note(&self, ctx: &Context<'_>) -> Option<&str> {
        self.read(ctx, "outcomeNote")
            .then_some(self.row.outcome_note.as_deref())
            .flatten()
    }
    /// The ente's interview notes (target ente only).
    async fn interview_notes(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        if !self.read(ctx, "interviewNotes") {
            return Ok(None);
        }
        let rows = ctx
            .loaders()
            .interviews
            .load_one(self.row.id.clone())
            .await
            .map_err(internal)?;
        let notes: Vec<String> = rows
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.notes.map(|n| format!("{}: {}", i.held_on, n)))
            .collect();
        Ok((!notes.is_empty()).then(|| notes.join("\n")))
    }
    /// The case opened when the person adhered (target ente only), as the case's own rules show it.
    async fn case(&self, ctx: &Context<'_>) -> ApiResult<Option<CaseNode>> {
        let Some(case_id) = self.row.case_id.clone().filter(|_| self.read(ctx, "case")) else {
            return Ok(None);
        };
        load_case_for_viewer(ctx, &case_id).await
    }
}
