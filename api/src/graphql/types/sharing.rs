//! Consents, shares and transfer requests: the protocol's paperwork, visible to the case's owner
//! and to the recipient named in it.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime as ChronoDateTime, Utc};
use raccordo_entities::{consent, share, transfer};

use super::{agency::Agency, load_agency};
use crate::{
    error::{internal, ApiResult},
    graphql::{
        enums::{SharePurpose, TransferStatus},
        scalars::Date,
        ContextExt,
    },
};

fn purpose(text: &str) -> ApiResult<SharePurpose> {
    text.parse::<raccordo_policies::SharePurpose>()
        .map(Into::into)
        .map_err(|_| internal("unknown purpose in the database"))
}

/// The person's recorded consent to share their case for one purpose with one agency.
pub struct Consent(pub consent::Model);

/// The person's recorded consent to share their case for one purpose with one agency.
#[Object]
impl Consent {
    /// The consent's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The case it is about.
    async fn case_id(&self) -> ID {
        ID(self.0.case_id.clone())
    }
    /// What the person consented to.
    async fn purpose(&self) -> ApiResult<SharePurpose> {
        purpose(&self.0.purpose)
    }
    /// The agency the person consented to share with.
    async fn recipient(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.recipient_id).await
    }
    /// When the consent was given.
    async fn given_on(&self) -> Date {
        Date(self.0.given_on)
    }
    /// Last day the consent holds.
    async fn expires_on(&self) -> Option<Date> {
        self.0.expires_on.map(Date)
    }
    /// When the person withdrew it.
    async fn revoked_on(&self) -> Option<Date> {
        self.0.revoked_on.map(Date)
    }
}

/// A share of a case with another agency for a purpose.
pub struct Share {
    /// The share as stored.
    pub row: share::Model,
    /// Computed by the same rule that decides relationships, at the request's clock.
    pub active: bool,
}

impl Share {
    /// A share as of `now`, with `consent_active` telling whether its consent still holds.
    pub fn at(row: share::Model, consent_active: bool, now: ChronoDateTime<Utc>) -> Self {
        let active = row.revoked_at.is_none()
            && row.expires_at.is_none_or(|e| e > now)
            && (consent_active || (row.emergency && row.consent_id.is_none()));
        Share { row, active }
    }
}

/// A share of a case with another agency for a purpose, resting on a consent or, in an emergency, on a recorded reason.
#[Object]
impl Share {
    /// The share's id.
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    /// The case shared.
    async fn case_id(&self) -> ID {
        ID(self.row.case_id.clone())
    }
    /// Why it is shared.
    async fn purpose(&self) -> ApiResult<SharePurpose> {
        purpose(&self.row.purpose)
    }
    /// The agency it is shared with.
    async fn recipient(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.row.recipient_id).await
    }
    /// The consent it rests on (none for an emergency share).
    async fn consent(&self, ctx: &Context<'_>) -> ApiResult<Option<Consent>> {
        let Some(id) = self.row.consent_id.clone() else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()
            .consent
            .load_one(id)
            .await
            .map_err(internal)?
            .map(Consent))
    }
    /// Whether it was made without consent because a life was in danger.
    async fn emergency(&self) -> bool {
        self.row.emergency
    }
    /// Why consent could not be obtained (emergency shares only).
    async fn emergency_reason(&self) -> Option<&str> {
        self.row.emergency_reason.as_deref()
    }
    /// Last day of the share.
    async fn expires_on(&self) -> Option<Date> {
        self.row
            .expires_at
            .map(|e| Date(crate::access::local_date(e - chrono::Duration::seconds(1))))
    }
    /// Exact moment the share ends.
    async fn expires_at(&self) -> Option<crate::graphql::scalars::DateTime> {
        self.row.expires_at.map(Into::into)
    }
    /// When it was revoked.
    async fn revoked_on(&self) -> Option<Date> {
        self.row
            .revoked_at
            .map(|e| Date(crate::access::local_date(e)))
    }
    /// Whether it gives access right now.
    async fn active(&self) -> bool {
        self.active
    }
}

/// A transfer request (MIR): moving a case to another ente.
pub struct Transfer(pub transfer::Model);

/// A transfer request (MIR): moving a case to another ente.
#[Object]
impl Transfer {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The case to move.
    async fn case_id(&self) -> ID {
        ID(self.0.case_id.clone())
    }
    /// The ente that holds the case.
    async fn from(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.from_id).await
    }
    /// The ente asked to take it.
    async fn to(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.to_id).await
    }
    /// Where the request stands.
    async fn status(&self) -> ApiResult<TransferStatus> {
        TransferStatus::parse(&self.0.status).ok_or_else(|| internal("unknown transfer status"))
    }
    /// When it was requested.
    async fn requested_on(&self) -> Date {
        Date(self.0.requested_on)
    }
}
