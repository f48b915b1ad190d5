//! Referrals (richieste di valutazione): made by a requester, worked by the target ente.
//! Adhesion to the programme opens a case held by the target ente.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{NaiveDate, Utc};
use raccordo_entities::{agency, project, referral, referral_correction, referral_interview};
use raccordo_policies::{AgencyKind, ClassSet, Policy, ReferralRelation, RelationshipSet, Viewer};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::{
    cases::{open_case, CaseInput},
    log_change, new_id,
    referral_rules::Timeline,
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
pub(crate) fn is_final(status: &str) -> bool {
    matches!(status, "CONCLUDED" | "UNREACHABLE" | "WITHDRAWN")
}

/// Loads a referral in the write transaction for a change the evaluator allows (`may`):
/// `NOT_FOUND` when the viewer cannot see it, `FORBIDDEN` with `refusal` when it may not.
async fn referral_for(
    ctx: &Context<'_>,
    w: &WriteTxn,
    id: &str,
    may: fn(&Policy, &Viewer, ReferralRelation) -> bool,
    refusal: &str,
) -> ApiResult<referral::Model> {
    let state = ctx.state();
    let principal = ctx.request().require()?;
    let (row, relation, _) =
        access::require_referral(w.txn(), &state.policy, principal, id).await?;
    if !may(&state.policy, &principal.viewer(), relation) {
        return Err(ApiError::Forbidden(refusal.into()));
    }
    Ok(row)
}

/// Loads a referral the viewer's agency works as target ente, in the write transaction.
async fn for_target(ctx: &Context<'_>, w: &WriteTxn, id: &str) -> ApiResult<referral::Model> {
    let row = referral_for(
        ctx,
        w,
        id,
        Policy::may_work_referral,
        "only the target ente works a referral",
    )
    .await?;
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

/// The dates of `r` so far: received, scheduled, and the days of its interviews.
async fn timeline<C: ConnectionTrait>(db: &C, r: &referral::Model) -> ApiResult<Timeline> {
    let interviews = referral_interview::Entity::find()
        .filter(referral_interview::Column::ReferralId.eq(r.id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.held_on)
        .collect();
    Ok(Timeline {
        received: r.received_on,
        scheduled: r.scheduled_on,
        interviews,
    })
}

/// ACCESS.md §6: the same requester, subject reference, day and target name one referral. Takes,
/// on PostgreSQL, a transaction lock on that key so two concurrent requests cannot both miss the
/// other's row (SQLite has one writer at a time), then returns the referral already made, if any.
async fn same_referral<C: ConnectionTrait>(
    db: &C,
    requester: &str,
    target: &str,
    received_on: NaiveDate,
    subject_ref: &str,
) -> ApiResult<Option<referral::Model>> {
    if db.get_database_backend() == DbBackend::Postgres {
        let key = Sha256::digest(
            serde_json::json!([requester, target, received_on, subject_ref])
                .to_string()
                .as_bytes(),
        );
        let mut first = [0u8; 8];
        first.copy_from_slice(&key[..8]);
        db.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({})",
            i64::from_be_bytes(first)
        ))
        .await?;
    }
    Ok(referral::Entity::find()
        .filter(referral::Column::RequestedById.eq(requester))
        .filter(referral::Column::TargetId.eq(target))
        .filter(referral::Column::ReceivedOn.eq(received_on))
        .filter(referral::Column::SubjectRef.eq(subject_ref))
        .one(db)
        .await?)
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
///
/// When the requester already sent a referral with the same subject reference, day and target,
/// that referral is returned unchanged and nothing is written (`false`); otherwise the new
/// referral (`true`).
pub(crate) async fn open_referral<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    requester: &str,
    input: &ReferralInput,
    today: NaiveDate,
    operation: &str,
) -> ApiResult<(referral::Model, bool)> {
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
    let subject_ref = validate::opt_text("input.subjectRef", &input.subject_ref)?;
    if let Some(subject) = &subject_ref {
        if let Some(made) =
            same_referral(db, requester, &target.id, input.received_on.0, subject).await?
        {
            return Ok((made, false));
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
        subject_ref: Set(subject_ref),
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
    Ok((model, true))
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
        let (model, _) = open_referral(
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
        timeline(w.txn(), &row).await?.schedule("on", on.0)?;
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
        timeline(w.txn(), &row)
            .await?
            .interview("on", on.0, request.today())?;
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
        timeline(w.txn(), &row).await?.conclusion(
            ["on", "outcome", "programmeAdhesion"],
            on.0,
            request.today(),
            outcome != ReferralOutcome::NotIdentified,
            programme_adhesion,
        )?;
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
        timeline(w.txn(), &row)
            .await?
            .end("on", on.0, request.today())?;
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
        let request = ctx.request();
        let principal = request.require()?;
        let w = ctx.state().write().await?;
        let row = referral_for(
            ctx,
            &w,
            &id,
            Policy::may_correct_referral,
            "only a coordinator of the target ente corrects a referral",
        )
        .await?;
        if row.status != ReferralStatus::Concluded.as_str() {
            return Err(ApiError::validation(
                "id",
                format!(
                    "only a concluded referral is corrected; this one is {}: change it with the usual steps",
                    row.status.to_lowercase()
                ),
            ));
        }
        let reason = validate::required("reason", &reason)?;
        let note = validate::opt_text("outcomeNote", &outcome_note)?;
        let current_outcome = row.outcome.as_deref().and_then(ReferralOutcome::parse);
        let new_outcome = outcome.or(current_outcome).ok_or_else(|| {
            ApiError::Internal(format!("concluded referral {} has no outcome", row.id))
        })?;
        let new_on = concluded_on
            .map(|d| d.0)
            .or(row.concluded_on)
            .ok_or_else(|| {
                ApiError::Internal(format!("concluded referral {} has no date", row.id))
            })?;
        let new_adhesion = programme_adhesion
            .or(row.programme_adhesion)
            .unwrap_or(false);
        let changed: Vec<&str> = [
            ("outcome", Some(new_outcome) != current_outcome),
            ("concludedOn", Some(new_on) != row.concluded_on),
            (
                "programmeAdhesion",
                Some(new_adhesion) != row.programme_adhesion,
            ),
            ("outcomeNote", note.is_some() && note != row.outcome_note),
        ]
        .into_iter()
        .filter_map(|(f, c)| c.then_some(f))
        .collect();
        if changed.is_empty() {
            return Err(ApiError::validation(
                "id",
                "the correction changes nothing: give the fields to correct",
            ));
        }
        timeline(w.txn(), &row).await?.conclusion(
            ["concludedOn", "outcome", "programmeAdhesion"],
            new_on,
            request.today(),
            new_outcome != ReferralOutcome::NotIdentified,
            new_adhesion,
        )?;
        if row.case_id.is_some() && !new_adhesion {
            return Err(ApiError::validation(
                "programmeAdhesion",
                "a case was opened on adhesion and stays: close it with its outcome instead",
            ));
        }
        let case_id = match &row.case_id {
            Some(c) => Some(c.clone()),
            None if new_adhesion => {
                Some(open_adhesion_case(w.txn(), principal, &row, new_on).await?)
            }
            None => None,
        };
        let now = Utc::now();
        let change = referral::ActiveModel {
            id: Set(row.id.clone()),
            concluded_on: Set(Some(new_on)),
            outcome: Set(Some(new_outcome.as_str().into())),
            programme_adhesion: Set(Some(new_adhesion)),
            outcome_note: Set(note.or(row.outcome_note.clone())),
            case_id: Set(case_id),
            version: Set(row.version + 1),
            updated_at: Set(now),
            ..Default::default()
        };
        referral_correction::Entity::insert(referral_correction::ActiveModel {
            id: Set(new_id()),
            referral_id: Set(row.id.clone()),
            corrected_at: Set(now),
            corrected_by: Set(principal.user_id.clone()),
            reason: Set(reason),
            fields: Set(changed.join(",")),
        })
        .exec_without_returning(w.txn())
        .await?;
        let model = save(&w, principal, change, &id, "correctReferral").await?;
        w.commit().await?;
        node(ctx, model)
    }

    /// Withdraws a referral the viewer's agency sent, while it is not concluded.
    async fn withdraw_referral(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ReferralNode> {
        let principal = ctx.request().require()?;
        let w = ctx.state().write().await?;
        let row = referral_for(
            ctx,
            &w,
            &id,
            Policy::may_withdraw_referral,
            "only the agency that sent a referral can withdraw it",
        )
        .await?;
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
