//! Case counts, now or "as of" a date.
//!
//! Without a date a case counts with its current values. With `as_of`:
//!
//! - only cases opened on or before `as_of` count;
//! - `PHASE` is `CLOSED` when the case was closed on or before `as_of`, else the `toPhase` of its
//!   latest phase change recorded on or before the end of that day (UTC); a case whose history
//!   starts later (a case entered after the fact) takes its first recorded phase; a case with no
//!   phase change after that day holds its current phase (history and phase change together);
//! - `OUTCOME` is the outcome of cases closed on or before `as_of`, `UNKNOWN` for the others;
//! - the `phase` filter matches the phase as of that date;
//! - every other dimension (nationality, permits, owner...) is not historised and counts with its
//!   current value.
//!
//! With a `period` (the report and the indicators), only the cases in assistance at some time in
//! it count (opened on or before its last day, not closed before its first), as of its last day.

use chrono::NaiveDate;
use raccordo_entities::{case, case_exploitation, case_phase_change, project};
use sea_orm::{
    sea_query::{
        Alias, Expr, Func, JoinType, Order, Query, SelectStatement, SimpleExpr, WindowStatement,
    },
    ColumnTrait, Condition, ConnectionTrait,
};

use super::{
    cells,
    sql::{end_of, grouped, ROW_ID},
    Grant, StatCell,
};
use crate::{
    domain::{enums::CaseDimension, filters::CaseFilter},
    error::{ApiError, ApiResult},
    validate,
};

/// A period of assistance: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// What to count.
pub struct CaseQuery<'a> {
    /// One or two dimensions (checked by the caller).
    pub dims: &'a [CaseDimension],
    /// Filters on all rows.
    pub filter: &'a CaseFilter,
    /// Count as of the end of this day.
    pub as_of: Option<NaiveDate>,
    /// Count only cases in assistance in this period, as of its last day (wins over `as_of`).
    pub period: Option<Period>,
}

impl CaseQuery<'_> {
    fn as_of(&self) -> Option<NaiveDate> {
        self.period.map(|p| p.to).or(self.as_of)
    }
}

fn col(c: case::Column) -> SimpleExpr {
    Expr::col((case::Entity, c)).into()
}

/// Alias of the derived table with each case's phase as of a day.
const PH: &str = "ph";

/// One row per case that changed phase after `day` (a phase change at or after the end of the
/// day), ranked so that `rn = 1` is the phase it held then: its latest change recorded before the
/// end of `day`, or, when its history starts later, its first recorded phase. Cases with no change
/// after `day` hold today the phase they held then. A window over the history, not a correlated
/// subquery per case: a whole-network count stays a few hash joins.
fn phases_changed_after(day: NaiveDate) -> SelectStatement {
    let h = Alias::new("h");
    let at = || Expr::col((h.clone(), case_phase_change::Column::At));
    let before = at().lt(end_of(day));
    let mut window = WindowStatement::partition_by((h.clone(), case_phase_change::Column::CaseId));
    window
        .order_by_expr(
            Expr::case(before.clone(), Expr::val(0))
                .finally(Expr::val(1))
                .into(),
            Order::Asc,
        )
        .order_by_expr(Expr::case(before, at()).into(), Order::Desc)
        .order_by((h.clone(), case_phase_change::Column::At), Order::Asc)
        .order_by((h.clone(), case_phase_change::Column::Id), Order::Asc);
    let changed = Query::select()
        .column(case_phase_change::Column::CaseId)
        .from(case_phase_change::Entity)
        .and_where(Expr::col(case_phase_change::Column::At).gte(end_of(day)))
        .to_owned();
    Query::select()
        .expr_as(
            Expr::col((h.clone(), case_phase_change::Column::CaseId)),
            Alias::new("case_id"),
        )
        .expr_as(
            Expr::col((h.clone(), case_phase_change::Column::ToPhase)),
            Alias::new("to_phase"),
        )
        .expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            window,
            Alias::new("rn"),
        )
        .from_as(case_phase_change::Entity, h.clone())
        .and_where(Expr::col((h, case_phase_change::Column::CaseId)).in_subquery(changed))
        .to_owned()
}

