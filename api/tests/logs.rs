//! The hub's own log, as `raccordo serve` writes it: what a caller sends never starts a line of its
//! own, and never fills the log (issue 19, item 4).

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Harness, PgDatabase, WorkDir};

const HARNESS: Harness = Harness {
    bin: support::BIN,
    secret: "logs-test-secret",
    serve_args: &["--log-format", "pretty"],
    start_wait: Duration::from_secs(60),
};

/// Longest line a caller's request may leave in the log, in bytes: the hub's own words around one
/// cut value (`logging::MAX_VALUE_CHARS` characters, each at most 4 bytes) and a few short ones.
const LONGEST_LINE: usize = 4 * 1024;

async fn callers_write_no_lines(dir: &std::path::Path, database_url: &str) {
    let hub = HARNESS.start(dir, database_url, "the hub", "hub.log").await;
    let client = support::http_client(Duration::from_secs(30));
    // Anonymous: an operation name with a line break, in the body and in a batch.
    let forged = json!({ "query": "{ directory { id } }", "operationName": "Z\nANON-FORGED-LINE" });
    for body in [forged.clone(), json!([forged])] {
        let resp = client.post(&hub.url).json(&body).send().await;
        assert!(resp.is_ok(), "the hub answers");
    }
    // Carriage returns and terminal escapes in an unknown field's name and an argument.
    let resp = client
        .post(&hub.url)
        .json(&json!({ "query": "{ directory(province: \"x\\r\\u001b[2JFAKE-CR-LINE\") { id } }" }))
        .send()
        .await;
    assert!(resp.is_ok());
    // A token with a 60 KB `sub`, refused and never written out whole.
    let long_user = "u".repeat(60 * 1024);
    let token = HARNESS
        .token(dir, Some("some-agency"), "OPERATOR", &long_user)
        .await;
    let resp = client
        .post(&hub.url)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { userId } }", "operationName": "X".repeat(20_000) }))
        .send()
        .await
        .expect("the hub answers");
    let answer: serde_json::Value = resp.json().await.expect("JSON");
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{answer}"
    );
    hub.stop().await;
    let log = std::fs::read_to_string(dir.join("hub.log")).expect("the hub's log");
    assert!(
        log.contains("ANON-FORGED-LINE"),
        "the request was logged:\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.starts_with("ANON-FORGED-LINE") && !line.contains("\u{1b}"),
            "a caller wrote a line of the log: {line:?}"
        );
        assert!(
            line.len() <= LONGEST_LINE,
            "a caller filled a line of {} bytes: {}…",
            line.len(),
            &line[..200.min(line.len())]
        );
    }
    assert!(
        !log.lines()
            .any(|l| l.trim_start().starts_with("ANON-FORGED-LINE")
                || l.trim_start().starts_with("[2JFAKE-CR-LINE")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_callers_write_no_log_lines() {
    let dir = WorkDir::new("logs-sqlite", "the hub's log");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("raccordo.db").display()
    );
    callers_write_no_lines(dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_callers_write_no_log_lines() {
    let Some(db) = PgDatabase::create("the PostgreSQL log test").await else {
        return;
    };
    let dir = WorkDir::new("logs-postgres", "the hub's log");
    callers_write_no_lines(dir.path(), &db.url).await;
    drop(dir);
    drop(db);
}
