//! `indicators`: a project's expected results (`project_indicators`) against what its rows say
//! was achieved in a period.
//!
//! The achieved value of an indicator comes from its key. Over the project's rows, for the period
//! `from..=to` ("in assistance": opened on or before `to` and not closed before `from`; an
//! activity "runs" in the period when it started on or before `to`, or has no start date, and did
//! not end before `from`):
//!
//! | key | achieved |
//! | --- | --- |
//! | `persone_in_assistenza` | cases in assistance in the period |
//! | `alfabetizzazione` | people in assistance with a `LITERACY_COURSE` activity running in the period |
//! | `formazione_professionalizzante` | people in assistance with a `VOCATIONAL_COURSE` activity running in the period |
//! | `borse_lavoro` | `WORK_GRANT` activities of people in assistance, running in the period |
//! | `tirocini_extracurriculari` | `INTERNSHIP` activities of people in assistance, running in the period |
//! | `nuovi_inserimenti_lavorativi` | `JOB` activities started in the period (a job with no start date is not counted as new) |
//! | `contributi_alloggio` | `HOUSING` activities started in the period |
//! | `percorsi_regolarizzazione` | people in assistance whose current permit is recorded and is not `NONE` (a request, an appeal or a permit) |
//! | `percorsi_psicologici_psichiatrici` | people in assistance with psychological support recorded |
//! | `autonomia_chiusura` | cases closed in the period with outcome `AUTONOMY` |
//! | `colloqui_valutazione_filtro` | interviews held in the period for the project's referrals (the hub does not see the segretariato sociale's) |
//! | `identificate_protezione_internazionale` | the project's referrals concluded in the period with an `IDENTIFIED_*` outcome |
//! | any other key | not tracked (`tracked: false`, `achieved: null`): outreach, awareness events, trainings, legal advice, the segretariato sociale's identifications... are not rows of the hub |
//!
//! Scope (ACCESS.md §7): the project's coordinating agency (whatever its kind) gets exact
//! project-wide values; one of the project's enti gets exact values over its own rows (the cases
//! it holds, the referrals sent to it); everyone else is refused, since project-wide counts over
//! rows a viewer does not answer for come only from statistics releases.
//! A few statements per call (the project, the viewer's membership, the indicators, one
//! aggregate), whatever the number of indicators or rows.

use std::collections::BTreeMap;

use async_graphql::SimpleObject;
use raccordo_entities::{
    activity, case, project, project_ente, project_indicator, referral, referral_interview,
};
use raccordo_policies::{Policy, StatsScope};
use sea_orm::{
    sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::{
    case_counts::{in_assistance, Period},
    sql::count_of,
};
use crate::{
    access::{Principal, RequestContext},
    domain::scalars::Date,
    error::{ApiError, ApiResult},
    validate,
};

/// One expected result of a project, with what the hub's rows say was achieved in a period.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct Indicator {
    /// Machine name of the indicator, unique within the project (e.g. `persone_in_assistenza`).
    pub key: String,
    /// The indicator's wording, as in the project's report.
    pub label: String,
    /// The expected (target) value.
    pub expected: i32,
    /// What the rows say was achieved in the period (over the viewer's own rows for an ente);
    /// null when the hub does not track this indicator.
    pub achieved: Option<i32>,
    /// `achieved / expected`; null when `achieved` is null or nothing is expected.
    pub ratio: Option<f64>,
    /// Always false: indicators are exact for the viewers who get them (ACCESS.md §7).
    pub suppressed: bool,
    /// Whether the hub computes this indicator from its rows (see the mapping in the docs).
    pub tracked: bool,
}

