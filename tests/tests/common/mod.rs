//! The test harness: a real hub on a fresh database, driven over HTTP.
//!
//! Every test gets its own database: a fresh SQLite file, and, when `TEST_DATABASE_URL` names a
//! PostgreSQL server, a freshly created PostgreSQL database. `hub_test!(scenario)` runs an
//! `async fn scenario(hub: TestHub)` on both.

#![allow(dead_code)]

use std::sync::Once;

use raccordo_api::{auth, config::Settings, limits::Limits, prepare, start, RunningHub};
use raccordo_policies::UserRole;
use raccordo_tests::{PgDatabase, SqliteFile};
use serde_json::{json, Value};

pub const SECRET: &str = "test-secret-not-for-production";

/// A running hub and what a test needs to talk to it.
pub struct TestHub {
    pub hub: RunningHub,
    pub client: reqwest::Client,
    settings: Settings,
    cleanup: Cleanup,
}

/// The throw-away database of a hub, removed when it goes (the test kit's).
enum Cleanup {
    Sqlite(SqliteFile),
    Postgres(PgDatabase),
}

/// The limits tests run with: the defaults without the throttle, since tests send hundreds of
/// requests with one token (the throttle has its own tests).
pub fn test_limits() -> Limits {
    Limits::default().without_rate_limits()
}

fn settings(database_url: String, limits: Limits) -> Settings {
    Settings::loopback(database_url, SECRET, limits)
}

static SKIPPED: Once = Once::new();

static LOGGING: Once = Once::new();

/// The hub's errors (an INTERNAL's cause, a refused token's reason) in the output of a failing
/// test; `RUST_LOG` widens it.
fn log_errors() {
    LOGGING.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

impl TestHub {
    async fn boot(settings: Settings, cleanup: Cleanup) -> TestHub {
        log_errors();
        let state = prepare(&settings).await.expect("the hub prepares");
        let hub = start(state, &settings.bind, &settings.limits)
            .await
            .expect("the hub starts");
        TestHub {
            hub,
            client: reqwest::Client::new(),
            settings,
            cleanup,
        }
    }

    /// A hub on a fresh SQLite file.
    pub async fn sqlite() -> TestHub {
        TestHub::sqlite_with(test_limits()).await
    }

    /// A hub on a fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> Option<TestHub> {
        TestHub::postgres_with(test_limits()).await
    }

    /// A hub on a fresh SQLite file, with these limits.
    pub async fn sqlite_with(limits: Limits) -> TestHub {
        let file = SqliteFile::new("test");
        let url = file.url.clone();
        TestHub::boot(settings(url, limits), Cleanup::Sqlite(file)).await
    }

    /// A hub on a fresh PostgreSQL database with these limits, or `None` when
    /// `TEST_DATABASE_URL` is not set.
    pub async fn postgres_with(limits: Limits) -> Option<TestHub> {
        let Some(pg) = PgDatabase::from_env().await else {
            SKIPPED.call_once(|| eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL runs of the integration tests are skipped"));
            return None;
        };
        let url = pg.url.clone();
        Some(TestHub::boot(settings(url, limits), Cleanup::Postgres(pg)).await)
    }

    /// Stops the hub and removes its database.
    pub async fn finish(self) {
        let TestHub { hub, cleanup, .. } = self;
        let db = hub.state.db.clone();
        hub.stop().await;
        db.close().await.ok();
        // The file, or the database, goes with its guard.
        drop(cleanup);
    }

    /// The settings the hub runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A token for a user of `agency` with `role`.
    pub fn token(&self, agency: Option<&str>, role: UserRole) -> String {
        let user = format!(
            "{}-{}",
            role.as_str().to_lowercase(),
            agency.unwrap_or("hub")
        );
        auth::mint(&self.settings.tokens, &user, agency, role, 3600).expect("mint")
    }

    /// A token for `role` as the matrices try it against `agency`: a platform admin belongs to no
    /// agency (a token that names one is refused outright, tested on its own), so its token
    /// names none.
    pub fn member(&self, agency: &str, role: UserRole) -> String {
        match role {
            UserRole::PlatformAdmin => self.admin(),
            _ => self.token(Some(agency), role),
        }
    }

    /// The platform admin's token.
    pub fn admin(&self) -> String {
        self.token(None, UserRole::PlatformAdmin)
    }

    /// Sends a GraphQL request and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_raw(token, query, variables).await.1
    }

    /// Sends a GraphQL request; returns the HTTP status and the JSON response.
    pub async fn gql_raw(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.hub.graphql_url())
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("the hub answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("a JSON answer"))
    }

    /// Posts any JSON body (a batch, say); returns the HTTP status and the JSON response.
    pub async fn post(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.client.post(self.hub.graphql_url()).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("the hub answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("a JSON answer"))
    }

    /// Sends a request that must succeed and returns its `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let r = self.gql(Some(token), query, variables).await;
        assert!(
            r.get("errors").is_none(),
            "unexpected errors: {r}\nquery: {query}"
        );
        r["data"].clone()
    }

    /// The statements the hub has sent to its database so far.
    pub fn statements(&self) -> u64 {
        self.hub.state.statements.get()
    }

    /// Creates an agency as the platform admin and returns its id.
    pub async fn agency(&self, name: &str, kind: &str, province: &str) -> String {
        let data = self
            .ok(
                &self.admin(),
                "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
                json!({ "i": { "name": name, "kind": kind, "province": province, "referralContact": "referrals@example.org" } }),
            )
            .await;
        data["createAgency"]["id"]
            .as_str()
            .expect("agency id")
            .to_string()
    }

    /// Creates a case owned by `agency` (as its operator) with the given extra input fields.
    pub async fn case(&self, agency: &str, code: &str, extra: Value) -> (String, i64) {
        let mut input =
            json!({ "code": code, "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10" });
        if let (Some(obj), Some(more)) = (input.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                obj.insert(k.clone(), v.clone());
            }
        }
        let token = self.token(Some(agency), UserRole::Operator);
        let data = self
            .ok(
                &token,
                "mutation($i: CaseInput!) { createCase(input: $i) { id version } }",
                json!({ "i": input }),
            )
            .await;
        (
            data["createCase"]["id"]
                .as_str()
                .expect("case id")
                .to_string(),
            data["createCase"]["version"].as_i64().unwrap_or(1),
        )
    }
}

/// The `extensions.code` of the first error, if any.
pub fn code(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_string)
}

/// Runs `async fn $name(hub: TestHub)` on SQLite, and on PostgreSQL when configured.
#[macro_export]
macro_rules! hub_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let hub = $crate::common::TestHub::sqlite().await;
                super::$name(hub).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(hub) = $crate::common::TestHub::postgres().await {
                    super::$name(hub).await;
                }
            }
        }
    };
    ($name:ident, $limits:expr) => {
        mod $name {
            // The limits expression is written in the scenario's module.
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let hub = $crate::common::TestHub::sqlite_with($limits).await;
                super::$name(hub).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(hub) = $crate::common::TestHub::postgres_with($limits).await {
                    super::$name(hub).await;
                }
            }
        }
    };
}
