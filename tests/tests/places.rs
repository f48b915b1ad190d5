//! Shelter places, vacancies and emergency placement requests (issue 18, ACCESS.md §8), over
//! HTTP on SQLite and PostgreSQL: the flow of the issue's "Done when", bad input, races for the
//! last places, and attackers trying to learn a shelter's identity or address.

use raccordo_api::demo::seed_demo;
use raccordo_policies::UserRole;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

const SECRET_NAME: &str = "Casa Segreta Alfa";
const SECRET_ADDRESS: &str = "Via Nascosta 7";

const REQUEST_FIELDS: &str = "id requester { id name } people minors takes kind urgency province contact status overdue version acceptedBy { id name } acceptedContact offers { id ente { id name } places contact status } steps { event agency { id } }";

/// The network of a scenario.
struct Net {
    ente_a: String,
    ente_b: String,
    ente_bs: String,
    questura: String,
    prefettura: String,
    numero_verde: String,
    cav: String,
    procura: String,
    servizi: String,
    commissione: String,
}

async fn network(hub: &TestHub) -> Net {
    Net {
        ente_a: hub.agency("Ente A", "ENTE_ANTITRATTA", "BG").await,
        ente_b: hub.agency("Ente B", "ENTE_ANTITRATTA", "BG").await,
        ente_bs: hub.agency("Ente BS", "ENTE_ANTITRATTA", "BS").await,
        questura: hub.agency("Questura BG", "QUESTURA", "BG").await,
        prefettura: hub.agency("Prefettura BG", "PREFETTURA", "BG").await,
        numero_verde: hub.agency("Numero Verde", "NUMERO_VERDE", "VE").await,
        cav: hub.agency("CAV BG", "CENTRO_ANTIVIOLENZA", "BG").await,
        procura: hub.agency("Procura BG", "PROCURA", "BG").await,
        servizi: hub.agency("Servizi BG", "SERVIZI_TERRITORIALI", "BG").await,
        commissione: hub
            .agency("CT Brescia", "COMMISSIONE_TERRITORIALE", "BS")
            .await,
    }
}

fn op(hub: &TestHub, agency: &str) -> String {
    hub.token(Some(agency), UserRole::Operator)
}

async fn shelter(hub: &TestHub, ente: &str, name: &str, address: &str, province: &str) -> String {
    let d = hub
        .ok(
            &op(hub, ente),
            "mutation($n: String!, $a: String, $p: String) { createShelter(name: $n, address: $a, city: \"Città\", province: $p) { id } }",
            json!({ "n": name, "a": address, "p": province }),
        )
        .await;
    d["createShelter"]["id"]
        .as_str()
        .expect("shelter id")
        .to_string()
}

const SET_PLACES: &str = "mutation($s: ID!, $i: ShelterPlacesInput!, $v: Int) { setShelterPlaces(shelterId: $s, input: $i, version: $v) { shelter { id name address } kind takes capacity occupancy unavailable unavailableReason onOffer vacancies version } }";

async fn set_places(hub: &TestHub, ente: &str, shelter: &str, input: Value) -> Value {
    hub.gql(
        Some(&op(hub, ente)),
        SET_PLACES,
        json!({ "s": shelter, "i": input }),
    )
    .await
}

async fn places_of(hub: &TestHub, ente: &str) -> Vec<Value> {
    hub.ok(
        &op(hub, ente),
        "{ shelterPlaces { shelter { id name address } kind takes capacity occupancy unavailable onOffer vacancies version } }",
        json!({}),
    )
    .await["shelterPlaces"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn vacancies_of_shelter(hub: &TestHub, ente: &str, shelter: &str) -> i64 {
    places_of(hub, ente)
        .await
        .iter()
        .find(|p| p["shelter"]["id"] == shelter)
        .and_then(|p| p["vacancies"].as_i64())
        .expect("the shelter's vacancies")
}

const REQUEST: &str =
    "mutation($i: PlacementRequestInput!) { requestPlacement(input: $i) { id status version } }";

async fn ask(hub: &TestHub, agency: &str, input: Value) -> Value {
    hub.gql(Some(&op(hub, agency)), REQUEST, json!({ "i": input }))
        .await
}

fn mother_and_child_bg() -> Value {
    json!({
        "people": 2, "minors": 1, "takes": "MOTHERS_WITH_CHILDREN", "kind": "PRONTO_INTERVENTO",
        "urgency": "IMMEDIATE", "province": "BG", "contact": "Ufficio immigrazione 035 000"
    })
}

fn women_bg(people: i64) -> Value {
    json!({
        "people": people, "takes": "WOMEN", "kind": "PRIMA_ACCOGLIENZA",
        "urgency": "WITHIN_24_HOURS", "province": "BG", "contact": "Questura 035 111"
    })
}

async fn ask_ok(hub: &TestHub, agency: &str, input: Value) -> String {
    let r = ask(hub, agency, input).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["requestPlacement"]["id"]
        .as_str()
        .expect("request id")
        .to_string()
}

const OFFER: &str = "mutation($r: ID!, $s: ID!, $c: String!) { offerPlacement(requestId: $r, shelterId: $s, contact: $c) { id status offers { id status places contact } } }";

async fn offer(hub: &TestHub, ente: &str, request: &str, shelter: &str) -> Value {
    hub.gql(
        Some(&op(hub, ente)),
        OFFER,
        json!({ "r": request, "s": shelter, "c": "Reperibilità ente 333 000" }),
    )
    .await
}

async fn offer_id(hub: &TestHub, ente: &str, request: &str, shelter: &str) -> String {
    let r = offer(hub, ente, request, shelter).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["offerPlacement"]["offers"][0]["id"]
        .as_str()
        .expect("offer id")
        .to_string()
}

const ACCEPT: &str = "mutation($o: ID!) { acceptPlacementOffer(offerId: $o) { id status acceptedBy { id name } acceptedContact offers { id status ente { id } } } }";

async fn request_as(hub: &TestHub, token: &str, id: &str) -> Value {
    let q = format!("query($id: ID!) {{ placementRequest(id: $id) {{ {REQUEST_FIELDS} }} }}");
    let r = hub.gql(Some(token), &q, json!({ "id": id })).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["placementRequest"].clone()
}

async fn mailbox(hub: &TestHub, token: &str, which: &str) -> Vec<Value> {
    let q = format!("{{ placementRequests(mailbox: {which}) {{ {REQUEST_FIELDS} }} }}");
    hub.ok(token, &q, json!({})).await["placementRequests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

/// No answer to anyone but the owner names the shelter, its address or its id.
fn assert_no_shelter(answer: &Value, shelter_ids: &[&str]) {
    let text = answer.to_string();
    for secret in [SECRET_NAME, SECRET_ADDRESS, "Segreta", "Nascosta"]
        .into_iter()
        .chain(shelter_ids.iter().copied())
    {
        assert!(
            !text.contains(secret),
            "an answer to a partner names {secret:?}: {text}"
        );
    }
}

async fn place_case(hub: &TestHub, ente: &str, code: &str, shelter: &str, minors: i64) -> String {
    hub.case(
        ente,
        code,
        json!({ "shelterId": shelter, "accompanyingMinors": minors, "gender": "FEMALE" }),
    )
    .await
    .0
}

async fn operations(hub: &TestHub) -> Vec<String> {
    let db = &hub.hub.state.db;
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT operation FROM access_log ORDER BY seq",
        ))
        .await
        .expect("read the access log");
    rows.iter()
        .map(|r| r.try_get::<String>("", "operation").expect("operation"))
        .collect()
}

async fn events(hub: &TestHub, request: &str) -> Vec<String> {
    let db = &hub.hub.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT event FROM placement_events WHERE request_id = $1 ORDER BY at, id"
        }
        _ => "SELECT event FROM placement_events WHERE request_id = ? ORDER BY at, id",
    };
    let rows = db
        .query_all(Statement::from_sql_and_values(
            backend,
            sql,
            [request.into()],
        ))
        .await
        .expect("read the steps");
    rows.iter()
        .map(|r| r.try_get::<String>("", "event").expect("event"))
        .collect()
}

