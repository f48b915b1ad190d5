//! Consents, shares, emergency shares and transfers (ACCESS.md §3 and the transfer row of §5),
//! through the public API.
//!
//! Case data leaves the ente that holds it only for a named purpose, to a named agency, with the
//! person's recorded consent. These tests check that the consent is what keeps a share alive (its
//! revocation ends the share on the very next request), that a share or transfer resting on the
//! wrong consent, or going to the wrong kind of agency, is refused and writes nothing, that an
//! emergency share without consent is kept to coordinators, to the purposes that allow it and to
//! 72 hours, and that an accepted transfer moves the whole case to the receiving ente while the old
//! owner keeps nothing unless a share says so. Expectations come from ACCESS.md, by hand; the
//! read-matrix helpers (`expected_view`, ...) are shared with `access.rs`.

use chrono::{DateTime, Duration, Utc};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    access::{
        consent, expect_code, expected_view, full_case, give, id_of, list, normalized, project,
        share, shelter, today, version, view, Rel, ACCEPT, ACCESS_LOG, CONSENT, GIVEN_ON, NEVER,
        REJECT, REVOKE_CONSENT, REVOKE_SHARE, SHARE, TRANSFER, UPDATE,
    },
    common::{code, TestHub},
    hub_test,
};

/// An ente holding one case with every field filled (see `access::full_case`).
struct Scene {
    owner: String,
    case: String,
    /// The owner's operator and coordinator.
    op: String,
    coord: String,
}

async fn scene(hub: &TestHub, code: &str) -> Scene {
    let owner = hub
        .agency(&format!("Ente {code}"), "ENTE_ANTITRATTA", "BG")
        .await;
    let coordination = hub
        .agency(&format!("Coordinamento {code}"), "COORDINAMENTO", "BG")
        .await;
    let project = project(hub, &coordination, &[&owner]).await;
    let sh = shelter(hub, &owner, "Casa Protetta").await;
    let (case, _) = full_case(hub, &owner, &sh, &project, code, false).await;
    Scene {
        op: hub.token(Some(&owner), UserRole::Operator),
        coord: hub.token(Some(&owner), UserRole::Coordinator),
        owner,
        case,
    }
}

/// Asserts that `agency` (as an operator) cannot see `case`: by id it answers exactly like an id
/// never used, and its list of cases does not hold it.
async fn sees_nothing(hub: &TestHub, agency: &str, case: &str, what: &str) {
    let t = hub.token(Some(agency), UserRole::Operator);
    let got = view(hub, &t, case).await;
    assert_eq!(
        got,
        view(hub, &t, NEVER).await,
        "{what}: the case must not exist for {agency}"
    );
    assert!(got["data"]["case"].is_null(), "{what}: {got}");
    let listed = list(hub, &t).await;
    let ids: Vec<&Value> = listed["data"]["cases"]["edges"]
        .as_array()
        .map(|e| e.iter().map(|e| &e["node"]["id"]).collect())
        .unwrap_or_default();
    assert!(
        !ids.contains(&&json!(case)),
        "{what}: listed for {agency}: {listed}"
    );
}

/// The relationships `agency`'s operator has to `case` (fails if it cannot see it).
async fn relationships(hub: &TestHub, agency: &str, case: &str) -> Value {
    let t = hub.token(Some(agency), UserRole::Operator);
    let got = view(hub, &t, case).await;
    assert!(
        !got["data"]["case"].is_null(),
        "{agency} should see {case}: {got}"
    );
    got["data"]["case"]["access"]["relationships"].clone()
}

/// The operations written to a case's access log (read by the owner's coordinator).
async fn logged_operations(hub: &TestHub, coord: &str, case: &str) -> Vec<String> {
    let d = hub.ok(coord, ACCESS_LOG, json!({ "c": case })).await;
    d["caseAccessLog"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["operation"].as_str().unwrap().to_string())
        .collect()
}

fn yesterday() -> String {
    (raccordo_api::access::local_date(Utc::now()) - Duration::days(1)).to_string()
}

