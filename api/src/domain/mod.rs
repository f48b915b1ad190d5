//! The hub's domain: what each change means, whoever asks for it.
//!
//! GraphQL resolvers, the spreadsheet import, the report and the demo all call the functions
//! here; none of them opens a write transaction, asks the evaluator whether a change is allowed
//! or writes the access log itself. A change runs in one [`Change`]: it begins with the request's
//! principal, policy and clock (read once per request, so every decision of a request sees the
//! same time), guards the record it touches ([`Change::case`]: `NOT_FOUND` when the viewer cannot
//! see it, `FORBIDDEN` when the evaluator refuses), writes, and [`Change::finish`]es: the
//! access-log entry and the commit, in the same transaction.
//!
//! The value types partners send (enums, dates, inputs, filters) live here with their GraphQL
//! derivations, so the domain, the import and the GraphQL schema spell them the same way.

pub mod admin;
pub mod case_input;
pub mod cases;
pub mod enums;
pub mod filters;
pub mod pathway;
pub mod permissions;
pub mod reads;
pub mod referral_rules;
pub mod referrals;
pub mod scalars;
pub mod sharing;
pub mod statistics;

use chrono::{DateTime, NaiveDate, Utc};
use raccordo_entities::case;
use raccordo_policies::{CaseAction, ClassSet, Policy, RelationshipSet, Viewer};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::{
    access::{local_date, require_case, CaseAccessInfo, Principal, RequestContext},
    audit::NewEntry,
    error::{ApiError, ApiResult},
    state::{AppState, WriteTxn},
};

/// One change in progress: the request's facts and its write transaction.
///
/// Dropped without [`Change::finish`] (an error), the transaction rolls back: a failed change
/// writes nothing.
pub struct Change<'a> {
    /// The write transaction every statement of the change runs in.
    pub txn: WriteTxn,
    /// The protocol the change is decided by.
    pub policy: &'a Policy,
    /// Who makes the change.
    pub principal: &'a Principal,
    /// The request's clock.
    pub now: DateTime<Utc>,
}

/// What a change writes to the access log (ACCESS.md §9).
pub struct LogEntry<'a> {
    /// The case changed, if the change is about one.
    pub case_id: Option<&'a str>,
    /// The operation, as the access log names it (`updateCase`, `shareCase`, ...).
    pub operation: &'a str,
    /// The relationships the change was made under.
    pub rels: RelationshipSet,
    /// The classes of data it touched.
    pub classes: ClassSet,
    /// Free text that is not a value of the record (an emergency reason, a referral's id).
    pub detail: Option<String>,
}

impl<'a> LogEntry<'a> {
    /// An entry about case `case_id`.
    pub fn case(
        case_id: &'a str,
        operation: &'a str,
        rels: RelationshipSet,
        classes: ClassSet,
    ) -> Self {
        LogEntry {
            case_id: Some(case_id),
            operation,
            rels,
            classes,
            detail: None,
        }
    }

    /// An entry about no case (a referral, an agency), with its detail.
    pub fn other(operation: &'a str, detail: String) -> Self {
        LogEntry {
            case_id: None,
            operation,
            rels: RelationshipSet::empty(),
            classes: ClassSet::empty(),
            detail: Some(detail),
        }
    }

    /// The same entry with `detail`.
    pub fn with_detail(mut self, detail: Option<String>) -> Self {
        self.detail = detail;
        self
    }
}

impl<'a> Change<'a> {
    /// Begins a change for the request's principal (`UNAUTHENTICATED` for an anonymous caller).
    pub async fn begin(state: &'a AppState, request: &'a RequestContext) -> ApiResult<Self> {
        let principal = request.require()?;
        let txn = state.write().await?;
        Ok(Change {
            txn,
            policy: &state.policy,
            principal,
            now: request.now,
        })
    }

    /// The transaction to run statements in.
    pub fn db(&self) -> &DatabaseTransaction {
        self.txn.txn()
    }

    /// Today's date in Italy, in the request's clock.
    pub fn today(&self) -> NaiveDate {
        local_date(self.now)
    }

    /// What the evaluator knows of the principal.
    pub fn viewer(&self) -> Viewer {
        self.principal.viewer()
    }

    /// `FORBIDDEN` with `refusal` unless `allowed`.
    pub fn allow(&self, allowed: bool, refusal: &str) -> ApiResult<()> {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(refusal.into()))
        }
    }

    /// The case `id` as the principal sees it, in the transaction: `NOT_FOUND` when it does not
    /// exist for the principal.
    pub async fn visible_case(&self, id: &str) -> ApiResult<(case::Model, CaseAccessInfo)> {
        require_case(self.db(), self.policy, self.principal, id, self.now).await
    }

    /// The guard of a change to case `id`: the case and the principal's access to it, or
    /// `NOT_FOUND` when it does not exist for the principal, or `FORBIDDEN` with `refusal` when
    /// the evaluator does not let it do `action`.
    pub async fn case(
        &self,
        id: &str,
        action: CaseAction,
        refusal: &str,
    ) -> ApiResult<(case::Model, CaseAccessInfo)> {
        reads::case_for(
            self.db(),
            self.policy,
            self.principal,
            self.now,
            id,
            (action, refusal),
        )
        .await
    }

    /// Appends the access-log entry of (part of) the change, in its transaction.
    pub async fn log(&self, entry: LogEntry<'_>) -> ApiResult<()> {
        log_change(self.db(), self.principal, entry).await
    }

    /// Ends the change: appends its access-log entry and commits.
    pub async fn finish(self, entry: LogEntry<'_>) -> ApiResult<()> {
        self.log(entry).await?;
        self.commit().await
    }

    /// Commits a change that writes no access-log entry (a shelter, a project: no case data).
    pub async fn commit(self) -> ApiResult<()> {
        self.txn.commit().await
    }
}

/// An access-log entry for a change made by `principal`.
pub fn change_entry(principal: &Principal, entry: LogEntry<'_>) -> NewEntry {
    NewEntry {
        user_id: principal.user_id.clone(),
        agency_id: principal.agency_id().map(str::to_string),
        role: principal.role,
        case_id: entry.case_id.map(str::to_string),
        operation: entry.operation.to_string(),
        relationships: entry.rels,
        classes: entry.classes,
        detail: entry.detail,
    }
}

/// Appends the access-log entry of a change in `db`, the change's own transaction (the import
/// writes many changes in one transaction).
pub async fn log_change<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    entry: LogEntry<'_>,
) -> ApiResult<()> {
    crate::audit::append(db, vec![change_entry(principal, entry)]).await
}

/// A new random id for a created record.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
