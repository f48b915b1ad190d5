//! The network map: who works with whom across the provinces (ACCESS.md §8: networks, protocols
//! and collaborations are partner-level data).
//!
//! Every answer is computed from one snapshot of the network read in a constant number of
//! statements (agencies, collaborations, networks, network members, protocols, signatories: one
//! each), whatever the size of the network; filters, degrees and paths are worked out in Rust, so
//! a map of the whole region costs the same six statements as a map of one province.
//!
//! Shelters are not agencies and are never read here: a map gets them only as `shelterCounts`
//! (counts per province, suppressed as in §7).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use async_graphql::{Context, InputObject, Json, Object, SimpleObject, ID};
use raccordo_entities::{
    agency, collaboration, network, network_member, protocol, protocol_signatory,
};
use raccordo_policies::NetworkClass;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

use crate::graphql::{
    enums::AgencyKind,
    scalars::Date,
    types::{agency::Agency, network::Collaboration},
    ContextExt,
};
use crate::{
    domain::reads,
    error::{ApiError, ApiResult},
    validate,
};

/// The longest collaboration kind accepted in a filter; kinds are short codes such as `PERMITS`.
const MAX_KIND: usize = 64;

/// What a network map shows. Every list narrows the map; a list left out does not. An empty list
/// matches nothing.
#[derive(InputObject, Default, Clone)]
pub struct NetworkGraphFilter {
    /// Only agencies of these provinces (sigle, e.g. "BG"). Agencies without a province are left
    /// out when this is given.
    pub provinces: Option<Vec<String>>,
    /// Only agencies of these kinds.
    pub kinds: Option<Vec<AgencyKind>>,
    /// Only agencies that belong to (or lead) at least one of these networks (reti).
    pub networks: Option<Vec<ID>>,
    /// Only collaborations of these kinds (e.g. `PERMITS`, `TRAMA`).
    pub collaboration_kinds: Option<Vec<String>>,
}

/// An agency on the network map.
pub struct NetworkNode {
    row: agency::Model,
    degree: i32,
}

/// An agency on the network map, with the number of its collaborations in the answer.
#[Object]
impl NetworkNode {
    /// The agency itself.
    async fn agency(&self) -> Agency {
        Agency(self.row.clone())
    }
    /// The agency's id.
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    /// The agency's name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// What kind of agency it is.
    async fn kind(&self) -> ApiResult<AgencyKind> {
        agency_kind(&self.row).map(Into::into)
    }
    /// Province (sigla), if the agency is tied to one.
    async fn province(&self) -> Option<&str> {
        self.row.province.as_deref()
    }
    /// City of the public office.
    async fn city(&self) -> Option<&str> {
        self.row.city.as_deref()
    }
    /// WGS84 latitude of the public office (only public offices have one).
    async fn latitude(&self) -> Option<f64> {
        self.row.latitude
    }
    /// WGS84 longitude of the public office (only public offices have one).
    async fn longitude(&self) -> Option<f64> {
        self.row.longitude
    }
    /// How many edges of this answer touch the agency.
    async fn degree(&self) -> i32 {
        self.degree
    }
}

/// A collaboration between two agencies on the map.
pub struct NetworkEdge(collaboration::Model);

/// A collaboration between two agencies of the map; both ends are nodes of the same answer.
#[Object]
impl NetworkEdge {
    /// The collaboration's id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The agency the collaboration starts from (the one that acts, or the sender of referrals).
    async fn from(&self) -> ID {
        ID(self.0.from_id.clone())
    }
    /// The agency it goes to.
    async fn to(&self) -> ID {
        ID(self.0.to_id.clone())
    }
    /// What kind of collaboration, e.g. `PERMITS`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Strength of the tie, for the layout (1 unless recorded otherwise).
    async fn weight(&self) -> i32 {
        self.0.weight
    }
    /// Since when, if known.
    async fn since(&self) -> Option<Date> {
        self.0.since.map(Date)
    }
}

/// A group of agencies drawn together: a territorial network (rete) or a signed protocol.
#[derive(SimpleObject, Clone)]
pub struct NetworkCluster {
    /// The network's or the protocol's id.
    pub id: ID,
    /// `RETE` for a territorial network, `PROTOCOL` for a signed protocol.
    pub kind: String,
    /// The network's name or the protocol's title.
    pub name: String,
    /// Province the network covers; null for protocols and for networks across provinces.
    pub province: Option<String>,
    /// The lead agency (capofila) when it is a node of this answer; protocols have none.
    pub lead: Option<ID>,
    /// The members (or signatories) that are nodes of this answer, by id.
    pub members: Vec<ID>,
}

