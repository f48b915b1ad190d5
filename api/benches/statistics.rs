//! Statistics at scale: 100,000 synthetic cases, 20,000 referrals, 1,000 agencies and 10,000
//! collaborations, bulk-inserted straight into the database, then asked over HTTP:
//!
//! - `caseStatistics` grouped by two dimensions, as a project's coordination (scope `MINE`, exact,
//!   now and "as of" a date) and as a prefettura (scope `NETWORK`: a table of a yearly release);
//! - a yearly hub-wide statistics release: computed (the stored one removed before each run, so
//!   every iteration reads the rows, draws the noise and stores it) and served from storage;
//! - `indicators` of a project over a period;
//! - `networkGraph` of the whole region.
//!
//! Then the same release benchmarks on the demo region (`demo-sqlite`, `demo-postgres`). Targets:
//! a demo year computed in under 2 s and served in under 10 ms; a year of the 100,000 cases
//! computed in under 30 s on PostgreSQL.
//!
//! On SQLite (a temporary file) always, and on PostgreSQL when `TEST_DATABASE_URL` names a server
//! (a fresh database is created, and dropped at the end; `RACCORDO_BENCH_KEEP=1` keeps both
//! databases and prints where they are, to look at query plans). Target: each median under 50 ms
//! on PostgreSQL.
//!
//!   CARGO_TARGET_DIR=/work/target-bench TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p raccordo-api --bench statistics -- --warm-up-time 1 --measurement-time 5

// `criterion_group!` defines an undocumented public function; a bench exports nothing.
#![allow(missing_docs)]

use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use raccordo_api::{
    auth,
    config::{Settings, TokenSettings},
    limits::Limits,
    prepare,
    releases::{self, Population, ReleasePeriod},
    start, RunningHub,
};
use raccordo_entities::{
    activity, agency, case, case_exploitation, case_phase_change, collaboration, project,
    project_ente, project_indicator, referral, referral_interview, statistics_release,
};
use raccordo_policies::UserRole;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    TransactionTrait,
};
use serde_json::{json, Value};

const CASES: usize = 100_000;
const REFERRALS: usize = 20_000;
const AGENCIES: usize = 1_000;
const EDGES: usize = 10_000;
const PROJECTS: usize = 10;

const PROVINCES: [&str; 12] = [
    "BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA",
];
const NATIONALITIES: [&str; 20] = [
    "NG", "AL", "RO", "MA", "SN", "BD", "PK", "CI", "BR", "CN", "UA", "TN", "EG", "GH", "PH", "LR",
    "GM", "ML", "CO", "PE",
];
const GENDERS: [&str; 3] = ["FEMALE", "FEMALE", "MALE"];
const OPEN_PHASES: [&str; 4] = [
    "PRONTO_INTERVENTO",
    "PRIMA_ACCOGLIENZA",
    "SECONDA_ACCOGLIENZA",
    "PRESA_IN_CARICO_TERRITORIALE",
];
const OUTCOMES: [&str; 5] = [
    "AUTONOMY",
    "NON_ADHERENCE",
    "SENT_TO_SAI",
    "TAKEN_OVER_BY_LOCAL_SERVICES",
    "SENT_TO_OTHER_ANTI_TRAFFICKING_PROJECT",
];
const EXPLOITATIONS: [&str; 5] = [
    "SEXUAL_STREET",
    "SEXUAL_INDOOR",
    "LABOUR",
    "TRAFFICKING",
    "ILLEGAL_ECONOMIES",
];
const CHANNELS: [&str; 6] = [
    "ASSESSMENT_SERVICE",
    "SELF_REFERRAL",
    "ACQUAINTANCE",
    "NUMERO_VERDE",
    "IOM",
    "OUTREACH_UNIT",
];
const PERMITS: [&str; 6] = [
    "NONE",
    "INTERNATIONAL_PROTECTION_REQUEST",
    "APPEAL_ART35",
    "ART18",
    "REFUGEE_STATUS",
    "SPECIAL_PROTECTION",
];
const ACTIVITY_KINDS: [&str; 6] = [
    "LITERACY_COURSE",
    "VOCATIONAL_COURSE",
    "INTERNSHIP",
    "WORK_GRANT",
    "JOB",
    "HOUSING",
];
const INDICATOR_KEYS: [&str; 14] = [
    "persone_in_assistenza",
    "alfabetizzazione",
    "formazione_professionalizzante",
    "borse_lavoro",
    "tirocini_extracurriculari",
    "nuovi_inserimenti_lavorativi",
    "contributi_alloggio",
    "percorsi_regolarizzazione",
    "percorsi_psicologici_psichiatrici",
    "autonomia_chiusura",
    "colloqui_valutazione_filtro",
    "identificate_protezione_internazionale",
    "eventi_sensibilizzazione",
    "emersione_persone_contattate",
];

