//! Read operations. Row decisions are pushed into SQL through `access`; field decisions are made
//! by the types. Anonymous callers may use `directory` and nothing else.

use async_graphql::{Context, InputObject, Object, ID};
use raccordo_entities::{
    access_log, agency, case, case_exploitation, collaboration, network, project, protocol,
    referral, shelter,
};
use raccordo_policies::{CaseAction, FieldClass, NetworkClass, RelationshipSet};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{
    enums::{AgencyKind, CasePhase, Exploitation, Gender, ReferralStatus},
    pagination::{
        decode_cursor, encode_cursor, page_size, CaseConnection, CaseEdge, PageInfo,
        ReferralConnection, ReferralEdge,
    },
    scalars::Date,
    statistics,
    types::{
        agency::Agency,
        case::CaseNode,
        misc::{AccessLogEntry, StatCell, Viewer},
        network::{Collaboration, Network, Project, Protocol, Shelter},
        referral::ReferralNode,
    },
    ContextExt,
};
use crate::{
    access::{self, visible_cases_condition, Principal},
    error::{ApiError, ApiResult},
    validate,
};

/// Filters on cases. A filter on a field matches only cases where the viewer may read that field.
#[derive(InputObject, Default, Clone)]
pub struct CaseFilter {
    /// Cases of this project.
    pub project: Option<ID>,
    /// Cases in this phase.
    pub phase: Option<CasePhase>,
    /// Cases held by this agency.
    pub owner: Option<ID>,
    /// Cases of people of this nationality (ISO 3166-1 alpha-2).
    pub nationality: Option<String>,
    /// Cases of people of this gender.
    pub gender: Option<Gender>,
    /// Cases with this type of exploitation.
    pub exploitation: Option<Exploitation>,
    /// Cases that came to light in this province (sigla).
    pub province: Option<String>,
    /// Cases opened on or after this date.
    pub opened_from: Option<Date>,
    /// Cases opened on or before this date.
    pub opened_to: Option<Date>,
    /// Cases whose current permit expires before this date (a questura's "permits expiring"
    /// list). LEGAL: only cases where the viewer may read LEGAL match.
    pub permit_expires_before: Option<Date>,
    /// Cases to which the viewer's agency has this relationship (e.g. a CAV's `JOINT` cases).
    pub relationship: Option<super::enums::Relationship>,
}

/// Filters on referrals.
#[derive(InputObject, Default, Clone)]
pub struct ReferralFilter {
    /// Referrals of this project.
    pub project: Option<ID>,
    /// Referrals in this status.
    pub status: Option<ReferralStatus>,
    /// Referrals sent to this ente.
    pub target: Option<ID>,
    /// Referrals sent by this agency.
    pub requested_by: Option<ID>,
    /// Referrals in this province.
    pub province: Option<String>,
    /// Received on or after this date.
    pub received_from: Option<Date>,
    /// Received on or before this date.
    pub received_to: Option<Date>,
    /// Only referrals still open (received, scheduled or in progress): the queue (coda).
    pub open: Option<bool>,
}

/// Statuses of a referral still waiting for the ente's work: the queue (coda).
pub const OPEN_REFERRAL_STATUSES: [&str; 3] = ["RECEIVED", "SCHEDULED", "IN_PROGRESS"];

/// The root of every read.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    CoreQuery,
    super::sharing_query::SharingQuery,
    super::network_query::NetworkQuery,
    super::federation::EntityQuery,
    super::places::PlacesQuery,
);

/// Reads of cases, referrals, statistics and the network.
#[derive(Default)]
pub struct CoreQuery;

/// A case by id as the viewer sees it; `None` when it does not exist for them.
pub(crate) async fn load_case_for_viewer(
    ctx: &Context<'_>,
    id: &str,
) -> ApiResult<Option<CaseNode>> {
    let state = ctx.state();
    let request = ctx.request();
    let principal = request.require()?;
    let found = access::find_case(&state.db, &state.policy, principal, id, request.now).await?;
    Ok(found.map(|(row, access)| CaseNode { row, access }))
}

