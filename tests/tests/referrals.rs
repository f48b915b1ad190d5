//! Referrals (richieste di valutazione, ACCESS.md §6) through the public API.
//!
//! A referral asks an ente whether a person shows trafficking indicators. The requester learns the
//! outcome (a law-enforcement requester does not), only the target ente reads its interview notes
//! and the case opened when the person adheres, and everybody else sees referrals only as
//! statistics: for them a referral answers exactly like an id never used. Only the target ente
//! works a referral; the requester may withdraw it while it is not concluded. The §6 table is
//! copied here by hand and checked field by field for every party and role.

use std::collections::BTreeMap;

use raccordo_policies::UserRole;
use serde_json::{json, Map, Value};

use crate::{
    access::{expect_code, gets_rows, id_of, view, KINDS, NEVER, ROLES},
    common::{code, TestHub},
    hub_test,
};

/// How a viewer's agency stands to a referral (the columns of §6).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Party {
    Target,
    Requester,
    LawEnforcementRequester,
    Other,
}

const Y: bool = true;
const N: bool = false;

/// §6, columns: target ente, requesting agency, requester is law enforcement, anyone else.
const REFERRAL_READ: [(&str, [bool; 4]); 4] = [
    ("CORE", [Y, Y, Y, N]),
    ("SUBJECT", [Y, Y, Y, N]),
    ("OUTCOME", [Y, Y, N, N]),
    ("INTERNAL", [Y, N, N, N]),
];

/// §6: every referral field, its row of the table, and how it is selected.
const REFERRAL_FIELDS: [(&str, &str, &str); 16] = [
    ("id", "CORE", "id"),
    ("requestedBy", "CORE", "requestedBy { id }"),
    ("target", "CORE", "target { id }"),
    ("receivedOn", "CORE", "receivedOn"),
    ("province", "CORE", "province"),
    ("status", "CORE", "status"),
    ("concludedOn", "CORE", "concludedOn"),
    ("subjectRef", "SUBJECT", "subjectRef"),
    ("subjectGender", "SUBJECT", "subjectGender"),
    ("subjectNationality", "SUBJECT", "subjectNationality"),
    ("interviewsHeld", "OUTCOME", "interviewsHeld"),
    ("outcome", "OUTCOME", "outcome"),
    ("programmeAdhesion", "OUTCOME", "programmeAdhesion"),
    ("outcomeNote", "OUTCOME", "outcomeNote"),
    ("interviewNotes", "INTERNAL", "interviewNotes"),
    ("case", "INTERNAL", "case { id }"),
];

/// §6: law enforcement.
fn law_enforcement(kind: &str) -> bool {
    matches!(kind, "FORZE_ORDINE" | "PROCURA")
}

fn party_reads(party: Party, group: &str) -> bool {
    let col = match party {
        Party::Target => 0,
        Party::Requester => 1,
        Party::LawEnforcementRequester => 2,
        Party::Other => 3,
    };
    REFERRAL_READ
        .iter()
        .find(|(g, _)| *g == group)
        .expect("a row of §6")
        .1[col]
}

