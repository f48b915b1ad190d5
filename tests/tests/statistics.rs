//! Exact statistics from the rows (ACCESS.md §7): counts "as of" a date from the case history, a
//! project's indicators, the report's tables, and the validation of statistics requests. Network
//! answers (releases) are in `releases.rs`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use raccordo_api::{
    demo::{load::CASES_TOML, seed_demo, synth},
    report,
};
use raccordo_policies::UserRole;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

const PROJECT: &str = "mettiamo-le-ali";
const COORDINATION: &str = "mla-coordinamento";
const ENTE: &str = "micaela-bg";
const ENTE_OUTSIDE: &str = "liberazione-speranza";
const PREFETTURA: &str = "prefettura-pv";
const START: &str = "2022-10-01";
const END: &str = "2023-06-30";

const CASE_STATS: &str = "query($g: [CaseDimension!]!, $f: CaseFilter, $s: StatisticsScope, $a: Date) { s: caseStatistics(groupBy: $g, filter: $f, scope: $s, asOf: $a) { keys count suppressed } }";
const REFERRAL_STATS: &str = "query($g: [ReferralDimension!]!, $f: ReferralFilter, $s: StatisticsScope, $a: Date) { s: referralStatistics(groupBy: $g, filter: $f, scope: $s, asOf: $a) { keys count suppressed } }";
const INDICATORS: &str = "query($p: ID!, $from: Date!, $to: Date!) { indicators(projectId: $p, from: $from, to: $to) { key label expected achieved ratio suppressed tracked } }";

/// (keys, count) of a statistics answer; `None` where suppressed (checked against `suppressed`).
fn cells(data: &Value) -> Vec<(Vec<String>, Option<i64>)> {
    data["s"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            let keys = c["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .map(|k| k.as_str().expect("key").to_string())
                .collect();
            let count = c["count"].as_i64();
            assert_eq!(
                c["suppressed"],
                count.is_none(),
                "suppressed iff no count: {c}"
            );
            (keys, count)
        })
        .collect()
}

/// A one-dimension exact answer as key → count.
fn by_key(data: &Value) -> BTreeMap<String, i64> {
    cells(data)
        .into_iter()
        .map(|(k, n)| (k[0].clone(), n.expect("exact count")))
        .collect()
}