/// Joins [`phases_changed_after`] as `ph` to a statement on `cases`.
fn join_phases(q: &mut SelectStatement, day: NaiveDate) {
    let ph = Alias::new(PH);
    q.join_subquery(
        JoinType::LeftJoin,
        phases_changed_after(day),
        ph.clone(),
        Condition::all()
            .add(
                Expr::col((ph.clone(), Alias::new("case_id")))
                    .equals((case::Entity, case::Column::Id)),
            )
            .add(Expr::col((ph, Alias::new("rn"))).eq(1)),
    );
}

/// The phase of the case as of the end of `day` (see the module's documentation), on a statement
/// where [`join_phases`] joined `ph`.
fn phase_as_of(day: NaiveDate) -> SimpleExpr {
    Expr::case(
        Expr::col((case::Entity, case::Column::ClosedOn)).lte(day),
        Expr::val("CLOSED"),
    )
    .finally(Func::coalesce([
        Expr::col((Alias::new(PH), Alias::new("to_phase"))).into(),
        col(case::Column::Phase),
    ]))
    .into()
}

/// The outcome of cases closed on or before `day`, NULL for the others.
fn outcome_as_of(day: NaiveDate) -> SimpleExpr {
    Expr::case(
        Expr::col((case::Entity, case::Column::ClosedOn)).lte(day),
        col(case::Column::Outcome),
    )
    .into()
}

fn key(dim: CaseDimension, as_of: Option<NaiveDate>) -> SimpleExpr {
    match (dim, as_of) {
        (CaseDimension::Phase, Some(d)) => phase_as_of(d),
        (CaseDimension::Outcome, Some(d)) => outcome_as_of(d),
        (CaseDimension::Province, _) => col(case::Column::EmersionProvince),
        (CaseDimension::Nationality, _) => col(case::Column::Nationality),
        (CaseDimension::Gender, _) => col(case::Column::Gender),
        (CaseDimension::Exploitation, _) => Expr::col((
            case_exploitation::Entity,
            case_exploitation::Column::Exploitation,
        ))
        .into(),
        (CaseDimension::PermitAtStart, _) => col(case::Column::PermitAtStart),
        (CaseDimension::PermitCurrent, _) => col(case::Column::PermitCurrent),
        (CaseDimension::EmersionChannel, _) => col(case::Column::EmersionChannel),
        (CaseDimension::Phase, None) => col(case::Column::Phase),
        (CaseDimension::Outcome, None) => col(case::Column::Outcome),
        (CaseDimension::Owner, _) => col(case::Column::OwnerId),
    }
}

/// A case filter as plain conditions on all rows (statistics count rows the viewer cannot read
/// one by one; suppression, not row visibility, protects them). `phase` is the expression the
/// `phase` filter compares (the current phase, or the phase as of a date).
pub(crate) fn plain_case_filter(f: &CaseFilter, phase: SimpleExpr) -> ApiResult<Condition> {
    let mut c = Condition::all();
    if let Some(p) = &f.project {
        c = c.add(case::Column::ProjectId.eq(p.as_str()));
    }
    if let Some(p) = f.phase {
        c = c.add(Expr::expr(phase).eq(p.as_str()));
    }
    if let Some(o) = &f.owner {
        c = c.add(case::Column::OwnerId.eq(o.as_str()));
    }
    if let Some(n) = &f.nationality {
        c = c.add(case::Column::Nationality.eq(validate::nationality("filter.nationality", n)?));
    }
    if let Some(g) = f.gender {
        c = c.add(case::Column::Gender.eq(g.as_str()));
    }
    if let Some(e) = f.exploitation {
        let sub = Query::select()
            .column(case_exploitation::Column::CaseId)
            .from(case_exploitation::Entity)
            .and_where(case_exploitation::Column::Exploitation.eq(e.as_str()))
            .to_owned();
        c = c.add(case::Column::Id.in_subquery(sub));
    }
    if let Some(p) = &f.province {
        c = c.add(case::Column::EmersionProvince.eq(validate::province("filter.province", p)?));
    }
    if let Some(d) = f.opened_from {
        c = c.add(case::Column::OpenedOn.gte(d.0));
    }
    if let Some(d) = f.opened_to {
        c = c.add(case::Column::OpenedOn.lte(d.0));
    }
    if let Some(d) = f.permit_expires_before {
        c = c.add(case::Column::PermitExpiresOn.lt(d.0));
    }
    if let (Some(a), Some(b)) = (f.opened_from, f.opened_to) {
        validate::not_before("filter.openedTo", b.0, a.0, "openedFrom")?;
    }
    if f.relationship.is_some() {
        return Err(ApiError::validation(
            "filter.relationship",
            "statistics count cases, not your relationships to them",
        ));
    }
    Ok(c)
}

