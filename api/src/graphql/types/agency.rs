//! Agencies: public fields for anyone, operational fields for partners (ACCESS.md §8).

use async_graphql::{Context, Object, ID};
use raccordo_entities::agency;

use crate::{
    domain::reads,
    error::{ApiError, ApiResult},
    graphql::{enums::AgencyKind, ContextExt},
};

/// A partner agency of the network.
#[derive(Clone)]
pub struct Agency(pub agency::Model);

impl Agency {
    /// Asks the evaluator whether the viewer may read `field` of this agency.
    fn may_read(&self, ctx: &Context<'_>, field: &str) -> bool {
        reads::agency_field_readable(&ctx.state().policy, ctx.request(), &self.0.id, field)
    }
}

/// A partner agency of the network. Public fields for anyone; operational fields for partners.
#[Object]
impl Agency {
    /// The agency's id in the hub.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The agency's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of agency it is.
    async fn kind(&self) -> ApiResult<AgencyKind> {
        self.0
            .kind
            .parse::<raccordo_policies::AgencyKind>()
            .map(Into::into)
            .map_err(|_| {
                ApiError::Internal(format!("agency {} has an unknown kind", self.0.id).into())
            })
    }
    /// Province (two-letter sigla, e.g. "BG").
    async fn province(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "province")
            .then_some(self.0.province.as_deref())
            .flatten()
    }
    /// City of the public office.
    async fn city(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "city")
            .then_some(self.0.city.as_deref())
            .flatten()
    }
    /// Public contact (telephone or e-mail of the public office).
    async fn public_contact(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "publicContact")
            .then_some(self.0.public_contact.as_deref())
            .flatten()
    }
    /// Public website.
    async fn website(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "website")
            .then_some(self.0.website.as_deref())
            .flatten()
    }
    /// Latitude of the public office.
    async fn latitude(&self, ctx: &Context<'_>) -> Option<f64> {
        self.may_read(ctx, "latitude")
            .then_some(self.0.latitude)
            .flatten()
    }
    /// Longitude of the public office.
    async fn longitude(&self, ctx: &Context<'_>) -> Option<f64> {
        self.may_read(ctx, "longitude")
            .then_some(self.0.longitude)
            .flatten()
    }
    /// Contact for referrals; partners only (null for anonymous callers).
    async fn referral_contact(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "referralContact")
            .then_some(self.0.referral_contact.as_deref())
            .flatten()
    }
    /// Operational notes about the agency; partners only.
    async fn notes(&self, ctx: &Context<'_>) -> Option<&str> {
        self.may_read(ctx, "notes")
            .then_some(self.0.notes.as_deref())
            .flatten()
    }
}
