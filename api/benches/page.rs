//! What enforcing the protocol costs a whole request: a page of 100 cases with every class,
//! asked over HTTP as the owner and as a JOINT partner.
//!
//! Run twice and compare the medians:
//!   cargo bench -p raccordo-api --bench page
//!   cargo bench -p raccordo-api --bench page --features unenforced-baseline
//! The second build turns the policy layer off (no row conditions, no relationships, no field
//! checks, no access log): the ratio of the two is the policy layer's cost.

// `criterion_group!` defines an undocumented public function; a bench exports nothing.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use raccordo_api::{
    auth,
    config::{Settings, TokenSettings},
    limits::Limits,
    prepare, start,
};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

const PAGE: &str = "{ cases(first: 100) { totalCount edges { node { id code phase version openedOn closedOn owner { name } \
  access { relationships visibleClasses } gender ageGroup nationality exploitation emersionChannel emersionProvince \
  accompanyingMinors pregnant alias legalName birthDate phone shelter { name address city } permitAtStart permitCurrent \
  permitExpiresOn asylumStatus complaintFiled complaintFiledOn healthNotes psychSupport gbvIndicators gbvRiskLevel \
  activities { kind } outcome outcomeOn history { to } notes { text } } } } }";

struct Fixture {
    url: String,
    owner: String,
    joint: String,
    client: reqwest::Client,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await;
    match r {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(e) => panic!("the hub did not answer: {e}"),
    }
}

async fn fixture() -> Fixture {
    let path = std::env::temp_dir().join(format!("raccordo-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let tokens = TokenSettings {
        jwt_secret: Some("bench".into()),
        jwt_public_key: None,
        jwt_issuer: "raccordo".into(),
        jwt_audience: "raccordo".into(),
    };
    let settings = Settings {
        database_url: format!("sqlite://{}?mode=rwc", path.display()),
        bind: "127.0.0.1:0".into(),
        tokens: tokens.clone(),
        policy: None,
        log_format: "pretty".into(),
        limits: Limits::default().without_rate_limits(),
    };
    let state = prepare(&settings).await.expect("prepare");
    let hub = start(state, "127.0.0.1:0", &settings.limits)
        .await
        .expect("start");
    let url = hub.graphql_url();
    std::mem::forget(hub); // serves until the bench process ends
    let client = reqwest::Client::new();
    let mint = |agency: Option<&str>, role| {
        auth::mint(&tokens, "bench", agency, role, 3600).expect("mint")
    };
    let admin = mint(None, UserRole::PlatformAdmin);
    let mut ids = Vec::new();
    for (name, kind) in [
        ("Ente Bench", "ENTE_ANTITRATTA"),
        ("CAV Bench", "CENTRO_ANTIVIOLENZA"),
    ] {
        let r = post(
            &client,
            &url,
            &admin,
            "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
            json!({ "i": { "name": name, "kind": kind, "province": "BG" } }),
        )
        .await;
        ids.push(
            r["data"]["createAgency"]["id"]
                .as_str()
                .expect("agency")
                .to_string(),
        );
    }
    let (ente, cav) = (ids[0].clone(), ids[1].clone());
    let coord = mint(Some(&ente), UserRole::Coordinator);
    let shelter = post(&client, &url, &coord, "mutation { createShelter(name: \"Casa (bench)\", address: \"Via Esempio 1\", city: \"Bergamo\") { id } }", json!({})).await;
    let shelter = shelter["data"]["createShelter"]["id"].clone();
    for i in 0..100 {
        let input = json!({ "code": format!("B-{i:03}"), "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10", "gender": "FEMALE",
            "ageGroup": "ADULT", "nationality": "NG", "exploitation": ["SEXUAL_STREET"], "emersionChannel": "NUMERO_VERDE",
            "emersionProvince": "BG", "accompanyingMinors": 0, "pregnant": false, "alias": "Persona", "legalName": "Nome Cognome",
            "birthDate": "1999-01-01", "phone": "000", "shelterId": shelter, "permitAtStart": "NONE", "permitCurrent": "ART18",
            "permitExpiresOn": "2025-01-01", "asylumStatus": "pending", "complaintFiled": true, "complaintFiledOn": "2023-02-01",
            "healthNotes": "notes", "psychSupport": "weekly", "gbvIndicators": ["a"], "gbvRiskLevel": "LOW" });
        let c = post(
            &client,
            &url,
            &coord,
            "mutation($i: CaseInput!) { createCase(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
        let case = c["data"]["createCase"]["id"].clone();
        post(&client, &url, &coord, "mutation($c: ID!) { addCaseNote(caseId: $c, text: \"diario\", sharedWithJointPartners: true) { id } }", json!({ "c": case })).await;
        post(
            &client,
            &url,
            &coord,
            "mutation($c: ID!) { addActivity(caseId: $c, kind: \"JOB\") { id } }",
            json!({ "c": case }),
        )
        .await;
        let consent = post(&client, &url, &coord, "mutation($c: ID!, $r: ID!) { recordConsent(caseId: $c, purpose: JOINT_MANAGEMENT, recipient: $r, givenOn: \"2023-01-10\") { id } }", json!({ "c": case, "r": cav })).await;
        let consent = consent["data"]["recordConsent"]["id"].clone();
        post(&client, &url, &coord, "mutation($c: ID!, $r: ID!, $k: ID!) { shareCase(caseId: $c, recipient: $r, purpose: JOINT_MANAGEMENT, consentId: $k) { id } }", json!({ "c": case, "r": cav, "k": consent })).await;
    }
    Fixture {
        url,
        owner: mint(Some(&ente), UserRole::Operator),
        joint: mint(Some(&cav), UserRole::Operator),
        client,
    }
}

fn page(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let f = rt.block_on(fixture());
    let label = if cfg!(feature = "unenforced-baseline") {
        "baseline"
    } else {
        "enforced"
    };
    for (who, token) in [("owner", &f.owner), ("joint", &f.joint)] {
        let check = rt.block_on(post(&f.client, &f.url, token, PAGE, json!({})));
        assert_eq!(
            check["data"]["cases"]["edges"].as_array().map(Vec::len),
            Some(100),
            "{who}: {check}"
        );
        c.bench_function(&format!("page100_{who}_{label}"), |b| {
            b.to_async(&rt)
                .iter(|| post(&f.client, &f.url, token, PAGE, json!({})))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = page
}
criterion_main!(benches);