/// The ids of the projects `agency_id` coordinates.
pub(crate) fn coordinated_projects(agency_id: &str) -> SelectStatement {
    Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(project::Column::CoordinatorId.eq(agency_id))
        .to_owned()
}

/// The cases a grant counts: all, or those the viewer answers for (the cases it holds, and the
/// cases of the projects it coordinates).
pub(crate) fn scope_condition(grant: &Grant) -> Condition {
    match &grant.mine {
        None => Condition::all(),
        Some(mine) => {
            let mut any = Condition::any()
                .add(case::Column::ProjectId.in_subquery(coordinated_projects(&mine.agency_id)));
            if mine.held_cases {
                any = any.add(case::Column::OwnerId.eq(mine.agency_id.as_str()));
            }
            any
        }
    }
}

/// The cases in assistance at some time in `period`.
pub(crate) fn in_assistance(period: Period) -> Condition {
    Condition::all()
        .add(case::Column::OpenedOn.lte(period.to))
        .add(
            Condition::any()
                .add(case::Column::ClosedOn.is_null())
                .add(case::Column::ClosedOn.gte(period.from)),
        )
}

/// Counts cases by the query's dimensions under `grant`: one statement.
pub async fn count<C: ConnectionTrait>(
    db: &C,
    grant: &Grant,
    q: &CaseQuery<'_>,
    k: u64,
) -> ApiResult<Vec<StatCell>> {
    let as_of = q.as_of();
    let phase = match as_of {
        Some(d) => phase_as_of(d),
        None => col(case::Column::Phase),
    };
    let mut cond = plain_case_filter(q.filter, phase)?.add(scope_condition(grant));
    if let Some(d) = as_of {
        cond = cond.add(case::Column::OpenedOn.lte(d));
    }
    if let Some(p) = q.period {
        cond = cond.add(in_assistance(p));
    }
    let mut inner = Query::select();
    inner
        .from(case::Entity)
        .expr_as(col(case::Column::Id), Alias::new(ROW_ID));
    if let Some(d) = as_of {
        if q.dims.contains(&CaseDimension::Phase) || q.filter.phase.is_some() {
            join_phases(&mut inner, d);
        }
    }
    for (i, dim) in q.dims.iter().enumerate() {
        inner.expr_as(key(*dim, as_of), Alias::new(format!("k{i}")));
    }
    let joined = q.dims.contains(&CaseDimension::Exploitation);
    if joined {
        inner.join(
            JoinType::LeftJoin,
            case_exploitation::Entity,
            Expr::col((case_exploitation::Entity, case_exploitation::Column::CaseId))
                .equals((case::Entity, case::Column::Id)),
        );
    }
    inner.cond_where(cond);
    let rows = grouped(db, inner, q.dims.len(), joined).await?;
    Ok(cells(rows, q.dims.len(), grant.exact, k))
}
