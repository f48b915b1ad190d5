//! Referral counts, now or "as of" a date, and the report's referral table by province.
//!
//! A referral's status is not historised: only its dates are. With `as_of`:
//!
//! - only referrals received on or before `as_of` count;
//! - a referral concluded (or found unreachable) after `as_of` counts as open at `as_of`: its
//!   `STATUS` is `IN_PROGRESS` when an interview was held on or before `as_of`, else `RECEIVED`,
//!   and its `OUTCOME` is not known yet (`UNKNOWN`);
//! - every other referral counts with its current status (a referral still open now, or withdrawn,
//!   which has no date, keeps the status it has today);
//! - the `status` and `open` filters match that status.

use chrono::NaiveDate;
use raccordo_entities::{agency, referral, referral_interview};
use sea_orm::{
    sea_query::{Alias, Expr, JoinType, Query, SimpleExpr},
    ColumnTrait, Condition, ConnectionTrait,
};

use super::{
    case_counts::coordinated_projects,
    cells,
    sql::{count_of, grouped, scalar, ROW_ID},
    Grant, StatCell,
};
use crate::{
    domain::{
        enums::ReferralDimension,
        filters::{referral_filter_condition, ReferralFilter, OPEN_REFERRAL_STATUSES},
    },
    error::ApiResult,
};

/// Outcomes that identify the person as a victim.
const IDENTIFIED: [&str; 3] = [
    "IDENTIFIED_TRAFFICKING",
    "IDENTIFIED_SEXUAL_EXPLOITATION",
    "IDENTIFIED_LABOUR_EXPLOITATION",
];

fn col(c: referral::Column) -> SimpleExpr {
    Expr::col((referral::Entity, c)).into()
}

/// Whether an interview of the referral was held on or before `day`.
fn interviewed_by(day: NaiveDate) -> SimpleExpr {
    let i = Alias::new("i");
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from_as(referral_interview::Entity, i.clone())
            .and_where(
                Expr::col((i.clone(), referral_interview::Column::ReferralId))
                    .equals((referral::Entity, referral::Column::Id)),
            )
            .and_where(Expr::col((i, referral_interview::Column::HeldOn)).lte(day))
            .to_owned(),
    )
}

/// The status as of `day` (see the module's documentation).
fn status_as_of(day: NaiveDate) -> SimpleExpr {
    let open_then: SimpleExpr = Expr::case(interviewed_by(day), Expr::val("IN_PROGRESS"))
        .finally(Expr::val("RECEIVED"))
        .into();
    Expr::case(
        Expr::col((referral::Entity, referral::Column::ConcludedOn)).gt(day),
        open_then,
    )
    .finally(col(referral::Column::Status))
    .into()
}

fn key(dim: ReferralDimension, as_of: Option<NaiveDate>) -> SimpleExpr {
    match (dim, as_of) {
        (ReferralDimension::Status, Some(d)) => status_as_of(d),
        (ReferralDimension::Outcome, Some(d)) => Expr::case(
            Expr::col((referral::Entity, referral::Column::ConcludedOn)).lte(d),
            col(referral::Column::Outcome),
        )
        .into(),
        (ReferralDimension::Province, _) => col(referral::Column::Province),
        (ReferralDimension::Target, _) => col(referral::Column::TargetId),
        (ReferralDimension::RequesterKind, _) => {
            Expr::col((Alias::new("requester"), agency::Column::Kind)).into()
        }
        (ReferralDimension::Status, None) => col(referral::Column::Status),
        (ReferralDimension::Outcome, None) => col(referral::Column::Outcome),
        (ReferralDimension::Nationality, _) => col(referral::Column::SubjectNationality),
    }
}

/// The referrals a grant counts: all, or those the viewer answers for (the referrals sent to it,
/// and the referrals of the projects it coordinates).
fn scope_condition(grant: &Grant) -> Condition {
    match &grant.mine {
        None => Condition::all(),
        Some(mine) => {
            let mut any = Condition::any().add(
                referral::Column::ProjectId.in_subquery(coordinated_projects(&mine.agency_id)),
            );
            if mine.received_referrals {
                any = any.add(referral::Column::TargetId.eq(mine.agency_id.as_str()));
            }
            any
        }
    }
}

/// The filter's conditions, with `status` and `open` read as of `as_of` when given.
fn filter_condition(filter: &ReferralFilter, as_of: Option<NaiveDate>) -> ApiResult<Condition> {
    let Some(day) = as_of else {
        return referral_filter_condition(filter);
    };
    let now_only = ReferralFilter {
        status: None,
        open: None,
        ..filter.clone()
    };
    let mut cond = referral_filter_condition(&now_only)?.add(referral::Column::ReceivedOn.lte(day));
    if let Some(s) = filter.status {
        cond = cond.add(Expr::expr(status_as_of(day)).eq(s.as_str()));
    }
    match filter.open {
        Some(true) => cond = cond.add(Expr::expr(status_as_of(day)).is_in(OPEN_REFERRAL_STATUSES)),
        Some(false) => {
            cond = cond.add(Expr::expr(status_as_of(day)).is_not_in(OPEN_REFERRAL_STATUSES))
        }
        None => {}
    }
    Ok(cond)
}

