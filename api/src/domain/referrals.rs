//! Referrals (richieste di valutazione): made by a requester, worked by the target ente.
//! Adhesion to the programme opens a case held by the target ente.

use async_graphql::{InputObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::{agency, project, referral, referral_correction, referral_interview};
use raccordo_policies::{AgencyKind, Policy, ReferralRelation, Viewer};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::{
    case_input::CaseInput,
    cases::open_case,
    enums::{CasePhase, EmersionChannel, Gender, ReferralOutcome, ReferralStatus},
    log_change, new_id,
    referral_rules::Timeline,
    scalars::Date,
    Change, LogEntry,
};
use crate::{
    access::{local_date, require_referral, Principal, RequestContext},
    error::{ApiError, ApiResult},
    state::AppState,
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
pub fn is_final(status: &str) -> bool {
    matches!(status, "CONCLUDED" | "UNREACHABLE" | "WITHDRAWN")
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
    now: DateTime<Utc>,
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
    open_case(db, principal, &r.target_id, &input, now, "createCase").await
}

/// Sends a referral from `requester` in the caller's transaction: validates the input, checks
/// the target (an enabled agency the protocol lets receive referrals) and the project, writes the
/// referral as `RECEIVED` and its access-log entry. The caller has checked that the viewer may
/// send referrals (`may_create_referral`). Shared by `createReferral` and the CSV import.
///
/// When the requester already sent a referral with the same subject reference, day and target,
/// that referral is returned unchanged and nothing is written (`false`); otherwise the new
/// referral (`true`).
pub async fn open_referral<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    principal: &Principal,
    requester: &str,
    input: &ReferralInput,
    now: DateTime<Utc>,
    operation: &str,
) -> ApiResult<(referral::Model, bool)> {
    validate::not_future("input.receivedOn", input.received_on.0, local_date(now))?;
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
        LogEntry::other(operation, format!("referral {id}")),
    )
    .await?;
    Ok((model, true))
}

/// Loads a referral in the change's transaction for a change the evaluator allows (`may`):
/// `NOT_FOUND` when the viewer cannot see it, `FORBIDDEN` with `refusal` when it may not.
async fn referral_for(
    change: &Change<'_>,
    id: &str,
    may: fn(&Policy, &Viewer, ReferralRelation) -> bool,
    refusal: &str,
) -> ApiResult<referral::Model> {
    let (row, relation, _) =
        require_referral(change.db(), change.policy, change.principal, id).await?;
    change.allow(may(change.policy, &change.viewer(), relation), refusal)?;
    Ok(row)
}

