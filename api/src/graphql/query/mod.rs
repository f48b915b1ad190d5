//! Read operations, one file per area like `mutation/`: cases, referrals, statistics and the
//! registry (`core`), what moves between partners (`sharing`), the partner network (`network`).
//! Row decisions are pushed into SQL through `access`; field decisions are made by the types.
//! Anonymous callers may use `directory` and nothing else.

mod core;
mod network;
mod sharing;

use async_graphql::MergedObject;

use super::federation::EntityQuery;

/// The root of every read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    core::CoreQuery,
    sharing::SharingQuery,
    network::NetworkQuery,
    EntityQuery,
    super::places::PlacesQuery,
);
