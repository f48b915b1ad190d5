//! HTTP: GraphQL over HTTP (POST and, for queries, GET), GraphiQL, health and readiness.
//!
//! Follows the GraphQL-over-HTTP specification: `application/json` requests; answers in
//! `application/graphql-response+json` when the client accepts it (with 4xx for requests that
//! could not be executed) and in `application/json` otherwise (always 200 for well-formed
//! requests). Every response carries an `x-request-id` a partner can quote.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Instant};

use async_graphql::{
    parser::types::OperationType, BatchRequest, BatchResponse, Request, Response, ServerError,
};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response as HttpResponse},
    routing::get,
    Router,
};
use futures::FutureExt;
use raccordo_entities::agency;
use raccordo_policies::AgencyKind;
use sea_orm::EntityTrait;
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use crate::{
    access::{Principal, RequestContext},
    audit,
    auth::TokenIdentity,
    budget::RequestBudget,
    cost::Cost,
    error::ApiError,
    graphql::{federation, view::anonymous_errors, HubSchema, Loaders},
    limits::Introspection,
    state::AppState,
    throttle::{AtTheDoor, Refusal, Spent},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Everything a handler needs.
#[derive(Clone)]
pub struct Hub {
    /// The application state.
    pub state: AppState,
    /// The schema partners query.
    pub schema: HubSchema,
    /// The limits on requests.
    pub limits: crate::limits::Limits,
    /// The same schema with the depth a partner's introspection query needs.
    pub introspection_schema: HubSchema,
    /// What each kind of caller may learn about the schema.
    pub views: Arc<crate::graphql::view::Views>,
    /// Rates and caps per user, agency and hub.
    pub throttle: Arc<crate::throttle::Throttle>,
}

/// The hub's routes.
pub fn router(hub: Hub) -> Router {
    let body_limit = hub.limits.body_bytes;
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(crate::pages::router(hub.state.clone()))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(hub)
}

/// What anything else (JSON answers, health) may load: nothing.
const DATA_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Headers on every answer (issue 19, item 5): answers carrying case data are never stored by a
/// browser or a proxy, and no page of the hub can be framed (clickjacking) or sniffed as another
/// type. A route that sets its own `Cache-Control` or policy keeps it.
async fn security_headers(mut response: HttpResponse) -> HttpResponse {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let headers = response.headers_mut();
    let defaults = [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            if is_page {
                crate::pages::PAGE_CSP
            } else {
                DATA_CSP
            },
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

async fn readyz(State(hub): State<Hub>) -> impl IntoResponse {
    if crate::db::ping(&hub.state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database not answering")
    }
}

/// An error response before any execution, in the GraphQL response shape.
fn error_response(err: ApiError) -> Response {
    let e: async_graphql::Error = err.into();
    Response::from_errors(vec![e.into_server_error(async_graphql::Pos::default())])
}

fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

/// The caller's verified token: `None` without one; `UNAUTHENTICATED` for a bad one.
fn identity(state: &AppState, headers: &HeaderMap) -> Result<Option<TokenIdentity>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unauthenticated =
        |why: &str| ApiError::Unauthenticated(format!("the token was refused: {why}"));
    let text = value
        .to_str()
        .map_err(|_| unauthenticated("malformed header"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| unauthenticated("use Authorization: Bearer <token>"))?;
    let identity = state.verifier.verify(token.trim()).map_err(|e| {
        tracing::info!(error = %e, "token refused");
        unauthenticated("invalid, expired or not meant for this hub")
    })?;
    Ok(Some(identity))
}

/// Resolves the caller from its verified token: anonymous without one; `UNAUTHENTICATED` for an
/// agency the hub does not know (or has disabled).
async fn principal(
    state: &AppState,
    identity: Option<TokenIdentity>,
) -> Result<Option<Principal>, ApiError> {
    let Some(identity) = identity else {
        return Ok(None);
    };
    let (agency, kind) = match &identity.agency_id {
        Some(id) => {
            let row = agency::Entity::find_by_id(id.clone())
                .one(&state.db)
                .await?
                .filter(|a| !a.disabled)
                .ok_or_else(|| {
                    ApiError::Unauthenticated(
                        "the token was refused: the token names an agency the hub does not know"
                            .into(),
                    )
                })?;
            let kind: AgencyKind = row.kind.parse().map_err(|_| {
                ApiError::Internal(format!("agency {id} has an unknown kind").into())
            })?;
            (Some(row), Some(kind))
        }
        None => (None, None),
    };
    Ok(Some(Principal {
        user_id: identity.user_id,
        role: identity.role,
        agency,
        kind,
    }))
}

/// A request let in: who sent it, and its place among the hub's requests.
struct Admitted {
    identity: Result<Option<TokenIdentity>, ApiError>,
    place: OwnedSemaphorePermit,
}

/// How long a caller that keeps ignoring `Retry-After` waits for its refusal: time the hub spends
/// on nothing (no place, no parse), while the caller's script is held back.
const TARPIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Lets a request in (issue 19, item 1): first the throttle's door, on the token alone, before
/// the body is read; then, once the body is in, a place among the requests the hub works on at
/// once (so that a slow body holds no place). Refused: the throttle's answer.
async fn admit(
    hub: &Hub,
    headers: &HeaderMap,
    body: impl std::future::Future<Output = Result<Bytes, HttpResponse>>,
) -> Result<(Admitted, Bytes), HttpResponse> {
    let answer = |refusal| {
        refused(
            refusal,
            wants_graphql_response(headers),
            &request_id(headers),
        )
    };
    let identity = identity(&hub.state, headers);
    match door(hub, &identity) {
        Ok(()) => {}
        Err(AtTheDoor::Barred(refusal)) => {
            // Its body is never read: the connection closes with the answer.
            tokio::time::sleep(TARPIT).await;
            return Err(answer(refusal));
        }
        Err(AtTheDoor::Refused(refusal)) => return Err(answer(refusal)),
    }
    let body = body.await?;
    let place = hub.throttle.enter().map_err(answer)?;
    Ok((Admitted { identity, place }, body))
}

/// The throttle's door, before the body is parsed: a user that keeps coming back sooner than it
/// was told to is turned away here, at the price of a token check (see [`Throttle::door`]).
///
/// [`Throttle::door`]: crate::throttle::Throttle::door
fn door(hub: &Hub, identity: &Result<Option<TokenIdentity>, ApiError>) -> Result<(), AtTheDoor> {
    // A bad token is answered UNAUTHENTICATED after the usual checks; until then its bearer is
    // a stranger, counted with anonymous callers.
    let (user, agency) = match identity {
        Ok(Some(identity)) => throttle_keys_of(&identity.user_id, identity.agency_id.as_deref()),
        Ok(None) | Err(_) => throttle_keys(None),
    };
    hub.throttle.door(&user, &agency)
}

/// The request's id: the caller's `x-request-id` when it sent a sane one (a gateway passing its
/// own on, so one id follows a query across subgraphs), a new one otherwise.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Executes one operation with its own loaders; a panic becomes `INTERNAL`, never a dropped connection.
async fn execute_one(
    hub: &Hub,
    context: &Arc<RequestContext>,
    budget: &Arc<RequestBudget>,
    mut request: Request,
) -> Response {
    // The document was parsed once, for the limits; the engine executes that same parse, and the
    // checks below and the ordering of the answer read it (a copy outlives the request).
    let doc = request.parsed_query().ok().cloned();
    // The schema is documentation for partners, not a map for strangers.
    let may_introspect =
        context.principal.is_some() && hub.limits.introspection != Introspection::Off;
    // `_service { sdl }` is the whole schema too, and the engine serves it whatever the
    // introspection setting: it is answered `null` here, as `__schema` is.
    let hidden_service = match &doc {
        Some(doc) if !may_introspect => federation::service_response_keys(doc),
        _ => Vec::new(),
    };
    // Anonymous callers learn nothing of the schema beyond the public directory.
    if let (None, Some(doc)) = (&context.principal, &doc) {
        let errors = anonymous_errors(hub.views.map(), hub.views.of(None), doc);
        if !errors.is_empty() {
            return Response::from_errors(errors);
        }
    }
    let introspection_only = may_introspect
        && doc
            .as_ref()
            .is_some_and(crate::limits::is_introspection_only);
    let mut request = if may_introspect {
        request
    } else {
        request.disable_introspection()
    };
    // A gateway's entity look-ups of one request are loaded together.
    if let Some(principal) = &context.principal {
        if request.query.contains("_entities") {
            request = request.data(federation::EntityLoaders::new(
                &hub.state.db,
                &hub.state.policy,
                principal,
                context.now,
            ));
        }
    }
    let request = request
        .data(context.clone())
        .data(budget.clone())
        .data(Loaders::new(&hub.state.db));
    let schema = if introspection_only {
        &hub.introspection_schema
    } else {
        &hub.schema
    };
    let operation_name = request.operation_name.clone();
    let execution = AssertUnwindSafe(schema.execute(request)).catch_unwind();
    match execution.await {
        Ok(mut response) => {
            // Past its budget the answer is thrown away whole (by `run`): not worth ordering.
            if budget.exhausted().is_some() {
                return response;
            }
            // A partner's errors never name what its kind can never read (anonymous documents
            // were answered by the gate above).
            if let Some(viewer) = context.viewer() {
                hub.views
                    .mask_messages(hub.views.of(Some(&viewer)), &mut response.errors);
            }
            hub.limits.name_engine_limits(&mut response.errors);
            if let Some(doc) = &doc {
                crate::graphql::order::reorder(&mut response.data, doc, operation_name.as_deref());
            }
            if let async_graphql::Value::Object(data) = &mut response.data {
                for key in &hidden_service {
                    if let Some(v) = data.get_mut(key.as_str()) {
                        *v = async_graphql::Value::Null;
                    }
                }
            }
            response
        }
        Err(_) => {
            tracing::error!("a resolver panicked");
            error_response(ApiError::Internal("panic".into()))
        }
    }
}

/// Writes the request's reads to the access log. If that fails, the data is not sent (fail closed).
async fn flush_reads(hub: &Hub, context: &RequestContext) -> Result<(), ApiError> {
    let reads = context.reads.drain();
    let Some(principal) = &context.principal else {
        return Ok(());
    };
    if reads.is_empty() {
        return Ok(());
    }
    let entries = reads
        .into_iter()
        .map(|(case_id, rels, classes)| audit::NewEntry {
            user_id: principal.user_id.clone(),
            agency_id: principal.agency_id().map(str::to_string),
            role: principal.role,
            case_id: Some(case_id),
            operation: "read".into(),
            relationships: rels,
            classes,
            detail: None,
        })
        .collect();
    let w = hub.state.write().await?;
    audit::append(w.txn(), entries).await?;
    w.commit().await
}

/// Turns a throttle refusal into its HTTP answer (429 or 503, with `Retry-After`).
fn refused(refusal: Refusal, graphql_response: bool, id: &str) -> HttpResponse {
    tracing::info!(refusal = ?refusal, "request refused by the throttle");
    let r = error_response(ApiError::LimitExceeded(refusal.message()));
    let mut resp = render(BatchResponse::Single(r), graphql_response, false, id);
    *resp.status_mut() = match refusal {
        Refusal::HubBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::TOO_MANY_REQUESTS,
    };
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(refusal.retry_after()),
    );
    resp
}

/// `extensions.cost`: what the request was charged and what is left of the caller's budgets
/// (`null`: unlimited).
fn cost_extension(spent: &Spent) -> async_graphql::Value {
    let left = |n: Option<u64>| n.map_or(async_graphql::Value::Null, async_graphql::Value::from);
    let mut map = async_graphql::indexmap::IndexMap::new();
    map.insert(
        async_graphql::Name::new("spent"),
        async_graphql::Value::from(spent.cost),
    );
    map.insert(async_graphql::Name::new("userLeft"), left(spent.user_left));
    map.insert(
        async_graphql::Name::new("agencyLeft"),
        left(spent.agency_left),
    );
    async_graphql::Value::Object(map)
}

/// The throttle's keys for a caller: its user and its agency (anonymous callers share one).
fn throttle_keys(principal: Option<&Principal>) -> (String, String) {
    match principal {
        Some(p) => throttle_keys_of(&p.user_id, p.agency_id()),
        None => ("-anonymous-".into(), "-anonymous-".into()),
    }
}

/// The throttle's keys for a user of an agency (or of the hub, for platform tokens).
fn throttle_keys_of(user_id: &str, agency_id: Option<&str>) -> (String, String) {
    let agency = agency_id.unwrap_or("-hub-").to_string();
    (format!("{agency}/{user_id}"), agency)
}

/// Runs a whole HTTP request's operations and renders the answer.
async fn run(
    hub: Hub,
    headers: HeaderMap,
    admitted: Admitted,
    batch: BatchRequest,
) -> HttpResponse {
    let Admitted {
        identity,
        place: _place,
    } = admitted;
    // One deadline and one answer budget for the whole request, whatever it holds.
    let budget = RequestBudget::new(hub.limits.timeout, hub.limits.response_bytes);
    let id = request_id(&headers);
    let graphql_response = wants_graphql_response(&headers);
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, operation = tracing::field::Empty, outcome = tracing::field::Empty);
    let result: Result<(BatchResponse, bool), Refusal> = async {
        // A batch of one is still a batch: its answer is a list of one.
        let (mut requests, is_batch) = match batch {
            BatchRequest::Single(r) => (vec![r], false),
            BatchRequest::Batch(v) => (v, true),
        };
        if is_batch && hub.limits.batch == 0 {
            let r = error_response(ApiError::LimitExceeded(
                "this hub does not accept batched operations: send one operation per request"
                    .into(),
            ));
            return Ok((BatchResponse::Single(r), false));
        }
        if requests.len() > hub.limits.batch.max(1) {
            let r = error_response(ApiError::LimitExceeded(format!(
                "the request exceeds the batch limit ({}): at most {} operations per request",
                hub.limits.batch, hub.limits.batch
            )));
            return Ok((BatchResponse::Single(r), false));
        }
        let mut cost = Cost::default();
        // Without a token the caller is anonymous (a bad token is refused below, whatever it
        // asked): its documents are costed within its view of the schema.
        let anonymous = !headers.contains_key(header::AUTHORIZATION);
        for r in &mut requests {
            // The text is checked before anything parses it; then it is parsed once, for the
            // limits, the checks of execute_one and the engine. A document that does not parse
            // is the engine's to answer.
            let name = r.operation_name.clone();
            let variables = std::mem::take(&mut r.variables);
            let checked = hub
                .limits
                .check_text(&r.query)
                .and_then(|()| hub.limits.check_variables(&variables))
                .and_then(|()| match r.parsed_query() {
                    Ok(doc) => hub.limits.check_document(doc).map(|()| {
                        crate::cost::of_document(
                            hub.views.map(),
                            anonymous.then(|| hub.views.of(None)),
                            doc,
                            name.as_deref(),
                            &variables,
                        )
                    }),
                    Err(_) => Ok(Cost::default()),
                });
            r.variables = variables;
            match checked {
                Ok(c) => cost = cost + c,
                Err(e) => return Ok((BatchResponse::Single(error_response(e)), false)),
            }
        }
        // The whole request's cost: every operation, alias and representation together.
        if let Err(e) = hub.limits.check_cost(&cost) {
            return Ok((BatchResponse::Single(error_response(e)), false));
        }
        if let Some(name) = requests.first().and_then(|r| r.operation_name.clone()) {
            tracing::Span::current().record("operation", name.as_str());
        }
        let principal = match identity {
            Ok(identity) => principal(&hub.state, identity).await,
            Err(e) => Err(e),
        };
        let principal = match principal {
            Ok(p) => p,
            Err(e) => return Ok((BatchResponse::Single(error_response(e)), false)),
        };
        let (user_key, agency_key) = throttle_keys(principal.as_ref());
        let spent = hub.throttle.charge(&user_key, &agency_key, cost.charge)?;
        let _slot = hub
            .throttle
            .agency_slot(&user_key, &agency_key, cost.complexity)?;
        let context = Arc::new(RequestContext::new(principal));
        // Past the deadline the execution is dropped, which cancels its database work; a
        // mutation's transaction is then rolled back, so nothing is half written.
        let execution = async {
            let mut responses = Vec::with_capacity(requests.len());
            for r in requests {
                responses.push(execute_one(&hub, &context, &budget, r).await);
            }
            responses
        };
        let deadline = tokio::time::Instant::from_std(budget.deadline());
        let mut responses = tokio::time::timeout_at(deadline, execution)
            .await
            .unwrap_or_else(|_| {
                budget.expire();
                Vec::new()
            });
        // Over the deadline or the size budget, nothing of what was built is sent, nor kept.
        if let Some(why) = budget.exhausted() {
            drop(responses);
            let r = error_response(ApiError::LimitExceeded(budget.message(why)));
            return Ok((BatchResponse::Single(r), false));
        }
        if let Err(e) = flush_reads(&hub, &context).await {
            if let ApiError::Internal(detail) = &e {
                tracing::error!(%detail, "access log write failed; answer withheld");
            }
            return Ok((
                BatchResponse::Single(error_response(ApiError::Internal("access log".into()))),
                false,
            ));
        }
        // Clients pace themselves by what they spent and what is left.
        let report = cost_extension(&spent);
        for r in &mut responses {
            r.extensions.insert("cost".into(), report.clone());
        }
        let out = if is_batch {
            BatchResponse::Batch(responses)
        } else {
            BatchResponse::Single(responses.remove(0))
        };
        Ok((out, true))
    }
    .instrument(span.clone())
    .await;
    let (response, executed) = match result {
        Ok(answer) => answer,
        Err(refusal) => {
            span.record("outcome", "LIMIT_EXCEEDED");
            return refused(refusal, graphql_response, &id);
        }
    };
    let response = with_codes(response);
    // Every error is logged under the request id the partner sees in `x-request-id`.
    for_each_error(&response, |e| {
        let code = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string())
            .unwrap_or_default();
        tracing::info!(parent: &span, code = %code.trim_matches('"'), message = %e.message, "error answered");
    });
    let codes = error_codes(&response);
    span.record(
        "outcome",
        if codes.is_empty() {
            "ok".to_string()
        } else {
            codes.join(",")
        }
        .as_str(),
    );
    tracing::info!(parent: &span, duration_ms = started.elapsed().as_millis() as u64, "graphql request");
    render(response, graphql_response, executed, &id)
}

