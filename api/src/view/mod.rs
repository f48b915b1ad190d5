//! What each kind of caller may learn about the schema.
//!
//! For partners the schema is the published contract (`shared/contract/schema.graphql`), and
//! ACCESS.md §4 wants a field of a hidden class to resolve to `null`, not to an error, so that a
//! client can tell "redacted" from "unknown": asking for `Case.healthNotes` as a QUESTURA is a
//! valid request. A partner's *view* ([`Views::sdl`]) is the part of the schema reachable through
//! fields the protocol could ever show its kind ([`Policy::may_ever_read`]). The engine's error
//! messages name types and fields (`Unknown field "x" on type "CaseNote"`, `Field "notes" of type
//! "[CaseNote!]!" must have a selection of subfields`); a message that names anything outside the
//! caller's view is reworded ([`Views::mask_messages`]), so errors never teach a partner the
//! shape of data its kind can never read.
//!
//! Anonymous callers are not partners: they may read the public directory and nothing else, and
//! they learn nothing else of the schema. [`gate`] answers their documents before the engine
//! validates them, so that a name they may not use and a name that does not exist get the same
//! answer.

mod gate;

pub use gate::anonymous_errors;

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use raccordo_policies::{AgencyKind, Policy, UserRole, Viewer};

/// What sort of type a schema type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Object,
    Input,
    Enum,
    Scalar,
    Other,
}

/// A field of an object or input type (inputs have no arguments).
#[derive(Debug)]
pub(crate) struct FieldDef {
    pub name: String,
    pub ty: Type,
    pub args: Vec<(String, Type)>,
}

/// A named type of the schema.
#[derive(Debug)]
pub(crate) struct TypeDef {
    pub sort: Sort,
    pub fields: Vec<FieldDef>,
    pub values: Vec<String>,
}

impl TypeDef {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The hub's schema as a map of named types, read from its SDL.
#[derive(Debug, Default)]
pub struct SchemaMap {
    order: Vec<String>,
    types: HashMap<String, TypeDef>,
}

impl SchemaMap {
    /// Reads an SDL document; `None` if it does not parse.
    pub fn from_sdl(sdl: &str) -> Option<SchemaMap> {
        let doc = async_graphql::parser::parse_schema(sdl).ok()?;
        let mut map = SchemaMap::default();
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            let (sort, fields, values) = match t.node.kind {
                TypeKind::Object(o) => (
                    Sort::Object,
                    o.fields
                        .into_iter()
                        .map(|f| FieldDef {
                            name: f.node.name.node.to_string(),
                            ty: f.node.ty.node,
                            args: f
                                .node
                                .arguments
                                .into_iter()
                                .map(|a| (a.node.name.node.to_string(), a.node.ty.node))
                                .collect(),
                        })
                        .collect(),
                    Vec::new(),
                ),
                TypeKind::InputObject(o) => (
                    Sort::Input,
                    o.fields
                        .into_iter()
                        .map(|f| FieldDef {
                            name: f.node.name.node.to_string(),
                            ty: f.node.ty.node,
                            args: Vec::new(),
                        })
                        .collect(),
                    Vec::new(),
                ),
                TypeKind::Enum(e) => (
                    Sort::Enum,
                    Vec::new(),
                    e.values
                        .into_iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::Scalar => (Sort::Scalar, Vec::new(), Vec::new()),
                _ => (Sort::Other, Vec::new(), Vec::new()),
            };
            map.order.push(name.clone());
            map.types.insert(
                name,
                TypeDef {
                    sort,
                    fields,
                    values,
                },
            );
        }
        Some(map)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }
}

/// The name of the named type at the bottom of a (list / non-null) type.
pub(crate) fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

/// The part of the schema one caller may learn about.
#[derive(Debug, Default)]
pub struct SchemaView {
    types: HashSet<String>,
    fields: HashSet<(String, String)>,
}

impl SchemaView {
    /// Whether the caller may learn that this named type exists.
    pub fn has_type(&self, name: &str) -> bool {
        self.types.contains(name) || BUILT_IN_SCALARS.contains(&name)
    }