/// Adds `cond` on a case field, restricted to the cases where the viewer may read the field.
fn field_filter(
    ctx: &Context<'_>,
    principal: &Principal,
    field: &str,
    cond: Condition,
) -> Condition {
    let state = ctx.state();
    let Some(agency) = principal.agency_id() else {
        return Condition::all().add(Expr::val(1).eq(0));
    };
    let class = match state.policy.class_of("Case", field) {
        Some(FieldClass::Case(c)) => c,
        _ => return Condition::all().add(Expr::val(1).eq(0)),
    };
    let rels = access::granting_relationships(&state.policy, &principal.viewer(), class);
    Condition::all().add(cond).add(visible_cases_condition(
        &state.policy,
        agency,
        rels,
        ctx.request().now,
    ))
}

/// The SQL condition for a case filter.
pub(crate) fn case_filter_condition(
    ctx: &Context<'_>,
    principal: &Principal,
    filter: &CaseFilter,
) -> ApiResult<Condition> {
    let mut cond = Condition::all();
    if let Some(p) = &filter.project {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "project",
            Condition::all().add(case::Column::ProjectId.eq(p.as_str())),
        ));
    }
    if let Some(phase) = filter.phase {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "phase",
            Condition::all().add(case::Column::Phase.eq(phase.as_str())),
        ));
    }
    if let Some(owner) = &filter.owner {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "owner",
            Condition::all().add(case::Column::OwnerId.eq(owner.as_str())),
        ));
    }
    if let Some(n) = &filter.nationality {
        let n = validate::nationality("filter.nationality", n)?;
        cond = cond.add(field_filter(
            ctx,
            principal,
            "nationality",
            Condition::all().add(case::Column::Nationality.eq(n)),
        ));
    }
    if let Some(g) = filter.gender {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "gender",
            Condition::all().add(case::Column::Gender.eq(g.as_str())),
        ));
    }
    if let Some(e) = filter.exploitation {
        let sub = Query::select()
            .column(case_exploitation::Column::CaseId)
            .from(case_exploitation::Entity)
            .and_where(case_exploitation::Column::Exploitation.eq(e.as_str()))
            .to_owned();
        cond = cond.add(field_filter(
            ctx,
            principal,
            "exploitation",
            Condition::all().add(case::Column::Id.in_subquery(sub)),
        ));
    }
    if let Some(p) = &filter.province {
        let p = validate::province("filter.province", p)?;
        cond = cond.add(field_filter(
            ctx,
            principal,
            "emersionProvince",
            Condition::all().add(case::Column::EmersionProvince.eq(p)),
        ));
    }
    if let Some(d) = filter.opened_from {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "openedOn",
            Condition::all().add(case::Column::OpenedOn.gte(d.0)),
        ));
    }
    if let Some(d) = filter.opened_to {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "openedOn",
            Condition::all().add(case::Column::OpenedOn.lte(d.0)),
        ));
    }
    if let Some(d) = filter.permit_expires_before {
        cond = cond.add(field_filter(
            ctx,
            principal,
            "permitExpiresOn",
            Condition::all().add(case::Column::PermitExpiresOn.lt(d.0)),
        ));
    }
    if let (Some(from), Some(to)) = (filter.opened_from, filter.opened_to) {
        if to < from {
            return Err(ApiError::validation(
                "filter.openedTo",
                "openedTo is before openedFrom",
            ));
        }
    }
    if let Some(rel) = filter.relationship {
        let state = ctx.state();
        let agency = principal.agency_id().unwrap_or_default();
        let only = RelationshipSet::empty().with(rel.into());
        cond = cond.add(visible_cases_condition(
            &state.policy,
            agency,
            only,
            ctx.request().now,
        ));
    }
    Ok(cond)
}

