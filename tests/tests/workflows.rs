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

const REFERRAL_FIELDS: &str = "id status receivedOn province subjectRef subjectGender interviewsHeld outcome programmeAdhesion outcomeNote interviewNotes case { id emersionChannel owner { id } }";

/// A commissione territoriale asks an ente to assess a person; the ente schedules, interviews,
/// concludes; adhesion opens a case the commission never sees.
async fn referral_from_the_commission(hub: TestHub) {
    let ct = hub
        .agency("CT Brescia", "COMMISSIONE_TERRITORIALE", "BS")
        .await;
    let ente = hub.agency("Casa Betel", "ENTE_ANTITRATTA", "BS").await;
    let ct_t = hub.token(Some(&ct), UserRole::Operator);
    let ente_t = hub.token(Some(&ente), UserRole::Operator);
    let create = "mutation($i: ReferralInput!) { createReferral(input: $i) { id status } }";
    let input = json!({ "target": ente, "receivedOn": "2023-03-01", "province": "BS", "subjectRef": "CT-BS/2023/17", "subjectGender": "FEMALE", "subjectNationality": "NG" });
    let r = hub.ok(&ct_t, create, json!({ "i": input })).await;
    let id = r["createReferral"]["id"].clone();
    assert_eq!(r["createReferral"]["status"], "RECEIVED");
    // The queue: one open referral for the ente in BS.
    let queue = hub
        .ok(
            &ente_t,
            "{ referralQueue(scope: MINE) { keys count } }",
            json!({}),
        )
        .await;
    assert_eq!(
        queue["referralQueue"],
        json!([{ "keys": [ente, "BS"], "count": 1 }])
    );
    // Only the target works it.
    let sched = "mutation($id: ID!) { scheduleReferral(id: $id, on: \"2023-03-05\") { status } }";
    assert_eq!(
        code(&hub.gql(Some(&ct_t), sched, json!({ "id": id })).await).as_deref(),
        Some("FORBIDDEN")
    );
    hub.ok(&ente_t, sched, json!({ "id": id })).await;
    let early = hub.gql(Some(&ente_t), "mutation($id: ID!) { recordReferralInterview(id: $id, on: \"2023-02-01\") { status } }", json!({ "id": id })).await;
    assert_eq!(
        code(&early).as_deref(),
        Some("VALIDATION"),
        "an interview before the referral was received"
    );
    for day in ["2023-03-05", "2023-03-12"] {
        hub.ok(&ente_t, "mutation($id: ID!, $d: Date!) { recordReferralInterview(id: $id, on: $d, notes: \"racconto del viaggio\") { status } }", json!({ "id": id, "d": day })).await;
    }
    let done = hub
        .ok(&ente_t, "mutation($id: ID!) { concludeReferral(id: $id, on: \"2023-03-20\", outcome: IDENTIFIED_TRAFFICKING, programmeAdhesion: true, outcomeNote: \"presa in carico\") { status case { id } } }", json!({ "id": id }))
        .await;
    assert_eq!(done["concludeReferral"]["status"], "CONCLUDED");
    let case_id = done["concludeReferral"]["case"]["id"].clone();
    // The ente sees everything, including the case it now holds.
    let q = format!("query($id: ID!) {{ referral(id: $id) {{ {REFERRAL_FIELDS} }} }}");
    let mine = hub.ok(&ente_t, &q, json!({ "id": id })).await;
    assert_eq!(mine["referral"]["interviewsHeld"], 2);
    assert_eq!(
        mine["referral"]["case"]["emersionChannel"],
        "ASSESSMENT_SERVICE"
    );
    assert_eq!(mine["referral"]["case"]["owner"]["id"], ente.as_str());
    // The commission sees the outcome and its note, never the interviews or the case.
    let theirs = hub.ok(&ct_t, &q, json!({ "id": id })).await;
    assert_eq!(theirs["referral"]["outcome"], "IDENTIFIED_TRAFFICKING");
    assert_eq!(theirs["referral"]["outcomeNote"], "presa in carico");
    assert!(theirs["referral"]["interviewNotes"].is_null());
    assert!(theirs["referral"]["case"].is_null());
    let direct = hub
        .ok(
            &ct_t,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": case_id }),
        )
        .await;
    assert!(direct["case"].is_null(), "the CT never sees the case");
    // Concluded: no withdrawal; a withdrawn referral cannot be concluded.
    let w = "mutation($id: ID!) { withdrawReferral(id: $id) { status } }";
    assert_eq!(
        code(&hub.gql(Some(&ct_t), w, json!({ "id": id })).await).as_deref(),
        Some("VALIDATION")
    );
    // §6: the same requester, subject reference, day and target name one referral.
    assert_eq!(
        hub.ok(&ct_t, create, json!({ "i": input })).await["createReferral"]["id"],
        id
    );
    let mut input = input;
    input["subjectRef"] = json!("CT-BS/2023/18");
    let second = hub.ok(&ct_t, create, json!({ "i": input })).await["createReferral"]["id"].clone();
    assert_eq!(
        hub.ok(&ct_t, w, json!({ "id": second })).await["withdrawReferral"]["status"],
        "WITHDRAWN"
    );
    let late = hub.gql(Some(&ente_t), "mutation($id: ID!) { concludeReferral(id: $id, on: \"2023-03-20\", outcome: NOT_IDENTIFIED, programmeAdhesion: false) { status } }", json!({ "id": second })).await;
    assert_eq!(code(&late).as_deref(), Some("VALIDATION"));
    hub.finish().await;
}
hub_test!(referral_from_the_commission);