    /// Whether the caller may learn that this field exists.
    pub fn has_field(&self, type_name: &str, field: &str) -> bool {
        // A look-up by two `&str` without allocating would need a nested map; views are small.
        self.fields
            .contains(&(type_name.to_string(), field.to_string()))
    }

    fn compute(map: &SchemaMap, policy: &Policy, viewer: Option<&Viewer>) -> SchemaView {
        let mut view = SchemaView::default();
        let mut queue: Vec<String> = vec!["Query".into(), "Mutation".into()];
        let mut seen = HashSet::new();
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let Some(def) = map.get(&name) else {
                continue;
            };
            match def.sort {
                Sort::Object | Sort::Input => {
                    // A field is shown when its class may ever be read and what it leads to
                    // is not itself all hidden (`addCaseNote` to a questura: it returns a
                    // `CaseNote`, every field of which it can never read).
                    let visible: Vec<&FieldDef> = def
                        .fields
                        .iter()
                        .filter(|f| readable(policy, viewer, &name, &f.name))
                        .filter(|f| {
                            let target = base_name(&f.ty);
                            match map.get(target) {
                                Some(t) if matches!(t.sort, Sort::Object | Sort::Input) => t
                                    .fields
                                    .iter()
                                    .any(|g| readable(policy, viewer, target, &g.name)),
                                _ => true,
                            }
                        })
                        .collect();
                    if visible.is_empty() {
                        continue;
                    }
                    for f in visible {
                        view.fields.insert((name.clone(), f.name.clone()));
                        queue.push(base_name(&f.ty).to_string());
                        queue.extend(f.args.iter().map(|(_, t)| base_name(t).to_string()));
                    }
                    view.types.insert(name);
                }
                Sort::Enum | Sort::Scalar => {
                    view.types.insert(name);
                }
                Sort::Other => {}
            }
        }
        view
    }

    /// The view as SDL (no descriptions), in the schema's order.
    fn sdl(&self, map: &SchemaMap) -> String {
        let mut out = String::new();
        for name in &map.order {
            let Some(def) = map.get(name) else { continue };
            if !self.types.contains(name) {
                continue;
            }
            match def.sort {
                Sort::Scalar if BUILT_IN_SCALARS.contains(&name.as_str()) => {}
                Sort::Scalar => out.push_str(&format!("scalar {name}\n\n")),
                Sort::Enum => {
                    out.push_str(&format!("enum {name} {{\n"));
                    for v in &def.values {
                        out.push_str(&format!("  {v}\n"));
                    }
                    out.push_str("}\n\n");
                }
                Sort::Object | Sort::Input => {
                    let keyword = if def.sort == Sort::Object {
                        "type"
                    } else {
                        "input"
                    };
                    out.push_str(&format!("{keyword} {name} {{\n"));
                    for f in def.fields.iter().filter(|f| self.has_field(name, &f.name)) {
                        let args = if f.args.is_empty() {
                            String::new()
                        } else {
                            let list: Vec<String> =
                                f.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
                            format!("({})", list.join(", "))
                        };
                        out.push_str(&format!("  {}{args}: {}\n", f.name, f.ty));
                    }
                    out.push_str("}\n\n");
                }
                Sort::Other => {}
            }
        }
        out
    }
}

/// Whether the protocol could ever show this field to the viewer.
fn readable(policy: &Policy, viewer: Option<&Viewer>, type_name: &str, field: &str) -> bool {
    policy
        .class_of(type_name, field)
        .is_some_and(|c| policy.may_ever_read(viewer, c))
}

/// What a partner reads instead of an engine message that would name something outside its view.
pub const MASKED: &str = "the request is not valid: it refers to a type or field that your agency \
     cannot read under the protocol (`raccordo schema --viewer KIND:ROLE` lists what it can)";

