//! Network statistics releases (ACCESS.md §7), attacked as a partner holding one valid token
//! would: narrowing a network answer to one owner, one requester or one day; asking as of the day
//! of an interview; overlapping periods; the same question many times, in aliases and batches;
//! margins against one-dimension tables; one's own exact counts subtracted from network counts;
//! a law-enforcement requester after the outcome of its own referrals. Each attack is refused, or
//! its success is measured over many targets and must stay within what the privacy parameters
//! allow, while the same attack against exact answers (the control) succeeds: the harness can
//! tell a leak from noise.

use raccordo_policies::{Policy, UserRole};
use serde_json::{json, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

const CASE_STATS: &str = "query($g: [CaseDimension!]!, $f: CaseFilter, $s: StatisticsScope, $a: Date) { s: caseStatistics(groupBy: $g, filter: $f, scope: $s, asOf: $a) { keys count suppressed } }";
const REFERRAL_STATS: &str = "query($g: [ReferralDimension!]!, $f: ReferralFilter, $s: StatisticsScope, $a: Date) { s: referralStatistics(groupBy: $g, filter: $f, scope: $s, asOf: $a) { keys count suppressed } }";
const RELEASE: &str = "query($p: String!, $v: String) { r: statisticsRelease(period: $p, province: $v) { id period province cutOff publishedAt epsilonPerTable method tables { subject groupBy cells { keys count suppressed } } } }";

/// The first and last day of a month, as the filters spell them.
fn month(y: i32, m: u32) -> (String, String) {
    let last = match m {
        2 if y % 4 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (format!("{y}-{m:02}-01"), format!("{y}-{m:02}-{last}"))
}

/// `n` months from January 2018 on: (label, first day, last day).
fn months(n: usize) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            let (y, m) = (2018 + (i / 12) as i32, (i % 12) as u32 + 1);
            let (from, to) = month(y, m);
            (format!("{y}-{m:02}"), from, to)
        })
        .collect()
}

/// A fixed pseudo-random choice per target, so that the data do not depend on the run.
fn pick(i: usize) -> usize {
    ((i as u64).wrapping_mul(2654435761).wrapping_add(12345) >> 7) as usize % 2
}

