//! Hostile callers: what the schema reveals through errors, the throttle, and the configurable
//! request limits, driven over HTTP on a real hub.

use raccordo_api::limits::{Introspection, Limits};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    common::{test_limits, TestHub},
    hub_test,
};

fn message(answer: &Value) -> String {
    answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Error messages never name a type or field the caller's kind can never read (a QUESTURA never
/// reads case notes: `CaseNote` stays unnamed), while a field of a hidden class still resolves
/// to `null` without an error (ACCESS.md §4), and nothing suggests names ("Did you mean").
async fn errors_never_name_what_the_caller_cannot_read(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let questura = hub.agency("Questura", "QUESTURA", "TO").await;
    hub.case(&ente, "C-1", json!({})).await;
    let q = hub.token(Some(&questura), UserRole::Operator);
    let e = hub.token(Some(&ente), UserRole::Operator);

    for query in [
        "{ cases { edges { node { notes { foo } } } } }",
        "{ cases { edges { node { notes } } } }",
        "{ cases { edges { node { code ... on CaseNote { text } } } } }",
    ] {
        let to_questura = hub.gql(Some(&q), query, json!({})).await;
        assert_eq!(
            to_questura["errors"][0]["extensions"]["code"], "VALIDATION",
            "{to_questura}"
        );
        assert!(!message(&to_questura).contains("CaseNote"), "{to_questura}");
        assert!(!to_questura.to_string().contains("Did you mean"));
        // The ente, which reads notes, is told exactly what is wrong.
        let to_ente = hub.gql(Some(&e), query, json!({})).await;
        assert!(message(&to_ente).contains("CaseNote"), "{to_ente}");
        assert!(!to_ente.to_string().contains("Did you mean"));
    }

    // A field of a class the questura never reads is null, not an error (ACCESS.md §4)...
    let ok = hub
        .gql(
            Some(&q),
            "{ cases { edges { node { code healthNotes } } } }",
            json!({}),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
    // ...and a mistake next to it is reported without naming the hidden field.
    let wrong = hub
        .gql(
            Some(&q),
            "{ cases { edges { node { healthNotes(x: 1) } } } }",
            json!({}),
        )
        .await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "VALIDATION");
    assert!(!message(&wrong).contains("healthNotes"), "{wrong}");

    // Anonymous callers learn nothing of the case types.
    let anon = hub.gql(None, "{ cases { foo } }", json!({})).await;
    assert_eq!(anon["errors"][0]["extensions"]["code"], "VALIDATION");
    assert!(!message(&anon).contains("CaseConnection"), "{anon}");
    let partner = hub.gql(Some(&q), "{ cases { foo } }", json!({})).await;
    assert!(message(&partner).contains("CaseConnection"), "{partner}");
    hub.finish().await;
}
hub_test!(errors_never_name_what_the_caller_cannot_read);

/// Introspection: never for anonymous callers, for partners unless turned off.
async fn introspection_follows_the_setting(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let query = "{ __schema { queryType { name } } }";
    let anon = hub.gql(None, query, json!({})).await;
    assert_eq!(anon["data"]["__schema"], Value::Null, "{anon}");
    let partner = hub.gql(Some(&e), query, json!({})).await;
    if hub.settings().limits.introspection == Introspection::Off {
        assert_eq!(partner["data"]["__schema"], Value::Null, "{partner}");
    } else {
        assert_eq!(partner["data"]["__schema"]["queryType"]["name"], "Query");
    }
    hub.finish().await;
}
hub_test!(introspection_follows_the_setting);

fn introspection_off_limits() -> Limits {
    Limits {
        introspection: Introspection::Off,
        ..test_limits()
    }
}
async fn introspection_can_be_turned_off(hub: TestHub) {
    introspection_follows_the_setting(hub).await;
}
hub_test!(introspection_can_be_turned_off, introspection_off_limits());

fn throttled_limits() -> Limits {
    Limits {
        per_user_per_minute: 5,
        per_agency_per_minute: 8,
        ..Limits::default()
    }
}

/// A user over its allowance gets 429 with Retry-After; other users and agencies go on; an
/// agency's users together are held to the agency's allowance.
async fn runaway_scripts_are_throttled(hub: TestHub) {
    // Creating the agencies as the platform admin uses the admin's allowance (5), not theirs.
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "TO").await;
    let b = hub.agency("Ente B", "ENTE_ANTITRATTA", "MI").await;
    let one = hub.token(Some(&a), UserRole::Operator);
    let query = "{ me { userId } }";
    for _ in 0..5 {
        let (status, answer) = hub.gql_raw(Some(&one), query, json!({})).await;
        assert_eq!(status, 200, "{answer}");
    }
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&one)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("user")));

    // Another agency is not held back.
    let other = hub.token(Some(&b), UserRole::Operator);
    let (status, _) = hub.gql_raw(Some(&other), query, json!({})).await;
    assert_eq!(status, 200);

    // A second user of agency A has its own allowance, but the agency's (8) is nearly used:
    // 5 by the first user (its refused request cost nothing), so 3 more.
    let two = hub.token(Some(&a), UserRole::Coordinator);
    for _ in 0..3 {
        let (status, answer) = hub.gql_raw(Some(&two), query, json!({})).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = hub.gql_raw(Some(&two), query, json!({})).await;
    assert_eq!(status, 429, "{answer}");
    assert!(answer["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("agency")));
    hub.finish().await;
}
hub_test!(runaway_scripts_are_throttled, throttled_limits());

fn small_limits() -> Limits {
    Limits {
        depth: 3,
        batch: 2,
        aliases: 2,
        body_bytes: 2048,
        ..test_limits()
    }
}

/// The limits are settings: a hub started with smaller ones holds to them, naming the limit.
async fn limits_are_settings(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let code = |v: &Value| v["errors"][0]["extensions"]["code"].clone();
    let message = |v: &Value| v["errors"][0]["message"].as_str().unwrap_or("").to_string();

    let deep = hub
        .gql(
            Some(&e),
            "{ cases { edges { node { owner { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&deep), "LIMIT_EXCEEDED", "{deep}");
    assert!(message(&deep).contains("depth limit (3)"), "{deep}");
    hub.ok(&e, "{ me { agency { name } } }", json!({})).await;

    let aliases = hub
        .gql(
            Some(&e),
            "{ a: me { userId } b: me { userId } c: me { userId } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&aliases), "LIMIT_EXCEEDED");
    assert!(message(&aliases).contains("aliases"), "{aliases}");

    let op = json!({ "query": "{ me { userId } }" });
    let batch = |n: usize| {
        hub.client
            .post(hub.hub.graphql_url())
            .bearer_auth(&e)
            .json(&Value::Array(vec![op.clone(); n]))
            .send()
    };
    let two: Value = batch(2).await.expect("answers").json().await.expect("json");
    assert_eq!(two.as_array().map(Vec::len), Some(2), "{two}");
    let three: Value = batch(3).await.expect("answers").json().await.expect("json");
    assert_eq!(code(&three), "LIMIT_EXCEEDED", "{three}");
    assert!(message(&three).contains("batch"), "{three}");

    let big = "x".repeat(4096);
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .json(&json!({ "query": format!("{{ me {{ userId }} }} # {big}") }))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 413);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(code(&body), "LIMIT_EXCEEDED");
    assert!(message(&body).contains("2048"), "{body}");
    hub.finish().await;
}
hub_test!(limits_are_settings, small_limits());

fn no_batching() -> Limits {
    Limits {
        batch: 0,
        ..test_limits()
    }
}

/// With batching off, a batch is refused whole and a single operation still works.
async fn batching_can_be_turned_off(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let resp: Value = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .json(&json!([{ "query": "{ me { userId } }" }]))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(
        resp["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{resp}"
    );
    hub.ok(&e, "{ me { userId } }", json!({})).await;
    hub.finish().await;
}
hub_test!(batching_can_be_turned_off, no_batching());
