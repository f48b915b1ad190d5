//! Multi-instance correctness (issue "federation", item 4): several `raccordo serve` processes on
//! one PostgreSQL database, as behind a federation gateway.
//!
//! - **Migrations run once.** The test holds the hub's migration advisory lock while it starts
//!   every instance on the empty database, waits until each of them is queued on that lock, and
//!   releases it: the instances then race for it at the same moment. All come up,
//!   `seaql_migrations` has each migration exactly once, and `raccordo migrate` afterwards
//!   changes nothing.
//! - **One access-log chain.** Several clients per instance concurrently read cases with fields
//!   beyond BASE (an access-log entry each), list every case (an entry per case) and update the
//!   cases with the version they read (shared cases: some updates conflict). Afterwards the
//!   number of new entries is exactly the acknowledged updates plus the logged reads, no two
//!   entries share a `prev_hash`, each links to the one before it, and `raccordo audit verify`
//!   passes. No acknowledged update is lost: each case's version equals its first version plus
//!   its acknowledged updates, the versions handed out are exactly the ones in between, and the
//!   stored value is that of the last acknowledged update.
//! - **Optimistic concurrency across instances.** A version read through one instance and
//!   spent through another is stale for the first (`CONFLICT` with `extensions.currentVersion`);
//!   the same version sent at once to every instance by many clients wins exactly once.
//! - **One release.** Every client of every instance asks for the same statistics release at
//!   once: one row is stored, and every answer is identical (ACCESS.md §7.4).
//! - **Readiness.** `/readyz` is 200 on every instance; once the database refuses connections
//!   (`ALLOW_CONNECTIONS false` and its backends terminated) it is 503, and 200 again once the
//!   database is back.
//!
//! Only on PostgreSQL, when `TEST_DATABASE_URL` names a server: a fresh database
//! `raccordo_t_<uuid>` is created for the run and dropped at its end, also when the test fails.

#![cfg(unix)]

mod support;

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use raccordo_api::audit::GENESIS;
use raccordo_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use serde_json::{json, Value};
use support::{ok, Harness, Hub, PgDatabase, Reply, Starting, WorkDir};
use tokio::sync::Barrier;

/// Hub processes on the one database.
const INSTANCES: usize = 3;
/// Clients working through each instance during the burst.
const CLIENTS_PER_INSTANCE: usize = 3;
/// Read-then-update rounds of each client.
const ROUNDS: usize = 20;
/// Each client lists every case once every this many rounds.
const LIST_EVERY: usize = 4;
/// Cases the clients share (fewer than the clients, so that some updates conflict).
const CASES: usize = 4;
/// Updates sent at once with the same version, spread over the instances...
const RACERS: usize = 12;
/// ...this many times.
const RACE_ROUNDS: usize = 3;
/// The advisory lock `raccordo_api::db::migrate` takes (kept in step with `api/src/db.rs`).
const MIGRATION_LOCK: i64 = 727_274_001;

/// Generous waits for a shared, slow machine. Never asserted on: only how long we wait.
const START_WAIT: Duration = Duration::from_secs(300);
const REQUEST_WAIT: Duration = Duration::from_secs(120);
const STATE_WAIT: Duration = Duration::from_secs(180);

/// How this test runs `raccordo`: every hub setting cleared from the environment.
const HARNESS: Harness = Harness {
    bin: support::BIN,
    secret: "multi-instance-test-secret-not-for-production",
    // The test sends hundreds of requests with a few tokens: no throttle, and room for a slow
    // machine (the hub's own timeout would be a timed assertion).
    serve_args: &[
        "--rate-limit-user",
        "1000000",
        "--rate-limit-agency",
        "1000000",
        "--request-timeout",
        "120s",
    ],
    start_wait: START_WAIT,
};

