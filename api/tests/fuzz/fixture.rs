//! The hub under test: who calls it, the little network created in it, and sending a request.

use std::{
    collections::BTreeMap,
    fmt,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use clap::Parser as _;
use raccordo_api::{auth, cli::Cli, config::TokenSettings};
use raccordo_policies::UserRole;
use serde_json::{json, Value};

use crate::{
    answer::{check_answer, Answer, HttpRequest, Method},
    hub::{HubProcess, SECRET},
    support::{http_client, WorkDir},
};

/// Who sends a request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    EnteOperator,
    EnteCoordinator,
    EnteAnalyst,
    QuesturaOperator,
    QuesturaAnalyst,
    Admin,
}

pub const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::EnteOperator,
    Caller::EnteCoordinator,
    Caller::EnteAnalyst,
    Caller::QuesturaOperator,
    Caller::QuesturaAnalyst,
    Caller::Admin,
];

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Caller::Anonymous => "anonymous",
            Caller::EnteOperator => "ENTE_ANTITRATTA OPERATOR",
            Caller::EnteCoordinator => "ENTE_ANTITRATTA COORDINATOR",
            Caller::EnteAnalyst => "ENTE_ANTITRATTA ANALYST",
            Caller::QuesturaOperator => "QUESTURA OPERATOR",
            Caller::QuesturaAnalyst => "QUESTURA ANALYST",
            Caller::Admin => "PLATFORM_ADMIN",
        })
    }
}

/// A hub on a fresh SQLite file, the runtime the client runs on, and the ids of the little
/// network created through the public API.
pub struct Fixture {
    runtime: tokio::runtime::Runtime,
    pub hub: std::sync::Mutex<HubProcess>,
    client: reqwest::Client,
    tokens: TokenSettings,
    dir: WorkDir,
    database_url: String,
    pub ente: String,
    pub questura: String,
    pub case_id: String,
    shelter_id: String,
    pub sent: AtomicUsize,
    /// What the answers were: `data` (something executed) or the first error code.
    pub outcomes: std::sync::Mutex<BTreeMap<String, usize>>,
}

/// The token settings as the command line builds them (so new settings keep their defaults).
fn token_settings() -> TokenSettings {
    Cli::try_parse_from([
        "raccordo",
        "--jwt-secret",
        SECRET,
        "--jwt-issuer",
        "raccordo",
        "--jwt-audience",
        "raccordo",
        "schema",
    ])
    .expect("the command line parses")
    .settings
    .tokens
}

impl Fixture {
    pub fn boot() -> Fixture {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        // Removed also when a case fails, as it always was: the failure message has the request,
        // the answer and, when the hub died, the end of its log.
        let dir = WorkDir::scratch("fuzz");
        let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let hub = HubProcess::spawn(&database_url, dir.path(), 0);
        let client = http_client(Duration::from_secs(60));
        let mut fx = Fixture {
            runtime,
            hub: std::sync::Mutex::new(hub),
            client,
            tokens: token_settings(),
            dir,
            database_url,
            ente: String::new(),
            questura: String::new(),
            case_id: String::new(),
            shelter_id: String::new(),
            sent: AtomicUsize::new(0),
            outcomes: std::sync::Mutex::new(BTreeMap::new()),
        };
        fx.ente = fx.create_agency("Ente Fuzz", "ENTE_ANTITRATTA");
        fx.questura = fx.create_agency("Questura Fuzz", "QUESTURA");
        let shelter = fx.ok(
            Caller::EnteCoordinator,
            "mutation { createShelter(name: \"Casa Fuzz\", address: \"via Roma 1\", city: \"Bergamo\") { id } }",
            json!({}),
        );
        fx.shelter_id = shelter["createShelter"]["id"]
            .as_str()
            .expect("shelter id")
            .to_string();
        let case = fx.ok(
            Caller::EnteOperator,
            "mutation($i: CaseInput!) { createCase(input: $i) { id } }",
            json!({ "i": {
                "code": "FUZZ-1", "phase": "PRIMA_ACCOGLIENZA", "openedOn": "2023-01-10",
                "nationality": "NG", "gender": "FEMALE", "alias": "Joy", "shelterId": fx.shelter_id,
                "exploitation": ["SEXUAL_STREET"], "healthNotes": "none"
            } }),
        );
        fx.case_id = case["createCase"]["id"]
            .as_str()
            .expect("case id")
            .to_string();
        fx
    }

    fn create_agency(&self, name: &str, kind: &str) -> String {
        let data = self.ok(
            Caller::Admin,
            "mutation($i: AgencyInput!) { createAgency(input: $i) { id } }",
            json!({ "i": { "name": name, "kind": kind, "province": "BG", "city": "Bergamo",
                           "referralContact": "referrals@example.org" } }),
        );
        data["createAgency"]["id"]
            .as_str()
            .expect("agency id")
            .to_string()
    }

