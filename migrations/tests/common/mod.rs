//! Fresh throw-away databases for the migration tests.
//!
//! SQLite: a new file under the temp dir. PostgreSQL: only when
//! `TEST_DATABASE_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`),
//! a new database `raccordo_mig_<unique>` created through that URL and dropped
//! afterwards, even when the test body panics.

#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// Every table the initial migration creates, in creation order.
pub const TABLES: [&str; 27] = [
    "agencies",
    "networks",
    "network_members",
    "protocols",
    "protocol_signatories",
    "collaborations",
    "projects",
    "project_enti",
    "project_indicators",
    "shelters",
    "cases",
    "case_exploitations",
    "case_phase_changes",
    "activities",
    "case_notes",
    "consents",
    "shares",
    "transfers",
    "referrals",
    "referral_interviews",
    "access_log",
    "statistics_releases",
    "referral_corrections",
    "shelter_places",
    "placement_requests",
    "placement_offers",
    "placement_events",
];

/// A name unique across processes and across tests of this process.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `body` on a fresh SQLite file, then removes the file.
pub async fn on_fresh_sqlite<F, Fut>(body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let path = std::env::temp_dir().join(format!("raccordo_mig_{}.db", unique_suffix()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Database::connect(&url).await.expect("open SQLite file");
    let outcome = tokio::spawn(body(db)).await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `url` with its database name replaced by `db_name` (query kept).
fn with_database(url: &str, db_name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL has a scheme");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{db_name}{query}")
}

/// Runs `body` on a freshly created PostgreSQL database, then drops it.
/// Returns `false` (and does nothing) when `TEST_DATABASE_URL` is unset.
pub async fn on_fresh_postgres<F, Fut>(body: F) -> bool
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL part skipped");
        return false;
    };
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    let db_name = format!("raccordo_mig_{}", unique_suffix());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {db_name}"))
        .await
        .expect("CREATE DATABASE");
    let db = Database::connect(&with_database(&admin_url, &db_name))
        .await
        .expect("connect to the fresh database");
    let outcome = tokio::spawn(body(db)).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .await
        .expect("DROP DATABASE");
    admin.close().await.expect("close admin connection");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    true
}

#[test]
fn with_database_replaces_only_the_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
}
