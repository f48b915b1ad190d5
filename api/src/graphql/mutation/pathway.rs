//! Activities of a case's pathway (see `domain::pathway`).

use async_graphql::{Context, Object, ID};

use crate::{
    domain::{self, scalars::Date},
    error::ApiResult,
    graphql::{types::case::Activity, ContextExt},
};

/// The pathway mutations.
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
        let model = domain::pathway::add_activity(
            ctx.state(),
            ctx.request(),
            &case_id,
            &kind,
            &detail,
            started_on.map(|d| d.0),
        )
        .await?;
        Ok(Activity(model))
    }

    /// Ends an activity on a date.
    async fn end_activity(&self, ctx: &Context<'_>, id: ID, on: Date) -> ApiResult<Activity> {
        let model = domain::pathway::end_activity(ctx.state(), ctx.request(), &id, on.0).await?;
        Ok(Activity(model))
    }
}
