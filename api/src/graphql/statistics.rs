//! Statistics computed from the rows (ACCESS.md §7): one SQL aggregate per call, then the
//! evaluator's suppression for viewers who get suppressed counts.

use async_graphql::Context;
use raccordo_entities::{agency, case, case_exploitation, project, referral};
use raccordo_policies::{suppress, AgencyKind, StatsScope};
use sea_orm::{
    sea_query::{Alias, Expr, Query, SimpleExpr},
    ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
};

use super::{
    enums::{CaseDimension, ReferralDimension, StatisticsScope},
    query::{CaseFilter, ReferralFilter},
    types::misc::StatCell,
    ContextExt,
};
use crate::{
    error::{ApiError, ApiResult},
    validate,
};

/// Key shown for rows where a dimension has no value.
pub const UNKNOWN: &str = "UNKNOWN";

struct Grant {
    exact: bool,
    /// For `MINE`: the viewer's agency and kind.
    mine: Option<(String, AgencyKind)>,
}

fn grant(ctx: &Context<'_>, scope: Option<StatisticsScope>) -> ApiResult<Grant> {
    let request = ctx.request();
    let viewer = request.viewer();
    let requested = scope.map(|s| match s {
        StatisticsScope::Mine => StatsScope::Mine,
        StatisticsScope::Network => StatsScope::Network,
    });
    let granted = ctx
        .state()
        .policy
        .statistics(viewer.as_ref(), requested)
        .map_err(|_| {
            ApiError::Forbidden("the protocol does not give you statistics at this scope".into())
        })?;
    let mine = match granted.scope {
        StatsScope::Network => None,
        StatsScope::Mine => {
            let p = request.require()?;
            match (p.agency_id(), p.kind) {
                (Some(a), Some(k)) => Some((a.to_string(), k)),
                _ => {
                    return Err(ApiError::Forbidden(
                        "statistics of your own cases need a partner agency".into(),
                    ))
                }
            }
        }
    };
    Ok(Grant {
        exact: granted.exact,
        mine,
    })
}

fn check_dimensions<T: PartialEq + Copy>(dims: &[T]) -> ApiResult<()> {
    if dims.is_empty() || dims.len() > 2 {
        return Err(ApiError::validation(
            "groupBy",
            "group by one or two dimensions",
        ));
    }
    if dims.len() == 2 && dims[0] == dims[1] {
        return Err(ApiError::validation(
            "groupBy",
            "the two dimensions must differ",
        ));
    }
    Ok(())
}

pub(crate) fn cells(
    rows: Vec<(Option<String>, Option<String>, i64)>,
    dims: usize,
    exact: bool,
    k: u64,
) -> Vec<StatCell> {
    let mut cells: Vec<raccordo_policies::StatCell> = rows
        .into_iter()
        .filter(|r| r.2 > 0)
        .map(|(a, b, n)| {
            let mut keys = vec![a.unwrap_or_else(|| UNKNOWN.to_string())];
            if dims == 2 {
                keys.push(b.unwrap_or_else(|| UNKNOWN.to_string()));
            }
            raccordo_policies::StatCell {
                keys,
                count: n as u64,
                suppressed: false,
            }
        })
        .collect();
    cells.sort_by(|x, y| x.keys.cmp(&y.keys));
    if !exact {
        suppress(&mut cells, dims, k);
    }
    cells
        .into_iter()
        .map(|c| StatCell {
            keys: c.keys,
            count: (!c.suppressed).then_some(c.count as i32),
            suppressed: c.suppressed,
        })
        .collect()
}

fn case_column(dim: CaseDimension) -> SimpleExpr {
    let col = |c: case::Column| Expr::col((case::Entity, c)).into();
    match dim {
        CaseDimension::Province => col(case::Column::EmersionProvince),
        CaseDimension::Nationality => col(case::Column::Nationality),
        CaseDimension::Gender => col(case::Column::Gender),
        CaseDimension::Exploitation => Expr::col((
            case_exploitation::Entity,
            case_exploitation::Column::Exploitation,
        ))
        .into(),
        CaseDimension::PermitAtStart => col(case::Column::PermitAtStart),
        CaseDimension::PermitCurrent => col(case::Column::PermitCurrent),
        CaseDimension::EmersionChannel => col(case::Column::EmersionChannel),
        CaseDimension::Phase => col(case::Column::Phase),
        CaseDimension::Outcome => col(case::Column::Outcome),
        CaseDimension::Owner => col(case::Column::OwnerId),
    }
}

