//! What a request costs, worked out on its parsed documents and variables before any resolver
//! runs (ACCESS.md §10: `LIMIT_EXCEEDED`).
//!
//! One rule for every field, wherever it appears: a field costs 1 plus its selection's cost
//! multiplied by how many items it can return. A field with a `first` argument returns at most
//! `first` items (default and ceiling as the pagination's); `_entities` returns one item per
//! representation; any other list is counted as [`UNPAGED_LIST`] items; anything else as one.
//! Aliases, repeated fragments and every operation of a batch are each counted where they are
//! executed, so that one request cannot hide work behind another name (issue 19: 10 operations ×
//! 20 aliases × 1,000 representations once cost the same as one look-up).

use std::collections::HashMap;

use async_graphql::{
    parser::types::{
        BaseType, DocumentOperations, ExecutableDocument, Field, InlineFragment,
        OperationDefinition, OperationType, Selection, SelectionSet,
    },
    Name, Value as ConstValue, Variables,
};

use crate::view::{base_name, SchemaMap, SchemaView};

/// Page size of a paginated field when `first` is not given (as `graphql::pagination`).
pub const DEFAULT_PAGE: u64 = 20;
/// Largest page a paginated field returns, whatever `first` asks (as `graphql::pagination`).
pub const MAX_PAGE: u64 = 100;
/// Items counted for a list that takes no `first` (a case's notes, a network's members).
pub const UNPAGED_LIST: u64 = 10;
/// Cost of `__schema` or `__type`: the schema is read, not data, so its size is fixed.
pub const INTROSPECTION: u64 = 500;
/// How much more a root field that aggregates or writes in bulk weighs for the throttle
/// (statistics, releases, imports): each such field scans many rows, whatever it returns.
pub const HEAVY_ROOT_WEIGHT: u64 = 10;

/// What one operation, or a whole request, costs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// The complexity by the rule above.
    pub complexity: u64,
    /// Entity representations the gateway asks to resolve (`_entities`), every use counted.
    pub representations: u64,
    /// What the throttle charges: the complexity of each root field, weighted
    /// ([`HEAVY_ROOT_WEIGHT`] for statistics, releases and imports).
    pub charge: u64,
}

impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, other: Cost) -> Cost {
        Cost {
            complexity: self.complexity.saturating_add(other.complexity),
            representations: self.representations.saturating_add(other.representations),
            charge: self.charge.saturating_add(other.charge),
        }
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::default(), |a, b| a + b)
    }
}

/// Whether a root field aggregates or writes in bulk, and so weighs [`HEAVY_ROOT_WEIGHT`].
pub fn is_heavy_root(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("statistic") || lower.contains("release") || lower.starts_with("import")
}

/// The cost of the operation of `doc` that a request executes: the one named `operation_name`,
/// or, when it names none, every operation of the document (the engine refuses a document with
/// several unnamed operations anyway; counting them all never under-counts).
///
/// With a `view`, fields outside it are counted as names that do not exist: an anonymous caller
/// must not tell a real hidden name from a made-up one by what its request costs.
pub fn of_document(
    map: &SchemaMap,
    view: Option<&SchemaView>,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Cost {
    let chosen: Vec<&OperationDefinition> = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => vec![&op.node],
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => vec![&op.node],
            None => ops.values().map(|op| &op.node).collect(),
        },
        (DocumentOperations::Multiple(ops), None) => ops.values().map(|op| &op.node).collect(),
    };
    chosen
        .into_iter()
        .map(|op| {
            let mut walk = Walk {
                map,
                view,
                doc,
                variables,
                defaults: op
                    .variable_definitions
                    .iter()
                    .filter_map(|d| {
                        let default = d.node.default_value.as_ref()?;
                        Some((d.node.name.node.clone(), default.node.clone()))
                    })
                    .collect(),
                fragments: HashMap::new(),
                open_fragments: Vec::new(),
            };
            let root = match op.ty {
                OperationType::Query => "Query",
                OperationType::Mutation => "Mutation",
                OperationType::Subscription => "Subscription",
            };
            walk.set(&op.selection_set.node, Some(root), true)
        })
        .sum()
}

/// The type an inline fragment applies to, when it names one.
fn type_condition(inline: &InlineFragment) -> Option<String> {
    inline
        .type_condition
        .as_ref()
        .map(|t| t.node.on.node.to_string())
}