fn for_each_error(response: &BatchResponse, mut f: impl FnMut(&ServerError)) {
    match response {
        BatchResponse::Single(r) => r.errors.iter().for_each(&mut f),
        BatchResponse::Batch(v) => v.iter().flat_map(|r| r.errors.iter()).for_each(f),
    }
}

fn error_codes(response: &BatchResponse) -> Vec<String> {
    let list: Vec<&Response> = match response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(v) => v.iter().collect(),
    };
    codes_of(&list)
}

fn codes_of(list: &[&Response]) -> Vec<String> {
    list.iter()
        .flat_map(|r| r.errors.iter())
        .filter_map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_string())
        })
        .collect()
}

/// Request errors (no execution: parse, validation, limits, authentication) carry no path.
fn is_request_error(r: &Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

fn render(
    response: BatchResponse,
    graphql_response: bool,
    executed: bool,
    request_id: &str,
) -> HttpResponse {
    let response = with_codes(response);
    let status = if !graphql_response {
        StatusCode::OK
    } else {
        match &response {
            BatchResponse::Single(r) if is_request_error(r) => {
                let unauthenticated = codes_of(&[r]).iter().any(|c| c == "UNAUTHENTICATED");
                if unauthenticated && !executed {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
            _ => StatusCode::OK,
        }
    };
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let body = serde_json::to_vec(&response).unwrap_or_else(|_| {
        br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_vec()
    });
    let mut out = (status, body).into_response();
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        out.headers_mut().insert("x-request-id", v);
    }
    out
}

/// Gives every error a contract code: errors raised by the GraphQL engine itself (parse,
/// validation, unknown fields) are `VALIDATION`; anything else without a code is `INTERNAL`.
fn with_codes(response: BatchResponse) -> BatchResponse {
    let fix = |mut r: Response| {
        r.errors = r.errors.into_iter().map(coded).collect();
        r
    };
    match response {
        BatchResponse::Single(r) => BatchResponse::Single(fix(r)),
        BatchResponse::Batch(v) => BatchResponse::Batch(v.into_iter().map(fix).collect()),
    }
}

fn coded(mut e: ServerError) -> ServerError {
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if !has_code {
        let code = match (
            crate::limits::engine_limit_message(&e.message),
            e.path.is_empty(),
        ) {
            (Some(_), _) => "LIMIT_EXCEEDED",
            (None, true) => "VALIDATION",
            // The engine checks arguments as it reaches each field: a variable of the wrong
            // type is the caller's mistake, found late, not the hub's failure.
            (None, false) if is_argument_error(&e.message) => "VALIDATION",
            (None, false) => "INTERNAL",
        };
        if code == "INTERNAL" {
            tracing::error!(message = %e.message, "uncoded error");
            e.message = "internal error".into();
        }
        // Never suggest names of the schema ("Did you mean ...").
        if let Some(i) = e.message.find(" Did you mean") {
            e.message.truncate(i);
        }
        let mut ext = e.extensions.take().unwrap_or_default();
        ext.set("code", code);
        e.extensions = Some(ext);
    }
    e
}

/// Whether an uncoded error raised while resolving is the engine's complaint about an argument.
fn is_argument_error(message: &str) -> bool {
    message.starts_with("Failed to parse")
        || message.starts_with("Expected input type")
        || message.starts_with("Invalid value for argument")
        || message.starts_with("Variable ")
        || message.contains("is not defined")
        // Federation: a representation without `__typename`, or of a type the hub does not own.
        || message.starts_with("Entity not found")
        || message.contains("\"__typename\"")
}

fn bad_request(message: &str, graphql_response: bool, headers: &HeaderMap) -> HttpResponse {
    let r = error_response(ApiError::validation("body", message));
    let mut resp = render(
        BatchResponse::Single(r),
        graphql_response,
        false,
        &request_id(headers),
    );
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    resp
}

async fn graphql_post(State(hub): State<Hub>, request: axum::extract::Request) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let graphql_response = wants_graphql_response(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        let r = error_response(ApiError::validation(
            "body",
            "send the request as application/json",
        ));
        let mut resp = render(
            BatchResponse::Single(r),
            graphql_response,
            false,
            &request_id(&headers),
        );
        *resp.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return resp;
    }
    // Who is asking, and whether it may come in, before its body is even read.
    let limit = hub.limits.body_bytes;
    let read = async {
        axum::body::to_bytes(body, limit).await.map_err(|_| {
            let r = error_response(ApiError::LimitExceeded(format!(
                "the request body is larger than the body limit ({limit} bytes)"
            )));
            let mut resp = render(
                BatchResponse::Single(r),
                graphql_response,
                false,
                &request_id(&headers),
            );
            *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            resp
        })
    };
    let (admitted, body) = match admit(&hub, &headers, read).await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return bad_request(
                "the body is not a GraphQL request: expected JSON with a \"query\"",
                graphql_response,
                &headers,
            )
        }
    };
    run(hub, headers, admitted, batch).await
}

