//! The hub as an Apollo Federation v2 subgraph: `_service`, entity look-ups through the same
//! policy path as direct queries, and malformed representations.

use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    access::{entity_view, give, view, Rel},
    common::TestHub,
    hub_test,
};

fn codes(r: &Value) -> Vec<String> {
    r["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Case { id code } ... on Agency { id name } ... on Referral { id status } } }";

/// Partners (a gateway with a partner's token) get the subgraph SDL; anonymous callers do not,
/// under whatever alias.
async fn service_sdl_is_for_partners(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let t = hub.token(Some(&ente), UserRole::Operator);
    let d = hub.ok(&t, "{ _service { sdl } }", json!({})).await;
    let sdl = d["_service"]["sdl"].as_str().expect("an SDL");
    for entity in ["Case", "Agency", "Referral"] {
        assert!(
            sdl.contains(&format!("type {entity} @key(fields: \"id\")")),
            "{entity} is an entity"
        );
    }
    assert!(
        sdl.contains("specs.apollo.dev/federation/v2"),
        "federation v2"
    );
    for q in ["{ _service { sdl } }", "{ s: _service { sdl } }"] {
        let anon = hub.gql(None, q, json!({})).await;
        let key = if q.contains("s:") { "s" } else { "_service" };
        assert_eq!(anon["data"][key], Value::Null, "{anon}");
    }
    hub.finish().await;
}
hub_test!(service_sdl_is_for_partners);

/// Entity look-ups answer as `case(id:)`, `agency(id:)`, `referral(id:)` do, for the holder, a
/// partner with a share, and an agency with no relationship (null, as an id never used).
async fn entities_answer_as_direct_queries(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let questura = hub.agency("Questura", "QUESTURA", "TO").await;
    let stranger = hub.agency("Altro ente", "ENTE_ANTITRATTA", "MI").await;
    let commissione = hub
        .agency("Commissione", "COMMISSIONE_TERRITORIALE", "TO")
        .await;
    let (case, _) = hub.case(&ente, "F-1", json!({ "alias": "Joy" })).await;
    give(&hub, &ente, &case, Rel::Permit, &questura).await;
    let c = hub.token(Some(&commissione), UserRole::Operator);
    let referral = hub
        .ok(
            &c,
            "mutation($i: ReferralInput!) { createReferral(input: $i) { id } }",
            json!({ "i": { "target": ente, "receivedOn": "2023-03-01", "province": "TO", "subjectRef": "R-1", "subjectGender": "FEMALE", "subjectNationality": "NG" } }),
        )
        .await["createReferral"]["id"]
        .as_str()
        .expect("a referral id")
        .to_string();

    for agency in [&ente, &questura, &stranger, &commissione] {
        for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
            let t = hub.token(Some(agency), role);
            // Every field of the case, as the access matrix asks it.
            let direct = view(&hub, &t, &case).await;
            let entity = entity_view(&hub, &t, &case).await;
            assert_eq!(
                direct["data"]["case"], entity["data"]["_entities"][0],
                "{agency} {role:?}: {direct} vs {entity}"
            );
            assert_eq!(codes(&direct), codes(&entity));
            // The agency and the referral.
            let direct = hub
                .gql(
                    Some(&t),
                    "query($a: ID!, $r: ID!) { agency(id: $a) { id name } referral(id: $r) { id status } }",
                    json!({ "a": ente, "r": referral }),
                )
                .await;
            let entity = hub
                .gql(
                    Some(&t),
                    ENTITIES,
                    json!({ "r": [
                        { "__typename": "Agency", "id": ente },
                        { "__typename": "Referral", "id": referral },
                    ] }),
                )
                .await;
            let list = &entity["data"]["_entities"];
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove("__typename");
                }
                v
            };
            assert_eq!(direct["data"]["agency"], strip(&list[0]), "{entity}");
            assert_eq!(direct["data"]["referral"], strip(&list[1]), "{entity}");
        }
    }
    // The stranger sees nothing of the case: exactly as for an id never used.
    let t = hub.token(Some(&stranger), UserRole::Coordinator);
    let hidden = entity_view(&hub, &t, &case).await;
    let never = entity_view(&hub, &t, "00000000-0000-0000-0000-000000000000").await;
    assert_eq!(hidden, never);
    assert_eq!(hidden["data"]["_entities"][0], Value::Null, "{hidden}");
    hub.finish().await;
}
hub_test!(entities_answer_as_direct_queries);

