//! The network map: `networkGraph`, `networkGeoJson` and `collaborationPath` (ACCESS.md §8),
//! on the demo network and on a small graph built for an exact check.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use raccordo_api::demo::seed_demo;
use raccordo_policies::UserRole;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

const GRAPH: &str = "query($f: NetworkGraphFilter) { networkGraph(filter: $f) {
    nodes { id name kind province city latitude longitude degree agency { id name } }
    edges { id from to kind weight since }
    clusters { id kind name province lead members } } }";

const GEOJSON: &str = "query($f: NetworkGraphFilter) { networkGeoJson(filter: $f) }";

const PATH: &str = "query($from: ID!, $to: ID!, $kinds: [String!]) {
    collaborationPath(from: $from, to: $to, kinds: $kinds) {
        length agencies { id } collaborations { id kind from { id } to { id } } } }";

/// The shelters of the demo (api/demo/network.toml): their names and addresses all carry this.
const SHELTER_MARK: &str = "(demo)";

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[key].as_str().expect("an id").to_string())
        .collect()
}

fn path_ids(path: &Value) -> Vec<String> {
    ids(&path["agencies"], "id")
}

/// Every edge joins two nodes, and each node's degree is the number of edges touching it.
fn assert_consistent(graph: &Value) {
    let nodes: BTreeSet<String> = ids(&graph["nodes"], "id").into_iter().collect();
    let mut degree: HashMap<String, i64> = HashMap::new();
    for e in graph["edges"].as_array().expect("edges") {
        for end in ["from", "to"] {
            let id = e[end].as_str().expect("an end");
            assert!(
                nodes.contains(id),
                "edge {} ends outside the nodes",
                e["id"]
            );
            *degree.entry(id.to_string()).or_default() += 1;
        }
        assert!(e["weight"].as_i64().is_some_and(|w| w >= 1));
    }
    for n in graph["nodes"].as_array().expect("nodes") {
        let id = n["id"].as_str().expect("id");
        assert_eq!(
            n["degree"].as_i64(),
            Some(degree.get(id).copied().unwrap_or(0)),
            "degree of {id}"
        );
        assert_eq!(n["agency"]["id"], n["id"]);
    }
    for c in graph["clusters"].as_array().expect("clusters") {
        for m in c["members"].as_array().expect("members") {
            assert!(nodes.contains(m.as_str().expect("member id")));
        }
        if let Some(lead) = c["lead"].as_str() {
            assert!(nodes.contains(lead));
        }
    }
}

async fn graph(hub: &TestHub, token: &str, filter: Value) -> Value {
    hub.ok(token, GRAPH, json!({ "f": filter })).await["networkGraph"].clone()
}

/// Italy's bounding box, roughly: every coordinate of a demo map must fall inside it.
fn assert_in_italy(position: &Value) {
    let lon = position[0].as_f64().expect("longitude");
    let lat = position[1].as_f64().expect("latitude");
    assert!((6.0..=19.0).contains(&lon), "longitude {lon}");
    assert!((35.0..=48.0).contains(&lat), "latitude {lat}");
}

