//! Documents built from the schema's own names, and random variables for them.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::{
    answer::HttpRequest,
    builder::Builder,
    fixture::Fixture,
    runner::{build_request, caller, run_generated, transport, Generated},
    schema::{named, SchemaModel},
};

pub fn schema_documents() {
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
    run_generated("schema_documents", &fixture, 90, strategy);
}

pub fn random_variables() {
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
    run_generated("random_variables", &fixture, 50, strategy);
}