/// Who works with whom: the agencies, their collaborations, and the networks and protocols that
/// group them.
#[derive(SimpleObject)]
pub struct NetworkGraph {
    /// The agencies matching the filter (enabled agencies only; shelters are never nodes).
    pub nodes: Vec<NetworkNode>,
    /// The collaborations between two nodes, of the kinds asked for.
    pub edges: Vec<NetworkEdge>,
    /// The networks (reti) and protocols with at least one node among their members or as lead.
    pub clusters: Vec<NetworkCluster>,
}

/// The shortest chain of collaborations between two agencies: who can introduce whom.
#[derive(SimpleObject)]
pub struct CollaborationPath {
    /// The agencies along the chain, from the first to the last.
    pub agencies: Vec<Agency>,
    /// The collaborations linking each agency to the next, in order (each keeps its own
    /// direction, which need not be the chain's).
    pub collaborations: Vec<Collaboration>,
    /// Number of collaborations in the chain (0 when both ends are the same agency).
    pub length: i32,
}

/// Reads of the network map.
#[derive(Default)]
pub struct NetworkQuery;

#[Object]
impl NetworkQuery {
    /// The network map: agencies as nodes, collaborations as edges, networks and protocols as
    /// clusters (partners only). Shelters never appear: use `shelterCounts` for them.
    async fn network_graph(
        &self,
        ctx: &Context<'_>,
        filter: Option<NetworkGraphFilter>,
    ) -> ApiResult<NetworkGraph> {
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
        let data = graph(&ctx.state().db, filter.unwrap_or_default()).await?;
        Ok(NetworkGraph {
            nodes: data
                .nodes
                .into_iter()
                .map(|(row, degree)| NetworkNode { row, degree })
                .collect(),
            edges: data.edges.into_iter().map(NetworkEdge).collect(),
            clusters: data.clusters,
        })
    }

    /// The same map as a GeoJSON FeatureCollection for map libraries (partners only): a Point per
    /// node with coordinates, a LineString per edge whose two ends have coordinates. Nodes without
    /// coordinates are counted in the top-level `withoutCoordinates`, such edges in
    /// `edgesWithoutCoordinates`.
    async fn network_geo_json(
        &self,
        ctx: &Context<'_>,
        filter: Option<NetworkGraphFilter>,
    ) -> ApiResult<Json<Value>> {
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
        let data = graph(&ctx.state().db, filter.unwrap_or_default()).await?;
        Ok(Json(geo_json(&data)?))
    }

    /// The shortest chain of collaborations from one agency to another, collaborations taken in
    /// either direction and, if `kinds` is given, only of those kinds (partners only). Among
    /// chains of the same length, the one whose agency ids sort first. Null when there is none.
    async fn collaboration_path(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        kinds: Option<Vec<String>>,
    ) -> ApiResult<Option<CollaborationPath>> {
        reads::require_network(&ctx.state().policy, ctx.request(), NetworkClass::Partner)?;
        let kinds = collaboration_kinds("kinds", kinds)?;
        let db = &ctx.state().db;
        let (agencies, collaborations) = futures::try_join!(
            enabled_agencies(db),
            collaboration::Entity::find()
                .order_by_asc(collaboration::Column::Id)
                .all(db),
        )?;
        let index: HashMap<&str, usize> = agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let start = endpoint(&index, "from", &from)?;
        let goal = endpoint(&index, "to", &to)?;
        let usable: Vec<&collaboration::Model> = collaborations
            .iter()
            .filter(|c| kinds.as_ref().is_none_or(|k| k.contains(c.kind.as_str())))
            .collect();
        let mut adjacency: Vec<Vec<(usize, usize)>> = vec![Vec::new(); agencies.len()];
        for (ci, c) in usable.iter().enumerate() {
            // A collaboration with a disabled agency introduces no one: it is not walked.
            if let (Some(&a), Some(&b)) =
                (index.get(c.from_id.as_str()), index.get(c.to_id.as_str()))
            {
                adjacency[a].push((b, ci));
                adjacency[b].push((a, ci));
            }
        }
        let Some(steps) = shortest_path(&mut adjacency, start, goal) else {
            return Ok(None);
        };
        let mut path_agencies = vec![Agency(agencies[start].clone())];
        let mut path_collaborations = Vec::with_capacity(steps.len());
        for (next, ci) in &steps {
            path_agencies.push(Agency(agencies[*next].clone()));
            path_collaborations.push(Collaboration(usable[*ci].clone()));
        }
        Ok(Some(CollaborationPath {
            length: i32::try_from(steps.len()).unwrap_or(i32::MAX),
            agencies: path_agencies,
            collaborations: path_collaborations,
        }))
    }
}

