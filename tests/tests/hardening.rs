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

/// Anonymous callers learn nothing of the schema beyond the public directory: a name they may not
/// use and a name that does not exist get the same answer, whatever its place in the document.
async fn anonymous_callers_learn_no_names(hub: TestHub) {
    let same = |real: &str, made_up: &str, query: &'static str| {
        (query, real.to_string(), made_up.to_string())
    };
    let pairs = [
        // A root field that needs a partner, and one that does not exist.
        same("cases", "casez", "{ cases { totalCount } }"),
        same("networkGeoJson", "networkGeoJsoz", "{ networkGeoJson }"),
        // A partner-only field of the directory's agencies.
        same(
            "referralContact",
            "referralContaxt",
            "{ directory { name referralContact } }",
        ),
        same("notes", "notez", "{ directory { notes } }"),
        // A type outside the directory, in a fragment and in a variable.
        same(
            "CaseNote",
            "CaseNotz",
            "{ directory { ... on CaseNote { text } } }",
        ),
        same(
            "CaseFilter",
            "CaseFiltez",
            "query($f: CaseFilter) { directory { name } }",
        ),
        // Mutations, existing or not.
        same("createCase", "createCasz", "mutation { createCase { id } }"),
        same("__typename", "__typenamz", "mutation { __typename }"),
    ];
    for (query, real, made_up) in pairs {
        let a = hub.gql(None, query, json!({})).await;
        let b = hub
            .gql(None, &query.replace(&real, &made_up), json!({}))
            .await;
        assert_eq!(
            a.to_string().replace(&real, &made_up),
            b.to_string(),
            "{query}: a name outside the directory answers as a made-up one"
        );
        assert!(a.get("errors").is_some(), "{query}: {a}");
        assert!(!a.to_string().contains("Did you mean"));
    }
    // The directory itself works, and a partner is told what is wrong in its own words.
    let d = hub
        .gql(None, "{ directory { name kind province } }", json!({}))
        .await;
    assert!(d.get("errors").is_none(), "{d}");
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let t = hub.token(Some(&ente), UserRole::Operator);
    let partner = hub.gql(Some(&t), "{ cases { foo } }", json!({})).await;
    assert!(message(&partner).contains("CaseConnection"), "{partner}");
    assert!(!partner.to_string().contains("Did you mean"));
    // A partner's field of a hidden class is null, not an error (ACCESS.md §4).
    let q = hub.agency("Questura", "QUESTURA", "TO").await;
    let q = hub.token(Some(&q), UserRole::Operator);
    hub.case(&ente, "C-1", json!({})).await;
    let r = hub
        .gql(
            Some(&q),
            "{ cases { edges { node { code healthNotes } } } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    hub.finish().await;
}
hub_test!(anonymous_callers_learn_no_names);

/// A partner's errors never name a type or field its agency's kind can never read (a questura
/// reads no case notes, health or locations), while the fields themselves stay valid and `null`
/// (ACCESS.md §4), and an agency that can read them is told the engine's own words.
async fn partners_errors_name_only_what_they_may_read(hub: TestHub) {
    let questura = hub.agency("Questura", "QUESTURA", "TO").await;
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let (case, _) = hub.case(&ente, "C-1", json!({})).await;
    let q = hub.token(Some(&questura), UserRole::Coordinator);
    let e = hub.token(Some(&ente), UserRole::Coordinator);
    let vars = json!({ "id": case });
    let hidden = ["CaseNote", "healthNotes", "notes"];
    let probes = [
        // The engine would name the list's type: `[CaseNote!]!`.
        "query($id: ID!) { case(id: $id) { notes } }",
        "query($id: ID!) { case(id: $id) { notes { bogus } } }",
        "query($id: ID!) { case(id: $id) { ... on CaseNote { text } } }",
        "query($id: ID!) { case(id: $id) { healthNotes(x: 1) } }",
    ];
    for probe in probes {
        let a = hub.gql(Some(&q), probe, vars.clone()).await;
        assert_eq!(
            a["errors"][0]["extensions"]["code"], "VALIDATION",
            "{probe}: {a}"
        );
        for name in hidden {
            assert!(
                !message(&a).contains(name),
                "{probe}: the questura is told {name}: {a}"
            );
        }
        assert!(
            a["errors"][0]["locations"].is_array(),
            "{probe}: it is told where: {a}"
        );
        // The ente, which reads all of them, gets the engine's words.
        let b = hub.gql(Some(&e), probe, vars.clone()).await;
        assert_eq!(
            b["errors"][0]["extensions"]["code"], "VALIDATION",
            "{probe}: {b}"
        );
        assert_ne!(message(&a), message(&b), "{probe}");
    }
    // The fields stay valid: `null` for the questura (it has no relationship with the case: the
    // case itself is null), whole for the owner.
    let ok =
        "query($id: ID!) { case(id: $id) { code healthNotes notes { text author { name } } } }";
    let a = hub.gql(Some(&q), ok, vars.clone()).await;
    assert!(a.get("errors").is_none(), "{a}");
    let b = hub.gql(Some(&e), ok, vars).await;
    assert!(b.get("errors").is_none(), "{b}");
    assert_eq!(b["data"]["case"]["code"], "C-1");
    hub.finish().await;
}
hub_test!(partners_errors_name_only_what_they_may_read);

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL and client generators send it.
const STANDARD_INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }";

