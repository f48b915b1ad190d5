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

/// Asserts that `resp` is the throttle's refusal (429, `Retry-After` in seconds, LIMIT_EXCEEDED);
/// returns its body.
async fn throttled(resp: reqwest::Response) -> Value {
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
    body
}

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
    let body = throttled(resp).await;
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

/// Sends a batch of operations; returns the HTTP status and the JSON answer.
async fn batch(hub: &TestHub, token: &str, operations: Vec<Value>) -> (u16, Value) {
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(token)
        .json(&Value::Array(operations))
        .send()
        .await
        .expect("the hub answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON answer"))
}

/// `count` representations of the agency's own cases, its ids repeated.
fn representations(cases: &[String], count: usize) -> Value {
    Value::Array(
        (0..count)
            .map(|i| json!({ "__typename": "Case", "id": cases[i % cases.len()] }))
            .collect(),
    )
}

/// Issue 19, item 1: the complexity of a request counts every list (representations, nested lists,
/// aliases, every operation of a batch) and the representations of a whole request are capped.
/// Each of these requests was answered in full before, costing what one look-up costs.
async fn every_list_of_a_request_is_counted(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let mut cases = Vec::new();
    for i in 0..3 {
        cases.push(hub.case(&ente, &format!("C-{i}"), json!({})).await.0);
    }
    let limited = |v: &Value, what: &str| {
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
            "{what}: {v}"
        );
        assert!(message(v).contains(what), "{what}: {v}");
        assert!(v.get("data").is_none_or(Value::is_null), "{what}: {v}");
    };
    // A gateway's look-up of a few entities is fine.
    let small =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id code } } }";
    let ok = hub
        .gql(Some(&e), small, json!({ "r": representations(&cases, 3) }))
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
    // 1,000 representations (the list limit) of every field with its nested lists: the
    // representations multiply the selection.
    let every_field = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id code phase openedOn closedOn version gender ageGroup nationality exploitation notes { id text writtenAt author { id name } } activities { id kind startedOn } access { relationships visibleClasses } owner { id name } } } }";
    let wide = hub
        .gql(
            Some(&e),
            every_field,
            json!({ "r": representations(&cases, 1000) }),
        )
        .await;
    limited(&wide, "complexity");
    // Aliases reusing one variable: each use counts, against the request's representation cap.
    let aliased = "query($r: [_Any!]!) { a: _entities(representations: $r) { ... on Case { id } } b: _entities(representations: $r) { ... on Case { id } } }";
    let vars = json!({ "r": representations(&cases, 600) });
    limited(
        &hub.gql(Some(&e), aliased, vars.clone()).await,
        "representations",
    );
    // Operations of a batch add up: two of 600 are over the cap, one is not.
    let single = json!({ "query": small, "variables": { "r": representations(&cases, 600) } });
    let (_, one) = batch(&hub, &e, vec![single.clone()]).await;
    assert!(one[0].get("errors").is_none(), "{one}");
    let (_, two) = batch(&hub, &e, vec![single.clone(), single]).await;
    limited(&two, "representations");
    // A page of cases with nested lists, within the limit alone, over it ten times in a batch.
    let page = json!({ "query": "{ cases(first: 100) { edges { node { id code notes { text author { name } } activities { kind } history { to } } } } }" });
    let (_, alone) = batch(&hub, &e, vec![page.clone()]).await;
    assert!(alone[0].get("errors").is_none(), "{alone}");
    let (_, ten) = batch(&hub, &e, vec![page; 10]).await;
    limited(&ten, "complexity");
    hub.finish().await;
}
hub_test!(every_list_of_a_request_is_counted);

fn small_answers() -> Limits {
    Limits {
        response_bytes: 20_000,
        ..test_limits()
    }
}

