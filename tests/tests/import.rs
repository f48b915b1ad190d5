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

/// The case dimensions an ente's exact statistics are compared on (the owner differs by design).
const DIMENSIONS: [&str; 9] = [
    "PROVINCE",
    "NATIONALITY",
    "GENDER",
    "EXPLOITATION",
    "PERMIT_AT_START",
    "PERMIT_CURRENT",
    "EMERSION_CHANNEL",
    "PHASE",
    "OUTCOME",
];

/// Every exact (`scope: MINE`) one-dimension table of the caller's agency, sorted.
async fn exact_statistics(hub: &TestHub, token: &str) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for dim in DIMENSIONS {
        let q = format!(
            "{{ caseStatistics(groupBy: [{dim}], scope: MINE) {{ keys count suppressed }} }}"
        );
        let d = hub.ok(token, &q, json!({})).await;
        let mut cells = d["caseStatistics"].as_array().cloned().unwrap_or_default();
        cells.sort_by_key(|c| c["keys"].to_string());
        out.push((dim.to_string(), cells));
    }
    out
}

/// The export with the columns that name the exporting hub's own records (projects, shelters)
/// left blank, as an ente moving to another hub sends it.
fn without_local_references(export: &[u8]) -> String {
    let mut reader = csv::Reader::from_reader(export);
    let headers = reader.headers().expect("a header").clone();
    let blank: Vec<bool> = headers
        .iter()
        .map(|h| h == "projectId" || h == "shelterId")
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).expect("write");
    for record in reader.records() {
        let record = record.expect("a record");
        let cells: Vec<&str> = record
            .iter()
            .zip(&blank)
            .map(|(c, b)| if *b { "" } else { c })
            .collect();
        writer.write_record(cells).expect("write");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("UTF-8")
}

/// Issue 12: every demo ente's spreadsheet, closed cases included, moves to a fresh hub (as
/// another agency, shelters and projects blank) and gives there the same exact statistics.
async fn demo_round_trip(source: TestHub, target: TestHub) {
    assert!(raccordo_api::demo::seed_demo(&source.hub.state.db)
        .await
        .expect("the demo loads"));
    let enti = source
        .gql(
            None,
            "{ directory(kind: ENTE_ANTITRATTA) { id } }",
            json!({}),
        )
        .await;
    let enti: Vec<String> = enti["data"]["directory"]
        .as_array()
        .expect("the directory")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    let mut moved = 0;
    for (i, ente) in enti.iter().enumerate() {
        let principal = raccordo_api::import::command::agency_principal(
            &source.hub.state.db,
            ente,
            "export:round-trip".into(),
            false,
        )
        .await
        .expect("the ente");
        let export = raccordo_api::import::export_cases(
            &source.hub.state,
            &principal,
            chrono::Utc::now(),
            b',',
        )
        .await
        .expect("the export");
        if export.cases == 0 {
            continue;
        }
        let csv = without_local_references(&export.csv);
        let new = target
            .agency(&format!("Ente trasferito {i}"), "ENTE_ANTITRATTA", "MI")
            .await;
        let token = target.token(Some(&new), UserRole::Coordinator);
        let d = target.ok(&token, IMPORT, json!({ "csv": csv })).await;
        assert_eq!(d["importCases"]["rejected"], json!([]), "{ente}: {d}");
        assert_eq!(d["importCases"]["created"], export.cases, "{ente}: {d}");
        let before =
            exact_statistics(&source, &source.token(Some(ente), UserRole::Coordinator)).await;
        assert_eq!(
            exact_statistics(&target, &token).await,
            before,
            "{ente}: the statistics changed in the move"
        );
        moved += 1;
    }
    assert!(moved >= 2, "only {moved} demo enti hold cases");
    source.finish().await;
    target.finish().await;
}

mod demo_round_trip {
    use crate::common::TestHub;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::demo_round_trip(TestHub::sqlite().await, TestHub::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let (Some(a), Some(b)) = (TestHub::postgres().await, TestHub::postgres().await) {
            super::demo_round_trip(a, b).await;
        }
    }
}

/// Issue 12: GBV indicators holding the spreadsheet's own separators (`|`, `;`) come back as
/// they were written, through export and import.
async fn gbv_indicators_keep_their_separators(hub: TestHub) {
    let ente = hub.agency("Ente GBV", "ENTE_ANTITRATTA", "BG").await;
    let indicators = json!([
        "minaccia | ricatto",
        "debito; 30.000 €",
        "barra \\ rovescia",
        "isolamento"
    ]);
    hub.case(&ente, "GBV-1", json!({ "gbvIndicators": indicators }))
        .await;
    let principal = raccordo_api::import::command::agency_principal(
        &hub.hub.state.db,
        &ente,
        "export:gbv".into(),
        false,
    )
    .await
    .expect("the ente");
    let export =
        raccordo_api::import::export_cases(&hub.hub.state, &principal, chrono::Utc::now(), b';')
            .await
            .expect("the export");
    let csv = String::from_utf8(export.csv).expect("UTF-8");
    // Into the same hub: unchanged (the comparison reads the cell back as written).
    let token = hub.token(Some(&ente), UserRole::Coordinator);
    let d = hub
        .ok(&token, IMPORT, json!({ "csv": csv, "dry": true }))
        .await;
    assert_eq!(d["importCases"]["unchanged"], 1, "{d}\n{csv}");
    // Into another ente: the same list.
    let other = hub.agency("Ente GBV 2", "ENTE_ANTITRATTA", "BG").await;
    let t2 = hub.token(Some(&other), UserRole::Coordinator);
    let d = hub.ok(&t2, IMPORT, json!({ "csv": csv })).await;
    assert_eq!(d["importCases"]["created"], 1, "{d}");
    let d = hub
        .ok(
            &t2,
            "{ cases { edges { node { gbvIndicators } } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["cases"]["edges"][0]["node"]["gbvIndicators"], indicators);
    hub.finish().await;
}
hub_test!(gbv_indicators_keep_their_separators);
