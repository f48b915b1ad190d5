//! Crash safety (issue "hardening", item 6): the real `raccordo` binary is killed with SIGKILL in
//! the middle of a burst of case updates and logged reads, then restarted on the same database.
//!
//! Several clients work at once, each on its own case: one `updateCase` after another (each
//! passing the version the previous one produced, each moving the phase, rewriting the health
//! notes and replacing the exploitation list), with a read of fields beyond BASE in between (an
//! access-log entry per read); two more clients list every case with protected fields. After a
//! few dozen acknowledged updates the hub gets SIGKILL while requests are still arriving. After
//! the restart, for every case:
//!
//! - every acknowledged update is there, and at most the one update in flight at the kill is
//!   there besides;
//! - whatever is there is whole: the version, the phase, the notes, the exploitation list, the
//!   phase history and the `updateCase` entries of the access log all tell the same number of
//!   updates;
//! - every acknowledged read has its access-log entry (at most the read in flight besides);
//!
//! and `raccordo audit verify` passes, both right after the crash and at the end.
//!
//! On SQLite always; on PostgreSQL when `TEST_DATABASE_URL` names a server (a fresh database
//! `raccordo_t_<uuid>` is created for the run and dropped at its end).

#![cfg(unix)]

mod support;

use std::{
    collections::BTreeSet,
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::{json, Value};
use support::{ok, post, Harness, PgDatabase, Reply, WorkDir};

/// Clients updating their own case (one case each).
const UPDATERS: usize = 6;
/// Clients listing every case with protected fields.
const READERS: usize = 2;
/// Generous waits for a shared, slow machine. Never asserted on: only how long we wait.
const START_WAIT: Duration = Duration::from_secs(300);
const REQUEST_WAIT: Duration = Duration::from_secs(120);
const BURST_WAIT: Duration = Duration::from_secs(600);

/// How this test runs `raccordo`.
const HARNESS: Harness = Harness {
    bin: support::BIN,
    secret: "crash-test-secret-not-for-production",
    serve_args: &[],
    start_wait: START_WAIT,
};

// ------------------------------------------------------------------------------------------------
// What every step writes, so that the state after the crash tells how many updates happened.
// ------------------------------------------------------------------------------------------------

/// The phase after `applied` updates: odd steps move forward, even steps come back (with a reason).
fn phase_after(applied: u32) -> &'static str {
    if applied % 2 == 1 {
        "SECONDA_ACCOGLIENZA"
    } else {
        "PRIMA_ACCOGLIENZA"
    }
}

fn notes_after(case: usize, applied: u32) -> String {
    format!("case {case} step {applied}")
}

fn exploitation_after(applied: u32) -> BTreeSet<String> {
    let items: &[&str] = if applied % 2 == 1 {
        &["LABOUR", "BEGGING"]
    } else {
        &["SEXUAL_STREET"]
    };
    items.iter().map(|s| s.to_string()).collect()
}

fn patch_for(case: usize, step: u32) -> Value {
    let mut patch = json!({
        "phase": phase_after(step),
        "healthNotes": notes_after(case, step),
        "exploitation": exploitation_after(step).into_iter().collect::<Vec<_>>(),
    });
    // Coming back to the earlier phase needs a reason.
    if phase_after(step) == "PRIMA_ACCOGLIENZA" {
        patch["phaseReason"] = json!(format!("crash test: back at step {step}"));
    }
    patch
}

// ------------------------------------------------------------------------------------------------
// The clients.
// ------------------------------------------------------------------------------------------------

const UPDATE: &str = "mutation($id: ID!, $v: Int!, $p: CasePatch!) { updateCase(id: $id, version: $v, patch: $p) { id version phase } }";
const READ_ONE: &str =
    "query($id: ID!) { case(id: $id) { version healthNotes exploitation history { to } } }";
const READ_ALL: &str =
    "{ cases(first: 50) { totalCount edges { node { id version alias healthNotes } } } }";

