//! The `importCases` mutation over HTTP: a dry run writes nothing, a rejected row is reported by
//! row and column and stops the whole file, a second import changes nothing.

use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    common::{code, TestHub},
    hub_test,
};

const IMPORT: &str = "mutation($csv: String!, $dry: Boolean) {
    importCases(csv: $csv, dryRun: $dry) { created unchanged dryRun rejected { row column reason } }
}";

async fn total(hub: &TestHub, token: &str) -> i64 {
    hub.ok(token, "{ cases { totalCount } }", json!({})).await["cases"]["totalCount"]
        .as_i64()
        .unwrap_or(-1)
}

async fn import_cases_mutation(hub: TestHub) {
    let ente = hub.agency("Ente Import", "ENTE_ANTITRATTA", "BG").await;
    let token = hub.token(Some(&ente), UserRole::Operator);
    let good = "codice;fase;data apertura;nazionalità\nM-1;prima accoglienza;10/01/2023;NG\nM-2;PRONTO_INTERVENTO;2023-01-11;Nigeria\n";

    // A dry run reports what it would create and writes nothing.
    let data = hub
        .ok(&token, IMPORT, json!({ "csv": good, "dry": true }))
        .await;
    let report = &data["importCases"];
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["rejected"], json!([]));
    assert_eq!(total(&hub, &token).await, 0);

    // One bad row: reported by row and column as the file names it; nothing is written.
    let bad = format!("{good}M-3;prima accoglienza;2023-01-12;XX\n");
    let data = hub.ok(&token, IMPORT, json!({ "csv": bad })).await;
    let report = &data["importCases"];
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["dryRun"], false);
    let rejected = report["rejected"].as_array().cloned().unwrap_or_default();
    assert_eq!(rejected.len(), 1, "{report}");
    assert_eq!(rejected[0]["row"], 4);
    assert_eq!(rejected[0]["column"], "nazionalità");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("\"XX\""),
        "{report}"
    );
    assert_eq!(total(&hub, &token).await, 0);

    // The good file is written; sent again it changes nothing.
    let data = hub.ok(&token, IMPORT, json!({ "csv": good })).await;
    assert_eq!(data["importCases"]["created"], 2, "{data}");
    assert_eq!(total(&hub, &token).await, 2);
    let data = hub.ok(&token, IMPORT, json!({ "csv": good })).await;
    assert_eq!(data["importCases"]["created"], 0, "{data}");
    assert_eq!(data["importCases"]["unchanged"], 2, "{data}");
    let node: Value = hub
        .ok(
            &token,
            "{ cases(filter: { nationality: \"NG\" }) { totalCount edges { node { code phase openedOn } } } }",
            json!({}),
        )
        .await;
    assert_eq!(node["cases"]["totalCount"], 2, "{node}");

    // An agency the protocol does not let hold cases cannot import them.
    let prefettura = hub.agency("Prefettura", "PREFETTURA", "BG").await;
    let other = hub.token(Some(&prefettura), UserRole::Coordinator);
    let r = hub.gql(Some(&other), IMPORT, json!({ "csv": good })).await;
    assert_eq!(code(&r).as_deref(), Some("FORBIDDEN"), "{r}");
    // Without a token: UNAUTHENTICATED.
    let r = hub.gql(None, IMPORT, json!({ "csv": good })).await;
    assert_eq!(code(&r).as_deref(), Some("UNAUTHENTICATED"), "{r}");
}
hub_test!(import_cases_mutation);

const ACCESS_LOG: &str =
    "query($c: ID!) { caseAccessLog(caseId: $c) { operation relationships classes } }";

/// The import's entries in a case's access log: (relationships, classes) of each `import` entry.
async fn import_reads(hub: &TestHub, coord: &str, case: &str) -> Vec<(Value, Value)> {
    let d = hub.ok(coord, ACCESS_LOG, json!({ "c": case })).await;
    d["caseAccessLog"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e["operation"] == "import")
        .map(|e| (e["relationships"].clone(), e["classes"].clone()))
        .collect()
}

/// ACCESS.md §9, the attack of issue 12: a dry-run import of `code,phase,openedOn,nationality`
/// for an existing case answers "unchanged" or "values differ", which tests a stored value. Each
/// such comparison is a read: one entry per case, operation `import`, the classes compared,
/// dry run or not; a file of BASE columns only reads nothing beyond BASE and logs nothing.
async fn import_comparisons_are_logged(hub: TestHub) {
    let ente = hub.agency("Ente Confronto", "ENTE_ANTITRATTA", "BG").await;
    let op = hub.token(Some(&ente), UserRole::Operator);
    let coord = hub.token(Some(&ente), UserRole::Coordinator);
    let (case, _) = hub
        .case(
            &ente,
            "CMP-1",
            json!({ "nationality": "NG", "permitCurrent": "ART18" }),
        )
        .await;
    assert!(import_reads(&hub, &coord, &case).await.is_empty());

    // The guess is right, then wrong: both answers read the stored nationality.
    for (guess, unchanged) in [("NG", 1), ("CI", 0)] {
        let csv = format!(
            "code,phase,openedOn,nationality\nCMP-1,PRIMA_ACCOGLIENZA,2023-01-10,{guess}\n"
        );
        let d = hub
            .ok(&op, IMPORT, json!({ "csv": csv, "dry": true }))
            .await;
        assert_eq!(d["importCases"]["unchanged"], unchanged, "{d}");
    }
    assert_eq!(
        import_reads(&hub, &coord, &case).await,
        vec![(json!(["OWNER"]), json!(["PROFILE"])); 2],
        "a dry-run comparison must be logged once per case"
    );
    // Not a dry run, two classes compared.
    let csv = "code,phase,openedOn,nationality,permitCurrent\nCMP-1,PRIMA_ACCOGLIENZA,2023-01-10,NG,ART18\n";
    let d = hub.ok(&op, IMPORT, json!({ "csv": csv })).await;
    assert_eq!(d["importCases"]["unchanged"], 1, "{d}");
    let reads = import_reads(&hub, &coord, &case).await;
    assert_eq!(reads.len(), 3, "{reads:?}");
    assert!(
        reads.contains(&(json!(["OWNER"]), json!(["PROFILE", "LEGAL"]))),
        "{reads:?}"
    );
    // BASE columns only: no read beyond BASE, no entry.
    let csv = "code,phase,openedOn\nCMP-1,PRIMA_ACCOGLIENZA,2023-01-10\n";
    hub.ok(&op, IMPORT, json!({ "csv": csv, "dry": true }))
        .await;
    assert_eq!(import_reads(&hub, &coord, &case).await.len(), 3);
    hub.finish().await;
}
hub_test!(import_comparisons_are_logged);