fn field(r: &Value) -> Option<&str> {
    r["errors"][0]["extensions"]["field"].as_str()
}

// ------------------------------------------------------------------------------------------------

/// The issue's "Done when": a questura asks for two emergency places for a mother with a child
/// in BG, an ente with such a vacancy offers, the questura accepts; the questura never sees a
/// shelter's name or address, and the vacancy count falls.
async fn a_questura_gets_two_emergency_places_for_a_mother_and_child(hub: TestHub) {
    let n = network(&hub).await;
    let s = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let r = set_places(
        &hub,
        &n.ente_a,
        &s,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "MOTHERS_WITH_CHILDREN", "capacity": 5 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    // A mother with one child already lives there: occupancy 2, counted from the case.
    place_case(&hub, &n.ente_a, "A-1", &s, 1).await;
    // A closed case does not count.
    let (closed, v) = hub
        .case(
            &n.ente_a,
            "A-2",
            json!({ "shelterId": s, "gender": "FEMALE" }),
        )
        .await;
    hub.ok(
        &op(&hub, &n.ente_a),
        "mutation($id: ID!, $v: Int!) { closeCase(id: $id, version: $v, outcome: AUTONOMY, on: \"2023-02-01\") { id } }",
        json!({ "id": closed, "v": v }),
    )
    .await;
    let own = places_of(&hub, &n.ente_a).await;
    assert_eq!(own[0]["occupancy"], 2, "{own:?}");
    assert_eq!(own[0]["vacancies"], 3, "{own:?}");
    assert_eq!(
        own[0]["shelter"]["address"], SECRET_ADDRESS,
        "the owner sees its own in full"
    );

    let questura = op(&hub, &n.questura);
    let req = ask_ok(&hub, &n.questura, mother_and_child_bg()).await;

    // The ente with the vacancy sees the request in its inbox; the one without does not.
    let inbox = mailbox(&hub, &op(&hub, &n.ente_a), "INBOX").await;
    assert_eq!(ids(&inbox), vec![req.clone()]);
    assert_eq!(inbox[0]["requester"]["id"], n.questura);
    assert!(mailbox(&hub, &op(&hub, &n.ente_b), "INBOX")
        .await
        .is_empty());

    let offered = offer(&hub, &n.ente_a, &req, &s).await;
    assert!(offered.get("errors").is_none(), "{offered}");
    let offer_id = offered["data"]["offerPlacement"]["offers"][0]["id"]
        .as_str()
        .expect("offer")
        .to_string();
    // The offer holds the places.
    assert_eq!(vacancies_of_shelter(&hub, &n.ente_a, &s).await, 1);

    // The questura sees the offer: the ente and its contact, never the shelter.
    let seen = request_as(&hub, &questura, &req).await;
    assert_eq!(seen["offers"][0]["ente"]["id"], n.ente_a);
    assert_eq!(seen["offers"][0]["contact"], "Reperibilità ente 333 000");
    assert_eq!(seen["offers"][0]["places"], 2);
    assert_no_shelter(&seen, &[&s]);

    let accepted = hub
        .gql(Some(&questura), ACCEPT, json!({ "o": offer_id }))
        .await;
    assert!(accepted.get("errors").is_none(), "{accepted}");
    let a = &accepted["data"]["acceptPlacementOffer"];
    assert_eq!(a["status"], "ACCEPTED");
    assert_eq!(a["acceptedBy"]["id"], n.ente_a);
    assert_eq!(a["acceptedContact"], "Reperibilità ente 333 000");
    assert_no_shelter(&accepted, &[&s]);
    for list in ["SENT", "OVERDUE"] {
        assert_no_shelter(&json!(mailbox(&hub, &questura, list).await), &[&s]);
    }

    // The vacancy count fell (3 before the request, 1 once the two places are taken).
    assert_eq!(vacancies_of_shelter(&hub, &n.ente_a, &s).await, 1);
    let own = places_of(&hub, &n.ente_a).await;
    assert_eq!(own[0]["onOffer"], 2);

    // The person arrives: the ente places the case and records it; the held places are freed
    // and occupancy counts the case instead, so the vacancies stay where they are.
    place_case(&hub, &n.ente_a, "A-3", &s, 1).await;
    let done = hub
        .gql(
            Some(&op(&hub, &n.ente_a)),
            "mutation($r: ID!) { completePlacement(requestId: $r) { status } }",
            json!({ "r": req }),
        )
        .await;
    assert_eq!(
        done["data"]["completePlacement"]["status"], "PLACED",
        "{done}"
    );
    let own = places_of(&hub, &n.ente_a).await;
    assert_eq!(
        (own[0]["occupancy"].as_i64(), own[0]["onOffer"].as_i64()),
        (Some(4), Some(0))
    );
    assert_eq!(own[0]["vacancies"], 1);

    // Every step recorded and logged.
    assert_eq!(
        events(&hub, &req).await,
        vec!["REQUESTED", "OFFERED", "ACCEPTED", "PLACED"]
    );
    let ops = operations(&hub).await;
    for o in [
        "setShelterPlaces",
        "requestPlacement",
        "offerPlacement",
        "acceptPlacementOffer",
        "completePlacement",
    ] {
        assert!(ops.iter().any(|x| x == o), "{o} not logged: {ops:?}");
    }
    let steps = request_as(&hub, &questura, &req).await["steps"].clone();
    assert_eq!(steps.as_array().map(Vec::len), Some(4), "{steps}");

    // Statistics: exact for the requester's own requests, nothing of anyone else's, no shelter.
    let today = chrono::Utc::now().date_naive();
    let period = json!({ "f": (today - chrono::Duration::days(1)).to_string(), "t": (today + chrono::Duration::days(1)).to_string() });
    let stats = "query($f: Date!, $t: Date!) { placementStatistics(from: $f, to: $t) { province requests places offers accepted unmet medianHoursToPlacement } }";
    let own = hub.ok(&questura, stats, period.clone()).await;
    let row = &own["placementStatistics"][0];
    assert_eq!(
        (
            row["province"].clone(),
            row["requests"].clone(),
            row["places"].clone(),
            row["offers"].clone(),
            row["accepted"].clone(),
            row["unmet"].clone()
        ),
        (
            json!("BG"),
            json!(1),
            json!(2),
            json!(1),
            json!(1),
            json!(0)
        ),
        "{own}"
    );
    assert!(row["medianHoursToPlacement"].as_f64().is_some(), "{own}");
    assert_no_shelter(&own, &[&s]);
    let others = hub
        .ok(&op(&hub, &n.prefettura), stats, period.clone())
        .await;
    assert_eq!(
        others["placementStatistics"],
        json!([]),
        "another agency counts none of the questura's"
    );
    let r = hub
        .gql(Some(&op(&hub, &n.procura)), stats, period.clone())
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    let r = hub
        .gql(
            Some(&questura),
            "query($f: Date!, $t: Date!) { placementStatistics(from: $f, to: $t, scope: NETWORK) { requests } }",
            period,
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
    assert_eq!(field(&r), Some("scope"));
    hub.finish().await;
}
hub_test!(a_questura_gets_two_emergency_places_for_a_mother_and_child);

/// Bad input: VALIDATION or CONFLICT with the input path.
async fn bad_input_names_its_field(hub: TestHub) {
    let n = network(&hub).await;
    let s = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let ok = json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 3 });
    assert!(set_places(&hub, &n.ente_a, &s, ok.clone())
        .await
        .get("errors")
        .is_none());
    place_case(&hub, &n.ente_a, "B-1", &s, 0).await;
    place_case(&hub, &n.ente_a, "B-2", &s, 0).await;

    let cases = [
        (
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 1 }),
            "input.capacity",
        ),
        (
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": -1 }),
            "input.capacity",
        ),
        (
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 3, "unavailable": -1 }),
            "input.unavailable",
        ),
        (
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 3, "unavailable": 2, "unavailableReason": "lavori" }),
            "input.unavailable",
        ),
        (
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 3, "unavailable": 1 }),
            "input.unavailableReason",
        ),
    ];
    for (input, path) in cases {
        let r = set_places(&hub, &n.ente_a, &s, input.clone()).await;
        assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{input} {r}");
        assert_eq!(field(&r), Some(path), "{input} {r}");
    }
    // A stale version is CONFLICT.
    let r = hub
        .gql(
            Some(&op(&hub, &n.ente_a)),
            SET_PLACES,
            json!({ "s": s, "i": ok, "v": 7 }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("CONFLICT"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["currentVersion"], 1, "{r}");
    // One place unavailable, with a reason, is fine.
    let r = set_places(
        &hub,
        &n.ente_a,
        &s,
        json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 3, "unavailable": 1, "unavailableReason": "lavori" }),
    )
    .await;
    assert_eq!(r["data"]["setShelterPlaces"]["vacancies"], 0, "{r}");

    // Requests.
    let mut zero = women_bg(0);
    let requests = [
        (zero.clone(), "input.people"),
        (women_bg(-2), "input.people"),
        (
            {
                zero["people"] = json!(2);
                zero["minors"] = json!(3);
                zero
            },
            "input.minors",
        ),
        (
            json!({ "people": 2, "minors": 0, "takes": "MOTHERS_WITH_CHILDREN", "urgency": "IMMEDIATE", "province": "BG", "contact": "x" }),
            "input.minors",
        ),
        (
            json!({ "people": 2, "takes": "WOMEN", "urgency": "IMMEDIATE", "province": "ZZ", "contact": "x" }),
            "input.province",
        ),
        (
            json!({ "people": 2, "takes": "WOMEN", "urgency": "IMMEDIATE", "province": "BG", "contact": "  " }),
            "input.contact",
        ),
    ];
    for (input, path) in requests {
        let r = ask(&hub, &n.questura, input.clone()).await;
        assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{input} {r}");
        assert_eq!(field(&r), Some(path), "{input} {r}");
    }

    // Offers on a closed request, and a second acceptance.
    let a = shelter(&hub, &n.ente_a, "Casa A2", "Via A2", "BG").await;
    let b = shelter(&hub, &n.ente_b, "Casa B2", "Via B2", "BG").await;
    let c = shelter(&hub, &n.ente_b, "Casa C2", "Via C2", "BG").await;
    for (ente, sh) in [(&n.ente_a, &a), (&n.ente_b, &b)] {
        let r = set_places(
            &hub,
            ente,
            sh,
            json!({ "kind": "PRONTO_INTERVENTO", "takes": "WOMEN", "capacity": 4 }),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    let r = set_places(
        &hub,
        &n.ente_b,
        &c,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "MEN", "capacity": 4 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let req = ask_ok(
        &hub,
        &n.questura,
        json!({ "people": 1, "takes": "WOMEN", "urgency": "IMMEDIATE", "province": "BG", "contact": "q" }),
    )
    .await;
    // A shelter that does not take the group.
    let wrong = offer(&hub, &n.ente_b, &req, &c).await;
    assert_eq!(code(&wrong).as_deref(), Some("VALIDATION"), "{wrong}");
    assert_eq!(field(&wrong), Some("shelterId"));
    let oa = offer_id(&hub, &n.ente_a, &req, &a).await;
    // Offering twice on one request.
    let twice = offer(&hub, &n.ente_a, &req, &a).await;
    assert_eq!(code(&twice).as_deref(), Some("CONFLICT"), "{twice}");
    assert_eq!(field(&twice), Some("requestId"));
    let ob = offer_id(&hub, &n.ente_b, &req, &b).await;
    let questura = op(&hub, &n.questura);
    let first = hub.gql(Some(&questura), ACCEPT, json!({ "o": oa })).await;
    assert!(first.get("errors").is_none(), "{first}");
    // The other offer was told: declined.
    let offers = first["data"]["acceptPlacementOffer"]["offers"].clone();
    let status_of = |id: &str| {
        offers
            .as_array()
            .and_then(|l| l.iter().find(|o| o["id"] == id))
            .map(|o| o["status"].clone())
    };
    assert_eq!(status_of(&ob), Some(json!("DECLINED")), "{offers}");
    assert_eq!(status_of(&oa), Some(json!("ACCEPTED")), "{offers}");
    let b_sees = request_as(&hub, &op(&hub, &n.ente_b), &req).await;
    // Offers do not move the request's version: an ente cannot count the others' offers.
    assert_eq!(b_sees["version"], 2, "{b_sees}");
    assert_eq!(b_sees["offers"][0]["status"], "DECLINED", "{b_sees}");
    assert_eq!(
        b_sees["offers"].as_array().map(Vec::len),
        Some(1),
        "only its own offer"
    );
    assert_eq!(
        vacancies_of_shelter(&hub, &n.ente_b, &b).await,
        4,
        "the declined places are free again"
    );
    let second = hub.gql(Some(&questura), ACCEPT, json!({ "o": ob })).await;
    assert_eq!(code(&second).as_deref(), Some("CONFLICT"), "{second}");
    assert_eq!(field(&second), Some("offerId"));
    let again = hub.gql(Some(&questura), ACCEPT, json!({ "o": oa })).await;
    assert_eq!(code(&again).as_deref(), Some("CONFLICT"), "{again}");
    // An offer on the closed request.
    let late_shelter = shelter(&hub, &n.ente_bs, "Casa BS", "Via BS", "BG").await;
    let r = set_places(
        &hub,
        &n.ente_bs,
        &late_shelter,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "WOMEN", "capacity": 2 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let late = offer(&hub, &n.ente_bs, &req, &late_shelter).await;
    assert_eq!(code(&late).as_deref(), Some("CONFLICT"), "{late}");
    assert_eq!(field(&late), Some("requestId"));
    // Withdrawing a request that was withdrawn is CONFLICT too.
    let req2 = ask_ok(&hub, &n.questura, women_bg(1)).await;
    let w = "mutation($id: ID!) { withdrawPlacementRequest(id: $id) { status } }";
    let r = hub.gql(Some(&questura), w, json!({ "id": req2 })).await;
    assert_eq!(
        r["data"]["withdrawPlacementRequest"]["status"], "WITHDRAWN",
        "{r}"
    );
    let r = hub.gql(Some(&questura), w, json!({ "id": req2 })).await;
    assert_eq!(code(&r).as_deref(), Some("CONFLICT"), "{r}");
    hub.finish().await;
}
hub_test!(bad_input_names_its_field);

/// Concurrent offers for the last places of a shelter: exactly one wins, the others are
/// CONFLICT, and the places held are exactly the winner's. Concurrent acceptances of two offers
/// on one request: exactly one wins.
async fn races_for_the_last_places_have_one_winner(hub: TestHub) {
    let n = network(&hub).await;
    let s = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let r = set_places(
        &hub,
        &n.ente_a,
        &s,
        json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 2 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let mut requests = Vec::new();
    for _ in 0..6 {
        requests.push(ask_ok(&hub, &n.questura, women_bg(2)).await);
    }
    let token = op(&hub, &n.ente_a);
    let sends = requests.iter().map(|req| {
        hub.gql(
            Some(&token),
            OFFER,
            json!({ "r": req, "s": s, "c": "ente" }),
        )
    });
    let answers = futures_join(sends.collect()).await;
    let won = answers.iter().filter(|a| a.get("errors").is_none()).count();
    let conflicts = answers
        .iter()
        .filter(|a| code(a).as_deref() == Some("CONFLICT"))
        .count();
    assert_eq!((won, conflicts), (1, 5), "{answers:?}");
    for a in answers.iter().filter(|a| a.get("errors").is_some()) {
        assert_eq!(field(a), Some("shelterId"), "{a}");
    }
    let own = places_of(&hub, &n.ente_a).await;
    assert_eq!(
        (own[0]["onOffer"].as_i64(), own[0]["vacancies"].as_i64()),
        (Some(2), Some(0))
    );

    // Two offers on one request, accepted at the same time.
    let sa = shelter(&hub, &n.ente_a, "Casa X", "Via X", "BG").await;
    let sb = shelter(&hub, &n.ente_b, "Casa Y", "Via Y", "BG").await;
    for (ente, sh) in [(&n.ente_a, &sa), (&n.ente_b, &sb)] {
        let r = set_places(
            &hub,
            ente,
            sh,
            json!({ "kind": "PRONTO_INTERVENTO", "takes": "WOMEN", "capacity": 3 }),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    for round in 0..3 {
        let req = ask_ok(
            &hub,
            &n.questura,
            json!({ "people": 1, "takes": "WOMEN", "kind": "PRONTO_INTERVENTO", "urgency": "IMMEDIATE", "province": "BG", "contact": "q" }),
        )
        .await;
        let oa = offer_id(&hub, &n.ente_a, &req, &sa).await;
        let ob = offer_id(&hub, &n.ente_b, &req, &sb).await;
        let questura = op(&hub, &n.questura);
        let answers = futures_join(vec![
            hub.gql(Some(&questura), ACCEPT, json!({ "o": oa })),
            hub.gql(Some(&questura), ACCEPT, json!({ "o": ob })),
        ])
        .await;
        let won = answers.iter().filter(|a| a.get("errors").is_none()).count();
        assert_eq!(won, 1, "round {round}: {answers:?}");
        let lost = answers
            .iter()
            .find(|a| a.get("errors").is_some())
            .expect("a loser");
        assert_eq!(code(lost).as_deref(), Some("CONFLICT"), "{lost}");
        let seen = request_as(&hub, &questura, &req).await;
        let statuses: Vec<&str> = seen["offers"]
            .as_array()
            .expect("offers")
            .iter()
            .filter_map(|o| o["status"].as_str())
            .collect();
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec!["ACCEPTED", "DECLINED"], "{seen}");
    }
    // Each round left one accepted place held, in one of the two shelters.
    let held: i64 = places_of(&hub, &n.ente_a)
        .await
        .iter()
        .chain(places_of(&hub, &n.ente_b).await.iter())
        .filter(|p| p["shelter"]["id"] == sa || p["shelter"]["id"] == sb)
        .filter_map(|p| p["onOffer"].as_i64())
        .sum();
    assert_eq!(held, 3);
    hub.finish().await;
}
hub_test!(races_for_the_last_places_have_one_winner);

async fn futures_join<F: std::future::Future<Output = Value>>(calls: Vec<F>) -> Vec<Value> {
    // Every request is in flight before any answer is read.
    futures::future::join_all(calls).await
}

const VACANCIES: &str = "{ vacancies { province kind takes count suppressed } }";

fn cell<'a>(cells: &'a Value, province: &str, kind: &str, takes: &str) -> &'a Value {
    cells
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|c| c["province"] == province && c["kind"] == kind && c["takes"] == takes)
        })
        .expect("every cell is there")
}

