//! Reads of cases, referrals, statistics and the registry.

use async_graphql::{Context, Object, ID};
use raccordo_entities::{
    access_log, agency, case, collaboration, network, project, protocol, referral, shelter,
};
use raccordo_policies::{CaseAction, NetworkClass};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::graphql::{
    enums::AgencyKind,
    pagination::{
        decode_cursor, encode_cursor, page_size, CaseConnection, CaseEdge, PageInfo,
        ReferralConnection, ReferralEdge,
    },
    scalars::Date,
    statistics,
    types::{
        agency::Agency,
        case::{load_case_for_viewer, CaseNode},
        misc::{AccessLogEntry, StatCell, Viewer},
        network::{Collaboration, Network, Project, Protocol, Shelter},
        referral::ReferralNode,
    },
    ContextExt,
};
use crate::{
    access,
    domain::{
        filters::{case_filter_condition, referral_filter_condition, CaseFilter, ReferralFilter},
        reads,
    },
    error::{ApiError, ApiResult},
    validate,
};

/// Reads of cases, referrals, statistics and the network.
#[derive(Default)]
pub struct CoreQuery;

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
            cond = cond.add(case_filter_condition(
                &ctx.state().policy,
                principal,
                ctx.request().now,
                f,
            )?);
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
            .map_err(|e| ApiError::Internal(e.to_string().into()))?;
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
        reads::case_for(
            &state.db,
            &state.policy,
            principal,
            request.now,
            &case_id,
            (
                CaseAction::ReadAccessLog,
                "only a coordinator of the owning agency can read a case's access log",
            ),
        )
        .await?;
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
        group_by: Vec<crate::graphql::enums::CaseDimension>,
        filter: Option<CaseFilter>,
        scope: Option<crate::graphql::enums::StatisticsScope>,
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
        group_by: Vec<crate::graphql::enums::ReferralDimension>,
        filter: Option<ReferralFilter>,
        scope: Option<crate::graphql::enums::StatisticsScope>,
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
        crate::domain::statistics::indicators::indicators(
            &ctx.state().db,
            &ctx.state().policy,
            ctx.request(),
            &project_id,
            (from, to),
        )
        .await
    }

    /// Protected shelters counted per province (partners only): the addresses stay with their
    /// owners, and small counts are suppressed as for statistics.
    async fn shelter_counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatCell>> {
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
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
        let agency = reads::own_shelters(&ctx.state().policy, ctx.request())?;
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
        scope: Option<crate::graphql::enums::StatisticsScope>,
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
    ) -> ApiResult<crate::graphql::types::release::StatisticsRelease> {
        statistics::release(ctx, &period, province.as_deref()).await
    }

    /// The network statistics releases already published.
    async fn statistics_releases(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::types::release::StatisticsRelease>> {
        statistics::releases(ctx).await
    }

    /// The territorial networks (partners only).
    async fn networks(&self, ctx: &Context<'_>) -> ApiResult<Vec<Network>> {
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
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
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
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
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
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
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
        Ok(project::Entity::find()
            .order_by_asc(project::Column::Name)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(Project)
            .collect())
    }
}
