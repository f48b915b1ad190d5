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

use std::{
    collections::BTreeSet,
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const BIN: &str = env!("CARGO_BIN_EXE_raccordo");
const SECRET: &str = "crash-test-secret-not-for-production";

/// Clients updating their own case (one case each).
const UPDATERS: usize = 6;
/// Clients listing every case with protected fields.
const READERS: usize = 2;
/// Generous waits for a shared, slow machine. Never asserted on: only how long we wait.
const START_WAIT: Duration = Duration::from_secs(300);
const REQUEST_WAIT: Duration = Duration::from_secs(120);
const BURST_WAIT: Duration = Duration::from_secs(600);

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
// The hub as a child process, killed whenever the guard goes (even when the test fails).
// ------------------------------------------------------------------------------------------------

struct Hub {
    child: Child,
    url: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        // SIGKILL; a no-op when it already exited. `kill_on_drop` is the second belt.
        let _ = self.child.start_kill();
    }
}

impl Hub {
    async fn start(dir: &Path, database_url: &str, run: &str) -> Hub {
        let log = std::fs::File::create(dir.join(format!("hub-{run}.log"))).expect("hub log file");
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                database_url,
                "--jwt-secret",
                SECRET,
            ])
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("RACCORDO_JWT_SECRET")
            .env_remove("RACCORDO_JWT_PUBLIC_KEY")
            .env_remove("RACCORDO_POLICY")
            .env_remove("RACCORDO_BIND")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("raccordo serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(START_WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(a) = line.strip_prefix("listening on ") {
                    return Some(a.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(address) = address else {
            let _ = child.start_kill();
            let log =
                std::fs::read_to_string(dir.join(format!("hub-{run}.log"))).unwrap_or_default();
            panic!("the hub ({run}) printed no `listening on` line; its log:\n{log}");
        };
        // Keep draining standard output so the hub never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Hub {
            child,
            url: format!("{address}/graphql"),
        }
    }

    /// Stops the hub and waits until it is gone.
    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGKILL, and the proof that the hub was still running when it came.
    async fn crash(&mut self) {
        self.child.start_kill().expect("SIGKILL sent");
        let status = self.child.wait().await.expect("the hub is reaped");
        assert_eq!(
            status.signal(),
            Some(9),
            "the hub had already stopped before the kill: {status}"
        );
    }
}

/// Runs a short `raccordo` command; returns (success, stdout, stderr).
async fn raccordo(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tokio::time::timeout(
        START_WAIT,
        Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("RACCORDO_JWT_SECRET")
            .env_remove("RACCORDO_POLICY")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("raccordo finishes")
    .expect("raccordo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn token(dir: &Path, agency: Option<&str>, role: &str, user: &str) -> String {
    let mut args = vec![
        "--jwt-secret",
        SECRET,
        "token",
        "--role",
        role,
        "--user",
        user,
    ];
    if let Some(a) = agency {
        args.extend(["--agency", a]);
    }
    let (ok, out, err) = raccordo(dir, &args).await;
    assert!(ok, "raccordo token failed: {err}");
    out.trim().to_string()
}

async fn audit_verify(dir: &Path, database_url: &str, when: &str) -> String {
    let (ok, out, err) = raccordo(dir, &["--database-url", database_url, "audit", "verify"]).await;
    assert!(
        ok,
        "`raccordo audit verify` fails {when}:\nstdout: {out}\nstderr: {err}"
    );
    out.trim().to_string()
}

// ------------------------------------------------------------------------------------------------
// Requests: acknowledged, refused (an answer with errors), or lost (no whole answer).
// ------------------------------------------------------------------------------------------------

enum Outcome {
    /// HTTP 200, `data`, no `errors`.
    Ack(Value),
    /// The hub answered, but not with a clean success.
    Refused(String),
    /// No complete answer: the connection failed or was cut.
    Lost(String),
}

async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> Outcome {
    let resp = match client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::Lost(format!("{e:?}")),
    };
    let status = resp.status().as_u16();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return Outcome::Lost(format!("body cut: {e:?}")),
    };
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return Outcome::Refused(format!("HTTP {status}, not JSON: {text}"));
    };
    if status == 200 && body.get("errors").is_none() && !body["data"].is_null() {
        Outcome::Ack(body["data"].clone())
    } else {
        Outcome::Refused(format!("HTTP {status}: {body}"))
    }
}

