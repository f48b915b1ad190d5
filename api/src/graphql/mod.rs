//! The GraphQL schema: types, queries, mutations and the per-request context they share.

pub mod federation;
pub mod loaders;
mod mutation;
pub mod order;
mod pagination;
pub(crate) mod places;
mod query;
pub(crate) mod statistics;
pub mod types;

use async_graphql::{Context, EmptySubscription, Schema};

// The value types of the schema are the domain's, with their GraphQL derivations.
pub use crate::domain::{enums, scalars};
// What each viewer sees of the schema; it lives beside the schema, which it does not depend on.
pub use crate::view;
use crate::{access::RequestContext, state::AppState};
pub use loaders::Loaders;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

/// The hub's schema.
pub type HubSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema around the application state.
pub fn build_schema(state: AppState, limits: &crate::limits::Limits) -> HubSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(state)
    .enable_federation()
    .disable_suggestions()
    .limit_depth(limits.depth)
    // Complexity is counted by `cost` over the whole HTTP request, not per operation here.
    .limit_directives(limits.directives)
    .limit_recursive_depth(64)
    .extension(crate::budget::BudgetExtension)
    .finish()
}

/// The SDL as a person reads it: async-graphql prints the arguments of a field that documents
/// some of them on one line, the undocumented ones joined by tabs (`f(\t\ta: A,\t\tb: B,`);
/// each goes on its own line here, as the documented ones do. Whitespace only: the schema is
/// the same.
pub fn tidy_sdl(sdl: &str) -> String {
    let mut out = String::with_capacity(sdl.len() + 256);
    for line in sdl.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches('\t').len();
        let (lead, rest) = line.split_at(indent);
        out.push_str(lead);
        out.push_str(&rest.replace("\t\t", "\n\t\t"));
    }
    out
}

/// The schema as SDL, as `raccordo schema` prints it (through [`tidy_sdl`]).
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .enable_federation()
    .finish()
    .sdl()
}

/// The subgraph SDL for a federation gateway (Apollo Federation v2), as `_service { sdl }`
/// answers it and `raccordo schema --federation` prints it.
pub fn federation_sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .enable_federation()
    .finish()
    .sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}

/// Every (type, field) of the object and input types the hub serves, for the policy document's check.
/// Introspection types (`__*`) and federation plumbing (`_*`) are not the protocol's business.
pub fn schema_fields() -> Vec<(String, String)> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let Ok(doc) = async_graphql::parser::parse_schema(sdl()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for def in doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            let name = t.node.name.node.to_string();
            if name.starts_with('_') {
                continue;
            }
            let fields: Vec<String> = match &t.node.kind {
                TypeKind::Object(obj) => obj
                    .fields
                    .iter()
                    .map(|f| f.node.name.node.to_string())
                    .collect(),
                TypeKind::InputObject(obj) => obj
                    .fields
                    .iter()
                    .map(|f| f.node.name.node.to_string())
                    .collect(),
                _ => Vec::new(),
            };
            out.extend(
                fields
                    .into_iter()
                    .filter(|f| !f.starts_with('_'))
                    .map(|f| (name.clone(), f)),
            );
        }
    }
    out
}

/// Shorthands for what every resolver reads from its context.
pub(crate) trait ContextExt {
    /// The application state.
    fn state(&self) -> &AppState;
    /// This request's viewer, clock and read log.
    fn request(&self) -> &RequestContext;
    /// This request's loaders.
    fn loaders(&self) -> &Loaders;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }
    fn request(&self) -> &RequestContext {
        self.data_unchecked::<std::sync::Arc<RequestContext>>()
    }
    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<Loaders>()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    /// Partners read the schema as documentation: every type, field, input field and enum value
    /// carries a description.
    #[test]
    fn every_type_field_and_value_is_described() {
        let doc = async_graphql::parser::parse_schema(super::sdl()).expect("the SDL parses");
        let mut missing = Vec::new();
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            if name.starts_with('_')
                || ["String", "Int", "Float", "Boolean", "ID"].contains(&name.as_str())
            {
                continue;
            }
            if t.node.description.is_none() {
                missing.push(name.clone());
            }
            match &t.node.kind {
                // Federation plumbing (`_service`, `_entities`) is the gateway's, not partners'.
                TypeKind::Object(o) => missing.extend(
                    o.fields
                        .iter()
                        .filter(|f| !f.node.name.node.starts_with('_'))
                        .filter(|f| f.node.description.is_none())
                        .map(|f| format!("{name}.{}", f.node.name.node)),
                ),
                TypeKind::InputObject(o) => missing.extend(
                    o.fields
                        .iter()
                        .filter(|f| f.node.description.is_none())
                        .map(|f| format!("{name}.{}", f.node.name.node)),
                ),
                TypeKind::Enum(e) => missing.extend(
                    e.values
                        .iter()
                        .filter(|v| v.node.description.is_none())
                        .map(|v| format!("{name}.{}", v.node.value.node)),
                ),
                _ => {}
            }
        }
        assert!(missing.is_empty(), "undocumented: {missing:?}");
    }
}