/// §3: a share lives only as long as the person's consent; revoking the consent ends it on the
/// very next request, and a revoked or expired consent backs no new share.
async fn revoking_consent_ends_shares_at_once(hub: TestHub) {
    let s = scene(&hub, "CONSENSO-1").await;
    let cav = hub
        .agency("CAV Butterfly", "CENTRO_ANTIVIOLENZA", "BS")
        .await;
    let questura = hub.agency("Questura BG", "QUESTURA", "BG").await;
    let (c_cav, _) = give(&hub, &s.owner, &s.case, Rel::Joint, &cav).await;
    let (c_questura, _) = give(&hub, &s.owner, &s.case, Rel::Permit, &questura).await;
    assert_eq!(relationships(&hub, &cav, &s.case).await, json!(["JOINT"]));

    // The recipient may not touch the consent its access rests on (it sees the case).
    let cav_op = hub.token(Some(&cav), UserRole::Coordinator);
    let r = hub
        .gql(
            Some(&cav_op),
            REVOKE_CONSENT,
            json!({ "id": c_cav, "on": today() }),
        )
        .await;
    expect_code(&r, "FORBIDDEN", "a recipient revoking a consent");

    // The owner's operator records the withdrawal: the very next request sees nothing.
    let d = hub
        .ok(&s.op, REVOKE_CONSENT, json!({ "id": c_cav, "on": today() }))
        .await;
    assert_eq!(d["revokeConsent"]["revokedOn"], today());
    sees_nothing(&hub, &cav, &s.case, "after the consent was revoked").await;
    // Another agency's consent, and its share, stand.
    assert_eq!(
        relationships(&hub, &questura, &s.case).await,
        json!(["PERMIT"])
    );
    // The former recipient now finds no consent to revoke, exactly as for an id never used.
    let r = hub
        .gql(
            Some(&cav_op),
            REVOKE_CONSENT,
            json!({ "id": c_questura, "on": today() }),
        )
        .await;
    let unused = hub
        .gql(
            Some(&cav_op),
            REVOKE_CONSENT,
            json!({ "id": NEVER, "on": today() }),
        )
        .await;
    expect_code(&r, "NOT_FOUND", "a consent of a hidden case");
    assert_eq!(r, unused);

    // A revoked consent backs no new share; revoking twice is refused.
    let r = hub
        .gql(
            Some(&s.coord),
            SHARE,
            json!({ "c": s.case, "r": cav, "p": "JOINT_MANAGEMENT", "k": c_cav }),
        )
        .await;
    expect_code(&r, "VALIDATION", "a share on a revoked consent");
    let r = hub
        .gql(
            Some(&s.coord),
            REVOKE_CONSENT,
            json!({ "id": c_cav, "on": today() }),
        )
        .await;
    expect_code(&r, "VALIDATION", "revoking twice");
    sees_nothing(&hub, &cav, &s.case, "after the refused share").await;

    // An expired consent backs no share either.
    let d = hub
        .ok(
            &s.coord,
            CONSENT,
            json!({ "c": s.case, "p": "JOINT_MANAGEMENT", "r": cav, "g": GIVEN_ON, "e": "2023-06-30" }),
        )
        .await;
    let expired = id_of(&d, "recordConsent");
    let r = hub
        .gql(
            Some(&s.coord),
            SHARE,
            json!({ "c": s.case, "r": cav, "p": "JOINT_MANAGEMENT", "k": expired }),
        )
        .await;
    expect_code(&r, "VALIDATION", "a share on an expired consent");
    sees_nothing(&hub, &cav, &s.case, "after the expired consent").await;

    // Revoking the PERMIT consent ends that share too.
    hub.ok(
        &s.coord,
        REVOKE_CONSENT,
        json!({ "id": c_questura, "on": today() }),
    )
    .await;
    sees_nothing(&hub, &questura, &s.case, "after the second revocation").await;
    hub.finish().await;
}
hub_test!(revoking_consent_ends_shares_at_once);

/// §3: a share is active while not revoked and not past its `expiresOn`: one already expired
/// cannot be made, and `revokeShare` ends access at once.
async fn share_expiry_and_revocation(hub: TestHub) {
    let s = scene(&hub, "SCADENZA-1").await;
    let cav = hub
        .agency("CAV La Meta di Niente", "CENTRO_ANTIVIOLENZA", "LO")
        .await;
    let c = consent(&hub, &s.coord, &s.case, "JOINT_MANAGEMENT", &cav).await;
    let r = hub
        .gql(
            Some(&s.coord),
            SHARE,
            json!({ "c": s.case, "r": cav, "p": "JOINT_MANAGEMENT", "k": c, "e": yesterday() }),
        )
        .await;
    expect_code(&r, "VALIDATION", "a share that expired yesterday");
    assert_eq!(r["errors"][0]["extensions"]["field"], "expiresOn");
    sees_nothing(&hub, &cav, &s.case, "after the refused share").await;
    assert!(
        !logged_operations(&hub, &s.coord, &s.case)
            .await
            .contains(&"shareCase".to_string()),
        "a refused share writes nothing"
    );

    // Until the end of today: active now.
    let d = hub
        .ok(
            &s.coord,
            SHARE,
            json!({ "c": s.case, "r": cav, "p": "JOINT_MANAGEMENT", "k": c, "e": today() }),
        )
        .await;
    assert_eq!(d["shareCase"]["active"], true);
    let share_id = id_of(&d, "shareCase");
    assert_eq!(relationships(&hub, &cav, &s.case).await, json!(["JOINT"]));

    // The recipient cannot end it (it sees the case): FORBIDDEN.
    let cav_coord = hub.token(Some(&cav), UserRole::Coordinator);
    let r = hub
        .gql(Some(&cav_coord), REVOKE_SHARE, json!({ "id": share_id }))
        .await;
    expect_code(&r, "FORBIDDEN", "the recipient revoking a share");

    // The owner's operator ends it: at once.
    let d = hub.ok(&s.op, REVOKE_SHARE, json!({ "id": share_id })).await;
    assert_eq!(d["revokeShare"]["active"], false);
    sees_nothing(&hub, &cav, &s.case, "after revokeShare").await;
    let r = hub
        .gql(Some(&s.op), REVOKE_SHARE, json!({ "id": share_id }))
        .await;
    expect_code(&r, "VALIDATION", "revoking a share twice");
    // The former recipient: no such share, as for an id never used.
    let r = hub
        .gql(Some(&cav_coord), REVOKE_SHARE, json!({ "id": share_id }))
        .await;
    let unused = hub
        .gql(Some(&cav_coord), REVOKE_SHARE, json!({ "id": NEVER }))
        .await;
    expect_code(&r, "NOT_FOUND", "a share of a hidden case");
    assert_eq!(r, unused);
    hub.finish().await;
}
hub_test!(share_expiry_and_revocation);

