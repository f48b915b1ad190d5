//! Consents, shares and transfers (ACCESS.md §3): every share rests on the person's consent for
//! the same purpose and recipient, or is an emergency share that is never silent.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use raccordo_entities::{agency, case, consent, share, shelter, transfer};
use raccordo_policies::{
    AgencyKind, CaseAction, ClassSet, DataClass, Policy, Relationship, SharePurpose,
};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{new_id, Change, LogEntry};
use crate::{
    access::{find_case, local_date, CaseAccessInfo, RequestContext},
    error::{ApiError, ApiResult},
    state::AppState,
    validate,
};

fn consent_is_active(c: &consent::Model, today: NaiveDate) -> bool {
    c.revoked_on.is_none() && c.expires_on.is_none_or(|e| e >= today)
}

/// The recipient agency and its kind; an unknown id is a validation error on `field`.
async fn recipient_kind<C: ConnectionTrait>(
    db: &C,
    field: &str,
    id: &str,
) -> ApiResult<AgencyKind> {
    let row = agency::Entity::find_by_id(id.to_string())
        .filter(agency::Column::Disabled.eq(false))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::validation(field, "names an agency the hub does not know"))?;
    row.kind
        .parse()
        .map_err(|_| ApiError::Internal(format!("agency {id} has an unknown kind").into()))
}

fn check_purpose(
    policy: &Policy,
    purpose: SharePurpose,
    kind: AgencyKind,
    field: &str,
) -> ApiResult<()> {
    if policy.purpose_allows_recipient(purpose, kind) {
        Ok(())
    } else {
        Err(ApiError::validation(
            field,
            format!(
                "the protocol does not let a case go to a {} for {}",
                kind.as_str(),
                purpose.as_str()
            ),
        ))
    }
}

/// ACCESS.md §5: a consent, share or transfer names an agency other than the case's owner. An
/// owner naming itself would keep a relationship after handing the case over.
fn not_the_owner(case: &case::Model, field: &str, recipient: &str) -> ApiResult<()> {
    if case.owner_id == recipient {
        return Err(ApiError::validation(
            field,
            "names the agency that holds the case: consents, shares and transfers go to another agency",
        ));
    }
    Ok(())
}