/// A fixed-seed xorshift: the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN))
        .and_utc()
}

async fn insert<C, A>(db: &C, rows: Vec<A>, chunk: usize)
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<A> = rows.by_ref().take(chunk).collect();
        <A::Entity as EntityTrait>::insert_many(part)
            .exec_without_returning(db)
            .await
            .expect("bulk insert");
    }
}

fn agency_kind(i: usize) -> &'static str {
    match i % 10 {
        0 if i < 10 * PROJECTS => "COORDINAMENTO",
        1 => "PREFETTURA",
        2 => "COMMISSIONE_TERRITORIALE",
        3 => "CENTRO_ANTIVIOLENZA",
        4 => "SERVIZI_TERRITORIALI",
        _ => "ENTE_ANTITRATTA",
    }
}

fn agency_id(i: usize) -> String {
    format!("a{i:04}")
}

/// The agencies of `kind`, by id.
fn of_kind(kind: &str) -> Vec<String> {
    (0..AGENCIES)
        .filter(|&i| agency_kind(i) == kind)
        .map(agency_id)
        .collect()
}

/// Bulk-loads the synthetic network, cases and referrals.
async fn load(db: &DatabaseConnection) {
    let started = Instant::now();
    let now = Utc::now();
    let mut rng = Rng(0x5241_4343_4f52_444f);
    let txn = db.begin().await.expect("begin");
    let agencies = (0..AGENCIES)
        .map(|i| {
            let p = PROVINCES[i % PROVINCES.len()];
            agency::ActiveModel {
                id: Set(agency_id(i)),
                name: Set(format!("Agenzia {i:04}")),
                kind: Set(agency_kind(i).into()),
                province: Set(Some(p.into())),
                city: Set(Some(format!("Comune {p}"))),
                public_contact: Set(None),
                website: Set(None),
                referral_contact: Set(None),
                notes: Set(None),
                latitude: Set(Some(45.0 + (i % 100) as f64 / 100.0)),
                longitude: Set(Some(9.0 + (i / 100) as f64 / 10.0)),
                disabled: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    insert(&txn, agencies, 500).await;
    let coordinations = of_kind("COORDINAMENTO");
    let enti = of_kind("ENTE_ANTITRATTA");
    let requesters = [of_kind("COMMISSIONE_TERRITORIALE"), of_kind("PREFETTURA")].concat();
    // Project p0 and p1 share the first coordination: it sees 20% of the cases exactly.
    let projects = (0..PROJECTS)
        .map(|p| project::ActiveModel {
            id: Set(format!("p{p}")),
            name: Set(format!("Progetto {p}")),
            coordinator_id: Set(coordinations[p.saturating_sub(1)].clone()),
            starts_on: Set(Some(day(2021, 1, 1))),
            ends_on: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    insert(&txn, projects, 100).await;
    let ente_of_project = |p: usize, k: usize| enti[(p * 60 + k) % enti.len()].clone();
    let links = (0..PROJECTS)
        .flat_map(|p| {
            (0..60)
                .map(move |k| (p, k))
                .map(|(p, k)| project_ente::ActiveModel {
                    project_id: Set(format!("p{p}")),
                    agency_id: Set(ente_of_project(p, k)),
                })
        })
        .collect();
    insert(&txn, links, 500).await;
    let indicators = INDICATOR_KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| project_indicator::ActiveModel {
            id: Set(format!("i{i}")),
            project_id: Set("p0".into()),
            key: Set(k.to_string()),
            label: Set(format!("N. {k}")),
            expected: Set(100 + i as i64),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    insert(&txn, indicators, 100).await;

    let mut cases = Vec::with_capacity(CASES);
    let mut exploitations = Vec::new();
    let mut history = Vec::new();
    let mut activities = Vec::new();
    for i in 0..CASES {
        let p = i % PROJECTS;
        let id = format!("c{i:06}");
        let opened = day(2019, 1, 1) + Duration::days(rng.below(1_900) as i64);
        let closed = (rng.below(10) < 3).then(|| {
            std::cmp::min(
                opened + Duration::days(30 + rng.below(600) as i64),
                day(2024, 6, 30),
            )
        });
        let open_phase = rng.pick(&OPEN_PHASES);
        let phase = if closed.is_some() {
            "CLOSED"
        } else {
            open_phase
        };
        cases.push(case::ActiveModel {
            id: Set(id.clone()),
            code: Set(format!("B-{i:06}")),
            owner_id: Set(ente_of_project(p, rng.below(60))),
            project_id: Set(Some(format!("p{p}"))),
            phase: Set(phase.into()),
            opened_on: Set(opened),
            closed_on: Set(closed),
            version: Set(1),
            gender: Set(Some(rng.pick(&GENDERS).into())),
            age_group: Set(Some("ADULT".into())),
            nationality: Set(Some(rng.pick(&NATIONALITIES).into())),
            emersion_channel: Set(Some(rng.pick(&CHANNELS).into())),
            emersion_province: Set(Some(rng.pick(&PROVINCES).into())),
            permit_at_start: Set(Some(rng.pick(&PERMITS).into())),
            permit_current: Set(Some(rng.pick(&PERMITS).into())),
            psych_support: Set((rng.below(4) == 0).then(|| "WEEKLY".to_string())),
            outcome: Set(closed.map(|_| rng.pick(&OUTCOMES).to_string())),
            outcome_on: Set(closed),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        exploitations.push(case_exploitation::ActiveModel {
            case_id: Set(id.clone()),
            exploitation: Set(EXPLOITATIONS[i % EXPLOITATIONS.len()].into()),
        });
        if i % 5 == 0 {
            exploitations.push(case_exploitation::ActiveModel {
                case_id: Set(id.clone()),
                exploitation: Set(EXPLOITATIONS[(i + 2) % EXPLOITATIONS.len()].into()),
            });
        }
        let change = |n: usize, from: Option<&str>, to: &str, on: NaiveDate| {
            case_phase_change::ActiveModel {
                id: Set(format!("h{i:06}-{n}")),
                case_id: Set(id.clone()),
                at: Set(at(on)),
                user_id: Set("bench".into()),
                agency_id: Set(ente_of_project(p, 0)),
                from_phase: Set(from.map(str::to_string)),
                to_phase: Set(to.into()),
                reason: Set(None),
            }
        };
        history.push(change(0, None, open_phase, opened));
        if let Some(c) = closed {
            history.push(change(1, Some(open_phase), "CLOSED", c));
        }
        if i % 2 == 0 {
            activities.push(activity::ActiveModel {
                id: Set(format!("x{i:06}")),
                case_id: Set(id.clone()),
                kind: Set(rng.pick(&ACTIVITY_KINDS).into()),
                detail: Set(None),
                started_on: Set(Some(opened + Duration::days(rng.below(200) as i64))),
                ended_on: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    insert(&txn, cases, 500).await;
    insert(&txn, exploitations, 2_000).await;
    insert(&txn, history, 1_000).await;
    insert(&txn, activities, 1_000).await;

    let mut referrals = Vec::with_capacity(REFERRALS);
    let mut interviews = Vec::new();
    for i in 0..REFERRALS {
        let p = i % PROJECTS;
        let id = format!("r{i:05}");
        let received = day(2021, 1, 1) + Duration::days(rng.below(1_200) as i64);
        let concluded =
            (rng.below(10) < 6).then(|| received + Duration::days(20 + rng.below(90) as i64));
        let status = match concluded {
            Some(_) => "CONCLUDED",
            None => ["RECEIVED", "SCHEDULED", "IN_PROGRESS"][rng.below(3)],
        };
        let outcome = concluded.map(|_| {
            [
                "IDENTIFIED_TRAFFICKING",
                "IDENTIFIED_SEXUAL_EXPLOITATION",
                "IDENTIFIED_LABOUR_EXPLOITATION",
                "NOT_IDENTIFIED",
            ][rng.below(4)]
            .to_string()
        });
        referrals.push(referral::ActiveModel {
            id: Set(id.clone()),
            requested_by_id: Set(requesters[rng.below(requesters.len())].clone()),
            target_id: Set(ente_of_project(p, rng.below(60))),
            project_id: Set(Some(format!("p{p}"))),
            received_on: Set(received),
            province: Set(Some(rng.pick(&PROVINCES).into())),
            status: Set(status.into()),
            scheduled_on: Set(None),
            concluded_on: Set(concluded),
            subject_ref: Set(None),
            subject_gender: Set(Some(rng.pick(&GENDERS).into())),
            subject_nationality: Set(Some(rng.pick(&NATIONALITIES).into())),
            outcome: Set(outcome),
            programme_adhesion: Set(concluded.map(|_| rng.below(5) == 0)),
            outcome_note: Set(None),
            case_id: Set(None),
            version: Set(1),
            created_by: Set("bench".into()),
            created_at: Set(now),
            updated_at: Set(now),
        });
        let held = if status == "RECEIVED" || status == "SCHEDULED" {
            0
        } else {
            1 + rng.below(3)
        };
        for k in 0..held {
            interviews.push(referral_interview::ActiveModel {
                id: Set(format!("{id}-{k}")),
                referral_id: Set(id.clone()),
                held_on: Set(received + Duration::days(7 + 7 * k as i64)),
                notes: Set(None),
                recorded_by: Set("bench".into()),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    insert(&txn, referrals, 1_000).await;
    insert(&txn, interviews, 2_000).await;

    let edges = (0..EDGES)
        .map(|i| {
            let from = rng.below(AGENCIES);
            let to = (from + 1 + rng.below(AGENCIES - 1)) % AGENCIES;
            collaboration::ActiveModel {
                id: Set(format!("e{i:05}")),
                kind: Set(["REFERRAL", "PERMITS", "TRAMA", "HOUSING"][i % 4].into()),
                from_id: Set(agency_id(from)),
                to_id: Set(agency_id(to)),
                since: Set(Some(day(2020, 1, 1))),
                weight: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
        })
        .collect();
    insert(&txn, edges, 1_000).await;
    txn.commit().await.expect("commit");
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    eprintln!(
        "loaded {CASES} cases, {REFERRALS} referrals, {AGENCIES} agencies, {EDGES} collaborations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A hub on a loaded database, and what the measured requests need.
struct Fixture {
    name: String,
    hub: RunningHub,
    client: reqwest::Client,
    coordination: String,
    prefettura: String,
    cleanup: Cleanup,
}

/// What to remove when the bench is done.
enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, database: String },
}

fn settings(database_url: String) -> Settings {
    Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        tokens: TokenSettings {
            jwt_secret: Some("bench".into()),
            jwt_public_key: None,
            jwt_issuer: "raccordo".into(),
            jwt_audience: "raccordo".into(),
        },
        policy: None,
        log_format: "pretty".into(),
        limits: Limits::default().without_rate_limits(),
    }
}

/// What a fixture holds: the bulk network, or the demo region.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Data {
    Bulk,
    Demo,
}

async fn fixture(data: Data, backend: &str, url: String, cleanup: Cleanup) -> Fixture {
    let settings = settings(url);
    let state = prepare(&settings).await.expect("prepare");
    let name = match data {
        Data::Bulk => {
            load(&state.db).await;
            backend.to_string()
        }
        Data::Demo => {
            raccordo_api::demo::seed_demo(&state.db)
                .await
                .expect("the demo loads");
            format!("demo-{backend}")
        }
    };
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Autovacuum is off on this machine: fresh statistics for the planner.
        state
            .db
            .execute_unprepared("ANALYZE")
            .await
            .expect("analyze");
    }
    let hub = start(state, "127.0.0.1:0", &settings.limits)
        .await
        .expect("start");
    let mint = |agency: &str, role| {
        auth::mint(&settings.tokens, "bench", Some(agency), role, 3600).expect("mint")
    };
    let (coordination, prefettura) = match data {
        Data::Bulk => (
            of_kind("COORDINAMENTO")[0].clone(),
            of_kind("PREFETTURA")[0].clone(),
        ),
        Data::Demo => ("mla-coordinamento".into(), "prefettura-bg".into()),
    };
    Fixture {
        name,
        hub,
        client: reqwest::Client::new(),
        coordination: mint(&coordination, UserRole::Coordinator),
        prefettura: mint(&prefettura, UserRole::Operator),
        cleanup,
    }
}

async fn sqlite(data: Data) -> Fixture {
    let path = std::env::temp_dir().join(format!(
        "raccordo-bench-stats-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    fixture(data, "sqlite", url, Cleanup::Sqlite(path)).await
}

async fn postgres(data: Data) -> Option<Fixture> {
    let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
    let database = format!("raccordo_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url).await.expect("PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .expect("create the bench database");
    admin.close().await.ok();
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{}", &admin_url[..i], database),
        None => panic!("TEST_DATABASE_URL must end with /DATABASE"),
    };
    Some(
        fixture(
            data,
            "postgres",
            url,
            Cleanup::Postgres {
                admin_url,
                database,
            },
        )
        .await,
    )
}

impl Fixture {
    async fn post(&self, token: &str, query: &str, variables: &Value) -> Value {
        let r = self
            .client
            .post(self.hub.graphql_url())
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        match r {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(e) => panic!("the hub did not answer: {e}"),
        }
    }

    async fn finish(self) {
        let Fixture { hub, cleanup, .. } = self;
        let db = hub.state.db.clone();
        hub.stop().await;
        db.close().await.ok();
        if std::env::var_os("RACCORDO_BENCH_KEEP").is_some() {
            match &cleanup {
                Cleanup::Sqlite(path) => eprintln!("kept {}", path.display()),
                Cleanup::Postgres { database, .. } => eprintln!("kept database {database}"),
            }
            return;
        }
        match cleanup {
            Cleanup::Postgres {
                admin_url,
                database,
            } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                        ))
                        .await;
                }
            }
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
    }
}

const CASE_STATS: &str = "query($g: [CaseDimension!]!, $s: StatisticsScope, $a: Date, $f: CaseFilter) { caseStatistics(groupBy: $g, scope: $s, asOf: $a, filter: $f) { keys count suppressed } }";
const INDICATORS: &str = "query { indicators(projectId: \"p0\", from: \"2022-10-01\", to: \"2023-06-30\") { key expected achieved ratio suppressed tracked } }";
const NETWORK_GRAPH: &str = "{ networkGraph { nodes { id name kind province degree } edges { id from to kind weight } clusters { id kind members } } }";
const RELEASE: &str = "query($p: String!) { statisticsRelease(period: $p) { id publishedAt tables { subject groupBy cells { keys count suppressed } } } }";

/// The yearly release both benchmarks read: 2021 holds about 19,000 of the bulk cases; the demo's
/// busiest year is 2022.
fn release_year(f: &Fixture) -> &'static str {
    if f.name.starts_with("demo") {
        "2022"
    } else {
        "2021"
    }
}

/// Computing a release: the stored one is removed first, so each iteration reads the rows,
/// draws the noise and stores the release again.
fn bench_release_compute(c: &mut Criterion, rt: &tokio::runtime::Runtime, f: &Fixture) {
    let period = ReleasePeriod::parse("period", release_year(f)).expect("a period");
    let state = &f.hub.state;
    let mut group = c.benchmark_group(f.name.clone());
    group.sample_size(10);
    group.bench_function("statisticsRelease_year_compute", |b| {
        b.to_async(rt).iter(|| async {
            statistics_release::Entity::delete_many()
                .exec(&state.db)
                .await
                .expect("remove the stored release");
            releases::get_or_publish(
                &state.db,
                &state.policy,
                &period,
                &Population::Hub,
                Utc::now(),
            )
            .await
            .expect("a release")
        })
    });
    group.finish();
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, f: &Fixture) {
    let year = release_year(f);
    let whole_year =
        json!({ "openedFrom": format!("{year}-01-01"), "openedTo": format!("{year}-12-31") });
    let mut cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "statisticsRelease_year_served",
            f.prefettura.as_str(),
            json!({ "p": year }),
            RELEASE,
        ),
        (
            "caseStatistics_2d_prefettura_network_release",
            f.prefettura.as_str(),
            json!({ "g": ["NATIONALITY", "GENDER"], "s": "NETWORK", "f": whole_year }),
            CASE_STATS,
        ),
    ];
    if !f.name.starts_with("demo") {
        cases.extend([
            (
                "caseStatistics_2d_coordination_exact",
                f.coordination.as_str(),
                json!({ "g": ["NATIONALITY", "PHASE"], "s": "MINE" }),
                CASE_STATS,
            ),
            (
                "caseStatistics_2d_coordination_exact_asof",
                f.coordination.as_str(),
                json!({ "g": ["NATIONALITY", "PHASE"], "s": "MINE", "a": "2023-06-30" }),
                CASE_STATS,
            ),
            (
                "indicators_coordination",
                f.coordination.as_str(),
                json!({}),
                INDICATORS,
            ),
            (
                "networkGraph_region",
                f.prefettura.as_str(),
                json!({}),
                NETWORK_GRAPH,
            ),
        ]);
    }
    let mut group = c.benchmark_group(f.name.clone());
    for (name, token, vars, query) in &cases {
        let check = rt.block_on(f.post(token, query, vars));
        assert!(
            check.get("errors").is_none() && !check["data"].is_null(),
            "{name}: {check}"
        );
        group.bench_function(*name, |b| {
            b.to_async(rt).iter(|| f.post(token, query, vars))
        });
    }
    group.finish();
    bench_release_compute(c, rt, f);
}

fn statistics(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for data in [Data::Demo, Data::Bulk] {
        let f = rt.block_on(sqlite(data));
        bench_backend(c, &rt, &f);
        rt.block_on(f.finish());
        match rt.block_on(postgres(data)) {
            Some(f) => {
                bench_backend(c, &rt, &f);
                rt.block_on(f.finish());
            }
            None => eprintln!("TEST_DATABASE_URL is not set: PostgreSQL is not measured"),
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = statistics
}
criterion_main!(benches);