/// §3: the consent must name the same case, purpose and recipient; each purpose goes only to its
/// kinds; a transfer needs a TRANSFER consent to that ente; a share takes exactly one of a consent
/// or an emergency reason. Every refusal is VALIDATION and writes nothing.
async fn consents_must_match(hub: TestHub) {
    let s = scene(&hub, "MATCH-1").await;
    let other = scene(&hub, "MATCH-2").await;
    let cav1 = hub.agency("CAV Uno", "CENTRO_ANTIVIOLENZA", "BG").await;
    let cav2 = hub.agency("CAV Due", "CENTRO_ANTIVIOLENZA", "BG").await;
    let ente2 = hub.agency("Ente Due", "ENTE_ANTITRATTA", "BG").await;
    let ente3 = hub.agency("Ente Tre", "ENTE_ANTITRATTA", "BG").await;
    let questura = hub.agency("Questura", "QUESTURA", "BG").await;
    let fo = hub.agency("Guardia di Finanza", "FORZE_ORDINE", "BG").await;
    let c_cav1 = consent(&hub, &s.coord, &s.case, "JOINT_MANAGEMENT", &cav1).await;
    let c_transfer = consent(&hub, &s.coord, &s.case, "TRANSFER", &ente2).await;
    let c_joint_ente2 = consent(&hub, &s.coord, &s.case, "JOINT_MANAGEMENT", &ente2).await;
    let c_other_case = consent(&hub, &other.coord, &other.case, "JOINT_MANAGEMENT", &cav1).await;
    let c_judicial = consent(&hub, &s.coord, &s.case, "JUDICIAL_COOPERATION", &fo).await;

    let share = |recipient: &str, purpose: &str, consent: Value, reason: Value| json!({ "c": s.case, "r": recipient, "p": purpose, "k": consent, "why": reason });
    let refused = [
        (
            "a consent for another recipient",
            SHARE,
            share(&cav2, "JOINT_MANAGEMENT", json!(c_cav1), Value::Null),
        ),
        (
            "a consent for another purpose",
            SHARE,
            share(&ente2, "JOINT_MANAGEMENT", json!(c_transfer), Value::Null),
        ),
        (
            "a consent of another case",
            SHARE,
            share(&cav1, "JOINT_MANAGEMENT", json!(c_other_case), Value::Null),
        ),
        (
            "a consent that does not exist",
            SHARE,
            share(&cav1, "JOINT_MANAGEMENT", json!(NEVER), Value::Null),
        ),
        (
            "PERMIT_PROCEDURE to a CAV",
            SHARE,
            share(&cav1, "PERMIT_PROCEDURE", json!(c_cav1), Value::Null),
        ),
        (
            "JUDICIAL_COOPERATION to a questura",
            SHARE,
            share(
                &questura,
                "JUDICIAL_COOPERATION",
                json!(c_judicial),
                Value::Null,
            ),
        ),
        (
            "a share for TRANSFER",
            SHARE,
            share(&ente2, "TRANSFER", json!(c_transfer), Value::Null),
        ),
        (
            "both a consent and an emergency reason",
            SHARE,
            share(
                &fo,
                "JUDICIAL_COOPERATION",
                json!(c_judicial),
                json!("pericolo"),
            ),
        ),
        (
            "neither a consent nor an emergency reason",
            SHARE,
            share(&fo, "JUDICIAL_COOPERATION", Value::Null, Value::Null),
        ),
        (
            "a transfer without a TRANSFER consent",
            TRANSFER,
            json!({ "c": s.case, "to": ente2, "k": c_joint_ente2 }),
        ),
        (
            "a transfer on a consent naming another ente",
            TRANSFER,
            json!({ "c": s.case, "to": ente3, "k": c_transfer }),
        ),
        (
            "a transfer to a questura",
            TRANSFER,
            json!({ "c": s.case, "to": questura, "k": c_transfer }),
        ),
        (
            "a transfer to the ente that holds the case",
            TRANSFER,
            json!({ "c": s.case, "to": s.owner, "k": c_transfer }),
        ),
    ];
    for (what, doc, vars) in refused {
        let r = hub.gql(Some(&s.coord), doc, vars).await;
        expect_code(&r, "VALIDATION", what);
    }
    // Consents themselves go only to the purpose's kinds.
    for (purpose, recipient) in [
        ("JOINT_MANAGEMENT", &questura),
        ("PERMIT_PROCEDURE", &cav1),
        ("TRANSFER", &cav1),
        ("SERVICE_REFERRAL", &fo),
        ("JUDICIAL_COOPERATION", &ente2),
    ] {
        let r = hub
            .gql(
                Some(&s.coord),
                CONSENT,
                json!({ "c": s.case, "p": purpose, "r": recipient, "g": GIVEN_ON }),
            )
            .await;
        expect_code(&r, "VALIDATION", &format!("a consent for {purpose}"));
    }
    // Nothing was written: nobody sees the case, no share or transfer was logged.
    for agency in [&cav1, &cav2, &ente2, &ente3, &questura, &fo] {
        sees_nothing(&hub, agency, &s.case, "after refused shares").await;
    }
    let ops = logged_operations(&hub, &s.coord, &s.case).await;
    for op in ["shareCase", "emergencyShare", "requestTransfer"] {
        assert!(
            !ops.iter().any(|o| o == op),
            "{op} written by a refused request: {ops:?}"
        );
    }
    hub.finish().await;
}
hub_test!(consents_must_match);