fn table(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// The report's phase split at 30.06.2023.
fn report_phases() -> BTreeMap<String, i64> {
    table(&[
        ("CLOSED", 22),
        ("PRESA_IN_CARICO_TERRITORIALE", 11),
        ("PRIMA_ACCOGLIENZA", 23),
        ("PRONTO_INTERVENTO", 7),
        ("SECONDA_ACCOGLIENZA", 14),
    ])
}

// =================================================================================================
// As of a date
// =================================================================================================

/// A phase changed today leaves the split "as of 30.06.2023" as the report printed it, while the
/// statistics of today show the change; each answer is one aggregate statement.
async fn statistics_as_of_a_date(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    let coord = hub.token(Some(COORDINATION), UserRole::Coordinator);
    let phases = |as_of: Value| {
        hub.ok(
            &coord,
            CASE_STATS,
            json!({ "g": ["PHASE"], "s": "MINE", "a": as_of }),
        )
    };
    assert_eq!(by_key(&phases(Value::Null).await), report_phases());

    // An ente moves one of its people from emergency to first reception, today.
    let row = hub
        .hub
        .state
        .db
        .query_one(Statement::from_string(
            hub.hub.state.db.get_database_backend(),
            "SELECT id, owner_id, version FROM cases WHERE phase = 'PRONTO_INTERVENTO' ORDER BY code LIMIT 1",
        ))
        .await
        .expect("query")
        .expect("a case in emergency");
    let id: String = row.try_get("", "id").expect("id");
    let owner: String = row.try_get("", "owner_id").expect("owner");
    let version: i32 = row.try_get("", "version").expect("version");
    let changed = hub
        .ok(
            &hub.token(Some(&owner), UserRole::Operator),
            "mutation($id: ID!, $v: Int!) { updateCase(id: $id, version: $v, patch: { phase: PRIMA_ACCOGLIENZA }) { phase } }",
            json!({ "id": id, "v": version }),
        )
        .await;
    assert_eq!(changed["updateCase"]["phase"], "PRIMA_ACCOGLIENZA");

    let mut today = report_phases();
    *today.entry("PRONTO_INTERVENTO".into()).or_default() -= 1;
    *today.entry("PRIMA_ACCOGLIENZA".into()).or_default() += 1;
    assert_eq!(
        by_key(&phases(Value::Null).await),
        today,
        "without asOf: today's phases"
    );
    let before = hub.statements();
    let as_of_end = phases(json!(END)).await;
    assert!(
        hub.statements() - before <= 3,
        "one aggregate per statistics call ({} statements)",
        hub.statements() - before
    );
    assert_eq!(
        by_key(&as_of_end),
        report_phases(),
        "as of 30.06.2023: the report's split"
    );

    // The phase filter and OUTCOME follow the date too.
    let outcomes = hub
        .ok(
            &coord,
            CASE_STATS,
            json!({ "g": ["OUTCOME"], "f": { "phase": "CLOSED" }, "a": END }),
        )
        .await;
    assert_eq!(
        by_key(&outcomes),
        table(&[
            ("AUTONOMY", 13),
            ("NON_ADHERENCE", 5),
            ("SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT", 1),
            ("SENT_TO_SAI", 2),
            ("TAKEN_OVER_BY_LOCAL_SERVICES", 1),
        ])
    );
    // Two dimensions as of a date: the phase split by gender still adds up to the report's.
    let two = hub
        .ok(
            &coord,
            CASE_STATS,
            json!({ "g": ["GENDER", "PHASE"], "a": END }),
        )
        .await;
    let mut per_phase: BTreeMap<String, i64> = BTreeMap::new();
    for (keys, n) in cells(&two) {
        *per_phase.entry(keys[1].clone()).or_default() += n.expect("exact");
    }
    assert_eq!(per_phase, report_phases());

    // The day before the period: only the 49 continuing cases, none of them closed yet.
    let before_period = by_key(&phases(json!("2022-09-30")).await);
    assert_eq!(before_period.values().sum::<i64>(), 49);
    assert!(!before_period.contains_key("CLOSED"), "{before_period:?}");

    // Referrals: only dates are historised. Before the period only the carried-over requests
    // exist, and none of them is concluded yet.
    let carried = by_key(
        &hub.ok(
            &coord,
            REFERRAL_STATS,
            json!({ "g": ["PROVINCE"], "f": { "receivedTo": "2022-09-30" } }),
        )
        .await,
    );
    let at_start = by_key(
        &hub.ok(
            &coord,
            REFERRAL_STATS,
            json!({ "g": ["STATUS"], "a": "2022-09-30" }),
        )
        .await,
    );
    assert_eq!(
        at_start.values().sum::<i64>(),
        carried.values().sum::<i64>()
    );
    assert!(
        at_start.keys().all(|s| s != "CONCLUDED"),
        "nothing concluded before the period: {at_start:?}"
    );
    let open_at_end = by_key(
        &hub.ok(
            &coord,
            REFERRAL_STATS,
            json!({ "g": ["PROVINCE"], "f": { "open": true, "receivedFrom": START }, "a": END }),
        )
        .await,
    );
    assert!(open_at_end.values().sum::<i64>() >= 30, "{open_at_end:?}");
    hub.finish().await;
}
hub_test!(statistics_as_of_a_date);

/// A case entered after the fact (opened in 2023, recorded today, moved on today): as of a day
/// before its history starts it counts in the first phase recorded for it; a closing dated in
/// the past counts from that date.
async fn as_of_a_case_entered_after_the_fact(hub: TestHub) {
    let ente = hub.agency("Ente Storico", "ENTE_ANTITRATTA", "BG").await;
    let op = hub.token(Some(&ente), UserRole::Operator);
    let (moved, v) = hub
        .case(
            &ente,
            "LATE-1",
            json!({ "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10" }),
        )
        .await;
    hub.ok(
        &op,
        "mutation($id: ID!, $v: Int!) { updateCase(id: $id, version: $v, patch: { phase: SECONDA_ACCOGLIENZA }) { id } }",
        json!({ "id": moved, "v": v }),
    )
    .await;
    let (closed, v) = hub
        .case(
            &ente,
            "LATE-2",
            json!({ "phase": "PRONTO_INTERVENTO", "openedOn": "2023-01-10" }),
        )
        .await;
    hub.ok(
        &op,
        "mutation($id: ID!, $v: Int!) { closeCase(id: $id, version: $v, outcome: AUTONOMY, on: \"2023-05-02\") { id } }",
        json!({ "id": closed, "v": v }),
    )
    .await;
    hub.case(
        &ente,
        "LATE-3",
        json!({ "phase": "PRONTO_INTERVENTO", "openedOn": "2023-09-01" }),
    )
    .await;
    let at = |a: Value| {
        hub.ok(
            &op,
            CASE_STATS,
            json!({ "g": ["PHASE"], "s": "MINE", "a": a }),
        )
    };
    assert_eq!(
        by_key(&at(Value::Null).await),
        table(&[
            ("CLOSED", 1),
            ("PRONTO_INTERVENTO", 1),
            ("SECONDA_ACCOGLIENZA", 1)
        ])
    );
    assert_eq!(
        by_key(&at(json!(END)).await),
        table(&[("CLOSED", 1), ("PRIMA_ACCOGLIENZA", 1)])
    );
    assert_eq!(
        by_key(&at(json!("2023-03-01")).await),
        table(&[("PRIMA_ACCOGLIENZA", 1), ("PRONTO_INTERVENTO", 1)])
    );
    let outcomes = |a: &str| {
        hub.ok(
            &op,
            CASE_STATS,
            json!({ "g": ["OUTCOME"], "f": { "phase": "CLOSED" }, "a": a }),
        )
    };
    assert_eq!(by_key(&outcomes(END).await), table(&[("AUTONOMY", 1)]));
    assert!(cells(&outcomes("2023-03-01").await).is_empty());
    hub.finish().await;
}
hub_test!(as_of_a_case_entered_after_the_fact);

// =================================================================================================
// Indicators
// =================================================================================================

fn indicators_by_key(data: &Value) -> BTreeMap<String, Value> {
    data["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .map(|i| (i["key"].as_str().expect("key").to_string(), i.clone()))
        .collect()
}

/// An ente records an activity for one of its people in the period.
async fn activity(hub: &TestHub, case: &str, owner: &str, kind: &str, started: &str) {
    hub.ok(
        &hub.token(Some(owner), UserRole::Operator),
        "mutation($c: ID!, $k: String!, $d: Date) { addActivity(caseId: $c, kind: $k, startedOn: $d) { id } }",
        json!({ "c": case, "k": kind, "d": started }),
    )
    .await;
}

/// Exact and project-wide for the project's coordinating agency, exact over its own rows for an
/// ente of the project, refused to everyone else; validation of the project and the period.
async fn indicators_of_the_demo(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    let db = &hub.hub.state.db;
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, owner_id FROM cases WHERE phase = 'PRIMA_ACCOGLIENZA' AND opened_on < '2023-01-01' ORDER BY code LIMIT 2",
        ))
        .await
        .expect("query");
    assert_eq!(rows.len(), 2, "two people in first reception");
    let people: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "id").expect("id"),
                r.try_get("", "owner_id").expect("owner"),
            )
        })
        .collect();
    for (case, owner) in &people {
        activity(&hub, case, owner, "LITERACY_COURSE", "2023-01-15").await;
    }
    let (case, owner) = &people[0];
    activity(&hub, case, owner, "JOB", "2023-03-01").await;
    activity(&hub, case, owner, "JOB", "2023-08-01").await; // after the period: not new in it
    activity(&hub, case, owner, "INTERNSHIP", "2023-02-01").await;

    let vars = json!({ "p": PROJECT, "from": START, "to": END });
    let coord = hub.token(Some(COORDINATION), UserRole::Coordinator);
    let before = hub.statements();
    let exact = indicators_by_key(&hub.ok(&coord, INDICATORS, vars.clone()).await);
    assert!(
        hub.statements() - before <= 5,
        "a few statements, not one per indicator ({})",
        hub.statements() - before
    );
    let achieved = |m: &BTreeMap<String, Value>, k: &str| m[k]["achieved"].as_i64();
    assert_eq!(exact.len(), 26, "every indicator of the project");
    assert_eq!(achieved(&exact, "persone_in_assistenza"), Some(77));
    assert_eq!(exact["persone_in_assistenza"]["expected"], 106);
    let ratio = exact["persone_in_assistenza"]["ratio"]
        .as_f64()
        .expect("ratio");
    assert!((ratio - 77.0 / 106.0).abs() < 1e-9, "{ratio}");
    assert_eq!(achieved(&exact, "alfabetizzazione"), Some(2));
    assert_eq!(achieved(&exact, "nuovi_inserimenti_lavorativi"), Some(1));
    assert_eq!(achieved(&exact, "tirocini_extracurriculari"), Some(1));
    assert_eq!(achieved(&exact, "borse_lavoro"), Some(0));
    assert_eq!(achieved(&exact, "contributi_alloggio"), Some(0));
    assert_eq!(achieved(&exact, "formazione_professionalizzante"), Some(0));
    // Current permit recorded and not NONE: 77 people minus the 10 with no permit.
    assert_eq!(achieved(&exact, "percorsi_regolarizzazione"), Some(67));
    // The referral service: interviews held and identifications in the period.
    let expected = synth::expected(CASES_TOML).expect("the report's tables");
    let rows_sum = |f: fn(&synth::ExpectedReferralRow) -> u32| {
        expected.referral_rows.values().map(f).sum::<u32>() as i64
    };
    assert_eq!(
        achieved(&exact, "colloqui_valutazione_filtro"),
        Some(rows_sum(|r| r.interviews))
    );
    assert_eq!(
        achieved(&exact, "identificate_protezione_internazionale"),
        Some(63)
    );
    for (key, i) in &exact {
        assert_eq!(i["suppressed"], false, "{key}");
    }
    for untracked in [
        "eventi_sensibilizzazione",
        "emersione_persone_contattate",
        "aziende_sensibilizzate",
    ] {
        assert_eq!(exact[untracked]["tracked"], false, "{untracked}");
        assert_eq!(exact[untracked]["achieved"], Value::Null, "{untracked}");
        assert_eq!(exact[untracked]["ratio"], Value::Null, "{untracked}");
    }
    // An ente of the project gets exact values over its own rows only.
    let ente = indicators_by_key(
        &hub.ok(
            &hub.token(Some(ENTE), UserRole::Analyst),
            INDICATORS,
            vars.clone(),
        )
        .await,
    );
    let own = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM cases WHERE project_id = '{PROJECT}' AND owner_id = '{ENTE}' \
                 AND opened_on <= '{END}' AND (closed_on IS NULL OR closed_on >= '{START}')"
            ),
        ))
        .await
        .expect("count")
        .expect("a row");
    let own: i64 = own.try_get("", "n").expect("n");
    assert!(own > 0 && own < 77, "{own}");
    assert_eq!(achieved(&ente, "persone_in_assistenza"), Some(own));
    for (key, i) in &ente {
        assert_eq!(i["suppressed"], false, "{key}");
        assert!(
            i["achieved"].as_i64() <= exact[key]["achieved"].as_i64(),
            "{key}: an ente's own value never exceeds the project's"
        );
    }
    assert!(
        achieved(&ente, "identificate_protezione_internazionale")
            < achieved(&exact, "identificate_protezione_internazionale"),
        "other enti's referrals are not counted"
    );

    // A prefettura that does not coordinate it, and an ente outside the project: refused
    // (project-wide counts over others' rows come only from releases).
    for (who, agency) in [("prefettura", PREFETTURA), ("ente outside", ENTE_OUTSIDE)] {
        let r = hub
            .gql(
                Some(&hub.token(Some(agency), UserRole::Operator)),
                INDICATORS,
                vars.clone(),
            )
            .await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{who}: {r}");
    }

    // Nobody else.
    for t in [Some(hub.admin()), None] {
        let r = hub.gql(t.as_deref(), INDICATORS, vars.clone()).await;
        assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    }
    // Validation: an unknown project, a period ending before it starts.
    let r = hub
        .gql(
            Some(&coord),
            INDICATORS,
            json!({ "p": "no-such-project", "from": START, "to": END }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "projectId");
    let r = hub
        .gql(
            Some(&coord),
            INDICATORS,
            json!({ "p": PROJECT, "from": END, "to": START }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "to");
    hub.finish().await;
}
hub_test!(indicators_of_the_demo);

// =================================================================================================
// The report's tables
// =================================================================================================

/// `raccordo report`'s tables, computed in-process, equal the report's tables cell by cell.
async fn report_tables_equal_the_report(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    let expected = synth::expected(CASES_TOML).expect("the report's tables");
    let t = report::tables(
        &hub.hub.state.db,
        PROJECT,
        expected.period_start,
        expected.period_end,
    )
    .await
    .expect("the tables");
    assert_eq!(t.total, u64::from(expected.total_cases));
    assert_eq!(t.new_in_period, u64::from(expected.new_in_period));
    assert_eq!(t.continuing, u64::from(expected.continuing));
    let mut compared = 0;
    for (dim, rows) in &expected.cases {
        let Some(live) = t.table(dim) else {
            // AGE_GROUP and EMERSION_AREA are not tables of the hub's report.
            assert!(
                ["AGE_GROUP", "EMERSION_AREA"].contains(&dim.as_str()),
                "missing table {dim}"
            );
            continue;
        };
        let want: BTreeMap<String, u64> = rows
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), u64::from(*n)))
            .collect();
        assert_eq!(live, want, "people by {dim}");
        compared += 1;
    }
    assert_eq!(
        compared, 8,
        "gender, nationality, exploitation, two permits, channel, phase, outcome"
    );
    let live: BTreeMap<String, [u64; 6]> = t
        .referrals
        .iter()
        .map(|r| {
            (
                r.province.clone(),
                [
                    r.reported,
                    r.met,
                    r.interviews,
                    r.identified,
                    r.adhesions,
                    r.queue,
                ],
            )
        })
        .collect();
    let want: BTreeMap<String, [u64; 6]> = expected
        .referral_rows
        .iter()
        .map(|(p, r)| {
            (
                p.clone(),
                [
                    r.reported,
                    r.met,
                    r.interviews,
                    r.identified,
                    r.adhesions,
                    r.queue,
                ]
                .map(u64::from),
            )
        })
        .collect();
    assert_eq!(
        live, want,
        "referrals by province: reported, met, interviews, identified, adhesions, queue"
    );
    // The renderings carry the same numbers.
    let md = report::markdown(&t);
    assert!(md.contains("| Totale | 77 |"), "{md}");
    assert!(md.contains("| BG | 10 | 9 | 20 | 6 | 1 | 3 |"), "{md}");
    let csv = report::csv(&t).expect("csv");
    assert!(csv.contains("cases_by_gender,FEMALE,people,58"), "{csv}");
    assert!(csv.contains("referrals_by_province,LC,queue,12"), "{csv}");

    // An unknown project and a period ending before it starts are refused.
    let e = report::tables(&hub.hub.state.db, "no-such-project", day(START), day(END))
        .await
        .expect_err("unknown project");
    assert_eq!(e.code(), "VALIDATION");
    let e = report::tables(&hub.hub.state.db, PROJECT, day(END), day(START))
        .await
        .expect_err("period ending before it starts");
    assert_eq!(e.code(), "VALIDATION");
    hub.finish().await;
}
hub_test!(report_tables_equal_the_report);