/// The map computed from one snapshot, before it is shaped as GraphQL objects or GeoJSON.
struct GraphData {
    /// Nodes with their degree, by agency id.
    nodes: Vec<(agency::Model, i32)>,
    /// Edges, by collaboration id.
    edges: Vec<collaboration::Model>,
    /// Networks first, then protocols, each by name.
    clusters: Vec<NetworkCluster>,
}

/// The agencies that can appear on a map or in a chain: enabled ones, by id.
async fn enabled_agencies(db: &DatabaseConnection) -> Result<Vec<agency::Model>, sea_orm::DbErr> {
    agency::Entity::find()
        .filter(agency::Column::Disabled.eq(false))
        .order_by_asc(agency::Column::Id)
        .all(db)
        .await
}

fn agency_kind(row: &agency::Model) -> ApiResult<raccordo_policies::AgencyKind> {
    row.kind
        .parse::<raccordo_policies::AgencyKind>()
        .map_err(|_| ApiError::Internal(format!("agency {} has an unknown kind", row.id).into()))
}

/// The index of an enabled agency named by a path's end, or a validation error on `field`.
fn endpoint(index: &HashMap<&str, usize>, field: &str, id: &ID) -> ApiResult<usize> {
    index.get(id.as_str()).copied().ok_or_else(|| {
        ApiError::validation(
            field,
            format!("{:?} is not an agency of the network", id.as_str()),
        )
    })
}

/// Collaboration kinds of a filter: trimmed, non-empty short codes. Kinds are a free vocabulary
/// (the contract keeps `kind` a string), so a kind no collaboration has yet simply matches none.
fn collaboration_kinds(
    field: &str,
    kinds: Option<Vec<String>>,
) -> ApiResult<Option<HashSet<String>>> {
    kinds
        .map(|list| {
            list.iter()
                .map(|k| {
                    let k = validate::required(field, k)?;
                    if k.chars().count() > MAX_KIND {
                        return Err(ApiError::validation(
                            field,
                            format!("a collaboration kind is at most {MAX_KIND} characters"),
                        ));
                    }
                    Ok(k)
                })
                .collect()
        })
        .transpose()
}

/// Province sigle of a filter. A sigla must be an Italian province's, or one some agency of the
/// hub already has (so data recorded under an older sigla stays reachable).
fn provinces(
    list: Option<Vec<String>>,
    agencies: &[agency::Model],
) -> ApiResult<Option<HashSet<String>>> {
    const FIELD: &str = "filter.provinces";
    let Some(list) = list else {
        return Ok(None);
    };
    let in_use: HashSet<&str> = agencies
        .iter()
        .filter_map(|a| a.province.as_deref())
        .collect();
    list.iter()
        .map(|p| {
            let p = validate::province(FIELD, p)?;
            if validate::is_italian_province(&p) || in_use.contains(p.as_str()) {
                Ok(p)
            } else {
                Err(ApiError::validation(
                    FIELD,
                    format!("{p:?} is not an Italian province"),
                ))
            }
        })
        .collect::<ApiResult<HashSet<String>>>()
        .map(Some)
}