/// §3 emergency access: without consent, by a COORDINATOR of the owner only, for the purposes
/// the document names (JUDICIAL_COOPERATION, SERVICE_REFERRAL), for at most 72 hours, logged
/// with its reason and listed for the owner's coordinators.
async fn emergency_shares(hub: TestHub) {
    let s = scene(&hub, "EMERG-1").await;
    let fo = hub.agency("Polizia di Stato", "FORZE_ORDINE", "BG").await;
    let services = hub
        .agency("Servizi Sociali", "SERVIZI_TERRITORIALI", "BG")
        .await;
    let cav = hub.agency("CAV", "CENTRO_ANTIVIOLENZA", "BG").await;
    let questura = hub.agency("Questura", "QUESTURA", "BG").await;
    let reason = "minacce di morte, persona irreperibile per il consenso";
    let emergency = |recipient: &str, purpose: &str, expires: Value| json!({ "c": s.case, "r": recipient, "p": purpose, "why": reason, "e": expires });

    // An operator cannot.
    let r = hub
        .gql(
            Some(&s.op),
            SHARE,
            emergency(&fo, "JUDICIAL_COOPERATION", Value::Null),
        )
        .await;
    expect_code(&r, "FORBIDDEN", "an operator's emergency share");
    sees_nothing(&hub, &fo, &s.case, "after the operator's attempt").await;
    // Purposes that allow no emergency.
    for (recipient, purpose) in [(&cav, "JOINT_MANAGEMENT"), (&questura, "PERMIT_PROCEDURE")] {
        let r = hub
            .gql(
                Some(&s.coord),
                SHARE,
                emergency(recipient, purpose, Value::Null),
            )
            .await;
        expect_code(
            &r,
            "VALIDATION",
            &format!("an emergency share for {purpose}"),
        );
        sees_nothing(&hub, recipient, &s.case, purpose).await;
    }
    // Other agencies' coordinators cannot share the case at all.
    let fo_coord = hub.token(Some(&fo), UserRole::Coordinator);
    let r = hub
        .gql(
            Some(&fo_coord),
            SHARE,
            emergency(&fo, "JUDICIAL_COOPERATION", Value::Null),
        )
        .await;
    let unused = hub
        .gql(
            Some(&fo_coord),
            SHARE,
            json!({ "c": NEVER, "r": fo, "p": "JUDICIAL_COOPERATION", "why": reason, "e": null }),
        )
        .await;
    assert_eq!(
        r, unused,
        "a stranger's emergency share: like an id never used"
    );

    // The owner's coordinator can, for judicial cooperation.
    let before = Utc::now();
    let d = hub
        .ok(
            &s.coord,
            SHARE,
            emergency(&fo, "JUDICIAL_COOPERATION", Value::Null),
        )
        .await;
    let made = &d["shareCase"];
    assert_eq!(made["emergency"], true);
    assert_eq!(made["active"], true);
    assert_eq!(made["emergencyReason"], reason);
    let until: DateTime<Utc> = made["expiresAt"]
        .as_str()
        .expect("an emergency share ends")
        .parse()
        .expect("an RFC 3339 instant");
    assert!(
        until > before && until <= Utc::now() + Duration::hours(72),
        "at most 72 hours: {until}"
    );
    let judicial_share = id_of(&d, "shareCase");
    let fo_op = hub.token(Some(&fo), UserRole::Operator);
    let seen = view(&hub, &fo_op, &s.case).await;
    let owner_view = view(&hub, &s.op, &s.case).await;
    assert_eq!(
        normalized(&seen["data"]["case"]),
        expected_view(&normalized(&owner_view["data"]["case"]), Rel::Judicial, &fo),
        "an emergency share gives the JUDICIAL classes"
    );
    assert_eq!(seen["data"]["case"]["complaintFiled"], true);

    // Service referral allows it too; a later expiresOn is cut to 72 hours.
    let d = hub
        .ok(
            &s.coord,
            SHARE,
            emergency(&services, "SERVICE_REFERRAL", json!("2099-12-31")),
        )
        .await;
    let until: DateTime<Utc> = d["shareCase"]["expiresAt"]
        .as_str()
        .expect("an end")
        .parse()
        .expect("an instant");
    assert!(
        until <= Utc::now() + Duration::hours(72),
        "capped at 72 hours: {until}"
    );
    let service_share = id_of(&d, "shareCase");
    assert_eq!(
        relationships(&hub, &services, &s.case).await,
        json!(["SERVICE"])
    );

    // Logged with the reason.
    let log = hub.ok(&s.coord, ACCESS_LOG, json!({ "c": s.case })).await;
    let with_reason: Vec<&Value> = log["caseAccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"] == reason)
        .collect();
    assert_eq!(with_reason.len(), 2, "one entry per emergency share: {log}");
    for e in with_reason {
        assert_eq!(e["agency"]["id"], s.owner);
        assert_eq!(e["role"], "COORDINATOR");
    }

    // Listed for review by the owner's coordinators, not by the recipient's.
    let review = "{ emergencyShares { id emergency emergencyReason } }";
    let d = hub.ok(&s.coord, review, json!({})).await;
    let listed: Vec<&Value> = d["emergencyShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(
        listed.contains(&&json!(judicial_share)) && listed.contains(&&json!(service_share)),
        "the owner's coordinators review emergency shares: {d}"
    );
    let d = hub.gql(Some(&fo_coord), review, json!({})).await;
    assert!(
        !d.to_string().contains(&judicial_share),
        "the recipient does not review the owner's emergencies: {d}"
    );
    hub.finish().await;
}
hub_test!(emergency_shares);

