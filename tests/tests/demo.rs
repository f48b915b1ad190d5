//! The demo's aggregates, asked of the live hub, equal the "Mettiamo le Ali" report's tables
//! (`../shared/seeds/001_…`, "Attività di prima assistenza" and the referral table).

use std::collections::BTreeMap;

use raccordo_api::demo::{load::CASES_TOML, seed_demo, synth};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{common::TestHub, hub_test};

/// The project's coordination board sees its project's rows exactly (ACCESS.md §7).
const COORDINATION: &str = "mla-coordinamento";

async fn counts(
    hub: &TestHub,
    token: &str,
    query: &str,
    dim: &str,
    filter: Value,
) -> BTreeMap<String, u64> {
    let q = format!("query($f: {}) {{ s: {query}(groupBy: [{dim}], filter: $f, scope: MINE) {{ keys count suppressed }} }}",
        if query == "caseStatistics" { "CaseFilter" } else { "ReferralFilter" });
    let data = hub.ok(token, &q, json!({ "f": filter })).await;
    data["s"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            assert_eq!(c["suppressed"], false, "the coordination gets exact counts");
            (
                c["keys"][0].as_str().unwrap_or_default().to_string(),
                c["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn table(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn demo_equals_the_report(hub: TestHub) {
    assert!(seed_demo(&hub.hub.state.db).await.expect("the demo loads"));
    assert!(
        !seed_demo(&hub.hub.state.db).await.expect("second run"),
        "the demo loads only into an empty database"
    );
    let t = hub.token(Some(COORDINATION), UserRole::Coordinator);

    // Figures read off the report itself.
    assert_eq!(
        counts(&hub, &t, "caseStatistics", "GENDER", json!({})).await,
        table(&[("FEMALE", 58), ("MALE", 17), ("TRANSGENDER", 2)])
    );
    assert_eq!(
        counts(&hub, &t, "caseStatistics", "PHASE", json!({})).await,
        table(&[
            ("CLOSED", 22),
            ("PRESA_IN_CARICO_TERRITORIALE", 11),
            ("PRIMA_ACCOGLIENZA", 23),
            ("PRONTO_INTERVENTO", 7),
            ("SECONDA_ACCOGLIENZA", 14)
        ])
    );
    assert_eq!(
        counts(
            &hub,
            &t,
            "caseStatistics",
            "OUTCOME",
            json!({ "phase": "CLOSED" })
        )
        .await,
        table(&[
            ("AUTONOMY", 13),
            ("NON_ADHERENCE", 5),
            ("SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT", 1),
            ("SENT_TO_SAI", 2),
            ("TAKEN_OVER_BY_LOCAL_SERVICES", 1)
        ])
    );
    let period = json!({ "receivedFrom": "2022-10-01", "receivedTo": "2023-06-30" });
    assert_eq!(
        counts(&hub, &t, "referralStatistics", "PROVINCE", period.clone()).await,
        table(&[
            ("BG", 10),
            ("BS", 16),
            ("CR", 10),
            ("LC", 26),
            ("LO", 10),
            ("MN", 4),
            ("PV", 5)
        ])
    );

    // Every table transcribed from the report (api/demo/cases.toml), dimension by dimension.
    let expected = synth::expected(CASES_TOML).expect("the report's tables parse");
    let mut compared = 0;
    for (dim, rows) in &expected.cases {
        let live_dim = match dim.as_str() {
            "GENDER" | "NATIONALITY" | "EXPLOITATION" | "PERMIT_AT_START" | "PERMIT_CURRENT"
            | "EMERSION_CHANNEL" | "PHASE" => dim.as_str(),
            "OUTCOME" => "OUTCOME",
            _ => continue,
        };
        let filter = if live_dim == "OUTCOME" {
            json!({ "phase": "CLOSED" })
        } else {
            json!({})
        };
        let live = counts(&hub, &t, "caseStatistics", live_dim, filter).await;
        let want: BTreeMap<String, u64> = rows
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), u64::from(*n)))
            .collect();
        assert_eq!(live, want, "cases by {dim}");
        compared += 1;
    }
    assert!(compared >= 8, "compared {compared} case tables");
    if let Some(rows) = expected.referrals.get("PROVINCE") {
        let want: BTreeMap<String, u64> = rows
            .iter()
            .map(|(k, n)| (k.clone(), u64::from(*n)))
            .collect();
        assert_eq!(
            counts(&hub, &t, "referralStatistics", "PROVINCE", period).await,
            want,
            "referrals by province"
        );
    }
    hub.finish().await;
}
hub_test!(demo_equals_the_report);