/// Reads the snapshot (six statements, sent together) and computes the map for `filter`.
async fn graph(db: &DatabaseConnection, filter: NetworkGraphFilter) -> ApiResult<GraphData> {
    // Input checks that need no data come first, so a bad request costs no statement.
    let collaboration_kinds =
        collaboration_kinds("filter.collaborationKinds", filter.collaboration_kinds)?;
    let kinds: Option<HashSet<&'static str>> = filter.kinds.map(|ks| {
        ks.into_iter()
            .map(|k| raccordo_policies::AgencyKind::from(k).as_str())
            .collect()
    });
    let (agencies, collaborations, networks, members, protocols, signatories) = futures::try_join!(
        enabled_agencies(db),
        collaboration::Entity::find()
            .order_by_asc(collaboration::Column::Id)
            .all(db),
        network::Entity::find()
            .order_by_asc(network::Column::Name)
            .order_by_asc(network::Column::Id)
            .all(db),
        network_member::Entity::find()
            .order_by_asc(network_member::Column::AgencyId)
            .all(db),
        protocol::Entity::find()
            .order_by_asc(protocol::Column::Title)
            .order_by_asc(protocol::Column::Id)
            .all(db),
        protocol_signatory::Entity::find()
            .order_by_asc(protocol_signatory::Column::AgencyId)
            .all(db),
    )?;
    let provinces = provinces(filter.provinces, &agencies)?;

    // Agencies in any listed network: its members and its lead (the capofila belongs to its rete
    // even where the membership table does not repeat it).
    let in_networks: Option<HashSet<&str>> = match &filter.networks {
        None => None,
        Some(ids) => {
            let mut wanted = HashSet::new();
            for id in ids {
                let Some(n) = networks.iter().find(|n| n.id == id.as_str()) else {
                    return Err(ApiError::validation(
                        "filter.networks",
                        format!("{:?} is not a network", id.as_str()),
                    ));
                };
                wanted.insert(n.id.as_str());
            }
            let mut agencies_in: HashSet<&str> = members
                .iter()
                .filter(|m| wanted.contains(m.network_id.as_str()))
                .map(|m| m.agency_id.as_str())
                .collect();
            agencies_in.extend(
                networks
                    .iter()
                    .filter(|n| wanted.contains(n.id.as_str()))
                    .filter_map(|n| n.lead_id.as_deref()),
            );
            Some(agencies_in)
        }
    };

    let mut nodes: Vec<agency::Model> = Vec::new();
    for a in agencies {
        let by_province = provinces
            .as_ref()
            .is_none_or(|ps| a.province.as_ref().is_some_and(|p| ps.contains(p)));
        let by_kind = match &kinds {
            None => true,
            Some(ks) => ks.contains(agency_kind(&a)?.as_str()),
        };
        let by_network = in_networks
            .as_ref()
            .is_none_or(|ids| ids.contains(a.id.as_str()));
        if by_province && by_kind && by_network {
            nodes.push(a);
        }
    }
    let node_ids: HashSet<&str> = nodes.iter().map(|a| a.id.as_str()).collect();

    let mut degree: HashMap<&str, i32> = HashMap::new();
    let mut edges = Vec::new();
    for c in &collaborations {
        let wanted = collaboration_kinds
            .as_ref()
            .is_none_or(|k| k.contains(c.kind.as_str()));
        if wanted && node_ids.contains(c.from_id.as_str()) && node_ids.contains(c.to_id.as_str()) {
            *degree.entry(c.from_id.as_str()).or_default() += 1;
            *degree.entry(c.to_id.as_str()).or_default() += 1;
            edges.push(c);
        }
    }

    let mut clusters = Vec::new();
    let mut members_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in &members {
        members_of
            .entry(m.network_id.as_str())
            .or_default()
            .push(m.agency_id.as_str());
    }
    for n in &networks {
        let lead = n.lead_id.as_deref().filter(|l| node_ids.contains(l));
        let ids = cluster_members(members_of.get(n.id.as_str()), &node_ids);
        if lead.is_some() || !ids.is_empty() {
            clusters.push(NetworkCluster {
                id: ID(n.id.clone()),
                kind: "RETE".into(),
                name: n.name.clone(),
                province: n.province.clone(),
                lead: lead.map(|l| ID(l.to_string())),
                members: ids,
            });
        }
    }
    let mut signatories_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in &signatories {
        signatories_of
            .entry(s.protocol_id.as_str())
            .or_default()
            .push(s.agency_id.as_str());
    }
    for p in &protocols {
        let ids = cluster_members(signatories_of.get(p.id.as_str()), &node_ids);
        if !ids.is_empty() {
            clusters.push(NetworkCluster {
                id: ID(p.id.clone()),
                kind: "PROTOCOL".into(),
                name: p.title.clone(),
                province: None,
                lead: None,
                members: ids,
            });
        }
    }

    let edges: Vec<collaboration::Model> = edges.into_iter().cloned().collect();
    let degrees: Vec<i32> = nodes
        .iter()
        .map(|a| degree.get(a.id.as_str()).copied().unwrap_or(0))
        .collect();
    Ok(GraphData {
        nodes: nodes.into_iter().zip(degrees).collect(),
        edges,
        clusters,
    })
}

/// The members of a cluster that are nodes, sorted by id, each once.
fn cluster_members(all: Option<&Vec<&str>>, nodes: &HashSet<&str>) -> Vec<ID> {
    all.map(|ids| {
        ids.iter()
            .filter(|id| nodes.contains(**id))
            .copied()
            .collect::<BTreeSet<&str>>()
    })
    .unwrap_or_default()
    .into_iter()
    .map(|id| ID(id.to_string()))
    .collect()
}

/// A node's position as GeoJSON wants it (`[longitude, latitude]`), if it has a valid one.
fn position(row: &agency::Model) -> Option<[f64; 2]> {
    match (row.latitude, row.longitude) {
        (Some(lat), Some(lon))
            if lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon) =>
        {
            Some([lon, lat])
        }
        _ => None,
    }
}