/// §3 and §5: a transfer needs a TRANSFER consent and a coordinator on both sides; while pending
/// the receiving ente reads the TRANSFER classes; on acceptance it becomes the OWNER and the old
/// owner keeps nothing, unless a share says otherwise.
async fn transfer_moves_ownership(hub: TestHub) {
    let s = scene(&hub, "MIR-1").await;
    let receiver = hub.agency("Casa Betel 2000", "ENTE_ANTITRATTA", "BS").await;
    let c = consent(&hub, &s.coord, &s.case, "TRANSFER", &receiver).await;
    let r = hub
        .gql(
            Some(&s.op),
            TRANSFER,
            json!({ "c": s.case, "to": receiver, "k": c }),
        )
        .await;
    expect_code(&r, "FORBIDDEN", "an operator requesting a transfer");
    sees_nothing(&hub, &receiver, &s.case, "before the request").await;
    let d = hub
        .ok(
            &s.coord,
            TRANSFER,
            json!({ "c": s.case, "to": receiver, "k": c }),
        )
        .await;
    let transfer = id_of(&d, "requestTransfer");

    // Pending: the receiver reads what TRANSFER allows.
    let reference = normalized(&view(&hub, &s.op, &s.case).await["data"]["case"]);
    let r_op = hub.token(Some(&receiver), UserRole::Operator);
    let r_coord = hub.token(Some(&receiver), UserRole::Coordinator);
    let seen = view(&hub, &r_op, &s.case).await;
    assert_eq!(
        normalized(&seen["data"]["case"]),
        expected_view(&reference, Rel::Transfer, &receiver)
    );
    // Only its coordinator decides; an analyst does not even see it.
    let r = hub
        .gql(Some(&r_op), ACCEPT, json!({ "id": transfer }))
        .await;
    expect_code(&r, "FORBIDDEN", "an operator accepting");
    let analyst = hub.token(Some(&receiver), UserRole::Analyst);
    let r = hub
        .gql(Some(&analyst), ACCEPT, json!({ "id": transfer }))
        .await;
    assert_eq!(
        r,
        hub.gql(Some(&analyst), ACCEPT, json!({ "id": NEVER }))
            .await,
        "an analyst accepting: like an id never used"
    );
    let d = hub.ok(&r_coord, ACCEPT, json!({ "id": transfer })).await;
    assert_eq!(d["acceptTransfer"]["status"], "ACCEPTED");

    // The receiver is the OWNER now: every class, the same id, code and history.
    let seen = view(&hub, &r_op, &s.case).await;
    let case = &seen["data"]["case"];
    assert_eq!(case["access"]["relationships"], json!(["OWNER"]));
    assert_eq!(
        normalized(case)["access"]["visibleClasses"],
        json!([
            "BASE", "GBV", "HEALTH", "IDENTITY", "JUDICIAL", "LEGAL", "LOCATION", "NOTES",
            "PATHWAY", "PROFILE"
        ])
    );
    assert_eq!(case["owner"]["id"], receiver);
    assert_eq!(case["code"], reference["code"]);
    assert_eq!(case["history"], reference["history"]);
    assert_eq!(case["alias"], reference["alias"]);
    // §8: a shelter's protected address is for the agency that runs it. The person's shelter
    // belongs to the old owner; the new owner must not learn its address.
    assert!(
        case["shelter"].is_null(),
        "the new owner reads the old owner's protected shelter: {}",
        case["shelter"]
    );

    // The old owner keeps nothing: not by id, not in lists, not for changes or the log.
    sees_nothing(&hub, &s.owner, &s.case, "the old owner after acceptance").await;
    let (v, _) = version(&hub, &receiver, &s.case).await;
    let change = |id: &str| json!({ "id": id, "v": v, "p": { "alias": "x" } });
    let r = hub.gql(Some(&s.coord), UPDATE, change(&s.case)).await;
    assert_eq!(
        r,
        hub.gql(Some(&s.coord), UPDATE, change(NEVER)).await,
        "the old owner changing the case"
    );
    let r = hub
        .gql(Some(&s.coord), ACCESS_LOG, json!({ "c": s.case }))
        .await;
    assert_eq!(
        r,
        hub.gql(Some(&s.coord), ACCESS_LOG, json!({ "c": NEVER }))
            .await,
        "the old owner's coordinator reading the log"
    );

    // Unless a share says otherwise: the new owner shares back for joint management.
    give(&hub, &receiver, &s.case, Rel::Joint, &s.owner).await;
    let new_reference = normalized(&view(&hub, &r_op, &s.case).await["data"]["case"]);
    let back = view(&hub, &s.op, &s.case).await;
    assert_eq!(
        normalized(&back["data"]["case"]),
        expected_view(&new_reference, Rel::Joint, &s.owner),
        "the old owner as a joint partner"
    );
    hub.finish().await;
}
hub_test!(transfer_moves_ownership);

/// §3: a pending transfer needs an active TRANSFER consent; once the consent is revoked the
/// receiving ente has no relationship, cannot accept, and is not told about the request anywhere.
async fn transfer_ends_with_its_consent(hub: TestHub) {
    let s = scene(&hub, "MIR-2").await;
    let receiver = hub
        .agency("Fondazione Somaschi", "ENTE_ANTITRATTA", "MI")
        .await;
    let (c, transfer) = give(&hub, &s.owner, &s.case, Rel::Transfer, &receiver).await;
    assert_eq!(
        relationships(&hub, &receiver, &s.case).await,
        json!(["TRANSFER"])
    );
    hub.ok(&s.coord, REVOKE_CONSENT, json!({ "id": c, "on": today() }))
        .await;
    sees_nothing(
        &hub,
        &receiver,
        &s.case,
        "after the TRANSFER consent was revoked",
    )
    .await;
    let r_coord = hub.token(Some(&receiver), UserRole::Coordinator);
    for doc in [ACCEPT, REJECT] {
        let r = hub
            .gql(Some(&r_coord), doc, json!({ "id": transfer }))
            .await;
        expect_code(
            &r,
            "NOT_FOUND",
            "deciding a transfer whose consent was revoked",
        );
        assert_eq!(
            r,
            hub.gql(Some(&r_coord), doc, json!({ "id": NEVER })).await
        );
    }
    let d = hub
        .ok(
            &r_coord,
            "{ sharedWithMe { counts { transfers } transfers { edges { node { id caseId from { id } } } } } }",
            json!({}),
        )
        .await;
    assert!(
        !d.to_string().contains(&s.case) && d["sharedWithMe"]["counts"]["transfers"] == 0,
        "a transfer without consent is listed to the receiver: {d}"
    );
    hub.finish().await;
}
hub_test!(transfer_ends_with_its_consent);

