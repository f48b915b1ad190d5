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

#[path = "../support/mod.rs"]
mod support;

mod answer;
mod builder;
mod deep_nesting;
mod documents;
mod fixture;
mod hub;
mod mutations;
mod runner;
mod schema;
mod tape;
mod tokens;

// The tests stand here, at the top of the crate, so that their names stay what they have always
// been (`tokens`, not `tokens::tokens`); each one's body lives with what it tests.

/// (1) Documents built from the schema's own names.
#[test]
fn schema_documents() {
    documents::schema_documents();
}

/// (2) Valid documents, mutated; sometimes the JSON body itself is mutated.
#[test]
fn mutated_documents() {
    mutations::mutated_documents();
}

/// (3) Random variables for documents that declare variables of the schema's input types.
#[test]
fn random_variables() {
    documents::random_variables();
}

/// (4) Tokens: a valid one is who it names; anything else is `UNAUTHENTICATED` and gets no data.
#[test]
fn tokens() {
    tokens::tokens();
}

/// The oracle can fail: it rejects answers that break the contract.
#[test]
fn the_oracle_rejects_bad_answers() {
    answer::the_oracle_rejects_bad_answers();
}

/// The tape: 0 everywhere is the simplest document, and it is valid GraphQL for the schema.
#[test]
fn the_simplest_document_is_small() {
    builder::the_simplest_document_is_small();
}

/// Each way of nesting a document, as deep as the 5,000-token limit lets it go (and deeper, to
/// check the limit answers first). Random mutations reach these only sometimes; here they are
/// always sent. Every failing shape and depth is listed, not only the first.
#[test]
fn deep_nesting() {
    deep_nesting::deep_nesting();
}