/// Attackers: can any partner learn a shelter's identity or address from vacancies, offers,
/// the inbox, federation look-ups, batching or aliases?
async fn partners_never_learn_a_shelter(hub: TestHub) {
    let n = network(&hub).await;
    // One emergency shelter for mothers in BG (a cell of one shelter), and three first-reception
    // shelters for women in BG of three enti (a cell of three).
    let lone = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let r = set_places(
        &hub,
        &n.ente_a,
        &lone,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "MOTHERS_WITH_CHILDREN", "capacity": 4 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let mut trio = Vec::new();
    for (i, ente) in [&n.ente_a, &n.ente_b, &n.ente_bs].into_iter().enumerate() {
        let s = shelter(
            &hub,
            ente,
            &format!("Segreta {i}"),
            &format!("Nascosta {i}"),
            "BG",
        )
        .await;
        let r = set_places(
            &hub,
            ente,
            &s,
            json!({ "kind": "PRIMA_ACCOGLIENZA", "takes": "WOMEN", "capacity": 2 + i }),
        )
        .await;
        assert!(r.get("errors").is_none(), "{r}");
        trio.push(s);
    }
    let mut all_ids: Vec<&str> = trio.iter().map(String::as_str).collect();
    all_ids.push(&lone);

    // Who reads vacancies: the kinds the protocol names, any role but the platform admin's.
    let readers = [&n.ente_a, &n.numero_verde, &n.questura, &n.prefettura];
    for agency in readers {
        for role in [UserRole::Operator, UserRole::Coordinator, UserRole::Analyst] {
            let t = hub.token(Some(agency), role);
            let d = hub.ok(&t, VACANCIES, json!({})).await;
            assert_no_shelter(&d, &all_ids);
            // 14 province categories x 5 kinds x 5 groups, zeros included.
            assert_eq!(d["vacancies"].as_array().map(Vec::len), Some(14 * 5 * 5));
            let lone_cell = cell(
                &d["vacancies"],
                "BG",
                "PRONTO_INTERVENTO",
                "MOTHERS_WITH_CHILDREN",
            );
            assert_eq!(
                lone_cell["count"],
                Value::Null,
                "a one-shelter cell is that shelter"
            );
            assert_eq!(lone_cell["suppressed"], true);
            let trio_cell = cell(&d["vacancies"], "BG", "PRIMA_ACCOGLIENZA", "WOMEN");
            assert_eq!(trio_cell["count"], 9, "{trio_cell}");
            // An empty cell is suppressed too: which cells show a number says nothing.
            let empty = cell(&d["vacancies"], "BS", "PRONTO_INTERVENTO", "WOMEN");
            assert_eq!(
                (empty["count"].clone(), empty["suppressed"].clone()),
                (Value::Null, json!(true))
            );
        }
    }
    for agency in [&n.cav, &n.procura, &n.servizi, &n.commissione] {
        let r = hub.gql(Some(&op(&hub, agency)), VACANCIES, json!({})).await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
        assert_no_shelter(&r, &all_ids);
    }
    let r = hub.gql(Some(&hub.admin()), VACANCIES, json!({})).await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    let r = hub.gql(None, VACANCIES, json!({})).await;
    assert!(
        r.get("errors").is_some() && r["data"]["vacancies"].is_null(),
        "{r}"
    );

    // Filters and aliases only pick cells: no combination shows the lone shelter's count.
    let questura = op(&hub, &n.questura);
    let aliased = hub
        .ok(
            &questura,
            "{ a: vacancies(province: \"BG\") { province kind takes count } b: vacancies(province: \"BG\", kind: PRONTO_INTERVENTO) { province kind takes count } c: vacancies(province: \"bg\", kind: PRONTO_INTERVENTO, takes: MOTHERS_WITH_CHILDREN) { count suppressed } d: vacancies(takes: MOTHERS_WITH_CHILDREN) { province kind count } }",
            json!({}),
        )
        .await;
    assert_eq!(aliased["c"], json!([{ "count": null, "suppressed": true }]));
    let text = aliased.to_string();
    assert!(
        !text.contains("\"count\":4"),
        "the lone shelter's 4 places leak: {text}"
    );
    let sum_bg: i64 = aliased["a"]
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(|c| c["count"].as_i64())
        .sum();
    assert_eq!(sum_bg, 9, "no total to subtract a suppressed cell from");
    // A batch of the same questions.
    let (status, batch) = hub
        .post(
            Some(&questura),
            &json!([
                { "query": "{ vacancies(province: \"BG\", takes: MOTHERS_WITH_CHILDREN) { count } }" },
                { "query": "{ vacancies(kind: PRONTO_INTERVENTO) { province takes count } }" },
            ]),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    assert!(!batch.to_string().contains("\"count\":4"), "{batch}");
    assert_no_shelter(&batch, &all_ids);

    // Shelters themselves: only the owner.
    for agency in [&n.questura, &n.prefettura, &n.numero_verde, &n.cav] {
        let r = hub
            .gql(
                Some(&op(&hub, agency)),
                "{ shelterPlaces { shelter { id name address } } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
        assert_no_shelter(&r, &all_ids);
    }
    let b_own = places_of(&hub, &n.ente_b).await;
    assert_eq!(b_own.len(), 1, "ente B sees its own shelter only");
    let b_text = json!(b_own).to_string();
    for secret in [
        SECRET_NAME,
        SECRET_ADDRESS,
        lone.as_str(),
        trio[0].as_str(),
        trio[2].as_str(),
    ] {
        assert!(
            !b_text.contains(secret),
            "ente B reads another's shelter: {b_text}"
        );
    }
    // Another ente's shelter: as if it did not exist.
    let r = set_places(
        &hub,
        &n.ente_b,
        &lone,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "WOMEN", "capacity": 1 }),
    )
    .await;
    assert_eq!(code(&r).as_deref(), Some("NOT_FOUND"), "{r}");
    assert_no_shelter(&r, &[&lone]);
    let never = set_places(
        &hub,
        &n.ente_b,
        "no-such-shelter",
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "WOMEN", "capacity": 1 }),
    )
    .await;
    assert_eq!(r["errors"][0]["message"], never["errors"][0]["message"]);

    // Requests: the requester sees the ente and its contact, never the shelter.
    let req = ask_ok(&hub, &n.questura, mother_and_child_bg()).await;
    // Another ente offering from a shelter it does not own.
    let r = offer(&hub, &n.ente_b, &req, &lone).await;
    assert_eq!(code(&r).as_deref(), Some("NOT_FOUND"), "{r}");
    let oid = offer_id(&hub, &n.ente_a, &req, &lone).await;
    let seen = request_as(&hub, &questura, &req).await;
    assert_no_shelter(&seen, &all_ids);
    let accepted = hub.gql(Some(&questura), ACCEPT, json!({ "o": oid })).await;
    assert_no_shelter(&accepted, &all_ids);
    // The offer type has no shelter field to ask for.
    let r = hub
        .gql(
            Some(&questura),
            "query($id: ID!) { placementRequest(id: $id) { offers { shelter { name address } } } }",
            json!({ "id": req }),
        )
        .await;
    assert!(r.get("errors").is_some(), "{r}");
    assert!(
        r["data"].is_null() || r["data"]["placementRequest"].is_null(),
        "{r}"
    );
    assert_no_shelter(&r, &all_ids);

    // Who else sees the request: nobody without a relation to it.
    for agency in [
        &n.ente_b,
        &n.prefettura,
        &n.numero_verde,
        &n.cav,
        &n.procura,
    ] {
        let d = hub
            .ok(
                &op(&hub, agency),
                "query($id: ID!) { placementRequest(id: $id) { id } }",
                json!({ "id": req }),
            )
            .await;
        assert_eq!(d["placementRequest"], Value::Null, "{agency}");
        for which in ["SENT", "INBOX", "OVERDUE"] {
            let q = format!("{{ placementRequests(mailbox: {which}) {{ id }} }}");
            let d = hub.ok(&op(&hub, agency), &q, json!({})).await;
            assert!(!d.to_string().contains(&req), "{agency} {which}: {d}");
        }
    }
    // An analyst or the platform admin sees no request rows, even the own agency's.
    let analyst = hub.token(Some(&n.questura), UserRole::Analyst);
    let d = hub
        .ok(
            &analyst,
            "query($id: ID!) { placementRequest(id: $id) { id } }",
            json!({ "id": req }),
        )
        .await;
    assert_eq!(d["placementRequest"], Value::Null);
    let r = ask(&hub, &n.questura, mother_and_child_bg()).await;
    assert!(r.get("errors").is_none());
    let r = hub
        .gql(
            Some(&analyst),
            REQUEST,
            json!({ "i": mother_and_child_bg() }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    for agency in [&n.procura, &n.servizi, &n.commissione] {
        let r = ask(&hub, agency, mother_and_child_bg()).await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{agency}: {r}");
    }
    // The requester cannot accept an offer of someone else's request, nor an ente its own.
    let r = hub
        .gql(Some(&op(&hub, &n.ente_a)), ACCEPT, json!({ "o": oid }))
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    let r = hub
        .gql(Some(&op(&hub, &n.prefettura)), ACCEPT, json!({ "o": oid }))
        .await;
    assert_eq!(code(&r).as_deref(), Some("NOT_FOUND"), "{r}");

    // Federation: places are not entities; a look-up names no shelter.
    for typename in [
        "PlacementRequest",
        "PlacementOffer",
        "Shelter",
        "ShelterPlaces",
        "VacancyCell",
    ] {
        let r = hub
            .gql(
                Some(&questura),
                "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
                json!({ "r": [{ "__typename": typename, "id": lone }] }),
            )
            .await;
        assert!(r.get("errors").is_some(), "{typename}: {r}");
        assert_no_shelter(&r, &all_ids);
    }
    hub.finish().await;
}
hub_test!(partners_never_learn_a_shelter);

/// A request without an offer past its urgency's window is flagged to its requester and to the
/// Numero Verde, and to nobody else; an offer ends the flag.
async fn overdue_requests_are_flagged_to_the_requester_and_the_numero_verde(hub: TestHub) {
    let n = network(&hub).await;
    let req = ask_ok(&hub, &n.questura, mother_and_child_bg()).await;
    let questura = op(&hub, &n.questura);
    let nv = op(&hub, &n.numero_verde);
    assert!(mailbox(&hub, &questura, "OVERDUE").await.is_empty());
    assert!(mailbox(&hub, &nv, "OVERDUE").await.is_empty());
    // Three hours ago: past the 2 hours of IMMEDIATE.
    let db = &hub.hub.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE placement_requests SET requested_at = $1 WHERE id = $2"
        }
        _ => "UPDATE placement_requests SET requested_at = ? WHERE id = ?",
    };
    let then = chrono::Utc::now() - chrono::Duration::hours(3);
    db.execute(Statement::from_sql_and_values(
        backend,
        sql,
        [then.into(), req.clone().into()],
    ))
    .await
    .expect("move the request back in time");
    let own = mailbox(&hub, &questura, "OVERDUE").await;
    assert_eq!(ids(&own), vec![req.clone()]);
    assert_eq!(own[0]["overdue"], true);
    let flagged = mailbox(&hub, &nv, "OVERDUE").await;
    assert_eq!(ids(&flagged), vec![req.clone()]);
    assert_eq!(flagged[0]["offers"], json!([]));
    assert_eq!(flagged[0]["contact"], "Ufficio immigrazione 035 000");
    assert_eq!(request_as(&hub, &nv, &req).await["id"], req.as_str());
    for agency in [&n.prefettura, &n.ente_a, &n.cav] {
        assert!(
            mailbox(&hub, &op(&hub, agency), "OVERDUE").await.is_empty(),
            "{agency}"
        );
    }
    // The Numero Verde watches; it does not decide.
    let r = hub
        .gql(
            Some(&nv),
            "mutation($id: ID!) { withdrawPlacementRequest(id: $id) { id } }",
            json!({ "id": req }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    // An offer ends the flag (and the Numero Verde's sight of it).
    let s = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let r = set_places(
        &hub,
        &n.ente_a,
        &s,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "MOTHERS_WITH_CHILDREN", "capacity": 2 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    offer_id(&hub, &n.ente_a, &req, &s).await;
    assert!(mailbox(&hub, &questura, "OVERDUE").await.is_empty());
    assert!(mailbox(&hub, &nv, "OVERDUE").await.is_empty());
    assert_eq!(request_as(&hub, &nv, &req).await, Value::Null);
    hub.finish().await;
}
hub_test!(overdue_requests_are_flagged_to_the_requester_and_the_numero_verde);

/// The demo: capacities for its shelters and three open requests a questura token sees.
async fn the_demo_shows_the_flow(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    let questura = hub.token(Some("questura-bg"), UserRole::Operator);
    let sent = mailbox(&hub, &questura, "SENT").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["takes"], "MOTHERS_WITH_CHILDREN");
    let ente = hub.token(Some("micaela-bg"), UserRole::Operator);
    let inbox = mailbox(&hub, &ente, "INBOX").await;
    assert_eq!(ids(&inbox), ids(&sent));
    let nv = hub.token(Some("numero-verde"), UserRole::Operator);
    let overdue = mailbox(&hub, &nv, "OVERDUE").await;
    assert_eq!(
        overdue.len(),
        1,
        "the Brescia questura's four women: {overdue:?}"
    );
    assert_eq!(mailbox(&hub, &nv, "SENT").await.len(), 1);
    let cells = hub.ok(&questura, VACANCIES, json!({})).await;
    let mi = cell(&cells["vacancies"], "MI", "PRIMA_ACCOGLIENZA", "WOMEN");
    assert_eq!(mi["count"], 4, "{mi}");
    let bg = cell(
        &cells["vacancies"],
        "BG",
        "PRONTO_INTERVENTO",
        "MOTHERS_WITH_CHILDREN",
    );
    assert_eq!(bg["suppressed"], true);
    assert!(
        !cells.to_string().contains("(demo)"),
        "no demo shelter name or address"
    );
    // The flow: Micaela offers from its emergency shelter, the questura accepts.
    let own = hub
        .ok(
            &ente,
            "{ shelterPlaces { shelter { id } kind vacancies } }",
            json!({}),
        )
        .await;
    let emergency = own["shelterPlaces"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["kind"] == "PRONTO_INTERVENTO"))
        .expect("Micaela's emergency shelter")
        .clone();
    assert_eq!(emergency["vacancies"], 3);
    let req = sent[0]["id"].as_str().expect("id");
    let shelter_id = emergency["shelter"]["id"].as_str().expect("shelter id");
    let oid = offer_id(&hub, "micaela-bg", req, shelter_id).await;
    let accepted = hub.gql(Some(&questura), ACCEPT, json!({ "o": oid })).await;
    assert_eq!(
        accepted["data"]["acceptPlacementOffer"]["acceptedBy"]["id"], "micaela-bg",
        "{accepted}"
    );
    assert!(!accepted.to_string().contains("(demo)"), "{accepted}");
    assert!(!accepted.to_string().contains(shelter_id), "{accepted}");
    hub.finish().await;
}
hub_test!(the_demo_shows_the_flow);

