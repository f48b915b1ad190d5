//! Deep nesting, deterministically: each way of nesting a document, always sent.

use serde_json::json;

use crate::{answer::HttpRequest, fixture::Fixture};

pub fn deep_nesting() {
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