/// `raccordo audit verify`; returns the number of entries it found intact.
async fn audit_verify(dir: &Path, database_url: &str, when: &str) -> i64 {
    let out = HARNESS.audit_verify(dir, database_url, when).await;
    out.strip_prefix("access log intact: ")
        .and_then(|rest| rest.strip_suffix(" entries"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected `audit verify` output {when}: {out}"))
}

// ------------------------------------------------------------------------------------------------
// Requests.
// ------------------------------------------------------------------------------------------------

/// What the hub answered to one GraphQL request.
enum Answer {
    /// HTTP 200, `data`, no `errors`.
    Ack(Value),
    /// A `CONFLICT` error, with its `extensions.currentVersion`.
    Conflict(i64),
    /// Anything else (a failure here).
    Other(String),
}

async fn gql(client: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Answer {
    match support::post(client, url, token, query, vars).await {
        Reply::Data(data) => Answer::Ack(data),
        Reply::Refused { errors, answer } => match errors.as_slice() {
            [only] if only["extensions"]["code"] == "CONFLICT" => {
                match only["extensions"]["currentVersion"].as_i64() {
                    Some(current) => Answer::Conflict(current),
                    None => Answer::Other(answer),
                }
            }
            _ => Answer::Other(answer),
        },
        Reply::Lost(e) => Answer::Other(e),
    }
}

async fn readyz(client: &reqwest::Client, hub: &Hub) -> Option<u16> {
    client
        .get(format!("{}/readyz", hub.base))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Waits (generously) until every hub's `/readyz` answers `want`; panics with the last answers.
async fn wait_readyz(client: &reqwest::Client, hubs: &[Hub], want: u16, when: &str) {
    let mut last = Vec::new();
    let reached = tokio::time::timeout(STATE_WAIT, async {
        loop {
            last.clear();
            for hub in hubs {
                last.push((hub.name.clone(), readyz(client, hub).await));
            }
            if last.iter().all(|(_, s)| *s == Some(want)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        reached.is_ok(),
        "/readyz did not answer {want} {when}: {last:?}"
    );
}

const READ_ONE: &str = "query($id: ID!) { case(id: $id) { version healthNotes } }";
const READ_ALL: &str =
    "{ cases(first: 50) { totalCount edges { node { id version healthNotes } } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!, $p: CasePatch!) { updateCase(id: $id, version: $v, patch: $p) { id version } }";

// ------------------------------------------------------------------------------------------------
// SQL, straight on the database.
// ------------------------------------------------------------------------------------------------

async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_string());
    options.max_connections(4).sqlx_logging(false);
    Database::connect(options)
        .await
        .expect("the test database answers")
}

async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row")
        .try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn rows(db: &impl ConnectionTrait, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `seaql_migrations` as (version, applied_at), in order.
async fn migration_rows(db: &DatabaseConnection) -> Vec<(String, i64)> {
    rows(
        db,
        "SELECT version, applied_at FROM seaql_migrations ORDER BY version",
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get_by_index::<String>(0).expect("version"),
            r.try_get_by_index::<i64>(1).expect("applied_at"),
        )
    })
    .collect()
}

/// A case's version and health notes, read without going through the hub (no access-log entry).
async fn case_row(db: &DatabaseConnection, id: &str) -> (i64, Option<String>) {
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT version::bigint, health_notes FROM cases WHERE id = $1",
            [id.into()],
        ))
        .await
        .expect("read the case")
        .expect("the case exists");
    (
        row.try_get_by_index::<i64>(0).expect("version"),
        row.try_get_by_index::<Option<String>>(1)
            .expect("health_notes"),
    )
}

/// The access log's entries and the highest `seq`.
async fn log_size(db: &DatabaseConnection) -> (i64, i64) {
    (
        scalar(db, "SELECT count(*) FROM access_log").await,
        scalar(db, "SELECT coalesce(max(seq), 0)::bigint FROM access_log").await,
    )
}

/// Checks that the access log is one chain, independently of `raccordo audit verify`: no two
/// entries share a predecessor, and in `seq` order each entry links to the one before it (the
/// first to the genesis hash). Returns the number of entries.
async fn check_one_chain(db: &DatabaseConnection, when: &str) -> i64 {
    let shared = rows(
        db,
        "SELECT prev_hash, count(*) FROM access_log GROUP BY prev_hash HAVING count(*) > 1",
    )
    .await;
    assert!(
        shared.is_empty(),
        "{when}: FORK in the access log: {} predecessors are claimed by more than one entry",
        shared.len()
    );
    let unlinked = scalar(
        db,
        &format!(
            "SELECT count(*) FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS before \
             FROM access_log) c WHERE prev_hash <> coalesce(before, '{GENESIS}')"
        ),
    )
    .await;
    assert_eq!(
        unlinked, 0,
        "{when}: {unlinked} access-log entries do not link to the entry before them"
    );
    let hashes = scalar(db, "SELECT count(DISTINCT hash) FROM access_log").await;
    let count = scalar(db, "SELECT count(*) FROM access_log").await;
    assert_eq!(hashes, count, "{when}: two access-log entries share a hash");
    count
}

// ------------------------------------------------------------------------------------------------
// The burst of clients.
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct CaseRef {
    id: String,
    v0: i64,
}

#[derive(Debug, Default)]
struct ClientReport {
    user: String,
    reads: usize,
    lists: usize,
    /// Acknowledged updates: (case index, version answered, health notes written).
    updates: Vec<(usize, i64, String)>,
    conflicts: usize,
    failures: Vec<String>,
}

async fn client_burst(
    client: reqwest::Client,
    url: String,
    token: String,
    user: String,
    k: usize,
    cases: Arc<Vec<CaseRef>>,
) -> ClientReport {
    let mut r = ClientReport {
        user: user.clone(),
        ..Default::default()
    };
    for round in 0..ROUNDS {
        let c = (k + round) % CASES;
        let id = &cases[c].id;
        let version = match gql(&client, &url, &token, READ_ONE, json!({ "id": id })).await {
            Answer::Ack(d) => {
                r.reads += 1;
                match d["case"]["version"].as_i64() {
                    Some(v) => v,
                    None => {
                        r.failures.push(format!("round {round}: read answered {d}"));
                        break;
                    }
                }
            }
            Answer::Conflict(v) => {
                r.failures
                    .push(format!("round {round}: a read answered CONFLICT ({v})"));
                break;
            }
            Answer::Other(e) => {
                r.failures.push(format!("round {round}: read failed: {e}"));
                break;
            }
        };
        let notes = format!("{user} round {round}");
        let vars = json!({ "id": id, "v": version, "p": { "healthNotes": notes } });
        match gql(&client, &url, &token, UPDATE, vars).await {
            Answer::Ack(d) => {
                let got = d["updateCase"]["version"].as_i64();
                if got != Some(version + 1) {
                    r.failures.push(format!(
                        "round {round}: update from version {version} answered version {got:?}"
                    ));
                    break;
                }
                r.updates.push((c, version + 1, notes));
            }
            Answer::Conflict(current) => {
                r.conflicts += 1;
                if current <= version {
                    r.failures.push(format!(
                        "round {round}: CONFLICT for version {version} names current version {current}, not a newer one"
                    ));
                    break;
                }
            }
            Answer::Other(e) => {
                r.failures
                    .push(format!("round {round}: update failed: {e}"));
                break;
            }
        }
        if round % LIST_EVERY == LIST_EVERY - 1 {
            match gql(&client, &url, &token, READ_ALL, json!({})).await {
                Answer::Ack(d) => {
                    let n = d["cases"]["edges"].as_array().map(Vec::len).unwrap_or(0);
                    if n != CASES {
                        r.failures
                            .push(format!("round {round}: the list shows {n} cases: {d}"));
                        break;
                    }
                    r.lists += 1;
                }
                Answer::Conflict(v) => {
                    r.failures
                        .push(format!("round {round}: a list answered CONFLICT ({v})"));
                    break;
                }
                Answer::Other(e) => {
                    r.failures.push(format!("round {round}: list failed: {e}"));
                    break;
                }
            }
        }
    }
    r
}

// ------------------------------------------------------------------------------------------------
// The scenario.
// ------------------------------------------------------------------------------------------------

async fn scenario(dir: &Path, admin_url: &str, name: &str, url: &str) {
    let client = support::http_client(REQUEST_WAIT);
    let db = connect(url).await;

    // ---- (a) Every instance migrates the empty database at start; the lock lets one do it. ----
    // The test holds the migration lock, so that every instance gets as far as the lock and
    // waits there; releasing it starts the race for it at one moment.
    let gate = db.begin().await.expect("begin");
    gate.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await
        .expect("take the migration lock");
    let mut starting: Vec<Starting> = (0..INSTANCES)
        .map(|i| HARNESS.spawn(dir, url, &format!("hub-{i}"), &format!("hub-{i}.log")))
        .collect();
    let waiting_sql = format!(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE d.datname = current_database() AND l.locktype = 'advisory' \
         AND l.classid = 0 AND l.objid = {MIGRATION_LOCK} AND NOT l.granted"
    );
    let mut waiting = 0;
    let queued = tokio::time::timeout(START_WAIT, async {
        loop {
            for s in starting.iter_mut() {
                s.still_running();
            }
            waiting = scalar(&db, &waiting_sql).await;
            if waiting == INSTANCES as i64 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        queued.is_ok(),
        "only {waiting} of {INSTANCES} instances queued on the migration lock"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT (to_regclass('seaql_migrations') IS NOT NULL)::int::bigint"
        )
        .await,
        0,
        "an instance migrated while the migration lock was held by someone else"
    );
    gate.commit().await.expect("release the migration lock");
    let hubs: Vec<Hub> = futures::future::join_all(starting.into_iter().map(Starting::ready)).await;

    let expected: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let applied = migration_rows(&db).await;
    let mut per_version: BTreeMap<&str, usize> = BTreeMap::new();
    for (v, _) in &applied {
        *per_version.entry(v.as_str()).or_default() += 1;
    }
    for m in &expected {
        assert_eq!(
            per_version.get(m.as_str()).copied().unwrap_or(0),
            1,
            "migration {m} is not in seaql_migrations exactly once: {applied:?}"
        );
    }
    assert_eq!(
        applied.len(),
        expected.len(),
        "seaql_migrations has rows beyond the hub's migrations: {applied:?}"
    );
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("migration status")
            .is_empty(),
        "migrations are still pending after every instance started"
    );
    let (ok_migrate, out, err) = HARNESS
        .raccordo(dir, &["--database-url", url, "migrate"])
        .await;
    assert!(ok_migrate, "`raccordo migrate` fails:\n{out}\n{err}");
    assert_eq!(
        migration_rows(&db).await,
        applied,
        "`raccordo migrate` on a migrated database changed seaql_migrations"
    );
    println!(
        "(a) {INSTANCES} instances queued on the migration lock and started: {} migrations applied once each; `raccordo migrate` afterwards: no change",
        applied.len()
    );

    // ---- (d1) Every instance is ready. ----
    for hub in &hubs {
        assert_eq!(
            readyz(&client, hub).await,
            Some(200),
            "{}: /readyz is not 200",
            hub.name
        );
    }

    // ---- Setup through the public API, spread over the instances. ----
    let admin = HARNESS.token(dir, None, "PLATFORM_ADMIN", "mi-admin").await;
    let agency = ok(
        &client,
        &hubs[0].url,
        &admin,
        "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
        json!({ "i": { "name": "Ente Multi Istanza", "kind": "ENTE_ANTITRATTA", "province": "BG", "referralContact": "referrals@example.org" } }),
    )
    .await["createAgency"]["id"]
        .as_str()
        .expect("agency id")
        .to_string();
    let setup = HARNESS
        .token(dir, Some(&agency), "COORDINATOR", "mi-setup")
        .await;
    let mut cases = Vec::new();
    for index in 0..CASES {
        let d = ok(
            &client,
            &hubs[index % INSTANCES].url,
            &setup,
            "mutation($i: CaseInput!) { createCase(input: $i) { id version } }",
            json!({ "i": {
                "code": format!("MULTI-{index}"),
                "phase": "PRIMA_ACCOGLIENZA",
                "openedOn": "2024-01-10",
                "alias": format!("person {index}"),
                "healthNotes": "created",
            } }),
        )
        .await;
        cases.push(CaseRef {
            id: d["createCase"]["id"].as_str().expect("case id").to_string(),
            v0: d["createCase"]["version"].as_i64().expect("version"),
        });
    }
    let cases = Arc::new(cases);

    // ---- (b) The burst: every instance writes to the one chain at once. ----
    let (entries_before, seq_before) = log_size(&db).await;
    let mut tasks = Vec::new();
    let mut tokens = Vec::new();
    for (i, hub) in hubs.iter().enumerate() {
        for j in 0..CLIENTS_PER_INSTANCE {
            let user = format!("mi-client-{i}-{j}");
            let t = HARNESS
                .token(dir, Some(&agency), "COORDINATOR", &user)
                .await;
            tokens.push(t.clone());
            tasks.push(tokio::spawn(client_burst(
                client.clone(),
                hub.url.clone(),
                t,
                user,
                i * CLIENTS_PER_INSTANCE + j,
                cases.clone(),
            )));
        }
    }
    let mut reports = Vec::new();
    for t in tasks {
        reports.push(t.await.expect("client task"));
    }
    let failures: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failures.iter().map(move |f| format!("{}: {f}", r.user)))
        .collect();
    assert!(
        failures.is_empty(),
        "the hubs misbehaved during the burst:\n{}",
        failures.join("\n")
    );
    let reads: usize = reports.iter().map(|r| r.reads).sum();
    let lists: usize = reports.iter().map(|r| r.lists).sum();
    let updates: usize = reports.iter().map(|r| r.updates.len()).sum();
    let conflicts: usize = reports.iter().map(|r| r.conflicts).sum();
    let requests = reads + lists + updates + conflicts;

    // No lost update: per case, the versions handed out are exactly v0+1..=v0+n, the stored
    // version is v0+n, and the stored notes are those of the update that got v0+n.
    let mut problems = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let mut acked: Vec<(i64, &str)> = reports
            .iter()
            .flat_map(|r| r.updates.iter())
            .filter(|(ci, _, _)| *ci == c)
            .map(|(_, v, n)| (*v, n.as_str()))
            .collect();
        acked.sort();
        let versions: Vec<i64> = acked.iter().map(|(v, _)| *v).collect();
        let want: Vec<i64> = (1..=acked.len() as i64).map(|k| case.v0 + k).collect();
        if versions != want {
            problems.push(format!(
                "case {c}: acknowledged updates got versions {versions:?}, expected {want:?} (a version handed out twice is a LOST UPDATE)"
            ));
        }
        let (version, notes) = case_row(&db, &case.id).await;
        let last_notes = acked.last().map(|(_, n)| n.to_string());
        if version != case.v0 + acked.len() as i64 {
            problems.push(format!(
                "case {c}: version {version} after {} acknowledged updates from version {}",
                acked.len(),
                case.v0
            ));
        }
        if last_notes.is_some() && notes != last_notes {
            problems.push(format!(
                "case {c}: stored notes {notes:?}, but the last acknowledged update wrote {last_notes:?}"
            ));
        }
        let logged = scalar(
            &db,
            &format!(
                "SELECT count(*) FROM access_log WHERE seq > {seq_before} AND operation = 'updateCase' AND case_id = '{}'",
                case.id
            ),
        )
        .await;
        if logged != acked.len() as i64 {
            problems.push(format!(
                "case {c}: {logged} updateCase entries in the access log for {} acknowledged updates",
                acked.len()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "after the burst:\n{}",
        problems.join("\n")
    );

    // One chain, holding exactly what was acknowledged.
    let (entries_after, _) = log_size(&db).await;
    let expected_entries = updates + reads + lists * CASES;
    let new_entries = entries_after - entries_before;
    let logged_reads = scalar(
        &db,
        &format!("SELECT count(*) FROM access_log WHERE seq > {seq_before} AND operation = 'read'"),
    )
    .await;
    assert_eq!(
        logged_reads,
        (reads + lists * CASES) as i64,
        "read entries: {reads} case reads and {lists} lists of {CASES} cases were acknowledged"
    );
    assert_eq!(
        new_entries, expected_entries as i64,
        "the burst added {new_entries} access-log entries; {updates} updates, {reads} case reads and {lists} lists of {CASES} cases were acknowledged"
    );
    let chained = check_one_chain(&db, "after the burst").await;
    let verified = audit_verify(dir, url, "after the burst").await;
    assert_eq!(
        verified, chained,
        "`audit verify` counted {verified} entries, the table holds {chained}"
    );
    println!(
        "(b) {} clients on {INSTANCES} instances: {requests} requests ({reads} case reads, {lists} lists, {updates} updates acknowledged, {conflicts} CONFLICT); \
         {new_entries} new access-log entries = {updates} + {reads} + {lists}x{CASES}; one chain of {chained} entries, `audit verify` intact",
        INSTANCES * CLIENTS_PER_INSTANCE
    );

    // ---- (c) Optimistic concurrency across instances. ----
    let (entries_before_c, _) = log_size(&db).await;
    let (a, b) = (&hubs[0], &hubs[1]);
    let case = &cases[0];
    let v = ok(
        &client,
        &a.url,
        &tokens[0],
        READ_ONE,
        json!({ "id": case.id }),
    )
    .await["case"]["version"]
        .as_i64()
        .expect("version");
    let through_b = ok(
        &client,
        &b.url,
        &tokens[CLIENTS_PER_INSTANCE],
        UPDATE,
        json!({ "id": case.id, "v": v, "p": { "healthNotes": "through B" } }),
    )
    .await;
    assert_eq!(
        through_b["updateCase"]["version"].as_i64(),
        Some(v + 1),
        "the update through B: {through_b}"
    );
    match gql(
        &client,
        &a.url,
        &tokens[0],
        UPDATE,
        json!({ "id": case.id, "v": v, "p": { "healthNotes": "stale through A" } }),
    )
    .await
    {
        Answer::Conflict(current) => assert_eq!(
            current,
            v + 1,
            "the stale update through A names current version {current}"
        ),
        Answer::Ack(d) => {
            panic!("LOST UPDATE: A accepted version {v} after B had moved the case on: {d}")
        }
        Answer::Other(e) => panic!("the stale update through A: {e}"),
    }
    assert_eq!(
        case_row(&db, &case.id).await,
        (v + 1, Some("through B".to_string())),
        "the refused update changed the case"
    );
    let mut race_conflicts = 0;
    for round in 0..RACE_ROUNDS {
        let (w, _) = case_row(&db, &case.id).await;
        let barrier = Arc::new(Barrier::new(RACERS));
        let mut racers = Vec::new();
        for r in 0..RACERS {
            let (client, url) = (client.clone(), hubs[r % INSTANCES].url.clone());
            let t = tokens[r % tokens.len()].clone();
            let (barrier, id) = (barrier.clone(), case.id.clone());
            racers.push(tokio::spawn(async move {
                let notes = format!("race {round} racer {r}");
                barrier.wait().await;
                let vars = json!({ "id": id, "v": w, "p": { "healthNotes": notes } });
                (notes, gql(&client, &url, &t, UPDATE, vars).await)
            }));
        }
        let mut winners = Vec::new();
        let mut odd = Vec::new();
        for (r, h) in racers.into_iter().enumerate() {
            match h.await.expect("racer") {
                (notes, Answer::Ack(d)) => {
                    if d["updateCase"]["version"].as_i64() != Some(w + 1) {
                        odd.push(format!("racer {r} acknowledged with {d}"));
                    }
                    winners.push(notes);
                }
                (_, Answer::Conflict(current)) => {
                    race_conflicts += 1;
                    if current != w + 1 {
                        odd.push(format!("racer {r}: CONFLICT names version {current}"));
                    }
                }
                (_, Answer::Other(e)) => odd.push(format!("racer {r}: {e}")),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "race {round}: {} of {RACERS} updates with version {w} were acknowledged (exactly one may be): {winners:?}",
            winners.len()
        );
        assert!(odd.is_empty(), "race {round}:\n{}", odd.join("\n"));
        assert_eq!(
            case_row(&db, &case.id).await,
            (w + 1, winners.pop()),
            "race {round}: the stored case is not the winner's"
        );
    }
    let (entries_after_c, _) = log_size(&db).await;
    assert_eq!(
        entries_after_c - entries_before_c,
        (2 + RACE_ROUNDS) as i64,
        "(c) wrote one read, one update and one update per race; refused updates write nothing"
    );
    check_one_chain(&db, "after the races").await;
    println!(
        "(c) version read through {} and spent through {}: CONFLICT through {} with currentVersion {}; {RACE_ROUNDS} races of {RACERS} updates over {INSTANCES} instances: one winner each, {race_conflicts} CONFLICT",
        a.name,
        b.name,
        a.name,
        v + 1
    );

    // ---- (d2) Readiness follows the database. ----
    db.close().await.ok();
    let admin_db = connect(admin_url).await;
    admin_db
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .expect("refuse connections");
    admin_db
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .expect("end the hubs' sessions");
    wait_readyz(
        &client,
        &hubs,
        503,
        "while the database refuses connections",
    )
    .await;
    let during = gql(
        &client,
        &a.url,
        &tokens[0],
        READ_ONE,
        json!({ "id": case.id }),
    )
    .await;
    let during_outage = match &during {
        Answer::Ack(d) => panic!("a case was read while the database refused connections: {d}"),
        Answer::Conflict(v) => format!("CONFLICT {v}"),
        Answer::Other(e) => e.clone(),
    };
    admin_db
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .expect("allow connections again");
    admin_db.close().await.ok();
    wait_readyz(&client, &hubs, 200, "once the database is back").await;
    for (i, hub) in hubs.iter().enumerate() {
        ok(
            &client,
            &hub.url,
            &tokens[i * CLIENTS_PER_INSTANCE],
            READ_ONE,
            json!({ "id": case.id }),
        )
        .await;
    }
    println!(
        "(d) /readyz 200 on {INSTANCES} instances, 503 while the database refused connections (a read meanwhile: {during_outage}), 200 again after"
    );

    // ---- (e) One statistics release, asked of every instance at once. ----
    // Every client of every instance asks for the same closed period at the same moment: each
    // instance may compute it, one stores it, and every answer is the stored one.
    let barrier = Arc::new(Barrier::new(INSTANCES * CLIENTS_PER_INSTANCE));
    let asks = (0..INSTANCES * CLIENTS_PER_INSTANCE).map(|i| {
        let (client, barrier) = (client.clone(), barrier.clone());
        let url = hubs[i / CLIENTS_PER_INSTANCE].url.clone();
        let token = tokens[i].clone();
        async move {
            barrier.wait().await;
            ok(
                &client,
                &url,
                &token,
                "{ statisticsRelease(period: \"2023-01\") { id publishedAt tables { subject groupBy cells { keys count } } } }",
                json!({}),
            )
            .await
        }
    });
    let answers = futures::future::join_all(asks).await;
    for a in &answers {
        assert_eq!(a, &answers[0], "two instances served different releases");
    }
    let release_db = connect(url).await;
    assert_eq!(
        scalar(&release_db, "SELECT count(*) FROM statistics_releases").await,
        1,
        "one release stored"
    );
    release_db.close().await.ok();
    println!(
        "(e) {} clients on {INSTANCES} instances asked for one release at once: one stored, every answer identical",
        answers.len()
    );

    // ---- The whole chain at the end. ----
    let db = connect(url).await;
    let chained = check_one_chain(&db, "at the end").await;
    let verified = audit_verify(dir, url, "at the end").await;
    assert_eq!(verified, chained, "`audit verify` and the table disagree");
    println!("at the end: one chain of {chained} entries, `raccordo audit verify` intact");
    db.close().await.ok();
    drop(hubs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_share_one_postgres_database() {
    let Some(db) = PgDatabase::create("the multi-instance test").await else {
        return;
    };
    eprintln!("multi-instance test on database {}", db.name);
    let dir = WorkDir::new("multi", "hub logs");
    scenario(dir.path(), &db.admin_url, &db.name, &db.url).await;
    drop(dir);
    drop(db);
}
