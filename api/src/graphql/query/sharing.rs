//! What moves between partners: the consents and shares of a case, emergency shares for review,
//! and each agency's view of what is shared with it and by it.

use async_graphql::{Context, Object, SimpleObject, ID};
use raccordo_entities::{case, consent, referral, share, transfer};
use raccordo_policies::CaseAction;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::graphql::{
    pagination::{
        decode_cursor, encode_cursor, page_size, PageInfo, ReferralConnection, ReferralEdge,
    },
    types::{
        referral::ReferralNode,
        sharing::{Consent, Share, Transfer},
    },
    ContextExt,
};
use crate::{
    access::{self, active_consent, active_share, pending_transfer, Principal, RequestContext},
    domain::reads,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// Shares with their `active` flag computed by the same rule as relationships: one statement for
/// the shares' consents, whatever their number.
async fn with_activity(
    state: &AppState,
    request: &RequestContext,
    rows: Vec<share::Model>,
) -> ApiResult<Vec<Share>> {
    let ids: Vec<String> = rows.iter().filter_map(|s| s.consent_id.clone()).collect();
    let active: std::collections::HashSet<String> = if ids.is_empty() {
        Default::default()
    } else {
        consent::Entity::find()
            .filter(consent::Column::Id.is_in(ids))
            .filter(active_consent(request.today()))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|s| {
            let backed = s.consent_id.as_ref().is_some_and(|c| active.contains(c));
            Share::at(s, backed, request.now)
        })
        .collect())
}

/// The owner's view of a case, required for managing its paperwork.
async fn owned_case(ctx: &Context<'_>, case_id: &str, action: CaseAction) -> ApiResult<()> {
    let state = ctx.state();
    let request = ctx.request();
    let principal = request.require()?;
    reads::case_for(
        &state.db,
        &state.policy,
        principal,
        request.now,
        case_id,
        (
            action,
            "only the agency that holds the case sees its consents and shares",
        ),
    )
    .await?;
    Ok(())
}

/// Counts for a dashboard badge.
#[derive(SimpleObject, Default)]
pub struct SharingCounts {
    /// Active shares.
    pub shares: i64,
    /// Pending transfer requests.
    pub transfers: i64,
    /// Referrals: awaiting the viewer's action (with me) or still open (by me).
    pub referrals: i64,
}

/// What partners share with the viewer's agency (`with_me`) or what it shares (`by_me`).
pub struct SharingView {
    principal: Principal,
    agency: String,
    with_me: bool,
}

impl SharingView {
    fn share_condition(&self, now: chrono::DateTime<chrono::Utc>) -> Condition {
        let side = if self.with_me {
            Condition::all().add(share::Column::RecipientId.eq(self.agency.as_str()))
        } else {
            let owned = sea_orm::sea_query::Query::select()
                .column(case::Column::Id)
                .from(case::Entity)
                .and_where(case::Column::OwnerId.eq(self.agency.as_str()))
                .to_owned();
            Condition::all().add(share::Column::CaseId.in_subquery(owned))
        };
        side.add(active_share(now))
    }

    /// Pending transfers still backed by their `TRANSFER` consent, by the same rule that gives
    /// the receiver its relationship: a transfer whose consent was revoked is listed to nobody.
    fn transfer_condition(&self, today: chrono::NaiveDate) -> Condition {
        let column = if self.with_me {
            transfer::Column::ToId
        } else {
            transfer::Column::FromId
        };
        Condition::all()
            .add(column.eq(self.agency.as_str()))
            .add(pending_transfer(today))
    }

    fn referral_condition(&self) -> Condition {
        if self.with_me {
            Condition::all()
                .add(referral::Column::TargetId.eq(self.agency.as_str()))
                .add(referral::Column::Status.is_in(["RECEIVED", "SCHEDULED", "IN_PROGRESS"]))
        } else {
            Condition::all().add(referral::Column::RequestedById.eq(self.agency.as_str()))
        }
    }
}