fn selection() -> String {
    REFERRAL_FIELDS
        .iter()
        .map(|f| f.2)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn referral(hub: &TestHub, token: &str, id: &str) -> Value {
    let q = format!(
        "query($id: ID!) {{ referral(id: $id) {{ {} }} }}",
        selection()
    );
    hub.gql(Some(token), &q, json!({ "id": id })).await
}

/// What `party` must read of a referral, given the target's view of it.
fn expected(reference: &Value, party: Party) -> Value {
    let mut out = Map::new();
    for (field, group, _) in REFERRAL_FIELDS {
        let v = if party_reads(party, group) {
            reference[field].clone()
        } else {
            Value::Null
        };
        out.insert(field.to_string(), v);
    }
    Value::Object(out)
}

const CREATE: &str = "mutation($i: ReferralInput!) { createReferral(input: $i) { id status } }";
const SCHEDULE: &str =
    "mutation($id: ID!, $on: Date!) { scheduleReferral(id: $id, on: $on) { id status } }";
const INTERVIEW: &str = "mutation($id: ID!, $on: Date!, $n: String) { recordReferralInterview(id: $id, on: $on, notes: $n) { id status } }";
const CONCLUDE: &str = "mutation($id: ID!, $on: Date!, $a: Boolean!) { concludeReferral(id: $id, on: $on, outcome: IDENTIFIED_SEXUAL_EXPLOITATION, programmeAdhesion: $a, outcomeNote: \"Esito comunicato al richiedente\") { id status } }";
const UNREACHABLE: &str =
    "mutation($id: ID!, $on: Date!) { markReferralUnreachable(id: $id, on: $on) { id status } }";
const WITHDRAW: &str = "mutation($id: ID!) { withdrawReferral(id: $id) { id status } }";

const RECEIVED_ON: &str = "2023-03-01";

/// `requester` asks `target` to assess a person; the referral's id.
async fn send(hub: &TestHub, requester: &str, target: &str, subject: &str) -> String {
    let t = hub.token(Some(requester), UserRole::Operator);
    let input = json!({
        "target": target,
        "receivedOn": RECEIVED_ON,
        "province": "BS",
        "subjectRef": subject,
        "subjectGender": "FEMALE",
        "subjectNationality": "NG",
    });
    let d = hub.ok(&t, CREATE, json!({ "i": input })).await;
    assert_eq!(d["createReferral"]["status"], "RECEIVED");
    id_of(&d, "createReferral")
}

/// The target ente works a referral to its end: schedules, interviews, concludes.
async fn work(hub: &TestHub, target: &str, id: &str, adhesion: bool) {
    let t = hub.token(Some(target), UserRole::Operator);
    hub.ok(&t, SCHEDULE, json!({ "id": id, "on": "2023-03-05" }))
        .await;
    hub.ok(
        &t,
        INTERVIEW,
        json!({ "id": id, "on": "2023-03-10", "n": "Indicatori di tratta presenti" }),
    )
    .await;
    let d = hub
        .ok(
            &t,
            CONCLUDE,
            json!({ "id": id, "on": "2023-03-20", "a": adhesion }),
        )
        .await;
    assert_eq!(d["concludeReferral"]["status"], "CONCLUDED");
}

/// The hub serves exactly the referral fields of the §6 table.
async fn referral_fields_are_the_documents(hub: TestHub) {
    let d = hub
        .ok(
            &hub.admin(),
            "{ __type(name: \"Referral\") { fields { name } } }",
            json!({}),
        )
        .await;
    let mut served: Vec<String> = d["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    served.sort();
    // Besides the §6 fields: what the viewer may do, and the corrections history (each entry
    // filtered by the classes of the fields it changed).
    let mut documented: Vec<String> = REFERRAL_FIELDS
        .iter()
        .map(|f| f.0)
        .chain(["access", "corrections"])
        .map(str::to_string)
        .collect();
    documented.sort();
    assert_eq!(served, documented);
    hub.finish().await;
}
hub_test!(referral_fields_are_the_documents);

/// §6 cell by cell: every party (target ente, requester, law-enforcement requester, anyone else)
/// × every role × every field, by id and in lists; only the target works a referral.
async fn referral_matrix(hub: TestHub) {
    let target = hub
        .agency("Associazione Micaela", "ENTE_ANTITRATTA", "BG")
        .await;
    let ct = hub
        .agency("CT Brescia", "COMMISSIONE_TERRITORIALE", "BS")
        .await;
    let carabinieri = hub.agency("Carabinieri BS", "FORZE_ORDINE", "BS").await;
    let procura = hub.agency("Procura BS / DDA", "PROCURA", "BS").await;
    // Anyone else: one more agency of every kind, including enti, commissions and police.
    let mut others = BTreeMap::new();
    for kind in KINDS {
        others.insert(kind, hub.agency(&format!("Altro {kind}"), kind, "BS").await);
    }
    let from_ct = send(&hub, &ct, &target, "CT-BS-2023-001").await;
    let from_police = send(&hub, &carabinieri, &target, "CC-BS-77").await;
    let from_procura = send(&hub, &procura, &target, "PROC-12").await;
    let referrals = [
        (from_ct.clone(), ct.clone(), "COMMISSIONE_TERRITORIALE"),
        (from_police.clone(), carabinieri.clone(), "FORZE_ORDINE"),
        (from_procura.clone(), procura.clone(), "PROCURA"),
    ];

    let mut failures = Vec::new();
    // Only the target ente works it: the requester is FORBIDDEN, anyone else NOT_FOUND.
    let works = [
        (SCHEDULE, json!({ "on": "2023-03-04" })),
        (INTERVIEW, json!({ "on": "2023-03-04" })),
        (UNREACHABLE, json!({ "on": "2023-03-04" })),
        (CONCLUDE, json!({ "on": "2023-03-04", "a": true })),
    ];
    let mut strangers: Vec<String> = others.values().cloned().collect();
    strangers.push(carabinieri.clone());
    for (doc, extra) in &works {
        let vars = |id: &str| {
            let mut v = extra.clone();
            v["id"] = json!(id);
            v
        };
        for role in [UserRole::Operator, UserRole::Coordinator] {
            let t = hub.token(Some(&ct), role);
            let r = hub.gql(Some(&t), doc, vars(&from_ct)).await;
            if code(&r).as_deref() != Some("FORBIDDEN") {
                failures.push(format!("the requester working: {doc}: {r}"));
            }
            for agency in &strangers {
                let t = hub.token(Some(agency), role);
                let r = hub.gql(Some(&t), doc, vars(&from_ct)).await;
                let unused = hub.gql(Some(&t), doc, vars(NEVER)).await;
                if r != unused || code(&r).as_deref() != Some("NOT_FOUND") {
                    failures.push(format!(
                        "a stranger working: {doc}\n  expected {unused}\n  got      {r}"
                    ));
                }
            }
        }
    }
    // Dates before the referral was received are refused.
    let target_op = hub.token(Some(&target), UserRole::Operator);
    for doc in [SCHEDULE, INTERVIEW] {
        let r = hub
            .gql(
                Some(&target_op),
                doc,
                json!({ "id": from_ct, "on": "2023-02-28" }),
            )
            .await;
        expect_code(&r, "VALIDATION", "a date before receivedOn");
    }
    work(&hub, &target, &from_ct, true).await;
    work(&hub, &target, &from_police, true).await;
    work(&hub, &target, &from_procura, false).await;

    // The target's view is the reference: every field filled where the data exists.
    let mut reference = BTreeMap::new();
    for (id, requester, _) in &referrals {
        let r = referral(&hub, &target_op, id).await;
        let seen = r["data"]["referral"].clone();
        assert!(r.get("errors").is_none(), "{r}");
        for (field, _, _) in REFERRAL_FIELDS {
            let empty_ok = field == "case" && *id == from_procura;
            assert!(
                empty_ok || !seen[field].is_null(),
                "the target reads {field}: {seen}"
            );
        }
        assert_eq!(seen["requestedBy"]["id"], **requester);
        assert_eq!(seen["interviewsHeld"], 1);
        reference.insert(id.clone(), seen);
    }

    // Every viewer, every role, every referral.
    let mut viewers = vec![
        target.clone(),
        ct.clone(),
        carabinieri.clone(),
        procura.clone(),
    ];
    viewers.extend(others.values().cloned());
    let mut situations = 0;
    for agency in &viewers {
        for role in ROLES {
            let t = hub.member(agency, role);
            let mut listed_want = BTreeMap::new();
            for (id, requester, requester_kind) in &referrals {
                let party = if *agency == target {
                    Party::Target
                } else if agency == requester && law_enforcement(requester_kind) {
                    Party::LawEnforcementRequester
                } else if agency == requester {
                    Party::Requester
                } else {
                    Party::Other
                };
                situations += 1;
                let got = referral(&hub, &t, id).await;
                if party != Party::Other && gets_rows(role) {
                    let want = expected(&reference[id], party);
                    if got.get("errors").is_some() || got["data"]["referral"] != want {
                        failures.push(format!(
                            "{party:?} {} referral({id})\n  expected {want}\n  got      {got}",
                            role.as_str()
                        ));
                    }
                    listed_want.insert(id.clone(), want);
                } else {
                    let unused = referral(&hub, &t, NEVER).await;
                    if got != unused || !got["data"]["referral"].is_null() {
                        failures.push(format!(
                            "{party:?} {} referral({id}) must answer like an id never used\n  expected {unused}\n  got      {got}",
                            role.as_str()
                        ));
                    }
                }
            }
            let q = format!(
                "{{ referrals(first: 100) {{ totalCount edges {{ node {{ {} }} }} }} }}",
                selection()
            );
            let got = hub.gql(Some(&t), &q, json!({})).await;
            let seen: BTreeMap<String, Value> = got["data"]["referrals"]["edges"]
                .as_array()
                .map(|edges| {
                    edges
                        .iter()
                        .map(|e| {
                            (
                                e["node"]["id"].as_str().unwrap_or_default().to_string(),
                                e["node"].clone(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if got.get("errors").is_some()
                || seen != listed_want
                || got["data"]["referrals"]["totalCount"] != listed_want.len()
            {
                failures.push(format!(
                    "referrals list of {agency} as {}:\n  expected {}\n  got      {got}",
                    role.as_str(),
                    json!(listed_want)
                ));
            }
        }
    }

    // Adhesion opened a case held by the target; the requester does not see it.
    let case_id = reference[&from_ct]["case"]["id"]
        .as_str()
        .expect("a case opened on adhesion")
        .to_string();
    let seen = view(&hub, &target_op, &case_id).await;
    assert_eq!(
        seen["data"]["case"]["access"]["relationships"],
        json!(["OWNER"])
    );
    assert_eq!(seen["data"]["case"]["owner"]["id"], target);
    assert_eq!(seen["data"]["case"]["nationality"], "NG");
    for agency in [&ct, &carabinieri] {
        let t = hub.token(Some(agency), UserRole::Operator);
        let got = view(&hub, &t, &case_id).await;
        if got != view(&hub, &t, NEVER).await {
            failures.push(format!(
                "the requester reads the case opened on adhesion: {got}"
            ));
        }
    }
    eprintln!(
        "referral matrix: {situations} situations, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} referral answers break ACCESS.md §6:\n{}",
        failures.len(),
        failures.join("\n")
    );
    hub.finish().await;
}
hub_test!(referral_matrix);

/// §6: the requester (law enforcement included) may withdraw a referral while it is not
/// concluded, and not after; the target ente may not withdraw it; strangers find nothing.
async fn withdrawing(hub: TestHub) {
    let target = hub
        .agency("Cooperativa Lule", "ENTE_ANTITRATTA", "MI")
        .await;
    let ct = hub
        .agency("CT Milano", "COMMISSIONE_TERRITORIALE", "MI")
        .await;
    let police = hub.agency("Polizia Locale", "FORZE_ORDINE", "MI").await;
    let stranger = hub.agency("Prefettura MI", "PREFETTURA", "MI").await;
    let target_op = hub.token(Some(&target), UserRole::Operator);
    let ct_op = hub.token(Some(&ct), UserRole::Operator);

    let received = send(&hub, &ct, &target, "CT-MI-1").await;
    let r = hub
        .gql(Some(&target_op), WITHDRAW, json!({ "id": received }))
        .await;
    expect_code(&r, "FORBIDDEN", "the target withdrawing");
    let st = hub.token(Some(&stranger), UserRole::Coordinator);
    let r = hub
        .gql(Some(&st), WITHDRAW, json!({ "id": received }))
        .await;
    assert_eq!(
        r,
        hub.gql(Some(&st), WITHDRAW, json!({ "id": NEVER })).await,
        "a stranger withdrawing: like an id never used"
    );
    expect_code(&r, "NOT_FOUND", "a stranger withdrawing");
    let d = hub.ok(&ct_op, WITHDRAW, json!({ "id": received })).await;
    assert_eq!(d["withdrawReferral"]["status"], "WITHDRAWN");

    // Law enforcement withdraws its own, even once scheduled.
    let scheduled = send(&hub, &police, &target, "PL-9").await;
    hub.ok(
        &target_op,
        SCHEDULE,
        json!({ "id": scheduled, "on": "2023-03-02" }),
    )
    .await;
    let police_op = hub.token(Some(&police), UserRole::Operator);
    let d = hub
        .ok(&police_op, WITHDRAW, json!({ "id": scheduled }))
        .await;
    assert_eq!(d["withdrawReferral"]["status"], "WITHDRAWN");

    // Not once concluded.
    let concluded = send(&hub, &ct, &target, "CT-MI-2").await;
    work(&hub, &target, &concluded, false).await;
    let r = hub
        .gql(Some(&ct_op), WITHDRAW, json!({ "id": concluded }))
        .await;
    expect_code(&r, "VALIDATION", "withdrawing a concluded referral");
    let d = hub
        .ok(
            &ct_op,
            "query($id: ID!) { referral(id: $id) { status outcome case { id } } }",
            json!({ "id": concluded }),
        )
        .await;
    assert_eq!(d["referral"]["status"], "CONCLUDED");
    assert_eq!(d["referral"]["outcome"], "IDENTIFIED_SEXUAL_EXPLOITATION");
    assert!(d["referral"]["case"].is_null());
    hub.finish().await;
}
hub_test!(withdrawing);

/// §6: referrals go to enti only, from the requester kinds only.
async fn who_sends_referrals(hub: TestHub) {
    let target = hub.agency("Ente", "ENTE_ANTITRATTA", "BG").await;
    let mut of_kind = BTreeMap::new();
    for kind in KINDS {
        of_kind.insert(
            kind,
            hub.agency(&format!("Mittente {kind}"), kind, "BG").await,
        );
    }
    let input = |target: &str| json!({ "i": { "target": target, "receivedOn": RECEIVED_ON } });
    for kind in KINDS {
        let t = hub.token(Some(&of_kind[kind]), UserRole::Operator);
        let r = hub.gql(Some(&t), CREATE, input(&target)).await;
        if kind == "COORDINAMENTO" {
            assert!(
                r.get("errors").is_some(),
                "a coordination unit is no requester: {r}"
            );
        } else {
            assert!(r.get("errors").is_none(), "{kind} may request: {r}");
        }
        if kind != "ENTE_ANTITRATTA" {
            let ente = hub.token(Some(&target), UserRole::Operator);
            let r = hub.gql(Some(&ente), CREATE, input(&of_kind[kind])).await;
            expect_code(&r, "VALIDATION", &format!("a referral to a {kind}"));
        }
    }
    hub.finish().await;
}
hub_test!(who_sends_referrals);

/// The `extensions.field` and message of the first error, after checking it is VALIDATION.
fn refused_on(r: &Value, what: &str) -> (String, String) {
    expect_code(r, "VALIDATION", what);
    let e = &r["errors"][0];
    (
        e["extensions"]["field"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
    )
}

/// §6, issue 12: the steps keep their order (received ≤ scheduled ≤ interviews ≤ concluded), an
/// identification needs an interview, `NOT_IDENTIFIED` never opens a case. Each refusal is
/// VALIDATION naming its rule and its input path, and changes nothing.
async fn steps_keep_their_order(hub: TestHub) {
    let ct = hub
        .agency("CT Milano", "COMMISSIONE_TERRITORIALE", "MI")
        .await;
    let ente = hub.agency("Ente Ordine", "ENTE_ANTITRATTA", "MI").await;
    let id = send(&hub, &ct, &ente, "CT-MI/ORD/1").await;
    let t = hub.token(Some(&ente), UserRole::Coordinator);
    let conclude = |on: &str, outcome: &str, adhesion: bool| json!({ "id": id, "on": on, "o": outcome, "a": adhesion });
    let concluding = "mutation($id: ID!, $on: Date!, $o: ReferralOutcome!, $a: Boolean!) { concludeReferral(id: $id, on: $on, outcome: $o, programmeAdhesion: $a) { id status } }";
    let dated = |on: &str| json!({ "id": id, "on": on });
    let refusals = [
        (
            "an identification without an interview, on a RECEIVED referral",
            concluding,
            conclude("2023-03-02", "IDENTIFIED_TRAFFICKING", false),
            "outcome",
            "at least one interview",
        ),
        (
            "NOT_IDENTIFIED with adhesion",
            concluding,
            conclude("2023-03-02", "NOT_IDENTIFIED", true),
            "programmeAdhesion",
            "NOT_IDENTIFIED never opens a case",
        ),
        (
            "a schedule before the referral was received",
            SCHEDULE,
            dated("2023-02-28"),
            "on",
            "dates keep their order",
        ),
    ];
    for (what, doc, vars, field, rule) in refusals {
        let r = hub.gql(Some(&t), doc, vars).await;
        let (f, message) = refused_on(&r, what);
        assert_eq!(f, field, "{what}: {r}");
        assert!(
            message.contains(rule),
            "{what}: the rule is not named: {message}"
        );
    }
    hub.ok(&t, SCHEDULE, dated("2023-03-05")).await;
    let r = hub.gql(Some(&t), INTERVIEW, dated("2023-03-04")).await;
    let (f, message) = refused_on(&r, "an interview before the schedule");
    assert_eq!(f, "on");
    assert!(message.contains("dates keep their order"), "{message}");
    hub.ok(&t, INTERVIEW, dated("2023-03-10")).await;
    for (what, doc, vars) in [
        (
            "a schedule after the first interview",
            SCHEDULE,
            dated("2023-03-12"),
        ),
        (
            "a conclusion before the last interview",
            concluding,
            conclude("2023-03-09", "NOT_IDENTIFIED", false),
        ),
        (
            "unreachable before the last interview",
            UNREACHABLE,
            dated("2023-03-09"),
        ),
    ] {
        let r = hub.gql(Some(&t), doc, vars).await;
        let (f, message) = refused_on(&r, what);
        assert_eq!(f, "on", "{what}");
        assert!(
            message.contains("dates keep their order"),
            "{what}: {message}"
        );
    }
    // Nothing was written by the refusals: no case, the referral still in progress.
    let d = hub
        .ok(
            &t,
            "query($id: ID!) { referral(id: $id) { status case { id } } cases { totalCount } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d["referral"]["status"], "IN_PROGRESS", "{d}");
    assert_eq!(d["cases"]["totalCount"], 0, "{d}");
    let d = hub
        .ok(
            &t,
            concluding,
            conclude("2023-03-10", "IDENTIFIED_TRAFFICKING", false),
        )
        .await;
    assert_eq!(d["concludeReferral"]["status"], "CONCLUDED");
    hub.finish().await;
}
hub_test!(steps_keep_their_order);

/// §6, issue 12: the same requester, subject reference, day and target name one referral: asking
/// again, also many times at once, returns it; another target or day is another referral.
async fn asking_again_returns_the_referral(hub: TestHub) {
    let ct = hub
        .agency("CT Brescia", "COMMISSIONE_TERRITORIALE", "BS")
        .await;
    let ente = hub.agency("Ente Uno", "ENTE_ANTITRATTA", "BS").await;
    let other = hub.agency("Ente Due", "ENTE_ANTITRATTA", "BS").await;
    let first = send(&hub, &ct, &ente, "CT-BS/IDEM/1").await;
    assert_eq!(send(&hub, &ct, &ente, "CT-BS/IDEM/1").await, first);
    let t = hub.token(Some(&ct), UserRole::Operator);
    let input =
        json!({ "i": { "target": ente, "receivedOn": RECEIVED_ON, "subjectRef": "CT-BS/IDEM/2" } });
    let (a, b, c, d) = tokio::join!(
        hub.gql(Some(&t), CREATE, input.clone()),
        hub.gql(Some(&t), CREATE, input.clone()),
        hub.gql(Some(&t), CREATE, input.clone()),
        hub.gql(Some(&t), CREATE, input.clone()),
    );
    let ids: Vec<Value> = [a, b, c, d]
        .iter()
        .map(|r| {
            assert!(r.get("errors").is_none(), "{r}");
            r["data"]["createReferral"]["id"].clone()
        })
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "concurrent calls made several referrals: {ids:?}"
    );
    let elsewhere = send(&hub, &ct, &other, "CT-BS/IDEM/1").await;
    assert_ne!(elsewhere, first, "another target is another referral");
    let d = hub.ok(&t, "{ referrals { totalCount } }", json!({})).await;
    assert_eq!(d["referrals"]["totalCount"], 3, "{d}");
    hub.finish().await;
}
hub_test!(asking_again_returns_the_referral);

const CORRECT: &str = "mutation($id: ID!, $why: String!, $o: ReferralOutcome, $on: Date, $a: Boolean) { correctReferral(id: $id, reason: $why, outcome: $o, concludedOn: $on, programmeAdhesion: $a) { id outcome concludedOn programmeAdhesion case { id } } }";
const CORRECTIONS: &str = "query($id: ID!) { referral(id: $id) { outcome concludedOn corrections { fields reason } access { actions writableFields } } }";

/// §6, issue 12: a concluded referral is corrected only by a coordinator of the target ente, with
/// a reason and under the rules of a conclusion; the correction is in the referral's history, and
/// each requester sees it only for the fields §6 lets it read (a law-enforcement requester never
/// learns that the outcome changed).
async fn corrections_of_concluded_referrals(hub: TestHub) {
    let ct = hub
        .agency("CT Correzioni", "COMMISSIONE_TERRITORIALE", "BS")
        .await;
    let police = hub.agency("Polizia Correzioni", "FORZE_ORDINE", "BS").await;
    let ente = hub.agency("Ente Correzioni", "ENTE_ANTITRATTA", "BS").await;
    let stranger = hub.agency("Ente Estraneo", "ENTE_ANTITRATTA", "BS").await;
    let from_ct = send(&hub, &ct, &ente, "CT/COR/1").await;
    let from_police = send(&hub, &police, &ente, "PS/COR/1").await;
    for id in [&from_ct, &from_police] {
        work(&hub, &ente, id, false).await;
    }
    let coord = hub.token(Some(&ente), UserRole::Coordinator);
    let op = hub.token(Some(&ente), UserRole::Operator);
    let vars = |id: &str, extra: Value| {
        let mut v = json!({ "id": id, "why": "errore di trascrizione" });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    // Concluded: the usual steps refuse, a correction is the way.
    let r = hub
        .gql(
            Some(&coord),
            CONCLUDE,
            json!({ "id": from_ct, "on": "2023-03-21", "a": false }),
        )
        .await;
    expect_code(&r, "VALIDATION", "concluding twice");
    for (t, expected) in [
        (&op, "FORBIDDEN"),
        (&hub.token(Some(&ct), UserRole::Coordinator), "FORBIDDEN"),
        (
            &hub.token(Some(&stranger), UserRole::Coordinator),
            "NOT_FOUND",
        ),
    ] {
        let r = hub
            .gql(
                Some(t),
                CORRECT,
                vars(&from_ct, json!({ "o": "NOT_IDENTIFIED" })),
            )
            .await;
        expect_code(&r, expected, "a correction by who may not correct");
    }
    let d = hub.ok(&coord, CORRECTIONS, json!({ "id": from_ct })).await;
    assert_eq!(
        d["referral"]["access"]["actions"],
        json!(["correctReferral"]),
        "{d}"
    );
    // The rules of a conclusion hold.
    for (extra, field) in [
        (json!({ "on": "2023-03-09" }), "concludedOn"),
        (
            json!({ "o": "NOT_IDENTIFIED", "a": true }),
            "programmeAdhesion",
        ),
        (json!({}), "id"),
    ] {
        let r = hub
            .gql(Some(&coord), CORRECT, vars(&from_ct, extra.clone()))
            .await;
        expect_code(&r, "VALIDATION", &format!("correction {extra}"));
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{r}");
    }
    let d = hub
        .ok(
            &coord,
            CORRECT,
            vars(&from_ct, json!({ "o": "NOT_IDENTIFIED" })),
        )
        .await;
    assert_eq!(d["correctReferral"]["outcome"], "NOT_IDENTIFIED");
    // The requester sees the corrected outcome and why.
    let ct_op = hub.token(Some(&ct), UserRole::Operator);
    let d = hub.ok(&ct_op, CORRECTIONS, json!({ "id": from_ct })).await;
    assert_eq!(d["referral"]["outcome"], "NOT_IDENTIFIED");
    assert_eq!(
        d["referral"]["corrections"],
        json!([{ "fields": ["outcome"], "reason": "errore di trascrizione" }])
    );
    assert_eq!(d["referral"]["access"]["actions"], json!([]));

    // A law-enforcement requester: an outcome correction does not exist for it; a date
    // correction shows the date only, without the reason.
    hub.ok(
        &coord,
        CORRECT,
        vars(&from_police, json!({ "o": "NOT_IDENTIFIED" })),
    )
    .await;
    let p_op = hub.token(Some(&police), UserRole::Operator);
    let d = hub
        .ok(&p_op, CORRECTIONS, json!({ "id": from_police }))
        .await;
    assert_eq!(d["referral"]["corrections"], json!([]), "{d}");
    hub.ok(
        &coord,
        CORRECT,
        vars(&from_police, json!({ "on": "2023-03-22" })),
    )
    .await;
    let d = hub
        .ok(&p_op, CORRECTIONS, json!({ "id": from_police }))
        .await;
    assert_eq!(
        d["referral"]["corrections"],
        json!([{ "fields": ["concludedOn"], "reason": null }]),
        "{d}"
    );
    assert_eq!(d["referral"]["concludedOn"], "2023-03-22");
    // The target sees the whole history; adhesion recorded late opens the case once.
    let d = hub
        .ok(
            &coord,
            CORRECT,
            vars(
                &from_police,
                json!({ "o": "IDENTIFIED_TRAFFICKING", "a": true }),
            ),
        )
        .await;
    assert!(d["correctReferral"]["case"]["id"].is_string(), "{d}");
    let d = hub
        .ok(&coord, CORRECTIONS, json!({ "id": from_police }))
        .await;
    assert_eq!(
        d["referral"]["corrections"].as_array().map(Vec::len),
        Some(3),
        "{d}"
    );
    let r = hub
        .gql(
            Some(&coord),
            CORRECT,
            vars(&from_police, json!({ "a": false })),
        )
        .await;
    expect_code(
        &r,
        "VALIDATION",
        "taking adhesion back once the case is open",
    );
    hub.finish().await;
}
hub_test!(corrections_of_concluded_referrals);

/// Issue 12: the case opened on adhesion gets an automatic `REF-…` code; its owner gives it its
/// own through `updateCase`, unique among its cases.
async fn adhesion_case_takes_the_owners_code(hub: TestHub) {
    let ct = hub
        .agency("CT Codici", "COMMISSIONE_TERRITORIALE", "BG")
        .await;
    let ente = hub.agency("Ente Codici", "ENTE_ANTITRATTA", "BG").await;
    let id = send(&hub, &ct, &ente, "CT/COD/1").await;
    work(&hub, &ente, &id, true).await;
    let op = hub.token(Some(&ente), UserRole::Operator);
    let d = hub
        .ok(
            &op,
            "query($id: ID!) { referral(id: $id) { case { id code version } } }",
            json!({ "id": id }),
        )
        .await;
    let case = &d["referral"]["case"];
    assert!(
        case["code"].as_str().is_some_and(|c| c.starts_with("REF-")),
        "{d}"
    );
    let update = "mutation($id: ID!, $v: Int!, $c: String!) { updateCase(id: $id, version: $v, patch: { code: $c }) { code } }";
    hub.case(&ente, "BG-2023-7", json!({})).await;
    let r = hub
        .gql(
            Some(&op),
            update,
            json!({ "id": case["id"], "v": case["version"], "c": "BG-2023-7" }),
        )
        .await;
    expect_code(&r, "VALIDATION", "a code the ente already uses");
    let d = hub
        .ok(
            &op,
            update,
            json!({ "id": case["id"], "v": case["version"], "c": "BG-2023-8" }),
        )
        .await;
    assert_eq!(d["updateCase"]["code"], "BG-2023-8");
    hub.finish().await;
}
hub_test!(adhesion_case_takes_the_owners_code);