fn field(r: &Value) -> String {
    r["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn assert_validation(r: &Value, path: &str, what: &str) {
    assert_eq!(code(r).as_deref(), Some("VALIDATION"), "{what}: {r}");
    assert_eq!(field(r), path, "{what}: {r}");
}

/// The release's evidence for each candidate value of `dim`: the sum of its noisy counts over
/// every table of `subject` that groups by `dim` (one-dimension tables and the margins of
/// crossings alike), suppressed cells counted as 0.
fn evidence(release: &Value, subject: &str, dim: &str, candidates: &[&str]) -> Vec<i64> {
    let mut sums = vec![0i64; candidates.len()];
    for t in release["tables"].as_array().expect("tables") {
        if t["subject"] != subject {
            continue;
        }
        let dims: Vec<&str> = t["groupBy"]
            .as_array()
            .expect("groupBy")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let Some(at) = dims.iter().position(|d| *d == dim) else {
            continue;
        };
        for c in t["cells"].as_array().expect("cells") {
            let key = c["keys"][at].as_str().unwrap_or_default();
            if let Some(i) = candidates.iter().position(|x| *x == key) {
                sums[i] += c["count"].as_i64().unwrap_or(0);
            }
        }
    }
    sums
}

/// An exact one-dimension answer's count for each candidate (0 where it has no cell).
fn exact_counts(data: &Value, candidates: &[&str]) -> Vec<i64> {
    let cells = data["s"].as_array().expect("cells");
    candidates
        .iter()
        .map(|c| {
            cells
                .iter()
                .filter(|x| x["keys"][0] == *c)
                .map(|x| x["count"].as_i64().unwrap_or(0))
                .sum()
        })
        .collect()
}

/// The candidate with the most evidence (the first on a tie).
fn guess(evidence: &[i64]) -> usize {
    let mut best = 0;
    for (i, e) in evidence.iter().enumerate() {
        if *e > evidence[best] {
            best = i;
        }
    }
    best
}

/// What the privacy parameters let an attacker reach, guessing between two values of a field
/// that `tables` tables of a release show: e^ε / (1 + e^ε) with ε summed over those tables,
/// plus three standard errors of a rate measured over `targets` targets.
fn allowed_success(tables: usize, targets: usize) -> f64 {
    let spec = Policy::default_protocol()
        .expect("default protocol")
        .release_spec()
        .clone();
    let eps = spec.epsilon_per_table * tables as f64;
    let bound = eps.exp() / (1.0 + eps.exp());
    bound + 3.0 * (0.25 / targets as f64).sqrt()
}

/// How many release tables of `subject` group by `dim`.
fn tables_with(subject: &str, dim: &str) -> usize {
    Policy::default_protocol()
        .expect("default protocol")
        .release_spec()
        .tables
        .iter()
        .filter(|t| t.subject.as_str() == subject && t.dimensions.iter().any(|d| d == dim))
        .count()
}

const TARGETS: usize = 48;

/// Attack: one target case per month and province (the population the attacker narrows to most
/// tightly), whose exploitation the attacker wants. It reads each month's provincial release and
/// guesses from every table that shows exploitation (margins included), then again after
/// subtracting its own exact counts for the same month (it holds two cases in each). Both stay
/// within the privacy bound; the same guess from the owner's exact answers (the control) is right
/// every time.
async fn province_month_and_subtraction(hub: TestHub) {
    let attacker = hub.agency("Ente Curioso", "ENTE_ANTITRATTA", "BG").await;
    let victim = hub.agency("Ente Custode", "ENTE_ANTITRATTA", "BG").await;
    let candidates = ["LABOUR", "SEXUAL_STREET"];
    let periods = months(TARGETS);
    let mut truth = Vec::new();
    for (i, (_, from, _)) in periods.iter().enumerate() {
        let value = candidates[pick(i)];
        truth.push(pick(i));
        hub.case(
            &victim,
            &format!("T-{i:03}"),
            json!({ "openedOn": from, "emersionProvince": "BG", "gender": "FEMALE", "exploitation": [value] }),
        )
        .await;
        for j in 0..2 {
            hub.case(
                &attacker,
                &format!("A-{i:03}-{j}"),
                json!({ "openedOn": from, "emersionProvince": "BG", "gender": "FEMALE", "exploitation": ["LABOUR"] }),
            )
            .await;
        }
    }
    let a = hub.token(Some(&attacker), UserRole::Analyst);
    let owner = hub.token(Some(&victim), UserRole::Analyst);
    let tables = tables_with("cases", "EXPLOITATION");
    assert!(tables >= 2, "the attack combines a table and a margin");
    let (mut plain, mut subtracted, mut control) = (0usize, 0usize, 0usize);
    for (i, (label, from, to)) in periods.iter().enumerate() {
        let r = hub.ok(&a, RELEASE, json!({ "p": label, "v": "BG" })).await;
        let release = &r["r"];
        assert_eq!(release["province"], "BG");
        let seen = evidence(release, "cases", "EXPLOITATION", &candidates);
        plain += usize::from(guess(&seen) == truth[i]);
        // Its own exact counts for the month, once per table that shows exploitation.
        let mine = hub
            .ok(
                &a,
                CASE_STATS,
                json!({ "g": ["EXPLOITATION"], "s": "MINE", "f": { "openedFrom": from, "openedTo": to } }),
            )
            .await;
        let own: Vec<i64> = exact_counts(&mine, &candidates)
            .into_iter()
            .map(|n| n * tables as i64)
            .collect();
        let rest: Vec<i64> = seen.iter().zip(&own).map(|(s, o)| s - o).collect();
        subtracted += usize::from(guess(&rest) == truth[i]);
        // The control: the same guess from the owner's exact counts.
        let exact = hub
            .ok(
                &owner,
                CASE_STATS,
                json!({ "g": ["EXPLOITATION"], "s": "MINE", "f": { "openedFrom": from, "openedTo": to } }),
            )
            .await;
        let counts: Vec<i64> = exact_counts(&exact, &candidates);
        control += usize::from(guess(&counts) == truth[i]);
    }
    let rate = |n: usize| n as f64 / TARGETS as f64;
    let allowed = allowed_success(tables, TARGETS);
    println!(
        "exploitation of {TARGETS} targets, one per province and month: from releases {plain}, own counts subtracted {subtracted}, control (exact) {control}; chance {}, allowed {allowed:.3}",
        TARGETS / 2
    );
    assert_eq!(
        rate(control),
        1.0,
        "the control attack must succeed on exact answers"
    );
    assert!(
        rate(plain) <= allowed,
        "province × month: {} right of {TARGETS} (allowed {allowed:.3})",
        plain
    );
    assert!(
        rate(subtracted) <= allowed,
        "own counts subtracted: {} right of {TARGETS} (allowed {allowed:.3})",
        subtracted
    );
    hub.finish().await;
}
hub_test!(province_month_and_subtraction);

/// Attack: a law-enforcement requester after the outcome of its own referrals, which §6 never
/// shows it. Its own referral reads no outcome; `MINE` is refused (it answers for no rows);
/// narrowing to its own requests, to one day, or asking as of the interview is refused; and over
/// 48 referrals, one a month, guessing each outcome from the releases stays within the bound
/// while the target ente's exact answers (the control) tell every one.
async fn law_enforcement_requester_and_its_outcomes(hub: TestHub) {
    let police = hub.agency("Squadra Mobile", "FORZE_ORDINE", "BG").await;
    let ente = hub.agency("Ente Valutatore", "ENTE_ANTITRATTA", "BG").await;
    let p = hub.token(Some(&police), UserRole::Operator);
    let e = hub.token(Some(&ente), UserRole::Operator);
    let candidates = ["IDENTIFIED_TRAFFICKING", "NOT_IDENTIFIED"];
    let periods = months(TARGETS);
    let mut ids = Vec::new();
    for (i, (_, from, _)) in periods.iter().enumerate() {
        let d = hub
            .ok(
                &p,
                "mutation($i: ReferralInput!) { createReferral(input: $i) { id } }",
                json!({ "i": { "target": ente, "receivedOn": from, "province": "BG", "subjectRef": format!("PS-{i}"), "subjectGender": "FEMALE", "subjectNationality": "NG" } }),
            )
            .await;
        let id = d["createReferral"]["id"].as_str().expect("id").to_string();
        let day = |d: u32| format!("{}-{d:02}", &from[..7]);
        hub.ok(
            &e,
            "mutation($id: ID!, $on: Date!) { scheduleReferral(id: $id, on: $on) { id } }",
            json!({ "id": id, "on": day(3) }),
        )
        .await;
        hub.ok(
            &e,
            "mutation($id: ID!, $on: Date!) { recordReferralInterview(id: $id, on: $on) { id } }",
            json!({ "id": id, "on": day(5) }),
        )
        .await;
        hub.ok(
            &e,
            "mutation($id: ID!, $on: Date!, $o: ReferralOutcome!) { concludeReferral(id: $id, on: $on, outcome: $o, programmeAdhesion: false) { id } }",
            json!({ "id": id, "on": day(9), "o": candidates[pick(i)] }),
        )
        .await;
        ids.push(id);
    }
    // Its own referral: no outcome.
    let r = hub
        .ok(
            &p,
            "query($id: ID!) { referral(id: $id) { id status outcome programmeAdhesion } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(r["referral"]["status"], "CONCLUDED");
    assert_eq!(r["referral"]["outcome"], Value::Null);
    // Exact answers: it answers for no referral.
    let (from, to) = (&periods[0].1, &periods[0].2);
    let r = hub
        .gql(
            Some(&p),
            REFERRAL_STATS,
            json!({ "g": ["OUTCOME"], "s": "MINE", "f": { "receivedFrom": from, "receivedTo": to } }),
        )
        .await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    // Narrowing a network answer to its own requests, to one target, to one day, or to the day
    // of the interview.
    let network = |f: Value, a: Value| {
        hub.gql(
            Some(&p),
            REFERRAL_STATS,
            json!({ "g": ["OUTCOME"], "s": "NETWORK", "f": f, "a": a }),
        )
    };
    let whole = json!({ "receivedFrom": from, "receivedTo": to });
    let mut narrowed = whole.clone();
    narrowed["requestedBy"] = json!(police);
    assert_validation(
        &network(narrowed, Value::Null).await,
        "filter.requestedBy",
        "requestedBy",
    );
    let mut narrowed = whole.clone();
    narrowed["target"] = json!(ente);
    assert_validation(
        &network(narrowed, Value::Null).await,
        "filter.target",
        "target",
    );
    let one_day = json!({ "receivedFrom": from, "receivedTo": from });
    assert_validation(
        &network(one_day, Value::Null).await,
        "filter.receivedFrom",
        "one day",
    );
    let interview_day = format!("{}-05", &from[..7]);
    assert_validation(
        &network(whole.clone(), json!(interview_day)).await,
        "asOf",
        "asOf",
    );

    // Measured: the outcome from every release table that shows it.
    let tables = tables_with("referrals", "OUTCOME");
    let (mut guessed, mut control) = (0usize, 0usize);
    for (i, (label, from, to)) in periods.iter().enumerate() {
        let r = hub.ok(&p, RELEASE, json!({ "p": label, "v": "BG" })).await;
        let seen = evidence(&r["r"], "referrals", "OUTCOME", &candidates);
        guessed += usize::from(guess(&seen) == pick(i));
        let exact = hub
            .ok(
                &e,
                REFERRAL_STATS,
                json!({ "g": ["OUTCOME"], "s": "MINE", "f": { "receivedFrom": from, "receivedTo": to } }),
            )
            .await;
        let counts: Vec<i64> = exact_counts(&exact, &candidates);
        control += usize::from(guess(&counts) == pick(i));
    }
    let allowed = allowed_success(tables, TARGETS);
    println!(
        "outcomes of {TARGETS} own referrals: from releases {guessed}, control (exact) {control}; chance {}, allowed {allowed:.3}",
        TARGETS / 2
    );
    assert_eq!(
        control, TARGETS,
        "the control attack must succeed on exact answers"
    );
    assert!(
        guessed as f64 / TARGETS as f64 <= allowed,
        "outcomes guessed: {guessed} of {TARGETS} (allowed {allowed:.3})"
    );
    hub.finish().await;
}
hub_test!(law_enforcement_requester_and_its_outcomes);

/// Attack: narrowing. Every filter a network question could carry besides its period and
/// province, every span that is not a whole month, quarter or year, `asOf`, a period not closed,
/// a malformed period or province: `VALIDATION` on the input path, and nothing is published by a
/// refused request. PLATFORM_ADMIN and anonymous callers: `FORBIDDEN`.
async fn narrowing_is_refused_and_writes_nothing(hub: TestHub) {
    let ente = hub.agency("Ente Bersaglio", "ENTE_ANTITRATTA", "BG").await;
    let q = hub.agency("Questura di Bergamo", "QUESTURA", "BG").await;
    let (target, _) = hub
        .case(
            &ente,
            "ONE-DAY",
            json!({ "openedOn": "2023-01-07", "nationality": "NG", "exploitation": ["LABOUR"] }),
        )
        .await;
    let t = hub.token(Some(&q), UserRole::Operator);
    let jan = json!({ "openedFrom": "2023-01-01", "openedTo": "2023-01-31" });
    let with = |k: &str, v: Value| {
        let mut f = jan.clone();
        f[k] = v;
        f
    };
    let ask = |f: Value, a: Value| {
        hub.gql(
            Some(&t),
            CASE_STATS,
            json!({ "g": ["EXPLOITATION"], "s": "NETWORK", "f": f, "a": a }),
        )
    };
    // The issue's reproduction: one owner, one day.
    let r = ask(
        json!({ "owner": ente, "openedFrom": "2023-01-07", "openedTo": "2023-01-07" }),
        Value::Null,
    )
    .await;
    assert_eq!(code(&r).as_deref(), Some("VALIDATION"), "{r}");
    for (k, v) in [
        ("owner", json!(ente)),
        ("project", json!("some-project")),
        ("phase", json!("PRIMA_ACCOGLIENZA")),
        ("nationality", json!("NG")),
        ("gender", json!("FEMALE")),
        ("exploitation", json!("LABOUR")),
        ("relationship", json!("OWNER")),
    ] {
        assert_validation(
            &ask(with(k, v), Value::Null).await,
            &format!("filter.{k}"),
            k,
        );
    }
    for (from, to) in [
        ("2023-01-07", "2023-01-07"),
        ("2023-01-01", "2023-01-30"),
        ("2023-01-02", "2023-01-31"),
        ("2023-01-01", "2023-02-28"),
        ("2023-02-01", "2023-04-30"),
        ("2022-07-01", "2023-06-30"),
    ] {
        let f = json!({ "openedFrom": from, "openedTo": to });
        assert_validation(
            &ask(f, Value::Null).await,
            "filter.openedFrom",
            &format!("{from}..{to}"),
        );
    }
    assert_validation(
        &ask(json!({ "openedFrom": "2023-01-01" }), Value::Null).await,
        "filter.openedTo",
        "no end",
    );
    assert_validation(&ask(jan.clone(), json!("2023-01-07")).await, "asOf", "asOf");
    // A period not closed yet.
    let r = ask(
        json!({ "openedFrom": "2099-01-01", "openedTo": "2099-12-31" }),
        Value::Null,
    )
    .await;
    assert_validation(&r, "filter.openedTo", "future");
    // A table the releases do not hold (the owner is not a release dimension).
    assert_validation(
        &hub.gql(
            Some(&t),
            CASE_STATS,
            json!({ "g": ["OWNER"], "s": "NETWORK", "f": jan }),
        )
        .await,
        "groupBy",
        "owner table",
    );
    // statisticsRelease: bad periods and provinces.
    for bad in [
        "2023-Q5",
        "2023-13",
        "2023-1",
        "23",
        "2023-06-01",
        "2099",
        "2099-Q1",
    ] {
        let r = hub.gql(Some(&t), RELEASE, json!({ "p": bad })).await;
        assert_validation(&r, "period", bad);
    }
    let r = hub
        .gql(Some(&t), RELEASE, json!({ "p": "2023", "v": "XX" }))
        .await;
    assert_validation(&r, "province", "province XX");
    // No network statistics for the platform admin or anonymous callers.
    for who in [
        Some(hub.admin()),
        Some(hub.token(Some(&ente), UserRole::PlatformAdmin)),
        None,
    ] {
        for query in [RELEASE, "{ statisticsReleases { id } }"] {
            let r = hub.gql(who.as_deref(), query, json!({ "p": "2023" })).await;
            let c = code(&r);
            assert!(
                matches!(c.as_deref(), Some("FORBIDDEN") | Some("UNAUTHENTICATED")),
                "{who:?}: {r}"
            );
        }
    }
    // Nothing was published by any of these.
    let list = hub.ok(&t, "{ statisticsReleases { id } }", json!({})).await;
    assert_eq!(
        list["statisticsReleases"],
        json!([]),
        "refused requests publish nothing"
    );
    // Nor does any of this reach the case: the questura reads nothing of it.
    let r = hub
        .gql(
            Some(&t),
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": target }),
        )
        .await;
    assert_eq!(r["data"]["case"], Value::Null, "{r}");
    hub.finish().await;
}
hub_test!(narrowing_is_refused_and_writes_nothing);

/// Attack: asking again. The same release through aliases, a batch, another caller's token, a
/// different but equivalent question (`caseStatistics` for the whole period), and after the rows
/// changed: always the same cells, so repeating a question averages no noise away. An
/// overlapping period is its own release, computed once too.
async fn a_release_is_frozen(hub: TestHub) {
    let ente = hub.agency("Ente Costante", "ENTE_ANTITRATTA", "MI").await;
    let q = hub.agency("Questura Costante", "QUESTURA", "MI").await;
    let pref = hub.agency("Prefettura Costante", "PREFETTURA", "MI").await;
    for i in 0..12 {
        hub.case(
            &ente,
            &format!("FZ-{i:02}"),
            json!({ "openedOn": "2023-01-10", "emersionProvince": "MI", "gender": if i % 3 == 0 { "MALE" } else { "FEMALE" }, "nationality": "NG" }),
        )
        .await;
    }
    let tq = hub.token(Some(&q), UserRole::Operator);
    let tp = hub.token(Some(&pref), UserRole::Analyst);
    let te = hub.token(Some(&ente), UserRole::Coordinator);
    let first = hub.ok(&tq, RELEASE, json!({ "p": "2023-01" })).await["r"].clone();
    assert_eq!(first["period"], "2023-01");
    assert_eq!(first["province"], Value::Null);
    assert!(first["method"]
        .as_str()
        .unwrap_or_default()
        .contains("OpenDP"));
    // Every category of every dimension listed, zeros included.
    let gender = first["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["subject"] == "cases" && t["groupBy"] == json!(["GENDER"]))
        .expect("a gender table");
    assert_eq!(gender["cells"].as_array().expect("cells").len(), 4);
    // Aliases in one document.
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: statisticsRelease(period: \"2023-01\") {{ id publishedAt tables {{ subject groupBy cells {{ keys count suppressed }} }} }} "))
        .collect();
    let d = hub.ok(&tq, &format!("{{ {aliases} }}"), json!({})).await;
    for i in 0..20 {
        assert_eq!(d[format!("a{i}")]["tables"], first["tables"], "alias {i}");
        assert_eq!(d[format!("a{i}")]["publishedAt"], first["publishedAt"]);
    }
    // A batch.
    let one = json!({ "query": RELEASE, "variables": { "p": "2023-01" } });
    let (status, batch) = hub
        .post(Some(&tp), &json!([one.clone(), one.clone(), one]))
        .await;
    assert_eq!(status, 200, "{batch}");
    for answer in batch.as_array().expect("a batch answer") {
        assert_eq!(answer["data"]["r"]["tables"], first["tables"]);
    }
    // Other callers, and the same question asked through caseStatistics.
    for t in [&tp, &te] {
        let r = hub.ok(t, RELEASE, json!({ "p": "2023-01" })).await;
        assert_eq!(r["r"]["tables"], first["tables"]);
    }
    let stats = hub
        .ok(
            &tq,
            CASE_STATS,
            json!({ "g": ["GENDER"], "s": "NETWORK", "f": { "openedFrom": "2023-01-01", "openedTo": "2023-01-31" } }),
        )
        .await;
    assert_eq!(
        stats["s"], gender["cells"],
        "caseStatistics reads the same release"
    );
    // The crossing asked the other way round: the same cells, keys in the caller's order.
    let crossing = |g: Value| {
        hub.ok(
            &tq,
            CASE_STATS,
            json!({ "g": g, "s": "NETWORK", "f": { "openedFrom": "2023-01-01", "openedTo": "2023-01-31" } }),
        )
    };
    let ng = crossing(json!(["NATIONALITY", "GENDER"])).await;
    let gn = crossing(json!(["GENDER", "NATIONALITY"])).await;
    let mut flipped: Vec<Value> = gn["s"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| json!({ "keys": [c["keys"][1], c["keys"][0]], "count": c["count"], "suppressed": c["suppressed"] }))
        .collect();
    flipped.sort_by_key(|c| c["keys"].to_string());
    let mut direct = ng["s"].as_array().expect("cells").clone();
    direct.sort_by_key(|c| c["keys"].to_string());
    assert_eq!(flipped, direct);
    // The rows change; the release does not.
    for i in 0..5 {
        hub.case(
            &ente,
            &format!("LATE-{i}"),
            json!({ "openedOn": "2023-01-20", "gender": "MALE" }),
        )
        .await;
    }
    let later = hub.ok(&tq, RELEASE, json!({ "p": "2023-01" })).await;
    assert_eq!(later["r"], first, "a published release never changes");
    // An overlapping period is another release, published once, then frozen too.
    let q1 = hub.ok(&tq, RELEASE, json!({ "p": "2023-Q1" })).await["r"].clone();
    assert_eq!(
        hub.ok(&tp, RELEASE, json!({ "p": "2023-Q1" })).await["r"],
        q1
    );
    let list = hub
        .ok(
            &tq,
            "{ statisticsReleases { id period province } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["statisticsReleases"],
        json!([
            { "id": "2023-01@HUB", "period": "2023-01", "province": null },
            { "id": "2023-Q1@HUB", "period": "2023-Q1", "province": null },
        ])
    );
    hub.finish().await;
}
hub_test!(a_release_is_frozen);
