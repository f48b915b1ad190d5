//! The running hub: HTTP, tokens, the owner-only minimum, pagination, validation, one
//! transaction per mutation, and the DataLoader statement bound.

use raccordo_policies::UserRole;
use serde_json::json;

use crate::{
    common::{code, TestHub},
    hub_test,
};

async fn http_and_health(hub: TestHub) {
    let base = format!("http://{}", hub.hub.addr);
    let c = &hub.client;
    assert_eq!(
        c.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Malformed body: 400.
    let r = c
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Not JSON at all: 415.
    let r = c
        .post(format!("{base}/graphql"))
        .header("content-type", "text/plain")
        .body("{ directory { id } }")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // GraphQL-over-HTTP media type and status for an unexecutable document.
    let r = c
        .post(format!("{base}/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ directory { nosuchfield } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["content-type"],
        "application/graphql-response+json"
    );
    assert!(r.headers().get("x-request-id").is_some());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&body).as_deref(), Some("VALIDATION"));
    assert!(!body.to_string().contains("Did you mean"));
    // GET: queries yes, mutations never.
    let r = c
        .get(format!("{base}/graphql"))
        .query(&[("query", "{ directory { name } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{base}/graphql"))
        .query(&[("query", "mutation { createShelter(name: \"x\") { id } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    // Over 1 MiB: 413 with a GraphQL error.
    let big = json!({ "query": format!("{{ directory {{ name }} }} #{}", "x".repeat(1_100_000)) });
    let r = c
        .post(format!("{base}/graphql"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&body).as_deref(), Some("LIMIT_EXCEEDED"));
    // A browser gets GraphiQL.
    let r = c
        .get(format!("{base}/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().to_lowercase().contains("graphiql"));
    hub.finish().await;
}
hub_test!(http_and_health);

async fn anonymous_and_tokens(hub: TestHub) {
    let ente = hub.agency("Ente Uno", "ENTE_ANTITRATTA", "BG").await;
    let anon = hub
        .gql(
            None,
            "{ directory(province: \"BG\") { id name } }",
            json!({}),
        )
        .await;
    assert_eq!(anon["data"]["directory"][0]["name"], "Ente Uno");
    // Operational fields are for partners only: to an anonymous caller they do not exist.
    let operational = hub
        .gql(
            None,
            "{ directory(province: \"BG\") { id name referralContact } }",
            json!({}),
        )
        .await;
    assert_eq!(
        code(&operational).as_deref(),
        Some("VALIDATION"),
        "{operational}"
    );
    assert!(operational["data"].is_null());
    for q in [
        "{ me { userId } }",
        "{ cases { totalCount } }",
        "{ networks { id } }",
        "{ agency(id: \"x\") { id } }",
    ] {
        assert_eq!(
            code(&hub.gql(None, q, json!({})).await).as_deref(),
            Some("UNAUTHENTICATED"),
            "{q}"
        );
    }
    let intro = hub
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        intro["data"]["__schema"].is_null(),
        "no introspection for strangers: {intro}"
    );
    assert!(!intro.to_string().contains("Case"));
    let partner = hub.token(Some(&ente), UserRole::Operator);
    let schema = hub
        .ok(&partner, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(schema["__schema"]["queryType"]["name"], "Query");
    let me = hub
        .ok(
            &partner,
            "{ me { userId role agency { id kind referralContact } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["agency"]["kind"], "ENTE_ANTITRATTA");
    assert_eq!(
        me["me"]["agency"]["referralContact"],
        "referrals@example.org"
    );
    // Bad tokens, unknown agencies, wrong audience.
    assert_eq!(
        code(
            &hub.gql(Some("not-a-jwt"), "{ me { userId } }", json!({}))
                .await
        )
        .as_deref(),
        Some("UNAUTHENTICATED")
    );
    let unknown = hub.token(Some("no-such-agency"), UserRole::Operator);
    assert_eq!(
        code(
            &hub.gql(Some(&unknown), "{ me { userId } }", json!({}))
                .await
        )
        .as_deref(),
        Some("UNAUTHENTICATED")
    );
    let mut other = hub.settings().tokens.clone();
    other.jwt_audience = "another-hub".into();
    let wrong_aud =
        raccordo_api::auth::mint(&other, "u", Some(&ente), UserRole::Operator, 60).unwrap();
    assert_eq!(
        code(
            &hub.gql(Some(&wrong_aud), "{ me { userId } }", json!({}))
                .await
        )
        .as_deref(),
        Some("UNAUTHENTICATED")
    );
    hub.finish().await;
}
hub_test!(anonymous_and_tokens);

const CASE_FIELDS: &str = "id code phase version owner { id } nationality alias shelter { address } access { relationships visibleClasses }";

async fn cases_are_the_owners(hub: TestHub) {
    let a = hub.agency("Ente A", "ENTE_ANTITRATTA", "BG").await;
    let b = hub.agency("Ente B", "ENTE_ANTITRATTA", "BS").await;
    let (id, _) = hub
        .case(
            &a,
            "A-001",
            json!({ "nationality": "NG", "alias": "Persona 1" }),
        )
        .await;
    let owner = hub.token(Some(&a), UserRole::Operator);
    let q = format!("query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}");
    let seen = hub.ok(&owner, &q, json!({ "id": id })).await;
    assert_eq!(seen["case"]["nationality"], "NG");
    assert_eq!(seen["case"]["access"]["relationships"], json!(["OWNER"]));
    let stranger = hub.token(Some(&b), UserRole::Operator);
    let hidden = hub.gql(Some(&stranger), &q, json!({ "id": id })).await;
    let never = hub
        .gql(
            Some(&stranger),
            &q,
            json!({ "id": "00000000-0000-0000-0000-000000000000" }),
        )
        .await;
    assert_eq!(
        hidden, never,
        "a hidden case answers exactly like an id never used"
    );
    assert!(hidden["data"]["case"].is_null());
    let list = hub
        .ok(
            &stranger,
            "{ cases { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["cases"]["totalCount"], 0);
    hub.finish().await;
}
hub_test!(cases_are_the_owners);

async fn pagination(hub: TestHub) {
    let a = hub.agency("Ente P", "ENTE_ANTITRATTA", "LC").await;
    for i in 0..7 {
        hub.case(&a, &format!("P-{i:03}"), json!({})).await;
    }
    let t = hub.token(Some(&a), UserRole::Operator);
    let q = "query($after: String) { cases(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { code } } } }";
    let mut after = serde_json::Value::Null;
    let mut seen = Vec::new();
    loop {
        let page = hub.ok(&t, q, json!({ "after": after })).await;
        assert_eq!(page["cases"]["totalCount"], 7);
        for e in page["cases"]["edges"].as_array().unwrap() {
            seen.push(e["node"]["code"].as_str().unwrap().to_string());
        }
        if !page["cases"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["cases"]["pageInfo"]["endCursor"].clone();
    }
    seen.sort();
    assert_eq!(seen.len(), 7);
    seen.dedup();
    assert_eq!(seen.len(), 7, "no case twice across pages");
    let bad = hub
        .gql(
            Some(&t),
            "{ cases(after: \"garbage\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad).as_deref(), Some("VALIDATION"));
    let capped = hub
        .ok(&t, "{ cases(first: 500) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(capped["cases"]["edges"].as_array().unwrap().len(), 7);
    hub.finish().await;
}
hub_test!(pagination);

async fn bad_input_writes_nothing(hub: TestHub) {
    let a = hub.agency("Ente V", "ENTE_ANTITRATTA", "PV").await;
    let t = hub.token(Some(&a), UserRole::Operator);
    let create = "mutation($i: CaseInput!) { createCase(input: $i) { id } }";
    let base = json!({ "code": "V-1", "phase": "PRONTO_INTERVENTO", "openedOn": "2023-02-01" });
    let with = |k: &str, v: serde_json::Value| {
        let mut i = base.clone();
        i[k] = v;
        json!({ "i": i })
    };
    let cases = [
        (with("nationality", json!("XX")), "input.nationality"),
        (with("openedOn", json!("2999-01-01")), "input.openedOn"),
        (
            with("accompanyingMinors", json!(-1)),
            "input.accompanyingMinors",
        ),
        (
            with("healthNotes", json!("x".repeat(10_001))),
            "input.healthNotes",
        ),
        (
            with("shelterId", json!("no-such-shelter")),
            "input.shelterId",
        ),
        (
            with("projectId", json!("no-such-project")),
            "input.projectId",
        ),
    ];
    for (vars, field) in cases {
        let r = hub.gql(Some(&t), create, vars).await;
        assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{field}: {r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], field);
    }
    let r = hub
        .gql(Some(&t), create, with("phase", json!("NOT_A_PHASE")))
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"));
    hub.ok(&t, create, json!({ "i": base })).await;
    let dup = hub.gql(Some(&t), create, json!({ "i": base })).await;
    assert_eq!(dup["errors"][0]["extensions"]["field"], "input.code");
    let list = hub.ok(&t, "{ cases { totalCount } }", json!({})).await;
    assert_eq!(
        list["cases"]["totalCount"], 1,
        "failed mutations wrote nothing"
    );
    // Stale version: CONFLICT with the current version, nothing written.
    let id = hub
        .ok(&t, "{ cases { edges { node { id version } } } }", json!({}))
        .await["cases"]["edges"][0]["node"]["id"]
        .clone();
    let upd = "mutation($id: ID!, $v: Int!) { updateCase(id: $id, version: $v, patch: { alias: \"A\" }) { version alias } }";
    let ok = hub.ok(&t, upd, json!({ "id": id, "v": 1 })).await;
    assert_eq!(ok["updateCase"]["version"], 2);
    let stale = hub.gql(Some(&t), upd, json!({ "id": id, "v": 1 })).await;
    assert_eq!(code(&stale).as_deref(), Some("CONFLICT"));
    assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 2);
    hub.finish().await;
}
hub_test!(bad_input_writes_nothing);

/// A page of N cases with owner, notes, activities and more costs the same number of SQL
/// statements whatever N is: every relation goes through a DataLoader.
async fn statements_do_not_grow_with_the_page(hub: TestHub) {
    let a = hub.agency("Ente S", "ENTE_ANTITRATTA", "MN").await;
    let t = hub.token(Some(&a), UserRole::Operator);
    let q = "{ cases(first: 100) { totalCount edges { node { id code owner { name } project { name } exploitation notes { text author { name } } activities { kind } history { to } shelter { name } access { relationships } } } } }";
    let mut costs = Vec::new();
    let mut made = 0;
    for n in [3, 12] {
        while made < n {
            let (id, _) = hub
                .case(
                    &a,
                    &format!("S-{made:03}"),
                    json!({ "exploitation": ["LABOUR"] }),
                )
                .await;
            hub.ok(
                &t,
                "mutation($c: ID!) { addCaseNote(caseId: $c, text: \"visita\") { id } }",
                json!({ "c": id }),
            )
            .await;
            made += 1;
        }
        // The page primes its relations in one batch each, so the count is exact, not a best case.
        let before = hub.statements();
        let page = hub.ok(&t, q, json!({})).await;
        costs.push(hub.statements() - before);
        assert_eq!(page["cases"]["edges"].as_array().unwrap().len(), n);
        assert_eq!(
            page["cases"]["edges"][0]["node"]["notes"][0]["text"],
            "visita"
        );
    }
    eprintln!("statements for a page of 3 and of 12 cases: {costs:?}");
    assert_eq!(
        costs[0], costs[1],
        "statements for 3 and 12 cases: {costs:?}"
    );
    hub.finish().await;
}
hub_test!(statements_do_not_grow_with_the_page);

/// Shelters (ACCESS.md §8): partners get counts per province, suppressed; only the owner sees
/// its shelters and their addresses.
async fn shelters_are_counts_for_partners(hub: TestHub) {
    let cav = hub.agency("CAV S", "CENTRO_ANTIVIOLENZA", "LO").await;
    let ente = hub.agency("Ente S", "ENTE_ANTITRATTA", "BG").await;
    let other = hub.agency("Prefettura S", "PREFETTURA", "BG").await;
    let mk = "mutation($n: String!, $p: String!) { createShelter(name: $n, address: \"Via Segreta 1\", city: \"X\", province: $p) { id address } }";
    let ente_t = hub.token(Some(&ente), UserRole::Coordinator);
    let shelters = [
        ("A", "BG"),
        ("B", "BG"),
        ("C", "BG"),
        ("D", "BG"),
        ("E", "LO"),
        ("F", "MN"),
        ("G", "MN"),
        ("H", "MN"),
    ];
    for (n, p) in shelters {
        hub.ok(&ente_t, mk, json!({ "n": n, "p": p })).await;
    }
    // A CAV is not a case holder in the default protocol: it cannot register shelters here.
    let refused = hub
        .gql(
            Some(&hub.token(Some(&cav), UserRole::Coordinator)),
            mk,
            json!({ "n": "Z", "p": "LO" }),
        )
        .await;
    assert_eq!(code(&refused).as_deref(), Some("FORBIDDEN"));
    let counts = hub
        .ok(
            &hub.token(Some(&other), UserRole::Analyst),
            "{ shelterCounts { keys count suppressed } }",
            json!({}),
        )
        .await;
    // LO (1) is below k = 3; MN (3), the smallest other cell, is hidden too so that LO cannot
    // be worked out from a total.
    assert_eq!(
        counts["shelterCounts"],
        json!([
            { "keys": ["BG"], "count": 4, "suppressed": false },
            { "keys": ["LO"], "count": null, "suppressed": true },
            { "keys": ["MN"], "count": null, "suppressed": true }
        ])
    );
    assert!(!counts.to_string().contains("Segreta"));
    let anon = hub
        .gql(None, "{ shelterCounts { count } }", json!({}))
        .await;
    assert_eq!(code(&anon).as_deref(), Some("UNAUTHENTICATED"));
    let own = hub
        .ok(&ente_t, "{ myShelters { name address } }", json!({}))
        .await;
    assert_eq!(own["myShelters"].as_array().unwrap().len(), 8);
    let theirs = hub
        .ok(
            &hub.token(Some(&other), UserRole::Coordinator),
            "{ myShelters { name } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs["myShelters"], json!([]));
    hub.finish().await;
}
hub_test!(shelters_are_counts_for_partners);

/// Requests over the limits answer LIMIT_EXCEEDED before any resolver runs (ACCESS.md §10).
async fn limits_are_enforced(hub: TestHub) {
    let a = hub.agency("Ente L", "ENTE_ANTITRATTA", "BG").await;
    let t = hub.token(Some(&a), UserRole::Operator);
    // Introspection may nest to 20 (GraphiQL's query needs 14): this one nests to 25.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(20),
        "} ".repeat(20)
    );
    let deep = deep.as_str();
    let r = hub.gql(Some(&t), deep, json!({})).await;
    assert_eq!(code(&r).as_deref(), Some("LIMIT_EXCEEDED"), "{r}");
    let aliases: String = (0..31).map(|i| format!("a{i}: userId ")).collect();
    let r = hub
        .gql(Some(&t), &format!("{{ me {{ {aliases} }} }}"), json!({}))
        .await;
    assert_eq!(code(&r).as_deref(), Some("LIMIT_EXCEEDED"));
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("aliases"));
    let roots: String = (0..21).map(|i| format!("r{i}: me {{ userId }} ")).collect();
    let r = hub
        .gql(Some(&t), &format!("{{ {roots} }}"), json!({}))
        .await;
    assert_eq!(code(&r).as_deref(), Some("LIMIT_EXCEEDED"));
    let huge: String = (0..6000).map(|_| "userId ").collect();
    let r = hub
        .gql(Some(&t), &format!("{{ me {{ {huge} }} }}"), json!({}))
        .await;
    assert_eq!(code(&r).as_deref(), Some("LIMIT_EXCEEDED"));
    let complex = "{ cases(first: 100) { edges { node { notes { author { name } } activities { kind } history { to } owner { name } } } } }";
    assert!(
        hub.gql(Some(&t), complex, json!({}))
            .await
            .get("errors")
            .is_none(),
        "a full page is within the limits"
    );
    hub.finish().await;
}
hub_test!(limits_are_enforced);

/// Answers follow the order of the selection set (GraphQL spec, "Serialized Map Ordering"), even
/// where fields wait on the database and finish in another order.
async fn answers_follow_the_selection_order(hub: TestHub) {
    let ente = hub.agency("Ente Ordine", "ENTE_ANTITRATTA", "BG").await;
    let (id, _) = hub.case(&ente, "ORD-1", json!({})).await;
    let t = hub.token(Some(&ente), UserRole::Operator);
    let query = "query($id: ID!) { case(id: $id) { owner { name id } id history { to } access { relationships } code o2: owner { id } } }";
    for _ in 0..5 {
        let text = hub
            .client
            .post(hub.hub.graphql_url())
            .bearer_auth(&t)
            .json(&json!({ "query": query, "variables": { "id": id } }))
            .send()
            .await
            .expect("answers")
            .text()
            .await
            .expect("a body");
        let at = |key: &str| {
            text.find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} in {text}"))
        };
        let order = [
            at("owner"),
            at("id"),
            at("history"),
            at("access"),
            at("code"),
            at("o2"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
    hub.finish().await;
}
hub_test!(answers_follow_the_selection_order);
