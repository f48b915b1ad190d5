//! Activities of a case's pathway: literacy and vocational courses, internships, work grants,
//! jobs, housing. They belong to the `PATHWAY` class: only who may change it adds or ends them.

use async_graphql::{Context, Object, ID};
use chrono::Utc;
use raccordo_entities::activity;
use raccordo_policies::{ClassSet, DataClass};
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::{log_change, new_id};
use crate::{
    access,
    error::{ApiError, ApiResult},
    graphql::{scalars::Date, types::case::Activity, ContextExt},
    validate,
};

/// The kinds of activity the report counts (see `Activity.kind`).
pub const ACTIVITY_KINDS: &[&str] = &[
    "LITERACY_COURSE",
    "VOCATIONAL_COURSE",
    "INTERNSHIP",
    "WORK_GRANT",
    "JOB",
    "HOUSING",
    "OTHER",
];

#[derive(Default)]
pub struct PathwayMutation;

#[Object]
impl PathwayMutation {
    /// Adds an activity to a case's pathway. `kind` is one of LITERACY_COURSE,
    /// VOCATIONAL_COURSE, INTERNSHIP, WORK_GRANT, JOB, HOUSING, OTHER; `detail` says more
    /// (e.g. a job's contract type, a course's certificate).
    async fn add_activity(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        kind: String,
        detail: Option<String>,
        started_on: Option<Date>,
    ) -> ApiResult<Activity> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let kind = kind.trim().to_ascii_uppercase();
        if !ACTIVITY_KINDS.contains(&kind.as_str()) {
            return Err(ApiError::validation(
                "kind",
                format!("use one of {}", ACTIVITY_KINDS.join(", ")),
            ));
        }
        let w = state.write().await?;
        let (row, access) =
            access::require_case(w.txn(), &state.policy, principal, &case_id, request.now).await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, super::guards::ACTIVITIES)
        {
            return Err(ApiError::Forbidden(
                "the protocol does not let your agency change this case's pathway".into(),
            ));
        }
        if let Some(d) = started_on {
            validate::not_future("startedOn", d.0, request.today())?;
            validate::not_before(
                "startedOn",
                d.0,
                row.opened_on,
                "the day the case was opened",
            )?;
        }
        let now = Utc::now();
        let model = activity::Entity::insert(activity::ActiveModel {
            id: Set(new_id()),
            case_id: Set(row.id.clone()),
            kind: Set(kind),
            detail: Set(validate::opt_text("detail", &detail)?),
            started_on: Set(started_on.map(|d| d.0)),
            ended_on: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        let classes = ClassSet::empty().with(DataClass::Pathway);
        log_change(
            w.txn(),
            principal,
            Some(&row.id),
            "addActivity",
            access.rels,
            classes,
            None,
        )
        .await?;
        w.commit().await?;
        Ok(Activity(model))
    }

    /// Ends an activity on a date.
    async fn end_activity(&self, ctx: &Context<'_>, id: ID, on: Date) -> ApiResult<Activity> {
        let request = ctx.request();
        let principal = request.require()?;
        let state = ctx.state();
        let w = state.write().await?;
        let act = activity::Entity::find_by_id(id.to_string())
            .one(w.txn())
            .await?
            .ok_or(ApiError::NotFound("activity"))?;
        let (_, access) =
            access::find_case(w.txn(), &state.policy, principal, &act.case_id, request.now)
                .await?
                .ok_or(ApiError::NotFound("activity"))?;
        if !access.readable.contains(DataClass::Pathway) {
            return Err(ApiError::NotFound("activity"));
        }
        if !state
            .policy
            .may(&principal.viewer(), access.rels, super::guards::ACTIVITIES)
        {
            return Err(ApiError::Forbidden(
                "the protocol does not let your agency change this case's pathway".into(),
            ));
        }
        if act.ended_on.is_some() {
            return Err(ApiError::validation(
                "id",
                "this activity has already ended",
            ));
        }
        validate::not_future("on", on.0, request.today())?;
        if let Some(start) = act.started_on {
            validate::not_before("on", on.0, start, "the day it started")?;
        }
        let model = activity::Entity::update(activity::ActiveModel {
            id: Set(act.id.clone()),
            ended_on: Set(Some(on.0)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(w.txn())
        .await?;
        let classes = ClassSet::empty().with(DataClass::Pathway);
        log_change(
            w.txn(),
            principal,
            Some(&act.case_id),
            "endActivity",
            access.rels,
            classes,
            None,
        )
        .await?;
        w.commit().await?;
        Ok(Activity(model))
    }
}