/// Counts referrals by `dims` under `grant`: one statement.
pub async fn count<C: ConnectionTrait>(
    db: &C,
    grant: &Grant,
    dims: &[ReferralDimension],
    filter: &ReferralFilter,
    as_of: Option<NaiveDate>,
    k: u64,
) -> ApiResult<Vec<StatCell>> {
    let cond = filter_condition(filter, as_of)?.add(scope_condition(grant));
    let mut inner = Query::select();
    inner
        .from(referral::Entity)
        .expr_as(col(referral::Column::Id), Alias::new(ROW_ID));
    for (i, dim) in dims.iter().enumerate() {
        inner.expr_as(key(*dim, as_of), Alias::new(format!("k{i}")));
    }
    if dims.contains(&ReferralDimension::RequesterKind) {
        inner.join_as(
            JoinType::InnerJoin,
            agency::Entity,
            Alias::new("requester"),
            Expr::col((Alias::new("requester"), agency::Column::Id))
                .equals((referral::Entity, referral::Column::RequestedById)),
        );
    }
    inner.cond_where(cond);
    let rows = grouped(db, inner, dims.len(), false).await?;
    Ok(cells(rows, dims.len(), grant.exact, k))
}

/// One province's row of the report's referral table over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceRow {
    /// The province (sigla), or [`super::UNKNOWN`].
    pub province: String,
    /// "Persone segnalate": referrals received in the period.
    pub reported: u64,
    /// "Nuove persone incontrate": referrals whose first interview was held in the period.
    pub met: u64,
    /// "Colloqui svolti": interviews held in the period.
    pub interviews: u64,
    /// "Persone identificate": referrals concluded in the period with an `IDENTIFIED_*` outcome.
    pub identified: u64,
    /// "Adesioni al programma": referrals concluded in the period with the person joining the
    /// programme.
    pub adhesions: u64,
    /// "Coda": referrals received in the period, still open at its end and with no interview
    /// held by then (waiting for the first interview).
    pub queue: u64,
}

/// The report's referral table of `project` over `from..=to`, by province, exact, under
/// `grant`'s scope: one statement. Provinces with nothing to show are left out.
pub async fn province_table<C: ConnectionTrait>(
    db: &C,
    grant: &Grant,
    project: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<ProvinceRow>> {
    let within = |c: referral::Column| {
        Condition::all()
            .add(Expr::col((referral::Entity, c)).gte(from))
            .add(Expr::col((referral::Entity, c)).lte(to))
    };
    let flag = |cond: Condition| -> SimpleExpr {
        Expr::case(cond, Expr::val(1)).finally(Expr::val(0)).into()
    };
    let ri = Alias::new("ri");
    let interviews = |tail: &dyn Fn(&mut sea_orm::sea_query::SelectStatement)| {
        let mut q = Query::select();
        q.from_as(referral_interview::Entity, ri.clone()).and_where(
            Expr::col((ri.clone(), referral_interview::Column::ReferralId))
                .equals((referral::Entity, referral::Column::Id)),
        );
        tail(&mut q);
        scalar(q)
    };
    let first_interview = interviews(&|q| {
        q.expr(Expr::col((ri.clone(), referral_interview::Column::HeldOn)).min());
    });
    let held_in_period = interviews(&|q| {
        q.expr(Expr::col((ri.clone(), referral_interview::Column::Id)).count())
            .and_where(Expr::col((ri.clone(), referral_interview::Column::HeldOn)).gte(from))
            .and_where(Expr::col((ri.clone(), referral_interview::Column::HeldOn)).lte(to));
    });
    let open_at_end = Condition::any()
        .add(referral::Column::Status.is_in(OPEN_REFERRAL_STATUSES))
        .add(referral::Column::ConcludedOn.gt(to));
    let columns: [(&str, SimpleExpr); 6] = [
        ("reported", flag(within(referral::Column::ReceivedOn))),
        (
            "met",
            flag(Condition::all().add(Expr::expr(first_interview).between(from, to))),
        ),
        ("interviews", held_in_period),
        (
            "identified",
            flag(
                within(referral::Column::ConcludedOn)
                    .add(referral::Column::Outcome.is_in(IDENTIFIED)),
            ),
        ),
        (
            "adhesions",
            flag(
                within(referral::Column::ConcludedOn)
                    .add(referral::Column::ProgrammeAdhesion.eq(true)),
            ),
        ),
        (
            "queue",
            flag(
                within(referral::Column::ReceivedOn)
                    .add(open_at_end)
                    .add(interviewed_by(to).not()),
            ),
        ),
    ];
    let mut inner = Query::select();
    inner
        .from(referral::Entity)
        .expr_as(col(referral::Column::Province), Alias::new("k0"));
    for (name, expr) in &columns {
        inner.expr_as(expr.clone(), Alias::new(*name));
    }
    inner.cond_where(
        Condition::all()
            .add(referral::Column::ProjectId.eq(project))
            .add(referral::Column::ReceivedOn.lte(to))
            .add(scope_condition(grant)),
    );
    let t = Alias::new("t");
    let mut outer = Query::select();
    outer
        .from_subquery(inner, t.clone())
        .expr_as(Expr::col((t.clone(), Alias::new("k0"))), Alias::new("k0"))
        .add_group_by([Expr::col((t.clone(), Alias::new("k0"))).into()]);
    for (name, _) in &columns {
        outer.expr_as(
            Expr::col((t.clone(), Alias::new(*name)))
                .sum()
                .cast_as(Alias::new("BIGINT")),
            Alias::new(*name),
        );
    }
    let rows = db
        .query_all(db.get_database_backend().build(&outer))
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let n = |c: &str| count_of(&row, c).map(|v| v.max(0) as u64);
        let r = ProvinceRow {
            province: row
                .try_get::<Option<String>>("", "k0")?
                .unwrap_or_else(|| super::UNKNOWN.to_string()),
            reported: n("reported")?,
            met: n("met")?,
            interviews: n("interviews")?,
            identified: n("identified")?,
            adhesions: n("adhesions")?,
            queue: n("queue")?,
        };
        if r != (ProvinceRow {
            province: r.province.clone(),
            ..Default::default()
        }) {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.province.cmp(&b.province));
    Ok(out)
}
