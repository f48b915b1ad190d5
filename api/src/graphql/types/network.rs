//! The partner network: networks (reti), protocols, collaborations, projects, shelters.
//! Who may list them is decided at the query (ACCESS.md §8); these types only present rows.

use async_graphql::{Context, Object, ID};
use raccordo_entities::{collaboration, network, project, protocol, shelter};

use super::{agency::Agency, load_agencies, load_agency};
use crate::{
    error::{internal, ApiResult},
    graphql::{scalars::Date, ContextExt},
};

/// A territorial network (rete), e.g. an anti-violence network led by a Comune.
pub struct Network(pub network::Model);

/// A territorial network (rete), e.g. an anti-violence network led by a Comune.
#[Object]
impl Network {
    /// The network's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The network's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Province the network covers.
    async fn province(&self) -> Option<&str> {
        self.0.province.as_deref()
    }
    /// The agency that leads the network.
    async fn lead(&self, ctx: &Context<'_>) -> ApiResult<Option<Agency>> {
        match &self.0.lead_id {
            Some(id) => load_agency(ctx, id).await.map(Some),
            None => Ok(None),
        }
    }
    /// The network's member agencies.
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<Agency>> {
        let rows = ctx
            .loaders()
            .network_members
            .load_one(self.0.id.clone())
            .await
            .map_err(internal)?;
        load_agencies(
            ctx,
            rows.unwrap_or_default()
                .into_iter()
                .map(|m| m.agency_id)
                .collect(),
        )
        .await
    }
    /// Number of municipalities the network covers.
    async fn municipalities(&self) -> Option<i32> {
        self.0.municipalities
    }
}

/// A signed multi-agency protocol (protocollo d'intesa).
pub struct Protocol(pub protocol::Model);

/// A signed multi-agency protocol (protocollo d'intesa).
#[Object]
impl Protocol {
    /// The protocol's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The protocol's title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// When it was signed.
    async fn signed_on(&self) -> Option<Date> {
        self.0.signed_on.map(Date)
    }
    /// The agencies that signed it.
    async fn signatories(&self, ctx: &Context<'_>) -> ApiResult<Vec<Agency>> {
        let rows = ctx
            .loaders()
            .signatories
            .load_one(self.0.id.clone())
            .await
            .map_err(internal)?;
        load_agencies(
            ctx,
            rows.unwrap_or_default()
                .into_iter()
                .map(|m| m.agency_id)
                .collect(),
        )
        .await
    }
    /// The version of the policy document that enforces it.
    async fn policy_version(&self) -> Option<&str> {
        self.0.policy_version.as_deref()
    }
}

/// A working relationship between two agencies (a partnership letter, a referral channel...).
pub struct Collaboration(pub collaboration::Model);

/// A working relationship between two agencies (a partnership letter, a referral channel...).
#[Object]
impl Collaboration {
    /// The collaboration's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// What kind of collaboration, e.g. `LETTERA_PARTENARIATO`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The agency the collaboration starts from.
    async fn from(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.from_id).await
    }
    /// The agency it goes to.
    async fn to(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.to_id).await
    }
    /// Since when.
    async fn since(&self) -> Option<Date> {
        self.0.since.map(Date)
    }
}

/// An anti-trafficking project (e.g. "Mettiamo le Ali", Bando 5/22).
pub struct Project(pub project::Model);

/// An anti-trafficking project (e.g. "Mettiamo le Ali", Bando 5/22).
#[Object]
impl Project {
    /// The project's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The project's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The coordinating body.
    async fn coordinator(&self, ctx: &Context<'_>) -> ApiResult<Agency> {
        load_agency(ctx, &self.0.coordinator_id).await
    }
    /// The enti running the project.
    async fn enti(&self, ctx: &Context<'_>) -> ApiResult<Vec<Agency>> {
        let rows = ctx
            .loaders()
            .project_enti
            .load_one(self.0.id.clone())
            .await
            .map_err(internal)?;
        load_agencies(
            ctx,
            rows.unwrap_or_default()
                .into_iter()
                .map(|m| m.agency_id)
                .collect(),
        )
        .await
    }
    /// First day of the project.
    async fn starts_on(&self) -> Option<Date> {
        self.0.starts_on.map(Date)
    }
    /// Last day of the project.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
}

/// A protected shelter. Its address is secret: it is only ever returned to those the protocol
/// lets see it (the owning agency, or a case's owner through the case's `LOCATION` class).
pub struct Shelter(pub shelter::Model);

/// A protected shelter. Its address is secret.
#[Object]
impl Shelter {
    /// The shelter's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The shelter's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The secret address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
}
