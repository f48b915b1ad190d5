//! Case work as the enti do it: the pathway's phases and history, activities, closing and
//! reopening, and concurrent edits that lose nothing.

use raccordo_policies::UserRole;
use serde_json::json;

use crate::{
    common::{code, TestHub},
    hub_test,
};

const UPDATE: &str = "mutation($id: ID!, $v: Int!, $p: CasePatch!) { updateCase(id: $id, version: $v, patch: $p) { version phase alias history { from to reason } } }";

async fn pathway_and_history(hub: TestHub) {
    let a = hub.agency("Ente W", "ENTE_ANTITRATTA", "BS").await;
    let t = hub.token(Some(&a), UserRole::Operator);
    let (id, v) = hub
        .case(&a, "W-1", json!({ "phase": "PRONTO_INTERVENTO" }))
        .await;
    // Forward, skipping a phase: fine.
    let r = hub
        .ok(
            &t,
            UPDATE,
            json!({ "id": id, "v": v, "p": { "phase": "SECONDA_ACCOGLIENZA" } }),
        )
        .await;
    assert_eq!(r["updateCase"]["version"], v + 1);
    // Back without a reason: refused, nothing written.
    let back = hub
        .gql(
            Some(&t),
            UPDATE,
            json!({ "id": id, "v": v + 1, "p": { "phase": "PRIMA_ACCOGLIENZA" } }),
        )
        .await;
    assert_eq!(code(&back).as_deref(), Some("VALIDATION"));
    assert_eq!(
        back["errors"][0]["extensions"]["field"],
        "patch.phaseReason"
    );
    let r = hub.ok(&t, UPDATE, json!({ "id": id, "v": v + 1, "p": { "phase": "PRIMA_ACCOGLIENZA", "phaseReason": "ricaduta" } })).await;
    let history = r["updateCase"]["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[2],
        json!({ "from": "SECONDA_ACCOGLIENZA", "to": "PRIMA_ACCOGLIENZA", "reason": "ricaduta" })
    );
    // Activities.
    let act = hub
        .ok(&t, "mutation($c: ID!) { addActivity(caseId: $c, kind: \"internship\", detail: \"tirocinio extracurriculare\", startedOn: \"2023-03-01\") { id kind endedOn } }", json!({ "c": id }))
        .await;
    assert_eq!(act["addActivity"]["kind"], "INTERNSHIP");
    let bad = hub
        .gql(
            Some(&t),
            "mutation($c: ID!) { addActivity(caseId: $c, kind: \"KARATE\") { id } }",
            json!({ "c": id }),
        )
        .await;
    assert_eq!(code(&bad).as_deref(), Some("VALIDATION"));
    let aid = act["addActivity"]["id"].clone();
    hub.ok(
        &t,
        "mutation($a: ID!) { endActivity(id: $a, on: \"2023-05-01\") { endedOn } }",
        json!({ "a": aid }),
    )
    .await;
    let again = hub
        .gql(
            Some(&t),
            "mutation($a: ID!) { endActivity(id: $a, on: \"2023-05-02\") { endedOn } }",
            json!({ "a": aid }),
        )
        .await;
    assert_eq!(code(&again).as_deref(), Some("VALIDATION"));
    // Close, close again, reopen.
    let close = "mutation($id: ID!, $v: Int!) { closeCase(id: $id, version: $v, outcome: AUTONOMY, on: \"2023-06-30\") { version phase outcome closedOn } }";
    let c = hub.ok(&t, close, json!({ "id": id, "v": v + 2 })).await;
    assert_eq!(c["closeCase"]["phase"], "CLOSED");
    let v_closed = c["closeCase"]["version"].as_i64().unwrap();
    let twice = hub
        .gql(Some(&t), close, json!({ "id": id, "v": v_closed }))
        .await;
    assert_eq!(code(&twice).as_deref(), Some("VALIDATION"));
    let reopen = "mutation($id: ID!, $v: Int!) { reopenCase(id: $id, version: $v, phase: PRESA_IN_CARICO_TERRITORIALE, reason: \"nuova richiesta di aiuto\") { phase outcome history { to reason } } }";
    let r = hub.ok(&t, reopen, json!({ "id": id, "v": v_closed })).await;
    assert_eq!(r["reopenCase"]["phase"], "PRESA_IN_CARICO_TERRITORIALE");
    assert!(r["reopenCase"]["outcome"].is_null());
    assert_eq!(r["reopenCase"]["history"].as_array().unwrap().len(), 5);
    hub.finish().await;
}
hub_test!(pathway_and_history);

/// Fifty operators save the same version at once: exactly one wins, the others get CONFLICT
/// with the current version, and no update is lost or half-applied.
async fn concurrent_updates_lose_nothing(hub: TestHub) {
    let a = hub.agency("Ente C", "ENTE_ANTITRATTA", "CR").await;
    let (id, v) = hub.case(&a, "C-1", json!({})).await;
    let t = hub.token(Some(&a), UserRole::Operator);
    let hub = std::sync::Arc::new(hub);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (hub, t, id) = (hub.clone(), t.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            hub.gql(
                Some(&t),
                UPDATE,
                json!({ "id": id, "v": v, "p": { "alias": format!("writer {i}") } }),
            )
            .await
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let r = task.await.expect("task");
        match code(&r).as_deref() {
            None => winners.push(
                r["data"]["updateCase"]["alias"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
            Some("CONFLICT") => {
                assert_eq!(r["errors"][0]["extensions"]["currentVersion"], v + 1);
                conflicts += 1;
            }
            other => panic!("unexpected answer {other:?}: {r}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    assert_eq!(conflicts, 49);
    let now = hub
        .ok(
            &t,
            "query($id: ID!) { case(id: $id) { version alias } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(now["case"]["version"], v + 1);
    assert_eq!(
        now["case"]["alias"].as_str().unwrap_or_default(),
        winners[0]
    );
    match std::sync::Arc::try_unwrap(hub) {
        Ok(hub) => hub.finish().await,
        Err(_) => panic!("the hub is still shared"),
    }
}
hub_test!(concurrent_updates_lose_nothing);
