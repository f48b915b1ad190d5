//! Valid documents with bytes changed, and mutated JSON bodies.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::{
    answer::HttpRequest,
    fixture::Fixture,
    runner::{caller, run_generated, Generated},
};

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

pub fn mutated_documents() {
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
    run_generated("mutated_documents", &fixture, 80, strategy);
}
