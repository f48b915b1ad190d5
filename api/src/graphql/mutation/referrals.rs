//! Referrals (richieste di valutazione): made by a requester, worked by the target ente.
//! Adhesion to the programme opens a case held by the target ente.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{NaiveDate, Utc};
use raccordo_entities::{agency, project, referral, referral_interview};
use raccordo_policies::{AgencyKind, ClassSet, Policy, RelationshipSet};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::{
    cases::{open_case, CaseInput},
    log_change, new_id,
};
use crate::{
    access::{self, Principal},
    error::{ApiError, ApiResult},
    graphql::{
        enums::{CasePhase, EmersionChannel, Gender, ReferralOutcome, ReferralStatus},
        scalars::Date,
        types::referral::ReferralNode,
        ContextExt,
    },
    state::WriteTxn,
    validate,
};

/// A new referral to an ente.
#[derive(InputObject)]
pub struct ReferralInput {
    /// The ente asked to assess (an `ENTE_ANTITRATTA`).
    pub target: ID,
    /// When the ente received it.
    pub received_on: Date,
    /// The project it belongs to.
    pub project_id: Option<ID>,
    /// Province.
    pub province: Option<String>,
    /// The requester's own dossier reference.
    pub subject_ref: Option<String>,
    /// Gender of the person to assess.
    pub subject_gender: Option<Gender>,
    /// Nationality of the person to assess (ISO 3166-1 alpha-2).
    pub subject_nationality: Option<String>,
}

/// Statuses after which a referral no longer changes.
fn is_final(status: &str) -> bool {
    matches!(status, "CONCLUDED" | "UNREACHABLE" | "WITHDRAWN")
}

/// Loads a referral the viewer's agency works as target ente, in the write transaction.
async fn for_target(ctx: &Context<'_>, w: &WriteTxn, id: &str) -> ApiResult<referral::Model> {
    let state = ctx.state();
    let principal = ctx.request().require()?;
    let (row, relation, _) =
        access::require_referral(w.txn(), &state.policy, principal, id).await?;
    if !state
        .policy
        .may_work_referral(&principal.viewer(), relation)
    {
        return Err(ApiError::Forbidden(
            "only the target ente works a referral".into(),
        ));
    }
    if is_final(&row.status) {
        return Err(ApiError::validation(
            "id",
            format!(
                "the referral is {} and can no longer change",
                row.status.to_lowercase()
            ),
        ));
    }
    Ok(row)
}

async fn save(
    w: &WriteTxn,
    principal: &Principal,
    row: referral::ActiveModel,
    id: &str,
    op: &str,
) -> ApiResult<referral::Model> {
    let model = referral::Entity::update(row).exec(w.txn()).await?;
    log_change(
        w.txn(),
        principal,
        None,
        op,
        RelationshipSet::empty(),
        ClassSet::empty(),
        Some(format!("referral {id}")),
    )
    .await?;
    Ok(model)
}

fn node(ctx: &Context<'_>, row: referral::Model) -> ApiResult<ReferralNode> {
    let principal = ctx.request().require()?;
    let (_, classes) = access::referral_access(&ctx.state().policy, principal, &row);
    Ok(ReferralNode {
        row,
        classes,
        interviews: None,
    })
}

fn check_date(
    field: &str,
    on: NaiveDate,
    row: &referral::Model,
    today: NaiveDate,
) -> ApiResult<()> {
    validate::not_before(
        field,
        on,
        row.received_on,
        "the day the referral was received",
    )?;
    validate::not_future(field, on, today).map(|_| ())
}

/// Opens the case of a person who adhered to the programme, held by the target ente, with the
/// profile the referral carries.
async fn open_adhesion_case<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    r: &referral::Model,
    on: NaiveDate,
) -> ApiResult<String> {
    // A fresh code, not derived from the referral's id: the requester must not be able to link
    // the case to its referral if it ever gets a relationship to the case.
    let short: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(10)
        .collect();
    let mut input = CaseInput::new(
        format!("REF-{}", short.to_uppercase()),
        CasePhase::ProntoIntervento,
        on,
    );
    input.project_id = r.project_id.clone().map(ID);
    input.gender = r.subject_gender.as_deref().and_then(Gender::parse);
    input.nationality = r.subject_nationality.clone();
    input.emersion_channel = Some(EmersionChannel::AssessmentService);
    input.emersion_province = r.province.clone();
    open_case(db, principal, &r.target_id, &input, on, "createCase").await
}