/// ACCESS.md §5: on an accepted transfer every share and consent whose recipient is the new or
/// the old owner ends, so the old owner keeps nothing unless the new owner shares with it later
/// (with a consent it records). Returns how many shares and consents ended.
async fn end_owner_grants<C: ConnectionTrait>(
    db: &C,
    case_id: &str,
    owners: [&str; 2],
    now: DateTime<Utc>,
) -> ApiResult<(u64, u64)> {
    let shares = share::Entity::update_many()
        .col_expr(share::Column::RevokedAt, Expr::value(Some(now)))
        .col_expr(share::Column::UpdatedAt, Expr::value(now))
        .filter(share::Column::CaseId.eq(case_id))
        .filter(share::Column::RecipientId.is_in(owners))
        .filter(share::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    let consents = consent::Entity::update_many()
        .col_expr(
            consent::Column::RevokedOn,
            Expr::value(Some(local_date(now))),
        )
        .col_expr(consent::Column::UpdatedAt, Expr::value(now))
        .filter(consent::Column::CaseId.eq(case_id))
        .filter(consent::Column::RecipientId.is_in(owners))
        .filter(consent::Column::RevokedOn.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok((shares, consents))
}

/// The end of day `d` in Italy.
fn end_of_day(d: NaiveDate) -> DateTime<Utc> {
    // The share ends when that day ends in Italy.
    let next = (d + Duration::days(1)).and_time(NaiveTime::MIN);
    match next.and_local_timezone(chrono_tz::Europe::Rome) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => next.and_utc(),
    }
}

/// Finds a record attached to a case that the viewer must be able to see; otherwise
/// `NOT_FOUND` as `what`.
async fn case_of(
    change: &Change<'_>,
    case_id: &str,
    what: &'static str,
) -> ApiResult<(case::Model, CaseAccessInfo)> {
    match find_case(
        change.db(),
        change.policy,
        change.principal,
        case_id,
        change.now,
    )
    .await?
    {
        Some(found) => Ok(found),
        None => Err(ApiError::NotFound(what)),
    }
}

/// Records how a pending transfer ended (accepted, rejected, cancelled), by whom and when.
async fn settle_transfer(
    change: &Change<'_>,
    id: &str,
    status: &str,
) -> ApiResult<transfer::Model> {
    let now = change.now;
    Ok(transfer::Entity::update(transfer::ActiveModel {
        id: Set(id.to_string()),
        status: Set(status.into()),
        decided_at: Set(Some(now)),
        decided_by: Set(Some(change.principal.user_id.clone())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(change.db())
    .await?)
}

/// The classes every consent, share and transfer entry names.
fn base() -> ClassSet {
    ClassSet::empty().with(DataClass::Base)
}

/// A consent the person gave.
pub struct NewConsent<'a> {
    /// The case.
    pub case_id: &'a str,
    /// What the case may be shared for.
    pub purpose: SharePurpose,
    /// The agency it may be shared with.
    pub recipient: &'a str,
    /// When the person gave it.
    pub given_on: NaiveDate,
    /// When it expires, if it does.
    pub expires_on: Option<NaiveDate>,
}

/// Records the person's consent to share their case (`recordConsent`).
pub async fn record_consent(
    state: &AppState,
    request: &RequestContext,
    input: NewConsent<'_>,
) -> ApiResult<consent::Model> {
    let NewConsent {
        case_id,
        purpose,
        recipient,
        given_on,
        expires_on,
    } = input;
    let change = Change::begin(state, request).await?;
    let (row, access) = change
        .case(
            case_id,
            CaseAction::ManageConsents,
            "only the agency that holds the case records consents",
        )
        .await?;
    not_the_owner(&row, "recipient", recipient)?;
    let kind = recipient_kind(change.db(), "recipient", recipient).await?;
    check_purpose(change.policy, purpose, kind, "recipient")?;
    validate::not_future("givenOn", given_on, change.today())?;
    if let Some(e) = expires_on {
        validate::not_before("expiresOn", e, given_on, "givenOn")?;
    }
    let now = change.now;
    let model = consent::Entity::insert(consent::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        purpose: Set(purpose.as_str().to_string()),
        recipient_id: Set(recipient.to_string()),
        given_on: Set(given_on),
        expires_on: Set(expires_on),
        revoked_on: Set(None),
        recorded_by: Set(change.principal.user_id.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    change
        .finish(LogEntry::case(
            case_id,
            "recordConsent",
            access.rels,
            base(),
        ))
        .await?;
    Ok(model)
}

/// Records that the person withdrew consent `id` on day `on` (`revokeConsent`). Every share
/// resting on it ends at once.
pub async fn revoke_consent(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
) -> ApiResult<consent::Model> {
    let change = Change::begin(state, request).await?;
    let row = consent::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
        .ok_or(ApiError::NotFound("consent"))?;
    let (_, access) = case_of(&change, &row.case_id, "consent").await?;
    // The recipient of a consent can see the case but not manage its consents.
    change.allow(
        change
            .policy
            .may(&change.viewer(), access.rels, CaseAction::ManageConsents),
        "only the agency that holds the case records consents",
    )?;
    if row.revoked_on.is_some() {
        return Err(ApiError::validation(
            "id",
            "this consent was already revoked",
        ));
    }
    validate::not_future("on", on, change.today())?;
    validate::not_before("on", on, row.given_on, "the day it was given")?;
    let model = consent::Entity::update(consent::ActiveModel {
        id: Set(row.id.clone()),
        revoked_on: Set(Some(on)),
        updated_at: Set(change.now),
        ..Default::default()
    })
    .exec(change.db())
    .await?;
    change
        .finish(LogEntry::case(
            &row.case_id,
            "revokeConsent",
            access.rels,
            base(),
        ))
        .await?;
    Ok(model)
}

/// A share of a case: on a consent, or in an emergency with its reason.
pub struct NewShare<'a> {
    /// The case.
    pub case_id: &'a str,
    /// The agency it is shared with.
    pub recipient: &'a str,
    /// What for.
    pub purpose: SharePurpose,
    /// The consent it rests on.
    pub consent_id: Option<&'a str>,
    /// Why it is an emergency share.
    pub emergency_reason: Option<&'a str>,
    /// The last day of the share.
    pub expires_on: Option<NaiveDate>,
}

/// Shares a case with an agency for a purpose (`shareCase`). Returns the share and whether it
/// is an emergency share.
pub async fn share_case(
    state: &AppState,
    request: &RequestContext,
    input: NewShare<'_>,
) -> ApiResult<(share::Model, bool)> {
    let NewShare {
        case_id,
        recipient,
        purpose,
        consent_id,
        emergency_reason,
        expires_on,
    } = input;
    let change = Change::begin(state, request).await?;
    let policy = change.policy;
    let viewer = change.viewer();
    let (row, access) = change
        .case(
            case_id,
            CaseAction::Share,
            "only the agency that holds the case can share it",
        )
        .await?;
    not_the_owner(&row, "recipient", recipient)?;
    if !policy.purpose_uses_share(purpose) {
        return Err(ApiError::validation(
            "purpose",
            "a transfer goes through requestTransfer, not a share",
        ));
    }
    let kind = recipient_kind(change.db(), "recipient", recipient).await?;
    check_purpose(policy, purpose, kind, "recipient")?;
    if let Some(e) = expires_on {
        validate::not_before("expiresOn", e, change.today(), "today")?;
    }
    let now = change.now;
    let (consent, emergency, reason, expires_at) = match (consent_id, emergency_reason) {
        (Some(cid), None) => {
            let c = consent::Entity::find_by_id(cid.to_string())
                .one(change.db())
                .await?;
            let c = c.filter(|c| c.case_id == case_id).ok_or_else(|| {
                ApiError::validation("consentId", "names no consent of this case")
            })?;
            if c.purpose != purpose.as_str() || c.recipient_id != recipient {
                return Err(ApiError::validation(
                    "consentId",
                    "the consent is for another purpose or recipient",
                ));
            }
            if !consent_is_active(&c, change.today()) {
                return Err(ApiError::validation(
                    "consentId",
                    "the consent was revoked or has expired",
                ));
            }
            (Some(c.id), false, None, expires_on.map(end_of_day))
        }
        (None, Some(reason)) => {
            if !policy.emergency_allowed(purpose) {
                return Err(ApiError::validation(
                    "emergencyReason",
                    format!(
                        "the protocol allows no emergency share for {}",
                        purpose.as_str()
                    ),
                ));
            }
            change.allow(
                policy.may_emergency_share(&viewer, access.rels, purpose),
                "only a coordinator of the agency that holds the case can share in an emergency",
            )?;
            let reason = validate::required("emergencyReason", reason)?;
            let limit = now + Duration::hours(i64::from(policy.emergency_max_hours()));
            let until = expires_on
                .map(|d| end_of_day(d).min(limit))
                .unwrap_or(limit);
            (None, true, Some(reason), Some(until))
        }
        _ => {
            return Err(ApiError::validation(
                "consentId",
                "give exactly one of consentId and emergencyReason",
            ))
        }
    };
    let model = share::Entity::insert(share::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        purpose: Set(purpose.as_str().to_string()),
        recipient_id: Set(recipient.to_string()),
        consent_id: Set(consent),
        emergency: Set(emergency),
        emergency_reason: Set(reason.clone()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        created_by: Set(change.principal.user_id.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    let operation = if emergency {
        "emergencyShare"
    } else {
        "shareCase"
    };
    change
        .finish(LogEntry::case(case_id, operation, access.rels, base()).with_detail(reason))
        .await?;
    Ok((model, emergency))
}

/// Ends share `id` at once (`revokeShare`).
pub async fn revoke_share(
    state: &AppState,
    request: &RequestContext,
    id: &str,
) -> ApiResult<share::Model> {
    let change = Change::begin(state, request).await?;
    let row = share::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
        .ok_or(ApiError::NotFound("share"))?;
    let (_, access) = case_of(&change, &row.case_id, "share").await?;
    change.allow(
        change
            .policy
            .may(&change.viewer(), access.rels, CaseAction::Share),
        "only the agency that holds the case can revoke its shares",
    )?;
    if row.revoked_at.is_some() {
        return Err(ApiError::validation("id", "this share was already revoked"));
    }
    let model = share::Entity::update(share::ActiveModel {
        id: Set(row.id.clone()),
        revoked_at: Set(Some(change.now)),
        updated_at: Set(change.now),
        ..Default::default()
    })
    .exec(change.db())
    .await?;
    change
        .finish(LogEntry::case(
            &row.case_id,
            "revokeShare",
            access.rels,
            base(),
        ))
        .await?;
    Ok(model)
}

/// Asks agency `to` to take case `case_id` over (MIR), with the person's consent for
/// `TRANSFER` (`requestTransfer`).
pub async fn request_transfer(
    state: &AppState,
    request: &RequestContext,
    case_id: &str,
    to: &str,
    consent_id: &str,
) -> ApiResult<transfer::Model> {
    let change = Change::begin(state, request).await?;
    let (row, access) = change
        .case(
            case_id,
            CaseAction::RequestTransfer,
            "only a coordinator of the agency that holds the case can request a transfer",
        )
        .await?;
    not_the_owner(&row, "to", to)?;
    let kind = recipient_kind(change.db(), "to", to).await?;
    check_purpose(change.policy, SharePurpose::Transfer, kind, "to")?;
    let c = consent::Entity::find_by_id(consent_id.to_string())
        .one(change.db())
        .await?;
    let c = c
        .filter(|c| c.case_id == case_id)
        .ok_or_else(|| ApiError::validation("consentId", "names no consent of this case"))?;
    if c.purpose != SharePurpose::Transfer.as_str() || c.recipient_id != to {
        return Err(ApiError::validation(
            "consentId",
            "the consent is not for a transfer to that agency",
        ));
    }
    if !consent_is_active(&c, change.today()) {
        return Err(ApiError::validation(
            "consentId",
            "the consent was revoked or has expired",
        ));
    }
    let pending = transfer::Entity::find()
        .filter(transfer::Column::CaseId.eq(case_id))
        .filter(transfer::Column::Status.eq("REQUESTED"))
        .one(change.db())
        .await?;
    if pending.is_some() {
        return Err(ApiError::validation(
            "caseId",
            "the case already has a pending transfer request",
        ));
    }
    let now = change.now;
    let model = transfer::Entity::insert(transfer::ActiveModel {
        id: Set(new_id()),
        case_id: Set(case_id.to_string()),
        from_id: Set(row.owner_id.clone()),
        to_id: Set(to.to_string()),
        consent_id: Set(c.id),
        status: Set("REQUESTED".into()),
        requested_on: Set(change.today()),
        requested_by: Set(change.principal.user_id.clone()),
        decided_at: Set(None),
        decided_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    change
        .finish(LogEntry::case(
            case_id,
            "requestTransfer",
            access.rels,
            base(),
        ))
        .await?;
    Ok(model)
}

/// Withdraws pending transfer request `id` (a coordinator of the agency that made it;
/// `cancelTransfer`).
pub async fn cancel_transfer(
    state: &AppState,
    request: &RequestContext,
    id: &str,
) -> ApiResult<transfer::Model> {
    let change = Change::begin(state, request).await?;
    let row = transfer::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
        .ok_or(ApiError::NotFound("transfer"))?;
    let (_, access) = case_of(&change, &row.case_id, "transfer").await?;
    change.allow(
        change.principal.agency_id() == Some(row.from_id.as_str())
            && change
                .policy
                .may(&change.viewer(), access.rels, CaseAction::RequestTransfer),
        "only a coordinator of the agency that requested the transfer can cancel it",
    )?;
    if row.status != "REQUESTED" {
        return Err(ApiError::validation(
            "id",
            format!("the transfer is {}, not pending", row.status.to_lowercase()),
        ));
    }
    let model = settle_transfer(&change, &row.id, "CANCELLED").await?;
    change
        .finish(LogEntry::case(
            &row.case_id,
            "cancelTransfer",
            access.rels,
            base(),
        ))
        .await?;
    Ok(model)
}

/// Accepts (`acceptTransfer`) or rejects (`rejectTransfer`) pending transfer `id`. On
/// acceptance the case moves to the receiving agency with its id, code and history.
pub async fn decide_transfer(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    accept: bool,
) -> ApiResult<transfer::Model> {
    let change = Change::begin(state, request).await?;
    let principal = change.principal;
    let row = transfer::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
        .ok_or(ApiError::NotFound("transfer"))?;
    // A transfer exists for the viewer only through its case: hidden case, no transfer.
    let (case_row, access) = case_of(&change, &row.case_id, "transfer").await?;
    let is_receiver = principal.agency_id() == Some(row.to_id.as_str());
    // The receiver may learn where its own request stands; nobody else decides it.
    if is_receiver && row.status != "REQUESTED" {
        return Err(ApiError::validation(
            "id",
            format!("the transfer is {}, not pending", row.status.to_lowercase()),
        ));
    }
    change.allow(
        is_receiver
            && change
                .policy
                .may(&change.viewer(), access.rels, CaseAction::DecideTransfer),
        "only a coordinator of the receiving agency can decide a transfer",
    )?;
    let status = if accept { "ACCEPTED" } else { "REJECTED" };
    let model = settle_transfer(&change, &row.id, status).await?;
    let now = change.now;
    let mut ended = None;
    if accept {
        let clash = case::Entity::find()
            .filter(case::Column::OwnerId.eq(row.to_id.as_str()))
            .filter(case::Column::Code.eq(case_row.code.as_str()))
            .one(change.db())
            .await?;
        if clash.is_some() {
            return Err(ApiError::validation(
                "id",
                "your agency already holds a case with the same code",
            ));
        }
        // The shelter's address belongs to the old owner's agency: the new owner records its own.
        let keeps_shelter = match &case_row.shelter_id {
            Some(s) => shelter::Entity::find_by_id(s.clone())
                .one(change.db())
                .await?
                .is_some_and(|s| s.owner_id == row.to_id),
            None => true,
        };
        let shelter_value: Option<String> = if keeps_shelter {
            case_row.shelter_id.clone()
        } else {
            None
        };
        case::Entity::update_many()
            .col_expr(case::Column::ShelterId, Expr::value(shelter_value))
            .col_expr(case::Column::OwnerId, Expr::value(row.to_id.clone()))
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(now))
            .filter(case::Column::Id.eq(case_row.id.as_str()))
            .exec(change.db())
            .await?;
        ended = Some(
            end_owner_grants(
                change.db(),
                &case_row.id,
                [row.to_id.as_str(), case_row.owner_id.as_str()],
                now,
            )
            .await?,
        );
    }
    let operation = if accept {
        "acceptTransfer"
    } else {
        "rejectTransfer"
    };
    let rels = if accept {
        access.rels.with(Relationship::Owner)
    } else {
        access.rels
    };
    let detail = ended.map(|(shares, consents)| {
        format!("ended {shares} shares and {consents} consents to the new and old owner")
    });
    change
        .finish(LogEntry::case(&row.case_id, operation, rels, base()).with_detail(detail))
        .await?;
    Ok(model)
}