struct Walk<'a> {
    map: &'a SchemaMap,
    view: Option<&'a SchemaView>,
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: HashMap<Name, ConstValue>,
    /// Each fragment's cost, at the root or not, worked out once however often it is spread (a
    /// document of nested spreads would otherwise take exponential time to count).
    fragments: HashMap<(Name, bool), Cost>,
    /// Fragments being counted, to stop at a cycle (which the engine refuses anyway).
    open_fragments: Vec<Name>,
}

impl Walk<'_> {
    /// A selection's cost; at the root, each field is charged on its own, weighted.
    fn set(&mut self, set: &SelectionSet, parent: Option<&str>, root: bool) -> Cost {
        let mut total = Cost::default();
        for item in &set.items {
            total = total
                + match &item.node {
                    Selection::Field(field) => {
                        let (complexity, representations) = self.field(&field.node, parent);
                        let name = field.node.name.node.as_str();
                        // A name outside the caller's view weighs what a made-up one does, so
                        // that the cost it reports tells nothing about which names exist.
                        let weight = if root && is_heavy_root(name) && !self.hidden(parent, name) {
                            HEAVY_ROOT_WEIGHT
                        } else {
                            1
                        };
                        Cost {
                            complexity,
                            representations,
                            charge: complexity.saturating_mul(weight),
                        }
                    }
                    Selection::InlineFragment(inline) => {
                        let on = type_condition(&inline.node);
                        self.set(
                            &inline.node.selection_set.node,
                            on.as_deref().or(parent),
                            root,
                        )
                    }
                    Selection::FragmentSpread(spread) => {
                        self.fragment(&spread.node.fragment_name.node, root)
                    }
                };
        }
        total
    }

    /// A fragment's cost, worked out once however often it is spread.
    fn fragment(&mut self, name: &Name, root: bool) -> Cost {
        if let Some(known) = self.fragments.get(&(name.clone(), root)) {
            return *known;
        }
        let doc = self.doc;
        let Some(fragment) = doc.fragments.get(name) else {
            return Cost::default();
        };
        if self.open_fragments.contains(name) {
            return Cost::default();
        }
        self.open_fragments.push(name.clone());
        let on = fragment.node.type_condition.node.on.node.to_string();
        let cost = self.set(&fragment.node.selection_set.node, Some(&on), root);
        self.open_fragments.pop();
        self.fragments.insert((name.clone(), root), cost);
        cost
    }

    /// Whether `parent.name` is outside the caller's view (never, without a view).
    fn hidden(&self, parent: Option<&str>, name: &str) -> bool {
        self.view
            .is_some_and(|v| !parent.is_some_and(|p| v.has_field(p, name)))
    }

    /// A field's (complexity, representations).
    fn field(&mut self, field: &Field, parent: Option<&str>) -> (u64, u64) {
        let name = field.name.node.as_str();
        if name == "__typename" {
            return (1, 0);
        }
        // Outside the caller's view a name costs what a made-up one does.
        if self.hidden(parent, name) {
            let children = self.set(&field.selection_set.node, None, false);
            return (
                children.complexity.saturating_add(1),
                children.representations,
            );
        }
        if name.starts_with("__") {
            return (INTROSPECTION, 0);
        }
        let def = parent
            .and_then(|p| self.map.get(p))
            .and_then(|t| t.field(name));
        let child_type = def.map(|d| base_name(&d.ty).to_string());
        let Cost {
            complexity: children,
            representations: nested_representations,
            ..
        } = self.set(&field.selection_set.node, child_type.as_deref(), false);
        let (items, representations) = if name == "_entities" {
            let n = self.list_length(field, "representations");
            (n, n)
        } else if let Some(first) = self.argument(field, "first") {
            let n = match first {
                ConstValue::Number(n) => n.as_i64().map_or(DEFAULT_PAGE, |n| {
                    u64::try_from(n).unwrap_or(0).min(MAX_PAGE)
                }),
                _ => DEFAULT_PAGE,
            };
            (n, 0)
        } else {
            match def {
                Some(d) if d.args.iter().any(|(a, _)| a == "first") => (DEFAULT_PAGE, 0),
                // A page's edges are the page `first` already counted.
                Some(d)
                    if matches!(d.ty.base, BaseType::List(_))
                        && !parent.is_some_and(|p| p.ends_with("Connection")) =>
                {
                    (UNPAGED_LIST, 0)
                }
                _ => (1, 0),
            }
        };
        (
            items.saturating_mul(children).saturating_add(1),
            representations.saturating_add(items.saturating_mul(nested_representations)),
        )
    }

    /// How many items a list argument holds, without copying it: the same variable of 1,000
    /// representations may be used by 200 aliases.
    fn list_length(&self, field: &Field, name: &str) -> u64 {
        let Some(argument) = field.get_argument(name) else {
            return 0;
        };
        let length = |v: &ConstValue| match v {
            ConstValue::List(items) => items.len() as u64,
            _ => 1,
        };
        // A literal is copied (the token limit bounds it); a variable is only named.
        let mut variable = None;
        match argument.node.clone().into_const_with(|var| {
            variable = Some(var);
            Err(())
        }) {
            Ok(literal) => length(&literal),
            Err(()) => variable
                .and_then(|v| self.variables.get(&v).or_else(|| self.defaults.get(&v)))
                .map_or(0, length),
        }
    }

    /// An argument's value, with variables (and their defaults) filled in.
    fn argument(&self, field: &Field, name: &str) -> Option<ConstValue> {
        field
            .get_argument(name)?
            .node
            .clone()
            .into_const_with(|var| {
                self.variables
                    .get(&var)
                    .or_else(|| self.defaults.get(&var))
                    .cloned()
                    .ok_or(())
            })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, variables: serde_json::Value) -> Cost {
        let map = SchemaMap::from_sdl(&crate::graphql::sdl()).expect("the SDL parses");
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        of_document(&map, None, &doc, None, &Variables::from_json(variables))
    }

    /// Every list multiplies by its items, whatever its place or name.
    #[test]
    fn lists_multiply_their_selection() {
        assert_eq!(
            cost("{ me { userId } }", serde_json::json!({})).complexity,
            2
        );
        let page = cost(
            "{ cases(first: 50) { edges { node { id code } } } }",
            serde_json::json!({}),
        );
        // cases: 1 + 50 × (edges: 1 + 1 × (node: 1 + 2)) = 201.
        assert_eq!(page.complexity, 201);
        let by_variable = cost(
            "query($n: Int) { cases(first: $n) { edges { node { id code } } } }",
            serde_json::json!({ "n": 50 }),
        );
        assert_eq!(by_variable.complexity, 201);
        let default_page = cost(
            "{ cases { edges { node { id code } } } }",
            serde_json::json!({}),
        );
        assert_eq!(default_page.complexity, 1 + DEFAULT_PAGE * 4);
        let huge_first = cost(
            "{ cases(first: 100000) { edges { node { id } } } }",
            serde_json::json!({}),
        );
        assert_eq!(huge_first.complexity, 1 + MAX_PAGE * 3);
        // A nested list without `first` counts UNPAGED_LIST items.
        let nested = cost(
            "{ cases(first: 1) { edges { node { notes { text } } } } }",
            serde_json::json!({}),
        );
        assert_eq!(nested.complexity, 1 + (1 + (1 + (1 + UNPAGED_LIST))));
    }

    /// `_entities` counts each representation; aliases and repeated fragments count each time.
    #[test]
    fn representations_aliases_and_fragments_all_count() {
        let reps: Vec<serde_json::Value> = (0..100)
            .map(|i| serde_json::json!({ "__typename": "Case", "id": i.to_string() }))
            .collect();
        let vars = serde_json::json!({ "r": reps });
        let one = cost(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id code } } }",
            vars.clone(),
        );
        assert_eq!(one.complexity, 1 + 100 * 2);
        assert_eq!(one.representations, 100);
        let aliased = cost(
            "query($r: [_Any!]!) { a: _entities(representations: $r) { ...F } b: _entities(representations: $r) { ...F } } fragment F on Case { id code }",
            vars,
        );
        assert_eq!(aliased.complexity, 2 * one.complexity);
        assert_eq!(aliased.representations, 200);
        let stats = cost(
            "{ caseStatistics(groupBy: [PROVINCE]) { count } }",
            serde_json::json!({}),
        );
        assert_eq!(stats.charge, stats.complexity * HEAVY_ROOT_WEIGHT);
    }
}
