//! The platform admin's work: agencies, projects, networks, protocols, collaborations (see
//! `domain::admin`).

use async_graphql::{Context, Object, ID};

use crate::{
    domain::{
        self,
        admin::{AgencyInput, NewNetwork, NewProject},
        scalars::Date,
    },
    error::ApiResult,
    graphql::{
        types::{
            agency::Agency,
            network::{Collaboration, Network, Project, Protocol},
        },
        ContextExt,
    },
};

/// The ids as plain strings.
fn plain(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|i| i.0).collect()
}

/// The admin mutations.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Registers an agency (platform admin).
    async fn create_agency(&self, ctx: &Context<'_>, input: AgencyInput) -> ApiResult<Agency> {
        let model = domain::admin::create_agency(ctx.state(), ctx.request(), &input).await?;
        Ok(Agency(model))
    }

    /// Rewrites an agency's registry entry: the platform admin all of it, the agency's own
    /// coordinators its public fields (name, place, public contact, site, office location).
    async fn update_agency(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AgencyInput,
    ) -> ApiResult<Agency> {
        let model = domain::admin::update_agency(ctx.state(), ctx.request(), &id, &input).await?;
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
        let enti = plain(enti);
        let input = NewProject {
            name: &name,
            coordinator: &coordinator,
            enti: &enti,
            starts_on: starts_on.map(|d| d.0),
            ends_on: ends_on.map(|d| d.0),
        };
        let model = domain::admin::create_project(ctx.state(), ctx.request(), input).await?;
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
        let members = plain(members);
        let input = NewNetwork {
            name: &name,
            province: province.as_deref(),
            lead: lead.as_ref().map(|l| l.as_str()),
            members: &members,
            municipalities,
        };
        let model = domain::admin::create_network(ctx.state(), ctx.request(), input).await?;
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
        let model = domain::admin::create_protocol(
            ctx.state(),
            ctx.request(),
            &title,
            signed_on.map(|d| d.0),
            &plain(signatories),
            &policy_version,
        )
        .await?;
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
        let model = domain::admin::create_collaboration(
            ctx.state(),
            ctx.request(),
            &from,
            &to,
            &kind,
            since.map(|d| d.0),
        )
        .await?;
        Ok(Collaboration(model))
    }
}