/// Introspection: never for anonymous callers, for partners unless turned off.
async fn introspection_follows_the_setting(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "TO").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let query = "{ __schema { queryType { name } } }";
    let anon = hub.gql(None, query, json!({})).await;
    assert_eq!(anon["data"]["__schema"], Value::Null, "{anon}");
    let partner = hub.gql(Some(&e), query, json!({})).await;
    // The standard introspection query (GraphiQL's, nine `ofType` deep) nests past the data
    // depth limit; it is allowed its depth, while a data query of that depth is not.
    let full = hub.gql(Some(&e), STANDARD_INTROSPECTION, json!({})).await;
    if hub.settings().limits.introspection == Introspection::Off {
        assert_eq!(partner["data"]["__schema"], Value::Null, "{partner}");
        assert_eq!(full["data"]["__schema"], Value::Null);
    } else {
        assert_eq!(partner["data"]["__schema"]["queryType"]["name"], "Query");
        assert!(full.get("errors").is_none(), "{full}");
        assert!(full["data"]["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 50));
    }
    let deep_data = hub
        .gql(
            Some(&e),
            "{ __typename cases { edges { node { owner { id } project { coordinator { id } } } } } me { agency { id } } }",
            json!({}),
        )
        .await;
    assert!(deep_data.get("errors").is_none(), "{deep_data}");
    let too_deep = format!(
        "{{ __schema {{ types {{ name }} }} cases {{ {} }} }}",
        "edges { node { owner { id } } }"
    );
    let mixed = hub.gql(Some(&e), &too_deep, json!({})).await;
    assert!(mixed.get("errors").is_none(), "{mixed}");
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

/// A gateway's `x-request-id` is kept, so one id follows a query across subgraphs and logs; an id
/// that is not a plain token is replaced by the hub's own.
async fn request_ids_follow_the_gateway(hub: TestHub) {
    let ask = |id: &'static str| {
        hub.client
            .post(hub.hub.graphql_url())
            .header("x-request-id", id)
            .json(&json!({ "query": "{ directory { name } }" }))
            .send()
    };
    let kept = ask("gw-7f3a.2").await.expect("answers");
    assert_eq!(kept.headers()["x-request-id"], "gw-7f3a.2");
    let replaced = ask("not an id; <script>").await.expect("answers");
    let own = replaced.headers()["x-request-id"].to_str().unwrap_or("");
    assert!(uuid::Uuid::parse_str(own).is_ok(), "{own}");
    let fresh = hub
        .client
        .post(hub.hub.graphql_url())
        .json(&json!({ "query": "{ directory { name } }" }))
        .send()
        .await
        .expect("answers");
    assert!(fresh.headers().get("x-request-id").is_some());
    hub.finish().await;
}
hub_test!(request_ids_follow_the_gateway);