/// §5: once the receiving ente has rejected a transfer it has no relationship to the case, so
/// deciding that request again answers NOT_FOUND exactly like an id never used.
async fn rejected_transfer_is_gone(hub: TestHub) {
    let s = scene(&hub, "MIR-3").await;
    let receiver = hub.agency("Farsi Prossimo", "ENTE_ANTITRATTA", "MI").await;
    let (_, transfer) = give(&hub, &s.owner, &s.case, Rel::Transfer, &receiver).await;
    let r_coord = hub.token(Some(&receiver), UserRole::Coordinator);
    let d = hub.ok(&r_coord, REJECT, json!({ "id": transfer })).await;
    assert_eq!(d["rejectTransfer"]["status"], "REJECTED");
    sees_nothing(&hub, &receiver, &s.case, "after rejecting").await;
    assert_eq!(
        relationships(&hub, &s.owner, &s.case).await,
        json!(["OWNER"])
    );
    for doc in [ACCEPT, REJECT] {
        let r = hub
            .gql(Some(&r_coord), doc, json!({ "id": transfer }))
            .await;
        let unused = hub.gql(Some(&r_coord), doc, json!({ "id": NEVER })).await;
        assert_eq!(
            (code(&r), &r),
            (Some("NOT_FOUND".to_string()), &unused),
            "deciding a rejected transfer of a case the ente cannot see"
        );
    }
    hub.finish().await;
}
hub_test!(rejected_transfer_is_gone);

/// The lists of what moves between partners follow the same rules as the case itself: a share
/// whose consent was revoked is listed to nobody as active; a case's consents and shares are the
/// owner's paperwork (a recipient that sees the case: FORBIDDEN; anyone else: like an id never
/// used).
async fn sharing_lists_follow_relationships(hub: TestHub) {
    let s = scene(&hub, "LISTE-1").await;
    let cav = hub.agency("CAV Pavia", "CENTRO_ANTIVIOLENZA", "PV").await;
    let stranger = hub.agency("Altro Ente", "ENTE_ANTITRATTA", "PV").await;
    let (c, made) = give(&hub, &s.owner, &s.case, Rel::Joint, &cav).await;
    let cav_op = hub.token(Some(&cav), UserRole::Operator);
    let with_me = "{ sharedWithMe { counts { shares } shares { totalCount edges { node { id caseId active } } } } }";
    let d = hub.ok(&cav_op, with_me, json!({})).await;
    assert_eq!(d["sharedWithMe"]["counts"]["shares"], 1, "{d}");
    assert_eq!(d["sharedWithMe"]["shares"]["edges"][0]["node"]["id"], made);
    let by_me = "{ sharedByMe { counts { shares } shares { totalCount edges { node { id } } } } }";
    let d = hub.ok(&s.op, by_me, json!({})).await;
    assert_eq!(
        d["sharedByMe"]["shares"]["edges"][0]["node"]["id"], made,
        "{d}"
    );

    for (field, doc) in [
        (
            "caseConsents",
            "query($c: ID!) { caseConsents(caseId: $c) { id purpose recipient { id } } }",
        ),
        (
            "caseShares",
            "query($c: ID!) { caseShares(caseId: $c) { id active recipient { id } } }",
        ),
    ] {
        let d = hub.ok(&s.op, doc, json!({ "c": s.case })).await;
        assert_eq!(d[field].as_array().map(Vec::len), Some(1), "{d}");
        let r = hub.gql(Some(&cav_op), doc, json!({ "c": s.case })).await;
        expect_code(&r, "FORBIDDEN", &format!("{field} for a joint partner"));
        for t in [
            hub.token(Some(&stranger), UserRole::Coordinator),
            hub.token(Some(&s.owner), UserRole::Analyst),
            hub.admin(),
        ] {
            let r = hub.gql(Some(&t), doc, json!({ "c": s.case })).await;
            let unused = hub.gql(Some(&t), doc, json!({ "c": NEVER })).await;
            expect_code(
                &r,
                "NOT_FOUND",
                &format!("{field} for who cannot see the case"),
            );
            assert_eq!(r, unused, "{field}: like an id never used");
        }
    }

    // The consent is revoked: the share is active nowhere.
    hub.ok(&s.op, REVOKE_CONSENT, json!({ "id": c, "on": today() }))
        .await;
    let d = hub.ok(&cav_op, with_me, json!({})).await;
    assert_eq!(
        d["sharedWithMe"],
        json!({ "counts": { "shares": 0 }, "shares": { "totalCount": 0, "edges": [] } }),
        "a share without consent is listed to its recipient"
    );
    let d = hub.ok(&s.op, by_me, json!({})).await;
    assert_eq!(
        d["sharedByMe"],
        json!({ "counts": { "shares": 0 }, "shares": { "totalCount": 0, "edges": [] } })
    );
    let d = hub
        .ok(
            &s.op,
            "query($c: ID!) { caseShares(caseId: $c) { id active } }",
            json!({ "c": s.case }),
        )
        .await;
    assert_eq!(d["caseShares"], json!([{ "id": made, "active": false }]));
    hub.finish().await;
}
hub_test!(sharing_lists_follow_relationships);

