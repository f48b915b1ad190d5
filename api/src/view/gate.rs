//! The gate for anonymous callers: only the public directory, and no schema names beyond it.
//!
//! The GraphQL engine validates a document against the whole schema, and its errors (or their
//! absence) tell which names exist. An anonymous document is therefore checked here first, against
//! the anonymous view, and every name outside it, existing or not, gets the same answer: a root
//! field other than the directory is `UNAUTHENTICATED` (a mutation too; the statistics entry
//! points answer `FORBIDDEN`, as ACCESS.md §7 fixes); a field of the
//! directory's agencies or a type outside the view is an unknown name, worded as the engine words
//! one. Only a document that passes goes on to the engine.

use async_graphql::{
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    Pos, Positioned, ServerError,
};

use super::{base_name, SchemaMap, SchemaView};
use crate::error::ApiError;

/// Root fields an anonymous caller may select.
const ANONYMOUS_ROOTS: [&str; 4] = ["directory", "__typename", "__schema", "__type"];

/// The statistics entry points: ACCESS.md §7 answers an anonymous caller `FORBIDDEN` there (and
/// names them, so answering differently reveals nothing the protocol does not publish).
pub const STATISTICS_ROOTS: [&str; 6] = [
    "caseStatistics",
    "referralStatistics",
    "indicators",
    "referralQueue",
    "statisticsRelease",
    "statisticsReleases",
];

/// The errors an anonymous document gets before the engine sees it (empty: let it through).
pub fn anonymous_errors(
    map: &SchemaMap,
    view: &SchemaView,
    doc: &ExecutableDocument,
) -> Vec<ServerError> {
    let mut gate = Gate {
        map,
        view,
        doc,
        unknown: Vec::new(),
        needs_partner: false,
        statistics: false,
    };
    for (_, op) in doc.operations.iter() {
        for var in &op.node.variable_definitions {
            let name = base_name(&var.node.var_type.node);
            if !view.has_type(name) {
                gate.unknown.push(ServerError::new(
                    format!(r#"Unknown type "{name}""#),
                    Some(var.node.var_type.pos),
                ));
            }
        }
        if op.node.ty != OperationType::Query {
            gate.needs_partner = true;
            continue;
        }
        gate.root(&op.node.selection_set, &mut Vec::new());
    }
    if gate.statistics {
        let e: async_graphql::Error = ApiError::Forbidden(
            "statistics are for partners: ACCESS.md §7 gives anonymous callers none".into(),
        )
        .into();
        return vec![e.into_server_error(Pos::default())];
    }
    if gate.needs_partner {
        let e: async_graphql::Error = ApiError::Unauthenticated(
            "sign in: without a token only the public directory can be read".into(),
        )
        .into();
        return vec![e.into_server_error(Pos::default())];
    }
    gate.unknown
        .sort_by_key(|e| e.locations.first().map(|p| (p.line, p.column)));
    gate.unknown
}

struct Gate<'a> {
    map: &'a SchemaMap,
    view: &'a SchemaView,
    doc: &'a ExecutableDocument,
    unknown: Vec<ServerError>,
    needs_partner: bool,
    statistics: bool,
}

impl Gate<'_> {
    /// The fragment a spread names, once per walk (a cycle is the engine's to report).
    fn fragment<'d>(
        &self,
        name: &str,
        seen: &mut Vec<String>,
    ) -> Option<&'d Positioned<async_graphql::parser::types::FragmentDefinition>>
    where
        Self: 'd,
    {
        if seen.iter().any(|s| s == name) {
            return None;
        }
        seen.push(name.to_string());
        self.doc.fragments.get(name)
    }

    fn type_condition(&mut self, name: &Positioned<async_graphql::Name>) -> bool {
        if self.view.has_type(&name.node) {
            return true;
        }
        self.unknown.push(ServerError::new(
            format!(r#"Unknown type "{}""#, name.node),
            Some(name.pos),
        ));
        false
    }

    fn root(&mut self, set: &Positioned<SelectionSet>, seen: &mut Vec<String>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    if STATISTICS_ROOTS.contains(&name) {
                        self.statistics = true;
                    } else if !ANONYMOUS_ROOTS.contains(&name) {
                        self.needs_partner = true;
                    } else if name == "directory" {
                        self.selection("Agency", &f.node.selection_set, seen);
                    }
                }
                Selection::InlineFragment(i) => {
                    let ok = match &i.node.type_condition {
                        Some(c) => self.type_condition(&c.node.on),
                        None => true,
                    };
                    if ok {
                        self.root(&i.node.selection_set, seen);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.fragment(&s.node.fragment_name.node, seen) {
                        if self.type_condition(&f.node.type_condition.node.on) {
                            self.root(&f.node.selection_set, seen);
                        }
                    }
                }
            }
        }
    }

    fn selection(
        &mut self,
        type_name: &str,
        set: &Positioned<SelectionSet>,
        seen: &mut Vec<String>,
    ) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    if name == "__typename" {
                        continue;
                    }
                    let field = self
                        .map
                        .get(type_name)
                        .and_then(|t| t.field(name))
                        .filter(|_| self.view.has_field(type_name, name));
                    match field {
                        Some(def) => {
                            let child = base_name(&def.ty).to_string();
                            self.selection(&child, &f.node.selection_set, seen);
                        }
                        None => self.unknown.push(ServerError::new(
                            format!(r#"Unknown field "{name}" on type "{type_name}"."#),
                            Some(f.pos),
                        )),
                    }
                }
                Selection::InlineFragment(i) => {
                    let on = match &i.node.type_condition {
                        Some(c) if self.type_condition(&c.node.on) => c.node.on.node.to_string(),
                        Some(_) => continue,
                        None => type_name.to_string(),
                    };
                    self.selection(&on, &i.node.selection_set, seen);
                }
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.fragment(&s.node.fragment_name.node, seen) {
                        if self.type_condition(&f.node.type_condition.node.on) {
                            let on = f.node.type_condition.node.on.node.to_string();
                            self.selection(&on, &f.node.selection_set, seen);
                        }
                    }
                }
            }
        }
    }
}