/// Many representations cost the statements of one batch: for cases and for referrals.
async fn entity_look_ups_are_batched(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let commissione = hub
        .agency("Commissione", "COMMISSIONE_TERRITORIALE", "TO")
        .await;
    let c = hub.token(Some(&commissione), UserRole::Operator);
    let mut cases = Vec::new();
    let mut referrals = Vec::new();
    for i in 0..30 {
        cases.push(hub.case(&ente, &format!("B-{i}"), json!({})).await.0);
        let d = hub
            .ok(
                &c,
                "mutation($i: ReferralInput!) { createReferral(input: $i) { id } }",
                json!({ "i": { "target": ente, "receivedOn": "2023-03-01", "province": "TO", "subjectRef": format!("R-{i}"), "subjectGender": "FEMALE", "subjectNationality": "NG" } }),
            )
            .await;
        referrals.push(
            d["createReferral"]["id"]
                .as_str()
                .expect("a referral id")
                .to_string(),
        );
    }
    let t = hub.token(Some(&ente), UserRole::Operator);
    let reps = |typename: &str, ids: &[String], n: usize| -> Value {
        ids.iter()
            .take(n)
            .map(|id| json!({ "__typename": typename, "id": id }))
            .collect()
    };
    for (typename, ids) in [("Case", &cases), ("Referral", &referrals)] {
        let mut cost = Vec::new();
        for n in [3, 30] {
            let before = hub.statements();
            let d = hub
                .ok(&t, ENTITIES, json!({ "r": reps(typename, ids, n) }))
                .await;
            cost.push(hub.statements() - before);
            let list = d["_entities"].as_array().expect("a list of entities");
            assert_eq!(list.len(), n);
            assert_eq!(list[n - 1]["id"], ids[n - 1].as_str(), "in the order asked");
            assert!(
                list.iter()
                    .all(|e| e["__typename"] == typename && !e["id"].is_null()),
                "{d}"
            );
        }
        eprintln!("statements for 3 and 30 {typename} entities: {cost:?}");
        assert_eq!(
            cost[0], cost[1],
            "{typename}: statements must not grow with the representations"
        );
    }
    hub.finish().await;
}
hub_test!(entity_look_ups_are_batched);

/// Malformed representations are the caller's mistake (VALIDATION) or over a limit
/// (LIMIT_EXCEEDED): never a panic, never part of an answer.
async fn malformed_representations(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let (case, _) = hub.case(&ente, "M-1", json!({})).await;
    let t = hub.token(Some(&ente), UserRole::Operator);
    let good = json!({ "__typename": "Case", "id": case });
    let bad: [(&str, Value); 5] = [
        ("missing id", json!({ "__typename": "Case" })),
        (
            "unknown type",
            json!({ "__typename": "Shelter", "id": case }),
        ),
        ("no type", json!({ "id": case })),
        ("not an object", json!("Case")),
        (
            "id of the wrong type",
            json!({ "__typename": "Case", "id": { "x": 1 } }),
        ),
    ];
    for (what, rep) in bad {
        let r = hub
            .gql(Some(&t), ENTITIES, json!({ "r": [good.clone(), rep] }))
            .await;
        assert_eq!(codes(&r), vec!["VALIDATION"], "{what}: {r}");
        // The valid representation beside it is not answered on its own: nothing partial.
        assert!(
            !r.to_string().contains("M-1"),
            "{what}: no partial answer: {r}"
        );
    }
    let many: Vec<Value> = (0..10_000).map(|_| good.clone()).collect();
    let r = hub.gql(Some(&t), ENTITIES, json!({ "r": many })).await;
    assert_eq!(codes(&r), vec!["LIMIT_EXCEEDED"], "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("list items")));
    // Anonymous callers are refused as for `case(id:)`.
    let anon = hub.gql(None, ENTITIES, json!({ "r": [good] })).await;
    assert_eq!(codes(&anon), vec!["UNAUTHENTICATED"], "{anon}");
    hub.finish().await;
}
hub_test!(malformed_representations);
