//! The platform admin's work: agencies, projects, networks, protocols, collaborations.

use async_graphql::{Context, Object, ID};
use chrono::Utc;
use raccordo_entities::{
    agency, collaboration, network, network_member, project, project_ente, protocol,
    protocol_signatory,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::new_id;
use crate::{
    error::{ApiError, ApiResult},
    graphql::{
        enums::AgencyKind,
        scalars::Date,
        types::{
            agency::Agency,
            network::{Collaboration, Network, Project, Protocol},
        },
        ContextExt,
    },
    validate,
};

/// A new agency.
#[derive(async_graphql::InputObject)]
pub struct AgencyInput {
    /// The agency's name.
    pub name: String,
    /// What kind of agency it is.
    pub kind: AgencyKind,
    /// Province sigla.
    pub province: Option<String>,
    /// City of the public office.
    pub city: Option<String>,
    /// Public contact.
    pub public_contact: Option<String>,
    /// Public website.
    pub website: Option<String>,
    /// Contact for referrals (partners only).
    pub referral_contact: Option<String>,
}

fn require_admin(ctx: &Context<'_>) -> ApiResult<()> {
    let principal = ctx.request().require()?;
    if ctx.state().policy.may_administer(&principal.viewer()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the hub's platform admin can change the network's registry".into(),
        ))
    }
}