/// Sends a referral from `requester` in the caller's transaction: validates the input, checks
/// the target (an enabled agency the protocol lets receive referrals) and the project, writes the
/// referral as `RECEIVED` and its access-log entry. The caller has checked that the viewer may
/// send referrals (`may_create_referral`). Shared by `createReferral` and the CSV import.
pub(crate) async fn open_referral<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    requester: &str,
    input: &ReferralInput,
    today: NaiveDate,
    operation: &str,
) -> ApiResult<referral::Model> {
    validate::not_future("input.receivedOn", input.received_on.0, today)?;
    let target = agency::Entity::find_by_id(input.target.to_string())
        .one(db)
        .await?
        .filter(|a| {
            !a.disabled
                && a.kind
                    .parse::<AgencyKind>()
                    .is_ok_and(|k| policy.may_receive_referral(k))
        })
        .ok_or_else(|| {
            ApiError::validation("input.target", "names no anti-trafficking ente of the hub")
        })?;
    if let Some(p) = &input.project_id {
        if project::Entity::find_by_id(p.to_string())
            .one(db)
            .await?
            .is_none()
        {
            return Err(ApiError::validation(
                "input.projectId",
                "names a project the hub does not know",
            ));
        }
    }
    let now = Utc::now();
    let id = new_id();
    let row = referral::ActiveModel {
        id: Set(id.clone()),
        requested_by_id: Set(requester.to_string()),
        target_id: Set(target.id.clone()),
        project_id: Set(input.project_id.as_ref().map(|p| p.to_string())),
        received_on: Set(input.received_on.0),
        province: Set(input
            .province
            .as_deref()
            .map(|p| validate::province("input.province", p))
            .transpose()?
            .or(target.province.clone())),
        status: Set(ReferralStatus::Received.as_str().into()),
        scheduled_on: Set(None),
        concluded_on: Set(None),
        subject_ref: Set(validate::opt_text("input.subjectRef", &input.subject_ref)?),
        subject_gender: Set(input.subject_gender.map(|g| g.as_str().into())),
        subject_nationality: Set(input
            .subject_nationality
            .as_deref()
            .map(|n| validate::nationality("input.subjectNationality", n))
            .transpose()?),
        outcome: Set(None),
        programme_adhesion: Set(None),
        outcome_note: Set(None),
        case_id: Set(None),
        version: Set(1),
        created_by: Set(principal.user_id.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = referral::Entity::insert(row)
        .exec_with_returning(db)
        .await?;
    log_change(
        db,
        principal,
        None,
        operation,
        RelationshipSet::empty(),
        ClassSet::empty(),
        Some(format!("referral {id}")),
    )
    .await?;
    Ok(model)
}

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
        let request = ctx.request();
        let (principal, agency_id) = request.require_agency()?;
        let state = ctx.state();
        if !state.policy.may_create_referral(&principal.viewer()) {
            return Err(ApiError::Forbidden(
                "the protocol does not let your agency or role send referrals".into(),
            ));
        }
        let w = state.write().await?;
        let model = open_referral(
            w.txn(),
            &state.policy,
            principal,
            agency_id,
            &input,
            request.today(),
            "createReferral",
        )
        .await?;
        w.commit().await?;
        node(ctx, model)
    }

    /// Schedules the first interview (target ente).
    async fn schedule_referral(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
    ) -> ApiResult<ReferralNode> {
        let principal = ctx.request().require()?;
        let w = ctx.state().write().await?;
        let row = for_target(ctx, &w, &id).await?;
        validate::not_before(
            "on",
            on.0,
            row.received_on,
            "the day the referral was received",
        )?;
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            status: Set(if row.status == "RECEIVED" {
                "SCHEDULED".into()
            } else {
                row.status.clone()
            }),
            scheduled_on: Set(Some(on.0)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let model = save(&w, principal, change, &id, "scheduleReferral").await?;
        w.commit().await?;
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
        let request = ctx.request();
        let principal = request.require()?;
        let w = ctx.state().write().await?;
        let row = for_target(ctx, &w, &id).await?;
        check_date("on", on.0, &row, request.today())?;
        let now = Utc::now();
        referral_interview::Entity::insert(referral_interview::ActiveModel {
            id: Set(new_id()),
            referral_id: Set(row.id.clone()),
            held_on: Set(on.0),
            notes: Set(validate::opt_text("notes", &notes)?),
            recorded_by: Set(principal.user_id.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(w.txn())
        .await?;
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            status: Set("IN_PROGRESS".into()),
            updated_at: Set(now),
            ..Default::default()
        };
        let model = save(&w, principal, change, &id, "recordReferralInterview").await?;
        w.commit().await?;
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
        let request = ctx.request();
        let principal = request.require()?;
        let w = ctx.state().write().await?;
        let row = for_target(ctx, &w, &id).await?;
        check_date("on", on.0, &row, request.today())?;
        let case_id = if programme_adhesion {
            Some(open_adhesion_case(w.txn(), principal, &row, on.0).await?)
        } else {
            None
        };
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            status: Set("CONCLUDED".into()),
            concluded_on: Set(Some(on.0)),
            outcome: Set(Some(outcome.as_str().into())),
            programme_adhesion: Set(Some(programme_adhesion)),
            outcome_note: Set(validate::opt_text("outcomeNote", &outcome_note)?),
            case_id: Set(case_id),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let model = save(&w, principal, change, &id, "concludeReferral").await?;
        w.commit().await?;
        node(ctx, model)
    }

    /// Records that the person could not be reached (target ente).
    async fn mark_referral_unreachable(
        &self,
        ctx: &Context<'_>,
        id: ID,
        on: Date,
    ) -> ApiResult<ReferralNode> {
        let request = ctx.request();
        let principal = request.require()?;
        let w = ctx.state().write().await?;
        let row = for_target(ctx, &w, &id).await?;
        check_date("on", on.0, &row, request.today())?;
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            status: Set("UNREACHABLE".into()),
            concluded_on: Set(Some(on.0)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let model = save(&w, principal, change, &id, "markReferralUnreachable").await?;
        w.commit().await?;
        node(ctx, model)
    }

    /// Withdraws a referral the viewer's agency sent, while it is not concluded.
    async fn withdraw_referral(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ReferralNode> {
        let principal = ctx.request().require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let (row, relation, _) =
            access::require_referral(w.txn(), &state.policy, principal, &id).await?;
        if !state
            .policy
            .may_withdraw_referral(&principal.viewer(), relation)
        {
            return Err(ApiError::Forbidden(
                "only the agency that sent a referral can withdraw it".into(),
            ));
        }
        if is_final(&row.status) {
            return Err(ApiError::validation(
                "id",
                format!(
                    "the referral is {} and can no longer be withdrawn",
                    row.status.to_lowercase()
                ),
            ));
        }
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            status: Set("WITHDRAWN".into()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        let model = save(&w, principal, change, &id, "withdrawReferral").await?;
        w.commit().await?;
        node(ctx, model)
    }
}