/// For setup and checks: the request must succeed.
async fn ok(client: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Value {
    match gql(client, url, token, query, vars).await {
        Outcome::Ack(data) => data,
        Outcome::Refused(e) | Outcome::Lost(e) => panic!("{e}\nquery: {query}"),
    }
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
        match gql(&shared.client, &shared.url, &token, UPDATE, vars).await {
            Outcome::Ack(d) => {
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
            Outcome::Refused(e) => {
                r.update_in_flight = true;
                r.failure = Some(format!("update {step} refused: {e}"));
                break;
            }
            Outcome::Lost(e) => {
                r.update_in_flight = true;
                r.sent_before_kill = before;
                if !shared.killed.load(Ordering::SeqCst) {
                    r.failure = Some(format!("update {step} lost before the kill: {e}"));
                }
                break;
            }
        }
        let before = !shared.killed.load(Ordering::SeqCst);
        match gql(
            &shared.client,
            &shared.url,
            &token,
            READ_ONE,
            json!({ "id": case.id }),
        )
        .await
        {
            Outcome::Ack(d) => {
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
            Outcome::Refused(e) => {
                r.read_in_flight = true;
                r.failure = Some(format!("read refused: {e}"));
                break;
            }
            Outcome::Lost(e) => {
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
        match gql(&shared.client, &shared.url, &token, READ_ALL, json!({})).await {
            Outcome::Ack(d) => {
                let n = d["cases"]["edges"].as_array().map(Vec::len).unwrap_or(0);
                if n != cases {
                    r.failure = Some(format!("the list shows {n} cases, not {cases}: {d}"));
                    break;
                }
                r.acked_reads += 1;
            }
            Outcome::Refused(e) => {
                r.read_in_flight = true;
                r.failure = Some(format!("list refused: {e}"));
                break;
            }
            Outcome::Lost(e) => {
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
    let client = reqwest::Client::builder()
        .timeout(REQUEST_WAIT)
        .build()
        .expect("http client");
    let mut hub = Hub::start(dir, database_url, "first").await;

    // Setup through the public surface: an ente, its coordinators, one case per updater.
    let admin = token(dir, None, "PLATFORM_ADMIN", "crash-admin").await;
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
    let setup = token(dir, Some(&agency), "COORDINATOR", "crash-setup").await;
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
        let t = token(dir, Some(&agency), "COORDINATOR", &user).await;
        updaters.push(tokio::spawn(updater(shared.clone(), t, user, case.clone())));
    }
    let mut readers = Vec::new();
    for j in 0..READERS {
        let user = format!("crash-reader-{j}");
        let t = token(dir, Some(&agency), "COORDINATOR", &user).await;
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
    let verified_after_crash = audit_verify(dir, database_url, "right after the crash").await;

    // Restart on the same database and look at every case.
    let hub2 = Hub::start(dir, database_url, "second").await;
    let checker = token(dir, Some(&agency), "COORDINATOR", "crash-checker").await;
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
    let verified = audit_verify(dir, database_url, "at the end").await;
    println!("{label}: at the end: {verified}");
}

// ------------------------------------------------------------------------------------------------
// Where the databases live, and their cleanup (also when the test fails).
// ------------------------------------------------------------------------------------------------

struct WorkDir(PathBuf);

impl WorkDir {
    fn new(name: &str) -> WorkDir {
        let dir = std::env::temp_dir().join(format!(
            "raccordo-crash-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "kept {} (database and hub logs) for a look",
                self.0.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A PostgreSQL database created for the run and dropped when this goes.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Its own thread and runtime: this may run while a test's runtime is unwinding.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_sigkill_mid_burst() {
    let dir = WorkDir::new("sqlite");
    let url = format!("sqlite://{}?mode=rwc", dir.0.join("raccordo.db").display());
    crash_and_recover("SQLite", &dir.0, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_sigkill_mid_burst() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL crash test is skipped");
        return;
    };
    let name = format!("raccordo_t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("PostgreSQL answers at TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let db = PgDatabase {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{}", &admin_url[..i], name),
        None => panic!("TEST_DATABASE_URL must end with /DATABASE"),
    };
    let dir = WorkDir::new("postgres");
    crash_and_recover("PostgreSQL", &dir.0, &url).await;
    drop(dir);
    drop(db);
}