/// Every id in `ids` must be a known agency; `field` names the input.
pub(crate) async fn require_agencies<C: ConnectionTrait>(
    db: &C,
    field: &str,
    ids: &[ID],
) -> ApiResult<()> {
    let unique: std::collections::BTreeSet<&str> = ids.iter().map(|i| i.as_str()).collect();
    let found = agency::Entity::find()
        .filter(agency::Column::Id.is_in(unique.iter().copied()))
        .count(db)
        .await?;
    if found as usize != unique.len() {
        return Err(ApiError::validation(
            field,
            "names an agency the hub does not know",
        ));
    }
    Ok(())
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Registers an agency (platform admin).
    async fn create_agency(&self, ctx: &Context<'_>, input: AgencyInput) -> ApiResult<Agency> {
        require_admin(ctx)?;
        let now = Utc::now();
        let row = agency::ActiveModel {
            id: Set(new_id()),
            name: Set(validate::required("input.name", &input.name)?),
            kind: Set(raccordo_policies::AgencyKind::from(input.kind)
                .as_str()
                .to_string()),
            province: Set(input
                .province
                .as_deref()
                .map(|p| validate::province("input.province", p))
                .transpose()?),
            city: Set(validate::opt_text("input.city", &input.city)?),
            public_contact: Set(validate::opt_text(
                "input.publicContact",
                &input.public_contact,
            )?),
            website: Set(validate::opt_text("input.website", &input.website)?),
            referral_contact: Set(validate::opt_text(
                "input.referralContact",
                &input.referral_contact,
            )?),
            notes: Set(None),
            latitude: Set(None),
            longitude: Set(None),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let w = ctx.state().write().await?;
        let model = agency::Entity::insert(row)
            .exec_with_returning(w.txn())
            .await?;
        w.commit().await?;
        Ok(Agency(model))
    }

    /// Registers a project with its coordinator and enti (platform admin).
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        name: String,
        coordinator: ID,
        enti: Vec<ID>,
        starts_on: Option<Date>,
        ends_on: Option<Date>,
    ) -> ApiResult<Project> {
        require_admin(ctx)?;
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            validate::not_before("endsOn", e.0, s.0, "startsOn")?;
        }
        let w = ctx.state().write().await?;
        require_agencies(w.txn(), "coordinator", std::slice::from_ref(&coordinator)).await?;
        require_agencies(w.txn(), "enti", &enti).await?;
        let now = Utc::now();
        let id = new_id();
        let model = project::Entity::insert(project::ActiveModel {
            id: Set(id.clone()),
            name: Set(validate::required("name", &name)?),
            coordinator_id: Set(coordinator.to_string()),
            starts_on: Set(starts_on.map(|d| d.0)),
            ends_on: Set(ends_on.map(|d| d.0)),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        let links: Vec<project_ente::ActiveModel> = dedup(&enti)
            .into_iter()
            .map(|a| project_ente::ActiveModel {
                project_id: Set(id.clone()),
                agency_id: Set(a),
            })
            .collect();
        if !links.is_empty() {
            project_ente::Entity::insert_many(links)
                .exec_without_returning(w.txn())
                .await?;
        }
        w.commit().await?;
        Ok(Project(model))
    }

    /// Registers a territorial network (platform admin).
    async fn create_network(
        &self,
        ctx: &Context<'_>,
        name: String,
        province: Option<String>,
        lead: Option<ID>,
        members: Vec<ID>,
        municipalities: Option<i32>,
    ) -> ApiResult<Network> {
        require_admin(ctx)?;
        let w = ctx.state().write().await?;
        if let Some(l) = &lead {
            require_agencies(w.txn(), "lead", std::slice::from_ref(l)).await?;
        }
        require_agencies(w.txn(), "members", &members).await?;
        let now = Utc::now();
        let id = new_id();
        let model = network::Entity::insert(network::ActiveModel {
            id: Set(id.clone()),
            name: Set(validate::required("name", &name)?),
            province: Set(province
                .as_deref()
                .map(|p| validate::province("province", p))
                .transpose()?),
            lead_id: Set(lead.map(|l| l.to_string())),
            municipalities: Set(municipalities
                .map(|m| validate::count("municipalities", m))
                .transpose()?),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        let links: Vec<network_member::ActiveModel> = dedup(&members)
            .into_iter()
            .map(|a| network_member::ActiveModel {
                network_id: Set(id.clone()),
                agency_id: Set(a),
            })
            .collect();
        if !links.is_empty() {
            network_member::Entity::insert_many(links)
                .exec_without_returning(w.txn())
                .await?;
        }
        w.commit().await?;
        Ok(Network(model))
    }

    /// Registers a signed protocol and its signatories (platform admin).
    async fn create_protocol(
        &self,
        ctx: &Context<'_>,
        title: String,
        signed_on: Option<Date>,
        signatories: Vec<ID>,
        policy_version: Option<String>,
    ) -> ApiResult<Protocol> {
        require_admin(ctx)?;
        if let Some(d) = signed_on {
            validate::not_future("signedOn", d.0, ctx.request().today())?;
        }
        let w = ctx.state().write().await?;
        require_agencies(w.txn(), "signatories", &signatories).await?;
        let now = Utc::now();
        let id = new_id();
        let model = protocol::Entity::insert(protocol::ActiveModel {
            id: Set(id.clone()),
            title: Set(validate::required("title", &title)?),
            signed_on: Set(signed_on.map(|d| d.0)),
            policy_version: Set(validate::opt_text("policyVersion", &policy_version)?),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        let links: Vec<protocol_signatory::ActiveModel> = dedup(&signatories)
            .into_iter()
            .map(|a| protocol_signatory::ActiveModel {
                protocol_id: Set(id.clone()),
                agency_id: Set(a),
            })
            .collect();
        if !links.is_empty() {
            protocol_signatory::Entity::insert_many(links)
                .exec_without_returning(w.txn())
                .await?;
        }
        w.commit().await?;
        Ok(Protocol(model))
    }

    /// Records a collaboration between two agencies (platform admin).
    async fn create_collaboration(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        kind: String,
        since: Option<Date>,
    ) -> ApiResult<Collaboration> {
        require_admin(ctx)?;
        if from == to {
            return Err(ApiError::validation(
                "to",
                "an agency cannot collaborate with itself",
            ));
        }
        let w = ctx.state().write().await?;
        require_agencies(w.txn(), "from", std::slice::from_ref(&from)).await?;
        require_agencies(w.txn(), "to", std::slice::from_ref(&to)).await?;
        let now = Utc::now();
        let model = collaboration::Entity::insert(collaboration::ActiveModel {
            id: Set(new_id()),
            kind: Set(validate::required("kind", &kind)?),
            from_id: Set(from.to_string()),
            to_id: Set(to.to_string()),
            since: Set(since.map(|d| d.0)),
            weight: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_with_returning(w.txn())
        .await?;
        w.commit().await?;
        Ok(Collaboration(model))
    }
}

fn dedup(ids: &[ID]) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = ids.iter().map(|i| i.to_string()).collect();
    set.into_iter().collect()
}