/// Loads a referral the viewer's agency works as target ente, in the change's transaction.
async fn for_target(change: &Change<'_>, id: &str) -> ApiResult<referral::Model> {
    let row = referral_for(
        change,
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

/// Writes the referral's change, logs it as `op` and commits.
async fn save(
    change: Change<'_>,
    row: referral::ActiveModel,
    id: &str,
    op: &str,
) -> ApiResult<referral::Model> {
    let model = referral::Entity::update(row).exec(change.db()).await?;
    change
        .finish(LogEntry::other(op, format!("referral {id}")))
        .await?;
    Ok(model)
}

/// Sends a referral from the principal's agency (`createReferral`).
pub async fn create_referral(
    state: &AppState,
    request: &RequestContext,
    input: &ReferralInput,
) -> ApiResult<referral::Model> {
    let (principal, agency_id) = request.require_agency()?;
    if !state.policy.may_create_referral(&principal.viewer()) {
        return Err(ApiError::Forbidden(
            "the protocol does not let your agency or role send referrals".into(),
        ));
    }
    let change = Change::begin(state, request).await?;
    let (model, _) = open_referral(
        change.db(),
        change.policy,
        principal,
        agency_id,
        input,
        change.now,
        "createReferral",
    )
    .await?;
    change.commit().await?;
    Ok(model)
}

/// Schedules the first interview on day `on` (target ente; `scheduleReferral`).
pub async fn schedule_referral(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = for_target(&change, id).await?;
    timeline(change.db(), &row).await?.schedule("on", on)?;
    let scheduled = referral::ActiveModel {
        id: Set(row.id.clone()),
        status: Set(if row.status == "RECEIVED" {
            "SCHEDULED".into()
        } else {
            row.status.clone()
        }),
        scheduled_on: Set(Some(on)),
        updated_at: Set(change.now),
        ..Default::default()
    };
    save(change, scheduled, id, "scheduleReferral").await
}

/// Records an interview held with the person on day `on` (target ente;
/// `recordReferralInterview`).
pub async fn record_referral_interview(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
    notes: &Option<String>,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = for_target(&change, id).await?;
    timeline(change.db(), &row)
        .await?
        .interview("on", on, change.today())?;
    let now = change.now;
    referral_interview::Entity::insert(referral_interview::ActiveModel {
        id: Set(new_id()),
        referral_id: Set(row.id.clone()),
        held_on: Set(on),
        notes: Set(validate::opt_text("notes", notes)?),
        recorded_by: Set(change.principal.user_id.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(change.db())
    .await?;
    let interviewed = referral::ActiveModel {
        id: Set(row.id.clone()),
        status: Set("IN_PROGRESS".into()),
        updated_at: Set(now),
        ..Default::default()
    };
    save(change, interviewed, id, "recordReferralInterview").await
}

/// Concludes the assessment (target ente; `concludeReferral`). Adhesion opens a case held by
/// the ente.
pub async fn conclude_referral(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
    outcome: ReferralOutcome,
    programme_adhesion: bool,
    outcome_note: &Option<String>,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = for_target(&change, id).await?;
    timeline(change.db(), &row).await?.conclusion(
        ["on", "outcome", "programmeAdhesion"],
        on,
        change.today(),
        outcome != ReferralOutcome::NotIdentified,
        programme_adhesion,
    )?;
    let case_id = if programme_adhesion {
        Some(open_adhesion_case(change.db(), change.principal, &row, on, change.now).await?)
    } else {
        None
    };
    let concluded = referral::ActiveModel {
        id: Set(row.id.clone()),
        status: Set("CONCLUDED".into()),
        concluded_on: Set(Some(on)),
        outcome: Set(Some(outcome.as_str().into())),
        programme_adhesion: Set(Some(programme_adhesion)),
        outcome_note: Set(validate::opt_text("outcomeNote", outcome_note)?),
        case_id: Set(case_id),
        updated_at: Set(change.now),
        ..Default::default()
    };
    save(change, concluded, id, "concludeReferral").await
}

/// Records that the person could not be reached (target ente; `markReferralUnreachable`).
pub async fn mark_referral_unreachable(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = for_target(&change, id).await?;
    timeline(change.db(), &row)
        .await?
        .end("on", on, change.today())?;
    let ended = referral::ActiveModel {
        id: Set(row.id.clone()),
        status: Set("UNREACHABLE".into()),
        concluded_on: Set(Some(on)),
        updated_at: Set(change.now),
        ..Default::default()
    };
    save(change, ended, id, "markReferralUnreachable").await
}

/// A correction of a concluded referral: the fields given change, the others stay.
pub struct Correction<'a> {
    /// Why the referral is corrected.
    pub reason: &'a str,
    /// The corrected outcome.
    pub outcome: Option<ReferralOutcome>,
    /// The corrected day of the conclusion.
    pub concluded_on: Option<NaiveDate>,
    /// The corrected adhesion to the programme.
    pub programme_adhesion: Option<bool>,
    /// The corrected note on the outcome.
    pub outcome_note: &'a Option<String>,
}

/// Corrects a concluded referral (a coordinator of the target ente; `correctReferral`). The
/// same rules as a conclusion apply, the correction is recorded in the referral's
/// `corrections`, and adhesion opens the case if none was opened yet.
pub async fn correct_referral(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    correction: Correction<'_>,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = referral_for(
        &change,
        id,
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
    let reason = validate::required("reason", correction.reason)?;
    let note = validate::opt_text("outcomeNote", correction.outcome_note)?;
    let current_outcome = row.outcome.as_deref().and_then(ReferralOutcome::parse);
    let new_outcome = correction.outcome.or(current_outcome).ok_or_else(|| {
        ApiError::Internal(format!("concluded referral {} has no outcome", row.id).into())
    })?;
    let new_on = correction
        .concluded_on
        .or(row.concluded_on)
        .ok_or_else(|| {
            ApiError::Internal(format!("concluded referral {} has no date", row.id).into())
        })?;
    let new_adhesion = correction
        .programme_adhesion
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
    timeline(change.db(), &row).await?.conclusion(
        ["concludedOn", "outcome", "programmeAdhesion"],
        new_on,
        change.today(),
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
            Some(open_adhesion_case(change.db(), change.principal, &row, new_on, change.now).await?)
        }
        None => None,
    };
    let now = change.now;
    let corrected = referral::ActiveModel {
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
        corrected_by: Set(change.principal.user_id.clone()),
        reason: Set(reason),
        fields: Set(changed.join(",")),
    })
    .exec_without_returning(change.db())
    .await?;
    save(change, corrected, id, "correctReferral").await
}

/// Withdraws a referral the principal's agency sent, while it is not concluded
/// (`withdrawReferral`).
pub async fn withdraw_referral(
    state: &AppState,
    request: &RequestContext,
    id: &str,
) -> ApiResult<referral::Model> {
    let change = Change::begin(state, request).await?;
    let row = referral_for(
        &change,
        id,
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
    let withdrawn = referral::ActiveModel {
        id: Set(row.id.clone()),
        status: Set("WITHDRAWN".into()),
        updated_at: Set(change.now),
        ..Default::default()
    };
    save(change, withdrawn, id, "withdrawReferral").await
}
