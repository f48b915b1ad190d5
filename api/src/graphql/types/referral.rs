//! Referrals (richieste di valutazione): each field is read through its referral class and the
//! viewer's relation to the referral (target ente, requester, law-enforcement requester).

use async_graphql::{Context, Object, SimpleObject, ID};
use raccordo_entities::{referral, referral_correction};
use raccordo_policies::{FieldClass, ReferralClassSet};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    agency::Agency,
    case::{load_case_for_viewer, CaseNode},
    load_agency,
};
use crate::{
    domain::permissions::referral_permissions,
    error::{internal, ApiError, ApiResult},
    graphql::{
        enums::{Gender, ReferralOutcome, ReferralStatus},
        scalars::{Date, DateTime},
        ContextExt,
    },
};

/// A referral as one viewer may see it.
#[derive(Clone)]
pub struct ReferralNode {
    /// The referral as stored.
    pub row: referral::Model,
    /// The classes of its fields the viewer reads.
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

/// What the viewer may do with a referral.
#[derive(SimpleObject)]
pub struct ReferralAccess {
    /// The mutations the viewer may call on this referral, as the protocol and its status allow.
    pub actions: Vec<String>,
    /// The referral fields those mutations let the viewer set.
    pub writable_fields: Vec<String>,
}

/// A correction of a concluded referral by its target ente, as the viewer may see it.
#[derive(SimpleObject)]
pub struct ReferralCorrection {
    /// When it was corrected.
    pub at: DateTime,
    /// The fields it changed, of those the viewer may read.
    pub fields: Vec<String>,
    /// Why it was corrected; null where the viewer may not read the outcome.
    pub reason: Option<String>,
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
    /// What the viewer may do with this referral.
    async fn access(&self, ctx: &Context<'_>) -> ApiResult<ReferralAccess> {
        self.core(ctx, "access")?;
        let state = ctx.state();
        let principal = ctx.request().require()?;
        let (relation, _) = crate::access::referral_access(&state.policy, principal, &self.row);
        let (actions, fields) =
            referral_permissions(&state.policy, &principal.viewer(), relation, &self.row);
        Ok(ReferralAccess {
            actions: actions.into_iter().map(str::to_string).collect(),
            writable_fields: fields.into_iter().map(str::to_string).collect(),
        })
    }
    /// Corrections made after the conclusion, oldest first (ACCESS.md §6): only those that
    /// changed a field the viewer may read, each naming only such fields.
    async fn corrections(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReferralCorrection>> {
        if !self.read(ctx, "corrections") {
            return Ok(Vec::new());
        }
        let state = ctx.state();
        let reason_visible = matches!(
            state.policy.class_of("ReferralCorrection", "reason"),
            Some(FieldClass::Referral(class)) if self.classes.contains(class)
        );
        let rows = referral_correction::Entity::find()
            .filter(referral_correction::Column::ReferralId.eq(self.row.id.as_str()))
            .order_by_asc(referral_correction::Column::CorrectedAt)
            .all(&state.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|c| {
                let fields: Vec<String> = c
                    .fields
                    .split(',')
                    .filter(|f| self.read(ctx, f))
                    .map(str::to_string)
                    .collect();
                // A correction of fields the viewer cannot read is not there for it at all.
                (!fields.is_empty()).then(|| ReferralCorrection {
                    at: DateTime(c.corrected_at),
                    fields,
                    reason: reason_visible.then_some(c.reason),
                })
            })
            .collect())
    }
    /// The case opened when the person adhered (target ente only), as the case's own rules show it.
    async fn case(&self, ctx: &Context<'_>) -> ApiResult<Option<CaseNode>> {
        let Some(case_id) = self.row.case_id.clone().filter(|_| self.read(ctx, "case")) else {
            return Ok(None);
        };
        load_case_for_viewer(ctx, &case_id).await
    }
}
