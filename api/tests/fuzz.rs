//! Property tests (issue "hardening", item 5): random and mutated GraphQL documents, variables and
//! tokens sent to a real hub over loopback HTTP.
//!
//! Every test starts its own hub, the real `raccordo serve` built with the tests, on a fresh
//! SQLite file with a development secret on 127.0.0.1, creates a small network through the public
//! API as the platform admin (an ente, a questura, a shelter, a case), then feeds generated
//! requests to it over loopback HTTP. The hub runs as a child process so that a crash that no
//! `catch_unwind` can stop (a stack overflow aborts the process) is reported as a failed case, shrunk,
//! with the end of the hub's log; the hub is then started again on the same database. For every
//! answer:
//!
//! - the hub answered (no dropped connection, no panic, the process alive) and never with an
//!   HTTP 5xx;
//! - the body is a well-formed GraphQL response: a JSON object (an array of them for a batch)
//!   with `data` and/or `errors` and nothing but `extensions` besides; every error has a
//!   `message` and an `extensions.code` among the contract's codes;
//! - `INTERNAL` never appears: none of these inputs is an internal failure;
//! - no error suggests schema names ("Did you mean"), every answer has an `x-request-id`, and an
//!   anonymous caller never gets `__schema` or `__type`.
//!
//! The generators:
//!
//! - `schema_documents`: documents built from the served schema's own type, field, argument and
//!   enum names (`raccordo_api::graphql::sdl()`), with random nesting, arguments, aliases, inline
//!   fragments and fragment spreads, variables, directives, batches, GET and POST, for anonymous
//!   and authenticated callers of several kinds and roles. Half the documents carry deliberate
//!   mistakes (wrong types, unknown names, missing arguments, limits exceeded); the other half
//!   make none, so that most of them reach the resolvers;
//! - `mutated_documents`: valid documents with byte flips, truncation, duplication, deletion,
//!   insertions (braces, huge numbers, unicode, directives, fragments), deep nesting, and mutated
//!   JSON bodies;
//! - `random_variables`: documents that declare variables of every input type, with random JSON
//!   for them (wrong types, huge strings, nested objects and lists, nulls);
//! - `tokens`: valid, expired, not yet valid, wrong signature, `alg: none`, other algorithms,
//!   wrong audience or issuer, missing claims, tampered payload, unknown agency or role, garbage
//!   and malformed headers. Here the answer must also be right: a valid token is the identity it
//!   names; any other is `UNAUTHENTICATED` with no data (401 with `graphql-response+json`).
//!
//! The generated documents come from a "choice tape" (a list of numbers, each choice taken from
//! it, 0 always the simplest), so proptest shrinks a failure to a short document; the failure
//! message prints the request as sent (caller, body) and the answer.
//!
//! Cases per test: 90, 80, 50 and 60 (280 in all, a few seconds); `PROPTEST_CASES=N` runs N in
//! each test. `PROPTEST_RNG_SEED` is honoured as proptest documents it. Each test prints (with
//! `--nocapture`) how its answers were spread: data, or the first error's code and whether a
//! resolver or the request check raised it. `deep_nesting` sends fixed documents nested as deep
//! as the token limit lets them, one shape per way of nesting.

use std::{
    collections::BTreeMap,
    fmt,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use base64::Engine as _;
use clap::Parser as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestError, TestRunner},
};
use raccordo_api::{auth, cli::Cli, config::TokenSettings};
use raccordo_policies::UserRole;
use serde_json::{json, Map, Value};

const SECRET: &str = "fuzz-secret-not-for-production";

/// The codes the contract allows in `extensions.code`.
const CODES: [&str; 7] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "VALIDATION",
    "CONFLICT",
    "LIMIT_EXCEEDED",
    "INTERNAL",
];

// ------------------------------------------------------------------------------------------------
// The hub under test
// ------------------------------------------------------------------------------------------------

/// Who sends a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    EnteOperator,
    EnteCoordinator,
    EnteAnalyst,
    QuesturaOperator,
    QuesturaAnalyst,
    Admin,
}

