//! Activities of a case's pathway: literacy and vocational courses, internships, work grants,
//! jobs, housing. They belong to the `PATHWAY` class: only who may change it adds or ends them.

use chrono::NaiveDate;
use raccordo_entities::activity;
use raccordo_policies::{ClassSet, DataClass};
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::{new_id, permissions::ACTIVITIES, Change, LogEntry};
use crate::{
    access::{find_case, RequestContext},
    error::{ApiError, ApiResult},
    state::AppState,
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

/// Why a change to the pathway is refused.
const REFUSAL: &str = "the protocol does not let your agency change this case's pathway";

/// Adds an activity of `kind` to a case's pathway (`addActivity`).
pub async fn add_activity(
    state: &AppState,
    request: &RequestContext,
    case_id: &str,
    kind: &str,
    detail: &Option<String>,
    started_on: Option<NaiveDate>,
) -> ApiResult<activity::Model> {
    request.require()?;
    let kind = kind.trim().to_ascii_uppercase();
    if !ACTIVITY_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::validation(
            "kind",
            format!("use one of {}", ACTIVITY_KINDS.join(", ")),
        ));
    }
    let change = Change::begin(state, request).await?;
    let (row, access) = change.case(case_id, ACTIVITIES, REFUSAL).await?;
    if let Some(d) = started_on {
        validate::not_future("startedOn", d, change.today())?;
        validate::not_before("startedOn", d, row.opened_on, "the day the case was opened")?;
    }
    let now = change.now;
    let model = activity::Entity::insert(activity::ActiveModel {
        id: Set(new_id()),
        case_id: Set(row.id.clone()),
        kind: Set(kind),
        detail: Set(validate::opt_text("detail", detail)?),
        started_on: Set(started_on),
        ended_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_with_returning(change.db())
    .await?;
    let classes = ClassSet::empty().with(DataClass::Pathway);
    change
        .finish(LogEntry::case(&row.id, "addActivity", access.rels, classes))
        .await?;
    Ok(model)
}

/// Ends activity `id` on day `on` (`endActivity`).
pub async fn end_activity(
    state: &AppState,
    request: &RequestContext,
    id: &str,
    on: NaiveDate,
) -> ApiResult<activity::Model> {
    let change = Change::begin(state, request).await?;
    let act = activity::Entity::find_by_id(id.to_string())
        .one(change.db())
        .await?
        .ok_or(ApiError::NotFound("activity"))?;
    let (_, access) = find_case(
        change.db(),
        change.policy,
        change.principal,
        &act.case_id,
        change.now,
    )
    .await?
    .ok_or(ApiError::NotFound("activity"))?;
    if !access.readable.contains(DataClass::Pathway) {
        return Err(ApiError::NotFound("activity"));
    }
    change.allow(
        change.policy.may(&change.viewer(), access.rels, ACTIVITIES),
        REFUSAL,
    )?;
    if act.ended_on.is_some() {
        return Err(ApiError::validation(
            "id",
            "this activity has already ended",
        ));
    }
    validate::not_future("on", on, change.today())?;
    if let Some(start) = act.started_on {
        validate::not_before("on", on, start, "the day it started")?;
    }
    let model = activity::Entity::update(activity::ActiveModel {
        id: Set(act.id.clone()),
        ended_on: Set(Some(on)),
        updated_at: Set(change.now),
        ..Default::default()
    })
    .exec(change.db())
    .await?;
    let classes = ClassSet::empty().with(DataClass::Pathway);
    change
        .finish(LogEntry::case(
            &act.case_id,
            "endActivity",
            access.rels,
            classes,
        ))
        .await?;
    Ok(model)
}