/// A case filter as plain conditions on all rows (statistics count rows the viewer cannot read
/// one by one; suppression, not row visibility, protects them).
fn plain_case_filter(f: &CaseFilter) -> ApiResult<Condition> {
    let mut c = Condition::all();
    if let Some(p) = &f.project {
        c = c.add(case::Column::ProjectId.eq(p.as_str()));
    }
    if let Some(p) = f.phase {
        c = c.add(case::Column::Phase.eq(p.as_str()));
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
    if let (Some(a), Some(b)) = (f.opened_from, f.opened_to) {
        validate::not_before("filter.openedTo", b.0, a.0, "openedFrom")?;
    }
    Ok(c)
}

fn coordinated_projects(agency_id: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .and_where(project::Column::CoordinatorId.eq(agency_id))
        .to_owned()
}

/// `caseStatistics`.
pub async fn cases(
    ctx: &Context<'_>,
    dims: Vec<CaseDimension>,
    filter: CaseFilter,
    scope: Option<StatisticsScope>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(ctx, scope)?;
    check_dimensions(&dims)?;
    let mut cond = plain_case_filter(&filter)?;
    if let Some((agency_id, kind)) = &grant.mine {
        cond = cond.add(match kind {
            AgencyKind::Coordinamento => {
                case::Column::ProjectId.in_subquery(coordinated_projects(agency_id))
            }
            _ => case::Column::OwnerId.eq(agency_id.as_str()),
        });
    }
    let mut q = case::Entity::find().select_only().filter(cond);
    if dims.contains(&CaseDimension::Exploitation) {
        let rel: RelationDef = case_exploitation::Entity::belongs_to(case::Entity)
            .from(case_exploitation::Column::CaseId)
            .to(case::Column::Id)
            .into();
        q = q.join(JoinType::LeftJoin, rel.rev());
    }
    let first = case_column(dims[0]);
    q = q.expr_as(first.clone(), "k0").group_by(first);
    if let Some(d) = dims.get(1) {
        let second = case_column(*d);
        q = q.expr_as(second.clone(), "k1").group_by(second);
    } else {
        q = q.expr_as(Expr::val(Option::<String>::None), "k1");
    }
    q = q.expr_as(
        Expr::col((case::Entity, case::Column::Id)).count_distinct(),
        "n",
    );
    let rows: Vec<(Option<String>, Option<String>, i64)> =
        q.into_tuple().all(&ctx.state().db).await?;
    Ok(cells(
        rows,
        dims.len(),
        grant.exact,
        ctx.state().policy.suppression_k(),
    ))
}

fn referral_column(dim: ReferralDimension) -> SimpleExpr {
    let col = |c: referral::Column| Expr::col((referral::Entity, c)).into();
    match dim {
        ReferralDimension::Province => col(referral::Column::Province),
        ReferralDimension::Target => col(referral::Column::TargetId),
        ReferralDimension::RequesterKind => {
            Expr::col((Alias::new("requester"), agency::Column::Kind)).into()
        }
        ReferralDimension::Status => col(referral::Column::Status),
        ReferralDimension::Outcome => col(referral::Column::Outcome),
        ReferralDimension::Nationality => col(referral::Column::SubjectNationality),
    }
}

/// `referralStatistics`.
pub async fn referrals(
    ctx: &Context<'_>,
    dims: Vec<ReferralDimension>,
    filter: ReferralFilter,
    scope: Option<StatisticsScope>,
) -> ApiResult<Vec<StatCell>> {
    let grant = grant(ctx, scope)?;
    check_dimensions(&dims)?;
    let mut cond = super::query::referral_filter_condition(&filter)?;
    if let Some((agency_id, kind)) = &grant.mine {
        cond = cond.add(match kind {
            AgencyKind::Coordinamento => {
                referral::Column::ProjectId.in_subquery(coordinated_projects(agency_id))
            }
            _ => referral::Column::TargetId.eq(agency_id.as_str()),
        });
    }
    let mut q = referral::Entity::find().select_only().filter(cond);
    if dims.contains(&ReferralDimension::RequesterKind) {
        let rel: RelationDef = referral::Entity::belongs_to(agency::Entity)
            .from(referral::Column::RequestedById)
            .to(agency::Column::Id)
            .into();
        q = q.join_as(JoinType::InnerJoin, rel, Alias::new("requester"));
    }
    let first = referral_column(dims[0]);
    q = q.expr_as(first.clone(), "k0").group_by(first);
    if let Some(d) = dims.get(1) {
        let second = referral_column(*d);
        q = q.expr_as(second.clone(), "k1").group_by(second);
    } else {
        q = q.expr_as(Expr::val(Option::<String>::None), "k1");
    }
    q = q.expr_as(
        Expr::col((referral::Entity, referral::Column::Id)).count_distinct(),
        "n",
    );
    let rows: Vec<(Option<String>, Option<String>, i64)> =
        q.into_tuple().all(&ctx.state().db).await?;
    Ok(cells(
        rows,
        dims.len(),
        grant.exact,
        ctx.state().policy.suppression_k(),
    ))
}
