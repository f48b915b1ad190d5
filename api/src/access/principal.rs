//! The viewer of a request, resolved from a verified token and the hub's database.

use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::agency;
use raccordo_policies::{AgencyKind, UserRole, Viewer};

use super::ReadLog;
use crate::error::{ApiError, ApiResult};

/// An authenticated user: the token's identity plus its agency as the hub knows it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub`: who the user is.
    pub user_id: String,
    /// The user's role in its agency.
    pub role: UserRole,
    /// The user's agency; `None` for a platform admin.
    pub agency: Option<agency::Model>,
    /// The agency's kind, from the database (never from the token).
    pub kind: Option<AgencyKind>,
}

impl Principal {
    /// What the policy evaluator needs to know about this user.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            role: self.role,
            agency_kind: self.kind,
        }
    }

    /// The id of the user's agency, if it belongs to one.
    pub fn agency_id(&self) -> Option<&str> {
        self.agency.as_ref().map(|a| a.id.as_str())
    }
}

/// Per-request facts shared by every resolver of one request.
#[derive(Debug)]
pub struct RequestContext {
    /// `None` for an anonymous caller.
    pub principal: Option<Principal>,
    /// The request's clock, read once so that every decision of a request sees the same time.
    pub now: DateTime<Utc>,
    /// Reads of protected case classes, written to the access log when the request ends.
    pub reads: ReadLog,
}

impl RequestContext {
    /// A context for `principal` at the current time.
    pub fn new(principal: Option<Principal>) -> Self {
        RequestContext {
            principal,
            now: Utc::now(),
            reads: ReadLog::default(),
        }
    }

    /// Today's date in Italy, in the request's clock.
    pub fn today(&self) -> NaiveDate {
        local_date(self.now)
    }

    /// The principal, or `UNAUTHENTICATED` for an anonymous caller.
    pub fn require(&self) -> ApiResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| ApiError::Unauthenticated("this needs a partner's token".into()))
    }

    /// The principal and its agency id, for operations only a partner agency can do.
    pub fn require_agency(&self) -> ApiResult<(&Principal, &str)> {
        let p = self.require()?;
        match p.agency_id() {
            Some(id) => Ok((p, id)),
            None => Err(ApiError::Forbidden(
                "only a partner agency's users can do this".into(),
            )),
        }
    }

    /// The viewer for the evaluator, `None` when anonymous.
    pub fn viewer(&self) -> Option<Viewer> {
        self.principal.as_ref().map(Principal::viewer)
    }
}

/// The calendar date in Italy at `now`: dates in the hub (opened on, consent expires on) are the
/// partners' dates, and a case opened at 00:30 in Rome is opened "today", not in the future.
pub fn local_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Europe::Rome).date_naive()
}