/// §5, the attack of issue 12: an owner names itself in a consent or a share, hands the case
/// over, and keeps reading it. Consents, shares and transfers naming the owner are VALIDATION;
/// accepting a transfer ends every share and consent whose recipient is the new owner, and those
/// to the old owner (written before the rule existed): the old owner reads nothing until the new
/// owner shares with it, with a consent.
async fn owner_keeps_nothing_after_handover(hub: TestHub) {
    let s = scene(&hub, "MICAELA-1").await;
    let lule = hub
        .agency("Cooperativa Lule", "ENTE_ANTITRATTA", "BG")
        .await;
    let cav = hub.agency("CAV Lodi", "CENTRO_ANTIVIOLENZA", "LO").await;
    for purpose in ["JOINT_MANAGEMENT", "TRANSFER"] {
        let r = hub
            .gql(
                Some(&s.coord),
                CONSENT,
                json!({ "c": s.case, "p": purpose, "r": s.owner, "g": GIVEN_ON }),
            )
            .await;
        expect_code(
            &r,
            "VALIDATION",
            &format!("a {purpose} consent naming the owner"),
        );
        assert_eq!(r["errors"][0]["extensions"]["field"], "recipient", "{r}");
    }
    let c_cav = consent(&hub, &s.coord, &s.case, "JOINT_MANAGEMENT", &cav).await;
    for (consent_id, reason) in [
        (json!(c_cav), Value::Null),
        (Value::Null, json!("pericolo")),
    ] {
        let r = hub
            .gql(
                Some(&s.coord),
                SHARE,
                json!({ "c": s.case, "r": s.owner, "p": "JOINT_MANAGEMENT", "k": consent_id, "why": reason }),
            )
            .await;
        expect_code(&r, "VALIDATION", "a share naming the owner");
        assert_eq!(r["errors"][0]["extensions"]["field"], "recipient", "{r}");
    }

    // A self-share written before the rule existed: a share to the CAV re-pointed at the owner.
    let legacy = share(&hub, &s.coord, &s.case, &cav, "JOINT_MANAGEMENT", &c_cav).await;
    let db = &hub.hub.state.db;
    for sql in [
        format!(
            "UPDATE shares SET recipient_id = '{}' WHERE id = '{legacy}'",
            s.owner
        ),
        format!(
            "UPDATE consents SET recipient_id = '{}' WHERE id = '{c_cav}'",
            s.owner
        ),
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(db, &sql)
            .await
            .expect("re-point the share");
    }
    // The future owner is a joint partner too before the hand-over.
    give(&hub, &s.owner, &s.case, Rel::Joint, &lule).await;
    let (_, transfer) = give(&hub, &s.owner, &s.case, Rel::Transfer, &lule).await;
    let l_coord = hub.token(Some(&lule), UserRole::Coordinator);
    hub.ok(&l_coord, ACCEPT, json!({ "id": transfer })).await;

    sees_nothing(&hub, &s.owner, &s.case, "the old owner after the hand-over").await;
    assert_eq!(relationships(&hub, &lule, &s.case).await, json!(["OWNER"]));
    let d = hub
        .ok(
            &l_coord,
            "query($c: ID!) { caseShares(caseId: $c) { recipient { id } active } caseConsents(caseId: $c) { id recipient { id } revokedOn } }",
            json!({ "c": s.case }),
        )
        .await;
    for sh in d["caseShares"].as_array().expect("shares") {
        assert_eq!(sh["active"], false, "a share outlived the hand-over: {d}");
    }
    // Ended on the hub's day (Italy's), which is not always the test's UTC day.
    for c in d["caseConsents"].as_array().expect("consents") {
        assert!(
            c["revokedOn"].is_string(),
            "a consent outlived the hand-over: {d}"
        );
    }
    // The old ownership's consent to the old owner backs nothing: the new owner shares back
    // only with a consent it records itself.
    let r = hub
        .gql(
            Some(&l_coord),
            SHARE,
            json!({ "c": s.case, "r": s.owner, "p": "JOINT_MANAGEMENT", "k": c_cav }),
        )
        .await;
    expect_code(
        &r,
        "VALIDATION",
        "a share resting on a consent of the old ownership",
    );
    sees_nothing(&hub, &s.owner, &s.case, "after a refused share").await;
    give(&hub, &lule, &s.case, Rel::Joint, &s.owner).await;
    assert_eq!(
        relationships(&hub, &s.owner, &s.case).await,
        json!(["JOINT"])
    );
    hub.finish().await;
}
hub_test!(owner_keeps_nothing_after_handover);

/// The codes of the cases `token` lists with `filter`.
async fn codes_listed(hub: &TestHub, token: &str, filter: Value) -> Vec<String> {
    let d = hub
        .ok(
            token,
            "query($f: CaseFilter) { cases(filter: $f) { edges { node { code } } } }",
            json!({ "f": filter }),
        )
        .await;
    let mut codes: Vec<String> = d["cases"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["node"]["code"].as_str().map(str::to_string))
        .collect();
    codes.sort();
    codes
}

/// §4 and issue 12: `permitExpiresBefore` gives a questura its "permits expiring" list; like every
/// filter it matches only cases where the viewer may read the field (LEGAL): a SERVICE recipient
/// of the same case gets nothing from it, and no case it cannot see.
async fn permits_expiring(hub: TestHub) {
    let owner = hub.agency("Ente Permessi", "ENTE_ANTITRATTA", "BG").await;
    let questura = hub.agency("Questura di Bergamo", "QUESTURA", "BG").await;
    let servizi = hub
        .agency("Servizi Sociali BG", "SERVIZI_TERRITORIALI", "BG")
        .await;
    let mut ids = Vec::new();
    for (code, expires) in [
        ("PE-1", "2024-01-10"),
        ("PE-2", "2030-06-30"),
        ("PE-3", "2024-01-05"),
    ] {
        let (id, _) = hub
            .case(
                &owner,
                code,
                json!({ "permitCurrent": "ART18", "permitExpiresOn": expires }),
            )
            .await;
        ids.push(id);
    }
    // The questura works PE-1 and PE-2; PE-3 expires too but is not shared with it.
    for id in &ids[..2] {
        give(&hub, &owner, id, Rel::Permit, &questura).await;
    }
    give(&hub, &owner, &ids[0], Rel::Service, &servizi).await;
    let before = json!({ "permitExpiresBefore": "2024-12-31" });
    let q = hub.token(Some(&questura), UserRole::Operator);
    assert_eq!(codes_listed(&hub, &q, before.clone()).await, ["PE-1"]);
    assert_eq!(codes_listed(&hub, &q, json!({})).await, ["PE-1", "PE-2"]);
    let sv = hub.token(Some(&servizi), UserRole::Operator);
    assert_eq!(codes_listed(&hub, &sv, json!({})).await, ["PE-1"]);
    assert!(
        codes_listed(&hub, &sv, before.clone()).await.is_empty(),
        "a SERVICE recipient filtered on LEGAL"
    );
    let o = hub.token(Some(&owner), UserRole::Operator);
    assert_eq!(codes_listed(&hub, &o, before).await, ["PE-1", "PE-3"]);
    hub.finish().await;
}
hub_test!(permits_expiring);