// =================================================================================================
// Validation
// =================================================================================================

/// More than two dimensions, the same dimension twice, periods ending before they start.
async fn statistics_validation(hub: TestHub) {
    let ente = hub.agency("Ente Verifiche", "ENTE_ANTITRATTA", "BG").await;
    let t = hub.token(Some(&ente), UserRole::Operator);
    let field = |r: &Value| {
        assert_eq!(code(r).as_deref(), Some("VALIDATION"), "{r}");
        r["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let r = hub
        .gql(
            Some(&t),
            CASE_STATS,
            json!({ "g": ["GENDER", "NATIONALITY", "PHASE"] }),
        )
        .await;
    assert_eq!(field(&r), "groupBy");
    let r = hub
        .gql(Some(&t), CASE_STATS, json!({ "g": ["GENDER", "GENDER"] }))
        .await;
    assert_eq!(field(&r), "groupBy");
    let r = hub.gql(Some(&t), CASE_STATS, json!({ "g": [] })).await;
    assert_eq!(field(&r), "groupBy");
    let r = hub
        .gql(
            Some(&t),
            REFERRAL_STATS,
            json!({ "g": ["PROVINCE", "STATUS", "TARGET"] }),
        )
        .await;
    assert_eq!(field(&r), "groupBy");
    let r = hub
        .gql(
            Some(&t),
            CASE_STATS,
            json!({ "g": ["PHASE"], "f": { "openedFrom": END, "openedTo": START } }),
        )
        .await;
    assert_eq!(field(&r), "filter.openedTo");
    let r = hub
        .gql(
            Some(&t),
            REFERRAL_STATS,
            json!({ "g": ["PROVINCE"], "f": { "receivedFrom": END, "receivedTo": START }, "a": END }),
        )
        .await;
    assert_eq!(field(&r), "filter.receivedTo");
    // An empty hub answers with no cells, at any date.
    let r = hub
        .ok(&t, CASE_STATS, json!({ "g": ["PHASE"], "a": START }))
        .await;
    assert!(cells(&r).is_empty());
    hub.finish().await;
}
hub_test!(statistics_validation);