/// Every caller's view, worked out once at start-up.
#[derive(Debug, Default)]
pub struct Views {
    map: SchemaMap,
    anonymous: SchemaView,
    viewers: HashMap<Viewer, SchemaView>,
}

impl Views {
    /// The views of every kind of caller the policy knows, over the schema in `sdl`.
    pub fn new(policy: &Policy, sdl: &str) -> Views {
        let map = SchemaMap::from_sdl(sdl).unwrap_or_default();
        let anonymous = SchemaView::compute(&map, policy, None);
        let mut viewers = HashMap::new();
        let kinds = AgencyKind::ALL.into_iter().map(Some).chain([None]);
        for kind in kinds {
            for role in UserRole::ALL {
                let v = Viewer {
                    role,
                    agency_kind: kind,
                };
                viewers.insert(v, SchemaView::compute(&map, policy, Some(&v)));
            }
        }
        Views {
            map,
            anonymous,
            viewers,
        }
    }

    /// The view of a caller (`None`: anonymous).
    pub fn of(&self, viewer: Option<&Viewer>) -> &SchemaView {
        viewer
            .and_then(|v| self.viewers.get(v))
            .unwrap_or(&self.anonymous)
    }

    /// The schema map the views are over.
    pub fn map(&self) -> &SchemaMap {
        &self.map
    }

    /// Rewords the engine's errors (those without a path: validation) that would name a type or
    /// field outside the caller's view. The caller learns that its request is not valid and
    /// where (the locations stay), not what the schema holds.
    pub fn mask_messages(&self, view: &SchemaView, errors: &mut [async_graphql::ServerError]) {
        for e in errors.iter_mut().filter(|e| e.path.is_empty()) {
            if self.names_hidden(view, &e.message) {
                e.message = MASKED.into();
            }
        }
    }

    /// Whether a message names a hidden type where it speaks of a type (`type "T"`, list and
    /// non-null marks taken off), or a hidden field with the type it belongs to (`field "f" on
    /// type "T"`, `field "f" of type "T"`). A quoted word in another role is the caller's own
    /// (`Unknown field "CaseNote" on type "Query"`: a field name that does not exist), and
    /// rewording it would tell the caller that the word is a hidden name.
    fn names_hidden(&self, view: &SchemaView, message: &str) -> bool {
        // Quoted words sit at the odd indexes; the text before each one tells its role.
        let parts: Vec<&str> = message.split('"').collect();
        let bare = |q: &str| {
            q.trim_matches(|c| c == '[' || c == ']' || c == '!')
                .to_string()
        };
        let role_is =
            |i: usize, word: &str| parts[i - 1].trim_end().to_ascii_lowercase().ends_with(word);
        // An odd index whose closing quote exists (the last part is text after it).
        let quoted = (1..parts.len().saturating_sub(1)).step_by(2);
        quoted.into_iter().any(|i| {
            let name = bare(parts[i]);
            if role_is(i, "type") {
                return self.map.get(&name).is_some() && !view.has_type(&name);
            }
            let j = i + 2;
            if role_is(i, "field") && j < parts.len() - 1 && role_is(j, "type") {
                let owner = bare(parts[j]);
                return self
                    .map
                    .get(&owner)
                    .is_some_and(|t| t.field(&name).is_some())
                    && !view.has_field(&owner, &name);
            }
            false
        })
    }