const CALLERS: [Caller; 7] = [
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

/// The hub process: the real `raccordo serve`, so that a crash (a stack overflow aborts the whole
/// process) is a failed case with a shrunk input, not the end of the test binary.
struct HubProcess {
    child: std::process::Child,
    url: String,
    log: std::path::PathBuf,
    /// How many times the hub had to be started again after dying.
    restarts: usize,
}

const BIN: &str = env!("CARGO_BIN_EXE_raccordo");

impl HubProcess {
    fn spawn(database_url: &str, dir: &std::path::Path, n: usize) -> HubProcess {
        let out = dir.join(format!("stdout-{n}.txt"));
        let log = dir.join(format!("stderr-{n}.txt"));
        let child = std::process::Command::new(BIN)
            .args([
                "serve",
                "--database-url",
                database_url,
                "--bind",
                "127.0.0.1:0",
                "--jwt-secret",
                SECRET,
                "--jwt-issuer",
                "raccordo",
                "--jwt-audience",
                "raccordo",
            ])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("stderr file"))
            .spawn()
            .expect("raccordo starts");
        let mut hub = HubProcess {
            child,
            url: String::new(),
            log,
            restarts: 0,
        };
        let started = std::time::Instant::now();
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(addr) = text
                .lines()
                .find_map(|l| l.strip_prefix("listening on http://"))
            {
                hub.url = format!("http://{}/graphql", addr.trim());
                return hub;
            }
            if let Ok(Some(status)) = hub.child.try_wait() {
                panic!("raccordo serve exited ({status}): {}", hub.log_tail());
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "raccordo serve did not listen within 300 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A hub on a fresh SQLite file, the runtime the client runs on, and the ids of the little
/// network created through the public API.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    hub: std::sync::Mutex<HubProcess>,
    client: reqwest::Client,
    tokens: TokenSettings,
    dir: std::path::PathBuf,
    database_url: String,
    ente: String,
    questura: String,
    case_id: String,
    shelter_id: String,
    sent: AtomicUsize,
    /// What the answers were: `data` (something executed) or the first error code.
    outcomes: std::sync::Mutex<BTreeMap<String, usize>>,
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
    fn boot() -> Fixture {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir =
            std::env::temp_dir().join(format!("raccordo-fuzz-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let database_url = format!("sqlite://{}?mode=rwc", dir.join("hub.db").display());
        let hub = HubProcess::spawn(&database_url, &dir, 0);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client");
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
    fn token(&self, caller: Caller) -> Option<String> {
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
        *hub = HubProcess::spawn(&self.database_url, &self.dir, restarts);
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
    fn exchange(&self, caller_is_anonymous: bool, request: &HttpRequest) -> Result<Answer, String> {
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
    fn ids(&self) -> Vec<String> {
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
        self.hub.lock().unwrap_or_else(|e| e.into_inner()).stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ------------------------------------------------------------------------------------------------
// Requests, answers and the oracle
// ------------------------------------------------------------------------------------------------

#[derive(Clone)]
enum Method {
    Post,
    Get(Vec<(String, String)>),
}

/// One HTTP request as sent.
#[derive(Clone)]
struct HttpRequest {
    method: Method,
    authorization: Option<Vec<u8>>,
    content_type: String,
    accept_graphql_response: bool,
    body: Vec<u8>,
}

impl HttpRequest {
    fn post(authorization: Option<String>, body: Value) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            authorization: authorization.map(String::into_bytes),
            content_type: "application/json".into(),
            accept_graphql_response: false,
            body: serde_json::to_vec(&body).expect("json"),
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accept = if self.accept_graphql_response {
            "application/graphql-response+json"
        } else {
            "application/json"
        };
        match &self.method {
            Method::Post => writeln!(f, "POST /graphql (accept: {accept})")?,
            Method::Get(params) => writeln!(f, "GET /graphql (accept: {accept}) {params:?}")?,
        }
        if let Some(a) = &self.authorization {
            writeln!(f, "authorization: {}", String::from_utf8_lossy(a))?;
        }
        if matches!(self.method, Method::Post) {
            let body = String::from_utf8_lossy(&self.body);
            if body.len() > 4000 {
                writeln!(
                    f,
                    "body ({} bytes): {}…{}",
                    body.len(),
                    &body[..boundary(&body, 2000)],
                    &body[boundary(&body, body.len() - 500)..]
                )?;
            } else {
                writeln!(f, "body: {body}")?;
            }
            if let Ok(v) = serde_json::from_slice::<Value>(&self.body) {
                if let Some(q) = v.get("query").and_then(Value::as_str) {
                    if q.len() <= 4000 {
                        writeln!(f, "query as text:\n{q}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The largest char boundary of `s` at or before `at`.
fn boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

struct Answer {
    status: u16,
    request_id: bool,
    retry_after: Option<u64>,
    body: Value,
}

/// The error codes of a GraphQL response (or of every response of a batch).
fn codes(body: &Value) -> Vec<String> {
    let list: Vec<&Value> = match body {
        Value::Array(v) => v.iter().collect(),
        other => vec![other],
    };
    list.iter()
        .filter_map(|r| r.get("errors").and_then(Value::as_array))
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_string))
        .collect()
}

/// The oracle every answer must satisfy.
fn check_answer(answer: &Answer, anonymous: bool) -> Result<(), String> {
    let fail = |why: String| {
        Err(format!(
            "{why}\nanswer: HTTP {} {}",
            answer.status, answer.body
        ))
    };
    if answer.status >= 500 {
        return fail(format!("HTTP {}", answer.status));
    }
    if !answer.request_id {
        return fail("no x-request-id header".into());
    }
    let responses: Vec<&Value> = match &answer.body {
        Value::Array(v) if !v.is_empty() => v.iter().collect(),
        Value::Array(_) => return fail("an empty batch answer".into()),
        other => vec![other],
    };
    for r in responses {
        if let Err(why) = check_response(r, anonymous) {
            return fail(why);
        }
    }
    Ok(())
}

/// One GraphQL response: `{data?, errors?, extensions?}`, errors with message and a contract code.
fn check_response(r: &Value, anonymous: bool) -> Result<(), String> {
    let Some(obj) = r.as_object() else {
        return Err("not a JSON object".into());
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["data", "errors", "extensions"].contains(&k.as_str()))
    {
        return Err(format!("unexpected top-level key {k:?}"));
    }
    if !obj.contains_key("data") && !obj.contains_key("errors") {
        return Err("neither data nor errors".into());
    }
    if let Some(data) = obj.get("data") {
        if !data.is_object() && !data.is_null() {
            return Err("data is neither an object nor null".into());
        }
        if anonymous {
            for field in ["__schema", "__type"] {
                if data.get(field).is_some_and(|v| !v.is_null()) {
                    return Err(format!("an anonymous caller got {field}"));
                }
            }
        }
    }
    if let Some(errors) = obj.get("errors") {
        let Some(list) = errors.as_array() else {
            return Err("errors is not a list".into());
        };
        if list.is_empty() {
            return Err("errors is an empty list".into());
        }
        for e in list {
            let Some(message) = e.get("message").and_then(Value::as_str) else {
                return Err(format!("an error without a message: {e}"));
            };
            let Some(code) = e["extensions"]["code"].as_str() else {
                return Err(format!("an error without extensions.code: {e}"));
            };
            if !CODES.contains(&code) {
                return Err(format!("an error code outside the contract: {code}"));
            }
            if code == "INTERNAL" {
                return Err(format!("INTERNAL for this input: {e}"));
            }
            if message.contains("Did you mean") {
                return Err(format!("an error suggests schema names: {message}"));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The served schema, as the generators see it
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Arg {
    name: String,
    ty: Type,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    args: Vec<Arg>,
    ty: Type,
}

#[derive(Debug, Clone)]
enum Kind {
    Scalar,
    Enum(Vec<String>),
    Object(Vec<Field>),
    Union(Vec<String>),
    Input(Vec<Arg>),
}

struct SchemaModel {
    types: BTreeMap<String, Kind>,
    /// Every type and field name, for misplaced fields.
    names: Vec<String>,
    /// The input types (for variable declarations).
    inputs: Vec<Type>,
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaModel {
    fn load() -> SchemaModel {
        let doc = async_graphql::parser::parse_schema(raccordo_api::graphql::sdl())
            .expect("the served SDL parses");
        let mut types = BTreeMap::new();
        let mut names = Vec::new();
        let args = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::InputValueDefinition,
        >]| {
            list.iter()
                .map(|a| Arg {
                    name: a.node.name.node.to_string(),
                    ty: a.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        let fields = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::FieldDefinition,
        >]| {
            list.iter()
                .map(|f| Field {
                    name: f.node.name.node.to_string(),
                    args: args(&f.node.arguments),
                    ty: f.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            let kind = match &t.node.kind {
                TypeKind::Scalar => Kind::Scalar,
                TypeKind::Object(o) => Kind::Object(fields(&o.fields)),
                TypeKind::Interface(i) => Kind::Object(fields(&i.fields)),
                TypeKind::Union(u) => {
                    Kind::Union(u.members.iter().map(|m| m.node.to_string()).collect())
                }
                TypeKind::Enum(e) => Kind::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(i) => Kind::Input(args(&i.fields)),
            };
            names.push(name.clone());
            match &kind {
                Kind::Object(fs) => names.extend(fs.iter().map(|f| f.name.clone())),
                Kind::Input(fs) => names.extend(fs.iter().map(|f| f.name.clone())),
                _ => {}
            }
            types.insert(name, kind);
        }
        for builtin in ["Int", "Float", "String", "Boolean", "ID"] {
            types.entry(builtin.to_string()).or_insert(Kind::Scalar);
        }
        let mut inputs: Vec<Type> = Vec::new();
        for kind in types.values() {
            if let Kind::Object(fs) = kind {
                for f in fs {
                    for a in &f.args {
                        if !inputs.contains(&a.ty) {
                            inputs.push(a.ty.clone());
                        }
                    }
                }
            }
        }
        assert!(types.contains_key("Query") && types.contains_key("Mutation"));
        assert!(!inputs.is_empty());
        SchemaModel {
            types,
            names,
            inputs,
        }
    }

    fn fields(&self, type_name: &str) -> &[Field] {
        match self.types.get(type_name) {
            Some(Kind::Object(f)) => f,
            _ => &[],
        }
    }

    fn is_composite(&self, type_name: &str) -> bool {
        matches!(
            self.types.get(type_name),
            Some(Kind::Object(_)) | Some(Kind::Union(_))
        )
    }
}

// ------------------------------------------------------------------------------------------------
// The choice tape and the document builder
// ------------------------------------------------------------------------------------------------

/// Choices drawn from a list of numbers; past its end every choice is 0, the simplest.
struct Tape<'a> {
    choices: &'a [u16],
    at: usize,
}

impl Tape<'_> {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let c = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        c as usize % n
    }

    /// True about once in `n` draws (never past the tape's end).
    fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == 1
    }

    fn choose<'s, T>(&mut self, items: &'s [T]) -> &'s T {
        &items[self.pick(items.len())]
    }
}

const INTS: [&str; 14] = [
    "1",
    "0",
    "-1",
    "100",
    "101",
    "2147483647",
    "2147483648",
    "-2147483649",
    "99999999999999999999999999999999",
    "1000000",
    "1.5",
    "1e30",
    "-0",
    "-99999999999",
];
const FLOATS: [&str; 6] = [
    "1.0",
    "0",
    "3.14",
    "-1e308",
    "1.7976931348623157e308",
    "NaN",
];
const DATES: [&str; 10] = [
    "2023-06-30",
    "2022-10-01",
    "0001-01-01",
    "2023-02-30",
    "2023-13-01",
    "-2023-01-01",
    "2023-06-30T10:00:00Z",
    "yesterday",
    "",
    "99999-01-01",
];
const DATETIMES: [&str; 5] = [
    "2023-06-30T10:00:00Z",
    "1970-01-01T00:00:00+14:00",
    "2023-06-30T25:00:00Z",
    "2023-06-30",
    "not a time",
];

fn strings() -> Vec<String> {
    vec![
        "BG".into(),
        String::new(),
        "NG".into(),
        "a".repeat(300),
        "città 🦀 \u{202e}gnp.exe \u{0}".into(),
        "\"quoted\" \\ back\\slash".into(),
        "' OR 1=1 --".into(),
        "%_%".into(),
        "x".repeat(70_000),
        "{\"json\": [1, 2]}".into(),
        "\u{feff}\u{200b}\u{fffd}".into(),
        "PROFILE".into(),
        "PERMITS".into(),
        "micaela-bg".into(),
    ]
}

/// A GraphQL string literal.
fn gql_string(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

/// Builds one document (and its variables) from a tape.
struct Builder<'a> {
    schema: &'a SchemaModel,
    ids: &'a [String],
    strings: Vec<String>,
    tape: Tape<'a>,
    var_decls: Vec<String>,
    variables: Map<String, Value>,
    fragments: Vec<String>,
    aliases: usize,
    /// Whether the document may hold deliberate mistakes (wrong types, unknown names, missing
    /// arguments, limits exceeded); without them most documents reach the resolvers.
    mistakes: bool,
}

/// Deepest nesting the builder goes to (the hub's limit is 12).
const MAX_DEPTH: usize = 15;

impl<'a> Builder<'a> {
    fn new(schema: &'a SchemaModel, ids: &'a [String], choices: &'a [u16]) -> Builder<'a> {
        Builder {
            schema,
            ids,
            strings: strings(),
            tape: Tape { choices, at: 0 },
            var_decls: Vec::new(),
            variables: Map::new(),
            fragments: Vec::new(),
            aliases: 0,
            mistakes: true,
        }
    }

    /// A builder that makes no deliberate mistakes.
    fn clean(mut self) -> Self {
        self.mistakes = false;
        self
    }

    /// One of `all`; a clean document takes only from the first `valid`.
    fn pool(&mut self, all: &[&'static str], valid: usize) -> &'static str {
        let n = if self.mistakes { all.len() } else { valid };
        all[self.tape.pick(n)]
    }

    /// A deliberate mistake, about once in `n` draws (never in a clean document).
    fn slip(&mut self, n: usize) -> bool {
        self.mistakes && self.tape.one_in(n)
    }

    fn document(mut self) -> (String, Value) {
        let mutation = self.tape.one_in(4);
        let root = if mutation { "Mutation" } else { "Query" };
        let selection = self.selection(root, 0);
        // Directives on an operation: @include and @skip are not allowed there.
        let directives = if self.slip(8) {
            self.directives()
        } else {
            String::new()
        };
        let mut doc = String::new();
        if !mutation && self.var_decls.is_empty() && directives.is_empty() && self.tape.pick(2) == 0
        {
            doc.push_str(&selection);
        } else {
            doc.push_str(if mutation { "mutation" } else { "query" });
            if self.tape.one_in(3) {
                doc.push_str(" Fuzz");
            }
            if !self.var_decls.is_empty() {
                doc.push('(');
                doc.push_str(&self.var_decls.join(", "));
                doc.push(')');
            }
            doc.push_str(&directives);
            doc.push(' ');
            doc.push_str(&selection);
        }
        for f in &self.fragments {
            doc.push('\n');
            doc.push_str(f);
        }
        (doc, Value::Object(self.variables))
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        if depth >= if self.mistakes { MAX_DEPTH } else { 10 } {
            return "{ __typename }".into();
        }
        let members = match self.schema.types.get(type_name) {
            Some(Kind::Union(m)) => Some(m.clone()),
            _ => None,
        };
        let mut count = 1 + self.tape.pick(3);
        if self.slip(25) {
            count += self.tape.pick(40);
        }
        let mut items = Vec::new();
        for _ in 0..count {
            if let Some(m) = &members {
                let member = m[self.tape.pick(m.len())].clone();
                let inner = self.selection(&member, depth + 1);
                items.push(format!("... on {member} {inner}"));
                continue;
            }
            let item = match self.tape.pick(12) {
                0..=7 => self.field(type_name, depth),
                8 => "__typename".into(),
                9 => {
                    let on = if self.slip(6) {
                        self.tape.choose(&self.schema.names).clone()
                    } else {
                        type_name.to_string()
                    };
                    let inner = self.selection(type_name, depth + 1);
                    format!("... on {on} {inner}")
                }
                10 => {
                    let inner = self.selection(type_name, depth + 1);
                    format!("...{} {inner}", self.directives())
                }
                _ => self.fragment_spread(type_name, depth),
            };
            items.push(item);
        }
        if type_name == "Query" && depth == 0 && self.tape.one_in(6) {
            items.push(self.introspection());
        }
        format!("{{ {} }}", items.join(" "))
    }

    fn introspection(&mut self) -> String {
        match self.tape.pick(3) {
            0 => "__schema { queryType { name } types { name fields { name args { name } } } }"
                .into(),
            1 => {
                let name = self.tape.choose(&self.schema.names).clone();
                format!(
                    "__type(name: {}) {{ name kind fields {{ name }} }}",
                    gql_string(&name)
                )
            }
            _ => {
                "__schema { directives { name locations } mutationType { fields { name } } }".into()
            }
        }
    }

    fn fragment_spread(&mut self, type_name: &str, depth: usize) -> String {
        let name = format!("F{}", self.fragments.len());
        if self.slip(10) {
            // A spread of a fragment that is not defined, or that spreads itself.
            if self.tape.pick(2) == 0 {
                return "...Missing".into();
            }
            self.fragments
                .push(format!("fragment {name} on {type_name} {{ ...{name} }}"));
            return format!("...{name}");
        }
        // Reserve the name before building the body, which may define fragments of its own.
        self.fragments.push(String::new());
        let index = self.fragments.len() - 1;
        let inner = self.selection(type_name, depth + 1);
        self.fragments[index] = format!("fragment {name} on {type_name} {inner}");
        format!("...{name}")
    }

    fn field(&mut self, type_name: &str, depth: usize) -> String {
        let fields = self.schema.fields(type_name);
        if fields.is_empty() {
            return "__typename".into();
        }
        if self.slip(30) {
            // A real name in the wrong place: the answer must not suggest the right one.
            let name = self.tape.choose(&self.schema.names).clone();
            return name;
        }
        let field = fields[self.tape.pick(fields.len())].clone();
        let mut out = String::new();
        if (self.mistakes || self.aliases < 25)
            && (self.tape.one_in(5) || (self.aliases > 0 && self.tape.one_in(2)))
        {
            self.aliases += 1;
            out.push_str(&format!("a{}: ", self.aliases));
        }
        out.push_str(&field.name);
        let mut args = Vec::new();
        for a in &field.args {
            let include = if !a.ty.nullable {
                !self.slip(15)
            } else {
                self.tape.one_in(3)
            };
            if include {
                let v = self.argument(&a.ty);
                args.push(format!("{}: {v}", a.name));
            }
        }
        if self.slip(20) {
            args.push(format!(
                "bogus: {}",
                self.literal(&Type::new("Int").unwrap(), 0)
            ));
        }
        if !args.is_empty() {
            out.push_str(&format!("({})", args.join(", ")));
        }
        if self.tape.one_in(6) {
            out.push_str(&self.directives());
        }
        let inner = named(&field.ty).to_string();
        if self.schema.is_composite(&inner) {
            if !self.slip(40) {
                out.push(' ');
                out.push_str(&self.selection(&inner, depth + 1));
            }
        } else if self.slip(40) {
            out.push_str(" { id }");
        }
        out
    }

    fn directives(&mut self) -> String {
        let n = if self.slip(20) {
            25
        } else if self.mistakes {
            1 + self.tape.pick(2)
        } else {
            1
        };
        let mut out = String::new();
        for _ in 0..n {
            let choice = if self.mistakes {
                self.tape.pick(8)
            } else {
                [0, 1, 2, 7][self.tape.pick(4)]
            };
            let d = match choice {
                0 => "@include(if: true)".to_string(),
                1 => "@skip(if: false)".to_string(),
                2 => {
                    let v = self.variable(&Type::new("Boolean!").unwrap());
                    format!("@include(if: {v})")
                }
                3 => "@skip(if: \"yes\")".to_string(),
                4 => "@deprecated".to_string(),
                5 => "@unknownDirective(x: 1)".to_string(),
                6 => "@include".to_string(),
                _ => "@skip(if: true)".to_string(),
            };
            out.push(' ');
            out.push_str(&d);
        }
        out
    }

    /// An argument value: a literal, a variable, or garbage.
    fn argument(&mut self, ty: &Type) -> String {
        match self.tape.pick(if self.mistakes { 6 } else { 5 }) {
            0..=2 => self.literal(ty, 0),
            3 | 4 => self.variable(ty),
            _ => match self.tape.pick(6) {
                0 => "null".into(),
                1 => "$undeclared".into(),
                2 => "{ a: { b: [1, 2, { c: \"d\" }] } }".into(),
                3 => "[[[[[[[[[[1]]]]]]]]]]".into(),
                4 => "NOT_AN_ENUM_VALUE".into(),
                _ => "123456789012345678901234567890.5e10".into(),
            },
        }
    }

    /// Declares a variable (usually of the right type) and gives it a JSON value.
    fn variable(&mut self, ty: &Type) -> String {
        let name = format!("v{}", self.var_decls.len());
        let declared = if self.slip(8) {
            self.tape.choose(&self.schema.inputs).to_string()
        } else {
            ty.to_string()
        };
        self.var_decls.push(format!("${name}: {declared}"));
        if !self.slip(10) {
            let value = self.json(ty, 0);
            self.variables.insert(name.clone(), value);
        }
        format!("${name}")
    }

    fn literal(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.tape.one_in(10) {
            return "null".into();
        }
        match &ty.base {
            BaseType::List(inner) => {
                if self.tape.one_in(5) {
                    return self.literal(inner, depth + 1);
                }
                let n = self.tape.pick(4);
                let items: Vec<String> = (0..n).map(|_| self.literal(inner, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => {
                let name = name.to_string();
                match self.schema.types.get(&name).cloned() {
                    Some(Kind::Enum(values)) => {
                        if self.slip(10) {
                            gql_string(&values[0])
                        } else {
                            self.tape.choose(&values).clone()
                        }
                    }
                    Some(Kind::Input(fields)) => {
                        if depth > 4 {
                            return "{}".into();
                        }
                        let mut parts = Vec::new();
                        for f in &fields {
                            let include = if f.ty.nullable {
                                self.tape.one_in(3)
                            } else {
                                !self.slip(12)
                            };
                            if include {
                                let v = self.literal(&f.ty, depth + 1);
                                parts.push(format!("{}: {v}", f.name));
                            }
                        }
                        if self.slip(15) {
                            parts.push("unknownField: 1".into());
                        }
                        format!("{{{}}}", parts.join(", "))
                    }
                    _ => self.scalar_literal(&name),
                }
            }
        }
    }

    fn scalar_literal(&mut self, name: &str) -> String {
        if self.slip(12) {
            // The wrong kind of scalar.
            return match self.tape.pick(4) {
                0 => "\"12\"".into(),
                1 => "42".into(),
                2 => "true".into(),
                _ => "3.5".into(),
            };
        }
        match name {
            "Int" => self.pool(&INTS, 5).to_string(),
            "Float" => self.pool(&FLOATS, 5).to_string(),
            "Boolean" => ["true", "false"][self.tape.pick(2)].into(),
            "ID" => gql_string(&self.ids[self.tape.pick(self.ids.len())]),
            "Date" => gql_string(self.pool(&DATES, 3)),
            "DateTime" => gql_string(self.pool(&DATETIMES, 2)),
            _ => {
                let s = self.strings[self.tape.pick(self.strings.len())].clone();
                gql_string(&s)
            }
        }
    }

    fn json(&mut self, ty: &Type, depth: usize) -> Value {
        if self.slip(12) {
            return self.wrong_json(depth);
        }
        if ty.nullable && self.tape.one_in(10) {
            return Value::Null;
        }
        match &ty.base {
            BaseType::List(inner) => {
                let n = self.tape.pick(4);
                Value::Array((0..n).map(|_| self.json(inner, depth + 1)).collect())
            }
            BaseType::Named(name) => {
                let name = name.to_string();
                match self.schema.types.get(&name).cloned() {
                    Some(Kind::Enum(values)) => Value::String(self.tape.choose(&values).clone()),
                    Some(Kind::Input(fields)) => {
                        let mut obj = Map::new();
                        if depth > 4 {
                            return Value::Object(obj);
                        }
                        for f in &fields {
                            let include = if f.ty.nullable {
                                self.tape.one_in(3)
                            } else {
                                !self.slip(12)
                            };
                            if include {
                                obj.insert(f.name.clone(), self.json(&f.ty, depth + 1));
                            }
                        }
                        Value::Object(obj)
                    }
                    _ => match name.as_str() {
                        "Int" => {
                            let ints = [
                                json!(1),
                                json!(0),
                                json!(-1),
                                json!(100),
                                json!(2147483648_i64),
                                json!(i64::MIN),
                                json!(u64::MAX),
                            ];
                            let n = if self.mistakes { ints.len() } else { 4 };
                            ints[self.tape.pick(n)].clone()
                        }
                        "Float" => {
                            let floats = [json!(1.5), json!(0.0), json!(-1e308), json!(f64::MAX)];
                            floats[self.tape.pick(floats.len())].clone()
                        }
                        "Boolean" => Value::Bool(self.tape.pick(2) == 1),
                        "ID" => Value::String(self.ids[self.tape.pick(self.ids.len())].clone()),
                        "Date" => Value::String(self.pool(&DATES, 3).to_string()),
                        "DateTime" => Value::String(self.pool(&DATETIMES, 2).to_string()),
                        _ => {
                            Value::String(self.strings[self.tape.pick(self.strings.len())].clone())
                        }
                    },
                }
            }
        }
    }

    /// JSON of the wrong shape for whatever was expected.
    fn wrong_json(&mut self, depth: usize) -> Value {
        match self.tape.pick(8) {
            0 => json!("a string"),
            1 => json!(1e300),
            2 => json!({ "nested": { "deeper": [1, { "x": null }] } }),
            3 => json!([[[]]]),
            4 => Value::Null,
            5 => Value::String("é".repeat(50_000)),
            6 => {
                // Nested objects, as deep as the tape asks (serde_json stops at 128 levels).
                let mut v = json!(1);
                for _ in 0..(1 + self.tape.pick(150)) {
                    v = json!({ "a": v });
                }
                v
            }
            _ => {
                if depth < 3 {
                    json!([self.wrong_json(depth + 1), self.wrong_json(depth + 1)])
                } else {
                    json!(false)
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Running a property
// ------------------------------------------------------------------------------------------------

/// Cases for a test: `PROPTEST_CASES` when set, otherwise the test's own number.
fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        // The runner is driven by hand: no regression files in the source tree.
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    }
}

/// Runs `property` on `cases` values of `strategy`; a failure panics with the shrunk value.
fn run_property<S: Strategy>(
    name: &str,
    fixture: &Fixture,
    default_cases: u32,
    strategy: S,
    property: impl Fn(&S::Value) -> Result<(), String>,
) where
    S::Value: fmt::Debug,
{
    let config = config(default_cases);
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let started = std::time::Instant::now();
    let before = fixture.sent.load(Ordering::Relaxed);
    let result = runner.run(&strategy, |value| {
        property(&value).map_err(TestCaseError::fail)
    });
    let sent = fixture.sent.load(Ordering::Relaxed) - before;
    match result {
        Ok(()) => eprintln!(
            "{name}: {cases} cases, {sent} requests, {:.1} s; answers: {:?}",
            started.elapsed().as_secs_f64(),
            fixture.outcomes.lock().unwrap_or_else(|e| e.into_inner())
        ),
        Err(TestError::Fail(why, value)) => {
            panic!("{name}: a case failed (shrunk input below)\n{why}\n\ninput:\n{value:#?}")
        }
        Err(TestError::Abort(why)) => panic!("{name}: aborted: {why}"),
    }
}

/// How a generated document travels: POST or GET, accept header, batched.
#[derive(Clone, Copy, Debug)]
struct Transport {
    graphql_response: bool,
    get: bool,
    batch: usize,
}

fn transport() -> impl Strategy<Value = Transport> {
    (any::<bool>(), prop::bool::weighted(0.1), 0usize..4).prop_map(|(graphql_response, get, b)| {
        Transport {
            graphql_response,
            get,
            // 0, 1, 2: a single request; 3: a batch of two.
            batch: if b == 3 { 2 } else { 1 },
        }
    })
}

fn build_request(
    fixture: &Fixture,
    caller: Caller,
    transport: Transport,
    document: &str,
    variables: &Value,
) -> HttpRequest {
    let one = json!({ "query": document, "variables": variables });
    let body = if transport.batch > 1 {
        Value::Array(vec![one.clone(); transport.batch])
    } else {
        one
    };
    let mut request = HttpRequest::post(fixture.token(caller).map(|t| format!("Bearer {t}")), body);
    request.accept_graphql_response = transport.graphql_response;
    // GET only for what fits in a URL: past a few kilobytes the HTTP server itself refuses it.
    if transport.get && document.len() + variables.to_string().len() < 4000 {
        request.method = Method::Get(vec![
            ("query".into(), document.to_string()),
            ("variables".into(), variables.to_string()),
        ]);
    }
    request
}

/// A generated request, printed readably when it fails.
struct Generated {
    caller: Caller,
    request: HttpRequest,
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "caller: {:?}", self.caller)?;
        write!(f, "{:?}", self.request)
    }
}

fn caller() -> impl Strategy<Value = Caller> {
    (0..CALLERS.len()).prop_map(|i| CALLERS[i])
}

// ------------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------------

/// (1) Documents built from the schema's own names.
#[test]
fn schema_documents() {
    let fixture = Fixture::boot();
    let schema = SchemaModel::load();
    let ids = fixture.ids();
    let strategy = (
        prop::collection::vec(any::<u16>(), 0..400),
        caller(),
        transport(),
        any::<bool>(),
    )
        .prop_map(|(tape, caller, transport, clean)| {
            let builder = Builder::new(&schema, &ids, &tape);
            let builder = if clean { builder.clean() } else { builder };
            let (document, variables) = builder.document();
            Generated {
                caller,
                request: build_request(&fixture, caller, transport, &document, &variables),
            }
        });
    run_property("schema_documents", &fixture, 90, strategy, |g| {
        fixture
            .exchange(g.caller == Caller::Anonymous, &g.request)
            .map(drop)
    });
}

/// Valid documents to start mutations from (with their variables).
fn seeds(fixture: &Fixture) -> Vec<(String, Value)> {
    let case = &fixture.case_id;
    vec![
        ("{ directory(province: \"BG\") { name kind city } }".into(), json!({})),
        ("{ me { userId role agency { id name kind } } }".into(), json!({})),
        (
            "{ cases(first: 1) { totalCount edges { node { id code nationality alias shelter { name } access { relationships visibleClasses } } } } }".into(),
            json!({}),
        ),
        (
            "query($id: ID!) { case(id: $id) { code alias permitCurrent nationality shelter { address } access { relationships visibleClasses } } }".into(),
            json!({ "id": case }),
        ),
        (
            "{ caseStatistics(groupBy: [NATIONALITY]) { keys count suppressed } }".into(),
            json!({}),
        ),
        (
            "query Page($first: Int, $after: String) { referrals(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id status } } } }".into(),
            json!({ "first": 5 }),
        ),
        (
            "mutation($id: ID!) { updateCase(id: $id, version: 1, patch: { phase: SECONDA_ACCOGLIENZA, nationality: \"IT\" }) { id version phase } }".into(),
            json!({ "id": case }),
        ),
        (
            format!("mutation {{ addCaseNote(caseId: \"{case}\", text: \"colloquio\", sharedWithJointPartners: true) {{ id text }} }}"),
            json!({}),
        ),
        (
            "query { __schema { types { name fields { name } } } }".into(),
            json!({}),
        ),
        (
            "fragment A on Agency { id name } query Q { directory { ...A } me { agency { ...A } } }".into(),
            json!({}),
        ),
        (
            format!("{{ caseAccessLog(caseId: \"{case}\") {{ at userId operation classes }} networks {{ id name }} protocols {{ id title }} }}"),
            json!({}),
        ),
        (
            "{ a: directory { name } b: directory @include(if: true) { id } c: me @skip(if: false) { role } }".into(),
            json!({}),
        ),
    ]
}

/// One change to a document or body.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
        times: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        what: usize,
    },
    Nest {
        at: usize,
        depth: usize,
        kind: usize,
    },
}

const INSERTS: [&str; 18] = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "$",
    "...",
    "99999999999999999999999999999999999",
    "-0.0e-99999",
    "\"città 🦀\"",
    "\"\\u0000\\uD800\"",
    " @include(if: true)",
    " fragment F on Query { ...F } ",
    "__schema { types { name } }",
    "\u{0}",
    "#",
    "\"\"\"block\nstring\"\"\"",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        3 => (at, 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => at.prop_map(|at| Mutation::Truncate { at }),
        1 => (at, 1usize..40, 1usize..50)
            .prop_map(|(at, len, times)| Mutation::Duplicate { at, len, times }),
        2 => (at, 1usize..10).prop_map(|(at, len)| Mutation::Delete { at, len }),
        3 => (at, 0..INSERTS.len()).prop_map(|(at, what)| Mutation::Insert { at, what }),
        1 => (at, 1usize..4000, 0usize..4).prop_map(|(at, depth, kind)| Mutation::Nest { at, depth, kind }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    let pos = |at: usize| if len == 0 { 0 } else { at % (len + 1) };
    match *m {
        Mutation::FlipBit { at, bit } => {
            if len > 0 {
                bytes[at % len] ^= 1 << bit;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(pos(at)),
        Mutation::Duplicate { at, len: n, times } => {
            let start = pos(at);
            let end = (start + n).min(len);
            let chunk = bytes[start..end].to_vec();
            for _ in 0..times {
                bytes.splice(end..end, chunk.iter().copied());
            }
        }
        Mutation::Delete { at, len: n } => {
            let start = pos(at);
            let end = (start + n).min(len);
            bytes.drain(start..end);
        }
        Mutation::Insert { at, what } => {
            let p = pos(at);
            bytes.splice(p..p, INSERTS[what].bytes());
        }
        Mutation::Nest { at, depth, kind } => {
            let p = pos(at);
            let (open, close) = match kind {
                0 => ("{ a ", "}"),
                1 => ("[", "]"),
                2 => ("... on Query { ", "}"),
                _ => ("{", ""),
            };
            let mut text = open.repeat(depth);
            text.push_str(&close.repeat(depth));
            bytes.splice(p..p, text.into_bytes());
        }
    }
}

/// (2) Valid documents, mutated; sometimes the JSON body itself is mutated.
#[test]
fn mutated_documents() {
    let fixture = Fixture::boot();
    let seeds = seeds(&fixture);
    let strategy = (
        0..seeds.len(),
        prop::collection::vec(mutation(), 1..6),
        caller(),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(seed, mutations, caller, graphql_response, mutate_body)| {
            let (document, variables) = &seeds[seed];
            let mut request = if mutate_body {
                let mut body =
                    serde_json::to_vec(&json!({ "query": document, "variables": variables }))
                        .expect("json");
                for m in &mutations {
                    apply(&mut body, m);
                }
                let mut r = HttpRequest::post(
                    fixture.token(caller).map(|t| format!("Bearer {t}")),
                    json!({}),
                );
                r.body = body;
                r
            } else {
                let mut bytes = document.clone().into_bytes();
                for m in &mutations {
                    apply(&mut bytes, m);
                }
                let document = String::from_utf8_lossy(&bytes).into_owned();
                HttpRequest::post(
                    fixture.token(caller).map(|t| format!("Bearer {t}")),
                    json!({ "query": document, "variables": variables }),
                )
            };
            request.accept_graphql_response = graphql_response;
            Generated { caller, request }
        });
    run_property("mutated_documents", &fixture, 80, strategy, |g| {
        fixture
            .exchange(g.caller == Caller::Anonymous, &g.request)
            .map(drop)
    });
}

/// (3) Random variables for documents that declare variables of the schema's input types.
#[test]
fn random_variables() {
    let fixture = Fixture::boot();
    let schema = SchemaModel::load();
    let ids = fixture.ids();
    // Every root field with arguments, each argument passed as a variable of its declared type.
    let mut documents = Vec::new();
    for root in ["Query", "Mutation"] {
        for f in schema.fields(root) {
            if f.args.is_empty() {
                continue;
            }
            let decls: Vec<String> = f
                .args
                .iter()
                .map(|a| format!("${}: {}", a.name, a.ty))
                .collect();
            let args: Vec<String> = f
                .args
                .iter()
                .map(|a| format!("{}: ${}", a.name, a.name))
                .collect();
            let selection = if schema.is_composite(named(&f.ty)) {
                " { __typename }"
            } else {
                ""
            };
            documents.push((
                f.args.clone(),
                format!(
                    "{} V({}) {{ {}({}){selection} }}",
                    root.to_lowercase(),
                    decls.join(", "),
                    f.name,
                    args.join(", ")
                ),
            ));
        }
    }
    assert!(
        documents.len() > 10,
        "the schema has root fields with arguments"
    );
    let strategy = (
        0..documents.len(),
        prop::collection::vec(any::<u16>(), 0..200),
        caller(),
        any::<bool>(),
    )
        .prop_map(|(d, tape, caller, graphql_response)| {
            let (args, document) = &documents[d];
            let mut b = Builder::new(&schema, &ids, &tape);
            let mut variables = Map::new();
            for a in args {
                // Mostly right-typed values, sometimes the wrong shape altogether.
                if !b.tape.one_in(10) {
                    variables.insert(a.name.clone(), b.json(&a.ty, 0));
                }
            }
            if b.tape.one_in(10) {
                variables.insert("undeclared".into(), json!([1, 2, 3]));
            }
            let variables = if b.tape.one_in(15) {
                b.wrong_json(0)
            } else {
                Value::Object(variables)
            };
            let mut request = HttpRequest::post(
                fixture.token(caller).map(|t| format!("Bearer {t}")),
                json!({ "query": document, "variables": variables }),
            );
            request.accept_graphql_response = graphql_response;
            Generated { caller, request }
        });
    run_property("random_variables", &fixture, 50, strategy, |g| {
        fixture
            .exchange(g.caller == Caller::Anonymous, &g.request)
            .map(drop)
    });
}

// ------------------------------------------------------------------------------------------------
// Tokens
// ------------------------------------------------------------------------------------------------

/// What is wrong with a token (or nothing).
#[derive(Clone, Debug)]
enum TokenKind {
    Valid,
    LowercaseBearer,
    Expired,
    NotYetValid,
    WrongSecret,
    AlgNone,
    OtherHmac,
    AlgConfusionRs256,
    WrongAudience,
    WrongIssuer,
    MissingExp,
    MissingAudience,
    TamperedPayload,
    SignatureStripped,
    UnknownAgency,
    OperatorWithoutAgency,
    UnknownRole,
    EmptySub,
    NoScheme,
    BasicScheme,
    Garbage(String),
    GarbageParts(Vec<String>),
    NonAscii(Vec<u8>),
    Twice,
}

impl TokenKind {
    fn valid(&self) -> bool {
        matches!(self, TokenKind::Valid | TokenKind::LowercaseBearer)
    }
}

fn token_kind() -> impl Strategy<Value = TokenKind> {
    let fixed = prop_oneof![
        Just(TokenKind::Valid),
        Just(TokenKind::LowercaseBearer),
        Just(TokenKind::Expired),
        Just(TokenKind::NotYetValid),
        Just(TokenKind::WrongSecret),
        Just(TokenKind::AlgNone),
        Just(TokenKind::OtherHmac),
        Just(TokenKind::AlgConfusionRs256),
        Just(TokenKind::WrongAudience),
        Just(TokenKind::WrongIssuer),
        Just(TokenKind::MissingExp),
        Just(TokenKind::MissingAudience),
        Just(TokenKind::TamperedPayload),
        Just(TokenKind::SignatureStripped),
        Just(TokenKind::UnknownAgency),
        Just(TokenKind::OperatorWithoutAgency),
        Just(TokenKind::UnknownRole),
        Just(TokenKind::EmptySub),
        Just(TokenKind::NoScheme),
        Just(TokenKind::BasicScheme),
        Just(TokenKind::Twice),
    ];
    prop_oneof![
        6 => fixed,
        1 => "[ -~]{0,300}".prop_map(TokenKind::Garbage),
        1 => prop::collection::vec("[A-Za-z0-9_=+/-]{0,80}", 1..5).prop_map(TokenKind::GarbageParts),
        1 => prop::collection::vec(0x80u8..=0xff, 1..20).prop_map(TokenKind::NonAscii),
    ]
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct TokenCase {
    kind: TokenKind,
    role: UserRole,
    query: &'static str,
    graphql_response: bool,
    authorization: Vec<u8>,
}

impl fmt::Debug for TokenCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "token: {:?} for a {}", self.kind, self.role.as_str())?;
        writeln!(
            f,
            "authorization: {}",
            String::from_utf8_lossy(&self.authorization)
        )?;
        writeln!(f, "graphql-response+json: {}", self.graphql_response)?;
        write!(f, "query: {}", self.query)
    }
}

const TOKEN_QUERIES: [&str; 5] = [
    "{ me { userId role agency { id } } }",
    "{ directory(province: \"BG\") { name } }",
    "{ cases(first: 2) { totalCount } }",
    "{ __typename }",
    "mutation { createShelter(name: \"x\") { id } }",
];

fn token_for(fixture: &Fixture, kind: &TokenKind, role: UserRole) -> Vec<u8> {
    let now = auth::now_seconds();
    let agency = if role == UserRole::PlatformAdmin {
        Value::Null
    } else {
        Value::String(fixture.ente.clone())
    };
    let mut claims = json!({
        "sub": "fuzz-user", "role": role.as_str(), "iss": "raccordo", "aud": "raccordo",
        "exp": now + 3600, "iat": now,
    });
    if !agency.is_null() {
        claims["agency"] = agency;
    }
    let sign = |claims: &Value, alg: Algorithm, secret: &str| {
        encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode")
    };
    let bearer = |t: String| format!("Bearer {t}").into_bytes();
    let valid = sign(&claims, Algorithm::HS256, SECRET);
    match kind {
        TokenKind::Valid => bearer(valid),
        TokenKind::LowercaseBearer => format!("bearer {valid}").into_bytes(),
        TokenKind::Expired => {
            claims["exp"] = json!(now - 3600);
            claims["iat"] = json!(now - 7200);
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::NotYetValid => {
            claims["nbf"] = json!(now + 3600);
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::WrongSecret => bearer(sign(&claims, Algorithm::HS256, "another-secret")),
        TokenKind::AlgNone => {
            let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = b64(claims.to_string().as_bytes());
            bearer(format!("{header}.{payload}."))
        }
        TokenKind::OtherHmac => bearer(sign(&claims, Algorithm::HS512, SECRET)),
        TokenKind::AlgConfusionRs256 => {
            // An RS256 header over an HMAC signature made with the development secret.
            let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
            let payload = b64(claims.to_string().as_bytes());
            let hs = sign(&claims, Algorithm::HS256, SECRET);
            let signature = hs.rsplit('.').next().unwrap_or_default().to_string();
            bearer(format!("{header}.{payload}.{signature}"))
        }
        TokenKind::WrongAudience => {
            claims["aud"] = json!("another-hub");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::WrongIssuer => {
            claims["iss"] = json!("someone-else");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::MissingExp => {
            claims.as_object_mut().expect("object").remove("exp");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::MissingAudience => {
            claims.as_object_mut().expect("object").remove("aud");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::TamperedPayload => {
            // The signature of the real claims over claims that say more.
            let mut parts: Vec<String> = valid.split('.').map(str::to_string).collect();
            claims["role"] = json!("PLATFORM_ADMIN");
            claims["agency"] = json!(fixture.questura);
            parts[1] = b64(claims.to_string().as_bytes());
            bearer(parts.join("."))
        }
        TokenKind::SignatureStripped => {
            let cut = valid.rfind('.').expect("three parts");
            bearer(valid[..=cut].to_string())
        }
        TokenKind::UnknownAgency => {
            claims["agency"] = json!("no-such-agency");
            claims["role"] = json!("OPERATOR");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::OperatorWithoutAgency => {
            claims.as_object_mut().expect("object").remove("agency");
            claims["role"] = json!("OPERATOR");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::UnknownRole => {
            claims["role"] = json!("SUPERUSER");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::EmptySub => {
            claims["sub"] = json!("");
            bearer(sign(&claims, Algorithm::HS256, SECRET))
        }
        TokenKind::NoScheme => valid.into_bytes(),
        TokenKind::BasicScheme => format!("Basic {}", b64(b"admin:admin")).into_bytes(),
        TokenKind::Garbage(text) => bearer(text.clone()),
        TokenKind::GarbageParts(parts) => bearer(parts.join(".")),
        TokenKind::NonAscii(bytes) => {
            let mut out = b"Bearer ".to_vec();
            out.extend_from_slice(bytes);
            out
        }
        TokenKind::Twice => bearer(format!("{valid} {valid}")),
    }
}

/// (4) Tokens: a valid one is who it names; anything else is `UNAUTHENTICATED` and gets no data.
#[test]
fn tokens() {
    let fixture = Fixture::boot();
    let roles = [
        UserRole::Operator,
        UserRole::Coordinator,
        UserRole::Analyst,
        UserRole::PlatformAdmin,
    ];
    let strategy = (
        token_kind(),
        0..roles.len(),
        0..TOKEN_QUERIES.len(),
        any::<bool>(),
    )
        .prop_map(|(kind, role, query, graphql_response)| {
            let role = roles[role];
            TokenCase {
                authorization: token_for(&fixture, &kind, role),
                kind,
                role,
                query: TOKEN_QUERIES[query],
                graphql_response,
            }
        });
    run_property("tokens", &fixture, 60, strategy, |t| {
        let mut request = HttpRequest::post(None, json!({ "query": t.query }));
        request.authorization = Some(t.authorization.clone());
        request.accept_graphql_response = t.graphql_response;
        let answer = fixture.exchange(false, &request)?;
        let codes = codes(&answer.body);
        let unauthenticated = codes.iter().any(|c| c == "UNAUTHENTICATED");
        if t.kind.valid() {
            if unauthenticated {
                return Err(format!("a valid token was refused: {}", answer.body));
            }
            if t.query.contains("me {") && answer.body["data"]["me"]["role"] != t.role.as_str() {
                return Err(format!(
                    "the answer is not the token's identity: {}",
                    answer.body
                ));
            }
        } else {
            if !unauthenticated {
                return Err(format!(
                    "a bad token was not refused with UNAUTHENTICATED: HTTP {} {}",
                    answer.status, answer.body
                ));
            }
            if !answer.body["data"].is_null() {
                return Err(format!("a bad token got data: {}", answer.body));
            }
            if t.graphql_response && answer.status != 401 {
                return Err(format!(
                    "a bad token with graphql-response+json answered HTTP {}, not 401",
                    answer.status
                ));
            }
        }
        Ok(())
    });
}

// ------------------------------------------------------------------------------------------------
// The oracle can fail
// ------------------------------------------------------------------------------------------------

#[test]
fn the_oracle_rejects_bad_answers() {
    let ok = |status: u16, body: Value| {
        check_answer(
            &Answer {
                status,
                request_id: true,
                retry_after: None,
                body,
            },
            true,
        )
    };
    assert!(ok(200, json!({ "data": { "me": null } })).is_ok());
    assert!(ok(
        400,
        json!({ "data": null, "errors": [{ "message": "m", "extensions": { "code": "VALIDATION" } }] })
    )
    .is_ok());
    assert!(ok(200, json!([{ "data": {} }, { "data": {} }])).is_ok());
    let bad = [
        (500, json!({ "data": {} })),
        (200, json!("text")),
        (200, json!({})),
        (200, json!([])),
        (200, json!({ "data": {}, "trace": 1 })),
        (200, json!({ "data": 3 })),
        (200, json!({ "errors": [] })),
        (
            200,
            json!({ "errors": [{ "extensions": { "code": "VALIDATION" } }] }),
        ),
        (200, json!({ "errors": [{ "message": "m" }] })),
        (
            200,
            json!({ "errors": [{ "message": "m", "extensions": { "code": "BAD_REQUEST" } }] }),
        ),
        (
            200,
            json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] }),
        ),
        (
            200,
            json!({ "errors": [{ "message": "Unknown field \"cas\". Did you mean \"case\"?", "extensions": { "code": "VALIDATION" } }] }),
        ),
        (200, json!({ "data": { "__schema": { "types": [] } } })),
        (
            200,
            json!([{ "data": {} }, { "errors": [{ "message": "m" }] }]),
        ),
    ];
    for (status, body) in bad {
        assert!(
            ok(status, body.clone()).is_err(),
            "the oracle accepted HTTP {status} {body}"
        );
    }
    assert!(check_answer(
        &Answer {
            status: 200,
            request_id: false,
            retry_after: None,
            body: json!({ "data": {} })
        },
        false
    )
    .is_err());
}

/// The tape: 0 everywhere is the simplest document, and it is valid GraphQL for the schema.
#[test]
fn the_simplest_document_is_small() {
    let schema = SchemaModel::load();
    let ids = vec!["x".to_string()];
    let (doc, vars) = Builder::new(&schema, &ids, &[]).document();
    assert!(doc.len() < 200, "{doc}");
    assert!(async_graphql::parser::parse_query(&doc).is_ok(), "{doc}");
    assert_eq!(vars, json!({}));
    // Whatever the tape, the builder produces a document that parses (it fuzzes the meaning,
    // not the syntax: the mutation test does that).
    let mut runner = TestRunner::new(config(200));
    for _ in 0..200 {
        let tape = prop::collection::vec(any::<u16>(), 0..400)
            .new_tree(&mut runner)
            .expect("a tape")
            .current();
        let (doc, _) = Builder::new(&schema, &ids, &tape).document();
        assert!(
            async_graphql::parser::parse_query(&doc).is_ok(),
            "the builder wrote a document that does not parse:\n{doc}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Deep nesting, deterministically
// ------------------------------------------------------------------------------------------------

/// Each way of nesting a document, as deep as the 5,000-token limit lets it go (and deeper, to
/// check the limit answers first). Random mutations reach these only sometimes; here they are
/// always sent. Every failing shape and depth is listed, not only the first.
#[test]
fn deep_nesting() {
    let fixture = Fixture::boot();
    type Shape = fn(usize) -> String;
    let shapes: [(&str, Shape); 8] = [
        ("list value in an argument", |n| {
            format!(
                "{{ directory(province: {}{}) {{ name }} }}",
                "[".repeat(n),
                "]".repeat(n)
            )
        }),
        ("list value in a directive argument", |n| {
            format!(
                "{{ __typename @include(if: {}{}) }}",
                "[".repeat(n),
                "]".repeat(n)
            )
        }),
        ("list value as a variable's default", |n| {
            format!(
                "query($p: String = {}{}) {{ directory(province: $p) {{ name }} }}",
                "[".repeat(n),
                "]".repeat(n)
            )
        }),
        ("object value in an argument", |n| {
            format!(
                "{{ directory(province: {}1{}) {{ name }} }}",
                "{a: ".repeat(n),
                "}".repeat(n)
            )
        }),
        ("selection sets", |n| {
            format!("{}{}", "{ me ".repeat(n), "}".repeat(n))
        }),
        ("inline fragments", |n| {
            format!(
                "{{ {}__typename{} }}",
                "... on Query { ".repeat(n),
                " }".repeat(n)
            )
        }),
        ("unclosed braces", |n| "{".repeat(n)),
        ("unclosed list", |n| {
            format!("{{ directory(province: {}", "[".repeat(n))
        }),
    ];
    let mut failures = Vec::new();
    for (name, shape) in shapes {
        for depth in [64, 256, 1000, 1300, 1600, 2000, 2490, 4000] {
            let query = shape(depth);
            let request = HttpRequest::post(None, json!({ "query": query }));
            if let Err(why) = fixture.exchange(true, &request) {
                let why: Vec<&str> = why.lines().filter(|l| !l.trim().is_empty()).collect();
                failures.push(format!(
                    "{name}, depth {depth} ({} bytes of query): {}",
                    query.len(),
                    why.join(" | ")
                ));
            }
        }
    }
    let restarts = fixture
        .hub
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .restarts;
    assert!(
        failures.is_empty(),
        "{} deeply nested requests failed ({restarts} hub restarts):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