/// What partners share with the viewer's agency, or what it shares with them.
#[Object]
impl SharingView {
    /// How many of each, for a badge.
    async fn counts(&self, ctx: &Context<'_>) -> ApiResult<SharingCounts> {
        let state = ctx.state();
        let now = ctx.request().now;
        let referrals = if self.with_me {
            referral::Entity::find()
                .filter(self.referral_condition())
                .count(&state.db)
                .await?
        } else {
            referral::Entity::find()
                .filter(self.referral_condition())
                .filter(referral::Column::Status.is_in(["RECEIVED", "SCHEDULED", "IN_PROGRESS"]))
                .count(&state.db)
                .await?
        };
        Ok(SharingCounts {
            shares: share::Entity::find()
                .filter(self.share_condition(now))
                .count(&state.db)
                .await? as i64,
            transfers: transfer::Entity::find()
                .filter(self.transfer_condition(ctx.request().today()))
                .count(&state.db)
                .await? as i64,
            referrals: referrals as i64,
        })
    }

    /// Active shares, a page at a time.
    async fn shares(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ShareConnection> {
        let state = ctx.state();
        let request = ctx.request();
        let (rows, page_info, total_count) = page::<share::Entity>(
            state,
            self.share_condition(request.now),
            share::Column::Id,
            "share",
            first,
            after,
        )
        .await?;
        let shares = with_activity(state, request, rows).await?;
        let edges = shares
            .into_iter()
            .map(|s| ShareEdge {
                cursor: encode_cursor("share", &s.row.id),
                node: s,
            })
            .collect();
        Ok(ShareConnection {
            edges,
            page_info,
            total_count,
        })
    }

    /// Pending transfer requests, a page at a time.
    async fn transfers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<TransferConnection> {
        let (rows, page_info, total_count) = page::<transfer::Entity>(
            ctx.state(),
            self.transfer_condition(ctx.request().today()),
            transfer::Column::Id,
            "transfer",
            first,
            after,
        )
        .await?;
        let edges = rows
            .into_iter()
            .map(|t| TransferEdge {
                cursor: encode_cursor("transfer", &t.id),
                node: Transfer(t),
            })
            .collect();
        Ok(TransferConnection {
            edges,
            page_info,
            total_count,
        })
    }

    /// Referrals awaiting the agency's action (with me), or those it sent and their status (by
    /// me), a page at a time.
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ReferralConnection> {
        let state = ctx.state();
        let cond = Condition::all()
            .add(self.referral_condition())
            .add(access::visible_referrals(&state.policy, &self.principal));
        let (rows, page_info, total_count) =
            page::<referral::Entity>(state, cond, referral::Column::Id, "referral", first, after)
                .await?;
        let edges = rows
            .into_iter()
            .filter_map(|row| {
                let (_, classes) = access::referral_access(&state.policy, &self.principal, &row);
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
        Ok(ReferralConnection {
            edges,
            page_info,
            total_count,
        })
    }
}

/// One page of rows matching `cond`, ordered by `id`, with its page info and the total.
async fn page<E: EntityTrait>(
    state: &AppState,
    cond: Condition,
    id: E::Column,
    kind: &str,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<(Vec<E::Model>, PageInfo, i64)>
where
    E::Model: Sync,
{
    let limit = page_size(first)?;
    let total = E::find().filter(cond.clone()).count(&state.db).await? as i64;
    let mut q = E::find().filter(cond).order_by_asc(id);
    if let Some(a) = &after {
        q = q.filter(id.gt(decode_cursor(kind, a)?));
    }
    let mut rows = q.limit(limit + 1).all(&state.db).await?;
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let end_cursor = rows.last().map(|r| match r.get(id) {
        sea_orm::Value::String(Some(s)) => encode_cursor(kind, &s),
        _ => String::new(),
    });
    Ok((
        rows,
        PageInfo {
            has_next_page,
            end_cursor,
        },
        total,
    ))
}

/// A share in a page.
#[derive(SimpleObject)]
pub struct ShareEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The share.
    pub node: Share,
}

/// A page of shares.
#[derive(SimpleObject)]
pub struct ShareConnection {
    /// The shares of this page.
    pub edges: Vec<ShareEdge>,
    /// Where this page stands.
    pub page_info: PageInfo,
    /// How many shares match, across all pages.
    pub total_count: i64,
}

/// A transfer request in a page.
#[derive(SimpleObject)]
pub struct TransferEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The transfer request.
    pub node: Transfer,
}

/// A page of transfer requests.
#[derive(SimpleObject)]
pub struct TransferConnection {
    /// The transfer requests of this page.
    pub edges: Vec<TransferEdge>,
    /// Where this page stands.
    pub page_info: PageInfo,
    /// How many match, across all pages.
    pub total_count: i64,
}

fn view(ctx: &Context<'_>, with_me: bool) -> ApiResult<SharingView> {
    let (principal, agency) = ctx.request().require_agency()?;
    if !ctx.state().policy.role_gets_rows(principal.role) {
        return Err(ApiError::Forbidden(
            "your role reads aggregates and network data only".into(),
        ));
    }
    Ok(SharingView {
        principal: principal.clone(),
        agency: agency.to_string(),
        with_me,
    })
}

/// Reads of what moves between partners.
#[derive(Default)]
pub struct SharingQuery;

#[Object]
impl SharingQuery {
    /// The consents recorded for a case (the owner only).
    async fn case_consents(&self, ctx: &Context<'_>, case_id: ID) -> ApiResult<Vec<Consent>> {
        owned_case(ctx, &case_id, CaseAction::ManageConsents).await?;
        let rows = consent::Entity::find()
            .filter(consent::Column::CaseId.eq(case_id.as_str()))
            .order_by_asc(consent::Column::CreatedAt)
            .all(&ctx.state().db)
            .await?;
        Ok(rows.into_iter().map(Consent).collect())
    }

    /// Every share of a case, active or not (the owner only).
    async fn case_shares(&self, ctx: &Context<'_>, case_id: ID) -> ApiResult<Vec<Share>> {
        owned_case(ctx, &case_id, CaseAction::Share).await?;
        let rows = share::Entity::find()
            .filter(share::Column::CaseId.eq(case_id.as_str()))
            .order_by_asc(share::Column::CreatedAt)
            .all(&ctx.state().db)
            .await?;
        with_activity(ctx.state(), ctx.request(), rows).await
    }

    /// Emergency shares of the agency's cases, newest first, for review by its coordinators.
    async fn emergency_shares(
        &self,
        ctx: &Context<'_>,
        active_only: Option<bool>,
    ) -> ApiResult<Vec<Share>> {
        let state = ctx.state();
        let request = ctx.request();
        let agency = reads::emergency_reviewer(&state.policy, request)?;
        let owned = sea_orm::sea_query::Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .and_where(case::Column::OwnerId.eq(agency))
            .to_owned();
        let rows = share::Entity::find()
            .filter(share::Column::Emergency.eq(true))
            .filter(share::Column::CaseId.in_subquery(owned))
            .order_by_desc(share::Column::CreatedAt)
            .all(&state.db)
            .await?;
        let shares = with_activity(state, request, rows).await?;
        Ok(shares
            .into_iter()
            .filter(|s| !active_only.unwrap_or(false) || s.active)
            .collect())
    }

    /// What partners share with the viewer's agency: active shares, pending transfers, referrals
    /// awaiting its action.
    async fn shared_with_me(&self, ctx: &Context<'_>) -> ApiResult<SharingView> {
        view(ctx, true)
    }

    /// What the viewer's agency shares: its active shares, pending transfers, referrals it sent.
    async fn shared_by_me(&self, ctx: &Context<'_>) -> ApiResult<SharingView> {
        view(ctx, false)
    }
}
