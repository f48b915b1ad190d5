//! Requests as sent, answers as read, and the oracle every answer must satisfy.

use std::fmt;

use serde_json::{json, Value};

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

#[derive(Clone)]
pub enum Method {
    Post,
    Get(Vec<(String, String)>),
}

/// One HTTP request as sent.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub authorization: Option<Vec<u8>>,
    pub content_type: String,
    pub accept_graphql_response: bool,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn post(authorization: Option<String>, body: Value) -> HttpRequest {
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

pub struct Answer {
    pub status: u16,
    pub request_id: bool,
    pub retry_after: Option<u64>,
    pub body: Value,
}

/// The error codes of a GraphQL response (or of every response of a batch).
pub fn codes(body: &Value) -> Vec<String> {
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
pub fn check_answer(answer: &Answer, anonymous: bool) -> Result<(), String> {
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

pub fn the_oracle_rejects_bad_answers() {
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