struct Shared {
    url: String,
    client: reqwest::Client,
    /// Set just before SIGKILL: a lost answer before it is a defect, after it the kill's doing.
    killed: AtomicBool,
    acked_updates: AtomicUsize,
    running: AtomicUsize,
}

#[derive(Debug, Default)]
struct ClientReport {
    user: String,
    acked_updates: u32,
    acked_reads: u32,
    /// The client's last request got no answer: it may or may not have happened.
    update_in_flight: bool,
    read_in_flight: bool,
    /// That last request was sent before the kill (rather than to a dead hub).
    sent_before_kill: bool,
    /// Anything the hub should not have done (a refusal, a lost answer before the kill, a read
    /// that does not show the client's own acknowledged writes).
    failure: Option<String>,
}

struct CaseRef {
    index: usize,
    id: String,
    v0: i64,
}

async fn updater(
    shared: Arc<Shared>,
    token: String,
    user: String,
    case: Arc<CaseRef>,
) -> ClientReport {
    let mut r = ClientReport {
        user,
        ..Default::default()
    };
    loop {
        let step = r.acked_updates + 1;
        let before = !shared.killed.load(Ordering::SeqCst);
        let vars = json!({ "id": case.id, "v": case.v0 + i64::from(r.acked_updates), "p": patch_for(case.index, step) });
        match post(&shared.client, &shared.url, &token, UPDATE, vars).await {
            Reply::Data(d) => {
                let got = d["updateCase"]["version"].as_i64();
                if got != Some(case.v0 + i64::from(step)) {
                    r.failure = Some(format!(
                        "update {step} acknowledged with version {got:?}: {d}"
                    ));
                    break;
                }
                r.acked_updates = step;
                shared.acked_updates.fetch_add(1, Ordering::SeqCst);
            }
            Reply::Refused { answer: e, .. } => {
                r.update_in_flight = true;
                r.failure = Some(format!("update {step} refused: {e}"));
                break;
            }
            Reply::Lost(e) => {
                r.update_in_flight = true;
                r.sent_before_kill = before;
                if !shared.killed.load(Ordering::SeqCst) {
                    r.failure = Some(format!("update {step} lost before the kill: {e}"));
                }
                break;
            }
        }
        let before = !shared.killed.load(Ordering::SeqCst);
        match post(
            &shared.client,
            &shared.url,
            &token,
            READ_ONE,
            json!({ "id": case.id }),
        )
        .await
        {
            Reply::Data(d) => {
                r.acked_reads += 1;
                // Read-your-writes: the client alone changes this case.
                let c = &d["case"];
                let want_version = case.v0 + i64::from(r.acked_updates);
                if c["version"].as_i64() != Some(want_version)
                    || c["healthNotes"].as_str()
                        != Some(notes_after(case.index, r.acked_updates).as_str())
                    || c["history"].as_array().map(Vec::len) != Some(1 + r.acked_updates as usize)
                {
                    r.failure = Some(format!(
                        "after update {} the case reads {c} (version {want_version} expected)",
                        r.acked_updates
                    ));
                    break;
                }
            }
            Reply::Refused { answer: e, .. } => {
                r.read_in_flight = true;
                r.failure = Some(format!("read refused: {e}"));
                break;
            }
            Reply::Lost(e) => {
                r.read_in_flight = true;
                r.sent_before_kill = before;
                if !shared.killed.load(Ordering::SeqCst) {
                    r.failure = Some(format!("read lost before the kill: {e}"));
                }
                break;
            }
        }
    }
    shared.running.fetch_sub(1, Ordering::SeqCst);
    r
}