/// The SQL condition for a referral filter (every filterable field is in the class every viewer
/// of a referral reads, so no filter can reveal a hidden value).
pub(crate) fn referral_filter_condition(filter: &ReferralFilter) -> ApiResult<Condition> {
    let mut cond = Condition::all();
    if let Some(p) = &filter.project {
        cond = cond.add(referral::Column::ProjectId.eq(p.as_str()));
    }
    if let Some(s) = filter.status {
        cond = cond.add(referral::Column::Status.eq(s.as_str()));
    }
    if let Some(t) = &filter.target {
        cond = cond.add(referral::Column::TargetId.eq(t.as_str()));
    }
    if let Some(r) = &filter.requested_by {
        cond = cond.add(referral::Column::RequestedById.eq(r.as_str()));
    }
    if let Some(p) = &filter.province {
        cond = cond.add(referral::Column::Province.eq(validate::province("filter.province", p)?));
    }
    if let Some(d) = filter.received_from {
        cond = cond.add(referral::Column::ReceivedOn.gte(d.0));
    }
    if let Some(d) = filter.received_to {
        cond = cond.add(referral::Column::ReceivedOn.lte(d.0));
    }
    match filter.open {
        Some(true) => cond = cond.add(referral::Column::Status.is_in(OPEN_REFERRAL_STATUSES)),
        Some(false) => cond = cond.add(referral::Column::Status.is_not_in(OPEN_REFERRAL_STATUSES)),
        None => {}
    }
    if let (Some(from), Some(to)) = (filter.received_from, filter.received_to) {
        if to < from {
            return Err(ApiError::validation(
                "filter.receivedTo",
                "receivedTo is before receivedFrom",
            ));
        }
    }
    Ok(cond)
}

/// Requires a partner allowed to read network data of `class`.
pub(crate) fn require_network(ctx: &Context<'_>, class: NetworkClass) -> ApiResult<()> {
    let request = ctx.request();
    request.require()?;
    if ctx
        .state()
        .policy
        .may_read_network(request.viewer().as_ref(), class, false)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the protocol does not let you read network data".into(),
        ))
    }
}