/// GET parameters of a GraphQL request.
#[derive(serde::Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    State(hub): State<Hub>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> HttpResponse {
    let graphql_response = wants_graphql_response(&headers);
    let Some(query) = params.query else {
        return crate::pages::graphiql().into_response();
    };
    let (admitted, _) = match admit(&hub, &headers, async { Ok(Bytes::new()) }).await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    let mut request = Request::new(query.clone());
    if let Some(name) = &params.operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(vars) = &params.variables {
        match serde_json::from_str(vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(_) => {
                return bad_request(
                    "variables must be a JSON object",
                    graphql_response,
                    &headers,
                )
            }
        }
    }
    // Limits first: the parser below must never see a document over them.
    if let Err(e) = hub.limits.check(&query) {
        let r = error_response(e);
        return render(
            BatchResponse::Single(r),
            graphql_response,
            false,
            &request_id(&headers),
        );
    }
    // GET is for queries only: a mutation over GET could be triggered by a link.
    if let Ok(doc) = async_graphql::parser::parse_query(&query) {
        let is_mutation = match &doc.operations {
            async_graphql::parser::types::DocumentOperations::Single(op) => {
                op.node.ty == OperationType::Mutation
            }
            async_graphql::parser::types::DocumentOperations::Multiple(ops) => ops
                .iter()
                .filter(|(name, _)| {
                    params
                        .operation_name
                        .as_deref()
                        .is_none_or(|n| n == name.as_str())
                })
                .any(|(_, op)| op.node.ty == OperationType::Mutation),
        };
        if is_mutation {
            let r = error_response(ApiError::validation("query", "mutations need POST"));
            let mut resp = render(
                BatchResponse::Single(r),
                graphql_response,
                false,
                &request_id(&headers),
            );
            *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
    }
    run(hub, headers, admitted, BatchRequest::Single(request)).await
}