/// A transfer (MIR): requested with consent by the owner's coordinator, seen by the receiver as
/// the protocol allows, accepted by its coordinator; the case keeps its id, code and history.
async fn transfer_moves_the_case(hub: TestHub) {
    let a = hub.agency("Ente Lule PV", "ENTE_ANTITRATTA", "PV").await;
    let b = hub
        .agency("Ente Somaschi LC", "ENTE_ANTITRATTA", "LC")
        .await;
    let a_coord = hub.token(Some(&a), UserRole::Coordinator);
    let shelter = hub
        .ok(
            &a_coord,
            "mutation { createShelter(name: \"Casa PV\", address: \"Via Segreta 2\") { id } }",
            json!({}),
        )
        .await["createShelter"]["id"]
        .clone();
    let (case_id, _) = hub
        .case(
            &a,
            "T-1",
            json!({ "shelterId": shelter, "alias": "Persona T", "nationality": "NG" }),
        )
        .await;
    let consent = hub
        .ok(&a_coord, "mutation($c: ID!, $r: ID!) { recordConsent(caseId: $c, purpose: TRANSFER, recipient: $r, givenOn: \"2023-04-01\") { id } }", json!({ "c": case_id, "r": b }))
        .await["recordConsent"]["id"]
        .clone();
    let req = "mutation($c: ID!, $to: ID!, $k: ID!) { requestTransfer(caseId: $c, to: $to, consentId: $k) { id status } }";
    let a_op = hub.token(Some(&a), UserRole::Operator);
    assert_eq!(
        code(
            &hub.gql(
                Some(&a_op),
                req,
                json!({ "c": case_id, "to": b, "k": consent })
            )
            .await
        )
        .as_deref(),
        Some("FORBIDDEN")
    );
    let t = hub
        .ok(
            &a_coord,
            req,
            json!({ "c": case_id, "to": b, "k": consent }),
        )
        .await["requestTransfer"]["id"]
        .clone();
    let b_coord = hub.token(Some(&b), UserRole::Coordinator);
    let b_op = hub.token(Some(&b), UserRole::Operator);
    let view = "query($id: ID!) { case(id: $id) { code alias shelter { address } access { relationships } history { to } } }";
    let seen = hub.ok(&b_op, view, json!({ "id": case_id })).await;
    assert_eq!(seen["case"]["access"]["relationships"], json!(["TRANSFER"]));
    assert!(
        seen["case"]["shelter"].is_null(),
        "LOCATION stays with the owner"
    );
    let pending = hub
        .ok(
            &b_coord,
            "{ sharedWithMe { counts { transfers } transfers { totalCount edges { node { id status } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(pending["sharedWithMe"]["counts"]["transfers"], 1);
    let accept = "mutation($t: ID!) { acceptTransfer(id: $t) { status } }";
    assert_eq!(
        code(&hub.gql(Some(&b_op), accept, json!({ "t": t })).await).as_deref(),
        Some("FORBIDDEN")
    );
    // The sender sees the case but does not decide its own request.
    assert_eq!(
        code(&hub.gql(Some(&a_coord), accept, json!({ "t": t })).await).as_deref(),
        Some("FORBIDDEN")
    );
    assert_eq!(
        hub.ok(&b_coord, accept, json!({ "t": t })).await["acceptTransfer"]["status"],
        "ACCEPTED"
    );
    let now = hub.ok(&b_op, view, json!({ "id": case_id })).await;
    assert_eq!(now["case"]["code"], "T-1");
    assert_eq!(now["case"]["access"]["relationships"], json!(["OWNER"]));
    assert!(
        now["case"]["shelter"].is_null(),
        "the old owner's shelter address does not move with the case"
    );
    assert_eq!(now["case"]["history"].as_array().unwrap().len(), 1);
    let gone = hub.ok(&a_coord, view, json!({ "id": case_id })).await;
    assert!(gone["case"].is_null(), "the old owner keeps nothing");
    assert_eq!(
        code(&hub.gql(Some(&b_coord), accept, json!({ "t": t })).await).as_deref(),
        Some("VALIDATION")
    );
    hub.finish().await;
}
hub_test!(transfer_moves_the_case);

/// TraMa: an ente works a case jointly with a CAV, which adds notes and GBV assessments; the
/// questura with a permit share never sees the shelter.
async fn joint_work_with_the_cav(hub: TestHub) {
    let ente = hub.agency("Micaela", "ENTE_ANTITRATTA", "BG").await;
    let cav = hub
        .agency("CAV La Metà di Niente", "CENTRO_ANTIVIOLENZA", "LO")
        .await;
    let questura = hub.agency("Questura BG", "QUESTURA", "BG").await;
    let coord = hub.token(Some(&ente), UserRole::Coordinator);
    let shelter = hub
        .ok(
            &coord,
            "mutation { createShelter(name: \"Casa BG\", address: \"Via Segreta 3\") { id } }",
            json!({}),
        )
        .await["createShelter"]["id"]
        .clone();
    let (case_id, _) = hub
        .case(
            &ente,
            "J-1",
            json!({ "shelterId": shelter, "nationality": "NG", "permitCurrent": "ART18" }),
        )
        .await;
    for (recipient, purpose) in [(&cav, "JOINT_MANAGEMENT"), (&questura, "PERMIT_PROCEDURE")] {
        let k = hub
            .ok(&coord, "mutation($c: ID!, $r: ID!, $p: SharePurpose!) { recordConsent(caseId: $c, purpose: $p, recipient: $r, givenOn: \"2023-05-01\") { id } }", json!({ "c": case_id, "r": recipient, "p": purpose }))
            .await["recordConsent"]["id"]
            .clone();
        hub.ok(&coord, "mutation($c: ID!, $r: ID!, $p: SharePurpose!, $k: ID!) { shareCase(caseId: $c, recipient: $r, purpose: $p, consentId: $k) { active } }", json!({ "c": case_id, "r": recipient, "p": purpose, "k": k })).await;
    }
    let cav_t = hub.token(Some(&cav), UserRole::Operator);
    let joint = hub
        .ok(
            &cav_t,
            "{ cases(filter: { relationship: JOINT }) { totalCount edges { node { code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(joint["cases"]["totalCount"], 1);
    hub.ok(
        &cav_t,
        "mutation($c: ID!) { addCaseNote(caseId: $c, text: \"colloquio al CAV\") { id } }",
        json!({ "c": case_id }),
    )
    .await;
    let v = hub
        .ok(
            &cav_t,
            "query($id: ID!) { case(id: $id) { version } }",
            json!({ "id": case_id }),
        )
        .await["case"]["version"]
        .clone();
    let gbv = hub.ok(&cav_t, UPDATE.replace("alias history { from to reason }", "gbvRiskLevel").as_str(), json!({ "id": case_id, "v": v, "p": { "gbvRiskLevel": "HIGH", "gbvIndicators": ["partner violence"] } })).await;
    assert_eq!(gbv["updateCase"]["gbvRiskLevel"], "HIGH");
    let v = gbv["updateCase"]["version"].clone();
    let forbidden = hub
        .gql(
            Some(&cav_t),
            UPDATE,
            json!({ "id": case_id, "v": v, "p": { "nationality": "GH" } }),
        )
        .await;
    assert_eq!(code(&forbidden).as_deref(), Some("FORBIDDEN"));
    // The owner reads the CAV's note; the CAV's referral to another ente works too.
    let notes = hub
        .ok(
            &coord,
            "query($id: ID!) { case(id: $id) { notes { text author { id } } } }",
            json!({ "id": case_id }),
        )
        .await;
    assert_eq!(notes["case"]["notes"][0]["author"]["id"], cav.as_str());
    let r = hub.ok(&cav_t, "mutation($i: ReferralInput!) { createReferral(input: $i) { status } }", json!({ "i": { "target": ente, "receivedOn": "2023-05-02", "subjectGender": "FEMALE" } })).await;
    assert_eq!(r["createReferral"]["status"], "RECEIVED");
    // The questura: legal fields yes, the shelter never.
    let q_t = hub.token(Some(&questura), UserRole::Operator);
    let seen = hub
        .ok(
            &q_t,
            "query($id: ID!) { case(id: $id) { permitCurrent nationality shelter { address } } }",
            json!({ "id": case_id }),
        )
        .await;
    assert_eq!(seen["case"]["permitCurrent"], "ART18");
    assert!(seen["case"]["nationality"].is_null());
    assert!(seen["case"]["shelter"].is_null());
    assert!(!seen.to_string().contains("Segreta"));
    hub.finish().await;
}
hub_test!(joint_work_with_the_cav);