/// How an indicator's achieved value is computed.
#[derive(Debug, Clone, Copy)]
enum Measure {
    InAssistance,
    PeopleWithActivity(&'static str),
    ActivitiesRunning(&'static str),
    ActivitiesStarted(&'static str),
    WithPermit,
    PsychSupport,
    ClosedWith(&'static str),
    InterviewsHeld,
    Identified,
}

/// The mapping from indicator key to its computation, in the report's order.
const MAPPING: &[(&str, Measure)] = &[
    ("persone_in_assistenza", Measure::InAssistance),
    ("percorsi_psicologici_psichiatrici", Measure::PsychSupport),
    (
        "alfabetizzazione",
        Measure::PeopleWithActivity("LITERACY_COURSE"),
    ),
    (
        "formazione_professionalizzante",
        Measure::PeopleWithActivity("VOCATIONAL_COURSE"),
    ),
    ("borse_lavoro", Measure::ActivitiesRunning("WORK_GRANT")),
    (
        "tirocini_extracurriculari",
        Measure::ActivitiesRunning("INTERNSHIP"),
    ),
    (
        "nuovi_inserimenti_lavorativi",
        Measure::ActivitiesStarted("JOB"),
    ),
    ("contributi_alloggio", Measure::ActivitiesStarted("HOUSING")),
    ("percorsi_regolarizzazione", Measure::WithPermit),
    ("autonomia_chiusura", Measure::ClosedWith("AUTONOMY")),
    ("colloqui_valutazione_filtro", Measure::InterviewsHeld),
    (
        "identificate_protezione_internazionale",
        Measure::Identified,
    ),
];

/// Outcomes that identify the person as a victim.
const IDENTIFIED: [&str; 3] = [
    "IDENTIFIED_TRAFFICKING",
    "IDENTIFIED_SEXUAL_EXPLOITATION",
    "IDENTIFIED_LABOUR_EXPLOITATION",
];

fn measure_of(key: &str) -> Option<(usize, Measure)> {
    MAPPING
        .iter()
        .enumerate()
        .find(|(_, (k, _))| *k == key)
        .map(|(i, (_, m))| (i, *m))
}

/// The rows a measure aggregates over, each read once per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// The project's cases.
    Cases,
    /// The activities of the project's cases (joined with them).
    Activities,
    /// The project's referrals.
    Referrals,
    /// The interviews of the project's referrals (joined with them).
    Interviews,
}

/// `1` for the rows matching `cond`, else `0`, summed.
fn count_if(cond: Condition) -> SimpleExpr {
    let one: SimpleExpr = Expr::case(cond, Expr::val(1)).finally(Expr::val(0)).into();
    Expr::expr(one).sum()
}

/// Where `m` is computed and its aggregate over that source's rows.
fn measure(m: Measure, period: Period) -> (Source, SimpleExpr) {
    let running = |kind: &str| {
        Condition::all()
            .add(activity::Column::Kind.eq(kind))
            .add(in_assistance(period))
            .add(
                Condition::any()
                    .add(activity::Column::StartedOn.is_null())
                    .add(activity::Column::StartedOn.lte(period.to)),
            )
            .add(
                Condition::any()
                    .add(activity::Column::EndedOn.is_null())
                    .add(activity::Column::EndedOn.gte(period.from)),
            )
    };
    match m {
        Measure::InAssistance => (Source::Cases, count_if(in_assistance(period))),
        Measure::WithPermit => (
            Source::Cases,
            count_if(
                in_assistance(period)
                    .add(case::Column::PermitCurrent.is_not_null())
                    .add(case::Column::PermitCurrent.ne("NONE")),
            ),
        ),
        Measure::PsychSupport => (
            Source::Cases,
            count_if(
                in_assistance(period)
                    .add(case::Column::PsychSupport.is_not_null())
                    .add(case::Column::PsychSupport.ne("")),
            ),
        ),
        Measure::ClosedWith(outcome) => (
            Source::Cases,
            count_if(
                Condition::all()
                    .add(case::Column::ClosedOn.between(period.from, period.to))
                    .add(case::Column::Outcome.eq(outcome)),
            ),
        ),
        Measure::PeopleWithActivity(kind) => {
            let person: SimpleExpr = Expr::case(
                running(kind),
                Expr::col((activity::Entity, activity::Column::CaseId)),
            )
            .into();
            (Source::Activities, Expr::expr(person).count_distinct())
        }
        Measure::ActivitiesRunning(kind) => (Source::Activities, count_if(running(kind))),
        Measure::ActivitiesStarted(kind) => (
            Source::Activities,
            count_if(
                Condition::all()
                    .add(activity::Column::Kind.eq(kind))
                    .add(activity::Column::StartedOn.between(period.from, period.to)),
            ),
        ),
        Measure::InterviewsHeld => (
            Source::Interviews,
            count_if(
                Condition::all()
                    .add(referral_interview::Column::HeldOn.between(period.from, period.to)),
            ),
        ),
        Measure::Identified => (
            Source::Referrals,
            count_if(
                Condition::all()
                    .add(referral::Column::ConcludedOn.between(period.from, period.to))
                    .add(referral::Column::Outcome.is_in(IDENTIFIED)),
            ),
        ),
    }
}

/// The one-row aggregate of `source` for `project`, with the given columns.
fn source_aggregate(
    source: Source,
    project: &str,
    ente: Option<&str>,
    columns: Vec<(String, SimpleExpr)>,
) -> SelectStatement {
    let mut q = Query::select();
    match source {
        Source::Cases => {
            q.from(case::Entity)
                .and_where(case::Column::ProjectId.eq(project));
        }
        Source::Activities => {
            q.from(activity::Entity)
                .inner_join(
                    case::Entity,
                    Expr::col((case::Entity, case::Column::Id))
                        .equals((activity::Entity, activity::Column::CaseId)),
                )
                .and_where(case::Column::ProjectId.eq(project));
        }
        Source::Referrals => {
            q.from(referral::Entity)
                .and_where(referral::Column::ProjectId.eq(project));
        }
        Source::Interviews => {
            q.from(referral_interview::Entity)
                .inner_join(
                    referral::Entity,
                    Expr::col((referral::Entity, referral::Column::Id)).equals((
                        referral_interview::Entity,
                        referral_interview::Column::ReferralId,
                    )),
                )
                .and_where(referral::Column::ProjectId.eq(project));
        }
    }
    // An ente's indicators count its own rows only: the cases it holds (and their activities),
    // the referrals sent to it (and their interviews).
    if let Some(ente) = ente {
        match source {
            Source::Cases | Source::Activities => {
                q.and_where(Expr::col((case::Entity, case::Column::OwnerId)).eq(ente));
            }
            Source::Referrals | Source::Interviews => {
                q.and_where(Expr::col((referral::Entity, referral::Column::TargetId)).eq(ente));
            }
        }
    }
    for (name, expr) in columns {
        q.expr_as(expr, Alias::new(name));
    }
    q
}

/// The achieved value of each tracked key among `keys`, for `project` over `period`, exact
/// (over the rows of `ente` only, when given): one statement, which reads each source (cases,
/// activities, referrals, interviews) once in a one-row aggregate, whatever the number of
/// indicators.
pub async fn achieved<C: ConnectionTrait>(
    db: &C,
    project: &str,
    ente: Option<&str>,
    period: Period,
    keys: &[&str],
) -> ApiResult<BTreeMap<String, i64>> {
    let mut by_source: BTreeMap<Source, Vec<(String, SimpleExpr)>> = BTreeMap::new();
    let mut tracked = Vec::new();
    for key in keys {
        if let Some((i, m)) = measure_of(key) {
            let (source, expr) = measure(m, period);
            let column = format!("m{i}");
            by_source
                .entry(source)
                .or_default()
                .push((column.clone(), expr));
            tracked.push((key.to_string(), column));
        }
    }
    if tracked.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut q = Query::select();
    for (n, (source, columns)) in by_source.into_iter().enumerate() {
        let alias = Alias::new(format!("s{n}"));
        for (column, _) in &columns {
            q.expr_as(
                Expr::col((alias.clone(), Alias::new(column.as_str()))),
                Alias::new(column.as_str()),
            );
        }
        q.from_subquery(source_aggregate(source, project, ente, columns), alias);
    }
    let row = db
        .query_one(db.get_database_backend().build(&q))
        .await?
        .ok_or_else(|| ApiError::Internal("the indicators' aggregate answered no row".into()))?;
    tracked
        .into_iter()
        .map(|(key, column)| Ok((key, count_of(&row, &column)?)))
        .collect()
}

/// Whose rows an indicator counts for `principal`: the whole project for its coordinating
/// agency (whatever its kind), the ente's own rows for one of the project's enti, and nothing for
/// anyone else (`None`: refused; project-wide counts for others come only from releases).
async fn indicator_rows<C: ConnectionTrait>(
    db: &C,
    project: &project::Model,
    principal: &Principal,
) -> ApiResult<Option<IndicatorRows>> {
    let Some(agency) = principal.agency_id() else {
        return Ok(None);
    };
    if agency == project.coordinator_id {
        return Ok(Some(IndicatorRows::Project));
    }
    let member = project_ente::Entity::find()
        .filter(project_ente::Column::ProjectId.eq(project.id.as_str()))
        .filter(project_ente::Column::AgencyId.eq(agency))
        .count(db)
        .await?
        > 0;
    Ok(member.then(|| IndicatorRows::Ente(agency.to_string())))
}

/// The rows a caller's indicators count.
enum IndicatorRows {
    /// The whole project: its coordinating agency.
    Project,
    /// One ente's own rows.
    Ente(String),
}

/// `indicators(projectId, from, to)`: exact, over the whole project for its coordinating agency
/// and over its own rows for one of its enti; refused to everyone else.
pub async fn indicators<C: ConnectionTrait>(
    db: &C,
    policy: &Policy,
    request: &RequestContext,
    project_id: &str,
    (from, to): (Date, Date),
) -> ApiResult<Vec<Indicator>> {
    let viewer = request.viewer();
    let forbidden = || {
        ApiError::Forbidden(
            "a project's indicators are exact for its coordinating agency and, over their own rows, for its enti; network counts come from statistics releases".into(),
        )
    };
    policy
        .statistics(viewer.as_ref(), Some(StatsScope::Mine))
        .map_err(|_| forbidden())?;
    validate::not_before("to", to.0, from.0, "from")?;
    let project = project::Entity::find_by_id(project_id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::validation("projectId", "no project has this id"))?;
    let principal = request.require()?;
    let ente = match indicator_rows(db, &project, principal)
        .await?
        .ok_or_else(forbidden)?
    {
        IndicatorRows::Project => None,
        IndicatorRows::Ente(e) => Some(e),
    };
    let mut rows = project_indicator::Entity::find()
        .filter(project_indicator::Column::ProjectId.eq(project.id.as_str()))
        .all(db)
        .await?;
    rows.sort_by(|a, b| {
        let rank = |k: &str| measure_of(k).map_or(usize::MAX, |(i, _)| i);
        rank(&a.key)
            .cmp(&rank(&b.key))
            .then_with(|| a.key.cmp(&b.key))
    });
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let period = Period {
        from: from.0,
        to: to.0,
    };
    let values = achieved(db, &project.id, ente.as_deref(), period, &keys).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let value = values.get(&r.key).copied();
            let achieved = value.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
            let expected = i32::try_from(r.expected).unwrap_or(i32::MAX);
            Indicator {
                key: r.key.clone(),
                label: r.label.clone(),
                expected,
                achieved,
                ratio: achieved
                    .filter(|_| expected > 0)
                    .map(|a| f64::from(a) / f64::from(expected)),
                // Indicators are exact for whoever gets them; the field stays for clients that
                // read it.
                suppressed: false,
                tracked: value.is_some(),
            }
        })
        .collect())
}