#[Object]
impl CoreQuery {
    /// Who is asking.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        Ok(Viewer(ctx.request().require()?.clone()))
    }

    /// An agency by id (partners only; anonymous callers use `directory`).
    async fn agency(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Agency>> {
        ctx.request().require()?;
        Ok(agency::Entity::find_by_id(id.to_string())
            .one(&ctx.state().db)
            .await?
            .map(Agency))
    }

    /// The public directory of the network's agencies: open to anonymous callers.
    async fn directory(
        &self,
        ctx: &Context<'_>,
        province: Option<String>,
        kind: Option<AgencyKind>,
    ) -> ApiResult<Vec<Agency>> {
        let mut q = agency::Entity::find()
            .filter(agency::Column::Disabled.eq(false))
            .order_by_asc(agency::Column::Name);
        if let Some(p) = province {
            q = q.filter(agency::Column::Province.eq(validate::province("province", &p)?));
        }
        if let Some(k) = kind {
            q = q.filter(agency::Column::Kind.eq(raccordo_policies::AgencyKind::from(k).as_str()));
        }
        Ok(q.all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Agency)
            .collect())
    }

    /// A case by id; null when it does not exist for the viewer.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<CaseNode>> {
        load_case_for_viewer(ctx, &id).await
    }

    /// The cases the viewer may see, a page at a time.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CaseFilter>,
    ) -> ApiResult<CaseConnection> {
        let state = ctx.state();
        let request = ctx.request();
        let principal = request.require()?;
        let limit = page_size(first)?;
        let mut cond =
            Condition::all().add(access::visible_cases(&state.policy, principal, request.now));
        if let Some(f) = &filter {
            cond = cond.add(case_filter_condition(ctx, principal, f)?);
        }
        let total = case::Entity::find()
            .filter(cond.clone())
            .count(&state.db)
            .await?;
        let mut q = case::Entity::find()
            .filter(cond)
            .order_by_asc(case::Column::Id);
        if let Some(a) = &after {
            q = q.filter(case::Column::Id.gt(decode_cursor("case", a)?));
        }
        let mut rows = q.limit(limit + 1).all(&state.db).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let decided =
            access::decide_cases(&state.db, &state.policy, principal, rows, request.now).await?;
        let node = ctx.look_ahead().field("edges").field("node");
        let visible: Vec<case::Model> = decided.iter().map(|(row, _)| row.clone()).collect();
        ctx.loaders()
            .prime_cases(node, &visible)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let edges: Vec<CaseEdge> = decided
            .into_iter()
            .map(|(row, access)| CaseEdge {
                cursor: encode_cursor("case", &row.id),
                node: CaseNode { row, access },
            })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(CaseConnection {
            edges,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
            total_count: total as i64,
        })
    }

    /// A referral by id; null when it does not exist for the viewer.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<ReferralNode>> {
        let state = ctx.state();
        let principal = ctx.request().require()?;
        match access::require_referral(&state.db, &state.policy, principal, &id).await {
            Ok((row, _, classes)) => Ok(Some(ReferralNode {
                row,
                classes,
                interviews: None,
            })),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The referrals the viewer sent or received, a page at a time.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ReferralFilter>,
    ) -> ApiResult<ReferralConnection> {
        let state = ctx.state();
        let principal = ctx.request().require()?;
        let limit = page_size(first)?;
        let mut cond = Condition::all().add(access::visible_referrals(&state.policy, principal));
        if let Some(f) = &filter {
            cond = cond.add(referral_filter_condition(f)?);
        }
        let total = referral::Entity::find()
            .filter(cond.clone())
            .count(&state.db)
            .await?;
        let mut q = referral::Entity::find()
            .filter(cond)
            .order_by_asc(referral::Column::Id);
        if let Some(a) = &after {
            q = q.filter(referral::Column::Id.gt(decode_cursor("referral", a)?));
        }
        let mut rows = q.limit(limit + 1).all(&state.db).await?;
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let edges: Vec<ReferralEdge> = rows
            .into_iter()
            .filter_map(|row| {
                let (_, classes) = access::referral_access(&state.policy, principal, &row);
                (!classes.is_empty()).then(|| ReferralEdge {
                    cursor: encode_cursor("referral", &row.id),
                    node: ReferralNode {
                        row,
                        classes,
                        interviews: None,
                    },
                })
            })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(ReferralConnection {
            edges,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
            total_count: total as i64,
        })
    }

    /// Who accessed a case, for the person's own request to know (coordinators of the owner).
    async fn case_access_log(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
    ) -> ApiResult<Vec<AccessLogEntry>> {
        let state = ctx.state();
        let request = ctx.request();
        let principal = request.require()?;
        let (_, access) =
            access::require_case(&state.db, &state.policy, principal, &case_id, request.now)
                .await?;
        if !state
            .policy
            .may(&principal.viewer(), access.rels, CaseAction::ReadAccessLog)
        {
            return Err(ApiError::Forbidden(
                "only a coordinator of the owning agency can read a case's access log".into(),
            ));
        }
        let rows = access_log::Entity::find()
            .filter(access_log::Column::CaseId.eq(case_id.as_str()))
            .order_by_asc(access_log::Column::Seq)
            .all(&state.db)
            .await?;
        Ok(rows.into_iter().map(AccessLogEntry).collect())
    }

    /// Counts of cases grouped by one or two dimensions, exact or suppressed as the protocol says.
    async fn case_statistics(
        &self,
        ctx: &Context<'_>,
        group_by: Vec<super::enums::CaseDimension>,
        filter: Option<CaseFilter>,
        scope: Option<super::enums::StatisticsScope>,
        #[graphql(
            desc = "Count as of the end of this day, from the case history: only cases opened by then; PHASE is the phase held then (CLOSED when closed by then) and OUTCOME only for cases closed by then. Other dimensions are not historised and count with their current value."
        )]
        as_of: Option<Date>,
    ) -> ApiResult<Vec<StatCell>> {
        statistics::cases(ctx, group_by, filter.unwrap_or_default(), scope, as_of).await
    }

    /// Counts of referrals grouped by one or two dimensions, exact or suppressed as the protocol says.
    async fn referral_statistics(
        &self,
        ctx: &Context<'_>,
        group_by: Vec<super::enums::ReferralDimension>,
        filter: Option<ReferralFilter>,
        scope: Option<super::enums::StatisticsScope>,
        #[graphql(
            desc = "Count as of the end of this day: only referrals received by then. Statuses are not historised, only dates: a referral concluded after this day counts as open (IN_PROGRESS when interviewed by then, else RECEIVED) with no outcome yet; the others count with their current status."
        )]
        as_of: Option<Date>,
    ) -> ApiResult<Vec<StatCell>> {
        statistics::referrals(ctx, group_by, filter.unwrap_or_default(), scope, as_of).await
    }

    /// A project's expected results against what its rows say was achieved in a period: exact
    /// for the project's coordination and enti, small values suppressed for the other partners.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] project_id: ID,
        #[graphql(desc = "First day of the period.")] from: Date,
        #[graphql(desc = "Last day of the period (not before `from`).")] to: Date,
    ) -> ApiResult<Vec<statistics::Indicator>> {
        statistics::indicators::indicators(ctx, project_id, from, to).await
    }

    /// Protected shelters counted per province (partners only): the addresses stay with their
    /// owners, and small counts are suppressed as for statistics.
    async fn shelter_counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatCell>> {
        require_network(ctx, NetworkClass::Partner)?;
        let state = ctx.state();
        let rows: Vec<(Option<String>, i64)> = shelter::Entity::find()
            .select_only()
            .column(shelter::Column::Province)
            .column_as(shelter::Column::Id.count(), "n")
            .group_by(shelter::Column::Province)
            .into_tuple()
            .all(&state.db)
            .await?;
        let rows = rows.into_iter().map(|(p, n)| (p, None, n)).collect();
        Ok(statistics::cells(
            rows,
            1,
            false,
            state.policy.suppression_k(),
        ))
    }

    /// The viewer's agency's own shelters, with their addresses.
    async fn my_shelters(&self, ctx: &Context<'_>) -> ApiResult<Vec<Shelter>> {
        let request = ctx.request();
        let (principal, agency) = request.require_agency()?;
        if !ctx.state().policy.may_read_network(
            Some(&principal.viewer()),
            NetworkClass::OwnerOnly,
            true,
        ) {
            return Err(ApiError::Forbidden(
                "the protocol does not let your role read shelters".into(),
            ));
        }
        let rows = shelter::Entity::find()
            .filter(shelter::Column::OwnerId.eq(agency))
            .order_by_asc(shelter::Column::Name)
            .all(&ctx.state().db)
            .await?;
        Ok(rows.into_iter().map(Shelter).collect())
    }

    /// The queue (coda) of open referrals per target ente: exact for the viewer's own (scope
    /// MINE, keys target and province, counted now); across the network, from the release of
    /// `period` (keys target and status, open statuses only, noisy counts).
    async fn referral_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this province (sigla).")] province: Option<String>,
        scope: Option<super::enums::StatisticsScope>,
        #[graphql(
            desc = "Scope NETWORK: the release period (2023, 2023-Q2 or 2023-06); the last closed month when left out."
        )]
        period: Option<String>,
    ) -> ApiResult<Vec<StatCell>> {
        statistics::queue(ctx, province, scope, period).await
    }

    /// The network statistics release of one closed period, for the hub or one province:
    /// published the first time anyone asks, then served unchanged to every partner. Every count
    /// carries differentially private noise (ACCESS.md §7).
    async fn statistics_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "2023 (a year), 2023-Q2 (a quarter) or 2023-06 (a month), closed.")]
        period: String,
        #[graphql(desc = "A province (sigla); the whole hub when left out.")] province: Option<
            String,
        >,
    ) -> ApiResult<super::types::release::StatisticsRelease> {
        statistics::release(ctx, &period, province.as_deref()).await
    }

    /// The network statistics releases already published.
    async fn statistics_releases(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::types::release::StatisticsRelease>> {
        statistics::releases(ctx).await
    }

    /// The territorial networks (partners only).
    async fn networks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Network>> {
        require_network(ctx, NetworkClass::Partner)?;
        Ok(network::Entity::find()
            .order_by_asc(network::Column::Name)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Network)
            .collect())
    }

    /// The signed protocols (partners only).
    async fn protocols(&self, ctx: &Context<'_>) -> ApiResult<Vec<Protocol>> {
        require_network(ctx, NetworkClass::Partner)?;
        Ok(protocol::Entity::find()
            .order_by_asc(protocol::Column::Title)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Protocol)
            .collect())
    }

    /// Collaborations between agencies (partners only).
    async fn collaborations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Collaboration>> {
        require_network(ctx, NetworkClass::Partner)?;
        Ok(collaboration::Entity::find()
            .order_by_asc(collaboration::Column::Id)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Collaboration)
            .collect())
    }

    /// The projects (partners only).
    async fn projects(&self, ctx: &Context<'_>) -> ApiResult<Vec<Project>> {
        require_network(ctx, NetworkClass::Partner)?;
        Ok(project::Entity::find()
            .order_by_asc(project::Column::Name)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Project)
            .collect())
    }
}
