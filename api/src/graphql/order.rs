//! Answers in the order the caller asked.
//!
//! The GraphQL specification wants an object's fields serialized in the order of the selection
//! set. The engine (async-graphql 7) resolves a selection's fields concurrently and keeps them in
//! the order they *complete* (its issue #612), so a field that waited on the database comes after
//! one that did not, and the order can change from one run to the next. Clients comparing answers
//! byte for byte, or reading them as streams, should not see that; this pass restores the
//! requested order. It only moves fields: a key the walk does not expect stays, at the end.

use async_graphql::{
    indexmap::IndexMap,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
    Value,
};

/// Reorders `data` to follow the operation `operation_name` (or the only one) of `doc`.
pub fn reorder(data: &mut Value, doc: &ExecutableDocument, operation_name: Option<&str>) {
    let op = match (&doc.operations, operation_name) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => op,
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => {
            match ops.get(name) {
                Some(op) => op,
                None => return,
            }
        }
        _ => return,
    };
    reorder_value(data, &[&op.node.selection_set.node], doc);
}

/// The response keys of `sets` in order, each with the sub-selections asked under it.
fn keys<'d>(
    sets: &[&'d SelectionSet],
    doc: &'d ExecutableDocument,
    seen: &mut Vec<&'d str>,
    out: &mut Vec<(&'d str, Vec<&'d SelectionSet>)>,
) {
    for set in sets {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let key = f.node.response_key().node.as_str();
                    let sub = &f.node.selection_set.node;
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => out.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(i) => {
                    keys(&[&i.node.selection_set.node], doc, seen, out);
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                        keys(&[&f.node.selection_set.node], doc, seen, out);
                    }
                    seen.pop();
                }
            }
        }
    }
}

fn reorder_value(value: &mut Value, sets: &[&SelectionSet], doc: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                reorder_value(item, sets, doc);
            }
        }
        Value::Object(map) => {
            let mut order = Vec::new();
            keys(sets, doc, &mut Vec::new(), &mut order);
            let mut old = std::mem::take(map);
            let mut new = IndexMap::with_capacity(old.len());
            for (key, subs) in order {
                if let Some((k, mut v)) = old.shift_remove_entry(key) {
                    if subs.iter().any(|s| !s.items.is_empty()) {
                        reorder_value(&mut v, &subs, doc);
                    }
                    new.insert(k, v);
                }
            }
            // Nothing is ever dropped: what the walk did not expect keeps its place at the end.
            new.extend(old.drain(..));
            *map = new;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Name;

    use super::*;

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn fields_follow_the_selection_with_aliases_fragments_and_lists() {
        let doc = async_graphql::parser::parse_query(
            "{ list { b a: x ...F } } fragment F on T { c { z y } }",
        )
        .expect("parses");
        let c = object(&[("y", Value::from(1)), ("z", Value::from(2))]);
        let item = object(&[
            ("c", c),
            ("a", Value::from(3)),
            ("extra", Value::from(4)),
            ("b", Value::from(5)),
        ]);
        let mut data = object(&[("list", Value::List(vec![item.clone(), item]))]);
        reorder(&mut data, &doc, None);
        fn keys_of(v: &Value) -> Vec<String> {
            match v {
                Value::Object(m) => m.keys().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            }
        }
        let Value::Object(top) = &data else {
            panic!("an object")
        };
        let Some(Value::List(items)) = top.get("list") else {
            panic!("a list")
        };
        for item in items {
            assert_eq!(keys_of(item), ["b", "a", "c", "extra"]);
            let Value::Object(m) = item else {
                panic!("an object")
            };
            assert_eq!(keys_of(&m["c"]), ["z", "y"]);
        }
    }
}