    /// A caller's view as SDL, as `raccordo schema --viewer` prints it.
    pub fn sdl(&self, viewer: Option<&Viewer>) -> String {
        self.of(viewer).sdl(&self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views() -> Views {
        let policy = Policy::default_protocol().expect("the default protocol loads");
        Views::new(&policy, &crate::graphql::sdl())
    }

    #[test]
    fn a_questura_does_not_see_locations_health_or_notes() {
        let v = views();
        let q = Viewer {
            role: UserRole::Operator,
            agency_kind: Some(AgencyKind::Questura),
        };
        let view = v.of(Some(&q));
        assert!(view.has_field("Case", "code"));
        assert!(view.has_field("Case", "alias"));
        assert!(!view.has_field("Case", "shelter"));
        assert!(!view.has_field("Case", "healthNotes"));
        assert!(!view.has_field("Case", "notes"));
        // Case notes are class NOTES on every field: the type itself is hidden.
        assert!(!view.has_type("CaseNote"));
        let sdl = v.sdl(Some(&q));
        assert!(sdl.contains("type Case {"), "{sdl}");
        assert!(!sdl.contains("healthNotes"), "{sdl}");
        assert!(!sdl.contains("CaseNote"), "{sdl}");
    }

    #[test]
    fn an_ente_sees_every_case_field() {
        let v = views();
        let e = Viewer {
            role: UserRole::Coordinator,
            agency_kind: Some(AgencyKind::EnteAntitratta),
        };
        let view = v.of(Some(&e));
        let map = v.map();
        let case = map.get("Case").expect("Case exists");
        for f in &case.fields {
            assert!(view.has_field("Case", &f.name), "{}", f.name);
        }
    }

    #[test]
    fn anonymous_callers_see_the_directory_only() {
        let v = views();
        let view = v.of(None);
        assert!(view.has_field("Query", "directory"));
        assert!(view.has_field("Agency", "name"));
        assert!(!view.has_field("Query", "cases"));
        assert!(!view.has_field("Agency", "referralContact"));
        assert!(!view.has_type("Case"));
        assert!(!view.has_type("Mutation"));
    }

    #[test]
    fn messages_naming_what_a_kind_never_reads_are_reworded() {
        let v = views();
        let questura = Viewer {
            role: UserRole::Operator,
            agency_kind: Some(AgencyKind::Questura),
        };
        let ente = Viewer {
            role: UserRole::Coordinator,
            agency_kind: Some(AgencyKind::EnteAntitratta),
        };
        let hidden_from_questura = [
            r#"Unknown field "bogus" on type "CaseNote""#,
            r#"Field "notes" of type "[CaseNote!]!" must have a selection of subfields. Did you mean "notes { ... }"?"#,
            r#"Unknown argument "x" on field "notes" of type "Case""#,
            r#"Fragment cannot be spread here as objects of type "Query" can never be of type "CaseNote""#,
        ];
        let fine = [
            r#"Unknown field "bogus" on type "Case""#,
            r#"Unknown type "Bogus""#,
            r#"Unknown argument "x" on field "code" of type "Case""#,
            // The caller's own word, in the place of a field: rewording it would tell that it
            // is a hidden type's name.
            r#"Unknown field "CaseNote" on type "Query""#,
            r#"Unknown field "healthNotes" on type "Query""#,
        ];
        for (message, hidden) in hidden_from_questura
            .iter()
            .map(|m| (m, true))
            .chain(fine.iter().map(|m| (m, false)))
        {
            let mut errors = vec![async_graphql::ServerError::new(*message, None)];
            v.mask_messages(v.of(Some(&questura)), &mut errors);
            let masked = errors[0].message == MASKED;
            assert_eq!(masked, hidden, "questura: {message}");
            // An ente may read every case field: its messages stay as the engine words them.
            let mut errors = vec![async_graphql::ServerError::new(*message, None)];
            v.mask_messages(v.of(Some(&ente)), &mut errors);
            assert_eq!(errors[0].message, *message, "ente: {message}");
        }
        // Errors of a resolver (with a path) are the hub's own words: never reworded.
        let mut errors = vec![async_graphql::ServerError::new(
            hidden_from_questura[0],
            None,
        )];
        errors[0].path = vec![async_graphql::PathSegment::Field("case".into())];
        v.mask_messages(v.of(Some(&questura)), &mut errors);
        assert_eq!(errors[0].message, hidden_from_questura[0]);
    }
}