async fn reader(shared: Arc<Shared>, token: String, user: String, cases: usize) -> ClientReport {
    let mut r = ClientReport {
        user,
        ..Default::default()
    };
    loop {
        let before = !shared.killed.load(Ordering::SeqCst);
        match post(&shared.client, &shared.url, &token, READ_ALL, json!({})).await {
            Reply::Data(d) => {
                let n = d["cases"]["edges"].as_array().map(Vec::len).unwrap_or(0);
                if n != cases {
                    r.failure = Some(format!("the list shows {n} cases, not {cases}: {d}"));
                    break;
                }
                r.acked_reads += 1;
            }
            Reply::Refused { answer: e, .. } => {
                r.read_in_flight = true;
                r.failure = Some(format!("list refused: {e}"));
                break;
            }
            Reply::Lost(e) => {
                r.read_in_flight = true;
                r.sent_before_kill = before;
                if !shared.killed.load(Ordering::SeqCst) {
                    r.failure = Some(format!("list lost before the kill: {e}"));
                }
                break;
            }
        }
    }
    shared.running.fetch_sub(1, Ordering::SeqCst);
    r
}

// ------------------------------------------------------------------------------------------------
// The scenario, on whichever database.
// ------------------------------------------------------------------------------------------------

async fn crash_and_recover(label: &str, dir: &Path, database_url: &str) {
    let client = support::http_client(REQUEST_WAIT);
    let mut hub = HARNESS
        .start(dir, database_url, "the hub (first)", "hub-first.log")
        .await;

    // Setup through the public surface: an ente, its coordinators, one case per updater.
    let admin = HARNESS
        .token(dir, None, "PLATFORM_ADMIN", "crash-admin")
        .await;
    let agency = ok(
        &client,
        &hub.url,
        &admin,
        "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
        json!({ "i": { "name": "Ente Crash Test", "kind": "ENTE_ANTITRATTA", "province": "BG", "referralContact": "referrals@example.org" } }),
    )
    .await["createAgency"]["id"]
        .as_str()
        .expect("agency id")
        .to_string();
    let setup = HARNESS
        .token(dir, Some(&agency), "COORDINATOR", "crash-setup")
        .await;
    let mut cases = Vec::new();
    for index in 0..UPDATERS {
        let data = ok(
            &client,
            &hub.url,
            &setup,
            "mutation($i: CaseInput!) { createCase(input: $i) { id version } }",
            json!({ "i": {
                "code": format!("CRASH-{index}"),
                "phase": phase_after(0),
                "openedOn": "2024-01-10",
                "alias": format!("person {index}"),
                "healthNotes": notes_after(index, 0),
                "exploitation": exploitation_after(0).into_iter().collect::<Vec<_>>(),
            } }),
        )
        .await;
        cases.push(Arc::new(CaseRef {
            index,
            id: data["createCase"]["id"]
                .as_str()
                .expect("case id")
                .to_string(),
            v0: data["createCase"]["version"]
                .as_i64()
                .expect("case version"),
        }));
    }

    // The burst, and the kill in its middle (after a varying number of acknowledged updates).
    let kill_after = 36 + usize::from(uuid::Uuid::new_v4().as_bytes()[0]) % 25;
    let shared = Arc::new(Shared {
        url: hub.url.clone(),
        client: client.clone(),
        killed: AtomicBool::new(false),
        acked_updates: AtomicUsize::new(0),
        running: AtomicUsize::new(UPDATERS + READERS),
    });
    let mut updaters = Vec::new();
    for case in &cases {
        let user = format!("crash-updater-{}", case.index);
        let t = HARNESS
            .token(dir, Some(&agency), "COORDINATOR", &user)
            .await;
        updaters.push(tokio::spawn(updater(shared.clone(), t, user, case.clone())));
    }
    let mut readers = Vec::new();
    for j in 0..READERS {
        let user = format!("crash-reader-{j}");
        let t = HARNESS
            .token(dir, Some(&agency), "COORDINATOR", &user)
            .await;
        readers.push(tokio::spawn(reader(shared.clone(), t, user, UPDATERS)));
    }
    let waited = tokio::time::timeout(BURST_WAIT, async {
        while shared.acked_updates.load(Ordering::SeqCst) < kill_after
            && shared.running.load(Ordering::SeqCst) == UPDATERS + READERS
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    let acked_at_kill = shared.acked_updates.load(Ordering::SeqCst);
    shared.killed.store(true, Ordering::SeqCst);
    hub.crash().await;
    assert!(
        waited.is_ok(),
        "{label}: only {acked_at_kill} updates were acknowledged while waiting for {kill_after}"
    );

    let mut up_reports = Vec::new();
    for h in updaters {
        up_reports.push(h.await.expect("updater task"));
    }
    let mut read_reports = Vec::new();
    for h in readers {
        read_reports.push(h.await.expect("reader task"));
    }
    let failures: Vec<String> = up_reports
        .iter()
        .chain(&read_reports)
        .filter_map(|r| r.failure.as_ref().map(|f| format!("{}: {f}", r.user)))
        .collect();
    assert!(
        failures.is_empty(),
        "{label}: the hub misbehaved during the burst, before the kill:\n{}",
        failures.join("\n")
    );

    // The log chain holds on the database exactly as the crash left it.
    let verified_after_crash = HARNESS
        .audit_verify(dir, database_url, "right after the crash")
        .await;

    // Restart on the same database and look at every case.
    let hub2 = HARNESS
        .start(dir, database_url, "the hub (second)", "hub-second.log")
        .await;
    let checker = HARNESS
        .token(dir, Some(&agency), "COORDINATOR", "crash-checker")
        .await;
    let mut problems = Vec::new();
    let mut updates_in_flight = 0;
    let mut in_flight_applied = 0;
    let mut reads_in_flight = 0;
    for (case, rep) in cases.iter().zip(&up_reports) {
        let d = ok(
            &client,
            &hub2.url,
            &checker,
            "query($id: ID!) { case(id: $id) { version phase healthNotes exploitation history { from to } } caseAccessLog(caseId: $id) { userId operation } }",
            json!({ "id": case.id }),
        )
        .await;
        let c = &d["case"];
        let log = d["caseAccessLog"].as_array().cloned().unwrap_or_default();
        let count = |user: &str, op: &str| {
            log.iter()
                .filter(|e| e["userId"] == user && e["operation"] == op)
                .count()
        };
        let version = c["version"].as_i64().expect("version");
        let applied = version - case.v0;
        let acked = i64::from(rep.acked_updates);
        let most = acked + i64::from(rep.update_in_flight);
        let who = format!("{label} case {} ({})", case.index, rep.user);
        if rep.update_in_flight && rep.sent_before_kill {
            updates_in_flight += 1;
            if applied == most {
                in_flight_applied += 1;
            }
        }
        if rep.read_in_flight && rep.sent_before_kill {
            reads_in_flight += 1;
        }
        if applied < acked {
            problems.push(format!(
                "{who}: LOST acknowledged updates: version {version} = {applied} updates, {acked} were acknowledged"
            ));
        }
        if applied > most {
            problems.push(format!(
                "{who}: version {version} = {applied} updates, but only {acked} were acknowledged and {} in flight",
                most - acked
            ));
        }
        // Whatever number of updates the version tells, everything else must tell the same.
        let applied = u32::try_from(applied.max(0)).unwrap_or(0);
        if c["phase"].as_str() != Some(phase_after(applied)) {
            problems.push(format!(
                "{who}: phase {} after {applied} updates",
                c["phase"]
            ));
        }
        if c["healthNotes"].as_str() != Some(notes_after(case.index, applied).as_str()) {
            problems.push(format!(
                "{who}: health notes {} after {applied} updates",
                c["healthNotes"]
            ));
        }
        let exploitation: BTreeSet<String> = c["exploitation"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if exploitation != exploitation_after(applied) {
            problems.push(format!(
                "{who}: exploitation {exploitation:?} after {applied} updates (half a replacement?)"
            ));
        }
        let history: Vec<Option<&str>> = c["history"]
            .as_array()
            .map(|a| a.iter().map(|h| h["to"].as_str()).collect())
            .unwrap_or_default();
        let want_history: Vec<Option<&str>> = (0..=applied).map(|k| Some(phase_after(k))).collect();
        if history != want_history {
            problems.push(format!(
                "{who}: phase history {history:?} after {applied} updates (expected {} entries)",
                want_history.len()
            ));
        }
        let changes = count(&rep.user, "updateCase");
        if changes != applied as usize {
            problems.push(format!(
                "{who}: {changes} updateCase entries in the access log after {applied} updates"
            ));
        }
        if count("crash-setup", "createCase") != 1 {
            problems.push(format!(
                "{who}: the createCase entry is not in the access log once"
            ));
        }
        // Reads: every acknowledged one logged, at most the one in flight besides.
        let reads = count(&rep.user, "read");
        let (least, most) = (
            rep.acked_reads as usize,
            rep.acked_reads as usize + usize::from(rep.read_in_flight),
        );
        if reads < least || reads > most {
            problems.push(format!(
                "{who}: {reads} read entries of its own client in the access log, {least} reads acknowledged{}",
                if most > least { " and one in flight" } else { "" }
            ));
        }
        for rr in &read_reports {
            let reads = count(&rr.user, "read");
            let (least, most) = (
                rr.acked_reads as usize,
                rr.acked_reads as usize + usize::from(rr.read_in_flight),
            );
            if reads < least || reads > most {
                problems.push(format!(
                    "{who}: {reads} read entries by {} in the access log, {least} lists acknowledged{}",
                    rr.user,
                    if most > least { " and one in flight" } else { "" }
                ));
            }
        }
        // And the case goes on: the next update from the version found is accepted.
        let next = ok(
            &client,
            &hub2.url,
            &checker,
            UPDATE,
            json!({ "id": case.id, "v": version, "p": { "psychSupport": "after the restart" } }),
        )
        .await;
        if next["updateCase"]["version"].as_i64() != Some(version + 1) {
            problems.push(format!(
                "{who}: the update after the restart answered {next}"
            ));
        }
    }
    let lists_in_flight = read_reports
        .iter()
        .filter(|r| r.read_in_flight && r.sent_before_kill)
        .count();
    hub2.stop().await;

    let acked_total: u32 = up_reports.iter().map(|r| r.acked_updates).sum();
    let reads_total: u32 = up_reports
        .iter()
        .chain(&read_reports)
        .map(|r| r.acked_reads)
        .sum();
    println!(
        "{label}: killed after {acked_at_kill} acknowledged updates (threshold {kill_after}); \
         {acked_total} updates and {reads_total} reads acknowledged in all; in flight at the kill: \
         {updates_in_flight} updates ({in_flight_applied} of them found applied), {reads_in_flight} case reads, {lists_in_flight} lists; \
         after the crash: {verified_after_crash}"
    );
    assert!(
        problems.is_empty(),
        "{label}: after SIGKILL and restart:\n{}",
        problems.join("\n")
    );

    // The whole chain once more, now with the checks' entries.
    let verified = HARNESS.audit_verify(dir, database_url, "at the end").await;
    println!("{label}: at the end: {verified}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_sigkill_mid_burst() {
    let dir = WorkDir::new("crash-sqlite", "database and hub logs");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("raccordo.db").display()
    );
    crash_and_recover("SQLite", dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_sigkill_mid_burst() {
    let Some(db) = PgDatabase::create("the PostgreSQL crash test").await else {
        return;
    };
    let dir = WorkDir::new("crash-postgres", "database and hub logs");
    crash_and_recover("PostgreSQL", dir.path(), &db.url).await;
    drop(dir);
    drop(db);
}
