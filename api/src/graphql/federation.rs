//! The hub as an Apollo Federation v2 subgraph.
//!
//! `Agency`, `Case` and `Referral` are entities keyed by `id`. A gateway resolves a
//! representation through exactly the path a partner's own query takes: the same principal, the
//! same row condition pushed into SQL, the same relationships and field classes, the same access
//! log. A case or referral the caller may not see resolves to `null`, as an id never used does.
//! Representations of one request are looked up together: one batch of statements for all the
//! cases, one statement for all the referrals, whatever their number.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    dataloader::{DataLoader, Loader},
    Context, Object, ID,
};
use chrono::{DateTime, Utc};
use raccordo_entities::{case, referral};
use raccordo_policies::Policy;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{
    types::{agency::Agency, case::CaseNode, referral::ReferralNode},
    ContextExt,
};
use crate::{
    access::{self, Principal},
    error::{internal, ApiError, ApiResult},
};

/// Entity look-ups for the gateway (`_entities`), merged into the query root.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// An agency, for a gateway joining another subgraph's data to it: as `agency(id:)`.
    #[graphql(entity)]
    async fn find_agency_by_id(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Agency>> {
        ctx.request().require()?;
        let row = ctx
            .loaders()
            .agency
            .load_one(id.to_string())
            .await
            .map_err(internal)?;
        Ok(row.map(Agency))
    }

    /// A case, as `case(id:)` answers it: `null` when it does not exist for the caller.
    #[graphql(entity)]
    async fn find_case_by_id(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<CaseNode>> {
        let principal = ctx.request().require()?;
        match ctx.data_opt::<EntityLoaders>() {
            Some(loaders) => loaders.cases.load_one(id.to_string()).await,
            // Not prepared for this request (not an `_entities` document): one by one.
            None => {
                let state = ctx.state();
                let found =
                    access::find_case(&state.db, &state.policy, principal, &id, ctx.request().now)
                        .await?;
                Ok(found.map(|(row, access)| CaseNode { row, access }))
            }
        }
    }

    /// A referral, as `referral(id:)` answers it: `null` when it does not exist for the caller.
    #[graphql(entity)]
    async fn find_referral_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<Option<ReferralNode>> {
        let principal = ctx.request().require()?;
        if let Some(loaders) = ctx.data_opt::<EntityLoaders>() {
            return loaders.referrals.load_one(id.to_string()).await;
        }
        // Not prepared for this request (not an `_entities` document): one by one.
        let state = ctx.state();
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
}

/// Cases visible to one caller, loaded by id in batches.
pub struct VisibleCases {
    db: DatabaseConnection,
    policy: Arc<Policy>,
    principal: Principal,
    now: DateTime<Utc>,
}

impl Loader<String> for VisibleCases {
    type Value = CaseNode;
    type Error = ApiError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, CaseNode>, ApiError> {
        let rows = case::Entity::find()
            .filter(case::Column::Id.is_in(keys.iter().cloned()))
            .filter(access::visible_cases(
                &self.policy,
                &self.principal,
                self.now,
            ))
            .all(&self.db)
            .await?;
        let decided =
            access::decide_cases(&self.db, &self.policy, &self.principal, rows, self.now).await?;
        Ok(decided
            .into_iter()
            .map(|(row, access)| (row.id.clone(), CaseNode { row, access }))
            .collect())
    }
}

/// Referrals visible to one caller, loaded by id in batches.
pub struct VisibleReferrals {
    db: DatabaseConnection,
    policy: Arc<Policy>,
    principal: Principal,
}

impl Loader<String> for VisibleReferrals {
    type Value = ReferralNode;
    type Error = ApiError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, ReferralNode>, ApiError> {
        let rows = referral::Entity::find()
            .filter(referral::Column::Id.is_in(keys.iter().cloned()))
            .filter(access::visible_referrals(&self.policy, &self.principal))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                // As `require_referral`: a referral of which no field may be read is not there.
                let (_, classes) = access::referral_access(&self.policy, &self.principal, &row);
                (!classes.is_empty()).then(|| {
                    let node = ReferralNode {
                        row,
                        classes,
                        interviews: None,
                    };
                    (node.row.id.clone(), node)
                })
            })
            .collect())
    }
}

/// The per-request loaders of a gateway's entity look-ups.
pub struct EntityLoaders {
    cases: DataLoader<VisibleCases>,
    referrals: DataLoader<VisibleReferrals>,
}

impl EntityLoaders {
    /// Loaders for one caller's request.
    pub fn new(
        db: &DatabaseConnection,
        policy: &Arc<Policy>,
        principal: &Principal,
        now: DateTime<Utc>,
    ) -> EntityLoaders {
        EntityLoaders {
            cases: DataLoader::new(
                VisibleCases {
                    db: db.clone(),
                    policy: policy.clone(),
                    principal: principal.clone(),
                    now,
                },
                tokio::spawn,
            ),
            referrals: DataLoader::new(
                VisibleReferrals {
                    db: db.clone(),
                    policy: policy.clone(),
                    principal: principal.clone(),
                },
                tokio::spawn,
            ),
        }
    }
}

/// The response keys under which a document asks for `_service` (the whole SDL) at its root, so
/// that a caller who may not introspect gets `null` there, as for `__schema`.
pub fn service_response_keys(
    doc: &async_graphql::parser::types::ExecutableDocument,
) -> Vec<String> {
    use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
    fn walk(
        doc: &ExecutableDocument,
        set: &SelectionSet,
        seen: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) if f.node.name.node == "_service" => {
                    let key = f.node.alias.as_ref().unwrap_or(&f.node.name);
                    out.push(key.node.to_string());
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(i) => walk(doc, &i.node.selection_set.node, seen, out),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.to_string();
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                        walk(doc, &f.node.selection_set.node, seen, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (_, op) in doc.operations.iter() {
        walk(doc, &op.node.selection_set.node, &mut Vec::new(), &mut out);
    }
    out
}