/// Issue 19, item 1: one answer budget for a whole request. An answer over it is refused whole,
/// whether one operation or the operations of a batch together build it, and nothing of it is sent.
async fn one_answer_budget_per_request(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let long = "x".repeat(400);
    for i in 0..20 {
        hub.case(&ente, &format!("C-{i}"), json!({ "alias": long }))
            .await;
    }
    // About 8 KB: within the budget.
    let query = "{ cases(first: 20) { edges { node { id code alias } } } }";
    let one = hub.gql(Some(&e), query, json!({})).await;
    assert!(one.get("errors").is_none(), "{one}");
    // Three aliases of it in one operation: about 25 KB.
    let aliased = "{ a: cases(first: 20) { edges { node { id code alias } } } b: cases(first: 20) { edges { node { id code alias } } } c: cases(first: 20) { edges { node { id code alias } } } }";
    let (status, big) = hub.gql_raw(Some(&e), aliased, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        big["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{big}"
    );
    assert!(message(&big).contains("response size"), "{big}");
    assert!(
        !big.to_string().contains(&long),
        "nothing of the answer is sent"
    );
    // Three operations of one batch, each within the budget alone.
    let op = json!({ "query": query });
    let (_, three) = batch(&hub, &e, vec![op.clone(), op.clone(), op]).await;
    assert_eq!(
        three["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{three}"
    );
    assert!(!three.to_string().contains(&long));
    // The hub goes on answering.
    let again = hub.gql(Some(&e), query, json!({})).await;
    assert!(again.get("errors").is_none(), "{again}");
    hub.finish().await;
}
hub_test!(one_answer_budget_per_request, small_answers());

/// Issue 19, item 5: answers with case data are never stored, and no page of the hub can be
/// framed by another site, whatever the route or the outcome.
async fn answers_are_not_stored_and_pages_not_framed(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    hub.case(&ente, "C-1", json!({ "legalName": "Nome Cognome" }))
        .await;
    let data = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .json(&json!({ "query": "{ cases { edges { node { code legalName } } } }" }))
        .send()
        .await
        .expect("answers");
    let refused = hub
        .client
        .post(hub.hub.graphql_url())
        .json(&json!({ "query": "{ cases { totalCount } }" }))
        .send()
        .await
        .expect("answers");
    let by_get = hub
        .client
        .get(hub.hub.graphql_url())
        .bearer_auth(&e)
        .query(&[("query", "{ cases { edges { node { code } } } }")])
        .send()
        .await
        .expect("answers");
    for resp in [&data, &refused, &by_get] {
        let h = resp.headers();
        assert_eq!(h["cache-control"], "no-store", "{h:?}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{h:?}");
        assert!(h["content-security-policy"]
            .to_str()
            .is_ok_and(|p| p.contains("frame-ancestors 'none'")));
    }
    let page = hub
        .client
        .get(hub.hub.graphql_url())
        .header("accept", "text/html")
        .send()
        .await
        .expect("the GraphiQL page");
    let h = page.headers();
    assert!(h["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/html")));
    assert_eq!(h["x-frame-options"], "DENY", "{h:?}");
    let csp = h["content-security-policy"].to_str().unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert_eq!(h["cache-control"], "no-store");
    hub.finish().await;
}
hub_test!(answers_are_not_stored_and_pages_not_framed);

fn cost_budget() -> Limits {
    Limits {
        cost_per_user_per_minute: 5_000,
        ..test_limits()
    }
}

/// Issue 12, item 3: the throttle charges what a request asks for. Every operation of a batch and
/// every root field (aliases included) pays its cost, `first` multiplies, statistics weigh more;
/// the answer says what was spent and what is left; over the budget it is 429 with Retry-After.
async fn the_throttle_charges_by_cost(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let me = hub.gql(Some(&e), "{ me { userId } }", json!({})).await;
    assert!(me.get("errors").is_none(), "{me}");
    assert_eq!(me["extensions"]["cost"]["spent"], 2, "{me}");
    assert_eq!(me["extensions"]["cost"]["userLeft"], 4_998, "{me}");
    // 10 operations × 20 aliased statistics fields: 200 answers for one request, once charged
    // as one request.
    let fields: String = (0..20)
        .map(|i| format!("s{i}: caseStatistics(groupBy: [PROVINCE]) {{ count }} "))
        .collect();
    let op = json!({ "query": format!("{{ {fields} }}") });
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .json(&Value::Array(vec![op; 10]))
        .send()
        .await
        .expect("answers");
    let body = throttled(resp).await;
    assert!(message(&body).contains("costs"), "{body}");
    // Aliased pages: `first` multiplies. Three fit in the budget, the fourth does not.
    let pages: String = (0..5)
        .map(|i| format!("p{i}: cases(first: 100) {{ edges {{ node {{ id }} }} }} "))
        .collect();
    let pages = format!("{{ {pages} }}");
    let mut left = Vec::new();
    for _ in 0..3 {
        let (status, r) = hub.gql_raw(Some(&e), &pages, json!({})).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["extensions"]["cost"]["spent"], 5 * 301, "{r}");
        left.push(r["extensions"]["cost"]["userLeft"].as_u64().unwrap_or(0));
    }
    assert!(left.windows(2).all(|w| w[1] < w[0]), "{left:?}");
    let (status, r) = hub.gql_raw(Some(&e), &pages, json!({})).await;
    assert_eq!(status, 429, "{r}");
    assert_eq!(r["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    hub.finish().await;
}
hub_test!(the_throttle_charges_by_cost, cost_budget());

/// Issue 19, item 1: one deadline for the whole HTTP request, not one per operation. Past it the
/// request is answered with one `LIMIT_EXCEEDED`, nothing of what was built is sent, and the
/// batch's mutation is rolled back. (A second hub on the same database holds a 1 ms deadline, so
/// that this does not hang on the machine's speed; one per operation would answer a list.)
async fn one_deadline_per_request(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    for i in 0..5 {
        hub.case(&ente, &format!("C-{i}"), json!({})).await;
    }
    let strict = raccordo_api::start(
        hub.hub.state.clone(),
        "127.0.0.1:0",
        &Limits {
            timeout: std::time::Duration::from_millis(1),
            ..test_limits()
        },
    )
    .await
    .expect("a second hub starts");
    let page =
        json!({ "query": "{ cases(first: 100) { edges { node { id code notes { text } } } } }" });
    let create = json!({
        "query": "mutation($i: CaseInput!) { createCase(input: $i) { id } }",
        "variables": { "i": { "code": "LATE-1", "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10" } },
    });
    let resp = hub
        .client
        .post(strict.graphql_url())
        .bearer_auth(&e)
        .json(&json!([page, create, page]))
        .send()
        .await
        .expect("the hub answers");
    let body: Value = resp.json().await.expect("a JSON answer");
    assert!(body.is_object(), "one answer for the whole request: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{body}"
    );
    assert!(message(&body).contains("1 ms limit"), "{body}");
    assert!(!body.to_string().contains("C-0"), "nothing of it is sent");
    strict.stop().await;
    // Nothing of the batch was written, and the hub with its usual deadline goes on.
    let codes = hub
        .ok(
            &e,
            "{ cases(first: 100) { edges { node { code } } } }",
            json!({}),
        )
        .await;
    assert!(!codes.to_string().contains("LATE-1"), "{codes}");
    assert!(codes.to_string().contains("C-4"), "{codes}");
    hub.finish().await;
}
hub_test!(one_deadline_per_request);

fn small_cost_budget() -> Limits {
    Limits {
        cost_per_user_per_minute: 1_000,
        ..test_limits()
    }
}

/// Issue 19, item 1: a caller refused with `Retry-After` that comes back sooner and is refused
/// again is turned away at the door until then, before its body is even parsed (a hostile script
/// ignoring `Retry-After` made the hub parse its largest bodies without pause). A caller that asks
/// for less after one refusal is served; its colleagues are never held back.
async fn callers_ignoring_retry_after_meet_the_door(hub: TestHub) {
    let ente = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let e = hub.token(Some(&ente), UserRole::Operator);
    let colleague = hub.token(Some(&ente), UserRole::Coordinator);
    // Three aliased pages of 100 cost 903 of the minute's 1,000.
    let dear = "{ a: cases(first: 100) { edges { node { id } } } b: cases(first: 100) { edges { node { id } } } c: cases(first: 100) { edges { node { id } } } }";
    let cheap = "{ me { userId } }";
    let (status, first) = hub.gql_raw(Some(&e), dear, json!({})).await;
    assert_eq!(status, 200, "{first}");
    let (status, refused) = hub.gql_raw(Some(&e), dear, json!({})).await;
    assert_eq!(status, 429, "{refused}");
    // One refusal: asking for less that fits is served.
    let (status, less) = hub.gql_raw(Some(&e), cheap, json!({})).await;
    assert_eq!(status, 200, "{less}");
    // Refused again before the time it was told: now even what would fit is turned away, and so
    // is a body that is not JSON at all (the door stands before the parser: a 400 without it).
    let (status, again) = hub.gql_raw(Some(&e), dear, json!({})).await;
    assert_eq!(status, 429, "{again}");
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .json(&json!({ "query": cheap }))
        .send()
        .await
        .expect("answers");
    let body = throttled(resp).await;
    assert!(message(&body).contains("try again in"), "{body}");
    let resp = hub
        .client
        .post(hub.hub.graphql_url())
        .bearer_auth(&e)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .expect("answers");
    throttled(resp).await;
    // Its colleague goes on.
    let (status, other) = hub.gql_raw(Some(&colleague), cheap, json!({})).await;
    assert_eq!(status, 200, "{other}");
    hub.finish().await;
}
hub_test!(
    callers_ignoring_retry_after_meet_the_door,
    small_cost_budget()
);
