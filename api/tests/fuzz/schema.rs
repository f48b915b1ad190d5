//! The served schema, as the generators see it.

use std::collections::BTreeMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

#[derive(Debug, Clone)]
pub struct Arg {
    pub name: String,
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub args: Vec<Arg>,
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar,
    Enum(Vec<String>),
    Object(Vec<Field>),
    Union(Vec<String>),
    Input(Vec<Arg>),
}

pub struct SchemaModel {
    pub types: BTreeMap<String, Kind>,
    /// Every type and field name, for misplaced fields.
    pub names: Vec<String>,
    /// The input types (for variable declarations).
    pub inputs: Vec<Type>,
}

pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaModel {
    pub fn load() -> SchemaModel {
        let doc = async_graphql::parser::parse_schema(raccordo_api::graphql::sdl())
            .expect("the served SDL parses");
        let mut types = BTreeMap::new();
        let mut names = Vec::new();
        let args = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::InputValueDefinition,
        >]| {
            list.iter()
                .map(|a| Arg {
                    name: a.node.name.node.to_string(),
                    ty: a.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        let fields = |list: &[async_graphql::Positioned<
            async_graphql::parser::types::FieldDefinition,
        >]| {
            list.iter()
                .map(|f| Field {
                    name: f.node.name.node.to_string(),
                    args: args(&f.node.arguments),
                    ty: f.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let name = t.node.name.node.to_string();
            let kind = match &t.node.kind {
                TypeKind::Scalar => Kind::Scalar,
                TypeKind::Object(o) => Kind::Object(fields(&o.fields)),
                TypeKind::Interface(i) => Kind::Object(fields(&i.fields)),
                TypeKind::Union(u) => {
                    Kind::Union(u.members.iter().map(|m| m.node.to_string()).collect())
                }
                TypeKind::Enum(e) => Kind::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(i) => Kind::Input(args(&i.fields)),
            };
            names.push(name.clone());
            match &kind {
                Kind::Object(fs) => names.extend(fs.iter().map(|f| f.name.clone())),
                Kind::Input(fs) => names.extend(fs.iter().map(|f| f.name.clone())),
                _ => {}
            }
            types.insert(name, kind);
        }
        for builtin in ["Int", "Float", "String", "Boolean", "ID"] {
            types.entry(builtin.to_string()).or_insert(Kind::Scalar);
        }
        let mut inputs: Vec<Type> = Vec::new();
        for kind in types.values() {
            if let Kind::Object(fs) = kind {
                for f in fs {
                    for a in &f.args {
                        if !inputs.contains(&a.ty) {
                            inputs.push(a.ty.clone());
                        }
                    }
                }
            }
        }
        assert!(types.contains_key("Query") && types.contains_key("Mutation"));
        assert!(!inputs.is_empty());
        SchemaModel {
            types,
            names,
            inputs,
        }
    }

    pub fn fields(&self, type_name: &str) -> &[Field] {
        match self.types.get(type_name) {
            Some(Kind::Object(f)) => f,
            _ => &[],
        }
    }

    pub fn is_composite(&self, type_name: &str) -> bool {
        matches!(
            self.types.get(type_name),
            Some(Kind::Object(_)) | Some(Kind::Union(_))
        )
    }
}