/// Issue 12: a case opened on a referral gets an automatic `REF-…` code; its owner sets its own
/// through `updateCase`, unique among its cases. Nobody else may.
async fn owner_sets_the_code(hub: TestHub) {
    let s = scene(&hub, "CODICE-1").await;
    hub.case(&s.owner, "CODICE-2", json!({})).await;
    let cav = hub.agency("CAV Codici", "CENTRO_ANTIVIOLENZA", "BG").await;
    give(&hub, &s.owner, &s.case, Rel::Joint, &cav).await;
    let (v, _) = version(&hub, &s.owner, &s.case).await;
    let change = |code: &str| json!({ "id": s.case, "v": v, "p": { "code": code } });
    let r = hub.gql(Some(&s.op), UPDATE, change("CODICE-2")).await;
    expect_code(&r, "VALIDATION", "a code the owner already uses");
    assert_eq!(r["errors"][0]["extensions"]["field"], "patch.code", "{r}");
    let cav_op = hub.token(Some(&cav), UserRole::Coordinator);
    let r = hub.gql(Some(&cav_op), UPDATE, change("CAV-1")).await;
    expect_code(&r, "FORBIDDEN", "a joint partner renaming the case");
    hub.ok(&s.op, UPDATE, change("BG-2023-0001")).await;
    let d = hub
        .ok(
            &s.op,
            "query($id: ID!) { case(id: $id) { code } }",
            json!({ "id": s.case }),
        )
        .await;
    assert_eq!(d["case"]["code"], "BG-2023-0001");
    hub.finish().await;
}
hub_test!(owner_sets_the_code);

/// `access { actions writableFields }` of `case` as `token` sees it.
async fn may_do(hub: &TestHub, token: &str, case: &str) -> (Value, Value) {
    let d = hub
        .ok(
            token,
            "query($id: ID!) { case(id: $id) { access { actions writableFields } } }",
            json!({ "id": case }),
        )
        .await;
    let a = &d["case"]["access"];
    (a["actions"].clone(), a["writableFields"].clone())
}

/// §5 and issue 12: `Case.access` says what the caller may do, from the same decisions that guard
/// the mutations: a questura with PERMIT sets `permitCurrent` and `permitExpiresOn` and nothing
/// else, and a change it may not make is FORBIDDEN naming the field.
async fn access_says_what_one_may_do(hub: TestHub) {
    let s = scene(&hub, "AZIONI-1").await;
    let questura = hub.agency("Questura AZ", "QUESTURA", "BG").await;
    let cav = hub.agency("CAV AZ", "CENTRO_ANTIVIOLENZA", "BG").await;
    give(&hub, &s.owner, &s.case, Rel::Permit, &questura).await;
    give(&hub, &s.owner, &s.case, Rel::Joint, &cav).await;
    let q = hub.token(Some(&questura), UserRole::Operator);
    let (actions, fields) = may_do(&hub, &q, &s.case).await;
    assert_eq!(actions, json!(["updateCase"]));
    assert_eq!(fields, json!(["permitCurrent", "permitExpiresOn"]));
    let (v, _) = version(&hub, &s.owner, &s.case).await;
    let r = hub
        .gql(
            Some(&q),
            UPDATE,
            json!({ "id": s.case, "v": v, "p": { "permitAtStart": "ART18" } }),
        )
        .await;
    expect_code(&r, "FORBIDDEN", "a questura setting permitAtStart");
    assert_eq!(
        r["errors"][0]["extensions"]["field"], "patch.permitAtStart",
        "{r}"
    );
    hub.ok(
        &q,
        UPDATE,
        json!({ "id": s.case, "v": v, "p": { "permitCurrent": "SPECIAL_PROTECTION", "permitExpiresOn": "2026-01-31" } }),
    )
    .await;

    let c = hub.token(Some(&cav), UserRole::Operator);
    assert_eq!(
        may_do(&hub, &c, &s.case).await,
        (
            json!(["updateCase", "addCaseNote"]),
            json!(["gbvIndicators", "gbvRiskLevel"])
        )
    );
    let (actions, fields) = may_do(&hub, &s.op, &s.case).await;
    assert_eq!(
        actions,
        json!([
            "updateCase",
            "addActivity",
            "endActivity",
            "closeCase",
            "addCaseNote",
            "recordConsent",
            "revokeConsent",
            "shareCase",
            "revokeShare"
        ])
    );
    assert!(fields.as_array().is_some_and(|f| f.len() == 25), "{fields}");
    let (actions, _) = may_do(&hub, &s.coord, &s.case).await;
    assert!(
        actions
            .as_array()
            .is_some_and(|a| a.contains(&json!("requestTransfer"))),
        "{actions}"
    );
    hub.finish().await;
}
hub_test!(access_says_what_one_may_do);