async fn network_map_of_the_demo(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    // A partner that runs shelters itself: even for their owner, shelters are not nodes.
    let t = hub.token(Some("micaela-bg"), UserRole::Operator);
    let analyst = hub.token(Some("prefettura-bg"), UserRole::Analyst);

    let whole = graph(&hub, &t, json!(null)).await;
    let nodes = whole["nodes"].as_array().expect("nodes");
    let edges = whole["edges"].as_array().expect("edges");
    assert!(nodes.len() >= 60, "{} nodes", nodes.len());
    assert!(edges.len() >= 60, "{} edges", edges.len());
    assert_consistent(&whole);
    assert!(
        !whole.to_string().contains(SHELTER_MARK),
        "a shelter leaked into the map"
    );
    // The analyst (aggregates and network data only) gets the same map.
    assert_eq!(graph(&hub, &analyst, json!({})).await, whole);

    // Provinces.
    let bg = graph(&hub, &t, json!({ "provinces": ["bg"] })).await;
    assert_consistent(&bg);
    let bg_nodes: BTreeSet<String> = ids(&bg["nodes"], "id").into_iter().collect();
    let expected: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n["province"] == "BG")
        .map(|n| n["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(bg_nodes, expected);
    assert!(bg_nodes.contains("micaela-bg") && bg_nodes.contains("questura-bg"));
    let bg_edges = edges
        .iter()
        .filter(|e| {
            bg_nodes.contains(e["from"].as_str().unwrap_or_default())
                && bg_nodes.contains(e["to"].as_str().unwrap_or_default())
        })
        .count();
    assert_eq!(bg["edges"].as_array().map(Vec::len), Some(bg_edges));
    let two = graph(&hub, &t, json!({ "provinces": ["BG", "BS"] })).await;
    assert!(two["nodes"].as_array().map(Vec::len) > bg["nodes"].as_array().map(Vec::len));
    let none = graph(&hub, &t, json!({ "provinces": [] })).await;
    assert_eq!(none["nodes"], json!([]));

    // Agency kinds.
    let prefetture = graph(&hub, &t, json!({ "kinds": ["PREFETTURA"] })).await;
    let kinds: BTreeSet<&str> = prefetture["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["PREFETTURA"]));

    // Collaboration kinds.
    let permits = graph(&hub, &t, json!({ "collaborationKinds": ["PERMITS"] })).await;
    assert_consistent(&permits);
    let want = edges.iter().filter(|e| e["kind"] == "PERMITS").count();
    assert!(want > 0);
    assert_eq!(permits["edges"].as_array().map(Vec::len), Some(want));
    assert!(permits["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .all(|e| e["kind"] == "PERMITS"));
    assert_eq!(
        permits["nodes"].as_array().map(Vec::len),
        Some(nodes.len()),
        "a collaboration filter narrows edges, not nodes"
    );

    // Networks: the members and the lead of the Brescia rete.
    let rete = graph(&hub, &t, json!({ "networks": ["rete-brescia"] })).await;
    assert_eq!(
        ids(&rete["nodes"], "id"),
        ["cav-butterfly-bs", "cav-casa-donne-bs", "comune-brescia"]
    );
    let cluster = rete["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["id"] == "rete-brescia")
        .expect("the rete is a cluster")
        .clone();
    assert_eq!(cluster["kind"], "RETE");
    assert_eq!(cluster["province"], "BS");
    assert_eq!(cluster["lead"], "comune-brescia");

    // Clusters: the Turin protocol with its eleven signatories.
    let clusters = whole["clusters"].as_array().expect("clusters");
    let turin = clusters
        .iter()
        .find(|c| c["id"] == "protocollo-torino-2022")
        .expect("the Turin protocol is a cluster");
    assert_eq!(turin["kind"], "PROTOCOL");
    assert_eq!(turin["lead"], Value::Null);
    let signatories: BTreeSet<&str> = turin["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        signatories,
        BTreeSet::from([
            "prefettura-to",
            "ct-torino",
            "procura-torino",
            "procura-minori-torino",
            "questura-to",
            "cc-legione-piemonte",
            "gdf-piemonte",
            "iil-milano",
            "regione-piemonte",
            "anci-piemonte",
            "ires-piemonte",
        ])
    );
    assert!(clusters
        .iter()
        .any(|c| c["id"] == "trama" && c["kind"] == "RETE"));

    // The same number of statements for the whole region and for one province.
    let mut costs = Vec::new();
    for filter in [json!(null), json!({ "provinces": ["BG"] })] {
        let mut cheapest = u64::MAX;
        for _ in 0..2 {
            let before = hub.statements();
            graph(&hub, &t, filter.clone()).await;
            cheapest = cheapest.min(hub.statements() - before);
        }
        costs.push(cheapest);
    }
    assert_eq!(costs[0], costs[1], "statements: {costs:?}");
    assert!(costs[0] <= 8, "statements: {costs:?}");

    // GeoJSON: points and lines inside Italy; nodes without coordinates counted.
    let geo = hub.ok(&t, GEOJSON, json!({})).await["networkGeoJson"].clone();
    assert_eq!(geo["type"], "FeatureCollection");
    assert!(!geo.to_string().contains(SHELTER_MARK));
    let features = geo["features"].as_array().expect("features");
    let degree_of: BTreeMap<&str, i64> = nodes
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap_or_default(),
                n["degree"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let mut points = 0;
    let mut lines = 0;
    for f in features {
        assert_eq!(f["type"], "Feature");
        match f["geometry"]["type"].as_str() {
            Some("Point") => {
                points += 1;
                assert_in_italy(&f["geometry"]["coordinates"]);
                let p = &f["properties"];
                for key in ["id", "name", "kind", "province", "city", "degree"] {
                    assert!(p.get(key).is_some(), "point without {key}");
                }
                assert_eq!(
                    p["degree"].as_i64(),
                    degree_of.get(p["id"].as_str().unwrap_or_default()).copied()
                );
            }
            Some("LineString") => {
                lines += 1;
                let coordinates = f["geometry"]["coordinates"].as_array().expect("a line");
                assert_eq!(coordinates.len(), 2);
                coordinates.iter().for_each(assert_in_italy);
                for key in ["kind", "weight", "since"] {
                    assert!(f["properties"].get(key).is_some(), "line without {key}");
                }
            }
            other => panic!("unexpected geometry {other:?}"),
        }
    }
    assert!(points > 0 && lines > 0, "{points} points, {lines} lines");
    assert_eq!(
        points
            + geo["withoutCoordinates"]
                .as_u64()
                .expect("withoutCoordinates") as usize,
        nodes.len()
    );
    assert_eq!(
        lines + geo["edgesWithoutCoordinates"].as_u64().expect("count") as usize,
        edges.len()
    );
    // Agencies whose comune the sources do not give have no coordinates.
    assert!(geo["withoutCoordinates"].as_u64() > Some(0));

    // A chain through an intermediary: the first pair (by id) of agencies that do not work
    // together directly but share a partner; the chain goes through the smallest shared partner.
    let mut adjacent: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        let (a, b) = (
            e["from"].as_str().unwrap_or_default(),
            e["to"].as_str().unwrap_or_default(),
        );
        adjacent.entry(a).or_default().insert(b);
        adjacent.entry(b).or_default().insert(a);
    }
    let (a, c, b) = adjacent
        .iter()
        .flat_map(|(a, na)| {
            adjacent.iter().filter_map(move |(c, nc)| {
                (a < c && !na.contains(c))
                    .then(|| na.intersection(nc).next().map(|b| (*a, *c, *b)))
                    .flatten()
            })
        })
        .next()
        .expect("two agencies connected through an intermediary");
    let path = hub.ok(&t, PATH, json!({ "from": a, "to": c })).await["collaborationPath"].clone();
    assert_eq!(path["length"], 2);
    assert_eq!(path_ids(&path), [a, b, c]);
    assert_eq!(path["collaborations"].as_array().map(Vec::len), Some(2));
    assert!(!path.to_string().contains(SHELTER_MARK));

    hub.finish().await;
}
hub_test!(network_map_of_the_demo);

async fn collaboration(hub: &TestHub, from: &str, to: &str, kind: &str) -> String {
    let data = hub
        .ok(
            &hub.admin(),
            "mutation($f: ID!, $t: ID!, $k: String!) { createCollaboration(from: $f, to: $t, kind: $k) { id } }",
            json!({ "f": from, "t": to, "k": kind }),
        )
        .await;
    data["createCollaboration"]["id"]
        .as_str()
        .expect("collaboration id")
        .to_string()
}

async fn shortest_collaboration_path(hub: TestHub) {
    // A–B–C and A–D–E–C; F stands alone. Directions are mixed: a chain walks either way.
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "TO").await;
    let b = hub.agency("Questura B", "QUESTURA", "TO").await;
    let c = hub.agency("Prefettura C", "PREFETTURA", "TO").await;
    let d = hub.agency("Comune D", "SERVIZI_TERRITORIALI", "AT").await;
    let e = hub.agency("Procura E", "PROCURA", "AT").await;
    let f = hub.agency("CAV F", "CENTRO_ANTIVIOLENZA", "CN").await;
    let ab = collaboration(&hub, &a, &b, "PERMITS").await;
    let cb = collaboration(&hub, &c, &b, "INSTITUTIONAL").await;
    let ad = collaboration(&hub, &a, &d, "CASE_COOPERATION").await;
    let de = collaboration(&hub, &e, &d, "CASE_COOPERATION").await;
    let ec = collaboration(&hub, &e, &c, "CASE_COOPERATION").await;
    let t = hub.token(Some(&f), UserRole::Coordinator);

    let path = |from: &str, to: &str, kinds: Value| {
        let vars = json!({ "from": from, "to": to, "kinds": kinds });
        let t = t.clone();
        let hub = &hub;
        async move { hub.ok(&t, PATH, vars).await["collaborationPath"].clone() }
    };

    let p = path(&a, &c, json!(null)).await;
    assert_eq!(p["length"], 2);
    assert_eq!(path_ids(&p), [a.as_str(), b.as_str(), c.as_str()]);
    assert_eq!(ids(&p["collaborations"], "id"), [ab.as_str(), cb.as_str()]);
    // The collaboration keeps its own direction (C → B), not the chain's.
    assert_eq!(p["collaborations"][1]["from"]["id"], json!(c));
    let back = path(&c, &a, json!(null)).await;
    assert_eq!(path_ids(&back), [c.as_str(), b.as_str(), a.as_str()]);

    // Only some kinds: the longer chain.
    let p = path(&a, &c, json!(["CASE_COOPERATION"])).await;
    assert_eq!(p["length"], 3);
    assert_eq!(
        path_ids(&p),
        [a.as_str(), d.as_str(), e.as_str(), c.as_str()]
    );
    assert_eq!(
        ids(&p["collaborations"], "id"),
        [ad.as_str(), de.as_str(), ec.as_str()]
    );
    assert_eq!(path(&a, &c, json!(["TRAINING"])).await, Value::Null);

    // No chain at all; the empty chain.
    assert_eq!(path(&a, &f, json!(null)).await, Value::Null);
    let p = path(&a, &a, json!(null)).await;
    assert_eq!(p["length"], 0);
    assert_eq!(path_ids(&p), [a.as_str()]);
    assert_eq!(p["collaborations"], json!([]));

    // The map of the same graph.
    let g = graph(&hub, &t, json!({})).await;
    assert_consistent(&g);
    assert_eq!(g["nodes"].as_array().map(Vec::len), Some(6));
    assert_eq!(g["edges"].as_array().map(Vec::len), Some(5));
    let degree = |id: &str| {
        g["nodes"]
            .as_array()
            .and_then(|ns| ns.iter().find(|n| n["id"] == id))
            .map(|n| n["degree"].clone())
    };
    assert_eq!(degree(&a), Some(json!(2)));
    assert_eq!(degree(&f), Some(json!(0)));
    let to = graph(&hub, &t, json!({ "provinces": ["TO"] })).await;
    assert_eq!(ids(&to["edges"], "id"), {
        let mut v = vec![ab.clone(), cb.clone()];
        v.sort();
        v
    });
    let geo = hub.ok(&t, GEOJSON, json!({})).await["networkGeoJson"].clone();
    assert_eq!(geo["features"], json!([]), "no agency here has coordinates");
    assert_eq!(geo["withoutCoordinates"], 6);

    // A disabled agency is no node and introduces no one.
    hub.hub
        .state
        .db
        .execute_unprepared(&format!(
            "UPDATE agencies SET disabled = TRUE WHERE id = '{b}'"
        ))
        .await
        .expect("disable B");
    let p = path(&a, &c, json!(null)).await;
    assert_eq!(
        path_ids(&p),
        [a.as_str(), d.as_str(), e.as_str(), c.as_str()]
    );
    let g = graph(&hub, &t, json!({})).await;
    assert_consistent(&g);
    assert!(!ids(&g["nodes"], "id").contains(&b));
    assert_eq!(g["edges"].as_array().map(Vec::len), Some(3));
    let r = hub.gql(Some(&t), PATH, json!({ "from": b, "to": a })).await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"));

    hub.finish().await;
}
hub_test!(shortest_collaboration_path);

async fn network_map_needs_a_partner_and_good_input(hub: TestHub) {
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "BG").await;
    let t = hub.token(Some(&a), UserRole::Operator);

    // Anonymous callers get nothing of the network (ACCESS.md §8).
    for (q, vars) in [
        (GRAPH, json!({})),
        (GEOJSON, json!({})),
        (PATH, json!({ "from": a, "to": a })),
    ] {
        let r = hub.gql(None, q, vars).await;
        assert_eq!(code(&r).as_deref(), Some("UNAUTHENTICATED"), "{r}");
    }

    let field = |r: &Value| {
        r["errors"][0]["extensions"]["field"]
            .as_str()
            .map(str::to_string)
    };
    for (filter, path) in [
        (json!({ "provinces": ["ZZ"] }), "filter.provinces"),
        (json!({ "provinces": ["Bergamo"] }), "filter.provinces"),
        (json!({ "networks": ["no-such-rete"] }), "filter.networks"),
        (
            json!({ "collaborationKinds": [" "] }),
            "filter.collaborationKinds",
        ),
    ] {
        for q in [GRAPH, GEOJSON] {
            let r = hub.gql(Some(&t), q, json!({ "f": filter })).await;
            assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{filter}: {r}");
            assert_eq!(field(&r).as_deref(), Some(path), "{filter}: {r}");
        }
    }
    // An unknown agency kind is refused by the schema itself.
    let r = hub
        .gql(Some(&t), GRAPH, json!({ "f": { "kinds": ["SHELTER"] } }))
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("kinds")),
        "{r}"
    );
    // Unknown agencies in a path.
    let r = hub
        .gql(Some(&t), PATH, json!({ "from": a, "to": "nobody" }))
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"));
    assert_eq!(field(&r).as_deref(), Some("to"));
    let r = hub
        .gql(Some(&t), PATH, json!({ "from": "nobody", "to": a }))
        .await;
    assert_eq!(field(&r).as_deref(), Some("from"));

    hub.finish().await;
}
hub_test!(network_map_needs_a_partner_and_good_input);

const UPDATE_AGENCY: &str =
    "mutation($id: ID!, $i: AgencyInput!) { updateAgency(id: $id, input: $i) { id name kind city publicContact referralContact latitude longitude } }";

/// Issue 15: `updateAgency` and office coordinates. The platform admin keeps every entry; an
/// agency's own coordinators keep its public fields (never its kind or operational contact);
/// every other role and agency is refused; coordinates are both or none, within Italy.
async fn agencies_keep_their_public_fields(hub: TestHub) {
    let admin = hub.admin();
    let made = hub
        .ok(
            &admin,
            "mutation($i: AgencyInput!) { createAgency(input: $i) { id latitude longitude } }",
            json!({ "i": { "name": "Ente Uno", "kind": "ENTE_ANTITRATTA", "province": "BG", "city": "Bergamo", "referralContact": "segnalazioni@example.org", "latitude": 45.6983, "longitude": 9.6773 } }),
        )
        .await;
    let a = made["createAgency"]["id"].as_str().expect("id").to_string();
    assert_eq!(made["createAgency"]["latitude"], 45.6983);
    let b = hub.agency("Ente Due", "ENTE_ANTITRATTA", "BS").await;
    let entry = |extra: Value| {
        let mut i = json!({ "name": "Ente Uno", "kind": "ENTE_ANTITRATTA", "province": "BG", "city": "Bergamo", "publicContact": "info@example.org", "latitude": 45.69, "longitude": 9.67 });
        if let (Some(o), Some(e)) = (i.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        i
    };
    // Its coordinator keeps the public fields; the referral contact stays as it was.
    let coordinator = hub.token(Some(&a), UserRole::Coordinator);
    let done = hub
        .ok(
            &coordinator,
            UPDATE_AGENCY,
            json!({ "id": a, "i": entry(json!({})) }),
        )
        .await["updateAgency"]
        .clone();
    assert_eq!(done["publicContact"], "info@example.org", "{done}");
    assert_eq!(
        done["referralContact"], "segnalazioni@example.org",
        "{done}"
    );
    assert_eq!(
        (done["latitude"].clone(), done["longitude"].clone()),
        (json!(45.69), json!(9.67))
    );
    let graph = graph(&hub, &coordinator, json!({ "provinces": ["BG"] })).await;
    assert_eq!(graph["nodes"][0]["latitude"], 45.69, "{graph}");
    // Not its kind, nor its operational contact.
    let r = hub
        .gql(
            Some(&coordinator),
            UPDATE_AGENCY,
            json!({ "id": a, "i": entry(json!({ "kind": "CENTRO_ANTIVIOLENZA" })) }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "input.kind", "{r}");
    let r = hub
        .gql(
            Some(&coordinator),
            UPDATE_AGENCY,
            json!({ "id": a, "i": entry(json!({ "referralContact": "altro@example.org" })) }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    assert_eq!(
        r["errors"][0]["extensions"]["field"], "input.referralContact",
        "{r}"
    );
    // Nobody else: its operator and analyst, another agency's coordinator.
    for token in [
        hub.token(Some(&a), UserRole::Operator),
        hub.token(Some(&a), UserRole::Analyst),
        hub.token(Some(&b), UserRole::Coordinator),
    ] {
        let r = hub
            .gql(
                Some(&token),
                UPDATE_AGENCY,
                json!({ "id": a, "i": entry(json!({ "name": "Preso" })) }),
            )
            .await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    }
    // Bad coordinates, an unknown agency.
    for (bad, field) in [
        (
            json!({ "latitude": 52.5, "longitude": 13.4 }),
            "input.latitude",
        ),
        (
            json!({ "latitude": 45.6, "longitude": 30.0 }),
            "input.longitude",
        ),
        (
            json!({ "latitude": 45.6, "longitude": null }),
            "input.longitude",
        ),
    ] {
        let r = hub
            .gql(
                Some(&coordinator),
                UPDATE_AGENCY,
                json!({ "id": a, "i": entry(bad) }),
            )
            .await;
        assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{r}");
    }
    let r = hub
        .gql(
            Some(&admin),
            UPDATE_AGENCY,
            json!({ "id": "nessuno", "i": entry(json!({})) }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("NOT_FOUND"), "{r}");
    // The platform admin changes everything, the kind and the referral contact included.
    let done = hub
        .ok(&admin, UPDATE_AGENCY, json!({ "id": a, "i": entry(json!({ "kind": "CENTRO_ANTIVIOLENZA", "referralContact": "nuovo@example.org" })) }))
        .await["updateAgency"]
        .clone();
    assert_eq!(done["kind"], "CENTRO_ANTIVIOLENZA", "{done}");
    assert_eq!(done["referralContact"], "nuovo@example.org", "{done}");
    // Nothing of the refused attempts was written.
    assert_ne!(done["name"], "Preso");
    hub.finish().await;
}
hub_test!(agencies_keep_their_public_fields);