/// The map as an RFC 7946 FeatureCollection; the two counts are foreign members at top level.
fn geo_json(data: &GraphData) -> ApiResult<Value> {
    let mut features = Vec::new();
    let mut positions: HashMap<&str, [f64; 2]> = HashMap::new();
    let mut without = 0u64;
    for (row, degree) in &data.nodes {
        let Some(at) = position(row) else {
            without += 1;
            continue;
        };
        positions.insert(row.id.as_str(), at);
        features.push(json!({
            "type": "Feature",
            "id": row.id,
            "geometry": { "type": "Point", "coordinates": at },
            "properties": {
                "id": row.id,
                "name": row.name,
                "kind": agency_kind(row)?.as_str(),
                "province": row.province,
                "city": row.city,
                "degree": degree,
            },
        }));
    }
    let mut edges_without = 0u64;
    for c in &data.edges {
        let (Some(a), Some(b)) = (
            positions.get(c.from_id.as_str()),
            positions.get(c.to_id.as_str()),
        ) else {
            edges_without += 1;
            continue;
        };
        features.push(json!({
            "type": "Feature",
            "id": c.id,
            "geometry": { "type": "LineString", "coordinates": [a, b] },
            "properties": {
                "id": c.id,
                "from": c.from_id,
                "to": c.to_id,
                "kind": c.kind,
                "weight": c.weight,
                "since": c.since.map(|d| d.format("%Y-%m-%d").to_string()),
            },
        }));
    }
    Ok(json!({
        "type": "FeatureCollection",
        "features": features,
        "withoutCoordinates": without,
        "edgesWithoutCoordinates": edges_without,
    }))
}

/// The shortest chain from `start` to `goal` as (next agency, collaboration) steps, or `None`.
///
/// Agencies and collaborations are indexed in id order, so sorting each adjacency list makes
/// "smallest index" mean "smallest id". Distances are measured from the goal; walking from the
/// start to the smallest neighbour one step closer each time gives, among the shortest chains,
/// the one whose agency ids sort first (ties between parallel collaborations: smallest id).
fn shortest_path(
    adjacency: &mut [Vec<(usize, usize)>],
    start: usize,
    goal: usize,
) -> Option<Vec<(usize, usize)>> {
    for list in adjacency.iter_mut() {
        list.sort_unstable();
    }
    let mut distance = vec![usize::MAX; adjacency.len()];
    distance[goal] = 0;
    let mut queue = VecDeque::from([goal]);
    while let Some(at) = queue.pop_front() {
        if at == start {
            break;
        }
        for &(next, _) in &adjacency[at] {
            if distance[next] == usize::MAX {
                distance[next] = distance[at] + 1;
                queue.push_back(next);
            }
        }
    }
    if distance[start] == usize::MAX {
        return None;
    }
    let mut steps = Vec::with_capacity(distance[start]);
    let mut at = start;
    while at != goal {
        // Some neighbour is one step closer, by construction of `distance` (undiscovered
        // neighbours hold usize::MAX, which is never one less than a real distance).
        let closer = distance[at].checked_sub(1)?;
        let &(next, ci) = adjacency[at].iter().find(|(n, _)| distance[*n] == closer)?;
        steps.push((next, ci));
        at = next;
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::shortest_path;

    fn graph(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<(usize, usize)>> {
        let mut adj = vec![Vec::new(); n];
        for (i, &(a, b)) in edges.iter().enumerate() {
            adj[a].push((b, i));
            adj[b].push((a, i));
        }
        adj
    }

    #[test]
    fn shortest_chain_wins_over_a_longer_one() {
        // 0–1–2 and 0–3–4–2.
        let mut adj = graph(5, &[(0, 3), (3, 4), (4, 2), (0, 1), (1, 2)]);
        assert_eq!(shortest_path(&mut adj, 0, 2), Some(vec![(1, 3), (2, 4)]));
    }

    #[test]
    fn ties_go_to_the_smallest_ids() {
        // 0–2–3 and 0–1–3: both of length 2; through 1 wins. Parallel 0–1 edges: smallest id.
        let mut adj = graph(4, &[(0, 2), (2, 3), (1, 3), (0, 1), (0, 1)]);
        assert_eq!(shortest_path(&mut adj, 0, 3), Some(vec![(1, 3), (3, 2)]));
    }

    #[test]
    fn no_chain_and_the_empty_chain() {
        let mut adj = graph(3, &[(0, 1)]);
        assert_eq!(shortest_path(&mut adj, 0, 2), None);
        assert_eq!(shortest_path(&mut adj, 1, 1), Some(vec![]));
    }
}
