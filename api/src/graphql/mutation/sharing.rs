//! Consents, shares and transfers (ACCESS.md §3): every share rests on the person's consent for
//! the same purpose and recipient, or is an emergency share that is never silent.

use async_graphql::{Context, Object, ID};
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use raccordo_entities::{agency, case, consent, share, shelter, transfer};
use raccordo_policies::{AgencyKind, CaseAction, ClassSet, DataClass, Relationship};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::{log_change, new_id};
use crate::{
    access::{self, Principal, RequestContext},
    error::{ApiError, ApiResult},
    graphql::{
        enums::SharePurpose,
        scalars::Date,
        types::sharing::{Consent, Share, Transfer},
        ContextExt,
    },
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
        .map_err(|_| ApiError::Internal(format!("agency {id} has an unknown kind")))
}

fn check_purpose(
    state: &AppState,
    purpose: raccordo_policies::SharePurpose,
    kind: AgencyKind,
    field: &str,
) -> ApiResult<()> {
    if state.policy.purpose_allows_recipient(purpose, kind) {
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
    now: chrono::DateTime<Utc>,
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
            Expr::value(Some(access::local_date(now))),
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

/// Finds a record attached to a case that the viewer must be able to see; otherwise `NOT_FOUND`.
async fn case_of<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    request: &RequestContext,
    principal: &Principal,
    case_id: &str,
    what: &'static str,
) -> ApiResult<(case::Model, access::CaseAccessInfo)> {
    match access::find_case(db, &state.policy, principal, case_id, request.now).await? {
        Some(found) => Ok(found),
        None => Err(ApiError::NotFound(what)),
    }
}

/// Records how a pending transfer ended (accepted, rejected, cancelled), by whom and when.
async fn settle_transfer<C: ConnectionTrait>(
    db: &C,
    id: &str,
    status: &str,
    principal: &Principal,
) -> ApiResult<transfer::Model> {
    let now = Utc::now();
    Ok(transfer::Entity::update(transfer::ActiveModel {
        id: Set(id.to_string()),
        status: Set(status.into()),
        decided_at: Set(Some(now)),
        decided_by: Set(Some(principal.user_id.clone())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?)
}

fn end_of_day(d: NaiveDate) -> chrono::DateTime<Utc> {
    // The share ends when that day ends in Italy.
    let next = (d + Duration::days(1)).and_time(NaiveTime::MIN);
    match next.and_local_timezone(chrono_tz::Europe::Rome) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => next.and_utc(),
    }
}

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
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let purpose = raccordo_policies::SharePurpose::from(purpose);
        let w = state.write().await?;
        let (row, access) =
            access::require_case(w.txn(), &state.policy, principal, &case_id, request.now).await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::ManageConsents)
        {
            return Err(ApiError::Forbidden(
                "only the agency that holds the case records consents".into(),
            ));
        }
        not_the_owner(&row, "recipient", &recipient)?;
        let kind = recipient_kind(w.txn(), "recipient", &recipient).await?;
        check_purpose(state, purpose, kind, "recipient")?;
        validate::not_future("givenOn", given_on.0, request.today())?;
        if let Some(e) = expires_on {
            validate::not_before("expiresOn", e.0, given_on.0, "givenOn")?;
        }
        let now = Utc::now();
        let model = consent::Entity::insert(consent::ActiveModel {
            id: Set(new_id()),
            case_id: Set(case_id.to_string()),
            purpose: Set(purpose.as_str().to_string()),
            recipient_id: Set(recipient.to_string()),
            given_on: Set(given_on.0),
            expires_on: Set(expires_on.map(|d| d.0)),
            revoked_on: Set(None),
            recorded_by: Set(principal.user_id.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        log_change(
            w.txn(),
            principal,
            Some(&case_id),
            "recordConsent",
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            None,
        )
        .await?;
        w.commit().await?;
        Ok(Consent(model))
    }

    /// Records that the person withdrew a consent. Every share resting on it ends at once.
    async fn revoke_consent(&self, ctx: &Context<'_>, id: ID, on: Date) -> ApiResult<Consent> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let row = consent::Entity::find_by_id(id.to_string())
            .one(w.txn())
            .await?
            .ok_or(ApiError::NotFound("consent"))?;
        let (_, access) =
            case_of(w.txn(), state, request, principal, &row.case_id, "consent").await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::ManageConsents)
        {
            // The recipient of a consent can see the case but not manage its consents.
            return Err(ApiError::Forbidden(
                "only the agency that holds the case records consents".into(),
            ));
        }
        if row.revoked_on.is_some() {
            return Err(ApiError::validation(
                "id",
                "this consent was already revoked",
            ));
        }
        validate::not_future("on", on.0, request.today())?;
        validate::not_before("on", on.0, row.given_on, "the day it was given")?;
        let model = consent::Entity::update(consent::ActiveModel {
            id: Set(row.id.clone()),
            revoked_on: Set(Some(on.0)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(w.txn())
        .await?;
        log_change(
            w.txn(),
            principal,
            Some(&row.case_id),
            "revokeConsent",
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            None,
        )
        .await?;
        w.commit().await?;
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
        let principal = request.require()?;
        let state = ctx.state();
        let viewer = principal.viewer();
        let purpose = raccordo_policies::SharePurpose::from(purpose);
        let w = state.write().await?;
        let (row, access) =
            access::require_case(w.txn(), &state.policy, principal, &case_id, request.now).await?;
        if !state.policy.may(&viewer, access.rels, CaseAction::Share) {
            return Err(ApiError::Forbidden(
                "only the agency that holds the case can share it".into(),
            ));
        }
        not_the_owner(&row, "recipient", &recipient)?;
        if !state.policy.purpose_uses_share(purpose) {
            return Err(ApiError::validation(
                "purpose",
                "a transfer goes through requestTransfer, not a share",
            ));
        }
        let kind = recipient_kind(w.txn(), "recipient", &recipient).await?;
        check_purpose(state, purpose, kind, "recipient")?;
        if let Some(e) = expires_on {
            validate::not_before("expiresOn", e.0, request.today(), "today")?;
        }
        let now = request.now;
        let (consent, emergency, reason, expires_at) = match (&consent_id, &emergency_reason) {
            (Some(cid), None) => {
                let c = consent::Entity::find_by_id(cid.to_string())
                    .one(w.txn())
                    .await?;
                let c = c.filter(|c| c.case_id == case_id.as_str()).ok_or_else(|| {
                    ApiError::validation("consentId", "names no consent of this case")
                })?;
                if c.purpose != purpose.as_str() || c.recipient_id != recipient.as_str() {
                    return Err(ApiError::validation(
                        "consentId",
                        "the consent is for another purpose or recipient",
                    ));
                }
                if !consent_is_active(&c, request.today()) {
                    return Err(ApiError::validation(
                        "consentId",
                        "the consent was revoked or has expired",
                    ));
                }
                (Some(c.id), false, None, expires_on.map(|d| end_of_day(d.0)))
            }
            (None, Some(reason)) => {
                if !state.policy.emergency_allowed(purpose) {
                    return Err(ApiError::validation(
                        "emergencyReason",
                        format!(
                            "the protocol allows no emergency share for {}",
                            purpose.as_str()
                        ),
                    ));
                }
                if !state
                    .policy
                    .may_emergency_share(&viewer, access.rels, purpose)
                {
                    return Err(ApiError::Forbidden("only a coordinator of the agency that holds the case can share in an emergency".into()));
                }
                let reason = validate::required("emergencyReason", reason)?;
                let limit = now + Duration::hours(i64::from(state.policy.emergency_max_hours()));
                let until = expires_on
                    .map(|d| end_of_day(d.0).min(limit))
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
        let created = Utc::now();
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
            created_by: Set(principal.user_id.clone()),
            created_at: Set(created),
            updated_at: Set(created),
        })
        .exec_with_returning(w.txn())
        .await?;
        let operation = if emergency {
            "emergencyShare"
        } else {
            "shareCase"
        };
        log_change(
            w.txn(),
            principal,
            Some(&case_id),
            operation,
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            reason,
        )
        .await?;
        w.commit().await?;
        Ok(Share::at(model, !emergency, now))
    }

    /// Ends a share at once.
    async fn revoke_share(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Share> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let row = share::Entity::find_by_id(id.to_string())
            .one(w.txn())
            .await?
            .ok_or(ApiError::NotFound("share"))?;
        let (_, access) =
            case_of(w.txn(), state, request, principal, &row.case_id, "share").await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::Share)
        {
            return Err(ApiError::Forbidden(
                "only the agency that holds the case can revoke its shares".into(),
            ));
        }
        if row.revoked_at.is_some() {
            return Err(ApiError::validation("id", "this share was already revoked"));
        }
        let model = share::Entity::update(share::ActiveModel {
            id: Set(row.id.clone()),
            revoked_at: Set(Some(request.now)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(w.txn())
        .await?;
        log_change(
            w.txn(),
            principal,
            Some(&row.case_id),
            "revokeShare",
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            None,
        )
        .await?;
        w.commit().await?;
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
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let (row, access) =
            access::require_case(w.txn(), &state.policy, principal, &case_id, request.now).await?;
        if !state.policy.may(
            &principal.viewer(),
            access.rels,
            CaseAction::RequestTransfer,
        ) {
            return Err(ApiError::Forbidden(
                "only a coordinator of the agency that holds the case can request a transfer"
                    .into(),
            ));
        }
        not_the_owner(&row, "to", &to)?;
        let kind = recipient_kind(w.txn(), "to", &to).await?;
        check_purpose(state, raccordo_policies::SharePurpose::Transfer, kind, "to")?;
        let c = consent::Entity::find_by_id(consent_id.to_string())
            .one(w.txn())
            .await?;
        let c = c
            .filter(|c| c.case_id == case_id.as_str())
            .ok_or_else(|| ApiError::validation("consentId", "names no consent of this case"))?;
        if c.purpose != raccordo_policies::SharePurpose::Transfer.as_str()
            || c.recipient_id != to.as_str()
        {
            return Err(ApiError::validation(
                "consentId",
                "the consent is not for a transfer to that agency",
            ));
        }
        if !consent_is_active(&c, request.today()) {
            return Err(ApiError::validation(
                "consentId",
                "the consent was revoked or has expired",
            ));
        }
        let pending = transfer::Entity::find()
            .filter(transfer::Column::CaseId.eq(case_id.as_str()))
            .filter(transfer::Column::Status.eq("REQUESTED"))
            .one(w.txn())
            .await?;
        if pending.is_some() {
            return Err(ApiError::validation(
                "caseId",
                "the case already has a pending transfer request",
            ));
        }
        let now = Utc::now();
        let model = transfer::Entity::insert(transfer::ActiveModel {
            id: Set(new_id()),
            case_id: Set(case_id.to_string()),
            from_id: Set(row.owner_id.clone()),
            to_id: Set(to.to_string()),
            consent_id: Set(c.id),
            status: Set("REQUESTED".into()),
            requested_on: Set(request.today()),
            requested_by: Set(principal.user_id.clone()),
            decided_at: Set(None),
            decided_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        log_change(
            w.txn(),
            principal,
            Some(&case_id),
            "requestTransfer",
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            None,
        )
        .await?;
        w.commit().await?;
        Ok(Transfer(model))
    }

    /// Accepts a pending transfer: the case moves to the viewer's agency with its id, code and history.
    async fn accept_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        decide(ctx, &id, true).await
    }

    /// Rejects a pending transfer.
    async fn reject_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        decide(ctx, &id, false).await
    }

    /// Withdraws a pending transfer request (a coordinator of the agency that made it).
    async fn cancel_transfer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Transfer> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let row = transfer::Entity::find_by_id(id.to_string())
            .one(w.txn())
            .await?
            .ok_or(ApiError::NotFound("transfer"))?;
        let (_, access) =
            case_of(w.txn(), state, request, principal, &row.case_id, "transfer").await?;
        if principal.agency_id() != Some(row.from_id.as_str())
            || !state.policy.may(
                &principal.viewer(),
                access.rels,
                CaseAction::RequestTransfer,
            )
        {
            return Err(ApiError::Forbidden(
                "only a coordinator of the agency that requested the transfer can cancel it".into(),
            ));
        }
        if row.status != "REQUESTED" {
            return Err(ApiError::validation(
                "id",
                format!("the transfer is {}, not pending", row.status.to_lowercase()),
            ));
        }
        let model = settle_transfer(w.txn(), &row.id, "CANCELLED", principal).await?;
        log_change(
            w.txn(),
            principal,
            Some(&row.case_id),
            "cancelTransfer",
            access.rels,
            ClassSet::empty().with(DataClass::Base),
            None,
        )
        .await?;
        w.commit().await?;
        Ok(Transfer(model))
    }
}

async fn decide(ctx: &Context<'_>, id: &str, accept: bool) -> ApiResult<Transfer> {
    let request = ctx.request();
    let principal = request.require()?;
    let state = ctx.state();
    let w = state.write().await?;
    let row = transfer::Entity::find_by_id(id.to_string())
        .one(w.txn())
        .await?
        .ok_or(ApiError::NotFound("transfer"))?;
    // A transfer exists for the viewer only through its case: hidden case, no transfer.
    let (case_row, access) =
        case_of(w.txn(), state, request, principal, &row.case_id, "transfer").await?;
    let is_receiver = principal.agency_id() == Some(row.to_id.as_str());
    // The receiver may learn where its own request stands; nobody else decides it.
    if is_receiver && row.status != "REQUESTED" {
        return Err(ApiError::validation(
            "id",
            format!("the transfer is {}, not pending", row.status.to_lowercase()),
        ));
    }
    if !is_receiver
        || !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::DecideTransfer)
    {
        return Err(ApiError::Forbidden(
            "only a coordinator of the receiving agency can decide a transfer".into(),
        ));
    }
    let status = if accept { "ACCEPTED" } else { "REJECTED" };
    let model = settle_transfer(w.txn(), &row.id, status, principal).await?;
    let now = Utc::now();
    let mut ended = None;
    if accept {
        let clash = case::Entity::find()
            .filter(case::Column::OwnerId.eq(row.to_id.as_str()))
            .filter(case::Column::Code.eq(case_row.code.as_str()))
            .one(w.txn())
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
                .one(w.txn())
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
            .exec(w.txn())
            .await?;
        ended = Some(
            end_owner_grants(
                w.txn(),
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
    log_change(
        w.txn(),
        principal,
        Some(&row.case_id),
        operation,
        rels,
        ClassSet::empty().with(DataClass::Base),
        ended.map(|(shares, consents)| {
            format!("ended {shares} shares and {consents} consents to the new and old owner")
        }),
    )
    .await?;
    w.commit().await?;
    Ok(Transfer(model))
}