/// ACCESS.md §7 and §8: partners other than the requester learn placement figures only from the
/// statistics releases, whose placement tables count requests by province, urgency, status, who
/// they are for and how long an accepted one waited, with noise, and never name a shelter or the
/// ente that offered. The requester keeps its exact figures.
async fn placement_figures_reach_the_network_through_releases(hub: TestHub) {
    let n = network(&hub).await;
    let s = shelter(&hub, &n.ente_a, SECRET_NAME, SECRET_ADDRESS, "BG").await;
    let r = set_places(
        &hub,
        &n.ente_a,
        &s,
        json!({ "kind": "PRONTO_INTERVENTO", "takes": "MOTHERS_WITH_CHILDREN", "capacity": 5 }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let taken = ask_ok(&hub, &n.questura, mother_and_child_bg()).await;
    let offer = offer_id(&hub, &n.ente_a, &taken, &s).await;
    hub.ok(
        &op(&hub, &n.questura),
        "mutation($o: ID!) { acceptPlacementOffer(offerId: $o) { id } }",
        json!({ "o": offer }),
    )
    .await;
    let open = ask_ok(&hub, &n.questura, women_bg(1)).await;
    // Both requests were made in June 2023 (a closed period); the accepted one took 5 hours.
    let db = &hub.hub.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE placement_requests SET requested_at = $1, closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE $2 END WHERE id = $3"
        }
        _ => "UPDATE placement_requests SET requested_at = ?, closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE ? END WHERE id = ?",
    };
    let at = |h: u32| {
        chrono::NaiveDate::from_ymd_opt(2023, 6, 10)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("a time")
            .and_utc()
    };
    for id in [&taken, &open] {
        db.execute(Statement::from_sql_and_values(
            backend,
            sql,
            [at(8).into(), at(13).into(), id.clone().into()],
        ))
        .await
        .expect("move the request back in time");
    }

    // A prefettura reads the release of June 2023: the placement tables, every category listed.
    let release = hub
        .ok(
            &op(&hub, &n.prefettura),
            "query($p: String!, $v: String) { r: statisticsRelease(period: $p, province: $v) { tables { subject groupBy cells { keys count suppressed } } } }",
            json!({ "p": "2023-06", "v": "BG" }),
        )
        .await["r"]
        .clone();
    let placements: Vec<&Value> = release["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter(|t| t["subject"] == "placements")
        .collect();
    let spec = raccordo_policies::Policy::default_protocol()
        .expect("default protocol")
        .release_spec()
        .clone();
    let listed = spec
        .tables
        .iter()
        .filter(|t| t.subject.as_str() == "placements")
        .count();
    assert_eq!(placements.len(), listed, "{release}");
    assert!(listed >= 4);
    let by = |dims: &[&str]| {
        placements
            .iter()
            .find(|t| t["groupBy"] == json!(dims))
            .unwrap_or_else(|| panic!("a table by {dims:?}"))
    };
    let keys = |t: &Value| -> Vec<String> {
        t["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|c| c["keys"][0].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        keys(by(&["STATUS"])),
        ["OPEN", "ACCEPTED", "PLACED", "WITHDRAWN", "UNKNOWN"],
        "every status, whatever the rows"
    );
    assert!(keys(by(&["URGENCY"])).contains(&"IMMEDIATE".to_string()));
    let waits = by(&["URGENCY", "WAIT"]);
    assert!(waits["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .any(|c| c["keys"] == json!(["IMMEDIATE", "WITHIN_24_HOURS"])));
    // No shelter anywhere in the release, and no offering ente in its placement tables (enti
    // are public agencies: the referral and case tables list them as categories).
    let text = release.to_string();
    for secret in [SECRET_NAME, SECRET_ADDRESS, s.as_str()] {
        assert!(!text.contains(secret), "the release names {secret}");
    }
    let placement_text = serde_json::to_string(&placements).unwrap_or_default();
    assert!(
        !placement_text.contains(n.ente_a.as_str()),
        "{placement_text}"
    );
    // The counts are a release's: the same for everyone, frozen.
    let again = hub
        .ok(
            &op(&hub, &n.cav),
            "query($p: String!, $v: String) { r: statisticsRelease(period: $p, province: $v) { tables { subject groupBy cells { keys count suppressed } } } }",
            json!({ "p": "2023-06", "v": "BG" }),
        )
        .await["r"]
        .clone();
    assert_eq!(again, release);
    // The requester's exact figures stay its own.
    let exact = hub
        .ok(
            &op(&hub, &n.questura),
            "query($f: Date!, $t: Date!) { placementStatistics(from: $f, to: $t) { province requests accepted } }",
            json!({ "f": "2023-06-01", "t": "2023-06-30" }),
        )
        .await;
    assert_eq!(
        exact["placementStatistics"],
        json!([{ "province": "BG", "requests": 2, "accepted": 1 }])
    );
    hub.finish().await;
}
hub_test!(placement_figures_reach_the_network_through_releases);
