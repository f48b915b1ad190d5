//! Running a property by hand, and the parts every generated request shares.

use std::{fmt, sync::atomic::Ordering};

use proptest::{
    prelude::*,
    test_runner::{Config, TestError, TestRunner},
};
use serde_json::{json, Value};

use crate::{
    answer::{HttpRequest, Method},
    fixture::{Caller, Fixture, CALLERS},
};

/// Cases for a test: `PROPTEST_CASES` when set, otherwise the test's own number.
pub fn config(default_cases: u32) -> Config {
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
pub fn run_property<S: Strategy>(
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

/// Runs a property over generated requests: each is sent, and its answer must satisfy the oracle.
pub fn run_generated(
    name: &str,
    fixture: &Fixture,
    default_cases: u32,
    strategy: impl Strategy<Value = Generated>,
) {
    run_property(name, fixture, default_cases, strategy, |g| {
        fixture
            .exchange(g.caller == Caller::Anonymous, &g.request)
            .map(drop)
    });
}

/// How a generated document travels: POST or GET, accept header, batched.
#[derive(Clone, Copy, Debug)]
pub struct Transport {
    graphql_response: bool,
    get: bool,
    batch: usize,
}

pub fn transport() -> impl Strategy<Value = Transport> {
    (any::<bool>(), prop::bool::weighted(0.1), 0usize..4).prop_map(|(graphql_response, get, b)| {
        Transport {
            graphql_response,
            get,
            // 0, 1, 2: a single request; 3: a batch of two.
            batch: if b == 3 { 2 } else { 1 },
        }
    })
}

pub fn build_request(
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
pub struct Generated {
    pub caller: Caller,
    pub request: HttpRequest,
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "caller: {:?}", self.caller)?;
        write!(f, "{:?}", self.request)
    }
}

pub fn caller() -> impl Strategy<Value = Caller> {
    (0..CALLERS.len()).prop_map(|i| CALLERS[i])
}