    /// A valid token for `caller` (none for an anonymous one).
    pub fn token(&self, caller: Caller) -> Option<String> {
        let (agency, role) = match caller {
            Caller::Anonymous => return None,
            Caller::EnteOperator => (Some(&self.ente), UserRole::Operator),
            Caller::EnteCoordinator => (Some(&self.ente), UserRole::Coordinator),
            Caller::EnteAnalyst => (Some(&self.ente), UserRole::Analyst),
            Caller::QuesturaOperator => (Some(&self.questura), UserRole::Operator),
            Caller::QuesturaAnalyst => (Some(&self.questura), UserRole::Analyst),
            Caller::Admin => (None, UserRole::PlatformAdmin),
        };
        let user = format!("fuzz-{}", role.as_str().to_lowercase());
        Some(auth::mint(&self.tokens, &user, agency.map(String::as_str), role, 3600).expect("mint"))
    }

    /// A request that must succeed during the setup; returns its `data`.
    fn ok(&self, caller: Caller, query: &str, variables: Value) -> Value {
        let request = HttpRequest::post(
            self.token(caller).map(|t| format!("Bearer {t}")),
            json!({ "query": query, "variables": variables }),
        );
        let answer = self.send(&request).expect("the hub answers the setup");
        assert!(
            answer.body.get("errors").is_none(),
            "setup request failed: {query}\n{}",
            answer.body
        );
        answer.body["data"].clone()
    }

    /// Sends one HTTP request and reads the whole answer. If the hub process died on it, says
    /// so (with the end of its log) and starts it again on the same database.
    fn send(&self, request: &HttpRequest) -> Result<Answer, String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut hub = self.hub.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(Some(_)) = hub.child.try_wait() {
            // Died after answering an earlier request (reported then, if it was seen).
            self.restart(&mut hub);
        }
        let result = self.runtime.block_on(self.http(&hub.url, request));
        if result.is_err() {
            // A dropped connection: give a dying process a moment to be seen dead.
            for _ in 0..50 {
                if let Ok(Some(_)) = hub.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if let Ok(Some(status)) = hub.child.try_wait() {
            let why = format!(
                "the hub process died ({status}) on this request; its log ends with:\n{}",
                hub.log_tail()
            );
            self.restart(&mut hub);
            return Err(why);
        }
        result
    }

    fn restart(&self, hub: &mut HubProcess) {
        let restarts = hub.restarts + 1;
        hub.stop();
        *hub = HubProcess::spawn(&self.database_url, self.dir.path(), restarts);
        hub.restarts = restarts;
    }

    async fn http(&self, url: &str, request: &HttpRequest) -> Result<Answer, String> {
        let mut builder = match &request.method {
            Method::Post => self.client.post(url).body(request.body.clone()),
            Method::Get(params) => self.client.get(url).query(params),
        };
        builder = builder.header("content-type", request.content_type.as_str());
        builder = builder.header(
            "accept",
            if request.accept_graphql_response {
                "application/graphql-response+json"
            } else {
                "application/json"
            },
        );
        if let Some(auth) = &request.authorization {
            let value = reqwest::header::HeaderValue::from_bytes(auth)
                .map_err(|e| format!("the test built a bad header: {e}"))?;
            builder = builder.header("authorization", value);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| format!("no answer (dropped connection?): {e}"))?;
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-request-id").is_some();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("the answer was cut: {e}"))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "HTTP {status}: the body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
        })
    }

    /// Sends `request` and checks the answer against the oracle. A refusal by the hub's throttle
    /// (HTTP 429, itself checked) is waited out and the request sent again.
    pub fn exchange(
        &self,
        caller_is_anonymous: bool,
        request: &HttpRequest,
    ) -> Result<Answer, String> {
        for _ in 0..30 {
            let answer = self.send(request)?;
            check_answer(&answer, caller_is_anonymous)?;
            let outcome = match &answer.body {
                Value::Array(_) => "batch".to_string(),
                body if body.get("data").is_some_and(|d| !d.is_null()) => "data".to_string(),
                body => {
                    let first = &body["errors"][0];
                    let code = first["extensions"]["code"].as_str().unwrap_or("null");
                    // Refused before execution (no path) or by a resolver.
                    let at = if first.get("path").is_some() {
                        "resolver"
                    } else {
                        "request"
                    };
                    format!("{code} ({at})")
                }
            };
            *self
                .outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(outcome)
                .or_default() += 1;
            match answer.retry_after {
                Some(seconds) if answer.status == 429 => {
                    std::thread::sleep(Duration::from_millis(seconds * 1000 + 200))
                }
                _ => return Ok(answer),
            }
        }
        Err("the hub kept answering 429".into())
    }

    /// The ids a generated document may use: real ones and some that never existed.
    pub fn ids(&self) -> Vec<String> {
        vec![
            self.case_id.clone(),
            self.ente.clone(),
            self.questura.clone(),
            self.shelter_id.clone(),
            "micaela-bg".into(),
            "00000000-0000-0000-0000-000000000000".into(),
            String::new(),
            "' OR 1=1 --".into(),
            "../../etc/passwd".into(),
            "9".repeat(40),
        ]
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // The work folder goes with the fields, after this.
        self.hub.lock().unwrap_or_else(|e| e.into_inner()).stop();
    }
}
